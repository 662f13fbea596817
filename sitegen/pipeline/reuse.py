"""The incremental layer around the phases: what of the last build this one may reuse.

A whole build's fingerprint (config, case texts, every input's cache key, sitegen's code,
the options) -> the published tree as it is (a no-op). Every input's cache key -> its
outcome and files in the build cache. The inputs' digest -> the last sweep's canaries and,
while that build's tree is still the one published, its files made from the instances
alone, linked from there instead of made again ("carried")."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import audit, publish, quick, treesweep
from ..cache import BuildCache
from ..cache_entries import item_job_fingerprint, job_fingerprint, no_gc
from ..deid import Canary
from ..jobs import Outcome
from .env import Env
from .read import Jobs, Read

Hits = dict[int, tuple[Outcome, dict[str, str]]]  # job -> outcome, its files -> the cache's


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Keys:
    """The build-cache key of every job (None: an input never seen, not read yet)."""

    def __init__(self, jobs: Jobs, cache: BuildCache) -> None:
        self.jobs = jobs
        self.cache = cache
        job_fps: dict[int, str] = {}
        for _, job in jobs:
            if id(job) not in job_fps:
                job_fps[id(job)] = job_fingerprint(job)
        self.item_fps = [item_job_fingerprint(job_fps[id(job)], item) for item, job in jobs]
        self.fingerprints = [cache.fingerprint(item) for item, _ in jobs]
        self.keys = [
            cache.key(fp, item_fp) if fp else None
            for fp, item_fp in zip(self.fingerprints, self.item_fps, strict=True)
        ]

    def refresh(self) -> None:
        """Fill in the keys of inputs whose digest a worker computed."""
        for n, key in enumerate(self.keys):
            if key is None:
                fp = self.fingerprints[n] = self.cache.fingerprint(self.jobs[n][0])
                self.keys[n] = self.cache.key(fp, self.item_fps[n]) if fp else None


@dataclass
class Reuse:
    keys: Keys
    code: str  # sitegen's code and the base URL (the DICOMweb lists' RetrieveURLs hold it)
    options: str
    fingerprint: str | None  # the whole build's; None while an input is not in the cache
    current: bool = False  # the published site is this build's output: nothing to do
    memo: list[Canary] | None = None  # the sweep's canaries, when the inputs are the last's
    published: dict[str, os.DirEntry[str]] = field(default_factory=dict)  # for the diff
    carry: dict[str, os.DirEntry[str]] = field(default_factory=dict)  # published, linked
    kept: list[Path] = field(default_factory=list)  # phase outputs to keep once published

    def inputs(self) -> str | None:
        """What every outcome and the sweep's canaries depend on: each input's cache key,
        in order, and sitegen's code. None while an input's key is unknown."""
        if None in self.keys.keys:
            return None
        return digest(self.code, *self.keys.keys)  # type: ignore[arg-type]

    def drop_carry(self) -> None:
        """The published tree cannot stand for this one's files made from the instances."""
        self.carry = {}


def plan_reuse(env: Env, read: Read, options: str) -> Reuse:
    """What this build may take from the last one (see the module's docstring)."""
    site, cache = env.site, env.cache
    code = quick.code_fingerprint() + f"\nbase_url={site.site.base_url}"
    options += f" resolved={read.signature}"
    keys = Keys(read.jobs, cache)
    reuse = Reuse(keys, code, options, fingerprint(env, keys, options, code))
    if cache.still_current(reuse.fingerprint, env.out):
        reuse.current = True
        return reuse
    reuse.memo = cache.sweep_memo(reuse.inputs())
    reuse.published = publish.listing(env.out)
    # that build left instances out, or this one packs frames (the published tree has no
    # frame files to draw the cards from): make the tree anew
    if reuse.memo is not None and not cache.last.refused and not site.build.pack:
        reuse.carry = cache.from_instances(env.out, reuse.published)
    return reuse


def cached(
    reuse: Reuse, cache: BuildCache, take: Callable[[Outcome], None] = lambda outcome: None
) -> Hits:
    """The outcomes in the build cache, by job, with their files (path in the output -> the
    cache's link); without canaries when the sweep's are known (`memo`). `take(outcome)` as
    each is read: it may make it smaller (20,000 of them as read took 1.7 GB)."""
    hits = {}
    with no_gc():
        for n, key in enumerate(reuse.keys.keys):
            outcome = cache.get(key, canaries=reuse.memo is None) if key else None
            if outcome is not None:
                take(outcome)
                hits[n] = (outcome, cache.files(key, outcome))  # type: ignore[arg-type]
    return hits


def link(env: Env, reuse: Reuse, hits: Hits) -> set[str]:
    """Link into the new tree what is made already: the published files made from the
    instances alone when every outcome is cached, else each cached outcome's files from the
    cache. Returns the files that could not be linked (gone from the cache)."""
    if len(hits) < len(reuse.keys.jobs):  # a worker will write: into no file linked from public/
        reuse.drop_carry()
    if reuse.carry and publish.reuse(env.tmp, reuse.carry):  # a published file is gone
        reuse.drop_carry()
    if reuse.carry:
        env.cache.used.update(env.cache.last.used)  # e.g. the thumbnails' entries: still current
        return set()
    keep = {rel: src for _, files in hits.values() for rel, src in files.items()}
    return publish.reuse(env.tmp, keep)


def carry_whole(env: Env, reuse: Reuse) -> bool:
    """Link every published file made from the instances alone into the new tree (a stored
    phase output stands for them); False when one is gone (then nothing is carried)."""
    if not reuse.carry or publish.reuse(env.tmp, reuse.carry):
        reuse.drop_carry()
        return False
    env.cache.used.update(env.cache.last.used)  # its entries are still this build's
    return True


def _outputs(env: Env) -> Path:
    return env.cache.root / "outputs"


def _output_key(reuse: Reuse) -> str | None:
    inputs = reuse.inputs()
    return None if inputs is None else digest(inputs, reuse.options)


def stored_output(env: Env, reuse: Reuse, phase: str) -> list[Any] | None:
    """The parts of the output `phase` gave the last published build, if this build's inputs,
    code and options are the same and that build's tree is carried (see the module's
    docstring); else None. Kept in the private cache folder, written by sitegen only."""
    key = _output_key(reuse)
    if not reuse.carry or not env.cache.read or key is None:
        return None
    try:
        with open(_outputs(env) / f"{phase}.pickle", "rb") as fh:
            stored_key, count = pickle.load(fh)
            if stored_key != key:
                return None
            return [pickle.load(fh) for _ in range(count)]
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None


def keep_output(env: Env, reuse: Reuse, phase: str, parts: list[Any]) -> None:
    """Write `phase`'s output beside the cache now (it may change later in the build), to
    stand for the phase next time once this build is published (`commit_outputs`). Each
    part is pickled on its own: one pickle of 20,000 instances took 100 MB for its memo."""
    key = _output_key(reuse)
    path = _outputs(env) / f"{phase}.pickle.new"
    path.unlink(missing_ok=True)
    if key is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump((key, len(parts)), fh, protocol=pickle.HIGHEST_PROTOCOL)
            for part in parts:
                pickle.dump(part, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        path.unlink(missing_ok=True)
        return
    reuse.kept.append(path)


def commit_outputs(reuse: Reuse) -> None:
    """The published build's phase outputs replace the last ones."""
    for path in reuse.kept:
        try:
            os.replace(path, path.with_suffix(""))
        except OSError:
            path.unlink(missing_ok=True)


def settle(env: Env, reuse: Reuse) -> None:
    """After the workers: every input's key is known, and so is the build's fingerprint."""
    reuse.keys.refresh()  # the workers found the digests of inputs never seen before
    if reuse.fingerprint is None:
        reuse.fingerprint = fingerprint(env, reuse.keys, reuse.options, reuse.code)
    env.cache.fingerprint_of_build = reuse.fingerprint


def fingerprint(env: Env, keys: Keys, options: str, code: str) -> str | None:
    """Everything a build's output depends on, or None when an input is not in the cache.

    The configuration and case files by content, every input by its cache key, sitegen's own
    files (code, templates, viewer) by size and mtime, and the build options."""
    site = env.site
    sha = hashlib.sha256(f"{options}\n{code}\n".encode())
    files = [site.config_file, *sorted((site.root / "cases").glob("*/case.md"))]
    if site.ohif.enabled and site.ohif.user_config:
        files.append(site.root / site.ohif.user_config)  # merged into ohif/app-config.js
    for path in files:
        sha.update(Path(path).read_bytes())
    for key in keys.keys:
        if key is None or not env.cache.has(key):
            return None
        sha.update(key.encode())
    return sha.hexdigest()


def tree_sweep(
    env: Env, reuse: Reuse, canaries: list[Canary], metadata: list[dict[str, Any]]
) -> treesweep.TreeSweep:
    """The sweep of this build: the union of every input's canaries (the last build's when
    the inputs are the same), what its sweep found clean if the canaries are the same."""
    unique = reuse.memo if reuse.memo is not None else audit.unique_canaries(canaries, metadata)
    sweep = treesweep.TreeSweep(unique, trust_verbatim=True)
    if env.cache.last.sweep_key == sweep_key(reuse.code, sweep):
        sweep.was_clean = set(env.cache.last.swept)
    return sweep


def sweep_key(code: str, sweep: treesweep.TreeSweep) -> str:
    """Which values count where follows from them and the code (`audit.counting`)."""
    return digest(code, *sorted(c.value for c in sweep.canaries))
