"""The official OHIF viewer, bundled and configured for the built site (`[ohif] enabled`).

Like Orthanc's OHIF plugin, sitegen ships only official releases: the production build inside
the npm package @ohif/app (pinned by version and integrity, fetched once into the user cache by
sitegen.vendor), copied to `<out>/ohif/` and adapted, never rebuilt:

- the build hard-codes the public path "/": it is rewritten to `<base_url>ohif/` in index.html,
  in every bundle's webpack public path, in the CSS and in manifest.json (ARCHITECTURE 3a);
- index.html's inline scripts move to files, so OHIF runs under a CSP without 'unsafe-inline'
  for scripts; `sitegen-init.js` turns `ohif/?route=viewer/...` into that deep link before the
  app starts, so links work on hosts with no SPA fallback at all;
- `app-config.js` is written by sitegen: defaults, then `[ohif] user_config`, then sitegen's
  data sources (a static DICOMweb source over `<base_url>dicomweb` and a DICOM JSON source),
  router basename and `[ohif] oidc`, which always win;
- the onnxruntime folder (`ort/`, 142 MB) and the microscopy viewer (21 MB) are left out unless
  `[ohif] keep` names them: a teaching site uses neither, and they are 76% of the build.

Host rules OHIF needs (merged into `_headers`, `_redirects` and `404.html` by sitegen.hosts)
come from `ohif_redirects`, `ohif_headers` and `ohif_404_script`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from . import _json, vendor
from .writers.dicomjson import dicomjson_path, write_dicomjson

if TYPE_CHECKING:
    from .config import Site
    from .model import Study

PACKAGES = {
    "3.13.2": vendor.Package(
        "@ohif/app",
        "3.13.2",
        "sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==",
    ),
}
# [ohif] keep names -> top-level entries of the build's dist/ they bring back
OPTIONAL_PARTS = {"ort": ("ort",), "microscopy": ("dicom-microscopy-viewer",)}
# OHIF's own host files and configuration: meaningless under ohif/ or replaced by sitegen's
REPLACED = ("_headers", "_redirects", "serve.json", "sw.js", "app-config.js", "google.js")
# the first path segment of every route OHIF's router serves (modes, built-in routes, OIDC)
SPA_ROUTES = (
    "viewer",
    "segmentation",
    "tmtv",
    "microscopy",
    "dynamic-volume",
    "usAnnotation",
    "basic",
    "local",
    "localbasic",
    "notfoundserver",
    "notfoundstudy",
    "callback",
    "login",
    "logout",
)
RAW_SYNTAX = "1.2.840.10008.1.2.1"
# What OHIF 3.13.2 needs, measured in chromium (tests/test_ohif_browser.py fails on any CSP
# violation): 'unsafe-eval' (the codecs' Emscripten bindings call new Function), styles set at
# run time ('unsafe-inline' styles), workers from blob: URLs. Its inline scripts are moved to
# files, so scripts need no 'unsafe-inline'.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; "
    "worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'"
)

_WEBPACK_PATH = '__webpack_require__.p = "/";'
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_ROOT_ATTR = re.compile(r'="/(?!/)')  # href="/x", src="/x", content="/x" (not "//host")
_CSS_URL = re.compile(r"url\((['\"]?)/(?!/)")


class OhifError(RuntimeError):
    """OHIF could not be installed; the message says why."""


def prefix(base_url: str) -> str:
    """Where OHIF lives: <base_url>ohif/ (its PUBLIC_URL)."""
    return f"{base_url}ohif/"


def data_source(site: Site) -> str:
    """The data source case links open: "dicomweb" or "dicomjson".

    "auto" cannot know the host, so it picks what works on every host: DICOMweb when the
    frames are uncompressed (no Content-Type needed), else DICOM JSON over the Part 10 files,
    which carry their transfer syntax. DICOMweb is also the only choice without Part 10 files
    ([build] downloads = false), DICOM JSON with packed frames (no frame files)."""
    choice = site.ohif.data_source
    if not site.build.downloads:
        return "dicomweb"
    if site.build.pack:
        return "dicomjson"
    if choice == "auto":
        raw = site.build.frames == "raw" and not site.build.is_lossy
        return "dicomweb" if raw else "dicomjson"
    return choice


def ohif_study_url(
    site: Site, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
) -> str:
    """The "Open in OHIF" link of a study, relative to the site root; with `series_uid`
    (and `sop_uid`) OHIF opens that series at that image (its initialSeriesInstanceUID and
    initialSOPInstanceUID parameters), as the case's view names them.

    It opens `ohif/` (index.html, served by every host) with the deep link in `?route=`;
    OHIF's address bar then shows the real route."""
    if data_source(site) == "dicomjson":
        manifest = site.site.base_url + dicomjson_path(study_uid)
        route = f"viewer/dicomjson?url={quote(manifest, safe='/')}"
    else:
        route = f"viewer/dicomweb?StudyInstanceUIDs={study_uid}"
    if series_uid:
        route += f"&initialSeriesInstanceUID={series_uid}"
        if sop_uid:
            route += f"&initialSOPInstanceUID={sop_uid}"
    return f"ohif/?route={quote(route, safe='')}"


def ohif_redirects(base_url: str) -> list[str]:
    """`_redirects` lines: OHIF's routes fall back to its index.html (status 200).

    Only the router's routes do: a missing file anywhere else, OHIF's own chunks and the data
    included, stays a 404. Both `/r` and `/r/*` are listed as hosts differ on whether a
    splat matches the bare path."""
    p = prefix(base_url)
    lines = []
    for route in SPA_ROUTES:
        lines += [f"{p}{route} {p}index.html 200", f"{p}{route}/* {p}index.html 200"]
    return lines


def ohif_headers(base_url: str, oidc: dict[str, Any] | None = None) -> list[tuple[str, dict]]:
    """`_headers` rules for OHIF: its own CSP, looser than the site's (see CSP), plus the
    OpenID provider's origin when `[ohif] oidc` is set. The site-wide CSP rule must not also
    match ohif/*: browsers enforce every policy they get, so the strictest would win."""
    csp = CSP
    authority = (oidc or {}).get("authority", "")
    if authority:
        parts = urlsplit(authority)
        origin = f"{parts.scheme}://{parts.netloc}"
        csp = csp.replace("connect-src 'self'", f"connect-src 'self' {origin}")
        csp += f"; frame-src 'self' {origin}"
    return [(prefix(base_url) + "*", {"Content-Security-Policy": csp})]


def ohif_404_script(base_url: str) -> str:
    """The tag 404.html needs so GitHub Pages-style hosts (no rewrites) open OHIF deep links:
    the script sends an OHIF route to ohif/?route=...; any other 404 stays as it is."""
    return f'<script src="{prefix(base_url)}sitegen-404.js"></script>'


def _init_js(base_url: str) -> str:
    return (
        "// Written by sitegen: opens the deep link passed as ohif/?route=... (case pages,\n"
        "// 404.html) before OHIF's router reads the address.\n"
        "(function () {\n"
        f"  var base = {_json.dumps(prefix(base_url))};\n"
        "  var route = new URLSearchParams(window.location.search).get('route');\n"
        "  if (route === null || window.location.pathname !== base) return;\n"
        "  route = route.replace(/^\\/+/, '');\n"
        "  window.history.replaceState(null, '', base + route + window.location.hash);\n"
        "})();\n"
    )


def _404_js(base_url: str) -> str:
    return (
        "// Written by sitegen: on hosts without rewrites, 404.html sends OHIF routes to\n"
        "// ohif/?route=... (see sitegen-init.js); other missing paths stay a 404 page.\n"
        "(function () {\n"
        f"  var base = {_json.dumps(prefix(base_url))};\n"
        f"  var routes = {_json.dumps(list(SPA_ROUTES))};\n"
        "  var path = window.location.pathname;\n"
        "  if (path.indexOf(base) !== 0) return;\n"
        "  var rest = path.slice(base.length);\n"
        "  if (routes.indexOf(rest.split('/')[0]) === -1) return;\n"
        "  var route = encodeURIComponent(rest + window.location.search);\n"
        "  window.location.replace(base + '?route=' + route + window.location.hash);\n"
        "})();\n"
    )


def dicomweb_source(site: Site) -> dict[str, Any]:
    """OHIF's DICOMweb data source over the static tree (ARCHITECTURE 3a)."""
    root = site.site.base_url + "dicomweb"
    return {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": "dicomweb",
        "configuration": {
            "friendlyName": site.site.title,
            "name": "sitegen",
            "wadoUriRoot": root,
            "qidoRoot": root,
            "wadoRoot": root,
            "qidoSupportsIncludeField": False,
            "supportsReject": False,
            "supportsStow": False,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": True,
            "supportsFuzzyMatching": False,
            "supportsWildcard": False,
            "staticWado": True,
            "singlepart": "bulkdata,video,pdf",
            "bulkDataURI": {"enabled": True, "relativeResolution": "series"},
            "omitQuotationForMultipartRequest": True,
        },
    }


def dicomjson_source(site: Site) -> dict[str, Any]:
    return {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomjson",
        "sourceName": "dicomjson",
        "configuration": {"friendlyName": f"{site.site.title} (DICOM JSON)", "name": "json"},
    }


DEFAULTS: dict[str, Any] = {
    "extensions": [],
    "modes": [],
    # a teaching site opens on the case's image: no investigational-use banner, no tour
    # (an [ohif] user_config turns them back on)
    "customizationService": {"ohif.tours": {"$set": []}},
    "investigationalUseDialog": {"option": "never"},
    "showStudyList": True,
    "maxNumberOfWebWorkers": 3,
    "showWarningMessageForCrossOrigin": False,
    "showCPUFallbackMessage": True,
    "showLoadingIndicator": True,
    "strictZSpacingForVolumeViewport": True,
    "groupEnabledModesFirst": True,
    "maxNumRequests": {"interaction": 100, "thumbnail": 5, "prefetch": 25},
    "showErrorDetails": "production",
}


def app_config(site: Site, user_js: str = "") -> str:
    """app-config.js: defaults, the user's file, then sitegen's keys (which always win)."""
    system: dict[str, Any] = {
        "routerBasename": prefix(site.site.base_url).rstrip("/"),
        "dataSources": [dicomweb_source(site), dicomjson_source(site)],
        # the study list is DICOMweb's QIDO JSON, which every host serves; DICOM JSON has none
        "defaultDataSourceName": "dicomweb",
    }
    if site.ohif.oidc:
        system["oidc"] = [site.ohif.oidc]
    parts = [
        "/* OHIF configuration written by sitegen: defaults, then [ohif] user_config, then the",
        "   keys sitegen sets for the built site (data sources, router basename, oidc). */",
        f"window.config = {_json.dumps(DEFAULTS, indent=2)};",
    ]
    if user_js:
        parts += [f"/* [ohif] user_config = {site.ohif.user_config} */", user_js.rstrip()]
    parts += [
        "/* sitegen */",
        f"Object.assign(window.config, {_json.dumps(system, indent=2)});",
    ]
    return "\n".join(parts) + "\n"


def copy_build(dist: Path, dest: Path, keep: tuple[str, ...] = ()) -> tuple[int, int]:
    """Copy OHIF's dist/ to `dest` without the parts not kept and the files sitegen replaces;
    returns (bytes in dist, bytes copied)."""
    left_out = {f for part, folders in OPTIONAL_PARTS.items() if part not in keep for f in folders}
    skip = left_out | set(REPLACED)
    total = copied = 0
    for path in dist.rglob("*"):
        if path.is_file():
            size = path.stat().st_size
            total += size
            if path.relative_to(dist).parts[0] not in skip:
                copied += size

    def ignore(folder: str, names: list[str]) -> set[str]:
        return skip & set(names) if Path(folder) == dist else set()

    shutil.copytree(dist, dest, ignore=ignore, dirs_exist_ok=True)
    return total, copied


def _rewrite(path: Path, edit: Callable[[str], str]) -> None:
    text = path.read_text(encoding="utf-8")
    new = edit(text)
    if new != text:
        path.write_text(new, encoding="utf-8")


def rewrite_public_path(dest: Path, base_url: str) -> None:
    """Point the build's hard-coded "/" at <base_url>ohif/ and move index.html's inline
    scripts to files (same order, so the same behaviour)."""
    p = prefix(base_url)
    for js in dest.glob("*.js"):
        raw = js.read_bytes()
        if _WEBPACK_PATH.encode() in raw or b"'/dicom-microscopy-viewer/" in raw:
            _rewrite(
                js,
                lambda t: t.replace(
                    _WEBPACK_PATH, f"__webpack_require__.p = {_json.dumps(p)};"
                ).replace("'/dicom-microscopy-viewer/", f"'{p}dicom-microscopy-viewer/"),
            )
    for css in dest.glob("*.css"):
        _rewrite(css, lambda t: _CSS_URL.sub(lambda m: f"url({m.group(1)}{p}", t))
    _rewrite(dest / "manifest.json", lambda t: t.replace('"src": "/', f'"src": "{p}'))

    index = dest / "index.html"
    html = index.read_text(encoding="utf-8")
    scripts: list[str] = []

    def externalize(match: re.Match[str]) -> str:
        body = match.group(1).replace(
            'window.PUBLIC_URL="/"', f"window.PUBLIC_URL={_json.dumps(p)}"
        )
        name = f"sitegen-inline-{len(scripts) + 1}.js"
        scripts.append(name)
        (dest / name).write_text(body + "\n", encoding="utf-8")
        return f'<script src="/{name}"></script>'

    html = _INLINE_SCRIPT.sub(externalize, html)
    bodies = "".join((dest / name).read_text(encoding="utf-8") for name in scripts)
    if f"window.PUBLIC_URL={_json.dumps(p)}" not in bodies or 'PUBLIC_URL="/"' in bodies:
        raise OhifError("unexpected OHIF index.html: window.PUBLIC_URL could not be rewritten")
    html = html.replace("</head>", '<script src="/sitegen-init.js"></script></head>', 1)
    html = html.replace("</head>", '<script src="/sitegen-host.js" defer></script></head>', 1)
    html = _ROOT_ATTR.sub(f'="{p}', html)
    index.write_text(html, encoding="utf-8")
    (dest / "sitegen-init.js").write_text(_init_js(base_url), encoding="utf-8")
    (dest / "sitegen-404.js").write_text(_404_js(base_url), encoding="utf-8")
    (dest / "sitegen-host.js").write_text(_host_js(base_url), encoding="utf-8")


def _host_js(base_url: str) -> str:
    """The study list's route to images (sitegen/ohif_host.js): the same file for every site
    with this base URL, so `sitegen check` proves it sitegen's own."""
    script = (Path(__file__).parent / "ohif_host.js").read_text(encoding="utf-8")
    for line, value in (("var base = '/ohif/';", prefix(base_url)), ("var site = '/';", base_url)):
        assert line in script, line
        script = script.replace(line, f"{line.split(' = ')[0]} = {_json.dumps(value)};", 1)
    return script


def install_ohif(
    site: Site,
    studies: list[Study],
    out: Path,
    *,
    offline: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[str]:
    """Publish the configured OHIF build in `out/ohif/` and the DICOM JSON manifests in
    `out/dicomjson/`; returns warnings. Raises vendor.VendorError when the build cannot be
    fetched (offline and not cached, download failure, integrity mismatch), OhifError when
    the build is not laid out as expected."""
    warnings: list[str] = []
    package = PACKAGES[site.ohif.version]
    extra = {"progress": progress} if progress is not None else {}
    dist = vendor.fetch(package, offline=offline, **extra) / "dist"
    dest = out / "ohif"
    if dest.exists():
        shutil.rmtree(dest)
    copy_build(dist, dest, site.ohif.keep)
    rewrite_public_path(dest, site.site.base_url)

    user_js = ""
    if site.ohif.user_config:
        user_js = (site.root / site.ohif.user_config).read_text(encoding="utf-8")
    (dest / "app-config.js").write_text(app_config(site, user_js), encoding="utf-8")

    if site.build.downloads:
        write_dicomjson(studies, out, site.site.base_url, warnings)
    elif site.ohif.data_source == "dicomjson":
        warnings.append(
            '[ohif] data_source = "dicomjson" needs the Part 10 files ([build] downloads = '
            "true); OHIF opens the studies over DICOMweb instead"
        )
    if data_source(site) == "dicomweb":
        compressed = {
            i.transfer_syntax
            for s in studies
            for i in s.instances
            if i.transfer_syntax != RAW_SYNTAX
        }
        if compressed:
            warnings.append(
                "OHIF reads the DICOMweb frames' transfer syntax only from their Content-Type: "
                "the compressed frames need the host to apply _headers (Netlify, Cloudflare "
                "Pages); on GitHub Pages or Surge they show as grey squares (use "
                '[ohif] data_source = "auto" or [build] frames = "raw" there)'
            )
    return warnings
