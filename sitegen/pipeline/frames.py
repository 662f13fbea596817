"""Phase 2, frames: every job's outcome (its de-identified instance, frame files, Part 10
file and canaries), from the build cache or made by the workers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import jobs
from ..deid import OnePerValue
from ..model import Instance, SharedElements
from ..pool import run_jobs
from .env import Env
from .read import Read
from .reuse import Hits, Reuse, cached, link, settle


@dataclass
class Made:
    instances: list[Instance] = field(default_factory=list)
    files_of: dict[int, list[str]] = field(default_factory=dict)  # id(instance) -> its files
    canaries: OnePerValue = field(default_factory=lambda: OnePerValue([]))
    notes: list[str] = field(default_factory=list)  # what de-identification did, per file


def make_frames(env: Env, read: Read, reuse: Reuse) -> Made:
    report = env.report
    made = Made(canaries=OnePerValue(read.canaries))  # one per value as they come: flat memory
    shared = SharedElements()
    with env.stage("pixels", len(read.jobs)) as detail:
        hits = cached(reuse, env.cache)
        missing = link(env, reuse, hits)
        for outcome in _outcomes(env, read, reuse, hits, missing):
            report.warnings += outcome.warnings
            if outcome.fatal:  # the machine, not the input: nothing is published
                report.errors.append(f"the build cannot go on: {outcome.fatal}")
            if outcome.refused:
                env.refuse(outcome.refused)
            made.canaries.add(outcome.canaries)
            made.notes += outcome.notes
            if outcome.instance is not None:
                outcome.instance.metadata = shared(outcome.instance.metadata)
                made.instances.append(outcome.instance)
                made.files_of[id(outcome.instance)] = outcome.files
                report.bytes_in += outcome.instance.bytes_in
                report.bytes_out += outcome.bytes_out
        report.cached = env.cache.hits
        settle(env, reuse)
        mb = report.bytes_in / 1e6
        detail.append(
            f"{sum(i.frames for i in made.instances)} frames, {mb:.1f} MB -> "
            f"{report.bytes_out / 1e6:.1f} MB ({report.ratio:.2f}x), {env.cache.hits} cached"
        )
    report.notes = summarise_notes(made.notes)
    return made


def _outcomes(
    env: Env, read: Read, reuse: Reuse, hits: Hits, missing: set[str]
) -> Iterator[jobs.Outcome]:
    """Outcomes of every job: the cached ones whose files are in the new tree (none of
    `missing`), and the others computed by the workers (which also keep them in the cache)."""
    cache, keys = env.cache, reuse.keys
    targets: dict[int, jobs.CacheTarget] = {}
    todo = []
    for n, (item, job) in enumerate(read.jobs):
        if n in hits:
            outcome, files = hits[n]
            if missing.isdisjoint(files):
                env.ui.advance()
                yield outcome
                continue
            # files gone from the cache: the worker makes them again, into no linked file
            cache.forget(keys.keys[n])  # type: ignore[arg-type]
            for relative in files:
                Path(env.tmp, relative).unlink(missing_ok=True)
        fp = keys.fingerprints[n]
        targets[id(item)] = jobs.CacheTarget(str(cache.entries), keys.item_fps[n], fp)
        todo.append((item, job))
    for item, _, outcome in run_jobs(todo, env.team, env.ui, targets):
        cache.adopt(outcome, item)
        yield outcome


def summarise_notes(notes: list[str]) -> list[str]:
    """One line per kind of note ("<attribute>: <what was done>"), with how many files and
    the first of them: a series repeats the same note for every file."""
    groups: dict[str, list[str]] = {}
    for note in notes:
        label, _, rest = note.partition(": ")
        groups.setdefault(rest, []).append(label)
    return [
        f"{what} ({len(labels)} file{'s' if len(labels) > 1 else ''}, e.g. {labels[0]})"
        for what, labels in groups.items()
    ]
