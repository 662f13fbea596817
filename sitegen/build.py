"""Orchestration: plan, run per-instance work in parallel, write the tree, sweep, publish.

`build()` is the one entry point; the CLI only adds a terminal UI on top of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from . import pixels, publish, transcode
from .cache import BuildCache, job_fingerprint
from .config import Site
from .deid import Canary, Deidentifier, Sweeper, load_or_create_key, without_published_dates
from .hosts import write_host_files
from .model import Instance, Study, group, is_frame_file
from .ohif import OhifError, install_ohif, ohif_study_url
from .pages import own_text, write_pages
from .render import write_thumbnails
from .sources import SourceItem, find_items
from .sources.dicomweb import DicomwebError, DownloadProgress
from .sources.zip import UnsafeZipError
from .vendor import VendorError
from .viewer import install_viewer
from .writers.dicomweb import json_bytes, write_dicomweb
from .writers.manifest import case_manifest
from .writers.part10 import write_case_zip, zip_members


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
    deid: bool = True
    published: bool = False
    cached: int = 0  # instances reused from the build cache
    added: list[str] = field(default_factory=list)  # the deploy diff against the last output
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

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


class SerialExecutor(Executor):
    """Runs work in this process: for --workers 1, debugging and tests."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


def make_executor(workers: int, address: str | None = None) -> Executor:
    """A process pool of `workers` (0 = all cores), in-process work for 1, or a Dask cluster
    for "dask://HOST:PORT" (its workers must see this machine's output folder)."""
    if address and address != "local":
        return _dask_executor(address)
    n = workers or os.cpu_count() or 1
    if n == 1:
        return SerialExecutor()
    context = get_context("forkserver")
    # workers import the pipeline once, in the fork server, not each on its own
    context.set_forkserver_preload(["sitegen.transcode"])
    return ProcessPoolExecutor(max_workers=n, mp_context=context)


def _dask_executor(address: str) -> Executor:
    if not address.startswith("dask://"):
        raise ValueError(f'--executor "{address}": use "local" or "dask://HOST:PORT"')
    from distributed import Client  # optional: pip install "sitegen[dask]"

    client = Client(address.removeprefix("dask://"))
    executor = client.get_executor()
    shutdown = executor.shutdown

    def close(wait: bool = True, **kwargs: Any) -> None:
        shutdown(wait=wait)
        client.close()

    executor.shutdown = close  # type: ignore[method-assign]
    return executor


@contextmanager
def _stage(report: BuildReport, ui: UI, name: str, total: int | None) -> Iterator[list[str]]:
    """Time a stage; the body may put a one-line summary into the yielded list."""
    ui.start(name, total)
    t0 = time.perf_counter()
    detail: list[str] = []
    yield detail
    report.seconds[name] = time.perf_counter() - t0
    ui.finish(name, report.seconds[name], detail[0] if detail else "")


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
) -> BuildReport:
    """Build the site into `out_dir` (default: [site] out_dir) atomically.

    `clean` ignores the build cache (it is still refreshed); `executor` is "local" (default)
    or "dask://HOST:PORT". Raises BuildFailed (with the report) when nothing was published."""
    ui = ui or QuietUI()
    out = (out_dir or site.out_path()).resolve()
    report = BuildReport(out_dir=str(out), deid=deid and site.deid.enabled)
    if out == site.root or out in site.root.parents:
        report.errors.append(f"{out}: the output folder cannot hold the site's own files")
        raise BuildFailed(report)
    with publish.locked(out):
        publish.recover(out)
        tmp = publish.new_temp_dir(out)
        cache = BuildCache(site.root / ".sitegen/cache", read=not clean)
        options = f"strict={strict} deid={report.deid} out={out}"
        try:
            if _build_into(site, tmp, report, ui, workers, strict, cache, executor, options):
                return report  # nothing changed since the last build: public/ is up to date
            if strict and report.warnings:
                report.errors += [f"--strict: {w}" for w in report.warnings]
            if report.errors:
                raise BuildFailed(report)
            with _stage(report, ui, "publish", None) as detail:
                report.added, report.changed, report.removed = publish.diff_trees(tmp, out)
                publish.swap_in(tmp, out)
                cache.finish(out, report.summary())
                detail.append(
                    f"{out.name}/ (swapped atomically): {len(report.added)} added, "
                    f"{len(report.changed)} changed, {len(report.removed)} removed"
                )
            report.published = True
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return report


def make_deidentifier(site: Site, out: Path) -> Deidentifier:
    """The site's de-identifier; its key file is created on first use, never inside `out`."""
    key_path = (site.root / site.deid.key_file).resolve()
    if key_path == out or out in key_path.parents:
        raise ValueError(f"deid.key_file {key_path}: must not be inside the output folder")
    try:
        key = load_or_create_key(key_path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"deid.key_file: {exc}") from None
    return Deidentifier(key, frozenset(site.deid.options))


def plan(
    site: Site,
    tmp: Path,
    deidentifier: Deidentifier | None,
    report: BuildReport,
    *,
    write: bool = True,
    ui: UI | None = None,
) -> list[tuple[SourceItem, transcode.Job]]:
    """One job per input file of every case; problems with a whole case go to the report.
    DICOMweb sources are downloaded here (into their cache), with progress if `ui` shows it."""
    codec = pixels.FrameCodec(site.build.frames, site.build.lossy)
    progress: Callable[[DownloadProgress], None] | None = getattr(ui, "download", None)
    jobs: list[tuple[SourceItem, transcode.Job]] = []
    for case in site.cases:
        try:
            scan = find_items(case.source, site.root, auth=case.auth, progress=progress)
        except (UnsafeZipError, DicomwebError) as exc:
            report.errors.append(f'{case.file}: case "{case.slug}": {exc}')
            continue
        report.warnings += [f"{label}: {reason}" for label, reason in scan.skipped]
        if not scan.items:
            report.errors.append(
                f'{case.file}: case "{case.slug}": source "{case.source}" holds no DICOM images'
            )
        job = transcode.Job(
            out_dir=str(tmp),
            case=case.slug,
            codec=codec,
            deid=deidentifier,
            patient_label=case.slug,
            study_description=case.study_description or case.title,
            burned_in=case.burned_in or site.deid.burned_in,
            masks=tuple((m.series, m.rect) for m in case.masks),
            write=write,
            part10=site.build.downloads,
        )
        jobs += [(item, job) for item in scan.items]
    return jobs


def run_jobs(
    jobs: list[tuple[SourceItem, transcode.Job]],
    workers: int,
    ui: UI,
    executor: str | None = None,
    targets: dict[int, transcode.CacheTarget] | None = None,
) -> Iterator[tuple[SourceItem, transcode.Job, transcode.Outcome]]:
    """Run the jobs in an executor; outcomes come back as they finish. `targets` (by
    id(item)) tells workers where to keep what they make in the build cache."""
    if not jobs:
        return
    pool = make_executor(workers, executor)
    targets = targets or {}
    try:
        futures = {
            pool.submit(transcode.run, item, job, targets.get(id(item))): (item, job)
            for item, job in jobs
        }
        for fut in as_completed(futures):
            item, job = futures[fut]
            yield item, job, fut.result()
            ui.advance()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _build_into(
    site: Site,
    tmp: Path,
    report: BuildReport,
    ui: UI,
    workers: int | None,
    strict: bool,
    cache: BuildCache,
    executor: str | None,
    options: str,
) -> bool:
    """Build into `tmp`; True when the last published build is still current (no-op)."""
    use_deid = report.deid
    deidentifier = None
    if use_deid:
        try:
            deidentifier = make_deidentifier(site, Path(report.out_dir))
        except ValueError as exc:
            report.errors.append(str(exc))
            return False

    if site.build.frames == "jpegls":
        report.warnings.append(
            'build.frames = "jpegls": sitegen\'s viewer cannot decode JPEG-LS frames (OHIF can); '
            'use "htj2k" for the viewer'
        )
    with _stage(report, ui, "read", None) as detail:
        jobs = plan(site, tmp, deidentifier, report, ui=ui)
        detail.append(f"{len(jobs)} files")
    if report.errors:
        return False
    if cache.still_current(_build_fingerprint(site, jobs, cache, options), Path(report.out_dir)):
        report.restore(cache.last_summary)
        report.cached = report.instances  # every instance reused; no file changed
        report.published = True
        ui.finish("publish", 0.0, "nothing changed: the published site is current")
        return True

    instances: list[Instance] = []
    canaries = []
    with _stage(report, ui, "pixels", len(jobs)) as detail:
        n = site.build.workers if workers is None else workers
        for outcome in _outcomes(jobs, n, ui, cache, tmp, executor):
            report.warnings += outcome.warnings
            if outcome.refused:
                (report.errors if strict else report.warnings).append(outcome.refused)
            canaries += outcome.canaries
            report.errors += [
                f"identifying data would be published: {leak}" for leak in outcome.leaks
            ]
            if outcome.instance is not None:
                instances.append(outcome.instance)
                report.bytes_in += outcome.instance.bytes_in
                report.bytes_out += outcome.bytes_out
        report.cached = cache.hits
        cache.fingerprint_of_build = _build_fingerprint(site, jobs, cache, options)
        mb = report.bytes_in / 1e6
        detail.append(
            f"{sum(i.frames for i in instances)} frames, {mb:.1f} MB -> "
            f"{report.bytes_out / 1e6:.1f} MB ({report.ratio:.2f}x), {cache.hits} cached"
        )

    with _stage(report, ui, "write", None) as detail:
        studies = _group_by_case(site, instances, report)
        write_dicomweb(studies, tmp)
        write_thumbnails(studies, tmp, cache)
        write_manifests(site, studies, tmp)
        if site.build.downloads:
            for case in site.cases:
                _case_zip(cache, tmp, case.slug, [s for s in studies if s.case == case.slug])
        detail.append(f"{len(studies)} studies")

    with _stage(report, ui, "pages", None) as detail:
        try:
            install_viewer(tmp)
            if site.ohif.enabled:
                fetching = getattr(ui, "fetch", None)  # a bar for the ~50 MB download
                report.warnings += install_ohif(site, studies, tmp, progress=fetching)
        except (VendorError, OhifError) as exc:  # e.g. offline with an empty cache
            report.errors.append(str(exc))
            return False
        report.warnings += write_pages(site, studies, tmp, site.root / ".sitegen/cache/cards")
        report.warnings += write_host_files(site, studies, tmp)
        detail.append(f"{len(site.cases) + 1} pages, viewer, host files")

    report.cases = len({s.case for s in studies})
    report.studies = len(studies)
    report.series = sum(len(s.series) for s in studies)
    report.instances = sum(len(s.instances) for s in studies)
    report.frames = sum(i.frames for s in studies for i in s.instances)

    if use_deid:
        with _stage(report, ui, "sweep", None) as detail:
            unique = canaries_to_sweep(canaries, [i.metadata for i in instances])
            # frames and Part 10 files were swept by the workers that wrote them, with the
            # canaries of the one input they come from; the zips only repackage Part 10 files
            hits = Sweeper(unique).scan_tree(tmp, contents=_swept_here)
            for hit in hits[:50]:
                report.errors.append(
                    f"identifying data would be published: {hit.path}: {hit.value!s} "
                    f"from {hit.canary.attribute} of {hit.canary.source}"
                )
            detail.append(f"{len(unique)} values checked, {len(hits)} found")
    else:
        report.warnings.append("de-identification is OFF (--no-deid): inputs must be public data")
    files = publish.listing(tmp)
    report.files_out = len(files)
    report.size_out = sum(entry.stat().st_size for entry in files.values())
    return False


def canaries_to_sweep(canaries: list[Canary], metadata: list[dict[str, Any]]) -> list[Canary]:
    """One canary per value, less those that prove nothing when found: a date the site
    publishes (another patient's shifted date), and text inside sitegen's own fixed pages and
    viewer (a patient named "Viewer" and every "Open viewer" link). Build and check share it."""
    unique = without_published_dates(list({c.value: c for c in canaries}.values()), metadata)
    fixed = own_text()
    return [c for c in unique if c.value.lower() not in fixed]


def _build_fingerprint(
    site: Site, jobs: list[tuple[SourceItem, transcode.Job]], cache: BuildCache, options: str
) -> str | None:
    """Everything a build's output depends on, or None when an input is not in the cache.

    The configuration and case files by content, every input by its cache key, sitegen's own
    files (code, templates, viewer) by size and mtime, and the build options."""
    digest = hashlib.sha256(f"{options}\n".encode())
    files = [site.config_file, *sorted((site.root / "cases").glob("*/case.md"))]
    if site.ohif.enabled and site.ohif.user_config:
        files.append(site.root / site.ohif.user_config)  # merged into ohif/app-config.js
    for path in files:
        digest.update(path.read_bytes())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            st = path.stat()
            digest.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}".encode())
    job_fps: dict[int, str] = {}
    for item, job in jobs:
        fp = cache.fingerprint(item)
        if fp is None:
            return None
        key = cache.key(fp, job_fps.setdefault(id(job), job_fingerprint(job)))
        if not cache.has(key):
            return None
        digest.update(key.encode())
    return digest.hexdigest()


def _case_zip(cache: BuildCache, out: Path, slug: str, studies: list[Study]) -> None:
    """downloads/<slug>.zip, reused from the cache when its Part 10 files are the same."""
    members = zip_members(out, slug, studies)
    target = out / "downloads" / f"{slug}.zip"
    key = cache.derived_key(
        f"zip:{slug}:" + ",".join(n for n, _ in members), [p for _, p in members]
    )
    if not cache.get_derived(key, target):
        write_case_zip(target, members)
        cache.put_derived(key, target)


def _outcomes(
    jobs: list[tuple[SourceItem, transcode.Job]],
    workers: int,
    ui: UI,
    cache: BuildCache,
    tmp: Path,
    executor: str | None,
) -> Iterator[transcode.Outcome]:
    """Outcomes of every job: from the build cache where the input and settings are unchanged,
    else computed by the workers (which also keep them in the cache)."""
    job_fps: dict[int, str] = {}
    targets: dict[int, transcode.CacheTarget] = {}
    todo = []
    for item, job in jobs:
        fp = cache.fingerprint(item)
        job_fp = job_fps.setdefault(id(job), job_fingerprint(job))
        hit = cache.get(cache.key(fp, job_fp), tmp) if fp else None
        if hit is not None:
            ui.advance()
            yield hit
            continue
        targets[id(item)] = transcode.CacheTarget(str(cache.entries), job_fp, fp)
        todo.append((item, job))
    for item, _, outcome in run_jobs(todo, workers, ui, executor, targets):
        cache.adopt(outcome, item)
        yield outcome


def _swept_here(relative: str) -> bool:
    """Whether the parent's sweep reads a file's bytes (every path is checked regardless).

    Not: frames and Part 10 files (swept by the workers that wrote them), the zips (which only
    repackage Part 10 files), and files copied verbatim from sitegen or a pinned npm package
    (the viewer, page assets), which no input ever reaches."""
    derived = relative.startswith(("dicom/", "downloads/")) and relative.endswith((".dcm", ".zip"))
    return not (derived or is_verbatim(relative) or is_frame_file(relative))


def is_verbatim(relative: str) -> bool:
    """Files copied unchanged from sitegen or a pinned npm package: no input reaches them."""
    return relative.startswith(("viewer/", "assets/", "ohif/")) and relative != "ohif/app-config.js"


def write_manifests(site: Site, studies: list[Study], out: Path) -> None:
    """data/cases/<slug>.json for every case: what the viewer loads."""
    folder = out / "data/cases"
    folder.mkdir(parents=True, exist_ok=True)
    ohif = (lambda uid: ohif_study_url(site, uid)) if site.ohif.enabled else None
    for case in site.cases:
        mine = [s for s in studies if s.case == case.slug]
        (folder / f"{case.slug}.json").write_bytes(json_bytes(case_manifest(case, mine, ohif)))


def _group_by_case(site: Site, instances: list[Instance], report: BuildReport) -> list[Study]:
    """Studies in a stable order (workers finish in any order); a study belongs to the case
    of its first instance, and may be in one case only."""
    order = {case.slug: n for n, case in enumerate(site.cases)}
    instances.sort(key=lambda i: (order[i.case], i.source))
    studies = group(instances)
    owner = {study.uid: study.case for study in studies}
    for inst in instances:
        if owner[inst.study_uid] != inst.case:
            report.errors.append(
                f'case "{inst.case}": {inst.source} belongs to a study already published by case '
                f'"{owner[inst.study_uid]}"; a study can be in one case only'
            )
            break
    published = set(owner.values())
    for case in site.cases:
        if case.slug not in published:
            report.errors.append(f'{case.file}: case "{case.slug}": no image could be published')
    return studies
