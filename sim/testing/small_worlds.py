"""Whole small worlds: a corridor with lanes, and scenario documents of a few flights, zones
and lanes drawn together, and the ``World`` a rule looks at, built from such a document.

``worlds()`` draws a scenario *document* (a dict, every point written in the frame) so that a
property check can move, turn or relabel it and run the product again; ``world_of`` flies a
document with no rule counted and returns the ``sim.rules.World`` that a rule's detect
function takes, so that a rule can be called directly, installed or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

from sim.detect.world import World
from sim.testing.documents import distance_text, scenario_document
from sim.testing.strategies import ENCOUNTER_KINDS, encounters, tracks, zones
from sim.traffic.plans import FlightPlan

#: The parties ``worlds`` draws from (two or three of them, in this order).
PARTIES = ("blue", "red", "green")
ODD_HEADING_RAD = 0.3141  # added to a corridor's drawn heading (``lanes``)


@st.composite
def lanes(draw: st.DrawFn, parties: tuple[str, str] = ("blue", "red"),
          bent: bool | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A corridor across the box and a lane of each of two parties in it, as the
    ``(corridor, lanes)`` documents that ``scenario_document`` takes.

    The centerline runs 180 km through the frame's middle at any heading (but never a round
    one, so that the axes are never along it), straight
    (two points) or, with ``bent`` (or by chance), bent at one to three inner points up to
    15 km off the straight line; half width 10 to 40 km. The lanes (ids ``L1`` of
    ``parties[0]``, ``L2`` of ``parties[1]``) lie on either side of the centerline, 4 km to
    1.6 half widths apart, each flown downstream or upstream.
    """
    bent = draw(st.booleans()) if bent is None else bent
    n = draw(st.integers(3, 5)) if bent else 2
    along = np.linspace(-90_000.0, 90_000.0, n)
    across = np.array([0.0] + [draw(st.floats(-15_000.0, 15_000.0)) for _ in range(n - 2)]
                      + [0.0]) if bent else np.zeros(n)
    # Never a round heading, even shrunk: a track drawn along an axis (as shrinking makes
    # them) would otherwise run exactly at a lane's tolerance, on the knife edge of the rule.
    heading = draw(st.floats(0.0, 2 * math.pi)) + ODD_HEADING_RAD
    c, s = math.cos(heading), math.sin(heading)
    centerline = [{"x": distance_text(a * c - b * s), "y": distance_text(a * s + b * c)}
                  for a, b in zip(along, across, strict=True)]
    half_width = draw(st.floats(10_000.0, 40_000.0))
    spacing = draw(st.floats(4_000.0, 1.6 * half_width))
    side = draw(st.sampled_from([1.0, -1.0]))
    directions = ("downstream", "upstream")
    corridor = {"centerline": centerline, "half_width": distance_text(half_width)}
    lane_documents = {
        f"L{k + 1}": {"party": party, "offset": distance_text(sign * side * spacing / 2.0),
                      "direction": draw(st.sampled_from(directions))}
        for k, (party, sign) in enumerate(zip(parties, (1.0, -1.0), strict=True))}
    return corridor, lane_documents


@st.composite
def worlds(draw: st.DrawFn, parties: Sequence[str] = PARTIES, min_flights: int = 2,
           max_flights: int = 8, with_zones: bool | None = None,
           with_lanes: bool | None = None, vertical: bool | None = None,
           max_miss_m: float = 10_000.0,
           kinds: Sequence[str | None] = (None, *ENCOUNTER_KINDS)) -> dict[str, Any]:
    """A whole small world as a scenario document (a dict), every point in the frame.

    ``min_flights`` to ``max_flights`` flights (ids a party's initial and a number, such as
    ``B1``) of two or three of ``parties`` (the first ones): an encounter first (of one of
    ``kinds``: those of ``encounters``, None for its free default; passing within
    ``max_miss_m``), then encounters and free tracks, climbing and descending with
    ``vertical`` (or by chance).
    With ``with_zones`` (or by chance) one or two zones (``Z1``, ``Z2``) of those parties,
    with ``with_lanes`` (or by chance) a corridor and two parties' lanes (``lanes``). The
    duration covers every flight to its last point. No rules: the checks add the rule.
    """
    if len(parties) < 2:
        raise ValueError("a world needs at least two parties")
    names = tuple(parties[:draw(st.integers(2, min(3, len(parties))))])

    def vertical_now() -> bool:
        return draw(st.booleans()) if vertical is None else vertical

    wanted = draw(st.integers(max(2, min_flights), max(2, max_flights)))
    plans: list[FlightPlan] = []
    while len(plans) < wanted:
        if not plans or (len(plans) + 2 <= wanted and draw(st.booleans())):
            a, b = draw(st.permutations(names))[:2]
            kind = draw(st.sampled_from(tuple(kinds)))
            plans += draw(encounters(parties=(a, b), max_miss_m=max_miss_m, kind=kind,
                                     vertical=vertical_now()))
        else:
            plans.append(draw(tracks(party=draw(st.sampled_from(names)),
                                     vertical=vertical_now())))
    plans = [replace(p, id=f"{p.party[0].upper()}{k + 1}") for k, p in enumerate(plans)]
    zone_documents = []
    if draw(st.booleans()) if with_zones is None else with_zones:
        zone_documents = [draw(zones(party=draw(st.sampled_from(names)), ident=f"Z{k + 1}"))
                          for k in range(draw(st.integers(1, 2)))]
    corridor = lane_documents = None
    if draw(st.booleans()) if with_lanes is None else with_lanes:
        a, b = draw(st.permutations(names))[:2]
        corridor, lane_documents = draw(lanes(parties=(a, b)))
    last_s = max(float(p.waypoint_times()[-1]) for p in plans)
    duration_s = 60.0 * math.ceil(last_s / 60.0) + 60.0
    document = scenario_document(plans, zones=zone_documents, duration_s=duration_s,
                                 corridor=corridor, lanes=lane_documents)
    # Every party drawn has a place, even one whose flights the draw left out.
    document["parties"] = {p: None for p in sorted(set(document["parties"]) | set(names))}
    return document


def world_of(document: Mapping[str, Any]) -> World:
    """The ``World`` a rule looks at for a scenario document: the document parsed
    (``sim.scenario.parse_scenario``) and flown by the engine with no rule counted (its
    ``rules`` are set aside), then its geography, flights, legs and hotline.

    Raises ``sim.scenario.ScenarioError`` when the document does not validate.
    """
    from sim.engine.simulation import run
    from sim.model.scenario import parse_scenario

    scenario = parse_scenario({**document, "rules": []})
    result = run(scenario)
    return World(result.geography, result.flights, result.legs, result.hotline,
                 limits=scenario.limits)
