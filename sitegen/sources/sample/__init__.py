"""Built-in deterministic phantom series, so a site builds without downloading any data.

A ``sample:<name>`` source yields synthetic but realistic DICOM Part 10 instances:

* ``chest-ct`` -- 120 axial CT slices of a chest phantom (lungs, heart, spine, ribs, a nodule);
* ``head-mr`` -- one Enhanced MR multi-frame instance (32 frames) of a head phantom.

Everything is a pure function of ``(name, index)``: pixels come from a numpy Generator seeded from
that pair and UIDs from a hash of fixed strings, so rebuilding a site gives byte-identical files.
Patient/institution attributes are fake but realistic so the de-identifier has work to do.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from pydicom.dataset import FileDataset

from ...model import Geometry
from ._chest import _CT_GRID, _CT_SLICES, _chest_ct, _ct_z
from ._head import _head_mr
from ._phantom import _uid

__all__ = ["sample_bytes", "sample_instance", "sample_names", "sample_size"]

_SAMPLES: dict[str, tuple[int, Callable[[int], FileDataset]]] = {
    "chest-ct": (_CT_SLICES, _chest_ct),
    "head-mr": (1, _head_mr),
}


def _lookup(name: str) -> tuple[int, Callable[[int], FileDataset]]:
    try:
        return _SAMPLES[name]
    except KeyError:
        known = ", ".join(_SAMPLES)
        raise KeyError(f"unknown sample {name!r}; known samples: {known}") from None


def sample_names() -> list[str]:
    """Names usable as ``source = "sample:<name>"``."""
    return list(_SAMPLES)


def sample_size(name: str) -> int:
    """Number of instances (files) in the sample."""
    return _lookup(name)[0]


def sample_instance(name: str, index: int) -> FileDataset:
    """A fresh Part 10 dataset (safe to mutate, e.g. de-identify) for instance ``index``."""
    size, build = _lookup(name)
    if not 0 <= index < size:
        raise IndexError(f"sample {name!r} has {size} instance(s); index {index} out of range")
    return build(index)


def sample_bytes(name: str, index: int) -> bytes:
    """The instance serialised as a Part 10 file, byte-identical across calls."""
    buffer = io.BytesIO()
    sample_instance(name, index).save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def sample_uids(name: str, index: int) -> tuple[str, str, str]:
    """(study, series, SOP instance) UIDs of instance ``index``, without making its pixels."""
    _lookup(name)
    return _uid(name, "study"), _uid(name, "series"), _uid(name, "sop", str(index))


def sample_geometry(name: str, index: int) -> Geometry | None:
    """What orders instance ``index`` in its series (see identify.Geometry), without making
    its pixels; None for the samples whose order is not worth knowing early (multi-frame)."""
    _lookup(name)
    if name != "chest-ct":
        return None
    position = (float(_CT_GRID.origin), float(_CT_GRID.origin), _ct_z(index))
    return Geometry(index + 1, position, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), 1)
