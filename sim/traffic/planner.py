"""Planning with what the hotline brought: routes around the other side's received zones.

A party's planner, at a sortie's departure, looks at the zones of other parties it has
received, that are active while the sortie flies and whose altitude block holds the
sortie's altitude. It makes each an *obstacle*: the zone grown by the planning margin,
then made convex (obstacles that touch are merged into one convex obstacle). The route's
stretch through an obstacle is replaced by the shorter way round the obstacle's
boundary, the shortest path round a convex obstacle between two points of its boundary.
The racetrack (the mission) is not moved: if an obstacle covers any of it, or the base,
there is no path, and the planner delays or drops the sortie (the party's policy).

Obstacles are disjoint and convex, so a detour round one never enters another; the
boundary lies at least the margin (never less than ``MIN_CLEARANCE_M``) outside the
zone, so a rerouted sortie never enters a zone it avoided. Circles are approximated by
polygons drawn *outside* them for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import substring

from sim.model.geography import ZoneGeometry

MIN_CLEARANCE_M = 1.0  # a detour keeps at least this far from a zone, whatever the margin
CIRCLE_QUAD_SEGMENTS = 16


@dataclass(frozen=True, slots=True)
class Obstacle:
    """A convex area a route must keep out of, and the zones it stands for."""

    shape: Polygon
    zones: tuple[str, ...]
    active_end_s: float  # the earliest end of its zones' windows (when it may clear)
    # The shape's box (min x, min y, max x, max y), asked of every obstacle for every route.
    bounds: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds", tuple(self.shape.bounds))


@dataclass(frozen=True, slots=True)
class Route:
    """A planned route: waypoints, each leg's deliberate deviation (or ""), the racetrack."""

    xy: np.ndarray  # (k, 2)
    leg_causes: tuple[str, ...]  # k - 1 entries
    track: tuple[int, int]  # first and last waypoint index of the racetrack loop


class Blocked(Exception):
    """No path: an obstacle covers the base or the racetrack."""

    def __init__(self, obstacles: Sequence[Obstacle]) -> None:
        super().__init__(", ".join(z for o in obstacles for z in o.zones))
        self.obstacles = tuple(obstacles)


def applies(zone: ZoneGeometry, party: str, altitude_m: float, start_s: float,
            end_s: float) -> bool:
    """Could ``party`` at ``altitude_m`` flying in ``[start_s, end_s]`` enter this zone?"""
    z = zone.spec
    return (z.party != party and z.floor_m < altitude_m < z.ceiling_m
            and z.active_start_s < end_s and start_s < z.active_end_s)


def obstacles(zones: Sequence[ZoneGeometry], margin_m: float,
              cache: dict[tuple[str, float], Polygon] | None = None) -> list[Obstacle]:
    """Convex, disjoint obstacles for ``zones`` grown by ``margin_m``.

    ``cache`` keeps each zone's grown shape by (zone id, margin) across calls.
    """
    clearance = max(margin_m, MIN_CLEARANCE_M)
    cache = {} if cache is None else cache
    found = []
    for zone in zones:
        key = (zone.spec.id, clearance)
        if key not in cache:
            cache[key] = _grown(zone, clearance)
        found.append(Obstacle(cache[key], (zone.spec.id,), zone.spec.active_end_s))
    merged = True
    while merged:  # merge any two that touch, until none do
        merged = False
        for a in range(len(found)):
            for b in range(a + 1, len(found)):
                if found[a].shape.intersects(found[b].shape):
                    first, second = found[a], found.pop(b)
                    union = shapely.convex_hull(shapely.union(first.shape, second.shape))
                    found[a] = Obstacle(union, first.zones + second.zones,
                                        min(first.active_end_s, second.active_end_s))
                    merged = True
                    break
            if merged:
                break
    return found


def _grown(zone: ZoneGeometry, clearance_m: float) -> Polygon:
    if zone.center is not None and zone.radius_m is not None:
        # A polygon drawn round the circle (its edges' midpoints on the grown circle), so
        # the whole circle lies inside it.
        sides = 4 * CIRCLE_QUAD_SEGMENTS
        radius = (zone.radius_m + clearance_m) / math.cos(math.pi / sides)
        angles = 2.0 * math.pi * (np.arange(sides) + 0.5) / sides
        cx, cy = zone.center
        return Polygon(np.column_stack([cx + radius * np.cos(angles),
                                        cy + radius * np.sin(angles)]))
    # Mitred corners, not round ones: a round buffer's arcs are chords that cut inside the
    # true offset curve, while a mitre (or its bevel, at twice the clearance) stays out.
    hull = shapely.convex_hull(zone.shape.buffer(clearance_m, join_style="mitre",
                                                 mitre_limit=2.0))
    assert isinstance(hull, Polygon)
    return hull


def route_around(route: Route, found: Sequence[Obstacle]) -> Route:
    """The route with every stretch through an obstacle replaced by a way round it.

    Raises ``Blocked`` if an obstacle covers the route's first or last point or any part
    of its racetrack.
    """
    first, last = route.track
    loop = LineString(route.xy[first:last + 1]) if last > first else Point(route.xy[first])
    # (Most obstacles lie nowhere near a route: their boxes say so without shapely.)
    ends = route.xy[[0, -1]]
    loop_box = (*route.xy[first:last + 1].min(axis=0), *route.xy[first:last + 1].max(axis=0))
    ends_box = (*ends.min(axis=0), *ends.max(axis=0))
    blocking = [o for o in found
                if (_boxes_meet(o.bounds, loop_box) and _crosses(o.shape, loop))
                or (_boxes_meet(o.bounds, ends_box)
                    and (o.shape.contains(Point(route.xy[0]))
                         or o.shape.contains(Point(route.xy[-1]))))]
    if blocking:
        raise Blocked(blocking)
    head_xy, head_causes = _detour_all(route.xy[:first + 1], route.leg_causes[:first], found)
    tail_xy, tail_causes = _detour_all(route.xy[last:], route.leg_causes[last:], found)
    new_first = len(head_xy) - 1
    xy = np.vstack([head_xy, route.xy[first + 1:last + 1], tail_xy[1:]])
    causes = (*head_causes, *route.leg_causes[first:last], *tail_causes)
    return Route(xy, causes, (new_first, new_first + last - first))


def _detour_all(xy: np.ndarray, causes: tuple[str, ...], found: Sequence[Obstacle]
                ) -> tuple[np.ndarray, tuple[str, ...]]:
    """A stretch of route detoured round each obstacle in turn (``_detour``).

    An obstacle whose box misses the stretch's box misses every segment's box, and
    ``_detour`` would leave the stretch as it is: most obstacles are passed over on that
    (four comparisons, where ``_detour``'s own test costs numpy calls).
    """
    box = _box(xy)
    for obstacle in found:
        if _boxes_meet(obstacle.bounds, box):
            detoured, causes = _detour(xy, causes, obstacle)
            if detoured is not xy:
                xy, box = detoured, _box(detoured)
    return xy, causes


def _box(xy: np.ndarray) -> tuple[float, float, float, float]:
    """The box (min x, min y, max x, max y) of points (k, 2), k > 0."""
    low, high = xy.min(axis=0), xy.max(axis=0)
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def _boxes_meet(a: Sequence[float], b: Sequence[float]) -> bool:
    """Do two boxes (min x, min y, max x, max y) overlap or touch?"""
    return bool(a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3])


def _crosses(shape: Polygon, line: LineString | Point) -> bool:
    """Does the line (or point) enter the polygon's interior (not just its boundary)?"""
    return bool(shapely.relate_pattern(shape, line, "T********"))


def _detour(xy: np.ndarray, causes: tuple[str, ...], obstacle: Obstacle
            ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Replace the stretch from the first entry into the obstacle to the last exit from it
    with the shorter arc of its boundary (its shape convex; the ends lie outside it)."""
    if len(xy) < 2:
        return xy, causes
    shape = obstacle.shape
    low, high = np.minimum(xy[:-1], xy[1:]), np.maximum(xy[:-1], xy[1:])
    min_x, min_y, max_x, max_y = obstacle.bounds
    # Only a segment whose box meets the shape's can cross it: the others are not clipped.
    near = np.flatnonzero((high[:, 0] >= min_x) & (low[:, 0] <= max_x)
                          & (high[:, 1] >= min_y) & (low[:, 1] <= max_y))
    if len(near) == 0:
        return xy, causes
    segments = shapely.linestrings(np.stack([xy[near], xy[near + 1]], axis=1))
    pieces = shapely.intersection(segments, shape)
    crossed = np.flatnonzero(shapely.length(pieces) > 0.0)
    if len(crossed) == 0:
        return xy, causes
    k_in, k_out = int(near[crossed[0]]), int(near[crossed[-1]])
    entry = _end_nearest(pieces[crossed[0]], xy[k_in])
    exit_ = _end_nearest(pieces[crossed[-1]], xy[k_out + 1])
    arc = _shorter_arc(shape, entry, exit_)
    cause = next((c for c in causes[k_in:k_out + 1] if c), "")
    new_xy = np.vstack([xy[:k_in + 1], [entry], arc, [exit_], xy[k_out + 1:]])
    new_causes = (*causes[:k_in], causes[k_in], *([cause] * (len(arc) + 1)),
                  causes[k_out], *causes[k_out + 1:])
    return _drop_repeats(new_xy, new_causes)


def _end_nearest(piece: object, to: np.ndarray) -> np.ndarray:
    """The end of a clipped segment (a line) nearest to ``to``."""
    coords = np.asarray(shapely.get_coordinates(piece))
    ends = coords[[0, -1]]
    return np.asarray(ends[int(np.argmin(np.hypot(*(ends - to).T)))], dtype=float)


def _shorter_arc(shape: Polygon, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The boundary's vertices strictly between ``a`` and ``b`` the shorter way round."""
    ring = LineString(shape.exterior.coords)
    total = ring.length
    da, db = ring.project(Point(a)), ring.project(Point(b))
    forward = (db - da) % total
    if forward <= total - forward:
        arc = _along(ring, da, da + forward, total)
    else:
        arc = _along(ring, da, da - (total - forward), total)
    return arc[1:-1] if len(arc) > 2 else np.zeros((0, 2))


def _along(ring: LineString, start: float, end: float, total: float) -> np.ndarray:
    """Points of a closed ring from distance ``start`` to ``end`` (may wrap, may go back)."""
    if start <= end:
        if end <= total:
            parts = [substring(ring, start, end)]
        else:
            parts = [substring(ring, start, total), substring(ring, 0.0, end - total)]
    elif end >= 0.0:
        parts = [substring(ring, start, end)]
    else:
        parts = [substring(ring, start, 0.0), substring(ring, total, total + end)]
    coords = [np.asarray(shapely.get_coordinates(p)) for p in parts]
    return np.vstack(coords)


def _drop_repeats(xy: np.ndarray, causes: tuple[str, ...]
                  ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Remove waypoints that repeat the one before (and their empty legs)."""
    keep = np.concatenate([[True], np.hypot(*np.diff(xy, axis=0).T) > 0.0])
    if keep.all():
        return xy, causes
    kept_causes = tuple(c for c, k in zip(causes, keep[1:], strict=True) if k)
    return xy[keep], kept_causes
