"""Text in the pixels: recall and seconds per image of sitegen's check (stroke prefilter +
tesseract) against the anchor, plain tesseract word boxes on every image, in the same run.

Images with text: deid-data's burned-in ultrasounds and generated images with printed names,
dates and IDs. Images without: the sample chest CT and head MR, pydicom's CT and MR. Printed:
per method, images with text found (recall), clean images with text found (false positives),
planted words read (word recall, generated images only) and seconds per image.

(Microsoft Presidio's DICOM image redactor, the anchor the issue names, needs a spaCy model
that is not on the package registries this machine reaches; its OCR step is tesseract too.)

    python bench/ocr.py [--generated 12]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import deid_data
import numpy as np
import pydicom
from pydicom.data import get_testdata_file

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_ocr import printed  # noqa: E402

from sitegen import pixels  # noqa: E402
from sitegen.deid import ocr  # noqa: E402
from sitegen.sources.sample import sample_instance  # noqa: E402

US = Path(deid_data.__file__).parent / "data" / "ultrasounds"
NAMES = "OKAFOR LINDQVIST BRENNAN KOWALSKI MORETTI NAKAMURA HALVORSEN DUBOIS".split()


def images(generated: int) -> tuple[list[tuple[np.ndarray, list[str]]], list[np.ndarray]]:
    rng = random.Random(7)
    with_text: list[tuple[np.ndarray, list[str]]] = []
    for path in sorted(US.glob("*.dcm")):
        with_text.append((next(pixels.iter_frames(pydicom.dcmread(path)))[1], []))
    for _ in range(generated):
        words = [
            rng.choice(NAMES),
            f"{rng.randint(1930, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            f"MRN{rng.randint(10000, 99999)}",
        ]
        with_text.append((printed(" ".join(words)), words))
    clean = [sample_instance("chest-ct", i).pixel_array for i in (10, 60, 110)]
    clean += [sample_instance("head-mr", 0).pixel_array[16]]
    clean += [
        pydicom.dcmread(get_testdata_file(n)).pixel_array
        for n in ("CT_small.dcm", "MR_small.dcm", "MR2_UNCR.dcm")
    ]
    return with_text, clean


def anchor(frame: np.ndarray) -> list[str]:
    """Plain tesseract on the image as it is: the words it reads with confidence >= 60."""
    import pytesseract
    from PIL import Image

    data = pytesseract.image_to_data(
        Image.fromarray(ocr.to_grey8(frame)), output_type=pytesseract.Output.DICT
    )
    return [
        w.strip()
        for w, c in zip(data["text"], data["conf"], strict=True)
        if float(c) >= ocr.MIN_CONFIDENCE and sum(ch.isalnum() for ch in w) >= ocr.MIN_WORD
    ]


def sitegen(frame: np.ndarray) -> list[str]:
    return [b.text for b in ocr.find_text(frame)]


def measure(name: str, method, with_text, clean) -> None:  # noqa: ANN001
    t0 = time.perf_counter()
    found = [method(frame) for frame, _ in with_text]
    false = [method(frame) for frame in clean]
    seconds = (time.perf_counter() - t0) / (len(with_text) + len(clean))
    recall = sum(1 for f in found if f) / len(with_text)
    planted = [(words, f) for (_, words), f in zip(with_text, found, strict=True) if words]
    hits = sum(any(w in " ".join(f) for f in [got]) for words, got in planted for w in words)
    total = sum(len(words) for words, _ in planted)
    fp = sum(1 for f in false if f)
    print(
        f"{name:<22} recall {recall:6.1%} ({sum(1 for f in found if f)}/{len(with_text)})  "
        f"words read {hits}/{total}  false positives {fp}/{len(clean)}  {seconds:5.2f} s/image"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", type=int, default=12)
    args = parser.parse_args()
    usable, why = ocr.available()
    if not usable:
        sys.exit(f"OCR is not available: {why}")
    with_text, clean = images(args.generated)
    print(f"tesseract {why}: {len(with_text)} images with text, {len(clean)} without")
    a = measure("anchor: tesseract", anchor, with_text, clean)
    s = measure("sitegen: prefilter+OCR", sitegen, with_text, clean)
    t0 = time.perf_counter()
    for frame in clean:
        ocr.may_hold_text(ocr.to_grey8(frame))
    pre = (time.perf_counter() - t0) / len(clean) * 1000
    print(
        f"ratio sitegen/anchor seconds per image: {s / a:.2f}; prefilter alone {pre:.2f} ms/image"
    )


if __name__ == "__main__":
    main()
