"""Pinned third-party browser code from the npm registry, verified and cached.

The site ships a little third-party code (the OpenJPH WASM decoder, later OHIF). It is never
committed: each package is pinned by name, version and npm's SRI integrity string, downloaded
once with httpx, checked against that hash *before* anything is extracted, unpacked safely (no
path traversal, no links) into the user cache dir and reused by every later build. Offline
builds (`SITEGEN_OFFLINE=1`) use the cache only.

`python -m sitegen.vendor` fills the cache with every pinned package (run it once online).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import platformdirs

REGISTRY = "https://registry.npmjs.org"
TIMEOUT = (60.0, 15.0)  # seconds: read, connect
MAX_TARBALL = 512 * 1024 * 1024  # refuse anything larger: OHIF is ~40 MB
_NAME_RE = re.compile(r"(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")
_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]*")
_ALGORITHMS = {"sha512": hashlib.sha512, "sha384": hashlib.sha384, "sha256": hashlib.sha256}


class VendorError(RuntimeError):
    """A package could not be fetched, verified or extracted; the message says what to do."""


@dataclass(frozen=True)
class Package:
    """One npm package pinned by version and npm's `dist.integrity` (an SRI string)."""

    name: str
    version: str
    integrity: str

    def __post_init__(self) -> None:
        # names and versions become cache paths and URLs: only npm's own characters
        if not _NAME_RE.fullmatch(self.name) or not _VERSION_RE.fullmatch(self.version):
            raise VendorError(f"invalid npm package {self.name!r}@{self.version!r}")

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def url(self) -> str:
        basename = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{basename}-{self.version}.tgz"


OPENJPH = Package(
    "@cornerstonejs/codec-openjph",
    "2.4.11",
    "sha512-NzwCYevGSj2JOuP7BztxrOd5WnJ86gOGLv3sq36jZxxHUXoDo1YhzizHiYz+T7GQqkzbfaQcwSyxsRogzGFIPQ==",
)

PINNED: tuple[Package, ...] = (OPENJPH,)


def cache_root() -> Path:
    """Where extracted packages live: <user cache>/sitegen/npm (SITEGEN_CACHE_DIR overrides,
    which the tests use to stay out of the real cache)."""
    override = os.environ.get("SITEGEN_CACHE_DIR")
    base = Path(override) if override else Path(platformdirs.user_cache_dir("sitegen"))
    return base / "npm"


def package_dir(package: Package) -> Path:
    """The cache folder of one package; its `package/` holds the tarball's files."""
    return cache_root() / f"{package.name}@{package.version}"


def offline_requested() -> bool:
    return os.environ.get("SITEGEN_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def verify(data: bytes, integrity: str) -> None:
    """Raise VendorError unless `data` matches one of the SRI hashes in `integrity`."""
    options = []
    for token in integrity.split():
        algorithm, _, digest = token.partition("-")
        if algorithm in _ALGORITHMS and digest:
            options.append((algorithm, digest.split("?", 1)[0]))
    if not options:
        raise VendorError(f"unsupported integrity string {integrity!r}")
    for algorithm, expected in options:
        actual = base64.b64encode(_ALGORITHMS[algorithm](data).digest()).decode()
        if actual == expected:
            return
    algorithm = options[0][0]
    actual = base64.b64encode(_ALGORITHMS[algorithm](data).digest()).decode()
    raise VendorError(
        f"integrity check failed: expected {integrity}, got {algorithm}-{actual}; "
        "the download was refused and nothing was extracted"
    )


def _member_path(name: str) -> PurePosixPath | None:
    """The safe relative path of a tar member, or None when it must be refused."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or ":" in name:
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def extract(data: bytes, dest: Path) -> None:
    """Unpack a .tgz into `dest` refusing absolute paths, `..`, links and device files.

    Members are written by hand (not extractall) so nothing outside `dest` is ever touched,
    whatever the Python version's tarfile filters do."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise VendorError(f"not a gzip tarball: {exc}") from exc
    with archive:
        for member in archive.getmembers():
            rel = _member_path(member.name)
            if rel is None:
                raise VendorError(f"unsafe path in tarball: {member.name!r}")
            if member.isdir():
                (dest / rel).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise VendorError(f"link or special file in tarball refused: {member.name!r}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                raise VendorError(f"unreadable member {member.name!r}")
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)


Progress = Callable[[int, "int | None"], None]  # (bytes so far, total bytes or None)


def download(url: str, progress: Progress | None = None) -> bytes:
    """The body of `url` (redirects followed), refused past MAX_TARBALL."""
    import httpx  # here: a build whose assets are cached makes no request

    chunks: list[bytes] = []
    size = 0
    try:
        timeout = httpx.Timeout(TIMEOUT[0], connect=TIMEOUT[1])
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            response.raise_for_status()
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_TARBALL:
                    raise VendorError(f"{url} is larger than {MAX_TARBALL} bytes")
                chunks.append(chunk)
                if progress is not None:
                    progress(size, total)
    except httpx.HTTPError as exc:
        raise VendorError(f"could not download {url}: {exc}") from exc
    return b"".join(chunks)


def fetch(package: Package, *, offline: bool = False, progress: Progress | None = None) -> Path:
    """The extracted `package/` folder of `package`, from the cache or downloaded once.

    Raises VendorError naming the package when it is offline and not cached, when the
    download fails, or when the bytes do not match the pinned integrity."""
    final = package_dir(package)
    content = final / "package"
    if content.is_dir():
        return content
    if offline or offline_requested():
        raise VendorError(
            f"{package.spec} is not in the cache ({final}) and sitegen is offline; "
            "run a build once online, or `python -m sitegen.vendor`, to fetch it"
        )
    data = download(package.url, progress)
    verify(data, package.integrity)  # before a single byte is unpacked
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        extract(data, tmp)
        if not (tmp / "package").is_dir():
            raise VendorError(f"{package.spec}: the tarball has no package/ folder")
        try:
            os.replace(tmp, final)
        except OSError:
            if not content.is_dir():  # not a concurrent fetch that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return content


def main() -> int:
    """Fill the cache with every pinned package (for offline builds later)."""
    status = 0
    for package in PINNED:
        try:
            print(f"{package.spec}: {fetch(package)}")
        except VendorError as exc:
            print(f"{package.spec}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
