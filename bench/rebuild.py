"""How much does a rebuild cost against a full build?

    python bench/rebuild.py [--cases 20] [--slices 40] [--workers N] [--keep DIR]

Writes 20 cases of mixed phantoms (CT series of 512x512 slices from the chest phantom, and
32-frame enhanced MR instances from the head phantom, each case its own study), then in one run
measures: a full clean build; a no-op rebuild; a rebuild after editing one case's text; a
rebuild after adding one series to one case. Prints the times and their ratio to the full
build. Goals: no-op <= 3 %, text edit <= 5 %. Then whole processes, as a user runs them
(median of 5, against a bare interpreter's start in the same run): `sitegen --version` and
a no-op `sitegen build -q`, and a one-case text edit (`sitegen build -q`, median of 3).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydicom.uid import generate_uid

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sitegen.build import BuildReport, build  # noqa: E402
from sitegen.config import load_config  # noqa: E402
from sitegen.sources.sample import sample_instance  # noqa: E402


def write_case(folder: Path, n: int, slices: int, series: int = 1) -> None:
    """Case n: a CT series (even n) or an enhanced MR instance (odd n), its own study."""
    study = generate_uid(entropy_srcs=["rebuild-bench", str(n)])
    series_uid = generate_uid(entropy_srcs=["rebuild-bench", str(n), str(series)])
    folder.mkdir(parents=True, exist_ok=True)
    count = slices if n % 2 == 0 else 1
    for i in range(count):
        ds = sample_instance("chest-ct" if n % 2 == 0 else "head-mr", i % 120)
        ds.PatientID = f"BENCH-{n:03d}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series_uid
        ds.SeriesNumber = series
        ds.SOPInstanceUID = generate_uid(
            entropy_srcs=["rebuild-bench", str(n), str(series), str(i)]
        )
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(folder / f"S{series}-{i + 1:04d}.dcm", enforce_file_format=True)


def site_toml(cases: int, history: str = "Phantom case.") -> str:
    text = '[site]\ntitle = "rebuild benchmark"\n\n'
    for n in range(cases):
        text += (
            f'[[cases]]\nslug = "case-{n:02d}"\ntitle = "Case {n}"\nsource = "cases/{n:02d}"\n'
            f'history = "{history if n == 0 else "Phantom case."}"\n\n'
        )
    return text


def timed(config: Path, workers: int, clean: bool = False) -> tuple[float, BuildReport]:
    t0 = time.perf_counter()
    report = build(load_config(config), workers=workers, clean=clean)
    return time.perf_counter() - t0, report


# as installed from a wheel (pip compiles the bytecode): a PYTHONDONTWRITEBYTECODE of the
# machine would make every process compile sitegen's source again
PROCESS_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def process_seconds(command: list[str], runs: int = 5) -> float:
    """Median wall seconds of a whole process."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=PROCESS_ENV)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--slices", type=int, default=40, help="slices per CT case (40)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-rebuild-"))
    try:
        shutil.rmtree(root / "cases", ignore_errors=True)
        shutil.rmtree(root / ".sitegen", ignore_errors=True)
        for n in range(args.cases):
            write_case(root / f"cases/{n:02d}", n, args.slices)
        config = root / "site.toml"
        config.write_text(site_toml(args.cases))
        rows = []
        full, report = timed(config, args.workers, clean=True)
        rows.append(("full build (clean)", full, report))
        rows.append(("no-op rebuild", *timed(config, args.workers)))
        config.write_text(site_toml(args.cases, history="Edited history."))
        rows.append(("one case's text edited", *timed(config, args.workers)))
        write_case(root / "cases/02", 2, args.slices, series=2)
        rows.append(("one series added", *timed(config, args.workers)))
        print(
            f"{args.cases} cases, {report.instances} instances, {report.frames} frames, "
            f"{report.bytes_in / 1e6:.0f} MB in; {args.workers} workers"
        )
        print(f"{'':28}{'seconds':>9}{'of full':>9}{'cached':>8}{'changed files':>15}")
        for name, seconds, r in rows:
            diff = len(r.added) + len(r.changed) + len(r.removed)
            share = f"{100 * seconds / full:.1f}%"
            print(f"{name:28}{seconds:9.2f}{share:>9}{r.cached:8}{diff:15}")
        noop, edit = rows[1][1] / full, rows[2][1] / full
        print(f"goals: no-op <= 3% ({100 * noop:.1f}%), text edit <= 5% ({100 * edit:.1f}%)")
        bare = process_seconds([sys.executable, "-c", "pass"])
        command = [sys.executable, "-c", "from sitegen._entry import main; main()"]
        process_seconds([*command, "build", "-q", "--config", str(config)], 1)  # bytecode
        version = process_seconds([*command, "--version"])
        noop_process = process_seconds([*command, "build", "-q", "--config", str(config)], 3)
        edits = []
        for n in range(3):  # each run a new text: a whole-process one-case text edit
            config.write_text(site_toml(args.cases, history=f"Edited again ({n})."))
            edits.append(process_seconds([*command, "build", "-q", "--config", str(config)], 1))
        edit_process = statistics.median(edits)
        print(f"whole processes (bare interpreter {bare:.2f} s):")
        print(f"  sitegen --version   {version:.2f} s  goal < 0.15 s (+{version - bare:.2f} s)")
        print(f"  no-op sitegen build {noop_process:.2f} s  goal < 0.3 s")
        print(f"  one case's text     {edit_process:.2f} s  goal < 0.5 s")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
