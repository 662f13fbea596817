"""The committed profile table matches its source and the documented rules."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sitegen.deid._allowlist import ALLOWED_KEYWORDS
from sitegen.deid._table import lookup, table_keywords

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "sitegen" / "deid" / "profile_table.json"
SCRIPT = REPO / "scripts" / "derive_deid_table.py"
SOURCE = Path("/work/shared/data/ps315/confidentiality_profile_attributes.json")


def _script():
    spec = importlib.util.spec_from_file_location("derive_deid_table", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compound_actions_resolve_to_the_safe_letter() -> None:
    script = _script()
    assert script.resolve_action("X/Z/D") == "X"
    assert script.resolve_action("X/D") == "X"
    assert script.resolve_action("Z/D") == "Z"
    assert script.resolve_action("X/Z/U*") == "U"
    with pytest.raises(ValueError):
        script.resolve_action("Q")


@pytest.mark.skipif(not SOURCE.exists(), reason="PS3.15 source extraction not available")
def test_committed_table_is_up_to_date(tmp_path: Path) -> None:
    script = _script()
    output = tmp_path / "table.json"
    script.main(["derive", str(SOURCE), str(output)])
    assert output.read_text(encoding="utf-8") == TABLE.read_text(encoding="utf-8")


def test_table_content() -> None:
    data = json.loads(TABLE.read_text(encoding="utf-8"))["attributes"]
    assert len(data) > 600
    assert all(
        set(entry["basic"]) <= set("XZDU") and len(entry["basic"]) == 1 for entry in data.values()
    )
    name = lookup(0x00100010)
    assert name is not None and name.basic == "Z"
    assert lookup(0x60024000) is not None  # (60xx,4000) pattern
    assert lookup(0x50100010) is not None  # (50xx,xxxx) pattern
    study_date = lookup(0x00080020)
    assert study_date is not None
    assert study_date.action(frozenset()) == ("Z", None)
    assert study_date.action(frozenset({"retain-modified-dates"})) == ("C", "retain-modified-dates")


def test_allow_list_does_not_override_the_table() -> None:
    assert not ALLOWED_KEYWORDS & table_keywords()
