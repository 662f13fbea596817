"""The build's workers: one executor, started when the first work needs it and shut down
once at the end, so the pixels stage and the privacy screen share the same processes.

A local process pool by default (forkserver: workers import the pipeline once), in-process
work for one worker, or a Dask cluster ("dask://HOST:PORT").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Protocol

from . import faults
from .jobs import CacheTarget, Job, Outcome
from .sources import SourceItem


class Advancing(Protocol):
    def advance(self, n: int = 1) -> None: ...


class SerialExecutor(Executor):
    """Runs work in this process: for --workers 1, debugging and tests."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


def make_executor(workers: int, address: str | None = None) -> Executor:
    """A process pool of `workers` (0 = all cores), in-process work for 1, or a Dask cluster
    for "dask://HOST:PORT" (its workers must see this machine's output folder)."""
    if address and address != "local":
        return _dask_executor(address)
    n = workers or os.cpu_count() or 1
    if n == 1:
        return SerialExecutor()
    context = get_context("forkserver")
    # workers import the pipeline once, in the fork server, not each on its own
    context.set_forkserver_preload(["sitegen.transcode"])
    return ProcessPoolExecutor(
        max_workers=n,
        mp_context=context,
        initializer=faults.worker_init,  # quiet pydicom; a killed build leaves no worker
        initargs=(os.getpid(),),
    )


def _dask_executor(address: str) -> Executor:
    if not address.startswith("dask://"):
        raise ValueError(f'--executor "{address}": use "local" or "dask://HOST:PORT"')
    from distributed import Client  # optional: pip install "sitegen-dicom[dask]"

    client = Client(address.removeprefix("dask://"))
    executor = client.get_executor()
    shutdown = executor.shutdown

    def close(wait: bool = True, **kwargs: Any) -> None:
        shutdown(wait=wait)
        client.close()

    executor.shutdown = close  # type: ignore[method-assign]
    return executor


class Workers:
    """The executor of one build (or check), made on first use; a context manager that
    shuts it down, cancelling what is still queued (a failed build stops at once)."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        self.workers = workers
        self.address = address
        self._executor: Executor | None = None

    @property
    def count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def parallel(self) -> bool:
        """Whether work handed to the workers runs beside this process."""
        return bool(self.address and self.address != "local") or self.count > 1

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(self.workers, self.address)
        return self._executor

    def run_all(
        self,
        fn: Callable[..., Any],
        calls: list[tuple[Any, ...]],
        meanwhile: Callable[[], None] = lambda: None,
    ) -> list[Any]:
        """fn(*args) for each of `calls`, in the workers, while `meanwhile()` runs here; the
        results in the order given."""
        executor = self.executor()
        futures = [executor.submit(fn, *args) for args in calls]
        meanwhile()
        return [f.result() for f in futures]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def run_jobs(
    jobs: list[tuple[SourceItem, Job]],
    workers: Workers,
    ui: Advancing,
    targets: dict[int, CacheTarget] | None = None,
) -> Iterator[tuple[SourceItem, Job, Outcome]]:
    """Run the jobs in the workers; outcomes come back as they finish. `targets` (by
    id(item)) tells workers where to keep what they make in the build cache."""
    if not jobs:
        return
    from .transcode import run  # the work itself: pydicom and the codecs, only now

    pool = workers.executor()
    targets = targets or {}
    futures = {
        pool.submit(run, item, job, targets.get(id(item))): (item, job) for item, job in jobs
    }
    try:
        for fut in as_completed(futures):
            # dropped once done: a future keeps its outcome (every canary, the unshared
            # metadata), and 20,000 of them took the parent to 2 GB
            item, job = futures.pop(fut)
            try:
                outcome = fut.result()
            except BrokenProcessPool:  # killed (out of memory) or a codec crashed
                outcome = Outcome(item.label)
                outcome.fatal = (
                    f"{item.label}: a worker process died while it (or an input beside it) "
                    "was being read: out of memory, killed, or a crash in a decoder"
                )
                yield item, job, outcome
                return
            yield item, job, outcome
            ui.advance()
    finally:
        for fut in futures:  # stopped early (a fatal outcome): nothing more to run
            fut.cancel()
