"""Flight plans: what a flight will fly, as a route in the frame at constant ground speed.

The altitude is the plan's ``altitude_m`` throughout, or, with ``route_z_m``, one per waypoint,
changing linearly in time along each leg: a track piecewise linear in x, y and altitude.
A recorded track gives its waypoint times as well (``route_t_s``): it is flown exactly
through its reports, each leg at its own ground speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """What a flight will fly: a route in the frame at constant ground speed."""

    id: str
    party: str
    depart_s: float
    speed_mps: float
    altitude_m: float  # the cruise altitude (of every waypoint, without ``route_z_m``)
    route_xy: np.ndarray  # (k, 2)
    aircraft: str = ""  # the aircraft type, for generated sorties
    # Deviations from the rules the plan makes on purpose: (cause, start_s, end_s).
    deviations: tuple[tuple[str, float, float], ...] = ()
    # The altitude at each waypoint (k,), linear in time along each leg; None: altitude_m.
    route_z_m: np.ndarray | None = None
    # When each waypoint is reached (k,), non-decreasing, from depart_s (a recorded track);
    # None: at the constant ground speed speed_mps.
    route_t_s: np.ndarray | None = None
    _times_s: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once: the engine, the planner and the outputs all ask for them.
        # (Written out rather than with np.diff and np.concatenate: plans are made by the
        # thousand and these small arrays' overhead is most of the cost.)
        if self.route_t_s is not None:
            times = np.array(self.route_t_s, float)
        else:
            times = _level_times(np.asarray(self.route_xy, float), self.speed_mps,
                                 self.depart_s)
        times.flags.writeable = False
        object.__setattr__(self, "_times_s", times)

    def waypoint_times(self) -> np.ndarray:
        """Times at which each waypoint is reached (instant turns; constant ground speed
        unless the plan gives its times)."""
        return self._times_s

    def altitudes(self) -> np.ndarray:
        """The altitude at each waypoint (m)."""
        if self.route_z_m is None:
            return np.full(len(self.route_xy), float(self.altitude_m))
        return np.asarray(self.route_z_m, float)

    def altitude_range(self) -> tuple[float, float]:
        """The lowest and highest altitude the plan flies at (m)."""
        if self.route_z_m is None:
            return float(self.altitude_m), float(self.altitude_m)
        z = np.asarray(self.route_z_m, float)
        return float(z.min()), float(z.max())


def _level_times(xy: np.ndarray, speed_mps: float, depart_s: float) -> np.ndarray:
    """When each waypoint of ``xy`` is reached at ``speed_mps`` from ``depart_s``."""
    step = xy[1:] - xy[:-1]
    times = np.empty(len(xy))
    times[:1] = 0.0
    np.cumsum(np.hypot(step[:, 0], step[:, 1]) / speed_mps, out=times[1:])
    times += depart_s
    return times


# A level-off this close to a waypoint's time is at the waypoint: no point is inserted.
PROFILE_TOLERANCE_S = 1e-6


def _nearest_gap(times: np.ndarray, t: float) -> float:
    """``min(|times - t|)`` for rising times: the nearest is one of the two either side of
    ``t`` (a difference of rising numbers rounds rising too, so this is the same minimum)."""
    k = int(np.searchsorted(times, t))
    return float(min(abs(times[i] - t) for i in (k - 1, k) if 0 <= i < len(times)))


def climb_profile(plan: FlightPlan, climb_mps: float, descent_mps: float
                  ) -> tuple[FlightPlan, np.ndarray]:
    """A level plan flown from and to the ground: off its first waypoint at 0 ft, a climb
    at ``climb_mps`` to ``altitude_m`` (its cruise), level, and a descent at
    ``descent_mps`` to land at 0 ft at its last one:
    ``z(t) = min(cruise, climb (t - t_depart), descent (t_land - t))``.

    A waypoint is inserted on the straight leg at the level-off and at the top of descent
    (at the peak when the route is too short to reach cruise); the route and its times
    are otherwise unchanged. Returns the plan and where each of the given plan's
    waypoints is in it (the index map).
    """
    times = plan.waypoint_times()
    t0, t1 = float(times[0]), float(times[-1])
    cruise = float(plan.altitude_m)
    level_s, descend_s = t0 + cruise / climb_mps, t1 - cruise / descent_mps
    turns = ([level_s, descend_s] if level_s <= descend_s
             else [(climb_mps * t0 + descent_mps * t1) / (climb_mps + descent_mps)])
    inserted = sorted({t for t in turns if t0 < t < t1
                       and _nearest_gap(times, t) > PROFILE_TOLERANCE_S})
    xy = np.asarray(plan.route_xy, float)
    legs = np.searchsorted(times, inserted, side="right") - 1
    if len(inserted):
        fraction = (np.asarray(inserted) - times[legs]) / (times[legs + 1] - times[legs])
        points = xy[legs] + fraction[:, None] * (xy[legs + 1] - xy[legs])
        # What np.insert(xy, legs + 1, points, axis=0) makes (legs rising), without its
        # general machinery: the points go after their legs' first waypoints.
        at = legs + 1 + np.arange(len(legs))
        grown = np.empty((len(xy) + len(legs), 2))
        keep = np.ones(len(grown), bool)
        keep[at] = False
        grown[at] = points
        grown[keep] = xy
        xy = grown
    index = np.arange(len(times)) + np.searchsorted(legs, np.arange(len(times)), side="left")
    t = _level_times(xy, plan.speed_mps, plan.depart_s)  # the profiled plan's times
    z = np.minimum(cruise, np.minimum(climb_mps * (t - t0), descent_mps * (t[-1] - t)))
    # The level-off's time is rounded: at cruise give or take that, it is at cruise, so that
    # the legs at cruise are exactly level.
    z[np.abs(z - cruise) <= 1e-9 * max(cruise, 1.0)] = cruise
    return FlightPlan(plan.id, plan.party, plan.depart_s, plan.speed_mps, plan.altitude_m,
                      xy, plan.aircraft, plan.deviations, route_z_m=z), index
