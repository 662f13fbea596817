"""How fast does the teaching viewer show a case on a modest connection?

    python bench/viewer.py [--slices 300] [--mbit 20] [--latency 40] [--keep DIR]

1. Writes a 512x512xN CT series (bench/build.py's phantom-based generator) and builds a site
   with it as its one case (lossless HTJ2K frames), then installs the viewer.
2. Serves it with sitegen's preview server on 127.0.0.1 and opens `viewer/?case=bench-ct` in
   headless chromium (Debian's, through Playwright) with CDP network throttling: the given
   bandwidth and latency, browser cache disabled.
3. Reports: time to first image and the bytes transferred before it; the viewer's code size
   (JS + CSS + HTML, raw and gzipped, and the WASM); the time until every slice is scrollable
   (on screen from its preview or its full frame); how long a slice far from the shown one
   takes to reach full quality once shown (5 jumps); the time until every slice's full frame
   is fetched and decoded; and, once cached, the time each slice takes to draw while stepping
   through the whole stack one slice per animation frame (median and 95th percentile), with
   the frame rate that stepping achieved.

Goals (issue #15) at 20 Mbit/s + 40 ms: first image < 0.5 s, every slice scrollable < 2 s, full
quality of the shown slice < 1 s after it is shown; viewer code < 60 KB gzipped plus the WASM;
< 16 ms per slice once cached.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sitegen.build import build  # noqa: E402
from sitegen.config import load_config  # noqa: E402
from sitegen.serve import content_type, make_server  # noqa: E402
from sitegen.viewer import install_viewer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WORKER_FILES = ("decode-worker.js", "openjphjs.js")
SITE_TOML = """\
[site]
title = "sitegen viewer benchmark"

[build]
frames = "htj2k"

[[cases]]
slug = "bench-ct"
title = "Benchmark CT series"
source = "dicom"
view = { window = "lung" }
"""


def _bench_build() -> Any:
    """bench/build.py as a module (its series generator), without a name clash."""
    spec = importlib.util.spec_from_file_location(
        "sitegen_bench_build", Path(__file__).with_name("build.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_site(work: Path, slices: int) -> Path:
    dicom = work / "dicom"
    if len(list(dicom.glob("*"))) != slices:
        _bench_build().write_series(dicom, slices)
    (work / "site.toml").write_text(SITE_TOML)
    report = build(load_config(work / "site.toml"))
    if not report.published:
        raise SystemExit(f"build failed: {report.warnings}")
    out = work / "public"
    install_viewer(out)
    return out


def code_sizes(viewer: Path) -> dict[str, tuple[int, int]]:
    """Raw and gzipped bytes of the viewer's own code, the OpenJPH glue and the WASM."""
    groups: dict[str, list[Path]] = {"viewer": [], "openjph js": [], "wasm": []}
    for path in sorted(viewer.iterdir()):
        if path.suffix == ".wasm":
            groups["wasm"].append(path)
        elif path.name == "openjphjs.js":
            groups["openjph js"].append(path)
        elif path.suffix in {".js", ".css", ".html"}:
            groups["viewer"].append(path)
    sizes = {}
    for name, paths in groups.items():
        data = [p.read_bytes() for p in paths]
        sizes[name] = (sum(map(len, data)), sum(len(gzip.compress(d, 6)) for d in data))
    return sizes


class GzipHandler(SimpleHTTPRequestHandler):
    """Serves public/ like a CDN-backed static host: text, JSON, JS, CSS and WASM gzipped
    (frames, octet-stream, never are: no host compresses them)."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return content_type(self.path.split("?", 1)[0]) or super().guess_type(path)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        kind = self.guess_type(str(path))
        if (
            not path.is_file()
            or kind == "application/octet-stream"
            or "gzip" not in (self.headers.get("Accept-Encoding") or "")
        ):
            super().do_GET()
            return
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def open_viewer(browser: Any, url: str, mbit: float, latency: float) -> tuple[Any, Any, dict]:
    """A fresh context and page, throttled, cache disabled; returns (context, page, log)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    rate = mbit * 1_000_000 / 8
    conditions = {"offline": False, "latency": latency, "downloadThroughput": rate}
    cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": rate})
    log: dict[str, Any] = {"sent": {}, "done": []}

    def will_send(event: dict[str, Any]) -> None:
        log["sent"][event["requestId"]] = (event["timestamp"], event["request"]["url"])

    def finished(event: dict[str, Any]) -> None:
        log["done"].append(
            (event["timestamp"], int(event["encodedDataLength"]), event["requestId"])
        )

    cdp.on("Network.requestWillBeSent", will_send)
    cdp.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        "() => window.sitegenViewer && sitegenViewer.stats.firstImage", timeout=60_000
    )
    return context, page, log


def first_image(page: Any, log: dict[str, Any], worker_bytes: int) -> dict[str, Any]:
    """Time to first image (page clock: ms since navigation) and what was loaded before it.

    CDP times are monotonic seconds; the page clock starts when the document request is sent
    (within a few ms). The decode worker's own two scripts are not seen by the page's CDP
    session: they are counted from their sizes (they always load before the first decode)."""
    first_ms = page.evaluate("() => sitegenViewer.stats.firstImage")
    page.wait_for_function("() => sitegenViewer.stats.firstFull", timeout=60_000)
    full_ms = page.evaluate("() => sitegenViewer.stats.firstFull")
    start = min(t for t, _ in log["sent"].values())
    rows = []
    for t, size, rid in sorted(log["done"]):
        sent, url = log["sent"].get(rid, (t, ""))
        if (t - start) * 1000 <= first_ms:
            name = "frame" if "/frames/" in url else url.rsplit("/", 1)[-1]
            name = "preview chunk" if "/preview/" in url else name
            rows.append((round((sent - start) * 1000), round((t - start) * 1000), size, name))
    total = sum(r[2] for r in rows) + worker_bytes
    return {
        "ms": first_ms,
        "full_ms": full_ms,
        "bytes": total,
        "requests": len(rows) + 2,
        "waterfall": rows,
    }


# Once every slice is scrollable: jump to slices far from the shown one, one after another, and
# time each until its full-quality frame is on screen (it may still show the preview).
JUMPS = """async () => {
    const n = sitegenViewer.total();
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    const times = [];
    for (const at of [0.1, 0.9, 0.3, 0.7, 0.05]) {
        const index = Math.floor(at * (n - 1));
        sitegenViewer.setSlice(index);
        const start = performance.now();
        const full = () => document.getElementById("stage").dataset.rendered === `0:${index}`;
        while (!full()) await frame();
        times.push(performance.now() - start);
    }
    return times;
}"""


def measure(url: str, mbit: float, latency: float, runs: int, worker_bytes: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        firsts = []
        for _ in range(runs):
            context, page, log = open_viewer(browser, url, mbit, latency)
            firsts.append(first_image(page, log, worker_bytes))
            if len(firsts) < runs:
                context.close()
        page.wait_for_function(
            "() => sitegenViewer.stats.scrollable !== null", timeout=600_000, polling=50
        )
        scrollable_ms = page.evaluate("() => sitegenViewer.stats.scrollable")
        full_ms = page.evaluate(JUMPS)
        page.wait_for_function(
            "() => sitegenViewer.loaded() === sitegenViewer.total()", timeout=600_000, polling=200
        )
        all_ms = page.evaluate("() => sitegenViewer.stats.allLoaded")
        total = page.evaluate("() => sitegenViewer.total()")
        scroll = page.evaluate(
            """async () => {
                const n = sitegenViewer.total();
                const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
                sitegenViewer.setSlice(0);
                await frame();
                await frame();
                sitegenViewer.stats.renders.length = 0;
                const start = performance.now();
                for (let i = 1; i < n; i++) {
                    sitegenViewer.setSlice(i);
                    await frame();
                }
                await frame();
                const ms = performance.now() - start;
                return { draws: sitegenViewer.stats.renders.slice(), ms, n };
            }"""
        )
        browser.close()
    draws = sorted(scroll["draws"])
    firsts.sort(key=lambda f: f["ms"])
    return {
        "scrollable_ms": scrollable_ms,
        "full_ms": full_ms,
        "firsts": firsts,
        "median_first": firsts[len(firsts) // 2],
        "all_ms": all_ms,
        "slices": total,
        "draw_median": statistics.median(draws),
        "draw_p95": draws[int(0.95 * (len(draws) - 1))],
        "draws": len(draws),
        "fps": (scroll["n"] - 1) / (scroll["ms"] / 1000),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--mbit", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=40.0, help="ms per request")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--runs", type=int, default=5, help="first-image runs (median shown)")
    parser.add_argument(
        "--gzip", action="store_true", help="compress text and WASM like a CDN host does"
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-viewer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    out = make_site(work, args.slices)
    print(f"site: {args.slices} slices of 512x512 built in {time.perf_counter() - t:.1f} s ({out})")
    frames = sorted(p.stat().st_size for p in (out / "dicomweb").rglob("frames/*"))
    print(f"frames: {sum(frames) / 1e6:.1f} MB, median {statistics.median(frames) / 1e3:.0f} KB")
    if args.gzip:
        handler = functools.partial(GzipHandler, directory=str(out))
        server: ThreadingHTTPServer = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    else:
        server = make_server(out, port=0)  # sitegen's preview server: nothing compressed
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # closing a page mid-download breaks its connections: expected here, not worth a traceback
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    url = f"http://127.0.0.1:{server.server_address[1]}/viewer/?case=bench-ct"
    try:
        worker = sum((out / "viewer" / n).stat().st_size for n in WORKER_FILES)
        r = measure(url, args.mbit, args.latency, args.runs, worker)
    finally:
        server.shutdown()
        server.server_close()
    sizes = code_sizes(out / "viewer")
    first = r["median_first"]
    rows = [
        (
            f"network: {args.mbit:g} Mbit/s, {args.latency:g} ms latency, cache disabled, "
            + ("gzip like a CDN" if args.gzip else "no compression (preview server)"),
            "",
            "",
        ),
        (
            f"time to first image, preview or full (median of {args.runs})",
            f"{first['ms']:.0f} ms (runs: {', '.join(str(round(f['ms'])) for f in r['firsts'])})",
            "goal < 500 ms",
        ),
        (
            "time to the first full-quality image (same runs)",
            f"{statistics.median(f['full_ms'] for f in r['firsts']):.0f} ms",
            "",
        ),
        (
            "every slice scrollable (preview or full)",
            f"{r['scrollable_ms']:.0f} ms",
            "goal < 2000 ms",
        ),
        (
            "full quality of a slice after it is shown (median / max of 5 jumps)",
            f"{statistics.median(r['full_ms']):.0f} / {max(r['full_ms']):.0f} ms",
            "goal < 1000 ms",
        ),
        (
            "bytes before first image",
            f"{first['bytes'] / 1e3:.0f} KB in {first['requests']} requests",
            "",
        ),
        *(
            (f"code: {name}", f"{raw / 1e3:.1f} KB raw, {gz / 1e3:.1f} KB gzipped", "")
            for name, (raw, gz) in sizes.items()
        ),
        (
            "viewer code gzipped (JS+CSS+HTML, incl. OpenJPH glue)",
            f"{(sizes['viewer'][1] + sizes['openjph js'][1]) / 1e3:.1f} KB + WASM "
            f"{sizes['wasm'][1] / 1e3:.0f} KB",
            "goal < 60 KB + WASM",
        ),
        (f"all {r['slices']} slices cached", f"{r['all_ms'] / 1000:.1f} s", ""),
        (
            "draw per slice once cached (median / p95)",
            f"{r['draw_median']:.2f} / {r['draw_p95']:.2f} ms",
            "goal < 16 ms",
        ),
        ("stepping one slice per frame", f"{r['fps']:.0f} slices/s ({r['draws']} draws)", ""),
    ]
    width = max(len(a) for a, _, _ in rows)
    for a, b, c in rows:
        print(f"{a:<{width}}  {b:<34} {c}")
    print("before first image (start ms, end ms, bytes, file):")
    for start, end, size, name in first["waterfall"]:
        print(f"  {start:5d} {end:5d} {size:8d}  {name.rsplit('/', 1)[-1][:40]}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
