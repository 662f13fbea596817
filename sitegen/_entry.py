"""The `sitegen` command's entry point: Ctrl-C while the program is still importing (a second
or so) ends it quietly too, not with a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.exit(130)
    run()
