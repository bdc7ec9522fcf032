"""Reproducibility: the same scenario and seed give the same bytes in any process, a sweep
gives the same results whichever executor runs it, and the outputs record the version
and a digest of the scenario that made them.

Every run and sweep here is a real subprocess (``python -m sim ...``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.model.scenario import load_scenario
from sim.study.grid import parse_grid_argument, plan_sweep, scenario_sha

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
OUT = "out"
TIMEOUT = 180

# Shipped scenarios, with durations that keep each run to about a second.
RUN_CASES = {
    "encounters": (SCENARIOS / "encounters.yaml", ()),  # its own 1 h
    "euphrates_dec2017": (SCENARIOS / "euphrates_dec2017.yaml", ("--duration", "6 h")),
    "palmyra_dec2016": (SCENARIOS / "palmyra_dec2016.yaml", ("--duration", "2 d")),
}
HASH_SEEDS = ("0", "4242")

SWEEP_SCENARIO = SCENARIOS / "euphrates_dec2017.yaml"
SWEEP_DURATION = "8 h"
SWEEP_GRID = ("hotline.latency=0 min,4 h", "parties.russia.compliance=0.0,1.0")
SWEEP_REPLICATIONS = 2
EXECUTORS = {
    "serial": ("--workers", "1"),
    "process_pool": ("--workers", "2"),
    "dask_local": ("--scheduler", "local", "--workers", "2"),
}
# Columns of the results table that record which executor computed a row: none exists
# (the table holds point, replication, seed, version, the grid axes and the metrics), so
# the rows are compared whole.
EXECUTOR_COLUMNS: tuple[str, ...] = ()


def run_sim(args: list[str], cwd: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DECONFLICT_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.update(env_extra)
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- run folders


@pytest.fixture(scope="module")
def run_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Each scenario run twice, in two processes with different PYTHONHASHSEEDs and
    different working folders; the run folders, by scenario."""
    base = tmp_path_factory.mktemp("repro-runs")
    jobs = [(name, seed) for name in RUN_CASES for seed in HASH_SEEDS]

    def one(job: tuple[str, str]) -> Path:
        name, hash_seed = job
        scenario, extra = RUN_CASES[name]
        cwd = base / name / f"hashseed-{hash_seed}"
        done = run_sim(["run", str(scenario), *extra, "--out", OUT], cwd,
                       PYTHONHASHSEED=hash_seed)
        assert done.returncode == 0, f"{name}: {done.stderr}"
        return cwd / OUT

    with ThreadPoolExecutor(max_workers=2) as pool:
        folders = list(pool.map(one, jobs))
    out: dict[str, list[Path]] = {}
    for (name, _), folder in zip(jobs, folders, strict=True):
        out.setdefault(name, []).append(folder)
    return out


@pytest.mark.parametrize("name", list(RUN_CASES))
def test_run_byte_identical_across_processes(run_folders: dict[str, list[Path]],
                                             name: str) -> None:
    """The same scenario and seed run in two processes (PYTHONHASHSEED 0 and 4242) give
    byte-identical run folders, every file."""
    first, second = run_folders[name]
    a, b = folder_bytes(first), folder_bytes(second)
    assert len(a) >= 8, sorted(a)
    assert sorted(a) == sorted(b)
    differing = [f for f in a if a[f] != b[f]]
    assert not differing, f"{name}: files differ between the two processes: {differing}"


@pytest.mark.parametrize("document", ["summary.json", "stats.json"])
@pytest.mark.parametrize("name", list(RUN_CASES))
def test_run_json_records_version_and_scenario_sha256(run_folders: dict[str, list[Path]],
                                                      name: str, document: str) -> None:
    """summary.json and stats.json carry "version" (sim.__version__) and "scenario_sha256",
    the SHA-256 hex digest of the run folder's own scenario.yaml bytes."""
    folder = run_folders[name][0]
    data = json.loads((folder / document).read_text("utf-8"))
    digest = hashlib.sha256((folder / "scenario.yaml").read_bytes()).hexdigest()
    assert data.get("version") == sim.__version__, f"{document}: version {data.get('version')!r}"
    assert "scenario_sha256" in data, f"{document} has no scenario_sha256 (keys: {list(data)})"
    assert data["scenario_sha256"] == digest, (
        f"{document}: scenario_sha256 {data['scenario_sha256']!r} is not the SHA-256 of "
        f"scenario.yaml ({digest})")


# --------------------------------------------------------------------------- sweeps


def sweep_args() -> list[str]:
    args = ["sweep", str(SWEEP_SCENARIO), "--duration", SWEEP_DURATION]
    for grid in SWEEP_GRID:
        args += ["--grid", grid]
    return [*args, "--replications", str(SWEEP_REPLICATIONS), "--out", OUT]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same small sweep (4 grid points x 2 replications) run by each executor; the
    sweep folders, by executor."""
    base = tmp_path_factory.mktemp("repro-sweeps")

    def one(executor: str) -> Path:
        cwd = base / executor
        done = run_sim([*sweep_args(), *EXECUTORS[executor]], cwd,
                       TMPDIR=str((base / f"{executor}-tmp").resolve()))
        assert done.returncode == 0, f"{executor}: {done.stderr}"
        return cwd / OUT

    (base / "dask_local-tmp").mkdir()
    (base / "process_pool-tmp").mkdir()
    (base / "serial-tmp").mkdir()
    with ThreadPoolExecutor(max_workers=3) as pool:
        folders = dict(zip(EXECUTORS, pool.map(one, EXECUTORS), strict=True))
    return folders


def table(path: Path, name: str, exclude: tuple[str, ...] = ()) -> tuple[list[str], list[Any]]:
    """A table's column names (sorted) and its rows as tuples in that column order, sorted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = sorted(r[1] for r in conn.execute(f"PRAGMA table_info({name})")
                         if r[1] not in exclude)
        rows = conn.execute(f"SELECT {', '.join(json.dumps(c) for c in columns)} "
                            f"FROM {name}").fetchall()
    finally:
        conn.close()
    return columns, sorted(rows, key=repr)


def test_sweep_executors_same_summary(sweeps: dict[str, Path]) -> None:
    """summary.csv is byte-identical from serial, process-pool and Dask executors."""
    summaries = {e: (folder / "summary.csv").read_bytes() for e, folder in sweeps.items()}
    assert summaries["serial"].count(b"\n") > 8
    assert summaries["process_pool"] == summaries["serial"]
    assert summaries["dask_local"] == summaries["serial"]


def test_sweep_executors_same_rows(sweeps: dict[str, Path]) -> None:
    """The store's result rows (every column: none records the executor) are equal,
    sorted, from the three executors."""
    tables = {e: table(folder / "results.sqlite", "results", EXECUTOR_COLUMNS)
              for e, folder in sweeps.items()}
    columns, rows = tables["serial"]
    assert len(rows) == 4 * SWEEP_REPLICATIONS
    for executor in ("process_pool", "dask_local"):
        other_columns, other_rows = tables[executor]
        assert other_columns == columns, f"{executor}: columns differ"
        differing = [(a, b) for a, b in zip(rows, other_rows, strict=True) if a != b]
        assert not differing, f"{executor}: rows differ from serial's: {differing[:2]}"


def test_sweep_executors_same_definition_and_points(sweeps: dict[str, Path]) -> None:
    """The store's `sweep` (definition) and `points` tables and sweep.yaml are the same
    from the three executors."""
    for name in ("sweep", "points"):
        tables = {e: table(folder / "results.sqlite", name) for e, folder in sweeps.items()}
        assert tables["process_pool"] == tables["serial"], name
        assert tables["dask_local"] == tables["serial"], name
    definitions = {e: (folder / "sweep.yaml").read_bytes() for e, folder in sweeps.items()}
    assert definitions["process_pool"] == definitions["serial"]
    assert definitions["dask_local"] == definitions["serial"]


def test_sweep_executors_same_store_file(sweeps: dict[str, Path]) -> None:
    """results.sqlite is the same file, byte for byte, whichever executor filled it (the
    README: the finished store is rewritten in canonical order)."""
    files = {e: (folder / "results.sqlite").read_bytes() for e, folder in sweeps.items()}
    assert files["process_pool"] == files["serial"]
    assert files["dask_local"] == files["serial"]


def test_sweep_executors_write_only_out(sweeps: dict[str, Path]) -> None:
    """Each executor's sweep leaves exactly OUT in its working folder (OUT's parent)."""
    for executor, folder in sweeps.items():
        assert listing(folder.parent) == [OUT], f"{executor}: {listing(folder.parent)}"


def test_sweep_records_version_and_scenario_digest(sweeps: dict[str, Path]) -> None:
    """The store's definition records sim.__version__ and the base scenario's digest
    (sim.grid.scenario_sha of the scenario as run), `points` each grid point's digest,
    every result row the version, and sweep.yaml the version and scenario file; the
    digests equal those of the same scenarios loaded directly."""
    folder = sweeps["serial"]
    store = folder / "results.sqlite"
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM sweep").fetchall())
        points = conn.execute("SELECT point, scenario_sha FROM points ORDER BY point").fetchall()
        versions = {r[0] for r in conn.execute("SELECT version FROM results")}
    finally:
        conn.close()
    definition = json.loads(meta["definition"])
    assert definition["version"] == sim.__version__
    assert versions == {sim.__version__}

    plan = plan_sweep(str(SWEEP_SCENARIO), [parse_grid_argument(g) for g in SWEEP_GRID],
                      SWEEP_REPLICATIONS, duration=SWEEP_DURATION)
    assert definition["scenario"] == plan.base_sha
    assert points == [(p.index, p.sha) for p in plan.points]
    base = load_scenario(SWEEP_SCENARIO, duration=SWEEP_DURATION)
    assert definition["scenario"] == scenario_sha(base)
    for point, sha in points:
        labels = plan.points[point].labels
        overrides = [f"{g.split('=')[0]}={label}" for g, label in zip(SWEEP_GRID, labels,
                                                                      strict=True)]
        loaded = load_scenario(SWEEP_SCENARIO, overrides, duration=SWEEP_DURATION)
        assert sha == scenario_sha(loaded), f"point {point} ({overrides})"
    assert len({sha for _, sha in points}) == len(points)

    written = yaml.safe_load((folder / "sweep.yaml").read_text("utf-8"))
    assert written["version"] == sim.__version__
    assert written["scenario"] == str(SWEEP_SCENARIO)
