"""Which instance each input is, decided in the parent before any worker writes.

Workers write an instance's files under paths made from its UIDs, so two inputs with one SOP
Instance UID (the same image exported twice, test files sharing UIDs) would be written by two
workers into the same paths, in a race. And one study may be used by two cases (a quiz case
and its answer). Both are resolved here, from the UIDs in each input's header (read once and
remembered by file identity, as published UIDs: never the originals when de-identifying):

- the cases after the first that use a study get de-identified copies of their own
  (a de-identifier with a key derived for that case: every UID differs, intervals survive);
  without de-identification that cannot be done and is an error, said before any pixel work;
- within one case, inputs sharing a SOP Instance UID publish the first by label; an
  identical copy is passed over quietly, different content is a warning naming both files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .cache_entries import file_digest
from .deid import Deidentifier
from .jobs import Job
from .model import Geometry
from .sources import SourceItem

_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_GEOMETRY = ("InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient", "NumberOfFrames")

Jobs = list[tuple[SourceItem, Job]]


@dataclass
class Resolved:
    """The jobs to run, and what was decided on the way."""

    jobs: Jobs
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0  # identical copies published once
    copies: list[str] = field(default_factory=list)  # cases given their own copy of a study
    signature: str = ""  # what was left out, for the build fingerprint

    def summary(self) -> str:
        """For the read stage's line."""
        n = self.duplicates
        text = f", {n} identical cop{'ies' if n > 1 else 'y'} left out" if n else ""
        return text + (f", own copies for {', '.join(self.copies)}" if self.copies else "")


def identity(item: SourceItem) -> str:
    """What the remembered UIDs of an input are valid for."""
    if item.kind == "file":
        st = os.stat(item.location)
        return f"file:{item.location}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    if item.kind == "zip":
        st = os.stat(item.location)
        return f"zip:{item.location}:{st.st_size}:{st.st_mtime_ns}:{item.member}"
    return f"{item.kind}:{item.location}:{item.member}"


def _read_uids(item: SourceItem) -> tuple[str, str, str, Geometry | None] | None:
    """The input's (study, series, SOP instance) UIDs and geometry, or None when its header
    cannot be read (the worker then says why)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's warnings print the values they saw
            return _uids_of(item)
    except Exception:  # noqa: BLE001 - the worker reads it again and reports the reason
        return None


def _uids_of(item: SourceItem) -> tuple[str, str, str, Geometry | None] | None:
    """Read only when the memo does not know the input: a rebuild imports no pydicom here."""
    if item.kind == "sample":
        from .sources.sample import sample_geometry, sample_uids

        index = int(item.member)
        return (*sample_uids(item.location, index), sample_geometry(item.location, index))
    import pydicom

    from .headers import header_geometry

    source = item.location if item.kind == "file" else io.BytesIO(item.read_bytes())
    ds = pydicom.dcmread(source, stop_before_pixels=True, specific_tags=[*_UIDS, *_GEOMETRY])
    study, series, sop = (str(ds.get(k, "")) for k in _UIDS)
    if not (study and series and sop):
        return None
    return study, series, sop, header_geometry(ds)


class UidMemo:
    """Published UIDs by input identity, kept in `.sitegen/cache/uids.json` (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.known: dict[str, list[str]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.used: dict[str, list[str]] = {}

    @staticmethod
    def _key(item: SourceItem, deid: Deidentifier | None) -> str:
        key = identity(item)
        if deid is not None:  # the memo is valid for one key only
            key += ":" + deid.map_uid("1.2.3.4.5.sitegen-uid-memo")
        return key

    def uids(self, item: SourceItem, deid: Deidentifier | None) -> tuple[str, str, str] | None:
        try:
            key = self._key(item, deid)
        except OSError:
            return None
        found = self.known.get(key)
        if found is None or len(found) != 4:  # a memo of an older sitegen: read again
            read = _read_uids(item)
            if read is None:
                return None
            uids = [deid.map_uid(u) for u in read[:3]] if deid is not None else list(read[:3])
            found = [*uids, list(read[3]) if read[3] is not None else None]
        self.used[key] = found
        return found[0], found[1], found[2]

    def geometry(self, item: SourceItem, deid: Deidentifier | None) -> Geometry | None:
        """The input's geometry, if `uids` found its header (call that first)."""
        try:
            found = self.used.get(self._key(item, deid))
        except OSError:
            return None
        if not found or found[3] is None:
            return None
        number, position, orientation, frames = found[3]
        return Geometry(
            number,
            tuple(position) if position is not None else None,
            tuple(orientation) if orientation is not None else None,
            frames,
        )

    def save(self) -> None:
        if self.used == self.known:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(self.used, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass  # read again next time


def _content(item: SourceItem) -> str:
    """What an input holds, to tell an identical copy from different content."""
    try:
        if item.kind == "file":
            return file_digest(Path(item.location))
        return hashlib.sha256(item.read_bytes()).hexdigest()
    except (OSError, ValueError):
        return f"unreadable:{item.label}"


def resolve(jobs: Jobs, memo: UidMemo, order: dict[str, int]) -> Resolved:
    """The jobs with shared studies copied per case and duplicate instances left out.
    `order` ranks the cases as the configuration lists them."""
    result = Resolved(jobs=[])
    uids = [memo.uids(item, job.deid) for item, job in jobs]
    cases_of: dict[str, list[str]] = {}
    for (_, job), found in zip(jobs, uids, strict=True):
        if found is not None and job.case not in cases_of.setdefault(found[0], []):
            cases_of[found[0]].append(job.case)
    later: set[str] = set()  # cases that get a copy of their own
    for cases in cases_of.values():
        if len(cases) < 2:
            continue
        first, *rest = sorted(cases, key=lambda c: order.get(c, 0))
        later.update(rest)
        if any(job.deid is None for _, job in jobs if job.case in rest):
            result.errors += [
                f'case "{c}": uses a study case "{first}" uses too; without de-identification '
                "a study can be published by one case only"
                for c in rest
            ]
    result.copies = sorted(later, key=lambda c: order.get(c, 0))
    if result.errors:
        return result
    copied: dict[int, Job] = {}
    seen: dict[tuple[str, str], list[int]] = {}
    for n, ((item, job), found) in enumerate(zip(jobs, uids, strict=True)):
        if job.case in later and job.deid is not None:
            if id(job) not in copied:
                copied[id(job)] = dataclasses.replace(job, deid=job.deid.for_copy(job.case))
            job = copied[id(job)]
        result.jobs.append((item, job))
        if found is not None:
            seen.setdefault((job.case, found[2]), []).append(n)
    drop: set[int] = set()
    for members in seen.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda n: jobs[n][0].label)
        keep = jobs[members[0]][0]
        kept_content = _content(keep)
        for n in members[1:]:
            drop.add(n)
            other = jobs[n][0]
            if _content(other) == kept_content:
                result.duplicates += 1
            else:
                result.warnings.append(
                    f"{other.label}: has the SOP Instance UID of {keep.label} with other "
                    f"content: skipped, {keep.label} is published (give one a new UID)"
                )
    result.jobs = [job for n, job in enumerate(result.jobs) if n not in drop]
    left_out = sorted(f"{jobs[n][0].label}:{uids[n]}" for n in drop)
    result.signature = hashlib.sha256(
        "\n".join([*left_out, *result.warnings, *result.copies]).encode()
    ).hexdigest()[:16]
    return result
