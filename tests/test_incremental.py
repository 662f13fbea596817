"""Incremental and deterministic builds: the cache, the deploy diff, and other executors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_site
from dicomgen import write_ct_series

from sitegen.build import build
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
