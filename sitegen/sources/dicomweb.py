"""DICOMweb sources: cases pulled from a PACS over HTTP (QIDO-RS to list, WADO-RS to retrieve).

The parent process downloads a source into a local cache, one Part 10 file per instance
(`<cache>/dicomweb/<sha256 of the URL>/<SOPInstanceUID>.dcm`), and hands the files on as
ordinary file items, so the rest of the pipeline never sees the network. Instances are listed
first and only the ones missing from the cache are fetched: a rebuild of an unchanged study
downloads nothing, and an interrupted download resumes by instance. Every file is written to a
temporary name and renamed once complete, so the cache never holds half a file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import httpx
import pydicom

from ._dicomweb_auth import (
    NO_CREDENTIAL,
    credentials,
    describe_credential,
    tls_context,
    untrusted_certificate,
)
from ._dicomweb_cache import cache_dir, cache_root, cached_listing, write_listing
from ._dicomweb_url import DicomwebError, DicomwebUrl, parse_dicomweb_url, valid_uid
from ._items import SourceItem
from ._multipart import MultipartError, MultipartReader, TruncatedMultipart, boundary_of, part_type

__all__ = [
    "DicomwebError",
    "DownloadProgress",
    "ProgressCallback",
    "Transfer",
    "cache_root",
    "find_dicomweb_items",
]

ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
# Instances are fetched as stored, without HTTP compression: gzip of pixel data gains little and
# costs much (Orthanc 1.10 on 127.0.0.1: 10 MB/s gzipped against 80-100 MB/s plain)
RETRIEVE_HEADERS = {"Accept": ACCEPT_DICOM, "Accept-Encoding": "identity"}
ACCEPT_JSON = "application/dicom+json, application/json;q=0.9"
STALE_PART_SECONDS = 24 * 3600  # a temporary file this old belongs to no running download
T = TypeVar("T")
Instance = tuple[str, str, str]  # (study, series, SOP instance) UIDs


@dataclass(frozen=True)
class DownloadProgress:
    """Where a download stands; sent to the progress callback (from download threads)."""

    source: str
    instances_total: int  # known once the listing is done
    instances_done: int  # fetched or found in the cache
    instances_cached: int  # of those, found in the cache
    bytes_received: int  # body bytes received in this run


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class Transfer:
    """How hard to try. The tests shrink `backoff` so retries take milliseconds."""

    timeout: float = 60.0  # seconds to connect, and between two reads
    retries: int = 4  # attempts after the first, for 5xx, 429 and broken connections
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    workers: int = 4  # instances fetched at once


DEFAULT_TRANSFER = Transfer()


def find_dicomweb_items(
    source: str,
    root: Path,
    *,
    auth: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    transfer: Transfer | None = None,
) -> tuple[list[SourceItem], list[tuple[str, str]]]:
    """Download a DICOMweb source into the cache; returns its file items and warnings as
    (label, reason). Raises DicomwebError: a source that cannot be read whole is an error."""
    try:
        url = parse_dicomweb_url(source)
    except ValueError as exc:
        raise DicomwebError(f"{source}: {exc}") from None
    folder = cache_dir(url)
    warnings: list[tuple[str, str]] = []
    if os.environ.get("SITEGEN_OFFLINE"):
        instances = cached_listing(url, folder)
        if instances is None:
            raise DicomwebError(
                f"{source}: SITEGEN_OFFLINE is set and no complete download of it is cached"
            )
        warnings.append((source, "offline (SITEGEN_OFFLINE): using the cached copy"))
    else:
        with _Session(url, root, auth or {}, transfer or DEFAULT_TRANSFER, progress) as session:
            try:
                instances = session.list_instances()
            except _Unreachable as exc:
                cached = cached_listing(url, folder)
                if cached is None:
                    raise DicomwebError(str(exc)) from None
                instances = cached
                warnings.append((source, f"{exc}: using the cached copy"))
            else:
                session.fetch_missing(instances, folder)
                write_listing(folder, url, instances)
    items = [
        SourceItem("file", str(folder / f"{sop}.dcm"), "", f"{source}#{sop}", "")
        for _, _, sop in instances
    ]
    return items, warnings


class _Retry(Exception):
    """A failure worth another attempt: 5xx, 429, a broken connection, a truncated body."""


class _Unreachable(DicomwebError):
    """No connection to the server at all, after the retries (a cached copy may do)."""


class _Session:
    """One source's HTTP client, credentials and retry policy."""

    def __init__(
        self,
        url: DicomwebUrl,
        root: Path,
        auth: dict[str, str],
        transfer: Transfer,
        progress: ProgressCallback | None,
    ) -> None:
        self.url = url
        self.transfer = transfer
        self.progress = progress
        self.credential = describe_credential(auth)
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self._counts = [0, 0, 0, 0]  # total, done, cached, bytes
        headers, basic = credentials(url, auth)
        self.client = httpx.Client(
            headers={"User-Agent": "sitegen", **headers},
            auth=basic,
            verify=tls_context(url, root, auth),
            timeout=httpx.Timeout(transfer.timeout),
            follow_redirects=True,
            limits=httpx.Limits(max_connections=max(transfer.workers, 1) + 1),
        )

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # --- listing (QIDO-RS) ---

    def list_instances(self) -> list[Instance]:
        """Every instance of the source, in server order, without duplicates."""
        url = self.url
        if url.query:
            rows = self.qido("studies", dict(url.query), "a study search")
            studies = _uids(rows, "0020000D", self._where("studies"))
            if not studies:
                query = "&".join(f"{k}={v}" for k, v in url.query)
                raise DicomwebError(f"{self._where('studies')}: no study matches {query}")
        else:
            studies = [url.study]
        found: dict[str, Instance] = {}
        for study in studies:
            if url.series:
                series = [url.series]
            else:
                path = f"studies/{study}/series"
                series = _uids(self.qido(path, {}, f"study {study}"), "0020000E", self._where(path))
                if not series:
                    raise DicomwebError(
                        f"{self._where(path)}: study {study} not found (the server lists no "
                        "series for it)"
                    )
            for one in series:
                path = f"studies/{study}/series/{one}/instances"
                rows = self.qido(path, {}, f"series {one}")
                sops = _uids(rows, "00080018", self._where(path))
                if not sops and url.series:
                    raise DicomwebError(
                        f"{self._where(path)}: series {one} of study {study} not found (the "
                        "server lists no instances for it)"
                    )
                for sop in sops:
                    found.setdefault(sop, (study, one, sop))
        return list(found.values())

    def qido(self, path: str, params: dict[str, str], what: str) -> list[dict[str, Any]]:
        """One QIDO-RS query: a list of DICOM JSON objects."""
        where = self._where(path)

        def attempt() -> list[dict[str, Any]]:
            r = self.client.get(where, params=params, headers={"Accept": ACCEPT_JSON})
            self._check_status(r, where, what)
            if r.status_code == 204 or not r.content.strip():
                return []
            try:
                data = r.json()
            except ValueError:
                data = None
            if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
                ctype = r.headers.get("content-type", "no content type")
                raise DicomwebError(
                    f"{where}: not a DICOMweb server: QIDO-RS answered {ctype}, not a DICOM "
                    f"JSON list (is {self.url.root} the DICOMweb root?)"
                )
            return data

        return self._retrying(where, attempt)

    # --- retrieval (WADO-RS) ---

    def fetch_missing(self, instances: list[Instance], folder: Path) -> None:
        """Fetch the instances missing from `folder`, a few at a time; the first error stops
        the rest and is raised."""
        for private in (folder.parent, folder):  # the cache holds identifiable data
            private.mkdir(parents=True, exist_ok=True, mode=0o700)
            private.chmod(0o700)
        for stale in folder.glob(".*.part"):  # left by a killed run (not one running now)
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > STALE_PART_SECONDS:
                    stale.unlink()
        missing = [i for i in instances if not (folder / f"{i[2]}.dcm").is_file()]
        cached = len(instances) - len(missing)
        self._counts = [len(instances), cached, cached, 0]
        self._report()
        if not missing:
            return
        pool = ThreadPoolExecutor(max(self.transfer.workers, 1), thread_name_prefix="dicomweb")
        try:
            futures = [pool.submit(self.fetch_instance, inst, folder) for inst in missing]
            for future in as_completed(futures):
                future.result()
        except BaseException:
            self._abort.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def fetch_instance(self, instance: Instance, folder: Path) -> None:
        """WADO-RS retrieve of one instance into folder/<SOPInstanceUID>.dcm, atomically."""
        study, series, sop = instance
        where = self._where(f"studies/{study}/series/{series}/instances/{sop}")
        target = folder / f"{sop}.dcm"

        def attempt() -> None:
            tmp = folder / f".{sop}.{uuid.uuid4().hex}.part"
            try:
                self._download(where, sop, tmp)
                _check_part10(tmp, sop, where)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)

        self._retrying(where, attempt)
        with self._lock:
            self._counts[1] += 1
        self._report()

    def _download(self, where: str, sop: str, tmp: Path) -> None:
        with self.client.stream("GET", where, headers=RETRIEVE_HEADERS) as r:
            self._check_status(r, where, f"instance {sop}")
            ctype = r.headers.get("content-type", "")
            boundary = boundary_of(ctype)
            if boundary is None:
                raise DicomwebError(
                    f"{where}: not a DICOMweb server: WADO-RS answered "
                    f"{ctype or 'no content type'}, not multipart/related"
                )
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                dicom_parts = []

                def open_part(headers: dict[str, str]) -> BinaryIO | None:
                    if part_type(headers) == "application/dicom" and not dicom_parts:
                        dicom_parts.append(headers)
                        return out
                    return None

                reader = MultipartReader(boundary, open_part)
                try:
                    for chunk in self._received(r.iter_bytes()):
                        reader.feed(chunk)
                    reader.finish()
                except TruncatedMultipart as exc:
                    raise _Retry(f"truncated multipart body ({exc})") from None
                except MultipartError as exc:
                    raise DicomwebError(f"{where}: malformed multipart body: {exc}") from None
            if not dicom_parts:
                raise DicomwebError(f"{where}: WADO-RS sent no application/dicom part for {sop}")

    def _received(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if self._abort.is_set():
                raise DicomwebError(f"{self.url.source}: download stopped")
            with self._lock:
                self._counts[3] += len(chunk)
            self._report()
            yield chunk

    # --- errors, retries, progress ---

    def _where(self, path: str) -> str:
        return f"{self.url.root}/{path}"

    def _check_status(self, r: httpx.Response, where: str, what: str) -> None:
        code = r.status_code
        if code < 300:
            return
        if code >= 500 or code == 429:
            raise _Retry(f"HTTP {code} {r.reason_phrase}")
        if code in (401, 403):
            verb = "refused" if code == 403 else "not accepted"
            raise DicomwebError(
                f"{where}: HTTP {code} {r.reason_phrase}: {self.credential} was {verb}"
                if self.credential != NO_CREDENTIAL
                else f"{where}: HTTP {code} {r.reason_phrase}: the server wants credentials and "
                f"{NO_CREDENTIAL}"
            )
        if code == 404:
            raise DicomwebError(f"{where}: HTTP 404: {what} not found")
        raise DicomwebError(f"{where}: HTTP {code} {r.reason_phrase} for {what}")

    def _retrying(self, where: str, attempt: Callable[[], T]) -> T:
        """Run `attempt`, again after a growing pause when it fails in a retryable way."""
        last = ""
        connect_only = True
        for n in range(self.transfer.retries + 1):
            if n:
                time.sleep(self.transfer.backoff * 2 ** (n - 1))
            if self._abort.is_set():
                raise DicomwebError(f"{self.url.source}: download stopped")
            try:
                return attempt()
            except _Retry as exc:
                last, connect_only = str(exc), False
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if untrusted_certificate(exc):
                    raise DicomwebError(
                        f"{where}: the server's TLS certificate is not trusted ({exc}); if it "
                        "uses a private CA, set the case's auth.ca_bundle to its PEM file"
                    ) from None
                last = f"cannot connect ({_reason(exc)})"
            except (httpx.TransportError, httpx.DecodingError) as exc:
                last, connect_only = f"{_reason(exc)}", False
        attempts = self.transfer.retries + 1
        message = f"{where}: {last} (gave up after {attempts} attempts)"
        raise (_Unreachable if connect_only else DicomwebError)(message)

    def _report(self) -> None:
        if self.progress is None:
            return
        with self._lock:
            total, done, cached, received = self._counts
            self.progress(DownloadProgress(self.url.source, total, done, cached, received))


def _reason(exc: Exception) -> str:
    """A short cause for a transport error (httpx messages can be empty)."""
    kind = {
        httpx.ConnectTimeout: "connection timed out",
        httpx.ReadTimeout: "no data within the timeout",
        httpx.RemoteProtocolError: "connection closed mid-response",
        httpx.ReadError: "connection broken mid-response",
        httpx.DecodingError: "undecodable (truncated?) body",
    }.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail and detail != kind else kind


def _uids(rows: list[dict[str, Any]], tag: str, where: str) -> list[str]:
    """The UIDs under `tag` in QIDO rows, validated (they become file names)."""
    out = []
    for row in rows:
        value = (row.get(tag) or {}).get("Value") or []
        uid = value[0] if value and isinstance(value[0], str) else ""
        if not valid_uid(uid):
            raise DicomwebError(f"{where}: the answer holds an invalid UID under {tag}: {uid!r}")
        out.append(uid)
    return out


def _check_part10(path: Path, sop: str, where: str) -> None:
    """The part must be a Part 10 file of the instance asked for."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
    except Exception as exc:
        raise DicomwebError(
            f"{where}: the application/dicom part is not a DICOM file: {exc}"
        ) from None
    if ds.get("SOPInstanceUID") != sop:
        raise DicomwebError(f"{where}: the server sent instance {ds.get('SOPInstanceUID')}")
