"""Golden output of a whole small site (in the spirit of Pelican's functional tests).

Every path of the built tree, the full content of every JSON file, and a digest of every frame
are compared with tests/golden/small-site.json. After an intended change, regenerate it with
`SITEGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from conftest import write_site
from dicomgen import write_ct_series
from pydicom.data import get_testdata_file

from sitegen.build import build
from sitegen.config import load_config

GOLDEN = Path(__file__).parent / "golden/small-site.json"
KEY = bytes(range(100, 132))


def describe(out: Path) -> dict[str, Any]:
    """A stable description of a built tree."""
    files: dict[str, Any] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if name.endswith(("/metadata", ".json")) or (
            name.startswith("dicomweb/") and name.endswith(".html")
        ):
            files[name] = json.loads(data)
        elif name.startswith(("viewer/", "assets/")):
            files[name] = "copied"  # sitegen's own files, verbatim: tested where they are made
        elif name.endswith("/thumbnail"):
            files[name] = "JPEG" if data[:3] == b"\xff\xd8\xff" else "not a JPEG"
        elif name.endswith(".png"):
            files[name] = "PNG" if data[:8] == b"\x89PNG\r\n\x1a\n" else "not a PNG"
        elif name.endswith((".html", ".txt", ".xml")) or name in ("_headers", "_redirects", "CORS"):
            files[name] = data.decode("utf-8")
        else:
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return files


def test_small_site_matches_golden(site_dir: Path) -> None:
    write_ct_series(site_dir / "cases/ct", 3)
    (site_dir / "cases/mr").mkdir(parents=True)
    shutil.copy(get_testdata_file("MR_small.dcm"), site_dir / "cases/mr/MR_small.dcm")
    (site_dir / ".sitegen").mkdir()
    (site_dir / ".sitegen/key").write_bytes(KEY)
    config = write_site(
        site_dir,
        '[build]\nframes = "raw"\n'
        '[[cases]]\nslug = "ct"\ntitle = "Generated CT"\nsource = "cases/ct"\n'
        '[[cases]]\nslug = "mr"\ntitle = "Small MR"\nsource = "cases/mr"\n',
    )
    build(load_config(config), workers=1)
    actual = describe(site_dir / "public")
    if os.environ.get("SITEGEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(actual) == sorted(expected)  # the same paths
    for name in expected:
        assert actual[name] == expected[name], name
