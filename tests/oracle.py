"""Brute-force test oracle for violation episodes, found by sampling time densely.

The product (package ``sim``) detects episodes analytically: closest points of approach,
interval solving, exact boundary crossings. This module computes the same episodes the
slow and obvious way, so that tests can check one against the other: evaluate the rule's
condition (docs/exactness.md) at many instants and group the instants where it holds into episodes.
It deliberately imports nothing from ``sim``; only numpy (its point-in-polygon is
its own crossing number, not the ``shapely.contains_xy`` the product uses).

Model (docs/exactness.md):

* A *track* is a sequence of vertices ``(t_s, x_m, y_m, z_m)`` with non-decreasing ``t``.
  The aircraft exists on ``[t_first, t_last]`` and moves at constant velocity between
  consecutive vertices. Vertices may repeat (a hover); two vertices may share a time (a
  zero-duration leg). At a time shared by several vertices the position is the *last* of
  them, the one the aircraft leaves from (a zero-duration leg has no interior instant, so
  this choice cannot create or remove an episode of positive length).
* Conditions are strict: ``<``, ``>``, strictly inside; never on the boundary.

Sampling and its accuracy:

* The instants sampled are a regular grid of step ``dt`` over the time the condition can
  possibly hold (the tracks' common existence), both ends included, *plus* every vertex
  time of the track(s) involved, so that turns and the ends of existence are sampled
  exactly. Consecutive samples are therefore never more than ``dt`` apart.
* ``SampledEpisode.start_s`` / ``end_s`` are the first / last *sample* where the condition
  holds. The true episode starts in ``(start_s - dt, start_s]`` and ends in
  ``[end_s, end_s + dt)``; exactly at the sampled value when that is the start or end of
  existence.
* An episode shorter than ``dt`` may be missed entirely; two true episodes separated by a
  gap shorter than about ``2 * dt`` may be reported as one (see ``merge_gap_s`` below).
* ``min_distance_m`` is the least *sampled* horizontal distance, so it is at least the true
  minimum and exceeds it by at most ``relative ground speed * dt / 2``.

Merging: the spec merges intervals that touch within 1 ms (also across a turn). Sampling
cannot see a gap shorter than the sample spacing, and a single sample where the condition
fails (for instance an instant where an aircraft grazes a boundary exactly at a waypoint)
must not split an episode. Runs of holding samples are therefore merged when
``next start - previous end <= merge_gap_s``, whose default is ``2 * dt + 0.001`` s: one
failing sample between two holding ones (at most ``2 * dt`` apart) never splits. Pass
``merge_gap_s=1.5 * dt + 0.001`` to merge only runs with no failing sample between them
(which then splits on such a single failing sample).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Track = Sequence[Sequence[float]] | FloatArray
"""Vertices ``(t_s, x_m, y_m, z_m)``, as a sequence of 4-sequences or an ``(n, 4)`` array."""
Polyline = Sequence[Sequence[float]] | FloatArray
"""Points ``(x_m, y_m)``, as a sequence of pairs or an ``(n, 2)`` array."""

MERGE_SLACK_S = 0.001
"""The spec's 1 ms: intervals this close are one episode."""

# Upper bound on the elements of one (samples x segments) block in the polyline distance,
# so that 1e5 samples against a long centerline do not allocate gigabytes at once.
_BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True, slots=True)
class SampledEpisode:
    """One episode as seen by sampling.

    Attributes:
        start_s: First sampled time at which the condition holds.
        end_s: Last sampled time at which the condition holds.
        min_distance_m: Separation only: least sampled horizontal distance among the
            samples of the episode where the condition holds; ``nan`` for lane and zone.
        min_time_s: Separation only: the (first) sampled time of that least distance;
            ``nan`` for lane and zone.
        min_slant_m: Separation only: least sampled 3D distance among those samples;
            ``nan`` for lane and zone.
    """

    start_s: float
    end_s: float
    min_distance_m: float
    min_time_s: float
    min_slant_m: float = math.nan


@dataclass(frozen=True, slots=True)
class TrackState:
    """A track evaluated at given times.

    Attributes:
        exists: Whether the aircraft exists at each time.
        x_m: East coordinate at each time (``nan`` where it does not exist).
        y_m: North coordinate at each time (``nan`` where it does not exist).
        z_m: Altitude at each time (``nan`` where it does not exist).
    """

    exists: BoolArray
    x_m: FloatArray
    y_m: FloatArray
    z_m: FloatArray


# --------------------------------------------------------------------------- tracks


def as_track(track: Track) -> FloatArray:
    """Return a track as a validated ``(n, 4)`` float array.

    Args:
        track: Vertices ``(t_s, x_m, y_m, z_m)``.

    Returns:
        The vertices as an ``(n, 4)`` array of float64.

    Raises:
        ValueError: If the track is empty, not 4 columns wide, not finite, or its times
            decrease.
    """
    arr = np.asarray(track, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4 or arr.shape[0] == 0:
        raise ValueError(f"a track is a non-empty list of (t, x, y, z); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("a track's vertices must be finite")
    if np.any(np.diff(arr[:, 0]) < 0):
        raise ValueError("a track's times must be non-decreasing")
    return arr


def track_span(track: Track) -> tuple[float, float]:
    """Return ``(t_first, t_last)``, the interval on which the aircraft exists."""
    arr = as_track(track)
    return float(arr[0, 0]), float(arr[-1, 0])


def track_state(track: Track, times: FloatArray | Sequence[float]) -> TrackState:
    """Evaluate a piecewise-linear track at the given times (vectorised).

    Args:
        track: Vertices ``(t_s, x_m, y_m, z_m)``.
        times: Times to evaluate at, any order.

    Returns:
        Existence and position at each time; positions are ``nan`` where the aircraft
        does not exist. At a time shared by several vertices the position is the last of
        those vertices.
    """
    arr = as_track(track)
    t = np.asarray(times, dtype=np.float64)
    ts = arr[:, 0]
    exists = (t >= ts[0]) & (t <= ts[-1])
    if arr.shape[0] == 1:
        pos = np.broadcast_to(arr[0, 1:], (t.size, 3)).copy()
    else:
        # Leg i runs from vertex i to vertex i+1; 'right' picks, for a time equal to a
        # vertex time, the leg that leaves the last vertex at that time.
        leg = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, arr.shape[0] - 2)
        t_a = ts[leg]
        dur = ts[leg + 1] - t_a
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(dur > 0, (t - t_a) / np.where(dur > 0, dur, 1.0), 1.0)
        frac = np.clip(frac, 0.0, 1.0)
        p_a = arr[leg, 1:]
        p_b = arr[leg + 1, 1:]
        pos = p_a + (p_b - p_a) * frac[:, None]
    pos[~exists] = np.nan
    return TrackState(exists=exists, x_m=pos[:, 0], y_m=pos[:, 1], z_m=pos[:, 2])


# --------------------------------------------------------------------------- sampling


def sample_times(t0: float, t1: float, dt: float) -> FloatArray:
    """Return a regular grid from ``t0`` to ``t1`` with step at most ``dt``, both ends included.

    The grid is ``t0, t0 + dt, t0 + 2 dt, ...`` and ends with ``t1`` exactly (a last
    grid point within ``1e-9 dt`` of ``t1`` is replaced by ``t1``).

    Args:
        t0: First time.
        t1: Last time, ``>= t0``.
        dt: Step, ``> 0``.

    Returns:
        Strictly increasing times (a single time when ``t0 == t1``).

    Raises:
        ValueError: If ``dt <= 0``, ``t1 < t0`` or a bound is not finite.
    """
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be a positive finite number, got {dt}")
    if not (math.isfinite(t0) and math.isfinite(t1)) or t1 < t0:
        raise ValueError(f"need finite t0 <= t1, got {t0}, {t1}")
    n = int(math.floor((t1 - t0) / dt))
    grid = t0 + np.arange(n + 1, dtype=np.float64) * dt
    grid = grid[grid <= t1]
    if grid.size and t1 - grid[-1] <= 1e-9 * dt:
        grid[-1] = t1
    else:
        grid = np.append(grid, t1)
    return grid


def _window_times(t0: float, t1: float, dt: float, *tracks: FloatArray) -> FloatArray:
    """Grid over ``[t0, t1]`` plus every vertex time of ``tracks`` inside it, sorted, unique."""
    grid = sample_times(t0, t1, dt)
    extra = [trk[:, 0][(trk[:, 0] >= t0) & (trk[:, 0] <= t1)] for trk in tracks]
    return np.unique(np.concatenate([grid, *extra]))


def runs_of(times: FloatArray, holds: BoolArray, merge_gap_s: float) -> list[tuple[int, int]]:
    """Group the samples where a condition holds into episodes.

    Args:
        times: Increasing sample times.
        holds: Whether the condition holds at each sample.
        merge_gap_s: Two runs of holding samples are one episode when the next run's
            first time minus the previous run's last time is at most this.

    Returns:
        ``(first_index, last_index)`` of each episode, in time order; both indices are
        samples where the condition holds.
    """
    h = np.asarray(holds, dtype=bool)
    if not h.any():
        return []
    padded = np.concatenate([[False], h, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    merged: list[tuple[int, int]] = []
    cur_s, cur_e = int(starts[0]), int(ends[0])
    for s, e in zip(starts[1:], ends[1:], strict=True):
        if times[s] - times[cur_e] <= merge_gap_s:
            cur_e = int(e)
        else:
            merged.append((cur_s, cur_e))
            cur_s, cur_e = int(s), int(e)
    merged.append((cur_s, cur_e))
    return merged


def _default_merge_gap(dt: float, merge_gap_s: float | None) -> float:
    return 2.0 * dt + MERGE_SLACK_S if merge_gap_s is None else merge_gap_s


def _plain_episodes(
    times: FloatArray, holds: BoolArray, merge_gap_s: float
) -> list[SampledEpisode]:
    return [
        SampledEpisode(float(times[i]), float(times[j]), math.nan, math.nan)
        for i, j in runs_of(times, holds, merge_gap_s)
    ]


# --------------------------------------------------------------------------- geometry


def _as_points(polyline: Polyline) -> FloatArray:
    pts = np.asarray(polyline, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"a polyline is a non-empty list of (x, y); got shape {pts.shape}")
    return pts


def polyline_distance(x_m: FloatArray, y_m: FloatArray, polyline: Polyline) -> FloatArray:
    """Euclidean distance from each point to a polyline (vectorised, pure numpy).

    Args:
        x_m: Point x coordinates.
        y_m: Point y coordinates (same shape as ``x_m``).
        polyline: Vertices of the polyline; a single vertex is a point.

    Returns:
        Distances, ``nan`` where a coordinate is ``nan``.
    """
    pts = _as_points(polyline)
    px = np.asarray(x_m, dtype=np.float64).ravel()
    py = np.asarray(y_m, dtype=np.float64).ravel()
    if pts.shape[0] == 1:
        to_point: FloatArray = np.hypot(px - pts[0, 0], py - pts[0, 1])
        return to_point
    ax, ay = pts[:-1, 0], pts[:-1, 1]
    dx, dy = pts[1:, 0] - ax, pts[1:, 1] - ay
    len2 = dx * dx + dy * dy
    # A zero-length segment is its first point: projecting with factor 0 gives that.
    inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0)
    best2 = np.full(px.shape, np.inf)
    step = max(1, _BLOCK_ELEMENTS // max(1, px.size))
    for k in range(0, ax.size, step):
        sl = slice(k, k + step)
        rx = px[:, None] - ax[None, sl]
        ry = py[:, None] - ay[None, sl]
        u = rx * dx[None, sl]
        u += ry * dy[None, sl]
        u *= inv_len2[None, sl]
        np.clip(u, 0.0, 1.0, out=u)
        rx -= u * dx[None, sl]
        ry -= u * dy[None, sl]
        rx *= rx
        ry *= ry
        rx += ry
        np.minimum(best2, rx.min(axis=1), out=best2)
    best: FloatArray = np.sqrt(best2)
    best[np.isnan(px) | np.isnan(py)] = np.nan
    return best


def crossing_number_inside(x_m: FloatArray, y_m: FloatArray, ring: FloatArray) -> BoolArray:
    """Whether each point is strictly inside a simple polygon, by the crossing number.

    A ray from the point towards +x crosses the ring an odd number of times when the point
    is inside; an edge counts when one end is above the point and the other is not (the
    half-open rule, so that a vertex on the ray is counted once). A point on an edge
    (collinear with it, within its bounding box) is on the boundary: outside.

    Args:
        x_m: Point x coordinates (finite).
        y_m: Point y coordinates (finite, same shape as ``x_m``).
        ring: The polygon's corners, ``(n, 2)``, not closed.

    Returns:
        A boolean per point.
    """
    px = np.asarray(x_m, dtype=np.float64).ravel()[:, None]
    py = np.asarray(y_m, dtype=np.float64).ravel()[:, None]
    ax, ay = ring[:, 0][None, :], ring[:, 1][None, :]
    bx, by = np.roll(ring[:, 0], -1)[None, :], np.roll(ring[:, 1], -1)[None, :]
    straddles = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    on_edge = ((cross == 0.0) & (px >= np.minimum(ax, bx)) & (px <= np.maximum(ax, bx))
               & (py >= np.minimum(ay, by)) & (py <= np.maximum(ay, by)))
    inside: BoolArray = (crossings % 2 == 1) & ~on_edge.any(axis=1)
    return inside.reshape(np.shape(x_m))


def inside_area(x_m: FloatArray, y_m: FloatArray, area: Mapping[str, Any]) -> BoolArray:
    """Whether each point is strictly inside an area (never on its boundary).

    Args:
        x_m: Point x coordinates.
        y_m: Point y coordinates.
        area: ``{"polygon": [(x, y), ...]}`` or ``{"circle": ((cx, cy), r)}``.

    Returns:
        A boolean per point; ``False`` where a coordinate is ``nan``.

    Raises:
        ValueError: If the area has neither key.
    """
    x = np.asarray(x_m, dtype=np.float64)
    y = np.asarray(y_m, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    if "polygon" in area:
        inside = crossing_number_inside(np.where(finite, x, 0.0), np.where(finite, y, 0.0),
                                        _as_points(area["polygon"]))
        return inside & finite
    if "circle" in area:
        (cx, cy), r = area["circle"]
        with np.errstate(invalid="ignore"):
            in_circle: BoolArray = (np.hypot(x - float(cx), y - float(cy)) < float(r)) & finite
            return in_circle
    raise ValueError(f"an area is {{'polygon': ...}} or {{'circle': ...}}; got keys {list(area)}")


# --------------------------------------------------------------------------- rules


def distance_series(a: Track, b: Track, times: FloatArray | Sequence[float]) -> FloatArray:
    """Horizontal distance between two tracks at each time.

    Args:
        a: First track.
        b: Second track.
        times: Times to evaluate at.

    Returns:
        The distance where both aircraft exist, ``nan`` elsewhere.
    """
    sa, sb = track_state(a, times), track_state(b, times)
    d = np.hypot(sa.x_m - sb.x_m, sa.y_m - sb.y_m)
    d[~(sa.exists & sb.exists)] = np.nan
    return d


def separation_episodes(
    a: Track,
    b: Track,
    horizontal_m: float,
    vertical_m: float | None,
    dt: float,
    merge_gap_s: float | None = None,
) -> list[SampledEpisode]:
    """Episodes of lost separation between two aircraft, by sampling.

    Condition at time t: both exist, horizontal distance ``< horizontal_m`` and, when
    ``vertical_m`` is not ``None``, ``|z_a - z_b| < vertical_m`` (altitudes linear in time
    between vertices, as positions are).

    Args:
        a: First track.
        b: Second track.
        horizontal_m: Horizontal separation minimum.
        vertical_m: Vertical separation minimum, or ``None`` for horizontal only.
        dt: Largest spacing between samples.
        merge_gap_s: See the module docstring; default ``2 * dt + 0.001``.

    Returns:
        Episodes in time order, with the least sampled horizontal distance and its time,
        and the least sampled 3D distance.
    """
    ta, tb = as_track(a), as_track(b)
    lo = max(ta[0, 0], tb[0, 0])
    hi = min(ta[-1, 0], tb[-1, 0])
    if hi < lo:
        return []
    times = _window_times(float(lo), float(hi), dt, ta, tb)
    sa, sb = track_state(ta, times), track_state(tb, times)
    both = sa.exists & sb.exists
    dist = np.hypot(sa.x_m - sb.x_m, sa.y_m - sb.y_m)
    slant = np.sqrt(dist**2 + (sa.z_m - sb.z_m) ** 2)
    with np.errstate(invalid="ignore"):
        holds = both & (dist < horizontal_m)
        if vertical_m is not None:
            holds &= np.abs(sa.z_m - sb.z_m) < vertical_m
    out: list[SampledEpisode] = []
    for i, j in runs_of(times, holds, _default_merge_gap(dt, merge_gap_s)):
        seg = np.where(holds[i : j + 1], dist[i : j + 1], np.inf)
        k = i + int(np.argmin(seg))
        least_slant = np.min(np.where(holds[i : j + 1], slant[i : j + 1], np.inf))
        out.append(SampledEpisode(float(times[i]), float(times[j]), float(dist[k]),
                                  float(times[k]), float(least_slant)))
    return out


def lane_episodes(
    track: Track,
    centerline: Polyline,
    half_width_m: float,
    lanes: Sequence[Polyline],
    tolerance_m: float,
    dt: float,
    merge_gap_s: float | None = None,
) -> list[SampledEpisode]:
    """Episodes of lane indiscipline for one aircraft, by sampling.

    Condition at time t: the aircraft exists, its distance to the corridor centerline
    polyline is ``< half_width_m`` (strictly inside the corridor, which is the centerline
    buffered with round ends), and its distance to every polyline in ``lanes`` is
    ``> tolerance_m``.

    Args:
        track: The aircraft's track.
        centerline: The corridor's centerline.
        half_width_m: The corridor's half width.
        lanes: Lane polylines the aircraft must keep within ``tolerance_m`` of (any one
            near enough suffices); the spec's rule passes the aircraft's own lane only.
        tolerance_m: Allowed distance from a lane.
        dt: Largest spacing between samples.
        merge_gap_s: See the module docstring; default ``2 * dt + 0.001``.

    Returns:
        Episodes in time order; distances are ``nan``.
    """
    trk = as_track(track)
    times = _window_times(float(trk[0, 0]), float(trk[-1, 0]), dt, trk)
    st = track_state(trk, times)
    with np.errstate(invalid="ignore"):
        holds = st.exists & (polyline_distance(st.x_m, st.y_m, centerline) < half_width_m)
        for lane in lanes:
            holds &= polyline_distance(st.x_m, st.y_m, lane) > tolerance_m
    return _plain_episodes(times, holds, _default_merge_gap(dt, merge_gap_s))


def zone_episodes(
    track: Track,
    area: Mapping[str, Any],
    floor_m: float,
    ceiling_m: float | None,
    active: tuple[float, float] | None,
    dt: float,
    merge_gap_s: float | None = None,
) -> list[SampledEpisode]:
    """Episodes of zone incursion for one aircraft and one zone, by sampling.

    Condition at time t: the aircraft exists, ``active[0] < t < active[1]``,
    ``floor_m < z < ceiling_m`` and ``(x, y)`` is strictly inside ``area``.

    Args:
        track: The aircraft's track.
        area: ``{"polygon": [(x, y), ...]}`` or ``{"circle": ((cx, cy), r)}``.
        floor_m: Zone floor.
        ceiling_m: Zone ceiling; ``inf`` or ``None`` for none.
        active: ``(t0, t1)`` activity window; ``None`` for always.
        dt: Largest spacing between samples.
        merge_gap_s: See the module docstring; default ``2 * dt + 0.001``.

    Returns:
        Episodes in time order; distances are ``nan``.
    """
    trk = as_track(track)
    ceiling = math.inf if ceiling_m is None else ceiling_m
    t_on, t_off = (-math.inf, math.inf) if active is None else active
    lo = max(float(trk[0, 0]), t_on)
    hi = min(float(trk[-1, 0]), t_off)
    if hi < lo:
        return []
    times = _window_times(lo, hi, dt, trk)
    st = track_state(trk, times)
    with np.errstate(invalid="ignore"):
        holds = (
            st.exists
            & (times > t_on)
            & (times < t_off)
            & (st.z_m > floor_m)
            & (st.z_m < ceiling)
            & inside_area(st.x_m, st.y_m, area)
        )
    return _plain_episodes(times, holds, _default_merge_gap(dt, merge_gap_s))
