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
