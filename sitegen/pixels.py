"""Pixel data in: any input frame, decoded one at a time in the output layout (encoding each
frame into one compact codestream, and thumbnails: codestreams.py).

The static DICOMweb tree stores every frame as its own file holding a single codestream, so
everything here works one frame at a time: decoding never materialises the whole pixel array of a
multi-frame object, and encoding takes one 2-D (or 2-D x samples) array.

Conventions
-----------
* Frames are yielded in the *output layout* (:func:`output_layout`): colour inputs that pydicom
  decodes to RGB (YBR_FULL, YBR_FULL_422, YBR_RCT, YBR_ICT) and PALETTE COLOR are published as
  interleaved RGB; 1-bit data becomes 8-bit (values stay 0/1); grayscale keeps its bit depth,
  signedness and MONOCHROME1/2. PALETTE COLOR with 16-bit LUT entries is rounded to 8 bits
  (v / 257), since the published layout is 8-bit RGB.
* `codestreams.transfer_syntax_for` decides, from the layout alone, which transfer syntax a
  codec will produce, so every frame of an instance gets the same one:

  - ``lossy`` set: 8-bit colour -> JPEG baseline (.50, YCbCr 4:2:2, published YBR_FULL_422);
    anything else -> HTJ2K lossy (.203, irreversible 9/7; colour uses the ICT -> YBR_ICT).
  - ``htj2k``: HTJ2K lossless (.201, reversible 5/3; colour uses the RCT -> YBR_RCT).
  - ``jpegls``: JPEG-LS lossless (.80). Signed data is stored as its unsigned two's complement bit
    pattern, which is what DICOM specifies for JPEG-LS (decoders reinterpret with Pixel
    Representation), so no shift and no fallback is needed.
  - ``raw``: Explicit VR Little Endian bytes, padded to even length.
  - More than 16 bits allocated (e.g. 32-bit RT dose) always falls back to ``raw``: JPEG-LS
    cannot hold it and DICOM's JPEG 2000 family is not reliably decodable above 16 bits.
* The JPEG 2000 codestreams are written with the component precision of the array dtype (8 or
  16 bits); Bits Stored keeps describing the meaningful bits (e.g. 12), the values are unchanged.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import (
    encapsulate,
    generate_fragments,
    generate_frames,
    parse_basic_offsets,
)
from pydicom.pixels import apply_color_lut, as_pixel_options, convert_color_space, get_decoder
from pydicom.uid import UID

from .jobs import FrameCodec as FrameCodec  # the codec settings, where they are used
from .layout import PixelLayout as PixelLayout  # the layout, where it is used

TS_EXPLICIT_LE = "1.2.840.10008.1.2.1"
TS_HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
TS_HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
TS_HTJ2K = "1.2.840.10008.1.2.4.203"  # lossy
TS_JPEGLS_LOSSLESS = "1.2.840.10008.1.2.4.80"
TS_JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
_TS_DEFLATED = "1.2.840.10008.1.2.1.99"
_TS_J2K = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")
_TS_JPEGLS_NEAR = "1.2.840.10008.1.2.4.81"

_RGB_INPUTS = {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"}
_PALETTE_KEYWORDS = (
    "RedPaletteColorLookupTableDescriptor",
    "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor",
    "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData",
    "BluePaletteColorLookupTableData",
    "SegmentedRedPaletteColorLookupTableData",
    "SegmentedGreenPaletteColorLookupTableData",
    "SegmentedBluePaletteColorLookupTableData",
    "PaletteColorLookupTableUID",
)


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def output_layout(ds: Dataset) -> PixelLayout:
    """Layout of the frames :func:`iter_frames` yields for `ds` (decided before decoding)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    pi = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    ba = int(ds.BitsAllocated)
    bs = int(ds.get("BitsStored", ba) or ba)
    pr = int(ds.get("PixelRepresentation", 0) or 0)
    if pi == "PALETTE COLOR":
        return PixelLayout(rows, cols, 3, 8, 8, 7, 0, "RGB", 0)
    if spp == 3:
        if pi not in _RGB_INPUTS:
            raise ValueError(f"unsupported colour photometric interpretation {pi!r}")
        return PixelLayout(rows, cols, 3, ba, bs, bs - 1, 0, "RGB", 0)
    if spp != 1:
        raise ValueError(f"unsupported samples per pixel {spp}")
    if ba == 1:
        return PixelLayout(rows, cols, 1, 8, 8, 7, 0, pi, 0)
    return PixelLayout(rows, cols, 1, ba, bs, bs - 1, pr, pi, 0)


def _number_of_frames(ds: Dataset) -> int:
    value = ds.get("NumberOfFrames", 1)
    try:
        n = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        raise ValueError(f"invalid Number of Frames {value!r}") from None
    return max(n, 1)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if not ts:
        raise ValueError("dataset has no Transfer Syntax UID in its file meta")
    return UID(ts)


def _pixel_data_loaded(ds: Dataset) -> bool:
    """True when the Pixel Data value is in memory (not deferred and not skipped)."""
    if 0x7FE00010 not in ds._dict:
        return False
    elem = ds._dict[0x7FE00010]
    return getattr(elem, "value", None) is not None


def _open_pixel_source(ds: Dataset, ts: UID, stack: ExitStack) -> tuple[Any, dict[str, Any]]:
    """Return (src, decoding options) with `src` as small in memory as possible.

    If the dataset was read with ``defer_size`` or ``stop_before_pixels`` and still has its
    ``filename``, the file is reopened and positioned at the Pixel Data value, so frames are read
    one at a time from disk (bounded memory for 1 GB multi-frames). Otherwise the in-memory
    dataset is used.
    """
    opts = as_pixel_options(ds)
    opts["transfer_syntax_uid"] = ts
    filename = getattr(ds, "filename", None)
    on_disk = isinstance(filename, str | os.PathLike) and os.path.isfile(filename)
    if not _pixel_data_loaded(ds) and on_disk and ts == _TS_DEFLATED:
        # A deflated body cannot be seeked into: inflate the whole file (as pydicom would).
        from pydicom import dcmread

        return dcmread(filename), opts
    if not _pixel_data_loaded(ds) and on_disk:
        from pydicom.pixels.utils import _array_common  # same route as pydicom's iter_pixels

        f = stack.enter_context(open(filename, "rb"))
        _, file_opts = _array_common(f, [0x7FE00001, 0x7FE00002], transfer_syntax_uid=ts)
        if file_opts.get("pixel_keyword", "PixelData") != "PixelData":
            raise ValueError(f"{file_opts['pixel_keyword']} (floating point) is not supported")
        for key in ("pixel_keyword", "pixel_vr", "extended_offsets"):
            if key in file_opts:
                opts[key] = file_opts[key]
        return f, opts
    if "PixelData" not in ds:
        other = [k for k in ("FloatPixelData", "DoubleFloatPixelData") if k in ds]
        raise ValueError(
            f"{other[0]} (floating point) is not supported" if other else "no Pixel Data"
        )
    return ds, opts


def _palette_table(ds: Dataset) -> np.ndarray:
    """Whole palette as an (entries, 3) uint8 table, so each frame is a single fancy index.

    16-bit LUT entries are scaled to 8 bits (round(v / 257)) unless every entry already fits in
    8 bits (some writers declare 16-bit entries but store 0..255).
    """
    bits = int(ds.BitsStored if "BitsStored" in ds else ds.BitsAllocated)
    bits = 16 if bits > 8 else 8
    index = np.arange(2**bits, dtype=np.uint16 if bits > 8 else np.uint8)
    table = apply_color_lut(index, ds)
    if table.dtype != np.uint8:
        if table.max(initial=0) > 255:
            table = np.round(table.astype(np.float64) / 257.0)
        table = table.astype(np.uint8)
    return np.ascontiguousarray(table)


def _finish(arr: np.ndarray, photometric: str, layout: PixelLayout, palette: Any) -> np.ndarray:
    """Bring a decoded frame into the output layout (colour space, dtype, native byte order)."""
    if palette is not None:
        arr = palette[arr]
    elif photometric in ("YBR_FULL", "YBR_FULL_422"):
        arr = convert_color_space(arr, photometric, "RGB")
    want = layout.dtype()
    if arr.dtype != want:
        arr = arr.astype(want)
    if arr.shape != layout.shape:
        raise ValueError(f"decoded frame has shape {arr.shape}, expected {layout.shape}")
    return arr


def _reason(exc: BaseException) -> str:
    """One-line, bounded description of why a frame could not be decoded."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def iter_frames(ds: Dataset) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    """Yield ``(index, frame, None)`` or ``(index, None, reason)`` for every frame of `ds`.

    One frame is decoded at a time. Encapsulated frames are decoded independently so a corrupt
    fragment only costs that frame. Read the dataset with ``defer_size`` or
    ``stop_before_pixels=True`` to keep memory bounded: the pixel data is then streamed from
    ``ds.filename``.
    """
    try:
        nframes = _number_of_frames(ds)
    except ValueError as exc:
        yield 0, None, _reason(exc)
        return
    try:
        layout = output_layout(ds)
        ts = _transfer_syntax(ds)
        decoder = get_decoder(ts)
        if not decoder.is_available:
            raise RuntimeError(f"no decoder plugin installed for {ts.name}")
        palette = None
        if str(ds.PhotometricInterpretation).strip().upper() == "PALETTE COLOR":
            palette = _palette_table(ds)
    except Exception as exc:  # unsupported input: report every frame, never raise
        reason = _reason(exc)
        for i in range(nframes):
            yield i, None, reason
        return

    with ExitStack() as stack:
        try:
            src, opts = _open_pixel_source(ds, ts, stack)
        except Exception as exc:
            reason = _reason(exc)
            for i in range(nframes):
                yield i, None, reason
            return
        if ts.is_encapsulated:
            yield from _iter_encapsulated(src, opts, decoder, nframes, layout, palette)
        else:
            yield from _iter_native(src, opts, decoder, nframes, layout, palette)


def _iter_native(
    src: Any, opts: dict[str, Any], decoder: Any, nframes: int, layout: PixelLayout, palette: Any
) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    """Native data: pydicom indexes into the raw bytes per frame (masking, 1-bit, 4:2:2...).
    A Number of Frames beyond the bytes keeps the frames that are there."""
    index = 0
    whole = _native_frames_held(src, layout)
    if whole is not None and whole < nframes:
        opts = {**opts, "number_of_frames": whole}
    try:
        for arr, meta in decoder.iter_array(src, validate=True, **opts):
            pi = str(meta.get("photometric_interpretation", ""))
            try:
                frame = _finish(arr, pi, layout, palette)
            except Exception as exc:
                yield index, None, _reason(exc)
            else:
                yield index, frame, None
            index += 1
    except Exception as exc:  # e.g. truncated pixel data: the remaining frames are lost
        yield from _lost(index, nframes, _reason(exc))
        return
    yield from _lost(index, nframes, "missing: the pixel data holds fewer than Number of Frames")


def _lost(first: int, nframes: int, reason: str) -> Iterator[tuple[int, None, str]]:
    """Frames `first`.. that cannot be read, as one report for the run (a lying Number of
    Frames may claim millions)."""
    if first < nframes:
        run = first == nframes - 1
        yield first, None, reason if run else f"frames {first + 1}-{nframes}: {reason}"


def _native_frames_held(src: Any, layout: PixelLayout) -> int | None:
    """How many whole native frames an in-memory Pixel Data value holds (None: unknown)."""
    if not isinstance(src, Dataset) or layout.bits_allocated < 8 or "PixelData" not in src:
        return None
    size = layout.rows * layout.columns * layout.samples_per_pixel * layout.bits_allocated // 8
    value = src.PixelData
    return len(value) // size if size and isinstance(value, bytes) else None


def _iter_encapsulated(
    src: Any, opts: dict[str, Any], decoder: Any, nframes: int, layout: PixelLayout, palette: Any
) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    """Encapsulated data: split into frames, then decode each codestream on its own."""
    buffer = src.PixelData if isinstance(src, Dataset) else src
    frame_opts = {k: v for k, v in opts.items() if k not in ("extended_offsets", "pixel_vr")}
    frame_opts["number_of_frames"] = 1
    index = 0
    try:
        frames = _codestreams(buffer, nframes, opts.get("extended_offsets"))
        for codestream in frames:
            if index >= nframes:
                break
            try:
                arr, meta = decoder.as_array(encapsulate([codestream]), **frame_opts)
                pi = str(meta.get("photometric_interpretation", ""))
                frame = _finish(arr, pi, layout, palette)
            except Exception as exc:
                yield index, None, _reason(exc)
            else:
                yield index, frame, None
            index += 1
    except Exception as exc:  # the fragment structure itself is broken
        yield from _lost(index, nframes, _reason(exc))
        return
    yield from _lost(index, nframes, "missing: fewer encapsulated frames than Number of Frames")


def _codestreams(buffer: Any, nframes: int, extended_offsets: Any) -> Iterator[bytes]:
    """The frames of encapsulated data; with fewer fragments than Number of Frames and no
    offset table, one fragment per frame (the frames that are there are kept)."""
    start = buffer.tell() if hasattr(buffer, "tell") else 0
    try:
        yield from generate_frames(
            buffer, number_of_frames=nframes, extended_offsets=extended_offsets
        )
    except ValueError as exc:
        if "fewer fragments than frames" not in str(exc):
            raise
        stream = buffer if hasattr(buffer, "seek") else io.BytesIO(buffer)
        stream.seek(start)
        parse_basic_offsets(stream)
        yield from generate_fragments(stream)


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------
