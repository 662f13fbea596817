"""A throw-away Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) on 127.0.0.1 for the tests,
and a fault-injecting proxy to put in front of it.

`running_orthanc(folder)` starts one with its storage in `folder`, waits until its REST API
answers and stops it afterwards. `.ci/run` installs the packages; without /usr/sbin/Orthanc the
DICOMweb source tests are skipped with that reason. `FaultProxy(upstream)` forwards GETs and
answers with the faults it is told to inject (503, a reset or a cut mid-body, 401, 404, HTML).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ORTHANC = Path("/usr/sbin/Orthanc")
PLUGIN_DIRS = (Path("/usr/share/orthanc/plugins"), Path("/usr/lib/orthanc"))
APT_LINE = "apt-get install -y orthanc orthanc-dicomweb"


@dataclass(frozen=True)
class Orthanc:
    url: str  # REST root, e.g. http://127.0.0.1:41234
    log: Path

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def upload(self, data: bytes) -> dict[str, str]:
        """Store one Part 10 file through the REST API (POST /instances)."""
        r = httpx.post(f"{self.url}/instances", content=data, timeout=30)
        r.raise_for_status()
        return r.json()

    def statistics(self) -> dict[str, object]:
        return httpx.get(f"{self.url}/statistics", timeout=10).json()


def dicomweb_plugin() -> Path | None:
    for folder in PLUGIN_DIRS:
        found = sorted(folder.glob("libOrthancDicomWeb.so*"))
        if found:
            return found[0]
    return None


def missing_reason() -> str | None:
    """Why a real Orthanc cannot be started here, or None."""
    if not ORTHANC.exists():
        return f"{ORTHANC} is not installed ({APT_LINE}; .ci/run does)"
    if dicomweb_plugin() is None:
        return f"Orthanc's DICOMweb plugin is not installed ({APT_LINE}; .ci/run does)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_orthanc(folder: Path, timeout: float = 30.0) -> Iterator[Orthanc]:
    """Start Orthanc with storage and config in `folder`; stop it when done."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {
        "Name": "sitegen-test",
        "HttpPort": port,
        "DicomPort": free_port(),
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "StorageCompression": False,
        "Plugins": [str(dicomweb_plugin())],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "HttpThreadsCount": 8,
        "HttpDescribeErrors": True,
    }
    (folder / "orthanc.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    log = folder / "orthanc.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ORTHANC), str(folder / "orthanc.json")],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({proc.returncode}): see {log}")
            try:
                if httpx.get(f"{url}/dicom-web/studies", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Orthanc did not answer within {timeout:.0f} s: see {log}")
            time.sleep(0.1)
        yield Orthanc(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Fault:
    kind: str  # "503" | "reset" | "truncate" | "401" | "404" | "html"
    match: str  # a substring of the request path ("" matches every request)
    times: int | None  # how many requests it hits; None: all of them


class FaultProxy:
    """A plain HTTP proxy on 127.0.0.1 in front of `upstream` that counts requests and injects
    faults. Use as a context manager; `url` is its root (the DICOMweb root is url + /dicom-web).
    """

    def __init__(self, upstream: str, tls: tuple[Path, Path] | None = None) -> None:
        """`tls` = (certificate, key) PEM files: serve HTTPS."""
        self.upstream = upstream
        self.scheme = "https" if tls else "http"
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (path, Accept)
        self.require_authorization: str | None = None  # the exact Authorization header wanted
        self.authorizations: list[str] = []  # Authorization headers seen (to check none leak)
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def add(self, kind: str, match: str = "", times: int | None = None) -> None:
        self.faults.append(Fault(kind, match, times))

    def retrieves(self) -> list[str]:
        """The WADO-RS instance retrieves seen (paths)."""
        return [p for p, accept in self.requests if "multipart/related" in accept]

    def take_fault(self, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.match in path and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.kind
        return None

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._client.close()


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            accept = self.headers.get("Accept", "")
            auth = self.headers.get("Authorization", "")
            with proxy._lock:
                proxy.requests.append((self.path, accept))
                if auth:
                    proxy.authorizations.append(auth)
            if proxy.require_authorization and auth != proxy.require_authorization:
                return self._answer(401, b"login needed", "text/plain")
            fault = proxy.take_fault(self.path)
            if fault in ("503", "401", "404"):
                return self._answer(int(fault), b"fault injected", "text/plain")
            if fault == "html":
                page = b"<!doctype html><html><body><h1>Sign in</h1></body></html>"
                return self._answer(200, page, "text/html; charset=utf-8")
            r = proxy._client.get(proxy.upstream + self.path, headers={"Accept": accept})
            ctype = r.headers.get("content-type", "application/octet-stream")
            body = r.content
            if fault == "reset":  # announce the whole body, send half, then reset (RST)
                self.send_response(r.status_code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
                return None
            if fault == "truncate":  # a clean close before the closing boundary
                self.send_response(r.status_code)
                self.send_header("Content-Type", ctype)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) - 80])
                self.close_connection = True
                return None
            return self._answer(r.status_code, body, ctype)

        def _answer(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="test"')
            self.end_headers()
            self.wfile.write(body)

        def finish(self) -> None:
            with contextlib.suppress(OSError, ValueError):
                super().finish()

    return Handler


def self_signed_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 that is its own CA (openssl CLI), or None without openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1"]
            + ["-addext", "basicConstraints=critical,CA:TRUE"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key
