"""Phase 4, tree: the published instances grouped into studies, and the files made from
them: the static DICOMweb tree, thumbnails, the viewer's case manifests, case zips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import casecheck, faults
from ..cache import BuildCache
from ..config import Site
from ..model import Instance, Study, group
from ..ohif import ohif_study_url
from ..preview import write_previews
from ..reduce import reduce_stacks
from ..render import write_thumbnails
from ..report import BuildReport
from ..writers.dicomweb import json_bytes, write_dicomweb
from ..writers.manifest import answer_manifest, answer_path, case_manifest, hides_answer
from .env import Env
from .frames import Made
from .read import Read
from .reuse import Reuse
from .screen import Screened


@dataclass
class Tree:
    studies: list[Study]  # in a stable order: by case, then by source


def write_tree(env: Env, read: Read, made: Made, screened: Screened, reuse: Reuse) -> Tree:
    """The files made from the instances alone are written unless they were carried
    (linked unchanged from the published tree, see reuse.py); the manifests always are."""
    site, tmp, report = env.site, env.tmp, env.report
    with env.stage("write") as detail:
        instances, dropped = reduce_stacks(
            site, screened.instances, made.files_of, tmp, read.reduced
        )
        dropped += read.left_out
        studies = _group_by_case(site, instances, report)
        if not reuse.carry:
            write_dicomweb(studies, tmp, site.site.base_url)
            write_previews(studies, tmp)
            report.warnings += write_thumbnails(studies, tmp, env.cache)
        report.warnings += write_manifests(site, studies, tmp)
        if site.build.downloads and not reuse.carry:
            for case in site.cases:
                with faults.contained(report.warnings, case.file, f"downloads/{case.slug}.zip"):
                    mine = [s for s in studies if s.case == case.slug]
                    _case_zip(env.cache, tmp, case.slug, mine, site.build.zips)
        detail.append(
            f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'}"
            + (f", {dropped} slices left out (stack)" if dropped else "")
        )
    return Tree(studies)


def count(report: BuildReport, tree: Tree) -> None:
    """The report's counts of what is published."""
    studies = tree.studies
    report.cases = len({s.case for s in studies})
    report.studies = len(studies)
    report.series = sum(len(s.series) for s in studies)
    report.instances = sum(len(s.instances) for s in studies)
    report.frames = sum(i.frames for s in studies for i in s.instances)


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


def _case_zip(
    cache: BuildCache, out: Path, slug: str, studies: list[Study], zips: str = "files"
) -> None:
    """downloads/<slug>.zip (or its parts, see zip_parts), each reused from the cache when
    its Part 10 files are the same; with zips = "browser" only downloads/<slug>.json, the
    list the case page zips in the browser."""
    from ..writers.part10 import write_case_zip, zip_members, zip_parts  # pydicom: only now

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
