"""The published instance's header: the geometry read before any worker runs, and its DICOM
JSON (PS3.18 F.2), with the frames it publishes."""

from __future__ import annotations

import json
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import convert_raw_data_element
from pydicom.dataset import Dataset

from . import pixels
from ._raw import MEMO_LIMIT, decoded_key, decoding_charset, undecoded_key
from .faults import reason as _reason
from .model import Geometry


def set_attributes(ds: Dataset, updates: dict[str, object]) -> None:
    for keyword, value in updates.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)


def as_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def position_and_orientation(
    ds: Dataset,
) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    """ImagePositionPatient and ImageOrientationPatient, from the functional groups of an
    enhanced multi-frame image when the top level has none."""
    position = _floats(ds.get("ImagePositionPatient"), 3)
    orientation = _floats(ds.get("ImageOrientationPatient"), 6)
    for name in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        groups = ds.get(name)
        if not groups:
            continue
        item = groups[0]
        if position is None and "PlanePositionSequence" in item:
            position = _floats(item.PlanePositionSequence[0].get("ImagePositionPatient"), 3)
        if orientation is None and "PlaneOrientationSequence" in item:
            orientation = _floats(
                item.PlaneOrientationSequence[0].get("ImageOrientationPatient"), 6
            )
    return position, orientation


def header_geometry(ds: Dataset) -> Geometry:
    """The geometry the published instance will have (its Instance fields), from a header
    read before any worker runs (identify.py): stack reduction decides with it."""
    position, orientation = position_and_orientation(ds)
    frames = as_int(ds.get("NumberOfFrames")) or 1
    return Geometry(as_int(ds.get("InstanceNumber")), position, orientation, frames)


def drop_frames(ds: Dataset, kept: list[int]) -> None:
    """After undecodable frames were skipped, make the metadata describe what is published."""
    total = as_int(ds.get("NumberOfFrames")) or 1
    if len(kept) == total:
        return
    if "NumberOfFrames" in ds:
        ds.NumberOfFrames = len(kept)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and len(per_frame) == total:
        ds.PerFrameFunctionalGroupsSequence = [per_frame[i] for i in kept]


PIXEL_DATA = "7FE00010"


_JSON_MEMO: dict[tuple[Any, ...], str] = {}  # see sitegen/_raw.py


def dicom_json(ds: Dataset, bad: list[str]) -> dict[str, Any]:
    """``ds.to_json_dict()``, remembering each element's JSON per worker (a series repeats
    most of them) and leaving undecoded elements undecoded for the Part 10 writer. An element
    whose value has no JSON (a DS that is no number) is left out and named in `bad`."""
    charset = decoding_charset(ds)
    meta: dict[str, Any] = {}
    for tag in ds.keys():
        key = undecoded_key(ds, tag, charset)
        text = _JSON_MEMO.get(key) if key is not None else None
        if text is None:
            try:
                if key is None:  # decoded, or decoded the usual way
                    elem = ds[tag]
                    key = decoded_key(elem, charset)
                    text = _JSON_MEMO.get(key) if key is not None else None
                else:
                    raw = ds.get_item(tag)
                    elem = convert_raw_data_element(raw, encoding=list(charset), ds=ds)
                text = text or json.dumps(elem.to_json_dict(None, 1 << 30))
            except (ValueError, TypeError, OverflowError) as exc:
                bad.append(f"{_label(tag)} ({_reason(exc)})")
                continue
            if key is not None:
                if len(_JSON_MEMO) >= MEMO_LIMIT:
                    _JSON_MEMO.clear()
                _JSON_MEMO[key] = text
        meta[f"{tag:08X}"] = json.loads(text)  # a fresh object for every instance
    return meta


def _label(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {keyword_for_tag(tag) or 'unknown'}"


def published_metadata(
    ds: Dataset, sop: str, ts: str, updates: dict[str, object], bad: list[str]
) -> dict[str, Any]:
    """DICOM JSON (PS3.18 F.2) for the published instance. PixelData becomes a BulkDataURI
    relative to the series metadata URL (the frame file of a single-frame instance);
    AvailableTransferSyntaxUID names the frames' syntax.
    Elements with values that have no JSON are named in `bad`."""
    set_attributes(ds, updates)
    pixel_vr = "OW" if ts == pixels.TS_EXPLICIT_LE and int(ds.get("BitsAllocated", 8)) > 8 else "OB"
    for tag in [t for t in ds.keys() if t >= 0x7FE00000]:  # pixel data, padding, signatures
        del ds[tag]
    frames = as_int(ds.get("NumberOfFrames")) or 1
    meta = dicom_json(ds, bad)
    # a single frame is the pixel data: its file is the bulk data, fetchable from a static
    # host; a multi-frame's frames are frames/1..N below this folder
    bulk = f"instances/{sop}/frames" + ("/1" if frames == 1 else "")
    meta[PIXEL_DATA] = {"vr": pixel_vr, "BulkDataURI": bulk}
    meta["00083002"] = {"vr": "UI", "Value": [ts]}
    return dict(sorted(meta.items()))
