"""What every phase of one build sees: the site, the tree being written, the cache, the
workers and the report (the way Sphinx's builder phases share one environment)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import faults
from ..cache import BuildCache
from ..config import Site
from ..deid import Deidentifier
from ..pool import Workers
from ..report import UI, BuildReport


@dataclass
class Env:
    site: Site
    tmp: Path  # the new tree, swapped in by the publish phase
    out: Path  # the published tree
    report: BuildReport
    ui: UI
    team: Workers
    cache: BuildCache
    strict: bool
    deidentifier: Deidentifier | None  # None: de-identification is off (--no-deid)

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[list[str]]:
        """Time a stage; the body may put a one-line summary into the yielded list. An
        unexpected failure in it says which stage it was in (the CLI prints that)."""
        self.ui.start(name, total)
        t0 = time.perf_counter()
        detail: list[str] = []
        with faults.about(f"in the {name} stage"):
            yield detail
        self.report.seconds[name] = time.perf_counter() - t0
        self.ui.finish(name, self.report.seconds[name], detail[0] if detail else "")

    def refuse(self, message: str) -> None:
        """An input left out: a warning, or with --strict an error."""
        (self.report.errors if self.strict else self.report.warnings).append(message)
