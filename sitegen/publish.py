"""Atomic publish: build beside the output folder (or in the site's .sitegen/publish, see
`home_for`), then swap it in.

A failed or interrupted build never touches the published folder: the new site is written to
a sibling temporary folder and exchanged with the old one in one rename (Linux
renameat2(RENAME_EXCHANGE)), or two renames where that call is missing. Leftovers of a killed
build are cleaned (or, for a half-done swap, restored) at the start of the next one.

The tree a swap takes out is not deleted but kept beside the output as the *spare*
(`.public.sitegen-spare`), and the next build recycles it as its temporary folder: files it
would link from the build cache again are there already, so a rebuild creates and deletes only
what changed instead of a thousand folders and links. The spare shares files (hard links) with
the published tree and the cache, so nothing in it is ever written into: `reuse` deletes every
file the build does not link again before anything is written.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import filecmp
import functools
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def home_for(out: Path, root: Path) -> Path:
    """Where builds keep their state for `out` (temporary tree, spare, lock): beside it when
    it is a folder of the site's own (public/), else in <root>/.sitegen/publish, so that an
    upload of the folder that holds `out` takes none of it; beside it all the same when that
    is on another filesystem (a swap is a rename)."""
    if out.parent == root:
        return root
    state = root / ".sitegen" / "publish"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True)
        state.chmod(0o700)  # private like the rest of .sitegen/
        if state.stat().st_dev == out.parent.stat().st_dev:
            return state
    except OSError:
        pass
    return out.parent


def _name(out: Path, home: Path | None) -> tuple[Path, str]:
    """(the folder, the name stem) of `out`'s state files: `.public.sitegen-*` beside it, or
    `<name>-<hash of its path>.sitegen-*` in a shared home (two outputs may share a name)."""
    if home is None or home == out.parent:
        return out.parent, f".{out.name}"
    return home, f"{out.name}-{hashlib.sha256(str(out).encode()).hexdigest()[:10]}"


def _tmp_prefix(out: Path, home: Path | None) -> str:
    return _name(out, home)[1] + ".sitegen-tmp-"


def _old_prefix(out: Path, home: Path | None) -> str:
    return _name(out, home)[1] + ".sitegen-old-"


@contextlib.contextmanager
def locked(out: Path, home: Path | None = None) -> Iterator[None]:
    """One build at a time per output folder."""
    folder, stem = _name(out, home)
    folder.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{stem}.sitegen-lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another build is writing {out}") from None
        yield


def recover(out: Path, home: Path | None = None) -> None:
    """Undo what a killed build left: restore a half-swapped output, drop temp folders."""
    folder, _ = _name(out, home)
    olds = sorted(folder.glob(_old_prefix(out, home) + "*"))
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for leftover in olds + sorted(folder.glob(_tmp_prefix(out, home) + "*")):
        shutil.rmtree(leftover, ignore_errors=True)


def new_temp_dir(out: Path, home: Path | None = None) -> Path:
    folder, _ = _name(out, home)
    tmp = folder / f"{_tmp_prefix(out, home)}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir(parents=True)
    return tmp


@functools.cache
def _renameat2() -> Any:
    """libc's renameat2, or None; looked up once (find_library runs a program)."""
    with contextlib.suppress(AttributeError):
        return ctypes.CDLL(None, use_errno=True).renameat2  # the C library already loaded
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            return ctypes.CDLL(name, use_errno=True).renameat2
    return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _spare(out: Path, home: Path | None) -> Path:
    folder, stem = _name(out, home)
    return folder / f"{stem}.sitegen-spare"


def take_spare(out: Path, home: Path | None = None) -> Path | None:
    """The spare tree, moved to a new temporary folder to build in, or None."""
    folder, _ = _name(out, home)
    tmp = folder / f"{_tmp_prefix(out, home)}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.rename(_spare(out, home), tmp)
    except FileNotFoundError:
        return None
    return tmp


def keep_spare(tree: Path, out: Path, home: Path | None = None) -> None:
    """Keep an unpublished tree as the next build's spare (or delete it: one spare is enough)."""
    try:
        os.rename(tree, _spare(out, home))
    except OSError:
        shutil.rmtree(tree, ignore_errors=True)


def swap_in(tmp: Path, out: Path, home: Path | None = None) -> None:
    """Make `tmp` the published `out`; the old output becomes the spare. A first publish
    leaves a copy of its tree (hard links) as the spare."""
    if not out.exists():
        os.rename(tmp, out)
        if not _spare(out, home).exists():
            try:
                _link_copy(out, tmp)
                keep_spare(tmp, out, home)
            except OSError:  # published all the same; the next build starts afresh
                shutil.rmtree(tmp, ignore_errors=True)
        return
    if _exchange(tmp, out):
        keep_spare(tmp, out, home)  # tmp now holds the old site
        return
    folder, _ = _name(out, home)
    old = folder / f"{_old_prefix(out, home)}{os.getpid()}"
    os.rename(out, old)
    os.rename(tmp, out)
    keep_spare(old, out, home)


def _link_copy(src: Path, dest: Path) -> None:
    """`dest` with every folder of `src` and a hard link to each of its files."""
    folders: list[str] = []
    files = listing(src, folders)
    dest.mkdir()
    for folder in sorted(folders):  # parents first
        os.mkdir(f"{dest}/{folder}")
    for relative, entry in files.items():
        try:
            os.link(entry.path, f"{dest}/{relative}")
        except OSError:
            shutil.copy2(entry.path, f"{dest}/{relative}")


def reuse(tree: Path, keep: Mapping[str, str | os.DirEntry[str]]) -> set[str]:
    """Make a recycled `tree` hold the files of `keep` (relative path -> the file it must be a
    hard link to: a path, or an entry of a `listing` of a folder beside the tree) and nothing
    else, before the build writes anything into it.

    A file linked to the right inode already stays; every other file goes (it may be a link to
    a published or cached file: writing into it would change that file too), and so do the
    folders left empty. Returns the paths of `keep` whose source is missing."""
    folders: list[str] = []
    others: list[str] = []
    have = listing(tree, folders, others)
    device = os.stat(tree).st_dev
    kept: set[str] = set()
    for relative, entry in have.items():
        src = keep.get(relative)
        if src is not None and entry.inode() == _inode(src, device):
            kept.add(relative)
            continue
        os.unlink(entry.path)
    for relative in others:  # symbolic links and the like: a build never makes them
        os.unlink(f"{tree}/{relative}")
    needed: set[str] = set()
    for relative in keep:
        parent = os.path.dirname(relative)
        while parent and parent not in needed:
            needed.add(parent)
            parent = os.path.dirname(parent)
    for folder in sorted(set(folders) - needed, key=len, reverse=True):  # children first
        try:
            os.rmdir(f"{tree}/{folder}")
        except OSError:
            shutil.rmtree(f"{tree}/{folder}", ignore_errors=True)
    made = set(folders) & needed
    missing: set[str] = set()
    for relative, src in keep.items():
        if relative in kept:
            continue
        parent = os.path.dirname(relative)
        if parent and parent not in made:
            os.makedirs(f"{tree}/{parent}", exist_ok=True)
            made.add(parent)
        path = src if isinstance(src, str) else src.path
        try:
            os.link(path, f"{tree}/{relative}")
        except FileNotFoundError:
            missing.add(relative)
        except OSError:  # another file system
            shutil.copy2(path, f"{tree}/{relative}")
    return missing


def _inode(src: str | os.DirEntry[str], device: int) -> int | None:
    """The inode of a file if it is on `device` (an entry beside the tree is: free)."""
    if not isinstance(src, str):
        return src.inode()
    try:
        st = os.stat(src)
    except FileNotFoundError:
        return None
    return st.st_ino if st.st_dev == device else None


def listing(
    root: Path | str, folders: list[str] | None = None, others: list[str] | None = None
) -> dict[str, os.DirEntry[str]]:
    """Every file below `root` by relative path (os.scandir: inodes come free); the relative
    paths of its folders and of anything else (symbolic links...) go to `folders`, `others`."""
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
                if folders is not None:
                    folders.append(rel)
            elif entry.is_file(follow_symlinks=False):
                found[rel] = entry
            elif others is not None:
                others.append(rel)
    return found


def diff_trees(
    new_files: dict[str, os.DirEntry[str]], old_files: dict[str, os.DirEntry[str]]
) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) files of a new tree against the old: the deploy diff, from
    their `listing`s. Files linked from the build cache or the old tree are unchanged when
    they are the same inode, without reading them."""
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
