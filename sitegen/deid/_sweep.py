"""The canary sweep: the last check on the finished site before anything is published.

One Aho-Corasick pass per file finds every canary at once.  File bytes are ASCII-lower-cased
and read as latin-1, so each byte is one character; every canary is added in the byte forms
it could take in a file (UTF-8, Latin-1 and a few other DICOM character sets, lower/upper
case, accents stripped or transliterated as in Mueller).

False alarms are kept rare without weakening the check on real text:

* numeric canaries (dates, IDs, UIDs) count with 5+ digits, when not embedded in a longer
  run of digits and dots (a UID prefix inside another UID is not a leak); under 8
  characters only in text. In text, runs of digits split by ``- / _`` or spaces are also
  compared digits-only, without zero padding ("0044-1928" is "441928");
* name parts of 2-3 letters count only as whole words in text;
* short canaries (< 6 characters) count only as whole words.  In text (text files, the
  header of a DICOM file, path names) a word ends at anything but an ASCII letter, digit or
  non-ASCII byte.  In binary data (images, DICOM pixel data) a short canary must be framed
  by real separators (NUL, whitespace, ``^ \\ = , ; : " ' < > ( ) [ ] { } / |``): random
  bytes then hit a given 4-letter word about once in 27 GB instead of once in 250 MB.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
import numpy as np

from ._canary import IDENTIFIER_MIN_DIGITS, Canary, is_numeric, mask
from ._forms import (
    _cases,
    _find,
    _in_word,
    _isin,
    _patterns,
    _separates,
    _sorted_words,
    _split_digits,
)
from ._uids import UidCanaries, is_uid

NUMERIC_MIN_LENGTH = 8  # shorter numbers count in text only (random bytes hold them often)
TEXT_ONLY_BELOW = 4  # shorter canaries (name parts of 2-3 letters) count in text only
WORD_BOUNDARY_BELOW = 6
MAX_PATTERN_CHARS = 64  # of a canary: its first characters find any copy of it
PREFILTER_ABOVE = 16 * 1024  # bytes; below, the automaton alone is as fast
CHUNK_BYTES = 1024 * 1024  # memory per scan stays a few times this (at 4 MB, 29 MB a scan)

_TEXT_SNIFF_BYTES = 8192
# Pixel Data, and the Float and Double Float Pixel Data before it (a file holds one)
_DICOM_PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[0x41:0x5B] += 0x20  # as bytes.lower(): ASCII letters only
_EXACT_CHECKS = 64


def text_end(data: bytes | mmap.mmap) -> int:
    """Where the text part of ``data`` ends: all of a text file, a DICOM file's header, or 0.

    Short canaries get the looser whole-word rule only before this offset.
    """
    head = data[:_TEXT_SNIFF_BYTES]
    if b"\x00" not in head:
        return len(data)
    if data[128:132] == b"DICM":
        end = len(data)
        for tag in _DICOM_PIXEL_TAGS:  # each searched only before the one found already
            found = data.find(tag, 132, end)
            end = found if found >= 0 else end
        return end
    return 0


@dataclass(frozen=True)
class Hit:
    """A canary found in the output.  ``value`` is masked: safe to print and log."""

    path: str
    value: str
    canary: Canary = field(repr=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.value} ({self.canary.attribute}, from {self.canary.source})"


@dataclass(frozen=True)
class _Pattern:
    canary: Canary
    numeric: bool
    whole_word: bool
    text_only: bool = False


_NOT_DIGITS = re.compile(r"[^0-9]")
# whole words shorter than TEXT_ONLY_BELOW only: a list of every word of a text full of
# UIDs took tens of MB
_WORD = r"[a-z0-9\x80-\xff]"
_SHORT_WORD_RE = re.compile(rf"(?<!{_WORD}){_WORD}{{1,{TEXT_ONLY_BELOW - 1}}}(?!{_WORD})")
# possessive runs: the same matches, without retrying every shorter run of digits
_DIGIT_RUN_RE = re.compile(r"(?<![\d.])\d++(?:[-/_ ]\d++)+(?![\d.])")


class Sweeper:
    """Finds canaries in bytes, files and path names; build once, scan many files."""

    def __init__(self, canaries: Iterable[Canary]) -> None:
        self.canaries = tuple(canaries)
        canaries = self.canaries
        self._automaton = ahocorasick.Automaton()
        self._longest = 0
        seen: set[str] = set()
        self._short: dict[str, Canary] = {}  # whole words of 2-3 letters, in text only
        self._digits: dict[str, Canary] = {}  # identifiers digits-only, unpadded
        infos: dict[tuple[Canary, bool, bool, bool], _Pattern] = {}  # one per kind of pattern
        uids: list[tuple[str, Canary]] = []  # looked up in a set, not in the automaton
        # a whole value before a word of free text: of two that make one pattern, the first
        # is kept, and it must not depend on the order the canaries came in
        for canary in sorted(canaries, key=lambda c: c.word):
            whole = canary.value.strip()
            if is_uid(whole):  # a number is looked up whole (`_uids`), not by a prefix
                uids.append((whole, canary))
            # a copy of a long value holds its start: the automaton's size stays bounded
            # whatever a hostile input's values hold (kilobytes of random text each)
            value = whole[:MAX_PATTERN_CHARS]
            numeric = is_numeric(value)
            if numeric:
                digits = _NOT_DIGITS.sub("", value)
                if len(digits) < IDENTIFIER_MIN_DIGITS:
                    continue
                if len(digits) <= 20:
                    self._digits.setdefault(digits.lstrip("0") or digits, canary)
                if is_uid(whole):
                    continue
            for pattern, wide in _patterns(value):
                if pattern in seen:
                    continue
                seen.add(pattern)
                # a form of digits is a number, whatever the value: "²4…" stripped of its
                # accents is "24…", which must not count inside a longer run of digits (UID)
                digit_form = numeric or is_numeric(pattern)
                if len(pattern) < TEXT_ONLY_BELOW:
                    if not digit_form:
                        self._short.setdefault(pattern, canary)
                    continue
                whole_word = not digit_form and (canary.word or len(pattern) < WORD_BOUNDARY_BELOW)
                text_only = wide or (digit_form and len(pattern) < NUMERIC_MIN_LENGTH)
                kind = (canary, digit_form, whole_word, text_only)
                info = infos.get(kind) or infos.setdefault(kind, _Pattern(*kind))
                self._automaton.add_word(pattern, (pattern, info))
        self._uids = UidCanaries(uids)
        seen = {p for p in seen if len(p) >= TEXT_ONLY_BELOW}
        self._longest = max(map(len, seen), default=0)
        self._empty = not seen and not self._short and not self._digits and not self._uids
        self._automaton_empty = not seen
        self._last_bytes = frozenset(p[-1] for p in seen)  # see covers()
        if not self._automaton_empty:
            self._automaton.make_automaton()
        # The prefilter (see _candidates): tables of every pattern's bytes 0-1, 1-2 and 2-3 (all
        # are >= 4 long) in every letter case, and its first four bytes lower-cased.
        self._pairs = np.zeros(1 << 16, dtype=bool)
        self._heads = np.zeros(1 << 16, dtype=bool)
        self._seconds = np.zeros(1 << 16, dtype=bool)
        first4: set[bytes] = set()  # patterns of 4-7 bytes: their first four
        first8: set[bytes] = set()  # longer ones: their first eight
        heads: list[int] = []
        seconds: list[int] = []
        pairs: list[int] = []
        for pattern in seen:
            raw = pattern.encode("latin-1")
            heads += _cases(raw[0:2])
            seconds += _cases(raw[2:4])
            pairs += _cases(raw[1:3])
            (first4 if len(raw) < 8 else first8).add(raw[:8])
        self._heads[heads] = True
        self._seconds[seconds] = True
        self._pairs[pairs] = True
        self._pairs |= self._heads
        self._first4 = _sorted_words({p[:4] for p in first4}, 4)
        self._first8 = _sorted_words(first8, 8)

    def _candidates(self, data: bytes | mmap.mmap) -> list[int] | None:
        """Where a pattern may start in `data` in any letter case: every offset where one
        does is in the list (exact), or None when there are too many to look at one by one
        (then the automaton reads it all).

        An occurrence at s covers the 16-bit word at the even offset s (its bytes 0-1) or
        s + 1 (bytes 1-2): one table lookup per even offset, on the data as they are (no
        lower-cased copy), finds every candidate start. The few left are checked against the
        tables of bytes 0-1 and 2-3, then the lower-cased first four bytes, all vectorised;
        the automaton reads the windows of the fewer still left (`_scan_buffer`)."""
        n = len(data)
        if n < 4:
            return []
        arr = np.frombuffer(data, dtype=np.uint8)
        words = np.flatnonzero(np.take(self._pairs, arr[: n - n % 2].view("<u2"))) * 2
        if len(words) > n >> 3:  # a quarter of the words (JSON full of UIDs): sifting them
            return None  # costs twice what the automaton does
        starts = np.concatenate((words, words - 1))
        starts = starts[(starts >= 0) & (starts + 3 < n)]
        b0, b1, b2, b3 = (arr[starts + k].astype(np.uint32) for k in range(4))
        starts = starts[self._heads[b0 | b1 << 8] & self._seconds[b2 | b3 << 8]]
        # the lower-cased first four bytes (eight, for the patterns that long) of each
        low = _LOWER[arr[starts[:, None] + np.arange(8)[None, :].clip(0, n - 1 - starts[:, None])]]
        four = low[:, :4].copy().view("<u4")[:, 0]
        eight = low.copy().view("<u8")[:, 0]
        starts = starts[
            _isin(four, self._first4) | (_isin(eight, self._first8) & (starts + 8 <= n))
        ]
        if len(starts) > max(_EXACT_CHECKS, n >> 8):  # text full of near misses (UIDs
            return None  # that share a prefix with a canary): the automaton decides
        return starts.tolist()

    def __len__(self) -> int:
        return len(self._automaton)

    def _search(
        self,
        text: str,
        base: int,
        window: tuple[int, int],
        text_stop: int,
        name: str,
        found: dict[str, Hit],
    ) -> None:
        """Matches whose absolute start lies in ``window``; ``text`` starts at ``base``."""
        for end, (pattern, info) in self._automaton.iter(text):
            start = end - len(pattern) + 1
            if not window[0] <= base + start < window[1]:
                continue
            before = text[start - 1] if start > 0 else ""
            after = text[end + 1] if end + 1 < len(text) else ""
            if info.text_only and base + start >= text_stop:
                continue
            if info.numeric:
                # "1.2.3" inside "1.2.3.4" is no hit; "on 20190304." (full stop) is one.
                if before.isdigit() or after.isdigit():
                    continue
                if before == "." and start > 1 and text[start - 2].isdigit():
                    continue
                if after == "." and end + 2 < len(text) and text[end + 2].isdigit():
                    continue
            elif info.whole_word:
                if base + start < text_stop:
                    if _in_word(before) or _in_word(after):
                        continue
                elif not (_separates(before) and _separates(after)):
                    continue
            key = info.canary.value.lower()
            if key not in found:
                found[key] = Hit(name, mask(info.canary.value), info.canary)

    def _search_text(
        self, data: bytes | mmap.mmap, text_stop: int, name: str, found: dict[str, Hit]
    ) -> None:
        """Short name parts as whole words, and identifiers reformatted with separators, in
        the text part of `data` only."""
        is_text = b"\x00" not in data[:_TEXT_SNIFF_BYTES]  # in DICOM, VR codes look like words
        for offset in range(0, text_stop, CHUNK_BYTES):
            lo = max(0, offset - 64)
            raw = data[lo : min(text_stop, offset + CHUNK_BYTES + 64)]
            text = raw.lower().decode("latin-1")
            hits: list[Canary] = []
            if self._short and is_text:
                hits += [self._short[w] for w in _SHORT_WORD_RE.findall(text) if w in self._short]
            if self._digits and _split_digits(raw):
                for run in _DIGIT_RUN_RE.findall(text):
                    digits = "".join(c for c in run if c.isdigit())
                    key = digits.lstrip("0") or digits
                    if key in self._digits:
                        hits.append(self._digits[key])
            for canary in hits:
                key = canary.value.lower()
                if key not in found:
                    found[key] = Hit(name, mask(canary.value), canary)

    def _scan_buffer(self, data: bytes | mmap.mmap, name: str) -> list[Hit]:
        """Scan in chunks; each chunk carries enough context for matches and boundaries."""
        if self._empty:
            return []
        found: dict[str, Hit] = {}
        context = self._longest + 1
        text_stop = text_end(data)
        if self._short or self._digits:
            self._search_text(data, text_stop, name, found)
        if self._uids:
            for canary in self._uids.find(data, text_stop):
                found.setdefault(canary.value.lower(), Hit(name, mask(canary.value), canary))
        if self._automaton_empty:
            return list(found.values())
        for offset in range(0, len(data), CHUNK_BYTES):
            lo = max(0, offset - context)
            chunk = data[lo : offset + CHUNK_BYTES + context]
            own = (offset, offset + CHUNK_BYTES)  # where this chunk's matches start
            starts = self._candidates(chunk) if len(chunk) > PREFILTER_ABOVE else None
            if starts is None:
                text = chunk.lower().decode("latin-1")
                self._search(text, lo, own, text_stop, name, found)
                continue
            # each candidate in its window, with the two bytes either side that the
            # boundary rules read: a near miss in a header no longer reads the whole file
            for start in starts:
                at = lo + start
                if not own[0] <= at < own[1]:
                    continue
                first = max(0, start - 2)
                text = chunk[first : start + self._longest + 2].lower().decode("latin-1")
                self._search(text, lo + first, (at, at + 1), text_stop, name, found)
        return list(found.values())

    def covers(self, outer: bytes, inner: bytes, start: int = 0) -> int:
        """Where `inner` lies in `outer` (from `start`) so that a scan of `outer` finds every
        canary a scan of `inner` would, or -1: then `inner` need not be read again (a frame
        file and its copy in the Part 10 file). Both must be read as binary there (`inner`
        has no text part, and lies after the text part of `outer`), and what borders `inner`
        in `outer` must judge a match at its edges as the edges of a file do: a separator,
        or after it a byte that is no digit nor dot when no pattern ends with its last byte
        (a frame is followed by the next item's tag)."""
        if not inner or text_end(inner) != 0:
            return -1
        at = _find(outer, inner, start)
        if at < 0 or at < text_end(outer):
            return -1
        if at > 0 and not _separates(chr(outer[at - 1])):
            return -1
        end = at + len(inner)
        if end < len(outer) and not _separates(chr(outer[end])):
            after = chr(outer[end])
            if (
                after.isdigit()
                or after == "."
                or inner[-1:].lower().decode("latin-1") in self._last_bytes
            ):
                return -1
        return at

    def scan_bytes(self, data: bytes, name: str) -> list[Hit]:
        """All canaries present in ``data`` (one Hit per canary value), reported as ``name``."""
        return self._scan_buffer(data, name)

    def scan_file(self, path: Path, name: str) -> list[Hit]:
        """Like scan_bytes, memory-mapping the file instead of reading it whole."""
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return []
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return self._scan_buffer(data, name)

    def scan_path_name(self, relative_path: str) -> list[Hit]:
        """Canaries in a (relative) path string, e.g. a file named after the patient."""
        return self.scan_bytes(relative_path.encode("utf-8"), relative_path)

    def scan_tree(self, root: Path, contents: Callable[[str], bool] | None = None) -> list[Hit]:
        """Every file's bytes and every relative path (folders and files) under ``root``.

        ``contents(relative_path)`` False skips a file's bytes (its name is still checked):
        for files that were swept already where they were made."""
        root = Path(root)
        hits: list[Hit] = []
        paths: list[str] = []
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            base = Path(directory)
            paths += [(base / name).relative_to(root).as_posix() for name in sorted(dirnames)]
            for name in sorted(filenames):
                path = base / name
                relative = path.relative_to(root).as_posix()
                paths.append(relative)
                if path.is_file() and (contents is None or contents(relative)):
                    hits += self.scan_file(path, relative)
        # all names in one pass; only when something is found, name by name to say where
        if self.scan_bytes("\n".join(paths).encode("utf-8"), "paths"):
            for relative in paths:
                hits += self.scan_path_name(relative)
        return hits
