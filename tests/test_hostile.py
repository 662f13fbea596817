"""Hostile input never crashes, hangs or blows up a build: every bad file is a warning that
names it, within a time and memory limit per file (corpus: tests/hostile.py)."""

from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from conftest import write_site
from hostile import hostile_dicomdir, hostile_zip, make_corpus

from sitegen import transcode
from sitegen.build import BuildReport, make_deidentifier, plan
from sitegen.config import load_config

SECONDS_PER_FILE = 20
MEMORY_PER_FILE = 3 * 1024**3  # address space, numpy and the codecs included
CASES = """
[[cases]]
slug = "corpus"
title = "Corpus"
source = "corpus"
burned_in = "allow"

[[cases]]
slug = "zip"
title = "Zip"
source = "hostile.zip"

[[cases]]
slug = "dicomdir"
title = "DICOMDIR"
source = "dd/DICOMDIR"
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("hostile")
    corpus = make_corpus(root / "corpus")
    hostile_zip(root / "hostile.zip")
    hostile_dicomdir(root / "dd")
    return write_site(root, CASES), len(corpus)


def _in_child(item, job) -> tuple[str, object]:  # noqa: ANN001
    """Run one input in a forked child with a time and an address-space limit: ("ok",
    (warnings, refused, fatal, published)), or ("killed", signal) / ("died", status)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read)
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_PER_FILE, MEMORY_PER_FILE))
            signal.alarm(SECONDS_PER_FILE)
            out = transcode.run(item, job)
            result = (out.warnings, out.refused, out.fatal, out.instance is not None)
            os.write(write, pickle.dumps(result))
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "killed", signal.Signals(os.WTERMSIG(status)).name
    if not data:
        return "died", status
    return "ok", pickle.loads(data)


def test_every_hostile_file_is_a_clear_warning_in_bounded_time_and_memory(
    hostile_site: tuple[Path, int], tmp_path: Path
) -> None:
    config, size = hostile_site
    assert size >= 300
    site = load_config(config)
    report = BuildReport(out_dir=str(tmp_path / "out"))
    deid = make_deidentifier(site, tmp_path / "out")
    jobs = plan(site, tmp_path / "out", deid, report)
    # what the scan passed over is named too, with a reason
    for label, reason in [w.split(": ", 1) for w in report.warnings]:
        assert label and reason
    skipped = "\n".join(report.warnings)
    for expected in (
        "corpus/special/a-fifo.dcm: not a regular file",
        "hostile.zip!../../escape.dcm: path traversal",
        "hostile.zip!bomb.dcm: compression ratio too high",
        "dd/DICOMDIR: a record names MISSING/FILE: no such file",
        "not a path inside its folder",
        "corpus/name/\\xff\\xfe-latin.dcm",
    ):
        assert expected in skipped or any(expected in i.label for i, _ in jobs), expected
    assert len(jobs) > 250
    problems = []
    published = 0
    started = time.monotonic()
    for item, job in jobs:
        t0 = time.monotonic()
        how, result = _in_child(item, job)
        took = time.monotonic() - t0
        if how != "ok":
            problems.append(f"{item.label}: {how} {result} after {took:.1f} s")
            continue
        warnings, refused, fatal, made = result  # type: ignore[misc]
        if fatal:
            problems.append(f"{item.label}: fatal {fatal}")
        said = [*warnings, *([refused] if refused else [])]
        if not made and not said:
            problems.append(f"{item.label}: left out without a word")
        for line in said:
            if not line.startswith(item.label + ": ") or "Traceback" in line:
                problems.append(f"{item.label}: unclear message {line[:120]!r}")
            if len(line) > 600:
                problems.append(f"{item.label}: a message of {len(line)} characters")
        published += made
    assert problems == []
    assert published >= 20  # the good files among them still publish
    assert time.monotonic() - started < 240


def test_a_whole_hostile_site_builds_without_a_traceback(
    hostile_site: tuple[Path, int],
) -> None:
    """The command itself, with its pool of workers: exit 0 (the good inputs publish), no
    traceback, bounded time and peak memory, and each kind of bad file named."""
    config, _ = hostile_site
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "-c", str(config), "-j", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    report = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    assert proc.returncode == 0, (report.get("errors"), proc.stderr[-3000:])
    assert report["cases"] == 3 and report["instances"] >= 20
    text = "\n".join(report["warnings"])
    for kind in ("not DICOM", "not a regular file", "unreadable DICOM", "cannot decode"):
        assert kind in text, kind
    assert "frames 2-1000000000" in text  # a lying Number of Frames: one line, good frames kept
    # what was published reads back: every Part 10 file and every DICOM JSON document
    out = config.parent / "public"
    parts = sorted(out.glob("dicom/**/*.dcm"))
    assert len(parts) == report["instances"]
    for path in parts:
        pydicom.dcmread(path)
    for path in out.glob("dicomweb/studies/**/metadata"):
        for instance in json.loads(path.read_bytes()):
            pydicom.Dataset.from_json(instance)
    if peak_kb > before:  # the largest child so far: this build or one of its workers
        assert peak_kb < 1_500_000, f"peak {peak_kb / 1024:.0f} MB"
