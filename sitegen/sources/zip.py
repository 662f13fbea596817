"""Zip archives, read in place: nothing is extracted to disk."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .. import limits
from ._items import SourceItem
from .folder import is_dicom_header, record_texts

if TYPE_CHECKING:
    pass


class UnsafeZipError(ValueError):
    """The archive as a whole is refused (a zip bomb, or not a zip)."""


def _unsafe_name(name: str) -> str | None:
    """Why a member name is refused, or None when it is a plain relative path."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path in zip, refused"
    if ".." in p.parts:
        return "path traversal ('..') in zip, refused"
    return None


def scan_zip(
    path: Path,
    label: str,
    items: list[SourceItem],
    skipped: list[tuple[str, str]],
    texts: list[tuple[str, str, str, str]] | None = None,
) -> None:
    """DICOM members of a zip read in place; its comments, member names and DICOMDIR record
    values go to `texts` (canaries)."""
    import pydicom

    texts = [] if texts is None else texts
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeZipError(f"{label}: not a readable zip: {exc}") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise UnsafeZipError(f"{label}: {len(infos)} members is over the limit")
        total = sum(i.file_size for i in infos)
        if total > limits.MAX_ZIP_TOTAL:
            raise UnsafeZipError(
                f"{label}: {total} bytes uncompressed is over the {limits.MAX_ZIP_TOTAL} limit"
            )
        if zf.comment:
            texts.append((zf.comment.decode("utf-8", "replace"), "LT", "zip comment", label))
        last = {info.filename: n for n, info in enumerate(infos)}  # what a name reads
        order = sorted(range(len(infos)), key=lambda n: (infos[n].filename, n))
        for n in order:
            info = infos[n]
            where = f"{label}!{info.filename}"
            if last[info.filename] != n:
                texts.append((info.filename, "path", "zip member name", where))
                skipped.append(
                    (where, "another member has the same name (only the last is read), skipped")
                )
                continue
            texts.append((info.filename, "path", "zip member name", where))
            if info.comment:
                comment = info.comment.decode("utf-8", "replace")
                texts.append((comment, "LT", "zip member comment", where))
            reason = _unsafe_name(info.filename)
            if (
                reason is None
                and info.file_size > limits.ZIP_RATIO_CHECK_ABOVE
                and info.file_size > limits.MAX_ZIP_RATIO * max(info.compress_size, 1)
            ):
                reason = "compression ratio too high (zip bomb?), refused"
            if reason is None and info.file_size > limits.MAX_ZIP_MEMBER:
                reason = "member too large, refused"
            if reason:
                skipped.append((where, reason))
                continue
            name = PurePosixPath(info.filename).name
            if name.startswith(".") or "__MACOSX" in info.filename:
                continue
            try:
                with zf.open(info) as fh:
                    head = fh.read(132)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                skipped.append((where, f"cannot read from zip: {exc}"))
                continue
            if not is_dicom_header(head):
                skipped.append((where, "not DICOM (no DICM marker at byte 128), skipped"))
                continue
            if name.upper() == "DICOMDIR":
                try:
                    with zf.open(info) as fh:
                        texts += record_texts(pydicom.dcmread(fh, force=True), where)
                except Exception:  # noqa: BLE001 - an unreadable index adds nothing
                    pass
                continue
            items.append(SourceItem("zip", str(path), info.filename, where, info.filename))
