"""No published file relies on a header for safety: script payloads in every text field of
site.toml, case.md and DICOM, opened in chromium from a server that sends no headers (as
GitHub Pages and Surge send no CSP), run nothing."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pydicom
from conftest import serving
from dicomgen import write_ct_series

from sitegen.build import build
from sitegen.config import load_config

PAYLOADS = [
    "<script>alert('s1')</script>",
    "<img src=x onerror=alert('s2')>",
    "\"><svg onload=alert('s3')>",
    "'><iframe srcdoc=\"<script>parent.alert('s4')</script>\">",
    "</script><script>alert('s5')</script>",
    "javascript:alert('s6')",
]
P = " ".join(PAYLOADS)


def _toml(value: str) -> str:
    return json.dumps(value)  # a TOML basic string


def _hostile_site(root: Path) -> Path:
    dicom = root / "cases/hostile/dicom"
    for path in write_ct_series(dicom, 3):
        ds = pydicom.dcmread(path)
        for keyword in (
            "StudyDescription",
            "SeriesDescription",
            "Manufacturer",
            "ManufacturerModelName",
            "InstitutionName",
            "BodyPartExamined",
            "ProtocolName",
            "ImageComments",
        ):
            # other payloads than the texts': a removed value found in a page is a leak
            payload = PAYLOADS[len(keyword) % len(PAYLOADS)].replace("'s", f"'{keyword[:3]}")
            setattr(ds, keyword, payload[:64])
        ds.save_as(path, enforce_file_format=True)
    annotations = "".join(
        f'\n[[annotations]]\nseries = 1\nslice = {n % 3 + 1}\nshape = "arrow"\n'
        f"points = [[2, 2], [9, 9]]\nlabel = {_toml(p)}\n"
        for n, p in enumerate(PAYLOADS)
    )
    front = (
        f'title = {_toml("Case " + P)}\nsource = "cases/hostile/dicom"\n'
        f"history = {_toml(P)}\nfindings = {_toml(P)}\ndiagnosis = {_toml(P)}\n"
        f"tags = {json.dumps(PAYLOADS)}\nstudy_description = {_toml(PAYLOADS[1])}\n"
        # the teaching keys: questions, references, per-study notes
        f"questions = [{{ prompt = {_toml(P)}, options = {json.dumps(PAYLOADS[:2])}, answer = 2, "
        f"explanations = {json.dumps(PAYLOADS[2:4])} }}, {{ prompt = {_toml(P)}, "
        f"model = {_toml(P)} }}]\n"
        f'references = [{_toml(P)}, {{ text = {_toml(P)}, doi = "10.1000/x" }}]\n'
        f"studies = [{{ label = {_toml(P)}, findings = {_toml(P)} }}]\n"
        f"{annotations}"
    )
    body = "\n\n".join(
        [P, "[link](javascript:alert('m1'))", "<script>alert('m2')</script>", f"## {P}"]
    )
    (root / "cases/hostile/case.md").write_text(f"+++\n{front}+++\n{body}\n", encoding="utf-8")
    quiz = front.replace("title = ", 'unknown = true\nrelated = ["hostile"]\ntitle = ', 1)
    (root / "cases/quiz").mkdir(parents=True)
    (root / "cases/quiz/case.md").write_text(
        f"+++\n{quiz.replace('cases/hostile/dicom', 'cases/quiz/dicom')}+++\n{body}\n",
        encoding="utf-8",
    )
    write_ct_series(root / "cases/quiz/dicom", 2, seed="q")
    config = root / "site.toml"
    config.write_text(
        f"[site]\ntitle = {_toml('Site ' + P)}\ndescription = {_toml(P)}\n"
        f"author = {_toml(P)}\nlicense = {_toml(PAYLOADS[0])}\n"
        '[deid]\noptions = ["retain-device-identity", "clean-descriptors"]\n'
        f'[[lessons]]\nslug = "l"\ntitle = {_toml(P)}\ndescription = {_toml(P)}\n'
        'cases = ["quiz", "hostile"]\n',
        encoding="utf-8",
    )
    return config


def _pages(out: Path) -> list[str]:
    """Every HTML file and every folder a host answers with its index.html."""
    found = []
    for path in sorted(out.rglob("*.html")):
        rel = path.relative_to(out).as_posix()
        if rel.startswith("ohif/"):
            continue
        found.append(rel[: -len("index.html")] if rel.endswith("index.html") else rel)
    return found


def test_script_payloads_run_nowhere_on_a_server_without_headers(tmp_path: Path, browser) -> None:
    config = _hostile_site(tmp_path / "site")
    report = build(load_config(config), workers=1)
    assert report.published, report.errors
    out = tmp_path / "site/public"
    # the JSON served as HTML holds the payloads, escaped: still the same JSON
    studies = (out / "dicomweb/studies/index.html").read_text()
    assert "<" not in studies and ">" not in studies and "\\u003c" in studies
    descriptions = [s["00081030"]["Value"][0] for s in json.loads(studies) if "00081030" in s]
    assert PAYLOADS[1] in descriptions
    pages = _pages(out)
    assert "dicomweb/studies/" in pages and "cases/hostile/" in pages and "" in pages
    assert "lessons/l/" in pages
    pages += ["viewer/?case=hostile", "viewer/?case=quiz", "viewer/?case=hostile&reveal=1"]
    dialogs: list[str] = []
    with serving(out, plain=True) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
        for rel in pages:
            response = page.goto(url + rel, wait_until="load")
            assert response is not None and response.status == 200, rel
            assert "content-security-policy" not in response.headers
            page.wait_for_timeout(150)
        # what the viewer draws from the manifest: the case text revealed, every label shown
        page.goto(url + "viewer/?case=quiz", wait_until="load")
        reveal = page.locator("button", has_text="Reveal")
        if reveal.count():
            reveal.first.click()
            page.wait_for_timeout(300)
        for case in ("quiz", "hostile"):  # Reveal, and the questions' answers, drawn
            page.goto(url + f"cases/{case}/", wait_until="load")
            page.locator("input[type=radio]").first.check()
            for button in page.locator("button, summary").all():
                with contextlib.suppress(Exception):
                    button.click(timeout=500)
            page.wait_for_timeout(300)
            assert page.locator(".question .verdict").count() == 2, case  # both were checked
        context.close()
    assert dialogs == []
