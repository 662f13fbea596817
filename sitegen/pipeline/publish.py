"""Phase 7, publish: the new tree swapped in atomically for the published one, the deploy
diff against it, and what the next build may reuse written to the cache."""

from __future__ import annotations

from pathlib import Path

from .. import publish as trees
from .env import Env
from .reuse import Reuse, commit_outputs
from .sweep import Swept


def publish_tree(env: Env, swept: Swept, reuse: Reuse, home: Path) -> None:
    report = env.report
    with env.stage("publish") as detail:
        diff = trees.diff_trees(swept.files, reuse.published)
        report.added, report.changed, report.removed = diff
        trees.swap_in(env.tmp, env.out, home)
        env.cache.finish(env.out, report.summary(), swept.last)
        commit_outputs(reuse)
        detail.append(
            f"{env.out.name}/ (swapped atomically): {len(report.added)} added, "
            f"{len(report.changed)} changed, {len(report.removed)} removed"
        )
    report.published = True
