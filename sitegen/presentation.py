"""How a case presents, from what de-identification kept: "45-year-old woman" (PatientAge
and PatientSex, kept only with `retain-patient-characteristics`, ages over 89 already
"090Y"), and its studies' places in time relative to the first ("Day 0", "+3 months"):
the dates are shifted per patient, so the intervals are true and the dates are never shown.
"""

from __future__ import annotations

import datetime as dt
import re

_AGE_RE = re.compile(r"^(\d{3})([DWMY])$")
_UNITS = {"D": "day", "W": "week", "M": "month", "Y": "year"}


def patient(age: str, sex: str) -> str:
    """ "45-year-old woman", "6-month-old girl", "a man aged 90 or over"; "" when neither
    is known."""
    match = _AGE_RE.match(age.strip())
    years = None
    phrase = ""
    if match:
        n, unit = int(match.group(1)), match.group(2)
        years = n if unit == "Y" else 0
        phrase = f"{n}-{_UNITS[unit]}-old"
    adult = years is None or years >= 18
    noun = {"F": "woman" if adult else "girl", "M": "man" if adult else "boy"}.get(
        sex.strip().upper(), "patient"
    )
    if years is not None and years >= 90:
        return f"a {noun} aged 90 or over"
    if not phrase:
        return "" if noun == "patient" else f"a {noun}"
    return f"{phrase} {noun}"


def _date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None


def relative(dates: list[str]) -> list[str]:
    """Each study date as its distance from the earliest: "Day 0", "+3 days", "+2 weeks",
    "+3 months", "+2 years"; "" for a date that does not parse."""
    parsed = [_date(d) for d in dates]
    known = [d for d in parsed if d is not None]
    if not known:
        return ["" for _ in dates]
    first = min(known)
    out = []
    for day in parsed:
        if day is None:
            out.append("")
            continue
        days = (day - first).days
        if days == 0:
            out.append("Day 0")
        elif days < 14:
            out.append(f"+{days} day{'s' * (days != 1)}")
        elif days < 60:
            out.append(f"+{days // 7} weeks")
        elif days < 730:
            months = round(days / 30.44)
            out.append(f"+{months} months")
        else:
            years = days // 365
            out.append(f"+{years} years")
    return out
