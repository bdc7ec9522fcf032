"""Exact episode detection on piecewise-linear tracks: pure numpy, no time step.

Every condition of SPEC §7 restricted to one straight leg (or one pair of legs) is an
interval of time: closest point of approach gives the quadratic for horizontal
distance, altitude and polygon edges are linear, and distance to a segment is a convex
"capsule". So each leg (pair) is solved in closed form, vectorised over all candidates,
and the pieces are merged into episodes when they touch within ``MERGE_GAP_S``.

A broad phase keeps the cost proportional to the pairs that can come close: legs are cut
at a global time grid into short chunks, each chunk's box (x, y and altitude, grown by
half the reach and half the vertical limit) is hashed into (time bucket, cell) keys, and
within a key a sweep over time pairs only chunks flown at the same time; asked for some
party pairs only (``Meets``), it sweeps each party's entries against those of the parties
it meets, so a hundred thousand sorties of one side cost nothing against each other. It is
conservative: ``tests/test_narrow_phase.py`` holds it to brute force.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely

from sim.limits import LimitExceeded

MERGE_GAP_S = 1e-3  # SPEC §7: intervals that touch within 1 ms are one episode
# An episode shorter than this (0.25 mm of flight at 250 m/s) is a rounding artefact of two
# boundaries that coincide (say the corridor's edge and a lane's tolerance), not an event.
MIN_EPISODE_S = 1e-6
CUT_SLACK = 1e-9  # relative position along a polygon edge still taken as on it
LANE_STEPS = 4  # stretches a leg is looked at in before lane discipline's exact solver
POLYGON_BLOCK = 1_000_000  # (leg, edge) pairs a zone's crossing test holds at once
SLACK_M = 1.0  # added to a stretch's length: more than the rounding of its ends
MAX_CHUNKS = 4_000_000  # leg pieces in the broad phase at the most (about 0.5 GB)
BATCH_PAIRS = 2_000_000  # chunk pairs the broad phase looks at in one go (bounds memory)
_EMPTY = (np.inf, -np.inf)


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
    with np.errstate(divide="ignore", invalid="ignore"):
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


# ---------------------------------------------------------------------------- broad phase


@dataclass(frozen=True, slots=True)
class PairStats:
    """What the broad phase saw: all leg pairs, the time-overlapping ones, the candidates."""

    legs: int
    all_pairs: int
    overlapping_pairs: int
    candidate_pairs: int


def overlapping_pair_count(legs: Legs) -> int:
    """Count the pairs of legs (self excluded) whose times overlap, without listing them."""
    if len(legs) < 2:
        return 0
    starts = np.sort(legs.t0_s)
    ends = np.sort(legs.t1_s)
    began_before_end = np.searchsorted(starts, legs.t1_s, side="left")
    ended_before_start = np.searchsorted(ends, legs.t0_s, side="right")
    return int((np.sum(began_before_end - ended_before_start) - len(legs)) // 2)


def candidate_leg_pairs(legs: Legs, reach_m: float, vertical_m: float | None = None,
                        max_pairs: int | None = None, meets: Meets | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of legs of different flights that overlap in time and may come within
    ``reach_m`` horizontally (and, if given, within ``vertical_m`` vertically); with
    ``meets``, only those of the party pairs it names.

    Returns leg index arrays (i, j) with i < j, unique, sorted. No pair that comes
    within reach while both legs are flown is ever left out. Raises ``LimitExceeded``
    as soon as there are surely more than ``max_pairs`` (memory stays bounded).
    """
    n = len(legs)
    empty = np.zeros(0, np.int64)
    if n < 2:
        return empty, empty
    chunks = _chunks(legs, reach_m, vertical_m)
    entry_chunk, entry_step = chunks.entries()
    # Sweep over time in each cell: entries by (cell, start), so the chunks that overlap
    # an entry's time are the ones after it that start before it ends.
    key = chunks.cell_key(entry_chunk, entry_step)
    order = np.lexsort((chunks.start_s[entry_chunk], key))
    entry_chunk, entry_step, key = entry_chunk[order], entry_step[order], key[order]
    group = np.cumsum(np.r_[False, key[1:] != key[:-1]])
    del key, order
    # (As complex numbers, (group, time) pairs sort and search as pairs.)
    start = group + 1j * chunks.start_s[entry_chunk]
    end = group + 1j * chunks.end_s[entry_chunk]
    del group
    found, kept = [empty], 0
    unique_at = max_pairs  # the raw count at which duplicates are next taken out
    for a, b in _sweep_pairs(start, end, _sides(chunks.flight[entry_chunk], meets)):
        found.append(chunks.leg_pairs(entry_chunk[a], entry_chunk[b], entry_step[a], n))
        kept += len(found[-1])
        if max_pairs is not None and unique_at is not None and kept > unique_at:
            found = [_unique(np.concatenate(found))]  # count them exactly
            kept = len(found[0])
            if kept > max_pairs:
                raise LimitExceeded("pairs", f"more than {max_pairs:,} leg pairs come within "
                                    f"{reach_m:,.0f} m of each other (dense traffic); lower "
                                    "the rate or the reach")
            # Not again before as many new pairs as the limit: the cost stays linear.
            unique_at = kept + max_pairs
    pair_key = _unique(np.concatenate(found))
    return pair_key // n, pair_key % n


def _unique(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, sorted. (Sorting in place: numpy 2.4's hashing
    ``np.unique`` took 75 s for 40 million random keys, a sort 1 s.)"""
    keys.sort()
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


@dataclass(frozen=True, slots=True)
class Meets:
    """Which legs the broad phase pairs: those of flights whose parties (as small integer
    codes) form one of ``pairs``, each unordered and written (low, high)."""

    party_of_flight: np.ndarray
    pairs: frozenset[tuple[int, int]]


def _sides(flight: np.ndarray, meets: Meets | None) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """The sweeps to run over the sorted entries (of chunks of ``flight``): (these, those)
    entry masks whose pairs are wanted, or (these, None) for pairs within ``these``."""
    if meets is None:
        return [(np.ones(len(flight), bool), None)]
    party = meets.party_of_flight[flight]
    sides: list[tuple[np.ndarray, np.ndarray | None]] = []
    for p in sorted({p for pair in meets.pairs for p in pair}):
        if (p, p) in meets.pairs:
            sides.append((party == p, None))
        others = [q for low, q in meets.pairs if low == p and q != p]
        if others:  # one sweep against every party p meets, not one per party
            sides.append((party == p, np.isin(party, others)))
    return sides


def _sweep_pairs(start: np.ndarray, end: np.ndarray,
                 sides: list[tuple[np.ndarray, np.ndarray | None]]
                 ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Entry pairs (a, b) that share a cell and overlap in time, for each of ``sides``,
    in batches of about ``BATCH_PAIRS``. ``start`` and ``end`` are (cell + 1j time) of
    entries sorted by start; each unordered pair comes once."""
    for these, those in sides:
        one = np.flatnonzero(these)
        if those is None:
            # Within one set: the partners of an entry are the ones after it.
            lo = np.arange(1, len(one) + 1)
            hi = _searchsorted(start[one], end[one], "left")
            yield from _ranges(one, one, lo, hi)
            continue
        other = np.flatnonzero(those)
        # Across two sets: each pair once, from the entry that starts first (ties: ``one``).
        yield from _ranges(one, other, _searchsorted(start[other], start[one], "left"),
                           _searchsorted(start[other], end[one], "left"))
        yield from _ranges(other, one, _searchsorted(start[one], start[other], "right"),
                           _searchsorted(start[one], end[other], "left"))


def _searchsorted(sorted_keys: np.ndarray, keys: np.ndarray, side: Literal["left", "right"]
                  ) -> np.ndarray:
    """``np.searchsorted`` in batches (its temporaries stay small)."""
    out = np.empty(len(keys), np.int64)
    for lo in range(0, len(keys), BATCH_PAIRS):
        out[lo:lo + BATCH_PAIRS] = np.searchsorted(sorted_keys, keys[lo:lo + BATCH_PAIRS], side)
    return out


def _ranges(query: np.ndarray, target: np.ndarray, lo: np.ndarray, hi: np.ndarray
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs (query[k], target[m]) for every m in [lo[k], hi[k]), in batches."""
    count = np.maximum(hi - lo, 0)
    if len(count) == 0:
        return
    total = np.cumsum(count)
    bounds = np.searchsorted(total, np.arange(BATCH_PAIRS, int(total[-1]), BATCH_PAIRS))
    del total
    for first, last in zip(np.r_[0, bounds], np.r_[bounds, len(count)], strict=True):
        c = count[first:last]
        k = np.repeat(np.arange(first, last), c)
        m = lo[k] + (np.arange(len(k)) - np.repeat(np.cumsum(c) - c, c))
        yield query[k], target[m]


# The eight ways a box's cell can lie from its low corner's cell (x, y, z offsets 0 or 1).
_STEPS = np.array(list(np.ndindex(2, 2, 2)), np.int64).T


@dataclass(frozen=True, slots=True)
class _Chunks:
    """Legs cut at a global time grid into chunks, each with its box (x, y, altitude)
    grown by half the reach and half the vertical limit, on a grid of cells such that a
    box spans at most two cells along each axis (cells counted from 0)."""

    leg: np.ndarray  # the leg of each chunk
    flight: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    bucket: np.ndarray  # the chunk's time bucket, from 0
    low: np.ndarray  # (3, chunks): the grown box's low corner: x, y, altitude (m)
    high: np.ndarray
    first_cell: np.ndarray  # (3, chunks): integer cell of the low corner
    last_cell: np.ndarray

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (chunk, cell) a box covers: the chunks, and each cell as a step from the
        chunk's first cell (an index into ``_STEPS``)."""
        chunks, steps = [], []
        span = self.last_cell - self.first_cell
        for k in range(8):
            covered = np.flatnonzero(np.all(_STEPS[:, k:k + 1] <= span, axis=0))
            chunks.append(covered.astype(np.int32))
            steps.append(np.full(len(covered), k, np.int8))
        return np.concatenate(chunks), np.concatenate(steps)

    def cell_key(self, chunk: np.ndarray, step: np.ndarray) -> np.ndarray:
        """One integer per (bucket, x, y, z) cell of each entry, ordered like the tuples;
        by rank if the product of the spans would not fit in 62 bits."""
        columns = [self.bucket[chunk], *(self.first_cell[:, chunk] + _STEPS[:, step])]
        spans = [int(c.max()) + 1 for c in columns]
        if np.prod(np.array(spans, dtype=float)) < 2.0**62:
            key: np.ndarray = columns[0]
            for column, span in zip(columns[1:], spans[1:], strict=True):
                key = key * span + column
            return key
        order = np.lexsort(columns[::-1])
        rank = np.empty(len(order), np.int64)
        changed = np.any([c[order][1:] != c[order][:-1] for c in columns], axis=0)
        rank[order] = np.cumsum(np.r_[0, changed])
        return rank

    def leg_pairs(self, a: np.ndarray, b: np.ndarray, step: np.ndarray, n: int) -> np.ndarray:
        """Keys i * n + j (i < j) of the leg pairs of chunk pairs (a, b) met in the cell
        ``step`` from a's first cell, whose boxes overlap. A pair of boxes sharing several
        cells is kept in one only: the cell holding the low corner of their intersection."""
        # Times overlap already (the sweep). Then each test on what the last one kept.
        keep = self.flight[a] != self.flight[b]
        a, b, step = a[keep], b[keep], step[keep]
        for axis in range(3):
            first_a = self.first_cell[axis, a]
            keep = (self.low[axis, a] <= self.high[axis, b]) & (
                self.low[axis, b] <= self.high[axis, a]) & (np.maximum(
                    first_a, self.first_cell[axis, b]) == first_a + _STEPS[axis, step])
            a, b, step = a[keep], b[keep], step[keep]
        la, lb = self.leg[a].astype(np.int64), self.leg[b].astype(np.int64)
        key: np.ndarray = np.minimum(la, lb) * n + np.maximum(la, lb)
        return key


def _chunks(legs: Legs, reach_m: float, vertical_m: float | None) -> _Chunks:
    n = len(legs)
    speed = np.hypot(legs.vx_mps, legs.vy_mps)
    v_max = max(float(np.max(speed)), 1.0)
    # A bucket long enough for a chunk to move about one reach (at least 20 km), so each
    # grown box covers at most 2 x 2 cells of a grid whose cell is chunk travel + reach.
    bucket_s = float(np.clip(max(reach_m, 20_000.0) / v_max, 10.0, 3600.0))
    # Bound the number of chunks (memory) whatever the durations: long, slow legs get
    # longer buckets, hence larger cells; the result is the same, only coarser pruning.
    total_s = float(np.sum(legs.t1_s - legs.t0_s))
    bucket_s = max(bucket_s, total_s / max(MAX_CHUNKS - 2 * n, 1))
    k0 = np.floor(legs.t0_s / bucket_s).astype(np.int64)
    k1 = np.maximum(np.ceil(legs.t1_s / bucket_s).astype(np.int64) - 1, k0)
    counts = k1 - k0 + 1
    leg = np.repeat(np.arange(n), counts)
    first = np.cumsum(counts) - counts
    bucket = k0[leg] + (np.arange(len(leg)) - first[leg])
    cs = np.maximum(legs.t0_s[leg], bucket * bucket_s)
    ce = np.minimum(legs.t1_s[leg], (bucket + 1) * bucket_s)
    xs, ys = legs.position(leg, cs)
    xe, ye = legs.position(leg, ce)
    zs, ze = legs.altitude(leg, cs), legs.altitude(leg, ce)
    half = reach_m / 2.0
    low = np.stack([np.minimum(xs, xe) - half, np.minimum(ys, ye) - half, np.minimum(zs, ze)])
    high = np.stack([np.maximum(xs, xe) + half, np.maximum(ys, ye) + half, np.maximum(zs, ze)])
    cell_m = np.full(3, v_max * bucket_s + reach_m)
    if vertical_m is None:  # one layer of cells, whatever the altitudes
        low[2], high[2] = 0.0, 0.0
        cell_m[2] = 1.0
    else:
        low[2] -= vertical_m / 2.0
        high[2] += vertical_m / 2.0
        cell_m[2] = max(vertical_m, float(np.max(high[2] - low[2])), 1.0)
    first_cell = np.floor(low / cell_m[:, None]).astype(np.int64)
    last_cell = np.floor(high / cell_m[:, None]).astype(np.int64)
    origin = first_cell.min(axis=1, keepdims=True)
    return _Chunks(leg, legs.flight[leg], cs, ce, bucket - bucket.min(), low, high,
                   first_cell - origin, last_cell - origin)


# ---------------------------------------------------------------------------- narrow phase


@dataclass(frozen=True, slots=True)
class PairPieces:
    """Intervals in which a leg pair's separation condition holds, with the closest approach."""

    leg_i: np.ndarray
    leg_j: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    min_distance_m: np.ndarray
    min_time_s: np.ndarray


def separation_pieces(legs: Legs, i: np.ndarray, j: np.ndarray, horizontal_m: float,
                      vertical_m: float | None) -> PairPieces:
    """Solve, for each leg pair (i, j), when horizontal distance < ``horizontal_m`` and
    (if given) |altitude difference| < ``vertical_m``; return the non-empty pieces."""
    ts = np.maximum(legs.t0_s[i], legs.t0_s[j])
    te = np.minimum(legs.t1_s[i], legs.t1_s[j])
    span = te - ts
    xi, yi = legs.position(i, ts)
    xj, yj = legs.position(j, ts)
    d0x, d0y = xj - xi, yj - yi
    dvx, dvy = legs.vx_mps[j] - legs.vx_mps[i], legs.vy_mps[j] - legs.vy_mps[i]
    lo, hi = within_radius(d0x, d0y, dvx, dvy, horizontal_m)
    if vertical_m is not None:
        dz0 = legs.altitude(j, ts) - legs.altitude(i, ts)
        vlo, vhi = between_bounds(dz0, legs.vz_mps[j] - legs.vz_mps[i], -vertical_m, vertical_m)
        lo, hi = np.maximum(lo, vlo), np.minimum(hi, vhi)
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, span)
    keep = hi > lo
    lo, hi, span, ts = lo[keep], hi[keep], span[keep], ts[keep]
    d0x, d0y, dvx, dvy = d0x[keep], d0y[keep], dvx[keep], dvy[keep]
    a = dvx * dvx + dvy * dvy
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_star = np.where(a > 0.0, -(d0x * dvx + d0y * dvy) / a, lo)
    tau_min = np.clip(tau_star, lo, hi)
    distance = np.hypot(d0x + dvx * tau_min, d0y + dvy * tau_min)
    # Ends that are the legs' own ends are taken as they are, so that pieces meeting at a
    # waypoint share the exact same instant.
    start = np.where(lo <= 0.0, ts, ts + lo)
    end = np.where(hi >= span, ts + span, ts + hi)
    end = np.where(hi >= span, np.minimum(legs.t1_s[i[keep]], legs.t1_s[j[keep]]), end)
    return PairPieces(i[keep], j[keep], start, end, distance, ts + tau_min)


@dataclass(frozen=True, slots=True)
class LegPieces:
    """Intervals (absolute times) in which a condition holds for one leg."""

    leg: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray


def _absolute(legs: Legs, leg: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> LegPieces:
    span = legs.t1_s[leg] - legs.t0_s[leg]
    start = np.where(lo <= 0.0, legs.t0_s[leg], legs.t0_s[leg] + lo)
    end = np.where(hi >= span, legs.t1_s[leg], legs.t0_s[leg] + hi)
    return LegPieces(leg, start, end)


def _leg_boxes(legs: Legs) -> np.ndarray:
    x1 = legs.x0_m + legs.vx_mps * (legs.t1_s - legs.t0_s)
    y1 = legs.y0_m + legs.vy_mps * (legs.t1_s - legs.t0_s)
    boxes: np.ndarray = shapely.box(np.minimum(legs.x0_m, x1), np.minimum(legs.y0_m, y1),
                                    np.maximum(legs.x0_m, x1), np.maximum(legs.y0_m, y1))
    return boxes


def near_segments(legs: Legs, boxes: np.ndarray, segments: np.ndarray, radius: float,
                  closed: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervals (leg-local tau) in which legs are closer than ``radius`` to segments
    (at most ``radius`` away, with ``closed``).

    Returns (leg, lo, hi) for the (leg, segment) meetings, clipped to the leg; closed
    meetings may be single instants.
    """
    if len(segments) == 0 or len(legs) == 0:
        z = np.zeros(0)
        return np.zeros(0, np.int64), z, z
    seg_boxes = shapely.box(np.minimum(segments[:, 0], segments[:, 2]) - radius,
                            np.minimum(segments[:, 1], segments[:, 3]) - radius,
                            np.maximum(segments[:, 0], segments[:, 2]) + radius,
                            np.maximum(segments[:, 1], segments[:, 3]) + radius)
    leg, seg = shapely.STRtree(seg_boxes).query(boxes, predicate="intersects")
    s = segments[seg]
    lo, hi = capsule_interval(legs.x0_m[leg], legs.y0_m[leg], legs.vx_mps[leg],
                              legs.vy_mps[leg], s[:, 0], s[:, 1], s[:, 2], s[:, 3], radius,
                              closed)
    lo = np.maximum(lo, 0.0)
    hi = np.minimum(hi, legs.t1_s[leg] - legs.t0_s[leg])
    keep = (hi >= lo) if closed else (hi > lo)
    return leg[keep], lo[keep], hi[keep]


def lane_pieces(legs: Legs, corridor: np.ndarray, half_width_m: float, lanes: np.ndarray,
                tolerance_m: float) -> LegPieces:
    """Intervals in which legs are inside the corridor (closer than ``half_width_m`` to its
    centerline segments) and farther than ``tolerance_m`` from every lane segment."""
    # Distance to a line changes no faster than the aircraft moves, so from the distances
    # at the ends of a stretch (d0, d1) and its length L, the distance anywhere along it
    # lies in [(d0 + d1 - L) / 2, (d0 + d1 + L) / 2]. A stretch where the aircraft is surely
    # near its lane, or surely outside the corridor, cannot be in violation. Legs are
    # looked at whole, then those left in LANE_STEPS stretches; a leg with no stretch left
    # skips the exact solver. (SLACK_M covers the rounding of the stretch ends.)
    span = legs.t1_s - legs.t0_s
    speed = np.hypot(legs.vx_mps, legs.vy_mps)
    x1, y1 = legs.x0_m + legs.vx_mps * span, legs.y0_m + legs.vy_mps * span
    to_lane, to_center = _distances(np.stack([legs.x0_m, x1], axis=1),
                                    np.stack([legs.y0_m, y1], axis=1), lanes, corridor)
    may_violate = _may_violate(to_lane, to_center, speed * span + SLACK_M, half_width_m,
                               tolerance_m)
    # The legs left, in stretches: the ends' distances are known, the inner points are new.
    look = np.flatnonzero(may_violate)
    f = np.linspace(0.0, 1.0, LANE_STEPS + 1)[1:-1]
    inner_lane, inner_center = _distances(
        legs.x0_m[look, None] + (legs.vx_mps[look] * span[look])[:, None] * f,
        legs.y0_m[look, None] + (legs.vy_mps[look] * span[look])[:, None] * f, lanes, corridor)
    may_violate[look] = _may_violate(
        np.column_stack([to_lane[look, 0], inner_lane, to_lane[look, 1]]),
        np.column_stack([to_center[look, 0], inner_center, to_center[look, 1]]),
        speed[look] * span[look] / LANE_STEPS + SLACK_M, half_width_m, tolerance_m)
    index = np.flatnonzero(may_violate)
    pieces = _lane_pieces_exact(legs.select(may_violate), corridor, half_width_m, lanes,
                                tolerance_m)
    return LegPieces(index[pieces.leg], pieces.start_s, pieces.end_s)


def _may_violate(to_lane: np.ndarray, to_center: np.ndarray, length_m: np.ndarray,
                 half_width_m: float, tolerance_m: float) -> np.ndarray:
    """Whether any stretch of a leg may be off its lane inside the corridor, from the
    distances at the stretches' ends (rows of points) and a stretch's length."""
    off_lane = (to_lane[:, :-1] + to_lane[:, 1:] + length_m[:, None]) / 2.0 > tolerance_m
    in_corridor = (to_center[:, :-1] + to_center[:, 1:] - length_m[:, None]) / 2.0 < half_width_m
    flags: np.ndarray = np.any(off_lane & in_corridor, axis=1)
    return flags


def _distances(x: np.ndarray, y: np.ndarray, *segment_sets: np.ndarray) -> list[np.ndarray]:
    """Distance of each point (x, y: arrays of one shape) to each set of segments (inf
    when a set is empty)."""
    # Racetrack laps pass the same few points again and again: ask once per point.
    # (As complex numbers, points sort and compare as (x, y) pairs, and fast.)
    points, back = np.unique((x + 1j * y).ravel(), return_inverse=True)
    geometries = shapely.points(points.real, points.imag)
    out = []
    for segments in segment_sets:
        distance = np.full(len(points), np.inf)
        if len(segments):
            tree = shapely.STRtree(shapely.linestrings(segments.reshape(-1, 2, 2)))
            (which, _), nearest = tree.query_nearest(geometries, return_distance=True,
                                                     all_matches=False)
            distance[which] = nearest
        out.append(distance[back].reshape(x.shape))
    return out


def _lane_pieces_exact(legs: Legs, corridor: np.ndarray, half_width_m: float,
                       lanes: np.ndarray, tolerance_m: float) -> LegPieces:
    """The exact solution of ``lane_pieces`` for the given legs."""
    boxes = _leg_boxes(legs)
    c_leg, c_lo, c_hi = near_segments(legs, boxes, corridor, half_width_m)
    # "Farther than the tolerance" is strict: exactly at the tolerance is on the lane.
    l_leg, l_lo, l_hi = near_segments(legs, boxes, lanes, tolerance_m, closed=True)
    # One sweep over sorted events per leg: A counts corridor capsules the point is in,
    # B lane capsules. Each leg's events sum to zero, so one global cumsum serves all legs.
    n_c, n_l = len(c_leg), len(l_leg)
    ev_leg = np.concatenate([c_leg, c_leg, l_leg, l_leg])
    ev_t = np.concatenate([c_lo, c_hi, l_lo, l_hi])
    ev_a = np.concatenate([np.ones(n_c), -np.ones(n_c), np.zeros(2 * n_l)])
    ev_b = np.concatenate([np.zeros(2 * n_c), np.ones(n_l), -np.ones(n_l)])
    order = np.lexsort((ev_t, ev_leg))
    ev_leg, ev_t = ev_leg[order], ev_t[order]
    in_corridor = np.cumsum(ev_a[order]) > 0.5
    near_lane = np.cumsum(ev_b[order]) > 0.5
    holds = in_corridor[:-1] & ~near_lane[:-1] & (ev_leg[1:] == ev_leg[:-1]) & (
        ev_t[1:] > ev_t[:-1])
    k = np.flatnonzero(holds)
    return _absolute(legs, ev_leg[k], ev_t[k], ev_t[k + 1])


def circle_pieces(legs: Legs, candidates: np.ndarray, center: tuple[float, float],
                  radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg-local intervals (leg, lo, hi) strictly inside a circle."""
    lo, hi = within_radius(legs.x0_m[candidates] - center[0], legs.y0_m[candidates] - center[1],
                           legs.vx_mps[candidates], legs.vy_mps[candidates], radius_m)
    return candidates, lo, hi


def polygon_pieces(legs: Legs, candidates: np.ndarray, ring: np.ndarray, shape: shapely.Polygon
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg-local intervals (leg, lo, hi) strictly inside a polygon.

    The times a leg crosses the polygon's edges (a linear equation per edge) cut the leg
    into pieces that are wholly inside or wholly outside; a piece's midpoint tells which.
    """
    if len(candidates) == 0:
        z = np.zeros(0)
        return candidates, z, z
    # (legs x edges) arrays: in row blocks of bounded size, so a zone of many vertices
    # costs time, not memory. Rows are independent, so the result is the same.
    rows = max(1, POLYGON_BLOCK // max(len(ring) - 1, 1))
    if len(candidates) > rows:
        parts = [polygon_pieces(legs, candidates[k:k + rows], ring, shape)
                 for k in range(0, len(candidates), rows)]
        return (np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts]),
                np.concatenate([q[2] for q in parts]))
    span = (legs.t1_s - legs.t0_s)[candidates]
    px, py = legs.x0_m[candidates][:, None], legs.y0_m[candidates][:, None]
    vx, vy = legs.vx_mps[candidates][:, None], legs.vy_mps[candidates][:, None]
    ax, ay = ring[:-1, 0][None, :], ring[:-1, 1][None, :]
    ex, ey = (ring[1:, 0] - ring[:-1, 0])[None, :], (ring[1:, 1] - ring[:-1, 1])[None, :]
    wx, wy = ax - px, ay - py
    denom = vx * ey - vy * ex
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = (wx * ey - wy * ex) / denom
        u = (wx * vy - wy * vx) / denom
        # A leg through a corner meets both edges at u = 0 or 1, which rounding can push
        # just outside [0, 1] on both. Extra cuts are harmless (each piece is classified by
        # its midpoint), a missing one is not, so the test is generous.
        crossing = (denom != 0.0) & (u >= -CUT_SLACK) & (u <= 1.0 + CUT_SLACK)
        # Legs running along an edge: the edge's ends cut the leg.
        vv = vx * vx + vy * vy
        collinear = (denom == 0.0) & (wx * vy - wy * vx == 0.0)
        tau_a = (wx * vx + wy * vy) / vv
        tau_b = ((wx + ex) * vx + (wy + ey) * vy) / vv
    cuts = np.concatenate([np.where(crossing, tau, np.nan), np.where(collinear, tau_a, np.nan),
                           np.where(collinear, tau_b, np.nan)], axis=1)
    cuts = np.where((cuts > 0.0) & (cuts < span[:, None]), cuts, np.nan)
    cuts = np.concatenate([np.zeros((len(candidates), 1)), cuts, span[:, None]], axis=1)
    cuts.sort(axis=1)  # nan last
    lo, hi = cuts[:, :-1], cuts[:, 1:]
    valid = np.isfinite(hi) & (hi > lo)
    row, col = np.nonzero(valid)
    lo, hi = lo[row, col], hi[row, col]
    leg = candidates[row]
    mid = 0.5 * (lo + hi)
    inside = shapely.contains_xy(shape, legs.x0_m[leg] + legs.vx_mps[leg] * mid,
                                 legs.y0_m[leg] + legs.vy_mps[leg] * mid)
    return leg[inside], lo[inside], hi[inside]


def zone_pieces(legs: Legs, inside: tuple[np.ndarray, np.ndarray, np.ndarray], floor_m: float,
                ceiling_m: float, active_start_s: float, active_end_s: float) -> LegPieces:
    """Intersect inside-the-area intervals with the altitude band and the active window."""
    leg, lo, hi = inside
    zlo, zhi = between_bounds(legs.z0_m[leg], legs.vz_mps[leg], floor_m, ceiling_m)
    alo, ahi = between_bounds(legs.t0_s[leg], np.ones(len(leg)), active_start_s, active_end_s)
    lo = np.maximum.reduce([lo, zlo, alo, np.zeros(len(leg))])
    hi = np.minimum.reduce([hi, zhi, ahi, legs.t1_s[leg] - legs.t0_s[leg]])
    keep = hi > lo
    return _absolute(legs, leg[keep], lo[keep], hi[keep])


# ---------------------------------------------------------------------------- merging


def merge_pieces(key: np.ndarray, start_s: np.ndarray, end_s: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Group pieces into episodes: same key and touching within ``MERGE_GAP_S``.

    Returns (order, episode) where ``order`` sorts the pieces by (key, start) and
    ``episode[k]`` is the episode number of the k-th piece in that order.
    """
    if len(key) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    order = np.lexsort((start_s, key))
    k, s, e = key[order], start_s[order], end_s[order]
    key_starts = np.r_[True, k[1:] != k[:-1]]
    # Pieces of one key never overlap for the built-in rules, but merging against the
    # running maximum end keeps this right for any rule.
    reach = _segmented_max(e, key_starts)
    new = key_starts | np.r_[True, s[1:] - reach[:-1] > MERGE_GAP_S]
    return order, np.cumsum(new) - 1


def episode_bounds(order: np.ndarray, episode: np.ndarray, start_s: np.ndarray,
                   end_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and end of each merged episode, and which to keep (long enough to count).

    Returns (first, start, end, keep): ``first[k]`` is where episode k's pieces begin in
    ``order``; ``keep`` drops episodes shorter than ``MIN_EPISODE_S``.
    """
    first = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]])
    start = start_s[order][first]
    end = np.maximum.reduceat(end_s[order], first)
    return first, start, end, end - start >= MIN_EPISODE_S


def _segmented_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarting wherever ``starts`` is True, exactly.

    Works on the values' ranks (integers), lifted by group so one accumulate serves all
    groups, then maps the ranks back: no floating-point offsets, nothing rounded.
    """
    n = len(values)
    by_value = np.argsort(values, kind="stable")
    rank = np.empty(n, np.int64)
    rank[by_value] = np.arange(n)
    lift = (np.cumsum(starts) - 1) * n
    running: np.ndarray = values[by_value][np.maximum.accumulate(rank + lift) - lift]
    return running
