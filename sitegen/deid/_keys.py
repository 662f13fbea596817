"""The site's secret key and the keyed (HMAC) derivations made from it.

Everything that replaces an identifier is keyed: without the key nobody can recompute the
mapping from a guessed original UID or patient ID (an unkeyed hash would allow exactly that).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
DATE_OFFSET_MIN_DAYS = -3650
DATE_OFFSET_MAX_DAYS = -365


def load_or_create_key(path: Path) -> bytes:
    """Return the 32-byte key stored at ``path``, creating it (mode 0600) on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
            os.chmod(path, 0o600)  # in case the umask was stricter/looser than expected
            return key
    key = path.read_bytes()
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # a key others can read lets them undo the keyed mappings
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: expected a {KEY_BYTES}-byte key, found {len(key)} bytes")
    return key


def keyed_uid(key: bytes, uid: str) -> str:
    """``2.25.`` + decimal of the first 128 bits of HMAC-SHA256(key, uid); at most 44 chars."""
    digest = hmac.new(key, uid.encode("ascii", "replace"), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def keyed_date_offset(key: bytes, patient_id: str) -> int:
    """A per-patient shift in [-3650, -365] days, so one patient's intervals survive."""
    message = b"sitegen-date-offset\x00" + patient_id.encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    span = DATE_OFFSET_MAX_DAYS - DATE_OFFSET_MIN_DAYS + 1
    return DATE_OFFSET_MIN_DAYS + int.from_bytes(digest[:8], "big") % span


def derived_key(key: bytes, name: str) -> bytes:
    """A key for a second copy of the same data (see Deidentifier.for_copy)."""
    return hmac.new(key, b"sitegen-copy\x00" + name.encode("utf-8"), hashlib.sha256).digest()
