"""Reformats in a real browser (Debian's chromium): coronal and sagittal planes rebuilt from
the sample chest CT's axial stack match a numpy reformat of the published frames pixel for
pixel, show its nodule at the crosshair in all three views, are drawn to scale, follow a press
in a side view, and come back from a link; a stack with uneven spacing says why it has none."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pydicom
import pytest
from conftest import serving, write_site
from dicomgen import write_ct_series
from PIL import Image
from test_viewer import Viewer, reference

from sitegen.build import build
from sitegen.config import load_config
from sitegen.sources.sample._chest import _NODULE_CENTER_MM, _NODULE_HU, _NODULE_SLICE

SITE = """
[build]
downloads = false

[[cases]]
slug = "chest"
title = "Chest"
source = "sample:chest-ct"

[[cases]]
slug = "uneven"
title = "Uneven"
source = "cases/uneven"
"""
WINDOW = (400.0, 40.0)  # width, center


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("reformat")
    paths = write_ct_series(root / "cases/uneven", 6, rows=32, cols=32)
    last = pydicom.dcmread(paths[-1])
    last.ImagePositionPatient[2] -= 4.0  # 3 mm apart, then 7
    last.save_as(paths[-1], enforce_file_format=True)
    report = build(load_config(write_site(root, SITE)), workers=2)
    assert report.published, report.errors
    with serving(Path(report.out_dir), "/") as url:
        yield Path(report.out_dir), url


def stack(out: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The published frames of the chest CT, decoded, in display order (HU), and the series."""
    series = json.loads((out / "data/cases/chest.json").read_text())["studies"][0]["series"][0]
    slices = []
    for f in series["frames"]:
        if "pack" in f:
            data = (out / f["pack"]).read_bytes()[f["offset"] : f["offset"] + f["bytes"]]
        else:
            data = (out / f["url"]).read_bytes()
        slices.append(imagecodecs.htj2k_decode(data))
    slope, intercept = series["rescale"]
    return np.stack(slices).astype(np.float64) * slope + intercept, series


def pane(viewer: Viewer, plane: str) -> np.ndarray:
    url = viewer.page.evaluate(
        "(p) => document.querySelector(`.pane[data-plane=${p}] canvas`).toDataURL('image/png')",
        plane,
    )
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.int32)[..., 0]


def nodule(series: dict[str, Any]) -> tuple[int, int, int]:
    """The nodule's centre as column, row and slice of the published stack."""
    x0, y0, _ = series["frames"][0]["position"]
    row_mm, col_mm = series["pixelSpacing"]
    nx, ny, _ = _NODULE_CENTER_MM
    return round((nx - x0) / col_mm), round((ny - y0) / row_mm), _NODULE_SLICE


def test_three_views_show_the_nodule_at_one_point_and_match_numpy(
    browser: Any, site: tuple[Path, str]
) -> None:
    out, url = site
    hu, series = stack(out)
    x, y, k = nodule(series)
    viewer = Viewer(browser, url, viewport={"width": 1366, "height": 768})
    viewer.open(f"?case=chest#i={k + 1}&w={WINDOW[0]:g},{WINDOW[1]:g}&l=3&p={x},{y}")
    viewer.wait("() => sitegenViewer.loaded() === sitegenViewer.total()", timeout=30_000)
    viewer.page.evaluate("() => sitegenViewer.render()")
    width, center = WINDOW
    # the slices are in display order, apex first (z falls): a reformat's rows are the slices
    coronal, sagittal = hu[:, y, :], hu[:, :, x]
    assert np.array_equal(pane(viewer, "cor"), reference(coronal, center, width))
    assert np.array_equal(pane(viewer, "sag"), reference(sagittal, center, width))
    axial = viewer.canvas()[..., 0]
    nodule_grey = reference(np.array([_NODULE_HU]), center, width)[0]
    lung = reference(np.array([-800.0]), center, width)[0]
    # the nodule at the point in all three views; lung 15 px (10 mm) beside it
    for name, image, (u, v) in (
        ("axial", axial, (x, y)),
        ("coronal", pane(viewer, "cor"), (x, k)),
        ("sagittal", pane(viewer, "sag"), (y, k)),
    ):
        assert abs(image[v, u] - nodule_grey) < 40, name
        assert image[v, u + 15] <= lung + 10, name
    # to scale: 120 slices 2.5 mm apart against 512 columns 0.7 mm apart
    box = viewer.page.evaluate(
        "() => { const r = document.querySelector('.pane[data-plane=cor] canvas')"
        ".getBoundingClientRect(); return [r.width, r.height]; }"
    )
    slice_mm = abs(series["frames"][1]["position"][2] - series["frames"][0]["position"][2])
    expected = (len(series["frames"]) * slice_mm) / (series["columns"] * series["pixelSpacing"][1])
    assert box[1] / box[0] == pytest.approx(expected, rel=0.02)
    # the crosshair passes through the point in the main view
    cross = viewer.page.evaluate(
        "() => [...document.querySelectorAll('#stage .cross')].map(e => e.hidden)"
    )
    assert cross == [False, False]
    # a press in the coronal view moves the point: its column, and the slice of its row
    target = viewer.page.evaluate(
        "([u, v]) => { const c = document.querySelector('.pane[data-plane=cor] canvas');"
        " const r = c.getBoundingClientRect();"
        " return [r.left + (u + 0.5) / c.width * r.width,"
        " r.top + (v + 0.5) / c.height * r.height]; }",
        [200, 80],
    )
    viewer.page.mouse.click(*target)
    viewer.wait("() => sitegenViewer.state().slice === 80")
    state = viewer.state()
    assert state["point"] == [200, y] and state["slice"] == 80
    viewer.wait("() => location.hash.includes('p=200,')")
    viewer.close()


def test_a_link_restores_plane_layout_and_point(browser: Any, site: tuple[Path, str]) -> None:
    out, url = site
    hu, series = stack(out)
    x, y, k = nodule(series)
    viewer = Viewer(browser, url, viewport={"width": 360, "height": 740}, is_mobile=True)
    viewer.open(f"?case=chest#i={k + 1}&w=400,40&v=sag&p={x},{y}", image=False)
    viewer.wait_rendered(f"sag:0:{x}")
    state = viewer.state()
    assert (state["plane"], state["layout"], state["point"]) == ("sag", 1, [x, y])
    assert viewer.page.locator("#sides").is_hidden()
    tr = viewer.page.locator("[data-overlay=tr]").text_content() or ""
    assert f"Plane {x + 1}/{series['columns']}" in tr and "Sagittal" in tr
    assert viewer.page.locator("[data-overlay=top]").text_content() == "H"
    assert viewer.page.locator("[data-overlay=right]").text_content() == "P"
    # scrolling the sagittal view moves through columns, and the link follows
    viewer.page.keyboard.press("ArrowDown")
    viewer.wait_rendered(f"sag:0:{x + 1}")
    viewer.wait(f"() => location.hash.includes('p={x + 1},{y}')")
    assert "v=sag" in viewer.hash()
    # a new link: three views around the coronal plane
    viewer.page.evaluate(f"() => {{ location.hash = '#i={k + 1}&v=cor&l=3&p={x},{y}'; }}")
    viewer.wait_rendered(f"cor:0:{y}")
    assert viewer.state()["layout"] == 3
    assert viewer.page.locator(".pane[data-plane=ax] canvas").is_visible()
    assert viewer.page.locator(".pane[data-plane=sag] canvas").is_visible()
    viewer.close()


def test_an_uneven_stack_says_why_it_has_no_reformats(browser: Any, site: tuple[Path, str]) -> None:
    _, url = site
    viewer = Viewer(browser, url)
    viewer.open("?case=uneven#v=cor&l=3")
    assert viewer.page.locator("#plane").is_disabled()
    title = viewer.page.locator("#plane").get_attribute("title") or ""
    assert "not evenly spaced (3–7 mm apart)" in title
    message = viewer.page.locator("#message")
    assert "No reformats of this series" in (message.text_content() or "")
    state = viewer.state()
    assert (state["plane"], state["layout"]) == ("ax", 1)
    rendered = viewer.page.evaluate("() => document.getElementById('stage').dataset.rendered")
    assert rendered.startswith("0:")
    viewer.close()
