"""Many parties cost no more than two: the party-aware broad phase, the zone rule's window
and the per-party statistics, which no longer loop over parties, are held here to the
all-pairs and per-party references they replaced. The zone rule, solving many zones at
once in blocks of zones and of (leg, edge) pairs, is held to the zone-by-zone reference
whatever the blocks' sizes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import testing as sst
from sim.analysis.metrics import involvement, per_party
from sim.detect import broadphase, narrowphase, rules
from sim.detect.blocks import aircraft_episodes
from sim.detect.broadphase import candidate_leg_pairs
from sim.detect.narrowphase import circle_pieces, polygon_pieces, zone_pieces
from sim.detect.rules import World, zone_incursion
from sim.model.records import RECEIVED

MANY = 12  # more than broadphase.FEW_PARTIES: the one-sweep path


@st.composite
def many_party_pairs(draw: st.DrawFn) -> frozenset[tuple[int, int]]:
    """All pairs of different parties (the usual case), or any set of pairs."""
    if draw(st.booleans()):
        return frozenset((p, q) for p in range(MANY) for q in range(p + 1, MANY))
    pairs = draw(st.sets(st.tuples(st.integers(0, MANY - 1), st.integers(0, MANY - 1)),
                         min_size=1, max_size=40))
    return frozenset((min(p, q), max(p, q)) for p, q in pairs)


@settings(max_examples=80, deadline=None)
@given(sst.leg_sets(max_flights=24), st.sampled_from([5000.0, 9260.0, 40_000.0]),
       st.sampled_from([None, 304.8]), many_party_pairs(), st.randoms())
def test_many_parties_keep_exactly_their_pairs(leg_set, horizontal_m, vertical_m, pairs,
                                               random):
    legs = leg_set[0]
    flights = int(legs.flight.max()) + 1
    party = np.array([random.randrange(MANY) for _ in range(flights)], np.int64)
    every = candidate_leg_pairs(legs, horizontal_m, vertical_m)
    some = candidate_leg_pairs(legs, horizontal_m, vertical_m,
                               meets=broadphase.Meets(party, pairs))
    pa, pb = party[legs.flight[every[0]]], party[legs.flight[every[1]]]
    wanted = np.array([(min(a, b), max(a, b)) in pairs
                       for a, b in zip(pa.tolist(), pb.tolist(), strict=True)], bool)
    assert np.array_equal(some[0], every[0][wanted])
    assert np.array_equal(some[1], every[1][wanted])


def test_one_party_per_aircraft_takes_the_one_sweep(monkeypatch):
    rng = np.random.default_rng(3)
    plans = [sst.FlightPlan(f"F{k:03d}", f"P{k:03d}", 0.0, float(rng.uniform(150, 250)), 7000.0,
                            rng.uniform(-60_000, 60_000, (6, 2))) for k in range(120)]
    legs = sst.legs_of(plans)
    party = np.arange(120, dtype=np.int64)
    pairs = frozenset((p, q) for p in range(120) for q in range(p + 1, 120))
    sweeps = []
    real = broadphase._sweep_pairs

    def counted(start, end, sides):
        sweeps.append(len(sides))
        return real(start, end, sides)
    monkeypatch.setattr(broadphase, "_sweep_pairs", counted)
    some = candidate_leg_pairs(legs, 9260.0, None, meets=broadphase.Meets(party, pairs))
    assert sweeps == [1]  # not one per party
    every = candidate_leg_pairs(legs, 9260.0, None)
    assert len(every[0]) > 0
    assert np.array_equal(some[0], every[0]) and np.array_equal(some[1], every[1])


@settings(max_examples=40, deadline=None)
@given(st.lists(sst.tracks(), min_size=2, max_size=10), st.lists(sst.zones(), min_size=1,
                                                                 max_size=3), st.randoms())
def test_zone_rule_with_many_parties_equals_the_all_legs_reference(plans, zone_docs, random):
    parties = [f"P{k}" for k in range(MANY)]
    plans = [sst.FlightPlan(f"T{k}", random.choice(parties), p.depart_s, p.speed_mps,
                            p.altitude_m, p.route_xy) for k, p in enumerate(plans)]
    zone_docs = [dict(z, id=f"Z{k}", party=random.choice(parties))
                 for k, z in enumerate(zone_docs)]
    rule = {"id": "zones", "type": "zone_incursion"}
    result = sst.run_plans(plans, rules=[rule], zones=zone_docs, duration_s=30_000.0)
    world = World(result.geography, result.flights, result.legs, result.hotline)
    spec = result.scenario.rules[0]
    legs, expected = world.legs, []
    party_of_leg = world.party_of_flight[legs.flight]
    for zone in world.geography.zones:
        z = zone.spec
        candidates = np.flatnonzero(party_of_leg != z.party)  # every leg of the others
        inside = (polygon_pieces(legs, candidates, zone.ring, zone.shape) if zone.ring is not None
                  else circle_pieces(legs, candidates, zone.center, zone.radius_m))
        pieces = zone_pieces(legs, inside, z.floor_m, z.ceiling_m, z.active_start_s,
                             z.active_end_s)
        for e in aircraft_episodes(spec, world, pieces.leg, pieces.start_s, pieces.end_s,
                                   other_party=z.party, zone=z.id):
            status = world.hotline.status(e.party, z, e.start_s)
            expected.append(replace(e, informed=status == RECEIVED, declaration=status))
    defaults = rules.ZONE_BLOCK, narrowphase.POLYGON_BLOCK
    for zone_block, polygon_block in (defaults, (1, 1), (40, 9)):
        rules.ZONE_BLOCK, narrowphase.POLYGON_BLOCK = zone_block, polygon_block
        try:
            found = zone_incursion(spec, world)
        finally:
            rules.ZONE_BLOCK, narrowphase.POLYGON_BLOCK = defaults
        # Zone by zone, as the reference (floats compared exactly).
        assert found == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, MANY - 1), st.integers(0, MANY - 1), st.booleans(),
                          st.floats(0.001, 10_000.0)), max_size=60))
def test_per_party_statistics_equal_the_per_party_loops(rows):
    from sim.model.records import Episode

    parties = [f"P{k}" for k in range(MANY)]
    episodes = [Episode("r", "t", parties[a], f"A{n}", parties[b], f"B{n}" if pair else "", "",
                        0.0, d, None, None, 0.0, 0.0, 0.0, 0.0, None)
                for n, (a, b, pair, d) in enumerate(rows)]
    counts, totals = involvement(episodes, parties)
    for p in parties:
        mine = [e for e in episodes if e.involves(p)]
        assert counts[p] == len(mine)
        assert totals[p] == float(sum(e.duration_s for e in mine))  # the same float
    assert per_party(episodes, parties) == {p: sum(1 for e in episodes if e.party == p)
                                            for p in parties}
    assert per_party(episodes, parties, lambda e: e.duration_s) == {
        p: sum(e.duration_s for e in episodes if e.party == p) for p in parties}
