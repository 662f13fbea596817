"""Shared fixtures: small sites written into a temporary folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/dicomgen.py


def write_site(root: Path, body: str, title: str = "Test site") -> Path:
    """Write root/site.toml with a [site] table and `body`; returns its path."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "site.toml"
    config.write_text(f'[site]\ntitle = "{title}"\n\n{body}', encoding="utf-8")
    return config


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return tmp_path / "site"
