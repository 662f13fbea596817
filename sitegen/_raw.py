"""Keys for data elements, for the per-worker memos.

The files of a series repeat most attributes byte for byte. Whatever is derived from one
undecoded element alone (what de-identification does to it, its DICOM JSON) depends only on
its tag, VR, bytes, byte order and the character set its text is decoded with, so a worker
can work it out once per distinct value and keep the element undecoded (which also lets
pydicom's writer copy its bytes). What is derived from a decoded element (its encoding, its
DICOM JSON) depends on its tag, VR, character set and the complete state of its value.
"""

from __future__ import annotations

import pickle
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

MEMO_LIMIT = 20_000  # entries per memo (a few MB); it is emptied when full
VALUE_BYTES = 512  # longer values are rare and not worth keeping
SPECIFIC_CHARACTER_SET = 0x00080005
# never read for a key: reading them would load the (possibly deferred) pixel data
BULK_TAGS: frozenset[int] = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})


def decoding_charset(ds: Dataset) -> tuple[str, ...]:
    """The character set pydicom decodes the data set's undecoded text with."""
    charset = ds.original_character_set or ds._character_set
    return (charset,) if isinstance(charset, str) else tuple(charset)


def undecoded_key(ds: Dataset, tag: BaseTag, charset: tuple[str, ...]) -> tuple[Any, ...] | None:
    """A key for an undecoded element with a short value, or None.

    None for decoded elements, sequences, UN, bulk data, the character set itself and VRs
    that only the rest of the data set resolves (an implicit "US or SS")."""
    raw = ds.get_item(tag, keep_deferred=True)
    if not isinstance(raw, RawDataElement) or raw.value is None:
        return None
    if tag == SPECIFIC_CHARACTER_SET or tag in BULK_TAGS or raw.length == 0xFFFFFFFF:
        return None
    vr = raw.VR or dictionary_vr(tag)
    if len(vr) != 2 or vr in ("SQ", "UN") or len(raw.value) > VALUE_BYTES:
        return None
    return (int(tag), vr, raw.value, raw.is_implicit_VR, raw.is_little_endian, charset)


def decoded_key(elem: DataElement | RawDataElement, encodings: Any) -> tuple[Any, ...] | None:
    """A key for a decoded element: tag, VR, character sets and the value's complete state
    (its pickle: a DS keeps its original string). None for undecoded elements, sequences,
    buffers and long values."""
    if isinstance(elem, RawDataElement) or elem.VR == "SQ" or elem.is_buffered:
        return None
    try:
        state = pickle.dumps(elem.value, protocol=5)
    except Exception:  # an unusual value: no key
        return None
    if len(state) > 2 * VALUE_BYTES:
        return None
    charsets = tuple(encodings) if isinstance(encodings, MultiValue | list) else encodings
    return (int(elem.tag), elem.VR, elem.is_undefined_length, charsets, state)


def dictionary_vr(tag: BaseTag) -> str:
    """The VR from the data dictionary; UN for private and unknown tags."""
    try:
        return "UN" if tag.is_private else dictionary_VR(tag)
    except KeyError:
        return "UN"
