"""The preview tier (sitegen/preview.py): which frames get one, that each decodes to the
published frame averaged down (within its quantisation step), that masks reach it, and that a
built site's manifest finds every slice's preview in its chunk files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
from conftest import write_site
from pydicom.uid import generate_uid

from sitegen.build import build
from sitegen.codestreams import decode_frame
from sitegen.config import load_config
from sitegen.layout import PixelLayout
from sitegen.preview import CHUNK_BYTES, STEPS, preview_frame, preview_shape
from sitegen.sources.sample import sample_instance

KEY = b"sitegen-test-key-0123456789abcde"


def layout(rows: int, columns: int, samples: int = 1, bits: int = 16, signed: int = 1) -> Any:
    return PixelLayout(
        rows=rows, columns=columns, samples_per_pixel=samples, bits_allocated=bits,
        bits_stored=bits, high_bit=bits - 1, pixel_representation=signed,
        photometric="MONOCHROME2" if samples == 1 else "RGB", planar_configuration=0,
    )  # fmt: skip


def test_only_large_grey_frames_get_a_preview() -> None:
    assert preview_shape(layout(512, 512)) == (256, 256)
    assert preview_shape(layout(1024, 768)) == (256, 192)
    assert preview_shape(layout(600, 300)) == (200, 100)  # a whole factor: 3
    assert preview_shape(layout(256, 256)) is None  # its own preview
    assert preview_shape(layout(512, 512, samples=3, bits=8, signed=0)) is None  # colour
    assert preview_shape(layout(512, 512, bits=32)) is None


def block_mean(frame: np.ndarray, factor: int) -> np.ndarray:
    rows, columns = frame.shape[0] // factor, frame.shape[1] // factor
    blocks = frame[: rows * factor, : columns * factor].reshape(rows, factor, columns, factor)
    return blocks.astype(np.float64).mean(axis=(1, 3))


@pytest.mark.parametrize("dtype", ["<i2", "<u2", "u1"])
def test_a_preview_is_the_frame_averaged_down_within_its_step(dtype: str) -> None:
    ds = sample_instance("chest-ct", 60)
    frame = ds.pixel_array.astype(np.int32)
    if dtype == "u1":
        frame = frame * 255 // max(1, int(frame.max()))
    frame = frame.astype(dtype) if dtype != "<i2" else (frame - 1000).astype(dtype)
    bits = 8 if dtype == "u1" else 16
    data = preview_frame(frame, layout(512, 512, bits=bits, signed=int(dtype == "<i2")))
    back = imagecodecs.htj2k_decode(data).astype(np.float64)
    assert back.shape == (256, 256)
    expected = block_mean(frame, 2)
    step = max(1.0, np.subtract(*np.percentile(expected, [99, 1])) / STEPS)
    error = np.abs(back - expected)
    assert np.sqrt(np.mean(error**2)) <= step, "RMS error above one quantisation step"
    assert len(data) < 0.1 * frame.nbytes  # light: a tenth of the raw frame at most


def write_ct(folder: Path, n: int, study: str, series: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        ds = sample_instance("chest-ct", 40 + i)
        ds.PatientName, ds.PatientID = "Preview^Patient", "PREVIEW-1"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["preview-test", series, str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(folder / f"IM{i:04d}", enforce_file_format=True)


def built(root: Path, n: int, build_table: str = "") -> tuple[Path, dict[str, Any]]:
    study = generate_uid(entropy_srcs=["preview-test", "study"])
    write_ct(root / "cases/ct", n, study, generate_uid(entropy_srcs=["preview-test", "series"]))
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    config = write_site(
        root,
        f"[build]\nworkers = 1\n{build_table}\n"
        '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct"\n'
        'burned_in = "mask"\nmasks = [ { series = 0, rect = [0, 0, 512, 40] } ]\n',
    )
    report = build(load_config(config), workers=1)
    assert report.published, report.errors
    out = root / "public"
    return out, json.loads((out / "data/cases/ct.json").read_text())


def test_a_built_series_has_every_slice_in_its_preview_chunks(tmp_path: Path) -> None:
    out, manifest = built(tmp_path / "site", 72)
    (series,) = manifest["studies"][0]["series"]
    preview = series["preview"]
    assert (preview["rows"], preview["columns"]) == (256, 256)
    assert len(preview["frames"]) == len(series["frames"]) == 72
    assert len(preview["chunks"]) >= 2  # 72 slices of 5-8 KB: more than one chunk
    chunks = [(out / url).read_bytes() for url in preview["chunks"]]
    assert all(len(c) <= CHUNK_BYTES for c in chunks)
    assert sum(map(len, chunks)) < 0.1 * sum(f["bytes"] for f in series["frames"])
    layout_of = layout(512, 512, signed=1)  # the phantom's published frames (signed)
    for frame, (chunk, offset, size) in zip(series["frames"], preview["frames"], strict=True):
        small = imagecodecs.htj2k_decode(chunks[chunk][offset : offset + size]).astype(float)
        full = decode_frame((out / frame["url"]).read_bytes(), series["transferSyntax"], layout_of)
        expected = block_mean(full, 2)
        inside = expected[20:]  # below the mask: the step is set by the anatomy alone
        step = max(1.0, np.subtract(*np.percentile(inside, [99, 1])) / STEPS)
        assert np.sqrt(np.mean((small - expected) ** 2)) <= step
        # the mask over the top 40 rows is in the preview too: its top 20 rows are black
        assert full[:40].max() == full.min() and np.abs(small[:20] - full.min()).max() <= step


def test_preview_false_writes_no_preview(tmp_path: Path) -> None:
    out, manifest = built(tmp_path / "site", 3, "preview = false")
    assert manifest["studies"][0]["series"][0]["preview"] is None
    assert not list(out.rglob("preview/*"))


def test_a_small_series_has_no_preview(tmp_path: Path) -> None:
    from dicomgen import write_ct_series

    root = tmp_path / "site"
    write_ct_series(root / "cases/ct", 4, rows=64, cols=48)
    config = write_site(root, '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct"\n')
    assert build(load_config(config), workers=1).published
    manifest = json.loads((root / "public/data/cases/ct.json").read_text())
    assert manifest["studies"][0]["series"][0]["preview"] is None
