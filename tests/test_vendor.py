"""Pinned npm tarballs: verified before extraction, extracted safely, cached, usable offline.

Every download here comes from a local server on 127.0.0.1 standing in for the registry."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sitegen import vendor
from sitegen.vendor import Package, VendorError


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


class Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        Quiet.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder served on 127.0.0.1 as the npm registry; the cache in a temporary folder."""
    root = tmp_path / "registry"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(vendor, "REGISTRY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SITEGEN_OFFLINE", raising=False)
    Quiet.requests = []
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()


def publish(root: Path, name: str, version: str, data: bytes) -> None:
    path = root / name / "-" / f"{name.rsplit('/', 1)[-1]}-{version}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


GOOD = {"package/package.json": b'{"name": "x"}', "package/dist/a.js": b"export {};\n"}


def test_download_verify_extract_and_cache_hit(registry: Path) -> None:
    data = tarball(GOOD)
    publish(registry, "@scope/pkg", "1.2.3", data)
    package = Package("@scope/pkg", "1.2.3", sri(data))
    folder = vendor.fetch(package)
    assert folder == vendor.cache_root() / "@scope/pkg@1.2.3" / "package"
    assert (folder / "dist/a.js").read_bytes() == b"export {};\n"
    assert Quiet.requests == ["/@scope/pkg/-/pkg-1.2.3.tgz"]
    # a cache hit needs no network at all, even with the registry gone
    (registry / "@scope").rename(registry / "gone")
    assert vendor.fetch(package) == folder
    assert vendor.fetch(package, offline=True) == folder
    assert len(Quiet.requests) == 1
    assert not [p for p in folder.parent.parent.iterdir() if ".tmp-" in p.name]


def test_hash_mismatch_is_refused_before_extraction(registry: Path) -> None:
    data = tarball(GOOD)
    publish(registry, "pkg", "1.0.0", data)
    package = Package("pkg", "1.0.0", sri(b"something else"))
    with pytest.raises(VendorError, match="integrity check failed"):
        vendor.fetch(package)
    assert not vendor.package_dir(package).exists()
    assert not list(vendor.cache_root().rglob("a.js"))


@pytest.mark.parametrize(
    "files, links",
    [
        ({"package/../../evil.txt": b"x"}, None),
        ({"/tmp/evil.txt": b"x"}, None),
        ({"package/ok.js": b"x"}, {"package/link": "../../../etc/passwd"}),
    ],
    ids=["dotdot", "absolute", "symlink"],
)
def test_unsafe_entries_are_refused(
    registry: Path, tmp_path: Path, files: dict[str, bytes], links: dict[str, str] | None
) -> None:
    data = tarball(files, links)
    publish(registry, "bad", "0.0.1", data)
    package = Package("bad", "0.0.1", sri(data))  # the hash matches: extraction must still refuse
    with pytest.raises(VendorError, match="unsafe path|link"):
        vendor.fetch(package)
    assert not vendor.package_dir(package).exists()
    assert not list(tmp_path.rglob("evil.txt"))
    assert not [p for p in vendor.cache_root().rglob("*") if ".tmp-" in p.name]


def test_offline_without_cache_says_what_to_do(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = Package("@scope/pkg", "9.9.9", sri(b""))
    with pytest.raises(VendorError) as info:
        vendor.fetch(package, offline=True)
    message = str(info.value)
    assert "@scope/pkg@9.9.9" in message and "online" in message
    assert "python -m sitegen.vendor" in message
    monkeypatch.setenv("SITEGEN_OFFLINE", "1")
    with pytest.raises(VendorError, match="offline"):
        vendor.fetch(package)
    assert Quiet.requests == []


def test_missing_package_and_bad_names(registry: Path) -> None:
    with pytest.raises(VendorError, match="could not download"):
        vendor.fetch(Package("absent", "1.0.0", sri(b"")))
    for name, version in [("../evil", "1.0.0"), ("ok", "../1"), ("Upper", "1.0.0")]:
        with pytest.raises(VendorError, match="invalid npm package"):
            Package(name, version, sri(b""))


def test_verify_accepts_any_listed_hash() -> None:
    data = b"payload"
    sha256 = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    vendor.verify(data, f"{sri(b'other')} {sha256}")
    with pytest.raises(VendorError, match="unsupported"):
        vendor.verify(data, "md5-abc")


def test_openjph_pin() -> None:
    assert vendor.OPENJPH.url == (
        "https://registry.npmjs.org/@cornerstonejs/codec-openjph/-/codec-openjph-2.4.11.tgz"
    )
    assert vendor.OPENJPH.integrity.startswith("sha512-NzwCYevGSj2JOuP7")


def test_install_viewer_offline_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen.viewer import install_viewer, static_files

    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "public"
    with pytest.raises(VendorError, match="codec-openjph@2.4.11"):
        install_viewer(out, offline=True)
    package = vendor.package_dir(vendor.OPENJPH) / "package"
    (package / "dist").mkdir(parents=True)
    (package / "dist/openjphjs.js").write_text("var Module;")
    (package / "dist/openjphjs.wasm").write_bytes(b"\0asm")
    (package / "LICENSE").write_text("MIT")
    install_viewer(out, offline=True)
    names = {p.name for p in (out / "viewer").iterdir()}
    assert {"index.html", "main.js", "openjphjs.js", "openjphjs.wasm"} <= names
    assert {p.name for p in static_files()} <= names
    assert "openjphjs.LICENSE.txt" in names
