"""PS3.15 Annex E Basic Application Level Confidentiality Profile, applied with pydicom.

Order of decisions for every attribute, recursively in every sequence item:

1. private attributes, curves (50xx), overlays (60xx), group lengths, command/meta groups
   found in the data set, and a few always-dangerous sequences: removed;
2. attributes in Table E.1-1: the table's action (the enabled option's column if it has one);
3. attributes in the allow-list (``_allowlist.py``): kept;
4. everything else: removed.

Private attributes are all removed, also with retain-safe-private (PS3.15 allows keeping
"safe" ones, sitegen keeps none, so it never claims code 113111).  Overlays and curves go
too, overlay graphics included.

Ages: with retain-patient-characteristics, PatientAge is kept but ages over 89 years become
``090Y`` (HIPAA Safe Harbor groups everybody aged 90 or more).  PatientBirthDate is always
emptied, even with retain-modified-dates: a shifted birth date and a shifted study date still
give the exact age, including ages over 89.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._canary import Canary
from ._keys import derived_key, keyed_date_offset, keyed_uid
from ._options import DEFAULT_OPTIONS, KNOWN_OPTIONS
from ._source_canaries import path_canaries

if TYPE_CHECKING:
    from pydicom.dataset import Dataset, FileDataset


@dataclass
class DeidResult:
    """The de-identified data set plus what the sweep and the report need."""

    dataset: FileDataset
    canaries: list[Canary]
    actions: dict[str, int]
    notes: list[str] = field(default_factory=list)  # values taken out of kept attributes


class Deidentifier:
    """Applies the profile with one site key; picklable (plain bytes and a frozenset)."""

    def __init__(self, key: bytes, options: frozenset[str] = DEFAULT_OPTIONS) -> None:
        if len(key) < 16:
            raise ValueError("the de-identification key must be at least 16 bytes")
        unknown = set(options) - KNOWN_OPTIONS
        if unknown:
            raise ValueError(f"unknown de-identification option(s): {', '.join(sorted(unknown))}")
        self.key = bytes(key)
        self.options = frozenset(options)

    def __repr__(self) -> str:  # never show the key
        return f"Deidentifier(options={sorted(self.options)})"

    def for_copy(self, name: str) -> Deidentifier:
        """A de-identifier for a second published copy of the same data (one study used by
        two cases): a key derived from this one and `name`, so every UID differs."""
        return Deidentifier(derived_key(self.key, name), self.options)

    def map_uid(self, uid: str) -> str:
        """Same key and UID -> same ``2.25.`` UID; unguessable without the key."""
        return keyed_uid(self.key, uid.strip(" \x00"))

    def date_offset_days(self, identity: str) -> int:
        """Per-patient keyed shift in [-3650, -365] days."""
        return keyed_date_offset(self.key, identity.strip(" \x00"))

    @staticmethod
    def identity(ds: Dataset, case: str) -> str:
        """Who the patient is, for the date offset: ID, name, birth date and issuer together
        (a blank or shared ID alone would give many patients one offset); the case when the
        file names no one."""
        parts = [
            str(ds.get(keyword, "") or "").strip(" \x00")
            for keyword in ("PatientID", "PatientName", "PatientBirthDate", "IssuerOfPatientID")
        ]
        if not any(parts):
            return f"case:{case}"
        return "\x00".join(parts)

    def path_canaries(self, relative_path: str, source: str) -> list[Canary]:
        """Canaries for the input's file and folder names (relative to the case folder)."""
        return path_canaries(relative_path, source)

    def deidentify(
        self,
        ds: FileDataset,
        *,
        source: str,
        patient_label: str,
        study_description: str | None = None,
        series_description: str | None = None,
        extra_canaries: list[Canary] | None = None,
    ) -> DeidResult:
        """De-identify ``ds`` in place (pixel data is never loaded) and list its canaries.

        ``patient_label`` becomes PatientName and PatientID.  Dates are shifted by the
        patient's keyed offset (retain-modified-dates) or handled per the basic profile.
        With retain-patient-characteristics, ages over 89 years become ``090Y``: HIPAA Safe
        Harbor only allows "90 or older", and PatientBirthDate is always emptied so the
        exact age cannot be recomputed. The work is in _apply.py, imported only now: making
        a Deidentifier (a build's plan, its cache keys) needs no pydicom.
        """
        from ._apply import deidentify

        return deidentify(
            self,
            ds,
            source=source,
            patient_label=patient_label,
            study_description=study_description,
            series_description=series_description,
            extra_canaries=extra_canaries,
        )
