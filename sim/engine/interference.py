"""Degraded navigation: a track flown displaced sideways while it crosses a jamming area.

A crossing is an interval ``[t_in, t_out]`` of a flight's nominal track (piecewise-linear
in 4D) inside an active interference area (``sim.model.spec.InterferenceSpec``). Flown with
a cross-track error ``offset_m`` (signed: positive to the left of the crossing's chord), the
track keeps its nominal vertices outside the crossing, gets one at the entry and one at
the exit (on the nominal track: the error builds up from the entry and is recovered at the
exit), and every nominal vertex inside is moved by ``offset_m`` along the crossing's left
normal (a crossing with no vertex inside gets one at its middle). The result is still
piecewise-linear, so detection stays exact; it is continuous; and, the displacement being
linear between vertices each moved by at most ``|offset_m|``, the track is never farther
than ``|offset_m|`` from the nominal one at the same instant, and equal to it outside the
crossings. Altitudes and times are kept: only the ground track moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Track:
    """A flight's 4D vertices: times (strictly increasing), plan position and altitude."""

    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    z_m: np.ndarray

    def at(self, t_s: float) -> tuple[float, float, float]:
        """Position (x, y, z) at ``t_s``, within the track's times."""
        return (float(np.interp(t_s, self.t_s, self.x_m)), float(np.interp(t_s, self.t_s,
                                                                            self.y_m)),
                float(np.interp(t_s, self.t_s, self.z_m)))


@dataclass(frozen=True, slots=True)
class Crossing:
    """A stretch of a track flown with a cross-track error."""

    start_s: float
    end_s: float
    offset_m: float  # signed: positive to the left of the crossing's chord


def displaced(track: Track, crossings: Sequence[Crossing]) -> Track:
    """The track flown with each crossing's cross-track error (crossings of one flight,
    disjoint, within the track's times). A crossing with no error, or no length, leaves
    the track exactly as it was."""
    t, x, y, z = (list(map(float, a)) for a in (track.t_s, track.x_m, track.y_m, track.z_m))
    for crossing in sorted(crossings, key=lambda c: c.start_s):
        t0, t1, offset = crossing.start_s, crossing.end_s, crossing.offset_m
        if offset == 0.0 or not t1 > t0:
            continue
        p0, p1 = _at(t, x, y, z, t0), _at(t, x, y, z, t1)
        normal = _left_normal(t, x, y, t0, t1, p0, p1)
        inside = [k for k, tk in enumerate(t) if t0 < tk < t1]
        moved = [(t[k], x[k] + offset * normal[0], y[k] + offset * normal[1], z[k])
                 for k in inside]
        if not moved:  # a straight crossing: displaced at its middle
            tm = (t0 + t1) / 2.0
            xm, ym, zm = _at(t, x, y, z, tm)
            moved = [(tm, xm + offset * normal[0], ym + offset * normal[1], zm)]
        before = [k for k, tk in enumerate(t) if tk < t0]
        after = [k for k, tk in enumerate(t) if tk > t1]
        rows = ([(t[k], x[k], y[k], z[k]) for k in before] + [(t0, *p0)] + moved
                + [(t1, *p1)] + [(t[k], x[k], y[k], z[k]) for k in after])
        t, x, y, z = (list(column) for column in zip(*rows, strict=True))
    return Track(np.array(t), np.array(x), np.array(y), np.array(z))


def _at(t: list[float], x: list[float], y: list[float], z: list[float], when: float
        ) -> tuple[float, float, float]:
    return (float(np.interp(when, t, x)), float(np.interp(when, t, y)),
            float(np.interp(when, t, z)))


def _left_normal(t: list[float], x: list[float], y: list[float], t0: float, t1: float,
                 p0: tuple[float, float, float], p1: tuple[float, float, float]
                 ) -> tuple[float, float]:
    """The unit normal to the left of the crossing's chord (entry to exit); of its first
    moving leg when the chord has no length (a crossing that comes back to its entry)."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    length = float(np.hypot(dx, dy))
    if length == 0.0:
        for k in range(len(t) - 1):
            if t[k + 1] > t0 and t[k] < t1 and (x[k + 1], y[k + 1]) != (x[k], y[k]):
                dx, dy = x[k + 1] - x[k], y[k + 1] - y[k]
                length = float(np.hypot(dx, dy))
                break
    if length == 0.0:  # no motion in plan: no side to be displaced to; say north
        return 0.0, 1.0
    return -dy / length, dx / length
