"""What a build tells its user: the progress protocol the CLI draws, and the report it ends
with (also the JSON of `sitegen build --json`, and what a no-op reports again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class UI(Protocol):
    """What the build tells its user; the CLI draws progress bars from it."""

    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self, stage: str, seconds: float, detail: str) -> None: ...


class QuietUI:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self, stage: str, seconds: float, detail: str) -> None:
        pass


@dataclass
class BuildReport:
    out_dir: str = ""
    cases: int = 0
    studies: int = 0
    series: int = 0
    instances: int = 0
    frames: int = 0
    bytes_in: int = 0
    bytes_out: int = 0  # the frame files
    files_out: int = 0
    size_out: int = 0  # the whole published tree
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values de-identification took out
    deid: bool = True
    published: bool = False
    cached: int = 0  # instances reused from the build cache
    added: list[str] = field(default_factory=list)  # the deploy diff against the last output
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ohif: str = ""  # the bundled OHIF's version, when the site includes it (ohif/)

    @property
    def ratio(self) -> float:
        return self.bytes_in / self.bytes_out if self.bytes_out else 0.0

    @property
    def mb_per_second(self) -> float:
        """Input megabytes per second of the pixel stage."""
        seconds = self.seconds.get("pixels", 0.0)
        return self.bytes_in / 1e6 / seconds if seconds else 0.0

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    SUMMARY = (
        "cases",
        "studies",
        "series",
        "instances",
        "frames",
        "bytes_in",
        "bytes_out",
        "files_out",
        "size_out",
        "warnings",
        "cached",
    )

    def summary(self) -> dict[str, Any]:
        """What a no-op rebuild reports again."""
        return {k: getattr(self, k) for k in self.SUMMARY}

    def restore(self, summary: dict[str, Any]) -> None:
        for k in self.SUMMARY:
            if k in summary:
                setattr(self, k, summary[k])

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items()}
        d["ratio"] = round(self.ratio, 3)
        d["mb_per_second"] = round(self.mb_per_second, 1)
        return d


class BuildFailed(Exception):
    def __init__(self, report: BuildReport) -> None:
        self.report = report
        super().__init__("; ".join(report.errors[:3]) or "build failed")
