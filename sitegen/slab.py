"""Thicker slabs: N consecutive slices averaged into one (`stack = { slab = N }`).

A 0.6 mm CT of 600 slices is noisy slice by slice and heavy for a host; radiologists read
such studies as thicker slabs. reduce.plan_stacks groups each series' slices in display
order, N at a time; the first of each group (the lead) is published with the mean of the
group's pixels, in modality values (Rescale Slope and Intercept of each slice), stored back
with the lead's rescale. The published instance says what it is: ImageType DERIVED, a
DerivationDescription, SliceThickness and the position of the slab's centre.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from . import pixels


def _rescale(ds: Dataset) -> tuple[float, float]:
    return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)


def average(lead: np.ndarray, ds: Dataset, members: list[Dataset]) -> np.ndarray | str:
    """`lead` (the lead's first frame, as stored) averaged with each member's first frame;
    or why not (a member of another size or kind, or without a decodable frame)."""
    slope, intercept = _rescale(ds)
    total = lead.astype(np.float64) * slope + intercept
    for member in members:
        if pixels.output_layout(member).shape != pixels.output_layout(ds).shape:
            return "its slices differ in size or kind"
        _, frame, reason = next(pixels.iter_frames(member), (0, None, "no frame"))
        if frame is None:
            return f"a slice has no decodable frame ({reason})"
        m_slope, m_intercept = _rescale(member)
        total += frame.astype(np.float64) * m_slope + m_intercept
    mean = total / (1 + len(members))
    stored = np.rint((mean - intercept) / slope)
    info = np.iinfo(lead.dtype) if lead.dtype.kind in "iu" else None
    if info is not None:
        bits = int(ds.get("BitsStored", info.bits))
        low = -(1 << (bits - 1)) if lead.dtype.kind == "i" else 0
        high = (1 << (bits - 1)) - 1 if lead.dtype.kind == "i" else (1 << bits) - 1
        stored = np.clip(stored, max(low, info.min), min(high, info.max))
    return stored.astype(lead.dtype)


def flag(ds: Dataset, members: list[Dataset]) -> None:
    """Make the lead's dataset describe the slab: derived, its thickness, its centre."""
    n = 1 + len(members)
    image_type = list(ds.get("ImageType", []) or ["DERIVED", "SECONDARY"])
    image_type[0] = "DERIVED"
    ds.ImageType = image_type
    thickness = float(ds.get("SliceThickness", 0) or 0)
    positions = [ds.get("ImagePositionPatient")] + [m.get("ImagePositionPatient") for m in members]
    if all(p is not None and len(p) == 3 for p in positions):
        centre = np.mean([[float(v) for v in p] for p in positions], axis=0)
        ds.ImagePositionPatient = [f"{v:.6g}" for v in centre]
        first, last = np.asarray(positions[0], float), np.asarray(positions[-1], float)
        spacing = float(np.linalg.norm(last - first)) / max(n - 1, 1)
        thickness = max(thickness, spacing * n) if n > 1 else thickness
    if "SliceLocation" in ds:
        locations = [float(x.get("SliceLocation", ds.SliceLocation)) for x in [ds, *members]]
        ds.SliceLocation = f"{float(np.mean(locations)):.6g}"
    if thickness:
        ds.SliceThickness = f"{thickness:.6g}"
    ds.DerivationDescription = f"mean of {n} consecutive slices of the acquired series (sitegen)"
