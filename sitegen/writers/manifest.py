"""The viewer's manifest of one case: `data/cases/<slug>.json`.

Everything the teaching viewer needs to show a case without parsing DICOM: the case text and
view, and per series the pixel layout, rescale, window presets, geometry and the frames in
display order. Frame URLs point into the DICOMweb tree (the files are shared, never copied) and
are relative to the site root, so the site works under any base URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..attrs import first, nested, values
from ..config import Case
from ..model import Instance, Series, Study, frame_path, series_dir
from ..packs import plan
from ..presets import PRESETS
from ..preview import plan as preview_plan
from ..text import markdown_html, references_html

MANIFEST_VERSION = 1


def _floats(values: list[Any]) -> list[float] | None:
    try:
        return [float(v) for v in values] if values else None
    except (TypeError, ValueError):
        return None


def frame_positions(inst: Instance) -> list[list[float] | None]:
    """ImagePositionPatient of each frame (per-frame functional groups for multi-frame)."""
    per_frame = values(inst.metadata, "52009230")
    if len(per_frame) == inst.frames:
        positions = []
        for item in per_frame:
            plane = values(item, "00209113")
            positions.append(_floats(values(plane[0], "00200032")) if plane else None)
        return positions
    position = _floats(values(inst.metadata, "00200032"))
    return [position] + [None] * (inst.frames - 1)


def windows(meta: dict[str, Any], modality: str) -> list[dict[str, Any]]:
    """The data's own windows first, then the modality's presets."""
    out = []
    centers, widths = _floats(nested(meta, "00281050")) or [], _floats(nested(meta, "00281051"))
    for n, (c, w) in enumerate(zip(centers, widths or [], strict=False)):
        if w and w > 0:
            out.append({"name": "default" if n == 0 else f"data {n + 1}", "center": c, "width": w})
    out += [{"name": name, "center": c, "width": w} for name, c, w in PRESETS.get(modality, [])]
    return out


def series_manifest(study: Study, series: Series, pack: int = 0) -> dict[str, Any]:
    """`pack`: the frames are in pack files of at most this many MiB (`packs.plan`), each
    frame found by its pack, offset and size instead of its own file's URL."""
    meta = series.instances[0].metadata
    modality = str(first(meta, "00080060", ""))
    syntaxes = {i.transfer_syntax for i in series.instances}
    places = iter(plan(study, series, pack)) if pack else None
    frames = []
    for inst in series.instances:
        for n, position in enumerate(frame_positions(inst), start=1):
            frame: dict[str, Any]
            if places is not None:
                place = next(places)
                frame = {"pack": place.pack, "offset": place.offset, "bytes": place.size}
            else:
                frame = {
                    "url": frame_path(study.uid, series.uid, inst.sop_uid, n),
                    "bytes": inst.frame_sizes[n - 1],
                }
            frame["position"] = position
            if len(syntaxes) > 1:
                frame["transferSyntax"] = inst.transfer_syntax
            frames.append(frame)
    slope = _floats(nested(meta, "00281053"))
    intercept = _floats(nested(meta, "00281052"))
    return {
        "uid": series.uid,
        "number": series.number,
        "modality": modality,
        "description": str(first(meta, "0008103E", "")),
        "rows": int(first(meta, "00280010", 0)),
        "columns": int(first(meta, "00280011", 0)),
        "samplesPerPixel": int(first(meta, "00280002", 1)),
        "bitsAllocated": int(first(meta, "00280100", 16)),
        "bitsStored": int(first(meta, "00280101", 16)),
        "signed": int(first(meta, "00280103", 0)) == 1,
        "photometric": str(first(meta, "00280004", "MONOCHROME2")),
        "rescale": [slope[0] if slope else 1.0, intercept[0] if intercept else 0.0],
        "windows": windows(meta, modality),
        "pixelSpacing": _floats(nested(meta, "00280030")),
        "orientation": _floats(nested(meta, "00200037")),
        "sliceThickness": (_floats(nested(meta, "00180050")) or [None])[0],
        "transferSyntax": sorted(syntaxes)[0] if len(syntaxes) == 1 else None,
        "thumbnail": f"{series_dir(study.uid, series.uid)}/thumbnail",
        "frames": frames,
        "preview": _preview(study, series),
    }


def _preview(study: Study, series: Series) -> dict[str, Any] | None:
    """Where the series' preview tier is (preview.py), or None: each frame's chunk (an index
    into `chunks`), offset and size, in the order of `frames`."""
    where = preview_plan(study, series)
    if where is None:
        return None
    return {
        "rows": where.rows,
        "columns": where.columns,
        "chunks": where.chunks,
        "frames": [list(f) for f in where.frames],
    }


def answer_path(slug: str) -> str:
    """data/answers/<slug>.json: what a case hides until Reveal, loaded only then."""
    return f"data/answers/{slug}.json"


def _viewer_reveals(case: Case) -> bool:
    return case.unknown or any(a.get("reveal") for a in case.annotations)


def hides_answer(case: Case) -> bool:
    """A quiz case (unknown = true) hides its title, tags, findings, diagnosis, discussion
    and annotation labels; any case hides its `reveal = true` annotations and the answers
    to its questions."""
    return _viewer_reveals(case) or bool(case.questions)


def answer_manifest(case: Case) -> dict[str, Any]:
    """Everything the reader sees after Reveal, for the viewer and the case page alike."""
    return {
        "version": MANIFEST_VERSION,
        "title": case.title,
        "tags": list(case.tags),
        "findings": case.findings,
        "findingsHtml": markdown_html(case.findings),
        "diagnosis": case.diagnosis,
        "discussionHtml": markdown_html(case.discussion),
        "annotations": [dict(a) for a in case.annotations],
        "referencesHtml": references_html(case.references),
        "studyFindingsHtml": [markdown_html(s.get("findings", "")) for s in case.studies],
        "related": list(case.related),  # slugs: the page links them by their public titles
        "questions": [
            {
                "answer": q.get("answer"),
                "explanationsHtml": [markdown_html(e) for e in q.get("explanations", [])],
                "modelHtml": markdown_html(q.get("model", "")),
            }
            for q in case.questions
        ],
    }


def _before_reveal(case: Case) -> dict[str, Any]:
    """The case as the viewer's manifest carries it: nothing of the answer (that is in
    `answer_manifest`, fetched on Reveal)."""
    shown = [dict(a) for a in case.annotations if not a.get("reveal")]
    if not case.unknown:
        text = {
            "title": case.title,
            "findings": case.findings,
            "diagnosis": case.diagnosis,
            "discussionHtml": markdown_html(case.discussion),
            "tags": list(case.tags),
        }
    else:
        text = {"title": "", "findings": "", "diagnosis": "", "discussionHtml": "", "tags": []}
        for a in shown:
            a.pop("label", None)
    return {**text, "annotations": shown}


def case_manifest(
    case: Case,
    studies: list[Study],
    ohif_url: Callable[[str], str] | None = None,
    pack: int = 0,
) -> dict[str, Any]:
    """The manifest of one case (its studies only); `ohif_url(study_uid)` links each study to
    the bundled OHIF viewer (relative to the site root) when the site has one; `pack` as in
    `series_manifest`. A case that hides an answer names the file that holds it."""
    shown = _before_reveal(case)
    return {
        "version": MANIFEST_VERSION,
        "case": {
            "slug": case.slug,
            "title": shown["title"],
            "unknown": case.unknown,
            "history": case.history,
            "findings": shown["findings"],
            "diagnosis": shown["diagnosis"],
            "discussionHtml": shown["discussionHtml"],
            "tags": shown["tags"],
            "view": dict(case.view),
            "annotations": shown["annotations"],
            # what the viewer's Reveal fetches: not for a case whose only answers are its
            # questions' (the case page asks for those)
            "answer": answer_path(case.slug) if _viewer_reveals(case) else None,
        },
        "studies": [
            {
                "uid": study.uid,
                "description": str(first(study.series[0].instances[0].metadata, "00081030", "")),
                "date": str(first(study.series[0].instances[0].metadata, "00080020", "")),
                "series": [series_manifest(study, s, pack) for s in study.series],
                "ohif": ohif_url(study.uid) if ohif_url else None,
            }
            for study in studies
        ],
    }
