"""Objects sitegen refuses, images that may carry burned-in text, and pixel masking.

Header de-identification cannot remove text painted into the pixels.  ``burned_in_reason``
flags the images where that is likely so a human draws masks (``apply_mask``) or drops them.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

_SOP_ROOT = "1.2.840.10008.5.1.4.1.1."

# SOP classes that are documents, structured content or non-image objects.
_REFUSED_CLASSES: dict[str, str] = {
    _SOP_ROOT + "104.1": "encapsulated PDF (free-text document)",
    _SOP_ROOT + "104.2": "encapsulated CDA (free-text document)",
    _SOP_ROOT + "104.3": "encapsulated STL (3-D model, may be a face surface)",
    _SOP_ROOT + "104.4": "encapsulated OBJ (3-D model, may be a face surface)",
    _SOP_ROOT + "104.5": "encapsulated MTL (3-D model material)",
    _SOP_ROOT + "77.1.4": "VL photographic image (may show the face or other features)",
    _SOP_ROOT + "77.1.4.1": "video photographic image (may show the face or other features)",
}
_REFUSED_PREFIXES: tuple[tuple[str, str], ...] = (
    (_SOP_ROOT + "88.", "structured report (free text and names in the content tree)"),
    (_SOP_ROOT + "11.", "presentation state (graphic annotations carry free text)"),
    (_SOP_ROOT + "9.", "waveform (no image)"),
    (_SOP_ROOT + "66", "raw data / registration / segmentation object (no plain image)"),
    (_SOP_ROOT + "481.", "radiotherapy object (no plain image)"),
)
_REFUSED_MODALITIES: dict[str, str] = {
    "SR": "structured report",
    "DOC": "document",
    "KO": "key object selection",
    "PR": "presentation state",
    "RTSTRUCT": "radiotherapy structure set",
    "RTPLAN": "radiotherapy plan",
    "RTRECORD": "radiotherapy record",
    "REG": "registration",
    "FID": "fiducials",
}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

# Screenshot-like Secondary Capture family.
_SECONDARY_CAPTURE_CLASSES: frozenset[str] = frozenset(
    _SOP_ROOT + suffix for suffix in ("7", "7.1", "7.2", "7.3", "7.4")
)
_BURNED_IN_MODALITIES: dict[str, str] = {
    "US": "ultrasound images usually carry burned-in patient and site text",
    "SC": "secondary capture (screenshot-like)",
    "OT": "modality OT (other): often screenshots or scanned documents",
    "XC": "external camera photograph",
    "ES": "endoscopy video/photograph with overlaid text",
}


def _text(ds: Dataset, keyword: str) -> str:
    return str(ds.get(keyword, "") or "").strip().upper()


def refuse_reason(ds: Dataset) -> str | None:
    """Why sitegen will not publish this object at all, or None.  Never loads pixel data."""
    sop_class = str(ds.get("SOPClassUID", "") or "").strip()
    if sop_class in _REFUSED_CLASSES:
        return _REFUSED_CLASSES[sop_class]
    for prefix, reason in _REFUSED_PREFIXES:
        if sop_class.startswith(prefix):
            return reason
    modality = _text(ds, "Modality")
    if modality in _REFUSED_MODALITIES:
        return _REFUSED_MODALITIES[modality]
    if _text(ds, "RecognizableVisualFeatures") == "YES":
        return "RecognizableVisualFeatures is YES (the image may show the face)"
    if not any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        return "no pixel data (not an image)"
    return None


def burned_in_reason(ds: Dataset) -> str | None:
    """Why the pixels may contain identifying text (needs masking or review), or None."""
    if _text(ds, "BurnedInAnnotation") == "YES":
        return "BurnedInAnnotation is YES"
    modality = _text(ds, "Modality")
    if modality in _BURNED_IN_MODALITIES:
        return _BURNED_IN_MODALITIES[modality]
    sop_class = str(ds.get("SOPClassUID", "") or "").strip()
    if sop_class in _SECONDARY_CAPTURE_CLASSES:
        return "secondary capture image (screenshot-like)"
    if "ConversionType" in ds:
        return "secondary capture conversion (screenshot-like)"
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    if any("SCREEN" in v for v in image_type):
        return "ImageType says screen shot"
    return None


def _black(dtype: np.dtype, photometric: str) -> int | float:
    """The stored value that displays black for this photometric interpretation."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.max if photometric == "MONOCHROME1" else info.min
    info_f = np.finfo(dtype)
    return float(info_f.max) if photometric == "MONOCHROME1" else float(info_f.min)


def apply_mask(
    frame: np.ndarray, rects: list[tuple[int, int, int, int]], photometric: str
) -> np.ndarray:
    """Return a copy of ``frame`` with each (x, y, width, height) rectangle painted black.

    ``frame`` is (rows, columns) or (rows, columns, samples).  Rectangles are clipped to the
    image.  Black is the dtype minimum for MONOCHROME2 and colour (0 for unsigned data), the
    dtype maximum for MONOCHROME1; YBR colour gets Y=minimum and Cb=Cr=the mid value.
    PALETTE COLOR uses index 0, which is not necessarily black.
    """
    photometric = photometric.strip().upper()
    out = frame.copy()
    rows, columns = out.shape[0], out.shape[1]
    black = _black(out.dtype, photometric)
    ybr = photometric.startswith("YBR") and out.ndim == 3 and out.shape[2] >= 3
    for x, y, width, height in rects:
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(columns, int(x) + int(width)), min(rows, int(y) + int(height))
        if x0 >= x1 or y0 >= y1:
            continue
        if ybr:
            out[y0:y1, x0:x1, 0] = black
            mid = (
                (int(np.iinfo(out.dtype).max) + 1) // 2
                if np.issubdtype(out.dtype, np.unsignedinteger)
                else 0
            )
            out[y0:y1, x0:x1, 1:3] = mid
        else:
            out[y0:y1, x0:x1, ...] = black
    return out
