"""Author text (case history, findings, discussion) as safe HTML.

Markdown via markdown-it-py's CommonMark preset with raw HTML disabled: `<script>` in a case
text becomes visible text, and links with javascript:/vbscript:/data: URLs are not made.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_html(text: str) -> str:
    """Markdown -> HTML with raw HTML escaped; '' for empty text."""
    return _md().render(text) if text.strip() else ""


def reference_links(ref: dict[str, str]) -> list[tuple[str, str]]:
    """(label, URL) of a reference's identifiers: its DOI, its PubMed entry, its own URL."""
    links = []
    if ref.get("doi"):
        links.append(("DOI", f"https://doi.org/{ref['doi']}"))
    if ref.get("pmid"):
        links.append(("PubMed", f"https://pubmed.ncbi.nlm.nih.gov/{ref['pmid']}/"))
    if ref.get("url"):
        links.append(("Link", ref["url"]))
    return links


def references_html(refs: tuple[dict[str, str], ...] | list[dict[str, str]]) -> str:
    """The references as an HTML list: the citation as text, its links (DOI, PubMed, URL)
    after it; every value escaped. The case page and the answer file share it."""
    from markupsafe import escape

    if not refs:
        return ""
    items = []
    for ref in refs:
        links = " ".join(
            f'<a href="{escape(url)}" rel="noopener">{label}</a>'
            for label, url in reference_links(ref)
        )
        items.append(f"<li>{escape(ref['text'])}{' ' + links if links else ''}</li>")
    return '<ol class="references">' + "".join(items) + "</ol>"
