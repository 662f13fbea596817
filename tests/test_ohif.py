"""sitegen.ohif and the DICOM JSON writer without a browser: data source choice, links, host
rules, app-config.js, the manifests, and the install of the real OHIF build."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import write_site

from sitegen import ohif
from sitegen.config import ConfigError, load_config
from sitegen.model import Instance, Study, group
from sitegen.vendor import VendorError
from sitegen.writers.dicomjson import naturalize, study_manifest, write_dicomjson

S, R = "1.2.3", "1.2.3.4"
HTJ2K = "1.2.840.10008.1.2.4.201"


def instance(sop: str, frames: int = 1, z: float = 0.0) -> Instance:
    meta: dict[str, Any] = {
        "00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
        "00080018": {"vr": "UI", "Value": [sop]},
        "00080060": {"vr": "CS", "Value": ["CT"]},
        "00081030": {"vr": "LO", "Value": ["Chest CT"]},
        "0008103E": {"vr": "LO", "Value": ["Axial"]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "ct"}]},
        "00100020": {"vr": "LO", "Value": ["ct"]},
        "0020000D": {"vr": "UI", "Value": [S]},
        "0020000E": {"vr": "UI", "Value": [R]},
        "00200011": {"vr": "IS", "Value": [1]},
        "00200032": {"vr": "DS", "Value": [0.0, 0.0, z]},
        "00280010": {"vr": "US", "Value": [64]},
        "00280030": {"vr": "DS", "Value": [0.8, 0.8]},
        "00081115": {"vr": "SQ", "Value": [{"0020000E": {"vr": "UI", "Value": ["9.9"]}}]},
        "00091001": {"vr": "LO", "Value": ["private"]},
        "00100030": {"vr": "DA"},
        "7FE00010": {"vr": "OW", "BulkDataURI": "instances/x/frames"},
    }
    return Instance(S, R, sop, "ct", "", meta, [100] * frames, HTJ2K)


def studies() -> list[Study]:
    return group([instance("1.2.3.4.1", z=3.0), instance("1.2.3.4.2", frames=3)])


def site(tmp_path: Path, ohif_table: str = "", build: str = "", base: str = "/teaching/") -> Any:
    (tmp_path / "dicom").mkdir(exist_ok=True)
    body = f"[build]\n{build}\n[ohif]\nenabled = true\n{ohif_table}\n"
    body += '[[cases]]\nslug = "ct"\ntitle = "Chest CT"\nsource = "dicom"\n'
    config = write_site(tmp_path, body)
    config.write_text(config.read_text().replace("[site]\n", f'[site]\nbase_url = "{base}"\n'))
    return load_config(config)


# --- DICOM JSON -----------------------------------------------------------------------------


def test_naturalize_uses_keywords_and_drops_bulk_private_and_empty() -> None:
    meta = naturalize(instance("1.2.3.4.1").metadata)
    assert meta["SOPInstanceUID"] == "1.2.3.4.1"
    assert meta["Rows"] == 64 and meta["PixelSpacing"] == [0.8, 0.8]
    assert meta["PatientName"] == "ct"
    assert meta["ReferencedSeriesSequence"] == [{"SeriesInstanceUID": "9.9"}]
    assert not {"PixelData", "PatientBirthDate"} & set(meta)
    assert all(re.fullmatch(r"[A-Za-z0-9]+", k) for k in meta)


def test_manifest_in_ohif_format_with_one_entry_per_frame() -> None:
    doc = study_manifest(studies()[0], "/teaching/")
    (study,) = doc["studies"]
    assert study["StudyInstanceUID"] == S and study["Modalities"] == "CT"
    assert study["StudyDescription"] == "Chest CT" and study["PatientID"] == "ct"
    assert study["NumInstances"] == 2
    (series,) = study["series"]
    assert series["SeriesInstanceUID"] == R and series["Modality"] == "CT"
    urls = [i["url"] for i in series["instances"]]
    single = f"dicomweb:/teaching/dicom/{S}/{R}/1.2.3.4.1.dcm"
    multi = f"dicomweb:/teaching/dicom/{S}/{R}/1.2.3.4.2.dcm"
    assert urls == [single] + [f"{multi}?frame={n}" for n in (1, 2, 3)]
    frames = [i["metadata"] for i in series["instances"][1:]]
    assert all(m["NumberOfFrames"] == 3 and m["SOPInstanceUID"] == "1.2.3.4.2" for m in frames)
    assert "NumberOfFrames" not in series["instances"][0]["metadata"]


def test_write_dicomjson_writes_one_plain_json_file_per_study(tmp_path: Path) -> None:
    assert write_dicomjson(studies(), tmp_path, "/") == [f"dicomjson/{S}.json"]
    data = json.loads((tmp_path / f"dicomjson/{S}.json").read_bytes())  # plain, not gzip
    assert data["studies"][0]["series"][0]["instances"][0]["url"].startswith("dicomweb:/dicom/")


# --- choices, links, config -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ohif_table", "build", "expected"),
    [
        ("", "", "dicomjson"),  # compressed frames: the route that needs no headers
        ("", 'frames = "raw"', "dicomweb"),
        ("", 'frames = "raw"\nlossy = 80', "dicomjson"),
        ("", "downloads = false", "dicomweb"),  # no Part 10 files to point at
        ('data_source = "dicomweb"', "", "dicomweb"),
        ('data_source = "dicomjson"', 'frames = "raw"', "dicomjson"),
    ],
)
def test_data_source(tmp_path: Path, ohif_table: str, build: str, expected: str) -> None:
    assert ohif.data_source(site(tmp_path, ohif_table, build)) == expected


def test_study_links_open_index_html_with_the_route(tmp_path: Path) -> None:
    dicomjson = ohif.ohif_study_url(site(tmp_path), S)
    assert dicomjson == (
        "ohif/?route=viewer%2Fdicomjson%3Furl%3D%2Fteaching%2Fdicomjson%2F1.2.3.json"
    )
    dicomweb = ohif.ohif_study_url(site(tmp_path, 'data_source = "dicomweb"'), S)
    assert dicomweb == "ohif/?route=viewer%2Fdicomweb%3FStudyInstanceUIDs%3D1.2.3"


def test_config_checks_the_ohif_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        site(tmp_path, 'version = "3.0.0"\nkeep = ["ort", "onnx"]\nuser_config = "no.js"')
    messages = "\n".join(str(p) for p in err.value.problems)
    assert "ohif.version" in messages and '"onnx"' in messages and "no.js" in messages
    oidc = 'oidc = { authority = "https://id.example.org/realms/t", client_id = "sitegen" }'
    assert site(tmp_path, oidc).ohif.oidc["client_id"] == "sitegen"


def test_app_config_keeps_sitegen_keys_last(tmp_path: Path) -> None:
    oidc = 'oidc = { authority = "https://id.example.org/realms/t", client_id = "sitegen" }'
    text = ohif.app_config(site(tmp_path, oidc), "window.config.dataSources = [];")
    assert text.index("window.config = {") < text.index("dataSources = [];")
    assert text.index("dataSources = [];") < text.index("Object.assign(window.config")
    system = json.loads(text[text.index("Object.assign(window.config, ") + 29 : -3])
    assert system["routerBasename"] == "/teaching/ohif"
    assert system["defaultDataSourceName"] == "dicomweb"
    assert system["oidc"] == [
        {"authority": "https://id.example.org/realms/t", "client_id": "sitegen"}
    ]
    web, jsn = system["dataSources"]
    assert jsn["sourceName"] == "dicomjson"
    c = web["configuration"]
    assert c["qidoRoot"] == c["wadoRoot"] == c["wadoUriRoot"] == "/teaching/dicomweb"
    assert c["staticWado"] and c["enableStudyLazyLoad"]
    assert not c["supportsFuzzyMatching"] and not c["supportsWildcard"]


# --- host rules -----------------------------------------------------------------------------


def rewrite(rules: list[str], path: str) -> str | None:
    """Netlify/Cloudflare `_redirects` semantics for these rules: an existing file is served
    as is (not modelled here); else the first rule whose path or `/*` splat matches."""
    for line in rules:
        source, target, status = line.split()
        assert status == "200"
        if path == source or (source.endswith("/*") and path.startswith(source[:-1])):
            return target
    return None


def test_spa_fallback_covers_ohif_routes_and_nothing_else() -> None:
    rules = ohif.ohif_redirects("/teaching/")
    index = "/teaching/ohif/index.html"
    for route in ("viewer", "viewer/dicomjson", "viewer/dicomweb", "segmentation", "callback"):
        assert rewrite(rules, f"/teaching/ohif/{route}") == index, route
    for missing in (
        "/teaching/dicomweb/studies/1.2/series/3.4/metadata",
        "/teaching/dicomjson/1.2.json",
        "/teaching/dicom/1/2/3.dcm",
        "/teaching/ohif/9999.bundle.0123456789abcdef.js",  # a missing chunk stays a 404 too
        "/teaching/ohif/assets/missing.png",
        "/teaching/ohif/viewerx",
        "/teaching/missing",
    ):
        assert rewrite(rules, missing) is None, missing
    assert all(len(line.split()) == 3 for line in rules)
    assert ohif.ohif_redirects("/")[0] == "/ohif/viewer /ohif/index.html 200"


def test_headers_and_404_script() -> None:
    ((pattern, headers),) = ohif.ohif_headers("/teaching/")
    assert pattern == "/teaching/ohif/*"
    csp = headers["Content-Security-Policy"]
    assert (
        "'unsafe-eval'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    ((_, headers),) = ohif.ohif_headers("/", {"authority": "https://id.example.org/realms/t"})
    assert "connect-src 'self' https://id.example.org" in headers["Content-Security-Policy"]
    assert "frame-src 'self' https://id.example.org" in headers["Content-Security-Policy"]
    assert ohif.ohif_404_script("/t/") == '<script src="/t/ohif/sitegen-404.js"></script>'


# --- the real build -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist() -> Path:
    try:
        return ohif.vendor.fetch(ohif.PACKAGES["3.13.2"]) / "dist"
    except VendorError as exc:  # pragma: no cover - no network and nothing cached
        pytest.skip(f"the OHIF build could not be fetched: {exc}")


def test_copy_build_leaves_out_what_is_not_kept(tmp_path: Path) -> None:
    fake = tmp_path / "dist"
    for name in ("index.html", "sw.js", "_redirects", "ort/a.wasm", "dicom-microscopy-viewer/b.js"):
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text("x" * 10)
    total, copied = ohif.copy_build(fake, tmp_path / "a")
    assert (total, copied) == (50, 10)
    assert sorted(p.name for p in (tmp_path / "a").rglob("*")) == ["index.html"]
    ohif.copy_build(fake, tmp_path / "b", keep=("ort", "microscopy"))
    assert (tmp_path / "b/ort/a.wasm").is_file()
    assert (tmp_path / "b/dicom-microscopy-viewer/b.js").is_file()


def test_install_rewrites_the_public_path(tmp_path: Path, dist: Path) -> None:
    (tmp_path / "ohif.js").write_text("window.config.showStudyList = false;\n")
    s = site(tmp_path, 'user_config = "ohif.js"')
    out = tmp_path / "public"
    assert ohif.install_ohif(s, studies(), out) == []
    dest = out / "ohif"
    assert not (dest / "ort").exists() and not (dest / "dicom-microscopy-viewer").exists()
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    assert size < 60e6, size  # measured: 50.3 MB of the 213 MB build
    assert (out / f"dicomjson/{S}.json").is_file()

    html = (dest / "index.html").read_text()
    assert "<script>" not in html and "PUBLIC_URL" not in html  # no inline script left
    assert not re.search(r'="/(?!teaching/ohif/|/)', html), "an absolute path was not rewritten"
    head = html[: html.index("</head>")]
    assert '<script src="/teaching/ohif/sitegen-init.js"></script>' in head
    # the study list's host check, deferred, the same for every site (sitegen check proves it)
    assert '<script src="/teaching/ohif/sitegen-host.js" defer></script>' in head
    host_js = (dest / "sitegen-host.js").read_text()
    assert 'var site = "/teaching/";' in host_js and "dicomweb/studies/" in host_js
    inline = "".join(p.read_text() for p in sorted(dest.glob("sitegen-inline-*.js")))
    assert 'window.PUBLIC_URL="/teaching/ohif/"' in inline
    assert "browserImportFunction" in inline
    for js in dest.glob("*.js"):
        assert '__webpack_require__.p = "/";' not in js.read_text(errors="replace"), js.name
    assert (
        '__webpack_require__.p = "/teaching/ohif/";'
        in next(dest.glob("app.bundle.*.js")).read_text()
    )
    css = (dest / "app.bundle.css").read_text()
    assert "url(/teaching/ohif/" in css and "url(/a" not in css
    assert '"src": "/teaching/ohif/assets/' in (dest / "manifest.json").read_text()
    config = (dest / "app-config.js").read_text()
    assert "window.config.showStudyList = false;" in config
    assert not (dest / "_redirects").exists() and not (dest / "sw.js").exists()


def test_install_warns_when_dicomweb_needs_headers(tmp_path: Path, dist: Path) -> None:
    warnings = ohif.install_ohif(site(tmp_path, 'data_source = "dicomweb"'), studies(), tmp_path)
    assert len(warnings) == 1 and "Content-Type" in warnings[0]


def test_offline_without_cache_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(VendorError, match="@ohif/app@3.13.2"):
        ohif.install_ohif(site(tmp_path), studies(), tmp_path / "out", offline=True)


def _enhanced_manifest(root: Path, frames: int) -> dict[str, Any]:
    """The DICOM JSON manifest of a de-identified Enhanced CT of `frames` frames."""
    from dicomgen import enhanced_ct

    from sitegen.build import BuildReport, make_deidentifier, plan
    from sitegen.config import load_config
    from sitegen.model import group
    from sitegen.transcode import run

    (root / "dicom").mkdir(parents=True)
    enhanced_ct(frames).save_as(root / "dicom" / "ENH", enforce_file_format=True)
    config = root / "site.toml"
    config.write_text(
        '[site]\ntitle = "T"\n[build]\nframes = "raw"\n'
        '[[cases]]\nslug = "enh"\ntitle = "E"\nsource = "dicom"\n'
    )
    site = load_config(config)
    report = BuildReport(out_dir=str(root / "out"))
    ((item, job),) = plan(site, root / "out", make_deidentifier(site, root / "out"), report)
    outcome = run(item, job)
    assert outcome.instance is not None and outcome.instance.frames == frames, outcome.warnings
    return study_manifest(group([outcome.instance])[0], "/")


def test_the_manifest_of_a_500_frame_instance_grows_linearly(tmp_path: Path) -> None:
    """Each frame entry once repeated the whole per-frame functional groups (434 KB for 32
    frames, ~100 MB at 500). Now the first entry holds them, the others their identity: five
    times the frames, about five times the bytes, under 1 KB a frame."""
    small, large = (_enhanced_manifest(tmp_path / str(n), n) for n in (100, 500))
    entries = large["studies"][0]["series"][0]["instances"]
    assert len(entries) == 500
    assert [e["url"].rsplit("=", 1)[1] for e in entries] == [str(n) for n in range(1, 501)]
    assert len(entries[0]["metadata"]["PerFrameFunctionalGroupsSequence"]) == 500
    assert all("PerFrameFunctionalGroupsSequence" not in e["metadata"] for e in entries[1:])
    assert all(e["metadata"]["NumberOfFrames"] == 500 for e in entries)
    sizes = [len(json.dumps(doc)) for doc in (small, large)]
    assert sizes[1] / sizes[0] < 5.5, sizes  # the square would be ~25
    assert sizes[1] < 500 * 1024, sizes


def test_a_seg_beside_its_ct_builds_with_ohif(tmp_path: Path) -> None:
    """The SEG is refused (sitegen does not publish segmentations yet) and its coded words
    ("Segmentation", SNOMED "Liver" 10200004) are no canaries: OHIF's own files, named
    after segmentation tools, do not fail the build."""
    import pydicom
    from dicomgen import segmentation_of, write_ct_series

    from sitegen.build import build
    from sitegen.config import load_config
    from sitegen.deid import Deidentifier

    paths = write_ct_series(tmp_path / "cases/ct/dicom", 3)
    seg = segmentation_of(pydicom.dcmread(paths[0]))
    seg.save_as(tmp_path / "cases/ct/dicom/SEG1", enforce_file_format=True)
    result = Deidentifier(bytes(32)).deidentify(seg, source="SEG1", patient_label="ct")
    canaries = {c.value.lower() for c in result.canaries}
    assert not canaries & {"segmentation", "liver", "anatomical structure", "10200004", "91723000"}
    assert "vandermolen" in canaries  # the patient's values still are
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\ntitle = "T"\n[ohif]\nenabled = true\n'
        '[[cases]]\nslug = "ct"\ntitle = "CT"\nsource = "cases/ct/dicom"\n'
    )
    report = build(load_config(config), workers=1)
    if not report.published and any("@ohif/app" in e for e in report.errors):
        pytest.skip(f"the OHIF build could not be fetched: {report.errors}")  # pragma: no cover
    assert report.published, report.errors
    assert report.instances == 3
    assert any("SEG1" in w and "refused" in w for w in report.warnings), report.warnings
    assert (tmp_path / "public/ohif/index.html").is_file()
    # sitegen check proves OHIF's files sitegen's own (its study-list script included)
    from sitegen.check import check_site

    checked = check_site(load_config(config), tmp_path / "public", 1)
    assert not checked.hits
    assert not [w for w in checked.warnings if "not sitegen's own copy" in w], checked.warnings
    ohif_files = sum(1 for p in (tmp_path / "public/ohif").rglob("*") if p.is_file())
    assert checked.proved >= ohif_files
