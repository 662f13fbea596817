"""What the IODs need back from de-identification.

Table E.1-1's X/Z, X/D and X/Z/D mean "remove, unless the IOD needs the attribute: then an
empty value (Z) or a dummy (D)", and attributes outside the table that the allow-list does
not name are removed. Removing Type 1 and 2 attributes breaks the IODs (dciodvfy: Frame of
Reference without PositionReferenceIndicator, Enhanced MR without its pulse-sequence
attributes, NM whose FrameIncrementPointer points at removed vectors). So:

- `EMPTY`: Type 2 attributes: kept present and empty (Z);
- `DUMMY`: Type 1 free text: a dummy value (D), never the original;
- `KEPT`: attributes whose values cannot identify anyone (enumerated code strings, numbers,
  the multi-frame dimension structure with its UIDs mapped): kept when they are valid, the
  code strings checked against the defined terms in `TERMS`.
"""

from __future__ import annotations

EMPTY: frozenset[str] = frozenset(
    {
        "PositionReferenceIndicator",  # Frame of Reference, Type 2
    }
)

DUMMY: frozenset[str] = frozenset(
    {
        "DeviceSerialNumber",  # Enhanced General Equipment, Type 1
        "SoftwareVersions",  # Enhanced General Equipment, Type 1
        "PulseSequenceName",  # MR Pulse Sequence, Type 1C
        "ReceiveCoilName",  # MR Receive Coil macro, Type 1C
        "TransmitCoilName",  # MR Transmit Coil macro, Type 1C
    }
)

_YES_NO = frozenset({"YES", "NO"})
TERMS: dict[str, frozenset[str]] = {
    "ConversionType": frozenset("DV DI DF WSD SD SI DRW SYN".split()),
    "ScanOptions": frozenset(
        """PER RG CG PPG FC PFF PFP SP FS IR CT SEQUENCED HELICAL AXIAL SCOUT SPIRAL
        STANDARD CARDIAC GATED TILTED""".split()
    )
    | {"HELICAL CT", "AXIAL CT", "HELICAL MODE", "AXIAL MODE"},  # as GE scanners write them
    "PixelPresentation": frozenset({"COLOR", "MONOCHROME", "MIXED", "TRUE_COLOR"}),
    "VolumetricProperties": frozenset({"VOLUME", "SAMPLED", "DISTORTED", "MIXED"}),
    "VolumeBasedCalculationTechnique": frozenset(
        "MAX_IP MIN_IP VOLUME_RENDER SURFACE_RENDER MPR CURVED_MPR NONE MIXED".split()
    ),
    "ComplexImageComponent": frozenset({"MAGNITUDE", "PHASE", "REAL", "IMAGINARY", "MIXED"}),
    "AcquisitionContrast": frozenset(
        """DIFFUSION FLOW_ENCODED FLUID_ATTENUATED PERFUSION PROTON_DENSITY STIR TAGGING T1
        T2 T2_STAR TOF UNKNOWN MIXED""".split()
    ),
    "ContentQualification": frozenset({"PRODUCT", "RESEARCH", "SERVICE"}),
    "ResonantNucleus": frozenset("1H 3HE 7LI 13C 19F 23NA 31P 129XE".split()),
    "KSpaceFiltering": frozenset(
        """COSINE COSINE_SQUARED FERMI GAUSSIAN HAMMING HANNING LORENTZIAN LRNTZ_GSS_TRNSFM
        RIESZ TUKEY USER_DEFINED NONE""".split()
    ),
    "EchoPulseSequence": frozenset({"SPIN", "GRADIENT", "BOTH"}),
    "MultipleSpinEcho": _YES_NO,
    "MultiPlanarExcitation": _YES_NO,
    "PhaseContrast": _YES_NO,
    "TimeOfFlightContrast": _YES_NO,
    "EchoPlanarPulseSequence": _YES_NO,
    "SaturationRecovery": _YES_NO,
    "InversionRecovery": _YES_NO,
    "SpatialPresaturation": frozenset({"SLAB", "NONE"}),
    "PartialFourier": _YES_NO,
    "ParallelAcquisition": _YES_NO,
    "MagnetizationTransfer": frozenset({"ON_RESONANCE", "OFF_RESONANCE", "NONE"}),
    "BloodSignalNulling": _YES_NO,
    "Tagging": frozenset({"GRID", "LINE", "NONE"}),
    "FlowCompensation": frozenset({"ACCELERATION", "VELOCITY", "OTHER", "NONE"}),
    "T2Preparation": _YES_NO,
    "SpectrallySelectedExcitation": frozenset({"WATER", "FAT", "NONE"}),
    "SteadyStatePulseSequence": frozenset(
        {"FREE_PRECESSION", "TRANSVERSE", "TIME_REVERSED", "LONGITUDINAL", "NONE"}
    ),
    "SpectrallySelectedSuppression": frozenset(
        {"FAT", "WATER", "FAT_AND_WATER", "SILICON_GEL", "NONE"}
    ),
    "OversamplingPhase": frozenset({"2D", "3D", "2D_3D", "NONE"}),
    "GeometryOfKSpaceTraversal": frozenset({"RECTILINEAR", "RADIAL", "SPIRAL", "PROPELLER"}),
    "SegmentedKSpaceTraversal": frozenset({"SINGLE", "PARTIAL", "FULL"}),
    "CoverageOfKSpace": frozenset({"FULL", "CYLINDRICAL", "ELLIPSOIDAL", "WEIGHTED"}),
    "RectilinearPhaseEncodeReordering": frozenset(
        {"LINEAR", "CENTRIC", "SEGMENTED", "REVERSE_LINEAR", "REVERSE_CENTRIC"}
    ),
    "InPlanePhaseEncodingDirection": frozenset({"ROW", "COLUMN", "OTHER"}),
    "DiffusionDirectionality": frozenset({"DIRECTIONAL", "BMATRIX", "ISOTROPIC", "NONE"}),
    "FrameLaterality": frozenset({"R", "L", "U", "B"}),
    "DimensionOrganizationType": frozenset({"3D", "3D_TEMPORAL", "TILED_FULL", "TILED_SPARSE"}),
    "AcquisitionType": frozenset({"SEQUENCED", "SPIRAL", "CONSTANT_ANGLE", "STATIONARY", "FREE"}),
    "RotationDirection": frozenset({"CW", "CC"}),
    "ApplicableSafetyStandardAgency": frozenset({"IEC", "FDA", "MHLW"}),
}

KEPT: frozenset[str] = frozenset(
    {
        *TERMS,
        # numbers
        "AcquisitionDuration",
        "NumberOfKSpaceTrajectories",
        "EffectiveEchoTime",
        "RFEchoTrainLength",
        "GradientEchoTrainLength",
        "PixelBandwidth",
        "TransmitterFrequency",
        "MRAcquisitionFrequencyEncodingSteps",
        "MRAcquisitionPhaseEncodingStepsInPlane",
        "PercentSampling",
        "PercentPhaseFieldOfView",
        "RevolutionTime",
        "SingleCollimationWidth",
        "TotalCollimationWidth",
        "TableSpeed",
        "TableFeedPerRotation",
        "ExposureTimeInms",
        "XRayTubeCurrentInmA",
        "ExposureInmAs",
        "CTDIvol",
        # NM: the vectors FrameIncrementPointer points at, and their counts
        "EnergyWindowVector",
        "DetectorVector",
        "PhaseVector",
        "RotationVector",
        "RRIntervalVector",
        "TimeSlotVector",
        "SliceVector",
        "AngularViewVector",
        "TimeSliceVector",
        "NumberOfEnergyWindows",
        "NumberOfDetectors",
        "NumberOfPhases",
        "NumberOfRotations",
        "NumberOfRRIntervals",
        "NumberOfTimeSlots",
        "NumberOfSlices",
        "NumberOfTimeSlices",
        # the multi-frame dimension structure (its UIDs are mapped like every UID)
        "DimensionOrganizationSequence",
        "DimensionIndexSequence",
        "DimensionIndexPointer",
        "FunctionalGroupPointer",
        "FrameAnatomySequence",
        "AnatomicRegionSequence",
        "CodeValue",
        "CodingSchemeDesignator",
        "CodingSchemeVersion",
        "CodeMeaning",
        # the functional groups that carry the kept values
        "MRTimingAndRelatedParametersSequence",
        "MREchoSequence",
        "MRModifierSequence",
        "MRImagingModifierSequence",
        "MRFOVGeometrySequence",
        "MRAveragesSequence",
        "MRDiffusionSequence",
        "MRReceiveCoilSequence",
        "MRTransmitCoilSequence",
        "CTAcquisitionTypeSequence",
        "CTAcquisitionDetailsSequence",
        "CTTableDynamicsSequence",
        "CTReconstructionSequence",
        "CTExposureSequence",
        "CTXRayDetailsSequence",
    }
)


def iod_action(keyword: str, action: str) -> str:
    """Table E.1-1's action for `keyword`, with X turned into Z or D where the IOD needs
    the attribute."""
    if action != "X":
        return action
    if keyword in EMPTY:
        return "Z"
    if keyword in DUMMY:
        return "D"
    return action
