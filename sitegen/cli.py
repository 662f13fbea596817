"""The `sitegen` command: build, serve, new. Exit codes: 0 ok, 1 build failed, 2 usage/config."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import click
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

from . import __version__, quick
from .build import BuildFailed, BuildReport, build
from .config import (
    ConfigError,
    Site,
    base_url_problem,
    load_config,
    normalize_base_url,
    site_url_problem,
)
from .faults import reason
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


def _load(config: str) -> Site:
    try:
        return load_config(config)
    except ConfigError as exc:
        console.print(f"[red]Error:[/red] {escape(str(exc))}")
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False)
        sys.exit(2)


def with_site_url(site: Site, url: str | None) -> Site:
    """The site with `--site-url` in place of [site] url (None: unchanged)."""
    if url is None:
        return site
    problem = site_url_problem(url)
    if problem:
        raise click.BadParameter(problem, param_hint="--site-url")
    url = url if url.endswith("/") else url + "/"
    return dataclasses.replace(site, site=dataclasses.replace(site.site, url=url))


def with_base_url(site: Site, base_url: str | None) -> Site:
    """The site with `--base-url` in place of [site] base_url (None: unchanged)."""
    if base_url is None:
        return site
    problem = base_url_problem(normalize_base_url(base_url))
    if problem:
        raise click.BadParameter(problem, param_hint="--base-url")
    settings = dataclasses.replace(site.site, base_url=normalize_base_url(base_url))
    return dataclasses.replace(site, site=settings)


def _print_report(report: BuildReport, quiet: bool) -> None:
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


def run_build(
    config: str,
    out: str | None,
    workers: int | None,
    strict: bool,
    no_deid: bool,
    quiet: bool = False,
    as_json: bool = False,
    base_url: str | None = None,
    clean: bool = False,
    executor: str | None = None,
    take_over: bool = False,
    site_url: str | None = None,
) -> BuildReport:
    plain = not (as_json or clean or no_deid or take_over or executor not in (None, "local"))
    args = ["--config", config, *(["--out", out] if out else []), *(["--strict"] * strict)]
    args += [*(["--base-url", base_url] if base_url else [])]
    args += [*(["--site-url", site_url] if site_url else [])]
    found = quick.fingerprint(args) if plain else None  # before the build reads anything
    site = with_site_url(with_base_url(_load(config), base_url), site_url)
    if not quiet and not as_json:
        n = len(site.cases)
        console.print(f"sitegen {__version__} · {escape(config)} · {n} case{'s' * (n != 1)}")
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
            clean=clean,
            executor=executor,
            take_over=take_over,
        )
    except BuildFailed as exc:
        report = exc.report
    except (RuntimeError, ValueError) as exc:  # another build holds the lock; a bad --executor
        console.print(f"[red]Error:[/red] {escape(str(exc))}")
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report, quiet)
    if not report.published:
        quick.forget(found)
        sys.exit(1)
    # what a no-op of this build prints: the next `sitegen build` may say it without building
    noop = dataclasses.replace(
        report, added=[], changed=[], removed=[], cached=report.instances, seconds={}
    )
    with console.capture() as captured:
        _print_report(noop, quiet=True)
    quick.remember(found, captured.get())
    return report


@click.group()
@click.version_option(__version__, prog_name="sitegen")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def main(debug: bool) -> None:
    """Turn DICOM studies into a static website of teaching cases."""


def run() -> None:
    """The `sitegen` command. An unexpected failure is one line naming what it was about
    (the case, the file) and exits 1; `sitegen --debug ...` shows the traceback instead."""
    debug = "--debug" in sys.argv[1:] or bool(os.environ.get("SITEGEN_DEBUG"))
    # pydicom's warnings quote the values they find invalid, which are the patient's data:
    # sitegen says what it did with a file in its own words
    warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    try:
        main(standalone_mode=False)
    except click.exceptions.Abort:
        console.print("interrupted: the published site is as it was")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print("interrupted: the published site is as it was")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        where = "; ".join(getattr(exc, "__notes__", []))
        console.print(
            "[red]Error:[/red] unexpected "
            + escape(f"{reason(exc)}" + (f" ({where})" if where else ""))
            + " — run `sitegen --debug ...` for the traceback"
        )
        sys.exit(1)


_config = click.option(
    "--config", "-c", default="site.toml", show_default=True, help="The site configuration file."
)
_base_url = click.option(
    "--base-url",
    help="Serve the site under this path, e.g. /repo/ for GitHub project pages "
    "(overrides [site] base_url).",
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
@_base_url
@click.option("--clean", is_flag=True, help="Ignore the build cache (and refresh it).")
@click.option(
    "--executor",
    default="local",
    show_default=True,
    help='Where per-instance work runs: "local" (a process pool) or "dask://HOST:PORT".',
)
@click.option(
    "--site-url",
    help="The site's absolute address, e.g. https://you.github.io/repo/ (overrides [site] url): "
    "embed snippets and link-preview cards need it.",
)
@click.option(
    "--take-over",
    is_flag=True,
    help="Replace an output folder sitegen did not make (its files are deleted).",
)
def build_cmd(
    config: str,
    out: str | None,
    workers: int | None,
    strict: bool,
    no_deid: bool,
    quiet: bool,
    as_json: bool,
    base_url: str | None,
    clean: bool,
    executor: str,
    site_url: str | None,
    take_over: bool,
) -> None:
    """Build the site into public/ (atomically: a failed build publishes nothing)."""
    run_build(
        config,
        out,
        workers,
        strict,
        no_deid,
        quiet,
        as_json,
        base_url,
        clean,
        executor,
        take_over,
        site_url,
    )


def _serve_build(site: Site, quiet: bool) -> bool | None:
    """One build for `serve`: report it, never exit (the last published site stays served).
    None when another build holds the output (the watcher tries again)."""
    try:
        report = build(site, ui=RichUI(quiet))
    except BuildFailed as exc:
        report = exc.report
    except RuntimeError as exc:  # another build holds the lock
        console.print(f"{escape(str(exc))}: trying again in a second")
        return None
    _print_report(report, quiet)
    return report.published


@main.command("serve")
@_config
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535))
@_base_url
@click.option("--no-build", is_flag=True, help="Serve the existing output without building.")
@click.option("--no-watch", is_flag=True, help="Do not rebuild when the inputs change.")
def serve_cmd(config: str, port: int, base_url: str | None, no_build: bool, no_watch: bool) -> None:
    """Build, then serve the site on http://127.0.0.1:PORT/; rebuild when site.toml, the case
    files or the page templates change, and reload the open pages."""
    from .serve import Reloader, make_server, rebuild_on_change

    site = with_base_url(_load(config), base_url)
    out = site.out_path()
    if not no_build:
        console.print(f"sitegen {__version__} · {escape(config)} · building")
        _serve_build(site, quiet=False)
    if not out.is_dir():
        console.print(
            f"[red]Error:[/red] {escape(str(out))} does not exist; run sitegen build first"
        )
        sys.exit(1)
    reloader = None if no_watch else Reloader()
    server = make_server(out, port, base_url=site.site.base_url, reloader=reloader)
    host, real_port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    console.print(
        f"serving {out} at http://{host}:{real_port}{site.site.base_url} (Ctrl-C to stop)"
    )

    def load_site() -> Site | None:
        try:
            return with_base_url(load_config(config), base_url)
        except ConfigError as exc:
            console.print(f"[red]Error:[/red] {escape(str(exc))}; still serving the last build")
            for problem in exc.problems:
                console.print(f"  {problem}", markup=False)
            return None

    def rebuild(new_site: Site) -> bool | None:
        console.print("change detected: rebuilding")
        return _serve_build(new_site, quiet=True)

    def published() -> None:
        assert reloader is not None
        reloader.bump()
        console.print("page reloaded")

    try:
        if no_watch:
            while thread.is_alive():
                thread.join(0.5)
        else:
            console.print("watching site.toml, cases/ and the templates")
            rebuild_on_change(site, load_site, rebuild, published)
    except KeyboardInterrupt:
        pass
    finally:
        if reloader is not None:
            reloader.close()
        server.shutdown()
        server.server_close()
        console.print("stopped")


@main.command("check")
@_config
@click.argument("public_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(min=0), default=0, help="0 = all cores.")
@click.option(
    "--host",
    type=click.Choice(["github-pages", "netlify", "cloudflare", "surge", "s3"]),
    help="Instead of the privacy sweep, audit the built site against this host's limits and "
    "features (file count, sizes, files per folder, header rules); exit 1 over a limit.",
)
def check_cmd(config: str, public_dir: Path | None, workers: int, host: str | None) -> None:
    """Sweep a built site for every identifying value of its inputs; print a de-id report.
    With --host, audit it for a static host instead (the sweep needs the inputs; the host
    audit needs only PUBLIC_DIR)."""
    if host is not None:
        _check_host(host, public_dir or _load(config).out_path())
        return
    from .check import ACTION_NAMES, check_site

    site = _load(config)
    public = public_dir or site.out_path()
    if not public.is_dir():
        console.print(
            f"[red]Error:[/red] {escape(str(public))}: no such folder; build the site first"
        )
        sys.exit(2)
    result = check_site(site, public, workers)
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


def _check_host(host: str, public: Path) -> None:
    from .hostcheck import HOSTS, audit

    if not public.is_dir():
        console.print(
            f"[red]Error:[/red] {escape(str(public))}: no such folder; build the site first"
        )
        sys.exit(2)
    report = audit(public, host)
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


@main.command("new")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new_cmd(directory: Path) -> None:
    """Scaffold a new site in DIRECTORY with one example case."""
    if directory.exists() and any(directory.iterdir()):
        console.print(f"[red]Error:[/red] {directory} exists and is not empty")
        sys.exit(2)
    from .scaffold import write_scaffold

    write_scaffold(directory)
    console.print(
        f"created {directory}/: site.toml, cases/example/case.md, README.md, "
        ".github/workflows/pages.yml"
    )
    console.print(f"next: cd {directory} && sitegen build && sitegen serve")


if __name__ == "__main__":
    main()
