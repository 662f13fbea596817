"""Text painted into the pixels: found with OCR (Debian's tesseract-ocr via pytesseract).

Headers lie: an ultrasound relabelled DX with no BurnedInAnnotation still shows the name, MRN
and birth date it was printed with. So the pixels are read. A cheap prefilter first looks for
what printed text is made of (small, saturated, high-contrast strokes in rows); only frames
that pass it go to the OCR engine, so CT and MR stacks stay cheap.

Like pydicom's pixel backends, the engine's availability is recorded with a reason
(`available()`); without it no image is ever said to be free of text.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MIN_CONFIDENCE = 60  # tesseract's word confidence (0-100)
MIN_WORD = 3  # letters or digits in a word before it counts as text


@dataclass(frozen=True)
class TextBox:
    """A word found in the pixels: where (x, y, width, height) and its text."""

    rect: tuple[int, int, int, int]
    text: str
    confidence: float


@lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """(True, version) when pytesseract and the tesseract program can run, else the reason."""
    try:
        import pytesseract
    except ImportError:
        return False, "pytesseract is not installed (pip install pytesseract)"
    if shutil.which("tesseract") is None:
        return False, "the tesseract program is not installed (apt-get install tesseract-ocr)"
    try:
        return True, str(pytesseract.get_tesseract_version())
    except Exception as exc:  # noqa: BLE001 - any failure means: not available
        return False, f"tesseract does not run ({exc})"


def to_grey8(frame: np.ndarray) -> np.ndarray:
    """A frame as 8-bit grey over its own value range (colour: the brightest channel)."""
    data = frame.max(axis=2) if frame.ndim == 3 else frame
    data = data.astype(np.float32)
    lo, hi = float(data.min()), float(data.max())
    if hi <= lo:
        return np.zeros(data.shape, dtype=np.uint8)
    return ((data - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def may_hold_text(grey: np.ndarray) -> bool:
    """The prefilter: rows where bright pixels switch on and off often, as glyph strokes do.
    Anatomy is smooth at this scale; printed text is a run of short bright strokes."""
    if grey.size == 0:
        return False
    bright = grey >= 200
    if bright.mean() > 0.5 or not bright.any():
        return False
    edges = np.count_nonzero(np.diff(bright.astype(np.int8), axis=1) != 0, axis=1)
    # a line of text: many on/off switches in a row, in several neighbouring rows
    busy = edges >= 12
    if busy.sum() < 3:
        return False
    runs = np.convolve(busy.astype(np.int8), np.ones(3, dtype=np.int8), mode="valid")
    return bool((runs == 3).any())


def text_boxes(grey: np.ndarray) -> list[TextBox]:
    """Words the OCR engine reads in an 8-bit grey image (light text on dark, as scanners
    print it, and dark on light)."""
    import pytesseract
    from PIL import Image

    found: list[TextBox] = []
    scale = 2 if max(grey.shape) < 400 else 1  # tesseract reads small print better larger
    for image in (grey, 255 - grey):
        picture = Image.fromarray(image)
        if scale > 1:
            picture = picture.resize((picture.width * scale, picture.height * scale))
        data = pytesseract.image_to_data(picture, output_type=pytesseract.Output.DICT)
        for i, word in enumerate(data["text"]):
            text = word.strip()
            confidence = float(data["conf"][i])
            if confidence < MIN_CONFIDENCE or sum(c.isalnum() for c in text) < MIN_WORD:
                continue
            rect = tuple(int(data[k][i]) // scale for k in ("left", "top", "width", "height"))
            found.append(TextBox(rect, text, confidence))  # type: ignore[arg-type]
        if found:
            break
    return found


def find_text(frame: np.ndarray) -> list[TextBox]:
    """Text in a frame: [] when the prefilter sees none or the engine reads none."""
    grey = to_grey8(frame)
    if not may_hold_text(grey):
        return []
    return text_boxes(grey)


def mask_rects(boxes: list[TextBox], margin: int = 4) -> list[tuple[int, int, int, int]]:
    """The boxes to black out, each grown by `margin` pixels (anti-aliased glyph edges)."""
    return [
        (max(0, x - margin), max(0, y - margin), w + 2 * margin, h + 2 * margin)
        for (x, y, w, h) in (b.rect for b in boxes)
    ]
