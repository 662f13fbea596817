"""A corpus of malformed and hostile inputs, several hundred files, made by a script.

`make_corpus(root)` writes them below `root` in folders by class and returns the list of
(class, path). Every class an audit of real and hostile files found, and more: truncated
files, random bytes, wrong VRs, bad lengths, deep sequences, huge dimensions, lying Number of
Frames, bad transfer syntaxes, broken fragments, odd character sets and dates, UIDs with `/`
or `..`, duplicates, file names that are not UTF-8, hostile zips and DICOMDIRs, a FIFO.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from dicomgen import ct_slice
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileDataset
from pydicom.encaps import encapsulate
from pydicom.fileset import FileSet
from pydicom.uid import generate_uid

Corpus = list[tuple[str, Path]]

REAL = [
    "CT_small.dcm",
    "MR_small.dcm",
    "emri_small.dcm",
    "emri_small_jpeg_2k_lossless.dcm",
    "emri_small_RLE.dcm",
    "JPEG2000.dcm",
    "SC_rgb.dcm",
    "US1_J2KR.dcm",
    "rtdose.dcm",
    "MR_small_bigendian.dcm",
]


_COUNT = iter(range(1000, 10**6))


def _slice(n: int | None = None, **changes: object) -> FileDataset:
    """A CT slice of one study; each call another instance unless `n` says which."""
    n = next(_COUNT) if n is None else n
    study = generate_uid(entropy_srcs=["hostile-study"])
    series = generate_uid(entropy_srcs=["hostile-series"])
    ds = ct_slice(n, study_uid=study, series_uid=series)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    return ds


def _bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _element(group: int, elem: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    """One explicit VR little endian element, with a length that may lie."""
    size = len(value) if length is None else length
    if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
        return struct.pack("<HH2sHI", group, elem, vr, 0, size) + value
    return struct.pack("<HH2sH", group, elem, vr, size & 0xFFFF) + value


def _raw_file(body: bytes, ts: str = "1.2.840.10008.1.2.1") -> bytes:
    """A Part 10 file around a hand-written data set (the file meta is well formed)."""
    uid = generate_uid(entropy_srcs=[body[:64].hex()]).encode()
    uid += b"\0" * (len(uid) % 2)
    tsb = ts.encode() + b"\0" * (len(ts) % 2)
    meta = (
        _element(0x0002, 0x0001, b"OB", b"\0\1")
        + _element(0x0002, 0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.2\0")
        + _element(0x0002, 0x0003, b"UI", uid)
        + _element(0x0002, 0x0010, b"UI", tsb)
    )
    group_length = _element(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta)))
    return b"\0" * 128 + b"DICM" + group_length + meta + body


def _write(folder: Path, name: str | bytes, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(name, bytes):
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), name)))
    else:
        path = folder / name
    path.write_bytes(data)
    return path


def _truncated(root: Path, out: Corpus) -> None:
    rng = random.Random(1)
    for name in REAL:
        data = Path(get_testdata_file(name)).read_bytes()
        cuts = {132, 140, 200, 400, len(data) // 3, len(data) // 2, len(data) - 1}
        cuts |= {rng.randrange(132, len(data)) for _ in range(6)}
        for cut in sorted(cuts):
            out.append(("truncated", _write(root / "truncated", f"{name}.{cut}", data[:cut])))


def _random(root: Path, out: Corpus) -> None:
    rng = random.Random(2)
    for n in range(30):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
        out.append(("random", _write(root / "random", f"r{n:02d}.dcm", _raw_file(body))))
    for n in range(10):  # no DICM marker at all
        body = bytes(rng.randrange(256) for _ in range(500))
        out.append(("random", _write(root / "random", f"plain{n:02d}.dcm", body)))


def _flipped(root: Path, out: Corpus) -> None:
    """Real files with bytes flipped in the header: wrong VRs, tags and lengths."""
    rng = random.Random(3)
    for name in REAL[:6]:
        data = bytearray(Path(get_testdata_file(name)).read_bytes())
        header_end = min(len(data), 2000)
        for n in range(20):
            copy = bytearray(data)
            for _ in range(4):
                at = rng.randrange(132, header_end)
                copy[at] = rng.randrange(256)
            out.append(("flipped", _write(root / "flipped", f"{name}.{n}", bytes(copy))))


def _wrong_vr_and_lengths(root: Path, out: Corpus) -> None:
    base = _bytes(_slice())
    cases = {
        "rows-as-text": _element(0x0028, 0x0010, b"LO", b"many rows "),
        "rows-odd": _element(0x0028, 0x0010, b"US", b"\1\0\0"),
        "length-huge": _element(0x0010, 0x0010, b"OB", b"abcd", 0xFFFFFFF0),
        "length-past-end": _element(0x0010, 0x0010, b"UT", b"abcd", 5000),
        "length-odd": _element(0x0008, 0x103E, b"LO", b"abc"),
        "undefined-length-text": _element(0x0008, 0x103E, b"UT", b"abcd", 0xFFFFFFFF),
        "sq-garbage": _element(0x0008, 0x1140, b"SQ", b"\xfe\xff\x00\xe0\x10\x00\x00\x00junk"),
        "un-huge": _element(0x0009, 0x1010, b"UN", b"x" * 8, 0x7FFFFFFF),
        "bad-vr-bytes": b"\x10\x00\x10\x00\xff\xfe\x04\x00abcd",
        "tag-out-of-order": _element(0x0002, 0x0010, b"UI", b"1.2\0"),
    }
    for name, element in cases.items():
        # insert before Pixel Data, where a reader meets it
        at = base.rfind(b"\xe0\x7f\x10\x00")
        data = base[:at] + element + base[at:]
        out.append(("wrong-vr", _write(root / "wrong-vr", f"{name}.dcm", data)))


def _deep_sequences(root: Path, out: Corpus) -> None:
    for depth in (20, 100, 500, 2000, 20000):
        # hand-written: nested sequences of undefined length
        opening = b""
        for _ in range(depth):
            opening += _element(0x0040, 0xA730, b"SQ", b"", 0xFFFFFFFF)
            opening += b"\xfe\xff\x00\xe0\xff\xff\xff\xff"  # item, undefined length
        closing = (b"\xfe\xff\x0d\xe0\0\0\0\0" + b"\xfe\xff\xdd\xe0\0\0\0\0") * depth
        ds = _slice()
        base = _bytes(ds)
        at = base.rfind(b"\xe0\x7f\x10\x00")
        data = base[:at] + opening + closing + base[at:]
        out.append(("deep", _write(root / "deep", f"depth{depth}.dcm", data)))


def _dimensions(root: Path, out: Corpus) -> None:
    small = np.zeros((4, 4), "<i2").tobytes()
    variants: dict[str, dict[str, object]] = {
        "rows-65535": {"Rows": 65535, "Columns": 65535, "PixelData": small},
        "rows-0": {"Rows": 0, "Columns": 0, "PixelData": b""},
        "bits-64": {"BitsAllocated": 64, "BitsStored": 64, "HighBit": 63},
        "bits-3": {"BitsAllocated": 3},
        "spp-100": {"SamplesPerPixel": 100},
        "stored-over-allocated": {"BitsStored": 24, "HighBit": 23},
        "photometric-bogus": {"PhotometricInterpretation": "ULTRAVIOLET"},
        "frames-1e9": {"NumberOfFrames": 1_000_000_000},
        "frames-neg": {"NumberOfFrames": -5},
        "frames-text": {"NumberOfFrames": "many"},
        "frames-plus-one": {"NumberOfFrames": 2},
        "frames-zero": {"NumberOfFrames": 0},
        "pixel-data-empty": {"PixelData": b""},
        "pixel-data-short": {"PixelData": small},
        "pixel-data-long": {"PixelData": np.zeros((240, 200), "<i2").tobytes()},
    }
    for name, changes in variants.items():
        try:
            data = _bytes(_slice(**changes))
        except Exception:  # noqa: BLE001 - pydicom will not write this one
            continue
        out.append(("dimensions", _write(root / "dimensions", f"{name}.dcm", data)))
    # multi-frame with a lying count, native and encapsulated
    for name in ("emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_RLE.dcm"):
        for frames in (11, 10**6, 2**31 - 1):
            ds = pydicom.dcmread(get_testdata_file(name))
            ds.NumberOfFrames = frames
            out.append(("dimensions", _write(root / "dimensions", f"{name}.{frames}", _bytes(ds))))


def _transfer_syntaxes(root: Path, out: Corpus) -> None:
    native = _bytes(_slice())
    for n, ts in enumerate(
        [
            "1.2.3.4.5",
            "1.2.840.10008.1.2.4.50",  # JPEG baseline, but the data is native
            "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.1.99",  # deflated, but not deflated
            "1.2.840.10008.1.2.5",
            "1.2.840.10008.1.2.2",  # big endian, but little endian bytes
            "",
            "../../etc/passwd",
        ]
    ):
        ds = pydicom.dcmread(io.BytesIO(native))
        ds.file_meta.TransferSyntaxUID = ts or "1.2"
        data = _bytes_raw_ts(ds, ts)
        out.append(("transfer-syntax", _write(root / "transfer-syntax", f"ts{n}.dcm", data)))


def _bytes_raw_ts(ds: FileDataset, ts: str) -> bytes:
    """The data set written as explicit little endian, whatever the meta claims."""
    body = io.BytesIO()
    pydicom.filewriter.write_dataset(pydicom.filebase.DicomFileLike(body), ds)
    return _raw_file(body.getvalue()[0:], ts or "1.2")


def _fragments(root: Path, out: Corpus) -> None:
    src = pydicom.dcmread(get_testdata_file("emri_small_jpeg_2k_lossless.dcm"))
    frames = list(pydicom.encaps.generate_frames(src.PixelData, number_of_frames=10))
    variants: dict[str, bytes] = {
        "empty-fragments": encapsulate([b"\0\0"] * 10),
        "garbage-codestreams": encapsulate([b"\xff\x4f\xff\x51garbage" * 4] * 10),
        "half-codestreams": encapsulate([f[: len(f) // 2] for f in frames]),
        "no-item-tags": b"\0" * 64,
        "item-length-lies": b"\xfe\xff\x00\xe0\0\0\0\0\xfe\xff\x00\xe0\xff\xff\xff\x7f" + frames[0],
        "sequence-delimiter-first": b"\xfe\xff\xdd\xe0\0\0\0\0" + encapsulate(frames),
        "bot-offsets-lie": struct.pack("<HHI", 0xFFFE, 0xE000, 8)
        + struct.pack("<II", 0, 0x7FFFFFFF)
        + encapsulate(frames)[8:],
    }
    good = Path(get_testdata_file("emri_small_jpeg_2k_lossless.dcm")).read_bytes()
    start = good.rfind(b"\xe0\x7f\x10\x00")  # OW (sic), undefined length
    assert start > 0
    for name, pixel_data in variants.items():
        data = good[: start + 12] + pixel_data + b"\xfe\xff\xdd\xe0\0\0\0\0"
        out.append(("fragments", _write(root / "fragments", f"{name}.dcm", data)))


def _text(root: Path, out: Corpus) -> None:
    variants: dict[str, dict[str, object]] = {
        "charset-bogus": {"SpecificCharacterSet": "ISO_IR 999"},
        "charset-multi": {"SpecificCharacterSet": ["", "ISO 2022 IR 87", "ISO 2022 IR 13"]},
        "charset-utf8-bad-bytes": {"SpecificCharacterSet": "ISO_IR 192"},
        "date-9s": {"StudyDate": "99999999", "PatientBirthDate": "00000000"},
        "date-words": {"StudyDate": "yesterday", "StudyTime": "noon"},
        "date-range": {"StudyDate": "20240101-20240202"},
        "age-bad": {"PatientAge": "999X"},
        "ds-text": {"SliceThickness": "thick", "PixelSpacing": ["a", "b"]},
        "ds-inf": {"RescaleSlope": "inf", "RescaleIntercept": "nan"},
        "window-zero": {"WindowWidth": 0, "WindowCenter": "1e308"},
        "position-bad": {"ImagePositionPatient": ["x", "y", "z"]},
        "orientation-short": {"ImageOrientationPatient": [1, 0]},
    }
    for name, changes in variants.items():
        try:
            data = _bytes(_slice(**changes))
        except Exception:  # noqa: BLE001
            continue
        if name == "charset-utf8-bad-bytes":
            data = data.replace(b"Vandermolen", b"Van\xff\xfemolen")
        out.append(("text", _write(root / "text", f"{name}.dcm", data)))


def _uids(root: Path, out: Corpus) -> None:
    for n, uid in enumerate(["../../../escape", "1.2/3.4", "1.2.3\\4", "..", "", "1." * 40]):
        ds = _slice(10 + n)
        for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
            if n % 3 == ["SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"].index(keyword):
                setattr(ds, keyword, uid)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID or "1.2"
        try:
            data = _bytes(ds)
        except Exception:  # noqa: BLE001
            continue
        out.append(("uid", _write(root / "uid", f"uid{n}.dcm", data)))


def _names_and_duplicates(root: Path, out: Corpus) -> None:
    data = _bytes(_slice(30))
    for n, name in enumerate([b"\xff\xfe-latin.dcm", b"caf\xe9.dcm", b"\xed\xa0\x80-surrogate"]):
        out.append(("name", _write(root / "name", name, _bytes(_slice(40 + n)))))
    for n in range(3):  # the same instance three times, one with other pixels
        other = data if n < 2 else _bytes(_slice(30, PixelData=bytes(24 * 20 * 2)))
        out.append(("duplicate", _write(root / "duplicate", f"dup{n}.dcm", other)))


def _special(root: Path, out: Corpus) -> None:
    folder = root / "special"
    folder.mkdir(parents=True, exist_ok=True)
    fifo = folder / "a-fifo.dcm"
    os.mkfifo(fifo)
    out.append(("fifo", fifo))
    link = folder / "loop-link"
    link.symlink_to(folder)
    out.append(("symlink", link))
    os.symlink("/dev/zero", folder / "dev-zero.dcm")
    out.append(("symlink", folder / "dev-zero.dcm"))


def hostile_zip(path: Path) -> Path:
    """Traversal names, a duplicate member name, a bomb, a nested zip, a member that is not
    DICOM, and one good instance."""
    good = _bytes(_slice(50))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("good/IM1", good)
        zf.writestr("../../escape.dcm", good)
        zf.writestr("/abs/path.dcm", good)
        zf.writestr("twice/IM2", _bytes(_slice(51)))
        zf.writestr("twice/IM2", _bytes(_slice(52)))
        zf.writestr("bomb.dcm", b"\0" * (300 * 1024**2))
        zf.writestr("inner.zip", path.read_bytes() if path.exists() else b"PK\3\4")
        zf.writestr("readme.txt", "hello")
    return path


def hostile_dicomdir(folder: Path) -> Path:
    """A DICOMDIR whose records form loops (the patient record is its own next, the last
    image points back at the first), one naming a missing file, one a path outside; its
    third image is good."""
    folder.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    for n in range(3):
        fs.add(_slice(60 + n))
    fs.write(folder)
    dicomdir = folder / "DICOMDIR"
    ds = pydicom.dcmread(dicomdir)
    images = [r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    images[0].ReferencedFileID = ["MISSING", "FILE"]
    images[1].ReferencedFileID = ["..", "..", "outside"]
    ds.save_as(dicomdir)
    ds = pydicom.dcmread(dicomdir)  # the records' offsets as written now
    records = ds.DirectoryRecordSequence
    images = [r for r in records if r.DirectoryRecordType == "IMAGE"]
    records[0].OffsetOfTheNextDirectoryRecord = records[0].seq_item_tell
    images[-1].OffsetOfTheNextDirectoryRecord = images[0].seq_item_tell
    ds.save_as(dicomdir)
    return dicomdir


def make_corpus(root: Path) -> Corpus:
    out: Corpus = []
    makers: list[Callable[[Path, Corpus], None]] = [
        _truncated,
        _random,
        _flipped,
        _wrong_vr_and_lengths,
        _deep_sequences,
        _dimensions,
        _transfer_syntaxes,
        _fragments,
        _text,
        _uids,
        _names_and_duplicates,
        _special,
    ]
    for make in makers:
        make(root, out)
    return out
