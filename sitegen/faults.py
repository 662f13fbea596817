"""Which failures belong to one input and which to the whole build.

A bad input file is skipped with a warning naming it; a full disk, an I/O error, running out
of file handles or of memory is the machine's problem, not the file's: skipping "bad" files
then would publish a site with holes and exit 0. Those fail the build and publish nothing.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

_RESOURCE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EMFILE, errno.ENFILE, errno.EROFS, errno.ENOMEM}
)


def is_resource_error(exc: BaseException) -> bool:
    """Whether `exc` says the machine, not the input, failed."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRNOS


def reason(exc: BaseException) -> str:
    """One line: the exception's type and the first line of its message."""
    if isinstance(exc, RecursionError):
        return "sequences nested deeper than sitegen reads (RecursionError)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def contained(warnings: list[str], label: str, what: str) -> Iterator[None]:
    """Turn a failure while making `what` for `label` (an input file, a series) into a
    warning; resource errors still fail the build."""
    try:
        yield
    except Exception as exc:
        if is_resource_error(exc):
            raise
        warnings.append(f"{label}: {what} could not be made ({reason(exc)}), left out")


@contextlib.contextmanager
def about(label: str) -> Iterator[None]:
    """Name `label` (a case, a file) on any exception that leaves this block."""
    try:
        yield
    except Exception as exc:
        exc.add_note(label)
        raise


def worker_init(pid: int) -> None:
    """Worker initializer: pydicom's warnings are not printed (they quote the invalid values
    they find: the patient's data), and the worker ends when the build process is gone."""
    import warnings

    warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    watch_parent(pid)


def watch_parent(pid: int, every: float = 0.5) -> None:
    """End this worker when the build process `pid` is gone (killed with -9 it cannot stop
    its pool; the workers, their fork server and the resource tracker would otherwise run
    on, holding memory, forever)."""
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # the pid was reused by another user's process
                os._exit(1)

    threading.Thread(target=watch, name="sitegen-parent-watch", daemon=True).start()
