"""Statistics, figures, comparison and report of a run folder, end to end on shipped
scenarios: plot functions draw on the Axes they are given, with labelled axes; the
commands write whole outputs, the same bytes every time; bad run folders get a clear
error (exit 2 naming the file)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from sim.analysis.metrics import (
    bootstrap_interval,
    encounter_rule,
    headline_metrics,
    replication_summary,
    severity_bins,
)
from sim.cli import main
from sim.io.write import MARKER, product_kind
from sim.io.read import load_run_folder
from sim.model.geography import build_geography
from sim.model.units import DAY, HOUR
from sim.present import plots

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
ENCOUNTERS = ROOT / "scenarios" / "encounters.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    out = {"baseline": base / "baseline", "off": base / "off", "encounters": base / "enc"}
    assert main(["run", str(BASELINE), "--duration", "2 d", "--out", str(out["baseline"]),
                 "--replications", "3", "--workers", "1"]) == 0
    assert main(["run", str(BASELINE), "--duration", "2 d", "--out", str(out["off"]),
                 "--set", "hotline.enabled=false", "--replications", "3",
                 "--workers", "1"]) == 0
    assert main(["run", str(ENCOUNTERS), "--out", str(out["encounters"])]) == 0
    return out


# ---------------------------------------------------------------------------- statistics


def test_stats_rates_agree_with_events_and_flights(runs):
    folder = runs["baseline"]
    stats = json.loads((folder / "stats.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    with open(folder / "events.csv", newline="") as handle:
        events = list(csv.DictReader(handle))
    with open(folder / "flights.csv", newline="") as handle:
        flights = list(csv.DictReader(handle))
    days = stats["duration_s"] / DAY
    sorties = len(flights)
    hours = sum(float(f["airborne_s"]) for f in flights) / HOUR
    assert stats["exposure"]["sorties"]["total"] == sorties
    assert stats["exposure"]["flight_hours"]["total"] == pytest.approx(hours, abs=1e-5)
    for rule, r in stats["rates"].items():
        n = sum(1 for e in events if e["rule"] == rule)
        assert r["episodes"] == n == summary["rules"][rule]["episodes"]
        assert r["per_day"] == pytest.approx(n / days, abs=1e-6)
        assert r["per_100_sorties"] == pytest.approx(100 * n / sorties, abs=1e-6)
        assert r["per_1000_flight_hours"] == pytest.approx(1000 * n / hours, rel=1e-6)
        assert sum(c["episodes"] for c in r["by_cause"].values()) == n
        total = sum(float(e["duration_s"]) for e in events if e["rule"] == rule)
        assert stats["time_in_violation"][rule]["total_s"] == pytest.approx(total, abs=1e-5)
    severity = stats["severity"]
    widest = severity["encounter_rule"]
    assert widest == "agreed_spacing"
    assert severity["bins"][-1]["cumulative"] == stats["rates"][widest]["episodes"]
    # The bins nest: the NMAC bin is exactly the pairs the nmac rule caught (altitudes are
    # constant along a flight, so the closest approach decides).
    nmac_pairs = {(e["aircraft"], e["other_aircraft"]) for e in events if e["rule"] == "nmac"}
    assert severity["bins"][0]["name"] == "nmac"
    assert severity["bins"][0]["cumulative"] >= len(nmac_pairs) > 0 or not nmac_pairs


def test_miss_distance_quantiles_are_those_of_the_events(runs):
    stats = json.loads((runs["baseline"] / "stats.json").read_text())
    with open(runs["baseline"] / "events.csv", newline="") as handle:
        events = list(csv.DictReader(handle))
    for rule, m in stats["miss_distance"].items():
        d = np.array([float(e["min_distance_m"]) for e in events if e["rule"] == rule])
        assert m["horizontal_m"]["count"] == len(d)
        if len(d):
            assert m["horizontal_m"]["p50"] == pytest.approx(float(np.median(d)), abs=1e-5)
            assert m["horizontal_m"]["min"] == pytest.approx(float(d.min()), abs=1e-5)


def test_replications_section_and_csv(runs):
    folder = runs["baseline"]
    stats = json.loads((folder / "stats.json").read_text())
    reps = stats["replications"]
    assert len(reps["seeds"]) == 3
    with open(folder / "replications.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["seed"]) for r in rows] == reps["seeds"]
    m = reps["metrics"]["opposite_tracks.per_day"]
    values = [float(r["opposite_tracks.per_day"]) for r in rows]
    assert m["mean"] == pytest.approx(np.mean(values), abs=1e-6)
    assert m["low"] <= m["mean"] <= m["high"]
    assert min(values) <= m["low"] and m["high"] <= max(values)


def test_bootstrap_intervals_shrink_with_replications():
    draws = np.random.default_rng(5).poisson(5.0, size=400).astype(float)
    widths = {}
    for n in (4, 16, 64, 256):
        low, high = bootstrap_interval(draws[:n], np.random.default_rng(1))
        assert low <= draws[:n].mean() <= high
        widths[n] = high - low
    assert widths[4] > widths[16] > widths[64] > widths[256]
    # Roughly 1/sqrt(n): a 64-fold sample is at least four times narrower.
    assert widths[256] < widths[4] / 4
    summary = replication_summary([{"a": 1.0}], seed=1)
    assert summary["a"] == {"mean": 1.0, "low": None, "high": None, "replications": 1}
    with pytest.raises(ValueError):
        bootstrap_interval([1.0], np.random.default_rng(1))


def test_headline_metrics_flatten_every_rule(runs):
    stats = json.loads((runs["encounters"] / "stats.json").read_text())
    flat = headline_metrics(stats)
    for rule in stats["rates"]:
        assert f"{rule}.per_day" in flat and f"{rule}.hours_in_violation" in flat
    assert all(np.isfinite(v) for v in flat.values())


# ---------------------------------------------------------------------------- plot functions


def _labelled(ax) -> None:
    assert ax.get_xlabel() and ax.get_title()
    drawn = ax.lines + ax.patches + ax.collections + ax.texts
    assert drawn, "nothing drawn"


@pytest.fixture(scope="module")
def baseline(runs):
    folder = load_run_folder(runs["baseline"])
    return folder, build_geography(folder.scenario)


def test_each_plot_function_draws_on_the_axes_it_is_given(baseline):
    folder, geography = baseline
    scenario = folder.scenario
    parties = sorted(scenario.parties)
    widest = encounter_rule(scenario)
    assert widest is not None
    calls = [
        lambda ax: plots.corridor_map(ax, geography, scenario.rules, folder.episodes,
                                      folder.zones, folder.tracks, parties),
        lambda ax: plots.miss_distance_histogram(ax, folder.episodes, widest.id,
                                                 severity_bins(scenario)),
        lambda ax: plots.vertical_miss_histogram(ax, folder.episodes, widest.id),
        lambda ax: plots.severity_bars(ax, folder.stats["severity"]),
        lambda ax: plots.violations_per_day(ax, folder.episodes, scenario.rules[0], parties,
                                            scenario.duration_s, scenario.reported),
        lambda ax: plots.time_in_violation(ax, folder.stats),
        lambda ax: plots.hotline_traffic(ax, folder.messages, scenario.duration_s),
        lambda ax: plots.compare_rates(ax, [folder.stats, folder.stats], ["a", "b"]),
    ]
    for call in calls:
        fig = Figure()
        ax = fig.add_subplot()
        assert call(ax) is ax
        _labelled(ax)
        assert len(fig.axes) == 1  # drew on the given Axes, made no other


def test_the_map_shows_every_episode_and_the_reported_line(baseline):
    folder, geography = baseline
    scenario = folder.scenario
    ax = Figure().add_subplot()
    plots.corridor_map(ax, geography, scenario.rules, folder.episodes, folder.zones,
                       folder.tracks, sorted(scenario.parties))
    plotted = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    assert plotted == len(folder.episodes)
    lane_rule = scenario.rules[0]
    ax = Figure().add_subplot()
    plots.violations_per_day(ax, folder.episodes, lane_rule, sorted(scenario.parties),
                             scenario.duration_s, scenario.reported)
    labels = [line.get_label() for line in ax.lines]
    assert any("reported" in label and "5 to 6" in label for label in labels)


def test_plot_functions_cope_with_no_data(baseline):
    folder, geography = baseline
    scenario = folder.scenario
    for call in (
        lambda ax: plots.miss_distance_histogram(ax, [], "nmac"),
        lambda ax: plots.vertical_miss_histogram(ax, [], "nmac"),
        lambda ax: plots.hotline_traffic(ax, [], DAY),
        lambda ax: plots.violations_per_day(ax, [], scenario.rules[0], ["a", "b"], 0.5 * DAY),
        lambda ax: plots.corridor_map(ax, geography, scenario.rules, []),
    ):
        fig = Figure()
        call(fig.add_subplot())
        assert plots.figure_bytes(fig, "png")[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------- commands


def test_plot_writes_every_figure_readable_and_identical_twice(runs, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", str(runs["baseline"]), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert product_kind(out) == "plot"
    # The baseline's sorties climb and descend, so it has the altitude figure too.
    assert names == sorted(f"{n}.png" for n in ("map", "violations_per_day", "miss_distance",
                                                "time_in_violation", "hotline", "altitude"))
    for name in names:
        image = imread(out / name)
        assert image.shape[0] > 300 and image.shape[1] > 600
        assert float(np.mean(image[..., :3] < 0.9)) > 0.01  # not a blank page
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["plot", str(runs["baseline"]), "--out", str(out)]) == 2
    assert "holds a plot folder written by deconflict; use --force" in capsys.readouterr().err
    assert main(["plot", str(runs["baseline"]), "--out", str(out), "--force"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_plot_other_formats_are_byte_identical_twice(runs, tmp_path, fmt):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["plot", str(runs["encounters"]), "--out", str(a), "--format", fmt]) == 0
    assert main(["plot", str(runs["encounters"]), "--out", str(b), "--format", fmt]) == 0
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for p in a.iterdir():
        assert p.suffix == f".{fmt}" or p.name == MARKER
        assert p.read_bytes() == (b / p.name).read_bytes()


def test_plot_default_folder_is_inside_the_run_and_replaced(runs, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(runs["encounters"], folder)
    assert main(["plot", str(folder)]) == 0
    assert main(["plot", str(folder)]) == 0  # its own folder: drawn again, no --force
    assert sorted(p.suffix for p in (folder / "plots").iterdir()) == [""] + [".png"] * 5
    assert product_kind(folder / "plots") == "plot"
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != MARKER]


def test_compare_run_folders_side_by_side(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs["baseline"]), str(runs["off"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "declared_zones.per_day" in printed and "baseline" in printed and "off" in printed
    with open(out / "compare.csv", newline="") as handle:
        rows = {r["metric"]: r for r in csv.DictReader(handle)}
    stats = json.loads((runs["baseline"] / "stats.json").read_text())
    on = stats["replications"]["metrics"]["declared_zones.per_day"]
    row = rows["declared_zones.per_day"]
    assert float(row["baseline"]) == stats["rates"]["declared_zones"]["per_day"]
    assert [float(row[f"baseline.{k}"]) for k in ("mean", "low", "high")] == [
        on["mean"], on["low"], on["high"]]
    # Both runs have replications: the printed table shows their means and intervals.
    assert f"{on['mean']:.3f} [{on['low']:.3f}, {on['high']:.3f}]" in printed
    assert imread(out / "compare.png").shape[1] > 600


def test_compare_needs_two_run_folders(runs, capsys):
    assert main(["compare", str(runs["baseline"])]) == 2
    assert "two or more run folders" in capsys.readouterr().err
    assert main(["compare", str(runs["baseline"]), str(runs["off"]), "--b", "seed=3"]) == 2


def test_report_is_one_self_contained_page(runs, tmp_path):
    page = tmp_path / "r.html"
    assert main(["report", str(runs["baseline"]), "--out", str(page)]) == 0
    text = page.read_text()
    assert text.count('src="data:image/png;base64,') == 6  # with the altitude figure
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "violations_per_day_seed" in text  # the headline against the reported facts
    again = tmp_path / "r2.html"
    assert main(["report", str(runs["baseline"]), "--out", str(again)]) == 0
    assert again.read_bytes() == page.read_bytes()
    assert main(["report", str(runs["baseline"]), "--out", str(page)]) == 2  # no --force


@pytest.mark.parametrize("damage, expect", [
    ("missing:stats.json", "missing stats.json"),
    ("missing:events.csv", "missing events.csv"),
    ("garble:events.csv:start_s", "events.csv, row 2, column start_s"),
    ("garble:flights.csv:airborne_s", "flights.csv, row 2, column airborne_s"),
    ("header:hotline.csv", "hotline.csv: missing the column"),
    ("json:stats.json", "stats.json: cannot be read as JSON"),
    ("scenario", "scenario.yaml: not a valid scenario"),
])
def test_bad_run_folders_get_a_clear_error(runs, tmp_path, capsys, damage, expect):
    folder = tmp_path / "run"
    shutil.copytree(runs["encounters"], folder)
    kind, *rest = damage.split(":")
    if kind == "missing":
        (folder / rest[0]).unlink()
    elif kind == "garble":
        with open(folder / rest[0], newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows[0][rest[1]] = "abc"
        with open(folder / rest[0], "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    elif kind == "header":
        text = (folder / rest[0]).read_text().splitlines()
        (folder / rest[0]).write_text("\n".join(["x,y", *text[1:]]) + "\n")
    elif kind == "json":
        (folder / rest[0]).write_text("{not json")
    else:
        (folder / "scenario.yaml").write_text("name: x\nduration: soon\n")
    for command in (["plot", str(folder), "--out", str(tmp_path / "p")],
                    ["report", str(folder)],
                    ["compare", str(folder), str(runs["encounters"])]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert expect in err and "Traceback" not in err
    assert not (tmp_path / "p").exists() and not (folder / "report.html").exists()


def test_a_missing_run_folder_is_named(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: not a folder" in capsys.readouterr().err


def test_altitudes_are_drawn_for_runs_with_level_changes(runs, tmp_path):
    # encounters.yaml flies level: no altitude figure. Give R2 a climb in its tracks.csv
    # (4 000 ft at its first point, its written 25 050 ft after) and the figure appears,
    # one line a sampled flight in feet, an x at both aircraft of each separation
    # episode's closest approach.
    folder = load_run_folder(runs["encounters"])
    geography = build_geography(folder.scenario)
    assert not plots.changes_level(folder.tracks)
    assert "altitude" not in plots.run_figures(folder, geography)
    climbing = tmp_path / "climbing"
    shutil.copytree(runs["encounters"], climbing)
    with open(climbing / "tracks.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first_r2 = next(k for k, r in enumerate(rows) if r["flight"] == "R2")
    rows[first_r2]["altitude_m"] = repr(4000 * 0.3048)
    with open(climbing / "tracks.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    folder = load_run_folder(climbing)
    assert plots.changes_level(folder.tracks)
    figures = plots.run_figures(folder, geography)
    assert list(figures)[-1] == "altitude"
    ax = figures["altitude"].axes[0]
    lines = [line for line in ax.lines if line.get_linestyle() != "None"]
    assert len(lines) == len(folder.tracks) == 4
    r2 = next(t for t in folder.tracks if t.flight == "R2")
    drawn = next(line for line in lines if np.array_equal(line.get_xdata(), r2.t_s / HOUR))
    assert np.allclose(drawn.get_ydata(), [4000.0, 25_050.0])
    separations = [e for e in folder.episodes if e.min_time_s is not None]
    marks = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(marks) == 2 * len(separations)
    assert ax.get_ylabel() == "altitude (ft)" and ax.get_xlabel().startswith("hours since")


def test_the_report_of_a_run_with_level_changes_shows_the_altitude_figure(tmp_path, capsys):
    out = tmp_path / "dec13"
    assert main(["run", str(ROOT / "scenarios" / "encounter_dec13_2017.yaml"), "--out",
                 str(out)]) == 0
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<figure>") == 6 and "Altitude against time" in page
