"""`PixelLayout`: the frames exactly as encoded and published, as plain numbers (see pixels.py);
apart from the decoders so that pages and cards can describe a frame without importing them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PixelLayout:
    """The frames exactly as encoded/published (not necessarily as stored in the input)."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric: str
    planar_configuration: int = 0

    def dtype(self) -> np.dtype:
        """Native-endian numpy dtype of one sample."""
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"{kind}{max(1, self.bits_allocated // 8)}")

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape of one frame: (rows, columns) or (rows, columns, samples)."""
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)
