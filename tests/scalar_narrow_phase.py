"""A scalar reference for the separation narrow phase: one leg pair at a time, in plain
Python, the same closed form as ``sim.detect.separation_pieces`` written out step by step;
and one for the polygon test of zones (``polygon_leg_pieces``), one leg and edge at a time.

It exists so that the vectorised narrow phase can be held to it exactly (bit for bit):
numpy may reorder nothing, drop no case, and mask nothing wrongly. Square roots and
hypotenuses go through the same functions (``math.sqrt`` is correctly rounded like
``np.sqrt``; ``np.hypot`` on scalars is the C library's, as in the vectorised code).
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from sim.detect.legs import Legs
from sim.detect.narrowphase import CUT_SLACK

INF = math.inf


def _within_radius(d0x: float, d0y: float, dvx: float, dvy: float, radius: float
                   ) -> tuple[float, float]:
    a = dvx * dvx + dvy * dvy
    if a == 0.0:
        return (-INF, INF) if float(np.hypot(d0x, d0y)) < radius else (INF, -INF)
    speed = math.sqrt(a)
    tau_star = -(d0x * dvx + d0y * dvy) / a
    miss = abs(d0x * dvy - d0y * dvx) / speed
    room = (radius - miss) * (radius + miss)
    if not room > 0.0:
        return INF, -INF
    half = math.sqrt(room) / speed
    return tau_star - half, tau_star + half


def _between(c0: float, c1: float, low: float, high: float) -> tuple[float, float]:
    if c1 == 0.0:
        return (-INF, INF) if low < c0 < high else (INF, -INF)
    ta, tb = (low - c0) / c1, (high - c0) / c1
    return min(ta, tb), max(ta, tb)


def pair_piece(legs: Legs, i: int, j: int, horizontal_m: float, vertical_m: float | None
               ) -> tuple[float, float, float, float] | None:
    """(start, end, min distance, its time) of legs i and j, or None if the condition never
    holds while both are flown."""
    t0i, t0j = float(legs.t0_s[i]), float(legs.t0_s[j])
    t1i, t1j = float(legs.t1_s[i]), float(legs.t1_s[j])
    ts, te = max(t0i, t0j), min(t1i, t1j)
    span = te - ts
    xi = float(legs.x0_m[i]) + float(legs.vx_mps[i]) * (ts - t0i)
    yi = float(legs.y0_m[i]) + float(legs.vy_mps[i]) * (ts - t0i)
    xj = float(legs.x0_m[j]) + float(legs.vx_mps[j]) * (ts - t0j)
    yj = float(legs.y0_m[j]) + float(legs.vy_mps[j]) * (ts - t0j)
    d0x, d0y = xj - xi, yj - yi
    dvx = float(legs.vx_mps[j]) - float(legs.vx_mps[i])
    dvy = float(legs.vy_mps[j]) - float(legs.vy_mps[i])
    lo, hi = _within_radius(d0x, d0y, dvx, dvy, horizontal_m)
    if vertical_m is not None:
        zi = float(legs.z0_m[i]) + float(legs.vz_mps[i]) * (ts - t0i)
        zj = float(legs.z0_m[j]) + float(legs.vz_mps[j]) * (ts - t0j)
        vlo, vhi = _between(zj - zi, float(legs.vz_mps[j]) - float(legs.vz_mps[i]),
                            -vertical_m, vertical_m)
        lo, hi = max(lo, vlo), min(hi, vhi)
    lo, hi = max(lo, 0.0), min(hi, span)
    if not hi > lo:
        return None
    a = dvx * dvx + dvy * dvy
    tau_star = -(d0x * dvx + d0y * dvy) / a if a > 0.0 else lo
    tau_min = min(max(tau_star, lo), hi)
    distance = float(np.hypot(d0x + dvx * tau_min, d0y + dvy * tau_min))
    start = ts if lo <= 0.0 else ts + lo
    end = min(t1i, t1j) if hi >= span else ts + hi
    return start, end, distance, ts + tau_min


def polygon_leg_pieces(legs: Legs, i: int, ring: np.ndarray, shape: shapely.Polygon
                       ) -> list[tuple[float, float]]:
    """The leg-local pieces (lo, hi) of leg ``i`` strictly inside a polygon (closed ``ring``,
    ``shape``), edge by edge in plain Python: the reference ``polygons_pieces`` is held to.

    The same closed form: each edge's crossing (or, for a leg along the edge, the edge's
    ends) cuts the leg; a piece between two cuts is inside if its midpoint is."""
    px, py = float(legs.x0_m[i]), float(legs.y0_m[i])
    vx, vy = float(legs.vx_mps[i]), float(legs.vy_mps[i])
    span = float(legs.t1_s[i]) - float(legs.t0_s[i])
    cuts = []
    for (ax, ay), (bx, by) in zip(ring[:-1].tolist(), ring[1:].tolist(), strict=True):
        ex, ey = bx - ax, by - ay
        wx, wy = ax - px, ay - py
        denom = vx * ey - vy * ex
        if denom != 0.0:
            u = (wx * vy - wy * vx) / denom
            if -CUT_SLACK <= u <= 1.0 + CUT_SLACK:
                cuts.append((wx * ey - wy * ex) / denom)
        elif wx * vy - wy * vx == 0.0 and vx * vx + vy * vy > 0.0:
            vv = vx * vx + vy * vy
            cuts += [(wx * vx + wy * vy) / vv, ((wx + ex) * vx + (wy + ey) * vy) / vv]
    ends = [0.0, *sorted(c for c in cuts if 0.0 < c < span), span]
    pieces = []
    for lo, hi in zip(ends[:-1], ends[1:], strict=True):
        mid = 0.5 * (lo + hi)
        if hi > lo and shapely.contains_xy(shape, px + vx * mid, py + vy * mid):
            pieces.append((lo, hi))
    return pieces
