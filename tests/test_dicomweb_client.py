"""A real DICOMweb client reads the built tree from a plain static HTTP server on 127.0.0.1.

The server is Python's stock static file server (no sitegen code): it answers `/studies` with
a 301 to `/studies/` and its index.html, as GitHub Pages or Netlify do.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pydicom
import pytest
from conftest import write_site
from dicomgen import ct_pixels, write_ct_series
from dicomweb_client.api import DICOMwebClient
from pydicom.data import get_testdata_file

from sitegen import codestreams
from sitegen.build import build
from sitegen.config import load_config
from sitegen.render import layout_from_metadata


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module", params=["raw", "htj2k"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """Build a site with a generated series and two pydicom test files, and serve it."""
    site_dir = tmp_path_factory.mktemp("site")
    write_ct_series(site_dir / "ct", 5)
    (site_dir / "mr").mkdir()
    shutil.copy(get_testdata_file("MR_small.dcm"), site_dir / "mr/MR_small.dcm")
    shutil.copy(get_testdata_file("CT_small.dcm"), site_dir / "mr/CT_small.dcm")
    config = write_site(
        site_dir,
        f'[build]\nframes = "{request.param}"\n'
        '[[cases]]\nslug = "gen"\ntitle = "Generated"\nsource = "ct"\n'
        '[[cases]]\nslug = "small"\ntitle = "Small"\nsource = "mr"\n',
    )
    report = build(load_config(config), workers=2)
    assert report.published
    handler = functools.partial(QuietHandler, directory=str(site_dir / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dicomweb", site_dir
    finally:
        server.shutdown()
        server.server_close()


def test_qido_and_metadata(served: tuple[str, Path]) -> None:
    url, _ = served
    client = DICOMwebClient(url=url)
    studies = client.search_for_studies()
    assert len(studies) == 3  # generated + CT_small + MR_small (each its own study)
    names = {s["00100010"]["Value"][0]["Alphabetic"] for s in studies}
    assert names == {"gen", "small"}  # PatientName is the case slug after de-identification
    counts = sorted(s["00201208"]["Value"][0] for s in studies)
    assert counts == [1, 1, 5]
    for study in studies:
        s_uid = study["0020000D"]["Value"][0]
        series = client.search_for_series(s_uid)
        assert series and all(r["0020000D"]["Value"][0] == s_uid for r in series)
        for row in series:
            r_uid = row["0020000E"]["Value"][0]
            meta = client.retrieve_series_metadata(s_uid, r_uid)
            assert len(meta) == row["00201209"]["Value"][0]
            assert all(m["0020000E"]["Value"][0] == r_uid for m in meta)


def _frames(url: str) -> Iterator[tuple[dict, np.ndarray]]:
    client = DICOMwebClient(url=url)
    with httpx.Client() as http:
        for study in client.search_for_studies():
            s_uid = study["0020000D"]["Value"][0]
            for row in client.search_for_series(s_uid):
                r_uid = row["0020000E"]["Value"][0]
                base = f"{url}/studies/{s_uid}/series/{r_uid}/"
                for meta in client.retrieve_series_metadata(s_uid, r_uid):
                    uri = meta["7FE00010"]["BulkDataURI"]  # single frames: that frame
                    assert uri.endswith("/frames/1")
                    response = http.get(base + uri)
                    response.raise_for_status()
                    ts = meta["00083002"]["Value"][0]
                    layout = layout_from_metadata(meta)
                    yield meta, codestreams.decode_frame(response.content, ts, layout)


def test_every_frame_decodes_to_the_input_pixels(served: tuple[str, Path]) -> None:
    url, site_dir = served
    inputs = {
        pydicom.dcmread(get_testdata_file(n)).pixel_array.tobytes()
        for n in ("MR_small.dcm", "CT_small.dcm")
    }
    seen = 0
    for meta, frame in _frames(url):
        z = meta["00200032"]["Value"][2]
        if meta["00100020"]["Value"][0] == "gen":
            index = round((100.0 - z) / 3.0)
            expected = ct_pixels(index)
            assert np.array_equal(frame.reshape(expected.shape), expected)
        else:
            assert frame.tobytes() in inputs
        seen += 1
    assert seen == 7


def test_instance_lists_study_metadata_and_retrieve_urls(served: tuple[str, Path]) -> None:
    """What a static host can answer beyond studies and series: every level's instance
    list, the site's series and instances, study metadata; rows say where they are."""
    url, _ = served
    client = DICOMwebClient(url=url)
    everything = client.search_for_instances()
    assert len(everything) == 7 and len(client.search_for_series()) == 3
    with httpx.Client() as http:
        for study in client.search_for_studies():
            s_uid = study["0020000D"]["Value"][0]
            assert study["00080056"]["Value"] == ["ONLINE"]
            assert study["00081190"]["Value"] == [f"/dicomweb/studies/{s_uid}"]
            rows = client.search_for_instances(s_uid)
            metadata = client.retrieve_study_metadata(s_uid)
            assert len(rows) == len(metadata) == study["00201208"]["Value"][0]
            for series in client.search_for_series(s_uid):
                r_uid = series["0020000E"]["Value"][0]
                listed = client.search_for_instances(s_uid, r_uid)
                assert {r["00080018"]["Value"][0] for r in listed} == {
                    m["00080018"]["Value"][0] for m in client.retrieve_series_metadata(s_uid, r_uid)
                }
                for row in listed:
                    retrieve = row["00081190"]["Value"][0]
                    assert retrieve.endswith(
                        f"/series/{r_uid}/instances/{row['00080018']['Value'][0]}"
                    )
                    # the instance's folder holds its frames there
                    frame = http.get(url.rsplit("/dicomweb", 1)[0] + retrieve + "/frames/1")
                    assert frame.status_code == 200 and frame.content
