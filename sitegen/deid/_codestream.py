"""Text hidden inside compressed pixel data: JPEG COM and APPn segments.

sitegen never republishes an input codestream (every frame is decoded and encoded anew), so
these segments cannot reach the site through the frames; their text still becomes canaries, so
that the sweep catches it should it surface anywhere else (a page, a description, a file name).
"""

from __future__ import annotations

import os

from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments

from ._canary import Canary, make_canaries
from ._values import printable_runs

MAX_SCAN = 64 * 1024 * 1024  # larger pixel data is not read just for this
_SOS, _EOI = 0xDA, 0xD9
# The identifiers that open standard APPn segments: format names, not identifying text (and
# sitegen's own JPEG thumbnails carry "JFIF").
_APP_IDS = frozenset({"JFIF", "JFXX", "Exif", "Adobe", "ICC_PROFILE", "MPF", "Ducky"})


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of the marker segments before the first scan of a JPEG codestream."""
    segments: list[tuple[int, bytes]] = []
    i = 2 if data[:2] == b"\xff\xd8" else -1
    while 0 <= i < len(data) - 4:
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker in (_SOS, _EOI):
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        segments.append((marker, data[i + 4 : i + 2 + length]))
        i += 2 + length
    return segments


def codestream_canaries(ds: Dataset, source: str) -> list[Canary]:
    """Canaries from the COM (FFFE) and APPn (FFE0-FFEF) text of encapsulated JPEG frames."""
    meta = getattr(ds, "file_meta", None)
    if (
        meta is None
        or not meta.get("TransferSyntaxUID")
        or not meta.TransferSyntaxUID.is_encapsulated
    ):
        return []
    if "PixelData" not in ds:
        return []
    filename = getattr(ds, "filename", None)
    if (
        isinstance(filename, str)
        and os.path.isfile(filename)
        and os.path.getsize(filename) > MAX_SCAN
    ):
        return []  # a large file's pixel data stays on disk: it is decoded frame by frame later
    try:
        data = ds.PixelData
    except Exception:  # an unreadable element is reported by the pixel stage
        return []
    if len(data) > MAX_SCAN:
        return []
    texts: list[str] = []
    for fragment in generate_fragments(data):
        for marker, payload in jpeg_segments(fragment):
            if marker == 0xFE or 0xE0 <= marker <= 0xEF:
                texts += [t for t in printable_runs(payload) if t.strip() not in _APP_IDS]
    return make_canaries(texts, "JPEG COM/APP segment", source)
