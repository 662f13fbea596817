"""[[cases]] in site.toml and cases/*/case.md: one `Case` each."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

from .. import casecheck
from ..sources._dicomweb_url import looks_like_url, parse_dicomweb_url
from ._model import BURNED_IN, SLUG_RE, Case, Mask
from ._schema import CASE_KEYS, _Checker, _hint, _label

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib


def suggest_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "case"


def _case(
    raw: dict[str, Any], prefix: str, chk: _Checker, root: Path, file: Path, slug: str | None
) -> Case | None:
    """Validate one case table. `slug` is given for case.md files (the folder name)."""
    schema = {k: v for k, v in CASE_KEYS.items() if not (slug and k == "slug")}
    good = chk.table(raw, schema, prefix)
    prefix = prefix + "." if prefix else ""
    n_before = len(chk.problems)
    slug = slug if slug is not None else good.get("slug")
    if slug is None:
        if "slug" not in raw:
            chk.add(f"{prefix}slug", "required: lowercase letters, digits and '-'")
    elif not SLUG_RE.match(slug):
        chk.add(
            f"{prefix}slug",
            f'"{slug}": use lowercase letters, digits and \'-\' (e.g. "{suggest_slug(slug)}")',
        )
    if isinstance(slug, str):
        title = good.get("title", "")
        chk.declared.append(
            (slug, title if isinstance(title, str) else "", good.get("related", []))
        )
    if "title" not in raw:
        chk.add(f"{prefix}title", "required")
    source = good.get("source")
    if source is None and "source" not in raw:
        chk.add(f"{prefix}source", "required: a folder, file, .zip, DICOMDIR or sample:NAME")
    elif source is not None:
        _check_source(source, f"{prefix}source", chk, root)
    burned = good.get("burned_in", "")
    if burned and burned not in BURNED_IN:
        chk.add(f"{prefix}burned_in", f'"{burned}" must be one of {", ".join(BURNED_IN)}')
    tags = good.get("tags", [])
    if not all(isinstance(t, str) for t in tags):
        chk.add(f"{prefix}tags", "must be a list of strings")
        tags = []
    masks = _masks(good.get("masks", []), f"{prefix}masks", chk)
    annotations = good.get("annotations", [])
    if not all(isinstance(a, dict) for a in annotations):
        chk.add(f"{prefix}annotations", "must be a list of tables")
        annotations = []
    casecheck.problems(good.get("view", {}), annotations, prefix, chk.add)
    questions = good.get("questions", [])
    if not all(isinstance(q, dict) for q in questions):
        chk.add(f"{prefix}questions", "must be a list of tables")
        questions = []
    for n, q in enumerate(questions):
        casecheck.question(q, f"{prefix}questions[{n}]", chk.add)
    references = [
        casecheck.reference(r, f"{prefix}references[{n}]", chk.add)
        for n, r in enumerate(good.get("references", []))
    ]
    added = good.get("added", "")
    if isinstance(added, dt.date):
        added = added.isoformat()[:10]
    elif added and not re.match(r"^\d{4}-\d{2}-\d{2}$", added):
        chk.add(f"{prefix}added", f'"{added}" is not a date: write it as 2026-11-30')
        added = ""
    studies = good.get("studies", [])
    for n, study in enumerate(studies):
        casecheck.study_note(study, f"{prefix}studies[{n}]", chk.add)
    auth = good.get("auth", {})
    _check_auth(auth, f"{prefix}auth", chk, root, source)
    stack = good.get("stack", {})
    every, slab = stack.get("every", 1), stack.get("slab", 1)
    if (
        len(stack) > 1
        or set(stack) - {"every", "slab"}
        or any(isinstance(n, bool) or not isinstance(n, int) for n in (every, slab))
    ):
        chk.add(
            f"{prefix}stack",
            "must be { every = N } (every Nth slice) or { slab = N } (the mean of each N)",
        )
    else:
        for key, n in (("every", every), ("slab", slab)):
            if not 1 <= n <= 100:
                chk.add(f"{prefix}stack.{key}", f"{n} must be from 1 (every slice) to 100")
    if len(chk.problems) != n_before or slug is None or source is None:
        return None
    label = _label(file)
    return Case(
        slug=slug,
        title=good["title"],
        source=source,
        file=label,
        history=good.get("history", ""),
        findings=good.get("findings", ""),
        diagnosis=good.get("diagnosis", ""),
        discussion=good.get("discussion", ""),
        tags=tuple(tags),
        unknown=good.get("unknown", False),
        view=good.get("view", {}),
        annotations=tuple(annotations),
        questions=tuple(questions),
        references=tuple(r for r in references if r is not None),
        related=tuple(good.get("related", [])),
        studies=tuple(studies),
        added=added,
        auth={k: str(v) for k, v in auth.items()},
        burned_in=burned,
        masks=masks,
        study_description=good.get("study_description", ""),
        stack_every=every,
        stack_slab=slab,
    )


def _check_source(source: str, key: str, chk: _Checker, root: Path) -> None:
    if source.startswith("sample:"):
        from ..sources.sample import sample_names

        name = source.removeprefix("sample:")
        if name not in sample_names():
            chk.add(key, f'"{source}": unknown sample; known: {", ".join(sample_names())}')
    elif looks_like_url(source):
        try:
            parse_dicomweb_url(source)
        except ValueError as exc:
            chk.add(key, f'"{source}": {exc}')
    elif not (root / source).exists():
        chk.add(key, f'"{source}": no such file or folder')


AUTH_KEYS = ("bearer_env", "basic_user_env", "basic_password_env", "ca_bundle")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_auth(auth: dict[str, Any], key: str, chk: _Checker, root: Path, source: Any) -> None:
    """The auth table names environment variables (never the secrets themselves)."""
    for name, value in auth.items():
        if name not in AUTH_KEYS:
            chk.add(f"{key}.{name}", _hint(name, list(AUTH_KEYS)))
        elif not isinstance(value, str) or not value:
            chk.add(f"{key}.{name}", "must be a non-empty string")
        elif name == "ca_bundle":
            if not (root / value).is_file():
                chk.add(f"{key}.{name}", f'"{value}": no such file')
        elif not ENV_NAME_RE.match(value):
            # do not echo it: it may be the secret pasted in by mistake
            chk.add(f"{key}.{name}", "must name an environment variable (letters, digits, _)")
    if auth.get("bearer_env") and (auth.get("basic_user_env") or auth.get("basic_password_env")):
        chk.add(key, "use either bearer_env or basic_user_env + basic_password_env, not both")
    elif bool(auth.get("basic_user_env")) != bool(auth.get("basic_password_env")):
        chk.add(key, "basic_user_env and basic_password_env go together")
    if auth and isinstance(source, str) and not looks_like_url(source):
        chk.add(key, "only DICOMweb (URL) sources take auth")


def _masks(raw: list[Any], key: str, chk: _Checker) -> tuple[Mask, ...]:
    masks = []
    for i, m in enumerate(raw):
        rect = m.get("rect") if isinstance(m, dict) else None
        series = m.get("series", 0) if isinstance(m, dict) else None
        if (
            not isinstance(rect, list)
            or len(rect) != 4
            or not all(isinstance(v, int) and v >= 0 for v in rect)
            or not isinstance(series, int)
        ):
            chk.add(f"{key}[{i}]", "must be { series = N, rect = [x, y, width, height] }")
            continue
        masks.append(Mask(series, (rect[0], rect[1], rect[2], rect[3])))
    return tuple(masks)


def _case_from_markdown(case_md: Path, chk: _Checker, root: Path) -> Case | None:
    """cases/<slug>/case.md: TOML front matter between +++ lines, Markdown body = discussion."""
    text = case_md.read_text(encoding="utf-8")
    match = re.match(r"^\+\+\+\s*\n(.*?)\n\+\+\+\s*(?:\n|$)(.*)$", text, re.S)
    if not match:
        chk.add("", "must start with TOML front matter between +++ lines")
        return None
    try:
        front = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        before = text[: match.start(1)].count("\n")  # the +++ line: tomllib counts from 1
        where = re.sub(
            r"\(at line (\d+)", lambda m: f"(at line {int(m.group(1)) + before}", str(exc)
        )
        chk.add("", f"front matter is not valid TOML: {where}")
        return None
    body = match.group(2).strip()
    if body and "discussion" not in front:
        front["discussion"] = body
    folder = case_md.parent
    if "source" not in front:
        front["source"] = str(folder.relative_to(root))
    return _case(front, "", chk, root, case_md, slug=folder.name)
