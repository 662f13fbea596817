"""Per-instance work, run in worker processes: read -> de-identify -> decode -> encode -> write.

Each worker opens its own input, writes its own frame files into the build's temporary
output folder and returns only a small `Outcome` (DICOM JSON, frame sizes, warnings,
canaries) to the parent, so memory stays bounded whatever the size of the study.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from . import burned_in, codestreams, headers, limits, pixels, preview, quality, slab
from ._spool import Spool
from .cache_entries import entry_key, file_digest, write_entry
from .deid import (
    apply_mask,
    burned_in_reason,
    codestream_canaries,
    refuse_reason,
)
from .faults import is_resource_error
from .faults import reason as _reason
from .jobs import CacheTarget, Job, Outcome
from .model import Instance, check_uid, frame_path, part10_path
from .sources import SourceItem
from .writers.part10 import write_part10


def run(item: SourceItem, job: Job, cache: CacheTarget | None = None) -> Outcome:
    """Process one input; never raises for bad input (the reason goes into the Outcome)."""
    out = Outcome(item.label)
    try:
        with warnings.catch_warnings():
            # pydicom's warnings name the input by its absolute path (folders named after
            # the patient); what matters about a file is in sitegen's own messages
            warnings.simplefilter("ignore")
            try:
                _run(item, job, out)
            finally:
                Spool.close_all()
    except Exception as exc:  # one bad file never kills the build
        out.instance = None
        if is_resource_error(exc):
            out.fatal = f"{item.label}: {_reason(exc)}"
        else:
            out.warnings.append(f"{item.label}: {_reason(exc)}, skipped")
    fingerprint = cache and (cache.fingerprint or (out.digest and f"file:{out.digest}"))
    if cache and fingerprint and not out.fatal:  # failures: not remembered
        key = entry_key(fingerprint, cache.job_fp)
        try:
            write_entry(Path(cache.entries), key, out, Path(job.out_dir))
            out.cache_key = key
        except OSError:
            pass  # no cache entry: the next build just does the work again
    return out


_REQUIRED = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Rows",
    "Columns",
    "BitsAllocated",
    "SamplesPerPixel",
    "PhotometricInterpretation",
)


def _run(item: SourceItem, job: Job, out: Outcome) -> None:
    try:
        ds, out.digest = _open(item)
    except Exception as exc:
        if is_resource_error(exc):
            raise
        out.warnings.append(f"{item.label}: unreadable DICOM ({_reason(exc)}), skipped")
        return
    missing = [k for k in _REQUIRED if not ds.get(k)]
    if "PixelData" not in ds or missing:
        if "PixelData" not in ds:
            sop_class = getattr(ds.get("SOPClassUID"), "name", ds.get("SOPClassUID", "unknown"))
            out.warnings.append(f"{item.label}: no image ({sop_class}), skipped")
        else:
            needed = ", ".join(missing)
            out.warnings.append(f"{item.label}: no {needed} (required for an image), skipped")
        if job.deid is not None:  # still the patient's data: its values are canaries
            out.canaries += job.deid.path_canaries(item.relative, item.label)
            try:
                result = job.deid.deidentify(ds, source=item.label, patient_label=job.case)
                out.canaries += result.canaries
            except Exception as exc:  # the file is skipped either way
                if is_resource_error(exc):
                    raise
                reason = _reason(exc)
                out.warnings.append(f"{item.label}: its values could not all be read ({reason})")
        return
    bytes_in = item.size() if item.kind != "sample" else _encoded_size(ds)
    series_number = headers.as_int(ds.get("SeriesNumber"))
    masks = [rect for number, rect in job.masks if number in (0, series_number)]
    if job.deid is not None:
        refused = burned_in.refusal(ds, item.label, job, masks, series_number)
        # canaries of refused inputs too: their values must not surface anywhere else either
        extra = job.deid.path_canaries(item.relative, item.label)
        extra += codestream_canaries(ds, item.label)
        result = job.deid.deidentify(
            ds,
            source=item.label,
            patient_label=job.patient_label,
            study_description=job.study_description,
            extra_canaries=extra,
        )
        ds = result.dataset
        out.canaries += extra + result.canaries
        out.actions = dict(result.actions)
        out.notes += [f"{item.label}: {note}" for note in result.notes]
        if refused:
            out.refused = refused
            return
    if not job.write:
        return
    if job.deid is None or job.burned_in != "mask":
        masks = []
    # the pixels are read for text too (the header may lie): the first frame, of every
    # instance, or of one in burned_in.OCR_STACK_ONE_IN of a CT/MR/PET/NM stack
    read_text = job.deid is not None and job.burned_in != "allow" and burned_in.reads_text(ds)
    header_says = job.deid is not None and burned_in_reason(ds) is not None

    study, series, sop = (
        check_uid(str(ds.StudyInstanceUID)),
        check_uid(str(ds.SeriesInstanceUID)),
        check_uid(str(ds.SOPInstanceUID)),
    )
    layout = pixels.output_layout(ds)
    root = Path(job.out_dir)
    codec = job.codec  # with a PSNR target: the quality chosen from the first frame
    verify = (
        job.verify
        and codec.lossy is None
        and codec.psnr is None
        and zlib.crc32(sop.encode()) % VERIFY_ONE_IN == 0
    )
    sizes: list[int] = []
    kept: list[int] = []
    single = (headers.as_int(ds.get("NumberOfFrames")) or 1) == 1
    encoded: list[bytes] = []
    lossless: Spool | None = Spool() if job.part10 and job.lossless_part10 else None
    exact_ts = ""
    ts = ""
    shrunk = preview.preview_shape(layout) if job.preview else None
    previews: list[bytes] = []
    lost: list[tuple[int, str]] = []
    for index, frame, reason in pixels.iter_frames(ds):
        if frame is None:
            lost.append((index, reason or ""))
            continue
        if job.slab and not kept:
            frame = _slab_frame(frame, ds, job, item, out)
        if read_text:
            read_text = False
            refusal, found = burned_in.text_in_pixels(frame, item.label, job, header_says, out)
            if refusal:
                out.refused = refusal
                return
            masks = masks + found
        if masks:
            frame = apply_mask(frame, masks, layout.photometric)
        if codec.psnr is not None:
            codec, data, ts = quality.choose(frame, layout, codec)
        else:
            data, ts = codestreams.encode_frame(frame, layout, codec)
        if lossless is not None:  # the download keeps every bit
            exact, exact_ts = codestreams.encode_frame(
                frame, layout, pixels.FrameCodec(job.codec.name)
            )
            lossless.append(exact)
        if verify and not kept:
            back = codestreams.decode_frame(data, ts, layout)
            if not np.array_equal(back.reshape(frame.shape), frame):
                raise RuntimeError(f"frame {index + 1} did not round-trip losslessly")
        if shrunk is not None:  # from the very pixels published
            previews.append(preview.preview_frame(frame, layout))
        kept.append(index)
        relative = frame_path(study, series, sop, len(kept))
        _write(root / relative, data)
        out.files.append(relative)
        if single:
            encoded.append(data)
        sizes.append(len(data))
    out.warnings += [f"{item.label}: {what}, skipped" for what in _lost_frames(lost)]
    if not kept:
        out.warnings.append(f"{item.label}: no frame could be decoded, skipped")
        return
    headers.drop_frames(ds, kept)
    input_ts = str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", ""))
    if input_ts in LOSSY_INPUT:
        ds.LossyImageCompression = "01"  # our lossless frames keep the input's earlier loss
    bad: list[str] = []
    metadata = headers.published_metadata(
        ds, sop, ts, codestreams.metadata_updates(layout, codec), bad
    )
    out.warnings += [f"{item.label}: {b}: not valid, left out of the metadata" for b in bad]
    if job.part10:
        # a single frame is still in memory; a multi-frame's frames are read back one by one
        frame_files: list[Path | bytes] = (
            list(encoded)
            if single
            else [root / frame_path(study, series, sop, n) for n in range(1, len(kept) + 1)]
        )
        native = layout.rows * layout.columns * layout.samples_per_pixel
        native *= layout.bits_allocated // 8
        relative = part10_path(study, series, sop)
        if lossless is not None:  # the Part 10 file describes its own, lossless frames
            frame_files, part10_ts = lossless.files(), exact_ts
            updates = codestreams.metadata_updates(layout, pixels.FrameCodec(job.codec.name))
            headers.set_attributes(ds, updates)
            lossy = ("LossyImageCompression", "LossyImageCompressionMethod")
            if input_ts not in LOSSY_INPUT:
                for keyword in lossy:
                    if keyword in ds:
                        delattr(ds, keyword)
            part10_differs = {k: _plain(ds.get(k)) for k in [*updates, *lossy]}
            part10_differs["AvailableTransferSyntaxUID"] = exact_ts
        else:
            part10_ts = ts
            part10_differs = None
        write_part10(root / relative, ds, frame_files, part10_ts, native)
        out.files.append(relative)
    position, orientation = headers.position_and_orientation(ds)
    out.instance = Instance(
        study_uid=study,
        series_uid=series,
        sop_uid=sop,
        case=job.case,
        source=item.label,
        metadata=metadata,
        frame_sizes=sizes,
        transfer_syntax=ts,
        instance_number=headers.as_int(ds.get("InstanceNumber")),
        position=position,
        orientation=orientation,
        series_number=series_number,
        bytes_in=bytes_in,
        part10=part10_differs if job.part10 else None,
        preview=previews,
        preview_shape=shrunk,
    )
    out.bytes_out = sum(sizes)


def _slab_frame(frame: np.ndarray, ds: Dataset, job: Job, item: SourceItem, out: Outcome) -> Any:
    """The lead's frame averaged over its slab, and its dataset flagged as the slab; the
    lead's own frame, with a warning, when the slab's slices do not match, or when one of
    them may hold burned-in text (or is refused): its pixels are not the lead's to publish,
    and the text check reads the lead's frame only."""
    members = [member.open_dataset() for member, _ in job.slab]
    for (member, _), member_ds in zip(job.slab, members, strict=True):
        reason = refuse_reason(member_ds) or (
            burned_in_reason(member_ds) if job.burned_in != "allow" else None
        )
        if reason:
            out.warnings.append(
                f"{item.label}: not averaged with its slab: {member.label}: {reason}"
            )
            return frame
    mean = slab.average(frame, ds, members)
    if isinstance(mean, str):
        out.warnings.append(f"{item.label}: not averaged with its slab: {mean}")
        return frame
    slab.flag(ds, members)
    return mean


def _plain(value: Any) -> Any:
    """An element value as plain data (the outcome is marshalled into the cache)."""
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, MultiValue | list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _lost_frames(lost: list[tuple[int, str]]) -> list[str]:
    """One line per run of frames lost for one reason, not one per frame."""
    runs: list[list[Any]] = []  # [first, last, reason]
    for index, reason in lost:
        if runs and runs[-1][1] == index - 1 and runs[-1][2] == reason:
            runs[-1][1] = index
        else:
            runs.append([index, index, reason])
    return [
        f"frame{'s' * (a != b)} {a + 1}{f'-{b + 1}' * (a != b)}: cannot decode ({reason})"
        if not reason.startswith("frames ")
        else reason
        for a, b, reason in runs
    ]


def _open(item: SourceItem) -> tuple[Dataset, str]:
    """The input's dataset and, for a local file, the sha256 of its bytes (the build cache's
    key), reading a small file once for both."""
    if item.kind != "file":
        return item.open_dataset(), ""
    path = Path(item.location)
    if path.stat().st_size > limits.READ_WHOLE_BELOW:
        return item.open_dataset(), file_digest(path)
    data = path.read_bytes()
    return pydicom.dcmread(io.BytesIO(data)), hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary name so a file is either whole or absent (an input given
    twice is written by two workers)."""
    _make_dirs(path.parent)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:  # a folder remembered from an earlier build is gone
        _MADE.clear()
        _make_dirs(path.parent)
        tmp.write_bytes(data)
    os.replace(tmp, path)


_MADE: set[Path] = set()  # folders this worker made or found (a failed mkdir is slow)


def _make_dirs(folder: Path) -> None:
    """``folder.mkdir(parents=True, exist_ok=True)``, top down, remembering what exists."""
    if folder in _MADE:
        return
    if folder.parent != folder:
        _make_dirs(folder.parent)
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    if len(_MADE) > 100_000:  # a long-lived (Dask) worker's memory stays bounded
        _MADE.clear()
    _MADE.add(folder)


def _encoded_size(ds: Dataset) -> int:
    """The size of a generated dataset as a Part 10 file (samples have no file)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.tell()


VERIFY_ONE_IN = 8  # the build decodes the first frame of one instance in 8 again and compares
# JPEG baseline, JPEG extended, JPEG-LS near-lossless: always lossy
LOSSY_INPUT = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81"}
