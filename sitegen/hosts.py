"""Host files: what each static host reads from the published folder.

- `.nojekyll`: GitHub Pages would otherwise run Jekyll, which drops files starting with `_`.
- `_headers` (Netlify, Cloudflare Pages): CORS on data, the frames' Content-Type with their
  transfer syntax (OHIF reads the syntax only from there), cache lifetimes, security headers.
- `_redirects` (Netlify, Cloudflare Pages): SPA fallback for the OHIF build when present.
- `CORS` (Surge), `robots.txt`, `sitemap.xml` (when `[site] url` is set).

Both hosts that read `_headers` apply *every* rule whose pattern matches a path; Cloudflare
joins the values of a header named by two rules with a comma, Netlify keeps one of them. So no
two rules here that can match one path name the same header: the rules are disjoint per header.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from xml.sax.saxutils import escape

from .config import Site
from .model import Study, check_uid

# The policy the viewer is built for; the site's pages follow it too (no inline script/style).
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data: blob:; connect-src 'self'"
)
MAX_RULES = 100  # Cloudflare Pages' limit on `_headers` rules
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"
FRAMES = "dicomweb/studies/:study/series/:series/instances/:instance/frames/*"


def absolute_root(site: Site) -> str:
    """The site's absolute root URL ('' without `[site] url`).

    A `url` with a path ("https://u.github.io/repo/") is taken as the full root; a bare origin
    gets base_url appended, so `--base-url` from the Pages workflow is enough."""
    url = site.site.url
    if not url:
        return ""
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if slash and path.strip("/"):
        return url if url.endswith("/") else url + "/"
    return f"{scheme}://{host}{site.site.base_url}"


def frame_syntaxes(studies: list[Study]) -> dict[tuple[str, str], Counter[str]]:
    """(study, series) -> transfer syntax -> number of frames."""
    out: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for study in studies:
        for series in study.series:
            for inst in series.instances:
                out[(study.uid, series.uid)][inst.transfer_syntax] += inst.frames
    return out


def frame_type_rules(
    studies: list[Study], base: str, budget: int
) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """The fewest Content-Type rules for the frames: one wildcard when the whole site has one
    transfer syntax, else one per study whose series share one, else one per series.

    A series whose instances differ in syntax cannot get a rule (a host sets one type per
    pattern), nor can groups beyond `budget`: those are reported as warnings."""
    per_series = frame_syntaxes(studies)
    everything: Counter[str] = sum(per_series.values(), Counter())

    def rule(syntax: str) -> dict[str, str]:
        return {"Content-Type": f"application/octet-stream; transfer-syntax={syntax}"}

    if len(everything) <= 1:
        syntax = next(iter(everything), "")
        return ([(base + FRAMES, rule(syntax))] if syntax else []), []
    warnings: list[str] = []
    groups: list[tuple[int, str, str]] = []  # (frames, pattern, syntax)
    for study in studies:
        kinds = [per_series[(study.uid, s.uid)] for s in study.series]
        study_syntaxes = {t for k in kinds for t in k}
        prefix = f"{base}dicomweb/studies/{check_uid(study.uid)}/series/"
        if len(study_syntaxes) == 1:
            frames = sum(sum(k.values()) for k in kinds)
            pattern = prefix + ":series/instances/*"
            groups.append((frames, pattern, next(iter(study_syntaxes))))
            continue
        for series, kind in zip(study.series, kinds, strict=True):
            if len(kind) > 1:
                warnings.append(
                    f"_headers: series {series.uid} has frames in {len(kind)} transfer syntaxes; "
                    "no Content-Type rule can describe it (OHIF's DICOMweb source will fail on "
                    "it; sitegen's viewer is unaffected)"
                )
                continue
            pattern = f"{prefix}{check_uid(series.uid)}/instances/*"
            groups.append((sum(kind.values()), pattern, next(iter(kind))))
    groups.sort(key=lambda g: (-g[0], g[1]))
    if len(groups) > budget:
        left = groups[budget:]
        warnings.append(
            f"_headers: {len(left)} of {len(groups)} frame groups got no Content-Type rule "
            f"(Cloudflare Pages allows {MAX_RULES} rules): OHIF's DICOMweb source reads their "
            "frames as uncompressed; sitegen's viewer is unaffected. Use one [build] frames "
            "codec for the whole site to need a single rule."
        )
        groups = groups[:budget]
    return [(pattern, rule(syntax)) for _, pattern, syntax in groups], warnings


def headers_rules(
    site: Site, studies: list[Study]
) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """Every `_headers` rule as (pattern, headers), and warnings."""
    b = site.site.base_url
    # The CSP goes on the documents and scripts only, never site-wide: OHIF (ohif/*) needs a
    # looser one of its own, and a browser enforces every policy it is sent.
    page = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": REVALIDATE,
    }
    cors = {"Access-Control-Allow-Origin": "*"}
    rules: list[tuple[str, dict[str, str]]] = [
        (
            b + "*",
            {
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "strict-origin-when-cross-origin",
            },
        ),
        # pages may be framed only by the site itself; viewer/* stays embeddable anywhere
        (b, page),
        (b + "index.html", page),
        (b + "404.html", page),
        (b + "cases/*", page),
        (b + "viewer/*", {"Content-Security-Policy": CSP}),
        (b + "assets/*", {"Content-Security-Policy": CSP}),
        (b + "data/*", {**cors, "Cache-Control": REVALIDATE}),
        (b + "dicom/*", cors),
        (b + "dicomjson/*", cors),
        (b + "dicomweb/*", cors),
        (
            b + "dicomweb/studies/:study/series/:series/metadata",
            {"Content-Type": "application/dicom+json", "Cache-Control": REVALIDATE},
        ),
        (
            b + "dicomweb/studies/:study/metadata",
            {"Content-Type": "application/dicom+json", "Cache-Control": REVALIDATE},
        ),
        (
            b + "dicomweb/studies/:study/series/:series/thumbnail",
            {"Content-Type": "image/jpeg", "Cache-Control": IMMUTABLE},
        ),
    ]
    if site.ohif.enabled:
        from .ohif import ohif_headers

        rules += ohif_headers(b, site.ohif.oidc)
    if site.build.pack:  # no frame files: the packs are plain bytes to the host
        return rules, []
    frame_types, warnings = frame_type_rules(studies, b, MAX_RULES - len(rules) - 1)
    if len(frame_types) == 1 and frame_types[0][0] == b + FRAMES:
        rules.append((b + FRAMES, {**frame_types[0][1], "Cache-Control": IMMUTABLE}))
    else:
        rules.append((b + FRAMES, {"Cache-Control": IMMUTABLE}))
        rules += frame_types
    return rules, warnings


def format_headers(rules: list[tuple[str, dict[str, str]]]) -> str:
    lines = [
        "# Netlify and Cloudflare Pages response headers, written by sitegen.",
        "# GitHub Pages, Surge and S3 ignore this file (see `sitegen check --host`).",
    ]
    for pattern, headers in rules:
        lines.append(pattern)
        lines += [f"  {name}: {value}" for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def redirects(site: Site, out: Path) -> str:
    lines = ["# Netlify and Cloudflare Pages redirects, written by sitegen."]
    b = site.site.base_url
    if (out / "ohif/index.html").is_file():
        from .ohif import ohif_redirects

        # OHIF's routes fall back to its index.html; a missing file stays a 404
        lines += ohif_redirects(b)
    return "\n".join(lines) + "\n"


def sitemap(site: Site, root: str) -> str:
    urls = [root] + [f"{root}cases/{case.slug}/" for case in site.cases]
    urls += [f"{root}lessons/{lesson.slug}/" for lesson in site.lessons]
    body = "".join(f"  <url><loc>{escape(u)}</loc></url>\n" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</urlset>\n"
    )


def robots(site: Site, root: str) -> str:
    b = site.site.base_url
    # crawlers have no use for thousands of frame files; pages and cards stay allowed
    lines = ["User-agent: *"] + [f"Disallow: {b}{d}/" for d in ("dicomweb", "dicom", "data")]
    if root:
        lines.append(f"Sitemap: {root}sitemap.xml")
    return "\n".join(lines) + "\n"


def write_host_files(site: Site, studies: list[Study], out: Path) -> list[str]:
    """Write the host files into `out`; returns warnings (e.g. rules over Cloudflare's limit)."""
    rules, warnings = headers_rules(site, studies)
    (out / ".nojekyll").write_bytes(b"")
    (out / "_headers").write_text(format_headers(rules), encoding="utf-8")
    (out / "_redirects").write_text(redirects(site, out), encoding="utf-8")
    (out / "CORS").write_text("*\n", encoding="utf-8")
    root = absolute_root(site)
    (out / "robots.txt").write_text(robots(site, root), encoding="utf-8")
    if root:
        (out / "sitemap.xml").write_text(sitemap(site, root), encoding="utf-8")
    return warnings


def parse_headers(text: str) -> list[tuple[str, dict[str, str]]]:
    """Read a `_headers` file back: [(pattern, {name: value})] in file order."""
    rules: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), {}))
        elif rules and ":" in line:
            name, _, value = line.strip().partition(":")
            rules[-1][1][name.strip()] = value.strip()
    return rules
