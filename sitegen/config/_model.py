"""The validated site: settings, cases and the problems found on the way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..deid import DEFAULT_OPTIONS, KNOWN_OPTIONS
from ..lessons import Lesson

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRAME_CODECS = ("htj2k", "jpegls", "raw")
OHIF_VERSIONS = ("3.13.2",)  # pinned with their integrity in sitegen/ohif.py
OHIF_KEEP = ("ort", "microscopy")
BURNED_IN = ("refuse", "mask", "allow")
DEID_OPTIONS = tuple(sorted(KNOWN_OPTIONS))
DEFAULT_DEID_OPTIONS = tuple(sorted(DEFAULT_OPTIONS))


MAX_PACK_MIB = 20  # [build] pack: under Cloudflare Pages' 25 MiB per file


@dataclass(frozen=True)
class SiteSettings:
    title: str
    base_url: str = "/"
    url: str = ""
    out_dir: str = "public"
    author: str = ""
    license: str = ""
    description: str = ""


@dataclass(frozen=True)
class BuildSettings:
    workers: int = 0
    frames: str = "htj2k"
    lossy: int | None = None
    lossy_psnr: float | None = None  # lossy = { psnr = N }: the quality chosen per image
    downloads: bool = True  # Part 10 files under dicom/ and a zip per case under downloads/
    lossless_downloads: bool = False  # with lossy frames: the Part 10 files stay lossless
    preview: bool = True  # the preview tier: a light copy of large grey frames (preview.py)
    zips: str = "files"  # case zips as files ("files") or made in the browser ("browser")
    pack: int = 0  # MiB: a series' frames in files of at most this size (0: a file per frame)

    @property
    def is_lossy(self) -> bool:
        return self.lossy is not None or self.lossy_psnr is not None


@dataclass(frozen=True)
class DeidSettings:
    enabled: bool = True
    profile: str = "basic"
    options: tuple[str, ...] = DEFAULT_DEID_OPTIONS
    key_file: str = ".sitegen/key"
    burned_in: str = "refuse"


@dataclass(frozen=True)
class OhifSettings:
    enabled: bool = False
    version: str = "3.13.2"
    data_source: str = "auto"
    user_config: str = ""  # a JS file beside site.toml, merged into OHIF's app-config.js
    keep: tuple[str, ...] = ()  # optional parts of the OHIF build to publish: "ort", "microscopy"
    oidc: dict[str, Any] = field(default_factory=dict)  # OHIF's oidc[0], passed through as is


@dataclass(frozen=True)
class Mask:
    series: int
    rect: tuple[int, int, int, int]


UNKNOWN_TITLE = "Unknown case"  # what a quiz case (unknown = true) is called until Reveal


@dataclass(frozen=True)
class Case:
    slug: str
    title: str
    source: str
    file: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""
    discussion: str = ""
    tags: tuple[str, ...] = ()
    unknown: bool = False
    view: dict[str, Any] = field(default_factory=dict)
    annotations: tuple[dict[str, Any], ...] = ()
    questions: tuple[dict[str, Any], ...] = ()  # prompts for the reader, answers behind Reveal
    references: tuple[dict[str, str], ...] = ()  # { text, doi, pmid, url }
    related: tuple[str, ...] = ()  # slugs of other cases of the site
    studies: tuple[dict[str, str], ...] = ()  # per study, in date order: { label, findings }
    added: str = ""  # when the case joined the site (YYYY-MM-DD): the gallery's "Newest"
    auth: dict[str, str] = field(default_factory=dict)
    burned_in: str = ""
    masks: tuple[Mask, ...] = ()
    study_description: str = ""
    stack_every: int = 1  # publish every Nth slice of each series (stack = { every = N })
    stack_slab: int = 1  # or the mean of each N slices (stack = { slab = N })

    @property
    def public_title(self) -> str:
        """The title every surface shows before Reveal: a quiz case's is not its own."""
        return UNKNOWN_TITLE if self.unknown else self.title

    def is_sample(self) -> bool:
        return self.source.startswith("sample:")

    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://", "dicomweb+http"))


@dataclass(frozen=True)
class Site:
    root: Path
    config_file: Path
    site: SiteSettings
    build: BuildSettings
    deid: DeidSettings
    ohif: OhifSettings
    cases: tuple[Case, ...]
    lessons: tuple[Lesson, ...] = ()

    def source_path(self, case: Case) -> Path:
        """The local path a non-sample, non-URL case source points at."""
        return (self.root / case.source).resolve()

    def out_path(self) -> Path:
        return (self.root / self.site.out_dir).resolve()


# --- schema ----------------------------------------------------------------------------------
