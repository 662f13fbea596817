"""Phase 3, screen: each instance's files and metadata swept with every input's canaries
before the tree is written. An instance holding another input's value is refused (its files
removed, the input and attribute named); the rest of the site still publishes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import treesweep
from ..deid import Hit
from ..model import Instance
from ..writers.dicomweb import json_bytes
from .env import Env
from .frames import Made
from .reuse import Reuse, tree_sweep


@dataclass
class Screened:
    instances: list[Instance]  # those that may be published
    sweep: treesweep.TreeSweep | None  # None: de-identification is off
    clean: set[str] = field(default_factory=set)  # the files found clean
    refused: int = 0


def screen_instances(env: Env, made: Made, reuse: Reuse) -> Screened:
    if env.deidentifier is None:
        return Screened(made.instances, None)
    with env.stage("screen") as detail:
        canaries = made.canaries.sorted()
        sweep = tree_sweep(env, reuse, canaries, [i.metadata for i in made.instances])
        known = reuse.memo is not None and not env.cache.last.refused  # screened before
        screened = Screened([], sweep)
        refused = _refused(env, made, screened, known)
        screened.instances = [i for i in made.instances if id(i) not in refused]
        screened.refused = len(refused)
        detail.append(
            f"{len(screened.instances)} instances against {len(sweep.canaries)} values, "
            f"{len(refused)} refused"
        )
    if refused:
        reuse.drop_carry()  # the published tree holds what was refused now
    return screened


def _refused(env: Env, made: Made, screened: Screened, known: bool) -> set[int]:
    """The refused instances (by id). The files are swept in the workers, the metadata here
    meanwhile; `known`: the metadata are those the last build screened with the same
    canaries. `screened.clean` gets the files found clean."""
    sweep, tmp, instances = screened.sweep, env.tmp, made.instances
    assert sweep is not None
    groups = [
        [rel for rel in made.files_of.get(id(i), []) if (tmp / rel).is_file()] for i in instances
    ]
    metadata_hits: list[list[Hit]] = []

    def metadata() -> None:
        if not known:
            items = [(f"metadata of {i.source}", i.metadata) for i in instances]
            metadata_hits.extend(sweep.metadata(items, json_bytes))

    file_hits = sweep.instances(groups, tmp, env.team, metadata)
    refused: set[int] = set()
    for n, (instance, mine) in enumerate(zip(instances, groups, strict=True)):
        hits = file_hits[n] or (metadata_hits[n] if metadata_hits else [])
        if not hits:
            screened.clean.update(mine)
            continue
        refused.add(id(instance))
        for relative in mine:
            (tmp / relative).unlink(missing_ok=True)
        hit = hits[0]
        env.refuse(
            f"{instance.source}: refused: its {hit.path} would publish {hit.value} "
            f"({hit.canary.attribute} of {hit.canary.source})"
        )
    return refused
