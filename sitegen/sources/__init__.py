"""Where DICOM comes from: a folder, a file, a .zip, a DICOMDIR, a built-in sample or a DICOMweb
server (downloaded into a local cache first, see dicomweb.py).

`find_items` lists a case's inputs as `SourceItem`s: small picklable references that a worker
process opens by itself, so file contents never travel between processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._dicomweb_url import DicomwebError, looks_like_url
from ._items import SourceItem, printable
from .folder import scan_folder
from .zip import scan_zip

if TYPE_CHECKING:
    from .dicomweb import ProgressCallback

__all__ = ["DicomwebError", "SourceItem", "SourceScan", "find_items"]


@dataclass
class SourceScan:
    """What a source holds: the DICOM items, and the files passed over with the reason."""

    items: list[SourceItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    # values read around the DICOM (zip comments and names, DICOMDIR records): still the
    # patient's, so canaries: (value, VR or "path", attribute, where)
    texts: list[tuple[str, str, str, str]] = field(default_factory=list)


def find_items(
    source: str,
    root: Path,
    *,
    auth: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> SourceScan:
    """List the DICOM inputs of one case source (relative paths resolve against `root`).

    A DICOMweb URL is downloaded here, in the calling process, with the case's `auth` table;
    `progress` hears how the download goes. It raises DicomwebError when the source cannot be
    read whole."""
    if looks_like_url(source):
        from .dicomweb import find_dicomweb_items

        items, skipped = find_dicomweb_items(source, root, auth=auth, progress=progress)
        return SourceScan(items, skipped)
    if source.startswith("sample:"):
        from .sample import sample_size

        name = source.removeprefix("sample:")
        return SourceScan(
            [
                SourceItem("sample", name, str(i), f"{source}#{i + 1}", "")
                for i in range(sample_size(name))
            ]
        )
    path = (root / source).resolve()
    scan = SourceScan()
    if path.is_dir():
        scan_folder(path, _label(path, root), scan.items, scan.skipped, scan.texts)
    elif path.suffix.lower() == ".zip":
        scan_zip(path, _label(path, root), scan.items, scan.skipped, scan.texts)
    elif path.is_file():
        scan_folder(path, _label(path, root), scan.items, scan.skipped, scan.texts)
    else:
        scan.skipped.append((_label(path, root), "no such file or folder"))
    return scan


def _label(path: Path, root: Path) -> str:
    """How messages name an input: relative to the site's folder, never as an absolute path
    (the folders above a case are often named after the patient too)."""
    try:
        return printable(str(path.relative_to(root)))
    except ValueError:
        return printable(os.path.relpath(path, root))
