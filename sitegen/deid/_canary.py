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
from typing import Any

MIN_LENGTH = 4
NAME_PART_MIN_LENGTH = 2  # name components of 2-3 letters count as whole words in text
IDENTIFIER_MIN_DIGITS = 5  # digit-only (normalised) identifiers count from 5 digits
TOKENS_BELOW = 256  # free text longer than this gives no single-word canaries

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
STOP_WORDS: frozenset[str] = (
    frozenset(
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
    | frozenset(
        # short English words: a name part spelled like one cannot be told from text
        """a i o an as at be by do go he if in is it me my no of on or so to up us we ye am
    and are but can day did for had has her him his how its let may new nor not now old
    one our out own per see she the too two use via was way who why yet you all any few
    man men mid off see set six ten top low red big end""".split()
    )
    | frozenset(
        # the value representations: DICOM JSON and Part 10 headers spell them everywhere
        """ae as at cs da ds dt fd fl is lo lt ob od of ol ov ow pn sh sl sq ss st sv tm uc ui
    ul un ur us ut uv""".split()
    )
)
IGNORABLE_WORDS: frozenset[str] = STOP_WORDS | MODALITY_CODES

_NUMERIC_RE = re.compile(r"[0-9.\-/:+ ]+")


@dataclass(frozen=True)
class Canary:
    """A value that must never appear in the output (its repr hides the value)."""

    value: str = field(repr=False)
    attribute: str
    source: str
    word: bool = False  # a word taken out of free text: it counts as a whole word only


def mask(value: str) -> str:
    """Show enough of a value to find it, never the value itself: ``"SM…HN"``."""
    if len(value) <= 6:
        return value[:1] + "…"
    return value[:2] + "…" + value[-2:]


def is_numeric(value: str) -> bool:
    """Dates, IDs and UIDs: only digits and separators."""
    return bool(_NUMERIC_RE.fullmatch(value)) and any(c.isdigit() for c in value)


@lru_cache(maxsize=65536)
def is_useful(value: str, minimum: int = MIN_LENGTH) -> bool:
    """Long enough, not whitespace/padding, not a stop word, not one repeated character."""
    stripped = value.strip().strip("\x00").strip()
    if len(stripped) < minimum:
        return False
    if stripped.lower() in STOP_WORDS:
        return False
    if len(set(stripped.lower())) == 1:
        return False
    if stripped.startswith("1.2.840.10008."):  # DICOM-defined UIDs name no one
        return False
    if any(c.isalpha() for c in stripped):
        words = [w for w in re.split(r"[\W_]+", stripped.lower()) if w]
        if all(
            w in IGNORABLE_WORDS or w in _ADDRESS_WORDS or (w.isdigit() and len(w) < 8)
            for w in words
        ):
            return False  # "CT HEAD", "GE MEDICAL SYSTEMS"
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


def name_parts(value: str) -> list[str]:
    """The single words of a person name's components ("Mary-Jane^van der Berg" -> Mary,
    Jane, van, der, Berg): canaries from 2 letters, matched as whole words."""
    return re.findall(r"[^\W\d_]+", value.replace("^", " ").replace("=", " "))


_MONTHS = (
    "january february march april may june july august september october november december"
).split()


def date_variants(value: str) -> list[str]:
    """DA/DT: the value, its date part and the common spellings of that date: its digits in
    year-, day- and month-first order, with 4- and 2-digit years, with and without zero
    padding (the sweep compares digit runs split by - / _ or spaces digits-only, so these
    cover "17-08-1952", "8/17/52", "1952 08 17"), dotted forms, and month names ("17 Aug
    1952", "August 17, 1952")."""
    variants = [value]
    digits = value.replace(".", "") if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", value) else value
    if not re.match(r"\d{8}", digits) or digits[:8] in STOP_WORDS:
        return variants
    y, m, d = digits[:4], digits[4:6], digits[6:8]
    if not (1 <= int(m) <= 12 and 1 <= int(d) <= 31):
        return variants + [digits[:8]]
    days, months = sorted({d, str(int(d))}), sorted({m, str(int(m))})
    for year in (y, y[2:]):
        for day in days:
            for month in months:
                variants += [day + month + year, month + day + year]
                variants += [f"{day}.{month}.{year}", f"{month}.{day}.{year}"]
        variants += [y + m + d, f"{y}.{m}.{d}"]
        name = _MONTHS[int(m) - 1]
        for month in sorted({name, name[:3]}):
            for day in days:
                variants += [
                    f"{day} {month} {year}",
                    f"{day}-{month}-{year}",
                    f"{month} {day}, {year}",
                ]
    return list(dict.fromkeys(variants))


def identifier_variants(value: str) -> list[str]:
    """An identifier with 5+ digits ("PID-0044-1928") also as its digits alone, with and
    without zero padding ("00441928", "441928"): reformatted copies are found by the sweep's
    digit-run normalisation. Padding is no digit of the identifier: "SCALE-00002" has one
    (its "00002" is any file numbered 2), and gives none."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits.lstrip("0")) < IDENTIFIER_MIN_DIGITS or len(digits) > 20:
        return []
    return [digits, digits.lstrip("0") or digits]


# Words of addresses, institutions and vendors that say nothing on their own.
_ADDRESS_WORDS = frozenset(
    """street road avenue lane drive main north south east west city suite floor building
    apartment house strasse platz weg gasse allee hospital clinic klinikum university
    medical center centre department radiology imaging institute general county state
    systems system ge healthcare health solutions technologies technology corporation corp
    company group international electric america europe japan memorial saint sankt
    philips siemens toshiba canon agfa fuji fujifilm hitachi hologic carestream konica
    minolta samsung esaote mindray varian elekta kodak picker marconi shimadzu images
    ultrasound scanner version software""".split()
)


def free_text_tokens(value: str, *, all_words: bool = False) -> list[str]:
    """Tokens of free text that may identify on their own: capitalised words of 4+ letters
    ("... says Ignatius"), every 4+ letter word of an address (`all_words`), and numbers of
    5+ digits. Common words of addresses and stop words are left out."""
    tokens: list[str] = []
    if len(value) > TOKENS_BELOW:
        return tokens  # a long blob (XML, a log): its words are markup, not identities
    words = re.findall(r"[^\W\d_]+|\d+", value)
    mixed = value != value.upper()
    for n, word in enumerate(words):
        low = word.lower()
        if word.isdigit():
            if len(word) >= 8:  # shorter numbers in text are counts and measurements
                tokens.append(word)
            continue
        if len(word) < MIN_LENGTH or low in IGNORABLE_WORDS or low in _ADDRESS_WORDS:
            continue
        if all_words or (mixed and word[0].isupper() and (n > 0 or len(words) == 1)):
            tokens.append(word)
    return tokens


def make_canaries(
    values: list[str],
    attribute: str,
    source: str,
    minimum: int = MIN_LENGTH,
    *,
    word: bool = False,
) -> list[Canary]:
    """Canaries for the useful ones among ``values`` (deduplicated, order kept)."""
    seen: set[str] = set()
    canaries: list[Canary] = []
    for raw in values:
        value = raw.strip(" \x00")
        if value in seen or not is_useful(value, minimum):
            continue
        seen.add(value)
        canaries.append(Canary(value, attribute, source, word))
    return canaries


class OnePerValue:
    """Canaries kept one per value as they come, as `one_per_value` chooses: a series
    repeats each value once per file, so the workers of a 20,000-instance build send
    millions of canaries for some tens of thousands of values."""

    def __init__(self, canaries: Iterable[Canary] = ()) -> None:
        self.best: dict[str, Canary] = {}
        self.add(canaries)

    def add(self, canaries: Iterable[Canary]) -> None:
        best = self.best
        for c in canaries:
            kept = best.get(c.value)
            if kept is None or (c.word, c.source, c.attribute) < (
                kept.word,
                kept.source,
                kept.attribute,
            ):
                best[c.value] = c

    def sorted(self) -> list[Canary]:
        return [self.best[value] for value in sorted(self.best)]


def one_per_value(canaries: Iterable[Canary]) -> list[Canary]:
    """One canary per value, sorted, the same whatever order the workers finished in: of a
    value's canaries the strictest (a whole value, found inside words too, over a word of
    free text), then the first by source and attribute."""
    return OnePerValue(canaries).sorted()


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """The words of the DICOM data dictionary's attribute names ("Segmentation", "Position",
    "Number"): a value made of them is a standard term or code meaning, not an identity."""
    from pydicom.datadict import DicomDictionary

    return frozenset(
        w.lower() for entry in DicomDictionary.values() for w in re.findall(r"[A-Za-z]+", entry[2])
    )


@lru_cache(maxsize=1)
def _body_parts() -> frozenset[str]:
    from ._grammar import DEFINED_TERMS

    return frozenset(t.lower() for t in DEFINED_TERMS["BodyPartExamined"])


def _standard_words(value: str) -> bool:
    words = [w for w in re.split(r"[\W_]+", value.lower()) if w]
    known = dictionary_words() | _body_parts()
    if not any(w.isalpha() for w in words):
        return False
    return all(w in known or w in IGNORABLE_WORDS or w.isdigit() for w in words)


def free_text_canaries(
    text: str, attribute: str, source: str, *, all_words: bool = False
) -> list[Canary]:
    """A text value, its parts, its digits (reformatted IDs) and, as whole words, its
    telling words; less those made only of the dictionary's words (a code meaning such as
    "Segmentation"; names are treated apart: see PN)."""
    values = [*text_variants(text), *identifier_variants(text)]
    words = free_text_tokens(text, all_words=all_words)
    return make_canaries(
        [v for v in values if v.isdigit() or not _standard_words(v)], attribute, source
    ) + make_canaries([w for w in words if not _standard_words(w)], attribute, source, word=True)


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
    dates = {d.strip() for m in metadata for d in json_dates(m)}  # a series repeats them
    published = {v for d in dates for v in date_variants(d)}
    return [c for c in canaries if c.value not in published]
