"""DICOMweb sources against a real Orthanc on 127.0.0.1 (Debian's orthanc + orthanc-dicomweb).

Cases are built from study and series URLs and from the QIDO search form; the built tree is
compared with what Orthanc's own DICOMweb answers for the same instances; a proxy in front of
Orthanc injects faults (503, resets and cuts mid-body, 401, 404, HTML) that must end in retries
or clear errors, never a half file in the cache or a published site.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import write_site
from dicomgen import write_ct_series
from orthanc import (
    FaultProxy,
    Orthanc,
    missing_reason,
    running_orthanc,
    self_signed_certificate,
)
from pydicom.data import get_testdata_file

from sitegen.build import BuildFailed, build
from sitegen.config import load_config
from sitegen.deid import Deidentifier
from sitegen.sources import dicomweb, find_items
from sitegen.sources.dicomweb import DicomwebError, DownloadProgress, Transfer

KEY = bytes(range(32))
FAST = Transfer(timeout=10, retries=3, backoff=0.01, workers=3)


@dataclass(frozen=True)
class Archive:
    orthanc: Orthanc
    study_a: str  # generated CT: two series of 5 and 3 slices, PatientID PID-77231904
    series_a1: str
    series_a2: str
    study_small: str  # pydicom-data CT_small.dcm (its own patient)
    series_small: str
    study_c: str  # generated, another patient
    study_d: str  # generated, PID-77231904 again


def _uids(path: Path) -> tuple[str, str]:
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return ds.StudyInstanceUID, ds.SeriesInstanceUID


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("orthanc")
    with running_orthanc(tmp / "server") as orthanc:
        a1 = write_ct_series(tmp / "a1", 5, seed="dw-a")
        study_a, series_a1 = _uids(a1[0])
        a2 = write_ct_series(tmp / "a2", 3, seed="dw-a", study_uid=study_a, series_number=2)
        c = write_ct_series(tmp / "c", 2, seed="dw-c", patient_id="PID-OTHER", patient="Other^P")
        d = write_ct_series(tmp / "d", 2, seed="dw-d")
        small = Path(get_testdata_file("CT_small.dcm"))
        for path in [*a1, *a2, *c, *d, small, Path(get_testdata_file("MR_small.dcm"))]:
            orthanc.upload(path.read_bytes())
        yield Archive(
            orthanc,
            study_a,
            series_a1,
            _uids(a2[0])[1],
            *_uids(small),
            _uids(c[0])[0],
            _uids(d[0])[0],
        )


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private download cache, and quick retries."""
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SITEGEN_OFFLINE", raising=False)
    monkeypatch.setattr(dicomweb, "DEFAULT_TRANSFER", FAST)
    return tmp_path / "cache" / "dicomweb"


@pytest.fixture
def proxy(archive: Archive) -> Iterator[FaultProxy]:
    with FaultProxy(archive.orthanc.url) as p:
        yield p


def cached_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def _site(root: Path, cases: list[tuple[str, str]]) -> Path:
    (root / ".sitegen").mkdir(parents=True, exist_ok=True)
    (root / ".sitegen/key").write_bytes(KEY)
    body = "".join(
        f'[[cases]]\nslug = "{slug}"\ntitle = "Case {slug}"\nsource = "{source}"\n'
        for slug, source in cases
    )
    return write_site(root, body)


def _value(obj: dict[str, Any], tag: str) -> Any:
    value = obj.get(tag, {}).get("Value")
    return value[0] if value and len(value) == 1 else value


COMPARED = {
    "00200013": "InstanceNumber",
    "00200032": "ImagePositionPatient",
    "00200037": "ImageOrientationPatient",
    "00280030": "PixelSpacing",
    "00280010": "Rows",
    "00280011": "Columns",
    "00280002": "SamplesPerPixel",
    "00280004": "PhotometricInterpretation",
    "00280100": "BitsAllocated",
    "00280101": "BitsStored",
    "00280102": "HighBit",
    "00280103": "PixelRepresentation",
    "00281052": "RescaleIntercept",
    "00281053": "RescaleSlope",
    "00080060": "Modality",
    "00080016": "SOPClassUID",
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float, str)) and isinstance(b, (int, float, str)):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except ValueError:
            return a == b
    return a == b


def assert_matches_orthanc(public: Path, archive: Archive, study: str, series: str) -> None:
    """The built series metadata says what Orthanc's DICOMweb says, UIDs mapped with the key."""
    deid = Deidentifier(KEY)
    s2, r2 = deid.map_uid(study), deid.map_uid(series)
    built = json.loads((public / f"dicomweb/studies/{s2}/series/{r2}/metadata").read_text())
    theirs = httpx.get(
        f"{archive.orthanc.dicomweb}/studies/{study}/series/{series}/metadata", timeout=30
    ).json()
    ours_by_sop = {_value(m, "00080018"): m for m in built}
    theirs_by_sop = {deid.map_uid(_value(m, "00080018")): m for m in theirs}
    assert set(ours_by_sop) == set(theirs_by_sop)
    for sop, mine in ours_by_sop.items():
        assert _value(mine, "0020000D") == s2 and _value(mine, "0020000E") == r2
        for tag, name in COMPARED.items():
            if tag in theirs_by_sop[sop]:
                ours, orig = _value(mine, tag), _value(theirs_by_sop[sop], tag)
                assert _same(ours, orig), f"{name} of {sop}: {ours!r} != {orig!r}"
        # identity is gone: the site's slug stands in for the patient
        assert _value(mine, "00100020") != _value(theirs_by_sop[sop], "00100020")


def test_build_from_study_and_series_urls(
    archive: Archive, proxy: FaultProxy, tmp_path: Path, cache: Path
) -> None:
    root = f"{proxy.url}/dicom-web"
    config = _site(
        tmp_path / "site",
        [
            ("study", f"{root}/studies/{archive.study_a}"),
            ("series", f"{root}/studies/{archive.study_small}/series/{archive.series_small}"),
        ],
    )
    report = build(load_config(config), workers=1)
    assert report.published and not report.errors, report.errors
    assert report.cases == 2 and report.series == 3 and report.instances == 5 + 3 + 1
    public = tmp_path / "site/public"
    assert_matches_orthanc(public, archive, archive.study_a, archive.series_a1)
    assert_matches_orthanc(public, archive, archive.study_a, archive.series_a2)
    assert_matches_orthanc(public, archive, archive.study_small, archive.series_small)
    assert len(proxy.retrieves()) == 9
    files = cached_files(cache)
    assert not [p for p in files if p.name.endswith(".part")]
    assert {p.stat().st_mode & 0o777 for p in files} == {0o600}  # identifiable data
    assert {p.parent.stat().st_mode & 0o777 for p in files} == {0o700}

    # a rebuild lists the instances again but retrieves none of them
    proxy.requests.clear()
    report = build(load_config(config), workers=1)
    assert report.published and report.instances == 9
    assert proxy.retrieves() == []
    assert proxy.requests, "the listing is still asked for"


def test_search_form_picks_the_patients_studies(archive: Archive, proxy: FaultProxy) -> None:
    source = f"dicomweb+{proxy.url}/dicom-web?PatientID=PID-77231904"
    scan = find_items(source, Path("."))
    studies = {_uids(Path(item.location))[0] for item in scan.items}
    assert studies == {archive.study_a, archive.study_d}
    assert len(scan.items) == 5 + 3 + 2 and not scan.skipped
    assert all(item.kind == "file" and item.relative == "" for item in scan.items)
    assert all(item.label.startswith(source + "#") for item in scan.items)

    other = find_items(f"dicomweb+{proxy.url}/dicom-web?PatientID=PID-OTHER", Path("."))
    assert {_uids(Path(i.location))[0] for i in other.items} == {archive.study_c}

    with pytest.raises(DicomwebError, match="no study matches PatientID=NOBODY"):
        find_items(f"dicomweb+{proxy.url}/dicom-web?PatientID=NOBODY", Path("."))


def test_progress_reports_instances_and_bytes(archive: Archive, proxy: FaultProxy) -> None:
    seen: list[DownloadProgress] = []
    source = f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{archive.series_a1}"
    find_items(source, Path("."), progress=seen.append)
    last = seen[-1]
    assert (last.instances_total, last.instances_done, last.instances_cached) == (5, 5, 0)
    assert last.bytes_received > 5 * 24 * 20 * 2
    seen.clear()
    find_items(source, Path("."), progress=seen.append)
    assert (seen[-1].instances_done, seen[-1].instances_cached, seen[-1].bytes_received) == (
        5,
        5,
        0,
    )


def test_503_then_success_is_retried(archive: Archive, proxy: FaultProxy) -> None:
    proxy.add("503", "/series", times=2)  # listing: twice
    proxy.add("503", "/instances/", times=4)  # retrieves
    source = f"{proxy.url}/dicom-web/studies/{archive.study_a}"
    scan = find_items(source, Path("."))
    assert len(scan.items) == 8
    assert all(f.times == 0 for f in proxy.faults)


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_a_body_cut_once_is_retried(
    archive: Archive, proxy: FaultProxy, cache: Path, kind: str
) -> None:
    proxy.add(kind, "/instances/", times=2)
    source = f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{archive.series_a1}"
    scan = find_items(source, Path("."))
    assert len(scan.items) == 5 and len(proxy.retrieves()) == 5 + 2
    files = [p for p in cached_files(cache) if p.suffix == ".dcm"]
    assert len(files) == 5 and not [p for p in cached_files(cache) if p.suffix == ".part"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [("reset", "connection"), ("truncate", "truncated multipart body")],
)
def test_a_body_always_cut_is_a_clear_error_and_leaves_no_half_file(
    archive: Archive, proxy: FaultProxy, cache: Path, kind: str, message: str
) -> None:
    series = archive.series_a1
    proxy.add(kind, f"/instances/{_first_sop(archive, series)}")  # every time, one instance
    source = f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{series}"
    with pytest.raises(DicomwebError, match=message) as err:
        find_items(source, Path("."))
    assert "gave up after 4 attempts" in str(err.value) and source.split("/studies")[0] in str(
        err.value
    )
    assert not [p for p in cached_files(cache) if p.name.endswith(".part")]
    assert not [p for p in cached_files(cache) if p.name == "listing.json"]

    # the next run resumes: only the missing instance is fetched
    proxy.faults.clear()
    proxy.requests.clear()
    assert len(find_items(source, Path(".")).items) == 5
    assert len(proxy.retrieves()) == 1


def _first_sop(archive: Archive, series: str) -> str:
    rows = httpx.get(
        f"{archive.orthanc.dicomweb}/studies/{archive.study_a}/series/{series}/instances"
    ).json()
    return sorted(r["00080018"]["Value"][0] for r in rows)[0]


def test_401_names_the_variable(
    archive: Archive, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    token = "s3cret-token-value-123"
    proxy.require_authorization = f"Bearer {token}"
    source = f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{archive.series_a2}"

    with pytest.raises(DicomwebError, match="HTTP 401.*no credentials are configured"):
        find_items(source, Path("."))
    with pytest.raises(DicomwebError, match=r"\$PACS_TOKEN \(auth.bearer_env\) is not set"):
        find_items(source, Path("."), auth={"bearer_env": "PACS_TOKEN"})

    monkeypatch.setenv("PACS_TOKEN", "wrong-token")
    with pytest.raises(DicomwebError) as err:
        find_items(source, Path("."), auth={"bearer_env": "PACS_TOKEN"})
    assert "HTTP 401" in str(err.value) and "$PACS_TOKEN" in str(err.value)
    assert "wrong-token" not in str(err.value)

    monkeypatch.setenv("PACS_TOKEN", token)
    assert len(find_items(source, Path("."), auth={"bearer_env": "PACS_TOKEN"}).items) == 3
    assert not [p for p in cached_files(cache) if p.name.endswith(".part")]


def test_basic_credentials(
    archive: Archive, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.require_authorization = httpx.BasicAuth("alice", "pa55")._auth_header
    auth = {"basic_user_env": "PACS_USER", "basic_password_env": "PACS_PASSWORD"}
    source = f"{proxy.url}/dicom-web/studies/{archive.study_small}"
    monkeypatch.setenv("PACS_USER", "alice")
    monkeypatch.setenv("PACS_PASSWORD", "wrong")
    with pytest.raises(DicomwebError, match=r"HTTP 401.*\$PACS_USER and \$PACS_PASSWORD"):
        find_items(source, Path("."), auth=auth)
    monkeypatch.setenv("PACS_PASSWORD", "pa55")
    assert len(find_items(source, Path("."), auth=auth).items) == 1


def test_404_names_the_uid(archive: Archive, proxy: FaultProxy) -> None:
    missing = "1.2.3.4.5.6.7"
    with pytest.raises(DicomwebError, match=f"study {missing} not found"):
        find_items(f"{proxy.url}/dicom-web/studies/{missing}", Path("."))
    with pytest.raises(DicomwebError, match=f"series {missing} of study .* not found"):
        find_items(f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{missing}", Path("."))
    sop = _first_sop(archive, archive.series_a1)
    proxy.add("404", f"/instances/{sop}")
    with pytest.raises(DicomwebError, match=f"HTTP 404: instance {sop} not found"):
        find_items(
            f"{proxy.url}/dicom-web/studies/{archive.study_a}/series/{archive.series_a1}",
            Path("."),
        )


def test_an_html_page_is_not_dicomweb(archive: Archive, proxy: FaultProxy) -> None:
    proxy.add("html")
    with pytest.raises(DicomwebError, match="not a DICOMweb server: QIDO-RS answered text/html"):
        find_items(f"{proxy.url}/dicom-web/studies/{archive.study_a}", Path("."))
    proxy.faults.clear()
    proxy.add("html", "/instances/1")  # the listing is fine, the retrieve is a page
    with pytest.raises(DicomwebError, match="not a DICOMweb server: WADO-RS answered text/html"):
        find_items(f"{proxy.url}/dicom-web/studies/{archive.study_a}", Path("."))


def test_a_failed_download_publishes_nothing(
    archive: Archive, proxy: FaultProxy, tmp_path: Path, cache: Path
) -> None:
    root = f"{proxy.url}/dicom-web"
    config = _site(
        tmp_path / "site",
        [
            ("ok", f"{root}/studies/{archive.study_small}"),
            ("cut", f"{root}/studies/{archive.study_a}/series/{archive.series_a1}"),
        ],
    )
    proxy.add("reset", f"/instances/{_first_sop(archive, archive.series_a1)}")
    with pytest.raises((DicomwebError, BuildFailed)) as err:
        build(load_config(config), workers=1)
    text = str(err.value) if isinstance(err.value, DicomwebError) else str(err.value.report.errors)
    assert "connection" in text
    public = tmp_path / "site/public"
    assert not public.exists()
    assert not [p for p in tmp_path.joinpath("site").iterdir() if "sitegen-tmp" in p.name]
    assert not [p for p in cached_files(cache) if p.name.endswith(".part")]


def test_offline_rebuild_uses_the_cache(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultProxy(archive.orthanc.url) as proxy:
        source = f"{proxy.url}/dicom-web/studies/{archive.study_a}"
        first = find_items(source, Path("."))
    # the server is gone now: the last complete download stands in, with a warning
    started = time.monotonic()
    again = find_items(source, Path("."))
    assert [i.location for i in again.items] == [i.location for i in first.items]
    assert again.skipped and "cannot connect" in again.skipped[0][1]
    assert time.monotonic() - started < 10
    monkeypatch.setenv("SITEGEN_OFFLINE", "1")
    assert len(find_items(source, Path(".")).items) == 8
    with pytest.raises(DicomwebError, match="no complete download of it is cached"):
        find_items(f"{source}/series/{archive.series_a1}", Path("."))


def test_tls_is_verified_and_a_ca_bundle_can_be_given(archive: Archive, tmp_path: Path) -> None:
    tls = self_signed_certificate(tmp_path)
    if tls is None:
        pytest.skip("openssl is not available to make a test certificate")
    (tmp_path / "site").mkdir()
    (tmp_path / "site/ca.pem").write_bytes(tls[0].read_bytes())
    with FaultProxy(archive.orthanc.url, tls=tls) as proxy:
        assert proxy.url.startswith("https://")
        source = f"{proxy.url}/dicom-web/studies/{archive.study_small}"
        with pytest.raises(DicomwebError, match="TLS certificate is not trusted.*auth.ca_bundle"):
            find_items(source, tmp_path / "site")
        assert len(proxy.requests) == 0  # no retries of a verification failure
        scan = find_items(source, tmp_path / "site", auth={"ca_bundle": "ca.pem"})
        assert len(scan.items) == 1 and len(proxy.retrieves()) == 1
