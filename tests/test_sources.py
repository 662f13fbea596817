"""Sources: folders, single files, zips (read in place, hostile names refused), DICOMDIR."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pydicom
import pytest
from dicomgen import write_ct_series
from pydicom.data import get_testdata_file

from sitegen import limits
from sitegen.sources import find_items
from sitegen.sources.zip import UnsafeZipError


def test_folder_recursive_skips_and_counts_non_dicom(tmp_path: Path) -> None:
    write_ct_series(tmp_path / "src/a", 3)
    write_ct_series(tmp_path / "src/b/c", 2, seed="b")
    (tmp_path / "src/README.txt").write_text("notes")
    (tmp_path / "src/fake.dcm").write_text("not really DICOM")
    (tmp_path / "src/.DS_Store").write_bytes(b"\0" * 10)
    scan = find_items("src", tmp_path)
    assert len(scan.items) == 5
    assert {i.relative for i in scan.items} >= {"a/IM0001", "b/c/IM0002"}
    skipped = dict(scan.skipped)
    assert set(skipped) == {"src/README.txt", "src/fake.dcm"}
    assert "not DICOM" in skipped["src/fake.dcm"]
    assert scan.items[0].open_dataset().Rows == 24


def test_single_file(tmp_path: Path) -> None:
    (path,) = write_ct_series(tmp_path, 1)
    scan = find_items(path.name, tmp_path)
    assert [i.label for i in scan.items] == ["IM0001"]


def test_zip_read_in_place_and_hostile_names_refused(tmp_path: Path) -> None:
    files = write_ct_series(tmp_path / "series", 2)
    archive = tmp_path / "case.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f"study/{f.name}")
        zf.writestr("../../evil.dcm", files[0].read_bytes())
        zf.writestr("/abs/evil.dcm", files[0].read_bytes())
        zf.writestr("notes.txt", "hello")
    scan = find_items("case.zip", tmp_path)
    assert [i.member for i in scan.items] == ["study/IM0001", "study/IM0002"]
    reasons = dict(scan.skipped)
    assert "traversal" in reasons["case.zip!../../evil.dcm"]
    assert "absolute" in reasons["case.zip!/abs/evil.dcm"]
    assert "not DICOM" in reasons["case.zip!notes.txt"]
    assert scan.items[1].open_dataset().SOPInstanceUID
    assert not (tmp_path.parent / "evil.dcm").exists()


def test_zip_bomb_refused_but_a_dicom_of_zeros_is_read(tmp_path: Path) -> None:
    """A 64 MB DICOM of zeros compresses about 1000:1 like a bomb does; only a member too
    large to be worth the risk (over 256 MiB) is refused for its ratio."""
    ds = pydicom.dcmread(write_ct_series(tmp_path / "one", 1)[0])
    ds.Rows, ds.Columns = 4096, 8192
    ds.PixelData = bytes(4096 * 8192 * 2)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.dcm", buffer.getvalue())  # ratio ~ 1000:1, and DICOM
        zf.writestr("bomb.dcm", b"\0" * (300 * 1024 * 1024))
    scan = find_items("bomb.zip", tmp_path)
    assert [i.label for i in scan.items] == ["bomb.zip!zeros.dcm"]
    assert scan.skipped == [
        ("bomb.zip!bomb.dcm", "compression ratio too high (zip bomb?), refused")
    ]


def test_zip_members_sharing_a_name_are_not_lost_silently(tmp_path: Path) -> None:
    files = write_ct_series(tmp_path / "s", 2)
    with zipfile.ZipFile(tmp_path / "twice.zip", "w") as zf:
        zf.write(files[0], "a/IM1")
        zf.write(files[1], "a/IM1")
    scan = find_items("twice.zip", tmp_path)
    assert len(scan.items) == 1
    assert scan.items[0].open_dataset().SOPInstanceUID == pydicom.dcmread(files[1]).SOPInstanceUID
    assert scan.skipped == [
        ("twice.zip!a/IM1", "another member has the same name (only the last is read), skipped")
    ]


def test_zip_total_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_ct_series(tmp_path / "s", 3)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in files:
            zf.write(f, f.name)
    monkeypatch.setattr(limits, "MAX_ZIP_TOTAL", 1000)
    with pytest.raises(UnsafeZipError, match="over the"):
        find_items("big.zip", tmp_path)


def test_dicomdir_lists_its_files() -> None:
    dicomdir = Path(get_testdata_file("DICOMDIR"))
    scan = find_items(dicomdir.name, dicomdir.parent)
    assert len(scan.items) >= 30
    assert all(i.kind == "file" and Path(i.location).is_file() for i in scan.items)
    assert scan.items[0].open_dataset().SOPInstanceUID


def test_sample_source() -> None:
    scan = find_items("sample:chest-ct", Path("."))
    assert len(scan.items) == 120
    ds = scan.items[0].open_dataset()
    assert (ds.Rows, ds.Columns) == (512, 512)


def test_inputs_outside_the_site_are_named_relatively(tmp_path: Path) -> None:
    """Messages never show an input's absolute path (the folders above a case are often
    named after the patient)."""
    write_ct_series(tmp_path / "Doe John 1947/ct", 1)
    site = tmp_path / "site"
    site.mkdir()
    scan = find_items(str(tmp_path / "Doe John 1947/ct"), site)
    (item,) = scan.items
    assert item.label == "../Doe John 1947/ct/IM0001"
    assert str(tmp_path) not in item.label


def test_zip_comments_names_and_dicomdir_values_are_read_for_canaries(tmp_path: Path) -> None:
    write_ct_series(tmp_path / "ct", 1)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.comment = b"for Pennyfeather"
        info = zipfile.ZipInfo("Pennyfeather_Ada/IM0001")
        info.comment = b"copied by Ruthven"
        zf.writestr(info, (tmp_path / "ct/IM0001").read_bytes())
    scan = find_items("a.zip", tmp_path)
    texts = {(text, attribute) for text, _, attribute, _ in scan.texts}
    assert ("for Pennyfeather", "zip comment") in texts
    assert ("Pennyfeather_Ada/IM0001", "zip member name") in texts
    assert ("copied by Ruthven", "zip member comment") in texts
