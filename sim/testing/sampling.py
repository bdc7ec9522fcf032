"""The sampling oracle: every flight's position at regular times, and the conditions of
rules evaluated on those samples, to hold an exact rule to (``check_agrees_with_sampling``).

This is a test tool, and the one place where anything is sampled: ``sample_world`` puts
each flight where its legs say it is every ``step_s`` seconds (NaN when it is not in the
air), and a rule author writes the rule's condition on those samples in a few lines with
``close`` (pairs closer than a distance), ``lasting`` (a condition held for longer than a
dwell), ``inside_zones`` (the zone incursion condition) and ``off_lanes`` (the lane
discipline condition). An oracle returns, for each breach key (``sim.testing.intervals``),
a boolean array over the sample times; keys it leaves out are never breached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from sim.detect.world import World
from sim.testing.intervals import Key, aircraft_key, pair_key

Flags = np.ndarray  # bool, one per sample time


@dataclass(frozen=True, slots=True)
class Samples:
    """Every flight's position at the sample times, flight i being the World's flight i:
    ``x_m``, ``y_m`` and ``z_m`` are (flights, times) arrays, NaN when not in the air."""

    times_s: np.ndarray
    step_s: float
    ids: tuple[str, ...]
    parties: tuple[str, ...]
    x_m: np.ndarray
    y_m: np.ndarray
    z_m: np.ndarray
    world: World

    @property
    def airborne(self) -> np.ndarray:
        """(flights, times): whether each flight is in the air at each sample time."""
        result: np.ndarray = ~np.isnan(self.x_m)
        return result

    def index(self, ident: str) -> int:
        """The flight index of the flight ``ident``."""
        return self.ids.index(ident)

    def pairs(self, between: tuple[str, str] | None = None) -> list[tuple[int, int]]:
        """Every pair (i, j), i < j, of flights of different parties (of the two parties
        ``between``, if given): the pairs a separation rule looks at."""
        out = []
        for i in range(len(self.ids)):
            for j in range(i + 1, len(self.ids)):
                p, q = self.parties[i], self.parties[j]
                if p != q and (between is None or {p, q} == set(between)):
                    out.append((i, j))
        return out

    def key(self, i: int, j: int | None = None, zone: str = "") -> Key:
        """The breach key of flights i and j (or of flight i alone, in ``zone``)."""
        if j is None:
            return aircraft_key(self.ids[i], zone)
        return pair_key(self.ids[i], self.ids[j], zone)

    def horizontal_m(self, i: int, j: int) -> np.ndarray:
        """Distance in plan between flights i and j at each sample time (NaN: not both up)."""
        result: np.ndarray = np.hypot(self.x_m[j] - self.x_m[i], self.y_m[j] - self.y_m[i])
        return result

    def vertical_m(self, i: int, j: int) -> np.ndarray:
        """Altitude difference between flights i and j at each sample time (NaN likewise)."""
        result: np.ndarray = np.abs(self.z_m[j] - self.z_m[i])
        return result


Oracle = Callable[[Samples], Mapping[Key, Flags]]


def sample_world(world: World, step_s: float = 1.0) -> Samples:
    """Every flight's position every ``step_s`` seconds, at the multiples of ``step_s``
    from before the first leg starts to after the last one ends."""
    if not step_s > 0.0:
        raise ValueError(f"the step must be positive, not {step_s!r} s")
    legs = world.legs
    if len(legs):
        first = math.floor(float(np.min(legs.t0_s)) / step_s)
        last = math.ceil(float(np.max(legs.t1_s)) / step_s)
    else:
        first = last = 0
    times = step_s * np.arange(first, last + 1, dtype=float)
    shape = (len(world.flights), len(times))
    x, y, z = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    lo = np.searchsorted(times, legs.t0_s, side="left")
    hi = np.searchsorted(times, legs.t1_s, side="right")
    for leg, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        f, dt = int(legs.flight[leg]), times[a:b] - legs.t0_s[leg]
        x[f, a:b] = legs.x0_m[leg] + legs.vx_mps[leg] * dt
        y[f, a:b] = legs.y0_m[leg] + legs.vy_mps[leg] * dt
        z[f, a:b] = legs.z0_m[leg] + legs.vz_mps[leg] * dt
    return Samples(times, float(step_s), tuple(f.id for f in world.flights),
                   tuple(f.party for f in world.flights), x, y, z, world)


def close(samples: Samples, horizontal_m: float, vertical_m: float | None = None,
          between: tuple[str, str] | None = None) -> dict[Key, Flags]:
    """For each pair of flights of different parties (of ``between``, if given): when they
    are closer than ``horizontal_m`` in plan and, if given, than ``vertical_m`` in altitude
    (the min_separation condition)."""
    out = {}
    with np.errstate(invalid="ignore"):
        for i, j in samples.pairs(between):
            flags = samples.horizontal_m(i, j) < horizontal_m
            if vertical_m is not None:
                flags &= samples.vertical_m(i, j) < vertical_m
            out[samples.key(i, j)] = flags
    return out


def lasting(flags: Flags, step_s: float, dwell_s: float) -> Flags:
    """Where ``flags`` has held, sample after sample, for more than ``dwell_s``: at sample k,
    whether it held at every sample from some k - m to k with m ``step_s`` > ``dwell_s``.
    (Sampled, so the start of what it returns may be up to a step late.)"""
    flags = np.asarray(flags, bool)
    index = np.arange(len(flags))
    # The index where each run of true samples began, carried along the run.
    began = np.maximum.accumulate(np.where(flags & ~np.r_[False, flags[:-1]], index, 0))
    result: np.ndarray = flags & ((index - began) * step_s > dwell_s)
    return result


def inside_zones(samples: Samples) -> dict[Key, Flags]:
    """For each zone and each flight of another party: when the flight is inside the zone's
    area, between its floor and ceiling, while it is active (the zone_incursion condition)."""
    out = {}
    t = samples.times_s
    for zone in samples.world.geography.zones:
        z = zone.spec
        for i, party in enumerate(samples.parties):
            if party == z.party:
                continue
            x, y, h = samples.x_m[i], samples.y_m[i], samples.z_m[i]
            up = ~np.isnan(x)
            area = np.zeros(len(t), bool)
            if zone.center is not None and zone.radius_m is not None:
                cx, cy = zone.center
                area[up] = np.hypot(x[up] - cx, y[up] - cy) < zone.radius_m
            else:
                area[up] = shapely.contains_xy(zone.shape, x[up], y[up])
            with np.errstate(invalid="ignore"):
                flags = (area & (h > z.floor_m) & (h < z.ceiling_m) & (t >= z.active_start_s)
                         & (t < z.active_end_s))
            out[samples.key(i, zone=z.id)] = flags
    return out


def off_lanes(samples: Samples, tolerance_m: float) -> dict[Key, Flags]:
    """For each flight of a party with lanes: when it is inside the corridor (closer than
    its half width to the centerline) and farther than ``tolerance_m`` from every lane of
    its party (the lane_discipline condition)."""
    geo = samples.world.geography
    out: dict[Key, Flags] = {}
    if geo.centerline is None or geo.half_width_m is None:
        return out
    centerline = geo.centerline.geometry()
    for i, party in enumerate(samples.parties):
        own = [g.line.geometry() for g in geo.lanes_of(party)]
        if not own:
            continue
        x, y = samples.x_m[i], samples.y_m[i]
        up = ~np.isnan(x)
        points = shapely.points(x[up], y[up])
        near_lane = np.zeros(int(np.count_nonzero(up)), bool)
        for line in own:
            near_lane |= shapely.distance(points, line) <= tolerance_m
        flags = np.zeros(len(x), bool)
        flags[up] = (shapely.distance(points, centerline) < geo.half_width_m) & ~near_lane
        out[samples.key(i)] = flags
    return out
