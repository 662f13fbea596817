"""`sitegen check`: audit a built site against its inputs.

It de-identifies every input again (in memory, without touching pixels) to learn what the
profile removed or replaced, sweeps every byte and path of the built folder for those values,
and counts the profile's actions for a de-identification report.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import audit, treesweep
from .build import BuildReport, QuietUI, make_deidentifier, plan
from .config import Site
from .deid import Canary, Hit, OnePerValue
from .pool import Workers, run_jobs
from .publish import listing

ACTION_NAMES = {
    "X": "removed",
    "Z": "emptied",
    "D": "replaced with a dummy",
    "U": "UID remapped",
    "C": "cleaned",
    "K": "kept",
}


@dataclass
class CheckReport:
    files: int = 0
    values: int = 0
    proved: int = 0  # verbatim copies proved by hash to be sitegen's own files
    hits: list[Hit] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _published_metadata(public: Path) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in public.glob("dicomweb/studies/*/series/*/metadata"):
        objects += json.loads(path.read_bytes())
    return objects


def check_site(site: Site, public: Path, workers: int = 0) -> CheckReport:
    """Sweep `public` for every value the profile takes out of the site's inputs."""
    result = CheckReport()
    scratch = BuildReport()
    try:
        deidentifier = make_deidentifier(site, public.resolve())
    except ValueError as exc:
        result.errors.append(str(exc))
        return result
    canaries: list[Canary] = []
    jobs = plan(site, public, deidentifier, scratch, write=False, canaries=canaries)
    unique = OnePerValue(canaries)
    with Workers(workers) as team:
        for _, _, outcome in run_jobs(jobs, team, QuietUI()):
            unique.add(outcome.canaries)
            result.actions.update(outcome.actions)
            result.warnings += outcome.warnings
    result.warnings += scratch.warnings
    result.errors += scratch.errors
    kept = audit.unique_canaries(unique.sorted(), _published_metadata(public))  # as the build
    ohif = None
    if site.ohif.enabled:
        ohif = (site.ohif.version, tuple(site.ohif.keep), site.site.base_url)
    own = audit.own_digests(ohif)
    if not own:
        result.warnings.append(
            "sitegen's own copies of the viewer could not be made (is the vendor cache empty? "
            "run python -m sitegen.vendor): verbatim files are read as any other"
        )
    sweep = treesweep.TreeSweep(kept, own=own)
    folders: list[str] = []
    files = listing(public, folders)
    result.values = len(sweep.canaries)  # as the build's report counts them
    result.files = len(files)
    zips = {rel: e for rel, e in files.items() if rel.endswith(".zip")}
    hits = sweep.zip_names(zips) + sweep.tree(files, folders)  # every byte is read
    result.hits = audit.mask_hits(hits, sweep.canaries)  # the output is printed, maybe in a CI log
    verbatim = sum(1 for rel in files if audit.is_verbatim(rel))
    result.proved = verbatim - len(sweep.unproved)
    if own:
        result.warnings += [
            f"{rel}: not sitegen's own copy, read as any file" for rel in sweep.unproved
        ]
    result.warnings = audit.mask_messages(result.warnings, sweep.canaries)
    result.errors = audit.mask_messages(result.errors, sweep.canaries)
    return result
