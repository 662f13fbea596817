"""Folders (recursive), single files and DICOMDIR indexes."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.fileset import FileSet

from ._items import SourceItem

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
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue  # hidden files and folders: .DS_Store, .git
        _add_file(file, f"{label}/{rel.as_posix()}", rel.as_posix(), items, skipped, texts)


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
        try:  # the index of a folder we are scanning anyway: only its values
            texts += record_texts(pydicom.dcmread(file, force=True), label)
        except Exception:  # noqa: BLE001 - an unreadable index adds nothing
            pass
        return
    items.append(SourceItem("file", str(file), "", label, rel))


def _scan_dicomdir(
    path: Path, label: str, items: list[SourceItem], skipped: list[tuple[str, str]], texts: Texts
) -> None:
    """A DICOMDIR names its files; take exactly those, in the index's order."""
    try:
        ds = pydicom.dcmread(path)
        texts += record_texts(ds, label)
        fileset = FileSet(ds)
    except Exception as exc:  # pydicom raises many kinds for a broken index
        skipped.append((label, f"unreadable DICOMDIR: {exc}"))
        return
    root = path.parent
    seen: set[Path] = set()
    for instance in fileset:
        file = Path(instance.path).resolve()
        if file in seen:
            continue
        seen.add(file)
        try:
            rel = file.relative_to(root.resolve()).as_posix()
        except ValueError:
            skipped.append((label, f"refers outside its folder: {instance.path}"))
            continue
        parent = label.rsplit("/", 1)[0] if "/" in label else ""
        _add_file(file, f"{parent}/{rel}" if parent else rel, rel, items, skipped, texts)
