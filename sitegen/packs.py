"""The packed frame layout (`[build] pack = N`): a series' frames in a few files of at most
N MiB, for hosts that count files (Surge ~4,500, Cloudflare Pages 20,000).

A CT slice is one frame file of the DICOMweb tree; packed, a series of 300 slices is a
handful of files `<series>/packs/<k>`, each its frames' codestreams back to back. The
viewer's manifest gives each frame its pack, offset and size (`plan`, a pure function of the
frame sizes, so the manifest is written before the packs are); the viewer fetches a pack
once and cuts its frames out. No host needs Range requests (Cloudflare Pages ignores them).

What it costs: the DICOMweb tree has no frame files, so OHIF's DICOMweb source (its study
list) finds no pixels; OHIF opens the case links over DICOM JSON and the Part 10 files.
The packs are new files, swept whole by the build's final sweep (a value split across two
slices' frames is whole in their pack).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .model import Instance, Series, Study, frame_path, pack_path

MIB = 1024 * 1024


@dataclass(frozen=True)
class Place:
    """Where one frame is: its pack file (relative to the site root), offset and size."""

    pack: str
    offset: int
    size: int


def frames_in_order(series: Series) -> Iterator[tuple[Instance, int]]:
    """(instance, frame number) in the order of the series' manifest."""
    for inst in series.instances:
        for n in range(1, inst.frames + 1):
            yield inst, n


def plan(study: Study, series: Series, mib: int) -> list[Place]:
    """Each frame's place: frames fill a pack in order until the next would pass `mib` MiB
    (a larger frame has a pack of its own)."""
    limit = mib * MIB
    places: list[Place] = []
    number, used = 0, limit
    for inst, n in frames_in_order(series):
        size = inst.frame_sizes[n - 1]
        if used and used + size > limit:
            number, used = number + 1, 0
        places.append(Place(pack_path(study.uid, series.uid, number), used, size))
        used += size
    return places


def write_packs(studies: list[Study], out: Path, mib: int) -> int:
    """Write every series' packs under `out` from its frame files, then remove the frame
    files (and the folders they leave empty); returns how many pack files were written.
    A frame file whose size is not the one planned is an error: the manifest would cut the
    pack at the wrong offsets."""
    written = 0
    for study in studies:
        for series in study.series:
            places = plan(study, series, mib)
            sources = [
                out / frame_path(study.uid, series.uid, inst.sop_uid, n)
                for inst, n in frames_in_order(series)
            ]
            parts: dict[str, list[tuple[Path, int]]] = {}
            for place, source in zip(places, sources, strict=True):
                parts.setdefault(place.pack, []).append((source, place.size))
            for pack, members in parts.items():
                target = out / pack
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as handle:
                    for source, size in members:
                        data = source.read_bytes()
                        if len(data) != size:
                            raise ValueError(
                                f"{source}: {len(data)} bytes, the manifest says {size}"
                            )
                        handle.write(data)
                written += 1
            for source in sources:
                source.unlink()
            for inst in series.instances:
                folder = out / frame_path(study.uid, series.uid, inst.sop_uid, 1)
                shutil.rmtree(folder.parent, ignore_errors=True)  # .../frames/
                _remove_if_empty(folder.parent.parent)  # .../instances/<sop>/
    return written


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # it holds more (the instance's metadata), or is gone
        pass
