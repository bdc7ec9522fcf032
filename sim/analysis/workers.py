"""Local worker processes for replications: a process pool whose workers leave interrupts
to their parent and end themselves if it dies."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from sim.detect import rules

ORPHAN_CHECK_S = 0.2  # how often a worker checks that its parent still runs


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes set up by ``start_worker``."""
    return ProcessPoolExecutor(max_workers=workers, initializer=start_worker)


def start_worker() -> None:
    """Set up a pool worker.

    Ctrl-C reaches the whole process group: the parent stops the pool and keeps what it
    has; the workers should not each print a traceback. SIGTERM ends a worker at once (the
    command line's clean-up handler, inherited through fork, is the parent's business).
    And a worker would outlive a parent killed outright (SIGKILL), idle, holding what it
    inherited through fork (a sweep folder's lock among them): it ends itself then.
    Each worker has a core's share of work: its rules run in one thread.
    """
    rules.keep_one_thread()  # the worker's tasks run in this, its main thread
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()
