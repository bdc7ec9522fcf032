"""The engine: ``run(scenario) -> Run``. The one module that wires everything together.

scenario -> traffic (plans) -> SimPy environment (flying processes, hotline officers)
-> legs flown -> rules (exact episodes) -> a Run, which the metrics and outputs read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import simpy

from sim.detect import Legs
from sim.geo import Geography, build_geography
from sim.hotline import Hotline, start_hotline
from sim.motion import FlightLog, FlightPlan, start_flights
from sim.records import Episode, FlightRecord
from sim.rules import World, detect
from sim.scenario import Scenario
from sim.traffic import plan_traffic


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one run produced."""

    scenario: Scenario
    geography: Geography
    plans: tuple[FlightPlan, ...]
    flights: tuple[FlightRecord, ...]
    legs: Legs
    episodes: tuple[Episode, ...]  # in events.csv order
    hotline: Hotline


def run(scenario: Scenario, geography: Geography | None = None) -> Run:
    """Fly a scenario and detect every episode of every rule, exactly.

    All randomness comes from one ``numpy.random.Generator`` seeded with the scenario's
    seed; each stage gets its own child stream so that changing one stage (say, the
    hotline's loss) leaves the others' draws alone.
    """
    geography = geography or build_geography(scenario)
    root = np.random.default_rng(scenario.seed)
    traffic_rng, hotline_rng = root.spawn(2)
    plans = tuple(plan_traffic(scenario, geography, traffic_rng))

    env = simpy.Environment()
    log = FlightLog()
    start_flights(env, plans, log)
    hotline = start_hotline(env, scenario.hotline, sorted(scenario.parties), scenario.zones,
                            scenario.duration_s, hotline_rng)
    env.run(until=scenario.duration_s)

    legs = log.to_legs(scenario.duration_s)
    flights = tuple(_flight_record(plan, scenario.duration_s) for plan in plans)
    world = World(geography, flights, legs, hotline)
    episodes = _tag_causes([e for spec in scenario.rules for e in detect(spec, world)], plans)
    episodes.sort(key=Episode.sort_key)
    return Run(scenario, geography, plans, flights, legs, tuple(episodes), hotline)


def _tag_causes(episodes: list[Episode], plans: tuple[FlightPlan, ...]) -> list[Episode]:
    """Tag each episode with the deviations whose time windows it overlaps."""
    windows = {p.id: p.deviations for p in plans if p.deviations}
    if not windows:
        return episodes
    tagged = []
    for episode in episodes:
        causes = {cause for aircraft in (episode.aircraft, episode.other_aircraft)
                  for cause, start, end in windows.get(aircraft, ())
                  if start < episode.end_s and episode.start_s < end}
        tagged.append(replace(episode, cause=";".join(sorted(causes))) if causes else episode)
    return tagged


def _flight_record(plan: FlightPlan, duration_s: float) -> FlightRecord:
    times = plan.waypoint_times()
    land = float(min(times[-1], duration_s))
    depart = float(times[0])
    return FlightRecord(plan.id, plan.party, depart, max(land, depart),
                        max(0.0, land - depart))
