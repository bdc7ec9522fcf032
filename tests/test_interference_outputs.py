"""The February 2018 interference scenario end to end: it runs, its effects are counted in
summary.json and stats.json and read back, the map draws the jamming areas, the per-day
figure and the report tell interference-caused episodes apart, and a sweep reports the
interference metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.io.read import load_run_folder
from sim.model.geography import build_geography
from sim.present import plots

ROOT = Path(__file__).resolve().parent.parent

SCENARIO = str(ROOT / "scenarios" / "euphrates_feb2018_ew.yaml")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("feb") / "run"
    assert main(["run", SCENARIO, "--duration", "2 d", "--out", str(out)]) == 0
    return out


def test_effects_are_counted_and_consistent_with_events(folder):
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    stats = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    effects = summary["interference"]
    assert effects["areas"] == ["ew_deir_ez_zor", "ew_mayadin"]
    assert 0 < effects["displaced_crossings"] <= effects["crossings"]
    assert effects["drones_aborted"] == len(effects["aborted"])
    assert effects["drones_lost"] == len(effects["lost"])
    with open(folder / "events.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for rule, n in effects["episodes_by_rule"].items():
        assert n == sum(1 for r in rows if r["rule"] == rule
                        and "interference" in r["cause"].split(";"))
        assert stats["interference"]["episodes_by_rule"][rule]["episodes"] == n
        assert stats["interference"]["episodes_by_rule"][rule]["per_day"] == pytest.approx(n / 2)
    assert sum(effects["episodes_by_rule"].values()) > 0
    with open(folder / "flights.csv", newline="", encoding="utf-8") as handle:
        flights = {r["flight"]: r for r in csv.DictReader(handle)}
    for flight in effects["lost"] + effects["aborted"]:
        assert flights[flight]["aircraft"] == "MQ-9"  # only drones are aborted or lost
    load_run_folder(folder)  # read back: stats.json agrees with what it is recomputed from


def test_map_draws_jamming_areas_and_per_day_figure_marks_caused_episodes(folder):
    run_folder = load_run_folder(folder)
    geography = build_geography(run_folder.scenario)
    assert [j.spec.id for j in geography.jammers] == ["ew_deir_ez_zor", "ew_mayadin"]
    figures = plots.run_figures(run_folder, geography)
    ax = figures["map"].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "jamming areas (owner's colour)" in labels
    hatched = [p for p in ax.patches if p.get_hatch() == "xx"]
    assert len(hatched) == 2
    # the Deir ez-Zor area is a 60 km circle round the town: its outline's extent in
    # latitude is 120 km, about 1.08 degrees
    lat = hatched[0].get_xy()[:, 1]
    assert lat.max() - lat.min() == pytest.approx(120.0 / 111.0, rel=0.02)
    per_day = figures["violations_per_day"]
    caused = {}
    for axis in per_day.axes:
        for line in axis.get_lines():
            if line.get_label().startswith("of which caused by interference"):
                caused[axis.get_title()] = line
    assert "agreed_spacing (min_separation) per day" in caused
    n = sum(1 for e in run_folder.episodes
            if e.rule == "agreed_spacing" and "interference" in e.cause.split(";"))
    line = caused["agreed_spacing (min_separation) per day"]
    # a 2-day run is counted in 6 h bins, drawn as rates a day: each bin's value times a
    # quarter day is its count, and the counts sum to the caused episodes
    assert np.sum(np.asarray(line.get_ydata())[:-1]) * 0.25 == pytest.approx(n)


def test_report_has_the_interference_table(folder):
    assert main(["report", str(folder)]) == 0
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<caption>Interference</caption>" in html
    assert "drones aborted (lost)" in html
    assert "agreed_spacing: episodes caused (a day)" in html


def test_sweep_metrics_include_interference(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", SCENARIO, "--grid", "interference[0].navigation.probability=0,1",
                 "--replications", "2", "--duration", "1 d", "--workers", "1",
                 "--out", str(out)]) == 0
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    metrics = {r["metric"] for r in rows}
    assert {"interference.agreed_spacing.per_day", "interference.drones_aborted",
            "interference.drones_lost"} <= metrics


def test_validate_lists_the_jamming_areas(capsys):
    capsys.readouterr()
    assert main(["validate", SCENARIO]) == 0
    out = capsys.readouterr().out
    assert ("  jamming   ew_deir_ez_zor: russia against coalition (drone, fighter); 1 window; "
            "navigation, drones, hotline\n") in out
    assert "  jamming   ew_mayadin: russia against coalition (drone, fighter); 1 window; " \
           "navigation, drones\n" in out
