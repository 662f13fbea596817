"""Small generated DICOM series for tests: deterministic, with known pixels and identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

PATIENT = "Vandermolen^Ottoline"
PATIENT_ID = "PID-77231904"


def ct_slice(
    index: int,
    *,
    study_uid: str,
    series_uid: str,
    rows: int = 24,
    cols: int = 20,
    z0: float = 100.0,
    dz: float = -3.0,
    series_number: int = 1,
    patient: str = PATIENT,
    patient_id: str = PATIENT_ID,
) -> FileDataset:
    """One signed 16-bit CT slice; pixels are a ramp plus the index, so every slice differs."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[series_uid, str(index)])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid, "for"])
    ds.PatientName = patient
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19470312"
    ds.PatientSex = "F"
    ds.StudyDate = "20240115"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC99120034"
    ds.InstitutionName = "Grimsworth Clinic"
    ds.StudyDescription = "Thorax Grimsworth protocol"
    ds.SeriesDescription = "Axial Grimsworth 3mm"
    ds.StudyID = "STU4471"
    ds.Modality = "CT"
    ds.SeriesNumber = series_number
    # shuffled instance numbers: display order must come from geometry, not from these
    ds.InstanceNumber = (index * 7) % 11 + 1
    ds.ImagePositionPatient = [-100.0, -100.0, z0 + dz * index]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.8, 0.8]
    ds.SliceThickness = abs(dz)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = ct_pixels(index, rows, cols).tobytes()
    return ds


def ct_pixels(index: int, rows: int = 24, cols: int = 20) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    return (yy * 37 + xx * 11 - 500 + index * 3).astype("<i2")


def write_ct_series(
    folder: Path, n: int = 5, *, study_uid: str | None = None, seed: str = "a", **kw: object
) -> list[Path]:
    """Write `n` slices as folder/IM0001.. with UIDs derived from `seed` (stable across runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or generate_uid(entropy_srcs=["study", seed])
    series_uid = generate_uid(entropy_srcs=["series", seed, str(kw.get("series_number", 1))])
    paths = []
    for i in range(n):
        ds = ct_slice(i, study_uid=study_uid, series_uid=series_uid, **kw)  # type: ignore[arg-type]
        path = folder / f"IM{i + 1:04d}"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def item(**values: object) -> Dataset:
    """A sequence item with these attributes."""
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def file_dataset(sop_class: str, sop_uid: str) -> FileDataset:
    """An empty Part 10 data set of `sop_class` (explicit VR little endian)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    return ds


def enhanced_ct(frames: int, rows: int = 8, cols: int = 8, seed: str = "enh") -> FileDataset:
    """An Enhanced CT Image with `frames` frames: shared and per-frame functional groups
    (plane position, frame content with dimension index values), a dimension organization."""
    from pydicom.uid import EnhancedCTImageStorage

    ds = file_dataset(EnhancedCTImageStorage, generate_uid(entropy_srcs=[seed, "sop"]))
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[seed, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[seed, "series"])
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[seed, "for"])
    ds.PatientName, ds.PatientID = PATIENT, PATIENT_ID
    ds.StudyDate, ds.StudyTime, ds.ContentDate, ds.ContentTime = (
        "20240115",
        "1015",
        "20240115",
        "1015",
    )
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    organization = generate_uid(entropy_srcs=[seed, "dim"])
    ds.DimensionOrganizationSequence = Sequence([item(DimensionOrganizationUID=organization)])
    ds.DimensionIndexSequence = Sequence(
        [
            item(
                DimensionOrganizationUID=organization,
                DimensionIndexPointer=0x00209057,  # InStackPositionNumber
                FunctionalGroupPointer=0x00209111,  # FrameContentSequence
            )
        ]
    )
    ds.SharedFunctionalGroupsSequence = Sequence(
        [
            item(
                PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.5, 0.5], SliceThickness=1.0)]),
                PlaneOrientationSequence=Sequence(
                    [item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]
                ),
                PixelValueTransformationSequence=Sequence(
                    [item(RescaleIntercept=-1024, RescaleSlope=1, RescaleType="HU")]
                ),
            )
        ]
    )
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [
            item(
                FrameContentSequence=Sequence(
                    [item(InStackPositionNumber=n + 1, DimensionIndexValues=[n + 1])]
                ),
                PlanePositionSequence=Sequence([item(ImagePositionPatient=[-2.0, -2.0, float(n)])]),
            )
            for n in range(frames)
        ]
    )
    yy, xx = np.mgrid[0:rows, 0:cols]
    pixels = [((yy * 37 + xx * 11) * 4 + n * 400) % 4096 for n in range(frames)]
    ds.PixelData = np.stack(pixels).astype("<u2").tobytes()
    return ds


def segmentation_of(ct: FileDataset, label: str = "Segmentation") -> FileDataset:
    """A binary DICOM SEG over one CT slice, with its coded segment (SNOMED "Liver")."""
    seg = file_dataset(
        "1.2.840.10008.5.1.4.1.1.66.4", generate_uid(entropy_srcs=[ct.SOPInstanceUID, "seg"])
    )
    seg.StudyInstanceUID, seg.FrameOfReferenceUID = ct.StudyInstanceUID, ct.FrameOfReferenceUID
    seg.SeriesInstanceUID = generate_uid(entropy_srcs=[ct.SeriesInstanceUID, "seg"])
    seg.PatientName, seg.PatientID = ct.PatientName, ct.PatientID
    seg.Modality, seg.SeriesNumber, seg.InstanceNumber = "SEG", 99, 1
    seg.SeriesDescription = seg.ContentLabel = label
    seg.ContentDescription = label
    seg.SegmentationType = "BINARY"
    seg.ImageType = ["DERIVED", "PRIMARY"]
    seg.Rows, seg.Columns, seg.NumberOfFrames = ct.Rows, ct.Columns, 1
    seg.SamplesPerPixel, seg.PhotometricInterpretation = 1, "MONOCHROME2"
    seg.BitsAllocated, seg.BitsStored, seg.HighBit, seg.PixelRepresentation = 1, 1, 0, 0
    seg.SegmentSequence = Sequence(
        [
            item(
                SegmentNumber=1,
                SegmentLabel=label,
                SegmentAlgorithmType="MANUAL",
                SegmentedPropertyCategoryCodeSequence=Sequence(
                    [
                        item(
                            CodeValue="91723000",
                            CodingSchemeDesignator="SCT",
                            CodeMeaning="Anatomical Structure",
                        )
                    ]
                ),
                SegmentedPropertyTypeCodeSequence=Sequence(
                    [item(CodeValue="10200004", CodingSchemeDesignator="SCT", CodeMeaning="Liver")]
                ),
            )
        ]
    )
    seg.ReferencedSeriesSequence = Sequence(
        [
            item(
                SeriesInstanceUID=ct.SeriesInstanceUID,
                ReferencedInstanceSequence=Sequence(
                    [
                        item(
                            ReferencedSOPClassUID=ct.SOPClassUID,
                            ReferencedSOPInstanceUID=ct.SOPInstanceUID,
                        )
                    ]
                ),
            )
        ]
    )
    seg.PixelData = np.packbits(
        np.ones(ct.Rows * ct.Columns, np.uint8), bitorder="little"
    ).tobytes()
    return seg
