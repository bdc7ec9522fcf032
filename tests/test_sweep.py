"""Monte Carlo sweeps (issue 6): grids, common random numbers, executors that agree row for
row, a results store that survives kill -9 and resumes, summaries, progress and plots.

The second half is the review of sweeps: independent oracles, hostile input through the
command line, and the promises of the README's "Monte Carlo sweeps" section. The oracles
recompute what a sweep wrote without the sweep's own helpers: each row's metrics from a
scenario built with ``load_scenario`` and run with ``replication_metrics``, the seeds from
``numpy.random.SeedSequence``, the summary from ``scipy.stats.t``, the store read with
nothing but ``sqlite3``.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import itertools
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.image import imread
from scipy.stats import t as student_t

import sim
from sim.analysis.calibrate import replication_seeds
from sim.analysis.compare import replication_metrics
from sim.cli import RowProgress, main
from sim.io.write import MARKER
from sim.model.scenario import load_scenario
from sim.present.sweepplots import sweep_figures
from sim.study.grid import (
    GridError,
    axis_numbers,
    load_sweep_file,
    parse_grid_argument,
    plan_sweep,
)
from sim.study.store import StoreError
from sim.study.sweep import load_sweep, run_sweep, summarize_sweep

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
STUDY = ROOT / "scenarios" / "sweeps" / "latency_spacing.yaml"


def small_plan(replications: int = 2, duration: str = "12 h"):
    axes = [parse_grid_argument("parties.russia.compliance=0.3,0.9"),
            parse_grid_argument('hotline.latency="0 min","6 h"')]
    return plan_sweep(BASELINE, axes, replications, duration=duration)


def rows(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / "results.sqlite") as conn:
        return conn.execute("SELECT * FROM results ORDER BY point, replication").fetchall()


def columns(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "results.sqlite") as conn:
        return [r[1] for r in conn.execute("PRAGMA table_info(results)")]


# ------------------------------------------------------------------------- grid parsing

def test_grid_argument_values_are_a_yaml_flow_sequence():
    axis = parse_grid_argument('hotline.latency="0 min",2 h,"6 h"')
    assert axis.name == "hotline.latency"
    assert axis.labels == ("0 min", "2 h", "6 h")
    assert parse_grid_argument("parties.russia.compliance=0.5, 0.9").labels == (0.5, 0.9)
    assert parse_grid_argument("hotline.enabled=true,false").labels == (True, False)
    assert parse_grid_argument("x.y=[1, 2],[3, 4]").labels == ([1, 2], [3, 4])


@pytest.mark.parametrize("argument, words", [
    ("hotline.latency", ["expected KEY=V1,V2"]),
    ("=1,2", ["no key"]),
    ("hotline.latency=", ["no values"]),
    ("hotline.latency=[1,", ["not valid YAML"]),
    ("hotline.loss=0.1,0.1", ["given twice"]),
    ("seed=1,2", ["cannot be a grid key"]),
    ("replication=1,2", ["cannot be a grid key"]),
])
def test_grid_argument_errors_name_the_argument(argument, words):
    with pytest.raises(GridError) as caught:
        parse_grid_argument(argument)
    message = str(caught.value)
    assert f"--grid {argument!r}" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("argument, words", [
    ('hotline.latency=fast,"2 h"', ["hotline.latency", "fast", "duration"]),
    ("parties.russia.compliance=0.5,1.5", ["compliance", "1.5"]),
    ("no_such_key.deep=1,2", ["no_such_key"]),
    ("rules.no_such_rule.horizontal=1,2", ["no_such_rule"]),
])
def test_invalid_grid_values_name_the_argument_and_the_value(argument, words):
    axes = [parse_grid_argument(argument)]
    with pytest.raises(GridError) as caught:
        plan_sweep(BASELINE, axes, 2, duration="6 h")
    message = str(caught.value)
    assert f"--grid {argument!r}" in message
    for word in words:
        assert word in message


def test_the_same_key_on_two_axes_is_refused():
    axes = [parse_grid_argument("hotline.loss=0.1,0.2"), parse_grid_argument("hotline.loss=0.3")]
    with pytest.raises(GridError, match="given by"):
        plan_sweep(BASELINE, axes, 2)


def test_cli_grid_errors_exit_2_naming_the_argument(capsys, tmp_path):
    code = main(["sweep", str(BASELINE), "--grid", "hotline.latency=soon", "--out",
                 str(tmp_path / "s"), "--replications", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--grid 'hotline.latency=soon'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_cli_without_a_grid_is_a_usage_error(capsys, tmp_path):
    assert main(["sweep", str(BASELINE), "--out", str(tmp_path / "s")]) == 2
    assert "--grid" in capsys.readouterr().err


# ------------------------------------------------------------------------- common random numbers

def test_every_point_runs_the_same_spawned_seeds(tmp_path):
    plan = small_plan(replications=3, duration="6 h")
    expected = [int(c.generate_state(1, np.uint64)[0])
                for c in np.random.SeedSequence(2017).spawn(3)]
    assert list(plan.seeds) == expected
    run_sweep(plan, tmp_path / "s")
    stored = load_sweep(tmp_path / "s")
    by_replication: dict[int, set[int]] = {}
    for row in stored.rows:
        by_replication.setdefault(row["replication"], set()).add(row["seed"])
    assert all(len(seeds) == 1 for seeds in by_replication.values())  # CRN across points
    assert len({next(iter(s)) for s in by_replication.values()}) == 3  # replications differ
    assert [next(iter(by_replication[r])) for r in range(3)] == expected
    assert len(stored.rows) == 4 * 3


def test_crn_the_same_seed_gives_the_same_traffic_at_every_latency(tmp_path):
    # Common random numbers: a grid point draws the same traffic at each seed. With
    # planners that ignore the hotline, its latency changes nothing that flies, so every
    # separation metric agrees at each seed across latencies (it differs between seeds).
    axes = [parse_grid_argument('hotline.latency="0 min","12 h"')]
    plan = plan_sweep(BASELINE, axes, 2, duration="1 d", overrides=[
        "parties.coalition.planning.avoid=false", "parties.russia.planning.avoid=false"])
    run_sweep(plan, tmp_path / "s")
    stored = load_sweep(tmp_path / "s")
    a = [r for r in stored.rows if r["point"] == 0]
    b = [r for r in stored.rows if r["point"] == 1]
    assert [r["agreed_spacing.coalition.per_day"] for r in a] == \
        [r["agreed_spacing.coalition.per_day"] for r in b]
    assert [r["opposite_tracks.per_day"] for r in a] == [r["opposite_tracks.per_day"] for r in b]
    assert a[0]["agreed_spacing.per_day"] != a[1]["agreed_spacing.per_day"]


# ------------------------------------------------------------------------- executors agree

@pytest.mark.slow
def test_serial_pool_and_dask_local_cluster_give_identical_rows(tmp_path):
    plan = small_plan(replications=2)
    run_sweep(plan, tmp_path / "serial", workers=1)
    run_sweep(plan, tmp_path / "pool", workers=2)
    run_sweep(plan, tmp_path / "dask", workers=2, scheduler="local")
    serial = rows(tmp_path / "serial")
    assert len(serial) == 8
    assert any(v not in (0, 0.0) for row in serial for v in row[6:])  # not all zeros
    assert rows(tmp_path / "pool") == serial
    assert rows(tmp_path / "dask") == serial
    summary = (tmp_path / "serial" / "summary.csv").read_bytes()
    assert (tmp_path / "pool" / "summary.csv").read_bytes() == summary
    assert (tmp_path / "dask" / "summary.csv").read_bytes() == summary


@pytest.mark.slow
def test_a_dask_worker_runs_its_rules_in_one_thread():
    # A Dask worker's threads each run a replication: the lane rules' thread would make
    # two threads of each, as many as the cores twice over. Its result is the same, and
    # the task is the same function whatever the version (an older worker says so).
    from sim.detect import rules
    from sim.study.executors import Task, dask_client, dask_results, run_replication

    def without_threads(scenario, seed):
        # Run on the worker (sent by value): any second thread of detection fails it.
        import sim.detect.rules as worker_rules
        from sim.study import executors

        class NoThreads:
            @staticmethod
            def Thread(*args, **kwargs):  # noqa: N802 - threading's name
                raise AssertionError("detection started a second thread on a Dask worker")

        real, worker_rules.threading = worker_rules.threading, NoThreads
        try:
            return executors.run_replication(scenario, seed)
        finally:
            worker_rules.threading = real

    scenario = load_scenario(BASELINE, duration="12 h")  # it has lane rules
    with dask_client("local", 1) as client:
        ((_, on_dask),) = list(dask_results(client, [Task(0, 0, 7, scenario)]))
        unthreaded = client.submit(without_threads, scenario, 7, pure=False).result()
        flags = client.run(lambda: __import__("sim.detect.rules").detect.rules
                           ._ONE_THREAD.get())
    assert on_dask == unthreaded == run_replication(scenario, 7)
    assert list(flags.values()) == [False]  # the task's setting ended with it
    assert not rules._ONE_THREAD.get()


def test_an_unreachable_scheduler_is_a_clear_error(capsys, tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["sweep", str(BASELINE), "--grid", "hotline.loss=0.1", "--replications", "1",
                 "--duration", "6 h", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Dask scheduler" in err and "Traceback" not in err


def test_a_scheduler_that_is_not_an_address_is_a_usage_error(capsys, tmp_path):
    code = main(["sweep", str(BASELINE), "--grid", "hotline.loss=0.1", "--replications", "1",
                 "--scheduler", "my-cluster", "--out", str(tmp_path / "s")])
    assert code == 2
    assert "tcp://" in capsys.readouterr().err


def test_a_worker_of_another_version_is_refused(tmp_path, monkeypatch):
    import sim.study.executors

    monkeypatch.setattr(sim.study.executors, "__version__", "0.0.0-other")
    plan = small_plan(replications=1, duration="6 h")
    with pytest.raises(sim.study.executors.ExecutorError, match="0.0.0-other"):
        run_sweep(plan, tmp_path / "s")
    assert rows(tmp_path / "s") == []


# ------------------------------------------------------------------------- crash safety

def _sweep_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "sweep", str(BASELINE), "--grid",
            "parties.russia.compliance=0.3,0.6,0.9", "--replications", "4", "--duration",
            "1 d", "--out", str(out), *extra]


@pytest.mark.slow
def test_kill_9_mid_sweep_loses_no_row_and_resumes_without_recomputing(tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONHASHSEED": "7"}
    process = subprocess.Popen(_sweep_command(out, "--workers", "1"), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "results.sqlite").exists():
            try:
                done = len(rows(out))
            except sqlite3.Error:
                done = 0
            if done >= 3:
                break
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(out / "results.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    survived = rows(out)
    assert 3 <= len(survived) < 12
    assert not (out / "summary.csv").exists()

    again = subprocess.run(_sweep_command(out, "--workers", "2"), env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"ran {12 - len(survived)} rows, {len(survived)} were already in the store" \
        in again.stdout
    finished = rows(out)
    assert len(finished) == 12
    kept = {r[:2]: r for r in finished}
    assert all(kept[r[:2]] == r for r in survived)  # no finished row was lost or changed

    whole = tmp_path / "whole"
    plain = subprocess.run(_sweep_command(whole, "--workers", "1"), env=env,
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert rows(whole) == finished
    assert (whole / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_a_stale_partial_store_from_a_crash_at_creation_is_cleaned(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / ".results.sqlite.partial-99999").write_bytes(b"half a database")
    run_sweep(small_plan(1, "6 h"), out)
    assert not list(out.glob(".results.sqlite.partial-*"))
    assert len(rows(out)) == 4


def test_a_row_of_another_seed_is_run_again_and_replaced(tmp_path):
    # A row at a point and replication whose seed is not the plan's is not done: the sweep
    # runs it again and the new row takes its place (it used to fail on the primary key).
    out = tmp_path / "s"
    plan = small_plan(2, "1 h")
    run_sweep(plan, out)
    before = rows(out)
    with sqlite3.connect(out / "results.sqlite") as conn:
        conn.execute("UPDATE results SET seed = '12345' WHERE point = 1 AND replication = 1")
    outcome = run_sweep(plan, out)
    assert rows(out) == before  # the same seed, so the same row
    assert outcome.ran == 1


def test_plot_of_a_foreign_store_says_to_rebuild_it_with_the_sweep(tmp_path, capsys):
    out = tmp_path / "s"
    out.mkdir()
    (out / "results.sqlite").write_bytes(b"not a database at all" * 100)
    code = main(["plot", str(out)])
    err = capsys.readouterr().err
    assert_refused(code, err, "not a sweep results store",
                   "run the sweep again with --restart to rebuild it")
    assert "--out" not in err


def test_a_corrupt_store_is_refused_unless_restarted(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "results.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="use mode='restart' to replace it") as info:
        run_sweep(small_plan(1, "6 h"), out)
    assert "--" not in str(info.value)  # the library names its keyword, not the option
    run_sweep(small_plan(1, "6 h"), out, mode="restart")
    assert len(rows(out)) == 4


def test_a_folder_of_other_files_is_not_taken_for_a_sweep(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a sweep folder"):
        run_sweep(small_plan(1, "6 h"), out)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_second_sweep_on_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    with open(out / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreError, match="another sweep"):
            run_sweep(small_plan(1, "6 h"), out)


# ------------------------------------------------------------------------- resume and restart

def test_a_rerun_computes_nothing(tmp_path):
    plan = small_plan(1, "6 h")
    first = run_sweep(plan, tmp_path / "s")
    second = run_sweep(plan, tmp_path / "s")
    assert (first.ran, first.reused) == (4, 0)
    assert (second.ran, second.reused) == (0, 4)


def test_a_changed_scenario_or_grid_is_refused(capsys, tmp_path):
    out = tmp_path / "s"
    base = ["sweep", str(BASELINE), "--replications", "1", "--duration", "6 h",
            "--out", str(out), "--workers", "1"]
    assert main([*base, "--grid", "hotline.loss=0.1,0.2"]) == 0
    before = rows(out)
    capsys.readouterr()
    assert main([*base, "--grid", "hotline.loss=0.1,0.3"]) == 2
    err = capsys.readouterr().err
    assert "the grid differs" in err and "--resume" in err and "--restart" in err
    assert main([*base, "--grid", "hotline.loss=0.1,0.2", "--set", "hotline.latency=1 h"]) == 2
    assert "the scenario differs" in capsys.readouterr().err
    assert rows(out) == before  # refused: untouched


def test_resume_keeps_the_rows_that_still_apply(tmp_path):
    out = tmp_path / "s"
    old = plan_sweep(BASELINE, [parse_grid_argument("hotline.loss=0.1,0.2")], 2,
                     duration="6 h")
    run_sweep(old, out)
    before = {(r["hotline.loss"], r["seed"]): r for r in load_sweep(out).rows}
    new = plan_sweep(BASELINE, [parse_grid_argument("hotline.loss=0.2,0.3,0.1")], 3,
                     duration="6 h")
    outcome = run_sweep(new, out, mode="resume")
    assert (outcome.reused, outcome.ran, outcome.dropped) == (4, 5, 0)
    after = load_sweep(out)
    assert len(after.rows) == 9
    for row in after.rows:
        old_row = before.get((row["hotline.loss"], row["seed"]))
        if old_row is not None:
            same = {k: v for k, v in row.items() if k not in ("point", "replication")}
            assert same == {k: v for k, v in old_row.items()
                            if k not in ("point", "replication")}
    fresh = tmp_path / "fresh"
    run_sweep(new, fresh)
    assert rows(fresh) == rows(out)


def test_restart_discards_the_store(tmp_path):
    out = tmp_path / "s"
    plan = small_plan(1, "6 h")
    run_sweep(plan, out)
    outcome = run_sweep(plan, out, mode="restart")
    assert (outcome.reused, outcome.ran) == (0, 4)


# ------------------------------------------------------------------------- store and summaries

def test_the_store_is_one_row_per_point_and_replication_with_parameters(tmp_path):
    out = tmp_path / "s"
    run_sweep(small_plan(2, "6 h"), out)
    names = columns(out)
    assert names[:6] == ["point", "replication", "seed", "version",
                         "parties.russia.compliance", "hotline.latency"]
    assert names[6:] == sorted(names[6:])
    assert "opposite_tracks.russia.per_day" in names
    stored = load_sweep(out)
    assert stored.complete and len(stored.rows) == 8
    assert {(r["parties.russia.compliance"], r["hotline.latency"]) for r in stored.rows} == \
        {(0.3, "0 min"), (0.3, "6 h"), (0.9, "0 min"), (0.9, "6 h")}
    assert {r["version"] for r in stored.rows} == {sim.__version__}


def test_summaries_are_means_with_student_t_intervals(tmp_path):
    out = tmp_path / "s"
    run_sweep(small_plan(3, "12 h"), out)
    stored = load_sweep(out)
    metric = "agreed_spacing.per_day"
    for s in summarize_sweep(stored, [metric]):
        values = [r[metric] for r in stored.rows if r["point"] == s.point]
        mean = sum(values) / 3
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 2)
        half = 4.302652729911275 * sd / math.sqrt(3)  # t(0.975, 2 dof)
        assert s.replications == 3
        assert s.mean == pytest.approx(mean)
        assert min(values) >= 0.0  # a rate: its interval is clipped at zero
        assert s.low == pytest.approx(max(0.0, mean - half))
        assert s.high == pytest.approx(mean + half)
    text = (out / "summary.csv").read_text()
    assert text.splitlines()[0] == ("point,parties.russia.compliance,hotline.latency,metric,"
                                    "replications,mean,std,ci95_low,ci95_high")
    assert len(text.splitlines()) == 1 + 4 * len(stored.metrics)


def test_one_replication_has_no_interval(tmp_path):
    out = tmp_path / "s"
    run_sweep(small_plan(1, "6 h"), out)
    s = summarize_sweep(load_sweep(out))[0]
    assert s.replications == 1 and math.isnan(s.low) and math.isnan(s.high)


# ------------------------------------------------------------------------- sweep files

def test_the_shipped_study_expands_to_its_grid():
    spec = load_sweep_file(STUDY)
    plan = plan_sweep(spec.scenario, spec.axes, spec.replications or 1,
                      duration=spec.duration, metrics=spec.metrics)
    assert [a.name for a in plan.axes] == ["hotline.latency", "lane_spacing"]
    assert len(plan.points) == 15
    by_label = {p.labels: p.scenario for p in plan.points}
    wide = by_label[("2 h", "60 mi")]
    assert wide.hotline.latency_s == 7200.0
    offsets = sorted(lane.offset_m for lane in wide.lanes)
    assert offsets == pytest.approx([-30 * 1609.344, 30 * 1609.344])
    spacing = next(r for r in wide.rules if r.id == "agreed_spacing")
    assert spacing.horizontal_m == pytest.approx(60 * 1609.344)
    lanes = next(r for r in wide.rules if r.id == "opposite_tracks")
    assert lanes.tolerance_m == pytest.approx(30 * 1609.344)  # half the spacing
    assert len({p.sha for p in plan.points}) == 15


@pytest.mark.parametrize("text, words", [
    ("scenario: x.yaml\ngrid: {a: [1]}\nbogus: 1\n", ["bogus", "unknown key"]),
    ("grid: {hotline.loss: [0.1]}\n", ["scenario", "required"]),
    ("scenario: ../euphrates_dec2017.yaml\n", ["grid", "required"]),
    ("scenario: x.yaml\ngrid: {sp: {a: {k.a: 1}, b: {k.b: 2}}}\n", ["grid.sp", "same keys"]),
    ("scenario: x.yaml\ngrid: {hotline.loss: 0.1}\n", ["grid.hotline.loss", "list"]),
    ("scenario: x.yaml\ngrid: {hotline.loss: [0.1]}\nreplications: 0\n", ["replications"]),
])
def test_sweep_file_errors_name_the_file_and_key(tmp_path, text, words):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(GridError) as caught:
        load_sweep_file(path)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_command_line_options_replace_the_sweep_files(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["sweep", str(STUDY), "--grid", 'hotline.latency="0 min"', "--grid",
                 "parties.russia.compliance=0.5", "--replications", "1", "--duration", "6 h",
                 "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    stored = load_sweep(out)
    assert stored.axes == ("hotline.latency", "lane_spacing", "parties.russia.compliance")
    assert len(stored.rows) == 3
    assert stored.chosen[0] == "opposite_tracks.russia.per_day"
    definition = (out / "sweep.yaml").read_text()
    assert "lane_spacing" in definition and "seeds:" in definition


# ------------------------------------------------------------------------- progress and plots

def test_progress_is_quiet_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = RowProgress("sweep", stream, terminal=False)
    for done in range(0, 101):
        progress(done, 100)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "sweep: 0/100 rows (0%)"
    assert lines[-1].startswith("sweep: 100/100 rows (100%)")


def test_progress_on_a_terminal_is_a_rich_bar():
    stream = io.StringIO()
    progress = RowProgress("sweep", stream, terminal=True)
    progress(0, 10)
    progress(5, 10)
    progress.close()
    assert "5/10" in stream.getvalue()


def test_plot_a_sweep_folder_draws_bands_and_heat_maps(tmp_path, capsys):
    out = tmp_path / "s"
    run_sweep(small_plan(2, "12 h"), out)
    code = main(["plot", str(out), "--metric", "agreed_spacing.per_day"])
    assert code == 0, capsys.readouterr().err
    metric = "agreed_spacing.per_day"
    names = sorted(p.name for p in (out / "plots").iterdir() if p.name != MARKER)
    assert names == [f"{metric}.heatmap.png", f"{metric}.png"]
    # The files: each figure's size at 110 dpi (9 x 5 in; a 2 x 2 heat map 6 x 4 in), drawn.
    for name, shape in ((f"{metric}.png", (550, 990)), (f"{metric}.heatmap.png", (440, 660))):
        image = imread(out / "plots" / name)
        assert image.shape[:2] == shape, name
        assert float(np.mean(image[..., :3] < 0.9)) > 0.01, name  # not a blank page
    # What they show: summary.csv's means, a line per latency against the compliance.
    with open(out / "summary.csv", newline="") as handle:
        means = {(float(r["parties.russia.compliance"]), r["hotline.latency"]): float(r["mean"])
                 for r in csv.DictReader(handle) if r["metric"] == metric}
    assert len(means) == 4 and len(set(means.values())) > 1  # the points differ
    figures = sweep_figures(load_sweep(out), [metric])
    assert list(figures) == [metric, f"{metric}.heatmap"]
    band = figures[metric].axes[0]
    assert (band.get_xlabel(), band.get_ylabel()) == ("parties.russia.compliance", metric)
    assert [t.get_text() for t in band.get_legend().get_texts()] == [
        "hotline.latency = 0 min", "hotline.latency = 6 h"]
    assert len(band.lines) == 2 and len(band.collections) == 2  # a line and a band each
    for line, latency in zip(band.lines, ("0 min", "6 h"), strict=True):
        assert list(line.get_xdata()) == [0.3, 0.9]
        assert list(line.get_ydata()) == pytest.approx(
            [means[0.3, latency], means[0.9, latency]], rel=1e-9)
    heat = figures[f"{metric}.heatmap"].axes[0]
    assert (heat.get_xlabel(), heat.get_ylabel()) == ("parties.russia.compliance",
                                                      "hotline.latency")
    # rows the latencies (0 min at the bottom), columns the compliances
    assert heat.images[0].get_array().ravel().tolist() == pytest.approx(
        [means[0.3, "0 min"], means[0.9, "0 min"], means[0.3, "6 h"], means[0.9, "6 h"]],
        rel=1e-9)
    # Each cell annotated with its mean (after a "~" where it is not shown to differ from
    # the lowest cell).
    assert sorted(float(t.get_text().removeprefix("~ ").split()[0]) for t in heat.texts) \
        == pytest.approx(sorted(means.values()), abs=0.005)
    assert main(["plot", str(out), "--metric", "no.such.metric"]) == 2
    assert "not a metric of this sweep" in capsys.readouterr().err


def test_plot_one_axis_sweep_has_no_heat_map(tmp_path, capsys):
    out = tmp_path / "s"
    run_sweep(plan_sweep(BASELINE, [parse_grid_argument('hotline.latency="0 min","2 h"')], 2,
                         duration="6 h"), out)
    assert main(["plot", str(out)]) == 0
    names = [p.name for p in (out / "plots").iterdir() if p.name != MARKER]
    assert names and not [n for n in names if "heatmap" in n]


def test_axis_numbers_for_quantities_and_categories():
    assert axis_numbers(["0 min", "30 min", "2 h"]) == ([0.0, 30.0, 120.0], "min")
    assert axis_numbers(["30 mi", "45 mi"]) == ([30.0, 45.0], "mi")
    assert axis_numbers([0.5, 1]) == ([0.5, 1.0], "")
    assert axis_numbers(["low", "high"]) is None
    assert axis_numbers([True, False]) is None


def test_summary_csv_leaves_a_missing_interval_empty(tmp_path):
    out = tmp_path / "s"
    run_sweep(small_plan(1, "6 h"), out)
    assert "nan" not in (out / "summary.csv").read_text().lower()


def _die(scenario, seed):  # a worker that is killed mid-replication
    os._exit(9)


def test_a_dead_worker_process_is_a_clear_error_and_the_store_stays_usable(tmp_path,
                                                                           monkeypatch):
    import sim.study.executors

    monkeypatch.setattr(sim.study.executors, "run_replication", _die)
    with pytest.raises(sim.study.executors.ExecutorError, match="worker process died"):
        run_sweep(small_plan(1, "6 h"), tmp_path / "s", workers=2)
    monkeypatch.undo()
    outcome = run_sweep(small_plan(1, "6 h"), tmp_path / "s", workers=2)
    assert outcome.ran == 4


@pytest.mark.parametrize("name", ["euphrates_dec2017", "encounters", "al_tanf_2017",
                                  "palmyra_dec2016", "euphrates_nyt_sides"])
def test_metric_names_known_before_running_are_those_a_run_gives(name):
    from sim.analysis.metrics import headline_metric_names

    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", duration="6 h")
    names = headline_metric_names(scenario)
    given = replication_metrics(scenario, 5)
    assert set(given) <= set(names)
    assert len(names) == len(set(names))
    rates_left_out = set(names) - set(given)
    assert all(n.endswith(("per_100_sorties", "per_1000_flight_hours")) for n in rates_left_out)


def test_a_metric_typo_is_refused_before_anything_runs(capsys, tmp_path):
    out = tmp_path / "s"
    code = main(["sweep", str(BASELINE), "--grid", "hotline.loss=0.1", "--replications", "1",
                 "--metric", "opposite_tracks.rusia.per_day", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "opposite_tracks.rusia.per_day" in err and "opposite_tracks.russia.per_day" in err
    assert not out.exists()


def test_replications_on_a_reused_geography_equal_runs_from_scratch():
    # A worker builds the geography (and each party's router, racetracks and gates) once
    # for all the seeds of a scenario; each replication must equal a run from scratch.
    from dataclasses import replace

    from sim.analysis import compare
    from sim.analysis.metrics import headline_metrics, run_stats
    from sim.engine.simulation import run

    scenario = load_scenario(ROOT / "scenarios" / "euphrates_dec2017.yaml", duration="2 d")
    compare._GEOGRAPHIES.clear()
    reused = [compare.replication_metrics(scenario, seed) for seed in (5, 6, 7, 5)]
    fresh = [headline_metrics(run_stats(run(replace(scenario, seed=seed))))
             for seed in (5, 6, 7, 5)]
    assert reused == fresh
    assert reused[0] != reused[1]  # the seeds matter
    (geography,) = compare._GEOGRAPHIES.values()
    assert any(key[0] == "router" for key in geography.memo)
    longer = replace(scenario, duration_s=3 * 86400.0)
    compare.replication_metrics(longer, 5)
    assert len(compare._GEOGRAPHIES) == 2  # another scenario: a geography of its own

# ====================================================================== review: helpers

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
    """Replication seeds computed here: the first 64-bit word of each spawned child."""
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
    # One axis: a band plot and no heat map; the labels are categories, in their order.
    assert sorted(p.name for p in (out / "plots").iterdir() if p.name != MARKER) == [
        "nmac.per_day.png"]
    image = imread(out / "plots" / "nmac.per_day.png")
    assert image.shape[:2] == (550, 990)  # 9 x 5 in at 110 dpi
    assert float(np.mean(image[..., :3] < 0.9)) > 0.01  # not a blank page
    with open(out / "summary.csv", newline="") as handle:
        means = [float(line["mean"]) for line in csv.DictReader(handle)
                 if line["metric"] == "nmac.per_day"]
    (fig,) = sweep_figures(load_sweep(out), ["nmac.per_day"]).values()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2.5", "null", "false"]
    assert ax.get_xlabel() == "sp" and ax.get_legend() is None
    (line,) = ax.lines
    assert list(line.get_xdata()) == [0.0, 1.0, 2.0, 3.0]
    assert list(line.get_ydata()) == pytest.approx(means, rel=1e-9, abs=1e-12)


def test_axes_whose_names_differ_only_by_case_are_refused(tmp_path, capsys):
    path = sweep_file(tmp_path, "Level: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}\n"
                      "level: {x: {hotline.latency: 1 h}}")
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    assert_refused(code, err, f"{path}: grid.level: the axis level and Level",
                   "would be one column (names are compared without case)")
    assert not out.exists()  # refused before the folder is made


@pytest.mark.parametrize("grid, words", [
    pytest.param("Level: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}\n"
                 "level: {x: {hotline.latency: 1 h}}",
                 ["grid.level", "would be one column"], id="case-clash"),
    pytest.param("agreed_spacing.per_day: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}",
                 ["grid.agreed_spacing.per_day", "is also a metric's column"],
                 id="metric-name"),
    pytest.param("scenario_sha: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.2}}",
                 ["grid.scenario_sha", "'scenario_sha' cannot name a grid axis"],
                 id="scenario_sha"),
    pytest.param("big: {100000000000000000000000: {hotline.loss: 0.1}, 2: {hotline.loss: 0.2}}",
                 ["grid.big", "too large a whole number", "quote it"], id="huge-label"),
    pytest.param("s: {a: {seed: 1}, b: {seed: 2}}",
                 ["grid.s.a", "sets seed", "--seed"], id="linked-seed"),
])
def test_linked_axis_edge_cases_are_refused_before_anything_is_written(grid, words,
                                                                       tmp_path, capsys):
    path = sweep_file(tmp_path, grid)
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    assert_refused(code, err, str(path), *words)
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
    # The second axis overrides what the first varies, so two points with different labels
    # would run one scenario: refused, naming both arguments, before anything is written.
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", BASELINE, "--grid", first, "--grid", second,
                                "--replications", "1", "--duration", DURATION,
                                "--workers", "1", "--out", out])
    assert_refused(code, err, f"--grid {first!r}", f"--grid {second!r}",
                   "run the same scenario: an axis changes nothing there")
    assert not out.exists()


def test_two_points_of_the_same_scenario_are_refused_and_so_cannot_be_resumed(tmp_path,
                                                                              capsys):
    # Two labels of one scenario would share a stored row: refused up front, and a resume
    # of the sweep is refused the same way (there is nothing to resume).
    path = sweep_file(tmp_path, "twin: {a: {hotline.loss: 0.1}, b: {hotline.loss: 0.1}}")
    out = tmp_path / "s"
    for extra in ([], ["--replications", "2", "--resume"]):
        code, _, err = cli(capsys, ["sweep", path, *extra, "--workers", "1", "--out", out])
        assert_refused(code, err, f"({path}: grid.twin at a) and ({path}: grid.twin at b) "
                       "run the same scenario")
        assert not out.exists()


@pytest.mark.parametrize("name", ["mean", "metric"])
def test_an_axis_named_like_a_summary_column_is_refused(name, tmp_path, capsys):
    # An axis called "mean" or "metric" would give summary.csv two columns of one name:
    # refused up front, naming the axis and the names that are taken.
    path = sweep_file(tmp_path, f"{name}: {{low: {{hotline.loss: 0.1}}, "
                      "high: {hotline.loss: 0.2}}")
    out = tmp_path / "s"
    code, _, err = cli(capsys, ["sweep", path, "--workers", "1", "--out", out])
    assert_refused(code, err, f"{path}: grid.{name}: '{name}' cannot name a grid axis",
                   "it is a column of the results (point, replication, seed, version, "
                   "scenario_sha, metric, replications, mean, std, ci95_low, ci95_high)")
    assert not out.exists()


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
