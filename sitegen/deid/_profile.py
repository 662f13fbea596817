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

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from .. import __version__
from .._raw import BULK_TAGS, MEMO_LIMIT, decoding_charset, dictionary_vr, undecoded_key
from ._allowlist import ALLOWED_KEYWORDS, ALLOWED_TAGS, CLASS_UID_KEYWORDS, DICOM_UID_ROOT
from ._canary import (
    NAME_PART_MIN_LENGTH,
    Canary,
    date_variants,
    free_text_canaries,
    make_canaries,
    name_parts,
    path_canaries,
    person_name_variants,
)
from ._grammar import bad_values, standard_code, wrong_vr
from ._iod import iod_action
from ._kept import Kept, drop_kept_leaks
from ._keys import derived_key, keyed_date_offset, keyed_uid
from ._options import DEFAULT_OPTIONS, KNOWN_OPTIONS, OPTION_CODES, PROFILE_CODE
from ._table import TableEntry, lookup
from ._values import (
    BINARY_VRS,
    CANARY_VRS,
    STRING_VRS,
    bytes_as_text,
    cap_age,
    coarsen_time,
    dummy_value,
    empty_value,
    printable_runs,
    shift_date,
    shift_datetime,
)

IMPLEMENTATION_CLASS_UID = "2.25.45940936034477256464525391711918632857"
IMPLEMENTATION_VERSION_NAME = f"SITEGEN_{__version__}"[:16]

# Removed whatever the table or the options say.
ALWAYS_REMOVE: frozenset[int] = frozenset(
    int(Tag(keyword))
    for keyword in (
        "IconImageSequence",
        "OriginalAttributesSequence",
        "ModifiedAttributesSequence",
        "EncryptedAttributesSequence",
        "DigitalSignaturesSequence",
        "DataSetTrailingPadding",
        "PatientBirthTime",
    )
)
# Emptied whatever the options say (see the module docstring).
ALWAYS_EMPTY: frozenset[int] = frozenset({int(Tag("PatientBirthDate"))})
# Replaced at the end by sitegen's own values.
DESCRIPTION_TAGS: frozenset[int] = frozenset(
    {int(Tag("StudyDescription")), int(Tag("SeriesDescription"))}
)

_FILE_META_CANARY_KEYWORDS = (
    "MediaStorageSOPInstanceUID",
    "SourceApplicationEntityTitle",
    "SendingApplicationEntityTitle",
    "ReceivingApplicationEntityTitle",
    "PrivateInformation",
)


@dataclass
class DeidResult:
    """The de-identified data set plus what the sweep and the report need."""

    dataset: FileDataset
    canaries: list[Canary]
    actions: dict[str, int]
    notes: list[str] = field(default_factory=list)  # values taken out of kept attributes


def is_repeating_group(group: int) -> bool:
    """Curves (50xx) and overlays (60xx), even groups only (odd ones are private)."""
    return group % 2 == 0 and (0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF)


# Binary values kept because the pixels cannot be shown without them (numeric tables). Any
# other binary value (ICCProfile, an OB/OW/UN that is not pixel data) is removed.
NEEDED_BINARY: frozenset[str] = frozenset(
    {k for k in ALLOWED_KEYWORDS if k.endswith("LookupTableData")}
    | {"LUTData", "ExtendedOffsetTable", "ExtendedOffsetTableLengths"}
)
# Free text whose every word may identify (addresses), not only its proper nouns.
_ALL_WORDS_RE = re.compile(r"Address|Residence")


def _strings(value: object) -> list[str]:
    values = value if isinstance(value, MultiValue | list) else [value]
    return ["" if v is None else str(v) for v in values]


_CODE_VALUE = Tag("CodeValue")


def _label(tag: BaseTag, parent: str) -> str:
    keyword = keyword_for_tag(tag) or ("private" if tag.is_private else "unknown")
    text = f"({tag.group:04X},{tag.element:04X}) {keyword}"
    return f"{parent} > {text}" if parent else text


@dataclass(frozen=True)
class _Effect:
    """What the profile did to one top-level attribute: its fate ("keep", "delete" or "set"
    to `vr`/`value`), the canaries it gave (value, attribute), kept texts and action counts."""

    kind: str
    vr: str
    value: Any
    canaries: tuple[tuple[str, str], ...]
    kept: tuple[str, ...]
    actions: tuple[tuple[str, int], ...]


_MEMOS: dict[tuple[bytes, frozenset[str]], dict[tuple[Any, ...], _Effect]] = {}


def _plain(value: Any) -> Any:
    """A value safe to give to another data set (a fresh list for multi-values)."""
    return list(value) if isinstance(value, MultiValue | list) else value


@dataclass
class _Walk:
    """State of one ``deidentify`` call (kept out of the picklable Deidentifier)."""

    deid: Deidentifier
    source: str
    day_offset: int
    canaries: list[Canary] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    kept: list[Kept] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    memo: dict[tuple[Any, ...], _Effect] | None = None  # see _memo_key

    # -- canaries --------------------------------------------------------------------------

    def remember(self, values: list[str], attribute: str) -> None:
        self.canaries.extend(make_canaries(values, attribute, self.source))

    def remember_element(self, elem: DataElement, label: str) -> None:
        """Canaries for every identifying string in ``elem`` (recursing into sequences)."""
        vr = elem.VR
        if vr == "SQ":
            for item in elem.value or []:
                for tag in list(item.keys()):
                    sub = self.element(item, BaseTag(tag), label)
                    if sub is not None:
                        self.remember_element(sub, _label(BaseTag(tag), label))
            return
        value = elem.value
        if value is None or value == "":
            return
        if vr in BINARY_VRS or isinstance(value, bytes | bytearray):
            text = bytes_as_text(bytes(value)) if isinstance(value, bytes | bytearray) else None
            if text is not None:
                self.canaries += self.free_text(text, label)
            return
        if vr not in CANARY_VRS:
            return
        values = [str(v) for v in value] if isinstance(value, MultiValue | list) else [str(value)]
        if elem.tag == _CODE_VALUE and all(standard_code(v) for v in values):
            return  # a code of the standard ("Segmentation", "Liver"): it names no one
        expanded: list[str] = []
        parts: list[str] = []
        for text in values:
            if vr == "PN":
                expanded += person_name_variants(text)
                parts += name_parts(text)
            elif vr in ("DA", "DT"):
                expanded += date_variants(text)
            else:
                self.canaries += self.free_text(text, label)
        self.remember(expanded, label)
        if parts:
            self.canaries += make_canaries(parts, label, self.source, NAME_PART_MIN_LENGTH)

    def free_text(self, text: str, label: str) -> list[Canary]:
        """A text value, its parts, its digits and its telling words (every word of an
        address or institution)."""
        all_words = bool(_ALL_WORDS_RE.search(label))
        return free_text_canaries(text, label, self.source, all_words=all_words)

    def remember_raw(self, raw: RawDataElement, label: str) -> None:
        """Canaries for an element pydicom could not convert (decode its bytes as text)."""
        if raw.value:
            text = bytes_as_text(bytes(raw.value))
            if text is not None:
                self.canaries += self.free_text(text, label)

    def keep_text(self, ds: Dataset, tag: BaseTag, label: str, value: object) -> None:
        """Remember kept text: if it holds one of the file's removed values, the kept element
        is emptied at the end (see _kept.py); the canary stays."""
        text = "\\".join(_strings(value)).strip(" \x00")
        if text:
            self.kept.append(Kept(ds, tag, text, label))

    # -- element access ----------------------------------------------------------------------

    def element(self, ds: Dataset, tag: BaseTag, label: str) -> DataElement | None:
        """``ds[tag]`` without loading deferred binary values; None when unreadable."""
        raw = ds.get_item(tag, keep_deferred=True)
        if isinstance(raw, RawDataElement) and raw.value is None and raw.length:
            vr = raw.VR or dictionary_vr(tag)
            if vr in BINARY_VRS or tag in BULK_TAGS:
                return None  # deferred bulk data: never read, never a canary
        try:
            return ds[tag]
        except Exception:  # malformed value: fall back to its raw bytes
            if isinstance(raw, RawDataElement):
                self.remember_raw(raw, label)
            return None

    # -- the walk ----------------------------------------------------------------------------

    def process(self, ds: Dataset, parent: str) -> None:
        memo = self.memo if not parent else None  # top level only: see sitegen/_raw.py
        charset = decoding_charset(ds) if memo is not None else ()
        for raw_tag in list(ds.keys()):
            tag = BaseTag(raw_tag)
            key = undecoded_key(ds, tag, charset) if memo is not None else None
            if memo is None or key is None:
                self.attribute(ds, tag, parent)
                continue
            key += (self.day_offset,)  # dates are shifted per patient
            effect = memo.get(key)
            if effect is not None:
                self.replay(ds, tag, effect)
                continue
            effect = self.record(ds, tag)
            if effect is not None:
                if len(memo) >= MEMO_LIMIT:  # a worker's memory stays bounded
                    memo.clear()
                memo[key] = effect

    def attribute(self, ds: Dataset, tag: BaseTag, parent: str) -> None:
        """Apply the profile to one attribute of ``ds``."""
        label = _label(tag, parent)
        if self.always_removed(tag):
            self.remove(ds, tag, label)
            return
        entry = lookup(tag)
        if tag in ALWAYS_EMPTY:
            self.apply(ds, tag, entry, "Z", None, label)
        elif entry is not None:
            action, option = entry.action(self.deid.options)
            action = iod_action(keyword_for_tag(tag), action)  # X/Z/D: Z or D if needed
            self.apply(ds, tag, entry, action, option, label)
        elif tag in ALLOWED_TAGS:
            self.keep(ds, tag, label, allow_listed=True)
        elif (action := iod_action(keyword_for_tag(tag), "X")) != "X":
            self.apply(ds, tag, None, action, None, label)
        else:
            self.remove(ds, tag, label)

    def record(self, ds: Dataset, tag: BaseTag) -> _Effect | None:
        """Apply the profile to a top-level attribute and note what that did, to repeat it
        for the same encoded value in the next file; None when it is not worth repeating."""
        canaries, kept, before = len(self.canaries), len(self.kept), dict(self.actions)
        notes = len(self.notes)
        raw = ds.get_item(tag, keep_deferred=True)
        try:
            original = ds[tag].value
        except Exception:  # malformed: the walk falls back to its raw bytes, every time
            self.attribute(ds, tag, "")
            return None
        self.attribute(ds, tag, "")
        after = ds.get_item(tag) if tag in ds else None
        if after is None:
            kind, vr, value = "delete", "", None
        elif isinstance(after, DataElement) and after.value is original:
            kind, vr, value = "keep", "", None
            ds[tag] = raw  # as replay leaves it: output never depends on which file came first
        elif isinstance(after, DataElement) and after.VR != "SQ":
            kind, vr, value = "set", after.VR, _plain(after.value)
        else:
            return None
        if len(self.notes) > notes:
            return None  # a value was taken out: say so again for every file
        return _Effect(
            kind,
            vr,
            value,
            tuple((c.value, c.attribute, c.word) for c in self.canaries[canaries:]),
            tuple((k.text, k.label) for k in self.kept[kept:]),
            tuple(
                (a, n - before.get(a, 0)) for a, n in self.actions.items() if n > before.get(a, 0)
            ),
        )

    def replay(self, ds: Dataset, tag: BaseTag, effect: _Effect) -> None:
        """Do what ``record`` noted. A kept element stays as read (undecoded), which also
        lets pydicom's writer copy its bytes."""
        if effect.kind == "delete":
            del ds[tag]
        elif effect.kind == "set":
            ds[tag] = DataElement(tag, effect.vr, _plain(effect.value))
        if effect.canaries:
            self.canaries += [
                Canary(value, attribute, self.source, word)
                for value, attribute, word in effect.canaries
            ]
        self.kept += [Kept(ds, tag, text, label) for text, label in effect.kept]
        for action, count in effect.actions:
            self.actions[action] += count

    @staticmethod
    def always_removed(tag: BaseTag) -> bool:
        return (
            tag.is_private
            or tag.element == 0x0000
            or tag.group in (0x0000, 0x0002)
            or is_repeating_group(tag.group)
            or tag in ALWAYS_REMOVE
        )

    def remove(self, ds: Dataset, tag: BaseTag, label: str) -> None:
        elem = self.element(ds, tag, label)
        if elem is not None:
            self.remember_element(elem, label)
        del ds[tag]
        self.actions["X"] += 1

    def keep(self, ds: Dataset, tag: BaseTag, label: str, *, allow_listed: bool) -> None:
        if tag in BULK_TAGS:
            self.actions["K"] += 1
            return
        elem = self.element(ds, tag, label)
        if elem is None:
            if tag in ds:
                del ds[tag]
            self.actions["X"] += 1
            return
        if allow_listed and not self.valid(ds, tag, elem, label):
            return
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value or []):
                self.process(item, f"{label}[{index}]")
        elif elem.VR == "UI" and allow_listed and not self.is_class_uid(elem):
            self.map_uids(elem, label)
            return
        elif elem.VR == "AS" and elem.value:
            elem.value = cap_age(str(elem.value))
            self.keep_text(ds, tag, label, elem.value)
        elif elem.VR != "SQ" and elem.VR not in BINARY_VRS:
            self.keep_text(ds, tag, label, elem.value)
        self.actions["K"] += 1

    def valid(self, ds: Dataset, tag: BaseTag, elem: DataElement, label: str) -> bool:
        """Whether an allow-listed element is what its attribute says it is; if not, it is
        removed (or loses the values that are not) and its values become canaries."""
        if wrong_vr(tag, elem.VR):
            self.note(label, f"written as {elem.VR}, not its dictionary VR: removed")
            self.remove(ds, tag, label)
            return False
        if elem.VR in BINARY_VRS:
            if elem.keyword in NEEDED_BINARY:
                return True
            self.note(label, "binary value not needed to show the image: removed")
            self.remove(ds, tag, label)
            return False
        if elem.VR == "SQ" or elem.VR not in STRING_VRS:
            return True
        values = _strings(elem.value)
        bad = bad_values(elem.keyword, elem.VR, values)
        if not bad:
            return True
        self.canaries += [c for b in bad for c in self.free_text(b, label)]
        good = [v for v in values if v not in bad]
        if not any(v.strip() for v in good):
            self.note(label, "value is not valid for the attribute: removed")
            self.remove(ds, tag, label)
            return False
        self.note(label, f"{len(bad)} value(s) not valid for the attribute: taken out")
        elem.value = good if len(good) > 1 else good[0]
        return True

    def note(self, label: str, reason: str) -> None:
        self.notes.append(f"{label}: {reason}")

    def apply(
        self,
        ds: Dataset,
        tag: BaseTag,
        entry: TableEntry | None,
        action: str,
        option: str | None,
        label: str,
    ) -> None:
        if action == "X":
            self.remove(ds, tag, label)
            return
        if action == "K":
            self.keep(ds, tag, label, allow_listed=False)
            return
        elem = self.element(ds, tag, label)
        if elem is None:
            del ds[tag]
            self.actions["X"] += 1
            return
        if action == "C":
            self.clean(ds, tag, elem, entry, option, label)
            return
        vr = elem.VR
        if action == "U" and vr in ("SQ", "UI"):
            if vr == "SQ":
                for index, item in enumerate(elem.value or []):
                    self.process(item, f"{label}[{index}]")
                self.actions["U"] += 1
            else:
                self.map_uids(elem, label)
            return
        if action == "D" and vr == "UI":
            self.map_uids(elem, label)
            return
        self.remember_element(elem, label)
        if action == "D" and vr != "SQ":
            elem.value = dummy_value(vr)
            self.actions["D"] += 1
        else:  # Z, D on a sequence (an empty sequence is the only safe dummy), or unknown
            elem.value = empty_value(vr)
            self.actions[action if action in ("Z", "D") else "Z"] += 1

    def clean(
        self,
        ds: Dataset,
        tag: BaseTag,
        elem: DataElement,
        entry: TableEntry | None,
        option: str | None,
        label: str,
    ) -> None:
        """C: shift dates (retain-modified-dates); otherwise fall back to the basic action.

        Falling back is the safe reading of "clean": sitegen has no generic cleaner for
        free text, so descriptors, AE titles etc. get the basic profile's treatment.
        Study/Series descriptions are re-added at the end from the author's text.
        """
        if option == "retain-modified-dates" and elem.VR in ("DA", "DT", "TM"):
            coarse = "coarsen-times" in self.deid.options
            if elem.VR == "TM":  # whole-day shifts leave the time of day unchanged
                if coarse:
                    elem.value = [coarsen_time(v) for v in _strings(elem.value)]
                    if len(elem.value) == 1:
                        elem.value = elem.value[0]
                self.keep_text(ds, tag, label, elem.value)
                self.actions["C"] += 1
                return
            values = elem.value if isinstance(elem.value, MultiValue | list) else [elem.value]
            shifted = [
                shift_date(str(v), self.day_offset)
                if elem.VR == "DA"
                else shift_datetime(str(v), self.day_offset, coarse=coarse)
                for v in values
                if str(v).strip()
            ]
            if shifted and all(s is not None for s in shifted):
                self.remember_element(elem, label)
                elem.value = shifted if len(shifted) > 1 else shifted[0]
                self.actions["C"] += 1
                return
        basic = entry.basic if entry is not None else "X"
        self.apply(ds, tag, entry, basic, None, label)

    @staticmethod
    def is_class_uid(elem: DataElement) -> bool:
        return elem.keyword in CLASS_UID_KEYWORDS

    def map_uids(self, elem: DataElement, label: str) -> None:
        """U: map every instance UID; DICOM-defined (1.2.840.10008.*) UIDs stay."""
        values = elem.value if isinstance(elem.value, MultiValue | list) else [elem.value]
        mapped: list[str] = []
        originals: list[str] = []
        for value in values:
            uid = str(value or "").strip(" \x00")
            if not uid or uid.startswith(DICOM_UID_ROOT):
                mapped.append(uid)
                continue
            originals.append(uid)
            mapped.append(self.deid.map_uid(uid))
        self.remember(originals, label)
        if any(values):
            elem.value = mapped if len(mapped) > 1 else (mapped[0] if mapped else "")
        self.actions["U"] += 1


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
