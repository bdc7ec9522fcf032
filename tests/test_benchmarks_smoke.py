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


def test_constant_density_workload_scales_the_box_not_the_flights():
    runner = load_runner()

    def shape(n):
        flights = runner.area_scenario(n)["flights"]
        points = [[(float(p["x"].split()[0]), float(p["y"].split()[0])) for p in f["route"]]
                  for f in flights]
        extent = max(abs(c) for route in points for p in route for c in p)
        steps = [((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 for route in points
                 for (x1, y1), (x2, y2) in zip(route, route[1:], strict=False)]
        return len(flights), extent, min(steps), max(steps)

    n_small, extent_small, low, high = shape(1000)
    n_large, extent_large, low2, high2 = shape(4000)
    assert (n_small, n_large) == (1000, 4000)
    # Four times the flights in (about) four times the area, steps alike.
    assert extent_large <= runner.BOX_M / 2 * (4000 / 10_000) ** 0.5 + 1e-6
    assert 1.5 < extent_large / extent_small < 2.05
    assert 20_000 <= min(low, low2) and max(high, high2) <= 60_000
    tiny = runner.area_scenario(3)["flights"]  # a box smaller than the steps: they shrink
    assert len(tiny) == 3


def test_the_breakdown_times_every_stage(tmp_path, capsys):
    runner = load_runner()
    out = tmp_path / "stages.json"
    assert runner.main(["box-6-1h", "--breakdown", "--repeat", "1", "--json", str(out)]) == 0
    stages = json.loads(out.read_text())["box-6-1h"]
    assert {"interpreter start", "imports", "load", "run", "statistics and writing",
            "whole process"} <= set(stages)
    assert all(v > 0 for v in stages.values())
    assert "whole process" in capsys.readouterr().out
