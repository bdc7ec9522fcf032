"""Flight plans: what a flight will fly, as a route in the frame at constant speed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
    _times_s: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once: the engine, the planner and the outputs all ask for them.
        # (Written out rather than with np.diff and np.concatenate: plans are made by the
        # thousand and these small arrays' overhead is most of the cost.)
        xy = np.asarray(self.route_xy, float)
        step = xy[1:] - xy[:-1]
        times = np.empty(len(xy))
        times[:1] = 0.0
        np.cumsum(np.hypot(step[:, 0], step[:, 1]) / self.speed_mps, out=times[1:])
        times += self.depart_s
        times.flags.writeable = False
        object.__setattr__(self, "_times_s", times)

    def waypoint_times(self) -> np.ndarray:
        """Times at which each waypoint is reached (instant turns, constant speed)."""
        return self._times_s
