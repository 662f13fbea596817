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
from .reuse import Hits, Reuse, cached, carry_whole, keep_output, link, settle, stored_output


@dataclass
class Made:
    instances: list[Instance] = field(default_factory=list)
    files_of: dict[int, list[str]] = field(default_factory=dict)  # id(instance) -> its files
    canaries: OnePerValue = field(default_factory=lambda: OnePerValue([]))
    notes: list[str] = field(default_factory=list)  # what de-identification did, per file
    # what the outcomes said, in order: (True for an input refused (burned-in text), text)
    said: list[tuple[bool, str]] = field(default_factory=list)
    bytes_in: int = 0
    bytes_out: int = 0

    def __getstate__(self) -> dict[str, object]:
        """Kept without the canaries (a build that reuses it has its sweep's), and with the
        files by position: ids do not survive a pickle."""
        state = dict(self.__dict__, canaries=None)
        state["files_of"] = [self.files_of.get(id(i), []) for i in self.instances]
        return state

    def parts(self, size: int = 1000) -> list[Made]:
        """Itself in parts of `size` instances (the first holds the rest), to be kept."""
        instances = self.instances
        cuts = range(0, max(1, len(instances)), size)
        parts = [Made(instances[n : n + size], self.files_of) for n in cuts]
        parts[0].notes, parts[0].said = self.notes, self.said
        parts[0].bytes_in, parts[0].bytes_out = self.bytes_in, self.bytes_out
        return parts

    @staticmethod
    def joined(parts: list[Made]) -> Made:
        made = parts[0]
        for part in parts[1:]:
            made.instances += part.instances
            made.files_of.update(part.files_of)
        return made

    def __setstate__(self, state: dict[str, object]) -> None:
        files = state.pop("files_of")
        self.__dict__.update(state, canaries=OnePerValue([]))
        self.files_of = {id(i): f for i, f in zip(self.instances, files, strict=True)}  # type: ignore[call-overload]


def make_frames(env: Env, read: Read, reuse: Reuse) -> Made:
    """The last build's output of this phase when it is this one's (see reuse.py: the same
    inputs and options, its tree carried), else every job's outcome."""
    report = env.report
    with env.stage("pixels", len(read.jobs)) as detail:
        parts = stored_output(env, reuse, PHASE)
        made = Made.joined(parts) if parts else None
        stored = made is not None and carry_whole(env, reuse)
        if stored:
            report.cached = len(read.jobs)
            env.ui.advance(len(read.jobs))
        else:
            made = _made(env, read, reuse)
            report.cached = env.cache.hits
        for refusal, text in made.said:
            if refusal:
                env.refuse(text)
            else:
                report.warnings.append(text)
        report.bytes_in, report.bytes_out = made.bytes_in, made.bytes_out
        settle(env, reuse)
        if not stored:  # every input's key is known now
            keep_output(env, reuse, PHASE, made.parts())
        mb = report.bytes_in / 1e6
        detail.append(
            f"{sum(i.frames for i in made.instances)} frames, {mb:.1f} MB -> "
            f"{report.bytes_out / 1e6:.1f} MB ({report.ratio:.2f}x), {report.cached} cached"
        )
    report.notes = summarise_notes(made.notes)
    return made


PHASE = "frames"


def _made(env: Env, read: Read, reuse: Reuse) -> Made:
    made = Made(canaries=OnePerValue(read.canaries))  # one per value as they come: flat memory
    shared = SharedElements()

    def take(outcome: jobs.Outcome) -> None:
        """Its canaries kept once per value, its metadata sharing equal elements; a second
        call does nothing (no mark by id: a freed outcome's id is the next one's)."""
        made.canaries.add(outcome.canaries)
        outcome.canaries = []
        if outcome.instance is not None:
            outcome.instance.metadata = shared(outcome.instance.metadata)

    hits = cached(reuse, env.cache, take)
    missing = link(env, reuse, hits)
    for outcome in _outcomes(env, read, reuse, hits, missing):
        made.said += [(False, warning) for warning in outcome.warnings]
        if outcome.fatal:  # the machine, not the input: nothing is published
            env.report.errors.append(f"the build cannot go on: {outcome.fatal}")
        if outcome.refused:
            made.said.append((True, outcome.refused))
        take(outcome)  # a worker's (a cached one's was taken as it was read)
        made.notes += outcome.notes
        if outcome.instance is not None:
            made.instances.append(outcome.instance)
            made.files_of[id(outcome.instance)] = outcome.files
            made.bytes_in += outcome.instance.bytes_in
            made.bytes_out += outcome.bytes_out
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
