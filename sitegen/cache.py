"""The build cache: rebuilds reuse the work done for inputs that did not change.

Each input instance's result (its `Outcome`: metadata, canaries, warnings) and the files it
wrote (frames, Part 10) are kept under `.sitegen/cache/` (outside public/), keyed by

    sha256(input fingerprint, job fingerprint)

where the input fingerprint is the sha256 of a local file's bytes (found through its size and
mtime, and checked by digest when those changed), a zip member's CRC and size, or a sample's
name and index; the job fingerprint covers every setting that changes the output (codec,
de-identification options and key, the case's label and masks, the sitegen version) and the
input's names (they are canaries, and they order the instances). A hit hard-links the cached
files into the new output instead of re-encoding; the cache is on the site's file system, so
that costs no copy. After a published build, entries the build did not use are deleted: the
cache holds the last build, about one more output's worth of links.

Records are plain tuples written with `marshal`: no classes to rebuild, so reading one costs
a tenth of unpickling the dataclasses. A published build also leaves `last-build.marshal`:
the records of every input it used in one file, the canaries its sweep used and the digests of
the files the sweep found clean. A rebuild reads that one file instead of one per input.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .cache_entries import (
    _RECORD_VERSION,
    entry_key,
    entry_path,
    file_digest,
    no_gc,
    outcome_from_record,
)
from .sources import SourceItem

if TYPE_CHECKING:  # transcode writes entries through this module: no import cycle at run time
    from .deid import Canary
    from .jobs import Outcome


def _make_private(state: Path, paths: list[Path]) -> None:
    """`.sitegen/` holds every removed value (the sweep's canaries) and input paths: the
    folder and the cache folder 0700, the state files in it 0600. Cache entries linked into
    public/ share their inode with the published file, so they keep its mode; the folder
    keeps them from everyone else."""
    for path in [state, *paths]:
        try:
            path.chmod(0o700 if path.is_dir() else 0o600)
        except OSError:
            pass


def _streamed(fh: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """The (key, record) values that follow a last build's state, to the end of `fh`."""
    while True:
        try:
            key, record = marshal.load(fh)
        except EOFError:
            return
        yield key, record


def link_or_copy(src: Path | str, dst: Path | str, made: set[str] | None = None) -> None:
    """A hard link where the file systems allow it, else a copy. An existing `dst` is replaced,
    never written into: it may be a link to a published or cached file. `made` remembers the
    folders created already, to spare a mkdir per file."""
    parent = os.path.dirname(dst)
    if made is None or parent not in made:
        os.makedirs(parent, exist_ok=True)
        if made is not None:
            made.add(parent)
    try:
        os.link(src, dst)
    except FileExistsError:
        os.unlink(dst)
        link_or_copy(src, dst)
    except OSError:
        tmp = f"{dst}.sitegen-copy"
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)


@dataclass
class LastBuild:
    """What the last published build leaves for the next one (`last-build.marshal`)."""

    inputs: str = ""  # digest of sitegen's code and every input's cache key, in order
    out: str = ""  # where it was published, and the published folder's inode
    out_inode: int = 0
    records: dict[str, bytes] = field(default_factory=dict)  # cache key -> outcome record
    canaries: list[tuple[str, str, str, bool]] = field(default_factory=list)  # the sweep's
    refused: int = 0  # instances its screen refused
    sweep_key: str = ""  # digest of sitegen's code and those canaries' values
    swept: list[str] = field(default_factory=list)  # sha256 of contents the sweep found clean
    used: list[str] = field(default_factory=list)  # every cache entry the build used
    from_instances: list[str] = field(default_factory=list)  # its files made from them alone


class BuildCache:
    """Reads and writes cache entries; one instance per build, used in the parent only."""

    def __init__(self, root: Path, *, read: bool = True) -> None:
        self.root = root
        self.read = read  # False (--clean): compute everything anew, refresh the cache
        self.entries = root / "entries"
        self.index_file = root / "files.json"
        self.last_file = root / "last-build.marshal"
        self.used: set[str] = set()
        self.records: dict[str, bytes] = {}  # this build's outcome records, by cache key
        self._zips: dict[str, dict[str, zipfile.ZipInfo]] = {}
        self.last_summary: dict = {}
        self.fingerprint_of_build: str | None = None  # set once every input is cached
        self.hits = 0
        self._last: LastBuild | None = None
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

    def _entry(self, key: str) -> str:
        return entry_path(self.entries, key)

    @property
    def last(self) -> LastBuild:
        """The last published build's records (read once, on first use)."""
        if self._last is None:
            self._last = LastBuild()
            if self.read:
                try:
                    with no_gc(), open(self.last_file, "rb") as fh:
                        version, state = marshal.load(fh)
                        if version == _RECORD_VERSION:
                            records = state.pop("records", None) or {}  # one value, before
                            records.update(_streamed(fh))
                            known = {f.name for f in fields(LastBuild)}  # an older key: out
                            state = {k: v for k, v in state.items() if k in known}
                            self._last = LastBuild(**state, records=records)
                except (OSError, ValueError, EOFError, TypeError):
                    pass
        return self._last

    def get(self, key: str, *, canaries: bool = True) -> Outcome | None:
        """The cached outcome (its files are not placed: see `files`), or None. Reading many,
        wrap the calls in `no_gc()`."""
        if not self.read:
            return None
        data = self.last.records.get(key)
        try:
            if data is None:
                with open(f"{self._entry(key)}.rec", "rb") as fh:
                    data = fh.read()
            outcome = outcome_from_record(data, canaries=canaries)
        except (OSError, ValueError, EOFError, TypeError):
            return None
        self.records[key] = data
        self.used.add(key)
        self.hits += 1
        return outcome

    def files(self, key: str, outcome: Outcome) -> dict[str, str]:
        """Where a cached outcome's files are kept, by their path in the output."""
        entry = self._entry(key)
        return {relative: f"{entry}.{n}" for n, relative in enumerate(outcome.files)}

    def forget(self, key: str) -> None:
        """A hit whose files turned out to be missing: the worker makes it again."""
        self.records.pop(key, None)
        self.used.discard(key)
        self.hits -= 1

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
        return os.path.isfile(f"{self._entry(key)}.rec")

    def still_current(self, fingerprint: str | None, out: Path) -> bool:
        """Whether the last published build had this fingerprint and its output is in place
        (the atomic swap gives every published folder a new inode). Read from the small
        last-build.json, not last-build.marshal: a no-op build reads nothing else."""
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

    def from_instances(
        self, out: Path, published: dict[str, os.DirEntry[str]]
    ) -> dict[str, os.DirEntry[str]]:
        """The files the last build made from its instances alone (the DICOMweb tree, Part 10
        files, zips), as entries of the `published` listing of `out`; empty unless `out` is
        still that build's output (a swap makes a new inode) and holds them all."""
        last = self.last
        try:
            if (str(out), out.stat().st_ino) != (last.out, last.out_inode):
                return {}
            return {relative: published[relative] for relative in last.from_instances}
        except (OSError, KeyError):
            return {}

    def sweep_memo(self, inputs: str | None) -> list[Canary] | None:
        """The sweep's canaries of the last build if it had the same inputs (and code)."""
        from .deid import Canary

        if inputs is None or inputs != self.last.inputs:
            return None
        return [Canary(*c) for c in self.last.canaries]

    def finish(
        self,
        out: Path | None = None,
        summary: dict | None = None,
        last: LastBuild | None = None,
    ) -> None:
        """Save the file index and the build's records; drop the entries it did not use."""
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
        unchanged = self.read and sorted(self.used) == self.last.used
        if last is not None and out is not None:
            self._write_last(last, out)
        _make_private(
            self.root.parent,
            [self.root, self.index_file, self.last_file, self.root / "last-build.json"],
        )
        if unchanged or not self.entries.is_dir():
            return  # the same entries as the last build: nothing to drop
        for bucket in self.entries.iterdir():
            for path in bucket.iterdir():
                if path.name.split(".", 1)[0] not in self.used:
                    path.unlink(missing_ok=True)

    def _write_last(self, last: LastBuild, out: Path) -> None:
        """Keep `last` with this build's records: its state, then one (key, record) after
        another, streamed (as one value, 20,000 records took 340 MB to write); those of
        entries a worker wrote are read back from the entry (the parent never converts an
        outcome itself)."""
        last.out, last.out_inode = str(out), out.stat().st_ino
        last.used = sorted(self.used)
        state = {f.name: getattr(last, f.name) for f in fields(last) if f.name != "records"}
        tmp = self.last_file.with_suffix(".tmp")
        try:
            with open(tmp, "wb") as fh:
                marshal.dump((_RECORD_VERSION, state), fh)
                for key in last.used:
                    record = (
                        self.records.get(key)
                        or self.last.records.get(key)  # a phase output stood for it
                        or self._entry_record(key)
                    )
                    if record is not None:
                        marshal.dump((key, record), fh)
            os.replace(tmp, self.last_file)
        except (OSError, ValueError):
            tmp.unlink(missing_ok=True)

    def _entry_record(self, key: str) -> bytes | None:
        try:
            with open(f"{self._entry(key)}.rec", "rb") as fh:
                return fh.read()
        except OSError:
            return None  # a derived file's key, or an entry the worker could not write
