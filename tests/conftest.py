"""Shared fixtures: small sites written into a temporary folder."""

from __future__ import annotations

import contextlib
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/dicomgen.py


def write_site(root: Path, body: str, title: str = "Test site") -> Path:
    """Write root/site.toml with a [site] table and `body`; returns its path."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "site.toml"
    config.write_text(f'[site]\ntitle = "{title}"\n\n{body}', encoding="utf-8")
    return config


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return tmp_path / "site"


class _Plain(http.server.SimpleHTTPRequestHandler):
    """A static server that sends no security header at all (Content-Type by extension), as
    GitHub Pages and Surge send none."""

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(root: Path, base_url: str = "/", *, plain: bool = False) -> Iterator[str]:
    """Serve `root` under `base_url` on 127.0.0.1 (sitegen's preview server, or with `plain`
    Python's stock static server at "/"); yields the URL of the site's root, e.g.
    http://127.0.0.1:41234/teaching/."""
    from sitegen.serve import make_server

    if plain:
        handler = functools.partial(_Plain, directory=str(root))
        server: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    else:
        server = make_server(root, port=0, base_url=base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base_url}"
    finally:
        server.shutdown()
        server.server_close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (never a downloaded browser). .ci/run installs
    it; without it the browser tests are skipped with the reason."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
