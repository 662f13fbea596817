"""Comparing with a prior in a real browser (Debian's chromium): a case of two studies two
years apart shows the prior beside the current series, named by its interval from the
shifted dates, at the slice of the same position, following the main view's scrolling and
its own, pixel for pixel the right slice; the link restores the compared series and offset."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from conftest import serving, write_site
from dicomgen import ct_pixels, write_ct_series
from PIL import Image
from pydicom.uid import generate_uid
from test_viewer import Viewer, reference

from sitegen.build import build
from sitegen.config import load_config

ROWS, COLS = 48, 40
SITE = """
[build]
downloads = false

[[cases]]
slug = "pair"
title = "Pair"
source = "cases/pair"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("compare")
    now = generate_uid(entropy_srcs=["study", "now"])
    prior = generate_uid(entropy_srcs=["study", "prior"])
    write_ct_series(root / "cases/pair/now", 6, study_uid=now, seed="now", rows=ROWS, cols=COLS)
    # the prior: 8 slices from 6 mm higher up, two years earlier (dicomgen's date: 20240115)
    for path in write_ct_series(
        root / "cases/pair/prior", 8, study_uid=prior, seed="prior", rows=ROWS, cols=COLS, z0=106.0
    ):
        ds = pydicom.dcmread(path)
        ds.StudyDate = "20220115"
        ds.save_as(path, enforce_file_format=True)
    report = build(load_config(write_site(root, SITE)), workers=2)
    assert report.published, report.errors
    with serving(Path(report.out_dir), "/") as url:
        yield Path(report.out_dir), url


def expected(index: int) -> np.ndarray:
    """Slice `index` of a generated series, windowed as the viewer opens it (400/40)."""
    return reference(ct_pixels(index, ROWS, COLS).astype(np.float64) - 1024, 40, 400)


def compared(viewer: Viewer) -> np.ndarray:
    url = viewer.page.evaluate(
        "() => document.querySelector('#compare canvas').toDataURL('image/png')"
    )
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.int32)[..., 0]


SHOWN = "(s) => document.querySelector('#compare .pane').dataset.shown === s"


def test_the_prior_beside_the_current_series_at_the_same_position(
    browser: Any, site: tuple[Path, str]
) -> None:
    out, url = site
    manifest = json.loads((out / "data/cases/pair.json").read_text())
    dates = [s["date"] for s in manifest["studies"]]
    assert "20240115" not in dates and "20220115" not in dates  # shifted
    assert [len(s["series"][0]["frames"]) for s in manifest["studies"]] == [6, 8]  # newest first
    viewer = Viewer(browser, url, viewport={"width": 1366, "height": 768})
    viewer.open("?case=pair#i=3")
    options = viewer.page.locator("#compare-with option").all_text_contents()
    assert options[0] == "None" and options[1].startswith("Prior: 2 years earlier · 2. CT")
    if viewer.page.locator("#more-menu #compare-with").count():  # it did not fit the bar
        viewer.page.click("#btn-more")
    viewer.page.select_option("#compare-with", "1")
    # the stacks' centres lined up: 3 mm apart, so slice 3 (z 94) faces the prior's 4th (z 97)
    viewer.wait(SHOWN, "1:3")
    assert viewer.state()["compare"] == {"series": 1, "offset": 3}
    assert np.array_equal(compared(viewer), expected(3))
    caption = viewer.page.locator("#compare figcaption").text_content()
    assert caption == "Prior: 2 years earlier · slice 4/8"
    viewer.wait("() => location.hash.includes('c=2,3')")
    # the main view scrolls: the prior follows
    viewer.page.locator("#stage").focus()
    viewer.page.keyboard.press("ArrowDown")
    viewer.wait(SHOWN, "1:4")
    assert np.array_equal(compared(viewer), expected(4))
    # the prior scrolls alone: the offset changes, the main slice stays
    box = viewer.page.locator("#compare canvas").bounding_box()
    viewer.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    viewer.page.mouse.wheel(0, 100)
    viewer.wait(SHOWN, "1:5")
    state = viewer.state()
    # one slice further down (3 mm lower): the two now meet at the same height
    assert state["slice"] == 3 and state["compare"] == {"series": 1, "offset": 0}
    viewer.wait("() => location.hash.includes('c=2,0')")
    # three views and compare take turns
    viewer.page.evaluate("() => document.getElementById('btn-layout').click()")
    viewer.wait("() => sitegenViewer.state().layout === 3")
    assert viewer.state()["compare"] is None
    viewer.wait("() => document.getElementById('compare').hidden")
    viewer.wait("() => !location.hash.includes('c=') && location.hash.includes('l=3')")
    viewer.close()


def test_a_link_restores_the_compared_series_and_offset(
    browser: Any, site: tuple[Path, str]
) -> None:
    _, url = site
    viewer = Viewer(browser, url, viewport={"width": 360, "height": 740}, is_mobile=True)
    viewer.open("?case=pair#i=3&c=2,6")  # z 94 + 6 = 100: the prior's 3rd slice
    viewer.wait(SHOWN, "1:2")
    assert np.array_equal(compared(viewer), expected(2))
    stage = viewer.page.locator("#stage").bounding_box()
    pane = viewer.page.locator("#compare").bounding_box()
    assert pane["y"] >= stage["y"] + stage["height"] - 1  # under the main view on a phone
    assert pane["height"] > 200
    # a link without c: nothing compared
    viewer.page.evaluate("() => { location.hash = '#i=3'; }")
    viewer.wait("() => document.getElementById('compare').hidden")
    assert viewer.state()["compare"] is None
    viewer.close()
