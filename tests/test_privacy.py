"""Whole builds with identifying inputs: no planted value reaches any output byte or path."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import deid_data
import numpy as np
import pydicom
import pytest
from conftest import write_site
from dicomgen import write_ct_series
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, MRImageStorage
from test_deid_profile import PLANTED, PN_PARTS, make_planted, to_bytes

from sitegen import codestreams, pixels
from sitegen.build import BuildFailed, build
from sitegen.config import load_config
from sitegen.deid import Deidentifier, codestream_canaries
from sitegen.outdir import MARKER, MARKER_TEXT
from sitegen.render import layout_from_metadata

KEY = bytes(range(32))
FOLDER = "Müller Jürgen PID-77341295"
SUBFOLDER = "Scan Thistlewood 20190304"
FILE = "Pfefferkorn_Zwiebel.dcm"
JPEG_COMMENT = "JPEGCOMMENT Quenfordshire"
PATH_VALUES = ["Müller Jürgen PID-77341295", "Thistlewood", "Pfefferkorn_Zwiebel"]


def _jpeg_planted() -> bytes:
    """The planted dataset as an 8-bit JPEG baseline MR image with a COM marker."""
    ds = make_planted(sop_uid="1.2.826.0.1.3680043.8.498.5555555555")
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.Modality = "MR"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.Rows, ds.Columns = 16, 16
    del ds.RescaleSlope, ds.RescaleIntercept
    buffer = io.BytesIO()
    image = Image.fromarray((np.arange(256, dtype=np.uint8)).reshape(16, 16))
    image.save(buffer, "JPEG", quality=95, comment=JPEG_COMMENT.encode())
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return to_bytes(ds)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _forms(value: str) -> list[bytes]:
    out = set()
    for form in {value, value.upper(), value.lower()}:
        out.add(form.encode("utf-8"))
        out.add(form.encode("latin-1", "ignore"))
    return sorted(out)


@pytest.fixture
def planted_site(site_dir: Path) -> Path:
    folder = site_dir / "cases/knee" / FOLDER / SUBFOLDER
    folder.mkdir(parents=True)
    (folder / FILE).write_bytes(to_bytes(make_planted()))
    (folder / "jpeg.dcm").write_bytes(_jpeg_planted())
    (site_dir / ".sitegen").mkdir()
    (site_dir / ".sitegen/key").write_bytes(KEY)
    return write_site(
        site_dir, '[[cases]]\nslug = "knee"\ntitle = "Knee case"\nsource = "cases/knee"\n'
    )


def test_no_planted_value_reaches_any_output_byte(planted_site: Path) -> None:
    report = build(load_config(planted_site), workers=2)
    assert report.published and report.instances == 2, report.warnings
    assert "sweep" in report.seconds
    out = Path(report.out_dir)
    files = _files(out)
    values = [v for _, v in PLANTED] + PN_PARTS + PATH_VALUES + [JPEG_COMMENT, "19470312"]
    assert len(values) >= 25
    for value in values:
        for form in _forms(value):
            for name, data in files.items():
                assert form not in data, f"{value!r} leaked into {name}"
                assert form not in name.encode(), f"{value!r} leaked into a path"
    # and the images are still there: the pixels survive de-identification
    (metadata,) = [n for n in files if n.endswith("/metadata") and "/series/" in n]
    instances = json.loads(files[metadata])
    assert len(instances) == 2
    meta = instances[0]
    assert meta["00100010"]["Value"] == [{"Alphabetic": "knee"}]
    assert meta["00120062"]["Value"] == ["YES"]  # PatientIdentityRemoved


def test_jpeg_comment_becomes_a_canary() -> None:
    ds = pydicom.dcmread(io.BytesIO(_jpeg_planted()))
    assert [c.value for c in codestream_canaries(ds, "x")] == [JPEG_COMMENT]


def test_sweep_stops_a_leak_from_author_text(planted_site: Path) -> None:
    """The author typed the patient's name into the published description: nothing is
    published, and the message names the file and attribute without printing the name."""
    config = planted_site.read_text().replace(
        'title = "Knee case"', 'title = "Knee case"\nstudy_description = "Knee of Doolittle"'
    )
    planted_site.write_text(config)
    (planted_site.parent / "public").mkdir()
    (planted_site.parent / "public/keep.txt").write_text("previous site")
    (planted_site.parent / "public" / MARKER).write_text(MARKER_TEXT)  # sitegen made it
    with pytest.raises(BuildFailed) as info:
        build(load_config(planted_site), workers=1)
    # every instance of the case is refused by the screen (the description is in each), so
    # the case has no image: the build fails before anything is published
    report = info.value.report
    errors = "\n".join(report.errors)
    assert 'case "knee": no image could be published' in errors
    refusals = [w for w in report.warnings if ": refused: its " in w]
    assert refusals and all("ReferringPhysicianName of cases/knee/" in w for w in refusals)
    assert "Doolittle" not in "\n".join(report.errors + report.warnings)
    before = {"keep.txt": b"previous site", MARKER: MARKER_TEXT.encode()}
    assert _files(planted_site.parent / "public") == before


def test_shifted_date_equal_to_another_patients_date_is_no_leak(site_dir: Path) -> None:
    """Patient B's real study date equals patient A's shifted one: a coincidence, not a leak."""
    deid = Deidentifier(KEY)
    from datetime import date, timedelta

    shifted = date(2024, 1, 15) + timedelta(days=deid.date_offset_days("PID-AAAA-0001"))
    write_ct_series(site_dir / "a", 2, seed="a", patient_id="PID-AAAA-0001")
    files_b = write_ct_series(site_dir / "b", 2, seed="b", patient_id="PID-BBBB-0002")
    for f in files_b:
        ds = pydicom.dcmread(f)
        ds.StudyDate = shifted.strftime("%Y%m%d")
        ds.save_as(f)
    (site_dir / ".sitegen").mkdir()
    (site_dir / ".sitegen/key").write_bytes(KEY)
    config = write_site(
        site_dir,
        '[[cases]]\nslug = "a"\ntitle = "A"\nsource = "a"\n'
        '[[cases]]\nslug = "b"\ntitle = "B"\nsource = "b"\n',
    )
    report = build(load_config(config), workers=1)
    assert report.published and report.studies == 2


def test_same_key_same_uids_other_key_other_uids(site_dir: Path) -> None:
    write_ct_series(site_dir / "ct", 2)
    config = write_site(site_dir, '[[cases]]\nslug = "c"\ntitle = "C"\nsource = "ct"\n')

    def study_list() -> bytes:
        build(load_config(config), workers=1)
        return (site_dir / "public/dicomweb/studies/index.json").read_bytes()

    first, second = study_list(), study_list()
    assert first == second
    (site_dir / ".sitegen/key").write_bytes(b"another key, 32 bytes long .....")
    assert study_list() != first


US_FOLDER = Path(deid_data.__file__).parent / "data/ultrasounds"


@pytest.mark.parametrize("name", ["GREYSCALE_IMAGE.dcm", "RGB_IMAGE.dcm"])
def test_burned_in_ultrasound_refused_unless_masked(site_dir: Path, name: str) -> None:
    us_file = US_FOLDER / name
    (site_dir / "us").mkdir(parents=True)
    shutil.copy(us_file, site_dir / "us/image.dcm")
    base = '[build]\nframes = "htj2k"\n[[cases]]\nslug = "us"\ntitle = "US"\nsource = "us"\n'
    config = write_site(site_dir, base)
    with pytest.raises(BuildFailed) as info:  # its only image is refused: nothing to publish
        build(load_config(config), workers=1)
    text = "\n".join(info.value.report.warnings + info.value.report.errors)
    assert "us/image.dcm: refused" in text and 'burned_in = "mask"' in text

    write_site(
        site_dir, base + 'burned_in = "mask"\nmasks = [{ series = 1, rect = [0, 0, 1024, 80] }]\n'
    )
    report = build(load_config(config), workers=1)
    assert report.published and report.instances == 1
    out = Path(report.out_dir)
    (meta_path,) = out.glob("dicomweb/studies/*/series/*/metadata")
    meta = json.loads(meta_path.read_bytes())[0]
    (frame_path,) = out.rglob("frames/1")
    frame = codestreams.decode_frame(
        frame_path.read_bytes(), meta["00083002"]["Value"][0], layout_from_metadata(meta)
    )
    original = next(pixels.iter_frames(pydicom.dcmread(us_file)))[1]  # RGB for colour inputs
    frame = frame.reshape(original.shape)
    assert original[:80].any()  # there was something to hide
    assert not frame[:80].any()  # the mask blacked it out
    # below it, only what OCR read as text was blacked out too (and it read some: the
    # ultrasounds print their settings and the patient's name there)
    changed = (
        np.any(frame[80:] != original[80:], axis=-1)
        if frame.ndim == 3
        else (frame[80:] != original[80:])
    )
    assert not frame[80:][changed].any()
    assert any("text read in the pixels" in n for n in report.notes), report.notes


def test_check_command_finds_a_value_planted_after_the_build(planted_site: Path) -> None:
    from click.testing import CliRunner

    from sitegen.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["build", "--config", str(planted_site), "-q"]).exit_code == 0
    public = planted_site.parent / "public"
    result = runner.invoke(main, ["check", "--config", str(planted_site), str(public)])
    assert result.exit_code == 0, result.output
    assert "none found" in result.output and "UID remapped" in result.output
    (public / "notes.html").write_text("<p>Seen by Dr ZHIVAGO on the ward</p>", encoding="utf-8")
    result = runner.invoke(main, ["check", "--config", str(planted_site), str(public)])
    assert result.exit_code == 1
    assert "notes.html" in result.output and "PerformingPhysicianName" in result.output
    assert "ZHIVAGO" not in result.output.upper().replace("ZH…GO", "")
    # names in sitegen's own folders are exempt only for files proved to be sitegen's
    (public / "notes.html").unlink()
    (public / "viewer/zhivago").mkdir()
    result = runner.invoke(main, ["check", "--config", str(planted_site), str(public)])
    assert result.exit_code == 1 and "viewer/" in result.output, result.output
    # and what check prints masks the patient's values in file names (CI logs are public)
    assert "ZHIVAGO" not in result.output.upper().replace("ZH…GO", "")
    assert "77341295" not in result.output and "Müller" not in result.output, result.output


def test_a_name_spelled_in_pixel_bytes_is_caught_in_the_frame(site_dir: Path) -> None:
    """Pixels whose raw bytes spell the patient's name: the screen refuses the instance (its
    Part 10 file, read first, holds the frame), so this one-image case stops the build."""
    (path,) = write_ct_series(site_dir / "ct", 1, rows=4, cols=8)
    ds = pydicom.dcmread(path)
    ds.PixelData = b"Vandermolen^Ottoline".ljust(64, b"\0")
    ds.save_as(path)
    config = write_site(
        site_dir, '[build]\nframes = "raw"\n[[cases]]\nslug = "px"\ntitle = "P"\nsource = "ct"\n'
    )
    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1)
    report = info.value.report
    assert 'case "px": no image could be published' in "\n".join(report.errors)
    (refusal,) = [w for w in report.warnings if ": refused: its " in w]
    assert ".dcm would publish Va…en ((0010,0010) PatientName of ct/" in refusal, refusal


def test_messages_never_print_a_patient_named_folder(site_dir: Path) -> None:
    """A folder named after the patient is named in a warning, and build output ends up in
    public CI logs: the patient's values are masked in every message, JSON report too."""
    from click.testing import CliRunner

    from sitegen.cli import main

    folder = site_dir / "cases/k/dicom/Vandermolen_Ottoline"
    write_ct_series(folder, 2)
    (folder / "notes.txt").write_text("not dicom")
    # a second copy of one image with other pixels: its warning names both files
    other = pydicom.dcmread(folder / "IM0001")
    other.PixelData = bytes(len(other.PixelData))
    other.save_as(site_dir / "cases/k/dicom/Vandermolen_Ottoline/IM0001-edited")
    config = write_site(site_dir, '[[cases]]\nslug = "k"\ntitle = "K"\nsource = "cases/k/dicom"\n')
    for args in ([], ["--json"]):
        result = CliRunner().invoke(main, ["build", "-c", str(config), "-j", "1", "--clean", *args])
        assert result.exit_code == 0, result.output
        assert "notes.txt" in result.output  # the files are still named
        assert "IM0001-edited" in result.output and "has the SOP Instance UID" in result.output
        assert "vandermolen" not in result.output.lower()
        assert "ottoline" not in result.output.lower()
