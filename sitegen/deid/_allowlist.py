"""THE allow-list: attributes outside Table E.1-1 that survive de-identification.

Anything that is neither in the profile table nor listed here is removed.  Only attributes
needed to display or interpret the pixels, plus a few harmless technique values, belong
here.  Keep free text out: free text is where identifying information hides.
"""

from __future__ import annotations

from pydicom.datadict import tag_for_keyword

from ._iod import KEPT as IOD_KEPT

ALLOWED_KEYWORDS: frozenset[str] = frozenset(
    {
        # Identity of the object (not of the patient)
        "SpecificCharacterSet",
        "SOPClassUID",
        "Modality",
        "ImageType",
        "FrameType",
        "SeriesNumber",
        "InstanceNumber",
        "AcquisitionNumber",
        "BodyPartExamined",
        "Laterality",
        "ImageLaterality",
        "ViewPosition",
        "PatientPosition",
        "PatientOrientation",
        # Image pixel module
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "PlanarConfiguration",
        "PixelAspectRatio",
        "SmallestImagePixelValue",
        "LargestImagePixelValue",
        "PixelPaddingValue",
        "PixelPaddingRangeLimit",
        "PixelData",
        "FloatPixelData",
        "DoubleFloatPixelData",
        "ExtendedOffsetTable",
        "ExtendedOffsetTableLengths",
        "NumberOfFrames",
        "FrameIncrementPointer",
        "FrameTime",
        "FrameTimeVector",
        "CineRate",
        "RecommendedDisplayFrameRate",
        "ICCProfile",
        "ColorSpace",
        # Palette colour LUTs
        "RedPaletteColorLookupTableDescriptor",
        "GreenPaletteColorLookupTableDescriptor",
        "BluePaletteColorLookupTableDescriptor",
        "RedPaletteColorLookupTableData",
        "GreenPaletteColorLookupTableData",
        "BluePaletteColorLookupTableData",
        "SegmentedRedPaletteColorLookupTableData",
        "SegmentedGreenPaletteColorLookupTableData",
        "SegmentedBluePaletteColorLookupTableData",
        # Modality / VOI / presentation LUTs (LUTExplanation is free text: not kept)
        "RescaleSlope",
        "RescaleIntercept",
        "RescaleType",
        "ModalityLUTSequence",
        "ModalityLUTType",
        "LUTDescriptor",
        "LUTData",
        "WindowCenter",
        "WindowWidth",
        "VOILUTFunction",
        "VOILUTSequence",
        "PresentationLUTShape",
        "LossyImageCompression",
        "LossyImageCompressionRatio",
        "LossyImageCompressionMethod",
        "BurnedInAnnotation",
        "RecognizableVisualFeatures",
        # Geometry
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "ImagerPixelSpacing",
        "NominalScannedPixelSpacing",
        "PixelSpacingCalibrationType",
        "SliceThickness",
        "SpacingBetweenSlices",
        "SliceLocation",
        # Enhanced multi-frame functional groups and their usual macros
        "SharedFunctionalGroupsSequence",
        "PerFrameFunctionalGroupsSequence",
        "PixelMeasuresSequence",
        "PlanePositionSequence",
        "PlaneOrientationSequence",
        "FrameContentSequence",
        "FrameAcquisitionNumber",
        "StackID",
        "InStackPositionNumber",
        "TemporalPositionIndex",
        "DimensionIndexValues",
        "FrameAcquisitionDuration",
        "PixelValueTransformationSequence",
        "FrameVOILUTSequence",
        "CTImageFrameTypeSequence",
        "MRImageFrameTypeSequence",
        # Cross references (UIDs inside are mapped, classes kept)
        "ReferencedSOPClassUID",
        "ReferencedFrameNumber",
        # Ultrasound calibration regions (numbers only; enable measurements)
        "SequenceOfUltrasoundRegions",
        "RegionSpatialFormat",
        "RegionDataType",
        "RegionFlags",
        "RegionLocationMinX0",
        "RegionLocationMinY0",
        "RegionLocationMaxX1",
        "RegionLocationMaxY1",
        "ReferencePixelX0",
        "ReferencePixelY0",
        "PhysicalUnitsXDirection",
        "PhysicalUnitsYDirection",
        "ReferencePixelPhysicalValueX",
        "ReferencePixelPhysicalValueY",
        "PhysicalDeltaX",
        "PhysicalDeltaY",
        # Harmless technique values
        "Manufacturer",
        "ManufacturerModelName",
        "KVP",
        "XRayTubeCurrent",
        "ExposureTime",
        "Exposure",
        "ConvolutionKernel",
        "SpiralPitchFactor",
        "DataCollectionDiameter",
        "ReconstructionDiameter",
        "GantryDetectorTilt",
        "EchoTime",
        "RepetitionTime",
        "InversionTime",
        "FlipAngle",
        "EchoTrainLength",
        "MagneticFieldStrength",
        "ImagingFrequency",
        "NumberOfAverages",
        "ScanningSequence",
        "SequenceVariant",
        "MRAcquisitionType",
        "DiffusionBValue",
    }
)

ALLOWED_KEYWORDS |= IOD_KEPT  # what the IODs need and cannot identify (see _iod.py)

ALLOWED_TAGS: frozenset[int] = frozenset(
    int(tag) for tag in (tag_for_keyword(k) for k in ALLOWED_KEYWORDS) if tag is not None
)

# UIDs that name a *kind* of thing, never an instance: kept as they are.
CLASS_UID_KEYWORDS: frozenset[str] = frozenset(
    {
        "SOPClassUID",
        "ReferencedSOPClassUID",
        "MediaStorageSOPClassUID",
        "TransferSyntaxUID",
        "ReferencedTransferSyntaxUIDInFile",
        "ReferencedSOPClassUIDInFile",
        "CodingSchemeUID",
        "ContextGroupExtensionCreatorUID",
    }
)

DICOM_UID_ROOT = "1.2.840.10008."
