"""Stack reduction: every Nth slice of a case's long series (`stack = { every = N }`).

A 600-slice thin CT is more than a teaching site needs to show and more than some hosts
hold. The slices kept are the acquired images as they were; the series they make is not the
acquired one, so their published metadata says so: ImageType DERIVED and a
DerivationDescription naming the step. The Part 10 downloads are the kept slices unchanged.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from pathlib import Path

from .config import Site
from .model import Instance, sort_instances


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


def reduce_stacks(
    site: Site, instances: list[Instance], files_of: dict[int, list[str]], tree: Path
) -> tuple[list[Instance], int]:
    """The instances to publish, and how many slices were left out (their files removed
    from `tree`). Series of multi-frame instances are left whole."""
    every = {case.slug: case.stack_every for case in site.cases if case.stack_every > 1}
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
    for (case, _, _), members in series.items():
        n = every[case]
        for index, instance in enumerate(sort_instances(members)):
            if index % n == 0:
                kept.append(_flagged(instance, n))
                continue
            dropped += 1
            for relative in files_of.get(id(instance), []):
                (tree / relative).unlink(missing_ok=True)
    return kept, dropped
