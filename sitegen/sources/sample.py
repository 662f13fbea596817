"""Built-in deterministic phantom series, so a site builds without downloading any data.

A ``sample:<name>`` source yields synthetic but realistic DICOM Part 10 instances:

* ``chest-ct`` -- 120 axial CT slices of a chest phantom (lungs, heart, spine, ribs, a nodule);
* ``head-mr`` -- one Enhanced MR multi-frame instance (32 frames) of a head phantom.

Everything is a pure function of ``(name, index)``: pixels come from a numpy Generator seeded from
that pair and UIDs from a hash of fixed strings, so rebuilding a site gives byte-identical files.
Patient/institution attributes are fake but realistic so the de-identifier has work to do.
"""

from __future__ import annotations

import hashlib
import io
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from ..model import Geometry

__all__ = ["sample_bytes", "sample_instance", "sample_names", "sample_size"]

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

_MR_FRAMES = 32
_MR_SLICE_MM = 5.0
_MR_GRID = _Grid(256, 0.9375)
_MR_NOISE = 25.0

_HEAD = _Identity(
    patient_name="Morwennick^Thaddeus^Ovard",
    patient_id="SGPH-0002",
    birth_date="19810923",
    sex="F",
    age="042Y",
    study_date="20240212",
    study_time="141503",
    accession="SGACC240002",
    station="SGPH-MR01",
)

# T1-like 3D Shepp-Logan-style head, painted in order (later shapes win):
# (cx, cy, cz, a, b, c, angle_deg, signal). LPS mm: anterior is -y, superior is +z.
_HEAD_ELLIPSOIDS: tuple[tuple[float, float, float, float, float, float, float, float], ...] = (
    (0, 0, 0, 75, 95, 100, 0, 1700),  # scalp fat: bright on T1
    (0, 0, 0, 70, 90, 95, 0, 120),  # skull: no signal
    (0, 2, 3, 65, 85, 88, 0, 350),  # subarachnoid CSF
    (0, 2, 3, 62, 82, 85, 0, 1050),  # grey matter
    (0, 4, 8, 50, 68, 68, 0, 1450),  # white matter
    (-12, -6, 15, 8, 28, 18, -18, 350),  # right lateral ventricle
    (12, -6, 15, 8, 28, 18, 18, 350),  # left lateral ventricle
    (0, 6, 5, 3, 12, 12, 0, 350),  # third ventricle
    (25, 35, 30, 7, 7, 7, 0, 2400),  # enhancing lesion
    (-30, 40, -10, 4, 4, 4, 0, 2000),  # small lesion
    (-30, -66, -55, 12, 12, 12, 0, 250),  # right globe (vitreous)
    (30, -66, -55, 12, 12, 12, 0, 250),  # left globe
)


def _mr_z(frame: int) -> float:
    """Frames run inferior to superior, centred on the head."""
    return _MR_SLICE_MM * (frame - (_MR_FRAMES - 1) / 2)


def _head_signal(frame: int) -> np.ndarray:
    g = _MR_GRID
    z = _mr_z(frame)
    img = np.zeros((g.size, g.size), dtype=np.float32)
    for cx, cy, cz, a, b, c, angle, value in _HEAD_ELLIPSOIDS:
        if abs(z - cz) < c:
            k = math.sqrt(1 - ((z - cz) / c) ** 2)
            _paint_ellipse(img, g, cx, cy, a * k, b * k, value, angle_deg=angle)
    # Smooth receive-coil bias: brighter posteriorly, as on a real head coil.
    img *= 1.0 + 0.08 * (_coords(g)[:, None] / 120.0)
    return img


def _head_mr(index: int) -> FileDataset:
    rng = _rng("head-mr", index)
    signal = np.stack([_head_signal(f) for f in range(_MR_FRAMES)])
    real = signal + rng.standard_normal(signal.shape, dtype=np.float32) * _MR_NOISE
    imag = rng.standard_normal(signal.shape, dtype=np.float32) * _MR_NOISE
    magnitude = np.hypot(real, imag)  # Rician: noise floor stays positive in air
    pixels = np.rint(np.clip(magnitude, 0, 4095)).astype(np.uint16)

    ds = _file_dataset(ENHANCED_MR_IMAGE_STORAGE, _uid("head-mr", "sop", str(index)))
    _set_identity(ds, _HEAD)
    ds.Modality = "MR"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.StudyInstanceUID = _uid("head-mr", "study")
    ds.SeriesInstanceUID = _uid("head-mr", "series")
    ds.FrameOfReferenceUID = _uid("head-mr", "frame-of-reference")
    ds.StudyDescription = "MR BRAIN WITH CONTRAST (PHANTOM)"
    ds.SeriesDescription = "Ax T1 post 5mm"
    ds.BodyPartExamined = "HEAD"
    ds.SeriesNumber = 5
    ds.InstanceNumber = index + 1
    ds.SeriesTime = "142011"
    ds.ContentTime = ds.AcquisitionTime = "142011"
    acquired = f"{_HEAD.study_date}142011.000000"
    ds.AcquisitionDateTime = acquired
    ds.AcquisitionDuration = 96.0
    ds.ContentQualification = "PRODUCT"

    # Enhanced MR Image / MR pulse sequence basics.
    ds.PixelPresentation = "MONOCHROME"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    ds.ComplexImageComponent = "MAGNITUDE"
    ds.AcquisitionContrast = "T1"
    ds.ResonantNucleus = "1H"
    ds.MagneticFieldStrength = 3.0
    ds.ImagingFrequency = 127.74
    ds.KSpaceFiltering = "NONE"
    ds.ApplicableSafetyStandardAgency = "IEC"
    ds.MRAcquisitionType = "2D"
    ds.PulseSequenceName = "SG_T1_SE"
    ds.EchoPulseSequence = "SPIN"
    ds.MultipleSpinEcho = "NO"
    ds.MultiPlanarExcitation = "NO"
    ds.PhaseContrast = "NO"
    ds.TimeOfFlightContrast = "NO"
    ds.SteadyStatePulseSequence = "NONE"
    ds.EchoPlanarPulseSequence = "NO"
    ds.SaturationRecovery = "NO"
    ds.SpectrallySelectedSuppression = "NONE"
    ds.OversamplingPhase = "NONE"
    ds.GeometryOfKSpaceTraversal = "RECTILINEAR"
    ds.SegmentedKSpaceTraversal = "SINGLE"
    ds.CoverageOfKSpace = "FULL"
    ds.NumberOfKSpaceTrajectories = 1
    ds.ContrastBolusAgent = "GADOTERATE"
    ds.PresentationLUTShape = "IDENTITY"

    origin = _MR_GRID.origin
    _set_pixels(ds, pixels, bits_stored=12)

    frame_type = Dataset()
    frame_type.FrameType = list(ds.ImageType)
    for keyword in (
        "PixelPresentation",
        "VolumetricProperties",
        "VolumeBasedCalculationTechnique",
        "ComplexImageComponent",
        "AcquisitionContrast",
    ):
        setattr(frame_type, keyword, getattr(ds, keyword))
    measures = Dataset()
    measures.PixelSpacing = [_MR_GRID.spacing, _MR_GRID.spacing]
    measures.SliceThickness = _MR_SLICE_MM
    measures.SpacingBetweenSlices = _MR_SLICE_MM
    orientation = Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    voi = Dataset()
    voi.WindowCenter = 1100
    voi.WindowWidth = 2200
    voi.WindowCenterWidthExplanation = "BRAIN"
    transform = Dataset()
    transform.RescaleIntercept = 0
    transform.RescaleSlope = 1
    transform.RescaleType = "US"
    timing = Dataset()
    timing.RepetitionTime = 550.0
    timing.EchoTrainLength = 1
    timing.FlipAngle = 90.0
    timing.NumberOfAverages = 1
    echo = Dataset()
    echo.EffectiveEchoTime = 12.0
    shared = Dataset()
    shared.MRImageFrameTypeSequence = Sequence([frame_type])
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    shared.FrameVOILUTSequence = Sequence([voi])
    shared.PixelValueTransformationSequence = Sequence([transform])
    shared.MRTimingAndRelatedParametersSequence = Sequence([timing])
    shared.MREchoSequence = Sequence([echo])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])

    per_frame = []
    for f in range(_MR_FRAMES):
        content = Dataset()
        content.StackID = "1"
        content.InStackPositionNumber = f + 1
        content.DimensionIndexValues = [1, f + 1]
        content.FrameAcquisitionNumber = 1
        content.FrameAcquisitionDateTime = acquired
        content.FrameReferenceDateTime = acquired
        content.FrameAcquisitionDuration = 3000.0
        position = Dataset()
        position.ImagePositionPatient = [origin, origin, _mr_z(f)]
        item = Dataset()
        item.FrameContentSequence = Sequence([content])
        item.PlanePositionSequence = Sequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)

    # Frames are indexed by (stack, position in stack), as most enhanced-MR readers expect.
    organization = Dataset()
    organization.DimensionOrganizationUID = _uid("head-mr", "dimension-organization")
    ds.DimensionOrganizationSequence = Sequence([organization])
    ds.DimensionOrganizationType = "3D"
    dimensions = []
    for pointer, label in ((0x00209056, "Stack ID"), (0x00209057, "In-Stack Position Number")):
        dim = Dataset()
        dim.DimensionOrganizationUID = organization.DimensionOrganizationUID
        dim.DimensionIndexPointer = pointer
        dim.FunctionalGroupPointer = 0x00209111  # FrameContentSequence
        dim.DimensionDescriptionLabel = label
        dimensions.append(dim)
    ds.DimensionIndexSequence = Sequence(dimensions)
    return ds


# --------------------------------------------------------------------------- public API

_SAMPLES: dict[str, tuple[int, Callable[[int], FileDataset]]] = {
    "chest-ct": (_CT_SLICES, _chest_ct),
    "head-mr": (1, _head_mr),
}


def _lookup(name: str) -> tuple[int, Callable[[int], FileDataset]]:
    try:
        return _SAMPLES[name]
    except KeyError:
        known = ", ".join(_SAMPLES)
        raise KeyError(f"unknown sample {name!r}; known samples: {known}") from None


def sample_names() -> list[str]:
    """Names usable as ``source = "sample:<name>"``."""
    return list(_SAMPLES)


def sample_size(name: str) -> int:
    """Number of instances (files) in the sample."""
    return _lookup(name)[0]


def sample_instance(name: str, index: int) -> FileDataset:
    """A fresh Part 10 dataset (safe to mutate, e.g. de-identify) for instance ``index``."""
    size, build = _lookup(name)
    if not 0 <= index < size:
        raise IndexError(f"sample {name!r} has {size} instance(s); index {index} out of range")
    return build(index)


def sample_bytes(name: str, index: int) -> bytes:
    """The instance serialised as a Part 10 file, byte-identical across calls."""
    buffer = io.BytesIO()
    sample_instance(name, index).save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def sample_uids(name: str, index: int) -> tuple[str, str, str]:
    """(study, series, SOP instance) UIDs of instance ``index``, without making its pixels."""
    _lookup(name)
    return _uid(name, "study"), _uid(name, "series"), _uid(name, "sop", str(index))


def sample_geometry(name: str, index: int) -> Geometry | None:
    """What orders instance ``index`` in its series (see identify.Geometry), without making
    its pixels; None for the samples whose order is not worth knowing early (multi-frame)."""
    _lookup(name)
    if name != "chest-ct":
        return None
    position = (float(_CT_GRID.origin), float(_CT_GRID.origin), _ct_z(index))
    return Geometry(index + 1, position, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), 1)
