"""The static DICOMweb tree: QIDO lists of studies, series and instances, and metadata.

Frames are written by the workers (sitegen.transcode); this writes the JSON around them.
A static host answers `.../studies?x=y` with `.../studies/` and its index.html, so each list
is written as both index.html and index.json holding the same JSON array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import _json
from ..model import Instance, Series, Study, series_dir

# The attributes of QIDO-RS rows that OHIF and dicomweb-client read (ARCHITECTURE.md 3a).
STUDY_ROW = (
    "00080005",
    "00080020",
    "00080030",
    "00080050",
    "00080090",
    "00081030",
    "00100010",
    "00100020",
    "00100030",
    "00100040",
    "0020000D",
    "00200010",
)
SERIES_ROW = (
    "00080005",
    "00080021",
    "00080031",
    "00080060",
    "0008103E",
    "0020000D",
    "0020000E",
    "00200011",
)


def json_bytes(obj: Any) -> bytes:
    """Stable, compact JSON: sorted keys, so equal inputs give equal bytes; inert as HTML
    (see _json.py: the lists are served as index.html)."""
    return _json.dumps(obj, sort_keys=True).encode()


def _pick(meta: dict[str, Any], tags: tuple[str, ...]) -> dict[str, Any]:
    return {t: meta[t] for t in tags if t in meta}


INSTANCE_ROW = (
    "00080016",
    "00080018",
    "0020000D",
    "0020000E",
    "00200013",
    "00280008",
    "00280010",
    "00280011",
)


def _retrieve(row: dict[str, Any], url: str) -> dict[str, Any]:
    """RetrieveURL and InstanceAvailability, as a QIDO-RS row carries them."""
    row["00080056"] = {"vr": "CS", "Value": ["ONLINE"]}
    row["00081190"] = {"vr": "UR", "Value": [url]}
    return row


def series_row(series: Series, root: str = "/dicomweb") -> dict[str, Any]:
    row = _pick(series.instances[0].metadata, SERIES_ROW)
    row["00201209"] = {"vr": "IS", "Value": [len(series.instances)]}
    return _retrieve(row, f"{root}/studies/{series.study_uid}/series/{series.uid}")


def instance_row(instance: Instance, root: str = "/dicomweb") -> dict[str, Any]:
    row = _pick(instance.metadata, INSTANCE_ROW)
    url = f"{root}/studies/{instance.study_uid}/series/{instance.series_uid}"
    return _retrieve(row, f"{url}/instances/{instance.sop_uid}")


def study_row(study: Study, root: str = "/dicomweb") -> dict[str, Any]:
    row = _pick(study.series[0].instances[0].metadata, STUDY_ROW)
    modalities = sorted(
        {
            m
            for s in study.series
            for m in s.instances[0].metadata.get("00080060", {}).get("Value", [])
        }
    )
    if modalities:
        row["00080061"] = {"vr": "CS", "Value": modalities}
    row["00201206"] = {"vr": "IS", "Value": [len(study.series)]}
    row["00201208"] = {"vr": "IS", "Value": [len(study.instances)]}
    return _retrieve(row, f"{root}/studies/{study.uid}")


def _write_list(folder: Path, rows: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = json_bytes(rows)
    (folder / "index.json").write_bytes(data)
    (folder / "index.html").write_bytes(data)


def write_dicomweb(studies: list[Study], out: Path, base_url: str = "/") -> None:
    """Write what a static host can answer of QIDO-RS and WADO-RS metadata: the lists of
    studies, series and instances (all of the site's, and per study and series) and the
    metadata of each study and series. `base_url` roots the rows' RetrieveURLs."""
    root = f"{base_url}dicomweb"
    series_rows: list[dict[str, Any]] = []
    instance_rows: list[dict[str, Any]] = []
    _write_list(out / "dicomweb/studies", [study_row(s, root) for s in studies])
    for study in studies:
        rows = [series_row(s, root) for s in study.series]
        _write_list(out / f"dicomweb/studies/{study.uid}/series", rows)
        series_rows += rows
        in_study: list[dict[str, Any]] = []
        for series in study.series:
            folder = out / series_dir(study.uid, series.uid)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "metadata").write_bytes(json_bytes([i.metadata for i in series.instances]))
            rows = [instance_row(i, root) for i in series.instances]
            _write_list(folder / "instances", rows)
            in_study += rows
        _write_list(out / f"dicomweb/studies/{study.uid}/instances", in_study)
        metadata = [i.metadata for s in study.series for i in s.instances]
        (out / f"dicomweb/studies/{study.uid}/metadata").write_bytes(json_bytes(metadata))
        instance_rows += in_study
    _write_list(out / "dicomweb/series", series_rows)
    _write_list(out / "dicomweb/instances", instance_rows)
