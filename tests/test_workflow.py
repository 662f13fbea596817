"""The GitHub Pages workflow `sitegen new` writes works on its first push: its own `run:`
steps, parsed from the YAML, are executed in a fresh virtualenv that installs sitegen's
wheel from a package index on 127.0.0.1 (pypiserver), as the runner installs it from PyPI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from sitegen import __version__
from sitegen.cli import main

ROOT = Path(__file__).parent.parent
PAGES = {
    "${{ steps.pages.outputs.base_path }}": "/site-repo",
    "${{ steps.pages.outputs.base_url }}": "https://teacher.github.io/site-repo",
    "${{ secrets.SITEGEN_KEY }}": "",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sitegen's wheel, built from this checkout, served by pypiserver on 127.0.0.1."""
    pytest.importorskip("pypiserver")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
    )
    assert [p.name for p in dist.iterdir()] == [f"sitegen_dicom-{__version__}-py3-none-any.whl"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port)]
        + ["--disable-fallback", str(dist)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(url + "sitegen-dicom/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _steps(workflow: Path) -> list[dict]:
    doc = yaml.safe_load(workflow.read_text())
    return doc["jobs"]["build"]["steps"]


def _run_steps(steps: list[dict], site: Path, env: dict[str, str]) -> list[str]:
    """Run every `run:` step as the runner would (bash -e, the step's env), with the
    expressions GitHub would fill in; returns each step's output."""
    outputs = []
    for step in steps:
        if "run" not in step:
            continue
        script = step["run"]
        step_env = {k: str(v) for k, v in (step.get("env") or {}).items()}
        for expression, value in PAGES.items():
            script = script.replace(expression, value)
            step_env = {k: v.replace(expression, value) for k, v in step_env.items()}
        proc = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=site,
            env={**env, **step_env},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, (
            f"step {step.get('name', script)!r}:\n{proc.stdout}{proc.stderr}"
        )
        outputs.append(proc.stdout + proc.stderr)
    return outputs


def test_the_scaffolded_pages_workflow_runs_on_first_push(index: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["new", str(site)])
    assert result.exit_code == 0, result.output
    workflow = site / ".github/workflows/pages.yml"
    steps = _steps(workflow)
    uses = [s.get("uses", "") for s in steps]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".sitegen/cache"
    assert uses.index(cache["uses"]) < next(
        n for n, s in enumerate(steps) if "sitegen build" in s.get("run", "")
    )
    install = next(s["run"] for s in steps if "pip install" in s.get("run", ""))
    assert f'"sitegen-dicom=={__version__}"' in install

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "PIP_INDEX_URL": index,  # sitegen from 127.0.0.1; its dependencies from PyPI
        "PIP_EXTRA_INDEX_URL": "https://pypi.org/simple",
        "COLUMNS": "200",
    }
    env.pop("PYTHONPATH", None)
    first = _run_steps(steps, site, env)
    built = next(o for o in first if "built " in o)
    assert "/site-repo/" in (site / "public/index.html").read_text()
    assert (
        "https://teacher.github.io/site-repo/viewer/?case="
        in next((site / "public/cases").glob("*/index.html")).read_text()
    )
    assert "[site] url is not set" not in built
    # the installed command is the wheel's, not this checkout's
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import sitegen; print(sitegen.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(venv) in where
    assert list(venv.glob(f"lib/python*/site-packages/sitegen_dicom-{__version__}.dist-info"))

    # the next push edits one case text: .sitegen/cache (restored by actions/cache) makes it
    # an incremental build
    case = next(site.glob("cases/*/case.md"))
    case.write_text(case.read_text().replace("+++\n", "+++\n", 1) + "\nOne more line.\n")
    second = _run_steps(steps, site, env)
    rebuilt = next(o for o in second if "built " in o)
    assert "instances from the cache" in rebuilt, rebuilt


def test_the_release_workflow_builds_and_checks_both_distributions(tmp_path: Path) -> None:
    """sitegen's own release workflow, its `run:` steps on a clone of this checkout: the
    sdist and the wheel of sitegen-dicom build and pass `twine check --strict`."""
    pytest.importorskip("build")
    pytest.importorskip("twine")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    steps = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())["jobs"]
    assert any(
        "pypa/gh-action-pypi-publish" in s.get("uses", "") for s in steps["publish"]["steps"]
    )
    assert steps["publish"]["permissions"] == {"id-token": "write"}
    env = {**os.environ, "GITHUB_REF_NAME": f"v{__version__}"}
    outputs = _run_steps(steps["build"]["steps"], clone, env)
    assert any("PASSED" in o for o in outputs)
    names = sorted(p.name for p in (clone / "dist").iterdir())
    assert names == [
        f"sitegen_dicom-{__version__}-py3-none-any.whl",
        f"sitegen_dicom-{__version__}.tar.gz",
    ]
