"""Site pages: gallery, case pages, cards, search index; served under a sub-path in chromium."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import html5lib
import httpx
import pydicom
import pytest
from conftest import serving, write_site
from dicomgen import write_ct_series
from PIL import Image

from sitegen.build import build
from sitegen.config import Site, load_config, normalize_base_url
from sitegen.model import Study

KEY = b"sitegen-test-key-0123456789abcde"
HOSTILE_TITLE = """<script>alert('title')</script> "><img src=x onerror=alert('t2')>"""
HOSTILE_SERIES = """"><img src=x onerror=alert('se')><script>alert(2)</script>"""
SITE_BODY = """\
[build]
workers = 1
frames = "htj2k"

[deid]
key_file = ".sitegen/key"

[[cases]]
slug = "chest-trauma"
title = "Tension pneumothorax"
source = "cases/chest/dicom"
history = "Motorbike accident, *short of breath*."
findings = "Deep sulcus sign."
diagnosis = "Tension pneumothorax"
discussion = "Needle decompression first. See [guideline](https://example.org/g)."
tags = ["chest", "trauma"]
references = [
  "A plain citation.",
  { text = "Fleischner Society 2017", doi = "10.1148/radiol.2017161659", pmid = "28240562" },
]
related = ["brain-mr"]
questions = [
  { prompt = "Which sign is shown?", answer = 1, options = [
    "Deep sulcus sign", "Silhouette sign",
  ], explanations = [
    "Air collects *anteriorly* and basally.", "Consolidation beside a border.",
  ] },
  { prompt = "What do you do first?", model = "Needle decompression, then a drain." },
]

[[cases]]
slug = "brain-mr"
title = "Glioblastoma multiforme"
source = "cases/brain/dicom"
history = "Headache for three weeks."
findings = "Ring-enhancing mass."
diagnosis = "Glioblastoma"
discussion = "Butterfly pattern across the corpus callosum."
tags = ["neuro"]
unknown = true
references = [{ text = "Glioblastoma imaging review", doi = "10.1000/gbm.2020" }]
related = ["chest-trauma"]

[[cases]]
slug = "hostile"
title = '''<script>alert('title')</script> "><img src=x onerror=alert('t2')>'''
source = "cases/hostile/dicom"
history = '''<script>alert('history')</script> "><img src=x onerror=alert('h2')>'''
findings = '''[click me](javascript:alert('link')) and <a href="javascript:alert(9)">raw</a>'''
diagnosis = '''</details><script>alert('dx')</script>'''
discussion = '''<iframe src="javascript:alert('d')"></iframe> <img src=x onerror=alert('d2')>'''
tags = ["chest", "<b onmouseover=alert('tag')>bold</b>"]
study_description = '''"><svg onload=alert('sd')>'''

[[lessons]]
slug = "emergencies"
title = "Emergencies first"
description = "Two cases, *in order*."
cases = ["brain-mr", "chest-trauma"]
"""


def make_site(root: Path, body: str = SITE_BODY, url: str = "") -> Path:
    """Three cases (CT, MR, hostile CT) from generated series."""
    write_ct_series(root / "cases/chest/dicom", 3, seed="chest")
    write_ct_series(root / "cases/brain/dicom", 3, seed="brain")
    for path in (root / "cases/brain/dicom").iterdir():
        ds = pydicom.dcmread(path)
        ds.Modality = "MR"
        ds.save_as(path)
    write_ct_series(root / "cases/hostile/dicom", 2, seed="hostile")
    for path in (root / "cases/hostile/dicom").iterdir():
        ds = pydicom.dcmread(path)
        ds.SeriesDescription = HOSTILE_SERIES
        ds.save_as(path)
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    site_table = f'url = "{url}"\n' if url else ""
    config = write_site(root, body, title="Teaching <file> & co")
    text = config.read_text(encoding="utf-8").replace("[site]\n", "[site]\n" + site_table, 1)
    config.write_text(text, encoding="utf-8")
    return config


def with_base(site: Site, base_url: str) -> Site:
    settings = dataclasses.replace(site.site, base_url=normalize_base_url(base_url))
    return dataclasses.replace(site, site=settings)


STUB_VIEWER = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>viewer</title>'
    "</head><body><p>viewer stub</p></body></html>\n"
)


def build_site(
    root: Path, base_url: str = "/", url: str = "", body: str = SITE_BODY, deid: bool = False
) -> tuple[Site, Path]:
    """Build the test site (de-identification off, so hostile DICOM descriptions reach the
    pages); returns the site and its output folder. When the build installs no viewer, the
    real one is installed from the vendor cache, or a stub stands in."""
    site = with_base(load_config(make_site(root, body, url)), base_url)
    report = build(site, workers=1, deid=deid)
    assert report.published, report.errors
    out = site.out_path()
    if not (out / "viewer/index.html").is_file():
        try:  # the real viewer when its decoder is in the vendor cache, else a stub
            from sitegen.viewer import install_viewer

            install_viewer(out, offline=True)
        except Exception:
            (out / "viewer").mkdir(exist_ok=True)
            (out / "viewer/index.html").write_text(STUB_VIEWER, encoding="utf-8")
    return site, out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path]:
    return build_site(
        tmp_path_factory.mktemp("pages") / "site", "/teaching/", "https://cases.example.org/"
    )


def links_of(html: str, page_url: str) -> list[str]:
    """Every URL a page refers to (href, src), resolved; fragments dropped."""
    found = re.findall(r'(?:href|src)="([^"]*)"', html)
    urls = []
    for raw in found:
        value = raw.replace("&amp;", "&")
        if value.startswith(("data:", "mailto:")):
            continue
        urls.append(urljoin(page_url, value).split("#", 1)[0])
    return urls


def crawl(start: str) -> dict[str, int]:
    """Fetch every same-origin page and asset reachable from `start`; url -> status."""
    origin = urlsplit(start).netloc
    seen: dict[str, int] = {}
    queue = deque([start])
    with httpx.Client(follow_redirects=True, timeout=10) as client:
        while queue:
            url = queue.popleft()
            if url in seen or urlsplit(url).netloc != origin:
                continue
            response = client.get(url)
            seen[url] = response.status_code
            if response.headers.get("content-type", "").startswith("text/html"):
                queue.extend(links_of(response.text, url))
    return seen


# --- without a browser --------------------------------------------------------------------


@pytest.mark.parametrize("base_url", ["/", "/teaching/"])
def test_every_link_and_asset_resolves(tmp_path: Path, base_url: str) -> None:
    site, out = build_site(tmp_path / "site", base_url)
    with serving(out, base_url) as url:
        statuses = crawl(url)
    bad = {u: s for u, s in statuses.items() if s != 200}
    assert not bad
    pages = [u for u in statuses if u.endswith("/")]
    assert len(pages) >= 4  # gallery, three cases (and the viewer)
    assert any(u.endswith("/thumbnail") for u in statuses)
    assert all(urlsplit(u).path.startswith(base_url) for u in statuses)


def test_pages_validate_as_html5(built: tuple[Site, Path]) -> None:
    _, out = built
    pages = [out / "index.html", out / "404.html", *sorted(out.glob("cases/*/index.html"))]
    assert len(pages) == 5
    for page in pages:
        parser = html5lib.HTMLParser(strict=True)
        parser.parse(page.read_bytes())  # raises on the first parse error
        assert not parser.errors, page


def test_search_index_hides_unknown_cases(built: tuple[Site, Path]) -> None:
    _, out = built
    index = json.loads((out / "data/search.json").read_text(encoding="utf-8"))
    by_slug = {c["slug"]: c for c in index["cases"]}
    assert set(by_slug) == {"chest-trauma", "brain-mr", "hostile"}
    mystery = by_slug["brain-mr"]
    assert mystery["title"] == "Unknown case"
    assert "glioblastoma" not in json.dumps(mystery).lower()
    assert "butterfly" not in json.dumps(mystery).lower()
    assert by_slug["brain-mr"]["modalities"] == ["MR"]
    assert "tension pneumothorax" in by_slug["chest-trauma"]["text"]


def test_unknown_case_pages_hold_nothing_of_the_answer(built: tuple[Site, Path]) -> None:
    """A quiz case: its page, the gallery and the search index carry neither its title,
    tags, findings, diagnosis nor discussion; its answer file (fetched on Reveal) does."""
    _, out = built
    secrets = ("Glioblastoma", "Ring-enhancing", "Butterfly", "neuro")
    html = (out / "cases/brain-mr/index.html").read_text(encoding="utf-8")
    assert "<title>Unknown case" in html
    assert 'data-answer="/teaching/data/answers/brain-mr.json"' in html
    gallery = (out / "index.html").read_text(encoding="utf-8")
    search = (out / "data/search.json").read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in html and secret not in gallery, secret
        assert secret.lower() not in search.lower(), secret
    assert "Headache for three weeks" in html  # the history is the question
    assert "gbm.2020" not in html and "Related cases" not in html  # behind Reveal too
    answer = json.loads((out / "data/answers/brain-mr.json").read_text(encoding="utf-8"))
    assert answer["title"] == "Glioblastoma multiforme" and answer["tags"] == ["neuro"]
    assert "Ring-enhancing" in answer["findingsHtml"] and "Butterfly" in answer["discussionHtml"]
    assert 'href="https://doi.org/10.1000/gbm.2020"' in answer["referencesHtml"]
    assert answer["related"] == ["chest-trauma"]
    assert not (out / "data/answers/hostile.json").exists()  # nothing hidden there


def test_cards_and_open_graph_tags(built: tuple[Site, Path]) -> None:
    _, out = built
    for page in [out / "index.html", *out.glob("cases/*/index.html")]:
        html = page.read_text(encoding="utf-8")
        tags = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
        image = tags["og:image"]
        assert image == tags["twitter:image"]
        assert image.startswith("https://cases.example.org/teaching/")
        assert tags["og:url"].startswith("https://cases.example.org/teaching/")
        assert tags["twitter:card"] == "summary_large_image"
        local = out / image.removeprefix("https://cases.example.org/teaching/")
        with Image.open(local) as im:
            assert im.format == "PNG" and im.size == (1200, 630)
            assert im.getextrema() != ((17, 17), (20, 20), (24, 24))  # not just the background


def test_download_link_only_when_the_zip_exists(built: tuple[Site, Path]) -> None:
    site, out = built
    from sitegen.pages import write_pages

    studies: list[Study] = []  # no series: the pages still render
    scratch = out.parent / "scratch"
    (scratch / "downloads").mkdir(parents=True)
    (scratch / "downloads/chest-trauma.zip").write_bytes(b"x" * 2500)
    plain = dataclasses.replace(site, cases=site.cases[:2])
    assert write_pages(plain, studies, scratch)  # warns: no key image for the cards
    with_zip = (scratch / "cases/chest-trauma/index.html").read_text(encoding="utf-8")
    without = (scratch / "cases/brain-mr/index.html").read_text(encoding="utf-8")
    assert 'href="/teaching/downloads/chest-trauma.zip"' in with_zip
    assert "Download DICOM (zip, 2.5 KB)" in with_zip
    assert "downloads/" not in without


def test_cards_are_drawn_again_only_when_their_inputs_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card cache is keyed on the key frame's bytes and the card's text: a rebuild after a
    text edit decodes no frame; a new title redraws that one card only."""
    from sitegen.cards import KeyImage

    site, out = build_site(tmp_path / "site", "/sub/")
    cards = {p.relative_to(out): p.read_bytes() for p in out.rglob("card.png")}
    assert len(cards) == 4  # three cases and the site's own
    drawn: list[KeyImage] = []
    draw = KeyImage.draw
    monkeypatch.setattr(KeyImage, "draw", lambda self: drawn.append(self) or draw(self))

    config = tmp_path / "site/site.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("Deep sulcus sign.", "Deep sulcus sign, left."), "utf-8")
    assert build(load_config(config), workers=1).published
    assert drawn == []
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("card.png")} == cards

    config.write_text(text.replace("Tension pneumothorax", "Tension pneumothorax, left"), "utf-8")
    assert build(load_config(config), workers=1).published
    assert len(drawn) == 1
    changed = [p for p, data in cards.items() if (out / p).read_bytes() != data]
    assert changed == [Path("cases/chest-trauma/card.png")]


def test_no_absolute_urls_without_site_url(tmp_path: Path) -> None:
    _, out = build_site(tmp_path / "site", "/sub/")
    html = (out / "cases/chest-trauma/index.html").read_text(encoding="utf-8")
    assert 'property="og:image" content="/sub/cases/chest-trauma/card.png"' in html
    assert "https://" not in html.split("</head>")[0]
    assert not (out / "sitemap.xml").exists()


# --- in chromium ----------------------------------------------------------------------------


def visible_cards(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#cases li:not([hidden])", "items => items.map(li => li.dataset.slug)"
    )


def test_gallery_filters(browser: Any, built: tuple[Site, Path]) -> None:
    _, out = built
    with serving(out, "/teaching/") as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#filters:not([hidden])")
        assert sorted(visible_cards(page)) == ["brain-mr", "chest-trauma", "hostile"]

        page.fill("#q", "sulcus")
        assert visible_cards(page) == ["chest-trauma"]
        assert "q=sulcus" in page.url
        page.fill("#q", "glioblastoma")  # the unknown case's answer is not searchable
        assert visible_cards(page) == []
        assert page.is_visible("#empty")
        page.fill("#q", "")

        page.select_option("#modality", "MR")
        assert visible_cards(page) == ["brain-mr"]
        assert page.inner_text("#count") == "1 of 3 cases"
        page.select_option("#modality", "")

        page.check('input[name="tag"][value="chest"]')
        assert sorted(visible_cards(page)) == ["chest-trauma", "hostile"]
        page.check('input[name="tag"][value="trauma"]')
        assert visible_cards(page) == ["chest-trauma"]

        # a filtered gallery is a shareable link; tag links on case pages use it
        page.goto(url + "?tag=trauma")
        page.wait_for_selector("#filters:not([hidden])")
        assert visible_cards(page) == ["chest-trauma"]
        # a quiz case's tags would give it away: they are not among the filters
        assert page.locator('input[name="tag"][value="neuro"]').count() == 0
        page.close()


def test_case_page_reveal_and_embedded_viewer(browser: Any, built: tuple[Site, Path]) -> None:
    _, out = built
    with serving(out, "/teaching/") as url:
        page = browser.new_page()
        statuses: dict[str, int] = {}
        page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
        page.goto(url + "cases/brain-mr/")
        assert page.inner_text("h1") == "Unknown case"
        inner = page.frame_locator("iframe")
        inner.locator("#stage[data-rendered]").wait_for(state="attached")
        (viewer_frame,) = [f for f in page.frames if "/viewer/" in f.url]
        # nothing of the answer anywhere in either document before Reveal
        for secret in ("Glioblastoma", "Ring-enhancing", "Butterfly", "neuro"):
            assert secret not in page.content() and secret not in viewer_frame.content(), secret
        page.click("details.reveal summary")
        page.get_by_text("Glioblastoma multiforme").first.wait_for()
        assert page.is_visible("text=Butterfly pattern")
        assert page.is_visible("text=Ring-enhancing mass")
        assert page.is_visible("text=Glioblastoma imaging review")  # its references, now
        assert page.get_attribute("#answer a[href$='/cases/chest-trauma/']", "href")
        # one Reveal for both: the embedded viewer shows the answer too ...
        viewer_frame.wait_for_function(
            "() => document.getElementById('title').textContent === 'Glioblastoma multiforme'"
        )
        # ... and hiding it there closes the page's answer
        inner.locator("#btn-case").click()
        inner.locator("#btn-reveal").click()
        page.wait_for_function("() => !document.getElementById('reveal').open")
        assert inner.locator("#title").inner_text() == "Unknown case"

        frame = page.frame_locator("iframe").locator("body")
        frame.wait_for()
        viewer = url + "viewer/?case=brain-mr"
        assert statuses.get(viewer) == 200
        snippet = page.input_value("#embed-code")
        assert snippet.startswith(
            '<iframe src="https://cases.example.org/teaching/viewer/?case=brain-mr"'
        )
        assert (
            page.get_attribute("a:text('Open viewer')", "href") == "/teaching/viewer/?case=brain-mr"
        )
        page.close()


def test_every_page_loads_in_chromium(browser: Any, built: tuple[Site, Path]) -> None:
    """Crawl every page in the browser: no 4xx/5xx in the network log, no console error
    (a CSP violation is one), all images decoded."""
    _, out = built
    with serving(out, "/teaching/") as url:
        page = browser.new_page()
        failures: list[str] = []
        errors: list[str] = []
        page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: failures.append(f"failed {r.url}"))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        todo, seen = deque([url]), set()
        downloads: set[str] = set()
        while todo:
            target = todo.popleft()
            if target in seen:
                continue
            seen.add(target)
            page.goto(target)
            page.wait_for_load_state("networkidle")
            broken = page.evaluate(
                """() => Promise.all(Array.from(document.images).map(i => {
                  i.loading = "eager";
                  return i.decode().then(() => 0, () => 1);
                })).then(r => r.reduce((a, b) => a + b, 0))"""
            )
            assert broken == 0, target
            hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
            for href in hrefs:
                clean = href.split("#", 1)[0]
                if clean.endswith(".zip"):
                    downloads.add(clean)  # a download, not a page: fetched below
                elif clean.startswith(url) and "/viewer/" not in clean and "?" not in clean:
                    todo.append(clean)
        assert len(seen) >= 4
        for zip_url in downloads:
            response = page.request.get(zip_url)
            assert response.status == 200 and response.body()[:2] == b"PK", zip_url
        assert not failures
        assert not errors
        page.close()


def test_hostile_strings_are_inert(browser: Any, built: tuple[Site, Path]) -> None:
    _, out = built
    with serving(out, "/teaching/") as url:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in ("", "cases/hostile/", "?tag=chest"):
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            if path == "cases/hostile/":
                page.click("details.reveal summary")
                page.hover("h1")
            injected = page.evaluate(
                """() => ({
                  imgs: document.querySelectorAll('img[src="x"], img[onerror], svg').length,
                  scripts: Array.from(document.scripts).filter(s => !s.src).length,
                  js: document.querySelectorAll('[href^="javascript:"], [src^="javascript:"]')
                      .length,
                  bold: document.querySelectorAll('b[onmouseover], iframe[src^="javascript"]')
                      .length,
                })"""
            )
            assert injected == {"imgs": 0, "scripts": 0, "js": 0, "bold": 0}, path
        page.goto(url + "cases/hostile/")
        assert HOSTILE_TITLE in page.inner_text("h1")
        assert HOSTILE_SERIES in page.inner_text(".series")
        assert "<b onmouseover=alert('tag')>bold</b>" in page.inner_text(".case > .badges")
        assert dialogs == []
        page.close()


def test_a_huge_case_text_gives_a_bounded_search_entry() -> None:
    """A 10 MB case.md is not copied into search.json: each word once, at most 4,000
    characters, the first words kept in order."""
    from sitegen.pages._views import SEARCH_TEXT_CHARS, search_text

    words = [f"word{n}" for n in range(1_000_000)]
    text = search_text(["Rare finding", " ".join(words), "Rare finding again"])
    assert len(text) <= SEARCH_TEXT_CHARS
    assert text.startswith("rare finding word0 word1 ")
    assert text.count("rare") == 1


@pytest.mark.parametrize("zip64", [False, True])
def test_the_case_zip_made_in_the_browser(tmp_path: Path, browser: Any, zip64: bool) -> None:
    """[build] zips = "browser": no zip is published (the Part 10 bytes are there once); the
    case page's button fetches the case's Part 10 files and saves them as one zip, the same
    names and bytes as sitegen's own zip of them. With the limits of the classic fields
    lowered (a file over 1,000 bytes, more than 2 files), every zip64 record is written, and
    Python's zipfile reads it back the same."""
    import zipfile

    from dicomgen import write_ct_series

    from sitegen.build import build
    from sitegen.config import load_config

    root = tmp_path / "site"
    write_ct_series(root / "ct", 4)
    config = root / "site.toml"
    config.write_text(
        '[site]\ntitle = "T"\n[build]\nzips = "browser"\n'
        '[[cases]]\nslug = "c"\ntitle = "C"\nsource = "ct"\n'
    )
    assert build(load_config(config), workers=1).published
    out = root / "public"
    assert not list((out / "downloads").glob("*.zip"))
    listing = json.loads((out / "downloads/c.json").read_text())
    assert [f["name"] for f in listing["files"]] == [
        f"c/study1/series1-CT/{n:04d}.dcm" for n in range(1, 5)
    ]
    with serving(out, plain=True) as url:
        context = browser.new_context(accept_downloads=True)
        context.add_init_script("delete window.showSaveFilePicker;")  # the in-memory path
        if zip64:
            context.add_init_script("window.sitegenZipLimits = { bytes: 1000, files: 2 };")
        page = context.new_page()
        page.goto(url + "cases/c/")
        button = page.locator("button[data-zip]")
        assert button.is_visible() and "Download DICOM (zip," in button.inner_text()
        with page.expect_download() as info:
            button.click()
        saved = tmp_path / "saved.zip"
        info.value.save_as(saved)
        assert info.value.suggested_filename == "c.zip"
        context.close()
    with zipfile.ZipFile(saved) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == [f["name"] for f in listing["files"]]
        for entry in listing["files"]:
            assert zf.read(entry["name"]) == (out / entry["url"]).read_bytes()
        wide = [info for info in zf.infolist() if info.extra[:2] == b"\x01\x00"]
        assert len(wide) == (4 if zip64 else 0)  # every entry: its size and offset
    data = saved.read_bytes()
    assert (b"PK\x06\x06" in data and b"PK\x06\x07" in data) == zip64  # end record, locator


def test_a_quiz_cards_text_gives_nothing_away(built: tuple[Site, Path]) -> None:
    """The link-preview card of a quiz case, read back by OCR: "Unknown case", the modality,
    none of its title or tags (the other cards show theirs)."""
    import pytesseract

    from sitegen.deid import _ocr as ocr

    if not ocr.available()[0]:
        pytest.skip(ocr.available()[1])
    _, out = built
    with Image.open(out / "cases/brain-mr/card.png") as card:
        quiz = pytesseract.image_to_string(card.convert("L")).lower()
    assert "unknown case" in quiz and "mr" in quiz
    assert "glioblastoma" not in quiz and "neuro" not in quiz
    with Image.open(out / "cases/chest-trauma/card.png") as card:
        assert "trauma" in pytesseract.image_to_string(card.convert("L")).lower()


def test_questions_check_answers_fetched_only_then_and_kept_in_the_browser(
    browser: Any, built: tuple[Site, Path]
) -> None:
    """The page holds the prompts and options only; Check fetches the answer file and says
    right or wrong with the explanations; the reader's pick and text survive a reload."""
    _, out = built
    html = (out / "cases/chest-trauma/index.html").read_text(encoding="utf-8")
    assert "Which sign is shown?" in html and "Silhouette sign" in html
    for secret in ("anteriorly", "Consolidation beside", "Needle decompression, then"):
        assert secret not in html, secret
    answer = json.loads((out / "data/answers/chest-trauma.json").read_text(encoding="utf-8"))
    assert answer["questions"][0]["answer"] == 1
    assert "<em>anteriorly</em>" in answer["questions"][0]["explanationsHtml"][0]
    # the viewer has nothing to reveal here (no quiz, no hidden annotation): no Reveal
    manifest = json.loads((out / "data/cases/chest-trauma.json").read_text(encoding="utf-8"))
    assert manifest["case"]["answer"] is None
    with serving(out, "/teaching/") as url:
        context = browser.new_context()
        page = context.new_page()
        fetched: list[str] = []
        page.on("request", lambda r: "data/answers/" in r.url and fetched.append(r.url))
        page.goto(url + "cases/chest-trauma/")
        first, second = page.locator("form.question").all()
        assert not fetched  # nothing asked before a check
        first.get_by_label("Silhouette sign").check()
        first.get_by_role("button", name="Check").click()
        first.get_by_text("Not quite: the answer is option 1.").wait_for()
        assert first.get_by_text("Consolidation beside a border.").is_visible()
        assert first.get_by_text("anteriorly").is_visible()  # the right one's explanation
        assert fetched == [url + "data/answers/chest-trauma.json"]
        first.get_by_label("Deep sulcus sign").check()
        first.get_by_role("button", name="Check").click()
        first.get_by_text("Correct.").wait_for()
        second.locator("textarea").fill("Decompress it")
        second.get_by_role("button", name="Show the answer").click()
        second.get_by_text("Needle decompression, then a drain.").wait_for()
        page.reload()
        first, second = page.locator("form.question").all()
        assert first.get_by_label("Deep sulcus sign").is_checked()  # kept in this browser
        assert second.locator("textarea").input_value() == "Decompress it"
        assert page.get_by_text("Correct.").count() == 0  # not shown again until asked
        context.close()


def test_references_related_cases_and_the_pager(built: tuple[Site, Path]) -> None:
    """References link their DOI and PubMed entry; related cases and previous/next go by
    public titles, so a quiz is "Unknown case" on its neighbours' pages too."""
    _, out = built
    html = (out / "cases/chest-trauma/index.html").read_text(encoding="utf-8")
    assert "<li>A plain citation.</li>" in html
    assert 'href="https://doi.org/10.1148/radiol.2017161659"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/28240562/"' in html
    related = html[html.index("Related cases") :]
    assert 'href="/teaching/cases/brain-mr/">Unknown case</a>' in related
    assert 'rel="next">Unknown case &rarr;' in html and 'rel="prev"' not in html
    assert "Glioblastoma" not in html
    middle = (out / "cases/brain-mr/index.html").read_text(encoding="utf-8")
    assert 'rel="prev">&larr; Tension pneumothorax</a>' in middle
    assert 'rel="next">' in middle and "<script>alert" not in middle  # the hostile title, escaped


def test_a_big_gallery_sorts_and_shows_pages_of_cards(browser: Any, tmp_path: Path) -> None:
    """60 cases: 48 cards, then "Show more (12 more)"; a search starts again at its first
    page; sorting by title reorders the cards and goes into the link."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from gallery import make_site

    out = make_site(tmp_path / "site", 60)
    with serving(out, "/") as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#filters:not([hidden])")
        shown = page.locator("#cases li:not([hidden])")
        assert shown.count() == 48
        assert page.inner_text("#more") == "Show more (12 more)"
        page.click("#more")
        assert shown.count() == 60 and not page.is_visible("#more")
        page.fill("#q", "neuro")  # every case: back to the first page of them
        assert shown.count() == 48 and page.is_visible("#more")
        page.fill("#q", "")
        page.select_option("#sort", "newest")  # by `added`: case 59 is the last added
        assert page.locator("#cases li:not([hidden])").first.get_attribute("data-slug") == (
            "case-0059"
        )
        page.select_option("#sort", "title")
        page.click("#more")
        titles = page.locator("#cases li:not([hidden]) .card-title").all_inner_texts()
        assert len(titles) == 60 and titles == sorted(titles)  # "Case 0001: ..." first
        assert titles[-1] == "Unknown case" and "sort=title" in page.url
        page.close()


def test_a_lesson_has_its_page_its_order_and_is_named_on_its_cases(
    built: tuple[Site, Path],
) -> None:
    """lessons/<slug>/: the description, the cases' cards in the lesson's order (a quiz by its
    public title); the gallery lists the lesson; each case page names it with its place."""
    _, out = built
    html = (out / "lessons/emergencies/index.html").read_text(encoding="utf-8")
    assert "<h1>Emergencies first</h1>" in html and "<em>in order</em>" in html
    cards = re.findall(r'<li data-slug="([^"]+)">', html)
    assert cards == ["brain-mr", "chest-trauma"]
    assert "Unknown case" in html and "Glioblastoma" not in html
    gallery = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="/teaching/lessons/emergencies/">Emergencies first</a>' in gallery
    case = (out / "cases/chest-trauma/index.html").read_text(encoding="utf-8")
    assert 'href="/teaching/lessons/emergencies/">Emergencies first</a> (2 of 2)' in case
    assert "lessons/emergencies/" in (out / "sitemap.xml").read_text(encoding="utf-8")


def test_lesson_mistakes_are_configuration_errors(tmp_path: Path) -> None:
    from sitegen.config import ConfigError, load_config

    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\ntitle = "T"\n\n[[cases]]\nslug = "brain"\ntitle = "B"\nsource = "sample:head-mr"\n'
        '\n[[lessons]]\nslug = "L 1"\ncases = ["brian", "brain", "brain"]\ntopic = "x"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    by_key = {p.key: p.message for p in info.value.problems}
    assert "lowercase" in by_key["lessons[0].slug"] and "required" in by_key["lessons[0].title"]
    assert 'did you mean "brain"?' in by_key["lessons[0].cases[0]"]
    assert "twice" in by_key["lessons[0].cases"]
    assert "unknown key" in by_key["lessons[0].topic"]


def _two_studies(root: Path, options: str) -> Path:
    """One patient's CT of 2024-01-15 and its follow-up 91 days later; a 45-year-old woman."""
    for name, date in (("first", "20240115"), ("later", "20240415")):
        write_ct_series(root / f"cases/fu/{name}", 2, seed=name)
        for path in (root / f"cases/fu/{name}").iterdir():
            ds = pydicom.dcmread(path)
            ds.StudyDate, ds.PatientAge = date, "045Y"
            ds.save_as(path)
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    config = root / "site.toml"
    config.write_text(
        f'[site]\ntitle = "T"\n\n[build]\nworkers = 1\n\n[deid]\noptions = [{options}]\n\n'
        '[[cases]]\nslug = "fu"\ntitle = "Follow-up"\nsource = "cases/fu"\n'
        'studies = [{ label = "Initial CT", findings = "A *new* nodule." },'
        ' { label = "Follow-up", findings = "Unchanged." }]\n',
        encoding="utf-8",
    )
    report = build(load_config(config), workers=1)
    assert report.published, report.errors
    return root / "public"


def test_a_case_of_two_studies_has_a_timeline_and_its_presentation(tmp_path: Path) -> None:
    """Relative dates from the shifted ones (the interval survives, the dates are never
    shown), each study's label, series and findings; "45-year-old woman" only when
    de-identification kept age and sex (retain-patient-characteristics)."""
    out = _two_studies(
        tmp_path / "kept", '"retain-patient-characteristics", "retain-modified-dates"'
    )
    html = (out / "cases/fu/index.html").read_text(encoding="utf-8")
    assert '<p class="presentation">45-year-old woman</p>' in html
    timeline = html[
        html.index('<ol class="timeline">') : html.index(
            "</ol>", html.index('<ol class="timeline">')
        )
    ]
    assert timeline.index("Day 0") < timeline.index("Initial CT") < timeline.index("+3 months")
    assert "<em>new</em>" in timeline and "Unchanged." in timeline
    assert timeline.count('class="badge"') == 2  # a series link per study
    assert "2024" not in timeline  # no date, shifted or not
    plain = _two_studies(tmp_path / "plain", '"retain-modified-dates"')
    assert 'class="presentation"' not in (plain / "cases/fu/index.html").read_text()
