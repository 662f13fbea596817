"""chest-ct: 120 axial CT slices of a chest phantom (lungs, heart, spine, ribs, a nodule)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pydicom.dataset import FileDataset

from ._phantom import (
    CT_IMAGE_STORAGE,
    _coords,
    _file_dataset,
    _Grid,
    _Identity,
    _paint_ellipse,
    _rng,
    _set_identity,
    _set_pixels,
    _uid,
)

_CT_SLICES = 120
_CT_SLICE_MM = 2.5
_CT_GRID = _Grid(512, 0.7)
_CT_NOISE_HU = 15.0
_CT_INTERCEPT = -1024
# Lung nodule: 10 mm sphere in the right lung (patient right = -x), centred on slice 40.
_NODULE_SLICE = 40
_NODULE_CENTER_MM = (-85.0, -5.0, -_CT_SLICE_MM * _NODULE_SLICE)
_NODULE_RADIUS_MM = 5.0
_NODULE_HU = 30.0

_CHEST = _Identity(
    patient_name="Quillon^Zephyrine^Xandra",
    patient_id="SGPH-0001",
    birth_date="19660412",
    sex="M",
    age="058Y",
    study_date="20240115",
    study_time="093012",
    accession="SGACC240001",
    station="SGPH-CT01",
)


def _ct_z(index: int) -> float:
    """Head-first supine, slice 0 at the lung apex: z (superior +) decreases with index."""
    return -_CT_SLICE_MM * index


def _bump(t: float, start: float, stop: float, power: float) -> float:
    """0 outside [start, stop], a rounded hump inside: how organ size varies along z."""
    if not start < t < stop:
        return 0.0
    return math.sin(math.pi * (t - start) / (stop - start)) ** power


@lru_cache(maxsize=1)
def _rib_ring() -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Pixels of the thin elliptical band where ribs sit, and their polar angle (cached)."""
    c = _coords(_CT_GRID)
    x, y = np.meshgrid(c, c - 5.0)  # body centre is 5 mm posterior
    r = np.sqrt((x / 140.0) ** 2 + (y / 94.0) ** 2)
    idx = np.nonzero(np.abs(r - 1.0) < 0.04)
    theta = np.arctan2(y[idx], x[idx])
    return idx, theta.astype(np.float32)


def _chest_hu(index: int) -> np.ndarray:
    """Noise-free HU image of slice ``index`` (float32)."""
    g = _CT_GRID
    t = index / (_CT_SLICES - 1)
    z = _ct_z(index)
    img = np.full((g.size, g.size), -1000.0, dtype=np.float32)

    # Body: subcutaneous fat shell around muscle/soft tissue.
    _paint_ellipse(img, g, 0, 5, 165, 117, -100)
    _paint_ellipse(img, g, 0, 5, 152, 104, 35)

    # Ribs: short arcs of the band around the lungs; the visible arcs drift with z.
    lung = _bump(t, 0.03, 0.93, 0.6)
    if lung > 0:
        (ri, rj), theta = _rib_ring()
        arcs = np.cos(7 * theta + 0.9 * index) > 0.55
        away_from_spine = np.abs(theta - math.pi / 2) > 0.45  # no ribs over the spine/sternum
        away_from_sternum = np.abs(theta + math.pi / 2) > 0.35
        keep = arcs & away_from_spine & away_from_sternum
        img[ri[keep], rj[keep]] = 650

    # Liver dome rises under the right lung; painting the lungs after it mimics the diaphragm.
    liver = min(1.0, max(0.0, (t - 0.68) / 0.2))
    _paint_ellipse(img, g, -45, 0, 100 * liver, 85 * liver, 60, angle_deg=15)

    # Lungs grow from the apex and shrink toward the diaphragm.
    _paint_ellipse(img, g, -72, 0, 58 * lung, 80 * lung, -850)
    _paint_ellipse(img, g, 72, 0, 55 * lung, 80 * lung, -850)
    if t < 0.35:  # trachea above the carina
        _paint_ellipse(img, g, 0, -40, 10, 9, 20)
        _paint_ellipse(img, g, 0, -40, 8, 7, -1000)

    # Heart (myocardium + contrast blood pool) in the middle/lower slices, left of midline.
    heart = _bump(t, 0.38, 0.85, 0.5)
    _paint_ellipse(img, g, 22, -22, 62 * heart, 50 * heart, 40, angle_deg=-25)
    _paint_ellipse(img, g, 24, -22, 42 * heart, 32 * heart, 150, angle_deg=-25)

    # Descending aorta beside the spine, with contrast.
    _paint_ellipse(img, g, 26, 52, 12, 12, 150)

    # Spine: vertebral body (cortex + cancellous; a disc every 12th slice) and neural arch.
    _paint_ellipse(img, g, 0, 98, 17, 14, 750)
    _paint_ellipse(img, g, 0, 96, 9, 8, 15)  # spinal canal (CSF)
    disc = index % 12 == 0
    _paint_ellipse(img, g, 0, 66, 18, 16, 80 if disc else 900)
    if not disc:
        _paint_ellipse(img, g, 0, 66, 15.5, 13.5, 280)

    # Solid lung nodule: a sphere, so its cross-section radius depends on distance to the centre.
    nx, ny, nz = _NODULE_CENTER_MM
    dz = abs(z - nz)
    if dz < _NODULE_RADIUS_MM:
        r = math.sqrt(_NODULE_RADIUS_MM**2 - dz**2)
        _paint_ellipse(img, g, nx, ny, r, r, _NODULE_HU)
    return img


def _chest_ct(index: int) -> FileDataset:
    hu = _chest_hu(index)
    hu += _rng("chest-ct", index).standard_normal(hu.shape, dtype=np.float32) * _CT_NOISE_HU
    stored = np.rint(np.clip(hu, -1024, 3071) - _CT_INTERCEPT).astype(np.int16)

    ds = _file_dataset(CT_IMAGE_STORAGE, _uid("chest-ct", "sop", str(index)))
    _set_identity(ds, _CHEST)
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.StudyInstanceUID = _uid("chest-ct", "study")
    ds.SeriesInstanceUID = _uid("chest-ct", "series")
    ds.FrameOfReferenceUID = _uid("chest-ct", "frame-of-reference")
    ds.StudyDescription = "CT CHEST WITH CONTRAST (PHANTOM)"
    ds.SeriesDescription = "Chest 2.5mm Soft Tissue"
    ds.BodyPartExamined = "CHEST"
    ds.SeriesNumber = 2
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = index + 1
    ds.SeriesTime = "093512"
    ds.AcquisitionTime = ds.ContentTime = f"0936{index // 10:02d}.{index % 10:d}00000"
    ds.KVP = 120
    ds.XRayTubeCurrent = 220
    ds.ExposureTime = 500
    ds.ConvolutionKernel = "STANDARD"
    ds.DataCollectionDiameter = 500
    ds.ReconstructionDiameter = _CT_GRID.size * _CT_GRID.spacing
    ds.ContrastBolusAgent = "IOHEXOL"

    ds.SliceThickness = _CT_SLICE_MM
    ds.PixelSpacing = [_CT_GRID.spacing, _CT_GRID.spacing]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [_CT_GRID.origin, _CT_GRID.origin, _ct_z(index)]
    ds.SliceLocation = _ct_z(index)

    _set_pixels(ds, stored, bits_stored=16)
    ds.RescaleIntercept = _CT_INTERCEPT
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    ds.WindowCenterWidthExplanation = "SOFT TISSUE"
    return ds


# --------------------------------------------------------------------------- head MR
