"""What the build hands a worker and what it hands back: small picklable dataclasses, kept
apart from the work itself (transcode.py) so that planning a build and reading its cache
import neither pydicom nor the codecs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .sources import SourceItem

if TYPE_CHECKING:
    from .deid import Canary, Deidentifier
    from .model import Instance

CODECS = ("htj2k", "jpegls", "raw")


@dataclass(frozen=True)
class FrameCodec:
    """How frames are published: ``htj2k`` | ``jpegls`` | ``raw``, optionally lossy (1..100),
    or lossy at the quality each instance needs to reach ``psnr`` dB (quality.choose)."""

    name: str = "htj2k"
    lossy: int | None = None
    psnr: float | None = None

    def __post_init__(self) -> None:
        if self.name not in CODECS:
            raise ValueError(f"unknown frame codec {self.name!r}; expected one of {CODECS}")
        if self.lossy is not None and not 1 <= int(self.lossy) <= 100:
            raise ValueError(f"lossy quality must be 1..100, got {self.lossy!r}")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs for one case; small and picklable."""

    out_dir: str
    case: str
    codec: FrameCodec
    deid: Deidentifier | None  # None only with --no-deid
    patient_label: str
    study_description: str | None = None
    burned_in: str = "refuse"  # "refuse" | "mask" | "allow"
    masks: tuple[tuple[int, tuple[int, int, int, int]], ...] = ()  # (series number, rect)
    verify: bool = True  # decode the first frame again and compare (lossless only)
    write: bool = True  # False: de-identify only, for `sitegen check`
    part10: bool = True  # also write the instance as a Part 10 file (downloads, OHIF)
    lossless_part10: bool = False  # lossy frames, lossless Part 10 files (encoded twice)
    preview: bool = True  # a small lossy copy of each large grey frame (preview.py)
    # stack = { slab = N }: the other slices of this input's slab, with their identities (the
    # cache key changes with them); this input is published with the mean of their pixels
    slab: tuple[tuple[SourceItem, str], ...] = ()


@dataclass
class Outcome:
    """What one input gave: an instance, or the reason it was passed over."""

    label: str
    instance: Instance | None = None
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None  # a privacy refusal: an error with --strict, a warning otherwise
    fatal: str | None = None  # the machine failed (disk full, out of memory): the build fails
    canaries: list[Canary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values de-identification took out
    bytes_out: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # written below out_dir, for the build cache
    digest: str = ""  # sha256 of a local input file, for the build cache
    cache_key: str = ""  # the build-cache entry the worker wrote for this outcome


@dataclass(frozen=True)
class CacheTarget:
    """Where a worker keeps what it made: the cache's entries folder, the job's fingerprint
    and the input's (None for a local file: its digest is known once it is read)."""

    entries: str
    job_fp: str
    fingerprint: str | None
