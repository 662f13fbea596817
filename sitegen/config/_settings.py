"""The [site], [build], [deid] and [ohif] tables."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from ._model import (
    BURNED_IN,
    DEFAULT_DEID_OPTIONS,
    DEID_OPTIONS,
    FRAME_CODECS,
    MAX_PACK_MIB,
    OHIF_KEEP,
    OHIF_VERSIONS,
    BuildSettings,
    DeidSettings,
    OhifSettings,
    SiteSettings,
)
from ._schema import _Checker


def _site_settings(raw: dict[str, Any], chk: _Checker) -> SiteSettings:
    if "title" not in raw:
        chk.add("site.title", "required: the site's title")
    base = raw.get("base_url", "/")
    problem = base_url_problem(base)
    if problem:
        chk.add("site.base_url", problem)
    base = normalize_base_url(base)
    url = raw.get("url", "")
    problem = site_url_problem(url) if url else None
    if problem:
        chk.add("site.url", problem)
    if url and not url.endswith("/"):
        url += "/"
    out_dir = raw.get("out_dir", "public")
    if not out_dir or out_dir in (".", "..") or Path(out_dir).is_absolute() and out_dir == "/":
        chk.add("site.out_dir", f'"{out_dir}" cannot be the site folder itself')
    fields = {k: v for k, v in raw.items() if k not in ("base_url", "url")}
    return SiteSettings(**{"title": "", **fields, "base_url": base, "url": url})


_URL_PATH = re.compile(r"/[A-Za-z0-9._~!$()*+,;=:@%/-]*")


def base_url_problem(base: str) -> str | None:
    """Why `base` cannot be the site's path (it is written into pages and host files such as
    _headers, so a line break or a quote in it would inject lines), or None."""
    if not base.startswith("/"):
        return f'{base!r} must start with "/" (e.g. "/teaching/")'
    if not _URL_PATH.fullmatch(base) or "/../" in base + "/" or "/./" in base + "/":
        return f"{base!r} must be a URL path of letters, digits and - . _ ~ / only"
    return None


def site_url_problem(url: str) -> str | None:
    """Why `url` cannot be the site's absolute address, or None."""
    if not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f<>\"'`\\]+", url):
        return f"{url!r} must be an absolute http(s) URL without spaces or quotes"
    return None


def normalize_base_url(base: str) -> str:
    """'/teaching' and 'teaching/' both become '/teaching/'."""
    base = "/" + base.strip("/")
    return base if base == "/" else base + "/"


def _build_settings(raw: dict[str, Any], chk: _Checker) -> BuildSettings:
    frames = raw.get("frames", "htj2k")
    if frames not in FRAME_CODECS:
        chk.add("build.frames", f'"{frames}" must be one of {", ".join(FRAME_CODECS)}')
    workers = raw.get("workers", 0)
    if workers < 0:
        chk.add("build.workers", f"{workers} must be 0 (all cores) or more")
    lossy = raw.get("lossy", False)
    psnr = None
    if isinstance(lossy, dict):
        psnr = lossy.get("psnr")
        if set(lossy) != {"psnr"} or isinstance(psnr, bool) or not isinstance(psnr, int | float):
            chk.add("build.lossy", "must be { psnr = N }: the lowest quality reaching N dB")
            psnr = None
        elif not 30 <= psnr <= 100:
            chk.add("build.lossy.psnr", f"{psnr} must be from 30 to 100 (dB)")
            psnr = None
        lossy = False
    elif lossy is True or (not isinstance(lossy, bool) and not 1 <= lossy <= 100):
        chk.add("build.lossy", f"{lossy!r} must be false or a quality from 1 to 100")
        lossy = False
    zips = raw.get("zips", "files")
    if zips not in ("files", "browser"):
        chk.add("build.zips", f'"{zips}" must be "files" or "browser"')
    pack = raw.get("pack", 0)
    if not 0 <= pack <= MAX_PACK_MIB:
        chk.add("build.pack", f"{pack} must be 0 (a file per frame) or 1 to {MAX_PACK_MIB} (MiB)")
        pack = 0
    return BuildSettings(
        workers=workers,
        frames=frames,
        lossy=None if lossy is False else lossy,
        lossy_psnr=None if psnr is None else float(psnr),
        downloads=raw.get("downloads", True),
        lossless_downloads=raw.get("lossless_downloads", False),
        preview=raw.get("preview", True),
        zips=zips,
        pack=pack,
    )


def _deid_settings(raw: dict[str, Any], chk: _Checker) -> DeidSettings:
    options = raw.get("options", list(DEFAULT_DEID_OPTIONS))
    for opt in options:
        if opt not in DEID_OPTIONS:
            close = difflib.get_close_matches(str(opt), DEID_OPTIONS, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            chk.add("deid.options", f'unknown option "{opt}"{hint}')
    if raw.get("profile", "basic") != "basic":
        chk.add("deid.profile", '"basic" is the only profile')
    burned = raw.get("burned_in", "refuse")
    if burned not in BURNED_IN:
        chk.add("deid.burned_in", f'"{burned}" must be one of {", ".join(BURNED_IN)}')
    return DeidSettings(
        enabled=raw.get("enabled", True),
        options=tuple(str(o) for o in options),
        key_file=raw.get("key_file", ".sitegen/key"),
        burned_in=burned,
    )


def _ohif_settings(raw: dict[str, Any], chk: _Checker, root: Path) -> OhifSettings:
    source = raw.get("data_source", "auto")
    if source not in ("auto", "dicomweb", "dicomjson"):
        chk.add("ohif.data_source", f'"{source}" must be auto, dicomweb or dicomjson')
    version = raw.get("version", OHIF_VERSIONS[-1])
    if version not in OHIF_VERSIONS:
        chk.add("ohif.version", f'"{version}" is not pinned; use one of {", ".join(OHIF_VERSIONS)}')
    keep = tuple(str(k) for k in raw.get("keep", []))
    for name in keep:
        if name not in OHIF_KEEP:
            chk.add("ohif.keep", f'unknown part "{name}"; the parts are {", ".join(OHIF_KEEP)}')
    user_config = raw.get("user_config", "")
    if user_config and not (root / user_config).is_file():
        chk.add("ohif.user_config", f'"{user_config}" is not a file beside the configuration')
    oidc = raw.get("oidc", {})
    if oidc and not isinstance(oidc.get("authority"), str):
        chk.add("ohif.oidc", "needs authority (the OpenID provider's URL) and client_id")
    return OhifSettings(
        enabled=raw.get("enabled", False),
        version=version,
        data_source=source,
        user_config=user_config,
        keep=keep,
        oidc=dict(oidc),
    )
