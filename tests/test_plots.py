"""Statistics, figures, comparison and report of a run folder, end to end on shipped
scenarios: plot functions draw on the Axes they are given, with labelled axes; the
commands write whole outputs, the same bytes every time; bad run folders get a clear
error (exit 2 naming the file).

The second half is the hostile review of ``deconflict plot``, ``compare`` and ``report``
(and the run-folder files): every bad input gets exit 2 with a message naming the file and
no traceback, no partial output is left behind, and the same input gives the same bytes.
The review found thirteen bugs (plots of a run with no rules, mathtext in names,
stats.json and CSV cells of the wrong shape or infinite, bow-tie work areas, outputs that
could replace their own input, leftovers of an interrupted report, compare of one folder
twice, its labels and CSV); the tests that found them stay as regressions.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.patches import Rectangle
from shapely import Polygon, make_valid, unary_union

import sim.io.write
from sim.analysis.metrics import (
    bootstrap_interval,
    encounter_rule,
    headline_metrics,
    replication_summary,
    severity_bins,
)
from sim.cli import main
from sim.io.read import load_run_folder
from sim.io.write import MARKER, product_kind
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
    # constant along a flight, so the closest approach decides). The two-day baseline has
    # none; encounters.yaml has one (C1 and R2).
    for folder, pairs in ((runs["baseline"], 0), (runs["encounters"], 1)):
        severity = json.loads((folder / "stats.json").read_text())["severity"]
        with open(folder / "events.csv", newline="") as handle:
            nmac_pairs = {(e["aircraft"], e["other_aircraft"]) for e in csv.DictReader(handle)
                          if e["rule"] == "nmac"}
        assert severity["bins"][0]["name"] == "nmac"
        assert severity["bins"][0]["cumulative"] == len(nmac_pairs) == pairs


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
    # An empty figure says why it is empty (where it has words for it), draws no data and
    # still renders whole.
    folder, geography = baseline
    scenario = folder.scenario
    for call, said in (
        (lambda ax: plots.miss_distance_histogram(ax, [], "nmac"), ["no episodes"]),
        (lambda ax: plots.vertical_miss_histogram(ax, [], "nmac"), ["no episodes"]),
        (lambda ax: plots.hotline_traffic(ax, [], DAY), ["no hotline traffic"]),
        (lambda ax: plots.violations_per_day(ax, [], scenario.rules[0], ["a", "b"],
                                             0.5 * DAY), []),
        (lambda ax: plots.corridor_map(ax, geography, scenario.rules, []), None),
    ):
        fig = Figure()
        ax = call(fig.add_subplot())
        if said is not None:
            assert [t.get_text() for t in ax.texts] == said
        assert not [p for p in ax.patches if isinstance(p, Rectangle)]  # no bars
        # no episode marks (the map's other collections have no offsets)
        assert sum(len(c.get_offsets()) for c in ax.collections
                   if hasattr(c, "get_offsets")) == 0
        image = imread(io.BytesIO(plots.figure_bytes(fig, "png")))
        assert image.shape[:2] == (480, 640)  # Figure()'s 6.4 x 4.8 in at 100 dpi
        assert float(np.mean(image[..., :3] < 0.9)) > 0.01  # axes and words, not blank
        if said == []:  # violations_per_day: a line at zero for each party
            assert [(line.get_label(), set(line.get_ydata())) for line in ax.lines] == [
                ("a (mean 0.00)", {0.0}), ("b (mean 0.00)", {0.0})]


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

# ============================================================================ review

REQUIRED = ("summary.json", "stats.json", "events.csv", "flights.csv", "tracks.csv",
            "hotline.csv", "zones.csv", "scenario.yaml")
FIGURES = ("map", "violations_per_day", "miss_distance", "time_in_violation", "hotline")


# ---------------------------------------------------------------------------- fixtures


def _variant(tmp: Path, name: str, change: Callable[[dict], None]) -> Path:
    document = yaml.safe_load(ENCOUNTERS.read_text(encoding="utf-8"))
    change(document)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    """Run folders built once: never damaged in place (tests copy them first)."""
    root = tmp_path_factory.mktemp("review_runs")
    out = {name: root / name for name in
           ("enc", "eu", "reps", "noflights", "norules", "mathname")}
    runs = {
        "enc": [ENCOUNTERS],
        "eu": [BASELINE, "--duration", "1 d"],
        "reps": [ENCOUNTERS, "--replications", "2", "--workers", "1"],
        "noflights": [_variant(root, "noflights",
                               lambda d: d.update(name="noflights", flights=[]))],
        "norules": [_variant(root, "norules", lambda d: d.update(name="norules", rules=[]))],
        "mathname": [_variant(root, "mathname",
                              lambda d: d.update(name=r"cost $\frac{1}{$ run"))],
    }
    for name, args in runs.items():
        assert main(["run", *map(str, args), "--out", str(out[name])]) == 0, name
    return out


def cli(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


def assert_input_error(code: int, err: str, *names: str) -> None:
    """Exit 2, no traceback, not reported as an internal error, every name mentioned."""
    assert code == 2, f"exit {code}, expected 2; stderr:\n{err}"
    assert "Traceback" not in err
    assert "internal error" not in err
    for name in names:
        assert name in err, f"{name!r} not named in:\n{err}"


def leftovers(root: Path) -> list[Path]:
    """Hidden partial/old folders or files a write leaves behind."""
    return [p for p in root.rglob("*") if ".partial-" in p.name or ".old-" in p.name]


def copy_run(src: Path, tmp_path: Path, name: str = "run") -> Path:
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def set_cell(file: Path, column: str, value: str, *, where: Callable[[dict], bool] | None = None
             ) -> None:
    """Set ``column`` of the first row (matching ``where``, with a non-empty cell) to
    ``value``."""
    with open(file, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    candidates = [r for r in rows if (where is None or where(r))]
    row = next((r for r in candidates if r[column] != ""), candidates[0])
    row[column] = value
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    file.write_text(buffer.getvalue(), encoding="utf-8")


def edit_json(file: Path, change: Callable[[dict], None]) -> None:
    document = json.loads(file.read_text(encoding="utf-8"))
    change(document)
    file.write_text(json.dumps(document), encoding="utf-8")


def compare_load(capsys, base: dict[str, Path], damaged: Path, tmp_path: Path
                 ) -> tuple[int, str]:
    """Load a damaged folder the cheapest way (``compare`` draws one small figure) and
    check that a refusal leaves no output."""
    out = tmp_path / "cmp"
    code, _, err = cli(capsys, "compare", base["enc"], damaged, "--out", out)
    if code != 0:
        assert not out.exists()
        assert not leftovers(tmp_path)
    return code, err


# ---------------------------------------------------------------------------- run outputs


def test_run_writes_stats_flights_tracks_and_replications(base):
    enc = base["enc"]
    for name in REQUIRED:
        assert (enc / name).is_file(), name
    stats = json.loads((enc / "stats.json").read_text(encoding="utf-8"))
    summary = json.loads((enc / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(stats, dict) and {"exposure", "rates", "severity"} <= set(stats)
    with open(enc / "flights.csv", newline="", encoding="utf-8") as handle:
        flights = list(csv.DictReader(handle))
    assert len(flights) == sum(summary["flights"].values()) == 4
    with open(enc / "tracks.csv", newline="", encoding="utf-8") as handle:
        tracks = list(csv.DictReader(handle))
    assert {t["flight"] for t in tracks} == {f["flight"] for f in flights}
    assert not (enc / "replications.csv").exists()
    reps = base["reps"]
    with open(reps / "replications.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    assert len(json.loads((reps / "stats.json").read_text())["replications"]["seeds"]) == 2


def test_run_twice_gives_byte_identical_folders(tmp_path, capsys):
    for name in ("a", "b"):
        assert cli(capsys, "run", ENCOUNTERS, "--out", tmp_path / name)[0] == 0
    for name in REQUIRED:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# ---------------------------------------------------------------------------- not a run folder


@pytest.mark.parametrize("command", ["plot", "report", "compare"])
@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_not_a_run_folder(base, tmp_path, capsys, command, kind):
    target = tmp_path / f"target-{kind}"
    if kind == "file":
        target.write_text("not a folder\n")
    elif kind == "empty":
        target.mkdir()
    args = [command, target] if command != "compare" else [command, base["enc"], target]
    code, _, err = cli(capsys, *args, "--out", tmp_path / "out")
    assert_input_error(code, err, target.name)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "report.html").exists()
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_required_file_missing(base, tmp_path, capsys, missing):
    run = copy_run(base["enc"], tmp_path)
    (run / missing).unlink()
    code, _, err = cli(capsys, "plot", run)
    assert_input_error(code, err, missing, "run")
    assert not (run / "plots").exists()
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("command", ["report", "plot"])
def test_missing_file_report_and_plot_leave_nothing(base, tmp_path, capsys, command):
    run = copy_run(base["enc"], tmp_path)
    (run / "tracks.csv").unlink()
    before = sorted(p.name for p in run.iterdir() if p.name != MARKER)
    code, _, err = cli(capsys, command, run)
    assert_input_error(code, err, "tracks.csv")
    assert sorted(p.name for p in run.iterdir() if p.name != MARKER) == before


# ---------------------------------------------------------------------------- JSON files

JSON_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda b: b"",
    "truncated": lambda b: b[: len(b) // 2],
    "binary": lambda b: b"\xff\xfe\x00\x81\x9c binary",
    "latin1": lambda b: b.replace(b'"', b'"\xe9', 1),
    "garbage": lambda b: b"{this is not json",
    "list": lambda b: b"[1, 2, 3]",
    "number": lambda b: b"42",
    "null": lambda b: b"null",
    "string": lambda b: b'"stats"',
    "missing keys": lambda b: b'{"version": "0.1.0"}',
}


@pytest.mark.parametrize("damage", list(JSON_DAMAGE))
@pytest.mark.parametrize("name", ["summary.json", "stats.json"])
def test_damaged_json(base, tmp_path, capsys, name, damage):
    run = copy_run(base["enc"], tmp_path)
    (run / name).write_bytes(JSON_DAMAGE[damage]((run / name).read_bytes()))
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, name)


# Keys present, values of the wrong shape: the reader checks only that the top-level keys
# exist, so the figures and tables crash with KeyError/TypeError (exit 1).
STATS_SHAPES = [
    ("plot", "exposure {}", lambda d: d.update(exposure={})),
    ("compare", "rates []", lambda d: d.update(rates=[])),
    ("compare", "severity {}", lambda d: d.update(severity={})),
    ("compare", "time_in_violation {}", lambda d: d.update(time_in_violation={})),
    ("compare", "per_day 'abc'", lambda d: d["rates"]["nmac"].update(per_day="abc")),
    ("report", "hotline []", lambda d: d.update(hotline=[])),
]


@pytest.mark.parametrize("command,label,change", STATS_SHAPES,
                         ids=[label for _, label, _ in STATS_SHAPES])
def test_stats_json_of_the_wrong_shape(base, tmp_path, capsys, command, label, change):
    run = copy_run(base["enc"], tmp_path)
    edit_json(run / "stats.json", change)
    args = ([command, base["enc"], run, "--out", tmp_path / "cmp"] if command == "compare"
            else [command, run])
    code, _, err = cli(capsys, *args)
    assert_input_error(code, err, "stats.json")


def test_summary_json_reported_of_the_wrong_shape(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    edit_json(run / "summary.json", lambda d: d.update(reported=[{}]))
    code, _, err = cli(capsys, "report", run)
    assert_input_error(code, err, "summary.json")
    assert not (run / "report.html").exists()


def test_stats_json_nan_is_rejected(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    text = (run / "stats.json").read_text(encoding="utf-8")
    (run / "stats.json").write_text(text.replace('"per_day": 24.0', '"per_day": NaN', 1))
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, "stats.json")


# ---------------------------------------------------------------------------- CSV files

CSV_FILES = ("events.csv", "flights.csv", "tracks.csv", "hotline.csv", "zones.csv")


def _truncate_mid_last_row(data: bytes) -> bytes:
    body = data.rstrip(b"\n")
    start = body.rfind(b"\n") + 1
    return body[: start + (len(body) - start) // 3]


CSV_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda b: b"",
    "truncated": _truncate_mid_last_row,
    "binary": lambda b: b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8 binary\n",
    "latin1 cell": lambda b: b.split(b"\n", 1)[0] + b"\n\xe9" + b.split(b"\n", 1)[1],
    "wrong header": lambda b: b"a,b,c,d\n" + b.split(b"\n", 1)[1],
    "header in capitals": lambda b: b.split(b"\n", 1)[0].upper() + b"\n" + b.split(b"\n", 1)[1],
    "a column dropped": lambda b: b"\n".join(line.rsplit(b",", 1)[0]
                                             for line in b.split(b"\n")),
}


@pytest.mark.parametrize("damage", list(CSV_DAMAGE))
@pytest.mark.parametrize("name", CSV_FILES)
def test_damaged_csv(base, tmp_path, capsys, name, damage):
    run = copy_run(base["enc"], tmp_path)
    (run / name).write_bytes(CSV_DAMAGE[damage]((run / name).read_bytes()))
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, name)


@pytest.mark.parametrize("name", CSV_FILES)
def test_a_byte_order_mark_is_accepted(base, tmp_path, capsys, name):
    # A spreadsheet's "CSV UTF-8" starts with a BOM: the header is still the header.
    run = copy_run(base["enc"], tmp_path)
    (run / name).write_bytes(b"\xef\xbb\xbf" + (run / name).read_bytes())
    code, err = compare_load(capsys, base, run, tmp_path)
    assert code == 0, err


def test_header_only_hotline_csv_is_a_valid_empty_table(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    name = "hotline.csv"
    (run / name).write_bytes((run / name).read_bytes().split(b"\n", 1)[0] + b"\n")
    code, err = compare_load(capsys, base, run, tmp_path)
    assert code == 0, err


def test_header_only_events_csv_disagrees_with_stats(base, tmp_path, capsys):
    # The episodes are gone but stats.json still counts them: refused, not drawn empty.
    run = copy_run(base["enc"], tmp_path)
    name = "events.csv"
    (run / name).write_bytes((run / name).read_bytes().split(b"\n", 1)[0] + b"\n")
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, "stats.json")


NUMERIC = [
    ("events.csv", c) for c in ("start_s", "end_s", "min_distance_m", "min_time_s", "x_m",
                                "y_m", "lon", "lat", "vertical_m", "informed")
] + [("flights.csv", c) for c in ("depart_s", "land_s", "airborne_s")] + [
    ("tracks.csv", c) for c in ("t_s", "lon", "lat", "altitude_m")
] + [("hotline.csv", c) for c in ("call", "sent_s", "received_s", "lost")] + [
    ("zones.csv", c) for c in ("declare", "floor_m", "ceiling_m", "active_start_s",
                               "active_end_s", "known_s")
]


@pytest.mark.parametrize("value", ["NaN", "nan", "abc", "1,5", "0x10"])
@pytest.mark.parametrize("name,column", NUMERIC, ids=[f"{n}:{c}" for n, c in NUMERIC])
def test_bad_number_in_each_numeric_column(base, tmp_path, capsys, name, column, value):
    run = copy_run(base["enc"], tmp_path)
    set_cell(run / name, column, value)
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, name, column, "row")


INF_COLUMNS = [("events.csv", "start_s"), ("events.csv", "lon"), ("events.csv", "lat"),
               ("events.csv", "min_distance_m"), ("flights.csv", "airborne_s"),
               ("tracks.csv", "lon"), ("tracks.csv", "t_s"), ("hotline.csv", "sent_s"),
               ("zones.csv", "floor_m"), ("zones.csv", "active_start_s")]


@pytest.mark.parametrize("value", ["inf", "-1e999"])
@pytest.mark.parametrize("name,column", INF_COLUMNS, ids=[f"{n}:{c}" for n, c in INF_COLUMNS])
def test_infinite_number_is_refused(base, tmp_path, capsys, name, column, value):
    run = copy_run(base["enc"], tmp_path)
    set_cell(run / name, column, value)
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, name, column)


BAD_WKT = {
    "odd coordinates": "POLYGON ((40 35, 41 35, 41))",
    "three dimensions": "POLYGON ((40 35 1, 41 35 1, 41 36 1, 40 35 1))",
    "letters": "POLYGON ((a b, c d, e f, a b))",
    "empty point": "POLYGON ((40 35,, 41 36, 40 35))",
    "unclosed": "POLYGON ((40 35, 41 35, 41 36, 40 35)",
    "multipolygon": "MULTIPOLYGON (((40 35, 41 35, 41 36, 40 35)))",
    "with hole": "POLYGON ((40 35, 41 35, 41 36, 40 35), (40.1 35.1, 40.2 35.1, 40.2 35.2, "
                 "40.1 35.1))",
    "POLYGON EMPTY": "POLYGON EMPTY",
    "too few points": "POLYGON ((40 35, 41 35, 40 35))",
    "nan": "POLYGON ((nan 35, 41 35, 41 36, nan 35))",
    "blank": "",
}


@pytest.mark.parametrize("wkt", list(BAD_WKT.values()), ids=list(BAD_WKT))
def test_malformed_wkt_in_zones_csv(base, tmp_path, capsys, wkt):
    run = copy_run(base["enc"], tmp_path)
    set_cell(run / "zones.csv", "wkt_lonlat", wkt)
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, "zones.csv", "wkt_lonlat", "POLYGON ((")


def test_self_intersecting_work_area_polygon_is_drawn_made_valid(base, tmp_path, capsys):
    # A work area's lon/lat ring need not be simple (wrapped, or collapsed at the written
    # precision), so the map draws it as made valid rather than refusing the folder: a bow
    # tie becomes its two triangles, inside the party's drawn work areas.
    run = copy_run(base["eu"], tmp_path)
    bow_tie = "POLYGON ((40 35, 41 36, 41 35, 40 36, 40 35))"
    set_cell(run / "zones.csv", "wkt_lonlat", bow_tie,
             where=lambda r: r["origin"] == "work_area")
    code, out, err = cli(capsys, "plot", run)
    assert code == 0, err
    assert "6 figures" in out and (run / "plots" / "map.png").is_file()
    folder = load_run_folder(run)
    assert [[40, 35], [41, 36], [41, 35], [40, 36], [40, 35]] in [
        z.ring_lonlat.tolist() for z in folder.zones if z.origin == "work_area"]
    ax = plots.run_figures(folder, build_geography(folder.scenario))["map"].axes[0]
    # the work areas' fills: alpha 0.12, no hatch (written zones and jammers are hatched)
    fills = [p for p in ax.patches if p.get_alpha() == 0.12 and not p.get_hatch()]
    drawn = unary_union([Polygon(p.get_xy()) for p in fills])
    halves = make_valid(Polygon([(40, 35), (41, 36), (41, 35), (40, 36)]))
    assert halves.geom_type == "MultiPolygon" and halves.area == pytest.approx(0.5)
    assert drawn.buffer(1e-6).covers(halves)


# ---------------------------------------------------------------------------- scenario.yaml

SCENARIO_DAMAGE: dict[str, Callable[[str], str]] = {
    "not yaml": lambda t: "name: [unclosed\n",
    "a list": lambda t: "- 1\n- 2\n",
    "tab indent": lambda t: "name:\tx\n\tseed: 1\n",
    "unknown key": lambda t: t + "bogus: 1\n",
    "bad duration": lambda t: t.replace("duration: 1 h", "duration: soon"),
    "zero duration": lambda t: t.replace("duration: 1 h", "duration: 0 s"),
    "bad speed": lambda t: t.replace("speed: 720 km/h", "speed: fast", 1),
    "rule of unknown type": lambda t: t.replace("type: zone_incursion", "type: zone_intrusion"),
}


@pytest.mark.parametrize("damage", list(SCENARIO_DAMAGE))
def test_scenario_yaml_edited_invalid(base, tmp_path, capsys, damage):
    run = copy_run(base["enc"], tmp_path)
    path = run / "scenario.yaml"
    path.write_text(SCENARIO_DAMAGE[damage](path.read_text(encoding="utf-8")), encoding="utf-8")
    code, _, err = cli(capsys, "plot", run)
    assert_input_error(code, err, "scenario.yaml")
    assert not (run / "plots").exists()


def test_scenario_yaml_binary(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    (run / "scenario.yaml").write_bytes(b"\xff\xfe\x00\x80\x81")
    code, _, err = cli(capsys, "report", run)
    assert_input_error(code, err, "scenario.yaml")
    assert not (run / "report.html").exists()


def test_scenario_yaml_empty(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    (run / "scenario.yaml").write_text("", encoding="utf-8")
    code, _, err = cli(capsys, "plot", run)
    assert_input_error(code, err, "scenario.yaml")


def test_scenario_yaml_disagreeing_with_events(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    path = run / "scenario.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: opposite_tracks",
                                                             "id: renamed_rule"))
    code, err = compare_load(capsys, base, run, tmp_path)
    assert_input_error(code, err, "opposite_tracks")


# ---------------------------------------------------------------------------- degenerate runs


def test_zero_flights_run_plots_and_reports(base, tmp_path, capsys):
    run = copy_run(base["noflights"], tmp_path)
    code, _, err = cli(capsys, "plot", run)
    assert code == 0, err
    assert sorted(p.name for p in (run / "plots").iterdir() if p.name != MARKER) == sorted(
        f"{f}.png" for f in FIGURES)
    code, _, err = cli(capsys, "report", run)
    assert code == 0, err
    page = (run / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("command", ["plot", "report"])
def test_no_rules_run_plots_and_reports(base, tmp_path, capsys, command):
    run = copy_run(base["norules"], tmp_path)
    code, _, err = cli(capsys, command, run)
    assert code == 0, err


def test_no_rules_run_writes_whole_outputs(base, tmp_path, capsys):
    run = copy_run(base["norules"], tmp_path)
    before = sorted(p.name for p in run.iterdir() if p.name != MARKER)
    assert cli(capsys, "plot", run)[0] == 0
    assert cli(capsys, "report", run)[0] == 0
    assert sorted(p.name for p in run.iterdir() if p.name != MARKER) == sorted(
        [*before, "plots", "report.html"])
    assert len([p for p in (run / "plots").iterdir() if p.name != MARKER]) == len(FIGURES)
    assert not leftovers(tmp_path)


def test_scenario_name_with_dollar_signs(base, tmp_path, capsys):
    run = copy_run(base["mathname"], tmp_path)
    code, _, err = cli(capsys, "plot", run, "--out", tmp_path / "plots")
    assert code == 0, err


# ---------------------------------------------------------------------------- compare


def test_compare_different_scenarios(base, tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, err = cli(capsys, "compare", base["enc"], base["eu"], base["noflights"],
                            "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if p.name != MARKER) == ["compare.csv",
                                                                          "compare.png"]
    header = (out / "compare.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["metric", "enc", "eu", "noflights"]
    assert "Side by side" in stdout


def test_compare_needs_two_folders_and_no_variant_options(base, tmp_path, capsys):
    code, _, err = cli(capsys, "compare", base["enc"])
    assert_input_error(code, err, "enc")
    code, _, err = cli(capsys, "compare", base["enc"], base["eu"], "--b",
                       "hotline.enabled=false", "--out", tmp_path / "cmp")
    assert_input_error(code, err, "--b")
    code, _, err = cli(capsys, "compare", ENCOUNTERS)
    assert_input_error(code, err, "--b")
    code, _, err = cli(capsys, "compare", tmp_path / "nope.yaml", "--b", "seed=3")
    assert_input_error(code, err, "nope.yaml")
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("options", [["--out", "cmp"], ["--format", "svg"], ["--force"],
                                     ["--out", "cmp", "--force"]])
def test_compare_variants_refuse_the_options_that_write_a_folder(tmp_path, capsys, options):
    # The variants are printed only: a folder asked for is refused, not silently ignored.
    options = [str(tmp_path / o) if o == "cmp" else o for o in options]
    code, stdout, err = cli(capsys, "compare", ENCOUNTERS, "--b", "hotline.enabled=false",
                            "--replications", "2", "--workers", "1", *options)
    flags = [o for o in options if o.startswith("--")]
    verb = "writes" if len(flags) == 1 else "write"
    assert_input_error(code, err, f"{', '.join(flags)} {verb} the comparison of run folders",
                       "printed only")
    assert "paired replications" not in stdout
    assert not (tmp_path / "cmp").exists()


def test_compare_scenario_variants_still_work(capsys):
    code, stdout, err = cli(capsys, "compare", ENCOUNTERS, "--b", "hotline.enabled=false",
                            "--replications", "2", "--workers", "1")
    assert code == 0, err
    assert "paired replications" in stdout


def test_compare_same_folder_twice_is_refused(base, tmp_path, capsys):
    # The same folder written two ways (a trailing separator) is one folder, not two runs.
    out = tmp_path / "cmp"
    code, _, err = cli(capsys, "compare", base["enc"], str(base["enc"]) + os.sep, "--out", out)
    assert_input_error(code, err, f"{base['enc']}: given more than once",
                       "compare different run folders")
    assert not out.exists()
    assert not leftovers(tmp_path)


def test_compare_dot_gets_a_label(base, tmp_path, capsys, monkeypatch):
    run = copy_run(base["eu"], tmp_path, "eu")
    monkeypatch.chdir(run)
    out = tmp_path / "cmp"
    code, _, err = cli(capsys, "compare", ".", base["enc"], "--out", out)
    assert code == 0, err
    header = (out / "compare.csv").read_text().splitlines()[0].split(",")
    assert header == ["metric", "eu", "enc"]  # "." is labelled by the folder's own name


def test_compare_csv_cells_are_numbers(base, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert cli(capsys, "compare", base["enc"], base["eu"], "--out", out)[0] == 0
    with open(out / "compare.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    for row in rows:
        for cell in row[1:]:
            float(cell)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_compare_figure_is_byte_identical_twice(base, tmp_path, capsys, fmt):
    for name in ("a", "b"):
        args = ("compare", base["reps"], base["enc"], "--out", tmp_path / name, "--format", fmt)
        assert cli(capsys, *args)[0] == 0
    for name in (f"compare.{fmt}", "compare.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# ---------------------------------------------------------------------------- --out


@pytest.mark.parametrize("command", ["plot", "compare", "report"])
def test_out_is_an_existing_file(base, tmp_path, capsys, command):
    target = tmp_path / "taken"
    target.write_text("keep me\n")
    args = [command, base["enc"]] + ([base["eu"]] if command == "compare" else [])
    code, _, err = cli(capsys, *args, "--out", target)
    assert_input_error(code, err, "taken")
    assert target.read_text() == "keep me\n"
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("command", ["plot", "compare", "report"])
def test_out_is_a_non_empty_folder_without_force(base, tmp_path, capsys, command):
    target = tmp_path / "full"
    target.mkdir()
    (target / "keep.txt").write_text("keep me\n")
    args = [command, base["enc"]] + ([base["eu"]] if command == "compare" else [])
    code, _, err = cli(capsys, *args, "--out", target)
    assert_input_error(code, err, "full")
    assert [p.name for p in target.iterdir() if p.name != MARKER] == ["keep.txt"]
    assert not leftovers(tmp_path)


def test_report_out_is_a_folder_even_with_force(base, tmp_path, capsys):
    target = tmp_path / "folder"
    target.mkdir()
    code, _, err = cli(capsys, "report", base["enc"], "--out", target, "--force")
    assert_input_error(code, err, "folder")
    assert list(target.iterdir()) == []


def test_plot_force_replaces_a_plot_folder_not_a_users_folder(base, tmp_path, capsys):
    target = tmp_path / "full"
    target.mkdir()
    (target / "old.txt").write_text("old\n")
    code, stdout, err = cli(capsys, "plot", base["enc"], "--out", target, "--force",
                            "--format", "svg")
    assert code == 2 and "old.txt" in err  # not deconflict's: kept whatever the flags
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    (target / "old.txt").unlink()
    assert cli(capsys, "plot", base["enc"], "--out", target, "--format", "svg")[0] == 0
    (target / "old.txt").write_text("old\n")
    code, stdout, err = cli(capsys, "plot", base["enc"], "--out", target, "--force",
                            "--format", "svg")
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir() if p.name != MARKER) == sorted(
        f"{f}.svg" for f in FIGURES)
    assert not leftovers(tmp_path)


def test_compare_out_below_a_file(base, tmp_path, capsys):
    (tmp_path / "afile").write_text("x\n")
    code, _, err = cli(capsys, "compare", base["enc"], base["eu"], "--out",
                       tmp_path / "afile" / "cmp")
    assert_input_error(code, err, "afile")
    assert (tmp_path / "afile").read_text() == "x\n"
    assert not leftovers(tmp_path)


def test_report_out_below_a_file(base, tmp_path, capsys):
    (tmp_path / "afile").write_text("x\n")
    code, _, err = cli(capsys, "report", base["enc"], "--out", tmp_path / "afile" / "r.html")
    assert_input_error(code, err, "afile")


def _sys_is_read_only() -> bool:
    probe = Path("/sys/deconflict-review-probe")
    try:
        probe.mkdir()
    except OSError:
        return True
    probe.rmdir()
    return False


@pytest.mark.skipif(not _sys_is_read_only(), reason="no unwritable folder available")
@pytest.mark.parametrize("command", ["compare", "report"])
def test_out_in_a_folder_that_cannot_be_written(base, capsys, command):
    # Tests run as root, so chmod does not block writes; /sys refuses them even to root.
    target = Path("/sys") / ("review-cmp" if command == "compare" else "review.html")
    args = [command, base["enc"]] + ([base["eu"]] if command == "compare" else [])
    code, _, err = cli(capsys, *args, "--out", target)
    assert_input_error(code, err, str(target))
    assert not target.exists()


def test_plot_out_is_the_run_folder_itself(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path)
    code, _, err = cli(capsys, "plot", run, "--out", run, "--force")
    assert (run / "events.csv").is_file(), "the run folder's data was deleted"
    assert_input_error(code, err, "run")


# ---------------------------------------------------------------------------- whole or nothing


def _fsync_failing(exc: BaseException) -> Callable[[int], None]:
    def fsync(fd: int) -> None:
        raise exc
    return fsync


def test_plot_write_failure_leaves_the_old_folder(base, tmp_path, capsys, monkeypatch):
    target = tmp_path / "plots"
    target.mkdir()
    (target / "old.txt").write_text("old\n")
    monkeypatch.setattr(sim.io.write.os, "fsync", _fsync_failing(OSError(28, "No space left")))
    code, _, err = cli(capsys, "plot", base["enc"], "--out", target, "--force")
    assert_input_error(code, err, "plots")
    assert [p.name for p in target.iterdir() if p.name != MARKER] == ["old.txt"]
    assert not leftovers(tmp_path)


def test_compare_interrupted_leaves_nothing(base, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sim.io.write.os, "fsync", _fsync_failing(KeyboardInterrupt()))
    code, _, err = cli(capsys, "compare", base["enc"], base["eu"], "--out", tmp_path / "cmp")
    assert code == 130, err
    assert "interrupted" in err and "as it was" in err
    assert list(tmp_path.iterdir()) == []


def test_report_interrupted_leaves_nothing(base, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sim.io.write.os, "fsync", _fsync_failing(KeyboardInterrupt()))
    code, _, err = cli(capsys, "report", base["enc"], "--out", tmp_path / "r.html")
    assert code == 130, err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- unusual names


def test_paths_with_spaces_and_unicode(base, tmp_path, capsys):
    run = copy_run(base["enc"], tmp_path, "run folder ✈ é 日本")
    out = tmp_path / "plots ü ß"
    code, _, err = cli(capsys, "plot", run, "--out", out, "--format", "pdf")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if p.name != MARKER) == sorted(
        f"{f}.pdf" for f in FIGURES)
    code, _, err = cli(capsys, "report", run)
    assert code == 0, err
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "run folder ✈ é 日本" in page
    code, _, err = cli(capsys, "compare", run, base["eu"], "--out", tmp_path / "cmp ✈")
    assert code == 0, err
    assert "run folder ✈ é 日本" in (tmp_path / "cmp ✈" / "compare.csv").read_text("utf-8")
    assert not leftovers(tmp_path)


# ---------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_plot_is_byte_identical_twice(base, tmp_path, capsys, fmt):
    for name in ("a", "b"):
        code, _, err = cli(capsys, "plot", base["enc"], "--out", tmp_path / name, "--format", fmt)
        assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.name != MARKER)
    assert names == sorted(f"{f}.{fmt}" for f in FIGURES)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_report_is_byte_identical_in_process_and_across_processes(base, tmp_path, capsys):
    run = base["reps"]
    for name in ("a.html", "b.html"):
        assert cli(capsys, "report", run, "--out", tmp_path / name)[0] == 0
    first = (tmp_path / "a.html").read_bytes()
    assert first == (tmp_path / "b.html").read_bytes()
    for seed in ("0", "4242"):
        out = tmp_path / f"sub-{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "sim", "report", str(run), "--out",
                               str(out)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == first, f"PYTHONHASHSEED={seed} gave different bytes"


def test_subprocess_bad_run_folder_is_exit_2_without_traceback(tmp_path):
    missing = tmp_path / "no such run"
    done = subprocess.run([sys.executable, "-m", "sim", "plot", str(missing)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "no such run" in done.stderr
    assert not missing.exists()
