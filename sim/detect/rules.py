"""Rules: what counts as a violation. The built-in rules, the registry of rule types and the
dispatch that runs a rule, a plugin's held to its contract.

A rule is a function ``(parameters, world) -> list[Episode]`` registered under its YAML
``type`` (``sim.model.ruletypes``); the built-ins compose the exact blocks of
``sim.detect.blocks``, as a plugin's rule does (``sim.rules``, ``docs/rules.md``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sim.detect.blocks import aircraft_episodes, close_pieces, pair_episodes
from sim.detect.broadphase import PairStats
from sim.detect.narrowphase import (
    circle_pieces,
    lane_pieces,
    polygon_pieces,
    zone_pieces,
)
from sim.detect.world import (
    World,
    meeting_parties,
    separation_parties,
    separation_reach,
    separation_stats,
)
from sim.model import ruletypes
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
    # (As complex numbers, (party, start) pairs sort and search as pairs: every party's
    # stretch is found in one vectorised search, whatever the number of parties.)
    by_start = np.lexsort((legs.t0_s, party))
    key = party[by_start] + 1j * legs.t0_s[by_start]
    present = np.unique(party)
    longest = np.zeros(len(names))
    np.maximum.at(longest, party, legs.t1_s - legs.t0_s)
    episodes = []
    for zone in world.geography.zones:
        z = zone.spec
        xmin, ymin, xmax, ymax = zone.bounds
        others = present[present != code.get(z.party, -1)]
        lo = np.searchsorted(key, others + 1j * (z.active_start_s - longest[others]), "left")
        hi = np.searchsorted(key, others + 1j * z.active_end_s, "left")
        window = by_start[_spans(lo, hi)]
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
        for episode in aircraft_episodes(spec, world, pieces.leg, pieces.start_s, pieces.end_s,
                                     other_party=z.party, zone=z.id):
            status = world.hotline.status(episode.party, z, episode.start_s)
            episodes.append(replace(episode, informed=status == RECEIVED, declaration=status))
    return episodes


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every index in [lo[k], hi[k]) for each k, in order."""
    count = np.maximum(hi - lo, 0)
    shift = np.repeat(lo - (np.cumsum(count) - count), count)
    spans: np.ndarray = shift + np.arange(int(count.sum()))
    return spans


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
# Whether lane rules may run in a thread of their own (``detect_all``). A pool's worker
# turns it off (``sim.analysis.workers``): every core already runs a replication there.
LANE_RULES_BESIDE = True


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
    if not LANE_RULES_BESIDE or not beside or len(beside) == len(specs):
        return _in_order(specs, range(len(specs)), world)
    here = [k for k in range(len(specs)) if k not in set(beside)]
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


