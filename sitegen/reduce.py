"""Stack reduction: every Nth slice of a case's long series (`stack = { every = N }`).

A 600-slice thin CT is more than a teaching site needs to show and more than some hosts
hold. The slices kept are the acquired images as they were; the series they make is not the
acquired one, so their published metadata says so: ImageType DERIVED and a
DerivationDescription naming the step. The Part 10 downloads are the kept slices unchanged.

The slices left out are decided before any worker runs, from each input's header
(`plan_stacks`, with the order identify.py read): their workers only de-identify them (their
values still become canaries) and read or write no pixels. A series whose order the headers
do not settle (a header that does not parse, a multi-frame instance) is reduced after the
workers instead, from the published instances (`reduce_stacks`), the same way.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from pathlib import Path

from .config import Site
from .identify import Jobs, UidMemo, identity
from .jobs import Job
from .model import Instance, sort_instances

SeriesKey = tuple[str, str, str]  # case, study UID, series UID (as published)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _flagged(instance: Instance, every: int) -> Instance:
    meta = copy.deepcopy(instance.metadata)
    image_type = meta.get("00080008", {}).get("Value")
    if image_type:
        image_type[0] = "DERIVED"
    else:
        meta["00080008"] = {"vr": "CS", "Value": ["DERIVED", "SECONDARY"]}
    meta["00082111"] = {
        "vr": "ST",
        "Value": [f"every {_ordinal(every)} slice of the acquired series (sitegen)"],
    }
    return dataclasses.replace(instance, metadata=dict(sorted(meta.items())))


def _every(site: Site) -> dict[str, int]:
    return {case.slug: case.stack_every for case in site.cases if case.stack_every > 1}


def plan_stacks(
    site: Site, jobs: Jobs, memo: UidMemo, warnings: list[str] | None = None
) -> tuple[Jobs, set[SeriesKey], int]:
    """The jobs with those of the slices left out made de-identify-only, the series so
    reduced, and how many slices were left out. `memo` holds the headers identify read.
    For slabs (stack = { slab = N }) the first slice of each N is given the others: its
    worker publishes their mean (slab.py); a series whose order the headers do not settle
    cannot be averaged and is published whole (`warnings` says so)."""
    slabs = {case.slug: case.stack_slab for case in site.cases if case.stack_slab > 1}
    every = {**_every(site), **slabs}
    series: dict[SeriesKey, list[tuple[int, Instance]]] = defaultdict(list)
    unsettled: set[str | SeriesKey] = set()
    for n, (item, job) in enumerate(jobs):
        if job.case not in every or not job.write:
            continue
        uids = memo.uids(item, job.deid)
        if uids is None:  # of no known series: its case is reduced after the workers
            unsettled.add(job.case)
            continue
        key = (job.case, uids[0], uids[1])
        geometry = memo.geometry(item, job.deid)
        if geometry is None or geometry.frames != 1 or geometry.position is None:
            unsettled.add(key)
            continue
        stand_in = Instance(
            *uids, job.case, item.label, {}, [0], "", geometry.instance_number,
            geometry.position, geometry.orientation,
        )  # fmt: skip
        series[key].append((n, stand_in))
    out = list(jobs)
    reduced: set[SeriesKey] = set()
    dropped = 0
    only_deid: dict[int, Job] = {}
    for key, members in series.items():
        if key in unsettled or key[0] in unsettled:
            continue
        reduced.add(key)
        index_of = {id(stand_in): n for n, stand_in in members}
        ordered = [index_of[id(s)] for s in sort_instances([m for _, m in members])]
        size = every[key[0]]
        for start in range(0, len(ordered), size):
            lead, *rest = ordered[start : start + size]
            if key[0] in slabs and rest:
                item, job = out[lead]
                group = tuple((out[n][0], identity(out[n][0])) for n in rest)
                out[lead] = (item, dataclasses.replace(job, slab=group))
            for n in rest:
                item, job = out[n]
                if id(job) not in only_deid:
                    only_deid[id(job)] = dataclasses.replace(job, write=False)
                out[n] = (item, only_deid[id(job)])
                dropped += 1
    if warnings is not None:
        cases = sorted({k if isinstance(k, str) else k[0] for k in unsettled} & set(slabs))
        warnings += [
            f'case "{case}": a series whose slice order its headers do not settle is published '
            "whole, not as slabs"
            for case in cases
        ]
    return out, reduced, dropped


def reduce_stacks(
    site: Site,
    instances: list[Instance],
    files_of: dict[int, list[str]],
    tree: Path,
    reduced: set[SeriesKey] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[Instance], int]:
    """The instances to publish, and how many slices were left out (their files removed
    from `tree`). Series of multi-frame instances are left whole; those of `reduced`
    (plan_stacks left their slices out already) are only flagged."""
    every = _every(site)
    if not every:
        return instances, 0
    series: dict[tuple[str, str, str], list[Instance]] = defaultdict(list)
    kept: list[Instance] = []
    for instance in instances:
        if instance.case in every and instance.frames == 1:
            series[(instance.case, instance.study_uid, instance.series_uid)].append(instance)
        else:
            kept.append(instance)
    dropped = 0
    for key, members in series.items():
        n = every[key[0]]
        for index, instance in enumerate(sort_instances(members)):
            if key in reduced or index % n == 0:
                kept.append(_flagged(instance, n))
                continue
            dropped += 1
            for relative in files_of.get(id(instance), []):
                (tree / relative).unlink(missing_ok=True)
                _remove_empty_folders(tree, Path(relative).parent)
    return kept, dropped


def _remove_empty_folders(tree: Path, folder: Path) -> None:
    """The instance's folders its files left empty (frames/, the instance's own)."""
    while folder.parts:
        try:
            (tree / folder).rmdir()
        except OSError:  # not empty (or gone): the folders above are not empty either
            return
        folder = folder.parent
