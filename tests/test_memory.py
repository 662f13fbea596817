"""A large multi-frame input is decoded frame by frame: memory stays bounded."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
from conftest import write_site
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from sitegen.build import build
from sitegen.config import load_config

FRAMES, ROWS, COLS = 400, 512, 512  # 200 MB of pixel data
MF_SC_WORD = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word Secondary Capture


def _write_big_multiframe(path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MF_SC_WORD
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = MF_SC_WORD, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "Bigfile^Bertram", "BIG-0001"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, FRAMES
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    frame = (np.arange(ROWS * COLS, dtype=np.uint16) % 4096).reshape(ROWS, COLS)
    ds.PixelData = np.broadcast_to(frame, (FRAMES, ROWS, COLS)).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_large_multiframe_build_memory_is_bounded(site_dir: Path) -> None:
    (site_dir / "big").mkdir(parents=True)
    _write_big_multiframe(site_dir / "big/mf.dcm")
    size = (site_dir / "big/mf.dcm").stat().st_size
    config = write_site(
        site_dir,
        '[build]\nframes = "htj2k"\n[[cases]]\nslug = "big"\ntitle = "Big"\n'
        'source = "big"\nburned_in = "allow"\n',
    )
    tracemalloc.start()
    try:
        report = build(load_config(config), workers=1)  # in-process, so it is measured
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.published and report.frames == FRAMES
    assert size > 200e6
    assert peak < size / 8, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB input"


def _outcome_of(n: int) -> object:
    from sitegen import transcode

    outcome = transcode.Outcome(f"in{n}")
    outcome.warnings = ["x" * 100_000]  # what a worker's outcome weighs, and more
    return outcome


def test_the_parent_lets_go_of_each_outcome_once_it_is_handed_on(monkeypatch) -> None:
    """A future keeps its result: run_jobs held every worker outcome (its canaries and
    metadata) to the end of the pixels stage, 2 GB at 20,000 instances. Each outcome is
    dropped once handed on: by the time the last arrives, the first is gone."""
    import gc
    import weakref

    from sitegen import pool, transcode
    from sitegen.report import QuietUI
    from sitegen.sources import SourceItem

    seen: list[weakref.ref[object]] = []
    monkeypatch.setattr(transcode, "run", lambda item, job, target: _outcome_of(len(seen)))
    items = [
        (
            SourceItem(kind="file", location=f"/x/{n}", member=None, relative=f"{n}", label=f"{n}"),
            None,
        )
        for n in range(5)
    ]
    with pool.Workers(1) as team:  # in this process: the monkeypatched task runs
        for _, _, outcome in pool.run_jobs(items, team, QuietUI()):  # type: ignore[arg-type]
            seen.append(weakref.ref(outcome))
            del outcome
            gc.collect()
            assert seen[0]() is None or len(seen) == 1
    assert len(seen) == 5 and all(ref() is None for ref in seen)
