"""Small images drawn from published frames: series thumbnails.

Runs in the parent after the workers: it decodes one frame per series back from the
published frame file, so it sees exactly what a viewer will.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .attrs import nested, number
from .faults import contained
from .layout import PixelLayout
from .model import Series, Study, frame_path, series_dir


def layout_from_metadata(meta: dict[str, Any]) -> PixelLayout:
    """The published frames' layout, read back from the instance's DICOM JSON."""

    def num(tag: str, default: int = 0) -> int:
        value = number(meta, tag)
        return int(value) if value is not None else default

    return PixelLayout(
        rows=num("00280010"),
        columns=num("00280011"),
        samples_per_pixel=num("00280002", 1),
        bits_allocated=num("00280100", 8),
        bits_stored=num("00280101", 8),
        high_bit=num("00280102", 7),
        pixel_representation=num("00280103"),
        photometric=str((nested(meta, "00280004") or ["MONOCHROME2"])[0]),
        planar_configuration=num("00280006"),
    )


def window_of(meta: dict[str, Any]) -> tuple[float, float] | None:
    center, width = number(meta, "00281050"), number(meta, "00281051")
    return (center, width) if center is not None and width else None


def rescale_of(meta: dict[str, Any]) -> tuple[float, float]:
    slope = number(meta, "00281053", 1.0) or 1.0
    intercept = number(meta, "00281052", 0.0) or 0.0
    return slope, intercept


def middle_frame(series: Series) -> tuple[Any, int]:
    """The instance and frame number (1-based) in the middle of the series' display order."""
    frames = [(inst, n) for inst in series.instances for n in range(1, inst.frames + 1)]
    return frames[len(frames) // 2]


def write_thumbnails(studies: list[Study], out: Path, cache: Any = None) -> list[str]:
    """series/<R>/thumbnail for every series; with a BuildCache, a thumbnail whose frame file
    and metadata did not change is reused instead of decoded and drawn again. Returns
    warnings: a thumbnail that cannot be drawn is left out, naming its input file."""
    warnings: list[str] = []
    for study in studies:
        for series in study.series:
            inst, n = middle_frame(series)
            with contained(warnings, inst.source, f"the thumbnail of series {series.uid}"):
                _thumbnail(study, series, inst, n, out, cache)
    return warnings


def _thumbnail(study: Study, series: Series, inst: Any, n: int, out: Path, cache: Any) -> None:
    """One series' thumbnail, from the cache or drawn from its middle frame."""
    frame_file = out / frame_path(study.uid, series.uid, inst.sop_uid, n)
    target = out / series_dir(study.uid, series.uid) / "thumbnail"
    key = None
    if cache is not None:
        key = cache.derived_key(f"thumbnail:{sorted(inst.metadata.items())!r}", [frame_file])
        if cache.get_derived(key, target):
            return
    from . import codestreams  # here: a rebuild whose thumbnails are cached decodes nothing

    layout = layout_from_metadata(inst.metadata)
    data = frame_file.read_bytes()
    frame = codestreams.decode_frame(data, inst.transfer_syntax, layout)
    slope, intercept = rescale_of(inst.metadata)
    jpeg = codestreams.thumbnail_jpeg(
        frame, layout, slope=slope, intercept=intercept, window=window_of(inst.metadata)
    )
    target.write_bytes(jpeg)
    if key is not None:
        cache.put_derived(key, target)
