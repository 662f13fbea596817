"""Lessons: ordered collections of a site's cases, each with a page of its own.

    [[lessons]]
    slug = "chest-basics"
    title = "Chest CT basics"
    description = "Markdown: what the lesson teaches."
    cases = ["lung-nodule", "head-mr"]

Read here from the parsed site.toml (config.py calls `parse`), with every problem reported
at once like the rest of the configuration.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEYS = ("slug", "title", "description", "cases")


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    description: str
    cases: tuple[str, ...]  # case slugs, in the lesson's order


def _hint(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def parse(raw: Any, case_slugs: list[str], add: Callable[[str, str], None]) -> tuple[Lesson, ...]:
    """The `[[lessons]]` tables; problems go to `add(key, message)`."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        add("lessons", "must be an array of tables: [[lessons]]")
        return ()
    lessons: list[Lesson] = []
    seen: set[str] = set()
    for n, table in enumerate(raw):
        key = f"lessons[{n}]"
        ok = True
        for name in table:
            if name not in KEYS:
                add(f"{key}.{name}", f"unknown key{_hint(name, list(KEYS))}")
                ok = False
        slug, title = table.get("slug"), table.get("title")
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            add(f"{key}.slug", "required: lowercase letters, digits and '-'")
            ok = False
        elif slug in seen:
            add(f"{key}.slug", f'"{slug}" is the slug of another lesson')
            ok = False
        if not isinstance(title, str) or not title.strip():
            add(f"{key}.title", "required: the lesson's title")
            ok = False
        description = table.get("description", "")
        if not isinstance(description, str):
            add(f"{key}.description", "must be text (Markdown)")
            ok = False
        cases = table.get("cases")
        if not isinstance(cases, list) or not cases:
            add(f"{key}.cases", "required: the slugs of its cases, in order")
            ok = False
            cases = []
        for m, case in enumerate(cases):
            if not isinstance(case, str) or case not in case_slugs:
                hint = _hint(str(case), case_slugs)
                add(f"{key}.cases[{m}]", f'"{case}" is no case of this site{hint}')
                ok = False
        if len(set(map(str, cases))) != len(cases):
            add(f"{key}.cases", "names a case twice")
            ok = False
        if ok:
            seen.add(slug)
            lessons.append(Lesson(slug, title, description, tuple(cases)))
    return tuple(lessons)
