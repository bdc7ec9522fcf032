"""Monte Carlo sweeps: every grid point times every replication, run by an executor,
each finished row committed to the folder's results store, and summaries per grid point.

A sweep folder holds ``results.sqlite`` (see ``sim.study.store``), ``sweep.yaml`` (the
definition as run) and, once every row is in, ``summary.csv`` (per grid point and metric:
the mean over replications with a 95% Student t interval, clipped at zero for counts and
rates). Running the same sweep again computes only the rows that are missing.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis.calibrate import t975
from sim.io.write import MARKER, marker_text, write_text_atomically
from sim.study.executors import Executor, ExecutorError, Task, open_executor
from sim.study.grid import SweepPlan, yaml_text
from sim.study.names import STORE_NAME
from sim.study.store import Mode, StoredSweep, StoreError, open_store, read_store

SUMMARY_NAME = "summary.csv"
LOCK_WAIT_S = 2.0  # how long a sweep waits for a folder's lock before calling it busy
DEFINITION_NAME = "sweep.yaml"
Progress = Callable[[int, int], None]  # (rows done, rows in the sweep)


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """What a call of ``run_sweep`` did."""

    folder: Path
    total: int  # rows in the sweep
    reused: int  # rows already in the store
    ran: int  # rows computed now
    dropped: int  # rows of an older definition discarded by --resume


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric at one grid point over its replications: mean and 95% t interval."""

    point: int
    labels: tuple[Any, ...]
    metric: str
    replications: int
    mean: float
    std: float
    low: float  # NaN with fewer than two replications
    high: float


def run_sweep(plan: SweepPlan, out: str | Path, *, workers: int = 1,
              scheduler: str | None = None, mode: Mode = "auto",
              progress: Progress | None = None, dashboard: str | None = None
              ) -> SweepOutcome:
    """Run the rows of ``plan`` that ``out``'s store does not hold yet, committing each as
    it finishes, then write the summaries. ``scheduler`` is a Dask scheduler address or
    ``"local"`` (``dashboard``, ``HOST:PORT``, serves a local cluster's dashboard);
    otherwise ``workers`` local processes (1: this process) run the rows."""
    folder = Path(out)
    _check_folder(folder)
    with open_executor(workers, scheduler, dashboard) as execute:
        created = _make_folder(folder)
        try:
            with _lock(folder):
                outcome = _run_rows(plan, folder, execute, mode, progress)
        except BaseException:
            if created and not (folder / STORE_NAME).exists():
                shutil.rmtree(folder, ignore_errors=True)  # nothing of the sweep was written
            raise
    return outcome


def _run_rows(plan: SweepPlan, folder: Path, execute: Executor, mode: Mode,
              progress: Progress | None) -> SweepOutcome:
    store, dropped = open_store(folder, plan, mode)
    try:
        reused = len(store.done)
        tasks = [Task(p.index, r, seed, p.scenario)
                 for r, seed in enumerate(plan.seeds) for p in plan.points
                 if (p.index, r) not in store.done]
        write_text_atomically(folder / DEFINITION_NAME, definition_yaml(plan))
        if tasks:
            (folder / SUMMARY_NAME).unlink(missing_ok=True)  # stale until the sweep ends
        if progress is not None:
            progress(reused, plan.size)
        ran = 0
        results = execute(tasks)
        try:
            for task, result in results:
                if result.version != plan.version:
                    raise ExecutorError(
                        f"a worker runs euphrates-deconfliction {result.version}, this "
                        f"sweep {plan.version}; install the same version on every worker")
                store.add(task, result)
                ran += 1
                if progress is not None:
                    progress(reused + ran, plan.size)
        finally:
            results.close()
        complete = len(store.done) == plan.size
        if complete:
            store.finalise()
    finally:
        store.close()
    if complete:
        stored = read_store(folder)
        write_text_atomically(folder / SUMMARY_NAME, summary_csv(stored, summarize_sweep(stored)))
    return SweepOutcome(folder, plan.size, reused, ran, dropped)


def _make_folder(folder: Path) -> bool:
    """Create the sweep folder if need be; True when this call created it."""
    existed = folder.is_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{folder}: cannot create the sweep folder ({exc.strerror or exc}); "
                         "choose another out folder") from None
    if not (folder / MARKER).exists():
        write_text_atomically(folder / MARKER, marker_text("sweep"))
    return not existed


def _check_folder(folder: Path) -> None:
    try:
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"{folder}: exists and is not a folder; choose another out folder")
        if folder.is_dir() and not (folder / STORE_NAME).exists():
            foreign = [p.name for p in folder.iterdir()
                       if not p.name.startswith(".") and p.name != DEFINITION_NAME]
            if foreign:
                raise StoreError(f"{folder}: holds files ({', '.join(sorted(foreign)[:3])}) "
                                 f"but no {STORE_NAME}: not a sweep folder; choose a new or "
                                 "empty out folder")
    except OSError as exc:
        raise StoreError(f"{folder}: cannot be used as the sweep folder "
                         f"({exc.strerror or exc}); choose another out folder") from None


@contextmanager
def _lock(folder: Path) -> Iterator[None]:
    """Only one sweep writes a folder at a time (an advisory lock, freed when the process
    dies, so a killed sweep never leaves the folder locked)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        yield
        return
    with open(folder / ".lock", "a+") as handle:
        # A sweep killed a moment ago frees the lock when its workers notice and end
        # (sim.study.executors): wait that long before calling the folder busy.
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise StoreError(f"{folder}: another sweep is writing to this folder; "
                                     "wait for it to finish, or choose another out folder"
                                     ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def definition_yaml(plan: SweepPlan) -> str:
    """The sweep as run, for people: the scenario, the grid, the replications and seeds."""
    document = {"scenario": plan.scenario_file, "name": plan.name, "seed": plan.seed,
                "version": plan.version,
                # The base scenario as run, every default filled (sim.study.grid.scenario_sha);
                # each grid point's own digest is in the store's points table.
                "scenario_digest": plan.base_sha, "points": len(plan.points),
                "replications": plan.replications,
                "grid": {a.name: list(a.labels) if a.keys == (a.name,) else
                         {yaml_text(label): dict(s) for label, s in zip(a.labels, a.settings,
                                                                         strict=True)}
                         for a in plan.axes},
                "seeds": list(plan.seeds)}
    if plan.metrics:
        document["metrics"] = list(plan.metrics)
    return ("# Written by deconflict sweep: the definition the results store was made for.\n"
            + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


def default_metrics(stored: StoredSweep) -> tuple[str, ...]:
    """The metrics a sweep shows when not told: its own choice, else each rule's
    episodes a day."""
    chosen = tuple(m for m in stored.chosen if m in stored.metrics)
    if chosen:
        return chosen
    per_day = tuple(m for m in stored.metrics
                    if m.endswith(".per_day") and m.count(".") == 1 and
                    not m.startswith("severity."))
    return per_day or stored.metrics[:4]


def summarize_sweep(stored: StoredSweep, metrics: Sequence[str] | None = None
                    ) -> list[MetricSummary]:
    """Mean and 95% Student t interval of each metric at each grid point, over the
    replications in the store (clipped at zero for a metric none of whose values is below
    it: the headline metrics are counts and rates); points in grid order, metrics sorted."""
    names = stored.metrics if metrics is None else tuple(metrics)
    by_point: dict[int, list[dict[str, Any]]] = {}
    for row in stored.rows:
        by_point.setdefault(int(row["point"]), []).append(row)
    out = []
    for point in sorted(by_point):
        rows = by_point[point]
        for metric in names:
            values = np.array([r[metric] for r in rows if r.get(metric) is not None], float)
            if not len(values):
                continue
            out.append(_summary(point, stored.points[point], metric, values))
    return out


def _summary(point: int, labels: tuple[Any, ...], metric: str, values: np.ndarray
             ) -> MetricSummary:
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return MetricSummary(point, labels, metric, n, mean, math.nan, math.nan, math.nan)
    std = float(np.std(values, ddof=1))
    half = t975(n - 1) * std / math.sqrt(n)
    # A metric never below zero (a count, a rate, hours) cannot have a mean below zero: its
    # t interval, symmetric about the mean, is clipped there (replications [0, 0, 0, 4]
    # give mean 1 +- 3.18, which would otherwise start at -2.18).
    low = max(0.0, mean - half) if float(values.min()) >= 0.0 else mean - half
    return MetricSummary(point, labels, metric, n, mean, std, low, mean + half)


def label_text(value: Any) -> str:
    """A grid value written for a table or a figure: text as it is, anything else as YAML."""
    return value if isinstance(value, str) else yaml_text(value)


def summary_csv(stored: StoredSweep, summaries: Sequence[MetricSummary]) -> str:
    """``summary.csv``: one line per grid point and metric."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["point", *stored.axes, "metric", "replications", "mean", "std",
                     "ci95_low", "ci95_high"])
    for s in summaries:
        writer.writerow([s.point, *(label_text(v) for v in s.labels), s.metric,
                         s.replications, *(_number(v) for v in (s.mean, s.std, s.low, s.high))])
    return buffer.getvalue()


def _number(value: float) -> str:
    return "" if math.isnan(value) else repr(round(value, 12))


def load_sweep(folder: str | Path) -> StoredSweep:
    """Read a sweep folder (see ``sim.study.store.read_store``)."""
    return read_store(folder)
