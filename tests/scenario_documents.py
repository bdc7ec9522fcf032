"""Scenario documents for the oracle property tests: what a user writes, in drawn units.

The geometry is drawn by ``sim.testing``'s strategies (encounters, tracks, polygons); this
module writes it out as a scenario document the way a user's file would give it: every
quantity in a unit drawn from the format's table (``"4.2 nmi"``, ``"FL250"``, ``"450 kt"``,
``"95 min"``), every point as ``{x, y}`` in the frame or as ``[lon, lat]``, the run's
duration sometimes shorter than the flights, defaults sometimes left out. The product runs
on the document (``run_document``); the oracle (``tests/oracle_scenario.py``) reads the very
same document by its own conventions. Nothing the product derives reaches the oracle.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from sim import testing as sst
from sim.traffic.plans import FlightPlan
from tests import oracle_scenario as osc

# Frame centres over the region (lon, lat): the projection is not always about one point.
CENTRES = ([39.5, 35.8], [38.1, 36.4], [41.0, 34.4])
# Units a quantity of each kind is written in (the README's table, as the oracle has it).
UNITS = {kind: tuple(table) for kind, table in osc.UNIT_FACTORS.items()}


def run_document(document: Mapping[str, Any]) -> Any:
    """The product on a scenario document: parsed and run, the whole Run."""
    from sim.engine.simulation import run
    from sim.model.scenario import parse_scenario

    return run(parse_scenario(copy.deepcopy(dict(document))))


@st.composite
def quantities(draw: st.DrawFn, value_si: float, kind: str) -> str:
    """A quantity's text in a drawn unit; an altitude sometimes as the nearest flight level
    (the document is the truth: both sides read the level written)."""
    if kind == "altitude" and 0.0 <= value_si < 99_950 * 0.3048 and draw(st.integers(0, 3)) == 0:
        return f"FL{round(value_si / 30.48):03d}"
    unit = draw(st.sampled_from(UNITS[kind]))
    return f"{value_si / osc.UNIT_FACTORS[kind][unit]!r} {unit}"


@st.composite
def points(draw: st.DrawFn, frame: osc.Frame, x_m: float, y_m: float) -> Any:
    """A point of the frame as ``{x, y}`` (each coordinate in a drawn unit) or ``[lon, lat]``."""
    if draw(st.booleans()):
        return list(frame.lonlat(x_m, y_m))
    return {"x": draw(quantities(x_m, "distance")), "y": draw(quantities(y_m, "distance"))}


def _read(text: str, kind: str) -> float:
    return osc.quantity(text, kind)


@st.composite
def flight_entries(draw: st.DrawFn, plan: FlightPlan, frame: osc.Frame) -> dict[str, Any]:
    """A plan as a ``flights`` entry; a climbing plan gives each route entry its altitude
    and sometimes a climb and a descent rate fast enough for every leg (it then levels off
    before the leg's end)."""
    route = [draw(points(frame, float(x), float(y))) for x, y in plan.route_xy]
    entry: dict[str, Any] = {"id": plan.id, "party": plan.party,
                             "depart": draw(quantities(plan.depart_s, "duration")),
                             "speed": draw(quantities(plan.speed_mps, "speed"))}
    if plan.route_z_m is None:
        entry["altitude"] = draw(quantities(plan.altitude_m, "altitude"))
        entry["route"] = route
        return entry
    heights = [draw(quantities(float(z), "altitude")) for z in plan.route_z_m]
    entry["route"] = [{"at": p, "altitude": h} for p, h in zip(route, heights, strict=True)]
    # The rate each sense needs, from the values as written: the slowest that makes every
    # leg's level change within its leg (a leg of no length with a change: none can).
    speed = _read(entry["speed"], "speed")
    xy = [frame.xy(p) for p in route]
    z = [_read(h, "altitude") for h in heights]
    needed = {1: 0.0, -1: 0.0}
    for k in range(1, len(z)):
        dz = z[k] - z[k - 1]
        if dz != 0.0:
            leg_s = math.hypot(xy[k][0] - xy[k - 1][0], xy[k][1] - xy[k - 1][1]) / speed
            sense = 1 if dz > 0 else -1
            needed[sense] = max(needed[sense], math.inf if leg_s == 0.0 else abs(dz) / leg_s)
    for sense, key in ((1, "climb_rate"), (-1, "descent_rate")):
        # (a near-vertical leg needs a rate beyond any aircraft's, which the product refuses)
        if needed[sense] <= 100.0 and draw(st.integers(0, 3)):
            rate = max(needed[sense], 0.5) * draw(st.floats(1.01, 4.0) | st.floats(1.5, 3.0))
            entry[key] = draw(quantities(rate, "speed"))
    return entry


@st.composite
def documents(draw: st.DrawFn, plans: Sequence[FlightPlan], rules: Sequence[dict[str, Any]],
              zones: Sequence[dict[str, Any]] = (), corridor: dict[str, Any] | None = None,
              lanes: dict[str, Any] | None = None, frame: osc.Frame | None = None,
              centre: Sequence[float] | None = None, cut: bool = True) -> dict[str, Any]:
    """A whole scenario document around plans, rules, zones, a corridor and lanes (already
    written, in ``frame``, centred on ``centre``); the run a day long or (``cut``,
    sometimes) ending while the flights are still flying."""
    centre = list(centre if centre is not None else draw(st.sampled_from(CENTRES)))
    frame = frame or osc.Frame(centre)
    duration_s = 86_400.0
    if cut and draw(st.booleans()):
        # An end while they fly: somewhere from the first departure to the last arrival.
        first = min(p.depart_s for p in plans)
        last = max(p.depart_s + float(np.sum(np.hypot(*np.diff(p.route_xy, axis=0).T)))
                   / p.speed_mps for p in plans)
        duration_s = max(1.0, first + draw(st.floats(0.3, 1.0)) * (last - first))
    parties = {p.party for p in plans} | {z["party"] for z in zones}
    parties |= {lane["party"] for lane in (lanes or {}).values()}
    document: dict[str, Any] = {
        "name": "oracle", "seed": 0, "duration": draw(quantities(duration_s, "duration")),
        "frame": {"center": centre}, "parties": {p: None for p in sorted(parties)},
        "flights": [draw(flight_entries(p, frame)) for p in plans], "zones": list(zones),
        "rules": list(rules)}
    if corridor is not None:
        document["corridor"] = corridor
        document["lanes"] = lanes or {}
    return document


@st.composite
def separation_rules(draw: st.DrawFn) -> dict[str, Any]:
    """A separation rule: loss of separation (5 nmi, 1000 ft), horizontal only (10 km), a
    near mid-air collision (500 ft, 100 ft) or drawn limits, each in drawn units."""
    horizontal, vertical = draw(st.sampled_from([
        (9260.0, 304.8), (10_000.0, None), (152.4, 30.48)]) | st.tuples(
            st.floats(500.0, 20_000.0), st.none() | st.floats(100.0, 1_000.0)))
    rule = {"id": "sep", "type": "min_separation",
            "horizontal": draw(quantities(horizontal, "distance"))}
    if vertical is not None:
        rule["vertical"] = draw(quantities(vertical, "distance"))
    return rule


@st.composite
def encounter_documents(draw: st.DrawFn, vertical: bool = False) -> dict[str, Any]:
    """Two flights built to meet (``sim.testing.encounters``), climbing and descending with
    ``vertical``, and one separation rule."""
    pair = draw(sst.encounters(vertical=vertical, max_miss_m=12_000.0))
    return draw(documents(pair, [draw(separation_rules())]))


@st.composite
def zone_entries(draw: st.DrawFn, frame: osc.Frame, party: str = "blue", ident: str = "Z1",
                 near: tuple[float, float] | None = None, around_s: float | None = None,
                 levels_m: Sequence[float] = ()) -> dict[str, Any]:
    """A zone: a polygon or a circle (round ``near`` when given), its floor, ceiling and
    active window each written or left to its default; the window, when given, sometimes
    begins or ends within minutes of ``around_s`` (when a track passes ``near``), the floor
    or ceiling sometimes between two of ``levels_m`` (a track's, so that it climbs or
    descends through it)."""
    ring = None
    if draw(st.booleans()):
        ring = draw(sst.polygons(center=near))
    if ring is not None:
        area: dict[str, Any] = {"polygon": [draw(points(frame, float(x), float(y)))
                                            for x, y in ring]}
    else:
        x, y = near if near is not None else (draw(st.floats(-30_000.0, 30_000.0)),
                                              draw(st.floats(-30_000.0, 30_000.0)))
        centre = draw(points(frame, x, y))
        area = {"circle": {"center": centre,
                           "radius": draw(quantities(draw(st.floats(1_000.0, 40_000.0)),
                                                     "distance"))}}
    zone: dict[str, Any] = {"id": ident, "party": party, "area": area}
    floor = draw(st.sampled_from([None, 0.0, 3000.0, 6000.0]))
    ceiling = draw(st.sampled_from([None, 8000.0, 12_000.0]))
    changes = [(a, b) for a, b in zip(levels_m, levels_m[1:], strict=False) if a != b]
    if changes and draw(st.booleans()):
        a, b = draw(st.sampled_from(changes))
        level = a + draw(st.floats(0.1, 0.9)) * (b - a)
        if level < 1000.0:
            pass  # (too near the ground for a band under it)
        elif draw(st.booleans()):
            floor, ceiling = level, max(ceiling or 0.0, level + 1000.0)
        else:
            floor, ceiling = min(floor or 0.0, level - 1000.0), level
    if floor is not None:
        zone["floor"] = draw(quantities(floor, "altitude"))
    if ceiling is not None:
        zone["ceiling"] = draw(quantities(ceiling, "altitude"))
    if around_s is not None and draw(st.integers(0, 3)):
        # A window that closes (or opens) while the track is (likely) inside the zone.
        edge_s = max(0.0, around_s + draw(st.floats(-200.0, 200.0)))
        if draw(st.integers(0, 2)):
            start, end = max(0.0, edge_s - draw(st.floats(60.0, 3000.0))), max(edge_s, 60.0)
        else:
            start, end = edge_s, edge_s + draw(st.floats(600.0, 9000.0))
        zone["active"] = [draw(quantities(start, "duration")), draw(quantities(end, "duration"))]
    elif draw(st.integers(0, 3)):
        start = draw(st.sampled_from([0.0, 1800.0, 3600.0]) | st.floats(0.0, 5000.0))
        end = start + draw(st.sampled_from([1800.0, 7200.0, 20_000.0]) | st.floats(60.0, 9000.0))
        zone["active"] = [draw(quantities(start, "duration")), draw(quantities(end, "duration"))]
    return zone


@st.composite
def zone_documents(draw: st.DrawFn, vertical: bool = False) -> dict[str, Any]:
    """A red track (level, or climbing and descending with ``vertical``) and a blue zone."""
    centre = draw(st.sampled_from(CENTRES))
    frame = osc.Frame(centre)
    track = draw(sst.tracks(party="red", ident="R1", vertical=vertical))
    # Often round a point the track flies through (a waypoint or a leg's middle).
    k = draw(st.integers(0, len(track.route_xy) - 1))
    through = (track.route_xy[k] + track.route_xy[min(k + 1, len(track.route_xy) - 1)]) / 2
    near = tuple(map(float, through)) if draw(st.integers(0, 3)) else None
    # When it passes there, at its constant ground speed (the strategy's guess; the
    # oracle flies the document itself).
    legs_m = np.hypot(*np.diff(track.route_xy, axis=0).T)
    flown_m = float(np.sum(legs_m[:k]) + (legs_m[k] / 2 if k < len(legs_m) else 0.0))
    zone = draw(zone_entries(frame, near=near, around_s=None if near is None else
                             track.depart_s + flown_m / track.speed_mps,
                             levels_m=[float(z) for z in track.altitudes()]))
    return draw(documents([track], [{"id": "zones", "type": "zone_incursion"}], [zone],
                          frame=frame, centre=centre))


@st.composite
def corner_documents(draw: st.DrawFn) -> tuple[dict[str, Any], float]:
    """A straight track through a corner of a blue polygon, and when it is there."""
    centre = draw(st.sampled_from(CENTRES))
    frame = osc.Frame(centre)
    ring = draw(sst.polygons())
    vertex = ring[draw(st.integers(0, 8)) % len(ring)]
    heading = draw(st.floats(0, 2 * math.pi))
    before, after = draw(st.floats(1_000.0, 30_000.0)), draw(st.floats(1_000.0, 30_000.0))
    u = np.array([math.cos(heading), math.sin(heading)])
    track = FlightPlan("R1", "red", 0.0, 200.0, 5000.0, np.array([vertex - before * u,
                                                                 vertex + after * u]))
    zone = {"id": "Z1", "party": "blue",
            "area": {"polygon": [draw(points(frame, float(x), float(y))) for x, y in ring]}}
    document = draw(documents([track], [{"id": "z", "type": "zone_incursion"}], [zone],
                              frame=frame, centre=centre, cut=False))
    return document, before / 200.0


@st.composite
def lane_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A wiggly centerline with a blue lane and a red one either side, one aircraft of each
    party, and the lane rule with its tolerance written or left to its default."""
    centre = draw(st.sampled_from(CENTRES))
    frame = osc.Frame(centre)
    n = draw(st.integers(2, 6))
    xs = np.linspace(-80_000.0, 80_000.0, n)
    ys = [draw(st.floats(-15_000.0, 15_000.0)) for _ in range(n)]
    centerline = [draw(points(frame, float(x), y)) for x, y in zip(xs, ys, strict=True)]
    spacing = draw(st.floats(4_000.0, 40_000.0))
    lanes = {"north": {"party": "blue", "offset": draw(quantities(spacing / 2, "distance")),
                       "direction": "downstream"},
             "south": {"party": "red", "offset": draw(quantities(-spacing / 2, "distance")),
                       "direction": "upstream"}}
    corridor = {"centerline": centerline,
                "half_width": draw(quantities(draw(st.floats(10e3, 60e3)), "distance"))}

    def along(party: str, ident: str, side: float) -> FlightPlan:
        """A flight that follows its lane (one way or the other), weaving to either side of
        it by up to 0.75 of the spacing: in and out of the tolerance, at the bends too."""
        weave = [draw(st.floats(-0.75, 0.75)) * spacing for _ in range(n)]
        route = np.array([(x, y + side * spacing / 2 + w)
                          for x, y, w in zip(xs, ys, weave, strict=True)])
        return FlightPlan(ident, party, draw(st.floats(0.0, 1800.0)), draw(sst.speeds_mps),
                          draw(sst.altitudes_m), route[::-1] if draw(st.booleans()) else route)

    plans = [draw(st.sampled_from(["free", "along", "along"])) for _ in range(2)]
    plans = [draw(sst.tracks(party="blue", ident="B1")) if plans[0] == "free" else
             along("blue", "B1", 1.0),
             draw(sst.tracks(party="red", ident="R1")) if plans[1] == "free" else
             along("red", "R1", -1.0)]
    rule: dict[str, Any] = {"id": "lanes", "type": "lane_discipline"}
    tolerance = draw(st.one_of(st.none(), st.floats(500.0, 20_000.0)))
    if tolerance is not None:
        rule["tolerance"] = draw(quantities(tolerance, "distance"))
    return draw(documents(plans, [rule], corridor=corridor, lanes=lanes, frame=frame,
                          centre=centre))
