"""Intervals of counts never below zero, heat maps that say when differences are not
significant, and bars on linear axes with their values labelled (issue 23, item 3).

The figures are checked by what they draw (bar lengths, annotations, titles, scales), not
by whether a PNG was written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from sim.analysis.metrics import replication_summary
from sim.model.records import Episode
from sim.present.plots import (
    compare_rates,
    miss_distance_histogram,
    severity_bars,
    time_in_violation,
)
from sim.present.sweepplots import (
    lowest_and_overlapping,
    metric_heatmap,
    significance_note,
)
from sim.study.store import StoredSweep
from sim.study.sweep import MetricSummary, summarize_sweep

T975_3 = 3.182446  # Student t, 97.5%, 3 degrees of freedom (tables)


def _sweep(values: dict[int, list[float]], cols: int = 1, rows: int = 1,
           metric: str = "m.per_day") -> StoredSweep:
    """A stored sweep of ``cols`` x ``rows`` points (point p at (p % cols, p // cols))
    whose metric takes ``values[p]`` over the replications."""
    positions = {p: (p % cols, p // cols) for p in range(cols * rows)}
    labels = (tuple(f"a{i}" for i in range(cols)), tuple(f"b{j}" for j in range(rows)))
    points = {p: (labels[0][i], labels[1][j]) for p, (i, j) in positions.items()}
    table = tuple({"point": p, "replication": r, metric: v}
                  for p in sorted(values) for r, v in enumerate(values[p]))
    reps = max(len(v) for v in values.values())
    return StoredSweep(Path("."), "s", ("a", "b"), labels, points, positions, table,
                       (metric,), (), reps, True)


# ----------------------------------------------------------------------------- intervals


def test_a_sweeps_t_interval_of_a_count_is_clipped_at_zero():
    # [0, 0, 0, 4]: mean 1, s = 2, half = 3.1824 * 2 / 2 = 3.1824: [-2.18, 4.18] unclipped.
    (s,) = summarize_sweep(_sweep({0: [0.0, 0.0, 0.0, 4.0]}))
    assert s.mean == pytest.approx(1.0) and s.std == pytest.approx(2.0)
    assert s.low == 0.0
    assert s.high == pytest.approx(1.0 + T975_3, abs=1e-5)


def test_a_signed_metrics_t_interval_is_not_clipped():
    # Not a count: [-1, -1, -1, 3] has mean 0, s = 2: [-3.18, 3.18] as it is.
    (s,) = summarize_sweep(_sweep({0: [-1.0, -1.0, -1.0, 3.0]}))
    assert s.low == pytest.approx(-T975_3, abs=1e-5)
    assert s.high == pytest.approx(T975_3, abs=1e-5)


def test_replication_intervals_of_a_count_are_the_bootstrap_never_below_zero():
    # Resampled means of [0, 0, 0, 4] are k = 0..4 (how many 4s drawn); P(k = 0) = 0.316,
    # so the 2.5% quantile is 0; P(k >= 3) = 0.0508 > 0.025 > P(k = 4) = 0.0039, so the
    # 97.5% quantile is 3. A t interval would start at -2.18.
    out = replication_summary([{"r.per_day": v} for v in (0.0, 0.0, 0.0, 4.0)], seed=5)
    assert out["r.per_day"] == {"mean": 1.0, "low": 0.0, "high": 3.0, "replications": 4}


# ----------------------------------------------------------------------------- heat maps


def _summary(point: int, mean: float, low: float, high: float) -> MetricSummary:
    return MetricSummary(point, (), "m", 5, mean, 1.0, low, high)


def test_lowest_cell_and_the_cells_overlapping_it():
    cells = [_summary(0, 5.0, 4.0, 6.0), _summary(1, 2.0, 1.0, 3.0),
             _summary(2, 3.5, 3.0, 4.0), _summary(3, 9.0, 8.0, 10.0)]
    lowest, same = lowest_and_overlapping(cells)
    assert lowest is cells[1]
    assert same == [cells[2]]  # [3, 4] touches [1, 3]; [4, 6] and [8, 10] are clear
    assert significance_note(cells) == ("1 of 3 cells (marked ~) overlap the lowest cell's "
                                        "95% interval: not shown to differ from it")


def _heatmap_texts(stored: StoredSweep) -> tuple[dict[tuple[float, float], str], str]:
    fig = Figure()
    ax = fig.add_subplot()
    metric_heatmap(ax, stored, summarize_sweep(stored), "m.per_day")
    return ({tuple(t.get_position()): t.get_text() for t in ax.texts},
            ax.get_title().replace("\n", " "))


def test_heat_map_marks_the_cells_not_shown_to_differ_from_the_lowest():
    # 2 x 2: means 1 (point 0, the lowest), 1.5 (overlaps), 10 and 20 (clear of it).
    stored = _sweep({0: [0.0, 1.0, 2.0, 1.0], 1: [1.0, 2.0, 1.0, 2.0],
                     2: [10.0, 10.5, 9.5, 10.0], 3: [20.0, 19.0, 21.0, 20.0]}, 2, 2)
    texts, title = _heatmap_texts(stored)
    assert texts[(0, 0)].endswith("\nlowest") and texts[(0, 0)].startswith("1.00")
    assert texts[(1, 0)].startswith("~ 1.50")
    assert texts[(0, 1)].startswith("10.00") and texts[(1, 1)].startswith("20.00")
    assert title.endswith("1 of 3 cells (marked ~) overlap the lowest cell's 95% interval: "
                          "not shown to differ from it")


def test_heat_map_says_when_no_difference_is_significant():
    # Each cell's t interval of [0, 0, 0, 4]-like counts spans the others: none differ.
    stored = _sweep({0: [0.0, 0.0, 0.0, 4.0], 1: [0.0, 4.0, 0.0, 0.0],
                     2: [1.0, 0.0, 1.0, 0.0], 3: [0.0, 0.0, 2.0, 0.0]}, 2, 2)
    texts, title = _heatmap_texts(stored)
    assert "differences within the 95% intervals are not significant" in title
    assert sum(t.startswith("~ ") for t in texts.values()) == 3
    assert all("[0.00, " in t for t in texts.values())  # every lower end clipped at zero


def test_heat_map_of_one_replication_says_nothing_was_tested():
    stored = _sweep({0: [1.0], 1: [2.0]}, 2, 1)
    texts, title = _heatmap_texts(stored)
    assert title.endswith("one replication: no intervals, differences untested")
    assert not any(t.startswith("~") for t in texts.values())


# ----------------------------------------------------------------------------- bars


def _widths(ax) -> list[float]:
    return [round(p.get_width(), 9) for p in ax.patches]


def test_severity_bars_are_linear_and_labelled_even_across_decades():
    severity = {"encounter_rule": "los", "bins": [
        {"label": "nmac", "cumulative": 1, "cumulative_per_day": 0.01},
        {"label": "< 5 nmi", "cumulative": 900, "cumulative_per_day": 9.0}]}
    ax = Figure().add_subplot()
    severity_bars(ax, severity)
    assert ax.get_xscale() == "linear"
    assert _widths(ax) == [0.01, 9.0]
    assert [t.get_text() for t in ax.texts] == ["1  (0.01 a day)", "900  (9.00 a day)"]
    assert ax.get_xlim()[0] == 0.0


def test_time_in_violation_bars_are_linear_with_their_hours():
    stats = {"exposure": {"sorties": {"total": 2, "blue": 1, "red": 1}},
             "rates": {"lane": {"type": "lane_discipline"}, "sep": {"type": "min_separation"}},
             "time_in_violation": {
                 "lane": {"by_party": {"blue": {"total_s": 360000.0}, "red": {"total_s": 0.0}}},
                 "sep": {"by_party": {"blue": {"total_s": 36.0}, "red": {"total_s": 7200.0}}}}}
    ax = Figure().add_subplot()
    time_in_violation(ax, stats)
    assert ax.get_xscale() == "linear"
    assert _widths(ax) == [100.0, 0.01, 0.0, 2.0]  # blue's bars, then red's, in hours
    assert [t.get_text() for t in ax.texts] == ["100.00", "0.01", "0.00", "2.00"]


def test_compare_bars_are_linear_with_their_values():
    stats = [{"rates": {"a": {"per_day": 50.0}, "b": {"per_day": 0.02}}},
             {"rates": {"a": {"per_day": 40.0}, "b": {"per_day": 0.2}}}]
    ax = Figure().add_subplot()
    compare_rates(ax, stats, ["one", "two"])
    assert ax.get_xscale() == "linear"
    assert _widths(ax) == [50.0, 0.02, 40.0, 0.2]
    assert [t.get_text() for t in ax.texts] == ["50.00", "0.02", "40.00", "0.20"]


def _close(miss_m: float) -> Episode:
    return Episode(rule="los", type="min_separation", party="blue", aircraft="b1",
                   other_party="red", other_aircraft="r1", zone="", start_s=0.0, end_s=10.0,
                   min_distance_m=miss_m, min_time_s=5.0, x_m=0.0, y_m=0.0, lon=0.0, lat=0.0,
                   informed=None, vertical_m=0.0, cause="")


def test_miss_distance_counts_are_linear_and_every_bar_labelled():
    # 200 encounters near 4 nmi and one at 0.05 nmi: the rare close one is a labelled bar
    # of height 1 on a linear count axis, not a log axis that makes it look common.
    episodes = [_close(4.0 * 1852.0 + k) for k in range(200)] + [_close(0.05 * 1852.0)]
    ax = Figure().add_subplot()
    miss_distance_histogram(ax, episodes, "los")
    assert ax.get_yscale() == "linear"
    heights = sorted(int(p.get_height()) for p in ax.patches if p.get_height() > 0)
    labels = sorted(int(t.get_text().replace(",", "")) for t in ax.texts)
    assert heights == labels and sum(labels) == 201 and labels[0] == 1
    assert np.isclose(ax.get_ylim()[1], max(heights) * 1.15)
