"""Pixel data: decode any input frame, encode one compact codestream per frame, thumbnails.

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
* :func:`transfer_syntax_for` decides, from the layout alone, which transfer syntax a codec will
  produce, so every frame of an instance gets the same one:

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
import math
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import imagecodecs
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import (
    encapsulate,
    generate_fragments,
    generate_frames,
    parse_basic_offsets,
)
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, as_pixel_options, convert_color_space, get_decoder
from pydicom.uid import UID

TS_EXPLICIT_LE = "1.2.840.10008.1.2.1"
TS_HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
TS_HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
TS_HTJ2K = "1.2.840.10008.1.2.4.203"  # lossy
TS_JPEGLS_LOSSLESS = "1.2.840.10008.1.2.4.80"
TS_JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
_TS_DEFLATED = "1.2.840.10008.1.2.1.99"
_TS_J2K = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")
_TS_JPEGLS_NEAR = "1.2.840.10008.1.2.4.81"

_CODECS = ("htj2k", "jpegls", "raw")
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


@dataclass(frozen=True)
class FrameCodec:
    """How frames are published: ``htj2k`` | ``jpegls`` | ``raw``, optionally lossy (1..100),
    or lossy at the quality each instance needs to reach ``psnr`` dB (quality.choose)."""

    name: str = "htj2k"
    lossy: int | None = None
    psnr: float | None = None

    def __post_init__(self) -> None:
        if self.name not in _CODECS:
            raise ValueError(f"unknown frame codec {self.name!r}; expected one of {_CODECS}")
        if self.lossy is not None and not 1 <= int(self.lossy) <= 100:
            raise ValueError(f"lossy quality must be 1..100, got {self.lossy!r}")


@dataclass(frozen=True)
class PixelLayout:
    """The frames exactly as encoded/published (not necessarily as stored in the input)."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric: str
    planar_configuration: int = 0

    def dtype(self) -> np.dtype:
        """Native-endian numpy dtype of one sample."""
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"{kind}{max(1, self.bits_allocated // 8)}")

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape of one frame: (rows, columns) or (rows, columns, samples)."""
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)


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


def transfer_syntax_for(layout: PixelLayout, codec: FrameCodec) -> str:
    """The transfer syntax :func:`encode_frame` produces for this layout (same for every frame)."""
    if layout.bits_allocated > 16:
        return TS_EXPLICIT_LE
    if codec.lossy is not None:
        if layout.samples_per_pixel == 3 and layout.bits_allocated == 8:
            return TS_JPEG_BASELINE
        return TS_HTJ2K
    if codec.name == "htj2k":
        return TS_HTJ2K_LOSSLESS
    if codec.name == "jpegls":
        return TS_JPEGLS_LOSSLESS
    return TS_EXPLICIT_LE


def _htj2k_qstep(quality: int, layout: PixelLayout) -> float:
    """Map quality 1..100 to an OpenJPH quantisation step.

    The step is chosen in units of the least significant bit (so a quality means the same
    absolute error whatever Bits Stored declares): 2 ** ((100 - q) / 12.5) LSB, i.e. q=100 -> 1,
    q=90 -> 1.7, q=75 -> 4, q=50 -> 16, q=25 -> 64. OpenJPH expects it relative to the
    codestream's full range, which is the dtype (2 ** bits_allocated).
    Measured on bundled test data, q=50 gives 8:1 (CT) to 40:1 (MR) with RMS error ~ 5-12 LSB.
    """
    q = min(max(int(quality), 1), 100)
    step_lsb = 2.0 ** ((100 - q) / 12.5)
    return step_lsb / 2.0**layout.bits_allocated


def encode_frame(arr: np.ndarray, layout: PixelLayout, codec: FrameCodec) -> tuple[bytes, str]:
    """Encode one frame as a single codestream; returns ``(bytes, transfer syntax uid)``."""
    ts = transfer_syntax_for(layout, codec)
    arr = np.ascontiguousarray(arr, dtype=layout.dtype())
    if arr.shape != layout.shape:
        raise ValueError(f"frame shape {arr.shape} does not match layout {layout.shape}")
    if ts == TS_EXPLICIT_LE:
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        return (data + b"\x00" if len(data) % 2 else data), ts
    if ts == TS_HTJ2K_LOSSLESS:
        return bytes(imagecodecs.htj2k_encode(arr, reversible=True)), ts
    if ts == TS_HTJ2K:
        assert codec.lossy is not None
        step = _htj2k_qstep(codec.lossy, layout)
        return bytes(imagecodecs.htj2k_encode(arr, level=step, reversible=False)), ts
    if ts == TS_JPEG_BASELINE:
        data = imagecodecs.jpeg8_encode(
            arr,
            level=int(codec.lossy or 90),
            colorspace="RGB",
            outcolorspace="YCBCR",
            subsampling="422",
        )
        return bytes(data), ts
    if ts == TS_JPEGLS_LOSSLESS:
        # DICOM JPEG-LS carries signed samples as their unsigned bit pattern.
        unsigned = arr.view(arr.dtype.str.replace("i", "u")) if arr.dtype.kind == "i" else arr
        try:
            data = imagecodecs.jpegls_encode(unsigned, level=0)
        except Exception:  # incompressible input: CharLS's default output buffer is too small
            data = imagecodecs.jpegls_encode(unsigned, level=0, out=unsigned.nbytes * 2 + 4096)
        return bytes(data), ts
    raise AssertionError(ts)  # pragma: no cover


def decode_frame(data: bytes, transfer_syntax: str, layout: PixelLayout) -> np.ndarray:
    """Inverse of :func:`encode_frame` (used to verify published frames)."""
    want = layout.dtype()
    ts = str(transfer_syntax)
    if ts == TS_EXPLICIT_LE:
        count = math.prod(layout.shape)
        flat = np.frombuffer(data, dtype=want.newbyteorder("<"), count=count)
        return flat.reshape(layout.shape).astype(want)
    if ts in (TS_HTJ2K_LOSSLESS, TS_HTJ2K_RPCL):
        arr = imagecodecs.htj2k_decode(data)
    elif ts == TS_HTJ2K or ts in _TS_J2K:
        # OpenJPEG clamps irreversible reconstructions; OpenJPH's decoder wraps 255 -> 0.
        try:
            arr = imagecodecs.jpeg2k_decode(data)
        except Exception:
            arr = imagecodecs.htj2k_decode(data)
    elif ts in (TS_JPEGLS_LOSSLESS, _TS_JPEGLS_NEAR):
        arr = imagecodecs.jpegls_decode(data)
        if want.kind == "i" and arr.dtype.kind == "u" and arr.dtype.itemsize == want.itemsize:
            arr = arr.view(want)
    elif ts == TS_JPEG_BASELINE:
        arr = imagecodecs.jpeg8_decode(data, outcolorspace="RGB")
    else:
        raise ValueError(f"decode_frame does not handle transfer syntax {ts}")
    if layout.samples_per_pixel == 3 and arr.ndim == 3 and arr.shape[0] == 3 != arr.shape[-1]:
        arr = np.moveaxis(arr, 0, -1)
    arr = arr.reshape(layout.shape)
    return np.ascontiguousarray(arr.astype(want, copy=False))


def metadata_updates(
    layout: PixelLayout, codec: FrameCodec, ratio: float | None = None
) -> dict[str, object]:
    """Attributes that make the published dataset describe the encoded frames exactly.

    A value of ``None`` means "delete this attribute". Palette attributes are always listed for
    deletion when the output is colour (harmless if absent, required after PALETTE -> RGB).
    If the source was already lossy, the caller should keep its flag/append its methods.
    """
    ts = transfer_syntax_for(layout, codec)
    photometric = layout.photometric
    if layout.samples_per_pixel == 3:
        if ts == TS_HTJ2K_LOSSLESS:
            photometric = "YBR_RCT"  # OpenJPH applies the reversible colour transform
        elif ts == TS_HTJ2K:
            photometric = "YBR_ICT"
        elif ts == TS_JPEG_BASELINE:
            photometric = "YBR_FULL_422"
    out: dict[str, object] = {
        "PhotometricInterpretation": photometric,
        "SamplesPerPixel": layout.samples_per_pixel,
        "BitsAllocated": layout.bits_allocated,
        "BitsStored": layout.bits_stored,
        "HighBit": layout.high_bit,
        "PixelRepresentation": layout.pixel_representation,
    }
    if layout.samples_per_pixel == 3:
        out["PlanarConfiguration"] = 0
        for keyword in _PALETTE_KEYWORDS:
            out[keyword] = None
    if ts in (TS_HTJ2K, TS_JPEG_BASELINE):
        out["LossyImageCompression"] = "01"
        out["LossyImageCompressionMethod"] = "ISO_15444_15" if ts == TS_HTJ2K else "ISO_10918_1"
        if ratio is not None:
            out["LossyImageCompressionRatio"] = f"{ratio:.4g}"[:16]
    return out


# --------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------


def _first_float(value: Any) -> float | None:
    """First value of a possibly multi-valued DS/IS element, or None."""
    if isinstance(value, MultiValue | list | tuple):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _functional_items(ds: Dataset, sequence: str) -> Iterator[Dataset]:
    """Items of `sequence` from the shared, then the first per-frame, functional group."""
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(groups)
        if seq:
            inner = seq[0].get(sequence)
            if inner:
                yield inner[0]


def default_window(ds: Dataset) -> tuple[float, float] | None:
    """First (center, width) from the dataset or the enhanced functional groups, if any."""
    sources = [ds, *_functional_items(ds, "FrameVOILUTSequence")]
    for item in sources:
        center = _first_float(item.get("WindowCenter"))
        width = _first_float(item.get("WindowWidth"))
        if center is not None and width is not None and width > 0:
            return center, width
    return None


def rescale(ds: Dataset) -> tuple[float, float]:
    """(slope, intercept) from the dataset or the enhanced functional groups; (1, 0) if none."""
    sources = [ds, *_functional_items(ds, "PixelValueTransformationSequence")]
    for item in sources:
        slope = _first_float(item.get("RescaleSlope"))
        intercept = _first_float(item.get("RescaleIntercept"))
        if slope is not None or intercept is not None:
            return (slope if slope else 1.0), (intercept or 0.0)
    return 1.0, 0.0


def thumbnail_jpeg(
    arr: np.ndarray,
    layout: PixelLayout,
    *,
    slope: float = 1.0,
    intercept: float = 0.0,
    window: tuple[float, float] | None = None,
    max_side: int = 256,
    quality: int = 85,
) -> bytes:
    """8-bit JPEG preview: grayscale windowed on rescaled values, MONOCHROME1 inverted."""
    if layout.samples_per_pixel == 3:
        rgb = np.asarray(arr)
        if rgb.dtype != np.uint8:
            shift = max(int(layout.bits_stored) - 8, 0)
            rgb = np.clip(rgb.astype(np.int64) >> shift, 0, 255)
        img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    else:
        values = np.asarray(arr, dtype=np.float32) * np.float32(slope) + np.float32(intercept)
        if window is not None and window[1] > 0:
            center, width = float(window[0]), float(window[1])
            low, high = center - width / 2.0, center + width / 2.0
        else:
            sample = values[:: max(1, values.shape[0] // 512), :: max(1, values.shape[1] // 512)]
            low, high = (float(v) for v in np.percentile(sample, (1.0, 99.0)))
            if high <= low:
                low, high = float(sample.min()), float(sample.max())
        if high <= low:
            high = low + 1.0
        scaled = np.clip((values - low) * (255.0 / (high - low)), 0.0, 255.0)
        gray = np.rint(scaled).astype(np.uint8)
        if layout.photometric == "MONOCHROME1":
            gray = 255 - gray
        img = Image.fromarray(gray, "L")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
