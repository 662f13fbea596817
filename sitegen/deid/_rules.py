"""What the profile always does, and the small helpers its walk shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag

from ._allowlist import ALLOWED_KEYWORDS

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

_FILE_META_CANARY_KEYWORDS = (
    "MediaStorageSOPInstanceUID",
    "SourceApplicationEntityTitle",
    "SendingApplicationEntityTitle",
    "ReceivingApplicationEntityTitle",
    "PrivateInformation",
)


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


def _plain(value: Any) -> Any:
    """A value safe to give to another data set (a fresh list for multi-values)."""
    return list(value) if isinstance(value, MultiValue | list) else value
