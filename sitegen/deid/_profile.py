"""PS3.15 Annex E Basic Application Level Confidentiality Profile, applied with pydicom.

Order of decisions for every attribute, recursively in every sequence item:

1. private attributes, curves (50xx), overlays (60xx), group lengths, command/meta groups
   found in the data set, and a few always-dangerous sequences: removed;
2. attributes in Table E.1-1: the table's action (the enabled option's column if it has one);
3. attributes in the allow-list (``_allowlist.py``): kept;
4. everything else: removed.

Private attributes are all removed, also with retain-safe-private (PS3.15 allows keeping
"safe" ones, sitegen keeps none, so it never claims code 113111).  Overlays and curves go
too, overlay graphics included.

Ages: with retain-patient-characteristics, PatientAge is kept but ages over 89 years become
``090Y`` (HIPAA Safe Harbor groups everybody aged 90 or more).  PatientBirthDate is always
emptied, even with retain-modified-dates: a shifted birth date and a shifted study date still
give the exact age, including ages over 89.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence

from .. import __version__
from ._canary import (
    Canary,
)
from ._kept import drop_kept_leaks
from ._keys import derived_key, keyed_date_offset, keyed_uid
from ._options import DEFAULT_OPTIONS, KNOWN_OPTIONS, OPTION_CODES, PROFILE_CODE
from ._rules import _FILE_META_CANARY_KEYWORDS, _Effect
from ._source_canaries import path_canaries
from ._values import (
    printable_runs,
)
from ._walk import _Walk

IMPLEMENTATION_CLASS_UID = "2.25.45940936034477256464525391711918632857"
IMPLEMENTATION_VERSION_NAME = f"SITEGEN_{__version__}"[:16]

# the walk's effects by attribute, per key and options (see _Walk.record)
_MEMOS: dict[tuple[bytes, frozenset[str]], dict[tuple[Any, ...], _Effect]] = {}


@dataclass
class DeidResult:
    """The de-identified data set plus what the sweep and the report need."""

    dataset: FileDataset
    canaries: list[Canary]
    actions: dict[str, int]
    notes: list[str] = field(default_factory=list)  # values taken out of kept attributes


class Deidentifier:
    """Applies the profile with one site key; picklable (plain bytes and a frozenset)."""

    def __init__(self, key: bytes, options: frozenset[str] = DEFAULT_OPTIONS) -> None:
        if len(key) < 16:
            raise ValueError("the de-identification key must be at least 16 bytes")
        unknown = set(options) - KNOWN_OPTIONS
        if unknown:
            raise ValueError(f"unknown de-identification option(s): {', '.join(sorted(unknown))}")
        self.key = bytes(key)
        self.options = frozenset(options)

    def __repr__(self) -> str:  # never show the key
        return f"Deidentifier(options={sorted(self.options)})"

    def for_copy(self, name: str) -> Deidentifier:
        """A de-identifier for a second published copy of the same data (one study used by
        two cases): a key derived from this one and `name`, so every UID differs."""
        return Deidentifier(derived_key(self.key, name), self.options)

    def map_uid(self, uid: str) -> str:
        """Same key and UID -> same ``2.25.`` UID; unguessable without the key."""
        return keyed_uid(self.key, uid.strip(" \x00"))

    def date_offset_days(self, identity: str) -> int:
        """Per-patient keyed shift in [-3650, -365] days."""
        return keyed_date_offset(self.key, identity.strip(" \x00"))

    @staticmethod
    def identity(ds: Dataset, case: str) -> str:
        """Who the patient is, for the date offset: ID, name, birth date and issuer together
        (a blank or shared ID alone would give many patients one offset); the case when the
        file names no one."""
        parts = [
            str(ds.get(keyword, "") or "").strip(" \x00")
            for keyword in ("PatientID", "PatientName", "PatientBirthDate", "IssuerOfPatientID")
        ]
        if not any(parts):
            return f"case:{case}"
        return "\x00".join(parts)

    def path_canaries(self, relative_path: str, source: str) -> list[Canary]:
        """Canaries for the input's file and folder names (relative to the case folder)."""
        return path_canaries(relative_path, source)

    def deidentify(
        self,
        ds: FileDataset,
        *,
        source: str,
        patient_label: str,
        study_description: str | None = None,
        series_description: str | None = None,
        extra_canaries: list[Canary] | None = None,
    ) -> DeidResult:
        """De-identify ``ds`` in place (pixel data is never loaded) and list its canaries.

        ``patient_label`` becomes PatientName and PatientID.  Dates are shifted by the
        patient's keyed offset (retain-modified-dates) or handled per the basic profile.
        With retain-patient-characteristics, ages over 89 years become ``090Y``: HIPAA Safe
        Harbor only allows "90 or older", and PatientBirthDate is always emptied so the
        exact age cannot be recomputed.
        """
        memo = _MEMOS.setdefault((self.key, self.options), {})
        offset = self.date_offset_days(self.identity(ds, patient_label))
        walk = _Walk(self, source, offset, memo=memo)
        preamble = getattr(ds, "preamble", None)
        if preamble:
            walk.remember(printable_runs(bytes(preamble)), "preamble")
        old_meta = getattr(ds, "file_meta", None)
        if old_meta is not None:
            for keyword in _FILE_META_CANARY_KEYWORDS:
                if keyword.endswith("UID") and "retain-uids" in self.options:
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
        self._add_identity(ds, patient_label)
        self._add_descriptions(ds, study_description, series_description)
        self._rebuild_file_meta(ds, old_meta)
        ds.preamble = b"\0" * 128

        unique = list(dict.fromkeys(canaries))
        return DeidResult(ds, unique, dict(walk.actions), walk.notes)

    def _add_identity(self, ds: Dataset, patient_label: str) -> None:
        ds.PatientName = patient_label
        ds.PatientID = patient_label
        ds.PatientIdentityRemoved = "YES"
        applied = sorted(self.options & set(OPTION_CODES))
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
        modified = "retain-modified-dates" in self.options
        ds.LongitudinalTemporalInformationModified = "MODIFIED" if modified else "REMOVED"

    def _add_descriptions(
        self, ds: Dataset, study_description: str | None, series_description: str | None
    ) -> None:
        """The author's text, else (clean-descriptors) a safe modality + body part form."""
        safe = None
        if "clean-descriptors" in self.options:
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

    def _rebuild_file_meta(self, ds: FileDataset, old_meta: FileMetaDataset | None) -> None:
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
