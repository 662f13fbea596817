"""De-identified output stays conformant: dicom3tools' dciodvfy (the field's IOD checker)
reports no error in a published Part 10 file that it did not report in its input.

dicom3tools cannot read HTJ2K, so the files are built with `frames = "raw"` (explicit VR
little endian): the data set is the same whatever the frames' transfer syntax.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicomgen import enhanced_ct, file_dataset
from pydicom.data import get_testdata_file
from pydicom.dataset import FileDataset
from pydicom.uid import generate_uid

from sitegen.build import BuildReport, make_deidentifier, plan
from sitegen.config import load_config
from sitegen.transcode import run

DCIODVFY = shutil.which("dciodvfy")
pytestmark = pytest.mark.skipif(
    DCIODVFY is None, reason="dciodvfy is not installed (apt-get install dicom3tools; .ci/run does)"
)

PYDICOM = [
    "CT_small.dcm",
    "MR_small.dcm",
    "emri_small.dcm",
    "emri_small_jpeg_2k_lossless.dcm",
    "JPEG2000.dcm",
    "SC_rgb.dcm",
    "US1_J2KR.dcm",
    "MR_small_bigendian.dcm",
    "liver.dcm",
    "mlut_18.dcm",
]
DATA_STORE = [
    "MR-SIEMENS-DICOM-WithOverlays.dcm",
    "693_UNCI.dcm",
    "OBXXXX1A.dcm",
    "RG1_UNCI.dcm",
    "US1_UNCI.dcm",
    "MR2_UNCI.dcm",
    "SC_rgb_16bit.dcm",
    "JPEG-LL.dcm",
]


def nm_multiframe() -> FileDataset:
    """An NM image whose Frame Increment Pointer names its energy window and detector
    vectors (the audit found them removed, leaving the pointer dangling)."""
    ds = file_dataset("1.2.840.10008.5.1.4.1.1.20", generate_uid(entropy_srcs=["nm", "sop"]))
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["nm", "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["nm", "series"])
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=["nm", "for"])
    ds.PositionReferenceIndicator = ""
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Nm^Pat", "NM1", "", ""
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240101", "1200", "1", ""
    ds.ReferringPhysicianName, ds.Manufacturer = "", "ACME"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "NM", 1, 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "STATIC", "EMISSION"]
    ds.Rows = ds.Columns = 16
    ds.NumberOfFrames = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [2.0, 2.0]
    ds.FrameIncrementPointer = [0x00540010, 0x00540020]
    ds.EnergyWindowVector = [1, 1, 2, 2]
    ds.NumberOfEnergyWindows = 2
    ds.DetectorVector = [1, 2, 1, 2]
    ds.NumberOfDetectors = 2
    ds.PixelData = (np.arange(4 * 16 * 16) % 900).astype("<u2").tobytes()
    return ds


def _errors(path: Path) -> collections.Counter[str]:
    proc = subprocess.run([DCIODVFY, "-new", str(path)], capture_output=True)
    found: collections.Counter[str] = collections.Counter()
    for line in (proc.stdout + proc.stderr).decode("latin-1").splitlines():
        if line.startswith("Error"):
            found[re.sub(r"\[\d+\]|Value dump.*", "", line).strip()] += 1
    return found


def _corpus(folder: Path) -> int:
    folder.mkdir(parents=True)
    n = 0
    for name in PYDICOM:
        path = get_testdata_file(name)
        if path:
            shutil.copy(path, folder / f"pydicom-{name}")
            n += 1
    store = Path(pydicom.__file__).parent.parent / "data_store" / "data"
    for name in DATA_STORE:
        if (store / name).is_file():
            shutil.copy(store / name, folder / f"store-{name}")
            n += 1
    deid_data = pytest.importorskip("deid_data")
    humans = Path(deid_data.__file__).parent / "data"
    for path in sorted(humans.glob("humans/*.dcm")) + sorted(humans.glob("dicom-cookies/*"))[:3]:
        shutil.copy(path, folder / f"deid-{path.parent.name}-{path.name}")
        n += 1
    enhanced_ct(6).save_as(folder / "gen-enhanced-ct.dcm", enforce_file_format=True)
    nm_multiframe().save_as(folder / "gen-nm.dcm", enforce_file_format=True)
    return n + 2


def test_de_identification_introduces_no_iod_error(tmp_path: Path) -> None:
    n = _corpus(tmp_path / "in")
    assert n >= 20
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\ntitle = "T"\n[build]\nframes = "raw"\n'
        '[[cases]]\nslug = "c"\ntitle = "C"\nsource = "in"\nburned_in = "allow"\n'
        '[[cases]]\nslug = "s"\ntitle = "S"\nsource = "sample:head-mr"\n'
    )
    site = load_config(config)
    report = BuildReport(out_dir=str(tmp_path / "out"))
    jobs = plan(site, tmp_path / "out", make_deidentifier(site, tmp_path / "out"), report)
    introduced: dict[str, list[str]] = {}
    checked = 0
    for item, job in jobs:
        outcome = run(item, job)
        part10 = [f for f in outcome.files if f.endswith(".dcm")]
        if not part10:
            continue  # refused (radiotherapy objects): nothing published to check
        source = Path(item.location)
        if item.kind != "file":
            source = tmp_path / f"{item.location}-{item.member}.dcm"
            source.write_bytes(item.read_bytes())
        new = _errors(tmp_path / "out" / part10[0]) - _errors(source)
        if new:
            introduced[item.label] = sorted(new)
        checked += 1
    assert checked >= 20
    assert introduced == {}
