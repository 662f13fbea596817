"""The build, phase by phase; each phase a module, one typed input to one typed output:

    read.py     the site's inputs            -> Read (one job per input file)
    reuse.py    Read + the last build        -> Reuse (what may be taken from it)
    frames.py   Read + Reuse                 -> Made (instances, frame and Part 10 files)
    screen.py   Made                         -> Screened (instances holding another's value refused)
    tree.py     Screened                     -> Tree (studies; DICOMweb tree, manifests, zips)
    pages.py    Tree                         -> the viewer, pages, host files (and packs)
    sweep.py    the finished tree            -> Swept (nothing identifying, or no publish)
    publish.py  Swept                        -> public/, swapped in atomically

All of them over one `Env` (env.py). `build()` is the one entry point; the CLI only adds a
terminal UI on top of it.
"""

from __future__ import annotations

import gc
from pathlib import Path

from .. import outdir
from .. import publish as trees
from ..cache import BuildCache
from ..config import Site
from ..pool import Workers
from ..report import UI, BuildFailed, BuildReport, QuietUI
from .env import Env
from .frames import make_frames
from .pages import write_site_pages
from .publish import publish_tree
from .read import make_deidentifier, plan, read_inputs
from .reuse import Reuse, plan_reuse
from .screen import screen_instances
from .sweep import Swept, sweep_tree
from .tree import count, write_tree

__all__ = ["BuildFailed", "BuildReport", "QuietUI", "build", "make_deidentifier", "plan"]


def build(
    site: Site,
    *,
    out_dir: Path | None = None,
    workers: int | None = None,
    strict: bool = False,
    deid: bool = True,
    ui: UI | None = None,
    clean: bool = False,
    executor: str | None = None,
    take_over: bool = False,
) -> BuildReport:
    """Build the site into `out_dir` (default: [site] out_dir) atomically; a folder sitegen
    did not make is only replaced with `take_over` (see outdir.py).

    `clean` ignores the build cache (it is still refreshed); `executor` is "local" (default)
    or "dask://HOST:PORT". Raises BuildFailed (with the report) when nothing was published."""
    ui = ui or QuietUI()
    out = (out_dir or site.out_path()).resolve()
    report = BuildReport(out_dir=str(out), deid=deid and site.deid.enabled)
    report.errors += outdir.problems(site, out, take_over)
    if report.errors:
        raise BuildFailed(report)
    home = trees.home_for(out, site.root)  # where the temporary tree, spare and lock live
    with trees.locked(out, home):
        trees.recover(out, home)
        # the tree the last publish swapped out, recycled (see publish.reuse), or a new folder
        tmp = trees.take_spare(out, home) or trees.new_temp_dir(out, home)
        cache = BuildCache(site.root / ".sitegen/cache", read=not clean)
        options = f"strict={strict} deid={report.deid} out={out}"
        try:
            n = site.build.workers if workers is None else workers
            with Workers(n, executor) as team:
                env = Env(site, tmp, out, report, ui, team, cache, strict, None)
                done = _phases(env, options)
            if done is None:
                return report  # nothing changed since the last build: public/ is up to date
            if strict and report.warnings:
                report.errors += [f"--strict: {w}" for w in report.warnings]
            if report.errors:
                raise BuildFailed(report)
            swept, reuse = done
            publish_tree(env, swept, reuse, home)
        finally:
            if tmp.exists():  # not published: the next build recycles it
                trees.keep_spare(tmp, out, home)
            gc.unfreeze()  # see cache_entries.no_gc
    return report


def _phases(env: Env, options: str) -> tuple[Swept, Reuse] | None:
    """Every phase before the publish, in order; None when the published site is current.
    Errors after reading, or a missing asset, end the build there (nothing is published)."""
    report = env.report
    if report.deid:
        try:
            env.deidentifier = make_deidentifier(env.site, env.out)
        except ValueError as exc:
            report.errors.append(str(exc))
            return _failed(env)
    inputs = read_inputs(env)
    if report.errors:
        return _failed(env)
    reuse = plan_reuse(env, inputs, options)
    if reuse.current:
        report.restore(env.cache.last_summary)
        report.cached = report.instances  # every instance reused; no file changed
        report.published = True
        env.ui.finish("publish", 0.0, "nothing changed: the published site is current")
        return None
    made = make_frames(env, inputs, reuse)
    screened = screen_instances(env, made, reuse)
    tree = write_tree(env, inputs, made, screened, reuse)
    if not write_site_pages(env, tree):
        return _failed(env)
    count(env.report, tree)
    return sweep_tree(env, screened, reuse), reuse


def _failed(env: Env) -> tuple[Swept, Reuse]:
    """The phases cannot go on: nothing is published (the report says why)."""
    report = env.report
    if env.strict and report.warnings:
        report.errors += [f"--strict: {w}" for w in report.warnings]
    raise BuildFailed(report)
