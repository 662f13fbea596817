"""JSON that stays inert wherever a host serves it.

A static host answers `.../studies/` with `index.html`, so the QIDO lists (which carry case
titles and study descriptions) are served as text/html; GitHub Pages and Surge send no CSP.
So `<`, `>` and `&` never appear as themselves in JSON sitegen publishes: they are written as
`\\u003c`, `\\u003e`, `\\u0026` (the same strings to every JSON parser, no markup to a browser),
and U+2028/U+2029 as escapes too (line breaks to a JavaScript parser).
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_ESCAPES)


def dumps(obj: Any, *, sort_keys: bool = False, indent: int | None = None) -> str:
    """json.dumps, compact unless `indent`, with every markup character escaped. JSON's own
    syntax has none of them, so only string contents change, to equal escapes."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        obj, sort_keys=sort_keys, indent=indent, separators=separators, ensure_ascii=False
    )
    return text.translate(_TABLE)
