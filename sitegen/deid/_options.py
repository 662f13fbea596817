"""Profile options: names accepted on the command line and their CID 7050 codes."""

from __future__ import annotations

KNOWN_OPTIONS: frozenset[str] = frozenset(
    {
        "retain-patient-characteristics",
        "retain-modified-dates",
        "clean-descriptors",
        "retain-device-identity",
        "retain-uids",
        "retain-safe-private",
        "coarsen-times",  # sitegen's own: times of day to the hour (no CID 7050 code)
    }
)
"""Options sitegen supports.  Full dates and institution identity are deliberately absent:
a public website must never carry them."""

DEFAULT_OPTIONS: frozenset[str] = frozenset({"retain-modified-dates", "clean-descriptors"})

# CID 7050 De-identification Method (DCM coding scheme): code value, code meaning.
PROFILE_CODE: tuple[str, str] = ("113100", "Basic Application Confidentiality Profile")
OPTION_CODES: dict[str, tuple[str, str]] = {
    "clean-descriptors": ("113105", "Clean Descriptors Option"),
    "retain-modified-dates": (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    "retain-patient-characteristics": ("113108", "Retain Patient Characteristics Option"),
    "retain-device-identity": ("113109", "Retain Device Identity Option"),
    "retain-uids": ("113110", "Retain UIDs Option"),
    # retain-safe-private (113111) is accepted but retains nothing (every private attribute is
    # removed), so it is never claimed in DeidentificationMethodCodeSequence.
}


def parse_options(names: list[str]) -> frozenset[str]:
    """Validate option names (e.g. from the CLI or the site config); reject typos loudly."""
    cleaned = [name.strip().lower() for name in names if name.strip()]
    unknown = sorted(set(cleaned) - KNOWN_OPTIONS)
    if unknown:
        known = ", ".join(sorted(KNOWN_OPTIONS))
        raise ValueError(
            f"unknown de-identification option(s): {', '.join(unknown)} (known: {known})"
        )
    return frozenset(cleaned)
