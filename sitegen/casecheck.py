"""A case's `view` and `annotations`, checked as the viewer will read them.

The viewer ignores what it cannot use (series 0, a window it has no preset for, a square), so
a mistake here would show nothing and say nothing. `problems` checks what the configuration
alone can tell, reported with every other configuration error; `beyond_series` checks the
numbers against the series the build read, as warnings naming the case and key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from .presets import PRESETS

VIEW_KEYS = ("series", "slice", "window")
ANNOTATION_KEYS = ("series", "slice", "shape", "points", "label", "reveal")
QUESTION_KEYS = ("prompt", "options", "answer", "explanations", "model")
SHAPES = {"arrow": (1, 2), "circle": (2, 2), "text": (1, 1)}  # shape: (min, max) points
PRESET_NAMES = sorted({name for presets in PRESETS.values() for name, _, _ in presets})

Add = Callable[[str, str], None]


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _number(value: Any, key: str, add: Add) -> int | None:
    """A 1-based series or slice number."""
    if isinstance(value, bool) or not isinstance(value, int):
        add(key, f"{value!r} is not a whole number (1 is the first)")
        return None
    if value < 1:
        add(key, f"{value} must be 1 or more (1 is the first)")
        return None
    return value


def _window(value: Any, key: str, add: Add) -> None:
    """A preset name, "width,center" or [width, center] (a positive width)."""
    parts = value.split(",") if isinstance(value, str) and "," in value else value
    if isinstance(parts, str):
        name = parts.strip().lower()
        if name not in PRESET_NAMES and difflib.get_close_matches(name, PRESET_NAMES, cutoff=0.6):
            add(key, f'"{value}" is not a window preset{_did_you_mean(name, PRESET_NAMES)}')
        return  # another name: the data's own presets may have it (checked after reading)
    try:
        width, _center = (float(v) for v in parts)
    except (TypeError, ValueError):
        add(key, f'{value!r}: use a preset name ("lung"), "width,center" or [width, center]')
        return
    if width <= 0:
        add(key, f"{value!r}: the width must be more than 0")


def problems(
    view: dict[str, Any], annotations: list[dict[str, Any]], prefix: str, add: Add
) -> None:
    """Report every problem of a case's view and annotations through `add(key, message)`."""
    for key in view:
        if key not in VIEW_KEYS:
            add(f"{prefix}view.{key}", f"unknown key{_did_you_mean(key, list(VIEW_KEYS))}")
    for key in ("series", "slice"):
        if key in view:
            _number(view[key], f"{prefix}view.{key}", add)
    if "window" in view:
        _window(view["window"], f"{prefix}view.window", add)
    for n, a in enumerate(annotations):
        _annotation(a, f"{prefix}annotations[{n}]", add)


def _annotation(a: dict[str, Any], key: str, add: Add) -> None:
    for name in a:
        if name not in ANNOTATION_KEYS:
            add(f"{key}.{name}", f"unknown key{_did_you_mean(name, list(ANNOTATION_KEYS))}")
    for name in ("series", "slice"):  # optional: series 1; without a slice, on every slice
        if name in a:
            _number(a[name], f"{key}.{name}", add)
    shape = a.get("shape", "arrow")
    if shape not in SHAPES:
        add(f"{key}.shape", f'"{shape}" is not a shape ({", ".join(SHAPES)})'
            + _did_you_mean(str(shape), list(SHAPES)))  # fmt: skip
        shape = None
    points = a.get("points")
    if not isinstance(points, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p) for p in points
    ):
        add(f"{key}.points", "must be a list of [x, y] pixel coordinates")
    elif shape is not None:
        low, high = SHAPES[shape]
        if not low <= len(points) <= high:
            want = f"{low}" if low == high else f"{low} or {high}"
            add(
                f"{key}.points",
                f"a {shape} takes {want} point{'s' * (high > 1)}, not {len(points)}",
            )
    if "label" in a and not isinstance(a["label"], str):
        add(f"{key}.label", f"{a['label']!r} is not text: write it in quotes")
    if shape == "text" and not a.get("label"):
        add(f"{key}.label", "required for a text annotation: the text it shows")
    if "reveal" in a and not isinstance(a["reveal"], bool):
        add(f"{key}.reveal", f"{a['reveal']!r} is not true or false")


def question(q: dict[str, Any], key: str, add: Add) -> None:
    """A multiple-choice question (`options`, the 1-based `answer`, optional `explanations`,
    one per option) or a free-text one (no options; an optional `model` answer)."""
    for name in q:
        if name not in QUESTION_KEYS:
            add(f"{key}.{name}", f"unknown key{_did_you_mean(name, list(QUESTION_KEYS))}")
    if not isinstance(q.get("prompt"), str) or not q.get("prompt", "").strip():
        add(f"{key}.prompt", "required: the question, as text")
    for name in ("model",):
        if name in q and not isinstance(q[name], str):
            add(f"{key}.{name}", f"{q[name]!r} is not text")
    if "options" not in q:
        for name in ("answer", "explanations"):
            if name in q:
                add(f"{key}.{name}", "only for a question with options")
        return
    options = q["options"]
    if (
        not isinstance(options, list)
        or len(options) < 2
        or not all(isinstance(o, str) and o.strip() for o in options)
    ):
        add(f"{key}.options", "must be a list of two or more answers, as text")
        return
    if "model" in q:
        add(f"{key}.model", "only for a free-text question (no options): explain with explanations")
    answer = q.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= len(options):
        add(f"{key}.answer", f"required: the number of the right option, 1 to {len(options)}")
    explanations = q.get("explanations", [])
    if not isinstance(explanations, list) or not all(isinstance(e, str) for e in explanations):
        add(f"{key}.explanations", "must be a list of texts, one per option")
    elif explanations and len(explanations) != len(options):
        add(f"{key}.explanations", f"{len(explanations)} for {len(options)} options: one each")


DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
REFERENCE_KEYS = ("text", "doi", "pmid", "url")


def reference(ref: Any, key: str, add: Add) -> dict[str, str] | None:
    """A reference: a citation as text, or { text, doi, pmid, url } (the identifiers become
    links); the normalised table, or None when it is wrong."""
    if isinstance(ref, str):
        ref = {"text": ref}
    if not isinstance(ref, dict):
        add(key, "must be a citation as text or { text, doi, pmid, url }")
        return None
    ok = True
    for name in ref:
        if name not in REFERENCE_KEYS:
            add(f"{key}.{name}", f"unknown key{_did_you_mean(name, list(REFERENCE_KEYS))}")
            ok = False
    if not isinstance(ref.get("text"), str) or not ref.get("text", "").strip():
        add(f"{key}.text", "required: the citation, as text")
        ok = False
    checks = {
        "doi": (lambda v: bool(DOI_RE.match(v)), 'a DOI such as "10.1148/radiol.2017161659"'),
        "pmid": (str.isdigit, "a PubMed ID: digits only"),
        "url": (lambda v: v.startswith(("https://", "http://")) and " " not in v, "an http(s) URL"),
    }
    for name, (valid, what) in checks.items():
        if name in ref and not (isinstance(ref[name], str) and valid(ref[name])):
            add(f"{key}.{name}", f"{ref[name]!r} is not {what}")
            ok = False
    return {k: v.strip() for k, v in ref.items()} if ok else None


def related(slugs: dict[str, list[Any]], known: list[str]) -> list[tuple[str, str, str]]:
    """(slug, key, message) for every `related` entry that names no case of the site."""
    out = []
    for slug, names in slugs.items():
        for n, name in enumerate(names):
            if not isinstance(name, str) or name not in known:
                hint = _did_you_mean(str(name), known)
                out.append((slug, f"related[{n}]", f'"{name}" is no case of this site{hint}'))
            elif name == slug:
                out.append((slug, f"related[{n}]", "a case cannot be related to itself"))
    return out


def study_note(note: Any, key: str, add: Add) -> None:
    """What the case says of one of its studies, in date order: { label, findings }."""
    if not isinstance(note, dict):
        add(key, 'must be a table: { label = "...", findings = "..." }')
        return
    for name, value in note.items():
        if name not in ("label", "findings"):
            add(f"{key}.{name}", f"unknown key{_did_you_mean(name, ['label', 'findings'])}")
        elif not isinstance(value, str):
            add(f"{key}.{name}", f"{value!r} is not text")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def beyond_series(
    view: dict[str, Any],
    annotations: tuple[dict[str, Any], ...],
    frames: list[int],
    windows: list[list[str]],
) -> list[str]:
    """What the case's numbers point past, once the series are known: `frames[i]` and
    `windows[i]` are series i+1's slice count and window names (the viewer's presets)."""
    out: list[str] = []

    def check(key: str, series: Any, slice_: Any) -> None:
        if not isinstance(series, int) or isinstance(series, bool) or series < 1:
            return
        if series > len(frames):
            out.append(f"{key}: series {series}, but the case has {len(frames)} series")
            return
        if isinstance(slice_, int) and not isinstance(slice_, bool) and slice_ > frames[series - 1]:
            out.append(
                f"{key}: slice {slice_}, but series {series} has {frames[series - 1]} slices"
            )

    if view:
        check("view", view.get("series", 1), view.get("slice"))
        name = view.get("window")
        if isinstance(name, str) and "," not in name:
            series = view.get("series", 1)
            known = (
                windows[series - 1]
                if isinstance(series, int) and 1 <= series <= len(windows)
                else []
            )
            if name.strip().lower() not in [w.lower() for w in known]:
                out.append(
                    f'view.window: "{name}" is none of the series\' windows ({", ".join(known)})'
                    + _did_you_mean(name.strip().lower(), [w.lower() for w in known])
                )
    for n, a in enumerate(annotations):
        check(f"annotations[{n}]", a.get("series"), a.get("slice"))
    return out
