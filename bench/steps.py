"""Where a worker's time goes: a per-step CPU profile of `transcode.run`, against the floor's.

Used by bench/build.py. The steps are timed by wrapping the functions a worker calls (CPU
seconds of this process, `time.process_time`), over the same files the build reads, in one
process: what one worker does for each instance. A step that calls another (the Part 10
writer reads frames back) is counted without the inner one, so the steps add up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydicom

from sitegen import burned_in, codestreams, headers, pixels, transcode
from sitegen.cache_entries import job_fingerprint
from sitegen.config import load_config
from sitegen.deid import Deidentifier
from sitegen.deid._canary import one_per_value
from sitegen.jobs import CacheTarget, FrameCodec
from sitegen.pipeline import make_deidentifier, plan
from sitegen.report import BuildReport
from sitegen.treesweep import TreeSweep

# (module, attribute, step): what each wrapped function counts as
STEPS: list[tuple[Any, str, str]] = [
    (transcode, "_open", "read"),  # and, for the cache, the sha256 of its bytes
    (Deidentifier, "deidentify", "de-identify"),
    (transcode, "codestream_canaries", "canaries of the codestream"),
    (burned_in, "refusal", "burned-in checks"),
    (burned_in, "text_in_pixels", "OCR of the first frame (1 in 16)"),
    (codestreams, "encode_frame", "encode"),
    (codestreams, "decode_frame", "verify (decode again, 1 in 8)"),
    (transcode, "_write", "write the frame file"),
    (headers, "published_metadata", "DICOM JSON"),
    (transcode, "write_part10", "Part 10 file"),
    (transcode, "write_entry", "build-cache entry"),
]
DECODE = "decode"


class Clock:
    """CPU seconds per step; nested steps are counted once, in the innermost."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._open: list[float] = []  # the CPU time each running step has spent in inner ones

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.process_time()
        self._open.append(0.0)
        try:
            yield
        finally:
            spent = time.process_time() - t0
            inner = self._open.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + spent - inner
            if self._open:
                self._open[-1] += spent

    def wrap(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return fn(*args, **kwargs)

        return timed

    def wrap_frames(self, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        """A generator's steps are its `next()` calls (one decoded frame each)."""

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            frames = fn(*args, **kwargs)
            while True:
                with self.step(DECODE):
                    item = next(frames, None)
                if item is None:
                    return
                yield item

        return timed


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in STEPS]
    saved.append((pixels, "iter_frames", pixels.iter_frames))
    try:
        for owner, attr, name in STEPS:
            setattr(owner, attr, clock.wrap(getattr(owner, attr), name))
        pixels.iter_frames = clock.wrap_frames(pixels.iter_frames)
        yield
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)


def worker_steps(site_toml: Path, out: Path, limit: int = 60) -> tuple[int, dict[str, float]]:
    """(instances, CPU seconds per step) of `transcode.run` and the screen of its files for
    the first `limit` inputs of the site, in this process."""
    site = load_config(site_toml)
    deid = make_deidentifier(site, out) if site.deid.enabled else None
    jobs = plan(site, out, deid, BuildReport())[:limit]
    clock = Clock()
    canaries = []
    outcomes = []
    with instrumented(clock):
        for item, job in jobs:
            target = CacheTarget(str(out / ".entries"), job_fingerprint(job), None)
            with clock.step("other (the worker's own code)"):
                outcome = transcode.run(item, job, target)
            outcomes.append(outcome)
            canaries += outcome.canaries
    sweep = TreeSweep(one_per_value(canaries), trust_verbatim=True)
    sweep.sweeper()  # built once per worker process: not a per-instance cost
    for outcome in outcomes:
        with clock.step("screen (sweep of its files)"):
            sweep.instance([f for f in outcome.files if (out / f).is_file()], out)
    return len(jobs), clock.seconds


def floor_steps(paths: list[Path], out: Path, codec: FrameCodec) -> tuple[float, dict[str, float]]:
    """The floor's task in the same process and clock: read, decode, encode, write once."""
    clock = Clock()
    for path in paths:
        with clock.step("read"):
            ds = pydicom.dcmread(path)
            layout = pixels.output_layout(ds)
        frames = pixels.iter_frames(ds)
        while True:
            with clock.step(DECODE):
                item = next(frames, None)
            if item is None:
                break
            index, frame, _ = item
            with clock.step("encode"):
                data = codestreams.encode_frame(frame, layout, codec)[0]
            with clock.step("write the frame file"):
                target = out / path.stem / str(index + 1)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    return sum(clock.seconds.values()), clock.seconds


def print_steps(
    instances: int, build: dict[str, float], floor: dict[str, float], floor_n: int
) -> None:
    """Per instance, in ms: the worker's steps beside the floor's."""
    total = sum(build.values())
    floor_total = sum(floor.values())
    print(f"\none worker, CPU ms per instance ({instances} instances, the floor's {floor_n}):")
    print(f"  {'step':<36}{'build':>8}{'floor':>8}{'of build':>10}")
    for name, seconds in sorted(build.items(), key=lambda kv: -kv[1]):
        ms = 1000 * seconds / instances
        base = floor.get(name)
        base_text = f"{1000 * base / floor_n:8.2f}" if base is not None else f"{'':8}"
        print(f"  {name:<36}{ms:8.2f}{base_text}{100 * seconds / total:9.1f}%")
    print(
        f"  {'all':<36}{1000 * total / instances:8.2f}{1000 * floor_total / floor_n:8.2f}"
        f"   worker / floor {total / instances / (floor_total / floor_n):.2f}"
    )
