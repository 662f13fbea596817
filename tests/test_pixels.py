"""Tests for sitegen.pixels against pydicom's own decoding of its bundled test files."""

from __future__ import annotations

import io
import itertools
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_color_lut, pixel_array
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

from sitegen import codestreams as C
from sitegen import pixels as P

# (file, what it covers). Files missing from the installed pydicom(-data) are skipped.
INPUTS = [
    ("CT_small.dcm", "explicit LE, int16"),
    ("MR_small.dcm", "explicit LE, int16"),
    ("MR_small_implicit.dcm", "implicit LE"),
    ("MR_small_bigendian.dcm", "explicit big endian"),
    ("MR_small_expb.dcm", "explicit big endian"),
    ("MR_small_padded.dcm", "padded pixel data"),
    ("image_dfl.dcm", "deflated, uint8"),
    ("MR_small_RLE.dcm", "RLE int16"),
    ("emri_small.dcm", "multi-frame 12-in-16"),
    ("emri_small_big_endian.dcm", "multi-frame big endian"),
    ("emri_small_RLE.dcm", "multi-frame RLE"),
    ("emri_small_jpeg_2k_lossless.dcm", "multi-frame J2K lossless"),
    ("emri_small_jpeg_ls_lossless.dcm", "multi-frame JPEG-LS"),
    ("MR_small_jp2klossless.dcm", "J2K lossless int16"),
    ("MR_small_jpeg_ls_lossless.dcm", "JPEG-LS int16"),
    ("JPEGLSNearLossless_08.dcm", "JPEG-LS near-lossless 8-bit"),
    ("JPEGLSNearLossless_16.dcm", "JPEG-LS near-lossless 16-bit"),
    ("JPEG2000.dcm", "J2K int16"),
    ("J2K_pixelrep_mismatch.dcm", "J2K signedness mismatch"),
    ("693_J2KI.dcm", "J2K irreversible int16 14-bit"),
    ("693_J2KR.dcm", "J2K reversible int16"),
    ("693_UNCR.dcm", "int16 14-bit"),
    ("MR2_J2KR.dcm", "J2K 12-bit uint16"),
    ("MR2_J2KI.dcm", "J2K irreversible 12-bit"),
    ("JPEG-LL.dcm", "JPEG lossless int16"),
    ("JPGLosslessP14SV1_1s_1f_8b.dcm", "JPEG lossless 8-bit"),
    ("JPGExtended.dcm", "JPEG extended 12-bit"),
    ("mlut_18.dcm", "signed 12-in-16"),
    ("vlut_04.dcm", "uint8"),
    ("MR-SIEMENS-DICOM-WithOverlays.dcm", "12-bit with overlay bits"),
    ("examples_overlay.dcm", "12-bit with overlay bits"),
    ("eCT_Supplemental.dcm", "enhanced CT multi-frame"),
    ("RG1_UNCR.dcm", "MONOCHROME1 15-bit"),
    ("RG3_J2KR.dcm", "MONOCHROME1 J2K"),
    ("liver.dcm", "1-bit multi-frame"),
    ("liver_1frame.dcm", "1-bit"),
    ("liver_expb.dcm", "1-bit big endian"),
    ("rtdose.dcm", "uint32 multi-frame"),
    ("rtdose_rle.dcm", "uint32 RLE multi-frame"),
    ("rtdose_expb.dcm", "uint32 big endian"),
    ("SC_rgb.dcm", "RGB"),
    ("SC_rgb_2frame.dcm", "RGB multi-frame"),
    ("SC_rgb_expb.dcm", "RGB big endian"),
    ("SC_rgb_16bit.dcm", "RGB 16-bit"),
    ("SC_rgb_16bit_2frame.dcm", "RGB 16-bit multi-frame"),
    ("SC_rgb_32bit_2frame.dcm", "RGB 32-bit multi-frame"),
    ("SC_rgb_rle.dcm", "RGB RLE"),
    ("SC_rgb_rle_2frame.dcm", "RGB RLE multi-frame"),
    ("SC_rgb_rle_16bit.dcm", "RGB RLE 16-bit"),
    ("SC_rgb_rle_32bit.dcm", "RGB RLE 32-bit"),
    ("SC_rgb_small_odd.dcm", "RGB 3x3"),
    ("SC_rgb_small_odd_big_endian.dcm", "RGB 3x3 big endian"),
    ("SC_rgb_small_odd_jpeg.dcm", "YBR_FULL JPEG 3x3"),
    ("ExplVR_BigEnd.dcm", "RGB planar 1 big endian"),
    ("color-pl.dcm", "RGB planar 1"),
    ("color-px.dcm", "RGB planar 0"),
    ("SC_rgb_jpeg.dcm", "RGB JPEG baseline"),
    ("SC_rgb_jpeg_dcmtk.dcm", "YBR_FULL JPEG baseline"),
    ("SC_rgb_jpeg_gdcm.dcm", "RGB JPEG baseline (gdcm)"),
    ("SC_rgb_jpeg_lossy_gdcm.dcm", "YBR_FULL JPEG"),
    ("SC_rgb_jpeg_app14_dcmd.dcm", "RGB JPEG APP14"),
    ("SC_jpeg_no_color_transform.dcm", "RGB JPEG no colour transform"),
    ("SC_jpeg_no_color_transform_2.dcm", "RGB JPEG no colour transform"),
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", "YBR_FULL_422 JPEG"),
    ("SC_rgb_dcmtk_+eb+cy+s2.dcm", "YBR_FULL_422 JPEG"),
    ("SC_rgb_dcmtk_+eb+cy+n1.dcm", "YBR_FULL JPEG"),
    ("SC_rgb_dcmtk_+eb+cr.dcm", "RGB JPEG"),
    ("SC_rgb_jls_lossy_line.dcm", "RGB JPEG-LS lossy"),
    ("SC_rgb_gdcm_KY.dcm", "RGB J2K"),
    ("SC_ybr_full_uncompressed.dcm", "YBR_FULL native"),
    ("SC_ybr_full_422_uncompressed.dcm", "YBR_FULL_422 native"),
    ("examples_ybr_color.dcm", "YBR_FULL_422 native multi-frame"),
    ("color3d_jpeg_baseline.dcm", "YBR_FULL_422 JPEG multi-frame"),
    ("US1_J2KR.dcm", "YBR_RCT"),
    ("US1_J2KI.dcm", "YBR_ICT"),
    ("GDCMJ2K_TextGBR.dcm", "YBR_RCT"),
    ("OBXXXX1A.dcm", "PALETTE COLOR"),
    ("OBXXXX1A_2frame.dcm", "PALETTE COLOR multi-frame"),
    ("OBXXXX1A_rle.dcm", "PALETTE COLOR RLE"),
    ("OBXXXX1A_expb_2frame.dcm", "PALETTE COLOR big endian"),
    ("examples_palette.dcm", "PALETTE COLOR"),
    ("gdcm-US-ALOKA-16.dcm", "PALETTE COLOR 16-bit"),
]
MAX_FRAMES = 4  # frames checked per file: keeps the large multi-frames fast
LOSSLESS = [P.FrameCodec("htj2k"), P.FrameCodec("jpegls"), P.FrameCodec("raw")]


def _path(name: str) -> str:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} not available")
    return str(path)


def _read(name: str, **kwargs: object) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(_path(name), **kwargs)


def _reference(ds: Dataset, index: int) -> np.ndarray:
    """pydicom's pixel_array for one frame, with the colour conversion iter_frames applies."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nframes = int(ds.get("NumberOfFrames", 1) or 1)
        if nframes > MAX_FRAMES:
            arr = pixel_array(ds, index=index)
        else:
            arr = ds.pixel_array
            arr = arr[index] if nframes > 1 else arr
    if ds.PhotometricInterpretation == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
        if arr.dtype != np.uint8 and arr.max() > 255:
            arr = np.round(arr / 257.0)
        arr = arr.astype(np.uint8)
    return arr.astype(arr.dtype.newbyteorder("="))


def _frames(
    ds: Dataset, limit: int = MAX_FRAMES
) -> list[tuple[int, np.ndarray | None, str | None]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(itertools.islice(P.iter_frames(ds), limit))


@pytest.mark.parametrize("name", [n for n, _ in INPUTS], ids=[n for n, _ in INPUTS])
def test_iter_frames_match_pydicom_and_lossless_round_trip(name: str) -> None:
    ds = _read(name)
    layout = P.output_layout(ds)
    frames = _frames(ds)
    nframes = int(ds.get("NumberOfFrames", 1) or 1)
    assert [i for i, _, _ in frames] == list(range(min(nframes, MAX_FRAMES)))
    for index, arr, reason in frames:
        assert reason is None and arr is not None
        assert arr.shape == layout.shape and arr.dtype == layout.dtype()
        assert arr.dtype.isnative
        np.testing.assert_array_equal(arr, _reference(ds, index))
        for codec in LOSSLESS:
            data, ts = C.encode_frame(arr, layout, codec)
            assert ts == C.transfer_syntax_for(layout, codec)
            back = C.decode_frame(data, ts, layout)
            assert back.dtype == layout.dtype()
            np.testing.assert_array_equal(back, arr)
    if ds.PhotometricInterpretation in ("PALETTE COLOR", "YBR_FULL", "YBR_FULL_422"):
        assert (layout.photometric, layout.samples_per_pixel, layout.planar_configuration) == (
            "RGB",
            3,
            0,
        )
    if int(ds.BitsAllocated) == 1:
        assert layout.bits_allocated == 8


def test_layout_keeps_grayscale_depth_sign_and_monochrome1() -> None:
    assert P.output_layout(_read("mlut_18.dcm")) == P.PixelLayout(
        512, 512, 1, 16, 12, 11, 1, "MONOCHROME2"
    )
    layout = P.output_layout(_read("RG3_UNCR.dcm"))
    assert (layout.photometric, layout.bits_stored, layout.pixel_representation) == (
        "MONOCHROME1",
        10,
        0,
    )


def test_htj2k_and_jpegls_codestreams() -> None:
    ds = _read("CT_small.dcm")
    layout = P.output_layout(ds)
    arr = _frames(ds)[0][1]
    data, ts = C.encode_frame(arr, layout, P.FrameCodec("htj2k"))
    assert ts == P.TS_HTJ2K_LOSSLESS and data[:4] == b"\xff\x4f\xff\x51"
    data, ts = C.encode_frame(arr, layout, P.FrameCodec("jpegls"))
    assert ts == P.TS_JPEGLS_LOSSLESS and data[:2] == b"\xff\xd8"
    data, ts = C.encode_frame(arr, layout, P.FrameCodec("raw"))
    assert ts == P.TS_EXPLICIT_LE and data == arr.astype("<i2").tobytes()


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
@pytest.mark.parametrize("bits_stored", [None, 12])
def test_lossless_round_trip_extremes(dtype: str, bits_stored: int | None) -> None:
    """Full-range values (incl. min/max and incompressible noise) survive every lossless codec."""
    dt = np.dtype(dtype)
    bits = dt.itemsize * 8
    stored = min(bits_stored or bits, bits)
    signed = dt.kind == "i"
    low, high = (-(2 ** (stored - 1)), 2 ** (stored - 1) - 1) if signed else (0, 2**stored - 1)
    rng = np.random.default_rng(stored)
    arr = rng.integers(low, high, size=(37, 53), endpoint=True).astype(dt)
    arr[0, 0], arr[0, 1] = low, high
    layout = P.PixelLayout(37, 53, 1, bits, stored, stored - 1, int(signed), "MONOCHROME2")
    for codec in LOSSLESS:
        data, ts = C.encode_frame(arr, layout, codec)
        np.testing.assert_array_equal(C.decode_frame(data, ts, layout), arr)


def test_odd_raw_frames_are_padded() -> None:
    layout = P.PixelLayout(3, 3, 3, 8, 8, 7, 0, "RGB")
    arr = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    data, ts = C.encode_frame(arr, layout, P.FrameCodec("raw"))
    assert ts == P.TS_EXPLICIT_LE and len(data) == 28
    np.testing.assert_array_equal(C.decode_frame(data, ts, layout), arr)


def test_more_than_16_bits_falls_back_to_raw() -> None:
    layout = P.output_layout(_read("rtdose.dcm"))
    for codec in (P.FrameCodec("htj2k"), P.FrameCodec("jpegls"), P.FrameCodec("htj2k", 80)):
        assert C.transfer_syntax_for(layout, codec) == P.TS_EXPLICIT_LE
        assert "LossyImageCompression" not in C.metadata_updates(layout, codec)


def _published(ds: Dataset, codec: P.FrameCodec) -> tuple[Dataset, list[np.ndarray]]:
    """Build the dataset the site would publish: metadata_updates + one codestream per frame."""
    layout = P.output_layout(ds)
    frames = [arr for _, arr, _ in _frames(ds)]
    encoded = [C.encode_frame(arr, layout, codec) for arr in frames]
    out = Dataset()
    out.file_meta = FileMetaDataset()
    out.file_meta.TransferSyntaxUID = encoded[0][1]
    out.Rows, out.Columns, out.NumberOfFrames = layout.rows, layout.columns, len(frames)
    for keyword, value in C.metadata_updates(layout, codec).items():
        if value is not None:
            setattr(out, keyword, value)
    if encoded[0][1] == P.TS_EXPLICIT_LE:
        out.PixelData = b"".join(data for data, _ in encoded)
    else:
        out.PixelData = encapsulate([data for data, _ in encoded])
    out["PixelData"].VR = "OB" if layout.bits_allocated == 8 else "OW"
    return out, frames


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "mlut_18.dcm",
        "MR2_UNCR.dcm",
        "vlut_04.dcm",
        "liver.dcm",
        "US1_UNCR.dcm",
        "SC_rgb_16bit_2frame.dcm",
        "OBXXXX1A.dcm",
        "RG3_UNCR.dcm",
    ],
)
@pytest.mark.parametrize("codec", LOSSLESS, ids=lambda c: c.name)
def test_published_frames_decode_with_pydicom(name: str, codec: P.FrameCodec) -> None:
    """An independent decoder (pydicom + openjpeg/pyjpegls) reads our output exactly.

    This also exercises HTJ2K *input* (there is no HTJ2K file among pydicom's test data).
    """
    published, frames = _published(_read(name), codec)
    if codec.name == "htj2k" and frames[0].ndim == 3:
        assert published.PhotometricInterpretation == "YBR_RCT"
    for index, arr, reason in _frames(published):
        assert reason is None
        np.testing.assert_array_equal(arr, frames[index])


def test_jpeg_baseline_lossy_for_8bit_colour() -> None:
    ds = _read("US1_UNCR.dcm")
    layout = P.output_layout(ds)
    arr = _frames(ds)[0][1]
    codec = P.FrameCodec("htj2k", lossy=85)
    data, ts = C.encode_frame(arr, layout, codec)
    assert ts == P.TS_JPEG_BASELINE and data[:2] == b"\xff\xd8"
    back = C.decode_frame(data, ts, layout)
    assert back.shape == arr.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - arr).mean() < 4
    meta = C.metadata_updates(layout, codec, ratio=arr.nbytes / len(data))
    assert meta["LossyImageCompression"] == "01"
    assert meta["LossyImageCompressionMethod"] == "ISO_10918_1"
    assert meta["PhotometricInterpretation"] == "YBR_FULL_422"
    assert float(meta["LossyImageCompressionRatio"]) > 5
    published, frames = _published(ds, codec)
    assert np.abs(published.pixel_array.astype(int) - frames[0]).mean() < 4


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR2_UNCR.dcm", "vlut_04.dcm", "SC_rgb_16bit.dcm"]
)
def test_htj2k_lossy_otherwise(name: str) -> None:
    ds = _read(name)
    layout = P.output_layout(ds)
    arr = _frames(ds)[0][1]
    rms = []
    sizes = []
    for quality in (95, 75, 40):
        data, ts = C.encode_frame(arr, layout, P.FrameCodec("jpegls", lossy=quality))
        assert ts == P.TS_HTJ2K and data[:4] == b"\xff\x4f\xff\x51"
        back = C.decode_frame(data, ts, layout)
        assert back.shape == arr.shape and back.dtype == arr.dtype
        rms.append(float(np.sqrt(np.mean((back.astype(float) - arr) ** 2))))
        sizes.append(len(data))
    assert rms == sorted(rms) and sizes == sorted(sizes, reverse=True)
    assert rms[0] < 2 ** (layout.bits_stored - 8)  # q=95 is close to lossless
    meta = C.metadata_updates(layout, P.FrameCodec("htj2k", 75), ratio=12.3456)
    assert meta["LossyImageCompression"] == "01"
    assert meta["LossyImageCompressionMethod"] == "ISO_15444_15"
    assert meta["LossyImageCompressionRatio"] == "12.35"
    if layout.samples_per_pixel == 3:
        assert meta["PhotometricInterpretation"] == "YBR_ICT"


def test_metadata_updates() -> None:
    palette = P.output_layout(_read("OBXXXX1A.dcm"))
    meta = C.metadata_updates(palette, P.FrameCodec("jpegls"))
    assert meta["PhotometricInterpretation"] == "RGB"
    assert (meta["SamplesPerPixel"], meta["PlanarConfiguration"], meta["BitsAllocated"]) == (
        3,
        0,
        8,
    )
    assert meta["RedPaletteColorLookupTableData"] is None
    assert meta["BluePaletteColorLookupTableDescriptor"] is None
    assert "LossyImageCompression" not in meta
    gray = P.output_layout(_read("mlut_18.dcm"))
    meta = C.metadata_updates(gray, P.FrameCodec("htj2k"))
    assert meta == {
        "PhotometricInterpretation": "MONOCHROME2",
        "SamplesPerPixel": 1,
        "BitsAllocated": 16,
        "BitsStored": 12,
        "HighBit": 11,
        "PixelRepresentation": 1,
    }
    one_bit = C.metadata_updates(P.output_layout(_read("liver.dcm")), P.FrameCodec("raw"))
    assert (one_bit["BitsAllocated"], one_bit["BitsStored"], one_bit["HighBit"]) == (8, 8, 7)


def test_frame_codec_validation() -> None:
    with pytest.raises(ValueError):
        P.FrameCodec("png")
    with pytest.raises(ValueError):
        P.FrameCodec("htj2k", lossy=0)


def test_corrupt_fragment_yields_reason_and_continues() -> None:
    ds = _read("SC_rgb_jpeg_gdcm.dcm")
    good = _frames(ds)[0][1]
    codestream = next(iter(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1)))
    broken = codestream[:2] + bytes(len(codestream) - 2)  # SOI then garbage: no frame header
    ds.PixelData = encapsulate([codestream, broken, codestream])
    ds.NumberOfFrames = 3
    frames = _frames(ds)
    assert [i for i, _, _ in frames] == [0, 1, 2]
    assert frames[1][1] is None and frames[1][2]
    for index in (0, 2):
        assert frames[index][2] is None
        np.testing.assert_array_equal(frames[index][1], good)


@pytest.mark.parametrize(
    "name",
    ["MR_truncated.dcm", "JPEG2000-embedded-sequence-delimiter.dcm", "JPEG-lossy.dcm", "badVR.dcm"],
)
def test_undecodable_inputs_report_reasons(name: str) -> None:
    """pydicom cannot decode these either; iter_frames reports instead of raising."""
    frames = _frames(_read(name))
    assert frames and all(arr is None and reason for _, arr, reason in frames)


@pytest.mark.parametrize(
    "name",
    ["emri_small_jpeg_2k_lossless.dcm", "emri_small_big_endian.dcm", "liver.dcm", "image_dfl.dcm"],
)
@pytest.mark.parametrize("how", [{"defer_size": 256}, {"stop_before_pixels": True}])
def test_streaming_from_file_matches(name: str, how: dict[str, object]) -> None:
    expected = _frames(_read(name), limit=100)
    ds = _read(name, **how)
    got = _frames(ds, limit=100)
    assert len(got) == len(expected)
    for (_, arr, reason), (_, ref, _) in zip(got, expected, strict=True):
        assert reason is None
        np.testing.assert_array_equal(arr, ref)
    if "PixelData" in ds._dict:
        assert ds._dict[0x7FE00010].value is None  # still deferred: never loaded whole


@pytest.mark.parametrize("encapsulated", [False, True], ids=["native", "htj2k"])
def test_memory_stays_bounded(tmp_path: Path, encapsulated: bool) -> None:
    """A 100-frame file is decoded with a peak of a few frames, not the whole pixel data."""
    nframes, rows, cols = 100, 256, 256
    rng = np.random.default_rng(1)
    layout = P.PixelLayout(rows, cols, 1, 16, 12, 11, 0, "MONOCHROME2")
    base = rng.integers(0, 4096, size=(rows, cols), dtype=np.uint16)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, nframes
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    frames = [np.roll(base, i, axis=1) for i in range(nframes)]
    if encapsulated:
        ds.file_meta.TransferSyntaxUID = P.TS_HTJ2K_LOSSLESS
        ds.PixelData = encapsulate([C.encode_frame(f, layout, P.FrameCodec())[0] for f in frames])
        ds["PixelData"].VR = "OB"
    else:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PixelData = np.stack(frames).tobytes()
        ds["PixelData"].VR = "OW"
    path = tmp_path / "big.dcm"
    ds.save_as(path, enforce_file_format=True)
    pixel_bytes = nframes * rows * cols * 2
    del ds

    lazy = pydicom.dcmread(path, stop_before_pixels=True)
    tracemalloc.start()
    count = 0
    for index, arr, reason in P.iter_frames(lazy):
        assert reason is None and arr is not None
        if index % 25 == 0:
            np.testing.assert_array_equal(arr, frames[index])
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == nframes
    assert peak < pixel_bytes / 5, f"peak {peak} bytes for {pixel_bytes} bytes of pixels"


def _open_jpeg(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "JPEG"
    return img


def test_thumbnail_grayscale_size_aspect_and_window() -> None:
    ds = _read("JPEG2000.dcm")  # 1024 x 256
    layout = P.output_layout(ds)
    arr = _frames(ds)[0][1]
    slope, intercept = C.rescale(ds)
    img = _open_jpeg(C.thumbnail_jpeg(arr, layout, slope=slope, intercept=intercept))
    assert img.mode == "L" and img.size == (64, 256)
    ct = _read("CT_small.dcm")
    ct_arr = _frames(ct)[0][1]
    window = C.default_window(ct) or (40.0, 400.0)
    img = _open_jpeg(
        C.thumbnail_jpeg(ct_arr, P.output_layout(ct), window=window, max_side=100, slope=1.0)
    )
    assert max(img.size) <= 100


def test_thumbnail_monochrome1_is_inverted() -> None:
    ds = _read("RG3_UNCR.dcm")
    layout = P.output_layout(ds)
    arr = _frames(ds)[0][1]
    window = (512.0, 1024.0)
    mono1 = np.asarray(_open_jpeg(C.thumbnail_jpeg(arr, layout, window=window)), dtype=float)
    as_mono2 = P.PixelLayout(**{**layout.__dict__, "photometric": "MONOCHROME2"})
    mono2 = np.asarray(_open_jpeg(C.thumbnail_jpeg(arr, as_mono2, window=window)), dtype=float)
    assert max(mono1.shape) == 256
    assert np.abs(mono1 + mono2 - 255).mean() < 3


def test_thumbnail_rgb_and_16bit_rgb() -> None:
    for name in ("US1_UNCR.dcm", "SC_rgb_16bit.dcm", "OBXXXX1A.dcm"):
        ds = _read(name)
        arr = _frames(ds)[0][1]
        img = _open_jpeg(C.thumbnail_jpeg(arr, P.output_layout(ds)))
        assert img.mode == "RGB" and max(img.size) <= 256
        if name == "US1_UNCR.dcm":
            assert img.size == (256, 192)


def test_default_window_and_rescale() -> None:
    ct = _read("CT_small.dcm")
    assert C.rescale(ct) == (float(ct.RescaleSlope), float(ct.RescaleIntercept))
    if "WindowCenter" in ct:
        assert C.default_window(ct) is not None
    ds = Dataset()
    assert C.default_window(ds) is None and C.rescale(ds) == (1.0, 0.0)
    ds.WindowCenter, ds.WindowWidth = [40, 400], [400, 2000]
    assert C.default_window(ds) == (40.0, 400.0)

    enhanced = Dataset()
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = "50", "350"
    pvt = Dataset()
    pvt.RescaleSlope, pvt.RescaleIntercept = "2", "-1024"
    shared = Dataset()
    shared.FrameVOILUTSequence = Sequence([voi])
    shared.PixelValueTransformationSequence = Sequence([pvt])
    enhanced.SharedFunctionalGroupsSequence = Sequence([shared])
    assert C.default_window(enhanced) == (50.0, 350.0)
    assert C.rescale(enhanced) == (2.0, -1024.0)

    per_frame = Dataset()
    item = Dataset()
    item.FrameVOILUTSequence = Sequence([voi])
    per_frame.PerFrameFunctionalGroupsSequence = Sequence([item])
    assert C.default_window(per_frame) == (50.0, 350.0)


def test_jpeg_input_declared_ybr_is_published_as_rgb() -> None:
    """pydicom may already convert JPEG YCbCr to RGB: the layout matches what is yielded."""
    ds = _read("SC_rgb_jpeg_dcmtk.dcm")
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert ds.PhotometricInterpretation == "YBR_FULL"
    arr = _frames(ds)[0][1]
    assert P.output_layout(ds).photometric == "RGB"
    # red-ish top-left block in the SC_rgb test pattern: R clearly dominates
    assert arr[5, 5, 0] > 200 and arr[5, 5, 1] < 60


def test_float_pixel_data_is_reported_not_misread() -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows = ds.Columns = 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsAllocated = 1, "MONOCHROME2", 32
    ds.FloatPixelData = bytes(16)
    [(index, arr, reason)] = list(P.iter_frames(ds))
    assert index == 0 and arr is None and "FloatPixelData" in (reason or "")


@pytest.mark.parametrize(
    "name", ["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_RLE.dcm"]
)
@pytest.mark.parametrize("claimed", [11, 2**31 - 1])
@pytest.mark.parametrize("how", [{}, {"stop_before_pixels": True}], ids=["memory", "file"])
def test_a_number_of_frames_beyond_the_data_keeps_the_good_frames(
    tmp_path: Path, name: str, claimed: int, how: dict[str, object]
) -> None:
    """NumberOfFrames = frames + 1 (or 2**31 - 1) once lost every frame of native and
    JPEG 2000 data and gave one report per missing frame: now the 10 frames decode and the
    rest is one report, at once."""
    ds = _read(name)
    expected = [a for _, a, _ in P.iter_frames(ds)]
    ds.NumberOfFrames = claimed
    ds.save_as(tmp_path / "lying.dcm")
    got = list(P.iter_frames(pydicom.dcmread(tmp_path / "lying.dcm", **how)))
    assert len(got) == 11
    for (_, arr, reason), ref in zip(got[:10], expected, strict=True):
        assert reason is None
        np.testing.assert_array_equal(arr, ref)
    index, arr, reason = got[10]
    assert index == 10 and arr is None and reason
    if claimed > 11:
        assert reason.startswith(f"frames 11-{claimed}: ")
