"""Hypothesis strategies for the pieces of a world: routes, 4D tracks, encounters, zones.

Everything is in the local frame (metres). ``tracks`` draws a free flight, ``encounters`` two
flights of different parties built to meet (``kind``: head-on, crossing, overtaking or a
level crossing, where one climbs or descends through the other's level as they meet),
``zones`` a zone document and ``leg_sets`` the legs of a few flights, for testing detection
functions on ``sim.detect.legs.Legs`` directly. Whole worlds are in ``sim.testing.small_worlds``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from sim.detect.legs import Legs
from sim.testing.documents import distance_text, legs_of
from sim.traffic.plans import FlightPlan

BOX_M = 100_000.0
#: The kinds of encounter ``encounters(kind=...)`` draws.
ENCOUNTER_KINDS = ("head_on", "crossing", "overtaking", "level_crossing")

coordinates = st.floats(-BOX_M, BOX_M, allow_nan=False, allow_infinity=False)
speeds_mps = st.floats(50.0, 400.0)
#: Altitudes drawn from a few flight levels (so that equal altitudes are common) or freely.
altitudes_m = st.one_of(st.sampled_from([3000.0, 7620.0, 7620.0 + 304.8, 9000.0]),
                        st.floats(0.0, 15_000.0))


@st.composite
def routes(draw: st.DrawFn, min_points: int = 2, max_points: int = 5,
           allow_repeats: bool = True) -> np.ndarray:
    """A route of waypoints in the box; sometimes with a repeated point (a zero-length leg)."""
    n = draw(st.integers(min_points, max_points))
    points = [(draw(coordinates), draw(coordinates)) for _ in range(n)]
    if allow_repeats and n >= 2 and draw(st.booleans()):
        k = draw(st.integers(0, n - 1))
        points.insert(k, points[k])
    route = np.array(points, float)
    # A route must go somewhere: one that spans no time has no episodes to test.
    if np.sum(np.hypot(*np.diff(route, axis=0).T)) < 100.0:
        route[-1] = route[0] + np.array([1000.0, 0.0])
    return route


@st.composite
def profiles(draw: st.DrawFn, points: int, around_m: float | None = None,
             spread_m: float = 3000.0) -> np.ndarray:
    """An altitude per waypoint: level stretches, climbs and descents (m, at least 0).

    Around ``around_m`` (within ``spread_m``) when given, else anywhere in ``altitudes_m``;
    consecutive waypoints often keep their level, so that level legs follow climbs.
    """
    base = draw(altitudes_m) if around_m is None else around_m
    z = [max(0.0, base + draw(st.floats(-spread_m, spread_m)))]
    for _ in range(points - 1):
        z.append(z[-1] if draw(st.booleans()) else max(0.0, base + draw(
            st.floats(-spread_m, spread_m))))
    return np.array(z, float)


@st.composite
def tracks(draw: st.DrawFn, party: str = "blue", ident: str | None = None,
           max_depart_s: float = 1800.0, vertical: bool = False) -> FlightPlan:
    """A flight plan: a random route at constant speed, at one altitude or (``vertical``)
    climbing and descending between waypoints."""
    route = draw(routes())
    altitude = draw(altitudes_m)
    profile = draw(profiles(len(route), altitude)) if vertical else None
    return FlightPlan(ident or f"T{draw(st.integers(0, 10**6))}", party,
                      draw(st.floats(0.0, max_depart_s)), draw(speeds_mps), altitude, route,
                      route_z_m=profile)


@st.composite
def encounters(draw: st.DrawFn, parties: tuple[str, str] = ("blue", "red"),
               max_miss_m: float = 20_000.0, turn: bool | None = None,
               vertical: bool = False, kind: str | None = None
               ) -> tuple[FlightPlan, FlightPlan]:
    """Two flights of different parties built to pass close to each other.

    Each passes its own point near a common meeting point at a common time; headings,
    speeds and altitudes are free (parallel, head-on and overtaking cases all occur).
    With ``turn`` (or by chance) the first turns at its pass point, so the encounter spans
    a waypoint. With ``vertical`` both climb or descend through the meeting: each passes
    its point within 600 m of the other's level there, from and to levels up to 3 km away.

    ``kind`` (one of ``ENCOUNTER_KINDS``) draws one geometry on purpose instead: a
    ``head_on`` pass (headings opposite within 10 degrees), a ``crossing`` (30 to 150
    degrees apart), an ``overtaking`` (the same heading within 10 degrees, the second at
    least 20 % faster, catching up at the meeting) or a ``level_crossing`` (the first level,
    the second climbing or descending through its level, 300 m to 3 km each side, as they
    meet); ``max_miss_m`` bounds the second's pass point's distance from the first's.
    """
    if kind is not None:
        return draw(_encounter_of_kind(kind, parties, max_miss_m, turn, vertical))
    meet = np.array([draw(st.floats(-20_000.0, 20_000.0)), draw(st.floats(-20_000.0, 20_000.0))])
    at_s = 3600.0
    plans: list[FlightPlan] = []
    for k, party in enumerate(parties):
        offset = np.zeros(2) if k == 0 else np.array(
            [draw(st.floats(-max_miss_m, max_miss_m)), draw(st.floats(-max_miss_m, max_miss_m))])
        point = meet + offset
        speed = draw(speeds_mps)
        heading_in = draw(st.floats(0.0, 2 * math.pi))
        bends = draw(st.booleans()) if turn is None else turn and k == 0
        heading_out = draw(st.floats(0.0, 2 * math.pi)) if bends else heading_in
        before = draw(st.floats(1_000.0, 60_000.0))
        after = draw(st.floats(1_000.0, 60_000.0))
        start = point - before * np.array([math.cos(heading_in), math.sin(heading_in)])
        end = point + after * np.array([math.cos(heading_out), math.sin(heading_out)])
        route = np.array([start, point, end]) if bends or vertical else np.array([start, end])
        depart = at_s - before / speed
        altitude = draw(altitudes_m) if k == 0 or not vertical else float(
            plans[0].altitudes()[1] + draw(st.floats(-600.0, 600.0)))
        profile = None
        if vertical:
            profile = np.array([max(0.0, altitude + draw(st.floats(-3000.0, 3000.0))),
                                altitude, max(0.0, altitude + draw(st.floats(-3000.0, 3000.0)))])
        plans.append(FlightPlan(f"{party[0].upper()}{k + 1}", party, depart, speed,
                                altitude, route, route_z_m=profile))
    return plans[0], plans[1]


_TEN_DEGREES = math.radians(10.0)


@st.composite
def _encounter_of_kind(draw: st.DrawFn, kind: str, parties: tuple[str, str], max_miss_m: float,
                       turn: bool | None, vertical: bool) -> tuple[FlightPlan, FlightPlan]:
    """The encounter ``kind`` (``encounters``): both at their pass points at 3600 s."""
    if kind not in ENCOUNTER_KINDS:
        raise ValueError(f"{kind!r} is not a kind of encounter; use one of "
                         f"{', '.join(ENCOUNTER_KINDS)}")
    meet = np.array([draw(st.floats(-20_000.0, 20_000.0)), draw(st.floats(-20_000.0, 20_000.0))])
    miss, bearing = draw(st.floats(0.0, max_miss_m)), draw(st.floats(0.0, 2 * math.pi))
    points = (meet, meet + miss * np.array([math.cos(bearing), math.sin(bearing)]))
    first = draw(st.floats(0.0, 2 * math.pi))
    if kind == "head_on":
        second = first + math.pi + draw(st.floats(-_TEN_DEGREES, _TEN_DEGREES))
    elif kind == "crossing":
        second = first + draw(st.sampled_from([1.0, -1.0])) * draw(
            st.floats(math.pi / 6, 5 * math.pi / 6))
    elif kind == "overtaking":
        second = first + draw(st.floats(-_TEN_DEGREES, _TEN_DEGREES))
    else:
        second = draw(st.floats(0.0, 2 * math.pi))
    slow = draw(st.floats(50.0, 250.0))
    speeds = (slow, slow * draw(st.floats(1.2, 1.6))) if kind == "overtaking" else (
        slow, draw(speeds_mps))
    level = draw(st.floats(3_500.0, 12_000.0)) if kind == "level_crossing" else draw(altitudes_m)
    profiles_m: list[np.ndarray | None] = [None, None]
    if kind == "level_crossing":
        sense = draw(st.sampled_from([1.0, -1.0]))  # climbing through the level, or descending
        profiles_m[1] = np.array([level - sense * draw(st.floats(300.0, 3_000.0)),
                                  level + draw(st.floats(-100.0, 100.0)),
                                  level + sense * draw(st.floats(300.0, 3_000.0))])
    elif vertical:
        for k in range(2):
            at = level if k == 0 else max(0.0, level + draw(st.floats(-600.0, 600.0)))
            profiles_m[k] = np.array([max(0.0, at + draw(st.floats(-3000.0, 3000.0))), at,
                                      max(0.0, at + draw(st.floats(-3000.0, 3000.0)))])
    other_level = level if kind == "level_crossing" else max(0.0, level + draw(st.one_of(
        st.just(0.0), st.floats(-600.0, 600.0))))
    plans = []
    for k, (party, point, heading, speed) in enumerate(zip(parties, points, (first, second),
                                                           speeds, strict=True)):
        bends = k == 0 and (draw(st.booleans()) if turn is None else turn)
        heading_out = heading + draw(st.floats(-math.pi / 2, math.pi / 2)) if bends else heading
        before, after = draw(st.floats(1_000.0, 60_000.0)), draw(st.floats(1_000.0, 60_000.0))
        start = point - before * np.array([math.cos(heading), math.sin(heading)])
        end = point + after * np.array([math.cos(heading_out), math.sin(heading_out)])
        profile = profiles_m[k]
        route = np.array([start, point, end]) if bends or profile is not None else np.array(
            [start, end])
        altitude = level if k == 0 else other_level
        if profile is not None:
            altitude = float(profile[1])
        plans.append(FlightPlan(f"{party[0].upper()}{k + 1}", party, 3600.0 - before / speed,
                                speed, altitude, route, route_z_m=profile))
    return plans[0], plans[1]


@st.composite
def leg_sets(draw: st.DrawFn, max_flights: int = 8, parties: tuple[str, ...] = ("blue", "red")
             ) -> tuple[Legs, list[str]]:
    """The legs of a few random tracks and encounters (flight i is party ``[i]``), for
    testing detection functions directly on ``sim.detect.legs.Legs``."""
    plans: list[FlightPlan] = []
    wanted = draw(st.integers(2, max_flights))
    while len(plans) < wanted:
        if draw(st.booleans()):
            plans += draw(encounters(parties=(parties[0], parties[-1])))
        else:
            plans.append(draw(tracks(party=draw(st.sampled_from(parties)))))
    return legs_of(plans), [p.party for p in plans]


@st.composite
def polygons(draw: st.DrawFn, center: tuple[float, float] | None = None,
             min_radius_m: float = 2_000.0, max_radius_m: float = 40_000.0) -> np.ndarray:
    """A simple polygon (star-shaped around its centre), as an (n, 2) array, not closed."""
    cx, cy = center if center is not None else (draw(st.floats(-30_000.0, 30_000.0)),
                                                draw(st.floats(-30_000.0, 30_000.0)))
    n = draw(st.integers(3, 9))
    # Evenly spread angles, each jittered by less than half a step: every angular gap stays
    # below pi, which keeps a star-shaped ring simple.
    step = 2 * math.pi / n
    turn = draw(st.floats(0.0, 2 * math.pi))
    angles = [turn + k * step + draw(st.floats(-0.45, 0.45)) * step for k in range(n)]
    radii = [draw(st.floats(min_radius_m, max_radius_m)) for _ in range(n)]
    ring = np.array([[cx + r * math.cos(a), cy + r * math.sin(a)] for a, r in
                     zip(angles, radii, strict=True)])
    return ring


@st.composite
def zones(draw: st.DrawFn, party: str = "blue", ident: str = "Z1") -> dict[str, Any]:
    """A zone document (polygon or circle, floor, ceiling, active window) in the frame."""
    if draw(st.booleans()):
        area: dict[str, Any] = {"polygon": [{"x": distance_text(x), "y": distance_text(y)}
                                            for x, y in draw(polygons())]}
    else:
        area = {"circle": {"center": {"x": distance_text(draw(st.floats(-30_000.0, 30_000.0))),
                                      "y": distance_text(draw(st.floats(-30_000.0, 30_000.0)))},
                           "radius": distance_text(draw(st.floats(1_000.0, 40_000.0)))}}
    floor = draw(st.sampled_from([0.0, 3000.0, 6000.0]))
    ceiling = draw(st.sampled_from([None, 8000.0, 12_000.0]))
    start = draw(st.sampled_from([0.0, 1800.0, 3600.0]))
    end = start + draw(st.sampled_from([1800.0, 7200.0, 20_000.0]))
    return {"id": ident, "party": party, "area": area, "floor": distance_text(floor),
            "ceiling": None if ceiling is None else distance_text(ceiling),
            "active": [f"{start!r} s", f"{end!r} s"]}


