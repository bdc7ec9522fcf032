"""Motion: flight plans as piecewise-linear trajectories, and the SimPy process that flies them."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.detect.legs import Legs
from sim.traffic.plans import FlightPlan


@dataclass(slots=True)
class FlightLog:
    """What the flying processes recorded: runs of legs as they were committed to.

    Each entry is one flight's consecutive legs, k to m, of a plan: the waypoint times,
    points and altitudes, so a leg is (times[i], times[i + 1], route[i], route[i + 1]), its
    altitude linear in time from altitude[i] to altitude[i + 1].
    """

    flight: list[int] = field(default_factory=list)
    times_s: list[np.ndarray] = field(default_factory=list)
    route_xy: list[np.ndarray] = field(default_factory=list)
    altitude_m: list[np.ndarray] = field(default_factory=list)

    def record(self, index: int, plan: FlightPlan, times_s: np.ndarray, k: int, m: int) -> None:
        """Record legs k .. m - 1 of a plan (waypoints k .. m)."""
        if m > k:
            self.flight.append(index)
            self.times_s.append(times_s[k:m + 1])
            self.route_xy.append(plan.route_xy[k:m + 1])
            self.altitude_m.append(plan.altitudes()[k:m + 1])

    def to_legs(self, until_s: float) -> Legs:
        """The legs flown up to ``until_s`` (the run's end), zero-duration legs dropped."""
        count = np.array([len(t) - 1 for t in self.times_s], np.int64)
        if len(count) == 0:
            empty = np.zeros(0)
            return Legs(np.zeros(0, np.int64), *([empty] * 8))
        times = np.concatenate(self.times_s)
        points = np.concatenate(self.route_xy).reshape(-1, 2)
        # Leg starts: every waypoint but the last of each run.
        last = np.cumsum(count + 1) - 1
        begins = np.ones(len(times), bool)
        begins[last] = False
        t0, t1 = times[begins], times[np.flatnonzero(begins) + 1]
        p0, p1 = points[begins], points[np.flatnonzero(begins) + 1]
        flight = np.repeat(np.asarray(self.flight, np.int64), count)
        altitude = np.concatenate(self.altitude_m)
        z0, z1 = altitude[begins], altitude[np.flatnonzero(begins) + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = (p1 - p0) / (t1 - t0)[:, None]
            vz = (z1 - z0) / (t1 - t0)
        keep = (t1 > t0) & (t0 < until_s)
        flight = flight[keep]
        order = np.lexsort((t0[keep], flight))
        return Legs(flight[order], t0[keep][order], np.minimum(t1[keep][order], until_s),
                    p0[keep][order, 0], p0[keep][order, 1], z0[keep][order], v[keep][order, 0],
                    v[keep][order, 1], vz[keep][order])


Turn = Callable[[FlightPlan], FlightPlan]


def fly(env: simpy.Environment, index: int, plan: FlightPlan, log: FlightLog,
        turn_at: int = -1, turn: Turn | None = None) -> Generator[simpy.Event, Any, None]:
    """The flying process: wait for departure, then commit to the legs.

    A flight's legs are known in advance, so they are recorded at once (the rules read
    them after the run, which drops whatever begins after its end): one event a flight,
    not one a leg. On reaching waypoint ``turn_at`` it may change the rest of its route:
    ``turn`` gets the plan and returns one with the same route up to that waypoint (a
    close approach), so the legs from there on are recorded only then.
    """
    times = plan.waypoint_times()
    # SimPy's clock may run a rounding error ahead of a time it just reached, hence the
    # max(0, ...).
    if times[0] > env.now:
        yield env.timeout(times[0] - env.now)
    last = len(times) - 1
    if turn is not None and 0 <= turn_at < last:
        log.record(index, plan, times, 0, turn_at)
        yield env.timeout(max(0.0, times[turn_at] - env.now))
        plan = turn(plan)
        times = plan.waypoint_times()
        log.record(index, plan, times, turn_at, len(times) - 1)
    else:
        log.record(index, plan, times, 0, last)
