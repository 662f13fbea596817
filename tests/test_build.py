"""Whole builds: the tree, bad inputs, the report, and atomic publish."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_site
from dicomgen import write_ct_series

from sitegen.build import BuildFailed, build
from sitegen.cli import main
from sitegen.config import ConfigError, load_config

KEY = b"sitegen-test-key-0123456789abcde"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def make_site(site_dir: Path, n: int = 4, frames: str = "raw") -> Path:
    write_ct_series(site_dir / "cases/ct/dicom", n)
    (site_dir / ".sitegen").mkdir(parents=True, exist_ok=True)
    (site_dir / ".sitegen/key").write_bytes(KEY)
    return write_site(
        site_dir,
        f'[build]\nframes = "{frames}"\nworkers = 1\n\n'
        '[[cases]]\nslug = "ct-case"\ntitle = "A CT case"\nsource = "cases/ct/dicom"\n',
    )


def test_build_writes_the_dicomweb_tree(site_dir: Path) -> None:
    config = make_site(site_dir)
    report = build(load_config(config))
    out = site_dir / "public"
    assert report.published and report.instances == 4 and report.frames == 4
    studies = json.loads((out / "dicomweb/studies/index.json").read_bytes())
    assert (out / "dicomweb/studies/index.html").read_bytes() == (
        out / "dicomweb/studies/index.json"
    ).read_bytes()
    (study,) = studies
    s_uid = study["0020000D"]["Value"][0]
    assert s_uid.startswith("2.25.")
    assert study["00201208"]["Value"] == [4] and study["00080061"]["Value"] == ["CT"]
    (series,) = json.loads((out / f"dicomweb/studies/{s_uid}/series/index.json").read_bytes())
    r_uid = series["0020000E"]["Value"][0]
    meta = json.loads((out / f"dicomweb/studies/{s_uid}/series/{r_uid}/metadata").read_bytes())
    zs = [m["00200032"]["Value"][2] for m in meta]
    # display order along the slice normal, head first; not the (shuffled) InstanceNumber
    assert zs == sorted(zs, reverse=True)
    for m in meta:
        sop = m["00080018"]["Value"][0]
        assert m["7FE00010"] == {"vr": "OW", "BulkDataURI": f"instances/{sop}/frames/1"}
        assert m["00083002"]["Value"] == ["1.2.840.10008.1.2.1"]
        frame = out / f"dicomweb/studies/{s_uid}/series/{r_uid}/instances/{sop}/frames/1"
        assert frame.stat().st_size == 24 * 20 * 2
    assert (out / f"dicomweb/studies/{s_uid}/series/{r_uid}/thumbnail").read_bytes()[:2] == (
        b"\xff\xd8"
    )
    assert not list(site_dir.glob(".public.*tmp*"))


def test_bad_inputs_are_skipped_with_reasons(site_dir: Path) -> None:
    config = make_site(site_dir, 3)
    good = site_dir / "cases/ct/dicom/IM0001"
    (site_dir / "cases/ct/dicom/truncated.dcm").write_bytes(good.read_bytes()[:400])
    (site_dir / "cases/ct/dicom/notes.dcm").write_text("this is text, not DICOM")
    report = build(load_config(config))
    assert report.published and report.instances == 3
    text = "\n".join(report.warnings)
    assert "cases/ct/dicom/truncated.dcm" in text
    assert "cases/ct/dicom/notes.dcm: not DICOM" in text

    with pytest.raises(BuildFailed) as info:
        build(load_config(config), strict=True)
    assert any("--strict" in e and "truncated.dcm" in e for e in info.value.report.errors)


def test_empty_source_is_an_error_naming_the_case(site_dir: Path) -> None:
    (site_dir / "empty").mkdir(parents=True)
    config = write_site(site_dir, '[[cases]]\nslug = "void"\ntitle = "Nothing"\nsource = "empty"\n')
    result = CliRunner().invoke(main, ["build", "--config", str(config)])
    assert result.exit_code == 1
    assert 'case "void"' in result.output and "no DICOM images" in result.output
    assert not (site_dir / "public").exists()


def test_zip_with_traversal_entry(site_dir: Path) -> None:
    files = write_ct_series(site_dir / "tmp", 2)
    site_dir.mkdir(exist_ok=True)
    with zipfile.ZipFile(site_dir / "case.zip", "w") as zf:
        for f in files:
            zf.write(f, f.name)
        zf.writestr("../escape.dcm", files[0].read_bytes())
    config = write_site(
        site_dir,
        '[build]\nframes = "raw"\n[[cases]]\nslug = "z"\ntitle = "Zip"\nsource = "case.zip"\n',
    )
    report = build(load_config(config), workers=1)
    assert report.instances == 2
    assert any("case.zip!../escape.dcm" in w and "traversal" in w for w in report.warnings)
    assert not (site_dir.parent / "escape.dcm").exists()


def test_failed_build_leaves_previous_output_untouched(
    site_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(site_dir)
    build(load_config(config))
    before = tree(site_dir / "public")

    import sitegen.pipeline.tree as tree_phase

    def explode(*args: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(tree_phase, "write_dicomweb", explode)
    write_ct_series(site_dir / "cases/ct/dicom", 6)  # the inputs changed too
    with pytest.raises(OSError, match="disk full"):
        build(load_config(config))
    assert tree(site_dir / "public") == before
    assert [p.name for p in site_dir.iterdir() if "sitegen-tmp" in p.name] == []


def _slow_build(config: Path) -> subprocess.Popen[bytes]:
    """`sitegen build` of the site plus the 120-slice phantom, in a session of its own."""
    config.write_text(
        config.read_text()
        + '\n[[cases]]\nslug = "big"\ntitle = "Big"\nsource = "sample:chest-ct"\n'
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sitegen", "build", "--config", str(config), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_killed_build_leaves_previous_output_and_is_cleaned_up(site_dir: Path) -> None:
    config = make_site(site_dir, 2)
    build(load_config(config))
    before = tree(site_dir / "public")
    proc = _slow_build(config)  # killed while its workers run
    deadline = time.time() + 60
    while time.time() < deadline and not any(
        "sitegen-tmp" in p.name and (p / "dicomweb").exists() for p in site_dir.iterdir()
    ):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree(site_dir / "public") == before
    assert any("sitegen-tmp" in p.name for p in site_dir.iterdir())  # it really was mid-build
    build(load_config(config), workers=2)  # the next build cleans up and publishes
    assert [p.name for p in site_dir.iterdir() if "sitegen-tmp" in p.name] == []
    assert tree(site_dir / "public") != before


def _session(sid: int) -> list[int]:
    """The processes of a session (a build started with start_new_session, its fork
    server, workers and resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id
            found.append(int(stat.parent.name))
    return found


def test_a_build_killed_with_9_leaves_no_process_behind(site_dir: Path) -> None:
    """kill -9 of the build process alone (its pool cannot stop its workers): the workers
    notice and end, and with them the fork server and the resource tracker."""
    proc = _slow_build(make_site(site_dir, 2))
    deadline = time.time() + 60
    while time.time() < deadline and len(_session(proc.pid)) < 4:  # pool started
        time.sleep(0.05)
    assert len(_session(proc.pid)) >= 4
    os.kill(proc.pid, signal.SIGKILL)  # the build process only, not its group
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and _session(proc.pid):
        time.sleep(0.1)
    left = _session(proc.pid)
    for pid in left:  # do not leave them running whatever the outcome
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == []


def _interpreter_start() -> float:
    """Seconds a bare interpreter takes to start here (site packages, .pth files): a Ctrl-C
    before that ends Python itself, before any of sitegen can run, with Python's own fatal
    error and traceback (a slow machine's .pth hook is interrupted)."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return sorted(times)[1]


def test_ctrl_c_at_any_moment_prints_no_traceback(site_dir: Path) -> None:
    """At 0.05 s into sitegen's own start (its imports), in the middle of the build and late
    in it, each measured from when a bare interpreter has started."""
    config = make_site(site_dir, 2)
    start = _interpreter_start()
    for delay in (start + 0.05, start + 0.3, start + 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "sitegen", "build", "--config", str(config), "--clean"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        # 130: sitegen's own "interrupted"; -2: ended by SIGINT while Python was still
        # starting, before any of sitegen ran (quietly, as Python does)
        assert proc.returncode in (0, 130, -2), (delay, proc.returncode, err)


def test_cli_report_and_json(site_dir: Path) -> None:
    config = make_site(site_dir)
    result = CliRunner().invoke(main, ["build", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["instances"] == 4 and report["published"] is True
    assert set(report["seconds"]) >= {"read", "pixels", "write", "publish"}
    assert report["bytes_in"] > report["bytes_out"] > 0


def test_version() -> None:
    """The entry point answers --version as click does, without importing the pipeline."""
    from sitegen import __version__

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    script = (
        "import sys; sys.argv = ['sitegen', '--version']; from sitegen._entry import main; "
        "main(); print(sorted(m for m in ('pydicom', 'numpy', 'click') if m in sys.modules))"
    )
    fast = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert fast.stdout == result.output + "[]\n", fast


def test_new_scaffold_builds(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["new", str(tmp_path / "mysite")]).exit_code == 0
    site = load_config(tmp_path / "mysite/site.toml")
    assert [c.slug for c in site.cases] == ["example"]
    assert runner.invoke(main, ["new", str(tmp_path / "mysite")]).exit_code == 2


def test_viewer_manifest(site_dir: Path) -> None:
    config = make_site(site_dir, 3)
    config.write_text(
        config.read_text()
        + '\n[[cases]]\nslug = "mr"\ntitle = "MR"\nsource = "sample:head-mr"\nunknown = true\n'
        'diagnosis = "Demyelination"\ndiscussion = "**bold** <script>x</script>"\n'
    )
    build(load_config(config))
    out = site_dir / "public"
    ct = json.loads((out / "data/cases/ct-case.json").read_bytes())
    (series,) = ct["studies"][0]["series"]
    assert (series["rows"], series["columns"], series["signed"]) == (24, 20, True)
    assert series["rescale"] == [1.0, -1024.0]
    assert [w["name"] for w in series["windows"]][:3] == ["default", "soft tissue", "lung"]
    assert [f["position"][2] for f in series["frames"]] == [100.0, 97.0, 94.0]
    for frame in series["frames"]:  # frames are the DICOMweb tree's files, not copies
        assert (out / frame["url"]).stat().st_size == frame["bytes"]
    assert (out / series["thumbnail"]).is_file()
    mr = json.loads((out / "data/cases/mr.json").read_bytes())
    assert mr["case"]["unknown"] is True
    # a quiz case's manifest holds nothing of its answer: the answer file does
    assert mr["case"]["discussionHtml"] == mr["case"]["diagnosis"] == mr["case"]["title"] == ""
    assert mr["case"]["answer"] == "data/answers/mr.json"
    answer = json.loads((out / "data/answers/mr.json").read_bytes())
    assert answer["diagnosis"] == "Demyelination" and answer["title"] == "MR"
    html = "<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"
    assert answer["discussionHtml"] == html
    (series,) = mr["studies"][0]["series"]
    assert len(series["frames"]) == 32 and series["transferSyntax"] == "1.2.840.10008.1.2.1"
    zs = [f["position"][2] for f in series["frames"]]
    assert len(set(zs)) == 32  # per-frame positions from the functional groups
    assert series["windows"][0] == {"name": "default", "center": 1100.0, "width": 2200.0}


def test_one_study_in_two_cases_gets_a_copy_per_case(site_dir: Path) -> None:
    """A quiz case and its answer case may use one study: each publishes its own keyed copy
    (other UIDs, same images); without de-identification it is an error before any pixel
    work, naming both cases."""
    write_ct_series(site_dir / "a", 2)
    write_ct_series(site_dir / "b", 2)  # the same study again, under another case
    config = write_site(
        site_dir,
        '[build]\nframes = "raw"\n[[cases]]\nslug = "first"\ntitle = "A"\nsource = "a"\n'
        '[[cases]]\nslug = "second"\ntitle = "B"\nsource = "b"\n',
    )
    report = build(load_config(config), workers=1)
    assert report.studies == 2 and report.instances == 4, report.errors
    out = site_dir / "public"
    studies = json.loads((out / "dicomweb/studies/index.json").read_text())
    uids = {s["0020000D"]["Value"][0] for s in studies}
    assert len(uids) == 2
    first, second = (
        json.loads((out / f"data/cases/{slug}.json").read_text()) for slug in ("first", "second")
    )
    assert {first["studies"][0]["uid"], second["studies"][0]["uid"]} == uids

    with pytest.raises(BuildFailed) as info:
        build(load_config(config), workers=1, deid=False, out_dir=site_dir / "plain")
    errors = "\n".join(info.value.report.errors)
    assert 'case "second": uses a study case "first" uses too' in errors
    assert "pixels" not in info.value.report.seconds  # said before any pixel work
    assert not (site_dir / "plain").exists()


def test_a_site_without_url_is_told_and_site_url_fixes_it(site_dir: Path) -> None:
    config = make_site(site_dir, 1)
    runner = CliRunner()
    result = runner.invoke(main, ["build", "-c", str(config), "-j", "1"])
    assert result.exit_code == 0 and "[site] url is not set" in " ".join(result.output.split())
    page = (site_dir / "public/cases").glob("*/index.html")
    assert all("works on\n    pages of this site only" in p.read_text() for p in page)
    args = ["build", "-c", str(config), "-j", "1", "--site-url", "https://u.github.io/repo"]
    result = runner.invoke(main, [*args, "--base-url", "/repo/"])
    assert result.exit_code == 0 and "[site] url is not set" not in result.output
    (page,) = (site_dir / "public/cases").glob("*/index.html")
    text = page.read_text()
    assert "https://u.github.io/repo/viewer/?case=" in text
    assert "pages of this site only" not in text
    bad = runner.invoke(main, ["build", "-c", str(config), "--site-url", "https://a b/"])
    assert bad.exit_code == 2 and "--site-url" in bad.output


def _count_encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per frame encoded in this process (a build with workers=1)."""
    from sitegen import codestreams

    encoded: list[int] = []
    real_encode = codestreams.encode_frame
    monkeypatch.setattr(
        codestreams, "encode_frame", lambda *a, **k: encoded.append(1) or real_encode(*a, **k)
    )
    return encoded


@pytest.mark.parametrize("settled", [True, False])
def test_stack_every_nth_slice(
    site_dir: Path, settled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stack = { every = 3 }` publishes slices 1, 4, 7 of a 9-slice series in display
    order, flagged DERIVED with a DerivationDescription; the others leave no file. With
    the order known from the headers, the slices left out are never encoded; when one
    header does not settle it (a position of two values), the same slices are published,
    chosen after the workers."""
    import pydicom

    paths = write_ct_series(site_dir / "ct", 9)
    if not settled:
        ds = pydicom.dcmread(paths[4])
        ds.ImagePositionPatient = list(ds.ImagePositionPatient)[:2]
        ds.save_as(paths[4])
    encoded = _count_encodes(monkeypatch)
    config = write_site(
        site_dir,
        '[build]\nframes = "raw"\n[[cases]]\nslug = "c"\ntitle = "C"\nsource = "ct"\n'
        "stack = { every = 3 }\n",
    )
    report = build(load_config(config), workers=1)
    assert report.instances == 3, report.errors
    assert len(encoded) == (3 if settled else 9)
    out = site_dir / "public"
    (metadata,) = out.glob("dicomweb/studies/*/series/*/metadata")
    rows = json.loads(metadata.read_text())
    z = sorted(r["00200032"]["Value"][2] for r in rows if len(r["00200032"]["Value"]) == 3)
    if settled:
        assert z == [82.0, 91.0, 100.0]  # slices 1, 4 and 7 (3 mm apart, head first)
    # the same slices as when they are chosen after the workers, from what they published
    import sitegen.pipeline.read as read_phase

    unplanned = lambda site, jobs, memo, warnings=None: (jobs, set(), 0)  # noqa: E731
    monkeypatch.setattr(read_phase, "plan_stacks", unplanned)
    after = site_dir / "after"
    assert build(load_config(config), out_dir=after, workers=1).instances == 3
    (late,) = after.glob("dicomweb/studies/*/series/*/metadata")
    assert json.loads(late.read_text()) == rows
    assert all(r["00080008"]["Value"][0] == "DERIVED" for r in rows)
    assert all("every 3rd slice" in r["00082111"]["Value"][0] for r in rows)
    assert len(list(out.glob("dicomweb/studies/*/series/*/instances/*/frames/1"))) == 3
    assert len(list(out.glob("dicom/**/*.dcm"))) == 3
    assert [d for d in out.rglob("*") if d.is_dir() and not any(d.iterdir())] == []
    manifest = json.loads((out / "data/cases/c.json").read_text())
    assert len(manifest["studies"][0]["series"][0]["frames"]) == 3

    if not settled:
        return
    config.write_text(config.read_text().replace("every = 3", "every = 0"))
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert "stack.every" in str(info.value.problems)
    for bad, key in (("every = 2, slab = 2", "stack"), ("slab = 0", "stack.slab")):
        config.write_text(config.read_text().replace("every = 0", bad))
        with pytest.raises(ConfigError) as info:
            load_config(config)
        assert key in {p.key.split("].", 1)[-1] for p in info.value.problems}, info.value.problems
        config.write_text(config.read_text().replace(bad, "every = 0"))


def test_stack_slabs_average_each_n_slices(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`stack = { slab = 3 }`: a 9-slice series becomes 3 slabs, each the mean of 3
    consecutive slices in display order (in modality values, stored with the first's
    rescale), placed at their centre, 3x as thick, flagged DERIVED in the metadata and the
    Part 10 file; the other slices are never encoded."""
    import numpy as np
    import pydicom

    paths = write_ct_series(site_dir / "ct", 9)
    inputs = sorted(
        (pydicom.dcmread(p) for p in paths), key=lambda d: -float(d.ImagePositionPatient[2])
    )
    encoded = _count_encodes(monkeypatch)
    config = write_site(
        site_dir,
        '[[cases]]\nslug = "c"\ntitle = "C"\nsource = "ct"\nstack = { slab = 3 }\n',
    )
    report = build(load_config(config), workers=1)
    assert report.instances == 3 and len(encoded) == 3, report.warnings
    published = sorted(
        (pydicom.dcmread(p) for p in (site_dir / "public").glob("dicom/**/*.dcm")),
        key=lambda d: -float(d.ImagePositionPatient[2]),
    )
    for k, ds in enumerate(published):
        group = inputs[3 * k : 3 * k + 3]
        hu = np.mean([g.pixel_array * float(g.RescaleSlope) + float(g.RescaleIntercept)
                      for g in group], axis=0)  # fmt: skip
        expected = np.rint((hu - float(group[0].RescaleIntercept)) / float(group[0].RescaleSlope))
        assert np.array_equal(ds.pixel_array, expected.astype(ds.pixel_array.dtype))
        centre = np.mean([float(g.ImagePositionPatient[2]) for g in group])
        assert float(ds.ImagePositionPatient[2]) == pytest.approx(centre)
        assert float(ds.SliceThickness) == pytest.approx(3 * 3.0)
        assert ds.ImageType[0] == "DERIVED" and "mean of 3" in ds.DerivationDescription
    (metadata,) = (site_dir / "public").glob("dicomweb/studies/*/series/*/metadata")
    rows = json.loads(metadata.read_text())
    assert all("mean of 3 consecutive" in r["00082111"]["Value"][0] for r in rows)


def test_a_slab_with_a_slice_marked_burned_in_is_not_averaged(site_dir: Path) -> None:
    """One slice of a slab says BurnedInAnnotation YES: it is refused as always, and its
    pixels do not reach the published slab (the text check reads the lead's frame only):
    that slab is published as its first slice alone, with a warning; the others average."""
    import numpy as np
    import pydicom

    paths = write_ct_series(site_dir / "ct", 9)
    inputs = sorted(
        (pydicom.dcmread(p) for p in paths), key=lambda d: -float(d.ImagePositionPatient[2])
    )
    marked = inputs[4]  # the middle slice of the second slab
    marked.BurnedInAnnotation = "YES"
    marked.save_as(marked.filename)
    config = write_site(
        site_dir,
        '[[cases]]\nslug = "c"\ntitle = "C"\nsource = "ct"\nstack = { slab = 3 }\n',
    )
    report = build(load_config(config), workers=1)
    assert report.instances == 3, report.errors
    assert any("refused: BurnedInAnnotation is YES" in w for w in report.warnings)
    (warning,) = [w for w in report.warnings if "not averaged with its slab" in w]
    assert "BurnedInAnnotation is YES" in warning
    published = sorted(
        (pydicom.dcmread(p) for p in (site_dir / "public").glob("dicom/**/*.dcm")),
        key=lambda d: -float(d.ImagePositionPatient[2]),
    )
    assert np.array_equal(published[1].pixel_array, inputs[3].pixel_array)  # the lead alone
    assert "DerivationDescription" not in published[1]
    assert [("mean of 3" in d.get("DerivationDescription", "")) for d in published] == [
        True,
        False,
        True,
    ]


def test_output_to_a_log_keeps_each_line_whole(site_dir: Path) -> None:
    """Not on a terminal (CI, a pipe), the report's lines are not wrapped at 80 columns."""
    config = make_site(site_dir, 2)
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--config", str(config), "-j", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("built ")]
    assert len(line) > 80 and line.rstrip().endswith("removed"), done.stderr
