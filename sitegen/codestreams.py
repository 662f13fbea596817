"""One frame in, one codestream out (and back): the transfer syntax a codec produces for a
layout, encoding and decoding a frame with imagecodecs, the header attributes that describe
the new pixel data, and thumbnails. See pixels.py for the conventions."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any

import imagecodecs
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .pixels import (
    _PALETTE_KEYWORDS,
    _TS_J2K,
    _TS_JPEGLS_NEAR,
    TS_EXPLICIT_LE,
    TS_HTJ2K,
    TS_HTJ2K_LOSSLESS,
    TS_HTJ2K_RPCL,
    TS_JPEG_BASELINE,
    TS_JPEGLS_LOSSLESS,
    FrameCodec,
    PixelLayout,
)


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
