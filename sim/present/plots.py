"""Figures of a run: plot functions that draw data on a matplotlib ``Axes`` (usable from
Python and notebooks), and the figure sets ``deconflict plot``, ``compare`` and ``report``
write.

The functions never touch pyplot's global state: the figure sets build
``matplotlib.figure.Figure`` objects directly, so that plotting in a worker, a test or a
notebook leaves no open figures behind. Distances are shown in nautical miles and feet
(the units of the reported facts), time in days since the run's start.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter

from sim.analysis.metrics import SeverityBin, encounter_rule, severity_bins
from sim.io.read import RunFolder, Track
from sim.model.geography import Geography
from sim.model.places import builtin_places
from sim.model.records import Episode, Message
from sim.model.scenario import LonLat, Reported, RuleSpec, Scenario
from sim.model.units import DAY, FOOT, HOUR, NAUTICAL_MILE
from sim.present.map_figure import corridor_map, key_places
from sim.present.style import (
    DPI,
    PARTY_COLORS,
    no_data,
    party_colors,
    plain_text,
)


def _day_label(scenario_start: str | None) -> str:
    return f"days since {scenario_start}" if scenario_start else "days since the run began"


# ---------------------------------------------------------------------------- miss distances


def miss_distance_histogram(ax: Axes, episodes: Sequence[Episode], rule_id: str,
                            bins: Sequence[SeverityBin] = ()) -> Axes:
    """Horizontal miss distance at closest approach of one separation rule's episodes, in
    nmi on a log scale (distances span several decades), with the severity limits marked.
    Counts stay linear, each bar labelled with its count, so that the rare close ones are
    read, not guessed from a log axis."""
    distances = np.array([e.min_distance_m for e in episodes
                          if e.rule == rule_id and e.min_distance_m is not None], float)
    nmi = distances / NAUTICAL_MILE
    limits = [b.horizontal_m / NAUTICAL_MILE for b in bins]
    if len(nmi):
        low = min(max(float(nmi.min()), 1e-3), *limits) if limits else max(float(nmi.min()),
                                                                             1e-3)
        high = max(float(nmi.max()), low * 10, *limits)
        edges = np.geomspace(low / 1.3, high * 1.3, 40)
        counts, _, _ = ax.hist(np.clip(nmi, edges[0], None), bins=edges.tolist(),
                               color="#4e7896", edgecolor="white", lw=0.5)
        ax.set_xscale("log")
        _plain_log_ticks(ax)
        top = float(np.max(counts))
        for left, right, n in zip(edges[:-1], edges[1:], counts, strict=True):
            if n > 0:
                ax.annotate(f"{int(n):,}", (math.sqrt(left * right), n), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=6)
        ax.set_ylim(0, top * 1.15)
    else:
        ax.text(0.5, 0.5, "no episodes", transform=ax.transAxes, ha="center", va="center",
                color="#777777")
    for k, b in enumerate(bins):
        ax.axvline(b.horizontal_m / NAUTICAL_MILE, color=_severity_color(k, len(bins)),
                   ls="--", lw=1.3, label=b.label)
    if bins:
        ax.legend(title="severity limits", fontsize=7, title_fontsize=7, loc="upper left")
    ax.set_xlabel("horizontal miss distance at closest approach (nmi"
                  + (", log scale)" if ax.get_xscale() == "log" else ")"))
    ax.set_ylabel("episodes")
    ax.set_title(f"Horizontal miss distance: {rule_id} ({len(nmi):,} episodes)")
    return ax


def _plain_log_ticks(ax: Axes) -> None:
    """Log-axis tick labels as plain numbers (0.1, 1, 10), no minor labels to collide."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _severity_color(k: int, count: int) -> str:
    """Most severe darkest: black, red, orange, ..., grey for the widest bin."""
    palette = ("#111111", "#c0392b", "#e67e22", "#d4ac0d", "#7f8c8d")
    return palette[-1] if k == count - 1 else palette[min(k, len(palette) - 2)]


def vertical_miss_histogram(ax: Axes, episodes: Sequence[Episode], rule_id: str) -> Axes:
    """Vertical separation at closest approach of one separation rule's episodes, in feet,
    with 100 ft and 1000 ft (the NMAC and loss-of-separation limits) marked."""
    feet = np.array([abs(e.vertical_m) for e in episodes
                     if e.rule == rule_id and e.vertical_m is not None], float) / FOOT
    if len(feet):
        top = max(float(feet.max()), 100.0)
        ax.hist(feet, bins=np.linspace(0.0, top * 1.02, 30).tolist(), color="#93a9bf",
                edgecolor="white", lw=0.5)
    else:
        ax.text(0.5, 0.5, "no episodes", transform=ax.transAxes, ha="center", va="center",
                color="#777777")
    for limit_ft, style in ((100, ":"), (1000, "--")):
        if not len(feet) or limit_ft <= feet.max() * 1.02:
            ax.axvline(limit_ft, color="#444444", ls=style, lw=1.1, label=f"{limit_ft} ft")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("vertical separation at closest approach (ft)")
    ax.set_ylabel("episodes")
    ax.set_title(f"Vertical miss distance: {rule_id}")
    return ax


def severity_bars(ax: Axes, severity: Mapping[str, Any]) -> Axes:
    """Encounters a day at least as close as each severity bin, on a linear axis with each
    bar labelled with its count and rate (a log axis made rare close ones look common)."""
    bins = severity.get("bins", [])
    labels = [b["label"] for b in bins]
    values = [b["cumulative_per_day"] for b in bins]
    y = np.arange(len(bins))
    ax.barh(y, values, color=[_severity_color(k, len(bins)) for k in range(len(bins))],
            height=0.6)
    for k, (v, b) in enumerate(zip(values, bins, strict=True)):
        ax.annotate(f"{b['cumulative']:,}  ({v:.2f} a day)", (v, k), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, (max(values) if values else 1.0) * 1.35 or 1.0)
    ax.set_xlabel("encounters a day at least this close")
    ax.set_title(f"Severity of encounters ({severity.get('encounter_rule') or 'none'})")
    return ax


# ---------------------------------------------------------------------------- over time


def violations_per_day(ax: Axes, episodes: Sequence[Episode], rule: RuleSpec,
                       parties: Sequence[str], duration_s: float,
                       reported: Sequence[Reported] = (), start: str | None = None) -> Axes:
    """Episodes of one rule in each day of the run, per party (the violator's party for
    lanes and zones; for separation, the episodes each party took part in), with the
    reported rates as reference lines. Counts are taken in days (6 h bins for runs under
    four days, 1 h under one day) and shown as a rate a day; a last, partial bin is scaled
    to its length."""
    step = DAY if duration_s >= 4 * DAY else (6 * HOUR if duration_s >= DAY else HOUR)
    bins = max(1, math.ceil(duration_s / step - 1e-9))
    edges = np.arange(bins + 1) * step
    edges[-1] = duration_s
    widths = np.diff(edges) / DAY
    colors = party_colors(parties)
    mine = [e for e in episodes if e.rule == rule.id]
    # A rule of pairs (each episode involves both of two parties) is drawn once.
    pairs = rule.type == "min_separation" or bool(mine) and all(e.other_aircraft for e in mine)
    shown = parties if not pairs or len(parties) != 2 else parties[:1]
    for party in shown:
        starts = np.array([e.start_s for e in mine if e.involves(party)], float)
        counts, _ = np.histogram(starts, bins=edges)
        both = len(shown) == 1 and pairs
        color = "#34495e" if both else colors.get(party, "#555555")
        ax.step(np.append(edges[:-1] / DAY, edges[-1] / DAY), np.append(counts / widths,
                (counts / widths)[-1:]), where="post", color=color, lw=1.6,
                label=f"{'both parties' if both else party} "
                f"(mean {len(starts) / (duration_s / DAY):.2f})")
    caused = np.array([e.start_s for e in mine if "interference" in e.cause.split(";")], float)
    if len(caused):  # only where interference caused some: other figures stay as they were
        counts, _ = np.histogram(caused, bins=edges)
        ax.step(np.append(edges[:-1] / DAY, edges[-1] / DAY), np.append(counts / widths,
                (counts / widths)[-1:]), where="post", color="#7d3c98", lw=1.2, ls=":",
                label=f"of which caused by interference (mean "
                f"{len(caused) / (duration_s / DAY):.2f})")
    for item in reported:
        if item.rule != rule.id:
            continue
        who = f"{item.party}, " if item.party else ""
        ax.axhspan(item.low_per_day, item.high_per_day, color="#f5b041", alpha=0.25, lw=0)
        ax.axhline(item.low_per_day, color="#d35400", ls="--", lw=1.2,
                   label=f"reported ({who}{_band(item)} a day)")
    ax.set_xlim(0, duration_s / DAY)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_day_label(start))
    ax.set_ylabel("episodes a day" + ("" if step == DAY else
                                      f"\n(in {step / HOUR:g} h bins)"))
    ax.set_title(f"{rule.id} ({rule.type}) per day")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(True, lw=0.3, alpha=0.5)
    return ax


def _band(item: Reported) -> str:
    if item.low_per_day == item.high_per_day:
        return f"{item.low_per_day:g}"
    return f"{item.low_per_day:g} to {item.high_per_day:g}"


def time_in_violation(ax: Axes, stats: Mapping[str, Any]) -> Axes:
    """Hours each party spent in violation of each rule (pair-hours for separation), as
    grouped bars on a linear axis, each labelled with its hours (rules that differ by
    orders of magnitude stay comparable by their labels, not hidden by a log axis)."""
    parties = [p for p in stats["exposure"]["sorties"] if p != "total"]
    colors = party_colors(parties)
    rules = list(stats["time_in_violation"])
    y = np.arange(len(rules))
    height = 0.8 / max(1, len(parties))
    values_all = []
    for k, party in enumerate(parties):
        values = [stats["time_in_violation"][r]["by_party"][party]["total_s"] / HOUR
                  for r in rules]
        values_all += values
        offset = y + (k - (len(parties) - 1) / 2) * height
        ax.barh(offset, values, height=height, color=colors[party], label=party)
        for yy, v in zip(offset, values, strict=True):
            ax.annotate(f"{v:,.2f}", (v, yy), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
    positive = [v for v in values_all if v > 0]
    if not positive:
        no_data(ax, "no time in violation" if rules else "no rules")
        ax.set_xlim(0, 1)
    else:
        ax.set_xlim(0, max(positive) * 1.25)
    ax.set_yticks(y, [f"{r}\n({stats['rates'][r]['type']})" for r in rules], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("hours in violation (aircraft-hours; pair-hours for separation)")
    ax.set_title("Time in violation, by rule and party")
    if parties:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(True, axis="x", lw=0.3, alpha=0.5)
    return ax


def hotline_traffic(ax: Axes, messages: Sequence[Message], duration_s: float,
                    start: str | None = None) -> Axes:
    """What each call passed: declarations and complaints delivered and lost, stacked, at
    the time of the call."""
    calls = sorted({(m.call, m.sent_s) for m in messages})
    if not calls:
        ax.text(0.5, 0.5, "no hotline traffic", transform=ax.transAxes, ha="center",
                va="center", color="#777777")
    x = np.array([t for _, t in calls], float) / DAY
    index = {c: k for k, (c, _) in enumerate(calls)}
    parts = (("zone", False, "declarations delivered", "#2e86c1"),
             ("zone", True, "declarations lost", "#aed6f1"),
             ("complaint", False, "complaints delivered", "#cb4335"),
             ("complaint", True, "complaints lost", "#f5b7b1"))
    bottom = np.zeros(len(calls))
    width = max(0.08, min(0.8, 0.6 * float(np.min(np.diff(x))) if len(x) > 1 else 0.5))
    for kind, lost, label, color in parts:
        counts = np.zeros(len(calls))
        for m in messages:
            if m.item_type == kind and m.lost == lost:
                counts[index[m.call]] += 1
        if counts.any():
            ax.bar(x, counts, bottom=bottom, width=width, color=color, label=label)
        bottom += counts
    ax.set_xlim(0, duration_s / DAY)
    ax.set_ylim(0, max(1.0, float(bottom.max()) if len(bottom) else 1.0) * 1.12)
    kinds = {(m.call, m.kind) for m in messages}
    adhoc = sum(1 for _, kind in kinds if kind == "adhoc")
    ax.set_xlabel(_day_label(start))
    ax.set_ylabel("items passed in the call")
    ax.set_title(f"Hotline traffic ({len(calls):,} calls: {len(calls) - adhoc:,} scheduled, "
                 f"{adhoc:,} ad hoc)")
    if calls:
        ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, axis="y", lw=0.3, alpha=0.5)
    return ax


def altitude_profiles(ax: Axes, tracks: Sequence[Track], parties: Sequence[str],
                      episodes: Sequence[Episode] = (), start: str | None = None) -> Axes:
    """Altitude against time of the sampled tracks (``tracks.csv``), one line a flight in
    its party's colour, with a mark at each separation episode's closest approach where
    both aircraft are among the tracks (at their altitudes then)."""
    colors = party_colors(parties)
    span_s = max((float(t.t_s[-1]) for t in tracks if len(t.t_s)), default=0.0)
    unit, scale = ("hours", HOUR) if span_s <= 2 * DAY else ("days", DAY)
    shown = {t.flight: t for t in tracks}
    for track in tracks:
        ax.plot(track.t_s / scale, track.altitude_m / FOOT, lw=0.9, alpha=0.85,
                color=colors.get(track.party, "#555555"))
    marks = [(e.min_time_s, e) for e in episodes if e.min_time_s is not None
             and e.aircraft in shown and e.other_aircraft in shown]
    for at_s, e in marks:
        for flight in (e.aircraft, e.other_aircraft):
            track = shown[flight]
            ax.plot(at_s / scale, np.interp(at_s, track.t_s, track.altitude_m) / FOOT,
                    "x", ms=5, color="#111111")
    if not tracks:
        no_data(ax, "no tracks in the run folder")
    since = f"since {start}" if start else "since the run began"
    ax.set_xlabel(f"{unit} {since}")
    ax.set_ylabel("altitude (ft)")
    ax.set_title("Altitude of the sampled flights" + (
        f" (x: closest approach of {len(marks):,} separation episodes)" if marks else ""))
    handles = [Line2D([], [], color=colors[p], lw=1.5, label=plain_text(p)) for p in parties
               if any(t.party == p for t in tracks)]
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper right")
    ax.grid(True, lw=0.3, alpha=0.5)
    return ax


def changes_level(tracks: Sequence[Track]) -> bool:
    """Does any sampled flight change altitude? (Then ``deconflict plot`` draws altitudes.)"""
    return any(len(t.altitude_m) and np.ptp(t.altitude_m) > 0.0 for t in tracks)


# ---------------------------------------------------------------------------- comparisons


def compare_rates(ax: Axes, stats: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> Axes:
    """Episodes a day of each rule in several runs, side by side on a linear axis, each
    bar labelled with its value; 95% bootstrap intervals as error bars when every run has
    replications (the bars then show their means)."""
    rules: list[str] = []
    for s in stats:
        rules += [r for r in s["rates"] if r not in rules]
    y = np.arange(len(rules))
    height = 0.8 / max(1, len(stats))
    values_all = []
    use_reps = all(s.get("replications") for s in stats)
    for k, (s, label) in enumerate(zip(stats, labels, strict=True)):
        reps = (s.get("replications") or {}).get("metrics", {}) if use_reps else {}
        values, lows, highs = [], [], []
        for r in rules:
            rep = reps.get(f"{r}.per_day")
            if rep and rep.get("low") is not None:
                values.append(rep["mean"])
                lows.append(rep["mean"] - rep["low"])
                highs.append(rep["high"] - rep["mean"])
            else:
                values.append(s["rates"].get(r, {}).get("per_day") or 0.0)
                lows.append(0.0)
                highs.append(0.0)
        values_all += [v + hi for v, hi in zip(values, highs, strict=True)]
        offset = y + (k - (len(stats) - 1) / 2) * height
        ax.barh(offset, values, height=height,
                xerr=[lows, highs] if any(lows) or any(highs) else None,
                color=PARTY_COLORS[(k + 2) % len(PARTY_COLORS)] if k >= 2 else
                ("#34495e", "#e59866")[k], label=label, capsize=2)
        for yy, v, hi in zip(offset, values, highs, strict=True):
            ax.annotate(f"{v:.2f}", (v + hi, yy), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
    ax.set_xlim(0, max(values_all, default=0.0) * 1.3 or 1.0)
    ax.set_yticks(y, rules, fontsize=8)
    ax.invert_yaxis()
    if not rules:
        no_data(ax, "no rules")
    ax.set_xlabel("episodes a day")
    ax.set_title("Episodes a day by rule, side by side")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(True, axis="x", lw=0.3, alpha=0.5)
    return ax


# ---------------------------------------------------------------------------- figure sets


def run_figures(folder: RunFolder, geography: Geography) -> dict[str, Figure]:
    """The figures of a run folder, by file stem: map, violations_per_day, miss_distance,
    time_in_violation, hotline, and altitude when a sampled flight changes level."""
    scenario = folder.scenario
    parties = sorted(scenario.parties)
    figures: dict[str, Figure] = {}

    fig = Figure(figsize=(11, 6.5), dpi=DPI, layout="constrained")
    corridor_map(fig.add_subplot(), geography, scenario.rules, folder.episodes, folder.zones,
                 folder.tracks, parties, _places(scenario), key_places(scenario))
    figures["map"] = fig

    widest = encounter_rule(scenario)
    fig = Figure(figsize=(11, 7), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[3.2, 2.2])
    if widest is not None:
        miss_distance_histogram(fig.add_subplot(grid[0, 0]), folder.episodes, widest.id,
                                severity_bins(scenario))
        vertical_miss_histogram(fig.add_subplot(grid[0, 1]), folder.episodes, widest.id)
    severity_bars(fig.add_subplot(grid[1, :]), folder.stats["severity"])
    fig.suptitle(f"{plain_text(scenario.name)}: how close the encounters came", fontsize=12)
    figures["miss_distance"] = fig

    panels = max(1, len(scenario.rules))
    fig = Figure(figsize=(11, 2.9 * panels + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax, each in zip(axes, scenario.rules, strict=False):
        violations_per_day(ax, folder.episodes, each, parties, scenario.duration_s,
                           scenario.reported, scenario.start)
    if not scenario.rules:
        no_data(axes[0], "the scenario has no rules")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.suptitle(f"{plain_text(scenario.name)}: episodes per day", fontsize=12)
    figures["violations_per_day"] = fig

    fig = Figure(figsize=(10, 1.0 + 0.8 * len(scenario.rules)), dpi=DPI,
                 layout="constrained")
    time_in_violation(fig.add_subplot(), folder.stats)
    figures["time_in_violation"] = fig

    fig = Figure(figsize=(11, 4), dpi=DPI, layout="constrained")
    hotline_traffic(fig.add_subplot(), folder.messages, scenario.duration_s, scenario.start)
    figures["hotline"] = fig
    if changes_level(folder.tracks):
        fig = Figure(figsize=(11, 4.5), dpi=DPI, layout="constrained")
        altitude_profiles(fig.add_subplot(), folder.tracks, parties, folder.episodes,
                          scenario.start)
        figures["altitude"] = fig
    order = ("map", "violations_per_day", "miss_distance", "time_in_violation", "hotline",
             "altitude")
    return {name: figures[name] for name in order if name in figures}


def compare_figure(folders: Sequence[RunFolder], labels: Sequence[str] | None = None
                   ) -> Figure:
    """Episodes a day by rule for several run folders, side by side."""
    rules = {r for f in folders for r in f.stats["rates"]}
    fig = Figure(figsize=(11, 1.8 + 0.5 * max(1, len(rules)) * max(1, len(folders)) / 2),
                 dpi=DPI, layout="constrained")
    compare_rates(fig.add_subplot(), [f.stats for f in folders],
                  [plain_text(x) for x in (labels or [f.label for f in folders])])
    return fig


def _places(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Names to write on the map: the gazetteer and the scenario's own places in lon/lat."""
    named = dict(builtin_places())
    for name, point in scenario.places.items():
        if isinstance(point, LonLat):
            named[name] = (point.lon, point.lat)
    return named


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """A figure as PNG, SVG or PDF bytes, with no timestamp or software version in it, so
    that the same run gives the same bytes."""
    metadata: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None},
                                "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "deconflict"}), warnings.catch_warnings():
        # Names in scripts the bundled font lacks (CJK) are drawn as boxes, not warned of.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        warnings.filterwarnings("ignore", message="Matplotlib currently does not support")
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
