"""Motion: flight plans as piecewise-linear trajectories, and the SimPy process that flies them."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.detect import Legs


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """What a flight will fly: a route in the frame at constant speed and altitude."""

    id: str
    party: str
    depart_s: float
    speed_mps: float
    altitude_m: float
    route_xy: np.ndarray  # (k, 2)
    aircraft: str = ""  # the aircraft type, for generated sorties
    # Deviations from the rules the plan makes on purpose: (cause, start_s, end_s).
    deviations: tuple[tuple[str, float, float], ...] = ()

    def waypoint_times(self) -> np.ndarray:
        """Times at which each waypoint is reached (instant turns, constant speed)."""
        steps = np.hypot(*np.diff(self.route_xy, axis=0).T)
        return self.depart_s + np.concatenate([[0.0], np.cumsum(steps / self.speed_mps)])


@dataclass(slots=True)
class FlightLog:
    """What the flying processes recorded: each leg as it was begun, and each landing."""

    flight: list[int] = field(default_factory=list)
    t0_s: list[float] = field(default_factory=list)
    t1_s: list[float] = field(default_factory=list)
    start_xy: list[np.ndarray] = field(default_factory=list)
    end_xy: list[np.ndarray] = field(default_factory=list)
    altitude_m: list[float] = field(default_factory=list)

    def to_legs(self, until_s: float) -> Legs:
        """The legs flown up to ``until_s`` (the run's end), zero-duration legs dropped."""
        t0 = np.asarray(self.t0_s, float)
        t1 = np.asarray(self.t1_s, float)
        p0 = np.asarray(self.start_xy, float).reshape(-1, 2)
        p1 = np.asarray(self.end_xy, float).reshape(-1, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = (p1 - p0) / (t1 - t0)[:, None]
        keep = (t1 > t0) & (t0 < until_s)
        flight = np.asarray(self.flight, np.int64)[keep]
        order = np.lexsort((t0[keep], flight))
        z = np.asarray(self.altitude_m, float)[keep][order]
        return Legs(flight[order], t0[keep][order], np.minimum(t1[keep][order], until_s),
                    p0[keep][order, 0], p0[keep][order, 1], z, v[keep][order, 0],
                    v[keep][order, 1], np.zeros(len(z)))


Turn = Callable[[FlightPlan], FlightPlan]


def fly(env: simpy.Environment, index: int, plan: FlightPlan, log: FlightLog,
        turn_at: int = -1, turn: Turn | None = None) -> Generator[simpy.Event, Any, None]:
    """The flying process: wait for departure, then fly each leg, recording it as begun.

    On reaching waypoint ``turn_at`` it may change the rest of its route: ``turn`` gets
    the plan and returns one with the same route up to that waypoint (a close approach).
    """
    times = plan.waypoint_times()
    # Delays are taken against absolute waypoint times; SimPy's clock may run a rounding
    # error ahead of a time it just reached, hence the max(0, ...) (repeated waypoints).
    if times[0] > env.now:
        yield env.timeout(times[0] - env.now)
    k = 0
    while k < len(times) - 1:
        if k == turn_at and turn is not None:
            plan = turn(plan)
            times = plan.waypoint_times()
        log.flight.append(index)
        log.t0_s.append(float(times[k]))
        log.t1_s.append(float(times[k + 1]))
        log.start_xy.append(plan.route_xy[k])
        log.end_xy.append(plan.route_xy[k + 1])
        log.altitude_m.append(plan.altitude_m)
        # Absolute waypoint times, not accumulated delays, so a leg ends exactly when the
        # next begins.
        yield env.timeout(max(0.0, times[k + 1] - env.now))
        k += 1
