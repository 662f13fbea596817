"""A hostile teaching site: identifiers planted in 100+ places of real-looking DICOM, by every
channel an adversary has (attributes of every VR, sequences 6 deep, private blocks, UN and
wrong-VR copies, kept attributes, binary values, overlays, file and folder names, zip comments
and member names, DICOMDIR records, character sets, non-image objects, other inputs).

`make_site(root)` writes the site and returns what was planted as (where, value); `hunt(out,
values)` is the independent hunter the tests use: it knows nothing of sitegen's sweep and
greps every byte and path of a built tree in every form a value can take there.
"""

from __future__ import annotations

import base64
import io
import json
import re
import unicodedata
import zipfile
from pathlib import Path

import pydicom
from dicomgen import ct_slice
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

Planted = list[tuple[str, str]]

# Patient A (case "alpha"), patient B (case "beta"); every value is distinctive.
A_NAME = ("Quillfeather", "Rosalind")
A_ID = "MRN-0048-3391"
A_BIRTH = "19520817"
B_NAME = ("Drummondsey", "Xu")
B_ID = "88120457"


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


_PRIVATE_WORDS = """Abernethy Bellweather Corrigan Dunsinane Eversholt Fairweather Gwendraeth
Hawksmoor Illingworth Jessamine Kittiwake Loxley Mabinogion Netherby Ormerod Pettigrew Quennell
Rutherglen Sackville Tregothnan Ullswater Vosburgh Whitlock""".split()


def _deep(values: dict[str, str]) -> Sequence:
    """A chain of six nested sequence items; the values sit in the deepest."""
    leaf = Dataset()
    for keyword, value in values.items():
        setattr(leaf, keyword, value)
    node = leaf
    for level in range(5):
        parent = Dataset()
        parent.CodeValue = f"L{level}"
        parent.ContentSequence = Sequence([node])
        node = parent
    return Sequence([node])


def _planted_slice(index: int, study: str, series: str, planted: Planted) -> FileDataset:
    """A CT slice of patient A with identifiers everywhere; `planted` gets (where, value)."""
    family, given = A_NAME
    ds = ct_slice(
        index,
        study_uid=study,
        series_uid=series,
        patient=f"{family}^{given}",
        patient_id=A_ID,
    )
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientBirthDate = A_BIRTH
    top = {
        "OtherPatientIDs": "OPID-73302811",
        "PatientAddress": "14 Larkspur Crescent, Wintermere",
        "PatientTelephoneNumbers": "0171 446 2290",
        "PatientMotherBirthName": "Hollowmere^Agathe",
        "PatientComments": "came in with Fennimore and Bartholomew",
        "AccessionNumber": "ACX5522913",
        "InstitutionName": "Brackenridge Infirmary",
        "InstitutionAddress": "Copperbeech Road 9, Ostwald",
        "InstitutionalDepartmentName": "Ravelston Imaging Suite",
        "ReferringPhysicianName": "Pemberton^Clarissa",
        "PerformingPhysicianName": "Thistlethwaite^Amos",
        "NameOfPhysiciansReadingStudy": "Okonkwo^Ifeoma",
        "OperatorsName": "Lindqvist^Maj",
        "RequestingPhysician": "Vasquez^Teodoro",
        "StationName": "ROOMKESTREL7",
        "DeviceSerialNumber": "SNX-90817266",
        "StudyID": "SID-Q5521",
        "StudyDescription": "Follow-up for Quillfeather",
        "SeriesDescription": "Marwick chest series",
        "ProtocolName": "Ellingham protocol",
        "ImageComments": "annotated by Wolstenholme",
        "AdmittingDiagnosesDescription": "seen by Featherstonehaugh",
        "AdditionalPatientHistory": "history told by Cressida Pennyworth",
        "Occupation": "Lighthouse keeper at Sandcastlehead",
        "MilitaryRank": "Haverbrook wing",
        "BranchOfService": "Coastguard Tollemache",
        "PatientInsurancePlanCodeSequence": None,
        "CountryOfResidence": "Fenwickshire",
        "RegionOfResidence": "Mudburyshire",
        "ResponsibleOrganization": "Gildersleeve",
        "PatientReligiousPreference": "Ravenscar chapel",
        "MedicalAlerts": "alert set by Throckmorton",
        "Allergies": "reported by Ambrosius",
        "EthnicGroup": "Zephyrian",
        "RequestedProcedureDescription": "requested by Oyelaran",
        "PerformedProcedureStepDescription": "step by Castellanos",
        "ScheduledPerformingPhysicianName": "Nakamura^Hideo",
        "DerivationDescription": "derived by Moriarty-Blythe",
        "PatientState": "escorted by Constable Peabody",
        "OtherPatientNames": "Quillfeather-Smythe^Rosie",
    }
    for keyword, value in top.items():
        if value is None:
            continue
        setattr(ds, keyword, value)
        planted.append((keyword, value))
    # dates and times in other attributes, one DT with a UTC offset
    ds.AcquisitionDateTime = "20240115101733.250000+0100"
    ds.TimezoneOffsetFromUTC = "+0100"
    # six levels deep, in a sequence the profile keeps walking
    deep = {
        "PatientName": "Gallowglass^Ysolde",
        "LongCodeValue": "Deepcode Marchbanks",
        "TextValue": "nested note by Penhaligon",
    }
    ds.ReferencedImageSequence = Sequence([_item(ReferencedSOPClassUID=ds.SOPClassUID)])
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = generate_uid()
    ds.RequestAttributesSequence = _deep(deep)
    planted += [(f"6 deep {k}", v) for k, v in deep.items()]
    # private blocks: creator, LO, UN, OB holding text
    ds.add_new(0x00110010, "LO", "Blackwood creator")
    ds.add_new(0x00111001, "LO", "private note Ashcombe")
    ds.add_new(0x00111002, "UN", b"hidden UN Farquharson")
    ds.add_new(0x00111003, "OB", b"private OB Wetherby".ljust(20, b"\0"))
    planted += [
        ("private creator", "Blackwood creator"),
        ("private LO", "private note Ashcombe"),
        ("private UN", "hidden UN Farquharson"),
        ("private OB", "private OB Wetherby"),
    ]
    # overlays
    ds.add_new(0x60000022, "LO", "overlay by Marchetti")
    ds.add_new(0x60001500, "LO", "label Yarborough")
    planted += [
        ("OverlayDescription", "overlay by Marchetti"),
        ("OverlayLabel", "label Yarborough"),
    ]
    # a private block of many values, and a private sequence holding a standard PN as UN
    for n, word in enumerate(_PRIVATE_WORDS):
        ds.add_new(0x00130010 if n == 0 else 0x00131000 + n, "LO", word)
        planted.append((f"private (0013,{0x1000 + n:04X})", word))
    inner = Dataset()
    inner.add_new(0x00100010, "UN", b"Cavendish-Royle^Oona")
    ds.add_new(0x00150010, "LO", "SEQCREATOR")
    ds.add_new(0x00151001, "SQ", Sequence([inner]))
    planted.append(("private SQ > UN PatientName", "Cavendish-Royle^Oona"))
    # kept attributes, adversarial: wrong VR, names in codes, own values in kept free text
    ds.add_new(0x00180060, "LT", f"{family} {A_ID} {A_BIRTH}")  # KVP as LT
    ds.BodyPartExamined = "TREMAYNE"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "CADWALLADER"]
    ds.Manufacturer = f"{family} Imaging Works"  # the patient's own name inside a kept value
    ds.ManufacturerModelName = "XR 48-3391"  # reformatted MRN digits
    ds.ConvolutionKernel = f"K {given}"
    ds.RescaleType = "HU"
    ds.StackID = "Stack of Rosalind"
    ds.ICCProfile = b"ICC text Pendergast-Wilde".ljust(64, b"\0")
    planted += [
        ("KVP as LT", f"{family} {A_ID} {A_BIRTH}"),
        ("BodyPartExamined", "TREMAYNE"),
        ("ImageType", "CADWALLADER"),
        ("ICCProfile", "Pendergast-Wilde"),
    ]
    # Latin-1 and Cyrillic spellings, in their own character sets
    ds.add_new(0x00081030, "LO", "Studie für Jörg Überkäufer")  # StudyDescription again
    planted.append(("StudyDescription (UTF-8)", "Überkäufer"))
    # the birth date written out, inside a removed free text
    ds.PatientComments = "born 17 August 1952 in Wintermere"
    planted.append(("PatientComments", "born 17 August 1952 in Wintermere"))
    return ds


def _other_patient_slice(index: int, study: str, series: str, charset: str) -> FileDataset:
    family, given = B_NAME
    ds = ct_slice(
        index, study_uid=study, series_uid=series, patient=f"{family}^{given}", patient_id=B_ID
    )
    ds.PatientBirthDate = "19690203"
    ds.InstitutionName = "Kessingland Cottage Hospital"
    ds.ReferringPhysicianName = "Абрамович^Святослав" if charset == "ISO_IR 144" else "Ng^Li"
    ds.SpecificCharacterSet = charset
    return ds


def _sr(study: str, planted: Planted) -> FileDataset:
    """A structured report (no image): refused, but its values are the patient's."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SR"
    ds.PatientName = "Quillfeather^Rosalind"
    ds.VerifyingObserverSequence = Sequence(
        [_item(VerifyingObserverName="Hargreaves^Philippa", VerifyingOrganization="Lowmoor")]
    )
    ds.ContentSequence = Sequence([_item(TextValue="dictated by Attenborough-Pike")])
    planted += [
        ("SR VerifyingObserverName", "Hargreaves^Philippa"),
        ("SR TextValue", "dictated by Attenborough-Pike"),
    ]
    return ds


def _save(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def make_site(root: Path) -> tuple[Path, Planted]:
    """The hostile site under `root`: returns site.toml and every planted (where, value)."""
    planted: Planted = []
    family, given = A_NAME
    planted += [
        ("PatientName", f"{family}^{given}"),
        ("PatientName family", family),
        ("PatientName given", given),
        ("PatientID", A_ID),
        ("PatientID digits", "00483391"),
        ("PatientBirthDate", A_BIRTH),
    ]
    # case alpha: a folder named after the patient, 3 planted slices, an SR, a stray file
    folder = root / "cases/alpha" / f"{family} {given} {A_ID}" / "Scan Larkspur"
    planted += [("folder name", f"{family} {given} {A_ID}"), ("folder name", "Larkspur")]
    study, series = generate_uid(entropy_srcs=["adv-a"]), generate_uid(entropy_srcs=["adv-as"])
    for index in range(3):
        ds = _planted_slice(index, study, series, [] if index else planted)
        _save(ds, folder / f"{index + 1:03d}_{given}Q.dcm")
    planted.append(("file name", f"{given}Q"))
    _save(_sr(study, planted), folder / "report.dcm")
    (folder / "notes for Mrs Quillfeather.txt").write_text("not DICOM")

    # case beta: a zip with a comment, planted member names, a DICOMDIR, two character sets
    buffer = io.BytesIO()
    b_family, b_given = B_NAME
    b_study = generate_uid(entropy_srcs=["adv-b"])
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.comment = b"exported for Drummondsey by Ingleby-Marsh"
        for index, charset in enumerate(("ISO_IR 100", "ISO_IR 144")):
            ds = _other_patient_slice(index, b_study, generate_uid(entropy_srcs=["bs"]), charset)
            data = io.BytesIO()
            ds.save_as(data, enforce_file_format=True)
            info = zipfile.ZipInfo(f"Drummondsey_{b_given}/Vellacott/{index}.dcm")
            info.comment = b"member of Cholmondeley"
            zf.writestr(info, data.getvalue())
        zf.writestr("Drummondsey_Xu/DICOMDIR", _dicomdir_bytes())
    (root / "cases/beta").mkdir(parents=True, exist_ok=True)
    (root / "cases/beta/export.zip").write_bytes(buffer.getvalue())
    planted += [
        ("zip comment", "Ingleby-Marsh"),
        ("zip member comment", "Cholmondeley"),
        ("zip member folder", "Vellacott"),
        ("B PatientName", f"{b_family}^{b_given}"),
        ("B family", b_family),
        ("B ID", B_ID),
        ("B birth", "19690203"),
        ("B institution", "Kessingland Cottage Hospital"),
        ("B Cyrillic physician", "Абрамович"),
        ("B Cyrillic physician", "Святослав"),
        ("DICOMDIR record", "Spottiswoode^Hamish"),
        ("DICOMDIR record", "DDR-5567120"),
    ]

    # case gamma: B's values hidden in another patient's kept attributes (cross-input)
    g_study = generate_uid(entropy_srcs=["adv-g"])
    g_series = generate_uid(entropy_srcs=["adv-gs"])
    for index in range(2):
        ds = ct_slice(
            index,
            study_uid=g_study,
            series_uid=g_series,
            patient="Plain^Patient",
            patient_id="GAMMA-0001",
        )
        ds.PatientName = "Ordinary^Person"
        ds.Manufacturer = "Kessingland Cottage Hospital" if index == 0 else "ACME"
        _save(ds, root / "cases/gamma" / f"IM{index}.dcm")

    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(bytes(range(32)))
    config = root / "site.toml"
    config.write_text(
        '[site]\ntitle = "Adversarial"\n\n'
        '[[cases]]\nslug = "alpha"\ntitle = "Alpha"\nsource = "cases/alpha"\n'
        '[[cases]]\nslug = "beta"\ntitle = "Beta"\nsource = "cases/beta/export.zip"\n'
        '[[cases]]\nslug = "gamma"\ntitle = "Gamma"\nsource = "cases/gamma"\n',
        encoding="utf-8",
    )
    return config, planted


def _dicomdir_bytes() -> bytes:
    """A DICOMDIR (no files of its own) whose patient record names someone."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.FileSetID = "EXPORT"
    record = Dataset()
    record.DirectoryRecordType = "PATIENT"
    record.PatientName = "Spottiswoode^Hamish"
    record.PatientID = "DDR-5567120"
    ds.DirectoryRecordSequence = Sequence([record])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


# -- the hunter ------------------------------------------------------------------------------


_COMMON = frozenset({"august", "follow-up", "studie", "lighthouse", "scan"})


def _forms(value: str) -> set[bytes]:
    """Every byte form of `value` worth grepping for: cases, NFC/NFD, accents stripped,
    UTF-8, Latin-1, Cyrillic, UTF-16 LE/BE; for a name its parts."""
    texts = {value}
    texts |= {
        p
        for p in re.split(r"[\^ ,]+", value)
        if len(p) >= 5 and p[0].isupper() and not p.isupper() and p.lower() not in _COMMON
    }
    out: set[bytes] = set()
    for text in list(texts):
        stripped = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        for form in {
            text,
            text.lower(),
            text.upper(),
            stripped,
            unicodedata.normalize("NFD", text),
        }:
            for encoding in ("utf-8", "latin-1", "iso8859_5", "utf-16-le", "utf-16-be"):
                try:
                    out.add(form.encode(encoding))
                except UnicodeEncodeError:
                    pass
    return out


def _strings(obj: object) -> list[str]:
    if isinstance(obj, dict):
        found = []
        for key, value in obj.items():
            if key == "InlineBinary":
                found.append(base64.b64decode(value).decode("latin-1"))
            else:
                found += _strings(value)
        return found
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [str(obj)] if isinstance(obj, str | int | float) else []


def _views(path: Path, data: bytes) -> list[bytes]:
    """The raw bytes plus what a reader would decode from them."""
    views = [data]
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            views += [zf.read(n) for n in zf.namelist()] + [zf.comment]
            views += [n.encode() for n in zf.namelist()]
    if data[128:132] == b"DICM":
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        views.append("\n".join(str(e.value) for e in ds.iterall()).encode("utf-8"))
    if path.suffix == ".json" or path.name in ("metadata", "index.json"):
        try:
            views.append("\n".join(_strings(json.loads(data))).encode("utf-8"))
        except ValueError:
            pass
    return views


def hunt(out: Path, planted: Planted) -> list[str]:
    """Every planted value found in `out`: in a file (raw, zip members, decoded DICOM, JSON
    strings and base64), or in a path. Case-insensitive for ASCII."""
    needles = [(where, value, _forms(value)) for where, value in planted]
    found: list[str] = []
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        lowered_name = relative.lower().encode()
        for where, _value, forms in needles:
            if any(f.lower() in lowered_name for f in forms if len(f) >= 5):
                found.append(f"{where} in the path {relative}")
        if not path.is_file():
            continue
        for view in _views(path, path.read_bytes()):
            low = view.lower()
            for where, _value, forms in needles:
                if any(f.lower() in low for f in forms if len(f) >= 5):
                    found.append(f"{where} in {relative}")
    return sorted(set(found))
