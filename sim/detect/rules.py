"""Rules: what counts as a violation. A small protocol, the built-in rules, and the registry.

A rule is a function ``(spec, world) -> list[Episode]`` registered under its YAML
``type``. The built-ins turn the exact pieces from ``sim.detect.narrowphase`` into episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace

import numpy as np

from sim.detect.broadphase import Meets, PairStats, candidate_leg_pairs, overlapping_pair_count
from sim.detect.legs import Legs
from sim.detect.narrowphase import (
    PairPieces,
    circle_pieces,
    episode_bounds,
    lane_pieces,
    merge_pieces,
    polygon_pieces,
    separation_pieces,
    zone_pieces,
)
from sim.model.geography import Geography
from sim.model.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from sim.model.records import RECEIVED, Episode, FlightRecord, Hotline
from sim.model.scenario import LaneDisciplineSpec, MinSeparationSpec, RuleSpec, ZoneIncursionSpec


@dataclass(frozen=True, slots=True)
class World:
    """Everything a rule may look at once the flying is done."""

    geography: Geography
    flights: tuple[FlightRecord, ...]  # index i is flight index i in ``legs``
    legs: Legs
    hotline: Hotline
    # The widest (horizontal, vertical) reach of the run's separation rules: their broad
    # phase runs once, at that reach, and each rule's exact narrow phase sorts it out.
    separation_reach: tuple[float, float | None] | None = None
    limits: Limits = DEFAULT_LIMITS  # pairs and episodes (LimitExceeded beyond them)
    # The party pairs those rules look at, each (low, high): the shared broad phase pairs
    # only their legs (None: every two flights).
    separation_parties: frozenset[tuple[str, str]] | None = None
    _pairs: dict[tuple[float, float | None, frozenset[tuple[str, str]] | None],
                 tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def party_of_flight(self) -> np.ndarray:
        """Each flight's party, as an array aligned with flight indices."""
        return np.array([f.party for f in self.flights], dtype=object)

    def leg_pairs(self, horizontal_m: float, vertical_m: float | None,
                  parties: frozenset[tuple[str, str]] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate leg pairs (``candidate_leg_pairs``) for a separation threshold, of
        flights of the party pairs ``parties`` (each (low, high); None: of any two
        flights). Those of ``separation_reach`` and ``separation_parties`` when they
        cover the request, computed once: pairs of other parties may come too."""
        reach, shared = self.separation_reach, self.separation_parties
        if reach is not None and horizontal_m <= reach[0] and (
                reach[1] is None or (vertical_m is not None and vertical_m <= reach[1])) and (
                shared is None or (parties is not None and parties <= shared)):
            (horizontal_m, vertical_m), parties = reach, shared
        if (horizontal_m, vertical_m, parties) not in self._pairs:
            self._pairs[(horizontal_m, vertical_m, parties)] = candidate_leg_pairs(
                self.legs, horizontal_m, vertical_m, self.limits.pairs,
                None if parties is None else self._meets(parties))
        return self._pairs[(horizontal_m, vertical_m, parties)]

    def _meets(self, parties: frozenset[tuple[str, str]]) -> Meets:
        """``parties`` as party codes (those with no flights left out)."""
        code = {name: k for k, name in enumerate(sorted({f.party for f in self.flights}))}
        return Meets(np.array([code[f.party] for f in self.flights], np.int64),
                     frozenset((min(code[p], code[q]), max(code[p], code[q]))
                               for p, q in parties if p in code and q in code))


def meeting_parties(between: tuple[str, str] | None, parties: Iterable[str]
                    ) -> frozenset[tuple[str, str]]:
    """The unordered party pairs, each written (low, high), a separation rule looks at
    among ``parties``: ``between``, or every two different parties."""
    if between is not None:
        p, q = sorted(between)
        return frozenset({(p, q)})
    names = sorted(set(parties))
    return frozenset((p, q) for k, p in enumerate(names) for q in names[k + 1:])


def separation_reach(rules: Iterable[RuleSpec]) -> tuple[float, float | None] | None:
    """The least (horizontal, vertical) reach that covers every separation rule's."""
    specs = [r for r in rules if isinstance(r, MinSeparationSpec)]
    if not specs:
        return None
    verticals = [r.vertical_m for r in specs]
    return (max(r.horizontal_m for r in specs),
            None if None in verticals else max(v for v in verticals if v is not None))


def separation_parties(rules: Iterable[RuleSpec], parties: Iterable[str]
                       ) -> frozenset[tuple[str, str]] | None:
    """Every party pair (``meeting_parties``) some separation rule looks at."""
    names = set(parties)
    specs = [r for r in rules if isinstance(r, MinSeparationSpec)]
    if not specs:
        return None
    return frozenset().union(*(meeting_parties(r.between, names) for r in specs))


NARROW_BLOCK = 2_000_000  # leg pairs the exact solver takes at once

Rule = Callable[[RuleSpec, World], list[Episode]]
RULES: dict[str, Rule] = {}


def register(type_name: str) -> Callable[[Rule], Rule]:
    """Register a rule function under a YAML ``type`` name."""
    def decorate(function: Rule) -> Rule:
        RULES[type_name] = function
        return function
    return decorate


def detect(spec: RuleSpec, world: World) -> list[Episode]:
    """Run the rule registered for ``spec.type``."""
    return RULES[spec.type](spec, world)


def separation_stats(world: World, reach_m: float, vertical_m: float | None = None
                     ) -> PairStats:
    """How many leg pairs exist, overlap in time, and survive the broad phase at ``reach_m``
    (and ``vertical_m``)."""
    n = len(world.legs)
    i, _ = candidate_leg_pairs(world.legs, reach_m, vertical_m)
    return PairStats(n, n * (n - 1) // 2, overlapping_pair_count(world.legs), len(i))


@register("min_separation")
def min_separation(spec: RuleSpec, world: World) -> list[Episode]:
    """Episodes of two aircraft closer than the rule allows, one per pair and interval."""
    assert isinstance(spec, MinSeparationSpec)
    legs, flights = world.legs, world.flights
    i, j = world.leg_pairs(spec.horizontal_m, spec.vertical_m,
                           meeting_parties(spec.between, {f.party for f in flights}))
    parties = world.party_of_flight
    pa, pb = parties[legs.flight[i]], parties[legs.flight[j]]
    if spec.between is None:
        allowed = pa != pb
    else:
        p, q = spec.between
        allowed = ((pa == p) & (pb == q)) | ((pa == q) & (pb == p))
    i, j = i[allowed], j[allowed]
    # In blocks of pairs: the solver's arrays stay small however dense the traffic.
    blocks = [separation_pieces(legs, i[k:k + NARROW_BLOCK], j[k:k + NARROW_BLOCK],
                                spec.horizontal_m, spec.vertical_m)
              for k in range(0, max(len(i), 1), NARROW_BLOCK)]
    pieces = PairPieces(*(np.concatenate([getattr(b, f.name) for b in blocks])
                          for f in fields(PairPieces)))
    fi, fj = legs.flight[pieces.leg_i], legs.flight[pieces.leg_j]
    order, episode = merge_pieces(fi * len(flights) + fj, pieces.start_s, pieces.end_s)
    if len(order) == 0:
        return []
    first, start, end, keep = episode_bounds(order, episode, pieces.start_s, pieces.end_s)
    _check_episodes(world, spec, int(np.count_nonzero(keep)))
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
    return [Episode(rule=spec.id, type=spec.type, party=flights[a].party, aircraft=flights[a].id,
                    other_party=flights[b].party, other_aircraft=flights[b].id, zone="",
                    start_s=s0, end_s=s1, min_distance_m=d, min_time_s=tm, x_m=px, y_m=py,
                    lon=lo, lat=la, informed=None, vertical_m=dz, min_slant_m=sl)
            for a, b, s0, s1, d, tm, px, py, lo, la, dz, sl in zip(
                a_flight, b_flight, start.tolist(), end.tolist(),
                pieces.min_distance_m[closest].tolist(), t.tolist(), x.tolist(), y.tolist(),
                np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), vertical.tolist(),
                slant.tolist(), strict=True)]


@register("lane_discipline")
def lane_discipline(spec: RuleSpec, world: World) -> list[Episode]:
    """Episodes of an aircraft inside the corridor and off its party's lane."""
    assert isinstance(spec, LaneDisciplineSpec)
    geo, legs = world.geography, world.legs
    if geo.centerline is None:
        return []
    parties = world.party_of_flight
    episodes = []
    for party in sorted({g.lane.party for g in geo.lanes}):
        own = geo.lanes_of(party)
        lanes = np.vstack([g.line.segments for g in own])
        others = sorted({g.lane.party for g in geo.lanes} - {party})
        mask = parties[legs.flight] == party
        if not np.any(mask):
            continue
        index = np.flatnonzero(mask)
        pieces = lane_pieces(legs.select(mask), geo.centerline.segments, geo.half_width_m or 0.0,
                             lanes, spec.tolerance_m)
        leg = index[pieces.leg]
        episodes += _leg_episodes(spec, world, leg, pieces.start_s, pieces.end_s,
                                  other_party=";".join(others), zone="")
    return episodes


@register("zone_incursion")
def zone_incursion(spec: RuleSpec, world: World) -> list[Episode]:
    """Episodes of an aircraft inside another party's active zone, within its altitudes."""
    assert isinstance(spec, ZoneIncursionSpec)
    legs = world.legs
    if len(legs) == 0:
        return []
    # Parties as small integers and leg boxes worked out once: ~600 zones each look at
    # thousands of legs, and object comparisons would dominate.
    names, party_code = np.unique(world.party_of_flight, return_inverse=True)
    party = party_code.astype(np.int64)[legs.flight]
    code = {str(name): c for c, name in enumerate(names)}
    x1 = legs.x0_m + legs.vx_mps * (legs.t1_s - legs.t0_s)
    y1 = legs.y0_m + legs.vy_mps * (legs.t1_s - legs.t0_s)
    leg_xmin, leg_xmax = np.minimum(legs.x0_m, x1), np.maximum(legs.x0_m, x1)
    leg_ymin, leg_ymax = np.minimum(legs.y0_m, y1), np.maximum(legs.y0_m, y1)
    # Legs by party, then start time: a zone looks at the legs of the other parties only,
    # and, active for hours (a work area), at those of its hours only, not at every leg
    # of the run (thousands of one side's work areas cost nothing against its own legs).
    blocks = []
    for c in range(len(names)):
        own = np.flatnonzero(party == c)
        own = own[np.argsort(legs.t0_s[own], kind="stable")]
        if len(own):
            blocks.append((c, own, legs.t0_s[own],
                           float(np.max(legs.t1_s[own] - legs.t0_s[own]))))
    episodes = []
    for zone in world.geography.zones:
        z = zone.spec
        xmin, ymin, xmax, ymax = zone.bounds
        owner = code.get(z.party, -1)
        window = np.concatenate([np.zeros(0, np.int64)] + [
            by_start[np.searchsorted(starts, z.active_start_s - longest_s, side="left"):
                     np.searchsorted(starts, z.active_end_s, side="left")]
            for c, by_start, starts, longest_s in blocks if c != owner])
        keep = ((legs.t0_s[window] < z.active_end_s) & (legs.t1_s[window] > z.active_start_s)
                & (leg_xmin[window] <= xmax) & (leg_xmax[window] >= xmin)
                & (leg_ymin[window] <= ymax) & (leg_ymax[window] >= ymin))
        candidates = np.sort(window[keep])
        if len(candidates) == 0:
            continue
        if zone.ring is not None:
            inside = polygon_pieces(legs, candidates, zone.ring, zone.shape)
        else:
            assert zone.center is not None and zone.radius_m is not None
            inside = circle_pieces(legs, candidates, zone.center, zone.radius_m)
        pieces = zone_pieces(legs, inside, z.floor_m, z.ceiling_m, z.active_start_s,
                             z.active_end_s)
        for episode in _leg_episodes(spec, world, pieces.leg, pieces.start_s, pieces.end_s,
                                     other_party=z.party, zone=z.id):
            status = world.hotline.status(episode.party, z, episode.start_s)
            episodes.append(replace(episode, informed=status == RECEIVED, declaration=status))
    return episodes


def _check_episodes(world: World, spec: RuleSpec, count: int) -> None:
    """Refuse to build more episodes than the limit allows (each is a Python object)."""
    if count > world.limits.episodes:
        raise LimitExceeded("episodes", f"rule {spec.id} finds more than "
                            f"{world.limits.episodes:,} episodes ({count:,} at least)")


def _leg_episodes(spec: RuleSpec, world: World, leg: np.ndarray, start_s: np.ndarray,
                  end_s: np.ndarray, other_party: str, zone: str) -> list[Episode]:
    """Merge one aircraft's pieces (over its legs) into episodes positioned at their start."""
    legs, flights = world.legs, world.flights
    order, episode = merge_pieces(legs.flight[leg], start_s, end_s)
    if len(order) == 0:
        return []
    first, start, end, keep = episode_bounds(order, episode, start_s, end_s)
    _check_episodes(world, spec, int(np.count_nonzero(keep)))
    head, start, end = order[first][keep], start[keep], end[keep]
    x, y = legs.position(leg[head], start)
    lon, lat = world.geography.frame.to_lonlat(x, y)
    return [Episode(rule=spec.id, type=spec.type, party=flights[f].party, aircraft=flights[f].id,
                    other_party=other_party, other_aircraft="", zone=zone, start_s=s0, end_s=s1,
                    min_distance_m=None, min_time_s=None, x_m=px, y_m=py, lon=lo, lat=la,
                    informed=None)
            for f, s0, s1, px, py, lo, la in zip(
                legs.flight[leg[head]].tolist(), start.tolist(), end.tolist(),
                x.tolist(), y.tolist(), np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(),
                strict=True)]

