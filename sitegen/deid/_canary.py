"""Canaries: original identifying values that must never appear in the published site.

A canary list is built while de-identifying (every value that was removed, replaced,
emptied, cleaned or mapped) and from the input file names; the Sweeper then checks the
finished output tree for each of them.  Values too short or too common to identify anyone
are skipped, so the sweep does not cry wolf.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

MIN_LENGTH = 4

# Modality codes (PS3.3 C.7.3.1.1.1), lower-cased.
MODALITY_CODES: frozenset[str] = frozenset(
    """ar asmt au bdus bi bmd cr ct ctprotocol dg doc dx ecg eps es fid gm hc hd io iol ivoct
    ivus ker ko lem ls mg mr m3d nm oam oct op opm opt optbsv optenf opv oss ot pa plan pr px
    pt rad reg resp rf rg rtdose rtimage rtintent rtplan rtrad rtrecord rtsegann rtstruct rwv
    seg sm smr sr srf stain textureMap tg us va xa xaprotocol xc""".lower().split()
)

# Words that appear in ordinary, non-identifying DICOM data, technique descriptions or in
# sitegen's own output.  A text whose words are all in here (or modality codes) is no
# canary: "CT HEAD" or "AX T2 FLAIR" must not block publishing a page that says so.
STOP_WORDS: frozenset[str] = frozenset(
    """anonymous anonymized anonymised anon removed deidentified de-identified unknown none
    null n/a yes no true false other male female patient test demo phantom image images
    series study dicom original primary secondary derived axial ax sagittal sag coronal cor
    oblique localizer scout topogram survey helical spiral sequenced contrast with without
    w/o w/ pre post plain native routine default protocol standard thin thick soft tissue
    bone lung window recon mpr mip minip vr 3d 2d t1 t2 pd flair dwi adc swi stir tse fse
    gre epi mprage space vibe dixon fat sat water cine perfusion diffusion angio cta mra
    head neck brain chest thorax abdomen pelvis spine cervical thoracic lumbar knee hip
    shoulder hand wrist elbow ankle foot heart cardiac liver kidney lung lungs breast
    extremity whole body left right bilateral ap lat pa frontal lateral portable upright
    supine prone 19000101 1900-01-01 000000 00000000""".split()
)
IGNORABLE_WORDS: frozenset[str] = STOP_WORDS | MODALITY_CODES

_NUMERIC_RE = re.compile(r"[0-9.\-/:+ ]+")


@dataclass(frozen=True)
class Canary:
    """A value that must never appear in the output (its repr hides the value)."""

    value: str = field(repr=False)
    attribute: str
    source: str


def mask(value: str) -> str:
    """Show enough of a value to find it, never the value itself: ``"SM…HN"``."""
    if len(value) <= 6:
        return value[:1] + "…"
    return value[:2] + "…" + value[-2:]


def is_numeric(value: str) -> bool:
    """Dates, IDs and UIDs: only digits and separators."""
    return bool(_NUMERIC_RE.fullmatch(value)) and any(c.isdigit() for c in value)


@lru_cache(maxsize=65536)
def is_useful(value: str) -> bool:
    """Long enough, not whitespace/padding, not a stop word, not one repeated character."""
    stripped = value.strip().strip("\x00").strip()
    if len(stripped) < MIN_LENGTH:
        return False
    if stripped.lower() in STOP_WORDS:
        return False
    if len(set(stripped.lower())) == 1:
        return False
    if stripped.startswith("1.2.840.10008."):  # DICOM-defined UIDs name no one
        return False
    if any(c.isalpha() for c in stripped):
        words = [w for w in re.split(r"[\W_]+", stripped.lower()) if w]
        if all(w in IGNORABLE_WORDS or (w.isdigit() and len(w) < 8) for w in words):
            return False
    return True


def text_variants(value: str) -> list[str]:
    """The value and its multi-value parts (split on backslash)."""
    value = value.strip(" \x00")
    parts = [value]
    if "\\" in value:
        parts.extend(part.strip(" \x00") for part in value.split("\\"))
    return parts


def person_name_variants(value: str) -> list[str]:
    """PN: each group and component, the whole name with ^ and with spaces, both orders."""
    variants: list[str] = [value]
    for single in value.split("\\"):
        for group in single.split("="):
            components = [c.strip() for c in group.split("^")]
            named = [c for c in components if c]
            variants.append(group)
            variants.extend(named)
            if len(named) > 1:
                variants.append(" ".join(named))
                family, given = components[0], components[1] if len(components) > 1 else ""
                if family and given:
                    variants.append(f"{given} {family}")
                    variants.append(f"{family}, {given}")
    return variants


def date_variants(value: str) -> list[str]:
    """DA/DT: the value, its date part and common spellings of that date."""
    variants = [value]
    digits = value.replace(".", "") if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", value) else value
    if re.match(r"\d{8}", digits) and digits[:8] not in STOP_WORDS:
        y, m, d = digits[:4], digits[4:6], digits[6:8]
        variants += [digits[:8], f"{y}-{m}-{d}", f"{y}.{m}.{d}", f"{m}/{d}/{y}", f"{d}.{m}.{y}"]
    return variants


def make_canaries(values: list[str], attribute: str, source: str) -> list[Canary]:
    """Canaries for the useful ones among ``values`` (deduplicated, order kept)."""
    seen: set[str] = set()
    canaries: list[Canary] = []
    for raw in values:
        value = raw.strip(" \x00")
        if value in seen or not is_useful(value):
            continue
        seen.add(value)
        canaries.append(Canary(value, attribute, source))
    return canaries


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
        if part in ("/", ".", "..") or _is_counter_or_common(stem):
            continue
        for value in (part, stem):
            if value not in seen and is_useful(value):
                seen.add(value)
                canaries.append(Canary(value, kind, source))
    return canaries


def json_dates(obj: dict[str, Any]) -> Iterator[str]:
    """Every DA and DT value in a DICOM JSON object, nested sequences included."""
    for element in obj.values():
        values = element.get("Value", [])
        if element.get("vr") == "SQ":
            for item in values:
                yield from json_dates(item)
        elif element.get("vr") in ("DA", "DT"):
            yield from (str(v) for v in values)


def without_published_dates(
    canaries: Iterable[Canary], metadata: Iterable[dict[str, Any]]
) -> list[Canary]:
    """Drop canaries that equal a date the site publishes (in any spelling); `metadata` are
    the published instances' DICOM JSON objects.

    One patient's shifted date can equal another patient's original date; in the output the
    two cannot be told apart, so such a canary would fail every large build by coincidence.
    """
    published = {v for m in metadata for d in json_dates(m) for v in date_variants(d.strip())}
    return [c for c in canaries if c.value not in published]
