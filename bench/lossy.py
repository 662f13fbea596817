"""The lossy tier, measured: bytes, PSNR and SSIM of lossy HTJ2K frames at each quality,
against the lossless frames of the same images encoded in the same run (the baseline).

Images: the sample chest CT (every 10th of its 120 slices) and head MR (every 8th frame),
and pydicom-data's clinical images (CT, MR, CR, ultrasound). PSNR and SSIM (scikit-image)
are over each image's own range (max - min). Printed per set and quality: size against
lossless, PSNR and SSIM, worst and mean. Then the same for `lossy = { psnr = N }`: the
quality sitegen chooses per image (sitegen.quality.choose), and which qualities it chose.

    pip install scikit-image   # the bench's only extra
    python bench/lossy.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).parents[1]))
from sitegen import codestreams, pixels, quality  # noqa: E402
from sitegen.sources.sample import sample_instance, sample_size  # noqa: E402

QUALITIES = (95, 90, 80, 70, 50)
TARGETS = (60.0, 50.0, 45.0)
STORE = Path(pydicom.__file__).parent.parent / "data_store" / "data"
CLINICAL = ["MR2_UNCI.dcm", "RG1_UNCI.dcm", "US1_UNCI.dcm", "693_UNCI.dcm"]


def _frames(ds: pydicom.Dataset, every: int = 1) -> list[np.ndarray]:
    return [f for i, f, _ in pixels.iter_frames(ds) if f is not None and i % every == 0]


def image_sets() -> dict[str, list[tuple[np.ndarray, pixels.PixelLayout]]]:
    sets: dict[str, list[tuple[np.ndarray, pixels.PixelLayout]]] = {"sample CT": []}
    for index in range(0, sample_size("chest-ct"), 10):
        ds = sample_instance("chest-ct", index)
        sets["sample CT"] += [(f, pixels.output_layout(ds)) for f in _frames(ds)]
    mr = sample_instance("head-mr", 0)
    sets["sample MR"] = [(f, pixels.output_layout(mr)) for f in _frames(mr, every=8)]
    clinical = [get_testdata_file("CT_small.dcm"), get_testdata_file("MR_small.dcm")]
    clinical += [str(STORE / n) for n in CLINICAL if (STORE / n).is_file()]
    sets["clinical"] = []
    for path in clinical:
        ds = pydicom.dcmread(path)
        layout = pixels.output_layout(ds)
        sets["clinical"] += [(f, layout) for f in _frames(ds)[:4]]
    return sets


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR over the image's own range (max - min): the stored range (16 bits for the
    sample CT) would flatter every codec."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    span = max(float(a.max()) - float(a.min()), 1.0)
    return float("inf") if mse == 0 else 10 * np.log10(span**2 / mse)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    span = max(float(a.max() - a.min()), 1.0)
    channel = -1 if a.ndim == 3 else None
    side = min(a.shape[0], a.shape[1], 7) // 2 * 2 + 1
    return float(structural_similarity(a, b, data_range=span, channel_axis=channel, win_size=side))


def main() -> None:
    sets = image_sets()
    head = ("set", "quality", "size", "PSNR min", "mean", "SSIM min", "mean")
    print("{:<10} {:>8} {:>9} {:>9} {:>7} {:>9} {:>7}".format(*head))
    for name, images in sets.items():
        lossless = sum(
            len(codestreams.encode_frame(f, lay, pixels.FrameCodec())[0]) for f, lay in images
        )
        print(f"{name:<10} {'lossless':>8} {lossless / 1e6:>7.2f}MB {'inf':>9} {'':>7} {1.0:>9.4f}")
        for level in [*QUALITIES, *TARGETS]:
            target = isinstance(level, float)
            codec = pixels.FrameCodec("htj2k", None if target else int(level))
            size, psnrs, ssims, picked = 0, [], [], []
            for frame, layout in images:
                if target:
                    wanted = pixels.FrameCodec("htj2k", psnr=level)
                    chosen, data, ts = quality.choose(frame, layout, wanted)
                    picked.append(str(chosen.lossy or "lossless"))
                else:
                    data, ts = codestreams.encode_frame(frame, layout, codec)
                back = codestreams.decode_frame(data, ts, layout).reshape(frame.shape)
                size += len(data)
                psnrs.append(_psnr(frame, back))
                ssims.append(_ssim(frame, back))
            label = f">={level:g}dB" if target else str(level)
            print(
                f"{name:<10} {label:>8} {size / lossless:>8.0%} {min(psnrs):>9.1f} "
                f"{np.mean(psnrs):>7.1f} {min(ssims):>9.4f} {np.mean(ssims):>7.4f}"
                + (f"  chose {', '.join(sorted(set(picked), key=picked.index))}" if target else "")
            )
        print(f"{'':<10} ({len(images)} images)")


if __name__ == "__main__":
    main()
