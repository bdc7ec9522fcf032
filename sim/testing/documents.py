"""Scenario documents in the frame, and the product run on them: the kit's plumbing.

``scenario_document`` turns flight plans, zones, rules, a corridor and lanes into a scenario
document that ``sim.scenario.parse_scenario`` accepts, every coordinate written so that it
reads back to exactly the same float (``distance_text``). ``run_plans`` flies plans through
the whole product, ``detect_plans`` detects on the plans' own 4D legs, ``legs_of`` builds
those legs directly and ``vertices`` gives a plan's (t, x, y, z) corners for samplers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from sim.detect.legs import Legs
from sim.engine.motion import FlightLog
from sim.model.records import Episode
from sim.traffic.plans import FlightPlan

FRAME_CENTER = [39.5, 35.8]  # lon, lat: over the middle Euphrates


def distance_text(value_m: float) -> str:
    """A distance in metres as scenario text (``"1000.0 m"``) that reads back to exactly the
    same float."""
    return f"{float(value_m)!r} m"


def duration_text(value_s: float) -> str:
    """A duration in seconds as scenario text (``"60.0 s"``) that reads back exactly."""
    return f"{float(value_s)!r} s"


def legs_of(plans: Sequence[FlightPlan], until_s: float = math.inf) -> Legs:
    """The legs the engine would fly for these plans (flight i is ``plans[i]``)."""
    log = FlightLog()
    for k, plan in enumerate(plans):
        times = plan.waypoint_times()
        log.record(k, plan, times, 0, len(times) - 1)
    return log.to_legs(until_s)


def flight_document(plan: FlightPlan) -> dict[str, Any]:
    """A flight plan as a scenario ``flights`` entry, coordinates exact; a plan that climbs
    and descends (``route_z_m``) gives each entry its altitude: ``{at: {x, y}, altitude}``."""
    route: list[dict[str, Any]] = [{"x": distance_text(x), "y": distance_text(y)}
                                   for x, y in plan.route_xy]
    if plan.route_z_m is not None:
        route = [{"at": point, "altitude": distance_text(z)}
                 for point, z in zip(route, plan.route_z_m, strict=True)]
    return {"id": plan.id, "party": plan.party, "depart": duration_text(plan.depart_s),
            "speed": f"{plan.speed_mps!r} m/s", "altitude": distance_text(plan.altitude_m),
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
        "name": "property", "seed": 0, "duration": duration_text(duration_s),
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
