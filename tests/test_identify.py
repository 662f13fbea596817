"""Inputs sharing a SOP Instance UID: decided before any worker writes, the same every build."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
from conftest import write_site
from dicomgen import ct_pixels, write_ct_series

from sitegen.build import build
from sitegen.config import load_config


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _duplicate_site(site_dir: Path) -> Path:
    """Five slices; slice 1 exported twice more (once identical, once with other pixels,
    other bits and another transfer syntax), and slice 2 once more identical."""
    dicom = site_dir / "dicom"
    paths = write_ct_series(dicom, 5)
    shutil.copy(paths[0], dicom / "IM0001-copy")
    shutil.copy(paths[1], dicom / "ZZ-IM0002-again")
    other = pydicom.dcmread(paths[0])
    other.BitsStored, other.HighBit = 12, 11
    other.PixelData = (np.zeros((24, 20), "<i2") + 7).tobytes()
    other.save_as(dicom / "IM0001-other", enforce_file_format=True)
    case = '[[cases]]\nslug = "x"\ntitle = "X"\nsource = "dicom"\n'
    return write_site(site_dir, '[build]\nframes = "htj2k"\n' + case)


def test_one_uid_three_times_publishes_the_first_by_name_and_warns(site_dir: Path) -> None:
    config = _duplicate_site(site_dir)
    report = build(load_config(config), workers=2)
    assert report.instances == 5 and report.frames == 5
    others = [w for w in report.warnings if "SOP Instance UID" in w]
    assert others == [
        "dicom/IM0001-other: has the SOP Instance UID of dicom/IM0001 with other content: "
        "skipped, dicom/IM0001 is published (give one a new UID)"
    ]
    assert not any("IM0001-copy" in w or "IM0002-again" in w for w in report.warnings)
    # what is published is IM0001, whole: its metadata and its pixels
    out = site_dir / "public"
    (metadata,) = out.glob("dicomweb/studies/*/series/*/metadata")
    rows = json.loads(metadata.read_text())
    assert len(rows) == 5
    assert {r["00280101"]["Value"][0] for r in rows} == {16}
    for part10 in out.glob("dicom/**/*.dcm"):
        ds = pydicom.dcmread(part10)
        assert ds.BitsStored == 16
    frames = sorted(out.glob("dicomweb/studies/*/series/*/instances/*/frames/1"))
    assert len(frames) == 5
    decoded = [pydicom.dcmread(p).pixel_array for p in out.glob("dicom/**/*.dcm")]
    expected = {ct_pixels(i).tobytes() for i in range(5)}
    assert {a.astype("<i2").tobytes() for a in decoded} == expected


def test_clean_builds_with_duplicate_uids_are_byte_identical(site_dir: Path) -> None:
    config = _duplicate_site(site_dir)
    digests = set()
    for _ in range(5):
        build(load_config(config), workers=2, clean=True)
        digests.add(_tree_digest(site_dir / "public"))
    assert len(digests) == 1


def test_a_rebuild_with_duplicates_is_a_no_op(site_dir: Path) -> None:
    config = _duplicate_site(site_dir)
    build(load_config(config), workers=1)
    again = build(load_config(config), workers=1)
    assert again.published and "pixels" not in again.seconds  # nothing was redone


def test_one_uid_in_two_cases_studies_publishes_both(site_dir: Path) -> None:
    """Careless exports reuse SOP Instance UIDs across patients: case b's slices carry case
    a's UIDs in another study. Each case publishes all of its own (a generated 3,000-instance
    site lost 180 slices to this without a word)."""
    write_ct_series(site_dir / "a", 4, seed="a")
    for n, path in enumerate(write_ct_series(site_dir / "b", 4, seed="b")):
        ds = pydicom.dcmread(path)
        ds.SOPInstanceUID = pydicom.dcmread(site_dir / f"a/IM{n + 1:04d}").SOPInstanceUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(path, enforce_file_format=True)
    cases = "".join(
        f'[[cases]]\nslug = "{c}"\ntitle = "{c}"\nsource = "{c}"\n\n' for c in ("a", "b")
    )
    report = build(load_config(write_site(site_dir, cases)), workers=2)
    assert report.instances == 8 and report.studies == 2
    for slug in ("a", "b"):
        manifest = json.loads((site_dir / f"public/data/cases/{slug}.json").read_text())
        assert [len(s["frames"]) for st in manifest["studies"] for s in st["series"]] == [4]
