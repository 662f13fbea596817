"""A no-op `sitegen build` answered before the pipeline is imported (sitegen/quick.py): only
when nothing the output depends on has changed, and the output is that build's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import write_site
from dicomgen import write_ct_series

QUICK = "quick check of the inputs"


def sitegen(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", "from sitegen._entry import main; main()", "build", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done


def test_a_no_op_is_answered_quickly_and_only_when_nothing_changed(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_ct_series(root / "cases/ct", 2, rows=16, cols=16)
    write_site(root, '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct"\n')
    first = sitegen(root, "-j", "1")  # makes the key: the next build records the inputs
    assert first.returncode == 0 and QUICK not in first.stderr, first.stderr
    assert QUICK not in sitegen(root, "-j", "1").stderr
    second = sitegen(root, "-j", "1")
    assert second.returncode == 0 and QUICK in second.stderr, second.stderr
    built = [line for line in second.stderr.splitlines() if line.startswith("built ")]
    assert built and "deploy diff: 0 added, 0 changed, 0 removed" in built[0]
    assert "2 instances from the cache" in built[0]

    # a touched input: the build decides by content (still nothing to publish), then quick again
    image = next((root / "cases/ct").iterdir())
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 10**9))
    assert QUICK not in sitegen(root, "-j", "1").stderr
    assert QUICK in sitegen(root, "-j", "1").stderr

    # a changed case text is built and published
    config = root / "site.toml"
    config.write_text(config.read_text().replace('title = "CT"', 'title = "Chest CT"'))
    edited = sitegen(root, "-j", "1")
    assert QUICK not in edited.stderr and "1 changed" not in edited.stderr, edited.stderr
    assert "Chest CT" in (root / "public/cases/ct/index.html").read_text()

    # other arguments, another key, a deleted output: never quick
    assert QUICK not in sitegen(root, "--json").stdout + sitegen(root, "--json").stderr
    record = root / ".sitegen/cache/quick.json"
    assert record.stat().st_mode & 0o777 == 0o600  # private, like the rest of .sitegen/
    before = record.stat().st_mtime_ns
    quiet = sitegen(root, "-q")  # -q and -j change nothing of the output: quick, and quiet
    assert quiet.returncode == 0 and quiet.stderr.rstrip().endswith("0 removed"), quiet.stderr
    assert record.stat().st_mtime_ns == before  # a full build would have rewritten the record
    strict = sitegen(root, "--strict")  # fails (a warning): the record is forgotten
    assert strict.returncode == 1 and QUICK not in strict.stderr
    assert QUICK not in sitegen(root).stderr
    assert QUICK in sitegen(root).stderr
    key = root / ".sitegen/key"
    key.write_bytes(bytes(range(32)))
    assert QUICK not in sitegen(root).stderr
    for path in sorted((root / "public").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "public").rmdir()
    rebuilt = sitegen(root)
    assert QUICK not in rebuilt.stderr and (root / "public/index.html").is_file()
    assert json.loads(record.read_text())["out"] == str((root / "public").resolve())
