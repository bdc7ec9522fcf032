"""A scalar reference for the separation narrow phase: one leg pair at a time, in plain
Python, the same closed form as ``sim.detect.separation_pieces`` written out step by step.

It exists so that the vectorised narrow phase can be held to it exactly (bit for bit):
numpy may reorder nothing, drop no case, and mask nothing wrongly. Square roots and
hypotenuses go through the same functions (``math.sqrt`` is correctly rounded like
``np.sqrt``; ``np.hypot`` on scalars is the C library's, as in the vectorised code).
"""

from __future__ import annotations

import math

import numpy as np

from sim.detect.legs import Legs

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
