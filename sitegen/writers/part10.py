"""De-identified Part 10 files built from the published frames, and per-case zips.

The Part 10 file carries exactly the frames of the DICOMweb tree (the same codestreams,
encapsulated with a Basic Offset Table, or native bytes for raw frames), so a download and
the viewer show the same pixels. It is written as header + streamed pixel data: a large
multi-frame instance is never held in memory whole.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from ..attrs import first
from ..model import Study, check_uid

_ITEM = struct.pack("<HH", 0xFFFE, 0xE000)
_SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries: equal inputs give equal zips


def part10_path(study_uid: str, series_uid: str, sop_uid: str) -> str:
    """dicom/<S>/<R>/<I>.dcm below public/."""
    return f"dicom/{check_uid(study_uid)}/{check_uid(series_uid)}/{check_uid(sop_uid)}.dcm"


def _header(ds: Dataset, transfer_syntax: str) -> bytes:
    """Preamble, file meta (as de-identification rebuilt it, with the frames' transfer
    syntax) and every element but Pixel Data."""
    meta = FileMetaDataset(getattr(ds, "file_meta", None) or FileMetaDataset())
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    buffer = io.BytesIO()
    # always explicit VR little endian, whatever the input's encoding (big endian, implicit)
    dcmwrite(buffer, ds, enforce_file_format=True, little_endian=True, implicit_vr=False)
    return buffer.getvalue()


def _bytes(frame: Path | bytes) -> bytes:
    return frame if isinstance(frame, bytes) else frame.read_bytes()


def write_part10(
    path: Path, ds: Dataset, frames: list[Path | bytes], transfer_syntax: str, frame_bytes: int
) -> bytes:
    """Write `ds` (no Pixel Data) plus the frame files as one Part 10 file.

    `frame_bytes` is one native frame's size, used for raw frames (which may carry a pad byte).
    Returns the header (everything before Pixel Data), for the privacy sweep."""
    if not path.parent.is_dir():  # a failed mkdir costs more than a stat
        path.parent.mkdir(parents=True, exist_ok=True)
    native = UID(transfer_syntax) == ExplicitVRLittleEndian
    header = _header(ds, transfer_syntax)
    with open(path, "wb") as fh:
        fh.write(header)
        if native:
            total = frame_bytes * len(frames)
            vr = b"OW" if int(ds.get("BitsAllocated", 8)) > 8 else b"OB"
            fh.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, vr, 0, total + total % 2))
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
    return header


def zip_members(out: Path, slug: str, studies: Iterable[Study]) -> list[tuple[str, Path]]:
    """(name in the zip, Part 10 file) for a case: <slug>/study1/series1-CT/00001.dcm."""
    members = []
    for s_n, study in enumerate(studies, start=1):
        for r_n, series in enumerate(study.series, start=1):
            modality = first(series.instances[0].metadata, "00080060", "OT")
            for i_n, inst in enumerate(series.instances, start=1):
                source = out / part10_path(study.uid, series.uid, inst.sop_uid)
                members.append((f"{slug}/study{s_n}/series{r_n}-{modality}/{i_n:05d}.dcm", source))
    return members


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
