"""Hypothesis strategies for tracks, encounters and zones, for property-testing rules.

Users property-test the separation rules they write with these, as our own tests do::

    from hypothesis import given
    from sim import testing as st_sim

    @given(st_sim.encounters())
    def test_my_rule(pair):
        run = st_sim.run_plans(pair, rules=[{"id": "los", "type": "min_separation",
                                             "horizontal": "5 nmi", "vertical": "1000 ft"}])
        ...

Everything is in the local frame (metres); ``scenario_document`` turns plans, zones and
rules into a scenario document that ``sim.scenario.parse_scenario`` accepts, with every
coordinate written so that it reads back to exactly the same float. Tracks may climb and
descend (``vertical=True``: an altitude per waypoint, linear in time along each leg);
``detect_plans`` gives the episodes of such plans flown exactly as drawn, and ``run_plans``
flies them through the whole product (each route entry written with its altitude).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

from sim.detect.legs import Legs
from sim.engine.motion import FlightLog
from sim.model.records import Episode
from sim.traffic.plans import FlightPlan

BOX_M = 100_000.0
FRAME_CENTER = [39.5, 35.8]  # lon, lat: over the middle Euphrates


def _m(value: float) -> str:
    return f"{float(value)!r} m"


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
               vertical: bool = False) -> tuple[FlightPlan, FlightPlan]:
    """Two flights of different parties built to pass close to each other.

    Each passes its own point near a common meeting point at a common time; headings,
    speeds and altitudes are free (parallel, head-on and overtaking cases all occur).
    With ``turn`` (or by chance) the first turns at its pass point, so the encounter spans
    a waypoint. With ``vertical`` both climb or descend through the meeting: each passes
    its point within 600 m of the other's level there, from and to levels up to 3 km away.
    """
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


def legs_of(plans: Sequence[FlightPlan], until_s: float = math.inf) -> Legs:
    """The legs the engine would fly for these plans (flight i is ``plans[i]``)."""
    log = FlightLog()
    for k, plan in enumerate(plans):
        times = plan.waypoint_times()
        log.record(k, plan, times, 0, len(times) - 1)
    return log.to_legs(until_s)


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
        area: dict[str, Any] = {"polygon": [{"x": _m(x), "y": _m(y)} for x, y in draw(polygons())]}
    else:
        area = {"circle": {"center": {"x": _m(draw(st.floats(-30_000.0, 30_000.0))),
                                      "y": _m(draw(st.floats(-30_000.0, 30_000.0)))},
                           "radius": _m(draw(st.floats(1_000.0, 40_000.0)))}}
    floor = draw(st.sampled_from([0.0, 3000.0, 6000.0]))
    ceiling = draw(st.sampled_from([None, 8000.0, 12_000.0]))
    start = draw(st.sampled_from([0.0, 1800.0, 3600.0]))
    end = start + draw(st.sampled_from([1800.0, 7200.0, 20_000.0]))
    return {"id": ident, "party": party, "area": area, "floor": _m(floor),
            "ceiling": None if ceiling is None else _m(ceiling),
            "active": [f"{start!r} s", f"{end!r} s"]}


def flight_document(plan: FlightPlan) -> dict[str, Any]:
    """A flight plan as a scenario ``flights`` entry, coordinates exact; a plan that climbs
    and descends (``route_z_m``) gives each entry its altitude: ``{at: {x, y}, altitude}``."""
    route: list[dict[str, Any]] = [{"x": _m(x), "y": _m(y)} for x, y in plan.route_xy]
    if plan.route_z_m is not None:
        route = [{"at": point, "altitude": _m(z)}
                 for point, z in zip(route, plan.route_z_m, strict=True)]
    return {"id": plan.id, "party": plan.party, "depart": f"{plan.depart_s!r} s",
            "speed": f"{plan.speed_mps!r} m/s", "altitude": _m(plan.altitude_m),
            "route": route}


def scenario_document(plans: Sequence[FlightPlan], rules: Sequence[dict[str, Any]] = (),
                      zones: Sequence[dict[str, Any]] = (), duration_s: float = 86_400.0,
                      corridor: dict[str, Any] | None = None,
                      lanes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete scenario document around the given plans, zones and rules."""
    parties = {p.party for p in plans} | {z["party"] for z in zones}
    if lanes:
        parties |= {lane["party"] for lane in lanes.values()}
    document: dict[str, Any] = {
        "name": "property", "seed": 0, "duration": f"{duration_s!r} s",
        "frame": {"center": FRAME_CENTER}, "parties": {p: None for p in sorted(parties)},
        "flights": [flight_document(p) for p in plans], "zones": list(zones),
        "rules": list(rules)}
    if corridor is not None:
        document["corridor"] = corridor
    if lanes is not None:
        document["lanes"] = lanes
    return document


def run_plans(plans: Sequence[FlightPlan], rules: Sequence[dict[str, Any]] = (),
              zones: Sequence[dict[str, Any]] = (), duration_s: float = 86_400.0,
              **extra: Any) -> Any:
    """Run plans through the whole product (scenario, engine, rules) and return the Run."""
    from sim.engine.simulation import run
    from sim.model.scenario import parse_scenario

    return run(parse_scenario(scenario_document(plans, rules, zones, duration_s, **extra)))


def detect_plans(plans: Sequence[FlightPlan], rules: Sequence[dict[str, Any]] = (),
                 zones: Sequence[dict[str, Any]] = (), duration_s: float = 86_400.0,
                 **extra: Any) -> list[Episode]:
    """The episodes of the rules for plans flown exactly as given, climbs and descents
    included, in ``events.csv`` order (the scenario, zones and hotline as ``run_plans``
    makes them; the rules then look at the plans' own 4D legs)."""
    from sim.detect.rules import World, detect

    result = run_plans([replace(p, route_z_m=None) for p in plans], rules, zones, duration_s,
                       **extra)
    by_id = {p.id: p for p in plans}
    legs = legs_of([by_id[p.id] for p in result.plans], duration_s)
    world = World(result.geography, result.flights, legs, result.hotline)
    found = [e for spec in result.scenario.rules for e in detect(spec, world)]
    return sorted(found, key=Episode.sort_key)


def vertices(plan: FlightPlan, duration_s: float = math.inf) -> list[tuple[float, float, float,
                                                                          float]]:
    """A plan as (t, x, y, z) vertices, cut at ``duration_s`` (for samplers and oracles)."""
    times, z = plan.waypoint_times(), plan.altitudes()
    out = [(float(t), float(x), float(y), float(h))
           for t, (x, y), h in zip(times, plan.route_xy, z, strict=True) if t <= duration_s]
    if times[-1] > duration_s and times[0] < duration_s:
        k = int(np.searchsorted(times, duration_s)) - 1
        f = (duration_s - times[k]) / (times[k + 1] - times[k])
        x, y = plan.route_xy[k] + f * (plan.route_xy[k + 1] - plan.route_xy[k])
        out.append((duration_s, float(x), float(y), float(z[k] + f * (z[k + 1] - z[k]))))
    return out
