"""A streaming multipart/related reader (RFC 2046) for WADO-RS answers.

Parts are written to their sink as the bytes arrive, so a large instance is never held in memory
whole; only a delimiter's length of bytes is kept back between chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message
from typing import BinaryIO

MAX_HEADER_BYTES = 64 * 1024


class TruncatedMultipart(Exception):
    """The body ended before the closing delimiter: the transfer was cut short."""


class MultipartError(Exception):
    """The body is not multipart at all (or not the boundary announced)."""


def boundary_of(content_type: str) -> str | None:
    """The boundary parameter of a multipart/related Content-Type, or None if it is not one."""
    msg = Message()
    msg["content-type"] = content_type
    if msg.get_content_type() != "multipart/related":
        return None
    boundary = msg.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def part_type(headers: dict[str, str]) -> str:
    """A part's media type without parameters, lower case ("" when absent)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


class MultipartReader:
    """Feed it the body in chunks; `open_part(headers)` returns where a part's bytes go (or
    None to drop them). `finish()` raises TruncatedMultipart unless the closing delimiter came.
    """

    def __init__(self, boundary: str, open_part: Callable[[dict[str, str]], BinaryIO | None]):
        self._delim = b"\r\n--" + boundary.encode("ascii")
        self._open_part = open_part
        self._buf = bytearray(b"\r\n")  # the first delimiter may open the body with no CRLF
        self._state = "preamble"
        self._out: BinaryIO | None = None
        self.parts = 0

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._step():
            pass

    def finish(self) -> None:
        if self._state != "end":
            raise TruncatedMultipart(f"the body ended in the {self._state} of part {self.parts}")

    def _step(self) -> bool:
        """Advance one state if the buffer allows; False when more bytes are needed."""
        buf, keep = self._buf, len(self._delim) - 1
        if self._state in ("preamble", "body"):
            idx = buf.find(self._delim)
            if idx < 0:
                if len(buf) > keep:
                    self._write(buf[: len(buf) - keep])
                    del buf[: len(buf) - keep]
                return False
            self._write(buf[:idx])
            del buf[: idx + len(self._delim)]
            if self._state == "body":
                self._out = None
            self._state = "delimiter"
            return True
        if self._state == "delimiter":
            if buf[:2] == b"--":
                self._state = "end"
                buf.clear()
                return False
            eol = buf.find(b"\r\n")
            if eol < 0:
                if len(buf) > 1024:
                    raise MultipartError("no line end after a boundary")
                return False
            if buf[:eol].strip(b" \t"):
                raise MultipartError("unexpected bytes after a boundary")
            del buf[: eol + 2]
            self._state = "headers"
            return True
        if self._state == "headers":
            if buf[:2] == b"\r\n":  # a part with no headers
                end, head = 2, b""
            else:
                idx = buf.find(b"\r\n\r\n")
                if idx < 0:
                    if len(buf) > MAX_HEADER_BYTES:
                        raise MultipartError("part headers are too long")
                    return False
                end, head = idx + 4, bytes(buf[:idx])
            del buf[:end]
            self.parts += 1
            self._out = self._open_part(_parse_headers(head))
            self._state = "body"
            return True
        buf.clear()  # after the closing delimiter: the epilogue is ignored
        return False

    def _write(self, data: bytearray) -> None:
        if self._state == "body" and self._out is not None and data:
            self._out.write(data)


def _parse_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers
