"""The privacy sweep of a finished tree, shared by `sitegen build` and `sitegen check`.

Every file and every path of the output is searched for the union of all inputs' canaries,
frames, Part 10 files and zips included, so the build and `check` always agree. The only
files not read for canaries are verbatim copies of sitegen's own files (the viewer, the page
assets, the OHIF build), and those are *proved* by hash against sitegen's own copies: a file
there that differs is read like any other.

Two canary sets, because the two kinds of files hold two kinds of fixed text:

* data (DICOM JSON, Part 10 files, frames, zips, manifests) hold sitegen's de-identification
  constants (DeidentificationMethod, code meanings): a canary that occurs there as a word
  ("Basic", "Profile") proves nothing in them;
* pages hold sitegen's templates too: a canary that occurs in them as a word ("Viewer") proves
  nothing in a page. Both still count everywhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .cache import file_digest
from .deid import Canary, Sweeper, without_published_dates
from .deid._canary import mask
from .deid._options import OPTION_CODES, PROFILE_CODE
from .deid._sweep import Hit
from .pages import STATIC, own_text
from .viewer import install_viewer

# What the data writers and the workers make from the instances alone.
FROM_INSTANCES = ("dicomweb/", "dicom/", "downloads/")
DATA_PREFIXES = (*FROM_INSTANCES, "data/", "dicomjson/")
VERBATIM_PREFIXES = ("viewer/", "assets/", "ohif/")
READ_WHOLE = 16 << 20  # bigger files are hashed and swept in blocks


def is_verbatim(relative: str) -> bool:
    """Files copied unchanged from sitegen or a pinned npm package (proved by hash)."""
    return relative.startswith(VERBATIM_PREFIXES) and relative != "ohif/app-config.js"


def _deid_constants() -> str:
    """The values sitegen itself writes into every de-identified instance."""
    from . import __version__

    texts = [
        "PS3.15 E.1 Basic Application Confidentiality Profile",
        f"sitegen {__version__}",
        "MODIFIED REMOVED YES DCM ANONYMIZED",
        PROFILE_CODE[1],
        *[f"option {name} {meaning}" for name, (_, meaning) in OPTION_CODES.items()],
    ]
    # the keys and fixed words of the data writers (viewer manifests, DICOM JSON, lists)
    writers = Path(__file__).parent / "writers"
    texts += [path.read_text(encoding="utf-8") for path in sorted(writers.glob("*.py"))]
    return "\n".join(texts)


def split_canaries(
    canaries: Iterable[Canary], metadata: list[dict[str, Any]]
) -> tuple[list[Canary], list[Canary]]:
    """(for data files, for pages): one canary per value, less a date the site publishes
    (another patient's shifted date), less those that occur as words in sitegen's fixed text
    of that kind of file."""
    unique = without_published_dates(list({c.value: c for c in canaries}.values()), metadata)
    if not unique:
        return [], []
    sweeper = Sweeper(unique)
    constants = {h.canary.value for h in sweeper.scan_bytes(_deid_constants().encode(), "own")}
    data = [c for c in unique if c.value not in constants]
    fixed = {h.canary.value for h in sweeper.scan_bytes(own_text().encode("utf-8"), "own")}
    pages = [c for c in data if c.value not in fixed]
    return data, pages


PATH_ATTRIBUTES = frozenset({"file name", "folder name", "zip member name"})


def mask_messages(messages: list[str], canaries: Iterable[Canary]) -> list[str]:
    """The build's messages with the input values in the names of the files they are about
    masked ("Sm…th"): a folder named after the patient ("Smith_John/IM1") is named in a
    warning, and build output ends up in public CI logs. The file and folder names as such
    are not masked (every message names its file): what is masked is a name that is also
    the patient's name, ID or date in the DICOM."""
    if not messages:
        return messages
    values = [c for c in canaries if c.attribute not in PATH_ATTRIBUTES]
    if not values:
        return messages
    sweeper = Sweeper(values)

    def clean(name: str) -> str:
        hits = sweeper.scan_bytes(name.encode("utf-8", "replace"), "message")
        for value in sorted({h.canary.value for h in hits}, key=len, reverse=True):
            name = re.sub(re.escape(value), mask(value), name, flags=re.IGNORECASE)
        return name

    masked = []
    for message in messages:
        # input names: what comes before the first ": ", and any path in the rest (a warning
        # may name two files); the rest is sitegen's own words, left as they are
        label, colon, rest = message.partition(": ")
        rest = _PATH_TOKEN.sub(lambda m: clean(m.group(0)), rest)
        masked.append(clean(label) + colon + rest)
    return masked


_PATH_TOKEN = re.compile(r"[^\s:,()]*[/!][^\s:,()]*")


def is_data(relative: str) -> bool:
    return relative.startswith(DATA_PREFIXES)


@lru_cache(maxsize=8)
def _own_digests(ohif_key: tuple[Any, ...] | None) -> dict[str, str]:
    """sha256 of every verbatim file sitegen writes, made by its own installers in a scratch
    folder: the viewer (with the pinned decoder), the page assets and, for a site with OHIF,
    the OHIF build as rewritten for its base URL."""
    from .ohif import PACKAGES, copy_build, rewrite_public_path
    from .vendor import fetch

    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sitegen-own-") as scratch:
        root = Path(scratch)
        install_viewer(root, offline=True)
        (root / "assets").mkdir()
        for item in STATIC.iterdir():
            if item.is_file():
                shutil.copyfile(item, root / "assets" / item.name)
        if ohif_key is not None:
            version, keep, base_url = ohif_key
            dist = fetch(PACKAGES[version], offline=True) / "dist"
            copy_build(dist, root / "ohif", keep)
            rewrite_public_path(root / "ohif", base_url)
        for path in root.rglob("*"):
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                if is_verbatim(relative):
                    digests[relative] = file_digest(path)
    return digests


def own_digests(ohif: tuple[str, tuple[str, ...], str] | None) -> dict[str, str]:
    """See `_own_digests`; `ohif` is (version, keep, base_url), or None without OHIF. A
    missing vendor package (offline, never fetched) proves nothing: {}."""
    try:
        return _own_digests(ohif)
    except Exception:  # noqa: BLE001 - nothing proved: every file is read instead
        return {}


@dataclass
class TreeSweep:
    """Sweeps the files of a tree; remembers by identity (device, inode, size, mtime) what
    it found clean, so a rebuild does not read again files linked unchanged from the cache
    (same canaries and code: `was_clean` comes from a build with the same sweep key)."""

    data: list[Canary]
    pages: list[Canary]
    own: dict[str, str] = field(default_factory=dict)  # verbatim relative path -> sha256
    trust_verbatim: bool = False  # the build: it copied them from sitegen itself just now
    was_clean: set[str] = field(default_factory=set)
    clean: set[str] = field(default_factory=set)
    reused: int = 0
    unproved: list[str] = field(default_factory=list)  # verbatim files that were not sitegen's
    _sweepers: dict[bool, Sweeper] = field(default_factory=dict)

    def sweeper(self, data: bool) -> Sweeper:
        if data not in self._sweepers:
            self._sweepers[data] = Sweeper(self.data if data else self.pages)
        return self._sweepers[data]

    @staticmethod
    def identity(entry: os.DirEntry[str] | Path) -> str:
        st = entry.stat()
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"

    def file(self, relative: str, entry: os.DirEntry[str] | Path) -> list[Hit]:
        """The hits in one file (none for a verbatim file proved to be sitegen's)."""
        path = Path(entry.path) if isinstance(entry, os.DirEntry) else entry
        if is_verbatim(relative):
            if self.trust_verbatim:
                return []
            expected = self.own.get(relative)
            if expected is not None and file_digest(path) == expected:
                return []
            self.unproved.append(relative)
        identity = self.identity(entry)
        if identity in self.was_clean:
            self.reused += 1
            self.clean.add(identity)
            return []
        sweeper = self.sweeper(is_data(relative))
        if path.stat().st_size > READ_WHOLE:
            hits = sweeper.scan_file(path, relative)
        else:
            hits = sweeper.scan_bytes(path.read_bytes(), relative)
        if not hits:
            self.clean.add(identity)
        return hits

    def zip_names(self, zips: dict[str, os.DirEntry[str]]) -> list[Hit]:
        """The member names and comments of zips (their members are swept as files; a file
        that is not a readable zip is read as bytes by `tree` like any other)."""
        hits: list[Hit] = []
        for relative, entry in sorted(zips.items()):
            try:
                with zipfile.ZipFile(entry.path) as zf:
                    names = [i.filename for i in zf.infolist()]
                    comments = [zf.comment, *(i.comment for i in zf.infolist())]
            except (zipfile.BadZipFile, OSError):
                continue
            text = "\n".join(names).encode("utf-8") + b"\n" + b"\n".join(comments)
            hits += self.sweeper(True).scan_bytes(text, relative)
        return hits

    def tree(
        self,
        files: dict[str, os.DirEntry[str]],
        folders: list[str],
        done: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> list[Hit]:
        """Every file not in `done` (swept already with these canaries), and every path."""
        hits: list[Hit] = []
        for relative in sorted(files):
            if relative not in done:
                hits += self.file(relative, files[relative])
        # every name in one pass (not again when the same names were clean with these
        # canaries); only when something is found, name by name to say where
        joined = "\n".join(sorted([*files, *folders])).encode("utf-8")
        names = "paths:" + hashlib.sha256(joined).hexdigest()
        if names in self.was_clean:
            self.clean.add(names)
        elif self.sweeper(True).scan_bytes(joined, "paths"):
            for relative in sorted([*files, *folders]):
                hits += self.sweeper(True).scan_path_name(relative)
        else:
            self.clean.add(names)
        return hits
