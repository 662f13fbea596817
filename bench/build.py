"""How close does `sitegen build` come to the cost of just transcoding the pixels?

    python bench/build.py [--slices 300] [--workers N] [--keep DIR]

1. Writes a 512x512xN CT series (default N=300, 1 mm spacing) as uncompressed Part 10 files,
   built from the chest-CT phantom (slice i takes the pixels of phantom slice i % 120, with its
   own SOP Instance UID, Instance Number and position).
2. Floor: a process pool (same size and start method as the build) where each task reads one
   file, decodes its frame, encodes it as lossless HTJ2K and writes it once.
3. Build: `sitegen build` of a site with that folder as its one case (de-identification on,
   default options, htj2k frames), through the Python API, clean (no build cache): once with
   downloads (the default: a Part 10 file per instance and a case zip), once with
   `downloads = false`. Goals: build / floor <= 1.5 and <= 1.25.
4. Where the rest goes: a per-step CPU profile of one worker (bench/steps.py) over the first
   60 files, beside the floor's steps on the same files.

Both timings include starting the process pool. Before them, one untimed warm-up pass of the
floor task (one file per worker) starts the forkserver that both share and loads the page cache,
so neither measurement pays for that alone. Each measurement then runs once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

# Measure this checkout, wherever an editable install happens to point (the forkserver and its
# workers inherit sys.path).
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from steps import floor_steps, print_steps, worker_steps  # noqa: E402

import sitegen  # noqa: E402
from sitegen.build import BuildReport, build  # noqa: E402
from sitegen.codestreams import encode_frame  # noqa: E402
from sitegen.config import load_config  # noqa: E402
from sitegen.pixels import FrameCodec, iter_frames, output_layout  # noqa: E402
from sitegen.sources.sample import sample_instance, sample_size  # noqa: E402

# sitegen.pool.make_executor starts its pool with this method; the floor must match it.
START_METHOD = "forkserver"
SLICE_MM = 1.0
CODEC = FrameCodec("htj2k")
SITE_TOML = """\
[site]
title = "sitegen benchmark"

[build]
frames = "htj2k"

[[cases]]
slug = "bench-ct"
title = "Benchmark CT series"
source = "dicom"
"""


def write_series(folder: Path, slices: int) -> list[Path]:
    """Write the series into `folder` (reused if it holds exactly that series already).

    Phantom pixels repeat every 120 slices, but each file is a distinct instance of one series
    with a consistent geometry, and every frame is encoded on its own, so that does not matter."""
    files = [folder / f"IM{i + 1:05d}.dcm" for i in range(slices)]
    if folder.is_dir() and sorted(folder.iterdir()) == files:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    series_uid = generate_uid(entropy_srcs=["sitegen-bench", "series", str(slices)])
    for i, path in enumerate(files):
        ds = sample_instance("chest-ct", i % sample_size("chest-ct"))
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["sitegen-bench", str(slices), str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesInstanceUID = series_uid
        ds.SeriesDescription = f"Chest {SLICE_MM:g}mm benchmark"
        ds.InstanceNumber = i + 1
        z = -SLICE_MM * i
        ds.ImagePositionPatient = [*ds.ImagePositionPatient[:2], z]
        ds.SliceLocation = z
        ds.SliceThickness = SLICE_MM
        ds.save_as(path, enforce_file_format=True)  # Explicit VR Little Endian, as generated
    return files


def transcode_and_write(path: str, out: str) -> int:
    """The floor's task: read, decode, encode, write each frame once (as the frame file)."""
    ds = pydicom.dcmread(path)
    layout = output_layout(ds)
    size = 0
    folder = Path(out, Path(path).stem)
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame, reason in iter_frames(ds):
        if frame is None:
            raise RuntimeError(f"{path}: {reason}")
        data = encode_frame(frame, layout, CODEC)[0]
        (folder / str(index + 1)).write_bytes(data)
        size += len(data)
    return size


def run_floor(paths: Iterable[Path], workers: int, out: Path) -> tuple[float, int]:
    """Seconds (pool start-up and shutdown included) and total encoded bytes, the frames
    written below `out` (removed afterwards)."""
    t0 = time.perf_counter()
    args = [str(p) for p in paths]
    with ProcessPoolExecutor(workers, mp_context=get_context(START_METHOD)) as pool:
        total = sum(pool.map(transcode_and_write, args, [str(out)] * len(args)))
    seconds = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return seconds, total


def run_build(site_toml: Path, workers: int) -> tuple[float, BuildReport]:
    """Wall seconds of the whole build() call (config load excluded) and its report, for a
    site built for the first time (one kept from an earlier run, --keep, is reset)."""
    site = load_config(site_toml)
    out = site.out_path()
    # a first build: no output, no spare tree beside it, no build cache (a --clean build
    # would also replace the cache's entries, deleting the files of the run before)
    for leftover in [out, *out.parent.glob(f".{out.name}.sitegen-*"), site.root / ".sitegen"]:
        shutil.rmtree(leftover, ignore_errors=True)
    t0 = time.perf_counter()
    report = build(site, workers=workers)
    return time.perf_counter() - t0, report


def print_table(rows: list[tuple[str, str, str]]) -> None:
    """Three left-aligned columns: what, value, the goal or a note."""
    width = max(len(r[0]) for r in rows)
    for what, value, note in rows:
        print(f"  {what:<{width}}  {value:>10}  {note}".rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=300, help="slices in the series (300)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="pool size (all cores)"
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (series is reused)")
    args = parser.parse_args(argv)
    workers: int = args.workers

    root = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    cleanup: Callable[[], None] = (
        (lambda: None) if args.keep else (lambda: shutil.rmtree(root, ignore_errors=True))
    )
    try:
        t0 = time.perf_counter()
        paths = write_series(root / "dicom", args.slices)
        bytes_in = sum(p.stat().st_size for p in paths)
        (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
        no_downloads = root / "no-downloads.toml"
        no_downloads.write_text(
            SITE_TOML.replace('frames = "htj2k"', 'frames = "htj2k"\ndownloads = false'),
            encoding="utf-8",
        )
        print(
            f"input: {len(paths)} slices 512x512 int16 CT, {bytes_in / 1e6:.1f} MB uncompressed "
            f"in {root} ({time.perf_counter() - t0:.1f} s to prepare)"
        )
        print(f"sitegen {sitegen.__version__} from {Path(sitegen.__file__).parent}")
        print(f"workers: {workers} ({START_METHOD} process pool), CPUs: {os.cpu_count()}")

        print("warm-up: floor task on one file per worker (untimed) ...", flush=True)
        run_floor(paths[:workers], workers, root / "floor")
        print("floor: read + decode + HTJ2K encode + write each frame once ...", flush=True)
        floor_s, floor_bytes = run_floor(paths, workers, root / "floor")
        print("build: sitegen build (deid on, htj2k, downloads) ...", flush=True)
        build_s, report = run_build(root / "site.toml", workers)
        print("build: the same with downloads = false ...", flush=True)
        bare_s, bare = run_build(no_downloads, workers)
        print("one worker's steps (in this process) ...", flush=True)
        sample = paths[:60]
        n, steps_of_build = worker_steps(root / "site.toml", root / "steps", len(sample))
        _, steps_of_floor = floor_steps(sample, root / "steps-floor", CODEC)
    finally:
        cleanup()

    problems = report.errors + report.warnings
    if problems or report.frames != len(paths):
        print(f"build: {report.frames} frames, {len(problems)} problem(s): {problems[:3]}")
    mb = bytes_in / 1e6
    ratio, bare_ratio = build_s / floor_s, bare_s / floor_s
    sweep = report.seconds.get("sweep", 0.0) + report.seconds.get("screen", 0.0)
    print(f"\nresults ({len(paths)} frames, {mb:.1f} MB in, each measurement run once):")
    rows = [
        ("floor seconds", f"{floor_s:.2f}", f"{mb / floor_s:.1f} MB/s of input"),
        ("build seconds", f"{build_s:.2f}", f"{mb / build_s:.1f} MB/s of input"),
        ("build / floor", f"{ratio:.2f}", "goal <= 1.5 " + ("OK" if ratio <= 1.5 else "MISSED")),
        ("no downloads", f"{bare_s:.2f}", "seconds, [build] downloads = false"),
        (
            "  build / floor",
            f"{bare_ratio:.2f}",
            "goal <= 1.25 " + ("OK" if bare_ratio <= 1.25 else "MISSED"),
        ),
        (
            "output / input",
            f"{report.bytes_out / report.bytes_in:.3f}",
            f"frames {report.bytes_out / 1e6:.1f} MB of {report.bytes_in / 1e6:.1f} MB "
            f"(floor encoded {floor_bytes / 1e6:.1f} MB)",
        ),
    ]
    rows += [
        (f"  stage {name}", f"{seconds:.2f}", f"{100 * seconds / build_s:.1f}% of build")
        for name, seconds in report.seconds.items()
    ]
    rest = build_s - report.total_seconds
    rows.append(("  outside stages", f"{rest:.2f}", "lock, temp dir, file listing, cleanup"))
    share = sweep / build_s
    rows.append(
        (
            "privacy share",
            f"{100 * share:.1f}%",
            "screen + sweep of every output byte; goal < 10% "
            + ("OK" if share < 0.1 else "MISSED"),
        )
    )
    print_table(rows)
    print_steps(n, steps_of_build, steps_of_floor, len(sample))


if __name__ == "__main__":
    main()
