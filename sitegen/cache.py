"""The build cache: rebuilds reuse the work done for inputs that did not change.

Each input instance's result (its `Outcome`: metadata, canaries, warnings) and the files it
wrote (frames, Part 10) are kept under `.sitegen/cache/` (outside public/), keyed by

    sha256(input fingerprint, job fingerprint)

where the input fingerprint is the sha256 of a local file's bytes (found through its size and
mtime, and checked by digest when those changed), a zip member's CRC and size, or a sample's
name and index; the job fingerprint covers every setting that changes the output (codec,
de-identification options and key, the case's label and masks, the sitegen version). A hit
hard-links the cached files into the new output instead of re-encoding; the cache is on the
site's file system, so that costs no copy. After a published build, entries the build did not
use are deleted: the cache holds the last build, about one more output's worth of links.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .sources import SourceItem

if TYPE_CHECKING:  # transcode writes entries through this module: no import cycle at run time
    from .transcode import Job, Outcome

CACHE_FORMAT = 3


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


def file_digest(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def entry_key(fingerprint: str, job_fp: str) -> str:
    return hashlib.sha256(f"{fingerprint}\n{job_fp}".encode()).hexdigest()


def entry_path(entries: Path, key: str) -> Path:
    """An entry is flat files in a bucket folder: <key>.pickle (written last: the commit
    marker) and <key>.0, <key>.1, ... (links to the files it made). Folders per entry would
    cost a mkdir each, and metadata operations are what is slow on many file systems."""
    return entries / key[:2] / key


def write_entry(entries: Path, key: str, outcome: Any, out: Path) -> None:
    """Keep an outcome and its files (linked from `out`) as cache entry `key`. Workers call it
    for what they just made, so the parent does not spend its time on it."""
    entry = entry_path(entries, key)
    if not entry.parent.is_dir():
        os.makedirs(entry.parent, exist_ok=True)
    for n, relative in enumerate(outcome.files):
        target = f"{entry}.{n}"
        try:
            os.link(f"{out}/{relative}", target)
        except FileExistsError:  # left by an earlier build that did not finish
            os.unlink(target)
            os.link(f"{out}/{relative}", target)
    tmp = f"{entry}.pickle.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(pickle.dumps(outcome))
    os.replace(tmp, f"{entry}.pickle")


def link_or_copy(src: Path | str, dst: Path | str, made: set[str] | None = None) -> None:
    """A hard link where the file systems allow it, else a copy. `made` remembers the
    folders created already, to spare a mkdir per file."""
    parent = os.path.dirname(dst)
    if made is None or parent not in made:
        os.makedirs(parent, exist_ok=True)
        if made is not None:
            made.add(parent)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class BuildCache:
    """Reads and writes cache entries; one instance per build, used in the parent only."""

    def __init__(self, root: Path, *, read: bool = True) -> None:
        self.root = root
        self.read = read  # False (--clean): compute everything anew, refresh the cache
        self.entries = root / "entries"
        self.index_file = root / "files.json"
        self.used: set[str] = set()
        self._zips: dict[str, dict[str, zipfile.ZipInfo]] = {}
        self.last_summary: dict = {}
        self._made: set[str] = set()
        self.fingerprint_of_build: str | None = None  # set once every input is cached
        self.hits = 0
        try:
            self.index: dict[str, list] = json.loads(self.index_file.read_text())
        except (OSError, ValueError):
            self.index = {}  # path -> [size, mtime_ns, sha256]

    def fingerprint(self, item: SourceItem) -> str | None:
        """The input's fingerprint, or None when only reading the file would tell (a file
        never seen: the worker computes its digest while it works)."""
        if item.kind == "sample":
            return f"sample:{item.location}:{item.member}"
        if item.kind == "zip":
            if item.location not in self._zips:
                with zipfile.ZipFile(item.location) as zf:
                    self._zips[item.location] = {i.filename: i for i in zf.infolist()}
            info = self._zips[item.location][item.member]
            return f"zip:{info.CRC}:{info.file_size}"
        if item.kind != "file":
            return None
        stat = os.stat(item.location)
        known = self.index.get(item.location)
        if known is None:
            return None
        if known[:2] == [stat.st_size, stat.st_mtime_ns]:
            return f"file:{known[2]}"
        digest = file_digest(Path(item.location))  # touched: is the content the same?
        self.index[item.location] = [stat.st_size, stat.st_mtime_ns, digest]
        return f"file:{digest}"

    key = staticmethod(entry_key)

    def _entry(self, key: str) -> Path:
        return entry_path(self.entries, key)

    def get(self, key: str, out: Path) -> Outcome | None:
        """The cached outcome with its files linked into `out`, or None."""
        if not self.read:
            return None
        entry = self._entry(key)
        try:
            with open(f"{entry}.pickle", "rb") as fh:
                outcome: Outcome = pickle.loads(fh.read())
            for n, relative in enumerate(outcome.files):
                link_or_copy(f"{entry}.{n}", f"{out}/{relative}", self._made)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        self.used.add(key)
        self.hits += 1
        return outcome

    def adopt(self, outcome: Outcome, item: SourceItem) -> None:
        """Take note of the entry a worker wrote for `item` (outcome.cache_key)."""
        if not outcome.cache_key:
            return
        self.used.add(outcome.cache_key)
        if item.kind == "file" and outcome.digest:
            stat = os.stat(item.location)
            self.index[item.location] = [stat.st_size, stat.st_mtime_ns, outcome.digest]

    def derived_key(self, name: str, sources: list[Path]) -> str:
        """A key for a file made from other output files (a case zip): their names and
        identities (inode, size, mtime: files linked from the cache keep all three)."""
        parts = [name]
        for path in sources:
            st = path.stat()
            parts.append(f"{path.name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def get_derived(self, key: str, dest: Path) -> bool:
        """Link a cached derived file to `dest`; False on a miss."""
        cached = self.entries / "derived" / key
        if not self.read or not cached.is_file():
            return False
        link_or_copy(cached, dest)
        self.used.add(key)
        return True

    def put_derived(self, key: str, path: Path) -> None:
        cached = self.entries / "derived" / key
        cached.unlink(missing_ok=True)
        link_or_copy(path, cached)
        self.used.add(key)

    def has(self, key: str) -> bool:
        return os.path.isfile(f"{self._entry(key)}.pickle")

    def still_current(self, fingerprint: str | None, out: Path) -> bool:
        """Whether the last published build had this fingerprint and its output is in place
        (the atomic swap gives every published folder a new inode)."""
        if not self.read or fingerprint is None:
            return False
        try:
            last = json.loads((self.root / "last-build.json").read_text())
            current = last["fingerprint"] == fingerprint and last["out"] == str(out)
            current = current and last["out_inode"] == out.stat().st_ino
        except (OSError, ValueError, KeyError):
            return False
        if current:
            self.last_summary = last["summary"]
        return current

    def finish(self, out: Path | None = None, summary: dict | None = None) -> None:
        """Save the file index and drop the entries this build did not use."""
        self.root.mkdir(parents=True, exist_ok=True)
        if out is not None and self.fingerprint_of_build:
            state = {
                "fingerprint": self.fingerprint_of_build,
                "out": str(out),
                "out_inode": out.stat().st_ino,
                "summary": summary or {},
            }
            (self.root / "last-build.json").write_text(json.dumps(state))
        tmp = self.index_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.index, sort_keys=True))
        os.replace(tmp, self.index_file)
        if not self.entries.is_dir():
            return
        for bucket in self.entries.iterdir():
            for path in bucket.iterdir():
                if path.name.split(".", 1)[0] not in self.used:
                    path.unlink(missing_ok=True)
