"""The packed frame layout ([build] pack = N): the plan, the bytes, the sweep of the packs,
the configuration, and what `sitegen check --host` offers a site over a host's file count."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from conftest import write_site
from dicomgen import write_ct_series

from sitegen import hostcheck
from sitegen.build import BuildFailed, build
from sitegen.config import ConfigError, load_config
from sitegen.model import Instance, group
from sitegen.packs import MIB, plan

KEY = b"sitegen-test-key-0123456789abcde"
CASE = '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct"\nburned_in = "allow"\n'


def _series(sizes: list[list[int]]):  # noqa: ANN202
    """A study of one series whose instances have frames of these sizes."""
    instances = [
        Instance("1.2", "1.2.3", f"1.2.3.{n}", "c", f"IM{n}", {}, frames, "1.2.840.10008.1.2.1")
        for n, frames in enumerate(sizes, start=1)
    ]
    (study,) = group(instances)
    return study, study.series[0]


def test_plan_fills_each_pack_up_to_the_limit_in_display_order() -> None:
    study, series = _series([[400_000], [400_000], [400_000], [3 * MIB], [10], [MIB]])
    places = plan(study, series, 1)
    packs = [p.pack.rsplit("/", 1)[1] for p in places]
    assert packs == ["1", "1", "2", "3", "4", "5"]  # a frame over the limit: a pack alone
    assert [p.offset for p in places] == [0, 400_000, 0, 0, 0, 0]
    assert [p.size for p in places] == [400_000, 400_000, 400_000, 3 * MIB, 10, MIB]
    study, series = _series([[300_000, 300_000, 300_000, 300_000]])  # one multi-frame instance
    assert [(p.pack[-1], p.offset) for p in plan(study, series, 1)] == [
        ("1", 0), ("1", 300_000), ("1", 600_000), ("2", 0),
    ]  # fmt: skip


def _site(root: Path, build_table: str, slices: int = 8) -> Path:
    write_ct_series(root / "cases/ct", slices, rows=128, cols=128)
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    return write_site(root, f"[build]\nworkers = 1\n{build_table}\n{CASE}")


def test_a_packed_site_holds_every_frame_byte_for_byte_in_fewer_files(tmp_path: Path) -> None:
    files = _site(tmp_path / "files", "")
    packed = _site(tmp_path / "packed", "pack = 1")
    for config in (files, packed):
        report = build(load_config(config), workers=1)
        assert report.published, report.errors
    a, b = files.parent / "public", packed.parent / "public"
    frames_a = json.loads((a / "data/cases/ct.json").read_text())["studies"][0]["series"][0]
    frames_b = json.loads((b / "data/cases/ct.json").read_text())["studies"][0]["series"][0]
    assert len(frames_a["frames"]) == len(frames_b["frames"]) == 8
    for one, two in zip(frames_a["frames"], frames_b["frames"], strict=True):
        assert "url" not in two and two["position"] == one["position"]
        data = (b / two["pack"]).read_bytes()[two["offset"] : two["offset"] + two["bytes"]]
        assert data == (a / one["url"]).read_bytes()
    assert not list(b.glob("dicomweb/**/frames")) and not list(b.glob("dicomweb/**/instances/*/"))
    count = lambda root: sum(1 for p in root.rglob("*") if p.is_file())  # noqa: E731
    assert count(a) - count(b) == 8 - len({f["pack"] for f in frames_b["frames"]})
    # the Part 10 files and the DICOMweb metadata are those of the unpacked site
    for part10 in a.glob("dicom/**/*.dcm"):
        assert (b / part10.relative_to(a)).read_bytes() == part10.read_bytes()
    assert "frames/" not in (b / "_headers").read_text()
    # a rebuild with nothing changed stays packed; one with a changed case text too
    assert build(load_config(packed), workers=1).published
    packed.write_text(packed.read_text().replace('title = "CT"', 'title = "CT 2"'))
    report = build(load_config(packed), workers=1)
    assert report.published, report.errors
    again = json.loads((b / "data/cases/ct.json").read_text())["studies"][0]["series"][0]
    assert again["frames"] == frames_b["frames"]
    assert all((b / f["pack"]).is_file() for f in again["frames"])


def _harrowgate(folder: Path) -> None:
    """Raw 8x8 slices whose pixel bytes begin "gate" and end "Harrow": no slice holds the
    patient's name, but any two of them back to back do."""
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        ds.PatientName = "Harrowgate^Ivo"
        ds.PixelData = b"gate" + b"\0" * 118 + b"Harrow"
        ds.save_as(path, enforce_file_format=True)


def test_a_value_split_across_two_slices_is_found_whole_in_their_pack(tmp_path: Path) -> None:
    for name, table in (("files", 'frames = "raw"'), ("packed", 'frames = "raw"\npack = 1')):
        root = tmp_path / name
        write_ct_series(root / "cases/ct", 3, rows=8, cols=8)
        _harrowgate(root / "cases/ct")
        config = write_site(root, f"[build]\nworkers = 1\n{table}\n{CASE}")
        if name == "files":  # each frame file and Part 10 file alone is clean
            report = build(load_config(config), workers=1)
            assert report.published, report.errors
            continue
        with pytest.raises(BuildFailed) as err:
            build(load_config(config), workers=1)
        errors = err.value.report.errors
        assert any(
            "identifying data would be published: dicomweb/" in e and "/packs/1" in e
            for e in errors
        ), errors
        assert not (root / "public").exists()  # nothing was published


def test_pack_settings_are_checked_with_everything_else(tmp_path: Path) -> None:
    config = write_site(
        tmp_path,
        '[build]\npack = 21\nframes = "nope"\n\n[[cases]]\nslug = "a"\ntitle = "A"\nsource = "a"\n',
    )
    with pytest.raises(ConfigError) as err:
        load_config(config)
    keys = {p.key for p in err.value.problems}
    assert {"build.pack", "build.frames"} <= keys
    for build_table, ohif, key in (
        ("pack = 4\ndownloads = false", "enabled = true", "build.pack"),
        ("pack = 4", 'enabled = true\ndata_source = "dicomweb"', "ohif.data_source"),
    ):
        config = write_site(tmp_path, f"[build]\n{build_table}\n\n[ohif]\n{ohif}\n")
        with pytest.raises(ConfigError) as err:
            load_config(config)
        assert [p.key for p in err.value.problems] == [key]
    config = write_site(tmp_path, "[build]\npack = 4\ndownloads = false\n")  # no OHIF: fine
    assert load_config(config).build.pack == 4


def test_check_host_offers_packing_to_a_site_over_the_file_count(tmp_path: Path) -> None:
    public = tmp_path / "public"
    series = public / "dicomweb/studies/1.2/series/1.2.3"
    for n in range(40):
        frame = series / f"instances/1.2.3.{n}/frames/1"
        frame.parent.mkdir(parents=True)
        frame.write_bytes(b"x" * 300_000)  # 12 MB: 3 packs of 4 MiB
    stats = hostcheck.scan_tree(public)
    assert stats.frame_files == 40
    tiny = hostcheck.Host("tiny", "Tiny", max_files=20)
    (fix,) = [f for f in hostcheck.fixes(stats, tiny) if f.startswith("[build] pack = 4")]
    assert "40 frame files -> about 3 (the site: about 3 files)" in fix
    assert "OHIF opens studies over DICOM JSON" in fix
