"""The privacy sweep of a finished tree, shared by `sitegen build` and `sitegen check`.

Every file and every path of the output is searched for the union of all inputs' canaries,
frames, Part 10 files and zips included, so the build and `check` always agree. The only
files not read for canaries are verbatim copies of sitegen's own files (the viewer, the page
assets, the OHIF build), and those are *proved* by hash against sitegen's own copies: a file
there that differs is read like any other.

One sweeper looks for every canary; what it finds counts by kind of file (`counting`),
because the two kinds hold two kinds of fixed text:

* data (DICOM JSON, Part 10 files, frames, zips, manifests) hold sitegen's de-identification
  constants (DeidentificationMethod, code meanings): a canary that occurs there as a word
  ("Basic", "Profile") proves nothing in them;
* pages hold sitegen's templates too: a canary that occurs in them as a word ("Viewer") proves
  nothing in a page. Each still counts in the other kind of file.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache_entries import file_digest
from .deid import Canary, Sweeper, without_published_dates
from .deid._canary import mask, one_per_value
from .deid._options import OPTION_CODES, PROFILE_CODE
from .deid._sweep import Hit

if TYPE_CHECKING:
    pass

# What the data writers and the workers make from the instances alone.
FROM_INSTANCES = ("dicomweb/", "dicom/", "downloads/")
DATA_PREFIXES = (*FROM_INSTANCES, "data/", "dicomjson/")
VERBATIM_PREFIXES = ("viewer/", "assets/", "ohif/")
READ_WHOLE = 16 << 20  # bigger files are hashed and swept in blocks
SAME_BYTES_ABOVE = 4096  # a file this big that has the size of another is hashed: swept once


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


def unique_canaries(canaries: Iterable[Canary], metadata: list[dict[str, Any]]) -> list[Canary]:
    """One canary per value, less a date the site publishes (another patient's shifted
    date): what a tree's sweep looks for."""
    return without_published_dates(one_per_value(canaries), metadata)


def counting(sweeper: Sweeper) -> tuple[frozenset[str], frozenset[str]]:
    """The values of `sweeper`'s canaries that count (in data files, in pages): all but
    those that occur as words in sitegen's fixed text of that kind of file."""
    values = frozenset(c.value for c in sweeper.canaries)
    constants = {h.canary.value for h in sweeper.scan_bytes(_deid_constants().encode(), "own")}
    from .pages import own_text  # here: the workers import this module for the screen

    fixed = {h.canary.value for h in sweeper.scan_bytes(own_text().encode("utf-8"), "own")}
    return values - constants, values - fixed


_SWEEPERS: dict[tuple[Canary, ...], Sweeper] = {}


def sweeper_for(canaries: list[Canary]) -> Sweeper:
    """A Sweeper of these canaries, made once: a build sweeps its tree and masks its
    messages with the same set (and `sitegen check` after a build in one process)."""
    key = tuple(canaries)
    if key not in _SWEEPERS:
        if len(_SWEEPERS) >= 3:  # one build's sets at a time
            _SWEEPERS.clear()
        _SWEEPERS[key] = Sweeper(canaries)
    return _SWEEPERS[key]


PATH_ATTRIBUTES = frozenset({"file name", "folder name", "zip member name"})


def mask_messages(messages: list[str], canaries: Iterable[Canary]) -> list[str]:
    """The build's messages with the input values in the names of the files they are about
    masked ("Sm…th"): a folder named after the patient ("Smith_John/IM1") is named in a
    warning, and build output ends up in public CI logs. The file and folder names as such
    are not masked (every message names its file): what is masked is a name that is also
    the patient's name, ID or date in the DICOM."""
    if not messages:
        return messages
    clean = _masker(canaries)
    masked = []
    for message in messages:
        # input names: what comes before the first ": ", and any path in the rest (a warning
        # may name two files); the rest is sitegen's own words, left as they are
        label, colon, rest = message.partition(": ")
        rest = _PATH_TOKEN.sub(lambda m: clean(m.group(0)), rest)
        masked.append(clean(label) + colon + rest)
    return masked


def mask_hits(hits: list[Hit], canaries: Iterable[Canary]) -> list[Hit]:
    """Hits with the patient's values in their file names masked, as in `mask_messages`:
    the output path, and the input named as the canary's source."""
    if not hits:
        return hits
    clean = _masker(canaries)
    return [
        Hit(clean(h.path), h.value, replace(h.canary, source=clean(h.canary.source))) for h in hits
    ]


def _masker(canaries: Iterable[Canary]) -> Callable[[str], str]:
    """A name with every value of `canaries` in it masked (not the names of files passed
    over: every message names its file)."""
    sweeper = sweeper_for(list(canaries))  # the sweep's own, built once

    def clean(name: str) -> str:
        hits = sweeper.scan_bytes(name.encode("utf-8", "replace"), "message")
        found = {h.canary.value for h in hits if h.canary.attribute not in PATH_ATTRIBUTES}
        for value in sorted(found, key=len, reverse=True):
            name = re.sub(re.escape(value), mask(value), name, flags=re.IGNORECASE)
        return name

    return clean


_PATH_TOKEN = re.compile(r"[^\s:,()]*[/!][^\s:,()]*")


def is_data(relative: str) -> bool:
    return relative.startswith(DATA_PREFIXES)


@lru_cache(maxsize=8)
def _own_digests(ohif_key: tuple[Any, ...] | None) -> dict[str, str]:
    """sha256 of every verbatim file sitegen writes, made by its own installers in a scratch
    folder: the viewer (with the pinned decoder), the page assets and, for a site with OHIF,
    the OHIF build as rewritten for its base URL."""
    from .ohif import PACKAGES, copy_build, rewrite_public_path
    from .pages import STATIC
    from .vendor import fetch
    from .viewer import install_viewer

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
