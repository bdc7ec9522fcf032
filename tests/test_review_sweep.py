"""Review of Monte Carlo sweeps (issue 6): independent oracles, hostile input through the
command line, and the promises of the README's "Monte Carlo sweeps" section.

Oracles recompute what a sweep wrote without the sweep's own helpers: each row's metrics
from a scenario built with ``load_scenario`` and run with ``replication_metrics``, the
seeds from ``numpy.random.SeedSequence``, the summary from ``scipy.stats.t``, the store
read with nothing but ``sqlite3``.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import itertools
import json
import math
import shutil
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import t as student_t

import sim
from sim.io.write import MARKER
from sim.analysis.calibrate import replication_seeds
from sim.analysis.compare import replication_metrics
from sim.cli import main
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
STUDY = ROOT / "scenarios" / "sweeps" / "latency_spacing.yaml"
RESERVED = ("point", "replication", "seed", "version")

# The shared tiny sweep: 2 x 2 grid points x 3 replications of 6 hours (12 rows).
COMPLIANCE = (0.3, 0.9)
LATENCY = ("0 min", "6 h")
REPS = 3
DURATION = "12 h"


def tiny_args(out: Path, *extra: str, replications: int = REPS) -> list[str]:
    return ["sweep", str(BASELINE), "--grid", "parties.russia.compliance=0.3,0.9",
            "--grid", 'hotline.latency="0 min","6 h"', "--replications", str(replications),
            "--duration", DURATION, "--out", str(out), *extra]


def small_args(out: Path, *extra: str) -> list[str]:
    """A smaller sweep: one axis of two values, one replication (2 rows)."""
    return ["sweep", str(BASELINE), "--grid", "hotline.loss=0.1,0.2", "--replications", "1",
            "--duration", DURATION, "--workers", "1", "--out", str(out), *extra]


def cli(capsys, args: list[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code: int, err: str, *words: str) -> None:
    """Exit 2, a message, no traceback, not an internal error."""
    assert code == 2, err
    assert "error:" in err
    assert "Traceback" not in err and "internal error" not in err, err
    for word in words:
        assert word in err, (word, err)


def read_rows(folder: Path) -> list[dict]:
    conn = sqlite3.connect(f"file:{folder / 'results.sqlite'}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute(
            "SELECT * FROM results ORDER BY point, replication")]
    finally:
        conn.close()
    # The seed column is decimal text (a 64-bit unsigned seed does not fit INTEGER).
    assert all(isinstance(r["seed"], str) and r["seed"].isdigit() for r in rows)
    return [{**r, "seed": int(r["seed"])} for r in rows]


def read_columns(folder: Path, table: str = "results") -> list[tuple]:
    conn = sqlite3.connect(f"file:{folder / 'results.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        conn.close()


def sql(folder: Path, script: str) -> None:
    conn = sqlite3.connect(folder / "results.sqlite")
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()


def integrity(folder: Path) -> str:
    conn = sqlite3.connect(folder / "results.sqlite")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spawned(seed: int, n: int) -> list[int]:
    """Replication seeds computed here: the first 32-bit word of each spawned child."""
    return [int(child.generate_state(1, np.uint64)[0])
            for child in np.random.SeedSequence(seed).spawn(n)]


def scenario_seed() -> int:
    return int(yaml.safe_load(BASELINE.read_text())["seed"])


def metric_columns(row: dict, axes: tuple[str, ...]) -> dict[str, float]:
    return {k: v for k, v in row.items() if k not in RESERVED and k not in axes}


def sweep_file(tmp_path: Path, grid: str, name: str = "study.yaml", **extra: object) -> Path:
    """A sweep file next to nothing: the scenario by absolute path."""
    lines = [f"scenario: {json.dumps(str(BASELINE))}", f"duration: {DURATION}",
             f"replications: {extra.pop('replications', 1)}"]
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    lines += ["grid:", *("  " + line for line in grid.strip().splitlines())]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny sweep, run once on a 2-process pool through the command line."""
    out = tmp_path_factory.mktemp("tiny") / "sweep"
    assert main(tiny_args(out, "--workers", "2")) == 0
    return out


@pytest.fixture
def tiny_copy(tiny, tmp_path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(tiny, out, ignore=shutil.ignore_patterns(".lock"))
    return out


# ====================================================================== 1. oracles

def test_oracle_every_row_equals_an_independent_run_of_its_point_and_seed(tiny):
    rows = read_rows(tiny)
    axes = ("parties.russia.compliance", "hotline.latency")
    grid = list(itertools.product(COMPLIANCE, LATENCY))  # the last axis fastest
    assert len(rows) == len(grid) * REPS
    seeds = spawned(scenario_seed(), REPS)
    for row in rows:
        compliance, latency = grid[row["point"]]
        assert (row["parties.russia.compliance"], row["hotline.latency"]) == \
            (compliance, latency)
        assert row["seed"] == seeds[row["replication"]]
        assert row["version"] == sim.__version__
        scenario = load_scenario(BASELINE, [f"parties.russia.compliance={compliance}",
                                            f'hotline.latency="{latency}"'],
                                 duration=DURATION)
        expected = replication_metrics(scenario, row["seed"])
        assert metric_columns(row, axes) == expected, (row["point"], row["replication"])
    # not a degenerate sweep: the points differ somewhere
    assert len({tuple(metric_columns(r, axes).values()) for r in rows}) > REPS


def test_oracle_seeds_are_the_seedsequence_spawn_everywhere_they_are_recorded(tiny):
    seeds = spawned(scenario_seed(), REPS)
    assert seeds == replication_seeds(scenario_seed(), REPS)  # the helper the contract names
    assert len(set(seeds)) == REPS
    rows = read_rows(tiny)
    for replication in range(REPS):
        assert {r["seed"] for r in rows if r["replication"] == replication} == \
            {seeds[replication]}  # common random numbers: one seed at every point
    conn = sqlite3.connect(tiny / "results.sqlite")
    meta = dict(conn.execute("SELECT key, value FROM sweep").fetchall())
    conn.close()
    assert json.loads(meta["seeds"]) == seeds
    assert json.loads(meta["definition"])["seed"] == scenario_seed()
    definition = yaml.safe_load((tiny / "sweep.yaml").read_text())
    assert definition["seeds"] == seeds and definition["replications"] == REPS


def test_oracle_summary_csv_is_mean_std_and_student_t_interval(tiny):
    rows = read_rows(tiny)
    axes = ("parties.russia.compliance", "hotline.latency")
    values: dict[tuple[int, str], list[float]] = {}
    for row in rows:
        for metric, value in metric_columns(row, axes).items():
            values.setdefault((row["point"], metric), []).append(value)
    with open(tiny / "summary.csv", newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["point", *axes, "metric", "replications", "mean", "std", "ci95_low",
                        "ci95_high"]
    body = lines[1:]
    assert len(body) == len(values)  # one line per point and metric
    grid = list(itertools.product(COMPLIANCE, LATENCY))
    seen = set()
    clipped = 0
    for point, compliance, latency, metric, n, mean, std, low, high in body:
        key = (int(point), metric)
        seen.add(key)
        assert (float(compliance), latency) == grid[int(point)]
        sample = values[key]
        assert int(n) == len(sample) == REPS
        m = statistics.fmean(sample)
        s = statistics.stdev(sample)
        half = float(student_t.ppf(0.975, len(sample) - 1)) * s / math.sqrt(len(sample))
        assert float(mean) == pytest.approx(m, rel=1e-10, abs=1e-10)
        assert float(std) == pytest.approx(s, rel=1e-10, abs=1e-10)
        # Every metric is a count or a rate: its interval is clipped at zero.
        assert min(sample) >= 0.0
        assert float(low) == pytest.approx(max(0.0, m - half), rel=1e-10, abs=1e-10)
        assert float(high) == pytest.approx(m + half, rel=1e-10, abs=1e-10)
        clipped += m - half < 0.0
    assert seen == set(values)
    assert clipped  # the tiny sweep has rare metrics whose t interval would go below zero


def test_oracle_store_is_sound_sqlite_readable_without_pandas(tiny):
    assert integrity(tiny) == "ok"
    conn = sqlite3.connect(f"file:{tiny / 'results.sqlite'}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")}
        assert {"results", "points", "sweep"} <= tables
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT point || '/' || replication) "
                            "FROM results").fetchone() == (12, 12)
        points = conn.execute("SELECT * FROM points ORDER BY point").fetchall()
        types = conn.execute('SELECT typeof("parties.russia.compliance"), '
                             'typeof("hotline.latency") FROM results').fetchall()
    finally:
        conn.close()
    assert len(points) == 4
    assert len({p[1] for p in points}) == 4 and all(len(p[1]) == 64 for p in points)
    assert set(types) == {("real", "text")}  # the values as written, typed
    info = read_columns(tiny)
    metric_types = {c[1]: c[2] for c in info if c[1] not in RESERVED
                    and c[1] not in ("parties.russia.compliance", "hotline.latency")}
    assert metric_types and set(metric_types.values()) == {"REAL"}
    assert "opposite_tracks.russia.per_day" in metric_types
    assert "hotline.complaints_per_call" in metric_types
    assert not list(tiny.glob(".results.sqlite.partial-*"))


def test_oracle_linked_axis_of_the_shipped_study_runs_each_label_settings(tmp_path, capsys):
    out = tmp_path / "study"
    code, _, err = cli(capsys, ["sweep", STUDY, "--grid", 'hotline.latency="0 min"',
                                "--replications", "1", "--duration", DURATION,
                                "--workers", "1", "--out", out])
    assert code == 0, err
    linked = yaml.safe_load(STUDY.read_text())["grid"]["lane_spacing"]
    rows = read_rows(out)
    assert [r["lane_spacing"] for r in rows] == list(linked)
    seed = spawned(scenario_seed(), 1)[0]
    for row in rows:
        overrides = ['hotline.latency="0 min"'] + [
            f"{key}={json.dumps(value)}" for key, value in linked[row["lane_spacing"]].items()]
        scenario = load_scenario(BASELINE, overrides, duration=DURATION)
        assert row["seed"] == seed
        assert metric_columns(row, ("hotline.latency", "lane_spacing")) == \
            replication_metrics(scenario, seed)


def test_oracle_duration_and_unicode_name_axes(tmp_path, capsys):
    out = tmp_path / "dn"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", 'duration="6 h","12 h"',
                                "--grid", "name=é-run,ü-run", "--replications", "1",
                                "--workers", "1", "--out", out])
    assert code == 0, err
    seed = spawned(scenario_seed(), 1)[0]
    rows = read_rows(out)
    assert [(r["duration"], r["name"]) for r in rows] == \
        [("6 h", "é-run"), ("6 h", "ü-run"), ("12 h", "é-run"), ("12 h", "ü-run")]
    for row in rows:
        scenario = load_scenario(BASELINE, [f'duration="{row["duration"]}"',
                                            f'name="{row["name"]}"'])
        assert metric_columns(row, ("duration", "name")) == replication_metrics(scenario, seed)
    text = (out / "summary.csv").read_text(encoding="utf-8")
    assert ",é-run," in text and ",ü-run," in text


# ====================================================================== executors

def test_serial_and_pool_write_byte_identical_stores_and_summaries(tiny, tmp_path, capsys):
    out = tmp_path / "serial"
    code, _, err = cli(capsys, tiny_args(out, "--workers", "1"))
    assert code == 0, err
    assert digest(out / "results.sqlite") == digest(tiny / "results.sqlite")
    assert (out / "summary.csv").read_bytes() == (tiny / "summary.csv").read_bytes()


@pytest.mark.slow
def test_dask_at_an_address_gives_the_same_file(tiny, tmp_path, capsys):
    from distributed import LocalCluster

    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        code, _, err = cli(capsys, tiny_args(out, "--scheduler", cluster.scheduler_address))
    assert code == 0, err
    assert read_rows(out) == read_rows(tiny)
    assert digest(out / "results.sqlite") == digest(tiny / "results.sqlite")
    assert (out / "summary.csv").read_bytes() == (tiny / "summary.csv").read_bytes()


# ====================================================================== crash and resume

def test_interrupt_keeps_rows_and_the_rerun_gives_the_same_file(tiny, tmp_path, capsys,
                                                                 monkeypatch):
    import sim.study.executors

    real = sim.study.executors.run_replication
    calls = []

    def interrupted(scenario, seed):
        calls.append(seed)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return real(scenario, seed)

    monkeypatch.setattr(sim.study.executors, "run_replication", interrupted)
    out = tmp_path / "cut"
    code, _, err = cli(capsys, tiny_args(out, "--workers", "1"))
    assert code == 130, err
    assert "finished rows are saved" in err
    assert integrity(out) == "ok"
    assert len(read_rows(out)) == 2
    assert not (out / "summary.csv").exists()
    monkeypatch.undo()
    code, stdout, err = cli(capsys, tiny_args(out, "--workers", "1"))
    assert code == 0, err
    assert "ran 10 rows, 2 were already in the store" in stdout
    assert digest(out / "results.sqlite") == digest(tiny / "results.sqlite")
    assert (out / "summary.csv").read_bytes() == (tiny / "summary.csv").read_bytes()


def test_more_replications_is_refused_untouched_then_resume_runs_only_the_new(tiny_copy,
                                                                             capsys):
    out = tiny_copy
    before = {n: digest(out / n) for n in ("results.sqlite", "summary.csv", "sweep.yaml")}
    old = read_rows(out)
    code, _, err = cli(capsys, tiny_args(out, "--workers", "1", replications=4))
    assert_refused(code, err, "replications 3 -> 4", "--resume", "--restart")
    assert {n: digest(out / n) for n in before} == before
    code, stdout, err = cli(capsys, tiny_args(out, "--workers", "1", "--resume",
                                              replications=4))
    assert code == 0, err
    assert "ran 4 rows, 12 were already in the store" in stdout
    new = read_rows(out)
    assert [r for r in new if r["replication"] < 3] == old
    assert {r["seed"] for r in new if r["replication"] == 3} == \
        {spawned(scenario_seed(), 4)[3]}
    with open(out / "summary.csv", newline="") as handle:
        assert {line["replications"] for line in csv.DictReader(handle)} == {"4"}


def test_fewer_replications_with_resume_keeps_the_first_ones(tiny_copy, capsys):
    out = tiny_copy
    old = read_rows(out)
    code, stdout, err = cli(capsys, tiny_args(out, "--workers", "1", "--resume",
                                              replications=2))
    assert code == 0, err
    assert "ran 0 rows, 8 were already in the store, dropped 4" in stdout
    assert read_rows(out) == [r for r in old if r["replication"] < 2]
    with open(out / "summary.csv", newline="") as handle:
        assert {line["replications"] for line in csv.DictReader(handle)} == {"2"}
    assert integrity(out) == "ok"


def test_resume_with_another_seed_drops_every_row_and_reruns_on_the_new_seeds(tmp_path,
                                                                             capsys):
    out = tmp_path / "s"
    assert cli(capsys, small_args(out))[0] == 0
    code, _, err = cli(capsys, small_args(out, "--seed", "5"))
    assert_refused(code, err, "the scenario differs")
    code, stdout, err = cli(capsys, small_args(out, "--seed", "5", "--resume"))
    assert code == 0, err
    assert "ran 2 rows, 0 were already in the store, dropped 2" in stdout
    seed = spawned(5, 1)[0]
    for row in read_rows(out):
        assert row["seed"] == seed
        scenario = load_scenario(BASELINE, [f"hotline.loss={row['hotline.loss']}"],
                                 duration=DURATION)
        assert metric_columns(row, ("hotline.loss",)) == replication_metrics(scenario, seed)


def test_a_store_of_another_version_is_refused_and_resume_recomputes(tmp_path, capsys):
    out = tmp_path / "s"
    assert cli(capsys, small_args(out))[0] == 0
    conn = sqlite3.connect(out / "results.sqlite")
    definition = json.loads(conn.execute(
        "SELECT value FROM sweep WHERE key = 'definition'").fetchone()[0])
    definition["version"] = "0.0.0-old"
    conn.execute("UPDATE sweep SET value = ? WHERE key = 'definition'",
                 (json.dumps(definition, sort_keys=True),))
    conn.execute("UPDATE results SET version = '0.0.0-old'")
    conn.commit()
    conn.close()
    code, _, err = cli(capsys, small_args(out))
    assert_refused(code, err, "made by version 0.0.0-old")
    code, stdout, err = cli(capsys, small_args(out, "--resume"))
    assert code == 0, err
    assert "ran 2 rows, 0 were already in the store, dropped 2" in stdout
    assert {r["version"] for r in read_rows(out)} == {sim.__version__}


def test_resume_adding_an_axis_at_the_base_value_reuses_the_rows(tmp_path, capsys):
    out = tmp_path / "s"
    base = ["sweep", BASELINE, "--grid", 'hotline.latency="30 min","2 h"', "--replications",
            "1", "--duration", DURATION, "--workers", "1", "--out", out]
    assert cli(capsys, base)[0] == 0
    old = {r["hotline.latency"]: r for r in read_rows(out)}
    code, stdout, err = cli(capsys, [*base, "--grid", "hotline.loss=0.05,0.2", "--resume"])
    assert code == 0, err  # 0.05 is the scenario's own loss: the same scenarios
    assert "ran 2 rows, 2 were already in the store" in stdout
    for row in read_rows(out):
        if row["hotline.loss"] == 0.05:
            kept = old[row["hotline.latency"]]
            assert metric_columns(row, ("hotline.latency", "hotline.loss")) == \
                metric_columns(kept, ("hotline.latency",))


def test_a_locked_folder_refuses_resume_and_restart_and_stays_untouched(tiny_copy, capsys):
    out = tiny_copy
    before = digest(out / "results.sqlite")
    with open(out / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for flag in ("--resume", "--restart"):
            code, _, err = cli(capsys, tiny_args(out, "--workers", "1", flag, replications=4))
            assert_refused(code, err, "another sweep")
    assert digest(out / "results.sqlite") == before
    with pytest.raises(SystemExit) as caught:  # argparse: mutually exclusive
        main(tiny_args(out, "--resume", "--restart"))
    assert caught.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# ====================================================================== 2. hostile --grid

@pytest.mark.parametrize("grid, words", [
    ('hotline.latency="0 min",,"2 h"', ["not valid YAML"]),
    ('hotline.latency=,"2 h"', ["not valid YAML"]),
    ("hotline.loss=.nan", ["not a finite number"]),
    ("hotline.loss=-.inf,0.1", ["not a finite number"]),
    ("hotline.loss=100000000000000000000000000000", ["hotline.loss", "too large"]),
    ("hotline.latency={a: [1, {b: 2}]}", ["hotline.latency", "duration"]),
    ("hotline.loss=" + ",".join(str(i) for i in range(10_001)), ["at most 10000"]),
    ('hotline.latency="2 h\u200b"', ["hotline.latency", "unit"]),
    ("rules[0].horizontal=1 mi", ["rules[0].horizontal", "unknown key"]),
    ("rules[9].horizontal=1 mi", ["rules[9]", "does not exist"]),
    ("rules[x.horizontal=1 mi", ["key path"]),
    ("hotline.Latency=1 h", ["Latency", "did you mean"]),
    ("pärties.russia.compliance=0.5", ["pärties", "unknown key"]),
    (" seed =1,2", ["cannot be a grid key"]),
    ("version=1,2", ["cannot name a grid axis"]),
    ("hotline.loss=!!python/object/apply:os.system [ls]", ["not valid YAML"]),
    ("hotline.loss=&a 0.1,*a", ["given twice"]),
    ("x" * 300 + "=1", ["not a key path"]),
])
def test_hostile_grid_arguments_are_refused_naming_the_argument(grid, words, tmp_path,
                                                                capsys):
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", grid, "--replications", "1",
                                "--duration", DURATION, "--out", out])
    assert_refused(code, err, *words)
    assert "--grid" in err
    assert not out.exists()


def test_a_grid_too_large_is_refused_before_any_scenario_is_read(tmp_path, capsys):
    values = ",".join(f"{i / 200}" for i in range(101))
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", f"hotline.loss={values}",
                                "--grid", f"parties.russia.compliance={values}",
                                "--out", out])
    assert_refused(code, err, "10201 points")
    assert not out.exists()


@pytest.mark.parametrize("extra, words", [
    (["--replications", "0"], ["--replications 0"]),
    (["--replications", "-1"], ["--replications -1"]),
    (["--replications", "10001"], ["--replications 10001"]),
    (["--workers", "0"], ["--workers 0"]),
    (["--workers", "-3"], ["--workers -3"]),
    (["--seed", "-1"], ["--seed -1"]),
    (["--seed", str(2**64)], ["seed"]),
    (["--duration", "forever"], ["--duration"]),
    (["--duration", "0 s"], ["duration"]),
    (["--set", "hotline.loss=2"], ["hotline.loss"]),
    (["--scheduler", "my-cluster"], ["tcp://"]),
])
def test_hostile_options_are_refused_and_nothing_is_written(extra, words, tmp_path, capsys):
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", "hotline.loss=0.1",
                                "--replications", "1", "--duration", DURATION, *extra,
                                "--out", out])
    assert_refused(code, err, *words)
    assert not out.exists()


def test_out_that_is_a_file_a_run_folder_or_the_scenarios_folder_is_refused(tmp_path,
                                                                           capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    (run_folder / "events.csv").write_text("id\n")
    (run_folder / "scenario.yaml").write_text("name: x\n")
    for out, word in ((a_file, "not a folder"), (run_folder, "not a sweep folder"),
                      (BASELINE.parent, "not a sweep folder")):
        listing = (sorted(p.name for p in out.iterdir() if p.name != MARKER)
                   if out.is_dir() else None)
        code, _, err = cli(capsys, small_args(out))
        assert_refused(code, err, word)
        assert (sorted(p.name for p in out.iterdir() if p.name != MARKER)
                if out.is_dir() else None) == listing
    assert a_file.read_text() == "mine"


@pytest.mark.parametrize("where", ["under-a-file", "name-too-long"])
def test_out_that_cannot_be_created_is_a_clear_error(where, tmp_path, capsys):
    (tmp_path / "f.txt").write_text("x")
    out = tmp_path / "f.txt" / "sub" if where == "under-a-file" else tmp_path / ("x" * 300)
    code, _, err = cli(capsys, small_args(out))
    assert_refused(code, err, "--out")


# ====================================================================== hostile sweep files

@pytest.mark.parametrize("text, words", [
    ("scenario: nowhere.yaml\ngrid: {hotline.loss: [0.1]}\n", ["nowhere.yaml", "no such file"]),
    ("scenario: .\ngrid: {hotline.loss: [0.1]}\n", ["is a folder"]),
    ("scenario: study.yaml\ngrid: {hotline.loss: [0.1]}\n", ["study.yaml", "unknown key"]),
    ("scenario: 5\ngrid: {hotline.loss: [0.1]}\n", ["scenario: required"]),
    ("scenario: {B}\ngrid: {}\n", ["grid: required"]),
    ("scenario: {B}\ngrid: {hotline.loss: []}\n", ["grid.hotline.loss"]),
    ("scenario: {B}\ngrid: {sp: null}\n", ["grid.sp"]),
    ("scenario: {B}\ngrid: {sp: {a: {}}}\n", ["grid.sp.a"]),
    ("scenario: {B}\ngrid: {sp: {a: {hotline.loss: 0.1}, a: {hotline.loss: 0.2}}}\n",
     ["duplicate key"]),
    ("scenario: {B}\ngrid: {sp: {1: {hotline.loss: 0.1}, 1.0: {hotline.loss: 0.2}}}\n",
     ["duplicate key"]),
    ("scenario: {B}\ngrid: {sp: {[1]: {hotline.loss: 0.1}}}\n", ["plain value"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1, 0.10]}\n", ["given twice"]),
    ("scenario: {B}\ngrid: {sp: {a: {hotline.loss: 7}}}\n", ["grid.sp", "loss"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1]}\nmetrics: nmac.per_day\n", ["metrics"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1]}\nseed: true\n", ["seed"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1]}\nduration: 5\n", ["duration"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1]}\nreplications: 10001\n", ["replications"]),
    ("scenario: {B}\ngrid: {hotline.loss: [0.1]}\nset: [a]\n", ["set"]),
])
def test_hostile_sweep_files_are_refused_naming_the_file(text, words, tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(text.replace("{B}", json.dumps(str(BASELINE))), encoding="utf-8")
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--replications", "1", "--duration", DURATION,
                                "--workers", "1", "--out", out]
                       if "replications: 10001" not in text else
                       ["sweep", path, "--workers", "1", "--out", out])
    assert_refused(code, err, *words)
    assert str(tmp_path) in err
    assert not out.exists()


def test_a_sweep_file_without_its_scenario_key_names_the_key(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text("grid: {hotline.loss: [0.1, 0.2]}\nreplications: 1\n")
    code, _, err = cli(capsys, ["sweep", path, "--out", tmp_path / "s"])
    assert_refused(code, err, "scenario")
    assert "no grid" not in err


def test_linked_axes_with_non_string_labels_run_and_plot(tmp_path, capsys):
    path = sweep_file(tmp_path, "sp: {1: {hotline.loss: 0.1}, 2.5: {hotline.loss: 0.2}, "
                      "~: {hotline.loss: 0.3}, false: {hotline.loss: 0.4}}", replications=2)
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    assert code == 0, err
    assert [r["sp"] for r in read_rows(out) if r["replication"] == 0] == [1, 2.5, None, 0]
    # the label types are kept apart where it matters: the points and the summary
    with open(out / "summary.csv", newline="") as handle:
        assert [line["sp"] for line in csv.DictReader(handle)
                if line["metric"] == "nmac.per_day"] == ["1", "2.5", "null", "false"]
    code, _, err = cli(capsys, ["plot", out, "--metric", "nmac.per_day"])
    assert code == 0, err
    assert (out / "plots" / "nmac.per_day.png").read_bytes()[:4] == b"\x89PNG"


def test_axes_whose_names_differ_only_by_case_are_refused(tmp_path, capsys):
    path = sweep_file(tmp_path, "Level: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}\n"
                      "level: {x: {hotline.latency: 1 h}}")
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", tmp_path / "s"])
    assert_refused(code, err, "Level", "level")
    out = tmp_path / "s"
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]


@pytest.mark.parametrize("grid, extra", [
    pytest.param("Level: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}\n"
                 "level: {x: {hotline.latency: 1 h}}", [],
                 id="case-clash"),
    pytest.param("agreed_spacing.per_day: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}",
                 [],
                 id="metric-name"),
    pytest.param("scenario_sha: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}", [],
                 id="scenario_sha"),
    pytest.param("big: {100000000000000000000000: {hotline.loss: 0.1}, 2: {hotline.loss: 0.2}}",
                 [], id="huge-label"),
    pytest.param("s: {a: {seed: 1}, b: {seed: 2}}", [],
                 id="linked-seed"),
])
def test_linked_axis_edge_cases_are_refused_before_anything_is_written(grid, extra,
                                                                       tmp_path, capsys):
    path = sweep_file(tmp_path, grid)
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out, *extra])
    assert_refused(code, err)
    assert not out.exists(), sorted(p.name for p in out.iterdir() if p.name != MARKER)


def test_an_unusable_scheduler_writes_nothing(tmp_path):
    out = tmp_path / "s"
    result = subprocess.run(
        [sys.executable, "-m", "sim", *small_args(out, "--scheduler",
                                                  "tcp://127.0.0.1:notaport")],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), sorted(p.name for p in out.iterdir() if p.name != MARKER)


@pytest.mark.parametrize("first, second", [
    ('rules.agreed_spacing.horizontal="30 mi","60 mi"', 'rules[1].horizontal="40 mi"'),
    ('hotline.latency="0 min","6 h"', "hotline={enabled: false}"),
])
def test_two_axes_reaching_the_same_key_are_refused(first, second, tmp_path, capsys):
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", first, "--grid", second,
                                "--replications", "1", "--duration", DURATION,
                                "--workers", "1", "--out", out])
    if code == 2:  # the fix we expect: refused, naming the arguments
        assert_refused(code, err, "--grid")
        assert not out.exists()
        return
    assert code == 0, err
    conn = sqlite3.connect(out / "results.sqlite")
    shas = [r[0] for r in conn.execute("SELECT scenario_sha FROM points ORDER BY point")]
    conn.close()
    assert len(set(shas)) == len(shas), "points with different labels ran the same scenario"


def test_resume_with_two_points_of_the_same_scenario(tmp_path, capsys):
    path = sweep_file(tmp_path, "twin: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.1}}")
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    if code == 2:  # refusing identical points up front would be a fix too
        assert_refused(code, err, "twin")
        return
    assert code == 0, err
    code, _, err = cli(capsys, ["sweep", path, "--replications", "2", "--resume",
                                "--workers", "1", "--out", out])
    assert code == 0, err
    assert len(read_rows(out)) == 4


@pytest.mark.parametrize("name", ["mean", "metric"])
def test_summary_csv_columns_are_unique(name, tmp_path, capsys):
    path = sweep_file(tmp_path, f"{name}: {{low: {{hotline.loss: 0.1}}, "
                      "high: {hotline.loss: 0.2}}")
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    if code == 2:  # refusing the name up front would be a fix too
        assert_refused(code, err, name)
        return
    assert code == 0, err
    header = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert len(header) == len(set(header)), header


# ====================================================================== plot

@pytest.mark.parametrize("damage", ["empty", "garbage", "half", "first-page"])
def test_plot_of_a_damaged_store_is_refused(damage, tiny_copy, capsys):
    store = tiny_copy / "results.sqlite"
    data = store.read_bytes()
    store.write_bytes({"empty": b"", "garbage": b"\x00not sqlite\xff" * 500,
                       "half": data[: len(data) // 2], "first-page": data[:4096]}[damage])
    code, _, err = cli(capsys, ["plot", tiny_copy])
    assert_refused(code, err, "results.sqlite")
    assert not (tiny_copy / "plots").exists()


def test_plot_with_rows_missing_draws_and_says_so(tiny_copy, capsys):
    sql(tiny_copy, "DELETE FROM results WHERE point = 1 OR (point = 2 AND replication > 0);")
    code, stdout, err = cli(capsys, ["plot", tiny_copy, "--metric", "nmac.per_day"])
    assert code == 0, err
    assert "unfinished (7 of 12 rows)" in err
    names = sorted(p.name for p in (tiny_copy / "plots").iterdir() if p.name != MARKER)
    assert names == ["nmac.per_day.heatmap.png", "nmac.per_day.png"]


def test_plot_of_a_store_without_rows_is_refused(tiny_copy, capsys):
    sql(tiny_copy, "DELETE FROM results;")
    code, _, err = cli(capsys, ["plot", tiny_copy])
    assert_refused(code, err, "no finished rows")
    assert not (tiny_copy / "plots").exists()


@pytest.mark.parametrize("target", ["results.sqlite", "summary.csv", ".", ".."])
def test_plot_never_writes_over_the_sweep(target, tiny_copy, capsys):
    before = {p.name: digest(p) for p in tiny_copy.iterdir() if p.is_file()}
    code, _, err = cli(capsys, ["plot", tiny_copy, "--out", tiny_copy / target, "--force",
                                "--metric", "nmac.per_day"])
    assert_refused(code, err)
    assert {p.name: digest(p) for p in tiny_copy.iterdir() if p.is_file()} == before


# ====================================================================== stores altered by hand

ALTERED = {
    "drop-results": "DROP TABLE results;",
    "drop-points": "DROP TABLE points;",
    "drop-sweep": "DROP TABLE sweep;",
    "definition-not-json": "UPDATE sweep SET value = 'not json' WHERE key = 'definition';",
    "axes-not-mappings": "UPDATE sweep SET value = '[1]' WHERE key = 'axes';",
    "name-deleted": "DELETE FROM sweep WHERE key = 'name';",
    "replications-text": "UPDATE sweep SET value = 'two' WHERE key = 'replications';",
    "text-in-a-metric": "UPDATE results SET \"nmac.per_day\" = 'abc';",
}


@pytest.mark.parametrize("command, damage", [
    ("plot", "drop-results"),
    ("plot", "drop-points"),
    ("plot", "drop-sweep"),
    ("sweep", "drop-sweep"),
    ("sweep", "drop-results"),
    ("plot", "definition-not-json"),
    ("sweep", "definition-not-json"),
    ("plot", "axes-not-mappings"),
    ("plot", "name-deleted"),
    ("plot", "replications-text"),
    ("plot", "text-in-a-metric"),
    ("sweep", "text-in-a-metric"),
])
def test_a_store_altered_by_hand_is_refused_clearly(command, damage, tiny_copy, capsys):
    sql(tiny_copy, ALTERED[damage])
    args = ["plot", tiny_copy] if command == "plot" else tiny_args(tiny_copy, "--workers", "1")
    code, _, err = cli(capsys, args)
    assert_refused(code, err, "results.sqlite")
