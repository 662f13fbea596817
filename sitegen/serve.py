"""A local preview server for public/: 127.0.0.1 only, with the content types of the tree."""

from __future__ import annotations

import functools
import re
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FRAME_RE = re.compile(r"/frames/\d+$")


def content_type(path: str) -> str | None:
    """The type of files whose names carry no extension; None for the usual guess."""
    if path.endswith("/metadata"):
        return "application/dicom+json"
    if FRAME_RE.search(path):
        return "application/octet-stream"
    if path.endswith("/thumbnail"):
        return "image/jpeg"
    if "/dicomweb/" in path and path.endswith((".html", ".json", "/")):
        return "application/dicom+json"
    return None


class Handler(SimpleHTTPRequestHandler):
    base_url = "/"  # the site is served under this path; anything else is a 404

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def guess_type(self, path: str | Path) -> str:
        url_path = self.path.split("?", 1)[0]
        return content_type(url_path) or super().guess_type(path)

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if not clean.startswith(self.base_url) and clean + "/" != self.base_url:
            return str(Path(self.directory) / ".sitegen-not-found")
        return super().translate_path("/" + path[len(self.base_url) :])

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


def make_server(
    root: Path, port: int = 8000, host: str = "127.0.0.1", base_url: str = "/"
) -> ThreadingHTTPServer:
    """A server for `root` under `base_url`; port 0 picks a free one (server.server_address)."""
    handler_class = type("SiteHandler", (Handler,), {"base_url": base_url})
    handler = functools.partial(handler_class, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)
