"""The teaching viewer in a real browser (Debian's chromium via Playwright), under the site's
exact Content-Security-Policy and a sub-path base URL: pixels against a numpy rendering,
deep links, reveal, touch, and missing files."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
from conftest import serving, write_site
from dicomgen import ct_pixels, write_ct_series
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from sitegen.build import build
from sitegen.config import load_config
from sitegen.viewer import install_viewer

CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data: blob:; connect-src 'self'"
)
KEY = b"sitegen-test-key-0123456789abcde"
ROWS, COLS = 64, 48
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
CT_WINDOW = (2000.0, -200.0)  # width, center: spans the generated CT values


def reference(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2 linear window to 0..255 (what render.js implements)."""
    y = ((values.astype(np.float64) - (center - 0.5)) / (width - 1) + 0.5) * 255
    return np.clip(np.round(y), 0, 255)


def _dataset(sop_class: str, seed: str, **attrs: Any) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[seed, "sop"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[seed, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[seed, "series"])
    ds.PatientName, ds.PatientID = "Test^Viewer", "VIEW-1"
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20240101", 1, 1
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def mono1_pixels() -> np.ndarray:
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    return ((yy * 97 + xx * 13) % 4096).astype("<u2")


def rgb_pixels() -> np.ndarray:
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    return np.stack([xx * 5, yy * 4, (xx * 3 + yy * 2) % 256], axis=-1).astype(np.uint8)


def write_inputs(root: Path) -> None:
    write_ct_series(root / "cases/ct", 6, rows=ROWS, cols=COLS)
    study = generate_uid(entropy_srcs=["study", "a"])  # dicomgen's study for seed "a"
    write_ct_series(
        root / "cases/ct/s2", 3, study_uid=study, seed="b", series_number=2, rows=32, cols=40
    )
    cr = _dataset(
        CR_STORAGE, "mono1", Modality="CR", Rows=ROWS, Columns=COLS, SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME1", BitsAllocated=16, BitsStored=12, HighBit=11,
        PixelRepresentation=0, WindowCenter=2000, WindowWidth=3000,
    )  # fmt: skip
    cr.PixelData = mono1_pixels().tobytes()
    (root / "cases/mono1").mkdir(parents=True)
    cr.save_as(root / "cases/mono1/CR1", enforce_file_format=True)
    sc = _dataset(
        SC_STORAGE, "rgb", Modality="OT", Rows=ROWS, Columns=COLS, SamplesPerPixel=3,
        PhotometricInterpretation="RGB", PlanarConfiguration=0, BitsAllocated=8, BitsStored=8,
        HighBit=7, PixelRepresentation=0, ConversionType="WSD",
    )  # fmt: skip
    sc.PixelData = rgb_pixels().tobytes()
    (root / "cases/rgb").mkdir(parents=True)
    sc.save_as(root / "cases/rgb/SC1", enforce_file_format=True)


CASES = """
[[cases]]
slug = "ct"
title = "Secret title"
source = "cases/ct"
unknown = true
history = "Visible history"
diagnosis = "Secret diagnosis"
discussion = "Secret **discussion**"
view = { series = 1, slice = 3, window = "2000,-200" }

[[cases.annotations]]
series = 1
slice = 2
shape = "arrow"
points = [[20, 20], [5, 5]]
label = "Arrow label"

[[cases.annotations]]
series = 1
slice = 5
shape = "circle"
points = [[24, 30], [30, 30]]
label = "Hidden answer"
reveal = true

[[cases]]
slug = "mono1"
title = "Monochrome 1"
source = "cases/mono1"

[[cases]]
slug = "rgb"
title = "Colour"
source = "cases/rgb"
burned_in = "allow"
"""


def make_site(root: Path, frames: str, cases: str = CASES) -> Path:
    """Build a site with `frames` and install the viewer; returns public/."""
    write_inputs(root)
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    config = write_site(root, f'[build]\nframes = "{frames}"\nworkers = 1\n{cases}')
    report = build(load_config(config), workers=1)
    assert report.published, report.warnings
    out = root / "public"
    install_viewer(out)  # idempotent: also right once the build installs it itself
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    out = make_site(tmp_path_factory.mktemp("viewer") / "site", "htj2k")
    with serving(out, "/teach/") as url:
        yield out, url


@pytest.fixture(scope="module")
def raw_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    out = make_site(tmp_path_factory.mktemp("viewer-raw") / "site", "raw")
    with serving(out, "/") as url:
        yield out, url


class Viewer:
    """One page of the viewer with the site's CSP added to every response."""

    def __init__(self, browser: Any, base: str, **context_args: Any) -> None:
        self.context = browser.new_context(
            **{"viewport": {"width": 1000, "height": 760}, **context_args}
        )
        self.violations: list[str] = []
        self.errors: list[str] = []

        def add_csp(route: Any) -> None:
            try:
                response = route.fetch()
                headers = {**response.headers, "content-security-policy": CSP}
                route.fulfill(response=response, headers=headers)
            except Exception:  # the page closed while this was in flight
                pass

        # the policy matters on the document and the worker script: the viewer's own files
        self.context.route("**/viewer/**", add_csp)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: (
                self.violations.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.base = base

    def open(self, query: str, *, image: bool = True) -> Viewer:
        self.page.goto(f"{self.base}viewer/{query}")
        if image:
            self.wait_rendered()
        return self

    def wait(self, predicate: str, arg: Any = None, timeout: float = 10_000) -> Any:
        # an arrow function, not an expression string: the CSP forbids eval in the page
        return self.page.wait_for_function(predicate, arg=arg, timeout=timeout)

    def wait_rendered(self, slot: str | None = None) -> None:
        if slot is None:
            self.wait("() => !!document.getElementById('stage').dataset.rendered")
        else:
            self.wait("(s) => document.getElementById('stage').dataset.rendered === s", slot)

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("() => sitegenViewer.state()")

    def canvas(self) -> np.ndarray:
        # as a PNG (lossless): a large canvas's pixels as a JSON array take seconds
        url = self.page.evaluate("() => document.getElementById('image').toDataURL('image/png')")
        png = base64.b64decode(url.split(",", 1)[1])
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.int32)

    def hash(self) -> str:
        return self.page.evaluate("() => location.hash")

    def close(self) -> None:
        assert not self.violations, self.violations
        assert not self.errors, self.errors
        self.context.unroute_all(behavior="ignoreErrors")
        self.context.close()


@pytest.fixture
def viewer(browser: Any, site: tuple[Path, str]) -> Iterator[Viewer]:
    v = Viewer(browser, site[1])
    yield v
    v.close()


def manifest(out: Path, slug: str) -> dict[str, Any]:
    return json.loads((out / f"data/cases/{slug}.json").read_text())


def ct_index(frame: dict[str, Any]) -> int:
    """Which generated slice a manifest frame is (dicomgen: z = 100 - 3 * index)."""
    return round((100.0 - frame["position"][2]) / 3.0)


def assert_grey(pixels: np.ndarray, expected: np.ndarray) -> None:
    for channel in range(3):
        diff = np.abs(pixels[..., channel] - expected)
        assert diff.max() <= 1, f"channel {channel}: max diff {diff.max()}"
    assert (pixels[..., 3] == 255).all()


def test_ct_deep_link_pixels_and_state(viewer: Viewer, site: tuple[Path, str]) -> None:
    out, _ = site
    frames = manifest(out, "ct")["studies"][0]["series"][0]["frames"]
    viewer.open("?case=ct#s=1&i=4&w=1000,-900&z=2,10,12").wait_rendered("0:3")
    state = viewer.state()
    assert state["series"] == 0 and state["slice"] == 3
    assert state["window"] == {"width": 1000, "center": -900}
    assert state["zoom"] == 2 and state["center"] == [10, 12]
    stored = ct_pixels(ct_index(frames[3]), ROWS, COLS)
    assert_grey(viewer.canvas(), reference(stored - 1024.0, -900, 1000))
    # the link survives as written (defaults left out, nothing lost)
    assert viewer.hash() == "#s=1&i=4&w=1000,-900&z=2,10,12"
    # a fragment changed by hand (or by a link on the same page) is applied too
    viewer.page.evaluate("() => { location.hash = '#s=1&i=6&w=lung'; }")
    viewer.wait_rendered("0:5")
    assert viewer.state()["window"] == {"width": 1500, "center": -600}


def test_case_view_opens_and_scrolling_updates_the_fragment(viewer: Viewer) -> None:
    viewer.open("?case=ct").wait_rendered("0:2")  # view: slice 3, window "2000,-200"
    assert viewer.state()["window"] == {"width": 2000, "center": -200}
    viewer.wait("() => location.hash === '#s=1&i=3&w=2000,-200'")
    viewer.page.focus("#stage")
    viewer.page.keyboard.press("ArrowDown")
    viewer.wait("() => location.hash.startsWith('#s=1&i=4&')")
    box = viewer.page.locator("#stage").bounding_box()
    viewer.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    viewer.page.mouse.wheel(0, 100)
    viewer.wait("() => location.hash.startsWith('#s=1&i=5&')")
    viewer.page.keyboard.press("2")  # the second preset (CT: soft tissue 400/40)
    viewer.wait("() => location.hash.includes('w=400,40')")
    viewer.page.keyboard.press("End")
    viewer.wait_rendered("0:5")
    viewer.wait("() => location.hash.startsWith('#s=1&i=6&')")


def test_reveal_shows_hidden_text_and_annotations(viewer: Viewer, site: tuple[Path, str]) -> None:
    page = viewer.open("?case=ct#s=1&i=5").page
    assert page.locator("#title").inner_text() == "Unknown case"
    assert not page.locator("#case-diagnosis").is_visible()
    assert page.locator("#case-history").inner_text() == "Visible history"
    assert page.locator("#stage").get_attribute("data-annotations") == "0"
    assert "Secret" not in page.content()  # not even hidden: the answer is not loaded yet
    assert "Secret" not in json.dumps(manifest(Path(site[0]), "ct"))
    page.click("#btn-reveal")
    viewer.wait("() => document.getElementById('stage').dataset.annotations === '1'")
    assert page.locator("#case-diagnosis").inner_text() == "Secret diagnosis"
    assert page.locator("#title").inner_text() == "Secret title"
    assert page.locator("#svg").get_by_text("Hidden answer").count() >= 1
    assert "discussion" in page.locator("#case-discussion").inner_html()
    viewer.wait("() => location.hash.includes('r=1')")
    # slice 2's arrow (not a reveal one) shows on slices 1-3, its label only once revealed
    page.keyboard.press("Home")
    viewer.wait_rendered("0:0")
    assert page.locator("#svg .annotation.arrow").count() == 1
    assert page.locator("#svg").get_by_text("Arrow label").count() >= 1


def test_revealed_link_and_unrevealed_labels(viewer: Viewer) -> None:
    page = viewer.open("?case=ct#s=1&i=2").page
    assert page.locator("#svg .annotation.arrow").count() == 1
    assert page.locator("#svg").get_by_text("Arrow label").count() == 0  # unknown case
    page.goto(f"{viewer.base}viewer/?case=ct#s=1&i=4&r=1")
    viewer.wait_rendered("0:3")
    # the revealed link fetches the answer first (it is not in the manifest)
    viewer.wait("() => document.querySelectorAll('#svg .annotation.circle').length === 1")
    assert page.locator("#case-diagnosis").is_visible()


def test_monochrome1_pixels(viewer: Viewer) -> None:
    viewer.open("?case=mono1")
    assert viewer.state()["window"] == {"width": 3000, "center": 2000}
    expected = 255 - reference(mono1_pixels(), 2000, 3000)
    assert_grey(viewer.canvas(), expected)


def test_rgb_pixels(viewer: Viewer, site: tuple[Path, str]) -> None:
    series = manifest(site[0], "rgb")["studies"][0]["series"][0]
    assert series["photometric"] == "YBR_RCT"  # colour HTJ2K: decodes to RGB in the browser
    pixels = viewer.open("?case=rgb").canvas()
    diff = np.abs(pixels[..., :3] - rgb_pixels().astype(np.int32))
    assert diff.max() <= 1


def test_htj2k_decodes_to_the_input_pixels(viewer: Viewer, site: tuple[Path, str]) -> None:
    frames = manifest(site[0], "ct")["studies"][0]["series"][0]["frames"]
    assert manifest(site[0], "ct")["studies"][0]["series"][0]["transferSyntax"].endswith(".4.201")
    viewer.open("?case=ct#s=1&i=1")
    for n in range(len(frames)):
        viewer.page.evaluate("(i) => sitegenViewer.setSlice(i)", n)
        viewer.wait_rendered(f"0:{n}")
        stored = viewer.page.evaluate("() => Array.from(sitegenViewer.pixels())")
        expected = ct_pixels(ct_index(frames[n]), ROWS, COLS).ravel()
        assert np.array_equal(np.array(stored), expected), f"slice {n + 1}"


def test_missing_frame_shows_an_error_and_the_viewer_keeps_working(
    browser: Any, tmp_path: Path
) -> None:
    out = make_site(tmp_path / "site", "htj2k")
    frames = manifest(out, "ct")["studies"][0]["series"][0]["frames"]
    (out / frames[1]["url"]).unlink()
    with serving(out, "/") as url:
        viewer = Viewer(browser, url)
        page = viewer.open("?case=ct#s=1&i=2&w=1000,-900", image=False).page
        viewer.wait("() => document.getElementById('stage-message').textContent.includes('404')")
        message = page.locator("#stage-message")
        assert message.is_visible() and "Slice 2" in message.inner_text()
        assert not page.locator("#image").is_visible()
        page.focus("#stage")
        page.keyboard.press("ArrowDown")
        viewer.wait_rendered("0:2")
        assert not message.is_visible()
        stored = ct_pixels(ct_index(frames[2]), ROWS, COLS)
        assert_grey(viewer.canvas(), reference(stored - 1024.0, -900, 1000))
        viewer.violations = [v for v in viewer.violations if "404" not in v]
        viewer.close()


def test_series_links_strip_and_keys(viewer: Viewer, site: tuple[Path, str]) -> None:
    series = manifest(site[0], "ct")["studies"][0]["series"]
    assert [(s["number"], s["rows"], s["columns"]) for s in series] == [
        (1, ROWS, COLS),
        (2, 32, 40),
    ]
    page = viewer.open("?case=ct#s=2&i=2&w=1000,-900").page
    viewer.wait_rendered("1:1")
    assert page.evaluate(
        "() => [document.getElementById('image').width, document.getElementById('image').height]"
    ) == [40, 32]
    stored = ct_pixels(ct_index(series[1]["frames"][1]), 32, 40)
    assert_grey(viewer.canvas(), reference(stored - 1024.0, -900, 1000))
    page.locator("#strip button").first.click()  # the strip is open on a wide screen
    viewer.wait_rendered("0:3")  # the middle slice of series 1
    viewer.wait("() => location.hash.startsWith('#s=1&i=4&')")
    page.focus("#stage")
    page.keyboard.press("]")
    viewer.wait_rendered("1:1")


def test_missing_case_and_no_case(viewer: Viewer) -> None:
    page = viewer.open("?case=no-such-case", image=False).page
    viewer.wait("() => !!document.getElementById('stage').dataset.error")
    text = page.locator("#stage-message").inner_text()
    assert "no-such-case" in text and "not found" in text
    # the error once, and nothing that needs an image: no tools, slider, case panel
    assert page.get_by_text(text).count() == 1 and not page.locator("#message").is_visible()
    for gone in ("#toolbar", ".slicebar", "#panel", "#btn-case", "#btn-link", "#btn-more"):
        assert not page.locator(gone).is_visible(), gone
    assert page.locator(".bar .home").is_visible()  # the way back
    page.goto(f"{viewer.base}viewer/")
    viewer.wait("() => !!document.getElementById('stage').dataset.error")
    assert "?case=" in page.locator("#stage-message").inner_text()


def test_raw_frames_render_and_decode(browser: Any, raw_site: tuple[Path, str]) -> None:
    out, url = raw_site
    series = manifest(out, "ct")["studies"][0]["series"][0]
    assert series["transferSyntax"] == "1.2.840.10008.1.2.1"
    viewer = Viewer(browser, url)
    viewer.open("?case=ct#s=1&i=2&w=2000,-200").wait_rendered("0:1")
    stored = ct_pixels(ct_index(series["frames"][1]), ROWS, COLS)
    assert_grey(viewer.canvas(), reference(stored - 1024.0, -200, 2000))
    viewer.open("?case=mono1")
    assert_grey(viewer.canvas(), 255 - reference(mono1_pixels(), 2000, 3000))
    viewer.open("?case=rgb")
    assert np.abs(viewer.canvas()[..., :3] - rgb_pixels().astype(np.int32)).max() <= 1
    viewer.close()


def _touch(cdp: Any, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {
            "type": kind,
            "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)],
        },
    )


def test_touch_pinch_zooms_and_swipe_scrolls_on_a_phone(
    browser: Any, site: tuple[Path, str]
) -> None:
    viewer = Viewer(
        browser, site[1], viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
        device_scale_factor=2,
    )  # fmt: skip
    page = viewer.open("?case=ct#s=1&i=2").page
    box = page.locator("#stage").bounding_box()
    assert box["width"] >= 340  # the image takes the phone's width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = viewer.context.new_cdp_session(page)
    _touch(cdp, "touchStart", [(cx - 20, cy), (cx + 20, cy)])
    for step in range(1, 11):
        _touch(cdp, "touchMove", [(cx - 20 - 8 * step, cy), (cx + 20 + 8 * step, cy)])
    _touch(cdp, "touchEnd", [])
    viewer.wait("() => sitegenViewer.state().zoom > 2")
    assert viewer.state()["slice"] == 1  # a pinch is not a scroll
    viewer.wait("() => location.hash.includes('z=')")
    # a swipe up moves forward through the stack
    _touch(cdp, "touchStart", [(cx, cy + 100)])
    for step in range(1, 11):
        _touch(cdp, "touchMove", [(cx, cy + 100 - 15 * step)])
    _touch(cdp, "touchEnd", [])
    viewer.wait("() => sitegenViewer.state().slice > 1")
    # two fingers moving together change the window, not the zoom
    zoom = viewer.state()["zoom"]
    width = viewer.state()["window"]["width"]
    _touch(cdp, "touchStart", [(cx - 40, cy), (cx + 40, cy)])
    for step in range(1, 11):
        _touch(cdp, "touchMove", [(cx - 40 + 6 * step, cy), (cx + 40 + 6 * step, cy)])
    _touch(cdp, "touchEnd", [])
    viewer.wait("(w) => sitegenViewer.state().window.width > w", width)
    assert abs(viewer.state()["zoom"] - zoom) < 1e-6
    viewer.close()


def test_jpegls_frames_give_a_clear_message(browser: Any, tmp_path: Path) -> None:
    cases = '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct"\n'
    out = make_site(tmp_path / "site", "jpegls", cases)
    with serving(out, "/") as url:
        viewer = Viewer(browser, url)
        viewer.open("?case=ct", image=False)
        viewer.wait(
            "() => document.getElementById('stage-message').textContent.includes('JPEG-LS')"
        )
        assert "htj2k" in viewer.page.locator("#stage-message").inner_text()
        viewer.close()


def test_keyboard_help_and_labelled_buttons(viewer: Viewer) -> None:
    page = viewer.open("?case=ct").page
    for button in page.locator("button").all():
        if button.is_visible():
            assert button.inner_text().strip() or button.get_attribute("aria-label"), button
    page.focus("#stage")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()


def test_annotations_follow_zoom_and_pan(viewer: Viewer) -> None:
    # the arrow's tip is at image (20, 20): a link centred there puts it at the stage centre
    page = viewer.open("?case=ct#s=1&i=2&z=3,20,20").page
    stage = page.locator("#stage").bounding_box()
    tip = page.evaluate(
        "() => document.querySelector('#svg .annotation polygon:not(.halo)')"
        ".getAttribute('points').split(' ')[0].split(',').map(Number)"
    )
    assert abs(tip[0] - stage["width"] / 2) < 1 and abs(tip[1] - stage["height"] / 2) < 1
    # the canvas is placed by the same mapping: its box is the image at that zoom
    canvas = page.locator("#image").bounding_box()
    scale = canvas["width"] / COLS
    assert abs(canvas["x"] - stage["x"] + 20 * scale - stage["width"] / 2) < 1
    page.focus("#stage")
    page.keyboard.press("f")  # fit: the tip moves with the image
    viewer.wait("() => sitegenViewer.state().zoom === 1")
    page.evaluate("() => sitegenViewer.render()")
    moved = page.evaluate(
        "() => document.querySelector('#svg .annotation polygon:not(.halo)')"
        ".getAttribute('points').split(' ')[0].split(',').map(Number)"
    )
    canvas = page.locator("#image").bounding_box()
    scale = canvas["width"] / COLS
    assert abs(canvas["x"] - stage["x"] + 20 * scale - moved[0]) < 1


def test_length_measurement_in_mm_goes_into_the_link(viewer: Viewer) -> None:
    page = viewer.open("?case=ct#s=1&i=3").page
    page.click("[data-tool=length]")
    canvas = page.locator("#image").bounding_box()
    scale = canvas["width"] / COLS  # CSS pixels per image pixel
    x0, y0 = canvas["x"] + 10 * scale, canvas["y"] + 10 * scale
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 15 * scale, y0, steps=5)
    page.mouse.move(x0 + 30 * scale, y0, steps=5)
    page.mouse.up()
    viewer.wait("() => sitegenViewer.state().measurements.length === 1")
    # 30 image pixels at 0.8 mm
    assert page.locator("#svg").get_by_text("24.0 mm").count() >= 1
    viewer.wait("() => location.hash.includes('m=3L:10,10,40,10')")
    link = viewer.hash()
    page.goto(f"{viewer.base}viewer/?case=ct{link}")
    viewer.wait_rendered("0:2")
    assert page.locator("#svg").get_by_text("24.0 mm").count() >= 1


def test_angle_is_drawn_in_two_legs_and_delete_removes_it(viewer: Viewer) -> None:
    """First leg by dragging, the second placed by hovering and fixed by a click: a right
    angle of 90 degrees; Delete removes the slice's last measurement."""
    page = viewer.open("?case=ct#s=1&i=3").page
    page.click("[data-tool=angle]")
    canvas = page.locator("#image").bounding_box()
    scale = canvas["width"] / COLS
    at = lambda x, y: (canvas["x"] + x * scale, canvas["y"] + y * scale)  # noqa: E731
    page.mouse.move(*at(10, 40))
    page.mouse.down()
    page.mouse.move(*at(10, 25), steps=4)
    page.mouse.move(*at(10, 10), steps=4)
    page.mouse.up()
    page.mouse.move(*at(25, 10), steps=4)  # the second leg follows the pointer
    page.mouse.move(*at(40, 10), steps=4)
    page.mouse.click(*at(40, 10))
    viewer.wait("() => sitegenViewer.state().measurements.length === 1")
    assert viewer.page.evaluate("() => sitegenViewer.state().measurements[0].kind") == "angle"
    assert page.locator("#svg").get_by_text("90.0°").count() >= 1
    viewer.wait("() => location.hash.includes('m=3A:10,40,10,10,40,10')")
    page.keyboard.press("Delete")
    viewer.wait("() => sitegenViewer.state().measurements.length === 0")


def test_cine_plays_through_the_stack(viewer: Viewer) -> None:
    page = viewer.open("?case=ct#s=1&i=1").page
    page.select_option("#fps", "30")
    page.click("#btn-play")
    viewer.wait("() => sitegenViewer.state().slice >= 3")
    page.click("#btn-play")
    assert page.locator("#btn-play").get_attribute("aria-pressed") == "false"


def test_lossy_jpeg_colour_frames_use_the_browser_decoder(browser: Any, tmp_path: Path) -> None:
    cases = '[[cases]]\nslug = "rgb"\ntitle = "Colour"\nsource = "cases/rgb"\nburned_in = "allow"\n'
    out = make_site(tmp_path / "site", "htj2k", "lossy = 95\n" + cases)
    series = manifest(out, "rgb")["studies"][0]["series"][0]
    assert series["transferSyntax"] == "1.2.840.10008.1.2.4.50"
    with serving(out, "/") as url:
        viewer = Viewer(browser, url)
        pixels = viewer.open("?case=rgb").canvas()[..., :3]
        viewer.close()
    # the same pixels as a JPEG decoder in Python gives (decoders differ by rounding only)
    decoded = imagecodecs.jpeg8_decode((out / series["frames"][0]["url"]).read_bytes())
    assert np.abs(pixels - decoded.astype(np.int32)).max() <= 3
    assert np.abs(pixels - rgb_pixels().astype(np.int32)).mean() < 3  # lossy, same picture


def test_packed_frames_show_the_same_pixels_from_a_few_files(browser: Any, tmp_path: Path) -> None:
    """[build] pack = 1: six 512x512 raw slices (512 KiB each) in three packs of two; every
    slice shows its own stored pixels, cut from its pack at the manifest's offset, and the
    viewer fetches each pack once and no frame file (there are none)."""
    root = tmp_path / "site"
    write_ct_series(root / "cases/ct", 6, rows=512, cols=512)
    config = write_site(
        root,
        '[build]\nframes = "raw"\npack = 1\nworkers = 1\n\n[[cases]]\nslug = "ct"\n'
        'title = "Packed"\nsource = "cases/ct"\n',
    )
    report = build(load_config(config), workers=1)
    assert report.published, report.errors
    out = root / "public"
    assert not list(out.glob("dicomweb/**/frames/*"))
    frames = manifest(out, "ct")["studies"][0]["series"][0]["frames"]
    assert sorted({f["pack"].rsplit("/", 1)[1] for f in frames}) == ["1", "2", "3"]
    assert [f["offset"] for f in frames] == [0, 512 * 1024] * 3
    with serving(out, "/") as url:
        v = Viewer(browser, url)
        requests: list[str] = []
        v.page.on("request", lambda r: requests.append(r.url))
        try:
            for n in (1, 2, 3, 6, 5, 4):
                # a narrow window: the 3 HU between neighbouring slices are 19 grey levels
                v.open(f"?case=ct#s=1&i={n}&w=40,-200").wait_rendered(f"0:{n - 1}")
                stored = ct_pixels(ct_index(frames[n - 1]), 512, 512)
                assert_grey(v.canvas(), reference(stored - 1024.0, -200, 40))
        finally:
            v.close()
    assert not [r for r in requests if "/frames/" in r]
    packs = [r for r in requests if "/packs/" in r]
    assert packs and len(set(packs)) == 3


CONTROLS = [
    *(f"[data-tool={t}]" for t in ("scroll", "window", "zoom", "pan", "length", "angle", "probe")),
    "#preset",
    "#btn-play",
    "#fps",
    "#btn-annotations",
    "#btn-reset",
    ".bar .home",
    "#btn-series",
    "#btn-case",
    "#btn-link",
    "#btn-help",
]
SHOWN = """(s) => {
  const el = document.querySelector(s);
  const box = el.getBoundingClientRect();
  if (!el.checkVisibility() || !box.width) return false;
  const holder = el.closest('.bar, .toolbar, .more-menu');
  const bar = holder.getBoundingClientRect();
  const pad = parseFloat(getComputedStyle(holder).paddingRight);  // an overflowing bar clips
  return box.left >= bar.left - 0.5 && box.right <= bar.right - pad + 0.5 && box.left >= 0
    && box.right <= window.innerWidth + 0.5 && box.bottom <= window.innerHeight;
}"""


@pytest.mark.parametrize("size", [(360, 740), (1366, 768)])
def test_every_control_is_on_screen_or_in_the_more_menu(
    browser: Any, site: tuple[Path, str], size: tuple[int, int]
) -> None:
    """No sideways scrolling toolbar: what does not fit moves into the More menu, in order,
    and works from there; on a wide screen everything is in the bars."""
    width, height = size
    viewer = Viewer(browser, site[1], viewport={"width": width, "height": height})
    page = viewer.open("?case=ct").page
    shown = {s: page.evaluate(SHOWN, s) for s in CONTROLS}
    more = page.locator("#btn-more")
    if width > 1000:
        assert all(shown.values()), shown
        assert not more.is_visible()
    else:
        away = [s for s, on in shown.items() if not on]
        assert len(away) >= 3 and more.is_visible(), shown
        assert page.evaluate(SHOWN, "#btn-more")
        more.click()
        for s in away:
            assert page.evaluate(SHOWN, s), s
            assert page.locator(f"#more-menu {s}").count() == 1, s
        page.locator("#more-menu [data-tool=length]").click()  # a tool from the menu
        assert page.get_attribute("[data-tool=length]", "aria-pressed") == "true"
        assert not page.locator("#more-menu").is_visible()  # picking it closed the menu
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(Path(site[0]).parent / f"controls-{width}.png"))
    viewer.close()


def test_a_phone_case_page_shows_the_image_and_a_tap_opens_the_viewer(
    browser: Any, raw_site: tuple[Path, str]
) -> None:
    """At 360 px the embedded viewer is the image alone (no bars or edge labels over it), and
    a tap opens the viewer's own page; at desktop width the embed keeps its tools. (The site
    served at its base URL, /: the case pages' links are absolute.)"""
    site = raw_site
    viewer = Viewer(
        browser, site[1], viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True
    )
    page = viewer.page
    page.goto(f"{site[1]}cases/ct/")
    frame = page.frame_locator(".frame iframe")
    frame.locator("#open-full").wait_for()
    outer = page.locator(".frame iframe").bounding_box()
    stage = frame.locator("#stage").bounding_box()
    assert outer["height"] >= 300, outer  # was 135 px of image under three bars
    assert stage["height"] >= outer["height"] - 2, (stage, outer)
    for hidden in ("#toolbar", ".slicebar", ".ov.left", ".ov.right", ".scale"):
        assert not frame.locator(hidden).is_visible(), hidden
    frame.locator("#open-full").tap()
    page.wait_for_url("**/viewer/?case=ct*")
    viewer.wait("() => !!document.getElementById('stage').dataset.rendered")
    assert page.locator("#toolbar").is_visible() and not page.locator("#open-full").is_visible()
    viewer.close()

    desk = Viewer(browser, site[1], viewport={"width": 1366, "height": 768})
    desk.page.goto(f"{site[1]}cases/ct/")
    frame = desk.page.frame_locator(".frame iframe")
    frame.locator("#stage[data-rendered]").wait_for(state="attached")
    assert not frame.locator("#open-full").is_visible()
    assert frame.locator("#btn-more").is_visible()  # the narrow embed's toolbar overflows
    (inner,) = [f for f in desk.page.frames if "/viewer/" in f.url]
    inner.wait_for_function(f"() => ({SHOWN})('#btn-more')", timeout=5000)  # refitted
    desk.close()
