"""The canary Sweeper: finds leaks in any encoding/case, ignores noise, and is fast."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from sitegen.deid import Canary, Hit, Sweeper

TYPICAL = [
    Canary("Müller^Jürgen", "(0010,0010) PatientName", "a.dcm"),
    Canary("Müller", "(0010,0010) PatientName", "a.dcm"),
    Canary("Jürgen", "(0010,0010) PatientName", "a.dcm"),
    Canary("John", "(0008,0090) ReferringPhysicianName", "a.dcm"),
    Canary("Anna", "(0008,1070) OperatorsName", "a.dcm"),
    Canary("PID-77341295", "(0010,0020) PatientID", "a.dcm"),
    Canary("20190304", "(0008,0020) StudyDate", "a.dcm"),
    Canary("2019-03-04", "(0008,0020) StudyDate", "a.dcm"),
    Canary("1.2.826.0.1.3680043.8.498.12345", "(0008,0018) SOPInstanceUID", "a.dcm"),
    Canary("Sankt Elsewhere Klinikum", "(0008,0080) InstitutionName", "a.dcm"),
    Canary("CT01", "(0008,1010) StationName", "a.dcm"),
    Canary("12345", "(0010,0020) PatientID", "a.dcm"),  # numeric and short: in text only
]


def values(hits: list[Hit]) -> set[str]:
    return {hit.canary.value for hit in hits}


def test_finds_case_and_encoding_variants() -> None:
    sweeper = Sweeper(TYPICAL)
    for text, encoding in [
        ("Dr. MÜLLER", "utf-8"),
        ("dr. müller", "latin-1"),
        ("Mueller? no: Muller", "ascii"),
        ("müller", "utf-8"),
    ]:
        hits = sweeper.scan_bytes(text.encode(encoding), "page.html")
        assert "Müller" in values(hits), text
    assert "Müller^Jürgen" in values(sweeper.scan_bytes("MÜLLER^JÜRGEN".encode(), "x"))


def test_numeric_canaries_respect_digit_boundaries() -> None:
    sweeper = Sweeper(TYPICAL)
    assert values(sweeper.scan_bytes(b"seen on 20190304.", "p")) == {"20190304"}
    # the dashed spelling, and the same digits without separators
    assert values(sweeper.scan_bytes(b"date=2019-03-04T10:00", "p")) == {
        "2019-03-04",
        "20190304",
    }
    assert not sweeper.scan_bytes(b"id 9920190304123", "p")
    assert not sweeper.scan_bytes(b"uid 1.2.826.0.1.3680043.8.498.123456", "p")
    assert not sweeper.scan_bytes(b"2.1.2.826.0.1.3680043.8.498.12345", "p")
    assert sweeper.scan_bytes(b"<uid>1.2.826.0.1.3680043.8.498.12345</uid>", "p")
    assert values(sweeper.scan_bytes(b"patient 12345 here", "p")) == {"12345"}  # in text
    assert not sweeper.scan_bytes(b"\x00\x01 12345 \x00 binary", "p")  # < 8: not in binary
    assert values(sweeper.scan_bytes(b"mrn 00-012-345", "p")) == {"12345"}  # reformatted
    assert not sweeper.scan_bytes(b"size 123456 and 0.12345", "p")


def test_short_canaries_are_whole_words() -> None:
    sweeper = Sweeper(TYPICAL)
    assert values(sweeper.scan_bytes(b"Referred by John.", "p")) == {"John"}
    assert not sweeper.scan_bytes(b"Johnson and Annabel", "p")
    assert values(sweeper.scan_bytes(b"station: ct01", "p")) == {"CT01"}


def test_hits_are_masked() -> None:
    hits = Sweeper(TYPICAL).scan_bytes(b"Sankt Elsewhere Klinikum", "index.html")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.path == "index.html"
    assert hit.value == "Sa…um"
    assert "Elsewhere" not in str(hit) and "Elsewhere" not in repr(hit)


def test_scan_tree_checks_contents_and_names(tmp_path: Path) -> None:
    (tmp_path / "cases" / "Mueller_case").mkdir(parents=True)
    (tmp_path / "cases" / "Mueller_case" / "index.html").write_text("<p>fine</p>")
    (tmp_path / "cases" / "notes.txt").write_text("Seen at Sankt Elsewhere Klinikum")
    (tmp_path / "empty.bin").write_bytes(b"")
    hits = Sweeper(TYPICAL).scan_tree(tmp_path)
    found = {(hit.path, hit.canary.value) for hit in hits}
    assert ("cases/Mueller_case", "Müller") in found
    assert ("cases/notes.txt", "Sankt Elsewhere Klinikum") in found
    assert all(not hit.path.startswith("/") for hit in hits)


def test_leak_across_chunk_boundary(monkeypatch) -> None:
    import sitegen.deid._sweep as sweep

    monkeypatch.setattr(sweep, "CHUNK_BYTES", 64)
    sweeper = Sweeper(TYPICAL)
    for position in range(40, 70):
        data = b"." * position + b" Sankt Elsewhere Klinikum " + b"." * 50
        assert values(sweeper.scan_bytes(data, "p")) == {"Sankt Elsewhere Klinikum"}, position
        assert len(sweeper.scan_bytes(b"-" * position + b"uid 20190304 x", "p")) == 1


def test_no_false_positives_on_random_bytes() -> None:
    data = random.Random(20240501).randbytes(8 * 1024 * 1024)
    assert Sweeper(TYPICAL).scan_bytes(data, "random.bin") == []
    # Also as if it were the pixel data of a DICOM file (header rules before it).
    dicom = b"\0" * 128 + b"DICM" + b"\xe0\x7f\x10\x00OW" + data
    assert Sweeper(TYPICAL).scan_bytes(dicom, "random.dcm") == []


def test_speed_report() -> None:
    """Throughput on 24 MB with a few thousand canaries (printed with ``pytest -s``)."""
    canaries = (
        TYPICAL
        + [Canary(f"1.2.826.0.1.3680043.8.498.{n}", "uid", "s") for n in range(2000)]
        + [Canary(f"Name{n:05d}zz", "name", "s") for n in range(2000)]
    )
    sweeper = Sweeper(canaries)
    data = random.Random(7).randbytes(24 * 1024 * 1024)
    start = time.perf_counter()
    assert sweeper.scan_bytes(data, "big.bin") == []
    seconds = time.perf_counter() - start
    print(f"sweep: {len(data) / seconds / 1e6:.0f} MB/s")
    assert seconds < 10


def test_prefilter_gives_the_same_hits_as_the_automaton_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The byte-pair prefilter only skips buffers where no pattern can occur: planted values
    (any case, UTF-8, numeric) in large random buffers are found with and without it."""
    import random

    from sitegen.deid import _sweep

    rng = random.Random(7)
    canaries = [
        Canary("Vandermolen^Ottoline", "(0010,0010) PatientName", "a"),
        Canary("Müller", "(0010,0010) PatientName", "a"),
        Canary("20190304", "(0008,0020) StudyDate", "a"),
        Canary("ACC99887766", "(0008,0050) AccessionNumber", "a"),
    ]
    sweeper = Sweeper(canaries)
    found: set[str] = set()
    for trial in range(20):
        data = bytearray(rng.randbytes(200_000))
        for value in rng.sample(
            [
                "VANDERMOLEN^OTTOLINE",
                "vAnDeRmOlEn^OtToLiNe",
                "müller".encode().decode("latin-1"),
                " 20190304 ",
                "acc99887766",
                "nothing",
            ],
            k=3,
        ):
            at = rng.choice([0, len(data) - len(value), rng.randrange(0, len(data) - 20)])
            data[at : at + len(value)] = value.encode("latin-1")
        with_filter = {h.canary.value for h in sweeper.scan_bytes(bytes(data), "x")}
        monkeypatch.setattr(_sweep, "PREFILTER_ABOVE", 1 << 40)
        without = {h.canary.value for h in sweeper.scan_bytes(bytes(data), "x")}
        monkeypatch.undo()
        assert with_filter == without, trial
        found |= with_filter
    assert found == {c.value for c in canaries}  # every planted kind was really found


def test_a_frame_covered_by_its_part10_copy_hides_nothing_the_part10_sweep_misses() -> None:
    """`covers` lets the screen skip a frame file whose bytes lie in the Part 10 file it swept.
    Frames with values planted at their very edges, wrapped the way Part 10 wraps them (item
    length before, a pad byte or the next item's tag after) and in ways it does not: whenever
    covers says yes, every canary a sweep of the frame finds, the Part 10 sweep finds too."""
    rng = random.Random(11)
    sweeper = Sweeper(TYPICAL)
    planted = ["MÜLLER", "anna", "ct01", "20190304", "Sankt Elsewhere Klinikum"]
    header = b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\0" + b"\xe0\x7f\x10\x00OB"
    said = {True: 0, False: 0}
    for trial in range(2000):
        frame = bytearray(b"\xff\x4f\xff\x51\0\0" + rng.randbytes(rng.randrange(40, 600)))
        value = rng.choice(planted).encode("latin-1") + rng.choice([b"", b"."])
        at = rng.choice([0, len(frame) - len(value), len(frame) // 2])
        frame[at : at + len(value)] = value
        inner = bytes(frame)
        before = rng.choice([b"\0", b"\x01", b" ", b"A", b"7"])
        after = rng.choice([b"", b"\0", b"\xfe\xff\x00\xe0", b"9", b".5", b"x", b" "])
        outer = header + b"\0\0\0" + before + inner + after + rng.randbytes(8)
        covered = sweeper.covers(outer, inner) >= 0
        said[covered] += 1
        if covered:
            assert values(sweeper.scan_bytes(inner, "f")) <= values(
                sweeper.scan_bytes(outer, "p")
            ), (trial, before, after, value)
    assert said[True] > 50 and said[False] > 50, said  # both answers were tested
    # a frame that reads as text (no NUL near its start) is never covered: text rules differ
    text = b"Anna " * 10
    assert sweeper.covers(header + b"\0" + text + b"\0", text) == -1


def test_the_screen_in_worker_processes_finds_what_it_finds_here(tmp_path: Path) -> None:
    """TreeSweep.instances hands its sweeper to the worker processes pickled: they find the
    planted values (in a Part 10 file, in a frame file that is not inside it) exactly as the
    same sweep in this process does, and report the covered frame files alike."""
    from sitegen.pool import Workers
    from sitegen.treesweep import TreeSweep

    rng = random.Random(5)
    groups = []
    for n in range(12):
        frame = b"\xff\x4f\xff\x51\0\0" + rng.randbytes(5000)
        if n == 7:  # a frame file of its own bytes, not the Part 10 file's
            frame = frame[:100] + b" Sankt Elsewhere Klinikum " + frame[100:]
        part10 = b"\0" * 128 + b"DICM" + b"\xe0\x7f\x10\x00OB\0\0" + b"\0\0\0\0" + frame
        if n == 7:
            part10 = part10.replace(b"Sankt Elsewhere Klinikum", b"x" * 24)
        if n == 3:
            part10 = part10[:140] + b"PID-77341295\0" + part10[140:]
        files = {f"dicom/{n}.dcm": part10, f"dicomweb/{n}/frames/1": frame}
        for relative, data in files.items():
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_bytes(data)
        groups.append(list(files))
    here = TreeSweep(TYPICAL)
    expected = here.instances(groups, tmp_path, None)
    there = TreeSweep(TYPICAL)
    with Workers(2) as team:
        found = there.instances(groups, tmp_path, team)
    assert [values(h) for h in found] == [values(h) for h in expected]
    assert [n for n, h in enumerate(found) if h] == [3, 7]
    assert values(found[3]) == {"PID-77341295"}
    assert values(found[7]) == {"Sankt Elsewhere Klinikum"}
    assert there.covered == here.covered == 10  # every clean frame, proved inside its file
    assert there.clean == here.clean


def test_what_is_found_does_not_depend_on_the_order_workers_finished_in() -> None:
    """A value can be both a whole value of one file and a word of another's free text (a
    word counts inside a word only as a whole word): the build keeps the stricter canary, and
    the sweep finds the same whichever order the workers' canaries came in."""
    from sitegen.audit import unique_canaries

    whole = Canary("Harrowgate", "(0010,0010) PatientName", "b.dcm")
    word = Canary("Harrowgate", "(0032,4000) StudyComments", "a.dcm", word=True)
    text = b"seen at the Harrowgateshire clinic"
    assert values(Sweeper([word]).scan_bytes(text, "x")) == set()  # a word: whole words only
    found = []
    for order in ([whole, word], [word, whole]):
        data = unique_canaries(order, [])
        assert data == [whole]
        found.append(values(Sweeper(data).scan_bytes(text, "x")))
        # and a sweeper handed both, either way round, keeps the stricter
        assert values(Sweeper(order).scan_bytes(text, "x")) == {"Harrowgate"}
    assert found == [{"Harrowgate"}, {"Harrowgate"}]


def test_covers_finds_the_frame_past_copies_of_its_start() -> None:
    """`covers` looks for a frame by its first 64 bytes, then compares the whole: copies of
    the start that lead elsewhere (more than it tries one by one) and a frame of one
    repeated byte still give the offset a plain search gives."""
    from sitegen.deid._forms import _find

    rng = random.Random(3)
    sweeper = Sweeper(TYPICAL)
    header = b"\0" * 128 + b"DICM" + b"\xe0\x7f\x10\x00OB\0\0\0\0\0\0"
    frame = b"\xff\x4f\xff\x51\0\0" + rng.randbytes(3000) + b"\xff\xd9"  # SOC ... EOC
    decoys = b"".join(frame[:64] + rng.randbytes(50) + b"\0" for _ in range(7))
    outer = header + decoys + frame + b"\xfe\xff\xdd\xe0\0\0\0\0"
    assert sweeper.covers(outer, frame) == outer.find(frame) == len(header) + len(decoys)
    blank = b"\0" * 5000
    outer = header + b"\0" * 9000 + b"\x01" + blank + b"\xfe\xff\xdd\xe0\0\0\0\0"
    for start in (0, 200, 9200):
        assert _find(outer, blank, start) == outer.find(blank, start)
    assert _find(outer, frame, 0) == -1


def test_files_with_the_same_bytes_are_swept_once_each_named_when_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study's metadata and its one series' are the same bytes, as is a listing written
    as index.json and index.html: the tree sweep reads such a copy once when it is clean,
    and names every copy when it is not."""
    from sitegen.publish import listing
    from sitegen.treesweep import TreeSweep

    rng = random.Random(9)
    clean = rng.randbytes(20_000)
    dirty = clean[:9000] + b" Sankt Elsewhere Klinikum " + clean[9000:]
    files = {
        "dicomweb/studies/1/metadata": clean,
        "dicomweb/studies/1/series/2/metadata": clean,
        "dicomweb/studies/3/metadata": dirty,
        "dicomweb/studies/3/series/4/metadata": dirty,
        "cases/a/index.html": dirty,  # a page: the same bytes, swept as a page
    }
    for relative, data in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    sweep = TreeSweep(TYPICAL)
    read: list[int] = []
    scan = sweep.sweeper().scan_bytes
    monkeypatch.setattr(
        sweep.sweeper(), "scan_bytes", lambda data, name: read.append(len(data)) or scan(data, name)
    )
    folders: list[str] = []
    found = sweep.tree(listing(tmp_path, folders), folders)
    assert read.count(len(clean)) == 1  # the clean copy is not read again
    assert {h.path for h in found} == {r for r, data in files.items() if data == dirty}
    identities = {TreeSweep.identity(tmp_path / r) for r, data in files.items() if data == clean}
    assert identities <= sweep.clean  # the copy counts as swept clean


def test_a_page_rewritten_with_the_same_bytes_is_known_clean_by_its_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every build writes the pages and manifests anew (new inodes): one with the bytes of a
    file the last sweep found clean, with the same canaries, is not read again; one whose
    bytes changed is, and what it holds is found. Instance files are not kept by content."""
    from sitegen.publish import listing
    from sitegen.treesweep import TreeSweep

    pages = {"cases/a/index.html": b"<p>clean text</p>" * 50, "data/search.json": b"[1]" * 99}
    for relative, data in pages.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    first = TreeSweep(TYPICAL)
    folders: list[str] = []
    assert first.tree(listing(tmp_path, folders), folders) == []
    for relative, data in pages.items():  # the next build: the same bytes, new files
        (tmp_path / relative).unlink()
        (tmp_path / relative).write_bytes(data)
    (tmp_path / "cases/b/index.html").parent.mkdir()
    (tmp_path / "cases/b/index.html").write_bytes(b"<p>Sankt Elsewhere Klinikum</p>")
    second = TreeSweep(TYPICAL, was_clean=set(first.clean))
    read: list[str] = []
    scan = second.sweeper().scan_bytes
    monkeypatch.setattr(
        second.sweeper(), "scan_bytes", lambda data, name: read.append(name) or scan(data, name)
    )
    found = second.tree(listing(tmp_path, folders), folders)
    assert [r for r in read if r not in ("paths", "own")] == ["cases/b/index.html"]
    assert {h.path for h in found} == {"cases/b/index.html"}
    assert second.reused == 2


def test_files_over_a_megabyte_are_hashed_and_scanned_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The all-instances listings of a big site are the same bytes twice, over 1 MB each:
    they are hashed and scanned in blocks (not read whole), a value cut by a block's edge is
    still found, every copy of a file with a hit is named, and a clean copy is scanned once."""
    from sitegen.publish import listing
    from sitegen.treesweep import STREAM_ABOVE, TreeSweep

    filler = b'{"00080018":{"vr":"UI","Value":["2.25.1234567"]}},' * 27_000  # 1.35 MB
    assert len(filler) > STREAM_ABOVE
    cut = len(filler) // 2 - 5  # the name straddles the middle: 1 MB blocks cut there
    dirty = filler[:cut] + b"Sankt Elsewhere Klinikum" + filler[cut:]
    files = {
        "dicomweb/instances/index.json": dirty,
        "dicomweb/instances/index.html": dirty,
        "dicomweb/studies/index.json": filler,
        "dicomweb/studies/index.html": filler,
    }
    for relative, data in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    sweep = TreeSweep(TYPICAL)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read whole"))
    scanned: list[str] = []
    scan = sweep.sweeper().scan_file
    monkeypatch.setattr(
        sweep.sweeper(), "scan_file", lambda path, name: scanned.append(name) or scan(path, name)
    )
    folders: list[str] = []
    found = sweep.tree(listing(tmp_path, folders), folders)
    assert {h.path for h in found} == {r for r, data in files.items() if data == dirty}
    assert sorted(scanned) == sorted(
        ["dicomweb/instances/index.html", "dicomweb/instances/index.json"]
        + ["dicomweb/studies/index.html"]  # the first of the clean pair, in sorted order
    )


def test_words_of_sitegens_own_text_count_only_where_sitegen_does_not_write_them(
    tmp_path: Path,
) -> None:
    """A patient named like a word sitegen writes into every instance ("Basic", from the
    de-identification method) cannot be told from it in data files, and one named like a
    word of its page templates cannot be told from it in pages: one sweeper of all the
    canaries finds them, and what counts is kept per kind of file, in this process and
    in the workers alike; found anywhere else they still count."""
    import re

    from sitegen.audit import _deid_constants, counting
    from sitegen.pages import own_text
    from sitegen.pool import Workers
    from sitegen.treesweep import TreeSweep

    constants = Canary("Basic", "(0010,0010) PatientName", "a.dcm", word=True)
    written = _deid_constants().encode()  # what every instance and data file may hold
    template = next(  # a word of the pages that no data file is written with
        w.title()
        for w in sorted(set(re.findall(r"[a-z]{6,}", own_text())))
        if not Sweeper([Canary(w, "x", "y", word=True)]).scan_bytes(written, "w")
    )
    page_word = Canary(template, "(0010,0010) PatientName", "b.dcm", word=True)
    canaries = [*TYPICAL, constants, page_word]
    data_values, page_values = counting(Sweeper(canaries))
    assert "Basic" not in data_values and template in data_values - page_values

    method = b"PS3.15 E.1 Basic Application Confidentiality Profile"
    groups = []
    for n in range(8):
        frame = b"\xff\x4f\xff\x51\0\0" + random.Random(n).randbytes(3000)
        extra = f" {template} ".encode() if n == 5 else b""
        part10 = b"\0" * 128 + b"DICM" + method + extra + b"\xe0\x7f\x10\x00OB\0\0\0\0" + frame
        files = {f"dicom/{n}.dcm": part10, f"dicomweb/{n}/frames/1": frame}
        for relative, data in files.items():
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_bytes(data)
        groups.append(list(files))
    expected = [set(), set(), set(), set(), set(), {template}, set(), set()]
    here = TreeSweep(canaries).instances(groups, tmp_path, None)
    with Workers(2) as team:
        there = TreeSweep(canaries).instances(groups, tmp_path, team)
    assert [values(h) for h in here] == [values(h) for h in there] == expected
    page = tmp_path / "cases/x/index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<p>{template}</p><p>Basic</p>")
    sweep = TreeSweep(canaries)
    assert values(sweep.file("cases/x/index.html", page)) == {"Basic"}  # pages: not written


def test_zero_padding_is_no_digit_of_an_identifier() -> None:
    """ "SCALE-00002" is patient 2 of a series: its digits alone ("00002", "2") are any file
    numbered 2, and failed a 3,000-instance site on its zip member names. An identifier's
    digits count alone from five significant digits; the value as written still counts."""
    from sitegen.deid._canary import identifier_variants

    assert identifier_variants("SCALE-00002") == []
    assert identifier_variants("PID-0044-1928") == ["00441928", "441928"]
    sweeper = Sweeper([Canary("00002", "(0010,0020) PatientID", "a.dcm")])
    assert not sweeper.scan_bytes(b"case-1/study1/series1-CT/0002.dcm", "names")
    assert values(sweeper.scan_bytes(b"patient 00002 seen", "p")) == {"00002"}
    variants = identifier_variants("PID-0044-1928")
    reformatted = Sweeper([Canary(v, "(0010,0020) PatientID", "a.dcm") for v in variants])
    assert values(reformatted.scan_bytes(b"mrn 44-1928", "p")) == {"00441928"}


def test_canaries_kept_one_per_value_as_they_come_choose_as_a_sort_of_all() -> None:
    """The build keeps one canary per value as the workers send them (memory stays flat at
    20,000 instances); in any order it keeps what sorting all of them would."""
    from sitegen.deid import OnePerValue

    rng = random.Random(4)
    canaries = [
        Canary(rng.choice(["Ann", "Bo", "1.2.3.44444"]), rng.choice(["x", "y"]), f"f{n % 5}", w)
        for n in range(300)
        for w in (rng.random() < 0.5,)
    ]

    def by_sort(items: list[Canary]) -> list[Canary]:
        best: dict[str, Canary] = {}
        for c in sorted(items, key=lambda c: (c.word, c.source, c.attribute)):
            best.setdefault(c.value, c)
        return [best[v] for v in sorted(best)]

    for _ in range(5):
        rng.shuffle(canaries)
        pool = OnePerValue(canaries[:100])
        pool.add(canaries[100:])
        assert pool.sorted() == by_sort(canaries)


def test_a_value_whose_plain_form_is_digits_counts_as_a_number() -> None:
    """A hostile CoverageOfKSpace "²41234511" stripped of its accents is "241234511": as a
    word it matched inside random published UIDs (2.25.<digits>) now and then, failing one
    CI run in several. Forms of digits keep the digit boundaries of numbers."""
    sweeper = Sweeper([Canary("²41234511", "(0018,9094) CoverageOfKSpace", "a.dcm")])
    assert not sweeper.scan_bytes(b"dicomweb/studies/2.25.9924123451177/frames", "paths")
    assert values(sweeper.scan_bytes(b"seen 241234511 here", "p")) == {"²41234511"}
    assert values(sweeper.scan_bytes("seen ²41234511 here".encode(), "p")) == {"²41234511"}


def test_uids_are_found_by_their_runs_in_every_form_without_the_automaton() -> None:
    """40,000 original UIDs as automaton patterns made a 700 MB sweeper: UID-shaped canaries
    are looked up as whole runs of digits and dots instead, in bytes (text or binary), in
    UTF-16 (text) and base64-decoded, with the boundaries of numbers."""
    import base64

    uid = "1.2.826.0.1.3680043.8.498.10072293718871"
    many = [
        Canary(f"1.2.826.0.1.3680043.8.498.{n}{n}", "(0008,0018) SOPInstanceUID", "f")
        for n in range(40_000)
    ]
    sweeper = Sweeper([*many, Canary(uid, "(0008,0018) SOPInstanceUID", "a.dcm")])
    assert len(sweeper) == 0  # no automaton pattern for any of them
    found = lambda data: values(sweeper.scan_bytes(data, "x"))  # noqa: E731
    assert found(f'{{"Value": ["{uid}"]}}'.encode()) == {uid}
    assert found(f"ends {uid}. here".encode()) == {uid}
    assert found(b"\x00\x01" + uid.encode() + b"\x00" + random.Random(1).randbytes(5000)) == {uid}
    assert not found(f"{uid}.5 and 9{uid} and 3.{uid}".encode())  # inside longer numbers
    assert found(f"a..{uid}..7".encode()) == {uid}
    for wide in ("utf-16-le", "utf-16-be"):  # in a header's binary value (the text part)
        header = b"\0" * 128 + b"DICM" + b"\x09\x00\x10\x00OB\0\0" + uid.encode(wide)
        assert found(header + b"\xe0\x7f\x10\x00OB\0\0" + b"\0" * 64) == {uid}, wide
        assert not found(b"\0" * 200 + uid.encode(wide))  # in binary data: noise, as before
    for before in (b"", b"x", b"xy", b"xyz"):
        for after in (b"", b"q", b"\0\0"):
            encoded = base64.b64encode(before + uid.encode() + after).decode()
            assert found(f'{{"InlineBinary": "{encoded}"}}'.encode()) == {uid}, (before, after)
    assert found(b"abc" + base64.b64encode(b"zz" + uid.encode())) == {uid}  # run starts early
    assert not found(b"1.2.826.0.1.3680043.8.498.1007229371887")  # one digit short


def test_long_numbers_are_looked_up_as_runs_too() -> None:
    """A UID's last component (38 digits) is a canary of every instance: found as a number
    of its own, never as the end of the UID it came from."""
    tail = "10003265080643211234567890123456789864"
    sweeper = Sweeper([Canary(tail, "file meta MediaStorageSOPInstanceUID", "a.dcm")])
    assert len(sweeper) == 0
    assert values(sweeper.scan_bytes(f"id {tail} here".encode(), "p")) == {tail}
    assert not sweeper.scan_bytes(f"uid 1.2.826.0.1.3680043.8.498.{tail}".encode(), "p")
    # longer than a UID may be: before, only its first 64 digits were searched for, and a
    # prefix followed by more digits is no hit; now it is looked up whole
    hostile = "7" + "0123456789" * 12
    sweeper = Sweeper([Canary(hostile, "(0020,4000) ImageComments", "a.dcm")])
    assert values(sweeper.scan_bytes(f"note {hostile}.".encode(), "p")) == {hostile}


def test_uids_across_the_windows_of_a_big_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big file is searched for UIDs in overlapping windows (a mapped 200 MB multi-frame
    was copied whole): one planted across any window edge is found, and the tail of a
    longer number cut there is still no hit."""
    from sitegen.deid import _uids

    monkeypatch.setattr(_uids, "WINDOW", 4096)
    uid = "1.2.826.0.1.3680043.8.498.10072293718871"
    sweeper = Sweeper([Canary(uid, "(0008,0018) SOPInstanceUID", "a.dcm")])
    noise = random.Random(2).randbytes(20_000).replace(b".", b"x")
    for at in (4096 - 50, 4096 - 20, 4096, 8192 - 1, 12288 - len(uid) + 1):
        data = noise[:at] + b"\0" + uid.encode() + b"\0" + noise[at:]
        assert values(sweeper.scan_bytes(data, "big")) == {uid}, at
        longer = noise[:at] + b"\0" + b"9" * 3000 + b"." + uid.encode() + b"\0" + noise[at:]
        assert not sweeper.scan_bytes(longer, "big"), at
    # a window that begins just after "9." would see the UID alone, were it not cut back
    edge = 4096 - _uids.OVERLAP
    data = noise[: edge - 2] + b"9." + uid.encode() + b"\0" + noise[edge:]
    assert not sweeper.scan_bytes(data, "big")
