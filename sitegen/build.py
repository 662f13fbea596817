"""Orchestration: plan, run per-instance work in parallel, write the tree, sweep, publish.

`build()` is the one entry point; the CLI only adds a terminal UI on top of it.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import audit, casecheck, faults, identify, outdir, pixels, publish, quick, transcode
from .cache import (
    BuildCache,
    LastBuild,
    item_job_fingerprint,
    job_fingerprint,
    no_gc,
)
from .config import Site
from .deid import Canary, Deidentifier, Hit, OnePerValue, load_or_create_key, value_canaries
from .hosts import write_host_files
from .model import Instance, SharedElements, Study, group
from .ohif import OhifError, install_ohif, ohif_study_url
from .packs import write_packs
from .pages import write_pages
from .pool import Workers, run_jobs
from .reduce import plan_stacks, reduce_stacks
from .render import write_thumbnails
from .report import UI, BuildFailed, BuildReport, QuietUI
from .sources import SourceItem, find_items
from .sources.dicomweb import DicomwebError, DownloadProgress
from .sources.zip import UnsafeZipError
from .vendor import VendorError
from .viewer import install_viewer
from .writers.dicomweb import json_bytes, write_dicomweb
from .writers.manifest import answer_manifest, answer_path, case_manifest, hides_answer
from .writers.part10 import write_case_zip, zip_members, zip_parts


@dataclass
class _Built:
    """What `_build_into` hands to the publish step."""

    current: bool = False  # the published site is up to date: nothing to publish
    files: dict[str, os.DirEntry[str]] = field(default_factory=dict)  # the new tree's files
    published: dict[str, os.DirEntry[str]] = field(default_factory=dict)  # and the old one's
    last: LastBuild | None = None  # what the next build may reuse (see cache.LastBuild)


@contextmanager
def _stage(report: BuildReport, ui: UI, name: str, total: int | None) -> Iterator[list[str]]:
    """Time a stage; the body may put a one-line summary into the yielded list. An
    unexpected failure in it says which stage it was in (the CLI prints that)."""
    ui.start(name, total)
    t0 = time.perf_counter()
    detail: list[str] = []
    with faults.about(f"in the {name} stage"):
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
    home = publish.home_for(out, site.root)  # where the temporary tree, spare and lock live
    with publish.locked(out, home):
        publish.recover(out, home)
        # the tree the last publish swapped out, recycled (see publish.reuse), or a new folder
        tmp = publish.take_spare(out, home) or publish.new_temp_dir(out, home)
        cache = BuildCache(site.root / ".sitegen/cache", read=not clean)
        options = f"strict={strict} deid={report.deid} out={out}"
        try:
            n = site.build.workers if workers is None else workers
            with Workers(n, executor) as team:
                built = _build_into(site, tmp, report, ui, team, strict, cache, options)
            if built.current:
                return report  # nothing changed since the last build: public/ is up to date
            if strict and report.warnings:
                report.errors += [f"--strict: {w}" for w in report.warnings]
            if report.errors:
                raise BuildFailed(report)
            with _stage(report, ui, "publish", None) as detail:
                diff = publish.diff_trees(built.files, built.published)
                report.added, report.changed, report.removed = diff
                publish.swap_in(tmp, out, home)
                cache.finish(out, report.summary(), built.last)
                detail.append(
                    f"{out.name}/ (swapped atomically): {len(report.added)} added, "
                    f"{len(report.changed)} changed, {len(report.removed)} removed"
                )
            report.published = True
        finally:
            if tmp.exists():  # not published: the next build recycles it
                publish.keep_spare(tmp, out, home)
            gc.unfreeze()  # see cache.no_gc
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
    canaries: list[Canary] | None = None,
) -> list[tuple[SourceItem, transcode.Job]]:
    """One job per input file of every case; problems with a whole case go to the report.
    DICOMweb sources are downloaded here (into their cache), with progress if `ui` shows it.
    `canaries` gets the values the sources hold around their DICOM (zip, DICOMDIR)."""
    codec = pixels.FrameCodec(site.build.frames, site.build.lossy, site.build.lossy_psnr)
    progress: Callable[[DownloadProgress], None] | None = getattr(ui, "download", None)
    jobs: list[tuple[SourceItem, transcode.Job]] = []
    for case in site.cases:
        try:
            scan = find_items(case.source, site.root, auth=case.auth, progress=progress)
        except (UnsafeZipError, DicomwebError) as exc:
            report.errors.append(f'{case.file}: case "{case.slug}": {exc}')
            continue
        report.warnings += [f"{label}: {reason}" for label, reason in scan.skipped]
        if canaries is not None and deidentifier is not None:
            for text, vr, attribute, where in scan.texts:
                canaries += value_canaries(text, vr, attribute, where)
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
            study_description=case.study_description or case.public_title,  # no quiz answer
            burned_in=case.burned_in or site.deid.burned_in,
            masks=tuple((m.series, m.rect) for m in case.masks),
            write=write,
            part10=site.build.downloads,
            lossless_part10=site.build.lossless_downloads and site.build.is_lossy,
        )
        jobs += [(item, job) for item in scan.items]
    return jobs


def _build_into(
    site: Site,
    tmp: Path,
    report: BuildReport,
    ui: UI,
    team: Workers,
    strict: bool,
    cache: BuildCache,
    options: str,
) -> _Built:
    """Build into `tmp`; `current` when the last published build is still current (no-op)."""
    use_deid = report.deid
    deidentifier = None
    if use_deid:
        try:
            deidentifier = make_deidentifier(site, Path(report.out_dir))
        except ValueError as exc:
            report.errors.append(str(exc))
            return _Built()

    if site.build.frames == "jpegls":
        report.warnings.append(
            'build.frames = "jpegls": sitegen\'s viewer cannot decode JPEG-LS frames (OHIF can); '
            'use "htj2k" for the viewer'
        )
    scan_canaries: list[Canary] = []
    with _stage(report, ui, "read", None) as detail:
        jobs = plan(site, tmp, deidentifier, report, ui=ui, canaries=scan_canaries)
        # duplicate instances and studies used by two cases, decided before any worker writes
        uid_memo = identify.UidMemo(cache.root / "uids.json")
        order = {case.slug: n for n, case in enumerate(site.cases)}
        resolved = identify.resolve(jobs, uid_memo, order)
        report.warnings += resolved.warnings
        report.errors += resolved.errors
        options += f" resolved={resolved.signature}"
        # the slices stack reduction leaves out: de-identified only, no pixel work
        jobs, reduced, left_out = plan_stacks(site, resolved.jobs, uid_memo, report.warnings)
        uid_memo.save()
        detail.append(f"{len(jobs)} files" + resolved.summary())
    if report.errors:
        return _Built()
    # the base URL too: the DICOMweb lists' RetrieveURLs hold it
    code = quick.code_fingerprint() + f"\nbase_url={site.site.base_url}"
    keys = _Keys(jobs, cache)
    out = Path(report.out_dir)
    fingerprint = _build_fingerprint(site, keys.keys, cache, options, code)
    if cache.still_current(fingerprint, out):
        report.restore(cache.last_summary)
        report.cached = report.instances  # every instance reused; no file changed
        report.published = True
        ui.finish("publish", 0.0, "nothing changed: the published site is current")
        return _Built(current=True)
    # the same inputs as the last published build: its sweep's canaries are this one's too
    memo = cache.sweep_memo(_inputs_digest(keys.keys, code))
    published = publish.listing(out)  # for the deploy diff
    # and if that build's tree is still the one published, what it made from the instances
    # alone is this build's too: link it from there instead of making it again
    carry = cache.from_instances(out, published) if memo is not None else {}
    if cache.last.refused:  # that build left instances out: make the tree anew
        carry = {}
    if site.build.pack:  # the published tree has no frame files to draw the cards from
        carry = {}

    instances: list[Instance] = []
    files_of: dict[int, list[str]] = {}  # id(instance) -> what its worker wrote
    canaries = OnePerValue(scan_canaries)  # one per value as they come: memory stays flat
    shared = SharedElements()
    notes: list[str] = []
    with _stage(report, ui, "pixels", len(jobs)) as detail:
        hits = _cached(keys, cache, canaries=memo is None)
        if len(hits) < len(jobs):  # a worker will write: into no file linked from public/
            carry = {}
        if carry and publish.reuse(tmp, carry):  # a published file is gone
            carry = {}
        if carry:
            missing: set[str] = set()
            cache.used.update(cache.last.used)  # e.g. the thumbnails' entries: still current
        else:
            keep = {rel: src for _, files in hits.values() for rel, src in files.items()}
            missing = publish.reuse(tmp, keep)
        for outcome in _outcomes(jobs, keys, hits, missing, team, ui, cache, tmp):
            report.warnings += outcome.warnings
            if outcome.fatal:  # the machine, not the input: nothing is published
                report.errors.append(f"the build cannot go on: {outcome.fatal}")
            if outcome.refused:
                (report.errors if strict else report.warnings).append(outcome.refused)
            canaries.add(outcome.canaries)
            notes += outcome.notes
            if outcome.instance is not None:
                outcome.instance.metadata = shared(outcome.instance.metadata)
                instances.append(outcome.instance)
                files_of[id(outcome.instance)] = outcome.files
                report.bytes_in += outcome.instance.bytes_in
                report.bytes_out += outcome.bytes_out
        report.cached = cache.hits
        keys.refresh()  # the workers found the digests of inputs never seen before
        if fingerprint is None:
            fingerprint = _build_fingerprint(site, keys.keys, cache, options, code)
        cache.fingerprint_of_build = fingerprint
        mb = report.bytes_in / 1e6
        detail.append(
            f"{sum(i.frames for i in instances)} frames, {mb:.1f} MB -> "
            f"{report.bytes_out / 1e6:.1f} MB ({report.ratio:.2f}x), {cache.hits} cached"
        )

    report.notes = summarise_notes(notes)
    sweep: audit.TreeSweep | None = None
    screened: set[str] = set()
    refused_count = 0
    if use_deid:
        with _stage(report, ui, "screen", None) as detail:
            sweep = _tree_sweep(site, cache, memo, canaries.sorted(), instances, code)
            known = memo is not None and not cache.last.refused  # metadata screened before
            refused = _screen(
                sweep, instances, files_of, tmp, report, strict, screened, known, team
            )
            instances = [i for i in instances if id(i) not in refused]
            refused_count = len(refused)
            detail.append(
                f"{len(instances)} instances against {len(sweep.canaries)} values, "
                f"{len(refused)} refused"
            )
        if refused:
            carry = {}  # the published tree holds what was refused now

    with _stage(report, ui, "write", None) as detail:
        instances, dropped = reduce_stacks(site, instances, files_of, tmp, reduced)
        dropped += left_out
        studies = _group_by_case(site, instances, report)
        if not carry:
            write_dicomweb(studies, tmp, site.site.base_url)
            report.warnings += write_thumbnails(studies, tmp, cache)
        report.warnings += write_manifests(site, studies, tmp)
        if site.build.downloads and not carry:
            for case in site.cases:
                with faults.contained(report.warnings, case.file, f"downloads/{case.slug}.zip"):
                    mine = [s for s in studies if s.case == case.slug]
                    _case_zip(cache, tmp, case.slug, mine, site.build.zips)
        detail.append(
            f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'}"
            + (f", {dropped} slices left out (stack)" if dropped else "")
        )

    with _stage(report, ui, "pages", None) as detail:
        try:
            install_viewer(tmp)
            if site.ohif.enabled:
                fetching = getattr(ui, "fetch", None)  # a bar for the ~50 MB download
                report.warnings += install_ohif(site, studies, tmp, progress=fetching)
                report.ohif = site.ohif.version
        except (VendorError, OhifError) as exc:  # e.g. offline with an empty cache
            report.errors.append(str(exc))
            return _Built()
        report.warnings += write_pages(site, studies, tmp, site.root / ".sitegen/cache/cards")
        report.warnings += write_host_files(site, studies, tmp)
        if not site.site.url:
            report.warnings.append(
                f"{site.config_file.name}: [site] url is not set: the embed snippets and "
                "link-preview cards name the site by path and work on its own pages only "
                "(set url, or build with --site-url https://...)"
            )
        with_ohif = f", OHIF {report.ohif}" if report.ohif else ""
        detail.append(f"{len(site.cases) + 1} pages, viewer{with_ohif}, host files")

    if site.build.pack:
        with _stage(report, ui, "pack", None) as detail:
            written = write_packs(studies, tmp, site.build.pack)
            frames = sum(i.frames for s in studies for i in s.instances)
            detail.append(f"{frames} frames in {written} files of at most {site.build.pack} MiB")

    report.cases = len({s.case for s in studies})
    report.studies = len(studies)
    report.series = sum(len(s.series) for s in studies)
    report.instances = sum(len(s.instances) for s in studies)
    report.frames = sum(i.frames for s in studies for i in s.instances)

    outdir.mark(tmp)
    folders: list[str] = []
    files = publish.listing(tmp, folders)
    last = LastBuild(
        inputs=_inputs_digest(keys.keys, code) or "",
        from_instances=sorted(rel for rel in files if rel.startswith(FROM_INSTANCES)),
    )
    if sweep is not None:
        with _stage(report, ui, "sweep", None) as detail:
            last.canaries = [(c.value, c.attribute, c.source, c.word) for c in sweep.canaries]
            last.sweep_key = _sweep_key(code, sweep)
            # a case zip stores the screened Part 10 files as they are: its names are read
            zips = {rel for rel in files if rel.startswith("downloads/") and rel.endswith(".zip")}
            hits = sweep.zip_names({rel: files[rel] for rel in zips})
            hits += sweep.tree(files, folders, screened | zips)
            last.swept = sorted(sweep.clean)
            last.refused = refused_count
            for hit in hits[:50]:
                report.errors.append(
                    f"identifying data would be published: {hit.path}: {hit.value!s} "
                    f"from {hit.canary.attribute} of {hit.canary.source}"
                )
            detail.append(
                f"{len(sweep.canaries)} values checked, {len(hits)} found"
                + (f" ({sweep.reused} files as swept before)" if sweep.reused else "")
            )
    else:
        report.warnings.append("de-identification is OFF (--no-deid): inputs must be public data")
    report.files_out = len(files)
    report.size_out = sum(entry.stat().st_size for entry in files.values())
    if sweep is not None:  # the messages name inputs: never with the patient's values
        report.warnings = audit.mask_messages(report.warnings, sweep.canaries)
        report.errors = audit.mask_messages(report.errors, sweep.canaries)
        report.notes = audit.mask_messages(report.notes, sweep.canaries)
    return _Built(files=files, published=published, last=last)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class _Keys:
    """The build-cache key of every job (None: an input never seen, not read yet)."""

    def __init__(self, jobs: list[tuple[SourceItem, transcode.Job]], cache: BuildCache) -> None:
        self.jobs = jobs
        self.cache = cache
        job_fps: dict[int, str] = {}
        for _, job in jobs:
            if id(job) not in job_fps:
                job_fps[id(job)] = job_fingerprint(job)
        self.item_fps = [item_job_fingerprint(job_fps[id(job)], item) for item, job in jobs]
        self.fingerprints = [cache.fingerprint(item) for item, _ in jobs]
        self.keys = [
            cache.key(fp, item_fp) if fp else None
            for fp, item_fp in zip(self.fingerprints, self.item_fps, strict=True)
        ]

    def refresh(self) -> None:
        """Fill in the keys of inputs whose digest a worker computed."""
        for n, key in enumerate(self.keys):
            if key is None:
                fp = self.fingerprints[n] = self.cache.fingerprint(self.jobs[n][0])
                self.keys[n] = self.cache.key(fp, self.item_fps[n]) if fp else None


def _inputs_digest(keys: list[str | None], code: str) -> str | None:
    """What every outcome and the sweep's canaries depend on: each input's cache key, in
    order, and sitegen's code. None while an input's key is unknown."""
    if None in keys:
        return None
    return _digest(code, *keys)  # type: ignore[arg-type]


def _build_fingerprint(
    site: Site, keys: list[str | None], cache: BuildCache, options: str, code: str
) -> str | None:
    """Everything a build's output depends on, or None when an input is not in the cache.

    The configuration and case files by content, every input by its cache key, sitegen's own
    files (code, templates, viewer) by size and mtime, and the build options."""
    digest = hashlib.sha256(f"{options}\n{code}\n".encode())
    files = [site.config_file, *sorted((site.root / "cases").glob("*/case.md"))]
    if site.ohif.enabled and site.ohif.user_config:
        files.append(site.root / site.ohif.user_config)  # merged into ohif/app-config.js
    for path in files:
        digest.update(path.read_bytes())
    for key in keys:
        if key is None or not cache.has(key):
            return None
        digest.update(key.encode())
    return digest.hexdigest()


def _case_zip(
    cache: BuildCache, out: Path, slug: str, studies: list[Study], zips: str = "files"
) -> None:
    """downloads/<slug>.zip (or its parts, see zip_parts), each reused from the cache when
    its Part 10 files are the same; with zips = "browser" only downloads/<slug>.json, the
    list the case page zips in the browser."""
    if zips == "browser":
        files = [
            {
                "name": name,
                "url": source.relative_to(out).as_posix(),
                "bytes": source.stat().st_size,
            }
            for name, source in zip_members(out, slug, studies)
        ]
        target = out / "downloads" / f"{slug}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(json_bytes({"name": f"{slug}.zip", "files": files}))
        return
    for name, members in zip_parts(slug, zip_members(out, slug, studies)):
        target = out / "downloads" / name
        key = cache.derived_key(
            f"zip:{name}:" + ",".join(n for n, _ in members), [p for _, p in members]
        )
        if not cache.get_derived(key, target):
            write_case_zip(target, members)
            cache.put_derived(key, target)


def _cached(
    keys: _Keys, cache: BuildCache, *, canaries: bool
) -> dict[int, tuple[transcode.Outcome, dict[str, str]]]:
    """The outcomes in the build cache, by job, with their files (path in the output -> the
    cache's link). `canaries=False`: the sweep's canaries are known, leave them out."""
    hits = {}
    with no_gc():
        for n, key in enumerate(keys.keys):
            outcome = cache.get(key, canaries=canaries) if key else None
            if outcome is not None:
                hits[n] = (outcome, cache.files(key, outcome))  # type: ignore[arg-type]
    return hits


def _outcomes(
    jobs: list[tuple[SourceItem, transcode.Job]],
    keys: _Keys,
    hits: dict[int, tuple[transcode.Outcome, dict[str, str]]],
    missing: set[str],
    team: Workers,
    ui: UI,
    cache: BuildCache,
    tmp: Path,
) -> Iterator[transcode.Outcome]:
    """Outcomes of every job: the cached ones whose files are in `tmp` (none of `missing`),
    and the others computed by the workers (which also keep them in the cache)."""
    targets: dict[int, transcode.CacheTarget] = {}
    todo = []
    for n, (item, job) in enumerate(jobs):
        if n in hits:
            outcome, files = hits[n]
            if missing.isdisjoint(files):
                ui.advance()
                yield outcome
                continue
            # files gone from the cache: the worker makes them again, into no linked file
            cache.forget(keys.keys[n])  # type: ignore[arg-type]
            for relative in files:
                Path(tmp, relative).unlink(missing_ok=True)
        fp = keys.fingerprints[n]
        targets[id(item)] = transcode.CacheTarget(str(cache.entries), keys.item_fps[n], fp)
        todo.append((item, job))
    for item, _, outcome in run_jobs(todo, team, ui, targets):
        cache.adopt(outcome, item)
        yield outcome


FROM_INSTANCES = audit.FROM_INSTANCES


def summarise_notes(notes: list[str]) -> list[str]:
    """One line per kind of note ("<attribute>: <what was done>"), with how many files and
    the first of them: a series repeats the same note for every file."""
    groups: dict[str, list[str]] = {}
    for note in notes:
        label, _, rest = note.partition(": ")
        groups.setdefault(rest, []).append(label)
    return [
        f"{what} ({len(labels)} file{'s' if len(labels) > 1 else ''}, e.g. {labels[0]})"
        for what, labels in groups.items()
    ]


def _tree_sweep(
    site: Site,
    cache: BuildCache,
    memo: list[Canary] | None,
    canaries: list[Canary],
    instances: list[Instance],
    code: str,
) -> audit.TreeSweep:
    """The sweep of this build: the union of every input's canaries (the last build's when
    the inputs are the same), what its sweep found clean if the canaries are the same."""
    if memo is not None:
        unique = memo
    else:
        unique = audit.unique_canaries(canaries, [i.metadata for i in instances])
    sweep = audit.TreeSweep(unique, trust_verbatim=True)
    if cache.last.sweep_key == _sweep_key(code, sweep):
        sweep.was_clean = set(cache.last.swept)
    return sweep


def _sweep_key(code: str, sweep: audit.TreeSweep) -> str:
    """Which values count where follows from them and the code (`audit.counting`)."""
    return _digest(code, *sorted(c.value for c in sweep.canaries))


def _screen(
    sweep: audit.TreeSweep,
    instances: list[Instance],
    files_of: dict[int, list[str]],
    tmp: Path,
    report: BuildReport,
    strict: bool,
    screened: set[str],
    known: bool,
    team: Workers,
) -> set[int]:
    """Sweep each instance's frames, Part 10 file and metadata with every input's canaries
    before the tree is written: an instance holding another input's value is refused (its
    files removed, the input and attribute named), and the rest of the site still publishes.
    The files are swept in the workers; the metadata here, meanwhile. Returns the refused
    instances (by id); `screened` gets the files found clean. `known`: the metadata are
    those the last build screened with the same canaries."""
    groups = [[rel for rel in files_of.get(id(i), []) if (tmp / rel).is_file()] for i in instances]
    metadata_hits: list[list[Hit]] = []

    def metadata() -> None:
        if not known:
            items = [(f"metadata of {i.source}", i.metadata) for i in instances]
            metadata_hits.extend(sweep.metadata(items, json_bytes))

    file_hits = sweep.instances(groups, tmp, team, metadata)
    refused: set[int] = set()
    for n, (instance, mine) in enumerate(zip(instances, groups, strict=True)):
        hits = file_hits[n] or (metadata_hits[n] if metadata_hits else [])
        if not hits:
            screened.update(mine)
            continue
        refused.add(id(instance))
        for relative in mine:
            (tmp / relative).unlink(missing_ok=True)
        hit = hits[0]
        (report.errors if strict else report.warnings).append(
            f"{instance.source}: refused: its {hit.path} would publish {hit.value} "
            f"({hit.canary.attribute} of {hit.canary.source})"
        )
    return refused


def write_manifests(site: Site, studies: list[Study], out: Path) -> list[str]:
    """data/cases/<slug>.json for every case: what the viewer loads, and data/answers/<slug>.json
    for a case that hides an answer; warnings for a case whose manifest could not be made."""
    warnings: list[str] = []
    folder = out / "data/cases"
    folder.mkdir(parents=True, exist_ok=True)
    ohif = (lambda uid: ohif_study_url(site, uid)) if site.ohif.enabled else None
    for case in site.cases:
        mine = [s for s in studies if s.case == case.slug]
        with faults.contained(warnings, case.file, f"data/cases/{case.slug}.json"):
            manifest = case_manifest(case, mine, ohif, site.build.pack)
            (folder / f"{case.slug}.json").write_bytes(json_bytes(manifest))
            series = [s for study in manifest["studies"] for s in study["series"]]
            frames = [len(s["frames"]) for s in series]
            windows = [[w["name"] for w in s["windows"]] for s in series]
            for problem in casecheck.beyond_series(case.view, case.annotations, frames, windows):
                warnings.append(f'{case.file}: case "{case.slug}": {problem}')
            if hides_answer(case):
                answer = out / answer_path(case.slug)
                answer.parent.mkdir(parents=True, exist_ok=True)
                answer.write_bytes(json_bytes(answer_manifest(case)))
    return warnings


def _group_by_case(site: Site, instances: list[Instance], report: BuildReport) -> list[Study]:
    """Studies in a stable order (workers finish in any order); a study belongs to the case
    of its first instance, and may be in one case only."""
    order = {case.slug: n for n, case in enumerate(site.cases)}
    instances.sort(key=lambda i: (order[i.case], i.source))
    studies = group(instances)
    owner = {study.uid: study.case for study in studies}
    for inst in instances:
        if owner.get(inst.study_uid, inst.case) != inst.case:
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
