"""Kept values that hold a removed one.

A file's removed values (its canaries) are never dropped because a kept value contains them:
the kept value is the leak. `drop_kept_leaks` empties every kept element that holds one of
the file's canaries (by the sweep's own matching rules) and says so; the canary stays, so the
sweep still catches any other copy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ._canary import Canary
from ._forms import _TRANSLITERATION
from ._sweep import _DIGIT_RUN_RE, Sweeper
from ._values import empty_value


@dataclass(frozen=True)
class Kept:
    """A kept element's text, where it lives (to empty it) and its label for the report."""

    dataset: Dataset
    tag: BaseTag
    text: str
    label: str


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, accents stripped: the cheap first test before the sweep's exact one."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _digits(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return digits.lstrip("0") or digits


def _suspects(canaries: list[Canary], kept: list[Kept]) -> list[Canary]:
    joined = fold("\x00".join(k.text for k in kept))
    runs = {_digits(run) for run in _DIGIT_RUN_RE.findall(joined)}  # reformatted IDs
    out = []
    for canary in canaries:
        value = canary.value.strip()
        if (
            fold(value) in joined
            or fold(value.translate(_TRANSLITERATION)) in joined
            or (runs and _digits(value) in runs)
        ):
            out.append(canary)
    return out


def drop_kept_leaks(canaries: list[Canary], kept: list[Kept]) -> list[tuple[str, str]]:
    """Empty each kept element whose text holds one of `canaries`; returns (label, the
    attribute whose value it held) for each emptied element."""
    suspects = _suspects(canaries, kept) if canaries and kept else []
    if not suspects:
        return []
    sweeper = Sweeper(suspects)
    emptied: list[tuple[str, str]] = []
    done: set[tuple[int, int]] = set()
    for item in kept:
        where = (id(item.dataset), int(item.tag))
        if where in done or item.tag not in item.dataset:
            continue
        hits = sweeper.scan_bytes(item.text.encode("utf-8"), item.label)
        if not hits:
            continue
        done.add(where)
        vr = item.dataset[item.tag].VR
        item.dataset[item.tag] = DataElement(item.tag, vr, empty_value(vr))
        emptied.append((item.label, hits[0].canary.attribute))
    return emptied
