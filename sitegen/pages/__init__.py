"""The site's own pages: the case gallery, one page per case, 404, and the gallery's index.

Jinja2 with autoescape on renders every author and DICOM string as text; case text goes through
`sitegen.text.markdown_html` (raw HTML off) and is the only markup marked safe. Pages carry no
inline script or style, so they pass the same Content-Security-Policy as the viewer. Links are
absolute paths under `base_url` (404.html is served at any depth, so relative links would
break there); Open Graph URLs are absolute when `[site] url` is set.
"""

from __future__ import annotations

import hashlib
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup

from .. import __version__, _json
from ..cards import KeyImage, key_image, render_card
from ..config import Site
from ..faults import is_resource_error, reason
from ..hosts import CSP, absolute_root
from ..model import Study
from ..text import markdown_html
from ._views import CaseView, case_view, link_cases, plain_excerpt

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
