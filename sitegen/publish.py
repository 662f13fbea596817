"""Atomic publish: build beside the output folder, then swap it in.

A failed or interrupted build never touches the published folder: the new site is written to
a sibling temporary folder and exchanged with the old one in one rename (Linux
renameat2(RENAME_EXCHANGE)), or two renames where that call is missing. Leftovers of a killed
build are cleaned (or, for a half-done swap, restored) at the start of the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import filecmp
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _tmp_prefix(out: Path) -> str:
    return f".{out.name}.sitegen-tmp-"


def _old_prefix(out: Path) -> str:
    return f".{out.name}.sitegen-old-"


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """One build at a time per output folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.sitegen-lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another build is writing {out}") from None
        yield


def recover(out: Path) -> None:
    """Undo what a killed build left: restore a half-swapped output, drop temp folders."""
    olds = sorted(out.parent.glob(_old_prefix(out) + "*"))
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for leftover in olds + sorted(out.parent.glob(_tmp_prefix(out) + "*")):
        shutil.rmtree(leftover, ignore_errors=True)


def new_temp_dir(out: Path) -> Path:
    tmp = out.parent / f"{_tmp_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir(parents=True)
    return tmp


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    rc = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def swap_in(tmp: Path, out: Path) -> None:
    """Make `tmp` the published `out`; the old output is removed afterwards."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp)  # tmp now holds the old site
        return
    old = out.parent / f"{_old_prefix(out)}{os.getpid()}"
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old)


def listing(root: Path) -> dict[str, os.DirEntry[str]]:
    """Every file below `root` by relative path (os.scandir: inodes come free)."""
    found: dict[str, os.DirEntry[str]] = {}
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((rel + "/", entry.path))
            elif entry.is_file(follow_symlinks=False):
                found[rel] = entry
    return found


def diff_trees(new: Path, old: Path) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) files of `new` against `old`: the deploy diff. Files linked
    from the build cache are unchanged when they are the same inode, without reading them."""
    new_files, old_files = listing(new), listing(old)
    added, changed = [], []
    for rel, entry in sorted(new_files.items()):
        before = old_files.get(rel)
        if before is None:
            added.append(rel)
        elif entry.inode() != before.inode():
            a, b = entry.stat(), before.stat()
            if a.st_size != b.st_size or not filecmp.cmp(entry.path, before.path, shallow=False):
                changed.append(rel)
    removed = sorted(set(old_files) - set(new_files))
    return added, changed, removed
