"""The `sitegen` command's entry point: Ctrl-C while the program is still importing (a second
or so) ends it quietly too, not with a traceback; `sitegen --version`, and a `sitegen build`
with nothing to do (see quick.py), answer before the pipeline (pydicom, numpy, the codecs)
is imported at all."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # as click's version_option says it, in 0.05 s not 1 s
        from . import __version__

        print(f"sitegen, version {__version__}")
        return
    if sys.argv[1:2] == ["build"]:  # nothing changed: say so before importing the pipeline
        from . import __version__, quick

        text = quick.current(sys.argv[2:])
        if text is not None:
            if not {"-q", "--quiet"} & set(sys.argv[2:]):
                print(
                    f"sitegen {__version__} · nothing changed since the last build "
                    "(quick check of the inputs): the published site is current",
                    file=sys.stderr,
                )
            sys.stderr.write(text)
            return
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.exit(130)
    run()
