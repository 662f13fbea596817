"""Does the build stay flat as a site grows?

    python bench/scale.py [--cases 200] [--per-case 100] [--baseline 10] [--size 64]
                          [--workers N] [--keep DIR]

Writes a site of 200 cases of 100 small CT instances each (20,000 instances, 64x64 int16,
each case its own patient and study), and a baseline site of the first 10 of those cases
(1,000 instances). In one run it builds both clean and prints, per site: seconds, seconds per
instance, the parent process's peak RSS; and for the big site, as whole processes: a no-op
`sitegen build -q` (best of 3, after one untimed run that leaves the quick check's record, as
a user's second build does) and a rebuild after one case's title is edited.

Goals (#17): per-instance cost at 20,000 within 1.2x of that at 1,000; parent peak RSS under
500 MB; no-op under 1 s.

Each build runs in its own process (`python -c`, the build through the Python API), so the
peak RSS it reports (getrusage of that process) is the parent's alone: the workers are
processes of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sitegen.sources.sample import sample_instance  # noqa: E402

# Run in a child process: one build, then its own peak RSS (KiB on Linux) as JSON.
BUILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from sitegen.build import build
from sitegen.config import load_config
t0 = time.perf_counter()
report = build(load_config({config!r}), workers={workers}, clean={clean})
print(json.dumps({{
    "seconds": time.perf_counter() - t0,
    "instances": report.instances,
    "errors": report.errors[:3],
    "stages": report.seconds,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


def write_case(folder: Path, n: int, count: int, size: int) -> None:
    """Case n: one series of `count` small CT slices, a patient and study of its own."""
    if folder.is_dir() and len(list(folder.iterdir())) == count:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    template = sample_instance("chest-ct", 60)
    full = template.pixel_array
    step = full.shape[0] // size
    study = generate_uid(entropy_srcs=[f"scale-bench:{n}:study"])  # joined: keep separators
    series = generate_uid(entropy_srcs=[f"scale-bench:{n}:series"])
    for i in range(count):
        ds = pydicom.Dataset(template)
        ds.file_meta = pydicom.Dataset(template.file_meta)
        ds.PatientName = f"Scale^Patient{n:04d}"
        ds.PatientID = f"SCALE-{n:05d}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[f"scale-bench:{n}:{i}"])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [*template.ImagePositionPatient[:2], -float(i)]
        ds.SliceLocation = -float(i)
        pixels = np.roll(full[::step, ::step][:size, :size], i, axis=0)
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelSpacing = [float(template.PixelSpacing[0]) * step] * 2
        ds.PixelData = np.ascontiguousarray(pixels, dtype=full.dtype).tobytes()
        ds.save_as(folder / f"IM{i + 1:05d}.dcm", enforce_file_format=True)


def site_toml(cases: int, edited: int | None = None) -> str:
    text = '[site]\ntitle = "scale benchmark"\n\n'
    for n in range(cases):
        title = f"Case {n}" + (" (edited)" if n == edited else "")
        text += f'[[cases]]\nslug = "case-{n:04d}"\ntitle = "{title}"\nsource = "cases/{n:04d}"\n\n'
    return text


def run_build(config: Path, workers: int, clean: bool) -> dict:
    code = BUILD.format(repo=str(REPO), config=str(config), workers=workers, clean=clean)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"{config}: the build failed: {result['errors']}")
    return result


def process_seconds(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - t0


def make_site(root: Path, cases: int, per_case: int, size: int, data: Path) -> Path:
    """A site of the first `cases` cases, its case folders linked to the shared data."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cases").mkdir(exist_ok=True)
    for n in range(cases):
        write_case(data / f"{n:04d}", n, per_case, size)
        link = root / "cases" / f"{n:04d}"
        if not link.exists():
            link.symlink_to(data / f"{n:04d}", target_is_directory=True)
    config = root / "site.toml"
    config.write_text(site_toml(cases))
    for leftover in (root / ".sitegen", root / "public"):
        shutil.rmtree(leftover, ignore_errors=True)
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--per-case", type=int, default=100, help="instances per case (100)")
    parser.add_argument("--baseline", type=int, default=10, help="cases of the baseline (10)")
    parser.add_argument("--size", type=int, default=64, help="rows and columns (64)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (inputs reused)")
    args = parser.parse_args(argv)
    root = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="sitegen-scale-"))
    try:
        t0 = time.perf_counter()
        small = make_site(root / "small", args.baseline, args.per_case, args.size, root / "data")
        big = make_site(root / "big", args.cases, args.per_case, args.size, root / "data")
        print(f"inputs: {time.perf_counter() - t0:.1f} s to prepare, in {root}")
        rows = []
        for name, config in (("baseline", small), ("site", big)):
            result = run_build(config, args.workers, clean=True)
            rows.append((name, result))
            per = 1000 * result["seconds"] / result["instances"]
            print(
                f"  {name:<9} {result['instances']:>6} instances  {result['seconds']:7.1f} s  "
                f"{per:6.2f} ms/instance  parent peak RSS {result['rss_mb']:6.0f} MB"
            )
            stages = ", ".join(f"{k} {v:.1f}" for k, v in result["stages"].items())
            print(f"            stages (s): {stages}")
        entry = f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        entry += "from sitegen._entry import main; main()"
        sitegen = [sys.executable, "-c", entry, "build", "-q", "--config", str(big)]
        process_seconds(sitegen)  # the command line's no-op leaves the quick check's record
        noop = min(process_seconds(sitegen) for _ in range(3))
        big.write_text(site_toml(args.cases, edited=0))
        edit = process_seconds(sitegen)
        (base, b), (_, s) = rows
        ratio = (s["seconds"] / s["instances"]) / (b["seconds"] / b["instances"])
        print("\nresults (each measurement run once):")
        print(
            f"  per-instance cost, site / baseline  {ratio:5.2f}x  goal <= 1.2 "
            + ("OK" if ratio <= 1.2 else "MISSED")
        )
        print(
            f"  parent peak RSS                   {s['rss_mb']:5.0f} MB  goal < 500 "
            + ("OK" if s["rss_mb"] < 500 else "MISSED")
        )
        print(
            f"  no-op sitegen build (process)     {noop:5.2f} s   goal < 1 "
            + ("OK" if noop < 1 else "MISSED")
        )
        print(f"  one case's title edited (process) {edit:5.2f} s")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
