"""Canaries of what a source holds outside a data set: its folder and file names (unless they
say nothing about the patient: a common word, a counter such as IMG0001), zip comments and
names, DICOMDIR records."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ._canary import (
    NAME_PART_MIN_LENGTH,
    Canary,
    _standard_words,
    date_variants,
    free_text_canaries,
    is_useful,
    make_canaries,
    name_parts,
    person_name_variants,
)

# Folder/file names that say nothing about the patient.
_COMMON_PATH_WORDS: frozenset[str] = frozenset(
    {
        "dicom",
        "dcm",
        "images",
        "image",
        "series",
        "study",
        "studies",
        "dicomdir",
        "files",
        "data",
        "export",
        "exports",
        "input",
        "inputs",
        "cases",
        "case",
        "scans",
        "scan",
        "import",
        "incoming",
        "unknown",
        "anonymous",
        "secondary",
        "localizer",
        # file formats and codecs: names that describe the file, not the patient
        "jpeg",
        "jpg",
        "png",
        "tiff",
        "raw",
        "zip",
        "htj2k",
        "jpeg2000",
        "j2k",
        "jpegls",
        "rle",
        "deflate",
        "color",
        "colour",
        "mono",
        "monochrome",
        "rgb",
        "multiframe",
        "enhanced",
        "compressed",
        "uncompressed",
        "lossless",
        "lossy",
        "small",
        "large",
        "test",
        "sample",
        "phantom",
    }
)
_COUNTER_NAME_RE = re.compile(
    r"(?i)(img|im|image|ser|series|se|st|study|file|i|s|f)?"
    r"[-_ ]?\d{1,7}"
)


def _is_counter_or_common(stem: str) -> bool:
    """``IMG0001``, ``123``, ``DICOM``: names that count or classify, not identify."""
    return (
        stem.lower() in _COMMON_PATH_WORDS
        or bool(_COUNTER_NAME_RE.fullmatch(stem))
        or (stem.isdigit() and len(stem) < 8)
    )


def path_canaries(relative_path: str, source: str) -> list[Canary]:
    """Canaries from the input's folder and file names (e.g. ``Smith_John_CT/...``).

    Each component and its stem (without extension) count, except counters such as
    ``IMG0001`` or numbers shorter than 8 digits, common words (``DICOM``) and names made
    only of technique words (``CT HEAD``).
    """
    canaries: list[Canary] = []
    seen: set[str] = set()
    parts = PurePosixPath(relative_path.replace("\\", "/")).parts
    for index, part in enumerate(parts):
        kind = "file name" if index == len(parts) - 1 else "folder name"
        stem = PurePosixPath(part).stem if index == len(parts) - 1 else part
        if part in ("/", ".", "..") or _is_counter_or_common(stem) or _standard_words(stem):
            continue  # "transfer-syntax", "Segmentation": the standard's words name no one
        for value in (part, stem):
            if value not in seen and is_useful(value):
                seen.add(value)
                canaries.append(Canary(value, kind, source))
    return canaries


def value_canaries(text: str, vr: str, attribute: str, source: str) -> list[Canary]:
    """Canaries for a value read outside a data set (zip comments and names, DICOMDIR
    records): `vr` "PN", "DA"/"DT", "path" or any text VR."""
    if vr == "path":
        return path_canaries(text, source)
    if vr == "PN":
        return make_canaries(person_name_variants(text), attribute, source) + make_canaries(
            name_parts(text), attribute, source, NAME_PART_MIN_LENGTH
        )
    if vr in ("DA", "DT"):
        return make_canaries(date_variants(text), attribute, source)
    return free_text_canaries(text, attribute, source, all_words=True)
