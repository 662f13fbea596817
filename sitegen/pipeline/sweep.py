"""Phase 6, sweep: the finished tree, every file and every path, swept once more with every
input's canaries (the screen saw each instance's files; this sees what was made of them:
pages, listings, zips). Anything found stops the publish; the report's messages are masked."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .. import audit, outdir, publish
from ..cache import LastBuild
from .env import Env
from .reuse import Reuse, sweep_key
from .screen import Screened


@dataclass
class Swept:
    files: dict[str, os.DirEntry[str]]  # the new tree's files
    last: LastBuild  # what the next build may reuse


def sweep_tree(env: Env, screened: Screened, reuse: Reuse) -> Swept:
    report, sweep = env.report, screened.sweep
    outdir.mark(env.tmp)
    folders: list[str] = []
    files = publish.listing(env.tmp, folders)
    last = LastBuild(
        inputs=reuse.inputs() or "",
        from_instances=sorted(rel for rel in files if rel.startswith(audit.FROM_INSTANCES)),
    )
    if sweep is not None:
        with env.stage("sweep") as detail:
            last.canaries = [(c.value, c.attribute, c.source, c.word) for c in sweep.canaries]
            last.sweep_key = sweep_key(reuse.code, sweep)
            # a case zip stores the screened Part 10 files as they are: its names are read
            zips = {rel for rel in files if rel.startswith("downloads/") and rel.endswith(".zip")}
            hits = sweep.zip_names({rel: files[rel] for rel in zips})
            hits += sweep.tree(files, folders, screened.clean | zips)
            last.swept = sorted(sweep.clean)
            last.refused = screened.refused
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
    return Swept(files, last)
