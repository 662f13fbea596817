"""The hostile site (tests/adversary.py): 100+ planted identifiers, none reaches public/ by
any channel, the build and `sitegen check` agree, and what cannot be cleaned is refused by
name while the rest publishes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from adversary import B_NAME, hunt, make_site

from sitegen import treesweep
from sitegen.build import build
from sitegen.cache import BuildCache
from sitegen.check import check_site
from sitegen.config import load_config
from sitegen.deid import Canary
from sitegen.publish import listing


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str]]]:
    root = tmp_path_factory.mktemp("hostile")
    config, planted = make_site(root)
    return config, planted


@pytest.fixture(scope="module")
def built(hostile: tuple[Path, list[tuple[str, str]]]):  # noqa: ANN201 - a build report
    config, _ = hostile
    return build(load_config(config), workers=2)


def test_the_corpus_plants_100_values_the_hunter_finds_in_the_inputs(hostile) -> None:
    """The hunter is not blind: it finds the planted values in the inputs themselves."""
    config, planted = hostile
    assert len(planted) >= 100
    found = {line.split(" in ")[0] for line in hunt(config.parent / "cases", planted)}
    wheres = {where for where, _ in planted}
    assert len(found) >= 0.9 * len(wheres), sorted(wheres - found)


def test_no_planted_value_reaches_public(hostile, built) -> None:
    _, planted = hostile
    assert built.published
    assert hunt(Path(built.out_dir), planted) == []


def test_what_cannot_be_cleaned_is_refused_by_name_and_the_rest_publishes(built) -> None:
    # gamma's first image carries patient B's institution in its kept Manufacturer
    refusals = [w for w in built.warnings if "refused" in w]
    assert any(
        w.startswith("cases/gamma/IM0.dcm: refused") and "InstitutionName" in w for w in refusals
    ), refusals
    assert built.cases == 3 and built.instances == 6  # alpha 3, beta 2, gamma 1
    notes = "\n".join(built.notes)
    for attribute in (
        "Manufacturer",
        "ConvolutionKernel",
        "ManufacturerModelName",
        "StackID",
        "BodyPartExamined",
        "ImageType",
        "ICCProfile",
        "KVP",
    ):
        assert attribute in notes, attribute
    # the kept ImageType keeps its real codes
    public = Path(built.out_dir)
    part10 = next(public.glob("dicom/*/*/*.dcm"))
    assert part10.exists()
    image_types = {
        tuple(pydicom.dcmread(p).ImageType)
        for p in public.glob("dicom/*/*/*.dcm")
        if "AXIAL" in str(pydicom.dcmread(p).get("ImageType", ""))
    }
    assert ("ORIGINAL", "PRIMARY", "AXIAL") in image_types


def test_dt_offsets_and_times(built) -> None:
    shifted = []
    for path in Path(built.out_dir).glob("dicom/*/*/*.dcm"):
        ds = pydicom.dcmread(path)
        assert "TimezoneOffsetFromUTC" not in ds
        if "AcquisitionDateTime" in ds:
            shifted.append(str(ds.AcquisitionDateTime))
    assert len(shifted) == 3  # alpha's images: kept, shifted, without the +0100 suffix
    assert all(len(v) == 21 and "+" not in v and not v.startswith("2024") for v in shifted)


def test_build_and_check_agree(hostile, built, tmp_path: Path) -> None:
    config, _ = hostile
    site = load_config(config)
    public = Path(built.out_dir)
    clean = check_site(site, public, workers=1)
    assert clean.hits == [] and not clean.errors
    # the same canaries: the build's sweep kept its own in the private state
    assert clean.values == len(BuildCache(config.parent / ".sitegen/cache").last.canaries)
    assert clean.proved > 0  # the viewer's files, proved by hash, not skipped
    # a value of another input put into a Part 10 file only: check and the build's own
    # sweep find the same thing
    copy = tmp_path / "public"
    shutil.copytree(public, copy)
    target = next(copy.glob("dicom/*/*/*.dcm"))
    target.write_bytes(target.read_bytes() + f" {B_NAME[0]} ".encode())
    viewer = next(copy.glob("viewer/*.js"))
    viewer.write_bytes(viewer.read_bytes() + b"// Kessingland Cottage Hospital")
    found = check_site(site, copy, workers=1)
    assert {h.path for h in found.hits} >= {
        target.relative_to(copy).as_posix(),
        viewer.relative_to(copy).as_posix(),
    }
    data = [Canary(h.canary.value, h.canary.attribute, h.canary.source) for h in found.hits]
    sweep = treesweep.TreeSweep(data)
    folders: list[str] = []
    files = listing(copy, folders)
    from_build = {h.path for h in sweep.tree(files, folders)}
    assert from_build == {h.path for h in found.hits}


def test_state_folder_is_private(hostile, built) -> None:
    config, _ = hostile
    state = config.parent / ".sitegen"
    assert state.stat().st_mode & 0o077 == 0
    for name in ("key", "cache", "cache/last-build.marshal", "cache/last-build.json"):
        assert (state / name).stat().st_mode & 0o077 == 0, name
