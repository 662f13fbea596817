"""One `deidentify` call's walk over a data set: every attribute, in every sequence item, decided
by the profile (see _profile.py), with the canaries it gives."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from .._raw import BULK_TAGS, MEMO_LIMIT, decoding_charset, dictionary_vr, undecoded_key
from ._allowlist import ALLOWED_TAGS, CLASS_UID_KEYWORDS, DICOM_UID_ROOT
from ._canary import (
    NAME_PART_MIN_LENGTH,
    Canary,
    date_variants,
    free_text_canaries,
    make_canaries,
    name_parts,
    person_name_variants,
)
from ._grammar import bad_values, standard_code, wrong_vr
from ._iod import iod_action
from ._kept import Kept
from ._rules import (
    _ALL_WORDS_RE,
    _CODE_VALUE,
    ALWAYS_EMPTY,
    ALWAYS_REMOVE,
    NEEDED_BINARY,
    _Effect,
    _label,
    _plain,
    _strings,
    is_repeating_group,
)
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
    shift_date,
    shift_datetime,
)

if TYPE_CHECKING:
    from ._profile import Deidentifier


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
