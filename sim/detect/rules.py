"""Rules: what counts as a violation. The built-in rules, the registry of rule types and the
dispatch that runs a rule, a plugin's held to its contract.

A rule is a function ``(parameters, world) -> list[Episode]`` registered under its YAML
``type`` (``sim.model.ruletypes``); the built-ins compose the exact blocks of
``sim.detect.blocks``, as a plugin's rule does (``sim.rules``, ``docs/rules.md``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

import numpy as np

from sim.detect.blocks import aircraft_episodes, close_pieces, pair_episodes
from sim.detect.broadphase import PairStats
from sim.detect.legs import Legs
from sim.detect.narrowphase import (
    circle_pieces,
    index_spans,
    kept_zone_pieces,
    lane_pieces,
    polygons_pieces,
)
from sim.detect.world import (
    World,
    meeting_parties,
    separation_parties,
    separation_reach,
    separation_stats,
)
from sim.model import ruletypes
from sim.model.geography import ZoneGeometry
from sim.model.limits import LimitExceeded
from sim.model.records import RECEIVED, Episode
from sim.model.ruletypes import BUILTIN_RULE_TYPES, PluginError, RuleType
from sim.model.scenario import LaneDisciplineSpec, MinSeparationSpec, RuleSpec, ZoneIncursionSpec
from sim.model.schema_rules import BUILTIN_MODELS

__all__ = ["BUILTIN", "PairStats", "World", "detect", "detect_all", "lane_discipline",
           "meeting_parties",
           "min_separation", "result_problem", "rule_type", "rule_types", "separation_parties",
           "separation_reach", "separation_stats", "zone_incursion"]


def min_separation(spec: RuleSpec, world: World) -> list[Episode]:
    """Episodes of two aircraft closer than the rule allows, one per pair and interval."""
    assert isinstance(spec, MinSeparationSpec)
    return pair_episodes(spec, world, close_pieces(world, spec.horizontal_m, spec.vertical_m,
                                                   spec.between))


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
        mask = (parties == party)[legs.flight]  # flights compared, not every leg's
        if not np.any(mask):
            continue
        index = np.flatnonzero(mask)
        pieces = lane_pieces(legs.select(mask), geo.centerline.segments, geo.half_width_m or 0.0,
                             lanes, spec.tolerance_m)
        leg = index[pieces.leg]
        episodes += aircraft_episodes(spec, world, leg, pieces.start_s, pieces.end_s,
                                      other_party=";".join(others), zone="")
    return episodes


def zone_incursion(spec: RuleSpec, world: World) -> list[Episode]:
    """Episodes of an aircraft inside another party's active zone, within its altitudes."""
    assert isinstance(spec, ZoneIncursionSpec)
    if len(world.legs) == 0 or not world.geography.zones:
        return []
    # Many zones' candidates solved at once (~600 zones, most with a few legs: a pass per
    # zone would be all overhead), then taken zone by zone.
    episodes = []
    for first, zone, leg in zone_candidates(world):
        episodes += _zone_episodes(spec, world, first, zone, leg)
    return episodes


def _zone_episodes(spec: ZoneIncursionSpec, world: World, first: int, zone: np.ndarray,
                   leg: np.ndarray) -> list[Episode]:
    """The episodes of candidates (zone, leg) of zones from ``first`` on (``zone``: counted
    from it), each zone's in the zones' order."""
    legs = world.legs
    zones = world.geography.zones[first:first + int(zone[-1]) + 1]
    zone, inside = _inside_areas(legs, zones, zone, leg)
    z = [g.spec for g in zones]
    keep, pieces = kept_zone_pieces(
        legs, inside, np.array([s.floor_m for s in z])[zone],
        np.array([s.ceiling_m for s in z])[zone], np.array([s.active_start_s for s in z])[zone],
        np.array([s.active_end_s for s in z])[zone])
    zone = zone[keep]
    if len(zone) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, zone[1:] != zone[:-1]])
    episodes = []
    for k, begin, end in zip(zone[starts].tolist(), starts.tolist(),
                             [*starts[1:].tolist(), len(zone)], strict=True):
        for episode in aircraft_episodes(spec, world, pieces.leg[begin:end],
                                         pieces.start_s[begin:end], pieces.end_s[begin:end],
                                         other_party=z[k].party, zone=z[k].id):
            status = world.hotline.status(episode.party, z[k], episode.start_s)
            episodes.append(replace(episode, informed=status == RECEIVED, declaration=status))
    return episodes


def _inside_areas(legs: Legs, zones: Sequence[ZoneGeometry], zone: np.ndarray, leg: np.ndarray
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The leg-local intervals (leg, lo, hi) in which candidates (zone, leg) are strictly
    inside their zone's area, with each one's zone: by zone, then as each zone alone gives
    them (by leg, then time)."""
    polygon = np.array([g.ring is not None for g in zones])
    on_polygon = polygon[zone]
    p_zone, p_leg = zone[on_polygon], leg[on_polygon]
    row, p_lo, p_hi = polygons_pieces(
        legs, p_leg, (np.cumsum(polygon) - 1)[p_zone],  # a zone's place among the polygons
        [g.ring for g in zones if g.ring is not None],
        [g.shape for g in zones if g.ring is not None])
    c_zone = zone[~on_polygon]
    centers = np.array([g.center or (0.0, 0.0) for g in zones])  # (a polygon's: unused)
    radii = np.array([g.radius_m or 0.0 for g in zones])
    c_leg, c_lo, c_hi = circle_pieces(legs, leg[~on_polygon],
                                      (centers[c_zone, 0], centers[c_zone, 1]), radii[c_zone])
    piece_zone = np.concatenate([p_zone[row], c_zone])
    by_zone = np.argsort(piece_zone, kind="stable")
    return piece_zone[by_zone], (np.concatenate([p_leg[row], c_leg])[by_zone],
                                 np.concatenate([p_lo, c_lo])[by_zone],
                                 np.concatenate([p_hi, c_hi])[by_zone])


ZONE_BLOCK = 1_000_000  # legs of the zones' windows a block of zones looks at at once


def zone_candidates(world: World) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The (zone, leg) pairs the zone rule solves: every leg of a zone's other parties in
    its active window whose box meets the zone's. In blocks of whole zones, in order, each
    (first, zone, leg): its first zone, and its pairs by zone (counted from the first),
    then leg; blocks with no pair are left out."""
    legs, zones = world.legs, world.geography.zones
    # Parties as small integers: ~600 zones each look at thousands of legs, and object
    # comparisons would dominate.
    names, party_code = np.unique(world.party_of_flight, return_inverse=True)
    party = party_code.astype(np.int64)[legs.flight]
    code = {str(name): c for c, name in enumerate(names)}
    # Legs by party, then start time: a zone looks at the legs of the other parties only,
    # and, active for hours (a work area), at those of its hours only, not at every leg
    # of the run (thousands of one side's work areas cost nothing against its own legs).
    # (As complex numbers, (party, start) pairs sort and search as pairs: every zone's
    # stretch of every party is found in one vectorised search.)
    by_start = np.lexsort((legs.t0_s, party))
    ordered = party[by_start]
    key = ordered + 1j * legs.t0_s[by_start]
    runs = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    present = ordered[runs]
    longest = np.zeros(len(names))
    longest[present] = np.maximum.reduceat((legs.t1_s - legs.t0_s)[by_start], runs)
    start = np.array([g.spec.active_start_s for g in zones])
    end = np.array([g.spec.active_end_s for g in zones])
    xmin, ymin, xmax, ymax = np.array([g.bounds for g in zones]).T
    # One row per (zone, other party present), by zone: its legs' stretch of ``by_start``.
    own = np.array([code.get(g.spec.party, -1) for g in zones])
    row_zone, column = np.nonzero(present[None, :] != own[:, None])
    others = present[column]
    lo = np.searchsorted(key, others + 1j * (start[row_zone] - longest[others]), "left")
    hi = np.searchsorted(key, others + 1j * end[row_zone], "left")
    count = np.maximum(hi - lo, 0)
    # The legs' boxes east-west in ``by_start`` order: a zone's stretch is read in a run.
    x1 = legs.x0_m + legs.vx_mps * (legs.t1_s - legs.t0_s)
    east_min, east_max = np.minimum(legs.x0_m, x1)[by_start], np.maximum(legs.x0_m, x1)[by_start]
    # Zones in blocks of at most ZONE_BLOCK legs of their windows (a zone never splits):
    # memory stays bounded however long the run and however many the zones.
    first_row = np.searchsorted(row_zone, np.arange(len(zones) + 1))
    reach = np.cumsum(np.bincount(row_zone, count, len(zones)).astype(np.int64))
    begin = 0
    while begin < len(zones):
        below = reach[begin - 1] if begin else 0
        stop = max(int(np.searchsorted(reach, below + ZONE_BLOCK, "right")), begin + 1)
        rows = slice(first_row[begin], first_row[stop])
        at = index_spans(lo[rows], hi[rows])  # places in ``by_start``
        # Most of a zone's hours' legs pass east or west of it: that test first, on the
        # whole stretch, the others on the few left (the same tests, in stages).
        near = np.flatnonzero((east_min[at] <= np.repeat(xmax[row_zone[rows]], count[rows]))
                              & (east_max[at] >= np.repeat(xmin[row_zone[rows]], count[rows])))
        owner = np.repeat(row_zone[rows], count[rows])[near]
        leg = by_start[at[near]]
        y0 = legs.y0_m[leg]
        y1 = y0 + legs.vy_mps[leg] * (legs.t1_s[leg] - legs.t0_s[leg])
        keep = ((legs.t0_s[leg] < end[owner]) & (legs.t1_s[leg] > start[owner])
                & (np.minimum(y0, y1) <= ymax[owner]) & (np.maximum(y0, y1) >= ymin[owner]))
        if np.any(keep):
            order = np.lexsort((leg[keep], owner[keep]))
            yield begin, owner[keep][order] - begin, leg[keep][order]
        begin = stop


BUILTIN: dict[str, RuleType] = {
    name: RuleType(name, BUILTIN_MODELS[name], function)
    for name, function in zip(BUILTIN_RULE_TYPES,
                              (min_separation, lane_discipline, zone_incursion), strict=True)}


def rule_type(name: str) -> RuleType:
    """The rule type ``name``: built in, or an installed package's (imported now). Raises
    KeyError when there is none, PluginError for a plugin at fault."""
    return BUILTIN[name] if name in BUILTIN else ruletypes.plugin(name)


def rule_types() -> tuple[list[RuleType], list[PluginError]]:
    """Every rule type there is, built in and installed, and the plugins that fail."""
    found, broken = list(BUILTIN.values()), []
    for name in sorted({p.name for p in ruletypes.installed()}):
        try:
            found.append(ruletypes.plugin(name))
        except PluginError as exc:
            broken.append(exc)
    return found, broken


def detect(spec: RuleSpec, world: World) -> list[Episode]:
    """Run the rule type of ``spec.type`` on the world. A plugin's failure, or a result
    that is not episodes of this rule in this world, is a PluginError naming the rule."""
    kind = rule_type(spec.type)
    if kind.builtin:
        return kind.detect(spec, world)
    try:
        found = kind.detect(spec, world)
    except LimitExceeded:  # the blocks refusing dense traffic: the scenario's limit
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is its own bug
        raise PluginError(kind.source, f"raised {type(exc).__name__}: {exc}", spec.id) from exc
    problem = result_problem(spec, world, found)
    if problem is not None:
        raise PluginError(kind.source, f"returned {problem}", spec.id)
    return list(found)


# What a rule came to: its episodes, or what it raised (None: not run, after a failure).
Outcome = list[Episode] | Exception | None
# Whether ``detect_all`` runs every rule in the calling thread rather than the lane rules
# in a second one: where every core already runs a replication. A pool's worker sets it
# for its life (``keep_one_thread``, ``sim.analysis.workers``), a Dask task for itself
# (``one_thread``). A context variable: no other thread, and no caller, is changed.
_ONE_THREAD: ContextVar[bool] = ContextVar("one_thread", default=False)


def keep_one_thread() -> None:
    """From now on, ``detect_all`` in this thread runs every rule in it."""
    _ONE_THREAD.set(True)


@contextmanager
def one_thread() -> Iterator[None]:
    """Within it, ``detect_all`` runs every rule in the calling thread."""
    token = _ONE_THREAD.set(True)
    try:
        yield
    finally:
        _ONE_THREAD.reset(token)


def detect_all(specs: Sequence[RuleSpec], world: World) -> list[Outcome]:
    """Each rule's outcome (``detect``), in the rules' order, as running them one by one
    gives: every rule before the first that fails has its episodes.

    The built-in lane rules run in a second thread while the others run in this one. They
    share nothing with the others (no broad phase, no cache: each builds its own trees) and
    spend their time in shapely and numpy, which let go of the GIL: detection of the
    30-day baseline 0.55 s -> 0.35 s on two cores. Each thread runs its rules in order and
    stops at its first failure, so every rule before the first failure in order has run.
    """
    beside = [k for k, spec in enumerate(specs) if spec.type == "lane_discipline"]
    if _ONE_THREAD.get() or not beside or len(beside) == len(specs):
        return _in_order(specs, range(len(specs)), world)
    here = sorted(set(range(len(specs))) - set(beside))
    outcomes: list[Outcome] = [None] * len(specs)

    def side() -> None:
        for k, outcome in zip(beside, _in_order(specs, beside, world), strict=True):
            outcomes[k] = outcome

    # A daemon: a command stopped by a signal meanwhile ends without waiting for it.
    thread = threading.Thread(target=side, name="lane rules", daemon=True)
    thread.start()
    mine = _in_order(specs, here, world)
    thread.join()
    for k, outcome in zip(here, mine, strict=True):
        outcomes[k] = outcome
    return outcomes


def _in_order(specs: Sequence[RuleSpec], ks: Sequence[int], world: World) -> list[Outcome]:
    """The outcomes of rules ``ks`` run in turn, up to the first that raises."""
    outcomes: list[Outcome] = [None] * len(ks)
    for n, k in enumerate(ks):
        try:
            outcomes[n] = detect(specs[k], world)
        except Exception as exc:  # noqa: BLE001 - handed back, raised in the rules' order
            outcomes[n] = exc  # (an interrupt is not: it stops the command at once)
            break
    return outcomes


def result_problem(spec: RuleSpec, world: World, found: object) -> str | None:
    """What is wrong with what a rule returned for ``spec`` in ``world``, if anything (None
    when it is a list of episodes of this rule, each an interval, of aircraft of the world):
    the contract ``detect`` holds a plugin to, and ``sim.testing`` every rule it checks."""
    if not isinstance(found, (list, tuple)):
        return f"{type(found).__name__}, not a list of episodes"
    flights = {f.id: f for f in world.flights}
    for n, episode in enumerate(found):
        where = f"episode {n}"
        if not isinstance(episode, Episode):
            return f"{type(episode).__name__} as {where}, not an Episode"
        if episode.rule != spec.id or episode.type != spec.type:
            return (f"{where} of rule {episode.rule!r} of type {episode.type!r}; build "
                    "episodes with the rule's parameters (their id and type)")
        times = (episode.start_s, episode.end_s)
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in times) or \
                not (math.isfinite(episode.start_s) and math.isfinite(episode.end_s)
                     and episode.start_s < episode.end_s):
            return f"{where} from {episode.start_s!r} s to {episode.end_s!r} s, not an interval"
        sides = [(episode.aircraft, episode.party)] + (
            [(episode.other_aircraft, episode.other_party)] if episode.other_aircraft else [])
        for aircraft, side in sides:
            flight = flights.get(aircraft) if isinstance(aircraft, str) else None
            if flight is None or flight.party != side:
                return f"{where} of aircraft {aircraft!r} of party {side!r}, not of this run"
            # Within the aircraft's flight, give or take the merging gap.
            if episode.start_s < flight.depart_s - 1e-3 or episode.end_s > flight.land_s + 1e-3:
                return (f"{where} from {episode.start_s} s to {episode.end_s} s, outside the "
                        f"flight of {aircraft!r} ({flight.depart_s} s to {flight.land_s} s)")
    return None


