"""Phase 1, read: the site's inputs become one job per input file, with duplicates and
the slices stack reduction leaves out decided before any worker writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import identify
from ..config import Site
from ..deid import Canary, Deidentifier, load_or_create_key, value_canaries
from ..jobs import FrameCodec, Job
from ..reduce import SeriesKey, plan_stacks
from ..report import UI, BuildReport
from ..sources import DicomwebError, SourceItem, find_items
from ..sources.zip import UnsafeZipError
from .env import Env

if TYPE_CHECKING:
    from ..sources.dicomweb import DownloadProgress

Jobs = list[tuple[SourceItem, Job]]


@dataclass
class Read:
    jobs: Jobs  # one per input file to make (the reduced stacks' other slices de-identified)
    reduced: set[SeriesKey]  # the series stack reduction made smaller
    left_out: int  # how many slices it left out
    canaries: list[Canary]  # values the sources hold around their DICOM (zip, DICOMDIR)
    signature: str  # what was resolved and left out: part of the build's fingerprint


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


def read_inputs(env: Env) -> Read:
    """Every case's jobs; problems with a whole case, duplicates and slices left out go to
    the report."""
    site, report = env.site, env.report
    if site.build.frames == "jpegls":
        report.warnings.append(
            'build.frames = "jpegls": sitegen\'s viewer cannot decode JPEG-LS frames (OHIF can); '
            'use "htj2k" for the viewer'
        )
    canaries: list[Canary] = []
    with env.stage("read") as detail:
        jobs = plan(site, env.tmp, env.deidentifier, report, ui=env.ui, canaries=canaries)
        # duplicate instances and studies used by two cases, decided before any worker writes
        uid_memo = identify.UidMemo(env.cache.root / "uids.json")
        order = {case.slug: n for n, case in enumerate(site.cases)}
        resolved = identify.resolve(jobs, uid_memo, order)
        report.warnings += resolved.warnings
        report.errors += resolved.errors
        # the slices stack reduction leaves out: de-identified only, no pixel work
        jobs, reduced, left_out = plan_stacks(site, resolved.jobs, uid_memo, report.warnings)
        uid_memo.save()
        detail.append(f"{len(jobs)} files" + resolved.summary())
    return Read(jobs, reduced, left_out, canaries, resolved.signature)


def plan(
    site: Site,
    tmp: Path,
    deidentifier: Deidentifier | None,
    report: BuildReport,
    *,
    write: bool = True,
    ui: UI | None = None,
    canaries: list[Canary] | None = None,
) -> Jobs:
    """One job per input file of every case; problems with a whole case go to the report.
    DICOMweb sources are downloaded here (into their cache), with progress if `ui` shows it.
    `canaries` gets the values the sources hold around their DICOM (zip, DICOMDIR)."""
    codec = FrameCodec(site.build.frames, site.build.lossy, site.build.lossy_psnr)
    progress: Callable[[DownloadProgress], None] | None = getattr(ui, "download", None)
    jobs: Jobs = []
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
        job = Job(
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
            preview=site.build.preview,
        )
        jobs += [(item, job) for item in scan.items]
    return jobs
