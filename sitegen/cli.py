"""The `sitegen` command: build, serve, new. Exit codes: 0 ok, 1 build failed, 2 usage/config."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__
from .build import BuildFailed, BuildReport, build
from .config import ConfigError, Site, load_config

console = Console(stderr=True, highlight=False)


class RichUI:
    """Progress bars per stage, then one summary line per stage."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task = None

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


def _load(config: str) -> Site:
    try:
        return load_config(config)
    except ConfigError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False)
        sys.exit(2)


def _print_report(report: BuildReport, quiet: bool) -> None:
    if report.warnings:
        console.print(f"[yellow]warnings ({len(report.warnings)}):[/yellow]")
        for w in report.warnings[: 20 if not quiet else 1000]:
            console.print(f"  {w}", markup=False)
        if len(report.warnings) > 20 and not quiet:
            console.print(f"  … and {len(report.warnings) - 20} more (--json lists all)")
    if not report.deid:
        console.print("[bold red]de-identification was OFF for this build[/bold red]")
    if report.errors:
        console.print(
            f"[red]Error:[/red] the build failed; nothing was published ({report.out_dir})"
        )
        for e in report.errors:
            console.print(f"  {e}", markup=False)
        return
    console.print(
        f"built {report.cases} case{'s' * (report.cases != 1)}, {report.series} series, "
        f"{report.instances} instances, {report.frames} frames in {report.total_seconds:.1f} s "
        f"-> {report.out_dir} ({report.size_out / 1e6:.1f} MB, {report.files_out:,} files; "
        f"frames {report.bytes_in / 1e6:.1f} MB -> {report.bytes_out / 1e6:.1f} MB, "
        f"{report.ratio:.2f}x, {report.mb_per_second:.0f} MB/s)"
    )


def run_build(
    config: str,
    out: str | None,
    workers: int | None,
    strict: bool,
    no_deid: bool,
    quiet: bool = False,
    as_json: bool = False,
) -> BuildReport:
    site = _load(config)
    if not quiet and not as_json:
        n = len(site.cases)
        console.print(f"sitegen {__version__} · {config} · {n} case{'s' * (n != 1)}")
    if no_deid:
        console.print("[bold red]--no-deid: de-identification is OFF; publish public data only[/]")
    try:
        report = build(
            site,
            out_dir=Path(out) if out else None,
            workers=workers,
            strict=strict,
            deid=not no_deid,
            ui=RichUI(quiet or as_json),
        )
    except BuildFailed as exc:
        report = exc.report
    except RuntimeError as exc:  # e.g. another build holds the lock
        console.print(f"[red]Error:[/red] {exc}")
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report, quiet)
    if not report.published:
        sys.exit(1)
    return report


@click.group()
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """Turn DICOM studies into a static website of teaching cases."""


_config = click.option(
    "--config", "-c", default="site.toml", show_default=True, help="The site configuration file."
)


@main.command("build")
@_config
@click.option("--out", help="Output folder (default: [site] out_dir, i.e. public/).")
@click.option(
    "--workers", "-j", type=click.IntRange(min=0), help="Worker processes (0 = all cores)."
)
@click.option("--strict", is_flag=True, help="Treat warnings (skipped files, frames) as errors.")
@click.option(
    "--no-deid", is_flag=True, help="Publish without de-identification (public data only)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only warnings and the last line.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
def build_cmd(
    config: str,
    out: str | None,
    workers: int | None,
    strict: bool,
    no_deid: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Build the site into public/ (atomically: a failed build publishes nothing)."""
    run_build(config, out, workers, strict, no_deid, quiet, as_json)


@main.command("serve")
@_config
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-build", is_flag=True, help="Serve the existing output without building.")
def serve_cmd(config: str, port: int, no_build: bool) -> None:
    """Build, then serve the site on http://127.0.0.1:PORT/."""
    from .serve import make_server

    site = _load(config)
    out = site.out_path()
    if not no_build:
        run_build(config, None, None, False, False)
    if not out.is_dir():
        console.print(f"[red]Error:[/red] {out} does not exist; run sitegen build first")
        sys.exit(1)
    server = make_server(out, port)
    host, real_port = server.server_address[:2]
    console.print(
        f"serving {out} at http://{host}:{real_port}{site.site.base_url} (Ctrl-C to stop)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command("check")
@_config
@click.argument("public_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(min=0), default=0, help="0 = all cores.")
def check_cmd(config: str, public_dir: Path | None, workers: int) -> None:
    """Sweep a built site for every identifying value of its inputs; print a de-id report."""
    from .check import ACTION_NAMES, check_site

    site = _load(config)
    public = public_dir or site.out_path()
    if not public.is_dir():
        console.print(f"[red]Error:[/red] {public}: no such folder; build the site first")
        sys.exit(2)
    result = check_site(site, public, workers)
    for w in result.warnings:
        console.print(f"  warning: {w}", markup=False)
    for e in result.errors:
        console.print(f"[red]Error:[/red] {e}", markup=False)
    console.print("de-identification report (attributes, all inputs):")
    for action, name in ACTION_NAMES.items():
        console.print(f"  {action}  {name:<24} {result.actions.get(action, 0):>9,}")
    if result.hits:
        console.print(f"[red]Error:[/red] {len(result.hits)} identifying values found in {public}")
        for hit in result.hits[:50]:
            console.print(
                f"  {hit.path}: {hit.value} from {hit.canary.attribute} of {hit.canary.source}",
                markup=False,
            )
        sys.exit(1)
    console.print(
        f"checked {public} ({result.files:,} files) for {result.values:,} identifying values: "
        "none found"
    )
    if result.errors:
        sys.exit(1)


SCAFFOLD_SITE = """\
[site]
title = "My teaching file"
base_url = "/"
author = ""
license = "CC BY-NC-SA 4.0"

[build]
frames = "htj2k"

[deid]
key_file = ".sitegen/key"   # created on first build; keep it private, never publish it
"""

SCAFFOLD_CASE = """\
+++
title = "Example: chest CT phantom"
source = "sample:chest-ct"   # replace with a folder of DICOM files, a .zip or a DICOMDIR
history = "Generated phantom: replace with the clinical history."
findings = "A small nodule in one lung."
diagnosis = "Pulmonary nodule"
tags = ["chest", "ct"]
+++
Write the discussion here, in Markdown.
"""


@main.command("new")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new_cmd(directory: Path) -> None:
    """Scaffold a new site in DIRECTORY with one example case."""
    if directory.exists() and any(directory.iterdir()):
        console.print(f"[red]Error:[/red] {directory} exists and is not empty")
        sys.exit(2)
    (directory / "cases/example").mkdir(parents=True)
    (directory / "site.toml").write_text(SCAFFOLD_SITE, encoding="utf-8")
    (directory / "cases/example/case.md").write_text(SCAFFOLD_CASE, encoding="utf-8")
    (directory / ".gitignore").write_text("public/\n.sitegen/\n", encoding="utf-8")
    console.print(f"created {directory}/: site.toml, cases/example/case.md")
    console.print(f"next: cd {directory} && sitegen build && sitegen serve")


if __name__ == "__main__":
    main()
