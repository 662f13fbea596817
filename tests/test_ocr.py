"""Text in the pixels: read by OCR (Debian's tesseract-ocr), refused or masked."""

from __future__ import annotations

import shutil
from pathlib import Path

import deid_data
import numpy as np
import pydicom
import pytest
from conftest import write_site
from dicomgen import write_ct_series
from PIL import Image, ImageDraw, ImageFont

from sitegen import pixels
from sitegen.build import BuildFailed, build
from sitegen.config import load_config
from sitegen.deid import ocr

US = Path(deid_data.__file__).parent / "data" / "ultrasounds"
pytestmark = pytest.mark.skipif(not ocr.available()[0], reason=ocr.available()[1])


def printed(text: str, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A dark grey 8-bit image with a soft blob (anatomy) and `text` printed in white."""
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    blob = 90 * np.exp(-(((xx - size[0] / 2) / 150) ** 2 + ((yy - size[1] / 2) / 120) ** 2))
    image = Image.fromarray((20 + blob).astype(np.uint8))
    font = ImageFont.load_default(size=22)
    ImageDraw.Draw(image).text((20, 16), text, fill=255, font=font)
    return np.asarray(image)


def dx_file(path: Path, frame: np.ndarray) -> None:
    """`frame` as a DX image whose header says nothing of text."""
    write_ct_series(path.parent / "tmp", 1)
    ds = pydicom.dcmread(path.parent / "tmp" / "IM0001")
    shutil.rmtree(path.parent / "tmp")
    ds.Modality = "DX"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.Rows, ds.Columns = frame.shape
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    for keyword in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        delattr(ds, keyword)
    ds.PixelData = frame.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize(
    "name", ["GREYSCALE_IMAGE.dcm", "RGB_IMAGE.dcm", "ultrasound-multiframe.dcm"]
)
def test_ocr_reads_the_burned_in_text_of_deid_datas_ultrasounds(name: str) -> None:
    ds = pydicom.dcmread(US / name)
    frame = next(pixels.iter_frames(ds))[1]
    assert len(ocr.find_text(frame)) >= 3


def test_clean_images_pass_the_prefilter_without_ocr() -> None:
    from sitegen.sources.sample import sample_instance

    for index in (0, 60, 119):
        frame = sample_instance("chest-ct", index).pixel_array
        assert not ocr.may_hold_text(ocr.to_grey8(frame))


def test_an_ultrasound_relabelled_dx_is_refused_for_its_pixels(site_dir: Path) -> None:
    ds = pydicom.dcmread(US / "GREYSCALE_IMAGE.dcm")
    ds.Modality = "DX"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    if "BurnedInAnnotation" in ds:
        del ds.BurnedInAnnotation
    (site_dir / "dx").mkdir(parents=True)
    ds.save_as(site_dir / "dx/image.dcm")
    write_ct_series(site_dir / "ct", 2)
    config = write_site(
        site_dir,
        '[[cases]]\nslug = "dx"\ntitle = "DX"\nsource = "dx"\n'
        '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "ct"\n',
    )
    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1)
    report = info.value.report
    (refusal,) = [w for w in report.warnings if "refused" in w]
    assert refusal.startswith("dx/image.dcm: refused: text in the pixels")
    assert "DOWNTIME" not in refusal and "ZZZ" not in refusal  # the text is never printed
    assert any('case "dx": no image could be published' in e for e in report.errors)


def test_printed_text_is_refused_or_masked(site_dir: Path) -> None:
    dx_file(site_dir / "cases/x/image.dcm", printed("DOE JOHN 1947-03-12 MRN 4471"))
    config = write_site(site_dir, '[[cases]]\nslug = "x"\ntitle = "X"\nsource = "cases/x"\n')
    with pytest.raises(BuildFailed):
        build(load_config(config), workers=1)
    config.write_text(config.read_text() + 'burned_in = "mask"\n')
    report = build(load_config(config), workers=1)
    assert report.published
    out = Path(report.out_dir)
    (frame_file,) = out.rglob("frames/1")
    (part10,) = out.rglob("*.dcm")
    frame = pydicom.dcmread(part10).pixel_array
    assert frame_file.exists()
    assert frame[10:45, 20:400].max() < 200  # the printed line is black now
    assert frame[240, 320] > 60  # the anatomy is not
    assert not ocr.find_text(frame)  # nothing left to read
