"""What a page shows, prepared from the site and the published studies: one view per series,
study and case (the templates only lay them out), the search text, the related cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .. import presentation
from ..attrs import first
from ..cards import view_series
from ..config import Case, Site
from ..hosts import absolute_root
from ..lessons import Lesson
from ..model import Study, series_dir
from ..text import markdown_html, references_html
from ..writers.manifest import answer_path


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
