"""`sitegen new DIR`: a site to start from, with one example case that uses every teaching
key, a .gitignore that keeps the build's state and the inputs out of the repository, and the
GitHub Pages workflow (tested by tests/test_workflow.py, which runs its steps)."""

from __future__ import annotations

from pathlib import Path

from . import __version__

SCAFFOLD_SITE = """\
[site]
title = "My teaching file"
base_url = "/"
author = ""
license = "CC BY-NC-SA 4.0"

[build]
frames = "htj2k"

[deid]
key_file = ".sitegen/key"   # created on first build; keep it private, never publish it
"""

SCAFFOLD_CASE = """\
+++
title = "Example: chest CT phantom"
source = "sample:chest-ct"   # replace with a folder of DICOM files, a .zip or a DICOMDIR
history = "Generated phantom: replace with the clinical history."
findings = "A small nodule in the right lung."
diagnosis = "Pulmonary nodule"
tags = ["chest", "ct"]
unknown = false   # true: a quiz; title, tags, findings and the answer wait for Reveal
view = { series = 1, slice = 41, window = "lung" }   # where the viewer opens
annotations = [
  { series = 1, slice = 41, shape = "arrow", points = [[127, 241], [92, 204]], label = "Nodule" },
]
questions = [
  { prompt = "What is the finding?", options = ["Pneumothorax", "Pulmonary nodule"], answer = 2 },
  { prompt = "Describe it as in a report.", model = "A 10 mm solid nodule, right lower lobe." },
]
+++
Write the discussion here, in Markdown.
"""


SCAFFOLD_README = """\
# My teaching file

Teaching cases built with [sitegen](https://pypi.org/project/sitegen-dicom/): `sitegen build` turns
the DICOM of each case into a static website in `public/`; `sitegen serve` previews it on
http://127.0.0.1:8000/ and rebuilds when `site.toml` or `cases/` change.

Each case is a folder `cases/<slug>/` with a `case.md` (TOML front matter between `+++` lines,
then the discussion in Markdown) and its DICOM files.
"""

# GitHub Pages: build with the Pages base path, publish public/ with the official actions.
# SITEGEN_KEY (optional repository secret, base64 of .sitegen/key) keeps the de-identified UIDs
# stable across deploys; without it every deploy gets new UIDs (frame URLs change, nothing leaks).
SCAFFOLD_WORKFLOW = """\
name: Deploy to GitHub Pages

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: pages
        uses: actions/configure-pages@v5
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install sitegen
        run: python -m pip install "sitegen-dicom=={version}"
      # the build cache: a push that edits one case text rebuilds only that (not the key:
      # it comes from the secret; the cache holds removed values, as private as the inputs)
      - uses: actions/cache@v4
        with:
          path: .sitegen/cache
          key: sitegen-${{ runner.os }}-{version}-${{ hashFiles('site.toml', 'cases/**') }}
          restore-keys: sitegen-${{ runner.os }}-{version}-
      - name: Restore the de-identification key
        env:
          SITEGEN_KEY: ${{ secrets.SITEGEN_KEY }}
        run: |
          if [ -n "$SITEGEN_KEY" ]; then
            mkdir -p .sitegen
            printf '%s' "$SITEGEN_KEY" | base64 -d > .sitegen/key
            chmod 600 .sitegen/key
          fi
      - name: Build
        run: >-
          sitegen build --base-url "${{ steps.pages.outputs.base_path }}/"
          --site-url "${{ steps.pages.outputs.base_url }}/"
      - name: Check the site fits GitHub Pages
        run: sitegen check --host github-pages public
      - uses: actions/upload-pages-artifact@v3
        with:
          path: public

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def write_scaffold(directory: Path) -> None:
    """Write the new site into `directory` (which is missing or empty)."""
    (directory / "cases/example").mkdir(parents=True)
    (directory / "site.toml").write_text(SCAFFOLD_SITE, encoding="utf-8")
    (directory / "cases/example/case.md").write_text(SCAFFOLD_CASE, encoding="utf-8")
    # the output, what a build keeps beside it (lock, spare tree) and the key and caches
    ignored = "public/\n.public.sitegen-*\n.sitegen/\n"
    (directory / ".gitignore").write_text(ignored, encoding="utf-8")
    workflows = directory / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "pages.yml").write_text(
        SCAFFOLD_WORKFLOW.replace("{version}", __version__), encoding="utf-8"
    )
    deploy = (Path(__file__).parent / "pages/README-section.md").read_text(encoding="utf-8")
    (directory / "README.md").write_text(SCAFFOLD_README + "\n" + deploy, encoding="utf-8")
