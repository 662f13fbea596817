"""The build's public entry point; its phases are the modules of `sitegen.pipeline`."""

from __future__ import annotations

from .pipeline import BuildFailed, BuildReport, QuietUI, build, make_deidentifier, plan

__all__ = ["BuildFailed", "BuildReport", "QuietUI", "build", "make_deidentifier", "plan"]
