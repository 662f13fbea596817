"""The official OHIF build, installed by sitegen, in chromium against a built site.

The real @ohif/app tarball is fetched once (≈50 MB from the npm registry, then the user cache).
The site lives under /teaching/ and is served by a small host written here, so each host's
behaviour is explicit: `netlify` applies the frames' Content-Type, sitegen's `_redirects` rules
and OHIF's CSP; `github` sets no header, has no rewrites and serves 404.html for a missing file.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from dicomgen import ct_pixels, enhanced_ct, write_ct_series
from PIL import Image
from test_ohif import rewrite

from sitegen import ohif
from sitegen.build import build
from sitegen.config import load_config
from sitegen.model import Instance, Study, group, series_dir

BASE = "/teaching/"
HTJ2K = "1.2.840.10008.1.2.4.201"
SIZE = 64  # rows and columns of the generated slices
FRAME_RE = re.compile(r"/instances/[0-9.]+/frames/[0-9]+$")
USER_CONFIG = """\
window.config.investigationalUseDialog = { option: 'never' };
window.config.dataSources = [];  // sitegen's data sources win over this
"""


def studies_from_tree(out: Path) -> list[Study]:
    """The published studies read back from the DICOMweb tree (what the build passes to
    install_ohif once it is wired in)."""
    instances = []
    for row in json.loads((out / "dicomweb/studies/index.json").read_text()):
        s = row["0020000D"]["Value"][0]
        for series_row in json.loads((out / f"dicomweb/studies/{s}/series/index.json").read_text()):
            r = series_row["0020000E"]["Value"][0]
            for meta in json.loads((out / series_dir(s, r) / "metadata").read_text()):
                i = meta["00080018"]["Value"][0]
                frames = list((out / series_dir(s, r) / "instances" / i / "frames").iterdir())
                syntax = meta["00083002"]["Value"][0]
                position = tuple(meta.get("00200032", {}).get("Value", ())) or None
                orientation = tuple(meta.get("00200037", {}).get("Value", ())) or None
                sizes = [f.stat().st_size for f in frames]
                instances.append(
                    Instance(s, r, i, "ct", "", meta, sizes, syntax, None, position, orientation)
                )
    return group(instances)


@dataclass
class Site:
    out: Path
    study: str
    link: str  # ohif_study_url: the DICOM JSON route
    enhanced: str  # the study of a 10-frame Enhanced CT
    case_link: str  # the case page's "Open in OHIF": its view's series and slice 5


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("ohif") / "site"
    write_ct_series(root / "cases/ct/dicom", 12, rows=SIZE, cols=SIZE)
    (root / "cases/enhanced/dicom").mkdir(parents=True)
    enhanced_ct(10, SIZE, SIZE).save_as(root / "cases/enhanced/dicom/ENH", enforce_file_format=True)
    (root / "ohif.js").write_text(USER_CONFIG, encoding="utf-8")
    config = root / "site.toml"
    config.write_text(
        f'[site]\ntitle = "Teaching"\nbase_url = "{BASE}"\n\n'
        '[ohif]\nenabled = true\nuser_config = "ohif.js"\n\n'
        '[[cases]]\nslug = "ct"\ntitle = "Chest CT"\nsource = "cases/ct/dicom"\n'
        "view = { series = 1, slice = 5 }\n"
        '[[cases]]\nslug = "enhanced"\ntitle = "Enhanced CT"\nsource = "cases/enhanced/dicom"\n',
        encoding="utf-8",
    )
    site = load_config(config)
    report = build(site, workers=1)  # [ohif] enabled: the build fetches and installs OHIF
    if not report.published and any("@ohif/app" in e for e in report.errors):
        pytest.skip(f"the OHIF build could not be fetched: {report.errors}")  # pragma: no cover
    assert report.published, report.errors
    assert report.ohif == site.ohif.version  # the report says OHIF is in the site
    out = site.out_path()
    assert (out / "ohif/index.html").is_file() and (out / "ohif/app-config.js").is_file()
    assert (
        "/teaching/ohif/viewer/* /teaching/ohif/index.html 200" in (out / "_redirects").read_text()
    )
    assert "sitegen-404.js" in (out / "404.html").read_text()
    studies = studies_from_tree(out)
    enhanced = [s for s in studies if s.instances[0].frames > 1]
    studies = [s for s in studies if s.instances[0].frames == 1]
    assert studies[0].instances[0].transfer_syntax == HTJ2K
    case_page = (out / "cases/ct/index.html").read_text()
    link = ohif.ohif_study_url(site, studies[0].uid)
    fifth = studies[0].series[0].instances[4].sop_uid  # the case's view: slice 5
    opened = ohif.ohif_study_url(site, studies[0].uid, studies[0].series[0].uid, fifth)
    assert "Open in OHIF" in case_page and opened.replace("&", "&amp;") in case_page
    return Site(out, studies[0].uid, link, enhanced[0].uid, opened)


# --- a static host --------------------------------------------------------------------------


rewrite_target = rewrite  # the same _redirects semantics as the rule tests


@dataclass
class Host:
    url: str
    requests: list[tuple[int, str]] = field(default_factory=list)


class Handler(SimpleHTTPRequestHandler):
    root = Path()
    headers_on = False  # Netlify/Cloudflare `_headers`: frames' Content-Type, OHIF's CSP
    rules: tuple[str, ...] = ()  # `_redirects` 200 rules
    page_404 = False  # GitHub Pages: 404.html for a missing file
    slow_head = 0.0  # seconds before answering a HEAD of a frame (a slow first byte)
    log: list[tuple[int, str]] = []
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def log_message(self, *args: Any) -> None:
        pass

    def _local(self, url_path: str) -> Path | None:
        if not url_path.startswith(BASE):
            return None
        path = Path(super().translate_path("/" + url_path[len(BASE) :]))
        if not path.exists():
            target = rewrite_target(list(self.rules), url_path)
            if target:
                return Path(super().translate_path("/" + target[len(BASE) :]))
        return path

    def translate_path(self, path: str) -> str:
        local = self._local(unquote(urlsplit(path).path))
        return str(local) if local else str(self.root / ".missing")

    def guess_type(self, path: Any) -> str:
        url_path = urlsplit(self.path).path
        if FRAME_RE.search(url_path):
            if self.headers_on:
                return f"application/octet-stream; transfer-syntax={HTJ2K}"
            return "application/octet-stream"
        return super().guess_type(path)

    def do_HEAD(self) -> None:
        if self.slow_head and FRAME_RE.search(urlsplit(self.path).path):
            time.sleep(self.slow_head)
        super().do_HEAD()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = self.root / "404.html"
        if code == 404 and self.page_404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log.append((code, self.path))
        super().send_response(code, message)

    def end_headers(self) -> None:
        if self.headers_on:
            for pattern, values in ohif.ohif_headers(BASE):
                if urlsplit(self.path).path.startswith(pattern.rstrip("*")):
                    for name, value in values.items():
                        self.send_header(name, value)
        super().end_headers()


@pytest.fixture
def host(built: Site, request: pytest.FixtureRequest) -> Iterator[Host]:
    """A static host on 127.0.0.1 behaving like `request.param` ("netlify" or "github")."""
    with serve(built.out, request.param) as served:
        yield served


@contextmanager
def serve(out: Path, kind: str) -> Iterator[Host]:
    """`kind`: "github" or "netlify", with "-slow" a HEAD of a frame answered after 4 s."""
    log: list[tuple[int, str]] = []
    name = kind.removesuffix("-slow")
    attrs = {
        "root": out,
        "log": log,
        "headers_on": name == "netlify",
        "rules": tuple(ohif.ohif_redirects(BASE)) if name == "netlify" else (),
        "page_404": name == "github",
        "slow_head": 4.0 if kind.endswith("-slow") else 0.0,
    }
    handler = type("H", (Handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(f"http://127.0.0.1:{server.server_address[1]}{BASE}", log)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module", autouse=True)
def github_404(built: Site) -> None:
    """The site's 404.html with OHIF's deep-link script (sitegen.hosts merges it)."""
    (built.out / "404.html").write_text(
        f"<!doctype html><title>Not found</title>{ohif.ohif_404_script(BASE)}<p>Not found</p>",
        encoding="utf-8",
    )


# --- helpers --------------------------------------------------------------------------------


def open_page(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.goto(url)
    return context, page, messages


def canvas_pixels(page: Any) -> np.ndarray:
    png = page.locator("canvas.cornerstone-canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def viewport_pixels(page: Any) -> np.ndarray:
    """The middle of the viewport's canvas (the image, without the overlays at the edges)."""
    pixels = canvas_pixels(page)
    h, w = pixels.shape
    return pixels[h // 5 : h - h // 5, w // 5 : w - w // 5]


def expected_slice(index: int = 0) -> np.ndarray:
    """The generated slice as OHIF should show it: rescaled to HU, window 40/400, 0-255."""
    hu = ct_pixels(index, SIZE, SIZE).astype(np.float64) - 1024
    return np.clip((hu - (40 - 200)) / 400 * 255, 0, 255)


def shown_slice(page: Any) -> np.ndarray:
    """The square image fitted in the canvas, scaled back to the slice's size."""
    pixels = canvas_pixels(page)
    h, w = pixels.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(pixels[top : top + side, left : left + side].astype(np.uint8))
    return np.asarray(square.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float64)


def wait_for_image(page: Any, timeout_ms: int = 40_000) -> np.ndarray:
    """The viewport's pixels once it shows a structured image (or the last try)."""
    page.locator("canvas.cornerstone-canvas").first.wait_for(timeout=timeout_ms)
    pixels = viewport_pixels(page)
    for _ in range(timeout_ms // 500):
        if pixels.std() > 40:
            page.wait_for_timeout(1000)  # let the render settle, then take the final pixels
            return viewport_pixels(page)
        page.wait_for_timeout(500)
        pixels = viewport_pixels(page)
    return pixels


def assert_expected_slice(page: Any, name: str, tmp_path: Path, index: int = 0) -> None:
    """The viewport shows slice `index` in display order (0: the highest, tests/dicomgen.py):
    a ramp, black top-left and white bottom-right at window 40/400, pixel for pixel."""
    page.screenshot(path=str(tmp_path / f"{name}.png"))
    middle = viewport_pixels(page)
    assert middle.std() > 40, f"blank or grey viewport (std {middle.std():.1f}); see {name}.png"
    error = np.abs(shown_slice(page) - expected_slice(index))
    # measured: 0.6 for this slice, 3.9 for the last slice of the series, 89 transposed
    assert error.mean() < 2, (
        f"not the expected slice: mean error {error.mean():.1f}, see {name}.png"
    )


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["netlify"], indirect=True)
def test_study_list_shows_the_built_study(browser: Any, built: Site, host: Host) -> None:
    context, page, messages = open_page(browser, host.url + "ohif/")
    try:
        page.get_by_text("Chest CT").first.wait_for(timeout=40_000)
        row = page.locator("tr", has_text="Chest CT").first
        assert re.search(r"\bCT\b[\s\S]*Chest CT[\s\S]*\b12\b", row.inner_text()), row.inner_text()
        assert not page.get_by_text("for investigational use only").is_visible()  # user_config
        assert not csp_violations(messages)
        # the QIDO list was read through the static host's 301 to studies/ (index.html)
        assert any(code == 301 and "dicomweb/studies?" in p for code, p in host.requests)
        assert all(p.startswith(BASE) for _, p in host.requests), "a request escaped the base"
    finally:
        context.close()


@pytest.mark.parametrize("host", ["netlify"], indirect=True)
def test_dicomweb_route_renders_htj2k_frames(
    browser: Any, built: Site, host: Host, tmp_path: Path
) -> None:
    """A deep link (served through the `_redirects` fallback) renders HTJ2K frames read from
    the static tree, under OHIF's CSP."""
    url = f"{host.url}ohif/viewer/dicomweb?StudyInstanceUIDs={built.study}"
    context, page, messages = open_page(browser, url)
    try:
        wait_for_image(page)
        assert_expected_slice(page, "dicomweb", tmp_path)
        assert not csp_violations(messages), csp_violations(messages)
        frames = [p for code, p in host.requests if code == 200 and FRAME_RE.search(p)]
        assert frames, "no frame was read from the DICOMweb tree"
        missing = [p for code, p in host.requests if code == 404]
        assert not missing, missing
    finally:
        context.close()


@pytest.mark.parametrize("host", ["github"], indirect=True)
def test_dicomjson_route_renders_without_headers(
    browser: Any, built: Site, host: Host, tmp_path: Path
) -> None:
    """On a host with no headers and no rewrites, the deep link of the DICOM JSON route goes
    through 404.html and ohif/?route= and renders the Part 10 files; the address bar ends on
    the deep link."""
    assert built.link.startswith("ohif/?route=viewer%2Fdicomjson")
    deep = f"ohif/viewer/dicomjson?url={BASE}dicomjson/{built.study}.json"
    context, page, messages = open_page(browser, host.url + deep)
    try:
        wait_for_image(page)
        assert_expected_slice(page, "dicomjson", tmp_path)
        assert page.url == host.url + deep
        parts = [p for code, p in host.requests if code == 200 and p.endswith(".dcm")]
        assert len(parts) == 12, parts
        assert not [p for _, p in host.requests if FRAME_RE.search(p)]
    finally:
        context.close()


@pytest.mark.parametrize("host", ["github"], indirect=True)
def test_dicomweb_without_content_type_is_a_grey_square(
    browser: Any, built: Site, host: Host
) -> None:
    """Why the DICOMweb route needs `_headers` (ARCHITECTURE 3a): without the frames'
    transfer syntax OHIF decodes HTJ2K as raw pixels. Also: the case-page link form works."""
    route = f"viewer%2Fdicomweb%3FStudyInstanceUIDs%3D{built.study}"
    context, page, _ = open_page(browser, f"{host.url}ohif/?route={route}")
    try:
        page.locator("canvas.cornerstone-canvas").first.wait_for(timeout=40_000)
        page.wait_for_timeout(5000)
        assert viewport_pixels(page).std() < 5
    finally:
        context.close()


@pytest.mark.parametrize("host", ["github"], indirect=True)
def test_dicomjson_route_scrolls_a_multiframe_instance(
    browser: Any, built: Site, host: Host, tmp_path: Path
) -> None:
    """The frames after the first carry only their identity in the manifest (it grows
    linearly): OHIF still shows every frame of the Enhanced CT, each different."""
    deep = f"ohif/viewer/dicomjson?url={BASE}dicomjson/{built.enhanced}.json"
    context, page, messages = open_page(browser, host.url + deep)
    try:
        first = wait_for_image(page)
        page.screenshot(path=str(tmp_path / "enhanced-1.png"))
        assert first.std() > 20, "blank viewport"
        page.locator("canvas.cornerstone-canvas").first.click()
        for _ in range(4):
            page.keyboard.press("ArrowDown")
            page.wait_for_timeout(300)
        page.wait_for_timeout(1500)
        later = viewport_pixels(page)
        page.screenshot(path=str(tmp_path / "enhanced-5.png"))
        assert later.std() > 20
        assert np.abs(later - first).mean() > 5, "the frame did not change"
        assert not [m for m in messages if "pageerror" in m], messages
    finally:
        context.close()


@pytest.mark.parametrize("host", ["github"], indirect=True)
def test_open_in_ohif_opens_the_cases_slice_without_banner_or_tour(
    browser: Any, built: Site, host: Host, tmp_path: Path
) -> None:
    """The case page's link opens its view's series at slice 5, on a host with no headers,
    with no investigational-use banner and no onboarding tour."""
    context, page, messages = open_page(browser, host.url + built.case_link)
    try:
        wait_for_image(page)
        assert_expected_slice(page, "case-link", tmp_path, index=4)
        assert page.get_by_text("(5/12)").first.is_visible()
        assert page.locator(".shepherd-element").count() == 0
        assert not page.get_by_text("investigational use", exact=False).is_visible()
    finally:
        context.close()


def open_from_study_list(page: Any) -> None:
    """What a reader does on OHIF's study list: pick the study, launch the Basic Viewer."""
    page.get_by_text("Chest CT").first.wait_for(timeout=40_000)
    page.locator("tr", has_text="Chest CT").first.click()
    page.get_by_role("button", name="Basic Viewer").click()
    wait_for_image(page)


@pytest.mark.parametrize("kind", ["github", "netlify-slow"])
def test_the_study_list_opens_its_studies_with_images_on_every_host(
    browser: Any, built: Site, kind: str, tmp_path: Path
) -> None:
    """A study opened from OHIF's own list shows its pixels on a host without headers (sent
    to the DICOM JSON route, no note) and with them (OHIF's DICOMweb route, untouched). On the
    second host the HEAD that tells them apart answers late, so the launch waits for it."""
    with serve(built.out, kind) as host:
        context, page, messages = open_page(browser, host.url + "ohif/")
        try:
            open_from_study_list(page)
            assert_expected_slice(page, f"study-list-{kind}", tmp_path)
            route = urlsplit(page.url).path.removeprefix(BASE)
            if kind == "github":
                assert route == "ohif/viewer/dicomjson", page.url
                assert f"dicomjson/{built.study}.json" in unquote(page.url)
                assert not [p for _, p in host.requests if FRAME_RE.search(p)][1:]  # the HEAD
            else:
                assert route == "ohif/viewer" and built.study in page.url, page.url
                assert len([p for code, p in host.requests if FRAME_RE.search(p)]) > 1
            assert page.locator("#sitegen-host-note").count() == 0
            assert not [m for m in messages if "pageerror" in m], messages
        finally:
            context.close()


def _ohif_site(root: Path, build_table: str) -> Path:
    """A one-case site with OHIF under BASE, built; its output folder."""
    write_ct_series(root / "cases/ct/dicom", 12, rows=SIZE, cols=SIZE)
    config = root / "site.toml"
    config.write_text(
        f'[site]\ntitle = "Teaching"\nbase_url = "{BASE}"\n\n[build]\n{build_table}\n\n'
        "[ohif]\nenabled = true\n\n"
        '[[cases]]\nslug = "ct"\ntitle = "Chest CT"\nsource = "cases/ct/dicom"\n'
        "view = { series = 1, slice = 5 }\n",
        encoding="utf-8",
    )
    site = load_config(config)
    report = build(site, workers=1)
    assert report.published, report.errors
    return site.out_path()


def test_the_study_list_says_why_it_shows_no_images_where_nothing_can_help(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """HTJ2K frames, a host without headers and no Part 10 files ([build] downloads = false):
    no OHIF route shows the images, and the study list says so and links the site's viewer."""
    out = _ohif_site(tmp_path_factory.mktemp("ohif-nodownloads") / "site", "downloads = false")
    assert not (out / "dicomjson").exists()
    with serve(out, "github") as host:
        context, page, _ = open_page(browser, host.url + "ohif/")
        try:
            page.get_by_text("Chest CT").first.wait_for(timeout=40_000)
            note = page.locator("#sitegen-host-note")
            note.wait_for(timeout=10_000)
            page.screenshot(path=str(tmp_path / "study-list-no-route.png"))
            assert "no Content-Type" in note.inner_text()
            assert "OHIF shows no images here" in note.inner_text()
            assert note.locator("a").get_attribute("href") == BASE
        finally:
            context.close()


def test_packed_frames_open_from_case_links_and_from_the_study_list(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """[build] pack: no frame files for OHIF's DICOMweb source. On a host without headers the
    case page's "Open in OHIF" (DICOM JSON over the Part 10 files) shows slice 5 pixel for
    pixel, and a study opened from the study list goes the same way."""
    root = tmp_path_factory.mktemp("ohif-packed") / "site"
    out = _ohif_site(root, "pack = 1")
    assert not list(out.glob("dicomweb/**/frames/*")) and list(out.glob("dicomweb/**/packs/1"))
    page_html = (out / "cases/ct/index.html").read_text()
    link = re.search(r'href="([^"]*ohif/\?route=[^"]*)"', page_html)
    assert link and "dicomjson" in link.group(1)
    with serve(out, "github") as host:
        context, page, _ = open_page(
            browser, host.url + link.group(1).replace("&amp;", "&").removeprefix(BASE)
        )
        try:
            wait_for_image(page)
            assert_expected_slice(page, "packed-case-link", tmp_path, index=4)
        finally:
            context.close()
        context, page, _ = open_page(browser, host.url + "ohif/")
        try:
            open_from_study_list(page)
            assert_expected_slice(page, "study-list-packed", tmp_path)
            assert "/ohif/viewer/dicomjson?" in page.url
        finally:
            context.close()
