"""Phase 5, pages: the viewer, the bundled OHIF, every page and the host files; with
[build] pack, the frames packed into a few large files."""

from __future__ import annotations

from ..hosts import write_host_files
from ..ohif import OhifError, install_ohif
from ..packs import write_packs
from ..pages import write_pages
from ..vendor import VendorError
from ..viewer import install_viewer
from .env import Env
from .tree import Tree


def write_site_pages(env: Env, tree: Tree) -> bool:
    """False when a third-party asset could not be had (e.g. offline with an empty cache):
    the report says which, and nothing is published."""
    site, tmp, report, studies = env.site, env.tmp, env.report, tree.studies
    with env.stage("pages") as detail:
        try:
            install_viewer(tmp)
            if site.ohif.enabled:
                fetching = getattr(env.ui, "fetch", None)  # a bar for the ~50 MB download
                report.warnings += install_ohif(site, studies, tmp, progress=fetching)
                report.ohif = site.ohif.version
        except (VendorError, OhifError) as exc:
            report.errors.append(str(exc))
            return False
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
        with env.stage("pack") as detail:
            written = write_packs(studies, tmp, site.build.pack)
            frames = sum(i.frames for s in studies for i in s.instances)
            detail.append(f"{frames} frames in {written} files of at most {site.build.pack} MiB")
    return True
