"""The benchmark runner cannot rot: a tiny run of each kind of workload (not a timed test)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_runner():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_runner_measures_tiny_workloads(tmp_path, capsys):
    runner = load_runner()
    out = tmp_path / "bench.json"
    assert runner.main(["box-12-1h", "dense-4", "--repeat", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["workload"] for r in rows] == ["box-12-1h", "dense-4"]
    for row in rows:
        assert row["wall_s_median"] > 0 and row["peak_rss_mib"] > 10
        assert row["candidate_leg_pairs"] <= row["overlapping_leg_pairs"]
        assert row["flight_hours"] > 0
    assert rows[0]["flights"] == 12
    assert "box-12-1h" in capsys.readouterr().out


def test_workload_scenarios_have_the_promised_shape(tmp_path):
    runner = load_runner()
    one_hour = runner.box_scenario(30, 1.0)
    assert len(one_hour["flights"]) == 30
    assert all(f["depart"] == "0.0 s" for f in one_hour["flights"])
    assert all(len(f["route"]) == runner.WAYPOINTS for f in one_hour["flights"])  # 11 legs
    dense = runner.box_scenario(5, 24.0, dense=True)
    for flight in dense["flights"]:  # long enough to stay airborne for the whole day
        speed = float(flight["speed"].split()[0])
        points = [(float(p["x"].split()[0]), float(p["y"].split()[0])) for p in flight["route"]]
        length = sum(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
                     for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False))
        assert length / speed >= 24 * 3600
    path, options = runner.workload("box-7-24h", tmp_path)
    assert yaml.safe_load(path.read_text())["duration"] == "24 h" and options == []
