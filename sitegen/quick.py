"""A no-op `sitegen build`, answered before the pipeline is imported.

Importing the build (pydicom, numpy, the codecs, the whole pipeline) takes most of a second;
a rebuild with nothing changed needs none of it. So the command first hashes what the
output depends on, cheaply: sitegen's own files, the arguments, site.toml and the case
texts by content, the key file, and each local case source by its files' names, sizes and
modification times. If that equals what the last successful build of the same output
recorded, and the output is still that build's folder (the atomic swap gives each
published folder a new inode), the site is current: the command prints what that build's
no-op would print and ends. Anything else (an argument it does not know, a DICOMweb source,
a changed or touched file, no record) leaves the decision to the build itself, which
decides by content. Standard library only: this module is imported first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RECORD = Path(".sitegen/cache/quick.json")
_VALUE = {"--config", "-c", "--out", "--workers", "-j", "--base-url", "--site-url"}
_FLAG = {"--strict", "--quiet", "-q"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def code_fingerprint() -> str:
    """sitegen's own files (code, templates, viewer) by size and mtime."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            st = path.stat()
            digest.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _arguments(args: list[str]) -> dict[str, str] | None:
    """`sitegen build` arguments as {option: value}, or None for any other form."""
    known: dict[str, str] = {}
    i = 0
    while i < len(args):
        name, _, value = args[i].partition("=")
        if name in _FLAG and not value:
            known[name.lstrip("-")[:1]] = "1"
        elif name in _VALUE:
            if not value:
                i += 1
                if i >= len(args):
                    return None
                value = args[i]
            known[{"-c": "config", "-j": "workers"}.get(name, name.lstrip("-"))] = value
        else:
            return None
        i += 1
    return known


def _tree(path: Path, digest: hashlib._Hash) -> None:  # type: ignore[name-defined]
    if path.is_file():
        st = path.stat()
        digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            st = os.stat(os.path.join(folder, name))
            digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())


def fingerprint(args: list[str]) -> tuple[str, Path, Path] | None:
    """(fingerprint, output folder, record file) of `sitegen build ARGS`, or None when the
    build itself must decide."""
    known = _arguments(args)
    if known is None:
        return None
    config = Path(known.get("config", "site.toml")).resolve()
    try:
        text = config.read_bytes()
        data = tomllib.loads(text.decode("utf-8"))
        root = config.parent
        digest = hashlib.sha256(code_fingerprint().encode())
        options = {k: v for k, v in known.items() if k not in ("q", "workers", "config")}
        digest.update(json.dumps(options, sort_keys=True).encode() + text)
        sources = [c.get("source", "") for c in data.get("cases", [])]
        for case_md in sorted((root / "cases").glob("*/case.md")):
            front = case_md.read_bytes()
            digest.update(front)
            match = re.match(rb"^\+\+\+\s*\n(.*?)\n\+\+\+", front, re.S)
            source = tomllib.loads(match.group(1).decode()).get("source") if match else None
            sources.append(source or str(case_md.parent.relative_to(root)))
        for source in sources:
            if not isinstance(source, str) or "://" in source or source.startswith("dicomweb"):
                return None  # a DICOMweb source: only a request can tell
            if source.startswith("sample:"):
                digest.update(source.encode())
            else:
                _tree(root / source, digest)
        # no key yet: the build makes one, so the output depends on a file not yet there
        key = root / data.get("deid", {}).get("key_file", ".sitegen/key")
        digest.update(hashlib.sha256(key.read_bytes()).digest())
        user = data.get("ohif", {}).get("user_config")
        if user:
            digest.update((root / user).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    out_dir = known.get("out") or data.get("site", {}).get("out_dir", "public")
    return digest.hexdigest(), (root / out_dir).resolve(), root / RECORD


def current(args: list[str]) -> str | None:
    """What to print when `sitegen build ARGS` has nothing to do, or None (build)."""
    found = fingerprint(args)
    if found is None:
        return None
    digest, out, record = found
    try:
        last = json.loads(record.read_text(encoding="utf-8"))
        if (last["fingerprint"], last["out"]) != (digest, str(out)):
            return None
        if last["out_inode"] != out.stat().st_ino:
            return None
        return str(last["text"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(found: tuple[str, Path, Path] | None, text: str) -> None:
    """After a successful build: what its no-op prints, for the next `current`."""
    if found is None:
        return
    digest, out, record = found
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "fingerprint": digest,
            "out": str(out),
            "out_inode": out.stat().st_ino,
            "text": _ANSI.sub("", text),
        }
        # private like the rest of .sitegen/: the report it holds names input files
        fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(entry))
        record.chmod(0o600)
    except OSError:
        pass  # the next build decides for itself


def forget(found: tuple[str, Path, Path] | None) -> None:
    """A failed build: the record no longer describes the inputs."""
    if found is not None:
        found[2].unlink(missing_ok=True)
