"""UID-shaped canaries (and other long numbers), found by looking up runs of digits and
dots in a set.

Every instance's original SOP Instance UID is a canary, so a site of 20,000 instances has
40,000 of them; as patterns of the sweep's automaton (each also in UTF-16 and base64) they
made a sweeper of 700 MB, built in the build and in each worker. A UID can only occur as a
whole run of digits and dots, though: the runs of the data are cut out and looked up, so the
cost does not grow with the number of UIDs.

A UID counts as the sweep's numbers do: not inside a longer run of digits and dots
("1.2.3" inside "1.2.3.4" is no hit; a full stop after it is no digit). Runs are read:

* as bytes, anywhere in a file (ASCII, UTF-8 and the other DICOM character sets agree here);
* as UTF-16 LE and BE, in the text part of a file (as the automaton's UTF-16 forms);
* base64-decoded (InlineBinary in DICOM JSON, a data: URL), at each of the four offsets a
  run of base64 characters can start at within its encoding.
"""

from __future__ import annotations

import base64
import binascii
import mmap
import re
import string
from collections.abc import Iterable, Iterator

import numpy as np

from ._canary import Canary

MIN_LENGTH = 16  # shorter dotted numbers stay in the automaton (dates like 04.03.2019)
MAX_LENGTH = 512  # a UID is at most 64; longer numbers too, while OVERLAP holds them
_SHAPE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_SPLIT = re.compile(rb"\.{2,}")


def is_uid(value: str) -> bool:
    """Digits, dotted or not, of 16 or more characters: UIDs, and the long numbers made of
    them (a UID's last component, 38 digits, is a canary of every instance too)."""
    return MIN_LENGTH <= len(value) <= MAX_LENGTH and bool(_SHAPE.fullmatch(value))


def _pairs(chars: bytes) -> np.ndarray:
    """Which 16-bit words are two of `chars`."""
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    return (table[:, None] & table[None, :]).reshape(-1)  # symmetric: either byte order


WINDOW = 1 << 20  # bytes: memory per search stays a few times this
OVERLAP = 4 * MAX_LENGTH  # more than any number looked up, in UTF-16 (twice) or base64
_PART = re.compile(rb"(?:[0-9]|\.(?!\.))*")  # digits and single dots: one number's bytes


def _partial(data: bytes) -> int:
    """How many of `data`'s first bytes may be the end of a number that began before it."""
    found = _PART.match(data)
    return found.end() if found else 0


_DIGITS = b"0123456789."
_BASE64 = (string.ascii_letters + string.digits + "+/").encode()
_RUN_PAIRS = _pairs(_DIGITS)
_BASE64_PAIRS = _pairs(_BASE64)
# every other byte a space: the runs are what bytes.split() returns (a regex is 2-5x slower)
_RUN_TABLE = bytes(c if c in _DIGITS else 0x20 for c in range(256))
_BASE64_TABLE = bytes(c if c in _BASE64 else 0x20 for c in range(256))


def _long_runs(data: bytes, table: bytes, shortest: int) -> list[bytes]:
    """The maximal runs of `data`'s bytes that `table` keeps, at least `shortest` long."""
    return [run for run in data.translate(table).split() if len(run) >= shortest]


def _may_hold_run(arr: np.ndarray, pairs: np.ndarray, shortest: int, rare: bool) -> bool:
    """Whether `arr` may hold a run of `shortest` bytes of a set; False is exact.

    Such a run covers (shortest - 1) // 2 words in a row at even offsets that are each two of
    its bytes, so every k-th of those words, of at least `need` in a row: one lookup per
    k-th word, then halving ANDs. `rare`: the pairs are rare in random bytes (digits, 0.2 %),
    three in a row rule a run out; else (base64's letters, 6 %) six. A regex over 200 KB of
    compressed pixels took milliseconds; this a fraction of one."""
    n = len(arr)
    if n < shortest:
        return False
    words = max(1, (shortest - 1) // 2)
    need = min(words, 3 if rare else 6)
    step = max(1, words // need)
    ok = np.take(pairs, arr[: n - n % 2].view("<u2")[::step])
    span = 1
    while span < need and ok.any():
        shift = min(span, need - span)
        ok = ok[:-shift] & ok[shift:]
        span += shift
    return bool(ok.any())


class UidCanaries:
    """The UID-shaped canaries of a sweeper; `find` returns those in some data."""

    def __init__(self, pairs: Iterable[tuple[str, Canary]]) -> None:
        """From (value as swept, canary) pairs; of two with one value, the first."""
        self._by_value: dict[bytes, Canary] = {}
        for value, canary in pairs:
            self._by_value.setdefault(value.encode("ascii"), canary)
        shortest = min((len(v) for v in self._by_value), default=MIN_LENGTH)
        self._shortest = shortest
        self._wide_le = re.compile(rb"(?:[0-9.]\x00){%d,}" % shortest)
        self._wide_be = re.compile(rb"(?:\x00[0-9.]){%d,}" % shortest)
        # base64 of `shortest` bytes, less the characters the neighbouring bytes share
        self._encoded = 4 * shortest // 3 - 2

    def __bool__(self) -> bool:
        return bool(self._by_value)

    def find(self, data: bytes | mmap.mmap, text_stop: int) -> Iterator[Canary]:
        """The canaries in `data` (each as often as found); `text_stop`: where its text
        part ends (UTF-16 counts there only). A big file (a mapped 200 MB multi-frame) is
        read in windows that overlap by more than any UID: a number cut at a window's edge
        is left to the window that holds it whole."""
        n = len(data)
        if n <= WINDOW:
            yield from self._find(data, text_stop)
            return
        for at in range(0, n, WINDOW):
            lo, hi = max(0, at - OVERLAP), min(n, at + WINDOW + OVERLAP)
            window = data[lo:hi]
            head = _partial(window) if lo > 0 else 0
            tail = _partial(window[::-1]) if hi < n else 0
            yield from self._find(window[head : len(window) - tail], text_stop - lo - head)

    def _find(self, data: bytes | mmap.mmap, text_stop: int) -> Iterator[Canary]:
        """`find` in data small enough to copy. The text part and the rest are searched
        apart: a DICOM header holds runs of digits, its pixel data rarely one."""
        text_stop = min(max(text_stop, 0), len(data))
        arr = np.frombuffer(data, dtype=np.uint8)
        regions = [(0, text_stop), (text_stop, len(data))]
        for start, end in regions:  # the tag at text_stop is no digit: no run crosses
            if _may_hold_run(arr[start:end], _RUN_PAIRS, self._shortest, rare=True):
                for run in _long_runs(data[start:end], _RUN_TABLE, self._shortest):
                    yield from self._lookup(run)
        text = data[:text_stop]
        if b"\x00" in text:  # UTF-16 holds NULs
            for pattern, first in ((self._wide_le, 0), (self._wide_be, 1)):
                for match in pattern.finditer(text):
                    yield from self._lookup(match.group()[first::2])
        for start, end in regions:  # the same; a base64 value ends at a quote or NUL
            if _may_hold_run(arr[start:end], _BASE64_PAIRS, self._encoded, rare=False):
                for run in _long_runs(data[start:end], _BASE64_TABLE, self._encoded):
                    if run.isdigit():  # a UID's digits: base64 of digits has letters
                        continue
                    for decoded in _decodings(run):
                        for inner in _long_runs(decoded, _RUN_TABLE, self._shortest):
                            yield from self._lookup(inner)

    def _lookup(self, run: bytes) -> Iterator[Canary]:
        """A run of digits and dots: the numbers in it between runs of two or more dots,
        without the dots at their ends, each looked up whole."""
        for part in _SPLIT.split(run):
            canary = self._by_value.get(part.strip(b"."))
            if canary is not None:
                yield canary


def _decodings(run: bytes) -> Iterator[bytes]:
    """A run of base64 characters decoded from each of its first four offsets (where the
    encoded value may start), its last bytes too (a value's padding is not in the run)."""
    for offset in range(4):
        body = run[offset:]
        if len(body) % 4 == 1:  # one character encodes no byte
            body = body[:-1]
        try:
            yield base64.b64decode(body + b"=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            continue
