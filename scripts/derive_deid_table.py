#!/usr/bin/env python3
"""Derive ``sitegen/deid/profile_table.json`` from the PS3.15 Table E.1-1 extraction.

The source is innolitics' MIT-licensed JSON extraction of DICOM PS3.15 Table E.1-1
(Application Level Confidentiality Profile Attributes).  We commit a compact derived table
so that sitegen does not depend on the source file at run time.

Compound actions are resolved here, once, so the run-time code only ever sees one letter:

* ``X/Z``, ``X/D``, ``X/Z/D`` -> ``X``.  The alternatives only exist so that a Type 1/2
  attribute of a *standard IOD* stays present.  Removing is the safest choice and sitegen
  re-adds what it needs itself (PatientName/PatientID, UIDs are ``U`` anyway).
* ``Z/D`` -> ``Z``: the attribute stays present (Type 2 compatible) but carries nothing.
* ``X/Z/U*`` -> ``U``: the sequence is kept, its items go through the same table and
  allow-list recursively and every UID in them is mapped.  That cannot leak more than
  removing it (items are filtered like the top level) and it keeps cross-references such as
  ReferencedImageSequence consistent with the mapped SOP Instance UIDs.

The private-attribute row ``(GGGG,EEEE) where GGGG is odd`` is not stored: private
attributes are handled in code (all removed).  Repeating-group rows (``50xx``, ``60xx``) are
stored as patterns with ``X`` for the wildcard hex digits.

Usage: ``python scripts/derive_deid_table.py [SOURCE_JSON] [OUTPUT_JSON]``
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from pydicom.datadict import keyword_for_tag

DEFAULT_SOURCE = Path("/work/shared/data/ps315/confidentiality_profile_attributes.json")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "sitegen" / "deid" / "profile_table.json"

# innolitics column name -> sitegen option name (the option's column in Table E.1-1)
OPTION_COLUMNS: dict[str, str] = {
    "rtnSafePrivOpt": "retain-safe-private",
    "rtnUIDsOpt": "retain-uids",
    "rtnDevIdOpt": "retain-device-identity",
    "rtnInstIdOpt": "retain-institution-identity",
    "rtnPatCharsOpt": "retain-patient-characteristics",
    "rtnLongFullDatesOpt": "retain-full-dates",
    "rtnLongModifDatesOpt": "retain-modified-dates",
    "cleanDescOpt": "clean-descriptors",
    "cleanStructContOpt": "clean-structured-content",
    "cleanGraphOpt": "clean-graphics",
}

COMPOUND_RULES: dict[str, str] = {
    "X/Z": "X",
    "X/D": "X",
    "X/Z/D": "X",
    "Z/D": "Z",
    "X/Z/U*": "U",
}

SINGLE_ACTIONS = frozenset("XZDKCU")


def resolve_action(raw: str) -> str:
    """Map a (possibly compound) Table E.1-1 action to the single letter sitegen applies."""
    raw = raw.strip()
    if raw in SINGLE_ACTIONS:
        return raw
    if raw in COMPOUND_RULES:
        return COMPOUND_RULES[raw]
    raise ValueError(f"unknown action {raw!r}")


def tag_key(tag: str) -> str | None:
    """``(0008,0050)`` -> ``00080050``; ``(50xx,xxxx)`` -> ``50XXXXXX``; other rows -> None."""
    match = re.fullmatch(r"\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)", tag.strip())
    if not match:
        return None
    return (match.group(1) + match.group(2)).upper()


def keyword_for(key: str) -> str:
    """The pydicom keyword, or "" for patterns and tags pydicom does not know."""
    return "" if "X" in key else keyword_for_tag(int(key, 16))


def derive(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Build the compact table: tag key -> keyword (or name), raw and resolved actions."""
    table: dict[str, dict[str, str]] = {}
    for row in rows:
        key = tag_key(row["tag"])
        if key is None:  # the "odd group" private row: handled in code
            continue
        entry = {"basic": resolve_action(row["basicProfile"])}
        keyword = keyword_for(key)
        if keyword:
            entry["keyword"] = keyword
        else:  # only the name identifies it: keep that instead (keeps the file small)
            entry["name"] = row["name"]
        if entry["basic"] != row["basicProfile"]:
            entry["raw"] = row["basicProfile"]
        for column, option in OPTION_COLUMNS.items():
            if row.get(column):
                entry[option] = resolve_action(row[column])
        if key in table:
            raise ValueError(f"duplicate tag {key}")
        table[key] = entry
    return table


def render(table: dict[str, dict[str, str]]) -> str:
    """JSON text with sorted keys and one attribute per line (small, diff-friendly)."""
    header = {
        "source": "DICOM PS3.15 Table E.1-1 via innolitics confidentiality_profile_attributes"
        ".json (MIT)",
        "generator": "scripts/derive_deid_table.py",
        "compound_rules": COMPOUND_RULES,
    }
    lines = ["{"]
    for key, value in sorted(header.items()):
        lines.append(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)},")
    lines.append('"attributes": {')
    items = sorted(table.items())
    for index, (key, entry) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(
            f"{json.dumps(key)}: {json.dumps(entry, sort_keys=True, ensure_ascii=False)}{comma}"
        )
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    rows = json.loads(source.read_text(encoding="utf-8"))
    table = derive(rows)
    text = render(table)
    json.loads(text)  # guard: the hand-built layout must still be valid JSON
    output.write_text(text, encoding="utf-8")
    print(f"wrote {len(table)} attributes to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
