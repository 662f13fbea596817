"""The published instances as the parent holds them."""

from __future__ import annotations


def test_instances_share_equal_metadata_elements_and_nothing_else() -> None:
    """The parent holds every instance's metadata: equal elements are one object (sequences
    too, when all of them is alike), while a value of another type (1 and 1.0 are written
    differently) and bulk data are never shared."""
    from sitegen.model import SharedElements

    shared = SharedElements()
    a = shared({"00080060": {"vr": "CS", "Value": ["CT"]}, "00280030": {"vr": "DS", "Value": [1]}})
    b = shared(
        {
            "00080060": {"vr": "CS", "Value": ["CT"]},
            "00280030": {"vr": "DS", "Value": [1.0]},
            "00081140": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": ["1.2"]}}]},
            "7FE00010": {"vr": "OW", "BulkDataURI": "x"},
        }
    )
    c = shared(
        {
            "00081140": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": ["1.2"]}}]},
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Anon"}]},
        }
    )
    d = shared(
        {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Anon"}]}, "00100030": {"vr": "DA"}}
    )
    assert d["00100030"] is shared({"00100030": {"vr": "DA"}})["00100030"]  # emptied alike
    assert a["00080060"] is b["00080060"]
    assert a["00280030"] is not b["00280030"] and b["00280030"]["Value"] == [1.0]
    assert b["00081140"] is c["00081140"]  # sequences alike too
    other = shared({"00081140": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": [1]}}]}})
    assert other["00081140"] is not b["00081140"]
    assert c["00100010"] is d["00100010"]
