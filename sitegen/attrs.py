"""Reading attributes back out of DICOM JSON objects (PS3.18 F.2).

The writers, thumbnails, cards and pages all work from the published instances' DICOM JSON;
enhanced multi-frame images keep geometry, rescale and windows in their functional groups,
so `nested` looks there when the top level has nothing.
"""

from __future__ import annotations

from typing import Any

SHARED_GROUPS, PER_FRAME_GROUPS = "52009229", "52009230"


def values(meta: dict[str, Any], tag: str) -> list[Any]:
    """An attribute's values at the top level of `meta` ([] when absent or empty)."""
    return list(meta.get(tag, {}).get("Value", []))


def first(meta: dict[str, Any], tag: str, default: Any = None) -> Any:
    found = values(meta, tag)
    return found[0] if found else default


def nested(meta: dict[str, Any], tag: str) -> list[Any]:
    """Values from the top level, else from the first item of the shared, then the per-frame
    functional groups."""
    if values(meta, tag):
        return values(meta, tag)
    for groups in (SHARED_GROUPS, PER_FRAME_GROUPS):
        for item in values(meta, groups)[:1]:
            for element in item.values():
                if element.get("vr") != "SQ":
                    continue
                for sub in element.get("Value", [])[:1]:
                    if values(sub, tag):
                        return values(sub, tag)
    return []


def number(meta: dict[str, Any], tag: str, default: float | None = None) -> float | None:
    """The first (nested) value as a float, or `default`."""
    found = nested(meta, tag)
    try:
        return float(found[0]) if found else default
    except (TypeError, ValueError):
        return default
