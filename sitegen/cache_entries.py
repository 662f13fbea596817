"""Cache entries: their keys (an input's fingerprint and its job's), their records (an
outcome as plain tuples for `marshal`) and how a worker writes one. See cache.py."""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .sources import SourceItem

if TYPE_CHECKING:
    from .jobs import Job, Outcome

CACHE_FORMAT = 9
_RECORD_VERSION = f"{CACHE_FORMAT} {sys.version_info[:2]} {marshal.version}"


def job_fingerprint(job: Job) -> str:
    """Every setting of a job that changes its output (the output folder does not)."""
    parts: list[str] = [__version__, str(CACHE_FORMAT)]
    for f in fields(job):
        if f.name in ("out_dir", "deid"):
            continue
        parts.append(f"{f.name}={getattr(job, f.name)!r}")
    if job.deid is not None:
        parts.append(f"deid={sorted(job.deid.options)!r}")
        # the key changes every UID and date; only a one-way digest of it is kept
        parts.append(job.deid.map_uid("1.2.3.4.5.sitegen-cache-fingerprint"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def item_job_fingerprint(job_fp: str, item: SourceItem) -> str:
    """The job fingerprint of one input: its folder and file names give it canaries and its
    label orders the instances, so a renamed input is not taken from the cache."""
    return hashlib.sha256(f"{job_fp}\n{item.label}\n{item.relative}".encode()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def entry_key(fingerprint: str, job_fp: str) -> str:
    return hashlib.sha256(f"{fingerprint}\n{job_fp}".encode()).hexdigest()


def entry_path(entries: Path | str, key: str) -> str:
    """An entry is flat files in a bucket folder: <key>.rec (written last: the commit marker)
    and <key>.0, <key>.1, ... (links to the files it made). Folders per entry would cost a
    mkdir each, and metadata operations are what is slow on many file systems."""
    return f"{entries}/{key[:2]}/{key}"


_ATOMS = frozenset({str, int, float, bool, bytes, type(None)})


def plain(value: Any) -> Any:
    """`value` in builtin types only, as marshal needs (pydicom's UID is a str subclass)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {plain(k): plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if kind is tuple:
        return tuple(plain(v) for v in value)
    for base in (int, float, str, bytes):
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"the build cache cannot keep a {kind.__name__}")


def outcome_record(outcome: Outcome) -> bytes:
    """An outcome as marshalled plain data. Canaries are kept once per value
    (`one_per_value`, as the build's sweep keeps them)."""
    from .deid._canary import one_per_value

    values: list[Any] = []
    for f in fields(outcome):
        value = getattr(outcome, f.name)
        if f.name == "instance" and value is not None:
            value = tuple(getattr(value, g.name) for g in fields(value))
        elif f.name == "canaries":
            unique = one_per_value(value)
            value = [(c.value, c.attribute, c.source, c.word) for c in unique]
        values.append(value)
    return marshal.dumps((_RECORD_VERSION, plain(tuple(values))))


def outcome_from_record(data: bytes, *, canaries: bool = True) -> Outcome:
    """The outcome kept by `outcome_record`; ValueError if it is from another format.
    `canaries=False` leaves them out, for a build that has its sweep's canaries already."""
    from .deid import Canary
    from .jobs import Outcome
    from .model import Instance

    version, values = marshal.loads(data)
    if version != _RECORD_VERSION or len(values) != len(fields(Outcome)):
        raise ValueError("a build cache record of another format")
    outcome = Outcome(*values)
    if outcome.instance is not None:
        outcome.instance = Instance(*outcome.instance)
    outcome.canaries = [Canary(*c) for c in outcome.canaries] if canaries else []
    return outcome


def write_entry(entries: Path, key: str, outcome: Any, out: Path) -> None:
    """Keep an outcome and its files (linked from `out`) as cache entry `key`. Workers call it
    for what they just made, so the parent does not spend its time on it."""
    try:
        record = outcome_record(outcome)
    except (TypeError, ValueError):  # a value marshal cannot keep: no entry, no harm
        return
    entry = entry_path(entries, key)
    if not os.path.isdir(os.path.dirname(entry)):
        os.makedirs(os.path.dirname(entry), exist_ok=True)
    for n, relative in enumerate(outcome.files):
        target = f"{entry}.{n}"
        try:
            os.link(f"{out}/{relative}", target)
        except FileExistsError:  # left by an earlier build that did not finish
            os.unlink(target)
            os.link(f"{out}/{relative}", target)
    tmp = f"{entry}.rec.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(record)
    os.replace(tmp, f"{entry}.rec")


@contextmanager
def no_gc() -> Iterator[None]:
    """Reading a build's records makes some 100,000 containers and no cycle: the cyclic
    collector is kept off while they are made, and out of them afterwards (gc.freeze) until
    the build ends (`build` calls gc.unfreeze): walking them again and again finds nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
