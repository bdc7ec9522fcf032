"""Monte Carlo sweeps (issue 6): grids, common random numbers, executors that agree row for
row, a results store that survives kill -9 and resumes, summaries, progress and plots."""

from __future__ import annotations

import io
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.io.write import MARKER
from sim.cli import RowProgress, main
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


def test_a_corrupt_store_is_refused_unless_restarted(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "results.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="--restart"):
        run_sweep(small_plan(1, "6 h"), out)
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
    import fcntl

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
    assert {r["version"] for r in stored.rows} == {__import__("sim").__version__}


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
        assert s.low == pytest.approx(mean - half)
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
    run_sweep(small_plan(2, "6 h"), out)
    code = main(["plot", str(out), "--metric", "agreed_spacing.per_day"])
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in (out / "plots").iterdir() if p.name != MARKER)
    assert names == ["agreed_spacing.per_day.heatmap.png", "agreed_spacing.per_day.png"]
    assert all((out / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
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
    from sim.analysis.compare import replication_metrics
    from sim.analysis.metrics import headline_metric_names
    from sim.model.scenario import load_scenario

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
    from sim.model.scenario import load_scenario

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
