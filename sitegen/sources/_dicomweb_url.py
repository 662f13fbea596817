"""The shape of a DICOMweb source URL, checked without any network (config validation uses it).

Forms:
  https://host/dicom-web/studies/<S>                 one study
  https://host/dicom-web/studies/<S>/series/<R>      one series
  dicomweb+https://host/dicom-web?PatientID=...      every study a QIDO-RS search returns
(http:// and dicomweb+http:// too; the dicomweb+ prefix is also accepted on the first two forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
# QIDO attribute keys: a keyword (PatientID), a tag (00100020) or a dotted sequence path
_QUERY_KEY_RE = re.compile(r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$")
_RESERVED_KEYS = {"limit", "offset", "includefield", "fuzzymatching"}
_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


class DicomwebError(ValueError):
    """A DICOMweb source could not be read. The message names the URL, never a secret."""


def looks_like_url(source: str) -> bool:
    """Whether a case source is meant as a URL (then it must be a valid DICOMweb one)."""
    return bool(_URL_RE.match(source.strip()))


def valid_uid(uid: str) -> bool:
    """A DICOM UID that is safe in a file name: digits and dots, at most 64 characters."""
    return len(uid) <= 64 and bool(UID_RE.match(uid))


@dataclass(frozen=True)
class DicomwebUrl:
    """A parsed source: the DICOMweb root and what to take from it."""

    source: str  # as written in the config
    root: str  # e.g. https://host/dicom-web (no trailing slash)
    study: str = ""
    series: str = ""
    query: tuple[tuple[str, str], ...] = ()  # the QIDO search form

    def normalized(self) -> str:
        """One spelling per source, for the cache key."""
        parts = [self.root]
        if self.study:
            parts.append(f"studies/{self.study}")
        if self.series:
            parts.append(f"series/{self.series}")
        text = "/".join(parts)
        if self.query:
            text += "?" + "&".join(f"{k}={v}" for k, v in sorted(self.query))
        return text


def parse_dicomweb_url(source: str) -> DicomwebUrl:
    """Parse a DICOMweb source URL; raises ValueError saying what is wrong with its shape."""
    text = source.strip()
    search_form = text.lower().startswith("dicomweb+")
    if search_form:
        text = text[len("dicomweb+") :]
    if not re.match(r"^https?://", text, re.I):
        raise ValueError("a DICOMweb source must start with https://, http:// or dicomweb+https://")
    parts = urlsplit(text)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "credentials must not be in the URL: name environment variables in the case's "
            "auth table (bearer_env, or basic_user_env and basic_password_env)"
        )
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.fragment:
        raise ValueError("the URL must not have a #fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the URL has an invalid port") from None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    path = re.sub(r"/+$", "", parts.path)
    match = re.match(r"^(.*?)/studies/([^/]+)(?:/series/([^/]+))?$", path)
    if match:
        if parts.query:
            raise ValueError("a study or series URL takes no ?query (use the search form)")
        root, study, series = match.group(1), match.group(2), match.group(3) or ""
        for uid, what in ((study, "study"), (series, "series")):
            if uid and not valid_uid(uid):
                raise ValueError(f'"{uid}" is not a valid {what} UID (digits and dots, max 64)')
        return DicomwebUrl(source, urlunsplit((scheme, host, root, "", "")), study, series)
    if re.search(r"/(studies|series|instances)(/|$)", path):
        raise ValueError(
            "expected .../studies/<StudyInstanceUID> or .../studies/<uid>/series/<uid>"
        )
    if not search_form:
        raise ValueError(
            "expected https://host/<dicomweb root>/studies/<StudyInstanceUID>[/series/<uid>], "
            "or a search as dicomweb+https://host/<dicomweb root>?PatientID=..."
        )
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    if not query:
        raise ValueError(
            "the search form needs at least one QIDO-RS query parameter "
            "(e.g. ?PatientID=...&StudyDate=...): without one it would take every study"
        )
    for key, _ in query:
        if not _QUERY_KEY_RE.match(key) or key.lower() in _RESERVED_KEYS:
            raise ValueError(f'"{key}" is not a query attribute (use a keyword like PatientID)')
    return DicomwebUrl(source, urlunsplit((scheme, host, path, "", "")), query=query)
