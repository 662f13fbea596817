"""Does the gallery stay quick at a thousand cases?

    python bench/gallery.py [--cases 1000] [--baseline 20] [--runs 3]

Writes the pages of two generated sites (their site.toml lists N cases on the built-in MR
sample; the pages are written by sitegen's own `write_pages`, with no studies, so the cards
carry no key image and are drawn as a placeholder: cards are not what this measures), serves
each on 127.0.0.1 and opens its gallery in headless chromium (Debian's, through Playwright).
For each it measures, as medians of `--runs`: the time until the filters are live (the page
loaded, data/search.json fetched and applied), a search that matches about a tenth of the
cases, a sort by title and "Show more". It prints each for the big site, the baseline's, and
their ratio: the goal is that a thousand cases feel like twenty (each under 100 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sitegen.config import load_config  # noqa: E402
from sitegen.pages import write_pages  # noqa: E402

WORDS = ["glioma", "meningioma", "stroke", "abscess", "metastasis", "lymphoma", "cyst"]


def make_site(root: Path, n: int) -> Path:
    """A site of `n` cases (tags and words varied, one in ten says "abscess"); its public/."""
    root.mkdir(parents=True, exist_ok=True)
    cases = []
    for i in range(n):
        word = WORDS[i % len(WORDS)] if i % 10 else "abscess"
        cases.append(
            f'[[cases]]\nslug = "case-{i:04d}"\ntitle = "Case {i:04d}: {word}"\n'
            f'source = "sample:head-mr"\nhistory = "Patient {i} with headache; {word}."\n'
            f'tags = ["neuro", "{WORDS[(i * 3) % len(WORDS)]}"]\n'
            f"unknown = {str(i % 7 == 0).lower()}\n"
            f"added = 2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}\n"
        )
    (root / "site.toml").write_text('[site]\ntitle = "Bench"\n\n' + "\n".join(cases))
    site = load_config(root / "site.toml")
    out = root / "public"
    with mock.patch("sitegen.pages.render_card", return_value=b"\x89PNG\r\n\x1a\n"):
        write_pages(site, [], out)
    return out


def measure(page, url: str) -> dict[str, float]:  # noqa: ANN001
    """Milliseconds: filters live after navigation, a search, a sort, a page more."""
    page.goto(url)
    page.wait_for_selector("#filters:not([hidden])")
    live = page.evaluate("() => performance.now()")

    def timed(action: str) -> float:
        return page.evaluate(
            """async (action) => {
                const t0 = performance.now();
                if (action === 'search') {
                  const q = document.getElementById('q');
                  q.value = 'abscess';
                  q.dispatchEvent(new Event('input', { bubbles: true }));
                } else if (action === 'sort') {
                  const s = document.getElementById('sort');
                  s.value = 'title';
                  s.dispatchEvent(new Event('change', { bubbles: true }));
                } else {
                  document.getElementById('more').click();
                }
                await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
                return performance.now() - t0;
            }""",
            action,
        )

    result = {"filters live": live, "search": timed("search")}
    page.evaluate(
        "() => { const q = document.getElementById('q'); q.value = '';"
        " q.dispatchEvent(new Event('input', { bubbles: true })); }"
    )
    result["sort by title"] = timed("sort")
    result["show more"] = timed("more") if page.is_visible("#more") else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "tests"))
    from conftest import serving  # the tests' static server: one way to serve a site

    with tempfile.TemporaryDirectory(prefix="sitegen-gallery-bench-") as tmp:
        sites = {n: make_site(Path(tmp) / f"s{n}", n) for n in (args.baseline, args.cases)}
        results: dict[int, dict[str, float]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            for n, out in sites.items():
                runs = []
                with serving(out, "/") as url:
                    for _ in range(args.runs):
                        page = browser.new_page(viewport={"width": 1366, "height": 768})
                        runs.append(measure(page, url))
                        page.close()
                results[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            browser.close()
        size = (sites[args.cases] / "index.html").stat().st_size
        index = (sites[args.cases] / "data/search.json").stat().st_size
    big, small = results[args.cases], results[args.baseline]
    print(f"gallery of {args.cases} cases against {args.baseline} (median of {args.runs}, ms):")
    for key in big:
        ratio = f"{big[key] / small[key]:5.2f}" if small[key] else "  n/a (one page)"
        print(f"  {key:14} {big[key]:8.1f}  baseline {small[key]:7.1f}  ratio {ratio}")
    print(f"  index.html {size / 1e3:.0f} KB, data/search.json {index / 1e3:.0f} KB")


if __name__ == "__main__":
    main()
