"""`SourceItem`: a picklable pointer to one input that a worker can open on its own."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import limits

if TYPE_CHECKING:
    from pydicom.dataset import FileDataset


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (os.fsdecode keeps them as surrogates,
    which no message, JSON or page can hold) are shown as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class SourceItem:
    kind: str  # "file" | "zip" | "sample"
    location: str  # file path, zip path, or sample name
    member: str  # zip member name, or the sample index
    label: str  # what messages call it, e.g. "cases/a/dicom/IM1" or "a.zip!x/IM1"
    relative: str  # path below the source root: its names are de-identification canaries

    def size(self) -> int:
        """Input bytes, for the build report."""
        if self.kind == "file":
            return Path(self.location).stat().st_size
        if self.kind == "zip":
            with zipfile.ZipFile(self.location) as zf:
                return zf.getinfo(self.member).file_size
        return 0

    def read_bytes(self) -> bytes:
        if self.kind == "file":
            return Path(self.location).read_bytes()
        if self.kind == "zip":
            with zipfile.ZipFile(self.location) as zf:
                info = zf.getinfo(self.member)
                if info.file_size > limits.MAX_ZIP_MEMBER:
                    raise ValueError(f"{info.file_size} bytes uncompressed is over the limit")
                with zf.open(info) as fh:
                    return fh.read(limits.MAX_ZIP_MEMBER + 1)
        from .sample import sample_bytes

        return sample_bytes(self.location, int(self.member))

    def open_dataset(self) -> FileDataset:
        """Read the whole dataset; large values of local files stay on disk until used."""
        import pydicom  # here: a rebuild that reads no input starts without it

        if self.kind == "file":
            # small files are read in one go; a large one keeps its pixel data on disk, to be
            # decoded frame by frame
            big = Path(self.location).stat().st_size > limits.READ_WHOLE_BELOW
            return pydicom.dcmread(self.location, defer_size="1 MB" if big else None)
        if self.kind == "sample":
            from .sample import sample_instance

            return sample_instance(self.location, int(self.member))
        return pydicom.dcmread(io.BytesIO(self.read_bytes()))
