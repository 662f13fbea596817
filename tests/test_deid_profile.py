"""De-identification of a synthetic study with identifying values planted everywhere."""

from __future__ import annotations

import io
import pickle
import re
import stat
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from sitegen.deid import (
    DEFAULT_OPTIONS,
    KNOWN_OPTIONS,
    Canary,
    Deidentifier,
    Sweeper,
    load_or_create_key,
    parse_options,
)

KEY = bytes(range(32))
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.8.498."

# (where, value): every value must be gone from the output, in any letter case.
PLANTED: list[tuple[str, str]] = [
    ("PatientName", "Müller^Jürgen"),
    ("PatientID", "PID-77341295"),
    ("OtherPatientIDs", "OTHERID-55219"),
    ("OtherPatientIDsSequence", "SEQID-99120034"),
    ("PatientBirthDate", "19470312"),
    ("PatientAddress", "Am Rosengarten 5, Entenhausen"),
    ("PatientTelephoneNumbers", "+49-30-98765432"),
    ("PatientMotherBirthName", "Oberhauserin"),
    ("PatientComments", "allergic to peanuts says Ignatius"),
    ("AccessionNumber", "ACC99887766"),
    ("InstitutionName", "Sankt Elsewhere Klinikum"),
    ("InstitutionAddress", "Hauptstrasse 42, Gotham"),
    ("InstitutionalDepartmentName", "Radiologie Zauberberg"),
    ("ReferringPhysicianName", "Doolittle^Eliza"),
    ("PerformingPhysicianName", "Zhivago^Yuri"),
    ("RequestingPhysician", "Kowalczyk^Bogdan"),
    ("OperatorsName", "Sprocket^Ophelia"),
    ("StationName", "CTROOM-SEVEN"),
    ("DeviceSerialNumber", "SN-4455667788"),
    ("StudyID", "STUDY-Q17X"),
    ("StudyDescription", "Pfefferkorn knee study"),
    ("SeriesDescription", "Zwiebelturm series"),
    ("ProtocolName", "Protokoll Hasenfratz"),
    ("ImageComments", "wrong side marker by Quasimodo"),
    ("StudyDate", "20190304"),
    ("SeriesDate", "20190305"),
    ("StudyInstanceUID", ROOT + "1111111111"),
    ("SeriesInstanceUID", ROOT + "2222222222"),
    ("SOPInstanceUID", ROOT + "3333333333"),
    ("FrameOfReferenceUID", ROOT + "4444444444"),
    ("RequestAttributesSequence[0]", "SPS-ABCDEF12"),
    ("RequestAttributesSequence[0] > ScheduledProtocolCodeSequence[0]", "Protocol Grimaldi"),
    (
        "RequestAttributesSequence[0] > ... > ProtocolContextSequence[0] PersonName",
        "Hinterhuber^Walburga",
    ),
    ("private creator (0029,0010)", "ACME SECRET CREATOR"),
    ("private LO (0029,1001)", "Secret Fenchurch"),
    ("private UN (0029,1002)", "HIDDENVALUE Tristram"),
    ("OverlayDescription (6000,0022)", "Overlay by Obadiah"),
    ("OverlayLabel (6000,1500)", "Overlaylabel Ebenezer"),
    ("CurveLabel (5000,2500)", "Curve Gwendolyn"),
    ("preamble", "PREAMBLE-Fitzwilliam"),
    ("file meta SourceApplicationEntityTitle", "SRC_WIMBLEDON"),
    ("OriginalAttributesSequence > ModifiedAttributesSequence PatientName", "Altname^Berthold"),
    ("IconImageSequence[0] ImageComments", "Iconcomment Leopold"),
]
PN_PARTS = [
    "Müller",
    "Jürgen",
    "Doolittle",
    "Eliza",
    "Zhivago",
    "Kowalczyk",
    "Sprocket",
    "Ophelia",
    "Hinterhuber",
    "Walburga",
    "Berthold",
    "Altname",
]


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def make_planted(
    *,
    patient_id: str = "PID-77341295",
    study_date: str = "20190304",
    sop_uid: str = ROOT + "3333333333",
    referenced_uid: str | None = None,
) -> FileDataset:
    """A small CT image with identifying values in 40+ places."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = ROOT + "99"
    meta.SourceApplicationEntityTitle = "SRC_WIMBLEDON"
    preamble = b"PREAMBLE-Fitzwilliam".ljust(128, b"\0")
    ds = FileDataset("planted.dcm", {}, file_meta=meta, preamble=preamble)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = ROOT + "1111111111"
    ds.SeriesInstanceUID = ROOT + "2222222222"
    ds.FrameOfReferenceUID = ROOT + "4444444444"
    ds.Modality = "CT"
    ds.BodyPartExamined = "KNEE"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientName = "Müller^Jürgen"
    ds.PatientID = patient_id
    ds.OtherPatientIDs = "OTHERID-55219"
    ds.OtherPatientIDsSequence = Sequence([_item(PatientID="SEQID-99120034")])
    ds.PatientBirthDate = "19470312"
    ds.PatientSex = "F"
    ds.PatientAge = "095Y"
    ds.PatientWeight = "61.5"
    ds.PatientAddress = "Am Rosengarten 5, Entenhausen"
    ds.PatientTelephoneNumbers = "+49-30-98765432"
    ds.PatientMotherBirthName = "Oberhauserin"
    ds.PatientComments = "allergic to peanuts says Ignatius"
    ds.AccessionNumber = "ACC99887766"
    ds.InstitutionName = "Sankt Elsewhere Klinikum"
    ds.InstitutionAddress = "Hauptstrasse 42, Gotham"
    ds.InstitutionalDepartmentName = "Radiologie Zauberberg"
    ds.ReferringPhysicianName = "Doolittle^Eliza"
    ds.PerformingPhysicianName = "Zhivago^Yuri"
    ds.RequestingPhysician = "Kowalczyk^Bogdan"
    ds.OperatorsName = "Sprocket^Ophelia"
    ds.StationName = "CTROOM-SEVEN"
    ds.DeviceSerialNumber = "SN-4455667788"
    ds.StudyID = "STUDY-Q17X"
    ds.StudyDescription = "Pfefferkorn knee study"
    ds.SeriesDescription = "Zwiebelturm series"
    ds.ProtocolName = "Protokoll Hasenfratz"
    ds.ImageComments = "wrong side marker by Quasimodo"
    ds.StudyDate = study_date
    ds.SeriesDate = "20190305"
    ds.StudyTime = "101500"
    ds.AcquisitionDateTime = study_date + "101733.250000+0100"
    ds.Manufacturer = "ACME Imaging"
    ds.KVP = "120"
    ds.SeriesNumber = 3
    ds.InstanceNumber = 7
    level3 = _item(PersonName="Hinterhuber^Walburga")
    level2 = _item(
        CodeValue="P1",
        CodingSchemeDesignator="99LOCAL",
        CodeMeaning="Protocol Grimaldi",
        ProtocolContextSequence=Sequence([level3]),
    )
    level1 = _item(
        ScheduledProcedureStepID="SPS-ABCDEF12", ScheduledProtocolCodeSequence=Sequence([level2])
    )
    ds.RequestAttributesSequence = Sequence([level1])
    ds.OriginalAttributesSequence = Sequence(
        [_item(ModifiedAttributesSequence=Sequence([_item(PatientName="Altname^Berthold")]))]
    )
    ds.IconImageSequence = Sequence([_item(Rows=1, Columns=1, ImageComments="Iconcomment Leopold")])
    ds.private_block(0x0029, "ACME SECRET CREATOR", create=True).add_new(
        0x01, "LO", "Secret Fenchurch"
    )
    ds.add_new(0x00291002, "UN", b"HIDDENVALUE Tristram")
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000011, "US", 4)
    ds.add_new(0x60000022, "LO", "Overlay by Obadiah")
    ds.add_new(0x60001500, "LO", "Overlaylabel Ebenezer")
    ds.add_new(0x60003000, "OW", b"\xff\x00" * 1)
    ds.add_new(0x50002500, "LO", "Curve Gwendolyn")
    if referenced_uid:
        ds.ReferencedImageSequence = Sequence(
            [_item(ReferencedSOPClassUID=CT_IMAGE, ReferencedSOPInstanceUID=referenced_uid)]
        )
    # Image pixel module: must survive unchanged.
    ds.Rows, ds.Columns = 16, 16
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.PixelSpacing = ["0.5", "0.5"]
    ds.SliceThickness = "1.0"
    ds.ImagePositionPatient = ["-10", "-20", "30"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelData = (np.arange(256, dtype=np.uint16) % 16).tobytes()
    return ds


def to_bytes(ds: FileDataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def deid_planted(options: frozenset[str] = DEFAULT_OPTIONS, **kwargs: object):
    deid = Deidentifier(KEY, options)
    ds = to_dataset(to_bytes(make_planted(**kwargs)))
    return deid.deidentify(ds, source="planted.dcm", patient_label="case-knee")


def to_dataset(data: bytes) -> FileDataset:
    return pydicom.dcmread(io.BytesIO(data))


def _variants(value: str) -> list[bytes]:
    forms = {value, value.upper(), value.lower()}
    out: list[bytes] = []
    for form in forms:
        for encoding in ("utf-8", "latin-1"):
            try:
                out.append(form.encode(encoding))
            except UnicodeEncodeError:
                pass
    return out


def test_planted_places_cover_at_least_25() -> None:
    assert len(PLANTED) >= 25


def test_planted_values_are_absent_from_output() -> None:
    result = deid_planted()
    output = to_bytes(result.dataset)
    for where, value in PLANTED:
        for variant in _variants(value):
            assert variant not in output, f"{where} leaked"
    for part in PN_PARTS:
        for variant in _variants(part):
            assert variant not in output, "a name component leaked"
    for date_text in ("1947-03-12", "2019-03-04", "20190304", "19470312"):
        assert date_text.encode() not in output


def test_pixel_attributes_survive() -> None:
    original = make_planted()
    out = to_dataset(to_bytes(deid_planted().dataset))
    for keyword in (
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "PhotometricInterpretation",
        "SamplesPerPixel",
        "RescaleSlope",
        "RescaleIntercept",
        "WindowCenter",
        "WindowWidth",
        "PixelSpacing",
        "SliceThickness",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SOPClassUID",
        "Modality",
        "ImageType",
        "SeriesNumber",
        "InstanceNumber",
        "BodyPartExamined",
        "KVP",
        "Manufacturer",
        "PixelData",
    ):
        assert out[keyword].value == original[keyword].value, keyword
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.file_meta.MediaStorageSOPClassUID == CT_IMAGE
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert "SourceApplicationEntityTitle" not in out.file_meta
    assert out.preamble == b"\0" * 128


def test_output_identity_and_method() -> None:
    out = deid_planted().dataset
    assert out.PatientName == "case-knee"
    assert out.PatientID == "case-knee"
    assert out.PatientIdentityRemoved == "YES"
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = {item.CodeValue for item in out.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113105", "113107"}
    assert all(
        item.CodingSchemeDesignator == "DCM" for item in out.DeidentificationMethodCodeSequence
    )
    assert any("Basic Application" in v for v in out.DeidentificationMethod)
    assert out.StudyDescription == "CT KNEE"  # safe form: modality + body part
    assert "PatientSex" not in out or out.PatientSex == ""
    assert "PatientAge" not in out
    assert out.PatientBirthDate == ""
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert not any(0x5000 <= elem.tag.group <= 0x60FF for elem in out)
    for keyword in (
        "IconImageSequence",
        "OriginalAttributesSequence",
        "RequestAttributesSequence",
        "OtherPatientIDsSequence",
    ):
        assert keyword not in out


def test_author_descriptions_are_used() -> None:
    deid = Deidentifier(KEY)
    result = deid.deidentify(
        make_planted(),
        source="p",
        patient_label="c",
        study_description="Knee MRI teaching case",
        series_description="Sagittal PD",
    )
    assert result.dataset.StudyDescription == "Knee MRI teaching case"
    assert result.dataset.SeriesDescription == "Sagittal PD"
    ds = make_planted()
    del ds.SpecificCharacterSet
    ds.PatientName = "Plain^Ascii"
    out = Deidentifier(KEY).deidentify(
        ds, source="p", patient_label="c", study_description="Kniegelenk, Läsion"
    )
    again = to_dataset(to_bytes(out.dataset))
    assert again.StudyDescription == "Kniegelenk, Läsion"


def test_canaries_cover_planted_values_and_sweep_finds_them() -> None:
    result = deid_planted()
    values = {c.value for c in result.canaries}
    for where, value in PLANTED:
        assert value in values, f"no canary for {where}"
    for part in PN_PARTS + ["Jürgen Müller", "Müller Jürgen", "04.03.2019", "4 mar 2019"]:
        assert part in values
    sweeper = Sweeper(result.canaries)
    for spelling in ("2019-03-04", "3/4/19", "04 03 2019", "March 4, 2019", "04.03.19"):
        assert sweeper.scan_bytes(f"<p>seen on {spelling}</p>".encode(), "p"), spelling
    for where, value in PLANTED:
        for form in (value, value.upper(), value.lower()):
            page = f"<p>Case note: {form}.</p>".encode()
            hits = sweeper.scan_bytes(page, "page.html")
            assert hits, f"sweep missed {where}"
            assert all(value not in str(hit) and value not in repr(hit) for hit in hits)


def test_sweep_of_output_is_clean() -> None:
    result = deid_planted()
    assert Sweeper(result.canaries).scan_bytes(to_bytes(result.dataset), "out.dcm") == []


def test_canary_repr_hides_the_value() -> None:
    canary = Canary("Müller^Jürgen", "(0010,0010) PatientName", "a.dcm")
    assert "Müller" not in repr(canary)


def test_date_shift_keeps_interval_for_one_patient() -> None:
    deid = Deidentifier(KEY)
    first = deid.deidentify(make_planted(study_date="20190304"), source="a", patient_label="c")
    second = deid.deidentify(
        make_planted(study_date="20200115", sop_uid=ROOT + "5"), source="b", patient_label="c"
    )

    def day(text: str) -> date:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    a, b = day(first.dataset.StudyDate), day(second.dataset.StudyDate)
    assert (b - a).days == (date(2020, 1, 15) - date(2019, 3, 4)).days
    offset = deid.date_offset_days(Deidentifier.identity(make_planted(), "c"))
    assert -3650 <= offset <= -365
    assert (a - date(2019, 3, 4)).days == offset
    # the UTC offset suffix goes with TimezoneOffsetFromUTC
    assert first.dataset.AcquisitionDateTime == first.dataset.StudyDate + "101733.250000"
    assert first.dataset.StudyTime == "101500"


def test_date_offset_is_keyed_on_the_whole_identity() -> None:
    """Patients with a blank or shared ID do not share an offset; a file naming no one takes
    its case's."""
    deid = Deidentifier(KEY)
    offsets = set()
    for name in ("Alpha^Anna", "Beta^Bruno", "Gamma^Gerda"):
        ds = make_planted()
        ds.PatientID = ""
        ds.PatientName = name
        offsets.add(deid.deidentify(ds, source="x", patient_label="c").dataset.StudyDate)
    assert len(offsets) == 3
    anonymous = []
    for case in ("case-a", "case-b"):
        ds = make_planted()
        for keyword in ("PatientID", "PatientName", "PatientBirthDate"):
            setattr(ds, keyword, "")
        anonymous.append(deid.deidentify(ds, source="x", patient_label=case).dataset.StudyDate)
    assert anonymous[0] != anonymous[1]


def test_coarsen_times_option() -> None:
    deid = Deidentifier(KEY, frozenset({"retain-modified-dates", "coarsen-times"}))
    result = deid.deidentify(make_planted(), source="x", patient_label="c").dataset
    assert result.StudyTime == "100000"
    assert result.AcquisitionDateTime.endswith("100000")


def test_dates_removed_without_the_option() -> None:
    out = deid_planted(frozenset({"clean-descriptors"})).dataset
    assert out.StudyDate == ""  # basic profile: Z
    assert "SeriesDate" not in out and "AcquisitionDateTime" not in out
    assert out.LongitudinalTemporalInformationModified == "REMOVED"


def test_uid_mapping_is_consistent_and_keyed() -> None:
    deid = Deidentifier(KEY)
    target = deid.deidentify(make_planted(sop_uid=ROOT + "77"), source="a", patient_label="c")
    referrer = deid.deidentify(
        make_planted(sop_uid=ROOT + "78", referenced_uid=ROOT + "77"), source="b", patient_label="c"
    )
    ref = referrer.dataset.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == target.dataset.SOPInstanceUID
    assert ref.ReferencedSOPClassUID == CT_IMAGE
    assert referrer.dataset.StudyInstanceUID == target.dataset.StudyInstanceUID
    assert ROOT + "77" in {c.value for c in referrer.canaries}

    again = Deidentifier(bytes(KEY))
    assert again.map_uid(ROOT + "77") == target.dataset.SOPInstanceUID
    assert pickle.loads(pickle.dumps(deid)).map_uid(ROOT + "77") == deid.map_uid(ROOT + "77")
    other = Deidentifier(b"\x01" * 32)
    assert other.map_uid(ROOT + "77") != deid.map_uid(ROOT + "77")
    assert deid.date_offset_days("PID") == again.date_offset_days("PID")
    offsets = {Deidentifier(bytes([i]) * 32).date_offset_days("PID") for i in range(8)}
    assert len(offsets) > 1  # keyed: the key changes the shift


def test_map_uid_format() -> None:
    deid = Deidentifier(KEY)
    for uid in (ROOT + "1", "1.2.3", "9" * 64):
        mapped = deid.map_uid(uid)
        assert re.fullmatch(r"2\.25\.[1-9][0-9]*", mapped)
        assert len(mapped) <= 64
        assert int(mapped[5:]) < 2**128


def test_dicom_defined_uids_are_kept() -> None:
    ds = make_planted()
    ds.ReferencedStudySequence = Sequence(
        [
            _item(
                ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1", ReferencedSOPInstanceUID=ROOT + "8"
            )
        ]
    )
    out = (
        Deidentifier(KEY, frozenset({"retain-uids"}))
        .deidentify(ds, source="s", patient_label="c")
        .dataset
    )
    assert out.SOPInstanceUID == ROOT + "3333333333"  # retain-uids keeps them
    assert out.ReferencedStudySequence[0].ReferencedSOPClassUID == "1.2.840.10008.3.1.2.3.1"
    assert out.SOPClassUID == CT_IMAGE


def test_retain_patient_characteristics() -> None:
    options = DEFAULT_OPTIONS | {"retain-patient-characteristics"}
    out = deid_planted(options).dataset
    assert out.PatientSex == "F"
    assert out.PatientAge == "090Y"
    assert out.PatientWeight == "61.5"
    assert "113108" in {item.CodeValue for item in out.DeidentificationMethodCodeSequence}
    plain = deid_planted().dataset
    assert plain.get("PatientSex", "") == ""
    assert "PatientAge" not in plain and "PatientWeight" not in plain


def test_retain_device_identity_keeps_serial_but_not_institution() -> None:
    out = deid_planted(DEFAULT_OPTIONS | {"retain-device-identity"}).dataset
    assert out.DeviceSerialNumber == "SN-4455667788"
    assert out.StationName == "CTROOM-SEVEN"
    assert "InstitutionName" not in out


def test_parse_options() -> None:
    assert parse_options(["clean-descriptors", " retain-uids "]) == {
        "clean-descriptors",
        "retain-uids",
    }
    assert parse_options([]) == frozenset()
    assert DEFAULT_OPTIONS <= KNOWN_OPTIONS
    with pytest.raises(ValueError, match="retain-everything"):
        parse_options(["retain-uids", "retain-everything"])
    with pytest.raises(ValueError):
        Deidentifier(KEY, frozenset({"retain-full-dates"}))


def test_load_or_create_key(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "deid.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    path.write_bytes(b"short")
    with pytest.raises(ValueError):
        load_or_create_key(path)


def test_path_canaries() -> None:
    deid = Deidentifier(KEY)
    values = {
        c.value
        for c in deid.path_canaries("Smith_John_19470312/CT HEAD/DICOM/IM000123.dcm", "case-1")
    }
    assert values == {"Smith_John_19470312"}
    values = {c.value for c in deid.path_canaries("12345678/Mueller Anna.dcm", "case-1")}
    assert values == {"12345678", "Mueller Anna.dcm", "Mueller Anna"}


def test_allow_listed_code_strings_must_look_like_codes() -> None:
    ds = make_planted()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom rightly warns about the invalid CS
        ds.BodyPartExamined = "Knee of Mrs Smithers"
    result = Deidentifier(KEY).deidentify(ds, source="s", patient_label="c")
    assert "BodyPartExamined" not in result.dataset
    assert "Knee of Mrs Smithers" in {c.value for c in result.canaries}
    assert result.dataset.StudyDescription == "CT"


def test_pixel_data_is_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "in.dcm"
    path.write_bytes(to_bytes(make_planted()))
    ds = pydicom.dcmread(path, defer_size=64)
    Deidentifier(KEY).deidentify(ds, source="s", patient_label="c")
    raw = ds.get_item(0x7FE00010, keep_deferred=True)
    assert raw is not None and raw.value is None  # still deferred
    assert len(ds.PixelData) == 512  # and still readable afterwards
