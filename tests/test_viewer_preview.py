"""The preview tier in a real browser (Debian's chromium): with the full frames held back by
the network, every slice is still on screen at once from its preview, windowed like the full
frame would be, labelled as a preview; each slice turns to full quality as its frame arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
from conftest import serving
from test_preview import built
from test_viewer import Viewer, reference

SLICES = 24


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    out, _ = built(tmp_path_factory.mktemp("preview") / "site", SLICES)
    with serving(out, "/") as url:
        yield out, url


def preview_values(out: Path, slice_index: int) -> np.ndarray:
    """The slice's preview as the build wrote it (stored values), rescaled."""
    series = json.loads((out / "data/cases/ct.json").read_text())["studies"][0]["series"][0]
    chunk, offset, size = series["preview"]["frames"][slice_index]
    data = (out / series["preview"]["chunks"][chunk]).read_bytes()[offset : offset + size]
    slope, intercept = series["rescale"]
    return imagecodecs.htj2k_decode(data).astype(np.float64) * slope + intercept


def halved(canvas: np.ndarray) -> np.ndarray:
    """The canvas (one pixel per full-frame pixel) averaged over 2x2: the preview's grid."""
    grey = canvas[..., 0].astype(np.float64)
    return grey.reshape(grey.shape[0] // 2, 2, grey.shape[1] // 2, 2).mean(axis=(1, 3))


def test_every_slice_shows_its_preview_before_its_full_frame(
    browser: Any, site: tuple[Path, str]
) -> None:
    out, url = site
    viewer = Viewer(browser, url)
    held: list[Any] | None = []
    passed: list[str] = []

    def frames(route: Any) -> None:
        if not passed or held is None:  # the shown slice's frame comes; the others wait
            passed.append(route.request.url)
            route.continue_()
        else:
            held.append(route)

    viewer.context.route("**/frames/*", frames)
    try:
        viewer.open("?case=ct#i=12&w=400,40").wait_rendered("0:11")
        assert viewer.page.evaluate("() => sitegenViewer.quality()") == "full"
        viewer.wait(f"() => sitegenViewer.previewed() === {SLICES}")
        assert viewer.page.evaluate("() => sitegenViewer.loaded()") == 1  # no other full frame
        assert viewer.page.evaluate("() => sitegenViewer.stats.scrollable !== null")
        for index in (2, 20):  # far from the shown slice: other chunks than its own
            viewer.page.evaluate(f"() => sitegenViewer.setSlice({index})")
            viewer.wait("() => document.getElementById('stage').dataset.quality === 'preview'")
            tr = viewer.page.locator("[data-overlay=tr]").text_content() or ""
            assert f"Slice {index + 1}/{SLICES}" in tr and "preview" in tr
            rendered = "() => document.getElementById('stage').dataset.rendered"
            assert viewer.page.evaluate(rendered) == ""  # no full frame on screen
            expected = reference(preview_values(out, index), 40, 400)
            diff = np.abs(halved(viewer.canvas()) - expected)
            assert diff.mean() < 3, f"slice {index}: the preview drawn is not its own"
        # windowing works on the preview: its 16-bit values, not an 8-bit picture
        viewer.page.evaluate("() => { location.hash = '#i=21&w=1500,-600'; }")
        viewer.wait("() => sitegenViewer.state().window.width === 1500")
        viewer.page.evaluate("() => sitegenViewer.render()")
        expected = reference(preview_values(out, 20), -600, 1500)
        assert np.abs(halved(viewer.canvas()) - expected).mean() < 3
        waiting, held = held, None  # the network lets the full frames through
        for route in waiting:
            route.continue_()
        viewer.wait_rendered("0:20")
        assert viewer.page.evaluate("() => sitegenViewer.quality()") == "full"
        tr = viewer.page.locator("[data-overlay=tr]").text_content() or ""
        assert "full quality" in tr
    finally:
        for route in held or []:
            route.abort()
        viewer.close()
