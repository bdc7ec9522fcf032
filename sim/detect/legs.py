"""Legs: every aircraft's straight legs as arrays, and the closed forms solved on them.

Every condition of a rule (docs/exactness.md) restricted to one straight leg (or one pair of
legs) is an interval of time: closest point of approach gives the quadratic for horizontal
distance, altitude and polygon edges are linear, and distance to a segment is a convex
"capsule". These are the closed forms, vectorised over all candidates; the narrow phase
builds on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Legs:
    """Straight legs of every aircraft, one row per leg, sorted by flight then time.

    Position at time t in [t0_s, t1_s] is (x0_m + vx_mps (t - t0_s), ...). Flights are
    indexed in id order, so leg index order is flight order.
    """

    flight: np.ndarray
    t0_s: np.ndarray
    t1_s: np.ndarray
    x0_m: np.ndarray
    y0_m: np.ndarray
    z0_m: np.ndarray
    vx_mps: np.ndarray
    vy_mps: np.ndarray
    vz_mps: np.ndarray

    def __len__(self) -> int:
        return len(self.flight)

    def position(self, leg: np.ndarray, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (x, y) of legs ``leg`` at absolute times ``t_s``."""
        dt = t_s - self.t0_s[leg]
        return self.x0_m[leg] + self.vx_mps[leg] * dt, self.y0_m[leg] + self.vy_mps[leg] * dt

    def altitude(self, leg: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        """Return the altitude of legs ``leg`` at absolute times ``t_s``."""
        altitude: np.ndarray = self.z0_m[leg] + self.vz_mps[leg] * (t_s - self.t0_s[leg])
        return altitude

    def select(self, mask: np.ndarray) -> Legs:
        """Return the legs where ``mask`` holds."""
        return Legs(*(getattr(self, f)[mask] for f in Legs.__slots__))


# ---------------------------------------------------------------------------- closed forms


def within_radius(d0x: np.ndarray, d0y: np.ndarray, dvx: np.ndarray, dvy: np.ndarray,
                  radius: np.ndarray | float, closed: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Times tau (an interval lo, hi) when |d0 + dv tau| < radius (<= with ``closed``).

    Empty intervals come back as (inf, -inf); always-true ones as (-inf, inf). The miss
    distance is taken from the cross product, which keeps tangent passes (miss distance
    exactly the radius) out of the open result instead of leaving a sliver of rounding.
    """
    d0x, d0y, dvx, dvy = np.broadcast_arrays(*(np.asarray(a, float) for a in (d0x, d0y, dvx,
                                                                                dvy)))
    radius = np.broadcast_to(np.asarray(radius, float), d0x.shape)
    lo = np.full(d0x.shape, np.inf)
    hi = np.full(d0x.shape, -np.inf)
    a = dvx * dvx + dvy * dvy
    moving = a > 0.0
    distance = np.hypot(d0x, d0y)
    still = ~moving & ((distance <= radius) if closed else (distance < radius))
    lo[still], hi[still] = -np.inf, np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.sqrt(a)
        tau_star = -(d0x * dvx + d0y * dvy) / a
        miss = np.abs(d0x * dvy - d0y * dvx) / speed
        room = (radius - miss) * (radius + miss)
        ok = moving & ((room >= 0.0) if closed else (room > 0.0))
        half = np.sqrt(np.where(ok, room, 0.0)) / speed
    lo[ok] = tau_star[ok] - half[ok]
    hi[ok] = tau_star[ok] + half[ok]
    return lo, hi


def between_bounds(c0: np.ndarray, c1: np.ndarray, low: np.ndarray | float,
                   high: np.ndarray | float, closed: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Times tau (interval lo, hi) when low < c0 + c1 tau < high (<= with ``closed``).

    Bounds may be infinite.
    """
    c0, c1 = np.broadcast_arrays(np.asarray(c0, float), np.asarray(c1, float))
    low = np.broadcast_to(np.asarray(low, float), c0.shape)
    high = np.broadcast_to(np.asarray(high, float), c0.shape)
    lo = np.full(c0.shape, np.inf)
    hi = np.full(c0.shape, -np.inf)
    flat = c1 == 0.0
    inside = flat & (((low <= c0) & (c0 <= high)) if closed else ((low < c0) & (c0 < high)))
    lo[inside], hi[inside] = -np.inf, np.inf
    moving = ~flat
    # A rate so slow that the crossing time overflows crosses after any leg ends: inf.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ta = (low - c0) / c1
        tb = (high - c0) / c1
    lo[moving] = np.minimum(ta, tb)[moving]
    hi[moving] = np.maximum(ta, tb)[moving]
    return lo, hi


def capsule_interval(px: np.ndarray, py: np.ndarray, vx: np.ndarray, vy: np.ndarray,
                     ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                     radius: float, closed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Times tau when the point p + v tau is closer than ``radius`` to segment AB
    (or at most ``radius`` away, with ``closed``).

    The set of points within a distance of a segment is convex (a capsule), so a line
    meets it in one interval: the hull of its meetings with the two end discs and the
    rectangle between them.
    """
    lo_a, hi_a = within_radius(px - ax, py - ay, vx, vy, radius, closed)
    lo_b, hi_b = within_radius(px - bx, py - by, vx, vy, radius, closed)
    ex, ey = bx - ax, by - ay
    length = np.hypot(ex, ey)
    with np.errstate(divide="ignore", invalid="ignore"):
        ux, uy = ex / length, ey / length
    has_body = length > 0.0
    ux, uy = np.where(has_body, ux, 0.0), np.where(has_body, uy, 0.0)
    rx, ry = px - ax, py - ay
    lo_s, hi_s = between_bounds(rx * ux + ry * uy, vx * ux + vy * uy, 0.0, length, closed)
    lo_n, hi_n = between_bounds(rx * -uy + ry * ux, vx * -uy + vy * ux, -radius, radius, closed)
    lo_r, hi_r = np.maximum(lo_s, lo_n), np.minimum(hi_s, hi_n)
    body = has_body & ((hi_r >= lo_r) if closed else (hi_r > lo_r))
    lo_r, hi_r = np.where(body, lo_r, np.inf), np.where(body, hi_r, -np.inf)
    return np.minimum(np.minimum(lo_a, lo_b), lo_r), np.maximum(np.maximum(hi_a, hi_b), hi_r)
