"""Tests for the built-in phantom samples: the default site depends on them being valid DICOM,
realistic enough to look like a real study, and byte-for-byte reproducible."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from sitegen.sources.sample import (
    sample_bytes,
    sample_instance,
    sample_names,
    sample_size,
)
from sitegen.sources.sample._chest import _NODULE_CENTER_MM, _NODULE_RADIUS_MM

UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")
CT_N = 120


def _read(name: str, index: int) -> pydicom.FileDataset:
    return pydicom.dcmread(io.BytesIO(sample_bytes(name, index)))


@pytest.fixture(scope="module")
def chest() -> list[pydicom.FileDataset]:
    """Every chest slice, read back from its serialised bytes (so the round trip is tested)."""
    return [_read("chest-ct", i) for i in range(CT_N)]


@pytest.fixture(scope="module")
def head() -> pydicom.FileDataset:
    return _read("head-mr", 0)


def _hu(ds: Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _roi(ds: Dataset, image: np.ndarray, x_mm: float, y_mm: float, half_px: int) -> np.ndarray:
    """Square ROI centred on a patient (x, y) position, located via the dataset's own geometry."""
    row_sp, col_sp = (float(v) for v in ds.PixelSpacing)
    col = round((x_mm - float(ds.ImagePositionPatient[0])) / col_sp)
    row = round((y_mm - float(ds.ImagePositionPatient[1])) / row_sp)
    return image[row - half_px : row + half_px + 1, col - half_px : col + half_px + 1]


def _check_pixel_module(ds: Dataset) -> None:
    frames = int(ds.get("NumberOfFrames", 1))
    assert ds.SamplesPerPixel == 1
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.BitsAllocated == 16
    assert ds.HighBit == ds.BitsStored - 1
    assert len(ds.PixelData) == ds.Rows * ds.Columns * frames * ds.BitsAllocated // 8
    arr = ds.pixel_array
    assert arr.dtype == (np.int16 if ds.PixelRepresentation else np.uint16)
    assert arr.min() >= (-(2 ** (ds.BitsStored - 1)) if ds.PixelRepresentation else 0)
    assert arr.max() < 2 ** (ds.BitsStored - ds.PixelRepresentation)


def _check_part10(raw: bytes, ds: Dataset) -> None:
    assert raw[128:132] == b"DICM"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


# --------------------------------------------------------------------------- API


def test_names_and_sizes() -> None:
    assert sample_names() == ["chest-ct", "head-mr"]
    assert sample_size("chest-ct") == CT_N
    assert sample_size("head-mr") == 1


@pytest.mark.parametrize("call", [sample_size, lambda n: sample_instance(n, 0)])
def test_unknown_name_lists_known_names(call) -> None:
    with pytest.raises(KeyError) as excinfo:
        call("knee-xr")
    assert "chest-ct" in str(excinfo.value) and "head-mr" in str(excinfo.value)


@pytest.mark.parametrize("name,index", [("chest-ct", -1), ("chest-ct", CT_N), ("head-mr", 1)])
def test_index_out_of_range(name: str, index: int) -> None:
    with pytest.raises(IndexError):
        sample_instance(name, index)
    with pytest.raises(IndexError):
        sample_bytes(name, index)


@pytest.mark.parametrize("name,index", [("chest-ct", 0), ("chest-ct", 57), ("head-mr", 0)])
def test_deterministic_bytes(name: str, index: int) -> None:
    assert sample_bytes(name, index) == sample_bytes(name, index)


def test_neighbouring_slices_differ() -> None:
    """The noise seed depends on the index, so slices aren't copies of one another."""
    a = sample_instance("chest-ct", 60).pixel_array
    b = sample_instance("chest-ct", 61).pixel_array
    assert not np.array_equal(a, b)


def test_instance_matches_bytes() -> None:
    ds = sample_instance("chest-ct", 40)
    raw = sample_bytes("chest-ct", 40)
    back = pydicom.dcmread(io.BytesIO(raw))
    _check_part10(raw, back)
    assert np.array_equal(ds.pixel_array, back.pixel_array)
    assert back.SOPInstanceUID == ds.SOPInstanceUID


def test_instances_are_fresh_objects() -> None:
    """Callers de-identify in place; that must not leak into the next call."""
    ds = sample_instance("chest-ct", 3)
    ds.PatientName = "Anon"
    assert sample_instance("chest-ct", 3).PatientName == "Quillon^Zephyrine^Xandra"


# --------------------------------------------------------------------------- chest CT


def test_chest_headers(chest: list[pydicom.FileDataset]) -> None:
    for i, ds in enumerate(chest):
        _check_pixel_module(ds)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
        assert ds.Modality == "CT"
        assert (ds.Rows, ds.Columns) == (512, 512)
        assert ds.PixelRepresentation == 1 and ds.BitsStored == 16
        assert ds.RescaleType == "HU"
        assert ds.InstanceNumber == i + 1
        assert ds.BodyPartExamined == "CHEST"
    first = chest[0]
    assert first.PatientName == "Quillon^Zephyrine^Xandra"
    assert first.PatientID == "SGPH-0001"
    assert first.InstitutionName == "Quarrowby Infirmary"
    for keyword in ("PatientBirthDate", "AccessionNumber", "ReferringPhysicianName", "StationName"):
        assert first.get(keyword), keyword


def test_chest_geometry(chest: list[pydicom.FileDataset]) -> None:
    iop = np.array(chest[0].ImageOrientationPatient, dtype=float)
    assert np.allclose(iop, [1, 0, 0, 0, 1, 0])
    normal = np.cross(iop[:3], iop[3:])
    along = np.array([np.dot(normal, np.array(ds.ImagePositionPatient, float)) for ds in chest])
    steps = np.diff(along)
    assert np.all(steps < 0) or np.all(steps > 0), "positions must be strictly monotonic"
    assert np.allclose(np.abs(steps), 2.5)
    for ds in chest:
        assert float(ds.SliceThickness) == 2.5
        assert np.allclose([float(v) for v in ds.PixelSpacing], 0.7, atol=0.1)
        assert list(ds.ImageOrientationPatient) == list(chest[0].ImageOrientationPatient)
        assert ds.FrameOfReferenceUID == chest[0].FrameOfReferenceUID


def test_chest_uids(chest: list[pydicom.FileDataset], head: pydicom.FileDataset) -> None:
    sops = [ds.SOPInstanceUID for ds in chest] + [head.SOPInstanceUID]
    assert len(set(sops)) == len(sops)
    for ds in [*chest, head]:
        for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
            uid = str(ds[keyword].value)
            assert UID_RE.match(uid) and len(uid) <= 64, (keyword, uid)
        assert UID_RE.match(ds.FrameOfReferenceUID) and len(ds.FrameOfReferenceUID) <= 64
    assert len({ds.StudyInstanceUID for ds in chest}) == 1
    assert len({ds.SeriesInstanceUID for ds in chest}) == 1
    assert head.StudyInstanceUID != chest[0].StudyInstanceUID


def test_chest_hu_realism(chest: list[pydicom.FileDataset]) -> None:
    mid = chest[60]
    hu = _hu(mid)
    corner = hu[:40, :40]
    assert abs(corner.mean() + 1000) < 15, "air outside the body should be about -1000 HU"
    assert 8 < corner.std() < 25, "noise sigma should be realistic"
    assert _roi(mid, hu, -80, 0, 10).mean() < -700, "right lung"
    assert _roi(mid, hu, 80, 10, 10).mean() < -700, "left lung"
    assert -150 < _roi(mid, hu, 0, 95, 3).mean() < 80, "spinal canal is soft tissue"
    for ds in chest:  # vertebral body + arch: bone on every slice, even intervertebral discs
        assert _roi(ds, _hu(ds), 0, 82, 40).max() > 300, ds.InstanceNumber
    for ds in (chest[0], chest[-1]):  # apex and below the diaphragm: little or no lung
        assert -200 < _roi(ds, _hu(ds), -80, 0, 5).mean() < 100


def test_lungs_change_size_along_z(chest: list[pydicom.FileDataset]) -> None:
    body_air = [int(((_hu(ds) < -500) & _body_mask(ds)).sum()) for ds in chest[::10]]
    assert body_air[0] < max(body_air) / 4, "apex is small"
    assert body_air[-1] < max(body_air) / 4, "bases give way to the liver"
    peak = int(np.argmax(body_air))
    assert 0 < peak < len(body_air) - 1


def _body_mask(ds: Dataset) -> np.ndarray:
    """Pixels well inside the body outline (body is roughly a 165 x 117 mm ellipse)."""
    row_sp, col_sp = (float(v) for v in ds.PixelSpacing)
    x = float(ds.ImagePositionPatient[0]) + col_sp * np.arange(ds.Columns)[None, :]
    y = float(ds.ImagePositionPatient[1]) + row_sp * np.arange(ds.Rows)[:, None]
    return (x / 150) ** 2 + ((y - 5) / 100) ** 2 < 1


def test_nodule_only_in_its_slices(chest: list[pydicom.FileDataset]) -> None:
    nx, ny, nz = _NODULE_CENTER_MM
    along_z = np.array([float(ds.ImagePositionPatient[2]) for ds in chest])
    inside = np.abs(along_z - nz) < _NODULE_RADIUS_MM
    assert 2 <= inside.sum() <= 5, "a ~10 mm nodule spans a few 2.5 mm slices"
    for ds, has_nodule in zip(chest, inside, strict=True):
        centre = _roi(ds, _hu(ds), nx, ny, 1).mean()
        lung_nearby = _roi(ds, _hu(ds), nx, ny - 20, 3).mean() < -700
        if has_nodule:
            assert -60 < centre < 120, (ds.InstanceNumber, centre)
        elif lung_nearby:
            assert centre < -700, (ds.InstanceNumber, centre)
    # The nodule's own slices are inside lung, so it is a visible nodule and not soft tissue.
    assert all(_roi(ds, _hu(ds), nx, ny - 20, 3).mean() < -700 for ds in np.array(chest)[inside])


# --------------------------------------------------------------------------- head MR


def test_head_multiframe(head: pydicom.FileDataset) -> None:
    _check_pixel_module(head)
    assert head.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4.1"
    assert head.Modality == "MR"
    assert head.NumberOfFrames == 32
    assert head.BitsStored == 12 and head.PixelRepresentation == 0
    assert head.pixel_array.shape == (32, 256, 256)
    assert head.PatientName == "Morwennick^Thaddeus^Ovard" and head.PatientID == "SGPH-0002"
    assert "WindowCenter" not in head  # lives in the functional groups

    shared = head.SharedFunctionalGroupsSequence[0]
    measures = shared.PixelMeasuresSequence[0]
    assert len(measures.PixelSpacing) == 2
    iop = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, dtype=float)
    assert np.allclose(iop, [1, 0, 0, 0, 1, 0])
    voi = shared.FrameVOILUTSequence[0]
    assert float(voi.WindowWidth) > 0

    frames = head.PerFrameFunctionalGroupsSequence
    assert len(frames) == 32
    normal = np.cross(iop[:3], iop[3:])
    along = [
        float(np.dot(normal, np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)))
        for f in frames
    ]
    steps = np.diff(along)
    assert np.all(steps > 0) or np.all(steps < 0)
    assert np.allclose(np.abs(steps), float(measures.SliceThickness))
    stack_positions = [f.FrameContentSequence[0].InStackPositionNumber for f in frames]
    assert stack_positions == list(range(1, 33))


def test_head_intensities(head: pydicom.FileDataset) -> None:
    img = head.pixel_array.astype(float)
    mid = img[6]  # below the ventricles
    assert img[:, :20, :20].mean() < 100, "background is noise only"
    assert 900 < mid[118:138, 118:138].mean() < 2000, "brain parenchyma"
    assert img.max() <= 4095


def test_the_default_sites_nodule_case_opens_on_the_nodule_with_an_arrow() -> None:
    """site.toml's lung-nodule case: its view's slice (1-based, display order: the sample's
    own order, apex first) shows the nodule, and its arrow's tip is beside it (a few pixels
    off its edge, in the lung), its tail in the lung."""
    from sitegen.config import load_config

    site = load_config(Path(__file__).parent.parent / "site.toml")
    (case,) = [c for c in site.cases if c.slug == "lung-nodule"]
    slice_number = case.view["slice"]
    (arrow,) = case.annotations
    assert arrow["slice"] == slice_number and arrow["shape"] == "arrow"
    ds = sample_instance("chest-ct", slice_number - 1)
    hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    (tip_x, tip_y), (tail_x, tail_y) = arrow["points"]
    near = hu[tip_y - 2 : tip_y + 12, tip_x - 2 : tip_x + 12]  # towards the nodule's centre
    assert near.max() > -100, "no soft tissue beside the arrow's tip"
    assert hu[tail_y, tail_x] < -500  # the label sits in the lung
    assert hu[tip_y - 30 : tip_y + 30, tip_x - 30 : tip_x + 30].max() < 500  # not the chest wall
