"""A local preview server for public/: 127.0.0.1 only, as close to a static host as it gets.

- Responses carry the headers the built `_headers` file declares (Netlify and Cloudflare read
  the same file), so CSP, CORS and the frames' Content-Type are tried out locally.
- Missing files get `404.html` with status 404, as the hosts do.
- With live reload on, HTML responses get one `<script src="/__sitegen/reload.js">` (served
  from this origin, so the CSP allows it; never written into the built files). The script
  long-polls `/__sitegen/reload` and reloads the page when a rebuild has been published.
- `rebuild_on_change` watches site.toml, the case files and the page templates (watchfiles)
  and rebuilds; the atomic publish means the server never sees a half-built site.
"""

from __future__ import annotations

import functools
import io
import os
import re
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from .config import Site
from .hosts import parse_headers

FRAME_RE = re.compile(r"/frames/\d+$")
RELOAD_PREFIX = "/__sitegen/"
RELOAD_SCRIPT = b"""// sitegen serve (dev only): reload the page when a rebuild is published.
"use strict";
(function () {
  let seen = null;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function poll() {
    for (;;) {
      try {
        const r = await fetch("/__sitegen/reload?since=" + (seen === null ? -1 : seen),
                              { cache: "no-store" });
        if (!r.ok) { await pause(1000); continue; }
        const generation = Number(await r.text());
        if (seen !== null && generation !== seen) { location.reload(); return; }
        seen = generation;
      } catch (err) {
        await pause(1000);  // the server is restarting: try again
      }
    }
  }
  poll();
})();
"""
RELOAD_TAG = b'<script src="/__sitegen/reload.js" defer></script>'
LONG_POLL_SECONDS = 25.0


def content_type(path: str) -> str | None:
    """The type of files whose names carry no extension; None for the usual guess. Used only
    when the site has no `_headers` file (older builds)."""
    if path.endswith("/metadata"):
        return "application/dicom+json"
    if FRAME_RE.search(path):
        return "application/octet-stream"
    if path.endswith("/thumbnail"):
        return "image/jpeg"
    if "/dicomweb/" in path and path.endswith((".html", ".json", "/")):
        return "application/dicom+json"
    return None


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A `_headers` path pattern as the hosts read it: `*` matches anything (slashes too),
    `:name` one path segment, everything else itself."""
    out = []
    for token in re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", pattern):
        if token == "*":
            out.append(".*")
        elif token.startswith(":"):
            out.append("[^/]+")
        else:
            out.append(re.escape(token))
    return re.compile("^" + "".join(out) + "$")


class HeaderRules:
    """The rules of `<root>/_headers`, re-read when the file changes (after a rebuild)."""

    def __init__(self, root: Path) -> None:
        self.file = root / "_headers"
        self.stamp: tuple[int, int] | None = None
        self.rules: list[tuple[re.Pattern[str], dict[str, str]]] = []
        self.lock = threading.Lock()

    def for_path(self, path: str) -> dict[str, str] | None:
        """The headers for a URL path (several rules' values joined as Cloudflare does);
        None when the site has no `_headers` file."""
        with self.lock:
            try:
                st = self.file.stat()
            except OSError:
                self.stamp, self.rules = None, []
                return None
            if self.stamp != (st.st_mtime_ns, st.st_size):
                text = self.file.read_text(encoding="utf-8")
                self.rules = [(pattern_regex(p), h) for p, h in parse_headers(text)]
                self.stamp = (st.st_mtime_ns, st.st_size)
            rules = self.rules
        headers: dict[str, str] = {}
        for regex, values in rules:
            if regex.match(path):
                for name, value in values.items():
                    headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers


class Reloader:
    """Counts published builds; the pages' long-polls wait for the count to change."""

    def __init__(self) -> None:
        self.generation = 0
        self.closed = False
        self.cond = threading.Condition()

    def bump(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def wait(self, since: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.generation != since or self.closed, timeout)
            return self.generation

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def inject_reload(html: bytes) -> bytes:
    """Add the reload script before </head> (or </body>, or at the end)."""
    for marker in (b"</head>", b"</body>"):
        at = html.rfind(marker) if marker == b"</body>" else html.find(marker)
        if at != -1:
            return html[:at] + RELOAD_TAG + b"\n" + html[at:]
    return html + RELOAD_TAG


class Handler(SimpleHTTPRequestHandler):
    base_url = "/"  # the site is served under this path; anything else is a 404
    reloader: Reloader | None = None
    rules: HeaderRules | None = None

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def _url_path(self) -> str:
        return unquote(urlsplit(self.path).path)

    def _rule_headers(self) -> dict[str, str] | None:
        return self.rules.for_path(self._url_path()) if self.rules is not None else None

    def guess_type(self, path: str | Path) -> str:
        declared = (self._rule_headers() or {}).get("Content-Type")
        if declared:
            return declared
        return content_type(self._url_path()) or super().guess_type(path)

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if not clean.startswith(self.base_url) and clean + "/" != self.base_url:
            return str(Path(self.directory) / ".sitegen-not-found")
        return super().translate_path("/" + path[len(self.base_url) :])

    def end_headers(self) -> None:
        headers = self._rule_headers()
        if headers is None:
            self.send_header("Access-Control-Allow-Origin", "*")
        else:
            for name, value in headers.items():
                if name.lower() != "content-type":  # sent by send_head, from guess_type
                    self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        if self._dev_request():
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if self._dev_request():
            return
        super().do_HEAD()

    def _dev_request(self) -> bool:
        """Answer the live-reload endpoints and the bare root; False for anything else."""
        path = self._url_path()
        if path == "/" and self.base_url != "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", self.base_url)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if self.reloader is None or not path.startswith(RELOAD_PREFIX):
            return False
        if path == RELOAD_PREFIX + "reload.js":
            self._send_bytes(RELOAD_SCRIPT, "text/javascript; charset=utf-8")
        elif path == RELOAD_PREFIX + "reload":
            query = parse_qs(urlsplit(self.path).query)
            try:
                since = int(query.get("since", ["-1"])[0])
            except ValueError:
                since = -1
            generation = self.reloader.generation
            if since == generation:
                generation = self.reloader.wait(since, LONG_POLL_SECONDS)
            self._send_bytes(str(generation).encode(), "text/plain; charset=utf-8")
        else:
            return False
        return True

    def _send_bytes(self, body: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_head(self) -> Any:
        """As the stdlib's, plus the reload script in HTML when live reload is on."""
        if self.reloader is not None:
            path = self.translate_path(self.path)
            if os.path.isdir(path) and self._url_path().endswith("/"):
                path = os.path.join(path, "index.html")
            if os.path.isfile(path) and self.guess_type(path).startswith("text/html"):
                body = inject_reload(Path(path).read_bytes())
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return io.BytesIO(body)
        return super().send_head()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        """Static hosts list no folders: a folder without index.html is a 404."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """404s answer with the site's 404.html, as static hosts do."""
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        if self.reloader is not None:
            body = inject_reload(body)
        self.close_connection = True
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


class _Server(ThreadingHTTPServer):
    """A tab that navigates away mid-response closes its connection: that is no error to
    print a traceback for (socketserver prints one for every exception in a handler)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # broken pipe, reset, aborted
            return
        super().handle_error(request, client_address)


def make_server(
    root: Path,
    port: int = 8000,
    host: str = "127.0.0.1",
    base_url: str = "/",
    reloader: Reloader | None = None,
) -> ThreadingHTTPServer:
    """A server for `root` under `base_url`; port 0 picks a free one (server.server_address).
    With a `reloader`, HTML pages reload themselves when it is bumped."""
    attrs = {"base_url": base_url, "reloader": reloader, "rules": HeaderRules(Path(root))}
    handler_class = type("SiteHandler", (Handler,), attrs)
    handler = functools.partial(handler_class, directory=str(root))
    server = _Server((host, port), handler)
    server.daemon_threads = True  # open long-polls never hold up Ctrl-C
    return server


class InputFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter (editor swap files, .git, caches), minus the build's own
    output: the published folder, its temporary and lock files beside it, and .sitegen/ (the
    cache, the key, the build state of an output elsewhere)."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out
        self.own = f".{out.name}.sitegen-"

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p == self.out or self.out in p.parents:
            return False
        ours = any(part.startswith(self.own) or part == ".sitegen" for part in p.parts)
        return not ours and super().__call__(change, path)


def watch_paths(site: Site) -> list[Path]:
    """What a rebuild depends on: site.toml, cases/, local case sources, the page templates."""
    from .pages import STATIC, TEMPLATES

    paths = {site.config_file, TEMPLATES, STATIC}
    if (site.root / "cases").is_dir():
        paths.add(site.root / "cases")
    for case in site.cases:
        if not case.is_sample() and not case.is_url():
            source = site.source_path(case)
            if source.exists():
                paths.add(source)
    return sorted(paths)


BUSY_RETRY_SECONDS = 1.0


def rebuild_on_change(
    site: Site,
    load_site: Callable[[], Site | None],
    rebuild: Callable[[Site], bool | None],
    on_published: Callable[[], None],
    stop: threading.Event | None = None,
    debounce_ms: int = 300,
) -> None:
    """Watch the inputs of `site`; rebuild on every change and call `on_published` after each
    published build. Runs until `stop` is set (or Ctrl-C, raised as KeyboardInterrupt).

    `load_site` returns None when the configuration is broken (it reports why); the last good
    one is watched until it is fixed. `rebuild` returns None when another build holds the
    output: it is tried again every BUSY_RETRY_SECONDS. The watch restarts after each
    change, so editors that save by replacing the file are followed."""
    stop = stop or threading.Event()
    while not stop.is_set():
        watcher = watchfiles.watch(
            *watch_paths(site),
            watch_filter=InputFilter(site.out_path()),
            stop_event=stop,
            debounce=debounce_ms,
            step=50,
            rust_timeout=500,
        )
        try:
            changes = next(watcher, None)
        finally:
            watcher.close()
        if not changes or stop.is_set():
            continue
        fresh = load_site()
        if fresh is None:
            continue
        site = fresh
        published = rebuild(site)
        while published is None and not stop.wait(BUSY_RETRY_SECONDS):
            published = rebuild(site)  # another build held the output: try again
        if published:
            on_published()
