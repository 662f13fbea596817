"""Lookup of PS3.15 Table E.1-1 actions (derived by scripts/derive_deid_table.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class TableEntry:
    """One row of the profile table: the basic action and the per-option actions."""

    keyword: str
    basic: str
    options: tuple[tuple[str, str], ...]

    def action(self, enabled: frozenset[str]) -> tuple[str, str | None]:
        """The action to apply and the option that chose it (None: the basic profile).

        When several enabled options name an action, C (modify) wins over K (keep):
        the safer one.
        """
        chosen: tuple[str, str | None] = (self.basic, None)
        for option, action in self.options:
            if option not in enabled:
                continue
            if chosen[1] is None or (action == "C" and chosen[0] == "K"):
                chosen = (action, option)
        return chosen


@lru_cache(maxsize=1)
def _load() -> tuple[dict[int, TableEntry], tuple[tuple[int, int, TableEntry], ...]]:
    text = resources.files(__package__).joinpath("profile_table.json").read_text("utf-8")
    exact: dict[int, TableEntry] = {}
    patterns: list[tuple[int, int, TableEntry]] = []
    for key, row in json.loads(text)["attributes"].items():
        options = tuple(
            sorted((k, v) for k, v in row.items() if k.startswith(("retain-", "clean-")))
        )
        entry = TableEntry(row.get("keyword") or row.get("name", ""), row["basic"], options)
        if "X" in key:
            mask = int("".join("0" if c == "X" else "F" for c in key), 16)
            value = int(key.replace("X", "0"), 16)
            patterns.append((mask, value, entry))
        else:
            exact[int(key, 16)] = entry
    return exact, tuple(patterns)


def lookup(tag: int) -> TableEntry | None:
    """The table row for ``tag`` (exact tags first, then repeating-group patterns)."""
    exact, patterns = _load()
    entry = exact.get(int(tag))
    if entry is not None:
        return entry
    for mask, value, pattern_entry in patterns:
        if int(tag) & mask == value:
            return pattern_entry
    return None


def table_keywords() -> frozenset[str]:
    """Keywords of all exact rows (used by tests to check the allow-list does not overlap)."""
    exact, _ = _load()
    return frozenset(entry.keyword for entry in exact.values())
