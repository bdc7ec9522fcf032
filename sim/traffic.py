"""Traffic: the flights a run will fly, as plans. Pure: ``(scenario, geography, rng) -> plans``.

Explicit flights are flown exactly as written. Generated sorties (per-party sortie
settings) are added here too, so every later stage sees one list of plans.
"""

from __future__ import annotations

import numpy as np

from sim.geo import Geography
from sim.motion import FlightPlan
from sim.scenario import Scenario


def explicit_flights(scenario: Scenario, geography: Geography) -> list[FlightPlan]:
    """The scenario's written flights as plans in the frame."""
    return [FlightPlan(f.id, f.party, f.depart_s, f.speed_mps, f.altitude_m,
                       geography.routes[f.id]) for f in scenario.flights]


def plan_traffic(scenario: Scenario, geography: Geography, rng: np.random.Generator
                 ) -> list[FlightPlan]:
    """Every flight of the run, ordered by id (the order of flight indices downstream)."""
    plans = explicit_flights(scenario, geography)
    return sorted(plans, key=lambda plan: plan.id)
