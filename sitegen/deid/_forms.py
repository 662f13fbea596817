"""The byte forms of a canary the sweep searches for (letter cases, accents, character sets,
UTF-16, base64), and the byte-level tests it makes around each match."""

from __future__ import annotations

import base64
import mmap
import unicodedata
from functools import lru_cache

import numpy as np

# Character sets in which a non-ASCII value may be stored (DICOM Specific Character Sets).
_ENCODINGS = (
    "utf-8",
    "latin-1",
    "iso8859_2",
    "iso8859_5",
    "iso8859_7",
    "iso8859_9",
    "gb18030",
    "shift_jis",
    "euc_kr",
)

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_SEPARATORS = frozenset("\x00 \t\r\n^\\=,;:\"'<>()[]{}/|")

_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "æ": "ae",
        "ø": "oe",
        "å": "aa",
    }
)


_UTF16 = ("utf-16-le", "utf-16-be")
MIN_WIDE = 4  # canaries this long are also searched for in UTF-16


def _base64_cores(data: bytes) -> list[str]:
    """The base64 characters that only `data` decides, at each of the three alignments it
    can have inside a longer encoded value."""
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode("ascii")
        first = -(-8 * shift // 6)
        last = (8 * (shift + len(data)) - 6) // 6
        core = encoded[first : last + 1]
        if len(core) >= 8:
            cores.append(core.lower())
    return cores


@lru_cache(maxsize=65536)
def _patterns(value: str) -> frozenset[tuple[str, bool]]:
    """Every byte form of ``value`` (as lower-cased latin-1 text) worth searching for: letter
    cases, NFC and NFD, accents stripped or transliterated (Mueller), the DICOM character
    sets, UTF-16 (LE and BE) and base64 of its UTF-8 (as in DICOM JSON InlineBinary). Each
    comes with whether it counts in text only (UTF-16: in 16-bit pixel data, runs of values
    that spell a word are common)."""
    forms = {value, value.lower(), value.upper()}
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c)
    )
    forms.add(stripped)
    forms.add(value.translate(_TRANSLITERATION))
    forms |= {unicodedata.normalize(f, v) for f in ("NFC", "NFD") for v in list(forms)}
    patterns: set[tuple[str, bool]] = set()
    for form in forms:
        encodings = _ENCODINGS if not form.isascii() else ("ascii",)
        if len(value) >= MIN_WIDE:
            encodings = (*encodings, *_UTF16)
        for encoding in encodings:
            try:
                data = form.encode(encoding)
            except UnicodeEncodeError:
                continue
            patterns.add((data.lower().decode("latin-1"), encoding in _UTF16))
            if encoding in ("utf-8", "ascii") and len(data) >= 6:
                patterns.update((core, False) for core in _base64_cores(data))
    return frozenset(patterns)


def _find(outer: bytes, inner: bytes, start: int) -> int:
    """`outer.find(inner, start)`, fast for a long `inner`: found by its first bytes, then
    compared (a search for the whole of a 200 KB frame prepares the whole of it first). A
    few tries, then the plain search: a frame of one repeated byte matches its head
    everywhere."""
    head = inner[:64]
    at = outer.find(head, start)
    for _ in range(4):
        if at < 0 or outer[at : at + len(inner)] == inner:
            return at
        at = outer.find(head, at + 1)
    return outer.find(inner, start)


_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[0x30:0x3A] = True
_IS_SPLIT = np.zeros(256, dtype=bool)
_IS_SPLIT[list(b"-/_ ")] = True


def _split_digits(data: bytes | mmap.mmap) -> bool:
    """Whether `data` holds a digit, one of ``- / _`` or a space, and a digit in a row: where
    _DIGIT_RUN_RE can match at all (vectorised: the regex is slow on text full of numbers)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if len(arr) < 3:
        return False
    return bool((_IS_SPLIT[arr[1:-1]] & _IS_DIGIT[arr[:-2]] & _IS_DIGIT[arr[2:]]).any())


def _sorted_words(prefixes: set[bytes], size: int) -> np.ndarray:
    """Byte strings of `size` bytes as sorted little-endian words (at least one, so a
    lookup needs no empty case: an all-NUL word, which no pattern starts with)."""
    dtype = f"<u{size}"
    return np.sort(np.frombuffer(b"".join(prefixes) or b"\0" * size, dtype))


def _isin(words: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Which of `words` are in the sorted `table`."""
    at = np.minimum(np.searchsorted(table, words), len(table) - 1)
    return table[at] == words


@lru_cache(maxsize=4096)
def _cases(pair: bytes) -> list[int]:
    """Every upper/lower-case form of two lower-cased bytes (only ASCII letters have two),
    as little-endian 16-bit words."""
    forms = [{b, ord(chr(b).upper())} if 0x61 <= b <= 0x7A else {b} for b in pair]
    return [first | second << 8 for first in forms[0] for second in forms[1]]


def _separates(char: str) -> bool:
    """True at the start/end of data or for a separator typical of text and DICOM values."""
    return not char or char in _SEPARATORS


def _in_word(char: str) -> bool:
    """True when ``char`` continues a word: ASCII letter/digit or any non-ASCII byte."""
    return bool(char) and (char in _ALNUM or ord(char) >= 0x80)
