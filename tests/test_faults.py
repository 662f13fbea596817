"""Failures: the machine's (disk full) fail the build; an input's or a series' stay theirs;
an unexpected one is one clear line."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_site
from dicomgen import write_ct_series

from sitegen import cli, codestreams, transcode
from sitegen.build import BuildFailed, build
from sitegen.config import load_config


def _site(site_dir: Path, n: int = 4) -> Path:
    write_ct_series(site_dir / "dicom", n)
    return write_site(site_dir, '[[cases]]\nslug = "x"\ntitle = "X"\nsource = "dicom"\n')


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_full_disk_fails_the_build_and_publishes_nothing(site_dir: Path, monkeypatch) -> None:
    """ENOSPC while writing the third input's frame is not that input's fault: skipping it
    would publish a site with holes and exit 0."""
    config = _site(site_dir)
    build(load_config(config), workers=1)
    before = _tree(site_dir / "public")
    (site_dir / "dicom/IM0001").touch()  # something to do again
    real = transcode._write
    calls = []

    def full(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(transcode, "_write", full)
    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1, clean=True)
    errors = "\n".join(info.value.report.errors)
    assert "dicom/IM000" in errors and "No space left on device" in errors
    assert not any("No space" in w for w in info.value.report.warnings)
    assert _tree(site_dir / "public") == before


def test_a_thumbnail_that_cannot_be_drawn_costs_only_that_thumbnail(
    site_dir: Path, monkeypatch
) -> None:
    config = _site(site_dir)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("buffer is smaller than requested size")

    monkeypatch.setattr(codestreams, "decode_frame", broken)
    report = build(load_config(config), workers=1)
    assert report.published
    said = [w for w in report.warnings if "thumbnail" in w]
    assert len(said) == 1 and said[0].startswith("dicom/IM000"), report.warnings
    assert "buffer is smaller than requested size" in said[0]
    assert any("key image could not be drawn" in w for w in report.warnings)
    assert (site_dir / "public/cases/x/card.png").is_file()  # a card without the image


def test_an_unexpected_error_is_one_line_naming_what_it_was_about(
    site_dir: Path, monkeypatch, capsys
) -> None:
    config = _site(site_dir, 1)

    def explode(*args: object, **kwargs: object) -> None:
        exc = KeyError("[red]0020000D[/red]")
        exc.add_note('case "x"')
        raise exc

    monkeypatch.setattr(cli, "build", explode)
    # and a failure inside a real stage names the stage
    from sitegen import build as build_module
    from sitegen.pipeline import pages as pages_phase

    def broken_pages(*args: object, **kwargs: object) -> list[str]:
        raise KeyError("x")

    monkeypatch.setattr(pages_phase, "write_pages", broken_pages)
    with pytest.raises(KeyError) as stage:
        build_module.build(load_config(config), workers=1)
    assert stage.value.__notes__ == ["in the pages stage"]
    monkeypatch.setattr(sys, "argv", ["sitegen", "build", "-c", str(config)])
    with pytest.raises(SystemExit) as info:
        cli.run()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "Error" in line]
    assert lines and "unexpected KeyError" in lines[0] and 'case "x"' in " ".join(err.split())
    assert "[red]0020000D[/red]" in " ".join(err.split())  # shown as it is, not as markup
    monkeypatch.setattr(sys, "argv", ["sitegen", "--debug", "build", "-c", str(config)])
    with pytest.raises(KeyError):
        cli.run()


def test_quiet_prints_no_more_warnings_than_the_default(site_dir: Path) -> None:
    write_ct_series(site_dir / "dicom", 2)
    for n in range(30):
        (site_dir / f"dicom/junk{n:02d}.txt").write_text("not dicom")
    config = write_site(site_dir, '[[cases]]\nslug = "x"\ntitle = "X"\nsource = "dicom"\n')
    runner = CliRunner()
    default = runner.invoke(cli.main, ["build", "-c", str(config), "-j", "1"])
    quiet = runner.invoke(cli.main, ["build", "-c", str(config), "-j", "1", "--clean", "-q"])
    assert default.exit_code == 0 and quiet.exit_code == 0
    count = [r.output.count("not DICOM") for r in (default, quiet)]
    assert count[1] <= count[0] == 20


@pytest.mark.parametrize(
    "base_url", ["/x\nSet-Cookie: a=b", "/a b/", '/"onload="x', "/../up/"], ids=repr
)
def test_a_base_url_that_could_inject_host_file_lines_is_refused(
    site_dir: Path, base_url: str
) -> None:
    config = _site(site_dir, 1)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["build", "-c", str(config), "--base-url", base_url])
    assert result.exit_code == 2 and "--base-url" in result.output
    setting = f"\nbase_url = {json.dumps(base_url)}"  # a TOML basic string: \n is a newline
    config.write_text(config.read_text().replace('title = "Test site"', "title = 'T'" + setting))
    result = runner.invoke(cli.main, ["build", "-c", str(config)])
    assert result.exit_code == 2 and "site.base_url" in result.output
    assert not (site_dir / "public").exists()


def test_pydicom_warnings_never_print_a_value(site_dir: Path) -> None:
    """pydicom warns about invalid values by quoting them; those are the patient's data, so
    the command prints none of them (sitegen's own messages say what it did)."""
    import subprocess

    import pydicom
    from dicomgen import segmentation_of

    paths = write_ct_series(site_dir / "dicom", 2)
    ds = pydicom.dcmread(paths[0])
    ds.BodyPartExamined = "Quillfeather Rosalind"  # invalid CS: pydicom warns, quoting it
    ds.save_as(paths[0], enforce_file_format=True)
    seg = segmentation_of(ds, label="Quillfeather Rosalind")  # a CS ContentLabel too
    seg.save_as(site_dir / "dicom/SEG", enforce_file_format=True)
    config = write_site(site_dir, '[[cases]]\nslug = "x"\ntitle = "X"\nsource = "dicom"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "-c", str(config), "-j", "2"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Quillfeather" not in proc.stderr + proc.stdout
    assert "UserWarning" not in proc.stderr
