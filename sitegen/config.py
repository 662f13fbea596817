"""site.toml and case files -> a validated `Site`, with every problem reported at once.

Modelled on MkDocs' config schema: each key is checked, and all problems are collected and
raised together in one `ConfigError`, each naming the file, the key and the reason.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import casecheck
from .deid import DEFAULT_OPTIONS, KNOWN_OPTIONS
from .lessons import Lesson
from .lessons import parse as parse_lessons
from .sources._dicomweb_url import looks_like_url, parse_dicomweb_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRAME_CODECS = ("htj2k", "jpegls", "raw")
OHIF_VERSIONS = ("3.13.2",)  # pinned with their integrity in sitegen/ohif.py
OHIF_KEEP = ("ort", "microscopy")
BURNED_IN = ("refuse", "mask", "allow")
DEID_OPTIONS = tuple(sorted(KNOWN_OPTIONS))
DEFAULT_DEID_OPTIONS = tuple(sorted(DEFAULT_OPTIONS))


@dataclass(frozen=True)
class Problem:
    """One configuration mistake: where it is and how to fix it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.key}: {self.message}"
            if self.key
            else f"{self.file}: {self.message}"
        )


class ConfigError(Exception):
    """All problems found in a configuration, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        files = sorted({p.file for p in problems})
        n = len(problems)
        super().__init__(f"{', '.join(files)} has {n} problem{'s' if n != 1 else ''}")


MAX_PACK_MIB = 20  # [build] pack: under Cloudflare Pages' 25 MiB per file


@dataclass(frozen=True)
class SiteSettings:
    title: str
    base_url: str = "/"
    url: str = ""
    out_dir: str = "public"
    author: str = ""
    license: str = ""
    description: str = ""


@dataclass(frozen=True)
class BuildSettings:
    workers: int = 0
    frames: str = "htj2k"
    lossy: int | None = None
    lossy_psnr: float | None = None  # lossy = { psnr = N }: the quality chosen per image
    downloads: bool = True  # Part 10 files under dicom/ and a zip per case under downloads/
    lossless_downloads: bool = False  # with lossy frames: the Part 10 files stay lossless
    zips: str = "files"  # case zips as files ("files") or made in the browser ("browser")
    pack: int = 0  # MiB: a series' frames in files of at most this size (0: a file per frame)

    @property
    def is_lossy(self) -> bool:
        return self.lossy is not None or self.lossy_psnr is not None


@dataclass(frozen=True)
class DeidSettings:
    enabled: bool = True
    profile: str = "basic"
    options: tuple[str, ...] = DEFAULT_DEID_OPTIONS
    key_file: str = ".sitegen/key"
    burned_in: str = "refuse"


@dataclass(frozen=True)
class OhifSettings:
    enabled: bool = False
    version: str = "3.13.2"
    data_source: str = "auto"
    user_config: str = ""  # a JS file beside site.toml, merged into OHIF's app-config.js
    keep: tuple[str, ...] = ()  # optional parts of the OHIF build to publish: "ort", "microscopy"
    oidc: dict[str, Any] = field(default_factory=dict)  # OHIF's oidc[0], passed through as is


@dataclass(frozen=True)
class Mask:
    series: int
    rect: tuple[int, int, int, int]


UNKNOWN_TITLE = "Unknown case"  # what a quiz case (unknown = true) is called until Reveal


@dataclass(frozen=True)
class Case:
    slug: str
    title: str
    source: str
    file: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""
    discussion: str = ""
    tags: tuple[str, ...] = ()
    unknown: bool = False
    view: dict[str, Any] = field(default_factory=dict)
    annotations: tuple[dict[str, Any], ...] = ()
    questions: tuple[dict[str, Any], ...] = ()  # prompts for the reader, answers behind Reveal
    references: tuple[dict[str, str], ...] = ()  # { text, doi, pmid, url }
    related: tuple[str, ...] = ()  # slugs of other cases of the site
    studies: tuple[dict[str, str], ...] = ()  # per study, in date order: { label, findings }
    added: str = ""  # when the case joined the site (YYYY-MM-DD): the gallery's "Newest"
    auth: dict[str, str] = field(default_factory=dict)
    burned_in: str = ""
    masks: tuple[Mask, ...] = ()
    study_description: str = ""
    stack_every: int = 1  # publish every Nth slice of each series (stack = { every = N })
    stack_slab: int = 1  # or the mean of each N slices (stack = { slab = N })

    @property
    def public_title(self) -> str:
        """The title every surface shows before Reveal: a quiz case's is not its own."""
        return UNKNOWN_TITLE if self.unknown else self.title

    def is_sample(self) -> bool:
        return self.source.startswith("sample:")

    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://", "dicomweb+http"))


@dataclass(frozen=True)
class Site:
    root: Path
    config_file: Path
    site: SiteSettings
    build: BuildSettings
    deid: DeidSettings
    ohif: OhifSettings
    cases: tuple[Case, ...]
    lessons: tuple[Lesson, ...] = ()

    def source_path(self, case: Case) -> Path:
        """The local path a non-sample, non-URL case source points at."""
        return (self.root / case.source).resolve()

    def out_path(self) -> Path:
        return (self.root / self.site.out_dir).resolve()


# --- schema ----------------------------------------------------------------------------------
# Each section maps key -> (accepted python types, human type name).
_STR = ((str,), "a string")
_BOOL = ((bool,), "true or false")
_INT = ((int,), "an integer")
_LIST = ((list,), "a list")
_TABLE = ((dict,), "a table")

SECTIONS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "site": {
        "title": _STR,
        "base_url": _STR,
        "url": _STR,
        "out_dir": _STR,
        "author": _STR,
        "license": _STR,
        "description": _STR,
    },
    "build": {
        "workers": _INT,
        "frames": _STR,
        "lossy": ((bool, int, dict), "false, a quality 1-100 or { psnr = N }"),
        "downloads": _BOOL,
        "lossless_downloads": _BOOL,
        "zips": _STR,
        "pack": _INT,
    },
    "deid": {
        "enabled": _BOOL,
        "profile": _STR,
        "options": _LIST,
        "key_file": _STR,
        "burned_in": _STR,
    },
    "ohif": {
        "enabled": _BOOL,
        "version": _STR,
        "data_source": _STR,
        "user_config": _STR,
        "keep": _LIST,
        "oidc": _TABLE,
    },
}
CASE_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "slug": _STR,
    "title": _STR,
    "source": _STR,
    "history": _STR,
    "findings": _STR,
    "diagnosis": _STR,
    "discussion": _STR,
    "tags": _LIST,
    "unknown": _BOOL,
    "view": _TABLE,
    "annotations": _LIST,
    "questions": _LIST,
    "references": _LIST,
    "related": _LIST,
    "studies": _LIST,
    "added": ((str, dt.date), "a date (2026-11-30)"),
    "auth": _TABLE,
    "burned_in": _STR,
    "masks": _LIST,
    "study_description": _STR,
    "stack": _TABLE,
}
TOP_KEYS = (*SECTIONS, "cases", "lessons")


def _hint(key: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'unknown key; did you mean "{close[0]}"?' if close else "unknown key"


class _Checker:
    """Collects problems while reading one TOML table."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        # every case this file declares, valid or not: (slug, title, its `related`), so that
        # a shared slug and a related case are checked in the same run as everything else
        self.declared: list[tuple[str, str, list[Any]]] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def table(
        self, data: dict[str, Any], schema: dict[str, tuple[tuple[type, ...], str]], prefix: str
    ) -> dict[str, Any]:
        """Type-check `data` against `schema`; returns only the well-typed known keys."""
        good: dict[str, Any] = {}
        for key, value in data.items():
            where = f"{prefix}.{key}" if prefix else key
            if key not in schema:
                self.add(where, _hint(key, list(schema)))
                continue
            types, name = schema[key]
            is_bool = isinstance(value, bool)
            if not isinstance(value, types) or (is_bool and bool not in types):
                self.add(where, f"{value!r} is not {name}")
                continue
            good[key] = value
        return good


def load_config(path: str | Path) -> Site:
    """Read and validate a site configuration; raises ConfigError listing every problem."""
    config_file = Path(path).resolve()
    label = _label(config_file)
    if not config_file.is_file():
        hint = "no such file (sitegen new FOLDER makes a site to start from)"
        raise ConfigError([Problem(label, "", hint)])
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(label, "", f"not valid TOML: {exc}")]) from None
    return parse_config(data, config_file)


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_config(data: dict[str, Any], config_file: Path) -> Site:
    """Validate parsed TOML (plus cases/*/case.md beside it) into a Site."""
    root = config_file.parent
    chk = _Checker(_label(config_file))
    for key in data:
        if key not in TOP_KEYS:
            chk.add(key, _hint(key, TOP_KEYS))
    sections: dict[str, dict[str, Any]] = {}
    for name, schema in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            chk.add(name, "must be a table, e.g. [" + name + "]")
            raw = {}
        sections[name] = chk.table(raw, schema, name)

    site = _site_settings(sections["site"], chk)
    build = _build_settings(sections["build"], chk)
    deid = _deid_settings(sections["deid"], chk)
    ohif = _ohif_settings(sections["ohif"], chk, root)
    if build.pack and ohif.enabled:  # packed: OHIF has no frame files, only Part 10 files
        if not build.downloads:
            chk.add(
                "build.pack",
                "with [ohif] enabled needs [build] downloads = true: OHIF "
                "reads the pixels from the Part 10 files when the frames are packed",
            )
        elif ohif.data_source == "dicomweb":
            chk.add(
                "ohif.data_source",
                '"dicomweb" finds no frame files when [build] pack is '
                'set: use "auto" (OHIF opens the Part 10 files over DICOM JSON)',
            )

    raw_cases = data.get("cases", [])
    if not isinstance(raw_cases, list):
        chk.add("cases", "must be an array of tables: [[cases]]")
        raw_cases = []
    cases: list[Case] = []
    problems = list(chk.problems)
    checkers: list[_Checker] = []
    for i, raw in enumerate(raw_cases):
        c = _Checker(chk.file)
        checkers.append(c)
        if not isinstance(raw, dict):
            c.add(f"cases[{i}]", "must be a table")
        else:
            case = _case(raw, f"cases[{i}]", c, root, config_file, slug=None)
            if case is not None:
                cases.append(case)
        problems += c.problems
    for case_md in sorted((root / "cases").glob("*/case.md")):
        c = _Checker(_label(case_md))
        checkers.append(c)
        case = _case_from_markdown(case_md, c, root)
        if case is not None:
            cases.append(case)
        problems += c.problems

    seen: dict[str, tuple[str, str]] = {}  # slug -> (file, title) of the first to declare it
    links: dict[str, list[Any]] = {}
    files: dict[str, str] = {}
    for c in checkers:
        for slug, title, names in c.declared:
            if slug in seen:
                first_file, first_title = seen[slug]
                also = f"the case in {first_file}" if first_file != c.file else "another case"
                problems.append(
                    Problem(
                        c.file,
                        "slug",
                        f'"{slug}" is also the slug of {also} ("{first_title}"): '
                        "each case needs its own",
                    )
                )
                continue
            seen[slug] = (c.file, title)
            links[slug], files[slug] = names, c.file
    for slug, key, message in casecheck.related(links, list(links)):
        problems.append(Problem(files[slug], key, f'case "{slug}": {message}'))
    lesson_problems = _Checker(chk.file)
    lessons = parse_lessons(data.get("lessons"), list(links), lesson_problems.add)
    problems += lesson_problems.problems
    if problems:
        raise ConfigError(problems)
    return Site(root, config_file, site, build, deid, ohif, tuple(cases), lessons)


def _site_settings(raw: dict[str, Any], chk: _Checker) -> SiteSettings:
    if "title" not in raw:
        chk.add("site.title", "required: the site's title")
    base = raw.get("base_url", "/")
    problem = base_url_problem(base)
    if problem:
        chk.add("site.base_url", problem)
    base = normalize_base_url(base)
    url = raw.get("url", "")
    problem = site_url_problem(url) if url else None
    if problem:
        chk.add("site.url", problem)
    if url and not url.endswith("/"):
        url += "/"
    out_dir = raw.get("out_dir", "public")
    if not out_dir or out_dir in (".", "..") or Path(out_dir).is_absolute() and out_dir == "/":
        chk.add("site.out_dir", f'"{out_dir}" cannot be the site folder itself')
    fields = {k: v for k, v in raw.items() if k not in ("base_url", "url")}
    return SiteSettings(**{"title": "", **fields, "base_url": base, "url": url})


_URL_PATH = re.compile(r"/[A-Za-z0-9._~!$()*+,;=:@%/-]*")


def base_url_problem(base: str) -> str | None:
    """Why `base` cannot be the site's path (it is written into pages and host files such as
    _headers, so a line break or a quote in it would inject lines), or None."""
    if not base.startswith("/"):
        return f'{base!r} must start with "/" (e.g. "/teaching/")'
    if not _URL_PATH.fullmatch(base) or "/../" in base + "/" or "/./" in base + "/":
        return f"{base!r} must be a URL path of letters, digits and - . _ ~ / only"
    return None


def site_url_problem(url: str) -> str | None:
    """Why `url` cannot be the site's absolute address, or None."""
    if not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f<>\"'`\\]+", url):
        return f"{url!r} must be an absolute http(s) URL without spaces or quotes"
    return None


def normalize_base_url(base: str) -> str:
    """'/teaching' and 'teaching/' both become '/teaching/'."""
    base = "/" + base.strip("/")
    return base if base == "/" else base + "/"


def _build_settings(raw: dict[str, Any], chk: _Checker) -> BuildSettings:
    frames = raw.get("frames", "htj2k")
    if frames not in FRAME_CODECS:
        chk.add("build.frames", f'"{frames}" must be one of {", ".join(FRAME_CODECS)}')
    workers = raw.get("workers", 0)
    if workers < 0:
        chk.add("build.workers", f"{workers} must be 0 (all cores) or more")
    lossy = raw.get("lossy", False)
    psnr = None
    if isinstance(lossy, dict):
        psnr = lossy.get("psnr")
        if set(lossy) != {"psnr"} or isinstance(psnr, bool) or not isinstance(psnr, int | float):
            chk.add("build.lossy", "must be { psnr = N }: the lowest quality reaching N dB")
            psnr = None
        elif not 30 <= psnr <= 100:
            chk.add("build.lossy.psnr", f"{psnr} must be from 30 to 100 (dB)")
            psnr = None
        lossy = False
    elif lossy is True or (not isinstance(lossy, bool) and not 1 <= lossy <= 100):
        chk.add("build.lossy", f"{lossy!r} must be false or a quality from 1 to 100")
        lossy = False
    zips = raw.get("zips", "files")
    if zips not in ("files", "browser"):
        chk.add("build.zips", f'"{zips}" must be "files" or "browser"')
    pack = raw.get("pack", 0)
    if not 0 <= pack <= MAX_PACK_MIB:
        chk.add("build.pack", f"{pack} must be 0 (a file per frame) or 1 to {MAX_PACK_MIB} (MiB)")
        pack = 0
    return BuildSettings(
        workers=workers,
        frames=frames,
        lossy=None if lossy is False else lossy,
        lossy_psnr=None if psnr is None else float(psnr),
        downloads=raw.get("downloads", True),
        lossless_downloads=raw.get("lossless_downloads", False),
        zips=zips,
        pack=pack,
    )


def _deid_settings(raw: dict[str, Any], chk: _Checker) -> DeidSettings:
    options = raw.get("options", list(DEFAULT_DEID_OPTIONS))
    for opt in options:
        if opt not in DEID_OPTIONS:
            close = difflib.get_close_matches(str(opt), DEID_OPTIONS, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            chk.add("deid.options", f'unknown option "{opt}"{hint}')
    if raw.get("profile", "basic") != "basic":
        chk.add("deid.profile", '"basic" is the only profile')
    burned = raw.get("burned_in", "refuse")
    if burned not in BURNED_IN:
        chk.add("deid.burned_in", f'"{burned}" must be one of {", ".join(BURNED_IN)}')
    return DeidSettings(
        enabled=raw.get("enabled", True),
        options=tuple(str(o) for o in options),
        key_file=raw.get("key_file", ".sitegen/key"),
        burned_in=burned,
    )


def _ohif_settings(raw: dict[str, Any], chk: _Checker, root: Path) -> OhifSettings:
    source = raw.get("data_source", "auto")
    if source not in ("auto", "dicomweb", "dicomjson"):
        chk.add("ohif.data_source", f'"{source}" must be auto, dicomweb or dicomjson')
    version = raw.get("version", OHIF_VERSIONS[-1])
    if version not in OHIF_VERSIONS:
        chk.add("ohif.version", f'"{version}" is not pinned; use one of {", ".join(OHIF_VERSIONS)}')
    keep = tuple(str(k) for k in raw.get("keep", []))
    for name in keep:
        if name not in OHIF_KEEP:
            chk.add("ohif.keep", f'unknown part "{name}"; the parts are {", ".join(OHIF_KEEP)}')
    user_config = raw.get("user_config", "")
    if user_config and not (root / user_config).is_file():
        chk.add("ohif.user_config", f'"{user_config}" is not a file beside the configuration')
    oidc = raw.get("oidc", {})
    if oidc and not isinstance(oidc.get("authority"), str):
        chk.add("ohif.oidc", "needs authority (the OpenID provider's URL) and client_id")
    return OhifSettings(
        enabled=raw.get("enabled", False),
        version=version,
        data_source=source,
        user_config=user_config,
        keep=keep,
        oidc=dict(oidc),
    )


def suggest_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "case"


def _case(
    raw: dict[str, Any], prefix: str, chk: _Checker, root: Path, file: Path, slug: str | None
) -> Case | None:
    """Validate one case table. `slug` is given for case.md files (the folder name)."""
    schema = {k: v for k, v in CASE_KEYS.items() if not (slug and k == "slug")}
    good = chk.table(raw, schema, prefix)
    prefix = prefix + "." if prefix else ""
    n_before = len(chk.problems)
    slug = slug if slug is not None else good.get("slug")
    if slug is None:
        if "slug" not in raw:
            chk.add(f"{prefix}slug", "required: lowercase letters, digits and '-'")
    elif not SLUG_RE.match(slug):
        chk.add(
            f"{prefix}slug",
            f'"{slug}": use lowercase letters, digits and \'-\' (e.g. "{suggest_slug(slug)}")',
        )
    if isinstance(slug, str):
        title = good.get("title", "")
        chk.declared.append(
            (slug, title if isinstance(title, str) else "", good.get("related", []))
        )
    if "title" not in raw:
        chk.add(f"{prefix}title", "required")
    source = good.get("source")
    if source is None and "source" not in raw:
        chk.add(f"{prefix}source", "required: a folder, file, .zip, DICOMDIR or sample:NAME")
    elif source is not None:
        _check_source(source, f"{prefix}source", chk, root)
    burned = good.get("burned_in", "")
    if burned and burned not in BURNED_IN:
        chk.add(f"{prefix}burned_in", f'"{burned}" must be one of {", ".join(BURNED_IN)}')
    tags = good.get("tags", [])
    if not all(isinstance(t, str) for t in tags):
        chk.add(f"{prefix}tags", "must be a list of strings")
        tags = []
    masks = _masks(good.get("masks", []), f"{prefix}masks", chk)
    annotations = good.get("annotations", [])
    if not all(isinstance(a, dict) for a in annotations):
        chk.add(f"{prefix}annotations", "must be a list of tables")
        annotations = []
    casecheck.problems(good.get("view", {}), annotations, prefix, chk.add)
    questions = good.get("questions", [])
    if not all(isinstance(q, dict) for q in questions):
        chk.add(f"{prefix}questions", "must be a list of tables")
        questions = []
    for n, q in enumerate(questions):
        casecheck.question(q, f"{prefix}questions[{n}]", chk.add)
    references = [
        casecheck.reference(r, f"{prefix}references[{n}]", chk.add)
        for n, r in enumerate(good.get("references", []))
    ]
    added = good.get("added", "")
    if isinstance(added, dt.date):
        added = added.isoformat()[:10]
    elif added and not re.match(r"^\d{4}-\d{2}-\d{2}$", added):
        chk.add(f"{prefix}added", f'"{added}" is not a date: write it as 2026-11-30')
        added = ""
    studies = good.get("studies", [])
    for n, study in enumerate(studies):
        casecheck.study_note(study, f"{prefix}studies[{n}]", chk.add)
    auth = good.get("auth", {})
    _check_auth(auth, f"{prefix}auth", chk, root, source)
    stack = good.get("stack", {})
    every, slab = stack.get("every", 1), stack.get("slab", 1)
    if (
        len(stack) > 1
        or set(stack) - {"every", "slab"}
        or any(isinstance(n, bool) or not isinstance(n, int) for n in (every, slab))
    ):
        chk.add(
            f"{prefix}stack",
            "must be { every = N } (every Nth slice) or { slab = N } (the mean of each N)",
        )
    else:
        for key, n in (("every", every), ("slab", slab)):
            if not 1 <= n <= 100:
                chk.add(f"{prefix}stack.{key}", f"{n} must be from 1 (every slice) to 100")
    if len(chk.problems) != n_before or slug is None or source is None:
        return None
    label = _label(file)
    return Case(
        slug=slug,
        title=good["title"],
        source=source,
        file=label,
        history=good.get("history", ""),
        findings=good.get("findings", ""),
        diagnosis=good.get("diagnosis", ""),
        discussion=good.get("discussion", ""),
        tags=tuple(tags),
        unknown=good.get("unknown", False),
        view=good.get("view", {}),
        annotations=tuple(annotations),
        questions=tuple(questions),
        references=tuple(r for r in references if r is not None),
        related=tuple(good.get("related", [])),
        studies=tuple(studies),
        added=added,
        auth={k: str(v) for k, v in auth.items()},
        burned_in=burned,
        masks=masks,
        study_description=good.get("study_description", ""),
        stack_every=every,
        stack_slab=slab,
    )


def _check_source(source: str, key: str, chk: _Checker, root: Path) -> None:
    if source.startswith("sample:"):
        from .sources.sample import sample_names

        name = source.removeprefix("sample:")
        if name not in sample_names():
            chk.add(key, f'"{source}": unknown sample; known: {", ".join(sample_names())}')
    elif looks_like_url(source):
        try:
            parse_dicomweb_url(source)
        except ValueError as exc:
            chk.add(key, f'"{source}": {exc}')
    elif not (root / source).exists():
        chk.add(key, f'"{source}": no such file or folder')


AUTH_KEYS = ("bearer_env", "basic_user_env", "basic_password_env", "ca_bundle")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_auth(auth: dict[str, Any], key: str, chk: _Checker, root: Path, source: Any) -> None:
    """The auth table names environment variables (never the secrets themselves)."""
    for name, value in auth.items():
        if name not in AUTH_KEYS:
            chk.add(f"{key}.{name}", _hint(name, list(AUTH_KEYS)))
        elif not isinstance(value, str) or not value:
            chk.add(f"{key}.{name}", "must be a non-empty string")
        elif name == "ca_bundle":
            if not (root / value).is_file():
                chk.add(f"{key}.{name}", f'"{value}": no such file')
        elif not ENV_NAME_RE.match(value):
            # do not echo it: it may be the secret pasted in by mistake
            chk.add(f"{key}.{name}", "must name an environment variable (letters, digits, _)")
    if auth.get("bearer_env") and (auth.get("basic_user_env") or auth.get("basic_password_env")):
        chk.add(key, "use either bearer_env or basic_user_env + basic_password_env, not both")
    elif bool(auth.get("basic_user_env")) != bool(auth.get("basic_password_env")):
        chk.add(key, "basic_user_env and basic_password_env go together")
    if auth and isinstance(source, str) and not looks_like_url(source):
        chk.add(key, "only DICOMweb (URL) sources take auth")


def _masks(raw: list[Any], key: str, chk: _Checker) -> tuple[Mask, ...]:
    masks = []
    for i, m in enumerate(raw):
        rect = m.get("rect") if isinstance(m, dict) else None
        series = m.get("series", 0) if isinstance(m, dict) else None
        if (
            not isinstance(rect, list)
            or len(rect) != 4
            or not all(isinstance(v, int) and v >= 0 for v in rect)
            or not isinstance(series, int)
        ):
            chk.add(f"{key}[{i}]", "must be { series = N, rect = [x, y, width, height] }")
            continue
        masks.append(Mask(series, (rect[0], rect[1], rect[2], rect[3])))
    return tuple(masks)


def _case_from_markdown(case_md: Path, chk: _Checker, root: Path) -> Case | None:
    """cases/<slug>/case.md: TOML front matter between +++ lines, Markdown body = discussion."""
    text = case_md.read_text(encoding="utf-8")
    match = re.match(r"^\+\+\+\s*\n(.*?)\n\+\+\+\s*(?:\n|$)(.*)$", text, re.S)
    if not match:
        chk.add("", "must start with TOML front matter between +++ lines")
        return None
    try:
        front = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        before = text[: match.start(1)].count("\n")  # the +++ line: tomllib counts from 1
        where = re.sub(
            r"\(at line (\d+)", lambda m: f"(at line {int(m.group(1)) + before}", str(exc)
        )
        chk.add("", f"front matter is not valid TOML: {where}")
        return None
    body = match.group(2).strip()
    if body and "discussion" not in front:
        front["discussion"] = body
    folder = case_md.parent
    if "source" not in front:
        front["source"] = str(folder.relative_to(root))
    return _case(front, "", chk, root, case_md, slug=folder.name)
