"""head-mr: one Enhanced MR multi-frame instance (32 frames) of a head phantom."""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from ._phantom import (
    ENHANCED_MR_IMAGE_STORAGE,
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
