"""The `sitegen` command: build, serve, new. Exit codes: 0 ok, 1 build failed, 2 usage/config."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import warnings
from pathlib import Path

import click
from rich.markup import escape

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
from .terminal import RichUI, console, print_check, print_host_audit, print_report


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
        print_report(report, quiet)
    if not report.published:
        quick.forget(found)
        sys.exit(1)
    # what a no-op of this build prints: the next `sitegen build` may say it without building
    noop = dataclasses.replace(
        report, added=[], changed=[], removed=[], cached=report.instances, seconds={}
    )
    with console.capture() as captured:
        print_report(noop, quiet=True)
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
    print_report(report, quiet)
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
        from .hostcheck import audit

        public = _built(public_dir or _load(config).out_path())
        print_host_audit(audit(public, host), host, public)
        return
    from .check import check_site

    site = _load(config)
    public = _built(public_dir or site.out_path())
    result = check_site(site, public, workers)
    print_check(result, public)


def _built(public: Path) -> Path:
    if not public.is_dir():
        console.print(
            f"[red]Error:[/red] {escape(str(public))}: no such folder; build the site first"
        )
        sys.exit(2)
    return public


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
