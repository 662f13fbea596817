"""OHIF's DICOM JSON manifests: dicomjson/<S>.json, one per study.

OHIF's DICOM JSON data source (`/viewer/dicomjson?url=...`) reads one file listing a study's
series and instances with *naturalized* metadata (keywords, not tags) and a `dicomweb:<url>`
per instance. The URL points at the published Part 10 file, which carries its own transfer
syntax: compressed frames then work on every host, with no Content-Type headers (ARCHITECTURE
3a). A multi-frame instance is one entry per frame, `...dcm?frame=N` (N from 1), each with
NumberOfFrames in its metadata; the first carries all of it (OHIF reads an instance's
metadata, per-frame functional groups included, from its first entry), the others the
identity and pixel description only, so the manifest grows with the frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..faults import contained
from ..model import Instance, Series, Study, check_uid, part10_path
from .dicomweb import json_bytes

STUDY_KEYS = (
    "StudyDescription",
    "StudyDate",
    "StudyTime",
    "PatientName",
    "PatientID",
    "AccessionNumber",
    "PatientAge",
    "PatientSex",
    "PatientWeight",
)
SERIES_KEYS = (
    "SeriesDescription",
    "SeriesNumber",
    "SeriesDate",
    "SeriesTime",
    "Modality",
    "SliceThickness",
)


# what the entries of a multi-frame instance's frames after the first carry (see _entries):
# enough to place the entry in its instance and series and to read its frame
FRAME_ENTRY_KEYS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "FrameOfReferenceUID",
    "Modality",
    "InstanceNumber",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
)


def dicomjson_path(study_uid: str) -> str:
    """dicomjson/<S>.json below public/."""
    return f"dicomjson/{check_uid(study_uid)}.json"


def _value(vr: str, value: Any) -> Any:
    if vr == "SQ":
        return naturalize(value)
    if vr == "PN" and isinstance(value, dict):
        return value.get("Alphabetic", "")
    return value


def naturalize(dataset: dict[str, Any]) -> dict[str, Any]:
    """PS3.18 F.2 DICOM JSON -> {keyword: value} as dcmjs naturalizes it: one value stays a
    scalar, several a list, sequences a list of items; bulk data, private and unknown tags
    are left out (the Part 10 file has the pixels)."""
    from pydicom.datadict import keyword_for_tag  # here: only the OHIF files need it

    out: dict[str, Any] = {}
    for tag, element in dataset.items():
        keyword = keyword_for_tag(int(tag, 16))
        values = element.get("Value")
        if not keyword or values is None:
            continue
        vr = element.get("vr", "")
        if vr == "SQ":
            out[keyword] = [naturalize(item) for item in values]
            continue
        items = [_value(vr, v) for v in values]
        out[keyword] = items[0] if len(items) == 1 else items
    return out


def _entries(instance: Instance, base_url: str) -> list[dict[str, Any]]:
    metadata = naturalize(instance.metadata)
    for keyword, value in (instance.part10 or {}).items():  # describe the file pointed at
        if value is None:
            metadata.pop(keyword, None)
        else:
            metadata[keyword] = value
    url = (
        "dicomweb:"
        + base_url
        + part10_path(instance.study_uid, instance.series_uid, instance.sop_uid)
    )
    if instance.frames <= 1:
        return [{"metadata": metadata, "url": url}]
    metadata["NumberOfFrames"] = instance.frames
    # OHIF finds an instance's metadata by its SOP Instance UID, i.e. in the first entry, and
    # reads each frame's geometry from the per-frame groups there: the other entries carry
    # the rest (the manifest grows with the frames, not with their square)
    rest = {k: metadata[k] for k in FRAME_ENTRY_KEYS if k in metadata}
    return [{"metadata": metadata, "url": f"{url}?frame=1"}] + [
        {"metadata": rest, "url": f"{url}?frame={n}"} for n in range(2, instance.frames + 1)
    ]


def _series(series: Series, base_url: str) -> dict[str, Any]:
    first = naturalize(series.instances[0].metadata)
    row: dict[str, Any] = {k: first[k] for k in SERIES_KEYS if k in first}
    row["SeriesInstanceUID"] = series.uid
    row["instances"] = [e for i in series.instances for e in _entries(i, base_url)]
    return row


def study_manifest(study: Study, base_url: str) -> dict[str, Any]:
    """The {"studies": [...]} document OHIF's DICOM JSON source loads for one study."""
    first = naturalize(study.series[0].instances[0].metadata)
    row: dict[str, Any] = {k: first[k] for k in STUDY_KEYS if k in first}
    row["StudyInstanceUID"] = study.uid
    row.setdefault("PatientID", study.case)  # OHIF groups by it: it must not be empty
    row["NumInstances"] = len(study.instances)
    row["Modalities"] = "/".join(sorted(_modalities(study)))
    row["series"] = [_series(s, base_url) for s in study.series]
    return {"studies": [row]}


def _modalities(study: Study) -> set[str]:
    return {
        m
        for s in study.series
        for m in s.instances[0].metadata.get("00080060", {}).get("Value", [])
    }


def write_dicomjson(
    studies: list[Study], out: Path, base_url: str, warnings: list[str] | None = None
) -> list[str]:
    """Write dicomjson/<S>.json for every study (Part 10 files must be published under
    dicom/); returns the written paths relative to `out`. A study whose manifest cannot be
    made is a warning in `warnings` naming an input file of it, not the end of the build."""
    written = []
    for study in studies:
        rel = dicomjson_path(study.uid)
        source = study.series[0].instances[0].source if study.series else study.uid
        with contained([] if warnings is None else warnings, source, rel):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(json_bytes(study_manifest(study, base_url)))
            written.append(rel)
    return written
