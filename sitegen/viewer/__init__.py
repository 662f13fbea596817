"""The teaching viewer: static files (plain ES modules, no build step) copied into a site.

`install_viewer(out)` writes `out/viewer/`: the files of `static/` plus OpenJPH's decoder
(`openjphjs.js` + `openjphjs.wasm`, fetched by `sitegen.vendor`, never committed here).
The viewer loads `../data/cases/<slug>.json`, so it works under any base URL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import vendor

STATIC = Path(__file__).parent / "static"

# The only files of the OpenJPH package the browser needs, and their license.
_OPENJPH_FILES = {
    "dist/openjphjs.js": "openjphjs.js",
    "dist/openjphjs.wasm": "openjphjs.wasm",
    "LICENSE": "openjphjs.LICENSE.txt",
}


def static_files() -> list[Path]:
    """The viewer's own files (what `install_viewer` copies besides the vendored decoder)."""
    return sorted(p for p in STATIC.iterdir() if p.is_file() and not p.name.startswith("."))


def install_viewer(out: Path, *, offline: bool = False) -> None:
    """Copy the viewer into `out/viewer/` with the pinned OpenJPH decoder beside it.

    The decoder comes from the vendor cache (downloaded and verified on first use); offline,
    a missing cache raises `sitegen.vendor.VendorError` saying how to fill it."""
    package = vendor.fetch(vendor.OPENJPH, offline=offline)
    target = out / "viewer"
    target.mkdir(parents=True, exist_ok=True)
    for path in static_files():
        shutil.copyfile(path, target / path.name)
    for source, name in _OPENJPH_FILES.items():
        shutil.copyfile(package / source, target / name)
