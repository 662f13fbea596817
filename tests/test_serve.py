"""The preview server: `_headers` applied, base URL, 404.html, live reload, rebuild on change."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from test_pages import build_site

from sitegen.build import build
from sitegen.config import ConfigError, Site, load_config
from sitegen.hosts import CSP
from sitegen.serve import Reloader, inject_reload, make_server, pattern_regex, rebuild_on_change

HTJ2K = "1.2.840.10008.1.2.4.201"


@contextlib.contextmanager
def dev_server(root: Path, base_url: str, reloader: Reloader | None) -> Iterator[str]:
    server = make_server(root, port=0, base_url=base_url, reloader=reloader)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if reloader is not None:
            reloader.close()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path]:
    return build_site(tmp_path_factory.mktemp("serve") / "site", "/teaching/")


def test_pattern_regex_reads_patterns_as_the_hosts_do() -> None:
    frames = pattern_regex("/b/dicomweb/studies/:s/series/:r/instances/:i/frames/*")
    assert frames.match("/b/dicomweb/studies/1.2/series/3.4/instances/5.6/frames/1")
    assert not frames.match("/b/dicomweb/studies/1.2/series/3.4/metadata")
    assert not frames.match("/b/dicomweb/studies/1/x/series/3/instances/5/frames/1")
    assert pattern_regex("/b/*").match("/b/")
    assert pattern_regex("/b/").match("/b/") and not pattern_regex("/b/").match("/b/x")


def test_serve_applies_headers_under_the_base_url(built: tuple[Site, Path]) -> None:
    site, out = built
    frame = next(out.glob("dicomweb/studies/*/series/*/instances/*/frames/1"))
    metadata = next(out.glob("dicomweb/studies/*/series/*/metadata"))
    with dev_server(out, "/teaching/", None) as origin, httpx.Client(base_url=origin) as http:
        page = http.get("/teaching/")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CSP
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "/__sitegen/" not in page.text  # no live reload without a reloader

        r = http.get("/teaching/" + frame.relative_to(out).as_posix())
        assert r.status_code == 200 and r.content == frame.read_bytes()
        assert r.headers["content-type"] == f"application/octet-stream; transfer-syntax={HTJ2K}"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["access-control-allow-origin"] == "*"

        r = http.get("/teaching/" + metadata.relative_to(out).as_posix())
        assert r.headers["content-type"] == "application/dicom+json"
        assert r.headers["access-control-allow-origin"] == "*"

        viewer = http.get("/teaching/viewer/?case=brain-mr")
        assert viewer.status_code == 200 and "x-frame-options" not in viewer.headers
        assert "access-control-allow-origin" not in http.get("/teaching/index.html").headers

        missing = http.get("/teaching/cases/nope/")
        assert missing.status_code == 404 and "Page not found" in missing.text
        assert http.get("/elsewhere/index.html").status_code == 404
        root = http.get("/")
        assert root.status_code == 302 and root.headers["location"] == "/teaching/"


def test_live_reload_script_and_long_poll(built: tuple[Site, Path]) -> None:
    _, out = built
    reloader = Reloader()
    with dev_server(out, "/teaching/", reloader) as origin, httpx.Client(base_url=origin) as http:
        page = http.get("/teaching/cases/chest-trauma/")
        assert '<script src="/__sitegen/reload.js" defer></script>\n</head>' in page.text
        assert int(page.headers["content-length"]) == len(page.content)
        assert page.headers["content-security-policy"] == CSP  # the script is same-origin
        script = http.get("/__sitegen/reload.js")
        assert script.status_code == 200 and "location.reload()" in script.text
        assert http.get("/__sitegen/reload?since=-1").text == "0"
        assert "/__sitegen/" not in (out / "cases/chest-trauma/index.html").read_text()

        threading.Timer(0.2, reloader.bump).start()
        t0 = time.monotonic()
        assert http.get("/__sitegen/reload?since=0", timeout=10).text == "1"
        assert time.monotonic() - t0 < 5


def test_inject_reload_without_head() -> None:
    tag = b'<script src="/__sitegen/reload.js" defer></script>'
    assert inject_reload(b"<p>x</p>") == b"<p>x</p>" + tag


def test_rebuild_on_change_of_site_toml(tmp_path: Path, browser: Any) -> None:
    """Edit site.toml while a page is open: the site is rebuilt and the page reloads."""
    site, out = build_site(tmp_path / "site")
    config = site.config_file

    def load_site() -> Site | None:
        try:
            return load_config(config)
        except ConfigError:  # caught mid-write: the next change event brings the whole file
            return None

    def rebuild(new_site: Site) -> bool:
        return build(new_site, workers=1, deid=False).published

    reloader = Reloader()
    stop = threading.Event()
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            rebuild_on_change(site, load_site, rebuild, reloader.bump, stop, 100)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    watcher = threading.Thread(target=watch, daemon=True)
    with dev_server(out, "/", reloader) as origin:
        page = browser.new_page()
        page.goto(origin + "/")
        assert page.title() == "Teaching <file> & co"
        watcher.start()
        text = config.read_text(encoding="utf-8")
        deadline = time.monotonic() + 60
        n = 0
        while reloader.generation == 0 and time.monotonic() < deadline:
            n += 1  # the watch may not be armed yet: edit again until it sees one
            config.write_text(text.replace("Teaching <file>", f"Renamed {n}"), encoding="utf-8")
            reloader.wait(0, 2.0)
        assert reloader.generation >= 1, errors
        # polled from here: a string predicate is evaluated in the page, which the page's CSP
        # forbids once the reload has replaced it mid-poll
        title, until = "", time.monotonic() + 15
        while not title.startswith("Renamed") and time.monotonic() < until:
            try:
                title = page.title()
            except PlaywrightError:  # the page is being replaced by the reload
                pass
            time.sleep(0.1)
        assert title.startswith("Renamed"), title
        assert "Renamed" in (out / "index.html").read_text(encoding="utf-8")
        page.close()
    stop.set()
    watcher.join(10)
    assert not watcher.is_alive() and not errors


def test_serve_command_base_url_and_ctrl_c(built: tuple[Site, Path]) -> None:
    """`sitegen serve --base-url` serves there; Ctrl-C stops it at once, even with a page's
    long-poll open."""
    site, out = built
    args = [sys.executable, "-m", "sitegen", "serve", "-c", str(site.config_file)]
    args += ["--no-build", "--port", "0", "--base-url", "teaching"]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/teaching/) ", line)
        assert match, line
        url = match.group(1)
        assert httpx.get(url).status_code == 200
        assert httpx.get(url + "cases/hostile/").headers["content-security-policy"] == CSP
        origin = url.removesuffix("teaching/")
        poll = threading.Thread(
            target=lambda: httpx.get(origin + "__sitegen/reload?since=0", timeout=30)
        )
        poll.start()
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "stopped" in proc.stderr.read()
        poll.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_rebuild_refused_by_the_lock_is_tried_again(tmp_path: Path) -> None:
    """While another build holds the output, a change is rebuilt as soon as it is free."""
    from sitegen import publish
    from sitegen.cli import _serve_build

    site, out = build_site(tmp_path / "site")
    config = site.config_file
    published = threading.Event()
    stop = threading.Event()
    tries: list[bool | None] = []

    def rebuild(new_site: Site) -> bool | None:
        tries.append(_serve_build(new_site, quiet=True))
        return tries[-1]

    def load_site() -> Site | None:
        try:
            return load_config(config)
        except ConfigError:
            return None

    with publish.locked(out):
        watcher = threading.Thread(
            target=rebuild_on_change,
            args=(site, load_site, rebuild, published.set, stop, 100),
            daemon=True,
        )
        watcher.start()
        text = config.read_text(encoding="utf-8")
        deadline = time.monotonic() + 30
        n = 0
        while not tries and time.monotonic() < deadline:
            n += 1
            config.write_text(text.replace("Teaching <file>", f"Busy {n}"), encoding="utf-8")
            time.sleep(0.5)
        time.sleep(1.5)  # refused at least once more
    assert published.wait(60)
    stop.set()
    watcher.join(10)
    assert tries[0] is None and tries[-1] is True
    assert "Busy" in (out / "index.html").read_text(encoding="utf-8")


def test_a_tab_closing_mid_response_prints_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real client that asks for a large file and resets the connection at once: the
    server's write fails (broken pipe or reset) and nothing is printed; another error in a
    handler still is."""
    import socket
    import struct

    (tmp_path / "big.bin").write_bytes(os.urandom(16 << 20))
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(3):
            client = socket.create_connection(server.server_address)
            client.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(1024)  # the response has started
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # RST: the server's next writes fail
        time.sleep(1.0)
        assert "Traceback" not in capsys.readouterr().err
        try:
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "ValueError: a real bug" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
