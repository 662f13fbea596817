"""What the phantoms share: deterministic UIDs and noise, a pixel grid, painted ellipses, and
a Part 10 data set with a fake but realistic identity (the de-identifier has work to do)."""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"

# Fixed namespace: changing it changes every sample UID, so don't.
_UID_NAMESPACE = uuid.UUID("6f1c6d0e-6a43-5f2b-9a51-5e3c1a7b2d10")


def _uid(*parts: str) -> str:
    """Deterministic UID under the UUID-derived root 2.25 (PS3.5 B.2); at most 44 chars."""
    return "2.25." + str(uuid.uuid5(_UID_NAMESPACE, "/".join(("sitegen-sample", *parts))).int)


def _rng(name: str, index: int) -> np.random.Generator:
    """Per-(name, index) generator so any instance can be rebuilt alone, in any process."""
    digest = hashlib.sha256(f"sitegen-sample/{name}/{index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# --------------------------------------------------------------------------- pixel painting


@dataclass(frozen=True)
class _Grid:
    """Square pixel grid in patient mm (LPS): column j is at x0 + j*spacing, row i at y0 + i*sp."""

    size: int
    spacing: float

    @property
    def origin(self) -> float:
        """Centre of the first pixel, chosen so the field of view is centred on x = y = 0."""
        return -self.size * self.spacing / 2 + self.spacing / 2

    @property
    def coords(self) -> np.ndarray:
        return self.origin + self.spacing * np.arange(self.size, dtype=np.float32)


@lru_cache(maxsize=4)
def _coords(grid: _Grid) -> np.ndarray:
    return grid.coords


def _paint_ellipse(
    img: np.ndarray,
    grid: _Grid,
    cx: float,
    cy: float,
    a: float,
    b: float,
    value: float,
    angle_deg: float = 0.0,
) -> None:
    """Set pixels inside an (optionally rotated) ellipse to ``value``.

    Only the ellipse's bounding box is evaluated, which keeps a slice with ~20 shapes in a few ms.
    """
    if a <= 0 or b <= 0:
        return
    reach = max(a, b)
    c = _coords(grid)
    o, s, n = grid.origin, grid.spacing, grid.size
    j0, j1 = max(0, int((cx - reach - o) / s)), min(n, int((cx + reach - o) / s) + 2)
    i0, i1 = max(0, int((cy - reach - o) / s)), min(n, int((cy + reach - o) / s) + 2)
    if j0 >= j1 or i0 >= i1:
        return
    dx = c[j0:j1][None, :] - cx
    dy = c[i0:i1][:, None] - cy
    if angle_deg:
        t = math.radians(angle_deg)
        dx, dy = math.cos(t) * dx + math.sin(t) * dy, -math.sin(t) * dx + math.cos(t) * dy
    inside = (dx / a) ** 2 + (dy / b) ** 2 <= 1.0
    img[i0:i1, j0:j1][inside] = value


# --------------------------------------------------------------------------- shared attributes


def _file_dataset(sop_class_uid: str, sop_instance_uid: str) -> FileDataset:
    """Empty Part 10 dataset with complete file meta (Explicit VR Little Endian)."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "SITEGEN_SAMPLE"
    ds = FileDataset(None, Dataset(), preamble=b"\x00" * 128, file_meta=meta, is_implicit_VR=False)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    return ds


@dataclass(frozen=True)
class _Identity:
    """Fake-but-plausible identifying data: the de-identifier must strip all of it."""

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    age: str
    study_date: str
    study_time: str
    accession: str
    station: str


def _set_identity(ds: Dataset, who: _Identity) -> None:
    ds.PatientName = who.patient_name
    ds.PatientID = who.patient_id
    ds.IssuerOfPatientID = "SGPH"
    ds.PatientBirthDate = who.birth_date
    ds.PatientSex = who.sex
    ds.PatientAge = who.age
    ds.PatientWeight = 72.0
    ds.PatientAddress = "17 Vellowmere Lane, Dunharrow"
    ds.OtherPatientIDs = who.patient_id.replace("SGPH", "MRN")
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = who.study_date
    ds.StudyTime = who.study_time
    ds.AccessionNumber = who.accession
    ds.StudyID = who.accession[-4:]
    ds.InstitutionName = "Quarrowby Infirmary"
    ds.InstitutionAddress = "17 Vellowmere Lane, Dunharrow"
    ds.InstitutionalDepartmentName = "Radiology"
    ds.ReferringPhysicianName = "Brackenfell^Ysolde"
    ds.PerformingPhysicianName = "Tamsworth^Idrys"
    ds.OperatorsName = "Oakhurst^Pellam"
    ds.StationName = who.station
    ds.DeviceSerialNumber = "SG-" + who.station[-4:]
    ds.Manufacturer = "Quarrowby Imaging"
    ds.ManufacturerModelName = "QX-9000"
    ds.SoftwareVersions = "sitegen-sample 1"
    ds.PatientPosition = "HFS"
    ds.PositionReferenceIndicator = ""
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"


def _set_pixels(ds: Dataset, pixels: np.ndarray, bits_stored: int) -> None:
    """Image Pixel module, derived from the array so it can't disagree with the data."""
    rows, cols = pixels.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()


# --------------------------------------------------------------------------- chest CT
