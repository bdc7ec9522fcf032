"""The exact building blocks every rule is made of, built-in or a plugin's.

Candidate pairs from the broad phase solved in closed form (``close_pieces``), pieces cut
to a sub-interval (``clip_pieces``), the merged episode each piece belongs to
(``episode_spans``), and the assembly of pieces into episodes, one per pair and interval
(``pair_episodes``) or per aircraft and interval (``aircraft_episodes``). A rule that
composes them is exact by construction: nothing is sampled.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from sim.detect.narrowphase import PairPieces, episode_bounds, merge_pieces, separation_pieces
from sim.detect.world import World, meeting_parties
from sim.model.limits import LimitExceeded
from sim.model.records import Episode

NARROW_BLOCK = 2_000_000  # leg pairs the exact solver takes at once


def close_pieces(world: World, horizontal_m: float, vertical_m: float | None = None,
                 between: tuple[str, str] | None = None) -> PairPieces:
    """The intervals in which two aircraft of different parties (of the two parties
    ``between``, if given) are closer than ``horizontal_m`` in plan and, if given, than
    ``vertical_m`` in altitude: one piece per leg pair, with its closest approaches."""
    legs, flights = world.legs, world.flights
    i, j = world.leg_pairs(horizontal_m, vertical_m,
                           meeting_parties(between, {f.party for f in flights}))
    parties = world.party_of_flight
    pa, pb = parties[legs.flight[i]], parties[legs.flight[j]]
    if between is None:
        allowed = pa != pb
    else:
        p, q = between
        allowed = ((pa == p) & (pb == q)) | ((pa == q) & (pb == p))
    i, j = i[allowed], j[allowed]
    # In blocks of pairs: the solver's arrays stay small however dense the traffic.
    blocks = [separation_pieces(legs, i[k:k + NARROW_BLOCK], j[k:k + NARROW_BLOCK],
                                horizontal_m, vertical_m)
              for k in range(0, max(len(i), 1), NARROW_BLOCK)]
    return PairPieces(*(np.concatenate([getattr(b, f.name) for b in blocks])
                        for f in fields(PairPieces)))


def _pair_key(world: World, pieces: PairPieces) -> np.ndarray:
    """One integer per flight pair: pieces of one pair share it."""
    fi, fj = world.legs.flight[pieces.leg_i], world.legs.flight[pieces.leg_j]
    key: np.ndarray = fi * len(world.flights) + fj
    return key


def episode_spans(world: World, pieces: PairPieces) -> tuple[np.ndarray, np.ndarray]:
    """The start and end of the merged episode (same pair, touching pieces) that each piece
    belongs to, aligned with the pieces."""
    order, episode = merge_pieces(_pair_key(world, pieces), pieces.start_s, pieces.end_s)
    start, end = np.zeros(len(order)), np.zeros(len(order))
    if len(order):
        first, s0, s1, _ = episode_bounds(order, episode, pieces.start_s, pieces.end_s)
        start[order], end[order] = s0[episode], s1[episode]
    return start, end


def check_episodes(world: World, rule: Any, count: int) -> None:
    """Refuse to build more episodes than the limit allows (each is a Python object)."""
    if count > world.limits.episodes:
        raise LimitExceeded("episodes", f"rule {rule.id} finds more than "
                            f"{world.limits.episodes:,} episodes ({count:,} at least)")


def pair_episodes(rule: Any, world: World, pieces: PairPieces) -> list[Episode]:
    """Episodes of ``rule`` (its ``id`` and ``type``), one per flight pair and merged
    interval of ``pieces``, each placed at its closest approach in plan."""
    legs, flights = world.legs, world.flights
    order, episode = merge_pieces(_pair_key(world, pieces), pieces.start_s, pieces.end_s)
    if len(order) == 0:
        return []
    first, start, end, keep = episode_bounds(order, episode, pieces.start_s, pieces.end_s)
    check_episodes(world, rule, int(np.count_nonzero(keep)))
    # The closest piece of each episode: sort by (episode, distance), take each group's head.
    closest = order[np.lexsort((pieces.min_distance_m[order], episode))[first]][keep]
    start, end = start[keep], end[keep]
    t = pieces.min_time_s[closest]
    li, lj = pieces.leg_i[closest], pieces.leg_j[closest]
    xi, yi = legs.position(li, t)
    xj, yj = legs.position(lj, t)
    x, y = (xi + xj) / 2.0, (yi + yj) / 2.0
    lon, lat = world.geography.frame.to_lonlat(x, y)
    vertical = np.abs(legs.altitude(lj, t) - legs.altitude(li, t))
    slant = np.minimum.reduceat(pieces.min_slant_m[order], first)[keep]
    a_flight, b_flight = legs.flight[li].tolist(), legs.flight[lj].tolist()
    return [Episode(rule=rule.id, type=rule.type, party=flights[a].party, aircraft=flights[a].id,
                    other_party=flights[b].party, other_aircraft=flights[b].id, zone="",
                    start_s=s0, end_s=s1, min_distance_m=d, min_time_s=tm, x_m=px, y_m=py,
                    lon=lo, lat=la, informed=None, vertical_m=dz, min_slant_m=sl)
            for a, b, s0, s1, d, tm, px, py, lo, la, dz, sl in zip(
                a_flight, b_flight, start.tolist(), end.tolist(),
                pieces.min_distance_m[closest].tolist(), t.tolist(), x.tolist(), y.tolist(),
                np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), vertical.tolist(),
                slant.tolist(), strict=True)]


def aircraft_episodes(rule: Any, world: World, leg: np.ndarray, start_s: np.ndarray,
                      end_s: np.ndarray, other_party: str = "", zone: str = "") -> list[Episode]:
    """Episodes of ``rule`` (its ``id`` and ``type``) of one aircraft each: the pieces
    (leg, start, end) merged over its legs, each episode placed where it starts."""
    legs, flights = world.legs, world.flights
    order, episode = merge_pieces(legs.flight[leg], start_s, end_s)
    if len(order) == 0:
        return []
    first, start, end, keep = episode_bounds(order, episode, start_s, end_s)
    check_episodes(world, rule, int(np.count_nonzero(keep)))
    head, start, end = order[first][keep], start[keep], end[keep]
    x, y = legs.position(leg[head], start)
    lon, lat = world.geography.frame.to_lonlat(x, y)
    return [Episode(rule=rule.id, type=rule.type, party=flights[f].party, aircraft=flights[f].id,
                    other_party=other_party, other_aircraft="", zone=zone, start_s=s0, end_s=s1,
                    min_distance_m=None, min_time_s=None, x_m=px, y_m=py, lon=lo, lat=la,
                    informed=None)
            for f, s0, s1, px, py, lo, la in zip(
                legs.flight[leg[head]].tolist(), start.tolist(), end.tolist(),
                x.tolist(), y.tolist(), np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(),
                strict=True)]
