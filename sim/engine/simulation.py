"""The engine: ``run(scenario) -> Run``. The one module that wires everything together.

scenario -> traffic (explicit flights, sorties as first planned) -> work areas -> a SimPy
environment with the agents: the hotline's officers, each sortie's planner (at departure,
round what its party has received; or delayed, or dropped), the flying processes (a close
approach is aimed once on station) -> legs flown -> rules (exact episodes) -> complaints
-> a Run, which the metrics and outputs read.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import simpy

from sim.detect.legs import Legs
from sim.detect.rules import World, detect_all, separation_parties, separation_reach
from sim.engine.hotline import Degradation, complain, schedule, start_hotline
from sim.engine.interference import Effects, interfere
from sim.engine.motion import FlightLog, fly
from sim.model.fields import MAX_SEED
from sim.model.geography import Geography, ZoneGeometry, build_geography
from sim.model.limits import LimitExceeded
from sim.model.records import Episode, FlightRecord, Hotline
from sim.model.scenario import Problem, Scenario, ScenarioError
from sim.traffic.planner import Blocked, Obstacle, Route, applies, obstacles, route_around
from sim.traffic.plans import FlightPlan, climb_profile
from sim.traffic.sorties import Sortie, Traffic, aim_approach, deviation_windows, plan_traffic
from sim.traffic.workareas import Declarable, work_areas

# What became of each generated sortie (summary.json's ``planning``).
OUTCOMES = ("as_planned", "rerouted", "delayed", "dropped", "not_flown")


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one run produced."""

    scenario: Scenario
    geography: Geography  # its zones include the parties' work areas
    plans: tuple[FlightPlan, ...]  # as flown, by flight index
    flights: tuple[FlightRecord, ...]
    legs: Legs
    episodes: tuple[Episode, ...]  # in events.csv order
    hotline: Hotline
    outcomes: dict[str, str] = field(default_factory=dict)  # sortie id -> what became of it
    work_areas: tuple[str, ...] = ()  # ids of the zones that are work areas
    known_s: dict[str, float] = field(default_factory=dict)  # work area id -> known since
    interference: Effects = field(default_factory=Effects)  # what the jamming areas did


def run(scenario: Scenario, geography: Geography | None = None, *,
        seed: int | np.random.Generator | None = None) -> Run:
    """Fly a scenario and detect every episode of every rule, exactly.

    All randomness comes from one ``numpy.random.Generator``: seeded with ``seed`` when
    given (the run's scenario then names that seed), else with the scenario's own; or
    ``seed`` itself when it is a Generator (the run's scenario keeps its seed, which then
    does not reproduce the run). Each stage gets its own child stream so that changing
    one stage (say, the hotline's loss) leaves the others' draws alone.
    """
    if isinstance(seed, np.random.Generator):
        root = seed
    else:
        number = scenario.seed if seed is None else seed
        if not isinstance(number, (int, np.integer)) or isinstance(number, bool):
            raise TypeError(f"seed must be an int or a numpy.random.Generator, not {seed!r}")
        if not 0 <= int(number) <= MAX_SEED:
            raise ValueError(f"seed {number} is not a whole number from 0 to 2**64-1")
        if type(scenario.seed) is not int or int(number) != scenario.seed:
            scenario = replace(scenario, seed=int(number))  # a numpy integer made plain
        root = np.random.default_rng(scenario.seed)
    geography = geography or build_geography(scenario)
    traffic_rng, hotline_rng = root.spawn(2)
    declaration_rng, complaint_rng = hotline_rng.spawn(2)
    traffic = plan_traffic(scenario, geography, traffic_rng)
    areas = work_areas(scenario, traffic.sorties, schedule(scenario.hotline,
                                                           scenario.duration_s))
    geography = replace(geography, zones=geography.zones + tuple(zone for zone, _ in areas))
    declarables = [Declarable(z, 0.0) for z in scenario.zones] + [d for _, d in areas]

    env = simpy.Environment()
    hotline = start_hotline(env, scenario.hotline, sorted(scenario.parties), declarables,
                            scenario.duration_s, declaration_rng, scenario.file,
                            scenario.limits.declarations, Degradation.of(scenario.interference))
    airspace = _Airspace(env, scenario, geography, hotline, traffic)
    env.run(until=scenario.duration_s)

    kept = [i for i, plan in enumerate(airspace.plans) if i in airspace.started]
    plans = tuple(airspace.plans[i] for i in kept)
    remap = np.full(len(airspace.plans), -1, np.int64)
    remap[kept] = np.arange(len(kept))
    airspace.log.flight = remap[np.asarray(airspace.log.flight, np.int64)].tolist()
    legs = airspace.log.to_legs(scenario.duration_s)
    effects = Effects()
    if geography.jammers:
        # A third child of the root: the traffic's and hotline's streams stay as they were.
        flown, effects = interfere(geography, plans, legs, root.spawn(1)[0])
        if any(a is not b for a, b in zip(flown, plans, strict=True)):
            legs = _refly(airspace.log, plans, flown).to_legs(scenario.duration_s)
            plans = flown
    flights = tuple(_flight_record(plan, scenario.duration_s) for plan in plans)
    world = World(geography, flights, legs, hotline, separation_reach(scenario.rules),
                  scenario.limits,
                  separation_parties(scenario.rules, (f.party for f in flights)))
    found: list[Episode] = []
    for k, outcome in enumerate(detect_all(scenario.rules, world)):
        if isinstance(outcome, LimitExceeded):  # dense traffic: refused, naming the rule
            raise ScenarioError([Problem(scenario.file, f"rules[{k}]", str(outcome))])
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None  # every rule before the first failure has run
        found += outcome
    episodes = _tag_causes(found, plans, effects.windows)
    episodes.sort(key=Episode.sort_key)
    complain(hotline, scenario.hotline, scenario.rules, episodes, sorted(scenario.parties),
             scenario.duration_s, complaint_rng, Degradation.of(scenario.interference))
    return Run(scenario, geography, plans, flights, legs, tuple(episodes), hotline,
               dict(airspace.outcomes), tuple(zone.spec.id for zone, _ in areas),
               {d.zone.id: d.known_s for _, d in areas}, effects)


class _Airspace:
    """The flying: explicit flights as written, each sortie through its party's planner."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, geography: Geography,
                 hotline: Hotline, traffic: Traffic) -> None:
        self.env = env
        self.scenario = scenario
        self.hotline = hotline
        self.zones = {zone.spec.id: zone for zone in geography.zones}
        self.grown: dict[tuple[str, float], Any] = {}  # obstacle shapes, built once each
        # Merged obstacles by (zone ids, margin): sorties of the same hours avoid the same
        # zones, and merging them is the planner's dearest step.
        self.merged: dict[tuple[tuple[str, ...], float], list[Obstacle]] = {}
        self.log = FlightLog()
        ids = traffic.ids()
        index = {ident: k for k, ident in enumerate(ids)}
        self.plans: list[FlightPlan] = [None] * len(ids)  # type: ignore[list-item]
        self.started: set[int] = set()
        self.outcomes: dict[str, str] = {}
        for plan in traffic.explicit:
            self._start(index[plan.id], plan)
            env.process(fly(env, index[plan.id], plan, self.log))
        for sortie in traffic.sorties:
            k = index[sortie.plan.id]
            self.plans[k] = sortie.plan
            self.outcomes[sortie.plan.id] = "not_flown"
            env.process(self._plan_and_fly(k, sortie))

    def _plan_and_fly(self, k: int, sortie: Sortie) -> Generator[simpy.Event, Any, None]:
        """The planner's work for one sortie, at its departure, then the flying."""
        plan, env = sortie.plan, self.env
        policy = self.scenario.parties[plan.party].planning
        nominal = Route(plan.route_xy, sortie.leg_causes, sortie.track)
        yield env.timeout(max(0.0, plan.depart_s - env.now))
        delayed = False
        while True:
            try:
                # Zones are judged at the cruise altitude, the sortie's level while it
                # works (the climb and descent near its base are not planned round).
                route = self._route(plan.party, plan.altitude_m, plan.speed_mps, nominal)
                break
            except Blocked as blocked:
                clear_s = min(o.active_end_s for o in blocked.obstacles)
                if policy.when_blocked == "drop" or clear_s - plan.depart_s > policy.max_delay_s:
                    self.outcomes[plan.id] = "dropped"
                    return
                delayed = True
                yield env.timeout(max(0.0, clear_s - env.now))
        moved = not np.array_equal(route.xy, nominal.xy)
        level = replace(plan, depart_s=env.now, route_xy=route.xy)
        deviations = deviation_windows(level, route.leg_causes)
        if deviations != level.deviations:
            level = replace(level, deviations=deviations)
        self.outcomes[plan.id] = "delayed" if delayed else "rerouted" if moved else "as_planned"
        # The profile's points lie on the route's legs: no waypoint's time moves, so the
        # deviation windows hold; the route's indices (the racetrack's) go through ``where``.
        flown, where = climb_profile(level, *sortie.rates_mps)
        self._start(k, flown)
        turn = None
        if sortie.approach is not None:
            turn = self._approach_turn(k, level, route.track[0], where, sortie)
        yield env.process(fly(env, k, flown, self.log, int(where[route.track[0]]), turn))

    def _route(self, party: str, altitude_m: float, speed_mps: float, nominal: Route
               ) -> Route:
        """The nominal route round the received zones it could meet (Blocked if none)."""
        policy = self.scenario.parties[party].planning
        if not (policy.avoid and self.hotline.enabled):
            return nominal
        now = self.env.now
        # A zone whose time is over cannot apply again (``applies`` needs now < its end).
        # (In no order: only the set of those that apply is used.)
        received = [zone for z in self.hotline.received_by(party, now)
                    if (zone := self.zones.get(z)) is not None and zone.spec.active_end_s > now]
        route, avoided = nominal, set[str]()
        # Rerouting makes the flight longer, which may bring more zones into its time:
        # repeat until the set of zones to avoid stops growing.
        while True:
            end_s = now + _length_m(route.xy) / speed_mps
            relevant = {z.spec.id for z in received if applies(z, party, altitude_m, now, end_s)}
            if relevant <= avoided:
                return route
            avoided |= relevant
            key = (tuple(sorted(avoided)), policy.margin_m)
            if key not in self.merged:
                zones: list[ZoneGeometry] = [self.zones[z] for z in key[0]]
                self.merged[key] = obstacles(zones, policy.margin_m, self.grown)
            route = route_around(nominal, self.merged[key])

    def _start(self, k: int, plan: FlightPlan) -> None:
        """Plan k is flown as ``plan`` from now on."""
        self.plans[k] = plan
        self.started.add(k)

    def _approach_turn(self, k: int, level: FlightPlan, at: int, where: np.ndarray,
                       sortie: Sortie) -> Any:
        """The close approach at waypoint ``at`` of the level plan (``where[at]`` of the
        flown one): aimed on the level route, then given its profile again."""
        def turn(plan: FlightPlan) -> FlightPlan:
            assert sortie.approach is not None
            now = float(level.waypoint_times()[at])  # the time aim_approach aims from
            # Only aircraft in the air then can be aimed at (as aim_approach would find).
            airborne = [p for p in (self.plans[i] for i in sorted(self.started) if i != k)
                        if p.waypoint_times()[0] <= now <= p.waypoint_times()[-1]]
            moved = aim_approach(level, at, sortie.approach, sortie.approach_u, airborne)
            if moved is level:  # no target
                return plan
            profiled, index = climb_profile(moved, *sortie.rates_mps)
            # The flown plan's legs up to the turn, the new profile's from it on: the change
            # to the target's level is made at the turn, at once.
            i, j = int(where[at]), int(index[at])
            turned = replace(profiled, route_xy=np.vstack([plan.route_xy[:i],
                                                           profiled.route_xy[j:]]),
                             route_z_m=np.concatenate([plan.altitudes()[:i],
                                                       profiled.altitudes()[j:]]))
            self._start(k, turned)
            return turned
        return turn


def _length_m(xy: np.ndarray) -> float:
    step = xy[1:] - xy[:-1]
    return float(np.sum(np.hypot(step[:, 0], step[:, 1])))


def _refly(log: FlightLog, before: tuple[FlightPlan, ...], after: tuple[FlightPlan, ...]
           ) -> FlightLog:
    """The log with the flights whose plans changed flown again as changed."""
    changed = {k for k, (a, b) in enumerate(zip(before, after, strict=True)) if a is not b}
    out = FlightLog()
    for k, t, xy, z in zip(log.flight, log.times_s, log.route_xy, log.altitude_m, strict=True):
        if k not in changed:
            out.flight.append(k)
            out.times_s.append(t)
            out.route_xy.append(xy)
            out.altitude_m.append(z)
    for k in sorted(changed):
        times = after[k].waypoint_times()
        out.record(k, after[k], times, 0, len(times) - 1)
    return out


def _tag_causes(episodes: list[Episode], plans: tuple[FlightPlan, ...],
                interference: dict[str, tuple[tuple[float, float], ...]]) -> list[Episode]:
    """Tag each episode with the deviations whose time windows it overlaps, and with
    ``interference`` where it overlaps a navigation error of either aircraft."""
    windows = {p.id: p.deviations for p in plans if p.deviations}
    for aircraft, errors in interference.items():
        windows[aircraft] = windows.get(aircraft, ()) + tuple(
            ("interference", s, e) for s, e in errors)
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
