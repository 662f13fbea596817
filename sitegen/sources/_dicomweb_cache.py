"""Where a DICOMweb source is kept on this machine: one folder per URL under the user's cache,
its Part 10 files and the listing of the last complete download (for offline rebuilds)."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import platformdirs

from ._dicomweb_url import DicomwebUrl, valid_uid

LISTING = "listing.json"
Instance = tuple[str, str, str]  # (study, series, SOP instance) UIDs


def cache_root() -> Path:
    """<user cache>/sitegen/dicomweb (SITEGEN_CACHE_DIR overrides; the tests use a tmp dir)."""
    override = os.environ.get("SITEGEN_CACHE_DIR")
    base = Path(override) if override else Path(platformdirs.user_cache_dir("sitegen"))
    return base / "dicomweb"


def cache_dir(url: DicomwebUrl) -> Path:
    return cache_root() / hashlib.sha256(url.normalized().encode("utf-8")).hexdigest()


def write_listing(folder: Path, url: DicomwebUrl, instances: list[Instance]) -> None:
    """Record the complete download (for offline rebuilds) and drop instances no longer listed."""
    wanted = {f"{sop}.dcm" for _, _, sop in instances}
    for old in folder.glob("*.dcm"):
        if old.name not in wanted:
            old.unlink(missing_ok=True)
    tmp = folder / f".{LISTING}.{uuid.uuid4().hex}.part"
    data = {"source": url.normalized(), "saved": time.time(), "instances": instances}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    os.replace(tmp, folder / LISTING)


def cached_listing(url: DicomwebUrl, folder: Path) -> list[Instance] | None:
    """The instances of the last complete download (for offline rebuilds), if all are there."""
    try:
        data = json.loads((folder / LISTING).read_text(encoding="utf-8"))
        instances = [(str(s), str(r), str(i)) for s, r, i in data["instances"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("source") != url.normalized() or not all(
        valid_uid(sop) and (folder / f"{sop}.dcm").is_file() for _, _, sop in instances
    ):
        return None
    return instances
