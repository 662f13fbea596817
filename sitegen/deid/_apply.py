"""The profile applied to one data set: the walk over every attribute (_walk.py), kept values
that hold a removed one emptied, sitegen's identity, descriptions and file meta put in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence

from .. import __version__
from ._canary import Canary
from ._kept import drop_kept_leaks
from ._options import OPTION_CODES, PROFILE_CODE
from ._rules import _FILE_META_CANARY_KEYWORDS, _Effect
from ._values import printable_runs
from ._walk import _Walk

if TYPE_CHECKING:
    from ._profile import Deidentifier, DeidResult

IMPLEMENTATION_CLASS_UID = "2.25.45940936034477256464525391711918632857"
IMPLEMENTATION_VERSION_NAME = f"SITEGEN_{__version__}"[:16]

# the walk's effects by attribute, per key and options (see _Walk.record)
_MEMOS: dict[tuple[bytes, frozenset[str]], dict[tuple[Any, ...], _Effect]] = {}


def deidentify(
    deid: Deidentifier,
    ds: FileDataset,
    *,
    source: str,
    patient_label: str,
    study_description: str | None = None,
    series_description: str | None = None,
    extra_canaries: list[Canary] | None = None,
) -> DeidResult:
    """See Deidentifier.deidentify."""
    from ._profile import DeidResult

    memo = _MEMOS.setdefault((deid.key, deid.options), {})
    offset = deid.date_offset_days(deid.identity(ds, patient_label))
    walk = _Walk(deid, source, offset, memo=memo)
    preamble = getattr(ds, "preamble", None)
    if preamble:
        walk.remember(printable_runs(bytes(preamble)), "preamble")
    old_meta = getattr(ds, "file_meta", None)
    if old_meta is not None:
        for keyword in _FILE_META_CANARY_KEYWORDS:
            if keyword.endswith("UID") and "retain-uids" in deid.options:
                continue  # kept on purpose, in the data set
            if keyword in old_meta:
                walk.remember_element(old_meta[keyword], f"file meta {keyword}")

    walk.process(ds, "")
    # A value equal to the author's chosen description is no leak. Words *inside* the
    # author's text stay canaries: a patient name typed into a description must still be
    # caught.
    authored = {t.strip().lower() for t in (study_description, series_description) if t}
    canaries = [c for c in walk.canaries if c.value.lower() not in authored]
    # A kept value that holds a removed one is the leak: it is emptied, the canary stays.
    for label, attribute in drop_kept_leaks(canaries + (extra_canaries or []), walk.kept):
        walk.actions["Z"] += 1
        walk.notes.append(f"{label}: held the value of {attribute}: emptied")
    _add_identity(deid, ds, patient_label)
    _add_descriptions(deid, ds, study_description, series_description)
    _rebuild_file_meta(ds, old_meta)
    ds.preamble = b"\0" * 128

    unique = list(dict.fromkeys(canaries))
    return DeidResult(ds, unique, dict(walk.actions), walk.notes)


def _add_identity(deid: Deidentifier, ds: Dataset, patient_label: str) -> None:
    ds.PatientName = patient_label
    ds.PatientID = patient_label
    ds.PatientIdentityRemoved = "YES"
    applied = sorted(deid.options & set(OPTION_CODES))
    ds.DeidentificationMethod = [
        "PS3.15 E.1 Basic Application Confidentiality Profile",
        *[f"option {name}" for name in applied],
        f"sitegen {__version__}",
    ]
    codes = []
    for value, meaning in [PROFILE_CODE, *[OPTION_CODES[name] for name in applied]]:
        item = Dataset()
        item.add_new(0x00080100, "SH", value)  # CodeValue (tags: faster than keywords)
        item.add_new(0x00080102, "SH", "DCM")  # CodingSchemeDesignator
        item.add_new(0x00080104, "LO", meaning)  # CodeMeaning
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(codes)
    modified = "retain-modified-dates" in deid.options
    ds.LongitudinalTemporalInformationModified = "MODIFIED" if modified else "REMOVED"


def _add_descriptions(
    deid: Deidentifier, ds: Dataset, study_description: str | None, series_description: str | None
) -> None:
    """The author's text, else (clean-descriptors) a safe modality + body part form."""
    safe = None
    if "clean-descriptors" in deid.options:
        parts = [str(ds.get("Modality", "") or ""), str(ds.get("BodyPartExamined", "") or "")]
        safe = " ".join(p for p in parts if p).replace("_", " ")[:64] or None
    for keyword, given in (
        ("StudyDescription", study_description),
        ("SeriesDescription", series_description),
    ):
        text = given if given is not None else safe
        if text:
            setattr(ds, keyword, text[:64])
            if not text.isascii():  # the author's text may need UTF-8
                ds.SpecificCharacterSet = "ISO_IR 192"


def _rebuild_file_meta(ds: FileDataset, old_meta: FileMetaDataset | None) -> None:
    """Fresh file meta: only what a reader needs, sitegen as the implementation."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    sop_class = ds.get("SOPClassUID") or (old_meta or {}).get("MediaStorageSOPClassUID")
    if sop_class:
        meta.MediaStorageSOPClassUID = str(sop_class)
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = str(ds.SOPInstanceUID)
    syntax = old_meta.get("TransferSyntaxUID") if old_meta is not None else None
    if not syntax:
        implicit, little = getattr(ds, "original_encoding", (False, True))
        if not little:
            syntax = "1.2.840.10008.1.2.2"  # (retired) explicit VR big endian
        else:
            syntax = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1"
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
