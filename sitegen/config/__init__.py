"""site.toml and case files -> a validated `Site`, with every problem reported at once.

Modelled on MkDocs' config schema: each key is checked, and all problems are collected and
raised together in one `ConfigError`, each naming the file, the key and the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .. import casecheck
from ..lessons import parse as parse_lessons

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

from ._cases import (
    AUTH_KEYS,
    ENV_NAME_RE,
    _case,
    _case_from_markdown,
    suggest_slug,
)
from ._model import (
    BURNED_IN,
    DEFAULT_DEID_OPTIONS,
    DEID_OPTIONS,
    FRAME_CODECS,
    MAX_PACK_MIB,
    OHIF_KEEP,
    OHIF_VERSIONS,
    SLUG_RE,
    UNKNOWN_TITLE,
    BuildSettings,
    Case,
    DeidSettings,
    Mask,
    OhifSettings,
    Site,
    SiteSettings,
)
from ._schema import (
    CASE_KEYS,
    SECTIONS,
    TOP_KEYS,
    ConfigError,
    Problem,
    _Checker,
    _hint,
    _label,
)
from ._settings import (
    _build_settings,
    _deid_settings,
    _ohif_settings,
    _site_settings,
    base_url_problem,
    normalize_base_url,
    site_url_problem,
)

__all__ = [
    "AUTH_KEYS",
    "BURNED_IN",
    "BuildSettings",
    "CASE_KEYS",
    "Case",
    "ConfigError",
    "DEFAULT_DEID_OPTIONS",
    "DEID_OPTIONS",
    "DeidSettings",
    "ENV_NAME_RE",
    "FRAME_CODECS",
    "MAX_PACK_MIB",
    "Mask",
    "OHIF_KEEP",
    "OHIF_VERSIONS",
    "OhifSettings",
    "Problem",
    "SECTIONS",
    "SLUG_RE",
    "Site",
    "SiteSettings",
    "TOP_KEYS",
    "UNKNOWN_TITLE",
    "base_url_problem",
    "normalize_base_url",
    "site_url_problem",
    "suggest_slug",
]


def load_config(path: str | Path) -> Site:
    """Read and validate a site configuration; raises ConfigError listing every problem."""
    config_file = Path(path).resolve()
    label = _label(config_file)
    if not config_file.is_file():
        hint = "no such file (sitegen new FOLDER makes a site to start from)"
        raise ConfigError([Problem(label, "", hint)])
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(label, "", f"not valid TOML: {exc}")]) from None
    return parse_config(data, config_file)


def parse_config(data: dict[str, Any], config_file: Path) -> Site:
    """Validate parsed TOML (plus cases/*/case.md beside it) into a Site."""
    root = config_file.parent
    chk = _Checker(_label(config_file))
    for key in data:
        if key not in TOP_KEYS:
            chk.add(key, _hint(key, TOP_KEYS))
    sections: dict[str, dict[str, Any]] = {}
    for name, schema in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            chk.add(name, "must be a table, e.g. [" + name + "]")
            raw = {}
        sections[name] = chk.table(raw, schema, name)

    site = _site_settings(sections["site"], chk)
    build = _build_settings(sections["build"], chk)
    deid = _deid_settings(sections["deid"], chk)
    ohif = _ohif_settings(sections["ohif"], chk, root)
    if build.pack and ohif.enabled:  # packed: OHIF has no frame files, only Part 10 files
        if not build.downloads:
            chk.add(
                "build.pack",
                "with [ohif] enabled needs [build] downloads = true: OHIF "
                "reads the pixels from the Part 10 files when the frames are packed",
            )
        elif ohif.data_source == "dicomweb":
            chk.add(
                "ohif.data_source",
                '"dicomweb" finds no frame files when [build] pack is '
                'set: use "auto" (OHIF opens the Part 10 files over DICOM JSON)',
            )

    raw_cases = data.get("cases", [])
    if not isinstance(raw_cases, list):
        chk.add("cases", "must be an array of tables: [[cases]]")
        raw_cases = []
    cases: list[Case] = []
    problems = list(chk.problems)
    checkers: list[_Checker] = []
    for i, raw in enumerate(raw_cases):
        c = _Checker(chk.file)
        checkers.append(c)
        if not isinstance(raw, dict):
            c.add(f"cases[{i}]", "must be a table")
        else:
            case = _case(raw, f"cases[{i}]", c, root, config_file, slug=None)
            if case is not None:
                cases.append(case)
        problems += c.problems
    for case_md in sorted((root / "cases").glob("*/case.md")):
        c = _Checker(_label(case_md))
        checkers.append(c)
        case = _case_from_markdown(case_md, c, root)
        if case is not None:
            cases.append(case)
        problems += c.problems

    seen: dict[str, tuple[str, str]] = {}  # slug -> (file, title) of the first to declare it
    links: dict[str, list[Any]] = {}
    files: dict[str, str] = {}
    for c in checkers:
        for slug, title, names in c.declared:
            if slug in seen:
                first_file, first_title = seen[slug]
                also = f"the case in {first_file}" if first_file != c.file else "another case"
                problems.append(
                    Problem(
                        c.file,
                        "slug",
                        f'"{slug}" is also the slug of {also} ("{first_title}"): '
                        "each case needs its own",
                    )
                )
                continue
            seen[slug] = (c.file, title)
            links[slug], files[slug] = names, c.file
    for slug, key, message in casecheck.related(links, list(links)):
        problems.append(Problem(files[slug], key, f'case "{slug}": {message}'))
    lesson_problems = _Checker(chk.file)
    lessons = parse_lessons(data.get("lessons"), list(links), lesson_problems.add)
    problems += lesson_problems.problems
    if problems:
        raise ConfigError(problems)
    return Site(root, config_file, site, build, deid, ohif, tuple(cases), lessons)
