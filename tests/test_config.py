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


VIEW_MISTAKES = """
[[cases]]
slug = "ct"
title = "Chest CT"
source = "sample:chest-ct"
view = { series = 0, slice = -3, window = "lungs", zoom = 2 }
annotations = [
  { series = 1, slice = 4, shape = "square", points = [[1, 2], [3, 4]] },
  { slice = 5, shape = "arrow", points = [[1, 2]], label = 7 },
  { slice = 6, shape = "circle", points = [[1, 2]], lable = "x" },
  { slice = 7, shape = "text", points = "10,20" },
]

[[cases]]
slug = "dup"
title = "First of two"
source = "sample:nope"
"""


def test_view_annotation_slug_and_front_matter_mistakes_in_one_run(site_dir: Path) -> None:
    """What the viewer would silently ignore, a slug two cases share (both named) and a
    front matter error on its real line: all reported by one run, each with file and key."""
    config = write_site(site_dir, VIEW_MISTAKES)
    dup = site_dir / "cases/dup"
    dup.mkdir(parents=True)
    (dup / "case.md").write_text('+++\ntitle = "Second"\nsource = "sample:head-mr"\n+++\n')
    broken = site_dir / "cases/broken"
    broken.mkdir()
    (broken / "case.md").write_text('+++\ntitle = "Broken"\nhistory = oops\n+++\n')  # line 3
    with pytest.raises(ConfigError) as info:
        load_config(config)
    by_key: dict[str, str] = {}
    for p in info.value.problems:
        by_key.setdefault(p.key, f"{p.file}: {p.message}")
    expected = {
        "cases[0].view.series": "1 or more",
        "cases[0].view.slice": "1 or more",
        "cases[0].view.window": 'did you mean "lung"',
        "cases[0].view.zoom": "unknown key",
        "cases[0].annotations[0].shape": '"square" is not a shape (arrow, circle, text)',
        "cases[0].annotations[1].label": "not text",
        "cases[0].annotations[2].points": "a circle takes 2 points, not 1",
        "cases[0].annotations[2].lable": 'did you mean "label"',
        "cases[0].annotations[3].points": "list of [x, y]",
        "cases[0].annotations[3].label": "required for a text annotation",
        "slug": '"dup" is also the slug of the case in ',
    }
    for key, needle in expected.items():
        assert needle in by_key.get(key, ""), (key, by_key)
    assert "cases/dup/case.md: " in by_key["slug"]  # the second names the first
    assert "unknown sample" in by_key["cases[1].source"]  # a first with a mistake of its own
    assert 'site.toml ("First of two")' in by_key["slug"]
    (front,) = [p for p in info.value.problems if "cases/broken" in p.file]
    assert "front matter is not valid TOML" in front.message
    assert "(at line 3, column" in front.message, front.message  # the file's line, not line 2


def test_slices_and_windows_the_series_do_not_have_are_warned_by_the_build(
    site_dir: Path,
) -> None:
    from sitegen.build import build

    config = write_site(
        site_dir,
        '[build]\nworkers = 1\n\n[[cases]]\nslug = "mr"\ntitle = "MR"\nsource = "sample:head-mr"\n'
        'view = { series = 1, slice = 99, window = "bone" }\n'
        "annotations = [{ series = 2, slice = 1, points = [[1, 2]] }]\n",
    )
    report = build(load_config(config), workers=1)
    assert report.published
    text = "\n".join(report.warnings)
    assert 'site.toml: case "mr": view: slice 99, but series 1 has 32 slices' in text, text
    assert 'view.window: "bone" is none of the series\' windows (default)' in text, text
    assert "annotations[0]: series 2, but the case has 1 series" in text, text


def problems_by_key(site_dir: Path, body: str) -> dict[str, str]:
    """The configuration errors of a site.toml with `body`, by key."""
    with pytest.raises(ConfigError) as info:
        load_config(write_site(site_dir, body))
    return {p.key: p.message for p in info.value.problems}


def test_question_mistakes_are_reported_with_the_rest(site_dir: Path) -> None:
    by_key = problems_by_key(
        site_dir,
        '[[cases]]\nslug = "q"\ntitle = "Q"\nsource = "sample:head-mr"\nquestions = [\n'
        '  { prompt = "A?", options = ["x", "y"], answr = 1 },\n'
        '  { prompt = "B?", options = ["x", "y"], answer = 3, explanations = ["only one"] },\n'
        '  { options = ["x"], answer = 1 },\n'
        '  { prompt = "Free?", model = 4 },\n'
        "]\n",
    )
    expected = {
        "questions[0].answr": 'did you mean "answer"',
        "questions[0].answer": "right option, 1 to 2",
        "questions[1].answer": "right option, 1 to 2",
        "questions[1].explanations": "1 for 2 options",
        "questions[2].prompt": "required",
        "questions[2].options": "two or more",
        "questions[3].model": "not text",
    }
    for key, needle in expected.items():
        assert needle in by_key[f"cases[0].{key}"], key


def test_reference_and_related_mistakes(site_dir: Path) -> None:
    by_key = problems_by_key(
        site_dir,
        '[[cases]]\nslug = "a"\ntitle = "A"\nsource = "sample:head-mr"\n'
        'related = ["brian", "a"]\nadded = "last week"\n'
        'references = [{ text = "X", doi = "doi:10.1/x" }, { txt = "Y" }, 7]\n'
        '[[cases]]\nslug = "brain"\ntitle = "B"\nsource = "sample:head-mr"\n',
    )
    expected = {
        "cases[0].references[0].doi": "is not a DOI",
        "cases[0].references[1].txt": 'did you mean "text"',
        "cases[0].references[2]": "citation as text",
        "cases[0].added": "is not a date: write it as 2026-11-30",
        "related[0]": '"brian" is no case of this site; did you mean "brain"?',
    }
    for key, needle in expected.items():
        assert needle in by_key[key], key
    assert by_key["related[0]"].startswith('case "a": ')
    assert "related to itself" in by_key["related[1]"]
