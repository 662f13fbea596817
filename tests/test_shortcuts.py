"""Shortcuts for the files of a series change nothing but the speed.

* The per-worker memo of de-identification outcomes: every file is de-identified with the
  memo off, with an empty memo (recording) and again with the memo full (replaying every
  repeated attribute); all three give the same bytes, DICOM JSON, canaries and actions.
* The memo of DICOM JSON per undecoded element: the same JSON as pydicom's to_json_dict.
* The Part 10 header copying undecoded elements and remembering written ones: the same
  bytes as pydicom's dcmwrite.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_files

from sitegen import headers
from sitegen.build import build
from sitegen.config import load_config
from sitegen.deid import Deidentifier, _apply, _walk
from sitegen.writers import part10

deid_data = pytest.importorskip("deid_data")
DATA = Path(deid_data.__file__).parent / "data"
FILES = [
    *sorted((DATA / "dicom-cookies").glob("*.dcm")),
    *sorted((DATA / "humans").glob("*.dcm")),
    *sorted((DATA / "ultrasounds").glob("*.dcm")),  # colour, multi-frame, burned-in text
    *[Path(p) for p in get_testdata_files("CT_small.dcm")],  # explicit VR
    *[Path(p) for p in get_testdata_files("MR_small_implicit.dcm")],  # implicit VR
    *[Path(p) for p in get_testdata_files("MR_small_bigendian.dcm")],  # big endian
    *[Path(p) for p in get_testdata_files("chr_japanese.dcm")],  # ISO 2022 IR 87 text
    *[Path(p) for p in get_testdata_files("chr_russian.dcm")],  # ISO_IR 144 text
]
OPTIONS = frozenset({"retain-modified-dates", "retain-patient-characteristics"})


def _deidentified(path: Path, source: str) -> tuple[bytes, dict[str, Any], list, dict]:
    ds = pydicom.dcmread(path)
    result = Deidentifier(b"k" * 32, OPTIONS).deidentify(ds, source=source, patient_label="c")
    buffer = io.BytesIO()
    result.dataset.save_as(buffer, enforce_file_format=True)
    canaries = [(c.value, c.attribute, c.source) for c in result.canaries]
    meta = result.dataset.to_json_dict(suppress_invalid_tags=True)  # a bad DS has no JSON
    return buffer.getvalue(), meta, canaries, result.actions


def test_files_cover_the_encodings() -> None:
    assert len(FILES) >= 12


def hostile_file(folder: Path) -> Path:
    """CT_small with hostile text, a name hidden in a description, a value that is no number
    (DS "x") and a private element: a shortcut must treat all of them the same."""
    ds = pydicom.dcmread(get_testdata_files("CT_small.dcm")[0])
    ds.SeriesDescription = """"><script>alert(1)</script> Vandermolen^Ottoline"""
    ds.ImageComments = "ﾃｽﾄ \\ <img src=x onerror=alert(2)>"
    ds.PatientName = "Vandermolen^Ottoline"
    ds.add_new(0x00091010, "LO", "Vandermolen private")
    path = folder / "hostile.dcm"
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    slope = b"\x28\x00\x53\x10DS"  # (0028,1053) RescaleSlope, explicit VR
    at = data.index(slope) + 6
    length = int.from_bytes(data[at : at + 2], "little")
    path.write_bytes(data[: at + 2] + b"x".ljust(length) + data[at + 2 + length :])
    return path


def test_memo_gives_the_same_output_for_hostile_and_malformed_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = hostile_file(tmp_path)
    with pytest.raises(ValueError):
        float(pydicom.dcmread(path).RescaleSlope)  # really malformed
    test_memo_gives_the_same_output(path, monkeypatch)
    monkeypatch.undo()
    bad: list[str] = []
    for _ in range(2):  # the second time from the memo
        meta = headers.dicom_json(pydicom.dcmread(path, stop_before_pixels=True), bad)
        assert "00281053" not in meta and meta["00280030"]["vr"] == "DS"
    assert len(bad) == 2 and all("(0028,1053) RescaleSlope" in b for b in bad)


def test_a_value_that_is_no_number_costs_one_attribute_not_the_image(tmp_path: Path) -> None:
    """The build publishes the image without the bad attribute, saying which it took out;
    the hostile strings and the hidden name reach no output (the sweep would refuse)."""
    (tmp_path / "dicom").mkdir()
    hostile_file(tmp_path / "dicom")
    (tmp_path / "site.toml").write_text(
        '[site]\ntitle = "t"\n\n[[cases]]\nslug = "a"\ntitle = "A"\nsource = "dicom"\n'
    )
    report = build(load_config(tmp_path / "site.toml"), workers=1)
    assert report.published and report.instances == 1 and not report.errors
    # the value does not fit its VR: de-identification takes it out and says so
    assert any("RescaleSlope" in n and "not valid" in n for n in report.notes), report.notes
    for file in (tmp_path / "public").rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert b"Vandermolen" not in data and b"alert(" not in data, file


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_memo_gives_the_same_output(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_apply, "_MEMOS", {})
    recorded = _deidentified(path, "first.dcm")
    memo = next(iter(_apply._MEMOS.values()))
    replayed = _deidentified(path, "second.dcm")
    assert len(memo) > 10  # the memo was really filled and used
    monkeypatch.setattr(_walk, "undecoded_key", lambda *args: None)
    plain = _deidentified(path, "second.dcm")
    assert replayed[0] == plain[0]
    assert replayed[1] == plain[1]
    assert replayed[2] == plain[2]  # canaries name the file they came from
    assert replayed[3] == plain[3]
    assert recorded[0] == plain[0] and recorded[3] == plain[3]
    assert [c[:2] for c in recorded[2]] == [c[:2] for c in plain[2]]


def test_memo_replay_of_another_files_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value seen in one file and met again in another is treated the same way in both,
    and the other file's own values are still handled (UIDs mapped, names removed)."""
    monkeypatch.setattr(_apply, "_MEMOS", {})
    first, second = FILES[0], FILES[1]
    _deidentified(first, "a")
    with_memo = _deidentified(second, "b")
    monkeypatch.setattr(_walk, "undecoded_key", lambda *args: None)
    without = _deidentified(second, "b")
    assert with_memo[0] == without[0] and with_memo[2] == without[2]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_dicom_json_and_part10_header_match_pydicom(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(headers, "_JSON_MEMO", {})

    def deidentified() -> Any:
        ds = pydicom.dcmread(path)
        Deidentifier(b"k" * 32, OPTIONS).deidentify(ds, source="s", patient_label="c")
        for tag in [t for t in ds.keys() if t >= 0x7FE00000]:
            del ds[tag]
        return ds

    bad: list[str] = []
    first, second = (
        headers.dicom_json(deidentified(), bad),
        headers.dicom_json(deidentified(), bad),
    )
    assert bad == []
    assert len(headers._JSON_MEMO) > 10  # the second one came from the memo
    expected = deidentified().to_json_dict(bulk_data_threshold=1 << 30)
    assert first == expected and second == expected

    monkeypatch.setattr(part10, "_ELEMENT_BYTES", {})
    ts = "1.2.840.10008.1.2.4.201"
    header = part10._header(deidentified(), ts)
    assert part10._ELEMENT_BYTES  # the file meta at least was remembered ...
    assert part10._header(deidentified(), ts) == header  # ... and gives the same bytes
    reference = io.BytesIO()
    ds = deidentified()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    pydicom.dcmwrite(reference, ds, enforce_file_format=True, little_endian=True, implicit_vr=False)
    assert header == reference.getvalue()


def test_part10_is_never_written_into_a_shared_file(tmp_path: Path) -> None:
    """A Part 10 path can be a hard link shared with the build cache and the published site:
    the writer replaces it and leaves the other links' bytes alone."""
    ds = pydicom.dcmread(get_testdata_files("CT_small.dcm")[0])
    del ds.PixelData
    shared = tmp_path / "cache-entry.1"
    shared.write_bytes(b"published bytes")
    target = tmp_path / "dicom" / "1.dcm"
    target.parent.mkdir()
    os.link(shared, target)
    part10.write_part10(target, ds, [b"\xff\x4f\xff\x51frame"], "1.2.840.10008.1.2.4.201", 0)
    assert shared.read_bytes() == b"published bytes"
    assert pydicom.dcmread(target).SOPInstanceUID == ds.SOPInstanceUID
    assert sorted(p.name for p in target.parent.iterdir()) == ["1.dcm"]  # no temporary left
