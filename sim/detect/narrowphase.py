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
LANE_STEPS = 4  # stretches a leg is looked at in before lane discipline's exact solver
POLYGON_BLOCK = 1_000_000  # (leg, edge) pairs the polygons' crossing test holds at once
SLACK_M = 1.0  # added to a stretch's length: more than the rounding of its ends


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
