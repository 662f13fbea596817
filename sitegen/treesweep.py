"""Sweeping a finished tree: each instance's files (in the workers, before the tree is
written), then every file and path of it, remembering what was found clean so that a rebuild
does not read again files linked unchanged. What counts where: audit.py."""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache_entries import file_digest
from .deid import Canary, Sweeper
from .deid._sweep import Hit

if TYPE_CHECKING:
    from .pool import Workers

from .audit import (
    FROM_INSTANCES,
    READ_WHOLE,
    SAME_BYTES_ABOVE,
    counting,
    is_data,
    is_verbatim,
    sweeper_for,
)

SAME_CONTENT_BELOW = 1 << 20  # bytes: pages and manifests are known clean by content
# bytes: bigger files are hashed and scanned in blocks, not read whole (the all-instances
# listings of 20,000 instances, 13 MB each, read whole took the parent over 500 MB)
STREAM_ABOVE = 1 << 20


@dataclass
class TreeSweep:
    """Sweeps the files of a tree; remembers by identity (device, inode, size, mtime) what
    it found clean, so a rebuild does not read again files linked unchanged from the cache
    (same canaries and code: `was_clean` comes from a build with the same sweep key)."""

    canaries: list[Canary]  # one per value (`unique_canaries`): what its sweeper looks for
    own: dict[str, str] = field(default_factory=dict)  # verbatim relative path -> sha256
    trust_verbatim: bool = False  # the build: it copied them from sitegen itself just now
    was_clean: set[str] = field(default_factory=set)
    clean: set[str] = field(default_factory=set)
    reused: int = 0
    covered: int = 0  # frame files proved to be inside a Part 10 file swept (not read twice)
    unproved: list[str] = field(default_factory=list)  # verbatim files that were not sitegen's
    proved: set[str] = field(default_factory=set)  # verbatim files that were: names too
    every_hit: bool = False  # a worker's part: every canary found (the parent keeps its own)
    _sweeper: Sweeper | None = None
    _counting: tuple[frozenset[str], frozenset[str]] | None = None

    def sweeper(self) -> Sweeper:
        """One sweeper of all the canaries, for data files and pages alike: what is found
        is then kept for the canaries that count in that kind of file (`counting`)."""
        if self._sweeper is None:
            self._sweeper = sweeper_for(self.canaries)
        return self._sweeper

    def values(self) -> tuple[frozenset[str], frozenset[str]]:
        """The values that count in data files, in pages (found once, on first use)."""
        if self._counting is None:
            self._counting = counting(self.sweeper())
        return self._counting

    def kept(self, hits: list[Hit], data: bool = True) -> list[Hit]:
        """Those of `hits` that count in a data file (or a page)."""
        if not hits or self.every_hit:
            return hits
        values = self.values()[0 if data else 1]
        return [h for h in hits if h.canary.value in values]

    @staticmethod
    def identity(entry: os.DirEntry[str] | Path) -> str:
        st = entry.stat()
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"

    def file(
        self, relative: str, entry: os.DirEntry[str] | Path, data: bytes | None = None
    ) -> list[Hit]:
        """The hits in one file (none for a verbatim file proved to be sitegen's); `data`:
        its bytes, read already."""
        path = Path(entry.path) if isinstance(entry, os.DirEntry) else entry
        if is_verbatim(relative):
            expected = self.own.get(relative)
            if self.trust_verbatim or expected is not None and file_digest(path) == expected:
                self.proved.add(relative)
                return []
            self.unproved.append(relative)
        identity = self.identity(entry)
        if identity in self.was_clean:
            self.reused += 1
            self.clean.add(identity)
            return []
        content = ""
        if not relative.startswith(FROM_INSTANCES) and path.stat().st_size <= SAME_CONTENT_BELOW:
            # a page or manifest is written anew by every build: the same bytes as one found
            # clean with the same canaries are clean (a text edit changes a few of them)
            data = path.read_bytes() if data is None else data
            content = f"sha256:{is_data(relative)}:{hashlib.sha256(data).hexdigest()}"
            if content in self.was_clean:
                self.reused += 1
                self.clean.update((identity, content))
                return []
        sweeper = self.sweeper()
        if data is not None:
            hits = sweeper.scan_bytes(data, relative)
        elif path.stat().st_size > STREAM_ABOVE:
            hits = sweeper.scan_file(path, relative)
        else:
            hits = sweeper.scan_bytes(path.read_bytes(), relative)
        hits = self.kept(hits, is_data(relative))
        if not hits:
            self.clean.add(identity)
            if content:
                self.clean.add(content)
        return hits

    def instance(self, files: list[str], root: Path) -> list[Hit]:
        """The hits in the files one instance made under `root`. Its Part 10 file holds
        the codestreams of its frame files: it is read first, and a frame file whose bytes
        it is proved to hold so that its sweep finds whatever theirs would
        (`Sweeper.covers`) is not swept again; any other is."""
        hits: list[Hit] = []
        outer, at = b"", 0
        part10 = [r for r in files if r.startswith("dicom/")]
        for relative in [*part10, *(r for r in files if r not in part10)]:
            path = root / relative
            if self.identity(path) in self.was_clean:
                hits += self.file(relative, path)  # linked unchanged: known clean
            elif relative in part10 and not outer and path.stat().st_size <= READ_WHOLE:
                outer = path.read_bytes()
                hits += self.file(relative, path, outer)
            elif outer and not hits:
                inner = path.read_bytes()
                found = self.sweeper().covers(outer, inner, at)
                if found < 0:
                    hits += self.file(relative, path, inner)
                else:
                    at = found + len(inner)
                    self.covered += 1
                    self.clean.add(self.identity(path))
            else:
                hits += self.file(relative, path)
        return hits

    def instances(
        self,
        groups: list[list[str]],
        root: Path,
        team: Workers | None,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> list[list[Hit]]:
        """`instance` for each group of files, in the workers when there are several, else
        here; `meanwhile()` runs here while they work. The workers get the canaries (a
        hundredth of the automaton's pickled size) and build their sweepers while this
        process builds its own."""
        hits: list[list[Hit]] = [[] for _ in groups]
        # an instance whose files are all linked unchanged and known clean needs no worker
        # (a text edit's rebuild: no process is started at all)
        todo = [n for n, files in enumerate(groups) if not self._known_clean(files, root)]
        for n in set(range(len(groups))) - set(todo):
            hits[n] = self.instance(groups[n], root)
        if team is None or not team.parallel or len(todo) < 2 * SCREEN_BATCHES_PER_WORKER:
            meanwhile()
            for n in todo:
                hits[n] = self.instance(groups[n], root)
            return hits
        blob = pickle.dumps(tuple(self.canaries), protocol=pickle.HIGHEST_PROTOCOL)
        k = team.count * SCREEN_BATCHES_PER_WORKER
        batches = [todo[j::k] for j in range(k)]
        was_clean = {i for n in todo for i in self._identities(groups[n], root)}
        calls = [(blob, str(root), [groups[n] for n in batch], was_clean) for batch in batches]
        results = team.run_all(screen_batch, calls, meanwhile)
        for batch, batch_results in zip(batches, results, strict=True):
            for n, (found, clean, covered, reused) in zip(batch, batch_results, strict=True):
                hits[n] = self.kept(found)
                self.clean |= clean
                self.covered += covered
                self.reused += reused
        return hits

    def _known_clean(self, files: list[str], root: Path) -> bool:
        """Whether every one of these files is one the last build found clean."""
        return bool(self.was_clean) and all(
            self.identity(root / r) in self.was_clean for r in files
        )

    def _identities(self, files: list[str], root: Path) -> list[str]:
        """Those of the last build's clean files among these (all a worker needs of it)."""
        if not self.was_clean:
            return []
        return [i for i in (self.identity(root / r) for r in files) if i in self.was_clean]

    def metadata(
        self, items: list[tuple[str, dict[str, Any]]], as_json: Callable[[Any], bytes]
    ) -> list[list[Hit]]:
        """The hits in each (name, DICOM JSON dataset). A series repeats most values in
        every instance: each distinct value is swept once, in one text, and only when that
        finds something is each dataset's JSON (`as_json`) swept, to say which. (The
        published metadata files are swept whole by `tree`.)"""
        values: set[str] = set()
        for _, dataset in items:
            _json_values(dataset, values)
        sweeper = self.sweeper()
        if not self.kept(sweeper.scan_bytes("\n".join(sorted(values)).encode(), "metadata")):
            return [[] for _ in items]
        return [self.kept(sweeper.scan_bytes(as_json(dataset), name)) for name, dataset in items]

    def zip_names(self, zips: dict[str, os.DirEntry[str]]) -> list[Hit]:
        """The member names and comments of zips (their members are swept as files; a file
        that is not a readable zip is read as bytes by `tree` like any other)."""
        hits: list[Hit] = []
        for relative, entry in sorted(zips.items()):
            names = "zip names:" + self.identity(entry)  # the same zip as last time
            if names in self.was_clean:
                self.clean.add(names)
                continue
            try:
                with zipfile.ZipFile(entry.path) as zf:
                    members = [i.filename for i in zf.infolist()]
                    comments = [zf.comment, *(i.comment for i in zf.infolist())]
            except (zipfile.BadZipFile, OSError):
                continue
            text = "\n".join(members).encode("utf-8") + b"\n" + b"\n".join(comments)
            found = self.kept(self.sweeper().scan_bytes(text, relative))
            if not found:
                self.clean.add(names)
            hits += found
        return hits

    def tree(
        self,
        files: dict[str, os.DirEntry[str]],
        folders: list[str],
        done: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> list[Hit]:
        """Every file not in `done` (swept already with these canaries), and every path
        but those of sitegen's own verbatim files and their folders (the OHIF build's names,
        "Unnamed.jsonc", are no patient's)."""
        hits: list[Hit] = []
        sizes = Counter(entry.stat().st_size for entry in files.values())
        swept: dict[tuple[bool, bytes], bool] = {}  # (a data file, sha256) -> found clean
        for relative in sorted(files):
            if relative in done:
                continue
            entry = files[relative]
            size = entry.stat().st_size
            if (
                sizes[size] == 1
                or size < SAME_BYTES_ABOVE
                or is_verbatim(relative)
                or self.identity(entry) in self.was_clean
            ):
                hits += self.file(relative, entry)
                continue
            # the same bytes as a file swept already (a study's and its one series'
            # metadata, a listing as index.json and index.html): clean if that one was
            data = None if size > STREAM_ABOVE else Path(entry.path).read_bytes()
            digest = (
                hashlib.sha256(data).digest()
                if data is not None
                else bytes.fromhex(file_digest(entry))
            )
            key = (is_data(relative), digest)
            if swept.get(key):
                self.clean.add(self.identity(entry))
                continue
            found = self.file(relative, entry, data)
            swept[key] = not found
            hits += found
        own_folders = {parent for p in self.proved for parent in _parents(p)}
        paths = sorted(
            [
                *(f for f in files if f not in self.proved),
                *(f for f in folders if f not in own_folders),
            ]
        )
        # every name in one pass (not again when the same names were clean with these
        # canaries); only when something is found, name by name to say where
        joined = "\n".join(paths).encode("utf-8")
        names = "paths:" + hashlib.sha256(joined).hexdigest()
        if names in self.was_clean:
            self.clean.add(names)
        elif self.kept(self.sweeper().scan_bytes(joined, "paths")):
            for relative in paths:
                hits += self.kept(self.sweeper().scan_path_name(relative))
        else:
            self.clean.add(names)
        return hits


SCREEN_BATCHES_PER_WORKER = 2  # a little balancing; each batch carries the pickled sweeper
_WORKER_SWEEPER: dict[str, Sweeper] = {}


def screen_batch(
    blob: bytes, root: str, batch: list[list[str]], was_clean: set[str]
) -> list[tuple[list[Hit], set[str], int, int]]:
    """In a worker: `TreeSweep.instance` for each instance's files in `batch`, with a
    sweeper of the parent's canaries (built once per process); per instance every hit (the
    parent keeps those that count), the identities found clean, how many frame files were
    covered and reused."""
    key = hashlib.sha256(blob).hexdigest()
    if key not in _WORKER_SWEEPER:
        _WORKER_SWEEPER.clear()
        _WORKER_SWEEPER[key] = Sweeper(pickle.loads(blob))
    results = []
    for files in batch:
        part = TreeSweep([], trust_verbatim=True, was_clean=was_clean, every_hit=True)
        part._sweeper = _WORKER_SWEEPER[key]
        hits = part.instance(files, Path(root))
        results.append((hits, part.clean, part.covered, part.reused))
    return results


def _json_values(node: Any, into: set[str]) -> None:
    """Every value in a DICOM JSON dataset (strings, numbers, person name parts, inline
    binary, sequence items), into `into`."""
    if isinstance(node, dict):
        for value in node.values():
            _json_values(value, into)
    elif isinstance(node, list):
        for value in node:
            _json_values(value, into)
    elif node is not None:
        into.add(str(node))


def _parents(relative: str) -> list[str]:
    """ "a/b/c" -> ["a", "a/b"]."""
    parts = relative.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]
