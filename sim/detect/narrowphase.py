"""The exact narrow phase: the intervals in which a condition holds, merged into episodes.

Each candidate leg (pair) is solved in closed form (``sim.detect.legs``) for separation,
lane discipline and zones; the pieces are merged into episodes when they touch within
``MERGE_GAP_S``. No time step anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from sim.detect.legs import Legs, between_bounds, capsule_interval, within_radius

MERGE_GAP_S = 1e-3  # docs/exactness.md: intervals that touch within 1 ms are one episode
# An episode shorter than this (0.25 mm of flight at 250 m/s) is a rounding artefact of two
# boundaries that coincide (say the corridor's edge and a lane's tolerance), not an event.
MIN_EPISODE_S = 1e-6
CUT_SLACK = 1e-9  # relative position along a polygon edge still taken as on it
POLYGON_BLOCK = 1_000_000  # (leg, edge) pairs the polygons' crossing test holds at once
SLACK_M = 1.0  # lane discipline's prefilter to spare: more than a leg's rounding off its path


# ---------------------------------------------------------------------------- narrow phase


@dataclass(frozen=True, slots=True)
class PairPieces:
    """Intervals in which a leg pair's separation condition holds, with the closest approach
    in plan (``min_distance_m`` at ``min_time_s``) and the least 3D distance in the piece."""

    leg_i: np.ndarray
    leg_j: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    min_distance_m: np.ndarray
    min_time_s: np.ndarray
    min_slant_m: np.ndarray


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
    dz0 = legs.altitude(j, ts) - legs.altitude(i, ts)
    dvz = legs.vz_mps[j] - legs.vz_mps[i]
    lo, hi = within_radius(d0x, d0y, dvx, dvy, horizontal_m)
    if vertical_m is not None:
        vlo, vhi = between_bounds(dz0, dvz, -vertical_m, vertical_m)
        lo, hi = np.maximum(lo, vlo), np.minimum(hi, vhi)
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, span)
    keep = hi > lo
    lo, hi, span, ts = lo[keep], hi[keep], span[keep], ts[keep]
    d0x, d0y, dvx, dvy = d0x[keep], d0y[keep], dvx[keep], dvy[keep]
    dz0, dvz = dz0[keep], dvz[keep]
    tau_min = _closest(lo, hi, (d0x, dvx), (d0y, dvy))
    distance = np.hypot(d0x + dvx * tau_min, d0y + dvy * tau_min)
    tau_3d = _closest(lo, hi, (d0x, dvx), (d0y, dvy), (dz0, dvz))
    slant = np.hypot(np.hypot(d0x + dvx * tau_3d, d0y + dvy * tau_3d), dz0 + dvz * tau_3d)
    # Ends that are the legs' own ends are taken as they are, so that pieces meeting at a
    # waypoint share the exact same instant.
    start = np.where(lo <= 0.0, ts, ts + lo)
    end = np.where(hi >= span, ts + span, ts + hi)
    end = np.where(hi >= span, np.minimum(legs.t1_s[i[keep]], legs.t1_s[j[keep]]), end)
    return PairPieces(i[keep], j[keep], start, end, distance, ts + tau_min, slant)


def clip_pieces(legs: Legs, pieces: PairPieces, start_s: np.ndarray | float,
                end_s: np.ndarray | float) -> PairPieces:
    """The pieces cut to [start_s, end_s] (a bound per piece, or one for all), empty ones
    dropped. A piece that was cut gets its closest approaches solved again on what is left:
    distance under straight relative motion is convex in time, so they stay exact."""
    start = np.maximum(pieces.start_s, start_s)
    end = np.minimum(pieces.end_s, end_s)
    keep = end > start
    cut = (start != pieces.start_s) | (end != pieces.end_s)
    distance, time, slant = (pieces.min_distance_m.copy(), pieces.min_time_s.copy(),
                             pieces.min_slant_m.copy())
    redo = np.flatnonzero(keep & cut)
    if len(redo):
        i, j, ts = pieces.leg_i[redo], pieces.leg_j[redo], start[redo]
        xi, yi = legs.position(i, ts)
        xj, yj = legs.position(j, ts)
        x_axis = (xj - xi, legs.vx_mps[j] - legs.vx_mps[i])
        y_axis = (yj - yi, legs.vy_mps[j] - legs.vy_mps[i])
        z_axis = (legs.altitude(j, ts) - legs.altitude(i, ts), legs.vz_mps[j] - legs.vz_mps[i])
        lo, hi = np.zeros(len(redo)), end[redo] - ts
        tau = _closest(lo, hi, x_axis, y_axis)
        distance[redo] = np.hypot(x_axis[0] + x_axis[1] * tau, y_axis[0] + y_axis[1] * tau)
        time[redo] = ts + tau
        tau_3d = _closest(lo, hi, x_axis, y_axis, z_axis)
        slant[redo] = np.hypot(np.hypot(x_axis[0] + x_axis[1] * tau_3d,
                                        y_axis[0] + y_axis[1] * tau_3d),
                               z_axis[0] + z_axis[1] * tau_3d)
    return PairPieces(pieces.leg_i[keep], pieces.leg_j[keep], start[keep], end[keep],
                      distance[keep], time[keep], slant[keep])


def _closest(lo: np.ndarray, hi: np.ndarray, *axes: tuple[np.ndarray, np.ndarray]
             ) -> np.ndarray:
    """Where in [lo, hi] |d0 + dv tau| is least, for the difference vector given axis by
    axis as (d0, dv): the unconstrained minimum clipped to the piece (the squared distance
    is a convex quadratic in tau; with no relative motion, the piece's start)."""
    a = sum(dv * dv for _, dv in axes)
    b = sum(d0 * dv for d0, dv in axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_star = np.where(a > 0.0, -b / a, lo)
    tau: np.ndarray = np.clip(tau_star, lo, hi)
    return tau


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
    # Boxes meet where their envelopes do: no predicate to test. (Pairs the boxes let
    # through and the legs do not meet come out empty below.)
    leg, seg = shapely.STRtree(seg_boxes).query(boxes)
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
    # Only legs that may be in violation go to the exact solver, whose answer for a leg does
    # not depend on the other legs it is given: a prefilter that keeps every such leg (and
    # any others) changes the time, never the result. Racetrack laps fly the same few legs
    # again and again, and whether a leg may be in violation depends only on its path (its
    # two ends), so it is decided once per path.
    if len(legs) == 0:
        return LegPieces(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    span = legs.t1_s - legs.t0_s
    ends = (legs.x0_m, legs.y0_m, legs.x0_m + legs.vx_mps * span,
            legs.y0_m + legs.vy_mps * span)
    order = np.lexsort(ends[::-1])
    sorted_ends = [e[order] for e in ends]
    first = np.r_[True, np.any([e[1:] != e[:-1] for e in sorted_ends], axis=0)]
    path_of_leg = np.empty(len(legs), np.int64)
    path_of_leg[order] = np.cumsum(first) - 1
    x0, y0, x1, y1 = (e[first] for e in sorted_ends)
    # Paths meet at their ends: each point is asked about once. (As complex numbers, points
    # sort and compare as (x, y) pairs, and fast.)
    points, at = np.unique(np.concatenate([x0 + 1j * y0, x1 + 1j * y1]), return_inverse=True)
    at = at.reshape(2, -1)
    chosen = _paths_may_violate(points, at[0], at[1], corridor, half_width_m, lanes,
                                tolerance_m)[path_of_leg]
    index = np.flatnonzero(chosen)
    pieces = _lane_pieces_exact(legs.select(chosen), corridor, half_width_m, lanes,
                                tolerance_m)
    return LegPieces(index[pieces.leg], pieces.start_s, pieces.end_s)


def _paths_may_violate(points: np.ndarray, a: np.ndarray, b: np.ndarray, corridor: np.ndarray,
                       half_width_m: float, lanes: np.ndarray, tolerance_m: float
                       ) -> np.ndarray:
    """Whether each path (straight from ``points[a]`` to ``points[b]``, as complex numbers)
    may be somewhere inside the corridor and off its lane: False only where it surely is
    not, with SLACK_M to spare for the rounding of a leg's own arithmetic against its path.

    Cheap tests first, each on the paths the ones before left:
    1. Distance to a line changes no faster than one moves along a path of length L, so
       from the distances at its ends (d0, d1) the distance anywhere along it is at most
       (d0 + d1 + L) / 2: where that is within the tolerance, the path is surely near its
       lane throughout.
    2. The same bound on how far a point is inside the corridor and off its lane at once,
       v = min(half width - distance to the centerline, distance to the lane - tolerance):
       positive exactly where it is in violation, and changing no faster than one moves
       (as each distance does). Where (v0 + v1 + L) / 2 is not positive, the path is
       surely not in violation (it leaves the corridor before it strays from its lane).
    3. A path farther than the half width from every centerline segment (their least
       distance, segment to segment) is surely outside the corridor.
    4. The exact solver on the paths themselves, the corridor widened and the tolerance
       narrowed by SLACK_M.
    """
    length = np.abs(points[b] - points[a])
    at_points = shapely.points(points.real, points.imag)
    v = _distances(at_points, lanes) - tolerance_m
    may = (v[a] + v[b] + length + SLACK_M) / 2.0 > 0.0
    look = np.flatnonzero(may)
    ask = np.unique(np.concatenate([a[look], b[look]]))
    v[ask] = np.minimum(v[ask], half_width_m - _distances(at_points[ask], corridor))
    may[look] = (v[a[look]] + v[b[look]] + length[look] + SLACK_M) / 2.0 > 0.0
    look = np.flatnonzero(may)
    lines = shapely.linestrings(np.stack([points[a[look]].real, points[a[look]].imag,
                                          points[b[look]].real, points[b[look]].imag],
                                         axis=1).reshape(-1, 2, 2))
    may[look] = _distances(lines, corridor) < half_width_m + SLACK_M
    look = np.flatnonzero(may)
    along = points[b[look]] - points[a[look]]
    zero, one = np.zeros(len(look)), np.ones(len(look))
    as_legs = Legs(np.zeros(len(look), np.int64), zero, one, points[a[look]].real,
                   points[a[look]].imag, zero, along.real, along.imag, zero)
    # A tolerance narrower than SLACK_M narrows to none: no lane keeps a path in order.
    narrowed = tolerance_m - SLACK_M
    widened = _lane_pieces_exact(as_legs, corridor, half_width_m + SLACK_M,
                                 lanes if narrowed >= 0.0 else lanes[:0], max(narrowed, 0.0))
    may[look] = False
    may[look[widened.leg]] = True
    return may


def _distances(geometries: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Least distance of each geometry to a set of segments (inf when the set is empty)."""
    distance = np.full(len(geometries), np.inf)
    if len(segments):
        tree = shapely.STRtree(shapely.linestrings(segments.reshape(-1, 2, 2)))
        (which, _), nearest = tree.query_nearest(geometries, return_distance=True,
                                                 all_matches=False)
        distance[which] = nearest
    return distance


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


def circle_pieces(legs: Legs, candidates: np.ndarray,
                  center: tuple[float, float] | tuple[np.ndarray, np.ndarray],
                  radius_m: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg-local intervals (leg, lo, hi) strictly inside a circle (or each candidate inside
    its own circle: centre and radius given as arrays aligned with ``candidates``)."""
    lo, hi = within_radius(legs.x0_m[candidates] - center[0], legs.y0_m[candidates] - center[1],
                           legs.vx_mps[candidates], legs.vy_mps[candidates], radius_m)
    return candidates, lo, hi


def polygon_pieces(legs: Legs, candidates: np.ndarray, ring: np.ndarray, shape: shapely.Polygon
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg-local intervals (leg, lo, hi) strictly inside a polygon (``polygons_pieces``)."""
    row, lo, hi = polygons_pieces(legs, candidates, np.zeros(len(candidates), np.int64),
                                  [ring], [shape])
    return candidates[row], lo, hi


def polygons_pieces(legs: Legs, leg: np.ndarray, polygon: np.ndarray,
                    rings: Sequence[np.ndarray], shapes: Sequence[shapely.Polygon]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg-local intervals strictly inside polygons: row k is leg ``leg[k]`` against polygon
    ``polygon[k]`` (closed ring ``rings[p]``, ``shapes[p]``). Returns (row, lo, hi), by row
    then time.

    The times a leg crosses the polygon's edges (a linear equation per edge) cut the leg
    into pieces that are wholly inside or wholly outside; a piece's midpoint tells which.
    Every (row, edge) of all rows is solved at once, whatever polygon it is of: hundreds of
    small zones cost one pass, not one each, with the same arithmetic per (row, edge).
    """
    edges = np.array([len(r) - 1 for r in rings], np.int64)
    # Every ring's edges end to end: a row's edges are a run of them.
    first = np.cumsum(edges) - edges
    a = np.concatenate([r[:-1] for r in rings]) if rings else np.zeros((0, 2))
    b = np.concatenate([r[1:] for r in rings]) if rings else np.zeros((0, 2))
    ring_x, ring_y, run_x, run_y = a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    geometries = np.empty(len(shapes), object)
    geometries[:] = list(shapes)
    # In blocks of rows of at most POLYGON_BLOCK (row, edge) pairs (a row's edges never
    # split), so polygons of many vertices cost time, not memory. Rows are independent.
    reach = np.cumsum(edges[polygon])
    parts, begin = [], 0
    while begin < len(leg):
        below = reach[begin - 1] if begin else 0
        end = max(int(np.searchsorted(reach, below + POLYGON_BLOCK, "right")), begin + 1)
        rows = np.arange(begin, end)
        parts.append(_polygon_rows(legs, rows, leg[rows], polygon[rows], first, edges,
                                   (ring_x, ring_y, run_x, run_y), geometries))
        begin = end
    if not parts:
        z = np.zeros(0)
        return np.zeros(0, np.int64), z, z
    row, lo, hi = (np.concatenate(q) for q in zip(*parts, strict=True))
    return row, lo, hi


def _polygon_rows(legs: Legs, rows: np.ndarray, leg: np.ndarray, polygon: np.ndarray,
                  first: np.ndarray, edges: np.ndarray,
                  ring: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                  geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``polygons_pieces`` for one block of rows, as flat (row, edge) arrays."""
    count = edges[polygon]
    at = np.repeat(np.arange(len(rows)), count)  # each (row, edge)'s row in the block
    edge = index_spans(first[polygon], first[polygon] + count)
    ax, ay, ex, ey = (r[edge] for r in ring)
    the_leg = leg[at]
    px, py = legs.x0_m[the_leg], legs.y0_m[the_leg]
    vx, vy = legs.vx_mps[the_leg], legs.vy_mps[the_leg]
    span = legs.t1_s[leg] - legs.t0_s[leg]
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
    cut = np.concatenate([tau[crossing], tau_a[collinear], tau_b[collinear]])
    cut_at = np.concatenate([at[crossing], at[collinear], at[collinear]])
    within = (cut > 0.0) & (cut < span[cut_at])  # (nan, for a leg standing still, is not)
    # Each row's cuts between its ends, sorted: consecutive cuts bound its pieces.
    t = np.concatenate([np.zeros(len(rows)), cut[within], span])
    t_at = np.concatenate([np.arange(len(rows)), cut_at[within], np.arange(len(rows))])
    order = np.lexsort((t, t_at))
    t, t_at = t[order], t_at[order]
    k = np.flatnonzero((t_at[1:] == t_at[:-1]) & (t[1:] > t[:-1]))
    lo, hi, at = t[k], t[k + 1], t_at[k]
    mid = 0.5 * (lo + hi)
    the_leg = leg[at]
    tested = geometries[polygon[at]]
    shapely.prepare(tested)  # as contains_xy does for one polygon: the same test
    inside = shapely.contains_xy(tested, legs.x0_m[the_leg] + legs.vx_mps[the_leg] * mid,
                                 legs.y0_m[the_leg] + legs.vy_mps[the_leg] * mid)
    return rows[at[inside]], lo[inside], hi[inside]


def zone_pieces(legs: Legs, inside: tuple[np.ndarray, np.ndarray, np.ndarray],
                floor_m: float | np.ndarray, ceiling_m: float | np.ndarray,
                active_start_s: float | np.ndarray, active_end_s: float | np.ndarray
                ) -> LegPieces:
    """Intersect inside-the-area intervals with the altitude band and the active window (of
    one zone, or of each piece's own zone: bounds as arrays aligned with the pieces)."""
    return kept_zone_pieces(legs, inside, floor_m, ceiling_m, active_start_s, active_end_s)[1]


def kept_zone_pieces(legs: Legs, inside: tuple[np.ndarray, np.ndarray, np.ndarray],
                     floor_m: float | np.ndarray, ceiling_m: float | np.ndarray,
                     active_start_s: float | np.ndarray, active_end_s: float | np.ndarray
                     ) -> tuple[np.ndarray, LegPieces]:
    """``zone_pieces``, and which of the ``inside`` pieces are left in it (a mask)."""
    leg, lo, hi = inside
    zlo, zhi = between_bounds(legs.z0_m[leg], legs.vz_mps[leg], floor_m, ceiling_m)
    alo, ahi = between_bounds(legs.t0_s[leg], np.ones(len(leg)), active_start_s, active_end_s)
    lo = np.maximum.reduce([lo, zlo, alo, np.zeros(len(leg))])
    hi = np.minimum.reduce([hi, zhi, ahi, legs.t1_s[leg] - legs.t0_s[leg]])
    keep = hi > lo
    return keep, _absolute(legs, leg[keep], lo[keep], hi[keep])


def index_spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every index in [lo[k], hi[k]) for each k, in order."""
    count = np.maximum(hi - lo, 0)
    shift = np.repeat(lo - (np.cumsum(count) - count), count)
    spans: np.ndarray = shift + np.arange(int(count.sum()))
    return spans


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
