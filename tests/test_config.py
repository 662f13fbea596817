"""Configuration: every problem at once, each naming file, key and reason; exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_site

from sitegen.config import ConfigError, load_config

BAD = """
[build]
frame = "htj2k"
workers = "two"

[[cases]]
slug = "Knee MR"
title = "Knee"
source = "cases/missing"

[[cases]]
slug = "ok-case"
source = "sample:nope"
"""


def test_all_problems_reported_at_once(site_dir: Path) -> None:
    config = write_site(site_dir, BAD)
    with pytest.raises(ConfigError) as info:
        load_config(config)
    text = [str(p) for p in info.value.problems]
    assert all(t.startswith(str(config)) or "site.toml" in t for t in text)
    keys = {p.key for p in info.value.problems}
    assert keys >= {
        "build.frame",
        "build.workers",
        "cases[0].slug",
        "cases[0].source",
        "cases[1].title",
        "cases[1].source",
    }
    by_key = {p.key: p.message for p in info.value.problems}
    assert 'did you mean "frames"' in by_key["build.frame"]
    assert '"knee-mr"' in by_key["cases[0].slug"]
    assert "no such file or folder" in by_key["cases[0].source"]
    assert "chest-ct" in by_key["cases[1].source"]  # the known samples are listed


def test_cli_exit_code_2_and_lists_every_problem(site_dir: Path) -> None:
    config = write_site(site_dir, BAD)
    from sitegen.cli import main

    result = CliRunner().invoke(main, ["build", "--config", str(config)])
    assert result.exit_code == 2
    for needle in ("build.frame", "build.workers", "cases[0].slug", "cases[1].title"):
        assert needle in result.output


def test_invalid_toml_names_the_file(site_dir: Path) -> None:
    site_dir.mkdir()
    (site_dir / "site.toml").write_text("[site\ntitle=", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(site_dir / "site.toml")
    assert "not valid TOML" in info.value.problems[0].message


def test_defaults_and_case_markdown(site_dir: Path) -> None:
    (site_dir / "cases/rib-fracture").mkdir(parents=True)
    (site_dir / "cases/rib-fracture/case.md").write_text(
        '+++\ntitle = "Rib fracture"\nsource = "sample:chest-ct"\ntags = ["trauma"]\n+++\n'
        "Discussion in *Markdown*.\n",
        encoding="utf-8",
    )
    site = load_config(write_site(site_dir, ""))
    assert site.site.base_url == "/" and site.build.frames == "htj2k"
    assert set(site.deid.options) == {"retain-modified-dates", "clean-descriptors"}
    (case,) = site.cases
    assert case.slug == "rib-fracture" and case.tags == ("trauma",)
    assert case.discussion == "Discussion in *Markdown*."


def test_case_markdown_errors_name_their_file(site_dir: Path) -> None:
    (site_dir / "cases/Bad_Name").mkdir(parents=True)
    (site_dir / "cases/Bad_Name/case.md").write_text('+++\ntitel = "x"\n+++\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(write_site(site_dir, ""))
    problems = info.value.problems
    assert all(p.file.endswith("case.md") for p in problems)
    assert {p.key for p in problems} >= {"titel", "slug", "title"}
    assert any('did you mean "title"' in p.message for p in problems)


def test_base_url_is_normalised(site_dir: Path) -> None:
    config = site_dir / "site.toml"
    site_dir.mkdir()
    config.write_text('[site]\ntitle = "t"\nbase_url = "/teaching"\n', encoding="utf-8")
    assert load_config(config).site.base_url == "/teaching/"


@pytest.mark.parametrize(
    ("value", "key", "words"),
    [
        ("{ psnr = 20 }", "build.lossy.psnr", "from 30 to 100"),
        ("{ quality = 80 }", "build.lossy", "{ psnr = N }"),
        ('{ psnr = "high" }', "build.lossy", "{ psnr = N }"),
        ("101", "build.lossy", "quality from 1 to 100"),
    ],
)
def test_lossy_targets_are_checked(site_dir: Path, value: str, key: str, words: str) -> None:
    config = write_site(site_dir, f'[build]\nlossy = {value}\n[[cases]]\nslug = "a"\n')
    with pytest.raises(ConfigError) as info:
        load_config(config)
    by_key = {p.key: p.message for p in info.value.problems}
    assert words in by_key[key], by_key


def test_lossy_psnr_target_is_read(site_dir: Path) -> None:
    config = write_site(
        site_dir,
        '[build]\nlossy = { psnr = 55 }\n[[cases]]\nslug = "a"\ntitle = "A"\n'
        'source = "sample:chest-ct"\n',
    )
    build = load_config(config).build
    assert build.lossy is None and build.lossy_psnr == 55.0


def test_a_missing_site_toml_points_at_sitegen_new(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "site.toml")
    (problem,) = info.value.problems
    assert "no such file" in problem.message and "sitegen new" in problem.message
