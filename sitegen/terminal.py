"""What the terminal shows: progress bars per stage, the build's report, and what the checks
found. The CLI parses arguments and calls these."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .report import BuildReport

if TYPE_CHECKING:
    from .check import CheckReport
    from .hostcheck import HostReport
    from .sources.dicomweb import DownloadProgress

# Not on a terminal (a log, CI, a pipe), a line stays one line: Rich would wrap it at 80 columns.
console = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())


class RichUI:
    """Progress bars per stage, then one summary line per stage."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task = None
        self.download_bar: Progress | None = None
        self.fetch_bar: Progress | None = None
        self.fetch_task: Any = None
        self.download_task: Any = None

    def start(self, stage: str, total: int | None) -> None:
        if self.quiet or not console.is_terminal:
            return
        self.progress = Progress(
            TextColumn("  {task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(stage, total=total)

    def advance(self, n: int = 1) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)

    def finish(self, stage: str, seconds: float, detail: str) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if not self.quiet:
            console.print(f"  {stage:<8} {detail:<52} {seconds:6.1f} s")

    def fetch(self, done: int, total: int | None) -> None:
        """A bar while a pinned npm package (OHIF: about 50 MB) downloads, once per machine."""
        if self.quiet or not console.is_terminal:
            return
        if self.fetch_bar is None:
            self.fetch_bar = Progress(
                TextColumn("  fetch    OHIF"),
                BarColumn(),
                DownloadColumn(),
                console=console,
                transient=True,
            )
            self.fetch_bar.start()
            self.fetch_task = self.fetch_bar.add_task("ohif", total=total)
        self.fetch_bar.update(self.fetch_task, completed=done, total=total)
        if total is not None and done >= total:
            self.fetch_bar.stop()
            self.fetch_bar = None

    def download(self, p: DownloadProgress) -> None:
        """A bar per DICOMweb source while it downloads (instances; bytes as text)."""
        if self.quiet or not console.is_terminal:
            return
        if self.download_bar is None:
            self.download_bar = Progress(
                TextColumn("  download {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[mb]:.1f} MB"),
                console=console,
                transient=True,
            )
            self.download_bar.start()
            self.download_task = self.download_bar.add_task(p.source[-40:], total=None, mb=0.0)
        assert self.download_task is not None
        done = p.instances_done + p.instances_cached
        self.download_bar.update(
            self.download_task, total=p.instances_total, completed=done, mb=p.bytes_received / 1e6
        )
        if p.instances_total and done >= p.instances_total:
            self.download_bar.stop()
            self.download_bar = None


def print_report(report: BuildReport, quiet: bool) -> None:
    if report.warnings:
        console.print(f"[yellow]warnings ({len(report.warnings)}):[/yellow]")
        for w in report.warnings[:20]:
            console.print(f"  {w}", markup=False)
        if len(report.warnings) > 20:
            console.print(f"  … and {len(report.warnings) - 20} more (--json lists all)")
    if report.notes and not quiet:
        console.print(
            f"de-identification took values out of kept attributes ({len(report.notes)}):"
        )
        for note in report.notes[:20]:
            console.print(f"  {note}", markup=False)
    if not report.deid:
        console.print("[bold red]de-identification was OFF for this build[/bold red]")
    if report.errors:
        console.print(
            f"[red]Error:[/red] the build failed; nothing was published ({escape(report.out_dir)})"
        )
        for e in report.errors:
            console.print(f"  {e}", markup=False)
        return
    console.print(
        f"built {report.cases} case{'s' * (report.cases != 1)}, "
        f"{report.studies} stud{'ies' if report.studies != 1 else 'y'}, {report.series} series, "
        f"{report.instances} instances, {report.frames} frames in {report.total_seconds:.1f} s "
        f"-> {escape(report.out_dir)} ({report.size_out / 1e6:.1f} MB, {report.files_out:,} files; "
        f"frames {report.bytes_in / 1e6:.1f} MB -> {report.bytes_out / 1e6:.1f} MB, "
        f"{report.ratio:.2f}x"
        + (
            f", {report.cached} instances from the cache)"
            if report.cached
            else f", {report.mb_per_second:.0f} MB/s)"
        )
        + (f"; with OHIF {report.ohif} (ohif/)" if report.ohif else "")
        + f"; deploy diff: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed"
    )


def print_check(result: CheckReport, public: Path) -> None:
    """What `sitegen check` found; exits 1 when it found anything."""
    from .check import ACTION_NAMES

    for w in result.warnings:
        console.print(f"  warning: {w}", markup=False)
    for e in result.errors:
        console.print(f"[red]Error:[/red] {escape(str(e))}")
    console.print("de-identification report (attributes, all inputs):")
    for action, name in ACTION_NAMES.items():
        console.print(f"  {action}  {name:<24} {result.actions.get(action, 0):>9,}")
    if result.hits:
        console.print(
            f"[red]Error:[/red] {len(result.hits)} identifying values found in "
            + escape(str(public))
        )
        for hit in result.hits[:50]:
            console.print(
                f"  {hit.path}: {hit.value} from {hit.canary.attribute} of {hit.canary.source}",
                markup=False,
            )
        sys.exit(1)
    console.print(
        f"checked {escape(str(public))} ({result.files:,} files, every byte read; "
        f"{result.proved:,} verbatim copies proved by hash) for {result.values:,} "
        "identifying values: none found"
    )
    if result.errors:
        sys.exit(1)


def print_host_audit(report: HostReport, host: str, public: Path) -> None:
    """What `sitegen check --host` found; exits 1 over a limit."""
    from .hostcheck import HOSTS

    st, limits = report.stats, HOSTS[host]

    def row(what: str, value: str, limit: str | None) -> None:
        console.print(f"  {what:<16} {value:<58} {('limit ' + limit) if limit else ''}".rstrip())

    def mib(n: int) -> str:
        return f"{n / 2**20:,.1f} MiB"

    def short(path: str, width: int = 44) -> str:
        return path if len(path) <= width else path[: width // 2 - 1] + "…" + path[-width // 2 :]

    console.print(f"{public} for {limits.label}:")
    row("files", f"{st.files:,}", f"{limits.max_files:,}" if limits.max_files else None)
    total = limits.max_total_bytes
    row("total size", mib(st.total_bytes), f"{total / 1e9:g} GB" if total else None)
    biggest = limits.max_file_bytes
    largest = f"{mib(st.largest[0])} {short(st.largest[1])}"
    row("largest file", largest, mib(biggest) if biggest else None)
    per_folder = limits.max_files_per_folder
    row(
        "fullest folder",
        f"{st.busiest_folder[0]:,} entries {short(st.busiest_folder[1])}",
        f"{per_folder:,}" if per_folder else None,
    )
    if st.header_rules is not None and limits.headers:
        rules = limits.max_header_rules
        row("_headers rules", str(st.header_rules), str(rules) if rules else None)
    for note in report.notes:
        console.print(f"  note: {note}", markup=False)
    for warning in report.warnings:
        console.print(f"  [yellow]warning:[/yellow] {escape(warning)}")
    for error in report.errors:
        console.print(f"[red]Error:[/red] {escape(error)}")
    if report.errors:
        sys.exit(1)
    console.print(f"fits {limits.label}")
