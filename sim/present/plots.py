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
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter
from shapely import Polygon, make_valid, unary_union

from sim.analysis.metrics import SeverityBin, encounter_rule, severity_bins
from sim.io.read import RunFolder, Track, ZoneRecord
from sim.model.geography import Geography
from sim.model.places import builtin_places
from sim.model.records import Episode, Message
from sim.model.scenario import LonLat, Reported, RuleSpec, Scenario
from sim.model.units import DAY, FOOT, HOUR, NAUTICAL_MILE

PARTY_COLORS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573")
RULE_COLORS = ("#e67e22", "#27ae60", "#8e44ad", "#111111", "#16a085", "#d4ac0d", "#7f8c8d",
               "#a04000")
RIVER_COLOR = "#5dade2"
DPI = 110


def _text(value: str) -> str:
    """Text from the user (names, labels) drawn as written: a ``$`` is not mathtext."""
    return value.replace("$", r"\$")


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            color="#777777")


def party_colors(parties: Sequence[str]) -> dict[str, str]:
    """A fixed colour per party, in sorted party order."""
    return {p: PARTY_COLORS[k % len(PARTY_COLORS)] for k, p in enumerate(sorted(parties))}


def rule_colors(rules: Sequence[RuleSpec]) -> dict[str, str]:
    """A fixed colour per rule, in the scenario's rule order."""
    return {r.id: RULE_COLORS[k % len(RULE_COLORS)] for k, r in enumerate(rules)}


def _day_label(scenario_start: str | None) -> str:
    return f"days since {scenario_start}" if scenario_start else "days since the run began"


# ---------------------------------------------------------------------------- the map


def corridor_map(ax: Axes, geography: Geography, rules: Sequence[RuleSpec],
                 episodes: Sequence[Episode], zones: Sequence[ZoneRecord] = (),
                 tracks: Sequence[Track] = (), parties: Sequence[str] = (),
                 places: Mapping[str, tuple[float, float]] | None = None) -> Axes:
    """The corridor in lon/lat: river, corridor edge, lanes (arrows show the direction
    flown), zones, named places, a sample of tracks, and every episode where it happened
    (separation: the pair's midpoint at closest approach; lanes and zones: where it began),
    coloured by rule. The view is the corridor (or, without one, what is drawn)."""
    frame = geography.frame
    parties = sorted(set(parties) | {t.party for t in tracks} | {z.party for z in zones}
                     | {lane.lane.party for lane in geography.lanes})
    colors = party_colors(parties)
    handles: list[Any] = []

    def lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = frame.to_lonlat(xy[:, 0], xy[:, 1])
        return np.atleast_1d(lon), np.atleast_1d(lat)

    if geography.corridor_shape is not None:
        for poly in getattr(geography.corridor_shape, "geoms", [geography.corridor_shape]):
            lon, lat = lonlat(np.asarray(poly.exterior.coords))
            ax.fill(lon, lat, color="#f4f1e8", zorder=0)
            ax.plot(lon, lat, color="#9a8f6a", lw=1.0, ls="-", zorder=1)
        handles.append(Patch(facecolor="#f4f1e8", edgecolor="#9a8f6a", label="corridor"))
    if geography.centerline is not None:
        for part in geography.centerline.parts:
            lon, lat = lonlat(part)
            ax.plot(lon, lat, color=RIVER_COLOR, lw=2.2, zorder=2, solid_capstyle="round")
        handles.append(Line2D([], [], color=RIVER_COLOR, lw=2.2, label="river (centerline)"))
    for lane in geography.lanes:
        color = colors.get(lane.lane.party, "#555555")
        for part in lane.line.parts:
            lon, lat = lonlat(part)
            ax.plot(lon, lat, color=color, lw=1.6, ls=(0, (6, 3)), zorder=3)
            if len(part) >= 2:
                _direction_arrows(ax, lon, lat, lane.lane.direction == "upstream", color)
        handles.append(Line2D([], [], color=color, lw=1.6, ls=(0, (6, 3)),
                              label=f"{lane.lane.id} ({lane.lane.party}, {lane.lane.direction})"))
    for zone in zones:
        if zone.origin != "work_area":
            color = colors.get(zone.party, "#555555")
            ax.fill(zone.ring_lonlat[:, 0], zone.ring_lonlat[:, 1], facecolor=color,
                    alpha=0.15, edgecolor=color, lw=1.2, hatch="//", zorder=2)
    if any(z.origin != "work_area" for z in zones):
        handles.append(Patch(facecolor="#bbbbbb", edgecolor="#555555", hatch="//",
                             label="written zones (owner's colour)"))
    # Work areas overlap cycle after cycle: draw each party's union once, not each area.
    for party in sorted({z.party for z in zones if z.origin == "work_area"}):
        # (In lon/lat an area may not be simple: wrapped round a pole, or collapsed at the
        # written precision. It is drawn as made valid.)
        union = unary_union([make_valid(Polygon(z.ring_lonlat)) for z in zones
                             if z.origin == "work_area" and z.party == party])
        color = colors.get(party, "#555555")
        for poly in getattr(union, "geoms", [union]):
            if isinstance(poly, Polygon) and not poly.is_empty:
                lon, lat = np.asarray(poly.exterior.coords).T
                ax.fill(lon, lat, facecolor=color, alpha=0.12, edgecolor=color, lw=0.8,
                        zorder=2)
        handles.append(Patch(facecolor=color, alpha=0.3, edgecolor=color,
                             label=f"{party} work areas (all cycles)"))
    for track in tracks:
        ax.plot(track.lon, track.lat, color=colors.get(track.party, "#555555"), lw=0.6,
                alpha=0.45, zorder=4)
    if tracks:
        for party in sorted({t.party for t in tracks}):
            handles.append(Line2D([], [], color=colors.get(party, "#555555"), lw=0.8,
                                  alpha=0.6, label=f"{party} tracks (sample)"))

    extent = _map_extent(geography, episodes, zones, tracks)
    rule_color = rule_colors(rules)
    # Widest separation rules first, so that the rare severe episodes are drawn on top.
    order = sorted(rules, key=lambda r: -getattr(r, "horizontal_m", 0.0))
    widest = order[0].id if order and order[0].type == "min_separation" else None
    for rule in order:
        mine = [e for e in episodes if e.rule == rule.id]
        if not mine:
            continue
        marker = {"min_separation": "^", "lane_discipline": "o", "zone_incursion": "s"}[rule.type]
        size = 10 if rule.id == widest else 36
        ax.scatter([e.lon for e in mine], [e.lat for e in mine], s=size, marker=marker,
                   color=rule_color[rule.id], edgecolors="white", linewidths=0.4,
                   alpha=0.55 if rule.id == widest else 0.95, zorder=6)
        handles.append(Line2D([], [], ls="", marker=marker, color=rule_color[rule.id],
                              markersize=6, label=f"{rule.id} ({len(mine):,})"))

    if extent is not None:
        lon0, lon1, lat0, lat1 = extent
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        named = dict(builtin_places()) if places is None else dict(places)
        placed: list[tuple[float, float]] = []
        spacing = 0.03 * max(lon1 - lon0, lat1 - lat0)  # names closer than this collide
        for name, (p_lon, p_lat) in sorted(named.items()):
            if lon0 <= p_lon <= lon1 and lat0 <= p_lat <= lat1 and all(
                    math.hypot(p_lon - a, p_lat - b) > spacing for a, b in placed):
                placed.append((p_lon, p_lat))
                ax.plot(p_lon, p_lat, "k.", ms=3, zorder=7)
                ax.annotate(_text(name.replace("_", " ").title()), (p_lon, p_lat),
                            xytext=(3, 2),
                            textcoords="offset points", fontsize=7, color="#222222",
                            zorder=7)
        ax.set_aspect(1.0 / math.cos(math.radians((lat0 + lat1) / 2.0)))
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title("Where each episode happened" if geography.corridor_shape is None else
                 "The corridor, the lanes and where each episode happened")
    ax.grid(True, lw=0.3, alpha=0.5)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  frameon=False)
    return ax


def _direction_arrows(ax: Axes, lon: np.ndarray, lat: np.ndarray, reverse: bool,
                      color: str) -> None:
    """Arrowheads at a third and two thirds of a lane, pointing the way it is flown."""
    if reverse:
        lon, lat = lon[::-1], lat[::-1]
    steps = np.hypot(np.diff(lon), np.diff(lat))
    along = np.concatenate([[0.0], np.cumsum(steps)])
    if along[-1] <= 0:
        return
    for fraction in (1 / 3, 2 / 3):
        s = fraction * along[-1]
        k = min(int(np.searchsorted(along, s, side="right")) - 1, len(steps) - 1)
        a = (s - along[k]) / steps[k] if steps[k] > 0 else 0.0
        x = lon[k] + a * (lon[k + 1] - lon[k])
        y = lat[k] + a * (lat[k + 1] - lat[k])
        dx, dy = lon[k + 1] - lon[k], lat[k + 1] - lat[k]
        norm = math.hypot(dx, dy) or 1.0
        ax.annotate("", xy=(x + 0.01 * dx / norm, y + 0.01 * dy / norm), xytext=(x, y),
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.2,
                                "mutation_scale": 14}, zorder=5)


def _map_extent(geography: Geography, episodes: Sequence[Episode],
                zones: Sequence[ZoneRecord], tracks: Sequence[Track]
                ) -> tuple[float, float, float, float] | None:
    """The corridor's box, padded; without a corridor, the box of the episodes and zones
    (tracks run to distant bases), or of the tracks when there is nothing else."""
    frame = geography.frame
    if geography.corridor_shape is not None:
        x0, y0, x1, y1 = geography.corridor_shape.bounds
        lon, lat = frame.to_lonlat(np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1]))
        lons, lats = np.atleast_1d(lon), np.atleast_1d(lat)
    else:
        lons = np.concatenate([[e.lon for e in episodes],
                               *[z.ring_lonlat[:, 0] for z in zones]]).astype(float)
        lats = np.concatenate([[e.lat for e in episodes],
                               *[z.ring_lonlat[:, 1] for z in zones]]).astype(float)
        if not len(lons) and tracks:
            lons = np.concatenate([t.lon for t in tracks]).astype(float)
            lats = np.concatenate([t.lat for t in tracks]).astype(float)
        if not len(lons):
            return None
    lon0, lon1, lat0, lat1 = lons.min(), lons.max(), lats.min(), lats.max()
    pad = 0.06 * max(lon1 - lon0, lat1 - lat0, 0.05)
    return float(lon0 - pad), float(lon1 + pad), float(lat0 - pad), float(lat1 + pad)


# ---------------------------------------------------------------------------- miss distances


def miss_distance_histogram(ax: Axes, episodes: Sequence[Episode], rule_id: str,
                            bins: Sequence[SeverityBin] = ()) -> Axes:
    """Horizontal miss distance at closest approach of one separation rule's episodes, in
    nmi on a log scale (distances span several decades), with the severity limits marked.
    Counts go on a log scale too when the largest bar dwarfs the rare close ones."""
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
        if top > 40:
            ax.set_yscale("log")
            ax.set_ylim(0.7, top * 2.5)
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
    ax.set_ylabel("episodes" + (" (log scale)" if ax.get_yscale() == "log" else ""))
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
    """Encounters a day at least as close as each severity bin (log scale)."""
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
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 50:
        ax.set_xscale("log")
    ax.set_xlim(right=(max(values) if values else 1.0) * (8 if ax.get_xscale() == "log"
                                                          else 1.35) or 1.0)
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
    shown = parties if rule.type != "min_separation" or len(parties) != 2 else parties[:1]
    for party in shown:
        starts = np.array([e.start_s for e in mine if e.involves(party)], float)
        counts, _ = np.histogram(starts, bins=edges)
        both = len(shown) == 1 and rule.type == "min_separation"
        color = "#34495e" if both else colors.get(party, "#555555")
        ax.step(np.append(edges[:-1] / DAY, edges[-1] / DAY), np.append(counts / widths,
                (counts / widths)[-1:]), where="post", color=color, lw=1.6,
                label=f"{'both parties' if both else party} "
                f"(mean {len(starts) / (duration_s / DAY):.2f})")
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
    grouped bars on a log scale when the rules differ by orders of magnitude."""
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
        ax.barh(y + (k - (len(parties) - 1) / 2) * height, values, height=height,
                color=colors[party], label=party)
    positive = [v for v in values_all if v > 0]
    if positive and max(positive) / min(positive) > 100:
        ax.set_xscale("log")
    if not positive:
        _no_data(ax, "no time in violation" if rules else "no rules")
        ax.set_xlim(0, 1)
    ax.set_yticks(y, [f"{r}\n({stats['rates'][r]['type']})" for r in rules], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("hours in violation (aircraft-hours; pair-hours for separation)"
                  + (", log scale" if ax.get_xscale() == "log" else ""))
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


# ---------------------------------------------------------------------------- comparisons


def compare_rates(ax: Axes, stats: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> Axes:
    """Episodes a day of each rule in several runs, side by side; 95% bootstrap intervals
    as error bars when every run has replications (the bars then show their means)."""
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
        values_all += values
        offset = y + (k - (len(stats) - 1) / 2) * height
        ax.barh(offset, values, height=height,
                xerr=[lows, highs] if any(lows) or any(highs) else None,
                color=PARTY_COLORS[(k + 2) % len(PARTY_COLORS)] if k >= 2 else
                ("#34495e", "#e59866")[k], label=label, capsize=2)
        for yy, v, hi in zip(offset, values, highs, strict=True):
            ax.annotate(f"{v:.2f}", (v + hi, yy), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
    positive = [v for v in values_all if v > 0]
    if positive and max(positive) / min(positive) > 100:
        ax.set_xscale("log")
    ax.set_yticks(y, rules, fontsize=8)
    ax.invert_yaxis()
    if not rules:
        _no_data(ax, "no rules")
    ax.set_xlabel("episodes a day" + (" (log scale)" if ax.get_xscale() == "log" else ""))
    ax.set_title("Episodes a day by rule, side by side")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(True, axis="x", lw=0.3, alpha=0.5)
    return ax


# ---------------------------------------------------------------------------- figure sets


def run_figures(folder: RunFolder, geography: Geography) -> dict[str, Figure]:
    """The figures of a run folder, by file stem: map, violations_per_day, miss_distance,
    time_in_violation, hotline."""
    scenario = folder.scenario
    parties = sorted(scenario.parties)
    figures: dict[str, Figure] = {}

    fig = Figure(figsize=(11, 6.5), dpi=DPI, layout="constrained")
    corridor_map(fig.add_subplot(), geography, scenario.rules, folder.episodes, folder.zones,
                 folder.tracks, parties, _places(scenario))
    figures["map"] = fig

    widest = encounter_rule(scenario)
    fig = Figure(figsize=(11, 7), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[3.2, 2.2])
    if widest is not None:
        miss_distance_histogram(fig.add_subplot(grid[0, 0]), folder.episodes, widest.id,
                                severity_bins(scenario))
        vertical_miss_histogram(fig.add_subplot(grid[0, 1]), folder.episodes, widest.id)
    severity_bars(fig.add_subplot(grid[1, :]), folder.stats["severity"])
    fig.suptitle(f"{_text(scenario.name)}: how close the encounters came", fontsize=12)
    figures["miss_distance"] = fig

    panels = max(1, len(scenario.rules))
    fig = Figure(figsize=(11, 2.9 * panels + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax, each in zip(axes, scenario.rules, strict=False):
        violations_per_day(ax, folder.episodes, each, parties, scenario.duration_s,
                           scenario.reported, scenario.start)
    if not scenario.rules:
        _no_data(axes[0], "the scenario has no rules")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.suptitle(f"{_text(scenario.name)}: episodes per day", fontsize=12)
    figures["violations_per_day"] = fig

    fig = Figure(figsize=(10, 1.0 + 0.8 * len(scenario.rules)), dpi=DPI,
                 layout="constrained")
    time_in_violation(fig.add_subplot(), folder.stats)
    figures["time_in_violation"] = fig

    fig = Figure(figsize=(11, 4), dpi=DPI, layout="constrained")
    hotline_traffic(fig.add_subplot(), folder.messages, scenario.duration_s, scenario.start)
    figures["hotline"] = fig
    order = ("map", "violations_per_day", "miss_distance", "time_in_violation", "hotline")
    return {name: figures[name] for name in order}


def compare_figure(folders: Sequence[RunFolder], labels: Sequence[str] | None = None
                   ) -> Figure:
    """Episodes a day by rule for several run folders, side by side."""
    rules = {r for f in folders for r in f.stats["rates"]}
    fig = Figure(figsize=(11, 1.8 + 0.5 * max(1, len(rules)) * max(1, len(folders)) / 2),
                 dpi=DPI, layout="constrained")
    compare_rates(fig.add_subplot(), [f.stats for f in folders],
                  [_text(x) for x in (labels or [f.label for f in folders])])
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
