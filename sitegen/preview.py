"""The preview tier: a light copy of every large grey frame, so the viewer can scroll a whole
stack at once while the full-fidelity frames stream in behind it.

A frame whose long side is over PREVIEW_SIDE pixels gets a preview: the frame averaged down
by a whole factor (512 -> 256), kept as 16-bit stored values (so windowing still works), and
encoded as lossy HTJ2K with a quantisation step of 1/STEPS of the frame's own value range
(its 1st to 99th percentile: a mask's black or a padding value does not count).
On the chest CT phantom a 512x512 slice is 234 KB lossless and its preview about 6.6 KB, so a
300-slice series' previews are about 2.0 MB: under a second at 20 Mbit/s.

The worker makes each frame's preview from the very pixels it publishes (after masks and
slabs: `preview_frame`); the tree phase packs a series' previews into a few chunk files of at
most CHUNK_BYTES (`plan`, a pure function of their sizes, so the manifest needs no file), and
the viewer fetches the chunk of the shown slice first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Series, Study, series_dir

if TYPE_CHECKING:
    import numpy as np

    from .layout import PixelLayout

PREVIEW_SIDE = 256
STEPS = 40  # quantisation steps over the frame's value range
CHUNK_BYTES = 256 * 1024  # 64 KB ones (39 files for 300 slices) made it scrollable 1 s later


def preview_shape(layout: PixelLayout) -> tuple[int, int] | None:
    """(rows, columns) of this layout's previews, or None: colour, over 16 bits, or small
    enough that the full frame is its own preview."""
    if layout.samples_per_pixel != 1 or layout.bits_allocated > 16:
        return None
    factor = math.ceil(max(layout.rows, layout.columns) / PREVIEW_SIDE)
    if factor < 2:
        return None
    return layout.rows // factor, layout.columns // factor


def preview_frame(frame: np.ndarray, layout: PixelLayout) -> bytes:
    """One frame's preview codestream (lossy HTJ2K, 16-bit, signed as the frame is)."""
    import imagecodecs
    import numpy as np

    shape = preview_shape(layout)
    assert shape is not None
    rows, columns = shape
    fy, fx = layout.rows // rows, layout.columns // columns
    total = np.zeros((rows, columns), dtype=np.int32)
    for y in range(fy):  # strided sums: 3x faster than a mean over a reshaped view
        for x in range(fx):
            total += frame[y : rows * fy : fy, x : columns * fx : fx]
    count = fy * fx
    small = ((total + count // 2) // count).astype(
        np.int16 if frame.dtype.kind == "i" else np.uint16
    )
    step = max(1.0, _span(small) / STEPS)
    return bytes(imagecodecs.htj2k_encode(small, level=step / 65536, reversible=False))


def _span(small: np.ndarray) -> float:
    """The range of the frame's values that matter: its 1st to 99th percentile, leaving out
    the dtype's own minimum and maximum (a mask's black, a padding value)."""
    import numpy as np

    info = np.iinfo(small.dtype)
    values = small[::2, ::2]  # a quarter of the values tells the range as well
    values = values[(values != info.min) & (values != info.max)]
    if not values.size:
        return 0.0
    lo, hi = np.percentile(values, [1, 99])
    return float(hi - lo)


def preview_path(study_uid: str, series_uid: str, number: int) -> str:
    """A series' preview chunk number `number` (from 1) below public/."""
    return f"{series_dir(study_uid, series_uid)}/preview/{number}"


@dataclass(frozen=True)
class Plan:
    """Where a series' previews are: their size, and each frame's (chunk, offset, bytes) in
    the order of the series' manifest."""

    rows: int
    columns: int
    chunks: list[str]
    frames: list[tuple[int, int, int]]


def plan(study: Study, series: Series) -> Plan | None:
    """The series' preview chunks, or None when a frame of it has no preview (small or colour
    frames, `[build] preview = false`, or a series mixing such instances)."""
    shapes = {inst.preview_shape for inst in series.instances}
    if len(shapes) != 1 or not all(len(i.preview) == i.frames for i in series.instances):
        return None
    (shape,) = shapes
    if shape is None:
        return None
    chunks: list[str] = []
    frames: list[tuple[int, int, int]] = []
    used = CHUNK_BYTES
    for inst in series.instances:
        for data in inst.preview:
            if used and used + len(data) > CHUNK_BYTES:
                chunks.append(preview_path(study.uid, series.uid, len(chunks) + 1))
                used = 0
            frames.append((len(chunks) - 1, used, len(data)))
            used += len(data)
    return Plan(shape[0], shape[1], chunks, frames)


def write_previews(studies: list[Study], out: Path) -> int:
    """Every series' preview chunks below `out`; returns how many files were written."""
    written = 0
    for study in studies:
        for series in study.series:
            where = plan(study, series)
            if where is None:
                continue
            data = [d for inst in series.instances for d in inst.preview]
            for number, chunk in enumerate(where.chunks):
                target = out / chunk
                target.parent.mkdir(parents=True, exist_ok=True)
                members = [d for d, f in zip(data, where.frames, strict=True) if f[0] == number]
                target.write_bytes(b"".join(members))
                written += 1
    return written
