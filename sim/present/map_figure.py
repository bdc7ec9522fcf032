"""The map: country borders, the corridor, lanes, zones, tracks and episodes on lon/lat axes.

``corridor_map`` draws on any ``Axes``; ``sim.present.plots`` puts it in the figure sets.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely import Polygon, make_valid, unary_union

from sim.io.read import Track, ZoneRecord
from sim.model.geography import Geography
from sim.model.places import builtin_borders, builtin_places
from sim.model.records import Episode
from sim.model.scenario import CircleArea, PlaceRef, RuleSpec, Scenario
from sim.present.style import (
    RIVER_COLOR,
    party_colors,
    plain_text,
    rule_colors,
)


def corridor_map(ax: Axes, geography: Geography, rules: Sequence[RuleSpec],
                 episodes: Sequence[Episode], zones: Sequence[ZoneRecord] = (),
                 tracks: Sequence[Track] = (), parties: Sequence[str] = (),
                 places: Mapping[str, tuple[float, float]] | None = None,
                 keep: Collection[str] = ()) -> Axes:
    """The corridor in lon/lat: country borders, river, corridor edge, lanes (arrows show
    the direction flown), zones with their ids, named places, a sample of tracks, and
    every episode where it happened (separation: the pair's midpoint at closest approach;
    lanes and zones: where it began), coloured by rule. The view is the corridor (or,
    without one, what is drawn).

    Names too close to one already written are left out, except the places in ``keep``
    (mission areas: ``key_places``) and those at the centre of a zone, which are written
    first and always, moved to another side of their point when they crowd each other.
    """
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
    for jammer in geography.jammers:
        color = colors.get(jammer.spec.owner, "#555555")
        ring = jammer.ring if jammer.ring is not None else np.asarray(
            jammer.shape.exterior.coords)
        lon, lat = lonlat(ring)
        ax.fill(lon, lat, facecolor="none", edgecolor=color, lw=1.0, hatch="xx", alpha=0.6,
                zorder=2)
        ax.annotate(plain_text(jammer.spec.id), (float(np.mean(lon)), float(np.mean(lat))),
                    fontsize=6, color=color, ha="center", zorder=7)
    if geography.jammers:
        handles.append(Patch(facecolor="none", edgecolor="#555555", hatch="xx",
                             label="jamming areas (owner's colour)"))
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
        marker = {"min_separation": "^", "lane_discipline": "o",
                  "zone_incursion": "s"}.get(rule.type, "D")  # a plugin's rule: diamonds
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
        if _draw_borders(ax, extent):
            handles.append(Line2D([], [], color=BORDER_COLOR, lw=0.9, ls=BORDER_STYLE,
                                  label="country borders (Natural Earth)"))
        named = dict(builtin_places()) if places is None else dict(places)
        kept = set(keep) | {z.spec.area.center.name for z in geography.zones
                            if isinstance(z.spec.area, CircleArea)
                            and isinstance(z.spec.area.center, PlaceRef)}
        _label_zones(ax, zones, colors)
        _label_places(ax, named, kept, extent,
                      [_zone_label_point(z.ring_lonlat) for z in zones
                       if z.origin != "work_area"])
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


BORDER_COLOR = "#8c8c8c"
BORDER_STYLE = (0, (5, 1.5, 1, 1.5))  # dash-dot: not to be taken for a lane or a track
COAST_COLOR = "#9db4c6"
# Where a name goes beside its point (offset points, alignment), in order of preference.
LABEL_SIDES = ((3, 2, "left", "bottom"), (3, -2, "left", "top"),
               (-3, 2, "right", "bottom"), (-3, -2, "right", "top"))


def _draw_borders(ax: Axes, extent: tuple[float, float, float, float]) -> bool:
    """Draw the Natural Earth borders and coasts that cross the view, under everything
    else; whether any border was drawn. Each line's gid names it ("border:A|B",
    "coast:A")."""
    lon0, lon1, lat0, lat1 = extent
    drawn = False
    for line in builtin_borders()[1]:
        lon, lat = line.lonlat[:, 0], line.lonlat[:, 1]
        if lon.max() < lon0 or lon.min() > lon1 or lat.max() < lat0 or lat.min() > lat1:
            continue  # off the view: kept out of the SVG and PDF files
        border = line.kind == "border"
        ax.plot(lon, lat, color=BORDER_COLOR if border else COAST_COLOR,
                lw=0.9 if border else 0.7, ls=BORDER_STYLE if border else "-", zorder=0.5,
                gid=f"{line.kind}:{'|'.join(line.countries)}")
        drawn = drawn or border
    return drawn


def _zone_label_point(ring: np.ndarray) -> tuple[float, float]:
    """Where a zone's id is written: below the zone, at the middle of its lowest latitude
    (the centre is often a place whose name is written there)."""
    return float((ring[:, 0].min() + ring[:, 0].max()) / 2.0), float(ring[:, 1].min())


def _label_zones(ax: Axes, zones: Sequence[ZoneRecord], colors: Mapping[str, str]) -> None:
    """Each written zone's id, centred just below the zone, in its owner's colour."""
    for zone in zones:
        if zone.origin == "work_area":
            continue
        lon, lat = _zone_label_point(zone.ring_lonlat)
        ax.annotate(plain_text(zone.id), (lon, lat), xytext=(0, -2),
                    textcoords="offset points", fontsize=6.5, ha="center", va="top",
                    color=colors.get(zone.party, "#555555"), fontweight="bold", zorder=7,
                    gid=f"zone:{zone.id}")


def _label_places(ax: Axes, named: Mapping[str, tuple[float, float]], kept: Collection[str],
                  extent: tuple[float, float, float, float],
                  taken: Sequence[tuple[float, float]] = ()) -> None:
    """Write the names of the places in view: the kept ones first, every one of them, on
    the first side of their point where the name overlaps nothing written (or the least
    crowded side); then each other name on the first free side, left out when none is."""
    lon0, lon1, lat0, lat1 = extent
    inside = {n: p for n, p in named.items() if lon0 <= p[0] <= lon1 and lat0 <= p[1] <= lat1}
    # A name's box in degrees, from the view's size: the map is drawn about 5.5 in wide,
    # a 7 pt letter about 1/80 of that wide and 1/75 high.
    span = max(lon1 - lon0, lat1 - lat0)
    letter, height, gap = 0.0115 * span, 0.0135 * span, 0.004 * span
    boxes: list[tuple[float, float, float, float]] = [  # zone ids: the width of a short id
        (a - 4 * letter, a + 4 * letter, b - height - gap, b) for a, b in taken]
    for name in sorted(inside, key=lambda n: (n not in kept, n)):
        p_lon, p_lat = inside[name]
        text = plain_text(name.replace("_", " ").title())
        width = letter * len(text)
        options = []
        for side, (dx, dy, _, _) in enumerate(LABEL_SIDES):
            x0 = p_lon + gap if dx > 0 else p_lon - gap - width
            y0 = p_lat + gap if dy > 0 else p_lat - gap - height
            box = (x0, x0 + width, y0, y0 + height)
            crowd = sum(1 for other in boxes if _overlap(box, other))
            options.append((crowd, side, box))
        crowd, side, box = min(options)
        dot = (p_lon - gap, p_lon + gap, p_lat - gap, p_lat + gap)
        if name not in kept and (crowd or any(_overlap(dot, other) for other in boxes)):
            continue
        boxes += [box, dot]
        dx, dy, ha, va = LABEL_SIDES[side]
        ax.plot(p_lon, p_lat, "k.", ms=3, zorder=7)
        ax.annotate(text, (p_lon, p_lat), xytext=(dx, dy), textcoords="offset points",
                    fontsize=7, ha=ha, va=va, color="#222222", zorder=7, gid=f"place:{name}")


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
             ) -> bool:
    """Whether two boxes (x0, x1, y0, y1) overlap."""
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def key_places(scenario: Scenario) -> frozenset[str]:
    """The named places whose labels the map keeps whatever crowds them: the parties'
    mission areas and the centres of the zones."""
    names = {m.area.name for party in scenario.parties.values() if party.sorties
             for m in party.sorties.missions if isinstance(m.area, PlaceRef)}
    names |= {z.area.center.name for z in scenario.zones if isinstance(z.area, CircleArea)
              and isinstance(z.area.center, PlaceRef)}
    return frozenset(names)
