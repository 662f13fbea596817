"""Studies -> series -> instances, in display order, and the paths of the published tree.

Instances arrive as small records from the worker processes; this module groups and sorts
them. It is pure: no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def check_uid(uid: str) -> str:
    """Only validated UIDs ever become path components."""
    if len(uid) > 64 or not UID_RE.match(uid):
        raise ValueError(f"not a valid UID for a path: {uid[:70]!r}")
    return uid


def series_dir(study_uid: str, series_uid: str) -> str:
    """The series folder below public/, e.g. dicomweb/studies/<S>/series/<R>."""
    return f"dicomweb/studies/{check_uid(study_uid)}/series/{check_uid(series_uid)}"


FRAME_FILE_RE = re.compile(r"/instances/[0-9.]+/frames/[0-9]+$")


def is_frame_file(relative_path: str) -> bool:
    return bool(FRAME_FILE_RE.search(relative_path))


PACK_FILE_RE = re.compile(r"^dicomweb/studies/[0-9.]+/series/[0-9.]+/packs/[0-9]+$")


def is_pack_file(relative_path: str) -> bool:
    """A file of packed frames ([build] pack; see packs.py)."""
    return bool(PACK_FILE_RE.search(relative_path))


def pack_path(study_uid: str, series_uid: str, number: int) -> str:
    """A series' pack file number `number` (from 1) below public/."""
    return f"{series_dir(study_uid, series_uid)}/packs/{number}"


def part10_path(study_uid: str, series_uid: str, sop_uid: str) -> str:
    """dicom/<S>/<R>/<I>.dcm below public/."""
    return f"dicom/{check_uid(study_uid)}/{check_uid(series_uid)}/{check_uid(sop_uid)}.dcm"


def frame_path(study_uid: str, series_uid: str, sop_uid: str, number: int) -> str:
    """One frame's file below public/ (frames are numbered from 1, as in WADO-RS)."""
    return f"{series_dir(study_uid, series_uid)}/instances/{check_uid(sop_uid)}/frames/{number}"


class Geometry(NamedTuple):
    """What orders an instance in its series (`sort_instances`), read from the header
    before any worker runs: stack reduction leaves out slices before they are made."""

    instance_number: int | None
    position: tuple[float, ...] | None
    orientation: tuple[float, ...] | None
    frames: int


@dataclass
class Instance:
    """One published instance: what the writers need, without any pixels."""

    study_uid: str
    series_uid: str
    sop_uid: str
    case: str
    source: str  # input label, for messages
    metadata: dict[str, Any]  # DICOM JSON (PS3.18 F.2) of the de-identified instance
    frame_sizes: list[int]  # bytes of frames/1..n
    transfer_syntax: str
    instance_number: int | None = None
    position: tuple[float, ...] | None = None  # ImagePositionPatient of the first frame
    orientation: tuple[float, ...] | None = None  # ImageOrientationPatient
    series_number: int | None = None
    bytes_in: int = 0
    # keyword -> value (None: absent) where the Part 10 file's dataset differs from `metadata`
    # (lossless downloads beside lossy frames); OHIF's DICOM JSON points at the Part 10 file
    part10: dict[str, Any] | None = None
    # the preview tier (preview.py): each frame's small lossy codestream, and their size
    preview: list[bytes] = field(default_factory=list)
    preview_shape: tuple[int, int] | None = None

    @property
    def frames(self) -> int:
        return len(self.frame_sizes)


@dataclass
class Series:
    uid: str
    study_uid: str
    instances: list[Instance] = field(default_factory=list)

    @property
    def number(self) -> int | None:
        return self.instances[0].series_number if self.instances else None

    @property
    def frames(self) -> int:
        return sum(i.frames for i in self.instances)


@dataclass
class Study:
    uid: str
    case: str
    series: list[Series] = field(default_factory=list)

    @property
    def instances(self) -> list[Instance]:
        return [i for s in self.series for i in s.instances]


def slice_normal(orientation: tuple[float, ...]) -> tuple[float, float, float]:
    """The cross product of the row and column direction cosines."""
    r, c = orientation[:3], orientation[3:6]
    return (
        r[1] * c[2] - r[2] * c[1],
        r[2] * c[0] - r[0] * c[2],
        r[0] * c[1] - r[1] * c[0],
    )


def sort_instances(instances: list[Instance]) -> list[Instance]:
    """Sort by position along the slice normal, highest first (head to feet for axial slices,
    as scanners number them), when every instance has geometry in one orientation; else by
    InstanceNumber. SOP Instance UID breaks ties, so order is stable."""
    geo = [i for i in instances if i.position is not None and i.orientation is not None]
    if instances and len(geo) == len(instances):
        first = instances[0].orientation
        assert first is not None
        same = all(
            max(abs(a - b) for a, b in zip(i.orientation or (), first, strict=False)) < 1e-3
            for i in instances
        )
        if same:
            n = slice_normal(first)

            def along(i: Instance) -> tuple[float, str]:
                p = i.position or (0.0, 0.0, 0.0)
                return (-sum(a * b for a, b in zip(p, n, strict=False)), i.sop_uid)

            return sorted(instances, key=along)
    return sorted(
        instances,
        key=lambda i: (i.instance_number is None, i.instance_number or 0, i.sop_uid),
    )


def group(instances: list[Instance]) -> list[Study]:
    """Group instances into studies and series. Series are ordered by SeriesNumber,
    studies by their first appearance; instances within a series by `sort_instances`."""
    by_study: dict[str, dict[str, list[Instance]]] = defaultdict(lambda: defaultdict(list))
    case_of: dict[str, str] = {}
    seen: set[tuple[str, str, str]] = set()
    for inst in instances:
        # the same instance twice in the inputs: publish it once (one SOP Instance UID in two
        # studies, as careless exports make, is two instances: each study keeps its own)
        key = (inst.study_uid, inst.series_uid, inst.sop_uid)
        if key in seen:
            continue
        seen.add(key)
        by_study[inst.study_uid][inst.series_uid].append(inst)
        case_of.setdefault(inst.study_uid, inst.case)
    studies = []
    for study_uid, series_map in by_study.items():
        series = [
            Series(uid, study_uid, sort_instances(insts)) for uid, insts in series_map.items()
        ]
        series.sort(key=lambda s: (s.number is None, s.number or 0, s.uid))
        studies.append(Study(study_uid, case_of[study_uid], series))
    return studies


class SharedElements:
    """Makes the instances' metadata share equal elements: a series repeats most of its
    elements in every instance, and unpickled from the workers each instance has copies of
    its own (about 40 KB an instance: 800 MB for 20,000). Elements are never changed in
    place (writers build new dicts, reduce.py copies), so one object can serve them all."""

    def __init__(self) -> None:
        self._pool: dict[tuple[Any, ...], dict[str, Any]] = {}

    def __call__(self, metadata: dict[str, Any]) -> dict[str, Any]:
        pool = self._pool
        out = {}
        for tag, element in metadata.items():
            key = _element_key(tag, element)
            out[tag] = element if key is None else pool.setdefault(key, element)
        return out


_PLAIN = (str, int, float)


def _element_key(tag: str, element: dict[str, Any]) -> tuple[Any, ...] | None:
    """What makes two elements equal, types included (1 and 1.0 are written differently),
    or None for one not worth sharing (bulk data, inline binary, values of other types)."""
    vr = element.get("vr")
    if len(element) == 1 and type(vr) is str:  # emptied by de-identification: many alike
        return (tag, vr)
    values = element.get("Value")
    if values is None or len(element) != 2:
        return None
    if vr == "SQ":  # the de-identification method's codes: in every instance alike
        if not all(type(item) is dict for item in values):
            return None
        items = tuple(
            tuple((t, _element_key(t, e) if type(e) is dict else None) for t, e in item.items())
            for item in values
        )
        if any(key is None for item in items for _, key in item):
            return None
        return (tag, vr, items)
    if vr == "PN":
        if not all(type(v) is dict for v in values):
            return None
        parts = tuple(tuple(sorted(v.items())) for v in values)
        if not all(type(x) is str for p in parts for _, x in p):
            return None
        return (tag, vr, parts)
    if not all(type(v) in _PLAIN for v in values):
        return None
    return (tag, vr, tuple(values), tuple(type(v) for v in values))
