"""Figures of a sweep: a metric against a grid axis with its 95% confidence band (one line
per value of the other axes), and for two-axis grids a heat map of the means. Like
``sim.present.plots``, the functions draw on a given ``Axes`` and never touch pyplot's state.
"""

from __future__ import annotations

import itertools
import math
import re
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.present.style import DPI, RULE_COLORS, no_data, plain_text
from sim.study.grid import axis_numbers
from sim.study.store import StoredSweep
from sim.study.sweep import MetricSummary, label_text, summarize_sweep

MAX_LINES = 8  # lines of a band plot; more combinations of the other axes are left out
MAX_ANNOTATED_CELLS = 48


def _positions(stored: StoredSweep, axis: int) -> tuple[list[float], str, bool]:
    """Where each value of an axis goes along x: its number if it has one, else its rank;
    the axis label; whether the values are categories."""
    labels = stored.labels[axis]
    numbers = axis_numbers(labels)
    name = plain_text(stored.axes[axis])
    if numbers is None:
        return [float(i) for i in range(len(labels))], name, True
    values, unit = numbers
    return values, f"{name} ({unit})" if unit else name, False


def _by_point(summaries: Sequence[MetricSummary], metric: str) -> dict[int, MetricSummary]:
    return {s.point: s for s in summaries if s.metric == metric}


def metric_band(ax: Axes, stored: StoredSweep, summaries: Sequence[MetricSummary],
                metric: str, axis: int = 0) -> Axes:
    """``metric``'s mean over replications against grid axis ``axis``, with the 95% t
    interval as a band; one line per combination of the other axes' values."""
    found = _by_point(summaries, metric)
    if not found:
        no_data(ax, f"no rows of {metric} yet")
        return ax
    xs, xlabel, categorical = _positions(stored, axis)
    others = [i for i in range(len(stored.axes)) if i != axis]
    combos = list(itertools.product(*(range(len(stored.labels[i])) for i in others)))
    for k, combo in enumerate(combos[:MAX_LINES]):
        want = dict(zip(others, combo, strict=True))
        points = [(xs[at[axis]], found[p]) for p, at in stored.positions.items()
                  if p in found and all(at[i] == c for i, c in want.items())]
        points.sort(key=lambda item: item[0])
        if not points:
            continue
        x = np.array([pt[0] for pt in points])
        mean = np.array([pt[1].mean for pt in points])
        low = np.array([pt[1].low for pt in points])
        high = np.array([pt[1].high for pt in points])
        color = RULE_COLORS[k % len(RULE_COLORS)]
        label = ", ".join(f"{stored.axes[i]} = {label_text(stored.labels[i][c])}"
                          for i, c in want.items()) or "mean"
        ax.plot(x, mean, marker="o", color=color, label=plain_text(label))
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color=color, alpha=0.18, linewidth=0)
    if categorical:
        ax.set_xticks(xs, [plain_text(label_text(v)) for v in stored.labels[axis]])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(plain_text(metric))
    ax.grid(True, alpha=0.3)
    shown = min(len(combos), MAX_LINES)
    title = plain_text(metric) + ": mean and 95% CI over replications"
    if len(combos) > MAX_LINES:
        title += f" ({shown} of {len(combos)} combinations of the other axes)"
    ax.set_title(title, fontsize=10)
    if others:
        ax.legend(fontsize=8, loc="best")
    return ax


def lowest_and_overlapping(cells: Sequence[MetricSummary]
                           ) -> tuple[MetricSummary | None, list[MetricSummary]]:
    """The cell with the lowest mean (the first in grid order among equals), and the other
    cells whose 95% interval overlaps its interval (ends included): those not shown to
    differ from it. No interval (fewer than two replications): (lowest, [])."""
    if not cells:
        return None, []
    lowest = min(cells, key=lambda s: (s.mean, s.point))
    if math.isnan(lowest.low):
        return lowest, []
    return lowest, [s for s in cells if s is not lowest and not math.isnan(s.low)
                    and s.low <= lowest.high and s.high >= lowest.low]


def significance_note(cells: Sequence[MetricSummary], marked: bool = True) -> str:
    """What the intervals say of the differences between cells, computed from them
    (``marked``: the overlapping cells are marked "~" on the map)."""
    lowest, overlapping = lowest_and_overlapping(cells)
    if lowest is None or len(cells) < 2:
        return ""
    if math.isnan(lowest.low):
        return "one replication: no intervals, differences untested"
    others = len(cells) - 1
    if len(overlapping) == others:
        return ("differences within the 95% intervals are not significant: every cell's "
                "interval overlaps the lowest cell's")
    if not overlapping:
        return "every cell's 95% interval lies clear of the lowest cell's"
    return (f"{len(overlapping)} of {others} cells{' (marked ~)' if marked else ''} overlap "
            "the lowest cell's 95% interval: not shown to differ from it")


def metric_heatmap(ax: Axes, stored: StoredSweep, summaries: Sequence[MetricSummary],
                   metric: str) -> Axes:
    """``metric``'s mean at each point of a two-axis grid (first axis across, second
    down), each cell annotated with its 95% interval when there is room; the lowest cell
    is marked "lowest" and the cells whose interval overlaps its interval "~" (not shown
    to differ), and the title says what the intervals show (``significance_note``)."""
    if len(stored.axes) != 2:
        raise ValueError("a heat map needs a grid of exactly two axes")
    found = _by_point(summaries, metric)
    cols, rows = (len(v) for v in stored.labels)
    grid = np.full((rows, cols), np.nan)
    cells: dict[tuple[int, int], MetricSummary] = {}
    for p, (i, j) in stored.positions.items():
        if p in found:
            grid[j, i] = found[p].mean
            cells[j, i] = found[p]
    if not cells:
        no_data(ax, f"no rows of {metric} yet")
        return ax
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label=plain_text(metric))
    ax.set_xticks(range(cols), [plain_text(label_text(v)) for v in stored.labels[0]])
    ax.set_yticks(range(rows), [plain_text(label_text(v)) for v in stored.labels[1]])
    ax.set_xlabel(plain_text(stored.axes[0]))
    ax.set_ylabel(plain_text(stored.axes[1]))
    finite = grid[np.isfinite(grid)]
    middle = (float(finite.min()) + float(finite.max())) / 2.0
    lowest, overlapping = lowest_and_overlapping(list(cells.values()))
    same = {s.point for s in overlapping}
    if rows * cols <= MAX_ANNOTATED_CELLS:
        for (j, i), s in cells.items():
            text = f"{s.mean:.2f}"
            if not math.isnan(s.low):
                text += f"\n[{s.low:.2f}, {s.high:.2f}]"
            if len(cells) > 1 and lowest is not None and s.point == lowest.point:
                text += "\nlowest"
            elif s.point in same:
                text = "~ " + text
            ax.text(i, j, text, ha="center", va="center", fontsize=8,
                    color="black" if s.mean > middle else "white")
    title = plain_text(metric) + ": mean over replications [95% CI]"
    note = significance_note(list(cells.values()), rows * cols <= MAX_ANNOTATED_CELLS)
    # Wrapped: the note is longer than a small grid's figure is wide.
    ax.set_title(title + (f"\n{textwrap.fill(note, 64)}" if note else ""),
                 fontsize=10 if not note else 9)
    return ax


def file_stem(metric: str) -> str:
    """A metric's name made safe as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", metric)[:120] or "metric"


def sweep_figures(stored: StoredSweep, metrics: Sequence[str]) -> dict[str, Figure]:
    """For each metric, its band plot against the first axis, and with two axes a heat map
    (``<metric>.heatmap``); keyed by file stem."""
    summaries = summarize_sweep(stored, metrics)
    note = "" if stored.complete else (f"unfinished sweep: {len(stored.rows)} of "
                                       f"{len(stored.points) * stored.replications} rows")
    figures: dict[str, Figure] = {}
    for metric in metrics:
        fig = Figure(figsize=(9, 5), dpi=DPI, layout="constrained")
        metric_band(fig.add_subplot(), stored, summaries, metric)
        if note:
            fig.suptitle(note, fontsize=9, color="#a04000")
        figures[file_stem(metric)] = fig
        if len(stored.axes) == 2:
            cols, rows = (len(v) for v in stored.labels)
            fig = Figure(figsize=(max(6.0, 1.4 * cols + 2.5), max(4.0, 0.8 * rows + 2.0)),
                         dpi=DPI, layout="constrained")
            metric_heatmap(fig.add_subplot(), stored, summaries, metric)
            if note:
                fig.suptitle(note, fontsize=9, color="#a04000")
            figures[file_stem(metric) + ".heatmap"] = fig
    return figures
