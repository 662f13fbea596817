"""Through whole builds: every input transfer syntax and photometric comes out as frame files
that decode bit-exactly to the input's pixels, with metadata that describes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import write_site
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import generate_uid

from sitegen import codestreams, pixels
from sitegen.build import build
from sitegen.config import load_config
from sitegen.deid import Deidentifier
from sitegen.render import layout_from_metadata

KEY = bytes(range(1, 33))
INPUTS = [
    "MR_small_implicit.dcm",  # implicit VR little endian
    "MR_small_bigendian.dcm",  # explicit big endian
    "image_dfl.dcm",  # deflated
    "MR_small_RLE.dcm",  # RLE lossless
    "SC_rgb_jpeg_dcmtk.dcm",  # JPEG baseline, YBR_FULL colour
    "JPGExtended.dcm",  # JPEG extended, 12-bit
    "JPEG-LL.dcm",  # JPEG lossless
    "MR_small_jpeg_ls_lossless.dcm",  # JPEG-LS
    "MR_small_jp2klossless.dcm",  # JPEG 2000 reversible
    "US1_J2KI.dcm",  # JPEG 2000 irreversible, YBR_ICT colour
    "OBXXXX1A.dcm",  # PALETTE COLOR
    "SC_rgb_2frame.dcm",  # RGB multi-frame
    "color-pl.dcm",  # RGB, planar configuration 1
    "SC_ybr_full_422_uncompressed.dcm",  # YBR_FULL_422
    "SC_rgb_small_odd.dcm",  # odd size
    "RG1_UNCR.dcm",  # MONOCHROME1
    "emri_small_jpeg_ls_lossless.dcm",  # enhanced MR, 10 frames, JPEG-LS
    "eCT_Supplemental.dcm",  # enhanced CT, 2 frames
    "693_J2KR.dcm",  # pydicom-data: JPEG 2000 CT
]


def _copy_with_fresh_uids(name: str, dest: Path) -> str:
    """pydicom's test files share UIDs between variants; give each its own. Returns the SOP
    Instance UID written."""
    ds = pydicom.dcmread(get_testdata_file(name))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        setattr(ds, keyword, generate_uid(entropy_srcs=[name, keyword]))
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dest / name)
    return str(ds.SOPInstanceUID)


@pytest.fixture(scope="module", params=["htj2k", "jpegls"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    site_dir = tmp_path_factory.mktemp("pix")
    (site_dir / "in").mkdir()
    sops = {_copy_with_fresh_uids(name, site_dir / "in"): name for name in INPUTS}
    # one more file: a 3-frame JPEG whose middle frame is corrupt
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_gdcm.dcm"))
    codestream = next(iter(generate_frames(ds.PixelData, number_of_frames=1)))
    ds.PixelData = encapsulate([codestream, codestream[:2] + bytes(100), codestream])
    ds.NumberOfFrames = 3
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.save_as(site_dir / "in/corrupt.dcm")
    (site_dir / ".sitegen").mkdir()
    (site_dir / ".sitegen/key").write_bytes(KEY)
    config = write_site(
        site_dir,
        f'[build]\nframes = "{request.param}"\n[[cases]]\nslug = "pix"\ntitle = "Pixels"\n'
        'source = "in"\nburned_in = "allow"\n',
    )
    report = build(load_config(config), workers=2)
    return site_dir, report, sops, request.param


def _published(out: Path) -> dict[str, tuple[dict, Path]]:
    found = {}
    for meta_path in out.glob("dicomweb/studies/*/series/*/metadata"):
        for meta in json.loads(meta_path.read_bytes()):
            found[meta["00080018"]["Value"][0]] = (meta, meta_path.parent)
    return found


def test_every_frame_round_trips_bit_exactly(built) -> None:
    site_dir, report, sops, codec = built
    # the viewer cannot show JPEG-LS; the test site has no [site] url
    expected = ("corrupt.dcm", 'build.frames = "jpegls"', "[site] url is not set")
    assert [w for w in report.warnings if not any(e in w for e in expected)] == []
    published = _published(site_dir / "public")
    deid = Deidentifier(KEY)
    checked = 0
    for original_sop, name in sops.items():
        meta, series_dir = published[deid.map_uid(original_sop)]
        layout = layout_from_metadata(meta)
        ts = meta["00083002"]["Value"][0]
        source = pydicom.dcmread(site_dir / "in" / name)
        expected = [a for _, a, _ in pixels.iter_frames(source)]
        frames_dir = series_dir / f"instances/{deid.map_uid(original_sop)}/frames"
        assert len(list(frames_dir.iterdir())) == len(expected), name
        for n, want in enumerate(expected, start=1):
            data = (frames_dir / str(n)).read_bytes()
            got = codestreams.decode_frame(data, ts, layout)
            assert got.reshape(want.shape).dtype == want.dtype, name
            assert np.array_equal(got.reshape(want.shape), want), f"{name} frame {n}"
            checked += 1
        # the metadata describes the frames exactly
        assert layout.rows == want.shape[0] and layout.columns == want.shape[1], name
        assert layout.samples_per_pixel == (want.shape[2] if want.ndim == 3 else 1), name
        if int(meta.get("00280008", {}).get("Value", [1])[0]) > 1:
            assert int(meta["00280008"]["Value"][0]) == len(expected), name
    assert checked >= 30
    if codec == "htj2k":
        assert {m["00083002"]["Value"][0] for m, _ in published.values()} <= {
            pixels.TS_HTJ2K_LOSSLESS,
            pixels.TS_EXPLICIT_LE,  # for > 16-bit data only
        }


def test_colour_inputs_are_published_as_decoded(built) -> None:
    site_dir, _, sops, codec = built
    published = _published(site_dir / "public")
    deid = Deidentifier(KEY)
    for original_sop, name in sops.items():
        meta, _ = published[deid.map_uid(original_sop)]
        photometric = meta["00280004"]["Value"][0]
        if name in ("SC_rgb_jpeg_dcmtk.dcm", "US1_J2KI.dcm", "OBXXXX1A.dcm", "color-pl.dcm"):
            assert photometric in ("RGB", "YBR_RCT"), name
            assert meta["00280002"]["Value"] == [3]
            assert meta.get("00280006", {}).get("Value", [0]) == [0], name
            assert "00281201" not in meta  # no palette left behind
        if name in ("SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm"):  # lossy inputs stay flagged
            assert meta["00282110"]["Value"] == ["01"], name
        if name == "RG1_UNCR.dcm":
            assert photometric == "MONOCHROME1"


def test_corrupt_frame_is_skipped_with_a_warning(built) -> None:
    site_dir, report, _, _ = built
    assert report.published
    (warning,) = [w for w in report.warnings if "corrupt.dcm" in w]
    assert "in/corrupt.dcm: frame 2: cannot decode" in warning
    published = _published(site_dir / "public")
    frames = [m for m, _ in published.values() if m.get("00280008", {}).get("Value") == [2]]
    assert frames  # the instance is published with its two good frames


def test_part10_downloads_hold_the_published_frames(built) -> None:
    """dicom/<S>/<R>/<I>.dcm reads back with pydicom to the same pixels as the frames, and the
    case zip holds every instance."""
    import zipfile

    site_dir, report, sops, codec = built
    out = site_dir / "public"
    deid = Deidentifier(KEY)
    published = _published(out)
    for original_sop, name in sops.items():
        sop = deid.map_uid(original_sop)
        meta, series_dir = published[sop]
        (path,) = out.glob(f"dicom/*/*/{sop}.dcm")
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == meta["00083002"]["Value"][0]
        assert ds.PatientIdentityRemoved == "YES" and ds.preamble == b"\0" * 128
        source = pydicom.dcmread(site_dir / "in" / name)
        expected = [a for _, a, _ in pixels.iter_frames(source)]
        got = [a for _, a, _ in pixels.iter_frames(ds)]
        assert len(got) == len(expected), name
        for want, have in zip(expected, got, strict=True):
            assert np.array_equal(have.reshape(want.shape), want), name
    with zipfile.ZipFile(out / "downloads/pix.zip") as zf:
        names = zf.namelist()
        assert len(names) == report.instances
        assert all(n.startswith("pix/study") and n.endswith(".dcm") for n in names)


def test_lossy_frames_with_lossless_downloads(tmp_path: Path, monkeypatch) -> None:
    """[build] lossy with lossless_downloads: the viewer's frames are lossy (and say so), the
    Part 10 downloads hold every bit of the input, and OHIF's DICOM JSON, which points at
    them, describes them (not the frames); the spool of a multi-frame's lossless frames is
    removed."""
    import tempfile

    from dicomgen import ct_pixels, enhanced_ct, write_ct_series
    from pydicom.data import get_testdata_file

    def pixels_of(ds: pydicom.Dataset) -> np.ndarray:
        return next(pixels.iter_frames(ds))[1]  # RGB, as the frames are encoded

    from sitegen._spool import Spool

    monkeypatch.setattr(Spool, "MEMORY", 1000)  # a multi-frame spools to disk
    site = tmp_path / "site"
    write_ct_series(site / "in", 3, rows=32, cols=32)
    enhanced_ct(12, 32, 32).save_as(site / "in/ENH", enforce_file_format=True)
    colour = pydicom.dcmread(get_testdata_file("US1_UNCR.dcm") or get_testdata_file("SC_rgb.dcm"))
    colour.save_as(site / "in/COLOUR", enforce_file_format=True)  # a colour ultrasound
    config = write_site(
        site,
        "[build]\nlossy = 50\nlossless_downloads = true\n[ohif]\nenabled = true\n"
        '[[cases]]\nslug = "l"\ntitle = "L"\nsource = "in"\nburned_in = "allow"\n',
    )
    spools = set(Path(tempfile.gettempdir()).glob("sitegen-spool-*"))
    report = build(load_config(config), workers=1)
    assert report.published, report.errors
    assert set(Path(tempfile.gettempdir()).glob("sitegen-spool-*")) == spools
    out = site / "public"
    metas = [
        m
        for p in out.glob("dicomweb/studies/*/series/*/metadata")
        for m in json.loads(p.read_bytes())
    ]
    assert len(metas) == 5
    assert all(m["00282110"]["Value"] == ["01"] for m in metas)  # the frames are lossy
    parts = sorted(out.glob("dicom/**/*.dcm"))
    assert len(parts) == 5
    exact = 0
    for path in parts:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pixels.TS_HTJ2K_LOSSLESS
        assert ds.get("LossyImageCompression") != "01"
        array = ds.pixel_array
        if ds.SamplesPerPixel == 3:  # colour: every bit too, through the reversible transform
            assert ds.PhotometricInterpretation == "YBR_RCT"
            assert np.array_equal(array, pixels_of(colour))
        elif int(ds.get("NumberOfFrames", 1)) == 1:
            index = round((100.0 - float(ds.ImagePositionPatient[2])) / 3.0)
            assert np.array_equal(array, ct_pixels(index, 32, 32))
        else:
            source = pydicom.dcmread(site / "in/ENH").pixel_array
            assert np.array_equal(array, source)
        exact += 1
    assert exact == 5
    by_sop = {str(pydicom.dcmread(p).SOPInstanceUID): pydicom.dcmread(p) for p in parts}
    manifests = [json.loads(p.read_bytes()) for p in out.glob("dicomjson/*.json")]
    entries = [e for m in manifests for s in m["studies"][0]["series"] for e in s["instances"]]
    described: dict[str, dict] = {}  # an instance's first entry carries its metadata
    for entry in entries:
        described.setdefault(entry["metadata"]["SOPInstanceUID"], entry["metadata"])
    assert len(described) == 5
    for meta in described.values():
        ds = by_sop[meta["SOPInstanceUID"]]
        assert meta["PhotometricInterpretation"] == ds.PhotometricInterpretation
        assert meta["AvailableTransferSyntaxUID"] == pixels.TS_HTJ2K_LOSSLESS
        assert "LossyImageCompression" not in meta


def test_lossy_quality_chosen_from_a_psnr_target(tmp_path: Path) -> None:
    """`lossy = { psnr = N }`: every published frame decodes to at least N dB against the
    input (over the image's own range), with the lowest quality of the ladder that does it,
    chosen per instance; an unreachable target keeps an instance lossless."""
    from dicomgen import write_ct_series
    from pydicom.data import get_testdata_file

    from sitegen import quality

    site = tmp_path / "site"
    write_ct_series(site / "in", 3, rows=64, cols=64)
    colour = pydicom.dcmread(get_testdata_file("US1_UNCR.dcm") or get_testdata_file("SC_rgb.dcm"))
    colour.save_as(site / "in/COLOUR", enforce_file_format=True)
    sources = {}
    for path in (site / "in").iterdir():
        ds = pydicom.dcmread(path)
        sources[float(ds.get("ImagePositionPatient", [0, 0, -1])[2])] = next(
            pixels.iter_frames(ds)
        )[1]

    def published(target: float) -> list[tuple[float, pydicom.Dataset, np.ndarray]]:
        config = write_site(
            site,
            f"[build]\nlossy = {{ psnr = {target} }}\n"
            '[[cases]]\nslug = "q"\ntitle = "Q"\nsource = "in"\nburned_in = "allow"\n',
        )
        assert build(load_config(config), workers=1).published
        rows = []
        for path in sorted((site / "public").glob("dicom/**/*.dcm")):
            ds = pydicom.dcmread(path)
            z = float(ds.get("ImagePositionPatient", [0, 0, -1])[2])
            rows.append((z, ds, ds.pixel_array))
        return rows

    from pydicom.encaps import generate_frames

    chosen = []
    for z, ds, decoded in published(45.0):
        if ds.SamplesPerPixel == 3:  # JPEG reaches 37 dB at best on it: it stays lossless
            assert ds.file_meta.TransferSyntaxUID == pixels.TS_HTJ2K_LOSSLESS
            assert np.array_equal(decoded, next(pixels.iter_frames(colour))[1])
            continue
        source = sources[z]
        assert ds.file_meta.TransferSyntaxUID == pixels.TS_HTJ2K
        assert ds.LossyImageCompression == "01"
        assert quality.psnr(source, decoded) >= 45.0
        # the codestream is the one of the lowest ladder quality that reaches the target
        layout = pixels.output_layout(ds)
        best = None
        for q in quality.LADDER:
            data, ts = codestreams.encode_frame(source, layout, pixels.FrameCodec("htj2k", q))
            if quality.psnr(source, codestreams.decode_frame(data, ts, layout)) < 45.0:
                break
            best = (q, data)
        assert best is not None
        (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
        assert frame.rstrip(b"\0") == best[1].rstrip(b"\0"), best[0]
        chosen.append(best[0])
    assert len(chosen) == 3 and max(chosen) < 95, chosen  # lossy, below the top quality
    for _, ds, _ in published(100.0):  # only lossless reaches it
        assert ds.file_meta.TransferSyntaxUID == pixels.TS_HTJ2K_LOSSLESS
        assert ds.get("LossyImageCompression") != "01"
