"""The output folder: sitegen never replaces or recycles a folder it did not make."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_site
from dicomgen import write_ct_series

from sitegen.build import BuildFailed, build
from sitegen.cli import main
from sitegen.config import load_config
from sitegen.outdir import MARKER


def _site(root: Path, out_dir: str = "public") -> Path:
    write_ct_series(root / "cases/knee/dicom", 2)
    (root / "cases/knee/case.md").write_text(
        '+++\ntitle = "Knee"\nsource = "cases/knee/dicom"\n+++\nText.\n', encoding="utf-8"
    )
    (root / "cases/knee/notes.txt").write_text("my own notes")
    return write_site(root, f'[site]\nout_dir = "{out_dir}"\n[build]\nframes = "raw"\n')


def _everything(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".sitegen" not in p.parts
    }


def _write_site(root: Path, out_dir: str) -> Path:
    """site.toml's [site] table already has the title; out_dir goes into it."""
    config = _site(root, out_dir)
    text = config.read_text().replace("\n\n[site]\n", "\n")
    config.write_text(text)
    return config


@pytest.mark.parametrize(
    ("out_dir", "says"),
    [
        ("cases", 'holds the folder of case "knee"'),
        ("cases/knee", 'is or lies inside the folder of case "knee"'),
        ("cases/knee/dicom/out", 'is or lies inside the folder of case "knee"'),
        (".sitegen/cache", "sitegen's state folder .sitegen/"),
        (".sitegen", "sitegen's state folder .sitegen/"),
    ],
)
def test_an_output_that_is_holds_or_lies_in_the_users_files_is_refused(
    site_dir: Path, out_dir: str, says: str
) -> None:
    config = _write_site(site_dir, out_dir)
    before = _everything(site_dir)
    for _ in range(2):  # the second build once recycled the first one's spare: still nothing
        with pytest.raises(BuildFailed) as info:
            build(load_config(config), workers=1)
        errors = "\n".join(info.value.report.errors)
        assert says in errors and "choose another out_dir" in errors
    assert _everything(site_dir) == before
    assert not list(site_dir.rglob("*.sitegen-spare")) and not list(site_dir.rglob("*-tmp-*"))


def test_the_home_folder_is_never_the_output(site_dir: Path, monkeypatch) -> None:
    config = _write_site(site_dir, "public")
    monkeypatch.setenv("HOME", str(site_dir / "public"))
    (site_dir / "public").mkdir()
    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1)
    assert "your home folder" in "\n".join(info.value.report.errors)


def test_a_folder_of_the_users_own_is_kept_until_taken_over(site_dir: Path) -> None:
    """`out_dir = "docs"` (the GitHub Pages convention) already holding the author's files:
    refused, saying what is there and how many; `--take-over` replaces it after that."""
    config = _write_site(site_dir, "docs")
    docs = site_dir / "docs"
    docs.mkdir()
    (docs / "draft.md").write_text("my draft")
    (docs / "img").mkdir()
    (docs / "img/figure.png").write_bytes(b"png")
    before = _everything(site_dir)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["build", "-c", str(config), "-j", "1"])
        assert result.exit_code == 1
        assert "holds files sitegen did not make (draft.md, img; 3 in all)" in " ".join(
            result.output.split()
        )
        assert "--take-over" in result.output
    assert _everything(site_dir) == before

    result = runner.invoke(main, ["build", "-c", str(config), "-j", "1", "--take-over"])
    assert result.exit_code == 0, result.output
    assert (docs / MARKER).is_file() and not (docs / "draft.md").exists()
    # from now on it is sitegen's: later builds need no flag
    (site_dir / "cases/knee/case.md").write_text(
        '+++\ntitle = "Knee 2"\nsource = "cases/knee/dicom"\n+++\nText.\n', encoding="utf-8"
    )
    result = runner.invoke(main, ["build", "-c", str(config), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "Knee 2" in (docs / "index.html").read_text()


def test_an_empty_folder_and_a_published_tree_are_sitegens(site_dir: Path) -> None:
    config = _write_site(site_dir, "public")
    (site_dir / "public").mkdir()  # empty: nothing to lose
    build(load_config(config), workers=1)
    assert (site_dir / "public" / MARKER).is_file()
    (site_dir / "public/stray.txt").write_text("left by a deploy tool")  # marked tree: ours
    build(load_config(config), workers=1, clean=True)
    assert not (site_dir / "public/stray.txt").exists()
    # the user's files beside the output are never touched
    assert (site_dir / "cases/knee/notes.txt").read_text() == "my own notes"


def test_a_file_named_as_the_output_is_refused(site_dir: Path) -> None:
    config = _write_site(site_dir, "public")
    (site_dir / "public").write_text("not a folder")
    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1)
    assert "is not a folder sitegen made" in "\n".join(info.value.report.errors)
    assert (site_dir / "public").read_text() == "not a folder"


def test_an_output_elsewhere_has_nothing_of_the_builds_beside_it(site_dir: Path) -> None:
    """`--out parent/site`: the folder a user uploads (parent/) holds only the site; the
    temporary tree, the spare and the lock live in the site's .sitegen/publish."""
    config = _write_site(site_dir, "public")
    parent = site_dir.parent / "upload"
    for _ in range(2):  # the second build recycles the first one's spare
        report = build(load_config(config), out_dir=parent / "site", workers=1)
        assert report.published, report.errors
        assert sorted(p.name for p in parent.iterdir()) == ["site"]
    assert (site_dir / ".sitegen/publish").stat().st_mode & 0o777 == 0o700
    state = sorted(p.name for p in (site_dir / ".sitegen/publish").iterdir())
    assert any(n.endswith(".sitegen-spare") for n in state), state
    assert any(n.endswith(".sitegen-lock") for n in state), state
    assert (parent / "site/index.html").is_file()
    assert not list(site_dir.glob(".public.sitegen-*"))  # not beside the default output
