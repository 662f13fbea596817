"""A worker's spool of encoded frames waiting for their Part 10 file (lossless downloads
beside lossy frames)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


class Spool:
    """The lossless codestreams of one instance's frames, kept until its Part 10 file is
    written: in memory up to a few MB, then in a private scratch folder outside the output
    (removed when the input is done, whatever happened: see run)."""

    MEMORY = 8 << 20
    open: list[Spool] = []

    def __init__(self) -> None:
        self.items: list[Path | bytes] = []
        self.size = 0
        self.folder: Path | None = None
        Spool.open.append(self)

    def append(self, data: bytes) -> None:
        self.size += len(data)
        if self.size <= self.MEMORY:
            self.items.append(data)
            return
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="sitegen-spool-"))  # mode 0700
        path = self.folder / str(len(self.items))
        path.write_bytes(data)
        self.items.append(path)

    def files(self) -> list[Path | bytes]:
        return list(self.items)

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @classmethod
    def close_all(cls) -> None:
        while cls.open:
            cls.open.pop().close()
