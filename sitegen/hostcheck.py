"""`sitegen check --host NAME`: will this built site fit that static host, and what will not work?

Limits are the hosts' published ones (ARCHITECTURE.md section 7). A limit exceeded is an error
(exit 1): the deploy would fail or lose files. Missing features are notes with advice.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .hosts import parse_headers
from .model import is_frame_file, is_pack_file

MIB = 1024 * 1024
GB = 1000**3


@dataclass(frozen=True)
class Host:
    name: str
    label: str
    max_files: int | None = None
    max_file_bytes: int | None = None
    max_total_bytes: int | None = None
    max_files_per_folder: int | None = None
    max_header_rules: int | None = None
    headers: bool = False  # reads `_headers`


HOSTS: dict[str, Host] = {
    "github-pages": Host("github-pages", "GitHub Pages", max_total_bytes=1 * GB),
    "netlify": Host("netlify", "Netlify", max_files_per_folder=54_000, headers=True),
    "cloudflare": Host(
        "cloudflare",
        "Cloudflare Pages",
        max_files=20_000,
        max_file_bytes=25 * MIB,
        max_header_rules=100,
        headers=True,
    ),
    "surge": Host("surge", "Surge", max_files=4_500),
    "s3": Host("s3", "S3 (+CloudFront)"),
}

# What a host without `_headers` cannot do, and what to do instead.
NO_HEADERS = (
    "{label} cannot set response headers: frames are served without their transfer syntax. "
    "A DICOMweb client that reads it only from there decodes the {syntaxes} frames as "
    "uncompressed pixels (OHIF's DICOMweb source shows flat grey squares); sitegen's viewer is "
    "unaffected (it reads the syntax from its manifest). {ohif}Pages still carry their "
    "Content-Security-Policy as a <meta> tag; CORS: {cors}."
)
OHIF_ROUTED = (
    "OHIF opens studies here over its DICOM JSON source and the Part 10 files, which carry "
    'their transfer syntax: the case pages\' "Open in OHIF" links (unless [ohif] data_source '
    '= "dicomweb"), and the studies opened '
    "from its study list (ohif/), which sitegen's script in OHIF sends the same way on a host "
    "whose frames lack the syntax. "
)
OHIF_STRANDED = (
    "This site has no Part 10 files ([build] downloads = false), so OHIF has no other route: "
    "its study list and the case pages' links show no images here (the study list says so); "
    '[build] downloads = true or frames = "raw" (larger) makes OHIF work on this host. '
)
PACKED = (
    "The frames are packed ([build] pack): sitegen's viewer reads them on every host; OHIF, "
    "whose DICOMweb source needs one file per frame, opens studies over DICOM JSON and the "
    "Part 10 files, from the case pages' links and from its study list."
)
CORS_NOTE = {  # the hosts that cannot set headers at all, and how they answer CORS
    "github-pages": "GitHub Pages allows any origin",
    "surge": "the CORS file allows any origin",
}
NOTES: dict[str, list[str]] = {
    "github-pages": [
        "GitHub Pages serves 404.html for missing paths; .nojekyll keeps files starting with _.",
        "Build with the Pages workflow (sitegen new writes .github/workflows/pages.yml): it sets "
        "--base-url to /<repo>/ for project pages.",
    ],
    "netlify": ["Netlify reads _headers and _redirects; drag public/ onto Netlify Drop."],
    "cloudflare": [
        "Cloudflare Pages ignores Range requests (sitegen never relies on them) and reads "
        "_headers (at most 100 rules) and _redirects.",
    ],
    "surge": ["Surge reads the CORS file; it serves 404.html for missing paths."],
    "s3": [
        "S3 reads no _headers file: upload frame files with the object metadata "
        "Content-Type: application/octet-stream; transfer-syntax=<uid> (see the Deploy "
        "section of the README), metadata files as application/dicom+json, and thumbnails as "
        "image/jpeg; add a CORS configuration allowing GET from *.",
        "CloudFront with an S3 REST origin does not serve index.html for folders: use the S3 "
        "website endpoint as origin, or a CloudFront function appending index.html.",
    ],
}


@dataclass
class TreeStats:
    files: int = 0
    total_bytes: int = 0
    largest: tuple[int, str] = (0, "")
    busiest_folder: tuple[int, str] = (0, "")
    header_rules: int | None = None
    frame_syntaxes: Counter[str] = field(default_factory=Counter)
    folder_files: Counter[str] = field(default_factory=Counter)  # by top-level folder
    folder_bytes: Counter[str] = field(default_factory=Counter)
    frame_bytes: Counter[str] = field(default_factory=Counter)  # frame files' bytes by series
    frame_files: int = 0
    packs: int = 0  # pack files ([build] pack)


@dataclass
class HostReport:
    host: Host
    stats: TreeStats
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def scan_tree(public: Path) -> TreeStats:
    """Count files, bytes, the largest file and the fullest folder of a built site."""
    stats = TreeStats()
    for folder, dirs, files in os.walk(public):
        dirs.sort()
        if len(files) + len(dirs) > stats.busiest_folder[0]:
            rel = os.path.relpath(folder, public)
            stats.busiest_folder = (len(files) + len(dirs), "." if rel == "." else rel + "/")
        top = os.path.relpath(folder, public).split(os.sep)[0]
        for name in files:
            size = os.path.getsize(os.path.join(folder, name))
            stats.files += 1
            stats.total_bytes += size
            stats.folder_files[top] += 1
            stats.folder_bytes[top] += size
            if top == "dicomweb":
                rel = os.path.relpath(os.path.join(folder, name), public).replace(os.sep, "/")
                if is_frame_file(rel):
                    stats.frame_files += 1
                    stats.frame_bytes[rel.split("/instances/", 1)[0]] += size
                elif is_pack_file(rel):
                    stats.packs += 1
            if size > stats.largest[0]:
                stats.largest = (size, os.path.relpath(os.path.join(folder, name), public))
    headers = public / "_headers"
    if headers.is_file():
        rules = parse_headers(headers.read_text(encoding="utf-8"))
        stats.header_rules = len(rules)
        for _, values in rules:
            kind = values.get("Content-Type", "")
            if "transfer-syntax=" in kind:
                stats.frame_syntaxes[kind.split("transfer-syntax=", 1)[1].strip()] += 1
    return stats


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n < GB else f"{n / GB:.2f} GB"


def _has_frames(public: Path) -> bool:
    studies = public / "dicomweb/studies"
    for folder, _, files in os.walk(studies):
        rel = os.path.relpath(folder, public)
        if files and is_frame_file(f"{rel}/{files[0]}"):
            return True
    return False


def fixes(stats: TreeStats, host: Host) -> list[str]:
    """The settings that make a site over `host`'s limits fit, with what each saves."""
    found: list[str] = []
    downloads_bytes = stats.folder_bytes["dicom"] + stats.folder_bytes["downloads"]
    downloads_files = stats.folder_files["dicom"] + stats.folder_files["downloads"]
    over_total = host.max_total_bytes is not None and stats.total_bytes > host.max_total_bytes
    over_files = host.max_files is not None and stats.files > host.max_files
    if (over_total or over_files) and downloads_files:
        left = stats.total_bytes - downloads_bytes
        found.append(
            f"[build] downloads = false leaves out the Part 10 files and case zips: "
            f"{downloads_files:,} files, {_size(downloads_bytes)} (the site: "
            f"{stats.files - downloads_files:,} files, {_size(left)}); OHIF then opens studies "
            "through DICOMweb"
        )
    zips = stats.folder_bytes["downloads"]
    if over_total and zips:
        found.append(
            f'[build] zips = "browser" leaves out the case zip files ({_size(zips)}): the case '
            "pages make the zip in the browser from the Part 10 files"
        )
    if over_total:
        found.append(
            "[build] lossy = Q writes lossy HTJ2K frames (the sample CT's frames: 30.0 MB "
            "lossless, 25.8 MB at 90, 18.0 MB at 70, 8.8 MB at 50; the Part 10 files and zips "
            "hold the same frames), or lossy = { psnr = 60 }: per image the lowest quality "
            "that keeps 60 dB"
        )
    if over_total or over_files:
        found.append(
            "stack = { slab = 4 } on a case of thin slices publishes the mean of each 4 "
            "(the sample CT: 120 slices, 86.7 MB -> 30 slabs, 19.7 MB), or "
            "stack = { every = 2 } every 2nd slice"
        )
    if over_files and stats.frame_files:
        packs = sum(math.ceil(n / (4 * MIB)) for n in stats.frame_bytes.values())
        found.append(
            f"[build] pack = 4 puts each series' frames in files of at most 4 MiB: "
            f"{stats.frame_files:,} frame files -> about {packs:,} (the site: about "
            f"{stats.files - stats.frame_files + packs:,} files); sitegen's viewer reads them "
            "on every host, OHIF opens studies over DICOM JSON and the Part 10 files"
        )
    big, path = stats.largest
    if host.max_file_bytes is not None and big > host.max_file_bytes:
        if path.startswith("downloads/"):
            found.append(
                f"{path}: rebuild with this sitegen (case zips are split into parts of at most "
                "20 MiB), or [build] downloads = false"
            )
        elif path.startswith("dicom/"):
            found.append(
                f"{path}: one instance's Part 10 file; [build] downloads = false leaves it out"
            )
        else:
            found.append(f"{path}: [build] lossy = Q makes frame files smaller")
    return found


def audit(public: Path, host_name: str, stats: TreeStats | None = None) -> HostReport:
    """Compare a built site with one host's limits and features."""
    host = HOSTS[host_name]
    stats = stats or scan_tree(public)
    report = HostReport(host, stats)

    def limit(value: int, maximum: int | None, what: str, fmt: Callable[[int], str] = str) -> None:
        if maximum is None:
            return
        if value > maximum:
            report.errors.append(
                f"{what}: {fmt(value)} exceeds {host.label}'s limit {fmt(maximum)}"
            )
        elif value > 0.8 * maximum:
            report.warnings.append(f"{what}: {fmt(value)} is close to the limit {fmt(maximum)}")

    limit(stats.files, host.max_files, "files", lambda n: f"{n:,}")
    limit(stats.total_bytes, host.max_total_bytes, "total size", _size)
    limit(stats.largest[0], host.max_file_bytes, f"largest file {stats.largest[1]}", _size)
    limit(
        stats.busiest_folder[0],
        host.max_files_per_folder,
        f"entries in folder {stats.busiest_folder[1]}",
        lambda n: f"{n:,}",
    )
    if stats.header_rules is not None:
        limit(stats.header_rules, host.max_header_rules, "_headers rules")

    if report.errors:
        report.errors += [f"to fit: {fix}" for fix in fixes(stats, host)]

    compressed = sorted(s for s in stats.frame_syntaxes if s != "1.2.840.10008.1.2.1")
    if host.name in CORS_NOTE and compressed and _has_frames(public):
        ohif = ""
        if (public / "ohif").is_dir():
            ohif = OHIF_ROUTED if (public / "dicomjson").is_dir() else OHIF_STRANDED
        report.notes.append(
            NO_HEADERS.format(
                label=host.label,
                syntaxes=", ".join(compressed),
                ohif=ohif,
                cors=CORS_NOTE[host.name],
            )
        )
    if stats.packs and (public / "ohif").is_dir():
        report.notes.append(PACKED)
    if host.headers and stats.header_rules is None:
        report.warnings.append("no _headers file: rebuild with this sitegen version")
    report.notes += NOTES[host.name]
    return report
