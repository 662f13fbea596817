"""The site's own pages: the case gallery, one page per case, 404, and the gallery's index.

Jinja2 with autoescape on renders every author and DICOM string as text; case text goes through
`sitegen.text.markdown_html` (raw HTML off) and is the only markup marked safe. Pages carry no
inline script or style, so they pass the same Content-Security-Policy as the viewer. Links are
absolute paths under `base_url` (404.html is served at any depth, so relative links would
break there); Open Graph URLs are absolute when `[site] url` is set.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from .. import __version__, _json, presentation
from ..attrs import first
from ..cards import KeyImage, key_image, render_card, view_series
from ..config import Case, Site
from ..faults import is_resource_error, reason
from ..hosts import CSP, absolute_root
from ..lessons import Lesson
from ..model import Study, series_dir
from ..text import markdown_html, references_html
from ..writers.manifest import answer_path

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


class _TemplateCache(FileSystemBytecodeCache):
    """Jinja's compiled templates in the user's temporary folder (keyed by each template's
    source): compiling them is most of a text edit's pages stage. A folder that cannot be
    written only means compiling again."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _template_cache() -> FileSystemBytecodeCache | None:
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):  # no temporary folder of our own
        return None


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_template_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def own_text() -> str:
    """The fixed text sitegen writes into every site whatever its inputs (page templates, page
    assets, the viewer's files), lowercased. A canary found inside it proves nothing (a patient
    named "Viewer" collides with every "Open viewer" link), so the sweep can leave it out."""
    folders = [TEMPLATES, STATIC, HERE.parent / "viewer" / "static"]
    texts = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    texts.append(path.read_text(encoding="utf-8", errors="ignore").lower())
    return "\n".join(texts)


def _first(meta: dict[str, Any], tag: str) -> str:
    return str(first(meta, tag, ""))


def human_size(n: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as file managers show them)."""
    if n < 1000:
        return f"{n} bytes"
    size, units = n / 1000, ["KB", "MB", "GB"]
    while size >= 1000 and len(units) > 1:
        size, units = size / 1000, units[1:]
    return f"{size:.1f} {units[0]}"


def plain_excerpt(text: str, limit: int = 200) -> str:
    """One line of plain text for descriptions (Markdown marks are kept: it is only a hint)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def embed_snippet(src: str, title: str) -> str:
    """The iframe markup authors paste elsewhere (escaped here for its own attributes; the
    template escapes it again to show it as text)."""
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="960" height="640" '
        'style="border:0;max-width:100%" allow="fullscreen" loading="lazy"></iframe>'
    )


@dataclass
class SeriesView:
    number: int
    modality: str
    description: str
    frames: int
    thumbnail: str
    viewer: str


@dataclass
class StudyView:
    """One study on a case's timeline: when (relative to the first), what the case says."""

    when: str
    label: str
    description: str
    series: list[SeriesView]
    findings: Markup


@dataclass
class CaseView:
    """What the templates show of one case; `public_title` is safe to show before reveal."""

    case: Case
    url: str
    public_title: str
    modalities: list[str]
    series: list[SeriesView]
    viewer: str
    embed: str
    embed_snippet: str
    card: str
    abs_url: str
    description: str
    downloads: list[tuple[str, str, str]] = field(default_factory=list)  # url, label, size
    ohif: str = ""  # "Open in OHIF" for the case's first study, when OHIF is installed
    relative: bool = False  # no [site] url: the embed snippet works on this site only
    browser_zip: tuple[str, str] | None = None  # (list URL, size): the zip made in the browser
    answer: str = ""  # a quiz case: the URL of what it hides until Reveal
    related: list[tuple[str, str]] = field(default_factory=list)  # (public title, URL)
    previous: tuple[str, str] | None = None  # (public title, URL), in the site's order
    next: tuple[str, str] | None = None
    lessons: list[tuple[str, str, int, int]] = field(default_factory=list)  # title, URL, n, of
    presentation: str = ""  # "45-year-old woman", when de-identification kept age and sex
    timeline: list[StudyView] = field(default_factory=list)  # several studies, in date order
    html: dict[str, Markup] = field(default_factory=dict)

    @property
    def public_tags(self) -> list[str]:
        """The tags shown before Reveal: none for a quiz case (they would give it away)."""
        return [] if self.case.unknown else list(self.case.tags)

    @property
    def thumbnail(self) -> str:
        pick = self.case.view.get("series", 1)
        index = pick - 1 if isinstance(pick, int) and 1 <= pick <= len(self.series) else 0
        return self.series[index].thumbnail if self.series else ""

    def search_entry(self) -> dict[str, Any]:
        """The gallery's index entry; nothing an unknown case hides before reveal."""
        c = self.case
        words = [self.public_title, *self.modalities, c.history]
        if not c.unknown:
            words += [*c.tags, c.findings, c.diagnosis, c.discussion]
        return {
            "slug": c.slug,
            "title": self.public_title,
            "tags": self.public_tags,
            "modalities": self.modalities,
            "added": c.added,
            "text": search_text(words),
        }


SEARCH_TEXT_CHARS = 4000  # per case: the gallery loads every case's entry at once


def search_text(parts: list[str]) -> str:
    """What the gallery's search matches: each word once, lower-cased, in order, at most
    SEARCH_TEXT_CHARS (a 10 MB case text must not become a 10 MB search index)."""
    seen: dict[str, None] = {}
    size = 0
    for word in " ".join(parts).lower().split():
        if word not in seen:
            size += len(word) + 1
            if size > SEARCH_TEXT_CHARS:
                break
            seen[word] = None
    return " ".join(seen)


def ohif_target(studies: list[Study], view: dict[str, Any]) -> tuple[str, str, str | None]:
    """(study, series, SOP instance) OHIF opens for a case: its view's series and slice (as
    sitegen's viewer counts them, 1-based in display order); the SOP instance only when
    the slice is a whole instance (a frame of a multi-frame has no UID of its own)."""
    picked = view_series(studies, view)
    assert picked is not None
    study, series = picked
    frames = [(i, n) for i in series.instances for n in range(1, i.frames + 1)]
    number = view.get("slice")
    if not isinstance(number, int) or not 1 <= number <= len(frames):
        return study.uid, series.uid, None
    instance, _ = frames[number - 1]
    return study.uid, series.uid, instance.sop_uid if instance.frames == 1 else None


def case_view(site: Site, case: Case, studies: list[Study], out: Path) -> CaseView:
    base, root = site.site.base_url, absolute_root(site)
    viewer = f"{base}viewer/?case={case.slug}"
    series = []
    per_study: list[list[SeriesView]] = []
    for study in studies:
        per_study.append([])
        for s in study.series:
            meta = s.instances[0].metadata
            n = len(series) + 1
            series.append(
                SeriesView(
                    number=n,
                    modality=_first(meta, "00080060"),
                    description=_first(meta, "0008103E"),
                    frames=s.frames,
                    thumbnail=f"{base}{series_dir(study.uid, s.uid)}/thumbnail",
                    viewer=f"{viewer}#s={n}",
                )
            )
            per_study[-1].append(series[-1])
    page = f"cases/{case.slug}/"
    title = case.public_title
    view = CaseView(
        case=case,
        url=base + page,
        public_title=title,
        modalities=sorted({s.modality for s in series if s.modality}),
        series=series,
        viewer=viewer,
        embed=f"{root or base}viewer/?case={case.slug}",
        embed_snippet=embed_snippet(f"{root or base}viewer/?case={case.slug}", title),
        card=f"{root or base}{page}card.png",
        abs_url=f"{root}{page}" if root else base + page,
        description=plain_excerpt(
            case.history or (not case.unknown and case.findings) or site.site.description
        ),
        relative=not root,
        answer=base + answer_path(case.slug) if case.unknown or case.questions else "",
    )
    if studies and (out / "ohif/index.html").is_file():
        from ..ohif import ohif_study_url

        view.ohif = base + ohif_study_url(site, *ohif_target(studies, case.view))
    parts = [
        p
        for p in (out / "downloads").glob(f"{case.slug}-*.zip")
        if p.stem.removeprefix(f"{case.slug}-").isdigit()  # not case "x-1"'s own zip
    ]
    parts.sort(key=lambda p: int(p.stem.removeprefix(f"{case.slug}-")))
    listing = out / "downloads" / f"{case.slug}.json"
    if listing.is_file():
        total = sum(f["bytes"] for f in json.loads(listing.read_bytes())["files"])
        view.browser_zip = (f"{base}downloads/{case.slug}.json", human_size(total))
    whole = out / "downloads" / f"{case.slug}.zip"
    for n, zip_file in enumerate([whole] if whole.is_file() else parts, start=1):
        label = "zip" if zip_file == whole else f"zip, part {n} of {len(parts)}"
        size = human_size(zip_file.stat().st_size)
        view.downloads.append((f"{base}downloads/{zip_file.name}", label, size))
    for name in ("history", "findings", "discussion"):
        view.html[name] = Markup(markdown_html(getattr(case, name)))
    view.html["references"] = Markup(references_html(case.references))
    view.timeline = timeline(case, studies, per_study)
    if studies:
        meta = studies[0].series[0].instances[0].metadata
        said = presentation.patient(_first(meta, "00101010"), _first(meta, "00100040"))
        view.presentation = said[:1].upper() + said[1:]
    return view


def timeline(case: Case, studies: list[Study], series: list[list[SeriesView]]) -> list[StudyView]:
    """A case's studies in date order, each with its place in time ("Day 0", "+3 months"),
    its series and what the case says of it (`studies = [{ label, findings }]`, in the same
    order; a quiz's findings wait for Reveal). Empty for a case of one study and no notes."""
    if len(studies) < 2 and not case.studies:
        return []
    dates = [_first(s.series[0].instances[0].metadata, "00080020") for s in studies]
    order = sorted(range(len(studies)), key=lambda i: (dates[i] or "~", i))
    whens = presentation.relative([dates[i] for i in order])
    views = []
    for k, i in enumerate(order):
        note = case.studies[k] if k < len(case.studies) else {}
        findings = "" if case.unknown else markdown_html(note.get("findings", ""))
        description = _first(studies[i].series[0].instances[0].metadata, "00081030")
        views.append(
            StudyView(whens[k], note.get("label", ""), description, series[i], Markup(findings))
        )
    return views


def write_lessons(
    site: Site, views: list[CaseView], env: Environment, common: dict[str, Any], out: Path
) -> None:
    """lessons/<slug>/index.html: a lesson's text and its cases' cards, in its order."""
    by_slug = {v.case.slug: v for v in views}
    for lesson in site.lessons:
        folder = out / "lessons" / lesson.slug
        folder.mkdir(parents=True, exist_ok=True)
        html = env.get_template("lesson.html").render(
            common,
            lesson=lesson,
            views=[by_slug[s] for s in lesson.cases if s in by_slug],
            description=plain_excerpt(lesson.description) or site.site.title,
            description_html=Markup(markdown_html(lesson.description)),
        )
        (folder / "index.html").write_text(html, encoding="utf-8")


def link_cases(views: list[CaseView], lessons: tuple[Lesson, ...] = ()) -> None:
    """Each case's related cases, and the previous and next case in the site's order, by
    their public titles (a quiz is "Unknown case" there too)."""
    by_slug = {v.case.slug: v for v in views}
    for n, view in enumerate(views):
        view.related = [
            (by_slug[s].public_title, by_slug[s].url) for s in view.case.related if s in by_slug
        ]
        if n > 0:
            view.previous = (views[n - 1].public_title, views[n - 1].url)
        if n + 1 < len(views):
            view.next = (views[n + 1].public_title, views[n + 1].url)
    base = views[0].url.removesuffix(f"cases/{views[0].case.slug}/") if views else "/"
    for lesson in lessons:
        for n, slug in enumerate(lesson.cases, start=1):
            if slug in by_slug:
                url = f"{base}lessons/{lesson.slug}/"
                by_slug[slug].lessons.append((lesson.title, url, n, len(lesson.cases)))


def _common(site: Site) -> dict[str, Any]:
    ohif_404 = ""
    if site.ohif.enabled:
        from ..ohif import prefix

        ohif_404 = f"{prefix(site.site.base_url)}sitegen-404.js"
    return {
        "ohif_404": ohif_404,
        "site": site.site,
        "base": site.site.base_url,
        "root": absolute_root(site),
        "csp": CSP,
        "version": __version__,
    }


class _CardCache:
    """Rendered cards by their inputs: a PNG encode costs ~70 ms, and a text edit elsewhere
    must not redraw every card. Keeps only the cards the last build used."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def get(self, image: KeyImage | None, *text: Any) -> bytes:
        digest = hashlib.sha256(f"{__version__}{text!r}".encode())
        if image is not None:
            digest.update(image.digest().encode())  # the frame is decoded on a miss only
        name = digest.hexdigest() + ".png"
        self.used.add(name)
        cached = self.folder / name if self.folder else None
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        data = render_card(image.draw() if image is not None else None, *text)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(data)
        return data

    def prune(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name not in self.used:
                    path.unlink(missing_ok=True)


def write_pages(
    site: Site, studies: list[Study], out: Path, card_cache: Path | None = None
) -> list[str]:
    """Write the gallery, the case pages with their cards, 404.html, data/search.json and the
    pages' assets into `out`; returns warnings (a case whose card could not be drawn)."""
    warnings: list[str] = []
    env = environment()
    common = _common(site)
    views = []
    for case in site.cases:
        mine = [s for s in studies if s.case == case.slug]
        views.append(case_view(site, case, mine, out))
    link_cases(views, site.lessons)

    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for item in STATIC.iterdir():
        if item.is_file():
            shutil.copyfile(item, assets / item.name)

    cards = _CardCache(card_cache)
    key_images = {}
    for view in views:
        folder = out / "cases" / view.case.slug
        folder.mkdir(parents=True, exist_ok=True)
        mine = [s for s in studies if s.case == view.case.slug]
        try:
            key_images[view.case.slug] = key_image(mine, out, view.case.view, 630)
        except (OSError, ValueError) as exc:
            warnings.append(f'case "{view.case.slug}": no key image for its card: {exc}')
        badges = view.modalities + view.public_tags[:3]
        text = (view.public_title, site.site.title, "", badges)
        image = key_images.get(view.case.slug)
        try:
            card = cards.get(image, *text)
        except Exception as exc:
            if image is None or is_resource_error(exc):
                raise
            warnings.append(
                f'{image.source}: case "{view.case.slug}": its key image could not be drawn '
                f"for the card ({reason(exc)}); the card has none"
            )
            key_images.pop(view.case.slug)
            card = cards.get(None, *text)
        (folder / "card.png").write_bytes(card)
        html = env.get_template("case.html").render(common, c=view, case=view.case)
        (folder / "index.html").write_text(html, encoding="utf-8")

    first = next(iter(key_images.values()), None)
    n = len(views)
    subtitle = site.site.description or f"{n} teaching case{'s' * (n != 1)}"
    (out / "card.png").write_bytes(cards.get(first, site.site.title, subtitle, "", []))
    cards.prune()

    tags = sorted({t for v in views for t in v.public_tags}, key=str.lower)
    modalities = sorted({m for v in views for m in v.modalities})
    gallery = env.get_template("index.html").render(
        common, cases=views, tags=tags, modalities=modalities, lessons=site.lessons
    )
    write_lessons(site, views, env, common, out)
    (out / "index.html").write_text(gallery, encoding="utf-8")
    (out / "404.html").write_text(env.get_template("404.html").render(common), encoding="utf-8")

    (out / "data").mkdir(parents=True, exist_ok=True)
    index = {"version": 1, "cases": [v.search_entry() for v in views]}
    (out / "data/search.json").write_text(_json.dumps(index), encoding="utf-8")
    return warnings
