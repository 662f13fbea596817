"""The keys each table may hold, and the checker that collects problems with them."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One configuration mistake: where it is and how to fix it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.key}: {self.message}"
            if self.key
            else f"{self.file}: {self.message}"
        )


class ConfigError(Exception):
    """All problems found in a configuration, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        files = sorted({p.file for p in problems})
        n = len(problems)
        super().__init__(f"{', '.join(files)} has {n} problem{'s' if n != 1 else ''}")


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


_STR = ((str,), "a string")
_BOOL = ((bool,), "true or false")
_INT = ((int,), "an integer")
_LIST = ((list,), "a list")
_TABLE = ((dict,), "a table")

SECTIONS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "site": {
        "title": _STR,
        "base_url": _STR,
        "url": _STR,
        "out_dir": _STR,
        "author": _STR,
        "license": _STR,
        "description": _STR,
    },
    "build": {
        "workers": _INT,
        "frames": _STR,
        "lossy": ((bool, int, dict), "false, a quality 1-100 or { psnr = N }"),
        "downloads": _BOOL,
        "lossless_downloads": _BOOL,
        "preview": _BOOL,
        "zips": _STR,
        "pack": _INT,
    },
    "deid": {
        "enabled": _BOOL,
        "profile": _STR,
        "options": _LIST,
        "key_file": _STR,
        "burned_in": _STR,
    },
    "ohif": {
        "enabled": _BOOL,
        "version": _STR,
        "data_source": _STR,
        "user_config": _STR,
        "keep": _LIST,
        "oidc": _TABLE,
    },
}
CASE_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "slug": _STR,
    "title": _STR,
    "source": _STR,
    "history": _STR,
    "findings": _STR,
    "diagnosis": _STR,
    "discussion": _STR,
    "tags": _LIST,
    "unknown": _BOOL,
    "view": _TABLE,
    "annotations": _LIST,
    "questions": _LIST,
    "references": _LIST,
    "related": _LIST,
    "studies": _LIST,
    "added": ((str, dt.date), "a date (2026-11-30)"),
    "auth": _TABLE,
    "burned_in": _STR,
    "masks": _LIST,
    "study_description": _STR,
    "stack": _TABLE,
}
TOP_KEYS = (*SECTIONS, "cases", "lessons")


def _hint(key: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'unknown key; did you mean "{close[0]}"?' if close else "unknown key"


class _Checker:
    """Collects problems while reading one TOML table."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        # every case this file declares, valid or not: (slug, title, its `related`), so that
        # a shared slug and a related case are checked in the same run as everything else
        self.declared: list[tuple[str, str, list[Any]]] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def table(
        self, data: dict[str, Any], schema: dict[str, tuple[tuple[type, ...], str]], prefix: str
    ) -> dict[str, Any]:
        """Type-check `data` against `schema`; returns only the well-typed known keys."""
        good: dict[str, Any] = {}
        for key, value in data.items():
            where = f"{prefix}.{key}" if prefix else key
            if key not in schema:
                self.add(where, _hint(key, list(schema)))
                continue
            types, name = schema[key]
            is_bool = isinstance(value, bool)
            if not isinstance(value, types) or (is_bool and bool not in types):
                self.add(where, f"{value!r} is not {name}")
                continue
            good[key] = value
        return good
