"""Incremental and deterministic builds: the cache, the deploy diff, and other executors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_site
from dicomgen import write_ct_series

from sitegen.build import BuildFailed, BuildReport, build
from sitegen.config import load_config

KEY = bytes(range(7, 39))
CASES = (
    '[[cases]]\nslug = "one"\ntitle = "One"\nsource = "one"\nhistory = "first text"\n'
    '[[cases]]\nslug = "two"\ntitle = "Two"\nsource = "two"\n'
)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def site(site_dir: Path) -> Path:
    write_ct_series(site_dir / "one", 3, seed="one")
    write_ct_series(site_dir / "two", 2, seed="two", series_number=4)
    (site_dir / ".sitegen").mkdir()
    (site_dir / ".sitegen/key").write_bytes(KEY)
    return write_site(site_dir, '[build]\nframes = "htj2k"\n' + CASES)


def test_two_clean_builds_are_byte_identical(site: Path) -> None:
    first = build(load_config(site), out_dir=site.parent / "a", workers=2, clean=True)
    second = build(load_config(site), out_dir=site.parent / "b", workers=1, clean=True)
    assert first.cached == second.cached == 0
    a, b = tree(site.parent / "a"), tree(site.parent / "b")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_noop_rebuild_reuses_everything_and_changes_nothing(site: Path) -> None:
    build(load_config(site), workers=1)
    before = tree(site.parent / "public")
    report = build(load_config(site), workers=1)
    assert report.cached == report.instances == 5
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert tree(site.parent / "public") == before


def test_text_edit_changes_only_that_case(site: Path) -> None:
    build(load_config(site), workers=1)
    site.write_text(site.read_text().replace("first text", "edited text"))
    report = build(load_config(site), workers=1)
    assert report.cached == 5
    assert report.added == [] and report.removed == []
    # that case's page and manifest, and the gallery's search index (it holds the text)
    assert report.changed and all("one" in n or n == "data/search.json" for n in report.changed)
    assert "data/cases/one.json" in report.changed


def test_touched_but_unchanged_input_is_still_a_hit(site: Path) -> None:
    build(load_config(site), workers=1)
    for path in (site.parent / "one").iterdir():
        path.write_bytes(path.read_bytes())  # new mtime, same bytes
    assert build(load_config(site), workers=1).cached == 5


def test_frames_setting_invalidates_the_cache(site: Path) -> None:
    build(load_config(site), workers=1)
    site.write_text(site.read_text().replace('frames = "htj2k"', 'frames = "jpegls"'))
    report = build(load_config(site), workers=1)
    assert report.cached == 0
    assert any(name.endswith("/frames/1") for name in report.changed)
    assert build(load_config(site), workers=1).cached == 5


def test_clean_ignores_the_cache(site: Path) -> None:
    build(load_config(site), workers=1)
    assert build(load_config(site), workers=1, clean=True).cached == 0


def test_removed_case_and_series_disappear(site: Path) -> None:
    build(load_config(site), workers=1)
    out = site.parent / "public"
    assert (out / "data/cases/two.json").exists()
    site.write_text(site.read_text().split('[[cases]]\nslug = "two"')[0])
    report = build(load_config(site), workers=1)
    assert not (out / "data/cases/two.json").exists()
    assert not (out / "downloads/two.zip").exists()
    assert "data/cases/two.json" in report.removed
    assert sum(1 for name in report.removed if "/frames/" in name) == 2
    assert report.instances == 3


def test_dask_local_cluster_build_equals_local_build(site: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local = build(load_config(site), out_dir=site.parent / "local", workers=1, clean=True)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        report = build(
            load_config(site),
            out_dir=site.parent / "dask",
            clean=True,
            executor=cluster.scheduler_address.replace("tcp://", "dask://"),
        )
    assert report.instances == local.instances == 5
    assert tree(site.parent / "dask") == tree(site.parent / "local")


def test_noop_fast_path_still_notices_a_deleted_output(site: Path) -> None:
    import shutil

    build(load_config(site), workers=1)
    shutil.rmtree(site.parent / "public")
    report = build(load_config(site), workers=1)
    assert report.published and (site.parent / "public/data/cases/one.json").is_file()
    assert len(report.added) > 10  # really written again, from the cache


def spare(site: Path) -> Path:
    return site.parent / ".public.sitegen-spare"


def clean_tree(site: Path) -> dict[str, bytes]:
    """What a clean build of the site's current state publishes (into another folder)."""
    build(load_config(site), out_dir=site.parent / "clean", workers=1, clean=True)
    return tree(site.parent / "clean")


def test_text_edit_links_the_unchanged_tree_and_equals_a_clean_build(site: Path) -> None:
    build(load_config(site), workers=1)
    out = site.parent / "public"
    kept = [
        next(out.glob("dicomweb/studies/*/series/*/metadata")),
        next(out.glob("dicomweb/studies/*/series/*/thumbnail")),
        next(out.glob("dicomweb/studies/*/series/*/instances/*/frames/1")),
        next(out.glob("dicom/*/*/*.dcm")),
        out / "downloads/one.zip",
    ]
    inodes = {path: path.stat().st_ino for path in kept}
    site.write_text(site.read_text().replace("first text", "edited text"))
    report = build(load_config(site), workers=1)
    assert report.cached == 5 and report.published
    # made from the same instances as the published tree: linked from it, not made again
    assert {path: path.stat().st_ino for path in kept} == inodes
    assert spare(site).is_dir()  # the old tree, kept for the next build to recycle
    assert tree(out) == clean_tree(site)


def test_a_recycled_spare_tree_leaves_nothing_of_its_own(site: Path) -> None:
    build(load_config(site), workers=1)
    site.write_text(site.read_text().replace("first text", "second text"))
    build(load_config(site), workers=1)
    # whatever the spare holds: a replaced frame, a stray file, a link, empty folders
    frame = next(spare(site).glob("dicomweb/studies/*/series/*/instances/*/frames/1"))
    frame.unlink()
    frame.write_bytes(b"not a frame")
    (spare(site) / "cases/stray.html").write_text("stray")
    (spare(site) / "link").symlink_to(site)
    (spare(site) / "empty/deeper").mkdir(parents=True)
    site.write_text(site.read_text().replace("second text", "third text"))
    assert build(load_config(site), workers=1).cached == 5
    assert tree(site.parent / "public") == clean_tree(site)
    assert not (site.parent / "public/link").exists()
    assert not (site.parent / "public/empty").exists()


def test_failed_rebuild_in_a_recycled_tree_leaves_public_untouched(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitegen.pipeline.pages as pages_phase

    build(load_config(site), workers=1)
    site.write_text(site.read_text().replace("first text", "second text"))
    build(load_config(site), workers=1)
    before = tree(site.parent / "public")

    def explode(*args: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pages_phase, "write_host_files", explode)  # after every other writer
    site.write_text(site.read_text().replace("second text", "third text"))
    with pytest.raises(OSError, match="disk full"):
        build(load_config(site), workers=1)
    assert tree(site.parent / "public") == before
    assert [p.name for p in site.parent.iterdir() if "sitegen-tmp" in p.name] == []
    monkeypatch.undo()
    assert build(load_config(site), workers=1).published
    assert tree(site.parent / "public") == clean_tree(site)


def test_a_name_typed_into_case_text_is_caught_on_a_text_edit(site: Path) -> None:
    """The sweep skips only bytes it found clean before: an edited page is read again."""
    from sitegen.build import BuildFailed

    build(load_config(site), workers=1)
    site.write_text(site.read_text().replace("first text", "seen by Vandermolen"))
    before = tree(site.parent / "public")
    with pytest.raises(BuildFailed) as info:
        build(load_config(site), workers=1)
    errors = "\n".join(info.value.report.errors)
    assert "identifying data would be published: cases/one/index.html" in errors
    assert "Vandermolen" not in errors
    assert tree(site.parent / "public") == before


def test_added_series_equals_a_clean_build(site: Path) -> None:
    build(load_config(site), workers=1)
    write_ct_series(site.parent / "two/more", 2, seed="two-more", series_number=5)
    report = build(load_config(site), workers=1)
    assert report.cached == 5 and report.instances == 7
    assert sum(1 for name in report.added if "/frames/" in name) == 2
    assert tree(site.parent / "public") == clean_tree(site)


def test_renamed_input_is_made_again(site: Path) -> None:
    """An input's names are canaries and order the instances: not taken from the cache."""
    build(load_config(site), workers=1)
    (site.parent / "one").rename(site.parent / "uno")
    site.write_text(site.read_text().replace('source = "one"', 'source = "uno"'))
    assert build(load_config(site), workers=1).cached == 2
    assert tree(site.parent / "public") == clean_tree(site)


def test_files_added_to_or_removed_from_public_are_not_carried_over(site: Path) -> None:
    """The published tree is linked from only for the files the last build made there."""
    build(load_config(site), workers=1)
    out = site.parent / "public"
    (out / "dicomweb/studies/index.json.gz").write_bytes(b"left by a deploy tool")
    next(out.glob("dicom/*/*/*.dcm")).unlink()
    site.write_text(site.read_text().replace("first text", "edited text"))
    report = build(load_config(site), workers=1)
    assert report.cached == 5
    assert not (out / "dicomweb/studies/index.json.gz").exists()
    assert tree(out) == clean_tree(site)


def test_the_last_builds_records_are_read_streamed_and_as_one_value(tmp_path: Path) -> None:
    """last-build.marshal is written as its state, then one (key, record) after another
    (as one value, 20,000 records took 340 MB to write); a file of the earlier sitegen, one
    value with its records inside, is still read: no rebuild from scratch after an upgrade."""
    import marshal

    from sitegen.cache import BuildCache
    from sitegen.cache_entries import _RECORD_VERSION

    cache = BuildCache(tmp_path)
    state = {"inputs": "i", "used": ["a", "b"], "page_values": ["gone"]}
    (tmp_path / "last-build.marshal").write_bytes(
        marshal.dumps((_RECORD_VERSION, {**state, "records": {"a": b"1", "b": b"2"}}))
    )
    assert cache.last.records == {"a": b"1", "b": b"2"} and cache.last.inputs == "i"
    with open(tmp_path / "last-build.marshal", "wb") as fh:
        marshal.dump((_RECORD_VERSION, state), fh)
        for key, record in (("a", b"1"), ("b", b"2")):
            marshal.dump((key, record), fh)
    again = BuildCache(tmp_path)
    assert again.last.records == {"a": b"1", "b": b"2"} and again.last.used == ["a", "b"]


def test_a_text_edit_starts_no_worker_process(site: Path, monkeypatch) -> None:
    """Every instance's files are linked unchanged and were found clean with the same
    canaries: neither the pixels nor the screen stage hands anything to a worker."""
    from sitegen import pool

    started: list[int] = []
    executor = pool.Workers.executor

    def counted(self: pool.Workers):  # type: ignore[no-untyped-def]
        started.append(1)
        return executor(self)

    monkeypatch.setattr(pool.Workers, "executor", counted)
    build(load_config(site), workers=2)
    assert started  # the first build's workers made and screened the instances
    started.clear()
    site.write_text(site.read_text().replace("first text", "edited text"))
    report = build(load_config(site), workers=2)
    assert report.published and report.cached == 5
    assert "data/cases/one.json" in report.changed
    assert started == []


def test_a_text_edit_imports_no_decoder(site: Path) -> None:
    """What a build that makes nothing needs is kept apart from pydicom, Pillow, imagecodecs
    and httpx: a text edit's process imports none of them (they are most of its start)."""
    import subprocess
    import sys

    build(load_config(site), workers=2)
    site.write_text(site.read_text().replace("first text", "edited text"))
    script = (
        "import sys; from sitegen.build import build; from sitegen.config import load_config;"
        f"r = build(load_config({str(site)!r}), workers=2);"
        "print(r.published, r.cached, sorted(m for m in ('pydicom', 'PIL', 'imagecodecs',"
        " 'httpx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "5", "[]"]


def test_a_text_edit_takes_the_frames_phase_output_of_the_last_build(
    site: Path, monkeypatch
) -> None:
    """The frames phase's output is kept with the published build and stands for the phase
    when the inputs, code and options are the same and the tree is carried: no outcome is
    read. Other options (--strict) or other inputs make the phase run again."""
    from sitegen.pipeline import frames

    made = frames._made
    runs: list[int] = []

    def counted(*args):  # type: ignore[no-untyped-def]
        runs.append(1)
        return made(*args)

    monkeypatch.setattr(frames, "_made", counted)

    def edit(text: str, strict: bool = False) -> BuildReport:
        config = site.read_text()
        site.write_text(config.replace(config.split('history = "')[1].split('"')[0], text, 1))
        return build(load_config(site), workers=1, strict=strict)

    build(load_config(site), workers=1)
    assert runs == [1]
    report = edit("edited text")
    assert runs == [1] and report.published and report.cached == 5
    assert "data/cases/one.json" in report.changed
    with pytest.raises(BuildFailed):  # --strict: the site's url warning fails it
        edit("strict text", strict=True)
    assert runs == [1, 1]  # another option: the phase runs
    report = edit("plain text")
    assert runs == [1, 1] and report.published  # the published build's options again
    write_ct_series(site.parent / "two", 1, seed="two-more", series_number=5)
    report = edit("more text")
    assert runs == [1, 1, 1] and report.cached < report.instances  # another input: it runs
    report = edit("last text")
    assert runs == [1, 1, 1] and report.cached == report.instances
    assert tree(site.parent / "public") == clean_tree(site)


def test_the_frames_output_is_kept_in_parts_and_joined_back() -> None:
    """Each part is pickled on its own (one pickle's memo of 20,000 instances was 100 MB):
    joined again, the instances keep their order, their files and the phase's notes."""
    import pickle

    from sitegen.model import Instance
    from sitegen.pipeline.frames import Made

    made = Made(notes=["a note"], said=[(False, "a warning")], bytes_in=7, bytes_out=3)
    for n in range(5):
        meta = {"00080018": {"vr": "UI", "Value": [f"2.25.{n}"]}}
        instance = Instance("2.25.1", "2.25.2", f"2.25.{n}", "one", f"f{n}", meta, [1], "1.2")
        made.instances.append(instance)
        made.files_of[id(instance)] = [f"frames/{n}"]
    parts = made.parts(size=2)
    assert len(parts) == 3
    back = Made.joined([pickle.loads(pickle.dumps(p)) for p in parts])
    assert [i.sop_uid for i in back.instances] == [f"2.25.{n}" for n in range(5)]
    assert [back.files_of[id(i)] for i in back.instances] == [[f"frames/{n}"] for n in range(5)]
    assert (back.notes, back.said, back.bytes_in, back.bytes_out) == (
        ["a note"],
        [(False, "a warning")],
        7,
        3,
    )
