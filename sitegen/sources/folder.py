"""Folders (recursive), single files and DICOMDIR indexes."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..faults import reason
from ._items import SourceItem, printable

if TYPE_CHECKING:
    import pydicom

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


def is_dicom_header(head: bytes) -> bool:
    """Part 10 files carry 'DICM' after a 128-byte preamble."""
    return len(head) >= 132 and head[128:132] == b"DICM"


Texts = list[tuple[str, str, str, str]]  # (value, VR or "path", attribute, where)
_TEXT_VRS = frozenset({"PN", "DA", "DT", "LO", "SH", "LT", "ST", "UT", "UC", "AE", "UI", "CS"})


def scan_folder(
    path: Path,
    label: str,
    items: list[SourceItem],
    skipped: list[tuple[str, str]],
    texts: Texts | None = None,
) -> None:
    """Add every DICOM file below `path` (or `path` itself when it is a file) to `items`;
    the names of the files passed over and DICOMDIR record values go to `texts`."""
    texts = [] if texts is None else texts
    if path.is_file():
        if path.name.upper() == "DICOMDIR":
            _scan_dicomdir(path, label, items, skipped, texts)
        else:
            _add_file(path, label, path.name, items, skipped, texts)
        return
    for file in _files_below(path):
        name = printable(file.relative_to(path).as_posix())
        if not file.is_file():  # a FIFO would block the read; a device never ends
            reason = "a link to a folder, not followed" if file.is_dir() else "not a regular file"
            skipped.append((f"{label}/{name}", f"{reason}, skipped"))
            texts.append((name, "path", "file name", f"{label}/{name}"))
            continue
        _add_file(file, f"{label}/{name}", name, items, skipped, texts)


def _files_below(path: Path) -> list[Path]:
    """Everything below `path` that is not a folder, in name order; hidden files and folders
    (.DS_Store, .git) left out; links to folders are not walked (they may form a loop)."""
    found = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(folder)
        found += [base / f for f in files if not f.startswith(".")]
        found += [base / d for d in dirs if (base / d).is_symlink()]
    return sorted(found)


def record_texts(ds: pydicom.Dataset, where: str) -> Texts:
    """Every text value of a DICOMDIR's records (patient names, IDs, dates, descriptions)."""
    found: Texts = []
    for record in ds.get("DirectoryRecordSequence", []):
        for elem in record:
            if elem.VR in _TEXT_VRS and elem.value not in (None, ""):
                values = elem.value if isinstance(elem.value, list | tuple) else [elem.value]
                found += [(str(v), elem.VR, f"DICOMDIR {elem.keyword}", where) for v in values]
    return found


def _add_file(
    file: Path,
    label: str,
    rel: str,
    items: list[SourceItem],
    skipped: list[tuple[str, str]],
    texts: Texts,
) -> None:
    try:
        with file.open("rb") as fh:
            head = fh.read(132)
    except OSError as exc:
        skipped.append((label, f"cannot read: {exc.strerror or exc}"))
        texts.append((rel, "path", "file name", label))
        return
    if not is_dicom_header(head):
        skipped.append((label, "not DICOM (no DICM marker at byte 128), skipped"))
        texts.append((rel, "path", "file name", label))
        return
    if file.name.upper() == "DICOMDIR":
        import pydicom  # here: a folder of files needs none

        try:  # the index of a folder we are scanning anyway: only its values
            texts += record_texts(pydicom.dcmread(file, force=True), label)
        except Exception:  # noqa: BLE001 - an unreadable index adds nothing
            pass
        return
    items.append(SourceItem("file", str(file), "", label, rel))


def _scan_dicomdir(
    path: Path, label: str, items: list[SourceItem], skipped: list[tuple[str, str]], texts: Texts
) -> None:
    """A DICOMDIR names its files; take exactly those, in the index's order.

    The records are read as a flat list, not walked by their offsets: a hostile index whose
    offsets form a loop (or point nowhere) cannot hang or break the scan. A record naming a
    missing file or a path outside the folder is a skipped input, which --strict sees."""
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's warnings print the values
            ds = pydicom.dcmread(path)
            records = list(ds.get("DirectoryRecordSequence", []))
        texts += record_texts(ds, label)
    except Exception as exc:  # pydicom raises many kinds for a broken index
        skipped.append((label, f"unreadable DICOMDIR ({reason(exc)}), skipped"))
        return
    root = path.parent.resolve()
    parent = label.rsplit("/", 1)[0] if "/" in label else ""
    seen: set[Path] = set()
    for record in records:
        parts = record.get("ReferencedFileID")
        if parts is None:
            continue
        parts = [parts] if isinstance(parts, str) else [str(p) for p in parts]
        named = "/".join(parts)
        if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
            skipped.append((label, f"a record names {named!r}: not a path inside its folder"))
            continue
        file = root.joinpath(*parts)
        try:
            file = file.resolve()
            rel = file.relative_to(root).as_posix()
        except (OSError, ValueError):
            skipped.append((label, f"a record names {named!r}: outside its folder"))
            continue
        if file in seen:
            continue
        seen.add(file)
        if not file.is_file():
            skipped.append((label, f"a record names {rel}: no such file"))
            continue
        _add_file(file, f"{parent}/{rel}" if parent else rel, rel, items, skipped, texts)
