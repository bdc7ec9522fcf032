"""A sweep's results store: one SQLite file, ``results.sqlite``, in the sweep folder.

SQLite because a sweep appends one row at a time and must survive being killed at any
moment: every finished row is committed in its own transaction (``synchronous=FULL``),
so a crash loses only the replications still running and never leaves a torn file; and
an analyst opens it as it is (``pandas.read_sql("SELECT * FROM results", con)``, or
DuckDB's ``sqlite`` extension), with no server and nothing beyond the standard library.
Parquet files are written whole, so they would need a file per row and a compaction step
to give the same guarantee.

Tables: ``results`` (one row per grid point and replication: point, replication, seed
(decimal text: a 64-bit unsigned seed does not fit SQLite's INTEGER), one column per grid
axis, version, one REAL column per headline metric), ``points`` (each grid point's axis
values and scenario digest) and ``sweep`` (the definition as JSON, the scenario as run,
the chosen metrics).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sim.model.errors import InputError
from sim.study.executors import Replication, Task
from sim.study.grid import RESERVED_COLUMNS, SweepPlan, grid_position
from sim.study.names import STORE_NAME

FORMAT = "2"  # 2: seeds stored as decimal text (64-bit unsigned does not fit INTEGER)
Mode = Literal["auto", "resume", "restart"]


class StoreError(InputError):
    """A store that cannot be used as asked; the message says what to do."""


@dataclass(frozen=True, slots=True)
class StoredSweep:
    """What a results store holds, read back: enough to summarise and plot a sweep."""

    path: Path
    name: str
    axes: tuple[str, ...]
    labels: tuple[tuple[Any, ...], ...]  # per axis, its values in grid order
    points: dict[int, tuple[Any, ...]]  # point -> its label on each axis
    positions: dict[int, tuple[int, ...]]  # point -> its index along each axis
    rows: tuple[dict[str, Any], ...]  # ordered by point, then replication
    metrics: tuple[str, ...]  # every metric column, sorted
    chosen: tuple[str, ...]  # the sweep's own choice of metrics to show (may be empty)
    replications: int
    complete: bool


def quote(name: str) -> str:
    """A column name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Store:
    """The open results store of a running sweep; only the sweep's process writes it."""

    def __init__(self, path: Path, plan: SweepPlan) -> None:
        self.path = path
        self.plan = plan
        self.conn = _connect(path)
        try:
            self.columns = {row[1] for row in self.conn.execute("PRAGMA table_info(results)")}
            rows = self.conn.execute("SELECT point, replication, seed FROM results").fetchall()
        except sqlite3.Error as exc:
            self.conn.close()
            raise StoreError(f"{path}: cannot be read as a sweep results store ({exc}); use "
                             "mode='restart' to replace it") from None
        # Only rows of the plan's own grid points and seeds count as done.
        self.done = {(p, r) for p, r, seed in rows
                     if isinstance(p, int) and isinstance(r, int) and 0 <= p < len(plan.points)
                     and 0 <= r < plan.replications and seed == str(plan.seeds[r])}

    def add(self, task: Task, result: Replication) -> None:
        """Commit one finished replication (its own transaction: it survives a crash)."""
        point = self.plan.points[task.point]
        names = [*RESERVED_COLUMNS, *(a.name for a in self.plan.axes)]
        values = [task.point, task.replication, str(task.seed), result.version,
                  *(_sql_value(v) for v in point.labels)]
        lowered = {n.lower() for n in names}
        for metric in sorted(result.metrics):
            if metric.lower() in lowered:
                raise StoreError(f"the metric {metric} has the name of a grid axis or column; "
                                 "rename the grid axis")
            names.append(metric)
            values.append(float(result.metrics[metric]))
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for metric in sorted(set(result.metrics) - self.columns):
                self.conn.execute(f"ALTER TABLE results ADD COLUMN {quote(metric)} REAL")
            # OR REPLACE: a row of another seed at this point and replication (not done,
            # so run again) gives way to the new one.
            self.conn.execute(
                f"INSERT OR REPLACE INTO results ({', '.join(map(quote, names))}) "
                f"VALUES ({', '.join('?' * len(values))})", values)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.columns |= set(result.metrics)
        self.done.add((task.point, task.replication))

    def close(self) -> None:
        """Close the connection (every row is already committed)."""
        self.conn.close()

    def finalise(self) -> None:
        """Once every row is in, rewrite the store in a canonical form (metric columns
        sorted, rows in point and replication order, compacted), so that it does not
        depend on the order in which the rows arrived; the old file is replaced whole."""
        metrics = sorted(self.columns - {*RESERVED_COLUMNS, *(a.name for a in self.plan.axes)})
        self.conn.close()
        partial = _partial(self.path)
        try:
            self._copy_canonical(partial, metrics)
        except BaseException:  # interrupted or failed: the store stays as it was, alone
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                leftover.unlink(missing_ok=True)
            raise
        self.conn = _connect(self.path)

    def _copy_canonical(self, partial: Path, metrics: list[str]) -> None:
        """Write the store's canonical copy at ``partial`` and put it in the store's place."""
        _create(partial, self.plan, metrics)
        target = _connect(partial)
        try:
            target.execute("ATTACH DATABASE ? AS old", (str(self.path),))
            columns = ", ".join(quote(c) for c in _result_columns(self.plan, metrics))
            target.execute("BEGIN")
            target.execute(f"INSERT INTO results ({columns}) SELECT {columns} FROM old.results "
                           "ORDER BY point, replication")
            target.execute("COMMIT")
            target.execute("DETACH DATABASE old")
            target.execute("VACUUM")
        finally:
            target.close()
        _fsync(partial)
        partial.replace(self.path)


def _partial(path: Path) -> Path:
    return path.parent / f".{path.name}.partial-{os.getpid()}"


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _result_columns(plan: SweepPlan, metrics: Iterable[str]) -> list[str]:
    return [*RESERVED_COLUMNS, *(a.name for a in plan.axes), *metrics]


def _create(path: Path, plan: SweepPlan, metrics: Sequence[str] = ()) -> None:
    """A new, complete store file at ``path`` (no rows yet)."""
    path.unlink(missing_ok=True)
    axes = [quote(a.name) for a in plan.axes]
    conn = _connect(path)
    try:
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE sweep (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(f"CREATE TABLE points (point INTEGER PRIMARY KEY, scenario_sha TEXT NOT "
                     f"NULL{''.join(', ' + a for a in axes)})")
        conn.execute(
            "CREATE TABLE results (point INTEGER NOT NULL, replication INTEGER NOT NULL, "
            f"seed TEXT NOT NULL, version TEXT NOT NULL{''.join(', ' + a for a in axes)}"
            f"{''.join(f', {quote(m)} REAL' for m in metrics)}, "
            "PRIMARY KEY (point, replication)) WITHOUT ROWID")
        axes_json = [{"name": a.name, "labels": list(a.labels), "keys": list(a.keys)}
                     for a in plan.axes]
        meta = {"format": FORMAT, "name": plan.name, "scenario_file": plan.scenario_file,
                "definition": json.dumps(plan.definition(), sort_keys=True),
                "axes": json.dumps(axes_json, sort_keys=True, default=str),
                "metrics": json.dumps(list(plan.metrics)),
                "replications": str(plan.replications), "seeds": json.dumps(list(plan.seeds)),
                "scenario": _base_yaml(plan)}
        conn.executemany("INSERT INTO sweep VALUES (?, ?)", sorted(meta.items()))
        conn.executemany(
            f"INSERT INTO points VALUES ({', '.join('?' * (2 + len(axes)))})",
            [(p.index, p.sha, *(_sql_value(v) for v in p.labels)) for p in plan.points])
        conn.execute("COMMIT")
    finally:
        conn.close()


def _base_yaml(plan: SweepPlan) -> str:
    # Each point's scenario differs only in the grid keys; the first point's, as run,
    # with the grid keys named at the top, documents the base.
    keys = ", ".join(k for a in plan.axes for k in a.keys)
    return (f"# The scenario as run at grid point 0; the sweep varies: {keys}\n"
            + plan.points[0].scenario.resolved_yaml())


def open_store(out: Path, plan: SweepPlan, mode: Mode = "auto") -> tuple[Store, int]:
    """Open the sweep folder's store for ``plan``, creating it if there is none.

    ``auto`` continues a store made for the same definition and refuses any other;
    ``resume`` keeps the rows of another definition that the plan still contains (the
    same grid point scenario, seed and version) and drops the rest; ``restart`` discards
    the store. Returns the store and the number of rows dropped.
    """
    path = out / STORE_NAME
    for stale in out.glob(f".{STORE_NAME}.partial-*"):  # a creation a crash cut short
        stale.unlink(missing_ok=True)
    if mode == "restart" or not path.exists():
        partial = _partial(path)
        _create(partial, plan)
        _fsync(partial)
        partial.replace(path)
        return Store(path, plan), 0
    stored = _read_definition(path)
    if stored == plan.definition():
        return Store(path, plan), 0
    if mode == "auto":
        raise StoreError(f"{path}: holds a sweep of another definition ({_difference(stored, plan)}"
                         "); run with mode='resume' to keep the rows that still apply (same grid "
                         "point scenario, seed and version) and run the rest, with mode='restart' "
                         "to discard them, or choose another out folder")
    return _carry_over(path, plan)


_REPLACE = "use mode='restart' to replace it, or choose another out folder"
_REBUILD = "run the sweep again with mode='restart' to rebuild it"


def _read_definition(path: Path, remedy: str = _REPLACE) -> dict[str, Any]:
    """The sweep definition a store holds; ``remedy``: what to do about one that cannot be
    read (replace it when a sweep writes there, rebuild it when a plot reads it)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM sweep WHERE key = 'definition'").fetchone()
            fmt = conn.execute("SELECT value FROM sweep WHERE key = 'format'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: not a sweep results store ({exc}); {remedy}") from None
    if row is None or fmt is None or fmt[0] != FORMAT:
        raise StoreError(f"{path}: not a sweep results store of this version (format "
                         f"{fmt[0] if fmt else 'unknown'}); {remedy}")
    try:
        definition = json.loads(row[0])
    except (TypeError, ValueError):
        definition = None
    if not isinstance(definition, dict):
        raise StoreError(f"{path}: its sweep definition is damaged (not a JSON mapping); "
                         f"{remedy}")
    return definition


def _difference(stored: dict[str, Any], plan: SweepPlan) -> str:
    new = plan.definition()
    said = []
    if stored.get("scenario") != new["scenario"] or stored.get("seed") != new["seed"]:
        said.append("the scenario differs")
    if stored.get("grid") != new["grid"]:
        said.append("the grid differs")
    if stored.get("replications") != new["replications"]:
        said.append(f"replications {stored.get('replications')} -> {new['replications']}")
    if stored.get("version") != new["version"]:
        said.append(f"made by version {stored.get('version')}, this is {new['version']}")
    return "; ".join(said) or "the definition differs"


def _carry_over(path: Path, plan: SweepPlan) -> tuple[Store, int]:
    """A new store for ``plan`` holding the old store's rows that still apply."""
    old = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        shas = dict(old.execute("SELECT point, scenario_sha FROM points").fetchall())
        axes_row = old.execute("SELECT value FROM sweep WHERE key = 'axes'").fetchone()
        old_axes = {a["name"] for a in json.loads(axes_row[0])} if axes_row else set()
        old.row_factory = sqlite3.Row
        rows = [dict(r) for r in old.execute("SELECT * FROM results")]
    except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path}: cannot be read ({exc}); use mode='restart' to replace "
                         "it") from None
    finally:
        old.close()
    point_of = {p.sha: p.index for p in plan.points}
    replication_of = {str(seed): i for i, seed in enumerate(plan.seeds)}
    partial = _partial(path)
    _create(partial, plan)
    store = Store(partial, plan)
    kept = 0
    try:
        for row in rows:
            point = point_of.get(shas.get(row["point"], ""))
            replication = replication_of.get(row["seed"])
            if point is None or replication is None or row["version"] != plan.version:
                continue
            metrics = {k: v for k, v in row.items()
                       if k not in RESERVED_COLUMNS and k not in old_axes and v is not None}
            store.add(Task(point, replication, int(row["seed"]), plan.points[point].scenario),
                      Replication(row["version"], metrics))
            kept += 1
    finally:
        store.close()
    _fsync(partial)
    partial.replace(path)
    return Store(path, plan), len(rows) - kept


def read_store(folder: str | Path) -> StoredSweep:
    """Read a sweep folder's results store (finished or not)."""
    folder = Path(folder)
    path = folder / STORE_NAME
    if not path.is_file():
        raise StoreError(f"{folder}: no {STORE_NAME}; not a sweep folder (deconflict sweep "
                         "writes one)")
    _read_definition(path, _REBUILD)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM sweep").fetchall())
        axes_json = json.loads(meta["axes"])
        names = tuple(str(a["name"]) for a in axes_json)
        labels = tuple(tuple(a["labels"]) for a in axes_json)
        name = str(meta["name"])
        replications = int(meta["replications"])
        chosen = tuple(str(m) for m in json.loads(meta["metrics"]))
        positions = {int(r[0]): grid_position(int(r[0]), [len(v) for v in labels])
                     for r in conn.execute("SELECT point FROM points ORDER BY point")}
        points = {p: tuple(v[i] for v, i in zip(labels, at, strict=True))
                  for p, at in positions.items()}
        conn.row_factory = sqlite3.Row
        # Seeds are stored as text (a 64-bit unsigned seed does not fit SQLite's INTEGER).
        rows = tuple({**dict(r), "seed": int(r["seed"])} for r in conn.execute(
            "SELECT * FROM results ORDER BY point, replication"))
        columns = [r[1] for r in conn.execute("PRAGMA table_info(results)")]
    except (sqlite3.Error, KeyError, ValueError, TypeError, IndexError, ZeroDivisionError
            ) as exc:
        raise StoreError(f"{path}: cannot be read as a sweep results store "
                         f"({type(exc).__name__}: {exc})") from None
    finally:
        conn.close()
    metrics = tuple(sorted(c for c in columns if c not in RESERVED_COLUMNS and c not in names))
    for row in rows:
        if row.get("point") not in points:
            raise StoreError(f"{path}: a row of grid point {row.get('point')!r}, which the "
                             f"sweep does not have; {_REBUILD}")
        for metric in metrics:
            value = row[metric]
            if value is not None and (isinstance(value, (str, bytes))
                                      or not math.isfinite(value)):
                raise StoreError(f"{path}: column {metric} holds {value!r}, not a number; "
                                 f"{_REBUILD}")
    return StoredSweep(path, name, names, labels, points, positions, rows, metrics, chosen,
                       replications, len(rows) == len(points) * replications)
