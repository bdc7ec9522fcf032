"""Routes of generated sorties: along a party's lane, its mirror, and round the corridor.

A party's ``Router`` holds its lane in its direction of travel, the lane's mirror across the
river (for shortcuts), the ring outside the corridor that transits follow instead of
crossing it, and each mission's racetrack on the lane; ``sim.traffic.sorties`` asks it for
the legs of each sortie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from sim.model.geography import Geography, LaneGeometry
from sim.model.polyline import Coords, Polyline
from sim.model.scenario import Deviation, LaneDisciplineSpec, Party, Scenario

GATE_MARGIN_M = 10_000.0  # gates and ring lie this far outside the corridor's edge
# Sorties fly the lane simplified to within this distance of it: the lane's round joins
# have a vertex every 2 km, which would make hundreds of legs a sortie for nothing.
FLOWN_LANE_TOLERANCE_M = 100.0


class TooManyPoints(Exception):
    """A route would have more waypoints than it may."""


def between(bounds: tuple[float, float], u: float) -> float:
    """The point a fraction ``u`` of the way from the low bound to the high one."""
    return bounds[0] + u * (bounds[1] - bounds[0])


@dataclass(frozen=True)
class Router:
    """Builds routes for one party: its lane, the mirror lane, the ring round the corridor."""

    lane: Polyline | None  # in the party's direction of travel
    mirror: LineString | None  # the lane's mirror across the river, same direction
    centerline: LineString | None
    half_width_m: float
    ring: Polyline | None  # a closed line outside the corridor
    offset_m: float
    tolerance_m: float
    # Each mission area's racetrack on the lane, built once: (its start and end along
    # the lane, the loop).
    tracks: dict[tuple[float, ...], tuple[float, float, Polyline]] = field(
        default_factory=dict)
    # Gates by lane point, and transits by (base, gate): a third of the sorties repeat one.
    gates: dict[tuple[float, float], tuple[float, float]] = field(default_factory=dict)
    transits: dict[tuple[tuple[float, float], tuple[float, float]], Coords] = field(
        default_factory=dict)

    def route(self, base: tuple[float, float], area: tuple[float, float], track_length_m: float,
              track_width_m: float, station_m: float, entry_m: float, exit_m: float,
              deviation: Deviation | None, u: np.ndarray, max_points: int
              ) -> tuple[np.ndarray, list[tuple[str, int, int]], tuple[int, int], np.ndarray]:
        """Waypoints (k, 2), deviation windows as (cause, first index, last index), the
        racetrack's first and last waypoint index, and the racetrack loop itself.

        Raises ``TooManyPoints`` before building a racetrack of more than ``max_points``.
        """
        if self.lane is None:
            heading = np.subtract(area, base)
            norm = float(np.hypot(*heading)) or 1.0
            half = heading / norm * track_length_m / 2.0
            axis = LineString([np.subtract(area, half), np.add(area, half)])
            loop = _racetrack(axis, area, track_length_m, track_width_m)
            flown = _fly_loop(Polyline(loop), station_m, max_points)
            return (np.array([base, *flown, base]), [], (1, len(flown)),
                    np.asarray(loop.coords, float))
        lane = self.lane
        s_a, s_b, track = self._track(area, track_length_m, track_width_m)
        s_in, s_out = max(0.0, s_a - entry_m), min(lane.length, s_b + exit_m)
        before = lane.cut(s_in, s_a)
        after = lane.cut(s_a, s_out)
        windows: list[tuple[str, int, int]] = []
        if deviation is not None:
            before, after, shift = self._deviate(deviation, s_in, s_a, s_out, u)
        gate_in = self._gate(before[0])
        gate_out = self._gate(after[-1])
        head = [base, *self._transit(base, gate_in), gate_in]
        loop = _fly_loop(track, station_m, max_points)
        path = head + before + loop + after + [gate_out, *self._transit(base, gate_out)[::-1],
                                                 base]
        if deviation is not None:
            cause, first, last, in_after = shift
            offset = len(head) + (len(before) + len(loop) if in_after else 0)
            windows.append((cause, offset + first, offset + last))
        first = len(head) + len(before)
        return (np.array(path, float), windows, (first, first + len(loop) - 1),
                np.asarray(track.line.coords, float))

    def _track(self, area: tuple[float, float], length_m: float, width_m: float
               ) -> tuple[float, float, Polyline]:
        """The racetrack on the lane abeam a mission area, and where along the lane it
        begins and ends."""
        assert self.lane is not None
        key = (*area, length_m, width_m)
        if key not in self.tracks:
            lane = self.lane
            s_m = lane.project(*area)
            s_a = max(0.0, s_m - length_m / 2.0)
            s_b = min(lane.length, s_m + length_m / 2.0)
            loop = _racetrack(substring(lane.line, s_a, s_b), area, length_m, width_m)
            self.tracks[key] = (s_a, s_b, Polyline(loop))
        return self.tracks[key]

    def _deviate(self, deviation: Deviation, s_in: float, s_a: float, s_out: float,
                 u: np.ndarray) -> tuple[Coords, Coords, tuple[str, int, int, bool]]:
        """The lane route before and after the racetrack with one stretch displaced.

        The stretch lies on the longer of the two; the window runs from the last lane
        point before it to the first lane point after it (waypoint indices).
        """
        assert self.lane is not None
        displaced = self.mirror if deviation.cause == "shortcut" else self._drift_line(
            between(deviation.beyond_m, u[1]))
        in_after = (s_out - s_a) > (s_a - s_in)
        lo, hi = (s_a, s_out) if in_after else (s_in, s_a)
        length = min(between(deviation.length_m, u[0]), hi - lo)
        start = lo + u[2] * (hi - lo - length)
        head = self.lane.cut(lo, start)
        stretch = self.lane.cut(start, start + length)
        tail = self.lane.cut(start + length, hi)
        if displaced is None:
            moved = stretch
        else:
            nearest = shapely.line_interpolate_point(
                displaced, shapely.line_locate_point(displaced, shapely.points(stretch)))
            moved = [(float(x), float(y)) for x, y in shapely.get_coordinates(nearest)]
        new = head + moved + tail
        window = (deviation.cause, len(head) - 1, len(head) + len(moved), in_after)
        unchanged = self.lane.cut(s_in, s_a) if in_after else self.lane.cut(s_a, s_out)
        return (unchanged, new, window) if in_after else (new, unchanged, window)

    def _drift_line(self, beyond_m: float) -> LineString | None:
        """The lane displaced toward the river by the tolerance and ``beyond_m`` more."""
        assert self.centerline is not None and self.lane is not None
        toward_river = -math.copysign(1.0, self.offset_m) * (self.tolerance_m + beyond_m)
        return _oriented(self.centerline.offset_curve(self.offset_m + toward_river, quad_segs=8,
                                                      join_style="round"), self.lane.line)

    def _gate(self, lane_point: tuple[float, float]) -> tuple[float, float]:
        if lane_point not in self.gates:
            self.gates[lane_point] = self._find_gate(lane_point)
        return self.gates[lane_point]

    def _transit(self, base: tuple[float, float], gate: tuple[float, float]) -> Coords:
        if (base, gate) not in self.transits:
            self.transits[(base, gate)] = self._find_transit(base, gate)
        return self.transits[(base, gate)]

    def _find_gate(self, lane_point: tuple[float, float]) -> tuple[float, float]:
        """A point outside the corridor abeam a lane point, on the lane's side of the river.

        It lies on the line from the nearest point of the river through the lane point, so
        the approach to the lane crosses the corridor's edge square on, never its round ends.
        """
        assert self.ring is not None and self.centerline is not None
        point = Point(lane_point)
        river = self.centerline.interpolate(self.centerline.project(point))
        away = np.subtract(lane_point, (river.x, river.y))
        norm = float(np.hypot(*away))
        if norm == 0.0:  # a lane on the river itself: any nearby point of the ring will do
            return self.ring.points(self.ring.project(*lane_point))[0]
        gate = np.array([river.x, river.y]) + away / norm * (self.half_width_m + GATE_MARGIN_M)
        return float(gate[0]), float(gate[1])

    def _find_transit(self, base: tuple[float, float], gate: tuple[float, float]
                      ) -> list[tuple[float, float]]:
        """Waypoints between a base and a gate (exclusive) that keep out of the corridor."""
        assert self.ring is not None and self.centerline is not None
        if LineString([base, gate]).distance(self.centerline) > self.half_width_m + 1.0:
            return []
        ring, total = self.ring, self.ring.length
        a, b = ring.project(*base), ring.project(*gate)
        if abs(b - a) <= total / 2.0:
            along = ring.cut(a, b)
        elif a < b:
            along = ring.cut(a, 0.0) + ring.cut(total, b)
        else:
            along = ring.cut(a, total) + ring.cut(0.0, b)
        return along[:-1]


# A reused router's caches are emptied beyond this many entries (memory stays bounded
# over a long sweep); they only save work, they never change a route.
ROUTER_CACHE_ENTRIES = 20_000


def party_router(scenario: Scenario, geography: Geography, party: Party) -> Router:
    """The router of a party that generates sorties (one without a lane flies direct),
    built once per geography and lane: its racetracks, gates and transits are kept for
    the next run on the same geography (a sweep's replications)."""
    sorties = party.sorties
    assert sorties is not None
    if not sorties.lane or geography.centerline is None:
        return Router(None, None, None, 0.0, None, 0.0, 0.0)
    tolerances = [r.tolerance_m for r in scenario.rules if isinstance(r, LaneDisciplineSpec)]
    tolerance = min(tolerances) if tolerances else None
    key = ("router", sorties.lane, tolerance)
    router = geography.memo.get(key)
    if router is None:
        router = geography.memo[key] = _new_router(geography, sorties.lane, tolerance)
    for cache in (router.tracks, router.gates, router.transits):
        if len(cache) > ROUTER_CACHE_ENTRIES:
            cache.clear()
    return router


def _new_router(geography: Geography, lane_id: str, tolerance_m: float | None) -> Router:
    """A party's router on lane ``lane_id``: the lane as flown, its mirror and the ring;
    ``tolerance_m`` the lane rules' least tolerance (None: the lane's offset)."""
    assert geography.centerline is not None
    (lane,) = [g for g in geography.lanes if g.lane.id == lane_id]
    centerline = geography.centerline.geometry()
    half_width = geography.half_width_m or 0.0
    line = _lane_line(lane)
    mirror = _oriented(centerline.offset_curve(-lane.lane.offset_m, quad_segs=8,
                                               join_style="round"), line)
    # Simplified by a third of the margin, the ring stays well outside the corridor.
    ring = shapely.simplify(centerline.buffer(half_width + GATE_MARGIN_M, quad_segs=4)
                            .exterior, GATE_MARGIN_M / 3.0)
    tolerance = tolerance_m if tolerance_m is not None else abs(lane.lane.offset_m)
    return Router(Polyline(line), mirror, centerline, half_width,
                   Polyline(LineString(ring.coords)), lane.lane.offset_m, tolerance)


def _lane_line(lane: LaneGeometry) -> LineString:
    """The lane as one line in its direction of travel (downstream is the stored order)."""
    parts = sorted(lane.line.parts, key=len, reverse=True)
    coords = parts[0] if lane.lane.direction == "downstream" else parts[0][::-1]
    return shapely.simplify(LineString(coords), FLOWN_LANE_TOLERANCE_M)


def _oriented(curve: object, like: LineString) -> LineString | None:
    """The longest part of an offset curve, oriented like ``like``."""
    parts = list(getattr(curve, "geoms", [curve]))
    parts = [p for p in parts if isinstance(p, LineString) and not p.is_empty]
    if not parts:
        return None
    line = shapely.simplify(max(parts, key=lambda p: p.length), FLOWN_LANE_TOLERANCE_M)
    start = Point(like.coords[0])
    if line.project(start) > line.length / 2.0:
        line = LineString(list(line.coords)[::-1])
    return line


def _racetrack(axis: LineString, center: tuple[float, float], length_m: float, width_m: float
               ) -> LineString:
    """A closed racetrack: along the axis on one side, back on the other."""
    if axis.length < 1.0:  # no lane there to follow: a straight racetrack at the area
        axis = LineString([(center[0] - length_m / 2.0, center[1]),
                           (center[0] + length_m / 2.0, center[1])])
    if axis.length > length_m:
        mid = axis.project(Point(center))
        axis = substring(axis, max(0.0, mid - length_m / 2.0), mid + length_m / 2.0)
    # Few vertices: a racetrack is flown for hours, lap after lap. Simplifying the axis by
    # a tenth of the width keeps the track within its width of the lane.
    axis = shapely.simplify(axis, width_m / 10.0)
    out = axis.offset_curve(width_m / 2.0, quad_segs=1, join_style="mitre", mitre_limit=2.0)
    back = axis.offset_curve(-width_m / 2.0, quad_segs=1, join_style="mitre", mitre_limit=2.0)
    if not (isinstance(out, LineString) and isinstance(back, LineString)):
        out, back = axis, axis  # too tight to offset: fly it back and forth
    start = axis.coords[0]
    return LineString([start, *out.coords, *list(back.coords)[::-1], start])


def _fly_loop(loop: Polyline, distance_m: float, max_points: int) -> Coords:
    """The racetrack's waypoints flown for ``distance_m`` (whole laps, then part of one),
    or ``TooManyPoints`` if that would be more than ``max_points``."""
    laps = int(distance_m // loop.length) if loop.length > 0 else 0
    points = _coords(loop.line)
    if laps * len(points) > max_points:
        raise TooManyPoints()
    path = points * laps
    rest = distance_m - laps * loop.length
    if rest > 0.0:
        path += loop.cut(0.0, rest)
    return path or [points[0]]


def _coords(line: object) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y, *_ in getattr(line, "coords", [])]
