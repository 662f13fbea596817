"""A case's burned-in text policy applied to one input: refused from its header, or read by
OCR in its first frame (one instance in 16 of a CT, MR, PET or NM stack) and masked or refused.
The text read is never printed: it is what must not be published."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset

from .deid import burned_in_reason, ocr, refuse_reason

if TYPE_CHECKING:
    from .transcode import Job, Outcome


def refusal(
    ds: Dataset, label: str, job: Job, masks: list[tuple[int, int, int, int]], series: int | None
) -> str | None:
    """Why this input must not be published under the case's burned-in policy, or None."""
    reason = refuse_reason(ds)
    if reason:
        return f"{label}: refused: {reason}"
    reason = burned_in_reason(ds)
    if reason and job.burned_in == "refuse":
        return (
            f"{label}: refused: {reason} "
            '(set burned_in = "mask" with masks, or "allow" if you have checked the pixels)'
        )
    if reason and job.burned_in == "mask" and not masks and not ocr.available()[0]:
        return f'{label}: refused: {reason}; burned_in = "mask" but no mask covers series {series}'
    return None


OCR_STACK_ONE_IN = 16
_STACK_MODALITIES = frozenset({"CT", "MR", "PT", "NM"})


def reads_text(ds: Dataset) -> bool:
    """Whether this instance's first frame goes through the text check."""
    if str(ds.get("Modality", "")).upper() not in _STACK_MODALITIES:
        return True
    return zlib.crc32(str(ds.get("SOPInstanceUID", "")).encode()) % OCR_STACK_ONE_IN == 0


def text_in_pixels(
    frame: np.ndarray, label: str, job: Job, header_says: bool, out: Outcome
) -> tuple[str | None, list[tuple[int, int, int, int]]]:
    """(a refusal, or None; the rectangles to mask) for text OCR reads in the pixels. The
    text itself is never printed: it is what must not be published."""
    usable, why = ocr.available()
    if not usable:
        out.notes.append(f"{label}: pixels not read for text: {why}")
        return None, []
    boxes = ocr.find_text(frame)
    if not boxes:
        if header_says and job.burned_in == "mask" and not job.masks:
            return (
                f"{label}: refused: the header says burned-in text and none was found to mask",
                [],
            )
        return None, []
    if job.burned_in == "mask":
        out.notes.append(f"{label}: text read in the pixels: {len(boxes)} words masked")
        return None, ocr.mask_rects(boxes)
    return (
        f"{label}: refused: text in the pixels ({len(boxes)} words read by OCR) "
        '(set burned_in = "mask" to black out what OCR reads, or "allow" if you have '
        "checked the pixels)"
    ), []
