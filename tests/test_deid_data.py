"""Real-world files from deid-data; burned-in detection; refusal; pixel masking."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from sitegen.deid import (
    Deidentifier,
    Sweeper,
    apply_mask,
    burned_in_reason,
    refuse_reason,
)

deid_data = pytest.importorskip("deid_data")
DATA = Path(deid_data.__file__).parent / "data"
FILES = sorted((DATA / "dicom-cookies").glob("*.dcm")) + sorted((DATA / "humans").glob("*.dcm"))
ULTRASOUNDS = sorted((DATA / "ultrasounds").glob("*.dcm"))


def test_data_present() -> None:
    assert len(FILES) >= 9 and len(ULTRASOUNDS) >= 3


@pytest.mark.parametrize("path", FILES + [DATA / "animals" / "cat.dcm"], ids=lambda p: p.name)
def test_real_files_deidentify_cleanly(path: Path) -> None:
    original = pydicom.dcmread(path, stop_before_pixels=True)
    had_private = any(elem.tag.is_private for elem in original)
    ds = pydicom.dcmread(path, defer_size=1024)
    deid = Deidentifier(bytes(32))
    result = deid.deidentify(ds, source=path.name, patient_label="case-x")
    result.canaries += deid.path_canaries(f"{path.parent.name}/{path.name}", path.name)
    buffer = io.BytesIO()
    result.dataset.save_as(buffer, enforce_file_format=True)
    output = buffer.getvalue()

    out = pydicom.dcmread(io.BytesIO(output))
    assert out.PatientIdentityRemoved == "YES"
    assert out.PatientName == "case-x"
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert not any(0x5000 <= elem.tag.group <= 0x60FF for elem in out)
    assert out.SOPInstanceUID != original.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.Rows == original.Rows and out.Columns == original.Columns
    assert len(out.PixelData) > 0
    assert Sweeper(result.canaries).scan_bytes(output, path.name) == []
    if had_private:
        assert result.actions["X"] > 0
    if str(original.get("PatientName", "")).strip():
        assert any("PatientName" in c.attribute for c in result.canaries)


@pytest.mark.parametrize("path", ULTRASOUNDS, ids=lambda p: p.name)
def test_ultrasound_is_flagged_for_burned_in_text(path: Path) -> None:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert burned_in_reason(ds) is not None
    assert refuse_reason(pydicom.dcmread(path, defer_size=1024)) is None


def test_burned_in_annotation_flag_and_plain_ct() -> None:
    ds = Dataset()
    ds.Modality = "CT"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    assert burned_in_reason(ds) is None
    ds.BurnedInAnnotation = "YES"
    assert "BurnedInAnnotation" in (burned_in_reason(ds) or "")
    ds.BurnedInAnnotation = "NO"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # secondary capture
    assert burned_in_reason(ds) is not None


@pytest.mark.parametrize(
    ("sop_class", "modality", "refused"),
    [
        ("1.2.840.10008.5.1.4.1.1.104.1", "DOC", True),  # encapsulated PDF
        ("1.2.840.10008.5.1.4.1.1.104.2", "DOC", True),  # CDA
        ("1.2.840.10008.5.1.4.1.1.88.33", "SR", True),  # comprehensive SR
        ("1.2.840.10008.5.1.4.1.1.11.1", "PR", True),  # presentation state
        ("1.2.840.10008.5.1.4.1.1.2", "CT", False),
    ],
)
def test_refuse_reason(sop_class: str, modality: str, refused: bool) -> None:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.PixelData = b"\0\0"
    assert (refuse_reason(ds) is not None) is refused
    del ds.PixelData
    assert refuse_reason(ds) is not None  # no pixels: nothing to show


def test_apply_mask_blacks_exactly_the_rectangle() -> None:
    frame = np.full((10, 12), 500, dtype=np.uint16)
    out = apply_mask(frame, [(2, 3, 4, 5)], "MONOCHROME2")
    expected = frame.copy()
    expected[3:8, 2:6] = 0
    assert np.array_equal(out, expected)
    assert frame[3, 2] == 500  # input untouched

    mono1 = apply_mask(frame, [(0, 0, 1, 1)], "MONOCHROME1")
    assert mono1[0, 0] == 65535 and mono1[0, 1] == 500

    signed = apply_mask(frame.astype(np.int16), [(0, 0, 1, 1)], "MONOCHROME2")
    assert signed[0, 0] == np.iinfo(np.int16).min

    rgb = np.full((4, 4, 3), 200, dtype=np.uint8)
    out_rgb = apply_mask(rgb, [(3, 3, 10, 10), (-5, -5, 6, 6)], "RGB")  # clipped
    assert out_rgb[3, 3].tolist() == [0, 0, 0] and out_rgb[0, 0].tolist() == [0, 0, 0]
    assert out_rgb[1, 1].tolist() == [200, 200, 200]
    assert int((out_rgb == 0).all(axis=2).sum()) == 2

    ybr = apply_mask(rgb, [(0, 0, 1, 1)], "YBR_FULL")
    assert ybr[0, 0].tolist() == [0, 128, 128]
