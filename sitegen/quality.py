"""A lossy quality chosen per image from a measured target (`lossy = { psnr = N }`).

The same quality looks different on a smooth MR and on a noisy CR, so a fixed `lossy = Q`
is either wasteful or too lossy somewhere. With a target, each instance's first frame is
encoded at the qualities of a fixed ladder (a binary search: three or four encodes and
decodes), and the lowest quality whose decoded frame reaches the target PSNR is used for all
of the instance's frames; when not even the highest reaches it, the instance stays lossless.
The search depends only on the frame, so builds stay deterministic. PSNR is taken over the
image's own range (max - min), as `bench/lossy.py` prints it: the stored range (16 bits
for a CT) would flatter every codec.
"""

from __future__ import annotations

import numpy as np

from . import codestreams, pixels

LADDER = (95, 90, 80, 70, 60, 50, 40, 30)  # highest first


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR of `decoded` against `reference`, in dB over the reference's own range."""
    a = reference.astype(np.float64)
    mse = float(np.mean((a - decoded.reshape(reference.shape).astype(np.float64)) ** 2))
    span = max(float(a.max()) - float(a.min()), 1.0)
    return float("inf") if mse == 0 else 10 * float(np.log10(span**2 / mse))


def choose(
    frame: np.ndarray, layout: pixels.PixelLayout, codec: pixels.FrameCodec
) -> tuple[pixels.FrameCodec, bytes, str]:
    """For `codec` with a PSNR target: the codec to use for the instance (a quality of the
    ladder, or lossless), and `frame` encoded with it (bytes, transfer syntax)."""
    assert codec.psnr is not None
    lo, hi = 0, len(LADDER) - 1
    best: tuple[pixels.FrameCodec, bytes, str] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        trial = pixels.FrameCodec(codec.name, LADDER[mid])
        data, ts = codestreams.encode_frame(frame, layout, trial)
        if psnr(frame, codestreams.decode_frame(data, ts, layout)) >= codec.psnr:
            best, lo = (trial, data, ts), mid + 1  # good enough: try a lower quality
        else:
            hi = mid - 1
    if best is None:  # not even the highest quality reaches the target
        lossless = pixels.FrameCodec(codec.name)
        return (lossless, *codestreams.encode_frame(frame, layout, lossless))
    return best
