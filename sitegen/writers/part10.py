"""De-identified Part 10 files built from the published frames, and per-case zips.

The Part 10 file carries exactly the frames of the DICOMweb tree (the same codestreams,
encapsulated with a Basic Offset Table, or native bytes for raw frames), so a download and
the viewer show the same pixels. It is written as header + streamed pixel data: a large
multi-frame instance is never held in memory whole.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset
from pydicom.uid import UID, ExplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_16, EXPLICIT_VR_LENGTH_32

from .._raw import MEMO_LIMIT, decoded_key
from ..attrs import first
from ..model import Study, part10_path

_ITEM = struct.pack("<HH", 0xFFFE, 0xE000)
_SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries: equal inputs give equal zips


def _header(ds: Dataset, transfer_syntax: str) -> bytes:
    """Preamble, file meta (as de-identification rebuilt it, with the frames' transfer
    syntax) and every element but Pixel Data, always explicit VR little endian: the bytes
    pydicom's dcmwrite gives, with its per-element work done once per distinct value."""
    meta = FileMetaDataset(getattr(ds, "file_meta", None) or FileMetaDataset())
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    validate_file_meta(meta, enforce_standard=True)
    group = b"".join(
        _element_bytes(meta[tag], default_encoding) for tag in sorted(meta.keys()) if tag.element
    )
    length = DataElement(0x00020000, "UL", len(group))  # FileMetaInformationGroupLength
    parts = [ds.preamble, b"DICM", _element_bytes(length, default_encoding), group]
    if ds.original_encoding != (False, True) or ds.original_character_set != ds._character_set:
        buffer = DicomBytesIO()
        buffer.is_little_endian, buffer.is_implicit_VR = True, False
        write_dataset(buffer, ds)  # pydicom decodes and encodes every element again
        return b"".join(parts) + buffer.getvalue()
    encodings = ds.get("SpecificCharacterSet", default_encoding)
    for tag in sorted(ds.keys()):
        if tag.element == 0 and tag.group > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        parts.append(_element_bytes(ds.get_item(tag), encodings))
    return b"".join(parts)


_ELEMENT_BYTES: dict[tuple[Any, ...], bytes] = {}


def _element_bytes(elem: DataElement | RawDataElement, encodings: Any) -> bytes:
    """One element as explicit VR little endian. An undecoded one (read from explicit VR
    little endian data) is copied as read, as pydicom's writer would; a decoded one is written
    by pydicom's writer once per distinct value and remembered: a series repeats most."""
    if isinstance(elem, RawDataElement):
        head = _raw_head(elem)
        if head is not None:
            return head + elem.value
    key = decoded_key(elem, encodings)
    if key is not None and (known := _ELEMENT_BYTES.get(key)) is not None:
        return known
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_data_element(buffer, elem, encodings)
    data = buffer.getvalue()
    if key is not None:
        if len(_ELEMENT_BYTES) >= MEMO_LIMIT:  # a worker's memory stays bounded
            _ELEMENT_BYTES.clear()
        _ELEMENT_BYTES[key] = data
    return data


def _raw_head(elem: RawDataElement) -> bytes | None:
    """Tag, VR and length of an element read from explicit VR little endian data, to copy
    its value as read, exactly as pydicom's writer would; None when pydicom must write it."""
    vr, value = elem.VR, elem.value
    if value is None or vr is None or vr == "SQ" or elem.length == 0xFFFFFFFF:
        return None
    if vr in EXPLICIT_VR_LENGTH_32:
        return struct.pack("<HH2sHI", elem.tag.group, elem.tag.element, vr.encode(), 0, len(value))
    if vr in EXPLICIT_VR_LENGTH_16 and len(value) <= 0xFFFF:
        return struct.pack("<HH2sH", elem.tag.group, elem.tag.element, vr.encode(), len(value))
    return None


def _bytes(frame: Path | bytes) -> bytes:
    return frame if isinstance(frame, bytes) else frame.read_bytes()


def write_part10(
    path: Path, ds: Dataset, frames: list[Path | bytes], transfer_syntax: str, frame_bytes: int
) -> None:
    """Write `ds` (no Pixel Data) plus the frame files as one Part 10 file.

    `frame_bytes` is one native frame's size, used for raw frames (which may carry a pad byte).
    Written through a temporary name: the path may be a hard link shared with the build cache
    and the published site (an instance met twice), which must never be written into."""
    if not path.parent.is_dir():  # a failed mkdir costs more than a stat
        path.parent.mkdir(parents=True, exist_ok=True)
    header = _header(ds, transfer_syntax)
    # native frames: OW for words, OB for bytes; None: encapsulated
    native = None
    if UID(transfer_syntax) == ExplicitVRLittleEndian:
        native = b"OW" if int(ds.get("BitsAllocated", 8)) > 8 else b"OB"
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        _write_file(tmp, header, frames, frame_bytes, native)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_file(
    path: Path, header: bytes, frames: list[Path | bytes], frame_bytes: int, native: bytes | None
) -> None:
    with open(path, "wb") as fh:
        fh.write(header)
        if native:
            total = frame_bytes * len(frames)
            fh.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, native, 0, total + total % 2))
            for frame in frames:
                fh.write(_bytes(frame)[:frame_bytes])
            if total % 2:
                fh.write(b"\0")
        else:
            sizes = [len(f) if isinstance(f, bytes) else f.stat().st_size for f in frames]
            padded = [s + s % 2 for s in sizes]
            offsets, at = [], 0
            for size in padded:
                offsets.append(at)
                at += 8 + size
            fh.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF))
            fh.write(_ITEM + struct.pack("<I", 4 * len(offsets)))
            fh.write(struct.pack(f"<{len(offsets)}I", *offsets))
            for frame, size in zip(frames, padded, strict=True):
                data = _bytes(frame)
                fh.write(_ITEM + struct.pack("<I", size) + data + b"\0" * (size - len(data)))
            fh.write(_SEQ_END)


def zip_members(out: Path, slug: str, studies: Iterable[Study]) -> list[tuple[str, Path]]:
    """(name in the zip, Part 10 file) for a case: <slug>/study1/series1-CT/0001.dcm
    (four digits: numbers under five are never canaries, so no ID of 5+ digits matches)."""
    members = []
    for s_n, study in enumerate(studies, start=1):
        for r_n, series in enumerate(study.series, start=1):
            modality = first(series.instances[0].metadata, "00080060", "OT")
            for i_n, inst in enumerate(series.instances, start=1):
                source = out / part10_path(study.uid, series.uid, inst.sop_uid)
                members.append((f"{slug}/study{s_n}/series{r_n}-{modality}/{i_n:04d}.dcm", source))
    return members


ZIP_PART_BYTES = 20 * 1024 * 1024  # each case zip at most this: under every host's file limit


def zip_parts(
    slug: str, members: list[tuple[str, Path]], limit: int = ZIP_PART_BYTES
) -> list[tuple[str, list[tuple[str, Path]]]]:
    """The case's download as zips of at most `limit` bytes of Part 10 files each (Cloudflare
    Pages takes no file over 25 MiB): `<slug>.zip` when one is enough, else `<slug>-1.zip`,
    `<slug>-2.zip`, ..., each a whole zip of whole files in order (a file larger than the
    limit alone in its part)."""
    parts: list[list[tuple[str, Path]]] = [[]]
    size = 0
    for name, source in members:
        bytes_ = source.stat().st_size + 100 + len(name)  # the local header and the entry
        if parts[-1] and size + bytes_ > limit:
            parts.append([])
            size = 0
        parts[-1].append((name, source))
        size += bytes_
    if len(parts) == 1:
        return [(f"{slug}.zip", parts[0])]
    return [(f"{slug}-{n}.zip", part) for n, part in enumerate(parts, start=1)]


def write_case_zip(target: Path, members: list[tuple[str, Path]]) -> None:
    """A zip of Part 10 files, stored (frames are compressed already), fixed timestamps."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for name, source in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED
            big = source.stat().st_size > 2**31
            with zf.open(info, "w", force_zip64=big) as dest, open(source, "rb") as src:
                while chunk := src.read(1 << 20):
                    dest.write(chunk)
