"""Host files (_headers & co), `sitegen check --host` and the `sitegen new` scaffold."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_pages import build_site

from sitegen import hostcheck
from sitegen.cli import main
from sitegen.config import Site
from sitegen.hosts import CSP, MAX_RULES, frame_type_rules, parse_headers
from sitegen.model import Instance, Series, Study

HTJ2K = "1.2.840.10008.1.2.4.201"
JPEGLS = "1.2.840.10008.1.2.4.80"
RAW = "1.2.840.10008.1.2.1"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path]:
    return build_site(
        tmp_path_factory.mktemp("hosts") / "site", "/teaching/", "https://cases.example.org/"
    )


def study(uid: str, *series: list[str]) -> Study:
    """A study whose series hold one instance per transfer syntax given."""
    out = Study(uid, "case")
    for n, syntaxes in enumerate(series, start=1):
        s = Series(f"{uid}.{n}", uid)
        for m, ts in enumerate(syntaxes, start=1):
            s.instances.append(Instance(uid, s.uid, f"{s.uid}.{m}", "case", "x", {}, [10], ts))
        out.series.append(s)
    return out


def test_headers_of_an_htj2k_site_under_a_base_url(built: tuple[Site, Path]) -> None:
    _, out = built
    rules = parse_headers((out / "_headers").read_text(encoding="utf-8"))
    assert len(rules) <= MAX_RULES
    assert all(pattern.startswith("/teaching/") for pattern, _ in rules)
    by_pattern = dict(rules)
    # the CSP is on documents and scripts, never site-wide (OHIF under ohif/* needs its own)
    assert "Content-Security-Policy" not in by_pattern["/teaching/*"]
    for pattern in ("/teaching/", "/teaching/cases/*", "/teaching/viewer/*", "/teaching/404.html"):
        assert by_pattern[pattern]["Content-Security-Policy"] == CSP
    assert by_pattern["/teaching/*"]["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in by_pattern["/teaching/*"]
    frames = by_pattern[
        "/teaching/dicomweb/studies/:study/series/:series/instances/:instance/frames/*"
    ]
    assert frames == {
        "Content-Type": f"application/octet-stream; transfer-syntax={HTJ2K}",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    metadata = by_pattern["/teaching/dicomweb/studies/:study/series/:series/metadata"]
    assert metadata["Content-Type"] == "application/dicom+json"
    for data in ("dicomweb/*", "data/*", "dicom/*"):
        assert by_pattern[f"/teaching/{data}"]["Access-Control-Allow-Origin"] == "*"
    # the viewer may be framed anywhere (embeds); pages only by the site itself
    framed = [p for p, h in rules if "X-Frame-Options" in h]
    assert framed and not any("viewer" in p or p == "/teaching/*" for p in framed)
    # no header is named by two rules that can match one path (hosts would join the values)
    assert sum("Content-Type" in h for p, h in rules if "frames" in p or "instances" in p) == 1


def test_other_host_files(built: tuple[Site, Path]) -> None:
    _, out = built
    assert (out / ".nojekyll").read_bytes() == b""
    assert (out / "CORS").read_text() == "*\n"
    assert (out / "404.html").is_file()
    assert (out / "_redirects").is_file()
    robots = (out / "robots.txt").read_text()
    assert "Sitemap: https://cases.example.org/teaching/sitemap.xml" in robots
    assert "Disallow: /teaching/dicomweb/" in robots
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://cases.example.org/teaching/cases/brain-mr/</loc>" in sitemap
    assert "<loc>https://cases.example.org/teaching/</loc>" in sitemap


def test_fewest_frame_rules() -> None:
    base = "/b/"
    one = [study("1.1", [HTJ2K], [HTJ2K]), study("1.2", [HTJ2K])]
    rules, warnings = frame_type_rules(one, base, 10)
    assert [p for p, _ in rules] == [
        "/b/dicomweb/studies/:study/series/:series/instances/:instance/frames/*"
    ]
    assert not warnings

    per_study = [study("1.1", [HTJ2K], [HTJ2K]), study("1.2", [RAW])]
    rules, warnings = frame_type_rules(per_study, base, 10)
    assert dict(rules) == {
        "/b/dicomweb/studies/1.1/series/:series/instances/*": {
            "Content-Type": f"application/octet-stream; transfer-syntax={HTJ2K}"
        },
        "/b/dicomweb/studies/1.2/series/:series/instances/*": {
            "Content-Type": f"application/octet-stream; transfer-syntax={RAW}"
        },
    }

    per_series = [study("1.1", [HTJ2K], [JPEGLS], [HTJ2K, RAW])]
    rules, warnings = frame_type_rules(per_series, base, 10)
    assert [p for p, _ in rules] == [
        "/b/dicomweb/studies/1.1/series/1.1.1/instances/*",
        "/b/dicomweb/studies/1.1/series/1.1.2/instances/*",
    ]
    assert len(warnings) == 1 and "1.1.3" in warnings[0]  # mixed within one series


def test_frame_rules_beyond_the_budget_fall_back_with_a_warning() -> None:
    studies = [study(f"1.{n}", [HTJ2K], [RAW]) for n in range(1, 80)]
    rules, warnings = frame_type_rules(studies, "/", 50)
    assert len(rules) == 50
    assert len(warnings) == 1 and "108 of 158" in warnings[0]


def test_check_host_passes_a_normal_site(built: tuple[Site, Path]) -> None:
    _, out = built
    for host in ("netlify", "cloudflare", "s3"):
        result = CliRunner().invoke(main, ["check", "--host", host, str(out)])
        assert result.exit_code == 0, result.output
        assert "fits" in result.output
        assert "files" in result.output and "largest file" in result.output
    result = CliRunner().invoke(main, ["check", "--host", "github-pages", str(out)])
    assert result.exit_code == 0
    assert "OHIF" in result.output  # frames need headers GitHub Pages cannot set


def test_check_host_says_which_route_ohif_has_on_a_host_without_headers(
    built: tuple[Site, Path], tmp_path: Path
) -> None:
    """HTJ2K frames on GitHub Pages: with the Part 10 files OHIF goes over DICOM JSON from its
    study list and the case links; without them it has no route, and the note says what fixes
    it; a site without OHIF is told only about DICOMweb clients."""
    public = tmp_path / "public"
    shutil.copytree(built[1], public)
    shutil.rmtree(public / "ohif", ignore_errors=True)
    shutil.rmtree(public / "dicomjson", ignore_errors=True)

    def note() -> str:
        (text,) = [n for n in hostcheck.audit(public, "github-pages").notes if "CORS" in n]
        return text

    assert "OHIF opens" not in note() and "flat grey squares" in note()
    (public / "ohif").mkdir()
    assert "no Part 10 files" in note() and "downloads = true" in note()
    (public / "dicomjson").mkdir()
    assert "OHIF opens studies here over its DICOM JSON source" in note()
    assert "study list" in note() and "no Part 10 files" not in note()


def test_check_host_flags_an_over_limit_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "public"
    (public / "many").mkdir(parents=True)
    for n in range(30):
        (public / "many" / f"f{n}").write_bytes(b"x")
    with open(public / "big.zip", "wb") as fh:  # sparse: 26 MiB without writing them
        fh.truncate(26 * 1024 * 1024)
    result = CliRunner().invoke(main, ["check", "--host", "cloudflare", str(public)])
    assert result.exit_code == 1
    assert "big.zip" in result.output and "exceeds" in result.output

    surge = hostcheck.HOSTS["surge"]
    monkeypatch.setitem(hostcheck.HOSTS, "surge", hostcheck.Host("surge", "Surge", max_files=20))
    result = CliRunner().invoke(main, ["check", "--host", "surge", str(public)])
    assert result.exit_code == 1 and "files: 31 exceeds" in result.output
    assert surge.max_files == 4_500

    report = hostcheck.audit(
        public, "netlify", hostcheck.scan_tree(public)
    )  # 30 of 54,000 per folder is fine
    assert not report.errors
    monkeypatch.setitem(
        hostcheck.HOSTS, "netlify", hostcheck.Host("netlify", "Netlify", max_files_per_folder=25)
    )
    report = hostcheck.audit(public, "netlify")
    assert report.errors == ["entries in folder many/: 30 exceeds Netlify's limit 25"]


def test_check_host_counts_header_rules(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    rules = "".join(f"/x{n}/*\n  X-A: b\n" for n in range(101))
    (public / "_headers").write_text(rules)
    report = hostcheck.audit(public, "cloudflare")
    assert report.errors == ["_headers rules: 101 exceeds Cloudflare Pages's limit 100"]
    assert not hostcheck.audit(public, "netlify").errors


def test_new_scaffolds_a_pages_workflow(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    target = tmp_path / "mysite"
    result = CliRunner().invoke(main, ["new", str(target)])
    assert result.exit_code == 0, result.output
    text = (target / ".github/workflows/pages.yml").read_text()
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["build"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/configure-pages@") for u in uses)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert workflow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")
    runs = " ".join(s.get("run", "") for s in steps)
    assert 'sitegen build --base-url "${{ steps.pages.outputs.base_path }}/"' in runs
    assert "pip install" in runs
    assert next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))["with"] == {
        "path": "public"
    }
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert "## Deploy" in (target / "README.md").read_text()
    ignored = (target / ".gitignore").read_text().split()
    assert {".sitegen/", "public/", ".public.sitegen-*"} <= set(ignored)


def test_build_base_url_option(tmp_path: Path) -> None:
    from test_pages import make_site

    config = make_site(tmp_path / "site")
    cwd = os.getcwd()
    try:
        os.chdir(config.parent)
        args = ["build", "-q", "-j", "1", "--no-deid", "--base-url", "deep/er"]
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    html = (config.parent / "public/index.html").read_text()
    assert 'href="/deep/er/assets/site.css"' in html
    assert 'href="/deep/er/cases/chest-trauma/"' in html
    assert (config.parent / "public/_headers").read_text().splitlines()[2] == "/deep/er/*"


def test_the_default_site_fits_every_host(tmp_path: Path) -> None:
    """The embedded default site (the 120-slice phantom: a 28 MB case zip) passes
    `sitegen check --host` for all five hosts: its zip is split into parts under Cloudflare's
    25 MiB per file, each a whole zip, linked from the case page."""
    import shutil
    import zipfile

    root = Path(__file__).parent.parent
    shutil.copy(root / "site.toml", tmp_path / "site.toml")
    runner = CliRunner()
    result = runner.invoke(main, ["build", "-c", str(tmp_path / "site.toml"), "-q"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "public"
    parts = sorted((out / "downloads").glob("lung-nodule-*.zip"))
    assert len(parts) == 2 and not (out / "downloads/lung-nodule.zip").exists()
    names = []
    for part in parts:
        assert part.stat().st_size <= 20 * 1024 * 1024
        with zipfile.ZipFile(part) as zf:
            assert zf.testzip() is None
            names += zf.namelist()
    assert len(names) == len(set(names)) == 120
    assert names == sorted(names)
    page = (out / "cases/lung-nodule/index.html").read_text()
    assert "part 1 of 2" in page and "part 2 of 2" in page
    for host in hostcheck.HOSTS:
        result = runner.invoke(main, ["check", "--host", host, str(out)])
        assert result.exit_code == 0, (host, result.output)


def test_an_over_budget_site_is_told_the_setting_that_fits(tmp_path: Path) -> None:
    public = tmp_path / "public"
    for folder, n in (("dicom", 30), ("dicomweb", 10), ("downloads", 1)):
        (public / folder).mkdir(parents=True)
        for i in range(n):
            (public / folder / f"f{i}").write_bytes(b"x" * 1000)
    small = hostcheck.Host("tiny", "Tiny", max_files=20, max_total_bytes=35_000)
    report = hostcheck.audit(public, "surge", hostcheck.scan_tree(public))
    assert not report.errors
    fixes = hostcheck.fixes(hostcheck.scan_tree(public), small)
    assert fixes[0].startswith("[build] downloads = false leaves out")
    assert "31 files" in fixes[0] and "(the site: 10 files" in fixes[0]
    assert any('zips = "browser"' in f for f in fixes)
    assert any("lossy" in f and "psnr" in f for f in fixes)
    assert any("stack = { slab = 4 }" in f for f in fixes)
