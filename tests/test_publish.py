"""Atomic publish helpers: recycling the spare tree and the deploy diff."""

from __future__ import annotations

import os
from pathlib import Path

from sitegen import publish


def test_reuse_keeps_linked_files_and_removes_everything_else(tmp_path: Path) -> None:
    cache, tree = tmp_path / "cache", tmp_path / "tree"
    cache.mkdir()
    for name in ("a", "b", "c"):
        (cache / name).write_bytes(name.encode())
    (tree / "x/y").mkdir(parents=True)
    os.link(cache / "a", tree / "x/y/a")  # the right file already: stays
    (tree / "x/b").write_bytes(b"b")  # same bytes, another inode: replaced by the link
    (tree / "stale/deep").mkdir(parents=True)
    (tree / "stale/deep/old").write_bytes(b"old")
    (tree / "odd").symlink_to(cache / "a")
    a_inode = (tree / "x/y/a").stat().st_ino
    keep = {
        "x/y/a": str(cache / "a"),
        "x/b": str(cache / "b"),
        "new/c": str(cache / "c"),
        "new/gone": str(cache / "gone"),
    }
    missing = publish.reuse(tree, keep)
    assert missing == {"new/gone"}
    files = publish.listing(tree)
    assert sorted(files) == ["new/c", "x/b", "x/y/a"]
    assert (tree / "x/y/a").stat().st_ino == a_inode
    for relative in files:
        assert os.path.samefile(tree / relative, keep[relative])
    assert not (tree / "stale").exists() and not (tree / "odd").is_symlink()


def test_reuse_never_writes_into_a_shared_file(tmp_path: Path) -> None:
    published, tree = tmp_path / "public", tmp_path / "tree"
    published.mkdir()
    tree.mkdir()
    (published / "page.html").write_text("published")
    os.link(published / "page.html", tree / "page.html")
    publish.reuse(tree, {})
    (tree / "page.html").write_text("new build")  # what a writer does next
    assert (published / "page.html").read_text() == "published"


def test_publish_keeps_the_old_tree_as_the_spare(tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = publish.new_temp_dir(out)
    (first / "index.html").write_text("one")
    publish.swap_in(first, out)  # a first publish: the spare is a linked copy
    spare = publish.take_spare(out)
    assert spare is not None and (spare / "index.html").samefile(out / "index.html")
    publish.reuse(spare, {})
    (spare / "index.html").write_text("two")
    publish.swap_in(spare, out)
    assert (out / "index.html").read_text() == "two"
    again = publish.take_spare(out)
    assert again is not None and (again / "index.html").read_text() == "one"
    publish.keep_spare(again, out)
    assert publish.take_spare(out) is not None


def test_diff_trees_by_inode_then_bytes(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for name, text in (("same", "s"), ("copied", "c"), ("changed", "x"), ("removed", "r")):
        (old / name).write_text(text)
    os.link(old / "same", new / "same")
    (new / "copied").write_text("c")
    (new / "changed").write_text("y")
    (new / "added").write_text("a")
    diff = publish.diff_trees(publish.listing(new), publish.listing(old))
    assert diff == (["added"], ["changed"], ["removed"])
