"""Traffic: what the parties mean to fly. Pure: ``(scenario, geography, rng) -> Traffic``.

Explicit flights are flown exactly as written. Parties with ``sorties_per_day`` also
generate sorties, as first planned (the hotline's planner may later route them round
received zones, delay or drop them: ``sim.traffic.planner``, ``sim.engine``):

- **When**: a Poisson process over the run, its hourly rate following ``daily_profile``;
  the party knows of each sortie ``planning.lead`` before it departs.
- **What**: aircraft type by share, altitude uniform in the type's block (rounded to
  ``altitude_step``), base by weight, mission by share, time on station uniform.
- **Where** (a party with a lane): base -> a gate outside the corridor on the party's own
  side -> the lane (joined ``lane_entry`` before the mission) -> along the lane in its
  direction -> a racetrack on the lane abeam the mission area for the time on station
  -> along the lane (``lane_exit`` past the mission) -> a gate -> base. Transits that
  would cross the corridor go round it on a ring outside it. A compliant sortie is thus
  never inside the corridor farther from its lane than the racetrack's half width or the
  approach from the corridor's edge. (A party without a lane flies base -> racetrack at
  the mission area -> base.)
- **How high**: off the base (elevation 0 ft, notional) at the type's climb rate to its
  altitude, level for the route, down at its descent rate to land at the base: the
  engine applies ``climb_profile`` to the route as finally flown (rerouted, turned).
- **Deviations**: a sortie keeps the rules with probability ``compliance``; otherwise it
  makes one deviation, chosen by weight: a ``shortcut`` (a stretch flown on the other
  side of the river, on the mirror of its lane), a ``drift`` (a stretch displaced toward
  the river by the tolerance plus ``beyond``) or a ``close_approach`` (aimed, once on
  station, at the nearest other-party aircraft then airborne: ``aim_approach``). Each
  leg records its deviation so that episodes can be tagged with their cause.

Every sortie's random draws are made up front, in a fixed order and number, so that a
change of one knob (say ``compliance``) changes only what that knob decides: common
random numbers for calibration and sweeps.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

import numpy as np

from sim.model.geography import Geography, resolve_point
from sim.model.scenario import (
    Deviation,
    FlightSpec,
    Party,
    Point,
    Problem,
    Scenario,
    ScenarioError,
)
from sim.model.units import DAY, FOOT, HOUR, MINUTE
from sim.traffic.plans import FlightPlan
from sim.traffic.recorded_flights import recorded_flights
from sim.traffic.routes import TooManyPoints, between, party_router

# The waypoint limit is judged early from the mean of a party's first sorties: a run on
# course for more than the margin times the limit is refused then.
ESTIMATE_AFTER = 20
ESTIMATE_MARGIN = 1.5
DRAWS = 13  # uniform numbers drawn per sortie, whatever it turns out to need
FPM = FOOT / MINUTE  # messages give vertical speeds in feet per minute, as pilots do


def explicit_flights(scenario: Scenario, geography: Geography) -> list[FlightPlan]:
    """The scenario's written flights as plans in the frame, with their vertical profiles.

    Raises:
        ScenarioError: every level change (of every flight) that its rate cannot make
            before the next waypoint.
    """
    plans, problems = [], []
    for i, spec in enumerate(scenario.flights):
        xy = geography.routes[spec.id]
        if not spec.route_altitudes_m:  # as written before profiles: level throughout
            plans.append(FlightPlan(spec.id, spec.party, spec.depart_s, spec.speed_mps,
                                    spec.altitude_m, xy))
            continue
        route_xy, route_z, found = _profile(spec, xy)
        problems += [Problem(scenario.file, f"flights[{i}].route[{k}]", message)
                     for k, message in found]
        plans.append(FlightPlan(spec.id, spec.party, spec.depart_s, spec.speed_mps,
                                spec.altitude_m, route_xy, route_z_m=route_z))
    if problems:
        raise ScenarioError(problems)
    return plans


LEVEL_OFF_TOLERANCE = 1e-9  # a change this close (relatively) to its leg's time fills it


def _profile(spec: FlightSpec, xy: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """A route's points and altitudes, with a level-off point on each leg whose level
    change its rate makes before the leg ends, and the changes it cannot make (by the
    index of the entry that ends the leg)."""
    z = [spec.altitude_m if a is None else a for a in spec.route_altitudes_m]
    points, altitudes = [xy[0]], [z[0]]
    found: list[tuple[int, str]] = []
    for k in range(1, len(z)):
        dz = z[k] - z[k - 1]
        rate = spec.climb_rate_mps if dz > 0 else spec.descent_rate_mps
        if dz != 0.0 and rate is not None:
            leg_s = float(np.hypot(*(xy[k] - xy[k - 1]))) / spec.speed_mps
            change_s = abs(dz) / rate
            if change_s > leg_s * (1.0 + LEVEL_OFF_TOLERANCE):
                found.append((k, _too_slow(k, z[k - 1], z[k], rate, change_s, leg_s)))
            elif change_s < leg_s * (1.0 - LEVEL_OFF_TOLERANCE):
                # Constant ground speed: the fraction of the leg's time is that of its length.
                points.append(xy[k - 1] + change_s / leg_s * (xy[k] - xy[k - 1]))
                altitudes.append(z[k])
        points.append(xy[k])
        altitudes.append(z[k])
    return np.array(points, float), np.array(altitudes, float), found


def _too_slow(k: int, from_m: float, to_m: float, rate_mps: float, change_s: float,
              leg_s: float) -> str:
    """The message for a level change its rate cannot make on its leg."""
    climbing = to_m > from_m
    key = "climb_rate" if climbing else "descent_rate"
    if leg_s > 0.0:
        needed = math.ceil(abs(to_m - from_m) / leg_s / FPM)
        fix = (f"write a faster rate, such as {key}: \"{needed} ft/min\", a smaller level "
               "change, or a longer leg")
    else:
        fix = f"a level change at a {key} needs a leg of some length; move route[{k}]"
    return (f"{'climbing' if climbing else 'descending'} from {_level(from_m)} "
            f"(route[{k - 1}]) to {_level(to_m)} at {_rate(rate_mps)} takes "
            f"{_time(change_s)}, but the leg to route[{k}] takes {_time(leg_s)}; {fix}")


def _level(altitude_m: float) -> str:
    """An altitude for a message: a flight level where it is one, else in feet."""
    hundreds = altitude_m / FOOT / 100.0
    if abs(hundreds - round(hundreds)) < 1e-6 and 0 <= round(hundreds) <= 999:
        return f"FL{round(hundreds):03d}"
    return f"{altitude_m / FOOT:.0f} ft"


def _time(seconds: float) -> str:
    """A duration for a message, in the largest unit that keeps it readable."""
    if seconds >= 100 * DAY:
        return f"{seconds / DAY:.3g} d"
    if seconds >= DAY:
        return f"{seconds / DAY:.1f} d"
    if seconds >= 10 * HOUR:
        return f"{seconds / HOUR:.1f} h"
    return f"{seconds / MINUTE:.1f} min" if seconds >= MINUTE else f"{seconds:.1f} s"


def _rate(rate_mps: float) -> str:
    """A vertical speed for a message, in ft/min (a tiny one with its significant digits)."""
    per_minute = rate_mps / FPM
    return f"{per_minute:.0f} ft/min" if per_minute >= 1.0 else f"{per_minute:.3g} ft/min"


@dataclass(frozen=True)
class Sortie:
    """A generated sortie as its party first plans it, before the hotline has its say.

    The planner (``sim.traffic.planner``) may later route it round received zones, delay or drop
    it; a close approach is aimed once it is on station (``sim.engine``).
    """

    plan: FlightPlan  # the nominal plan; its deviations are filled in once it is flown
    mission: int  # index into the party's missions
    known_s: float  # when the party knows of it (departure minus the planning lead)
    leg_causes: tuple[str, ...]  # each leg's deliberate deviation, or ""
    track: tuple[int, int]  # the racetrack's first and last waypoint index
    racetrack_xy: np.ndarray  # the whole racetrack loop, for the declared work area
    # Its type's climb and descent rates: the engine flies the plan from and to the ground
    # (``climb_profile``) once its route is final, so the plan here is level throughout.
    rates_mps: tuple[float, float]
    approach: Deviation | None = None  # a close approach to make on station
    approach_u: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def station_s(self) -> tuple[float, float]:
        """When the nominal plan is on its racetrack: start and end."""
        times = self.plan.waypoint_times()
        return float(times[self.track[0]]), float(times[self.track[1]])


@dataclass(frozen=True)
class Traffic:
    """What the parties intend to fly: explicit flights as written, and generated sorties."""

    explicit: tuple[FlightPlan, ...]
    sorties: tuple[Sortie, ...]

    def ids(self) -> list[str]:
        """Every flight id, in the order of flight indices downstream (sorted)."""
        return sorted([p.id for p in self.explicit] + [s.plan.id for s in self.sorties])


def plan_traffic(scenario: Scenario, geography: Geography, rng: np.random.Generator
                 ) -> Traffic:
    """The run's explicit flights (written or recorded) and every party's generated
    sorties."""
    written = explicit_flights(scenario, geography)
    recorded = recorded_flights(scenario, geography, written)
    explicit = written + recorded
    # One child stream per party, in party order: adding a party leaves the others' draws.
    streams = rng.spawn(len(scenario.parties))
    sorties: list[Sortie] = []
    limits = scenario.limits
    points = sum(len(p.route_xy) for p in explicit)
    for party, stream in zip(scenario.parties.values(), streams, strict=True):
        if party.sorties is not None:
            # What is left of the flight and waypoint limits (checked as sorties are made:
            # the load-time check knows only the expected number of sorties).
            made = generate_sorties(scenario, geography, party, stream,
                                    limits.flights - len(explicit) - len(sorties),
                                    limits.waypoints - points)
            points += sum(len(s.plan.route_xy) for s in made)
            sorties += made
    ids = [p.id for p in explicit] + [s.plan.id for s in sorties]
    if len(set(ids)) != len(ids):
        clash = sorted({i for i in ids if ids.count(i) > 1})[0]
        owner = next((r for r in scenario.recorded for p in recorded
                      if p.id == clash and p.party == r.party), None)
        if owner is None or any(p.id == clash for p in written):
            raise ScenarioError([Problem(scenario.file, "flights", f"the id {clash!r} is "
                                         "also a generated sortie's id (<party>-<number>); "
                                         "rename the flight")])
        raise ScenarioError([Problem(scenario.file, f"{owner.key_path}.file", (
            f"{owner.file}: the flight id {clash!r} is also a generated sortie's id "
            "(<party>-<number>); rename the aircraft in the file"))])
    return Traffic(tuple(explicit), tuple(sorted(sorties, key=lambda s: s.plan.id)))


def deviation_windows(plan: FlightPlan, leg_causes: tuple[str, ...]
                      ) -> tuple[tuple[str, float, float], ...]:
    """Each run of legs with the same deliberate deviation as (cause, start_s, end_s)."""
    if not any(leg_causes):  # most sorties keep the rules: no legs to walk
        return ()
    times = plan.waypoint_times()
    windows = []
    k = 0
    while k < len(leg_causes):
        cause = leg_causes[k]
        end = k
        while end + 1 < len(leg_causes) and leg_causes[end + 1] == cause:
            end += 1
        if cause:
            windows.append((cause, float(times[k]), float(times[end + 1])))
        k = end + 1
    return tuple(windows)


def arrival_times(per_day: float, profile: tuple[float, ...], duration_s: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Departure times of a Poisson process whose rate follows the hourly profile."""
    hours = int(math.ceil(duration_s / HOUR))
    weights = np.asarray(profile) / np.sum(profile) * 24.0
    slot = np.minimum(HOUR, duration_s - np.arange(hours) * HOUR)
    rate = per_day / 24.0 * weights[np.arange(hours) % 24] * slot / HOUR
    counts = rng.poisson(rate)
    starts = np.repeat(np.arange(hours) * HOUR, counts)
    return np.sort(starts + rng.uniform(0.0, 1.0, counts.sum()) * np.repeat(slot, counts))


def generate_sorties(scenario: Scenario, geography: Geography, party: Party,
                     rng: np.random.Generator, max_sorties: int | None = None,
                     max_points: int | None = None) -> list[Sortie]:
    """The sorties one party means to fly during the run (at most ``max_sorties`` of them,
    with at most ``max_points`` waypoints in all, or ScenarioError)."""
    sorties = party.sorties
    assert sorties is not None
    max_sorties = scenario.limits.flights if max_sorties is None else max_sorties
    max_points = scenario.limits.waypoints if max_points is None else max_points
    departs = arrival_times(sorties.per_day, sorties.daily_profile, scenario.duration_s, rng)
    if len(departs) > max_sorties:
        raise _too_many(scenario, party, f"{len(departs):,} sorties; with the other flights "
                        f"that is more than the limit of {scenario.limits.flights:,}",
                        "flights")
    draws = rng.uniform(0.0, 1.0, (len(departs), DRAWS))
    router = party_router(scenario, geography, party)
    # The choices' cumulative weights, and the points in the frame, worked out once for
    # all the party's sorties rather than once per sortie.
    aircraft_weights = _cumulative([a.share for a in sorties.aircraft])
    base_weights = _cumulative([w for _, w in sorties.bases])
    mission_weights = _cumulative([m.share for m in sorties.missions])
    deviation_weights = _cumulative([d.weight for d in party.deviations])
    # (By index in the party's bases and missions, resolved when first used.)
    resolved: dict[tuple[str, int], tuple[float, float]] = {}

    def where(kind: str, index: int, point: Point) -> tuple[float, float]:
        if (kind, index) not in resolved:
            resolved[(kind, index)] = resolve_point(point, scenario, geography.frame)
        return resolved[(kind, index)]

    out = []
    points = 0
    for k, (depart, u) in enumerate(zip(departs, draws, strict=True)):
        aircraft = sorties.aircraft[_pick(aircraft_weights, u[0])]
        low, high = aircraft.altitude_m
        altitude = low + u[1] * (high - low)
        step = sorties.altitude_step_m
        levels = float(altitude) / step if step > 0 else math.inf
        if math.isfinite(levels):  # (a step too small to count levels in is no step)
            stepped = round(levels) * step
            altitude = stepped if low <= stepped <= high else altitude
        b = _pick(base_weights, u[2])
        m = _pick(mission_weights, u[3])
        mission = sorties.missions[m]
        station_s = between(mission.time_on_station_s, u[4])
        deviation = None
        if u[5] >= party.compliance and party.deviations:
            deviation = party.deviations[_pick(deviation_weights, u[6])]
        on_lane = deviation if deviation is None or deviation.cause != "close_approach" else None
        try:
            route, windows, track, loop = router.route(
                where("base", b, sorties.bases[b][0]), where("mission", m, mission.area),
                mission.racetrack_length_m, mission.racetrack_width_m,
                station_s * aircraft.speed_mps,
                between(sorties.lane_entry_m, u[7]), between(sorties.lane_exit_m, u[8]),
                on_lane, u[9:12], max_points - points)
        except TooManyPoints:
            route = None
        points += 0 if route is None else len(route)
        # Refused as soon as it is sure: past the limit, or (from the first sorties' mean)
        # on course for well past it, rather than after making most of the traffic.
        course = points / (k + 1) * len(departs) if k + 1 >= ESTIMATE_AFTER else 0.0
        if route is None or points > max_points or course > ESTIMATE_MARGIN * max_points:
            said = (f"about {course:,.0f} waypoints (from its first {k + 1} sorties)"
                    if course > ESTIMATE_MARGIN * max_points else "more waypoints")
            raise _too_many(scenario, party, f"sorties whose routes (racetrack laps "
                            f"included) have {said}, beyond the limit of "
                            f"{scenario.limits.waypoints:,} for all flights together",
                            "waypoints", f"parties.{party.id}.missions[{m}].time_on_station")
        causes = [""] * (len(route) - 1)
        for cause, a, b in windows:
            causes[a:b] = [cause] * (b - a)
        plan = FlightPlan(f"{party.id}-{k:05d}", party.id, float(depart), aircraft.speed_mps,
                          float(altitude), route, aircraft.type)
        approach = deviation if deviation is not None and \
            deviation.cause == "close_approach" else None
        out.append(Sortie(plan, m, float(depart - between(party.planning.lead_s, u[12])),
                          tuple(causes), track, loop,
                          (aircraft.climb_rate_mps, aircraft.descent_rate_mps), approach,
                          (float(u[9]), float(u[10]), float(u[11]))))
    return out


def _too_many(scenario: Scenario, party: Party, what: str, limit: str,
              path: str | None = None) -> ScenarioError:
    return ScenarioError([Problem(
        scenario.file, path or f"parties.{party.id}.sorties_per_day",
        f"party {party.id} would fly {what} in {scenario.duration_s / HOUR / 24:,.6g} d; "
        f"shorten the duration or the time on station, lengthen the racetrack or lower "
        f"the rate (or raise the limit: Limits({limit}=N))")])


def aim_approach(plan: FlightPlan, at_index: int, deviation: Deviation,
                 u: tuple[float, float, float], targets: list[FlightPlan]) -> FlightPlan:
    """Turn a sortie toward the nearest aircraft of another party, to pass it close.

    At the racetrack's start (time t0, point p0) the sortie picks the nearest other-party
    aircraft within reach and flies the constant-speed intercept: the earliest t >= t0
    with |target(t) - p0| = v (t - t0), a quadratic on each of the target's legs. It aims
    ``miss`` to one side of that point, at the target's altitude give or take
    ``vertical``, then flies back to p0 and carries on. No target, no approach.
    """
    k = at_index
    times = plan.waypoint_times()
    t0, p0 = float(times[k]), plan.route_xy[k]
    best: tuple[float, FlightPlan] | None = None
    for target in targets:
        if target.party == plan.party:
            continue
        where = _position(target, t0)
        if where is not None:
            gap = float(np.hypot(*(where - p0)))
            if gap <= deviation.reach_m and (best is None or gap < best[0]):
                best = (gap, target)
    if best is None:
        return plan
    target = best[1]
    hit = _intercept(target, p0, t0, plan.speed_mps)
    if hit is None:
        return plan
    t_hit, point, velocity = hit
    side = 1.0 if u[2] < 0.5 else -1.0
    speed = float(np.hypot(*velocity))
    normal = np.array([-velocity[1], velocity[0]]) / speed if speed > 0 else np.array([1.0, 0])
    aim = point + side * between(deviation.miss_m, u[0]) * normal
    altitude = target.altitude_m + (2.0 * u[1] - 1.0) * deviation.vertical_m
    moved = replace(plan, altitude_m=float(altitude),
                    route_xy=np.vstack([plan.route_xy[:k + 1], aim, plan.route_xy[k:]]))
    new_times = moved.waypoint_times()
    window = ("close_approach", float(new_times[k]), float(new_times[k + 2]))
    return replace(moved, deviations=(*plan.deviations, window))


def _position(plan: FlightPlan, t_s: float) -> np.ndarray | None:
    times = plan.waypoint_times()
    if not times[0] <= t_s <= times[-1]:
        return None
    k = min(int(np.searchsorted(times, t_s, side="right")) - 1, len(times) - 2)
    span = times[k + 1] - times[k]
    f = 0.0 if span <= 0 else (t_s - times[k]) / span
    point: np.ndarray = plan.route_xy[k] + f * (plan.route_xy[k + 1] - plan.route_xy[k])
    return point


def _intercept(target: FlightPlan, p0: np.ndarray, t0: float, speed_mps: float
               ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The earliest time, point and target velocity at which a straight constant-speed
    flight from p0 at t0 meets the target."""
    times = target.waypoint_times()
    for k in range(len(times) - 1):
        ta, tb = float(times[k]), float(times[k + 1])
        if tb <= t0 or tb <= ta:
            continue
        velocity = (target.route_xy[k + 1] - target.route_xy[k]) / (tb - ta)
        w = target.route_xy[k] - velocity * ta - p0  # target(t) - p0 = w + velocity t
        a = float(velocity @ velocity) - speed_mps**2
        b = 2.0 * (float(w @ velocity) + speed_mps**2 * t0)
        c = float(w @ w) - (speed_mps * t0) ** 2
        if abs(a) < 1e-12:
            roots = [-c / b] if b != 0 else []
        else:
            disc = b * b - 4 * a * c
            if disc < 0:
                continue
            roots = sorted(((-b - math.sqrt(disc)) / (2 * a), (-b + math.sqrt(disc)) / (2 * a)))
        for t in roots:
            if max(ta, t0) <= t <= tb:
                return t, w + velocity * t + p0, velocity
    return None


def _cumulative(weights: list[float]) -> list[float]:
    """The running sums of weights, for ``_pick``."""
    sums: list[float] = np.cumsum(weights).tolist()
    return sums


def _pick(cumulative: list[float], u: float) -> int:
    """The index a uniform number ``u`` picks from weights with these running sums
    (``bisect_right`` is ``searchsorted(..., side="right")``, on a list: faster for a few)."""
    return min(bisect.bisect_right(cumulative, u * cumulative[-1]), len(cumulative) - 1)
