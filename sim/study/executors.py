"""Where a sweep's replications run: in this process, in a local process pool, or on a
Dask distributed cluster. Every executor maps the same pure top-level worker
(``run_replication``) over the same tasks and yields results as they finish, so the rows
are the same whichever runs them; only their order of arrival differs.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sim import __version__
from sim.analysis.compare import replication_metrics
from sim.analysis.workers import worker_pool
from sim.detect import rules
from sim.model.errors import InputError
from sim.model.scenario import Scenario
from sim.study.names import LOCAL

LOOPBACK = "127.0.0.1"  # a local cluster listens here only: no other machine can reach it


class ExecutorError(InputError):
    """An executor that cannot be started or reached; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Task:
    """One replication at one grid point."""

    point: int
    replication: int
    seed: int
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class Replication:
    """What a worker sends back: the headline metrics, and the version that computed them."""

    version: str
    metrics: dict[str, float]


Results = Generator[tuple[Task, Replication], None, None]  # (task, result) as each finishes


def run_replication(scenario: Scenario, seed: int) -> Replication:
    """Run one replication and return its headline metrics: the pure, picklable worker
    that every executor maps (a Dask worker imports it from the installed package). On a
    Dask worker, each of whose threads has a replication of its own already, its rules
    run in one thread, as a local pool worker's do."""
    if _on_dask_worker():
        with rules.one_thread():
            return Replication(__version__, replication_metrics(scenario, seed))
    return Replication(__version__, replication_metrics(scenario, seed))


def _on_dask_worker() -> bool:
    """Whether this runs as a task of a Dask worker (Dask is not imported to find out)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:  # not in a worker's task
        return False
    return True


def serial(tasks: Sequence[Task]) -> Results:
    """Run the tasks one after another in this process."""
    for task in tasks:
        yield task, run_replication(task.scenario, task.seed)


def process_pool(tasks: Sequence[Task], workers: int) -> Results:
    """Run the tasks on ``workers`` local processes, yielding each result as it finishes."""
    if not tasks:
        return
    pool = worker_pool(min(workers, len(tasks)))
    try:
        pending: dict[Future[Replication], Task] = {
            pool.submit(run_replication, t.scenario, t.seed): t for t in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: (pending[f].replication, pending[f].point)):
                yield pending.pop(future), future.result()
    except BrokenProcessPool:
        raise ExecutorError("a worker process died (killed, or out of memory?); the rows "
                            "finished so far are saved: run the same command again to go on, "
                            "with fewer workers if memory is short") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def dask_client(scheduler: str, workers: int, dashboard: str | None = None
                ) -> Iterator[Any]:
    """A connected Dask client: ``scheduler`` is the address of a running scheduler
    (``tcp://HOST:PORT``, or ``tls://`` with Dask's TLS settings from its configuration),
    or ``local`` for a ``LocalCluster`` of ``workers`` single-threaded processes bound to
    loopback, with no dashboard unless ``dashboard`` (``HOST:PORT``) asks for one. Raises
    ExecutorError when it cannot be had, before the sweep writes anything."""
    try:
        import dask.config as dask_config
        import distributed
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise ExecutorError("a Dask scheduler needs Dask distributed: pip install distributed"
                            ) from None
    dask: Any = distributed  # untyped
    cluster: Any = None
    # A local cluster's workers keep their scratch files (and locks) in a folder of their
    # own, removed with the cluster: nothing is left in the system's temporary folder.
    scratch = tempfile.TemporaryDirectory(prefix="deconflict-dask-")
    try:
        if scheduler == LOCAL:
            # Without a dashboard the scheduler still serves its plain HTTP pages (worker
            # lists, metrics): none of them either, unless asked.
            quiet: dict[str, Any] = {} if dashboard else {"distributed.scheduler.http.routes": [],
                                          "distributed.worker.http.routes": []}
            with dask_config.set({**quiet, "temporary-directory": scratch.name}):
                cluster = dask.LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, host=LOOPBACK,
                                            dashboard_address=dashboard,
                                            local_directory=scratch.name,
                                            silence_logs=logging.ERROR)
            client = dask.Client(cluster)
        else:
            client = dask.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        if cluster is not None:
            cluster.close()
        scratch.cleanup()
        raise ExecutorError(f"scheduler={scheduler}: cannot reach the Dask scheduler "
                            f"({type(exc).__name__}: {exc}); start one with `dask scheduler` "
                            "and workers with `dask worker tcp://HOST:8786`, or use "
                            "scheduler=local") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        scratch.cleanup()


def dask_results(client: Any, tasks: Sequence[Task]) -> Results:
    """Run the tasks on a Dask cluster through ``client``, yielding each as it finishes."""
    from distributed import as_completed

    futures: dict[Any, Task] = {}
    try:
        for task in tasks:
            futures[client.submit(run_replication, task.scenario, task.seed, pure=False)] = task
        for future in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            yield futures[future], future.result()
    finally:
        if futures:
            client.cancel(list(futures))


Executor = Callable[[Sequence[Task]], Results]


@contextmanager
def open_executor(workers: int, scheduler: str | None = None,
                  dashboard: str | None = None) -> Iterator[Executor]:
    """The executor a sweep asks for, ready to run tasks: a Dask cluster when given a
    ``scheduler`` (connected here, so that an unreachable one is found before anything is
    written), else ``workers`` local processes (1: this process)."""
    if scheduler is not None:
        with dask_client(scheduler, workers, dashboard) as client:
            yield lambda tasks: dask_results(client, tasks)
    elif workers > 1:
        yield lambda tasks: process_pool(tasks, workers) if len(tasks) > 1 else serial(tasks)
    else:
        yield serial
