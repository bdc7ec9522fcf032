"""The broad phase: which leg pairs can come close, without looking at every pair.

Legs are cut at a global time grid into short chunks, each chunk's box (x, y and altitude,
grown by half the reach and half the vertical limit) is hashed into (time bucket, cell)
keys, and within a key a sweep over time pairs only chunks flown at the same time; asked
for some party pairs only (``Meets``), it sweeps each party's entries against those of the
parties it meets, so a hundred thousand sorties of one side cost nothing against each
other. It is conservative: ``tests/test_narrow_phase.py`` holds it to brute force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.detect.legs import Legs
from sim.model.limits import LimitExceeded

MAX_CHUNKS = 4_000_000  # leg pieces in the broad phase at the most (about 0.5 GB)
BATCH_PAIRS = 2_000_000  # chunk pairs the broad phase looks at in one go (bounds memory)


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
    start, end = _sweep_keys(chunks, entry_chunk, entry_step)
    order = np.argsort(start)
    entry_chunk, entry_step, start = entry_chunk[order], entry_step[order], start[order]
    end = end[order]
    del order
    found, kept = [empty], 0
    unique_at = max_pairs  # the raw count at which duplicates are next taken out
    sides, wanted = _plan(chunks.flight[entry_chunk], meets)
    for a, b in _sweep_pairs(start, end, sides):
        if wanted is not None:
            keep = wanted(a, b)
            a, b = a[keep], b[keep]
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


def _sweep_keys(chunks: _Chunks, chunk: np.ndarray, step: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of each entry's (cell, start) and (cell, end) that sort and compare as
    those pairs: the cell's key times (chunks + 1) plus the time's rank among the chunks'
    starts (how many start before it), so that equal times get equal ranks and an end
    compares with a start as the times do."""
    starts = np.sort(chunks.start_s)
    scale = len(starts) + 1
    start_rank = np.searchsorted(starts, chunks.start_s, "left")
    end_rank = np.searchsorted(starts, chunks.end_s, "left")
    del starts
    key = chunks.cell_key(chunk, step)
    if float(key.max(initial=0)) * scale + scale >= 2.0**62:  # the cells' ranks instead
        order = np.argsort(key)
        ordered = key[order]
        key[order] = np.cumsum(np.r_[0, ordered[1:] != ordered[:-1]])
        del order, ordered
    key *= scale
    return key + start_rank[chunk], key + end_rank[chunk]


@dataclass(frozen=True, slots=True)
class Meets:
    """Which legs the broad phase pairs: those of flights whose parties (as small integer
    codes) form one of ``pairs``, each unordered and written (low, high)."""

    party_of_flight: np.ndarray
    pairs: frozenset[tuple[int, int]]


Sides = list[tuple[np.ndarray, np.ndarray | None]]
Wanted = Callable[[np.ndarray, np.ndarray], np.ndarray]
# Sweeps party by party while they are few, or while one sweep over all would mostly pair
# entries of one party with each other (two sides of a hundred thousand sorties each).
FEW_PARTIES = 4
WASTE_SHARE = 0.5


def _plan(flight: np.ndarray, meets: Meets | None) -> tuple[Sides, Wanted | None]:
    """The sweeps to run over the sorted entries (of chunks of ``flight``), and the filter
    of the entry pairs they give (None: every pair is wanted).

    Few parties: a sweep per party against those it meets (``_sides``). Many: one sweep
    over the entries of every party that meets another, its pairs filtered by their
    parties' codes, vectorised: a cost independent of the number of parties (a sweep per
    party would cost parties x entries).
    """
    if meets is None:
        return [(np.ones(len(flight), bool), None)], None
    party = meets.party_of_flight[flight]
    involved = np.array(sorted({p for pair in meets.pairs for p in pair}), np.int64)
    if len(involved) == 0:
        return [], None
    mask = np.zeros(int(max(involved.max(), party.max(initial=0))) + 1, bool)
    mask[involved] = True
    these = mask[party]
    counts = np.bincount(party[these]).astype(float)
    total = float(counts.sum())
    if len(involved) <= FEW_PARTIES or total == 0.0 or float(
            np.sum(counts**2)) / total**2 > WASTE_SHARE:
        return _sides(party, meets), None
    codes = len(mask)
    allowed = np.array(sorted(low * codes + high for low, high in meets.pairs), np.int64)
    complete = len(meets.pairs) == len(involved) * (len(involved) - 1) // 2 and all(
        low != high for low, high in meets.pairs)

    def wanted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        pa, pb = party[a], party[b]
        if complete:  # every two different parties: only same-party pairs go
            keep: np.ndarray = pa != pb
            return keep
        key = np.minimum(pa, pb) * codes + np.maximum(pa, pb)
        found = np.searchsorted(allowed, key)
        keep = (found < len(allowed)) & (allowed[np.minimum(found, len(allowed) - 1)] == key)
        return keep
    return [(these, None)], wanted


def _sides(party: np.ndarray, meets: Meets) -> Sides:
    """A sweep per party: (these, those) entry masks whose pairs are wanted, or
    (these, None) for pairs within ``these``."""
    sides: Sides = []
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
    in batches of about ``BATCH_PAIRS``. ``start`` and ``end`` are the (cell, time) keys
    of ``_sweep_keys`` of entries sorted by start; each unordered pair comes once."""
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
        spans = [int(self.bucket.max(initial=0)) + 1,
                 *(int(c.max(initial=0)) + 1 for c in self.last_cell)]
        if np.prod(np.array(spans, dtype=float)) < 2.0**62:
            # The key is linear in the cell: the chunk's first cell's key plus its step's.
            base = self.bucket.astype(np.int64)
            for column, span in zip(self.first_cell, spans[1:], strict=True):
                base = base * span + column
            offset = (_STEPS[0] * spans[2] + _STEPS[1]) * spans[3] + _STEPS[2]
            key: np.ndarray = base[chunk] + offset[step]
            return key
        columns = [self.bucket[chunk], *(self.first_cell[:, chunk] + _STEPS[:, step])]
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
        # Twice the tallest box: level flight's boxes (as tall as the limit) then lie in
        # one layer half the time rather than nearly always in two (box-10000-24h's
        # broad phase 3.0 s -> 2.2 s); the candidates do not depend on the cells.
        cell_m[2] = 2.0 * max(vertical_m, float(np.max(high[2] - low[2])), 1.0)
    first_cell = np.floor(low / cell_m[:, None]).astype(np.int64)
    last_cell = np.floor(high / cell_m[:, None]).astype(np.int64)
    origin = first_cell.min(axis=1, keepdims=True)
    return _Chunks(leg, legs.flight[leg], cs, ce, bucket - bucket.min(), low, high,
                   first_cell - origin, last_cell - origin)
