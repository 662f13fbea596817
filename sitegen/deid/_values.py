"""Pure value helpers: dummy values, date shifting, age capping, text detection."""

from __future__ import annotations

import re
from datetime import date, timedelta

DUMMY_TEXT = "ANONYMIZED"

STRING_VRS: frozenset[str] = frozenset(
    {
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
    }
)
BINARY_VRS: frozenset[str] = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
# VRs whose original values become canaries.  Codes (CS), ages (AS) and numbers are not
# identifying and would only produce false alarms; times (TM) are kept by the dates option.
CANARY_VRS: frozenset[str] = frozenset(
    {"AE", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "UC", "UI", "UR", "UT"}
)

_DUMMIES: dict[str, object] = {
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "AS": "000Y",
    "DS": "0",
    "IS": "0",
    "UR": "",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "AT": 0,
}


def dummy_value(vr: str) -> object:
    """A harmless value of the right VR for the D action (UIDs are mapped by the caller)."""
    if vr in _DUMMIES:
        return _DUMMIES[vr]
    if vr in BINARY_VRS:
        return b""
    return DUMMY_TEXT


def empty_value(vr: str) -> object:
    """The zero-length value for the Z action."""
    if vr == "SQ":
        return []
    return "" if vr in STRING_VRS else None


def _format_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def shift_date(value: str, days: int) -> str | None:
    """Shift a DA value (``YYYYMMDD`` or legacy ``YYYY.MM.DD``); None when unparseable."""
    text = value.strip()
    if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", text):
        text = text.replace(".", "")
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        shifted = date(int(text[:4]), int(text[4:6]), int(text[6:8])) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return _format_date(shifted) if shifted.year >= 1 else None


def shift_datetime(value: str, days: int, *, coarse: bool = False) -> str | None:
    """Shift the date part of a DT value, keeping the time (to the hour when `coarse`) and
    dropping the UTC offset suffix: TimezoneOffsetFromUTC is removed, so is its copy."""
    match = re.fullmatch(r"(\d{8})(\d{0,6}(?:\.\d{1,6})?)([+\-]\d{4})?", value.strip())
    if not match:
        return None
    shifted = shift_date(match.group(1), days)
    time = match.group(2)
    if coarse and time:
        time = time[:2] + "0000"
    return None if shifted is None else shifted + time


def coarsen_time(value: str) -> str:
    """A TM value to the hour (``143512.25`` -> ``140000``), for the coarsen-times option."""
    text = value.strip()
    return text[:2] + "0000" if re.fullmatch(r"\d{2}.*", text) else ""


def cap_age(value: str) -> str:
    """Ages over 89 years become ``090Y`` (HIPAA Safe Harbor aggregates 90 and older)."""
    match = re.fullmatch(r"(\d{3})Y", value.strip())
    if match and int(match.group(1)) > 89:
        return "090Y"
    return value


def bytes_as_text(data: bytes) -> str | None:
    """Decode a binary value that is really text (e.g. a private LO read as UN), else None."""
    stripped = data.rstrip(b"\x00 ")
    if len(stripped) < 4:
        return None
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        text = stripped.decode("latin-1")
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return text
    return None


def printable_runs(data: bytes, minimum: int = 4) -> list[str]:
    """Printable ASCII runs (e.g. text hidden in the 128-byte preamble)."""
    return [m.decode("ascii") for m in re.findall(rb"[\x20-\x7e]{%d,}" % minimum, data)]
