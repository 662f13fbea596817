"""DICOMweb sources without a server: URL shapes, config checks and the multipart reader."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import write_site

from sitegen.config import ConfigError, load_config
from sitegen.sources._dicomweb_url import parse_dicomweb_url
from sitegen.sources._multipart import (
    MultipartError,
    MultipartReader,
    TruncatedMultipart,
    boundary_of,
    part_type,
)

S = "1.2.840.113619.2.55.3.604688119"
R = "1.2.840.113619.2.55.3.604688119.5"


def test_url_forms() -> None:
    study = parse_dicomweb_url(f"https://PACS.example.org:443/dicom-web/studies/{S}/")
    assert (study.root, study.study, study.series) == ("https://pacs.example.org/dicom-web", S, "")
    series = parse_dicomweb_url(f"http://127.0.0.1:8042/dicom-web/studies/{S}/series/{R}")
    assert (series.root, series.series) == ("http://127.0.0.1:8042/dicom-web", R)
    search = parse_dicomweb_url("dicomweb+https://h/dicom-web?StudyDate=20240101&PatientID=P1")
    assert search.root == "https://h/dicom-web" and not search.study
    assert search.query == (("StudyDate", "20240101"), ("PatientID", "P1"))
    # one cache key per source, however it is spelt
    assert (
        parse_dicomweb_url(
            "dicomweb+https://h/dicom-web/?PatientID=P1&StudyDate=20240101"
        ).normalized()
        == search.normalized()
    )
    assert parse_dicomweb_url(f"dicomweb+https://h/r/studies/{S}").study == S


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://h/dicom-web/studies/1.2", "must start with https://"),
        ("https://h/dicom-web", "expected https://host/<dicomweb root>/studies"),
        ("https://h/dicom-web/studies", "expected .../studies/<StudyInstanceUID>"),
        (f"https://h/dw/studies/{S}/series/{R}/instances/1.2", "expected .../studies/"),
        ("https://h/dw/studies/1.2.abc", "not a valid study UID"),
        (f"https://h/dw/studies/{S}/series/01.2", "not a valid series UID"),
        ("https://h/dw/studies/1." + "2" * 70, "not a valid study UID"),
        ("https://h/dicom-web?PatientID=P1", "expected https://host"),
        ("dicomweb+https://h/dicom-web", "needs at least one QIDO-RS query parameter"),
        ("dicomweb+https://h/dicom-web?limit=5", '"limit" is not a query attribute'),
        (f"https://u:secret@h/dw/studies/{S}", "credentials must not be in the URL"),
        (f"https://h/dw/studies/{S}?x=1", "takes no ?query"),
        (f"https://h/dw/studies/{S}#frag", "#fragment"),
    ],
)
def test_bad_urls(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("?", r"\?")):
        parse_dicomweb_url(url)


def test_config_accepts_dicomweb_sources_and_checks_auth(site_dir: Path) -> None:
    (site_dir / "certs").mkdir(parents=True)
    (site_dir / "certs/ca.pem").write_text("not checked here\n")
    config = write_site(
        site_dir,
        f'[[cases]]\nslug = "a"\ntitle = "A"\nsource = "https://pacs/dicom-web/studies/{S}"\n'
        'auth = { bearer_env = "PACS_TOKEN", ca_bundle = "certs/ca.pem" }\n'
        f'[[cases]]\nslug = "b"\ntitle = "B"\nsource = "http://pacs/dw/studies/{S}/series/{R}"\n'
        '[[cases]]\nslug = "c"\ntitle = "C"\n'
        'source = "dicomweb+https://pacs/dicom-web?PatientID=TEACH-1"\n'
        'auth = { basic_user_env = "PACS_USER", basic_password_env = "PACS_PASSWORD" }\n',
    )
    site = load_config(config)
    assert [c.is_url() for c in site.cases] == [True, True, True]
    assert site.cases[0].auth == {"bearer_env": "PACS_TOKEN", "ca_bundle": "certs/ca.pem"}


def test_config_rejects_bad_dicomweb_sources_and_auth(site_dir: Path) -> None:
    (site_dir / "local").mkdir(parents=True)
    config = write_site(
        site_dir,
        '[[cases]]\nslug = "a"\ntitle = "A"\nsource = "https://pacs/dicom-web"\n'
        '[[cases]]\nslug = "b"\ntitle = "B"\nsource = "s3://bucket/key"\n'
        f'[[cases]]\nslug = "c"\ntitle = "C"\nsource = "https://pacs/dw/studies/{S}"\n'
        'auth = { bearer_env = "eyJhbGciOi.JIUzI1NiJ9-x", basic_user_env = "U" }\n'
        f'[[cases]]\nslug = "d"\ntitle = "D"\nsource = "https://pacs/dw/studies/{S}"\n'
        'auth = { basic_user_env = "U", ca_bundle = "missing.pem", bearer = "X" }\n'
        '[[cases]]\nslug = "e"\ntitle = "E"\nsource = "local"\n'
        'auth = { bearer_env = "T" }\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    by_key: dict[str, list[str]] = {}
    for p in info.value.problems:
        by_key.setdefault(p.key, []).append(p.message)
    assert "expected https://host" in by_key["cases[0].source"][0]
    assert "must start with https://" in by_key["cases[1].source"][0]
    assert "must name an environment variable" in by_key["cases[2].auth.bearer_env"][0]
    assert "eyJhbGciOi" not in str(info.value.problems)  # a pasted secret is never echoed
    assert "not both" in by_key["cases[2].auth"][0]
    assert "go together" in by_key["cases[3].auth"][0]
    assert "no such file" in by_key["cases[3].auth.ca_bundle"][0]
    assert 'did you mean "bearer_env"' in by_key["cases[3].auth.bearer"][0]
    assert "only DICOMweb (URL) sources take auth" in by_key["cases[4].auth"][0]


def _body(boundary: str, parts: list[tuple[str, bytes]], preamble: bytes = b"") -> bytes:
    out = preamble
    for ctype, data in parts:
        out += f"--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _read(body: bytes, boundary: str, chunk: int) -> tuple[list[bytes], MultipartReader]:
    parts: list[io.BytesIO] = []

    def open_part(headers: dict[str, str]) -> io.BytesIO | None:
        if part_type(headers) != "application/dicom":
            return None
        parts.append(io.BytesIO())
        return parts[-1]

    reader = MultipartReader(boundary, open_part)
    for i in range(0, len(body), chunk):
        reader.feed(body[i : i + chunk])
    reader.finish()
    return [p.getvalue() for p in parts], reader


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 10_000])
def test_multipart_reader_any_chunking(chunk: int) -> None:
    boundary = "b0undary-xyz"
    # bodies that hold CRLFs, dashes and a near-miss of the delimiter
    one = b"\x00" * 128 + b"DICM\r\n--b0undary-xy\r\n--\r\n" + bytes(range(256)) * 3
    two = b"\r\n--b0undary"
    body = _body(
        boundary,
        [("application/dicom", one), ("application/json", b"{}"), ("application/dicom", two)],
        preamble=b"ignored preamble\r\n",
    )
    parts, reader = _read(body, boundary, chunk)
    assert parts == [one, two] and reader.parts == 3


def test_multipart_reader_truncated_and_malformed() -> None:
    body = _body("bb", [("application/dicom", b"x" * 1000)])
    with pytest.raises(TruncatedMultipart):
        _read(body[:-8], "bb", 100)  # the closing delimiter is missing
    with pytest.raises(TruncatedMultipart):
        _read(body[:500], "bb", 100)
    with pytest.raises(TruncatedMultipart):
        _read(b"<html>not multipart</html>", "bb", 100)
    with pytest.raises(MultipartError):
        _read(b"--bbGARBAGE\r\n\r\nx\r\n--bb--", "bb", 100)


def test_boundary_of() -> None:
    assert boundary_of('multipart/related; type="application/dicom"; boundary="a b"') == "a b"
    assert boundary_of("Multipart/Related; boundary=xyz; type=application/dicom") == "xyz"
    assert boundary_of("text/html; charset=utf-8") is None
    assert boundary_of("multipart/related") is None
