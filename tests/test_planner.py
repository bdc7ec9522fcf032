"""The planner (sim/planner.py) and its use by the engine (SPEC §6 zones, §8 hotline).

Three parts:

1. ``route_around`` and ``obstacles`` as pure geometry, by hypothesis and by construction:
   a rerouted route keeps out of every zone it was given (checked against the exact
   zone: the circle itself, the polygon itself), keeps its ends and its racetrack, is
   ``Blocked`` exactly when an obstacle covers an end or the racetrack, and really goes
   round (its length is bounded below by the shortest path round the grown circle).
2. The engine: a compliant planner with perfect information (loss 0, latency 0) never
   flies a generated sortie into a zone its party had received by the sortie's departure;
   zones over the base or the racetrack delay or drop sorties, by the party's policy.
3. Reproducibility with the hotline on, in-process and through ``deconflict run``.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from sim import testing as sst
from sim.cli import main
from sim.engine.simulation import Run, run
from sim.model.geography import ZoneGeometry
from sim.model.scenario import CircleArea, FramePoint, PolygonArea, ZoneSpec, parse_scenario
from sim.traffic.planner import MIN_CLEARANCE_M, Blocked, Obstacle, Route, obstacles, route_around

KM = 1000.0
HOUR = 3600.0
REL = 1e-6  # relative tolerance on distances computed through shapely's intersections
MARGINS_M = [0.0, 1.0, 500.0, 3704.0, 10_000.0]

ROOT = Path(__file__).resolve().parent.parent
EUPHRATES = ROOT / "scenarios" / "euphrates_dec2017.yaml"

PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# ----------------------------------------------------------------------------- helpers


def circle_zone(ident: str, center: tuple[float, float], radius_m: float,
                party: str = "red", end_s: float = math.inf) -> ZoneGeometry:
    spec = ZoneSpec(ident, party, CircleArea(FramePoint(*center), radius_m), 0.0, math.inf,
                    0.0, end_s, True)
    return ZoneGeometry(spec, None, (float(center[0]), float(center[1])), float(radius_m),
                        shapely.Point(center).buffer(radius_m, quad_segs=32))


def polygon_zone(ident: str, ring: np.ndarray, party: str = "red",
                 end_s: float = math.inf) -> ZoneGeometry:
    ring = np.asarray(ring, float)
    spec = ZoneSpec(ident, party, PolygonArea(tuple(FramePoint(float(x), float(y))
                                                    for x, y in ring)),
                    0.0, math.inf, 0.0, end_s, True)
    return ZoneGeometry(spec, np.vstack([ring, ring[:1]]), None, None, Polygon(ring))


def _metres(text: str) -> float:
    assert text.endswith(" m"), text
    return float(text[:-2])


def zone_from_document(document: dict[str, Any]) -> ZoneGeometry:
    """A ``sim.testing.zones`` document (frame coordinates, written exactly) as geometry."""
    area = document["area"]
    if "circle" in area:
        center = area["circle"]["center"]
        return circle_zone(document["id"], (_metres(center["x"]), _metres(center["y"])),
                           _metres(area["circle"]["radius"]), document["party"])
    ring = np.array([[_metres(p["x"]), _metres(p["y"])] for p in area["polygon"]])
    return polygon_zone(document["id"], ring, document["party"])


def leg_distances(xy: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    """The distance from ``point`` to each leg of the polyline ``xy`` (numpy only)."""
    a, b = xy[:-1], xy[1:]
    ab = b - a
    ap = np.asarray(point, float) - a
    squared = np.einsum("ij,ij->i", ab, ab)
    along = np.einsum("ij,ij->i", ap, ab)
    t = np.clip(np.divide(along, squared, out=np.zeros_like(along), where=squared > 0.0),
                0.0, 1.0)
    closest = a + t[:, None] * ab
    return np.asarray(np.hypot(*(np.asarray(point, float) - closest).T))


def length_m(xy: np.ndarray) -> float:
    return float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))


def assert_keeps_out(xy: np.ndarray, zone: ZoneGeometry, margin_m: float) -> None:
    """The route never enters the exact zone and stays (about) the margin clear of it."""
    clearance = max(margin_m, MIN_CLEARANCE_M)
    if zone.center is not None and zone.radius_m is not None:
        nearest = float(leg_distances(xy, zone.center).min())
        assert nearest >= zone.radius_m, (zone.spec.id, nearest, zone.radius_m)
        wanted = zone.radius_m + clearance
        assert nearest >= wanted * (1.0 - REL), (
            f"{zone.spec.id}: the route passes {nearest - zone.radius_m:.3f} m from the "
            f"circle, margin {clearance} m")
        return
    shape = zone.shape
    line = LineString(xy)
    assert line.intersection(shape).length == 0.0, zone.spec.id
    assert not np.any(shapely.contains_xy(shape, xy[:, 0], xy[:, 1])), zone.spec.id
    gap = float(line.distance(shape))
    assert gap >= clearance * (1.0 - REL), (
        f"{zone.spec.id}: the route passes {gap:.3f} m from the polygon, margin {clearance} m")


def assert_keeps_ends_and_racetrack(before: Route, after: Route) -> None:
    first, last = before.track
    new_first, new_last = after.track
    assert after.xy.ndim == 2 and after.xy.shape[1] == 2 and np.all(np.isfinite(after.xy))
    assert np.array_equal(after.xy[0], before.xy[0])
    assert np.array_equal(after.xy[-1], before.xy[-1])
    assert len(after.leg_causes) == len(after.xy) - 1
    assert new_last - new_first == last - first
    assert 0 <= new_first <= new_last < len(after.xy)
    assert np.array_equal(after.xy[new_first:new_last + 1], before.xy[first:last + 1])
    assert after.leg_causes[new_first:new_last] == before.leg_causes[first:last]
    assert set(after.leg_causes) <= set(before.leg_causes)


def _distinct(xy: np.ndarray) -> np.ndarray:
    keep = np.concatenate([[True], np.any(np.diff(xy, axis=0) != 0.0, axis=1)])
    return xy[keep]


def interior_meets(shape: Polygon, xy: np.ndarray) -> bool:
    """Does the polyline (or single point) ``xy`` meet the polygon's interior? (DE-9IM)"""
    points = _distinct(np.asarray(xy, float))
    if len(points) == 1:
        return bool(shape.relate_pattern(Point(points[0]), "T********"))
    return bool(shape.relate_pattern(LineString(points), "T********"))


def expected_blockers(route: Route, found: list[Obstacle]) -> set[tuple[str, ...]]:
    first, last = route.track
    return {o.zones for o in found
            if interior_meets(o.shape, route.xy[:1]) or interior_meets(o.shape, route.xy[-1:])
            or interior_meets(o.shape, route.xy[first:last + 1])}


def disk_detour_m(a: np.ndarray, b: np.ndarray, radius_m: float) -> float:
    """The shortest path from a to b (both outside) that keeps out of the open disk of
    ``radius_m`` round the origin, when the segment ab crosses it: tangent, arc, tangent."""
    da, db = float(np.hypot(*a)), float(np.hypot(*b))
    angle = math.acos(float(np.clip(a @ b / (da * db), -1.0, 1.0)))
    arc = angle - math.acos(radius_m / da) - math.acos(radius_m / db)
    return math.sqrt(da**2 - radius_m**2) + math.sqrt(db**2 - radius_m**2) + radius_m * arc


# ----------------------------------------------------------------------------- strategies


@st.composite
def zone_lists(draw: st.DrawFn, min_size: int = 1, max_size: int = 4) -> list[ZoneGeometry]:
    """Circles and polygons (``sim.testing.zones``) within about 70 km of the origin."""
    count = draw(st.integers(min_size, max_size))
    return [zone_from_document(draw(sst.zones(party="red", ident=f"Z{i}")))
            for i in range(count)]


CAUSES = st.sampled_from(["", "", "drift", "shortcut"])


@st.composite
def random_routes(draw: st.DrawFn) -> Route:
    """Any route in the box (``sim.testing.routes``), its racetrack some inner waypoints."""
    xy = draw(sst.routes(min_points=3, max_points=8))
    n = len(xy)
    first = draw(st.integers(1, n - 2))
    last = draw(st.integers(first, n - 2))
    causes = tuple(draw(CAUSES) for _ in range(n - 1))
    return Route(xy, causes, (first, last))


@st.composite
def crossing_routes(draw: st.DrawFn) -> Route:
    """Base in the far west, racetrack in the far east; the transits cross the zones' box
    (within 80 km of the origin, margins included), the ends never lie in it."""
    coordinate = st.floats(-100 * KM, 100 * KM)
    base = (-150 * KM, draw(st.floats(-60 * KM, 60 * KM)))
    out = [(draw(coordinate), draw(coordinate)) for _ in range(draw(st.integers(0, 3)))]
    track = [(draw(st.floats(120 * KM, 160 * KM)), draw(st.floats(-60 * KM, 60 * KM)))
             for _ in range(draw(st.integers(1, 4)))]
    back = [(draw(coordinate), draw(coordinate)) for _ in range(draw(st.integers(0, 3)))]
    xy = np.array([base, *out, *track, *back, base], float)
    causes = tuple(draw(CAUSES) for _ in range(len(xy) - 1))
    first = 1 + len(out)
    return Route(xy, causes, (first, first + len(track) - 1))


# ----------------------------------------------------------------------------- route_around


@PROPERTY
@given(route=crossing_routes(), zones=zone_lists(), margin=st.sampled_from(MARGINS_M))
def test_a_route_with_clear_ends_is_routed_round_every_zone(route, zones, margin):
    found = obstacles(zones, margin)
    assert expected_blockers(route, found) == set()
    after = route_around(route, found)  # the ends and racetrack are clear: never Blocked
    assert_keeps_ends_and_racetrack(route, after)
    for zone in zones:
        assert_keeps_out(after.xy, zone, margin)


@PROPERTY
@given(route=random_routes(), zones=zone_lists(), margin=st.sampled_from(MARGINS_M))
def test_blocked_exactly_when_an_obstacle_covers_an_end_or_the_racetrack(route, zones, margin):
    found = obstacles(zones, margin)
    expected = expected_blockers(route, found)
    try:
        after = route_around(route, found)
    except Blocked as blocked:
        assert expected, "Blocked, but no obstacle covers an end or the racetrack"
        assert {o.zones for o in blocked.obstacles} == expected
        return
    assert not expected, f"not Blocked, though {sorted(expected)} cover an end or the racetrack"
    assert_keeps_ends_and_racetrack(route, after)
    for zone in zones:
        assert_keeps_out(after.xy, zone, margin)


@PROPERTY
@given(route=random_routes(), zones=zone_lists(), margin=st.sampled_from(MARGINS_M),
       shift=st.booleans())
def test_a_route_that_touches_no_obstacle_comes_back_unchanged(route, zones, margin, shift):
    if shift:  # move the whole route far east, clear of every zone
        route = Route(route.xy + np.array([400 * KM, 0.0]), route.leg_causes, route.track)
    line = LineString(route.xy)
    clear = [o for o in obstacles(zones, margin) if not o.shape.intersects(line)]
    if shift:
        assert len(clear) == len(obstacles(zones, margin))
    after = route_around(route, clear)
    assert np.array_equal(after.xy, route.xy)
    assert after.leg_causes == route.leg_causes
    assert after.track == route.track


def _straight_route(y_m: float, half_m: float = 100 * KM) -> Route:
    """West to east along y, the racetrack beyond the east end: the head leg is straight."""
    xy = np.array([[-half_m, y_m], [half_m, y_m], [half_m + 10 * KM, y_m],
                   [half_m + 20 * KM, y_m]])
    return Route(xy, ("", "", ""), (1, 2))


@pytest.mark.parametrize(("radius_m", "margin_m"), [
    (20 * KM, 3704.0), (5 * KM, 0.0), (35 * KM, 10 * KM), (1 * KM, 1.0)])
def test_a_straight_route_through_a_circle_goes_half_way_round_it(radius_m, margin_m):
    route = _straight_route(0.0)
    after = route_around(route, obstacles([circle_zone("C", (0.0, 0.0), radius_m)], margin_m))
    grown = radius_m + max(margin_m, MIN_CLEARANCE_M)
    head = after.xy[:after.track[0] + 1]
    straight = 200 * KM
    # Straight to the grown circle, half round it (pi R for the 2 R of the diameter), on.
    half_round = straight - 2.0 * grown + math.pi * grown
    assert length_m(head) > straight
    assert length_m(head) >= half_round - REL * grown, (length_m(head), half_round)
    assert length_m(head) <= straight - 2.0 * grown + 1.01 * math.pi * grown
    # The way round hugs the grown circle: every waypoint off the line lies just outside it.
    off_line = head[np.abs(head[:, 1]) > 0.0]
    assert len(off_line) >= 8
    radii = np.hypot(*off_line.T)
    assert np.all(radii >= grown * (1.0 - REL)) and np.all(radii <= grown * 1.01)
    assert_keeps_ends_and_racetrack(route, after)


@settings(deadline=None, max_examples=100)
@given(radius=st.floats(1 * KM, 40 * KM), offset=st.floats(-0.95, 0.95),
       margin=st.sampled_from(MARGINS_M))
def test_the_detour_is_no_shorter_than_the_way_round_the_grown_circle(radius, offset, margin):
    grown = radius + max(margin, MIN_CLEARANCE_M)
    y = offset * grown  # the straight head leg crosses the grown circle
    route = _straight_route(y)
    after = route_around(route, obstacles([circle_zone("C", (0.0, 0.0), radius)], margin))
    head = after.xy[:after.track[0] + 1]
    a, b = route.xy[0], route.xy[1]
    shortest = disk_detour_m(a, b, grown)
    assert length_m(head) > 200 * KM
    assert length_m(head) >= shortest - REL * grown, (length_m(head), shortest)
    # The shorter way round: over the side of the circle the line passes on, and no longer
    # than the straight parts plus half the (circumscribed) polygon.
    chord = 2.0 * math.sqrt(grown**2 - y**2)
    assert length_m(head) <= 200 * KM - chord + 1.001 * math.pi * grown
    if abs(offset) > 0.05:
        side = math.copysign(1.0, y)
        assert np.all((head[:, 1] - y) * side >= -REL * grown), "went the long way round"
    assert_keeps_out(after.xy, circle_zone("C", (0.0, 0.0), radius), margin)


def _square(cx: float, cy: float, half_m: float) -> np.ndarray:
    return np.array([[cx - half_m, cy - half_m], [cx + half_m, cy - half_m],
                     [cx + half_m, cy + half_m], [cx - half_m, cy + half_m]])


def _is_convex(shape: Polygon) -> bool:
    return bool(abs(shape.convex_hull.area - shape.area) <= 1e-9 * shape.area)


@pytest.mark.parametrize("margin_m", [0.0, 3704.0])
def test_overlapping_zones_become_one_obstacle_and_the_route_avoids_both(margin_m):
    circle = circle_zone("A", (-12 * KM, 0.0), 15 * KM, end_s=5 * HOUR)
    square = polygon_zone("B", _square(12 * KM, 3 * KM, 10 * KM), end_s=3 * HOUR)
    assert circle.shape.intersects(square.shape)
    found = obstacles([circle, square], margin_m)
    assert len(found) == 1
    (merged,) = found
    assert sorted(merged.zones) == ["A", "B"]
    assert merged.active_end_s == 3 * HOUR  # it may clear when the first zone ends
    assert _is_convex(merged.shape)
    assert merged.shape.contains(circle.shape) and merged.shape.contains(square.shape)
    route = _straight_route(2 * KM)
    after = route_around(route, found)
    assert_keeps_ends_and_racetrack(route, after)
    for zone in (circle, square):
        assert_keeps_out(after.xy, zone, margin_m)
    # One way round the one obstacle: the head leaves its line once and comes back once
    # (base, entry, exit, racetrack start), every waypoint between on one side of it.
    head = after.xy[:after.track[0] + 1]
    on_line = head[:, 1] == 2 * KM
    assert on_line.sum() == 4, head
    side = np.sign(head[~on_line, 1] - 2 * KM)
    assert len(side) >= 2 and abs(side.sum()) == len(side)


def test_zones_whose_margins_touch_are_merged_and_far_ones_are_not():
    margin = 3704.0
    west = circle_zone("W", (-20 * KM, 0.0), 10 * KM)
    near = circle_zone("N", (5 * KM, 0.0), 10 * KM)  # 5 km apart: margins overlap
    far = circle_zone("F", (60 * KM, 0.0), 10 * KM)  # 35 km from N: apart
    assert not west.shape.intersects(near.shape)
    found = obstacles([west, near, far], margin)
    assert sorted(sorted(o.zones) for o in found) == [["F"], ["N", "W"]]
    route = _straight_route(1 * KM)
    after = route_around(route, found)
    for zone in (west, near, far):
        assert_keeps_out(after.xy, zone, margin)
    # Two separate detours: the head leaves its line and comes back twice, and flies it
    # between the two obstacles.
    head = after.xy[:after.track[0] + 1]
    on_line = np.flatnonzero(head[:, 1] == 1 * KM)
    assert len(on_line) == 6, head
    x_back, x_off = head[on_line[2], 0], head[on_line[3], 0]
    assert on_line[3] == on_line[2] + 1 and x_back < 20 * KM and x_off > 45 * KM


@PROPERTY
@given(zones=zone_lists(max_size=6), margin=st.sampled_from(MARGINS_M))
def test_obstacles_are_convex_disjoint_and_hold_their_zones(zones, margin):
    found = obstacles(zones, margin)
    ids = [z for o in found for z in o.zones]
    assert sorted(ids) == sorted(z.spec.id for z in zones)  # each zone in exactly one
    by_id = {z.spec.id: z for z in zones}
    for k, obstacle in enumerate(found):
        assert obstacle.shape.is_valid and _is_convex(obstacle.shape)
        for other in found[k + 1:]:
            assert not obstacle.shape.intersects(other.shape)
        for ident in obstacle.zones:
            zone = by_id[ident]
            assert obstacle.shape.contains(zone.shape)
            if zone.center is not None and zone.radius_m is not None:
                # the whole grown circle, not only the 128-gon drawn for plots
                ring = np.linspace(0.0, 2.0 * math.pi, 360, endpoint=False)
                grown = (zone.radius_m + max(margin, MIN_CLEARANCE_M)) * (1.0 - REL)
                points = np.column_stack([zone.center[0] + grown * np.cos(ring),
                                          zone.center[1] + grown * np.sin(ring)])
                assert np.all(shapely.covers(obstacle.shape, shapely.points(points)))
        assert obstacle.active_end_s == min(by_id[z].spec.active_end_s for z in obstacle.zones)


# Constructed Blocked cases: a circle of 10 km, margin 2 km; base at the origin, racetrack
# from (100, 0) km to (100, 20) km and back, tail home.
BLOCK_ROUTE = Route(np.array([[0.0, 0.0], [100 * KM, 0.0], [100 * KM, 20 * KM],
                              [100 * KM, 0.0], [0.0, 0.0]]), ("", "", "", ""), (1, 3))
OPEN_ROUTE = Route(np.array([[0.0, 0.0], [100 * KM, 0.0], [100 * KM, 20 * KM],
                             [120 * KM, 20 * KM]]), ("", "", ""), (1, 2))
GROWN = 12 * KM


@pytest.mark.parametrize(("route", "center", "blocked"), [
    (BLOCK_ROUTE, (0.0, 0.0), True),                          # over the base
    (BLOCK_ROUTE, (GROWN - 10.0, 0.0), True),                 # the margin covers the base
    (BLOCK_ROUTE, (GROWN + 10.0, 0.0), False),                # just clear of the base
    (OPEN_ROUTE, (120 * KM, 20 * KM), True),                  # over the last point
    (OPEN_ROUTE, (120 * KM + GROWN + 10.0, 20 * KM), False),  # just clear of it
    (BLOCK_ROUTE, (100 * KM + GROWN - 10.0, 10 * KM), True),  # across a racetrack leg
    (BLOCK_ROUTE, (100 * KM - GROWN - 10.0, 10 * KM), False),  # beside it (west)
    (BLOCK_ROUTE, (100 * KM + GROWN + 10.0, 10 * KM), False),  # beside it (east)
    (BLOCK_ROUTE, (100 * KM, 30 * KM), True),                 # over the racetrack's far end
    (BLOCK_ROUTE, (50 * KM, 0.0), False),                     # across the transit only
])
def test_blocked_only_by_an_obstacle_over_an_end_or_the_racetrack(route, center, blocked):
    zone = circle_zone("C", center, 10 * KM)
    found = obstacles([zone], 2 * KM)
    if blocked:
        with pytest.raises(Blocked) as info:
            route_around(route, found)
        assert [o.zones for o in info.value.obstacles] == [("C",)]
        assert "C" in str(info.value)
        return
    after = route_around(route, found)
    assert_keeps_ends_and_racetrack(route, after)
    assert_keeps_out(after.xy, zone, 2 * KM)


def test_a_racetrack_of_one_point_is_blocked_only_when_covered():
    route = Route(np.array([[0.0, 0.0], [100 * KM, 0.0], [0.0, 0.0]]), ("", ""), (1, 1))
    with pytest.raises(Blocked):
        route_around(route, obstacles([circle_zone("C", (100 * KM, 5 * KM), 10 * KM)], 0.0))
    zone = circle_zone("C", (50 * KM, 5 * KM), 10 * KM)
    after = route_around(route, obstacles([zone], 0.0))
    assert_keeps_ends_and_racetrack(route, after)
    assert_keeps_out(after.xy, zone, 0.0)


def test_a_racetrack_along_an_obstacle_edge_is_not_blocked():
    zone = polygon_zone("SQ", _square(0.0, 0.0, 10 * KM))
    (obstacle,) = obstacles([zone], 0.0)
    ring = np.asarray(obstacle.shape.exterior.coords)
    k = int(np.argmax(np.hypot(*np.diff(ring, axis=0).T)))  # a straight side of the square
    a, b = ring[k], ring[k + 1]
    route = Route(np.array([a + 5.0 * (a - b), a, b, b + 5.0 * (b - a)]), ("", "", ""), (1, 2))
    assert not interior_meets(obstacle.shape, route.xy)  # it only runs along the boundary
    after = route_around(route, [obstacle])
    assert_keeps_ends_and_racetrack(route, after)


def test_detour_keeps_the_full_margin_from_a_polygon_zone():
    margin = 3704.0
    zone = polygon_zone("SQ", _square(0.0, 0.0, 10 * KM))
    route = _straight_route(1 * KM)
    after = route_around(route, obstacles([zone], margin))
    gap = float(LineString(after.xy).distance(zone.shape))
    assert gap >= margin * (1.0 - REL), f"{gap:.1f} m from the zone, margin {margin} m"


# ----------------------------------------------------------------------------- the engine

BASES = {"home_north": (-200 * KM, 30 * KM), "home_south": (-200 * KM, -30 * KM)}
MISSIONS = {"east": (200 * KM, 0.0), "north_east": (190 * KM, 40 * KM)}
PERFECT = {"first_call": "0 s", "interval": "1 h", "latency": "0 s", "loss": 0}
ZONE_RULE = {"id": "zones", "type": "zone_incursion"}


def _place(xy: tuple[float, float]) -> dict[str, str]:
    return {"x": f"{xy[0]!r} m", "y": f"{xy[1]!r} m"}


def blue_party(bases: dict[str, tuple[float, float]] = BASES,
               missions: dict[str, tuple[float, float]] = MISSIONS, per_day: float = 24,
               **planning: Any) -> dict[str, Any]:
    """A compliant party flying base -> racetrack -> base (no lane)."""
    return {"sorties_per_day": per_day, "bases": list(bases),
            "aircraft": [{"type": "F-16", "speed": "250 m/s",
                          "altitude": ["5000 m", "9000 m"]}],
            "missions": [{"area": name, "time_on_station": ["10 min", "40 min"],
                          "racetrack": {"length": "20 km", "width": "5 km"}}
                         for name in missions],
            "compliance": 1.0, "planning": planning}


def planning_document(zones: list[dict[str, Any]], seed: int = 0, duration: str = "1 d",
                      hotline: dict[str, Any] | None = None,
                      blue: dict[str, Any] | None = None,
                      red: dict[str, Any] | None = None) -> dict[str, Any]:
    places = {**BASES, **MISSIONS}
    return {"name": "planner", "seed": seed, "duration": duration,
            "frame": {"center": sst.FRAME_CENTER},
            "places": {name: _place(xy) for name, xy in places.items()},
            "parties": {"blue": blue or blue_party(), "red": red},
            "zones": zones, "rules": [ZONE_RULE],
            "hotline": dict(PERFECT if hotline is None else hotline)}


def circle_document(ident: str, center: tuple[float, float], radius_m: float,
                    **extra: Any) -> dict[str, Any]:
    return {"id": ident, "party": "red",
            "area": {"circle": {"center": _place(center), "radius": f"{radius_m!r} m"}},
            **extra}


def run_document(document: dict[str, Any]) -> Run:
    return run(parse_scenario(copy.deepcopy(document)))


def informed_incursions(result: Run, party: str = "blue") -> list[tuple[str, str, float]]:
    """Zone incursions by the party's generated sorties into zones it had received by the
    sortie's departure (as flown: after any delay)."""
    plans = {p.id: p for p in result.plans}
    bad = []
    for episode in result.episodes:
        if episode.type != "zone_incursion" or episode.party != party:
            continue
        if episode.aircraft not in result.outcomes:
            continue  # an explicit flight, not a generated sortie
        depart = plans[episode.aircraft].depart_s
        received = result.hotline.received.get((party, episode.zone))
        if received is not None and received <= depart:
            bad.append((episode.aircraft, episode.zone, episode.start_s))
    return bad


def zone_incursions(result: Run, zone: str | None = None) -> list[Any]:
    return [e for e in result.episodes if e.type == "zone_incursion"
            and (zone is None or e.zone == zone)]


@st.composite
def crossing_zone_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Red zones over the middle of blue's transits: one across every route (active the
    whole run, declared), and random ones (``sim.testing.zones``: circles and polygons
    within 70 km of the origin, various windows), some undeclared; every altitude block
    holds blue's 5000-9000 m."""
    anchor = circle_document("anchor", (0.0, 10 * KM), draw(st.floats(30 * KM, 40 * KM)))
    zones = [anchor]
    for i in range(draw(st.integers(0, 4))):
        zone = draw(sst.zones(party="red", ident=f"Z{i}"))
        zone["floor"] = draw(st.sampled_from(["0 m", "3000 m"]))
        zone["ceiling"] = draw(st.sampled_from([None, "12000 m"]))
        zone["declare"] = draw(st.sampled_from([True, True, False]))
        zones.append(zone)
    return zones


@settings(deadline=None, max_examples=25,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(zones=crossing_zone_documents(), seed=st.integers(0, 2**16),
       margin=st.sampled_from(["0 m", "1 km", "2 nmi", "10 km"]))
def test_perfect_information_never_flies_a_compliant_sortie_into_a_received_zone(
        zones, seed, margin):
    result = run_document(planning_document(zones, seed=seed, blue=blue_party(margin=margin)))
    assert informed_incursions(result) == []
    assert all(e.informed is False for e in zone_incursions(result))
    # Perfect information: every declared zone reached blue at the first call, none other.
    declared = {z["id"] for z in zones if z.get("declare", True)}
    blue_received = {z for (who, z), _ in result.hotline.received.items() if who == "blue"}
    assert blue_received == declared
    assert all(result.hotline.received[("blue", z)] == 0.0 for z in declared)
    # Not vacuous: the anchor lies across every route, so every sortie was rerouted.
    outcomes = Counter(result.outcomes.values())
    assert outcomes["rerouted"] > 0 and set(outcomes) == {"rerouted"}, outcomes


def test_without_avoidance_the_same_sorties_fly_into_the_zone():
    zones = [circle_document("anchor", (0.0, 10 * KM), 35 * KM)]
    flying = run_document(planning_document(zones, seed=4, blue=blue_party(avoid=False)))
    avoiding = run_document(planning_document(zones, seed=4))
    assert set(flying.outcomes.values()) == {"as_planned"}
    assert set(avoiding.outcomes.values()) == {"rerouted"}
    into = {e.aircraft for e in zone_incursions(flying, "anchor")}
    early = {p.id for p in flying.plans if p.depart_s < flying.scenario.duration_s - HOUR}
    assert early and into >= early, "every nominal route crosses the anchor"
    assert all(e.informed for e in zone_incursions(flying, "anchor"))
    assert zone_incursions(avoiding) == []
    # The same sorties, at the same times, from and to the same bases, only longer.
    before = {p.id: p for p in flying.plans}
    after = {p.id: p for p in avoiding.plans}
    assert before.keys() == after.keys()
    for ident, plan in after.items():
        nominal = before[ident]
        assert plan.depart_s == nominal.depart_s
        assert np.array_equal(plan.route_xy[[0, -1]], nominal.route_xy[[0, -1]])
        assert length_m(plan.route_xy) > length_m(nominal.route_xy)
        grown = 35 * KM + 3704.0
        assert leg_distances(plan.route_xy, (0.0, 10 * KM)).min() >= grown * (1.0 - REL)


def test_a_compliant_party_avoids_the_other_partys_received_work_areas():
    # Red works in the middle of blue's transits; its work areas reach blue at the hourly
    # calls, and blue's sorties that depart later keep out of them.
    red = blue_party(bases={"home_south": BASES["home_south"]}, missions={"middle": (0.0, 0.0)},
                     per_day=12)
    red["missions"][0]["racetrack"] = {"length": "40 km", "width": "10 km"}
    document = planning_document([], seed=11, red=red)
    document["places"]["middle"] = _place((0.0, 0.0))
    result = run_document(document)
    red_areas = {z for z in result.work_areas if z.startswith("work.red")}
    assert red_areas
    assert informed_incursions(result) == []
    blue = Counter(o for s, o in result.outcomes.items() if s.startswith("blue"))
    assert blue["rerouted"] > 0, blue
    # ...and without avoiding them, blue would have flown into some of them.
    document["parties"]["blue"] = blue_party(avoid=False)
    flying = run_document(document)
    assert informed_incursions(flying), "the work areas should lie across blue's routes"


def _nominal_departures(document: dict[str, Any]) -> dict[str, float]:
    flying = copy.deepcopy(document)
    flying["parties"]["blue"]["planning"] = {"avoid": False}
    result = run_document(flying)
    assert set(result.outcomes.values()) == {"as_planned"}
    return {p.id: p.depart_s for p in result.plans if p.id in result.outcomes}


BASE_ONLY = {"home": (-200 * KM, 0.0)}
WORK_ONLY = {"work": (200 * KM, 0.0)}
CLEARS_S = 6 * HOUR


@pytest.mark.parametrize(("covers", "planning", "delayed_from_s"), [
    ("base", {"when_blocked": "delay", "max_delay": "6 h"}, 0.0),
    ("base", {"when_blocked": "drop"}, None),
    ("base", {"when_blocked": "delay", "max_delay": "1 h"}, CLEARS_S - HOUR),
    ("racetrack", {"when_blocked": "delay", "max_delay": "3 h"}, CLEARS_S - 3 * HOUR),
    ("racetrack", {"when_blocked": "drop"}, None),
])
def test_a_zone_over_the_base_or_racetrack_delays_or_drops_sorties(covers, planning,
                                                                    delayed_from_s):
    center = BASE_ONLY["home"] if covers == "base" else WORK_ONLY["work"]
    zone = circle_document("cover", center, 10 * KM, active=["0 s", f"{CLEARS_S!r} s"])
    blue = blue_party(bases=BASE_ONLY, missions=WORK_ONLY, per_day=48, **planning)
    document = planning_document([zone], seed=2, blue=blue)
    document["places"] = {name: _place(xy) for name, xy in {**BASE_ONLY, **WORK_ONLY}.items()}
    nominal = _nominal_departures(document)
    result = run_document(document)
    plans = {p.id: p for p in result.plans}
    expected = {}
    for ident, depart in nominal.items():
        if depart >= CLEARS_S:
            expected[ident] = "as_planned"
        elif delayed_from_s is not None and depart >= delayed_from_s:
            expected[ident] = "delayed"
        else:
            expected[ident] = "dropped"
    assert result.outcomes == expected
    counts = Counter(expected.values())
    assert counts["as_planned"] > 0 and counts["delayed" if delayed_from_s is not None
                                               else "dropped"] > 0, counts
    if delayed_from_s is not None and delayed_from_s > 0:
        assert counts["dropped"] > 0, counts
    for ident, outcome in expected.items():
        if outcome == "dropped":
            assert ident not in plans
        elif outcome == "delayed":
            assert plans[ident].depart_s == CLEARS_S  # off as soon as the zone ends
        else:
            assert plans[ident].depart_s == nominal[ident]
    assert zone_incursions(result) == []


# ----------------------------------------------------------------------------- reproducibility


def _busy_document() -> dict[str, Any]:
    """Lossy, late hotline with ad-hoc calls; declared, secret and timed zones."""
    zones = [circle_document("anchor", (0.0, 10 * KM), 32 * KM),
             circle_document("secret", (-120 * KM, 20 * KM), 15 * KM, declare=False),
             {"id": "timed", "party": "red", "active": ["2 h", "14 h"],
              "area": {"polygon": [_place(p) for p in [(60 * KM, -40 * KM), (110 * KM, -30 * KM),
                                                        (100 * KM, 50 * KM), (70 * KM, 45 * KM)]]}}]
    hotline = {"first_call": "0 s", "interval": "2 h", "latency": "10 min", "loss": 0.4,
               "adhoc": {"probability": 0.5, "delay": "20 min"}}
    return planning_document(zones, seed=7, duration="2 d", hotline=hotline,
                             blue=blue_party(per_day=30, lead=["0 min", "90 min"]))


def test_the_same_scenario_and_seed_run_identically_with_the_hotline_on():
    first, second = run_document(_busy_document()), run_document(_busy_document())
    assert first.episodes == second.episodes
    assert first.hotline.messages == second.hotline.messages
    assert first.hotline.call_log == second.hotline.call_log
    assert first.hotline.received == second.hotline.received
    assert first.outcomes == second.outcomes
    assert first.known_s == second.known_s
    assert [p.id for p in first.plans] == [p.id for p in second.plans]
    for a, b in zip(first.plans, second.plans, strict=True):
        assert (a.party, a.depart_s, a.speed_mps, a.altitude_m, a.aircraft, a.deviations) == (
            b.party, b.depart_s, b.speed_mps, b.altitude_m, b.aircraft, b.deviations), a.id
        assert np.array_equal(a.route_xy, b.route_xy), a.id
    # Not vacuous: the hotline lost and carried items, called ad hoc, and the planner
    # rerouted sorties; there were incursions (into the secret zone, at least).
    lost = [m.lost for m in first.hotline.messages if m.item_type == "zone"]
    assert any(lost) and not all(lost)
    assert any(c.kind == "adhoc" for c in first.hotline.call_log)
    assert "rerouted" in first.outcomes.values()
    assert zone_incursions(first, "secret")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_deconflict_run_writes_byte_identical_folders(tmp_path, capsys):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        code = main(["run", str(EUPHRATES), "--duration", "2 d", "--out", str(folder)])
        assert code == 0, capsys.readouterr().err
    first, second = (_files(folder) for folder in folders)
    assert {"summary.json", "events.csv", "scenario.yaml"} <= first.keys()
    assert first.keys() == second.keys()
    for name, content in first.items():
        assert second[name] == content, f"{name} differs between two runs"
