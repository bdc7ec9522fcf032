"""Interference in a run: tracks flown displaced sideways while they cross a jamming area,
and drones that turn home or are lost there (``interfere``, applied by the engine to the
plans as flown, before detection, so that every rule sees the real tracks).

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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim.detect.legs import Legs
from sim.detect.narrowphase import (
    circle_pieces,
    episode_bounds,
    merge_pieces,
    polygon_pieces,
    zone_pieces,
)
from sim.model.geography import Geography, JammerGeometry
from sim.model.scenario import AIRCRAFT_CLASSES, InterferenceSpec, NavigationEffect
from sim.traffic.plans import FlightPlan


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
    disjoint, within the track's times). A crossing with no error, or no length (too
    short for an instant strictly inside it), leaves the track exactly as it was."""
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
            if not t0 < tm < t1:  # too short to have a middle instant: nothing to fly
                continue
            xm, ym, zm = _at(t, x, y, z, tm)
            moved = [(tm, xm + offset * normal[0], ym + offset * normal[1], zm)]
        # Vertices at the entry's or exit's very instant stay as they are (there may be
        # two: a zero-length leg); otherwise the entry and exit are new vertices.
        before = [k for k, tk in enumerate(t) if tk <= t0]
        after = [k for k, tk in enumerate(t) if tk >= t1]
        entry = [] if t[before[-1]] == t0 else [(t0, *p0)]
        exit_ = [] if t[after[0]] == t1 else [(t1, *p1)]
        rows = ([(t[k], x[k], y[k], z[k]) for k in before] + entry + moved + exit_
                + [(t[k], x[k], y[k], z[k]) for k in after])
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


# ---------------------------------------------------------------------------- in a run


@dataclass(frozen=True, slots=True)
class Effects:
    """What interference did in a run (``summary.json``'s ``interference``)."""

    crossings: int = 0  # crossings of targeted aircraft through active areas with effects
    displaced: int = 0  # crossings flown with a navigation error
    aborted: tuple[str, ...] = ()  # drones that turned home, by flight id
    lost: tuple[str, ...] = ()  # drones lost (their flight ended)
    # Flight id -> the intervals it flew with a navigation error, or home after an abort
    # (episodes overlapping one are tagged ``cause: interference``).
    windows: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)


def targeted(spec: InterferenceSpec, plan: FlightPlan) -> bool:
    """Whether an area targets this flight: of a targeted party and, if the area names
    aircraft classes or types, of one of them."""
    if plan.party not in spec.parties:
        return False
    if not spec.aircraft:
        return True
    kinds = set().union(*(AIRCRAFT_CLASSES.get(name, frozenset({name})) for name in spec.aircraft))
    return plan.aircraft in kinds


def is_drone(plan: FlightPlan) -> bool:
    """Whether the flight is a drone (its aircraft type is of the drone class)."""
    return plan.aircraft in AIRCRAFT_CLASSES["drone"]


def area_crossings(jammer: JammerGeometry, legs: Legs, flights: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The crossings (flight, start, end) of the flights ``flights`` (indices) through the
    area while active and between its floor and ceiling, merged over their legs, exact."""
    spec = jammer.spec
    candidates = np.flatnonzero(np.isin(legs.flight, flights))
    if jammer.ring is not None:
        inside = polygon_pieces(legs, candidates, jammer.ring, jammer.shape)
    else:
        assert jammer.center is not None and jammer.radius_m is not None
        inside = circle_pieces(legs, candidates, jammer.center, jammer.radius_m)
    parts = [zone_pieces(legs, inside, spec.floor_m, spec.ceiling_m, w0, w1)
             for w0, w1 in spec.windows_s]
    leg = np.concatenate([np.zeros(0, np.int64)] + [p.leg for p in parts])
    start = np.concatenate([np.zeros(0)] + [p.start_s for p in parts])
    end = np.concatenate([np.zeros(0)] + [p.end_s for p in parts])
    order, episode = merge_pieces(legs.flight[leg], start, end)
    if len(order) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    first, s0, s1, keep = episode_bounds(order, episode, start, end)
    return legs.flight[leg[order[first]]][keep], s0[keep], s1[keep]


DRAWS_PER_CROSSING = 4  # navigation: applies?, magnitude, side; drones: fate


def interfere(geography: Geography, plans: Sequence[FlightPlan], legs: Legs,
              rng: np.random.Generator) -> tuple[tuple[FlightPlan, ...], Effects]:
    """The plans as flown under interference, and what it did.

    Every crossing of a targeted flight through an area with effects (found on the
    nominal tracks, area by area in scenario order, then by flight and time) takes
    ``DRAWS_PER_CROSSING`` uniform draws, whatever the effects' values: runs that differ
    only in them see the same random numbers (common random numbers), and with no offset
    and no probabilities the plans come back unchanged. A drone's first crossing whose
    draw says so ends its mission there: lost (its flight ends) or aborted (it flies
    straight home to its first waypoint at its speed and altitude); it flies no error
    after that. Crossings of one flight that overlap (two areas) keep the first area's.
    """
    rows = []  # (flight, start, end, jammer index, draws)
    for j, jammer in enumerate(geography.jammers):
        spec = jammer.spec
        if spec.navigation is None and spec.drones is None:
            continue
        flights = np.array([k for k, p in enumerate(plans) if targeted(spec, p)], np.int64)
        f, s, e = area_crossings(jammer, legs, flights)
        order = np.lexsort((s, f))
        draws = rng.random((len(order), DRAWS_PER_CROSSING))
        rows += [(int(f[k]), float(s[k]), float(e[k]), j, u)
                 for k, u in zip(order, draws, strict=True)]
    if not rows:
        return tuple(plans), Effects()
    by_flight: dict[int, list[Any]] = {}
    for row in sorted(rows, key=lambda r: (r[0], r[1], r[3])):
        by_flight.setdefault(row[0], []).append(row)
    out, displaced_count = list(plans), 0
    aborted: list[str] = []
    lost: list[str] = []
    windows: dict[str, tuple[tuple[float, float], ...]] = {}
    for k, crossings in by_flight.items():
        plan = plans[k]
        fate, fate_s = "", math.inf
        for _, start, _, j, u in crossings:
            drones = geography.jammers[j].spec.drones
            if drones is not None and is_drone(plan) and start < fate_s:
                if u[3] < drones.lost:
                    fate, fate_s = "lost", start
                elif u[3] < drones.lost + drones.abort:
                    fate, fate_s = "aborted", start
        errors: list[Crossing] = []
        for _, start, end, j, u in crossings:
            navigation = geography.jammers[j].spec.navigation
            end = min(end, fate_s)
            if navigation is None or not end > start or u[0] >= navigation.probability or (
                    errors and start < errors[-1].end_s):
                continue
            magnitude = offset_magnitude(navigation, float(u[1]))
            if magnitude > 0.0:
                errors.append(Crossing(start, end, magnitude if u[2] < 0.5 else -magnitude))
        if not errors and not fate:
            continue
        track = displaced(_track(plan), errors)
        if fate:
            track = _ended(track, fate_s, plan, home=fate == "aborted")
            (lost if fate == "lost" else aborted).append(plan.id)
        out[k] = replace(plan, depart_s=float(track.t_s[0]),
                         route_xy=np.column_stack([track.x_m, track.y_m]),
                         route_z_m=track.z_m, route_t_s=track.t_s)
        displaced_count += len(errors)
        flown_off = [(c.start_s, c.end_s) for c in errors]
        if fate == "aborted":  # the flight home is interference's doing too
            flown_off.append((fate_s, float(track.t_s[-1])))
        if flown_off:
            windows[plan.id] = tuple(flown_off)
    return tuple(out), Effects(len(rows), displaced_count, tuple(sorted(aborted)),
                               tuple(sorted(lost)), windows)


def offset_magnitude(navigation: NavigationEffect, u: float) -> float:
    """The offset of a crossing from its uniform draw ``u`` in [0, 1), by inverse transform
    (one draw whatever the distribution): uniform in [low, high]; triangular with its mode
    at low (density falling linearly to zero at high); or half-normal from low with a
    standard deviation of half the range, cut at high (the normal's upper half conditioned
    on falling below high)."""
    low, high = navigation.offset_m
    if navigation.distribution == "triangular":
        return low + (high - low) * (1.0 - math.sqrt(1.0 - u))
    if navigation.distribution == "half_normal" and high > low:
        from scipy.special import erf, erfinv  # only runs that ask for it pay the import

        cut = erf(2.0 / math.sqrt(2.0))  # P(|N(0, 1)| < 2): high is 2 deviations out
        return low + (high - low) / 2.0 * math.sqrt(2.0) * float(erfinv(u * cut))
    return low + u * (high - low)


def _track(plan: FlightPlan) -> Track:
    xy = np.asarray(plan.route_xy, float)
    return Track(np.asarray(plan.waypoint_times(), float), xy[:, 0], xy[:, 1], plan.altitudes())


def _ended(track: Track, at_s: float, plan: FlightPlan, home: bool) -> Track:
    """The track up to ``at_s``; then, if ``home``, straight back to its first point."""
    keep = track.t_s < at_s
    x, y, z = track.at(at_s)
    t = [*track.t_s[keep].tolist(), at_s]
    xs, ys, zs = [*track.x_m[keep].tolist(), x], [*track.y_m[keep].tolist(), y], \
        [*track.z_m[keep].tolist(), z]
    if home:
        distance = math.hypot(float(track.x_m[0]) - x, float(track.y_m[0]) - y)
        if distance > 0.0:
            t.append(at_s + distance / plan.speed_mps)
            xs.append(float(track.x_m[0]))
            ys.append(float(track.y_m[0]))
            zs.append(z)
    return Track(np.array(t), np.array(xs), np.array(ys), np.array(zs))
