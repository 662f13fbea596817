"""The output folder is sitegen's only where sitegen made it.

A publish swaps the whole output folder out (see publish.py) and the next build recycles what
was swapped out, deleting every file it does not make again. That is right for a tree sitegen
wrote and destroys anything else: an `out_dir = "docs"` that already held the author's own
notes, or `out_dir = "cases"` holding the case texts and their DICOM. So each published tree
carries a marker file, a folder without it is never replaced unless the author says so
(`--take-over`, after being told what would go), and an output that is, holds or lies inside
a case's files, the `.sitegen/` state, the key file or the home folder is refused outright.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .config import Site

MARKER = ".sitegen-output"
MARKER_TEXT = (
    "This folder was made by sitegen. Each build replaces all of it: keep nothing of yours here.\n"
)


def mark(tree: Path) -> None:
    """Write the marker into a tree about to be published."""
    (tree / MARKER).write_text(MARKER_TEXT)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _protected(site: Site) -> list[tuple[Path, str, bool]]:
    """(path, what it is, whether an output inside it is allowed)."""
    found: list[tuple[Path, str, bool]] = [
        (site.root, "the site folder", True),
        ((site.root / ".sitegen").resolve(), "sitegen's state folder .sitegen/", False),
        ((site.root / site.deid.key_file).resolve(), "the key file (deid.key_file)", False),
        (site.config_file.resolve(), "the site configuration", False),
        (Path.home().resolve(), "your home folder", True),
    ]
    for case in site.cases:
        if case.file:
            text = (site.root / case.file).resolve()
            if text.name == "case.md" and text.parent != site.root:  # text, images, notes
                found.append((text.parent, f'the folder of case "{case.slug}"', False))
            found.append((text, f'the text of case "{case.slug}"', False))
        if not case.is_sample() and not case.is_url():
            found.append((site.source_path(case), f'the images of case "{case.slug}"', False))
    return found


def problems(site: Site, out: Path, take_over: bool = False) -> list[str]:
    """Why `out` must not be built into (empty when it may). `out` is resolved."""
    for path, what, may_hold_out in _protected(site):
        if _inside(path, out) or (not may_hold_out and _inside(out, path)):
            where = "holds" if path != out and _inside(path, out) else "is or lies inside"
            return [f"{out}: the output folder {where} {what} ({path}); choose another out_dir"]
    if not out.exists() and not out.is_symlink():
        return []
    if out.is_symlink() or not out.is_dir():
        return [f"{out}: the output folder is not a folder sitegen made; choose another out_dir"]
    if take_over or (out / MARKER).is_file() or _last_published(site, out):
        return []
    names = sorted(entry.name for entry in os.scandir(out))
    if not names:
        return []
    count = sum(len(files) + len(dirs) for _, dirs, files in os.walk(out))
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return [
        f"{out}: the output folder holds files sitegen did not make ({shown}; {count} in all). "
        "Each build replaces the whole output folder, so sitegen never takes over a folder it "
        "did not create: choose another out_dir, or run `sitegen build --take-over` to delete "
        f"these {count} files and build there"
    ]


def _last_published(site: Site, out: Path) -> bool:
    """A tree published before trees carried the marker: the state says sitegen made it."""
    try:
        last = json.loads((site.root / ".sitegen/cache/last-build.json").read_text())
        return last["out"] == str(out) and last["out_inode"] == out.stat().st_ino
    except (OSError, ValueError, KeyError, TypeError):
        return False
