"""The separation narrow and broad phases held to plain references.

- The vectorised narrow phase (``separation_pieces``) gives, bit for bit, what the scalar
  reference in ``tests/scalar_narrow_phase.py`` gives one pair at a time.
- The broad phase (``candidate_leg_pairs``) never leaves out a pair the narrow phase would
  find among all pairs, with or without a vertical limit, whatever the batch size, the
  chunk budget or the cell-key path; asked for some party pairs only, it keeps exactly
  those of theirs it keeps when asked for all.
- The polygon test of zones (``polygons_pieces``), many polygons of different vertex counts
  at once, in blocks of any size, gives bit for bit what the plain reference
  ``polygon_leg_pieces`` gives one leg and polygon at a time.
- Lane discipline's prefilter (``lane_pieces``) hands the exact solver every leg it finds
  something for: the result is, bit for bit, the exact solver's on all legs, whose answer
  for a leg does not depend on the other legs; ``near_segments``'s box test keeps every
  (leg, segment) meeting of the closed form over all pairs.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import testing as sst
from sim.detect import broadphase, narrowphase
from sim.detect.broadphase import candidate_leg_pairs
from sim.detect.legs import Legs, capsule_interval
from sim.detect.narrowphase import (
    LegPieces,
    _lane_pieces_exact,
    _leg_boxes,
    lane_pieces,
    near_segments,
    polygon_pieces,
    polygons_pieces,
    separation_pieces,
)
from tests.scalar_narrow_phase import pair_piece, polygon_leg_pieces

horizontals_m = st.sampled_from([152.4, 1852.0, 9260.0, 72_420.0]) | st.floats(1.0, 100_000.0)
verticals_m = st.none() | st.sampled_from([30.48, 304.8]) | st.floats(1.0, 5_000.0)


def _all_pairs(legs: Legs) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(len(legs), k=1)
    keep = legs.flight[i] != legs.flight[j]
    return i[keep], j[keep]


@settings(max_examples=150, deadline=None)
@given(sst.leg_sets(), horizontals_m, verticals_m)
def test_vectorised_narrow_phase_equals_the_scalar_reference(leg_set, horizontal_m,
                                                             vertical_m):
    legs, _ = leg_set
    i, j = _all_pairs(legs)
    pieces = separation_pieces(legs, i, j, horizontal_m, vertical_m)
    vectorised = {(int(a), int(b)): (s, e, d, t) for a, b, s, e, d, t in zip(
        pieces.leg_i, pieces.leg_j, pieces.start_s.tolist(), pieces.end_s.tolist(),
        pieces.min_distance_m.tolist(), pieces.min_time_s.tolist(), strict=True)}
    scalar = {}
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        piece = pair_piece(legs, a, b, horizontal_m, vertical_m)
        if piece is not None:
            scalar[(a, b)] = piece
    assert vectorised == scalar  # floats compared exactly


def _near_pairs(legs: Legs, horizontal_m: float, vertical_m: float | None) -> set[tuple[int,
                                                                                         int]]:
    i, j = _all_pairs(legs)
    pieces = separation_pieces(legs, i, j, horizontal_m, vertical_m)
    return set(zip(pieces.leg_i.tolist(), pieces.leg_j.tolist(), strict=True))


def _check_candidates(legs: Legs, horizontal_m: float, vertical_m: float | None) -> None:
    i, j = candidate_leg_pairs(legs, horizontal_m, vertical_m)
    key = i * len(legs) + j
    assert np.all(i < j) and np.all(np.diff(key) > 0)  # i < j, unique, sorted
    assert np.all(legs.flight[i] != legs.flight[j])
    overlap = np.maximum(legs.t0_s[i], legs.t0_s[j]) < np.minimum(legs.t1_s[i], legs.t1_s[j])
    assert np.all(overlap)
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    missed = _near_pairs(legs, horizontal_m, vertical_m) - found
    assert not missed


@settings(max_examples=150, deadline=None)
@given(sst.leg_sets(max_flights=12), horizontals_m, verticals_m)
def test_broad_phase_keeps_every_pair_the_narrow_phase_finds(leg_set, horizontal_m,
                                                              vertical_m):
    _check_candidates(leg_set[0], horizontal_m, vertical_m)


party_pairs = st.sets(st.tuples(st.integers(0, 2), st.integers(0, 2)).map(
    lambda pq: (min(pq), max(pq))), max_size=6)


@settings(max_examples=100, deadline=None)
@given(sst.leg_sets(max_flights=12), horizontals_m, verticals_m, party_pairs, st.randoms())
def test_broad_phase_for_some_parties_keeps_exactly_their_pairs(leg_set, horizontal_m,
                                                                 vertical_m, pairs, random):
    legs = leg_set[0]
    flights = int(legs.flight.max()) + 1
    party = np.array([random.randrange(3) for _ in range(flights)], np.int64)
    every = candidate_leg_pairs(legs, horizontal_m, vertical_m)
    some = candidate_leg_pairs(legs, horizontal_m, vertical_m,
                               meets=broadphase.Meets(party, frozenset(pairs)))
    pa, pb = party[legs.flight[every[0]]], party[legs.flight[every[1]]]
    wanted = np.array([(min(a, b), max(a, b)) in pairs for a, b in
                       zip(pa.tolist(), pb.tolist(), strict=True)], bool)
    assert np.array_equal(some[0], every[0][wanted])
    assert np.array_equal(some[1], every[1][wanted])


def test_broad_phase_for_two_parties_in_a_crowd(monkeypatch):
    legs = _crowd(150, 5)
    party = (np.arange(150) % 3).astype(np.int64)  # three parties, two of them meeting
    meets = broadphase.Meets(party, frozenset({(0, 2)}))
    every = candidate_leg_pairs(legs, 9260.0, 304.8)
    monkeypatch.setattr(broadphase, "BATCH_PAIRS", 11)
    some = candidate_leg_pairs(legs, 9260.0, 304.8, meets=meets)
    pa, pb = party[legs.flight[every[0]]], party[legs.flight[every[1]]]
    wanted = ((pa == 0) & (pb == 2)) | ((pa == 2) & (pb == 0))
    assert 0 < np.count_nonzero(wanted) < len(wanted)
    assert np.array_equal(some[0], every[0][wanted]) and np.array_equal(some[1], every[1][wanted])


def _crowd(n: int, seed: int, box_m: float = 60_000.0) -> Legs:
    """Many flights on multi-leg routes in a small box over a few hours: many cells,
    chunks and pairs, some climbing (the broad phase must not assume level legs)."""
    rng = np.random.default_rng(seed)
    plans = [sst.FlightPlan(f"F{k}", "blue" if k % 2 else "red", float(rng.uniform(0, 7200)),
                            float(rng.uniform(80, 300)),
                            float(rng.choice([6096.0, 6096.0 + 304.8, 7000.0])),
                            rng.uniform(-box_m / 2, box_m / 2, (int(rng.integers(2, 6)), 2)))
             for k in range(n)]
    legs = sst.legs_of(plans)
    climb = rng.uniform(-5.0, 5.0, len(legs)) * (rng.uniform(size=len(legs)) < 0.3)
    return Legs(legs.flight, legs.t0_s, legs.t1_s, legs.x0_m, legs.y0_m, legs.z0_m,
                legs.vx_mps, legs.vy_mps, climb)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("horizontal_m", "vertical_m"),
                         [(9260.0, 304.8), (152.4, 30.48), (72_420.0, None), (1852.0, 1.0)])
def test_broad_phase_in_a_crowd(seed, horizontal_m, vertical_m):
    _check_candidates(_crowd(120, seed), horizontal_m, vertical_m)


def test_batches_do_not_change_the_candidates(monkeypatch):
    legs = _crowd(150, 7)
    expected = candidate_leg_pairs(legs, 9260.0, 304.8)
    monkeypatch.setattr(broadphase, "BATCH_PAIRS", 7)
    batched = candidate_leg_pairs(legs, 9260.0, 304.8)
    assert all(np.array_equal(a, b) for a, b in zip(batched, expected, strict=True))


def test_a_tight_chunk_budget_still_keeps_every_near_pair(monkeypatch):
    legs = _crowd(150, 7)
    monkeypatch.setattr(broadphase, "MAX_CHUNKS", 2 * len(legs) + 50)  # long, coarse buckets
    _check_candidates(legs, 9260.0, 304.8)
    _check_candidates(legs, 500.0, None)


def test_cell_keys_by_rank_order_cells_like_tuples():
    rng = np.random.default_rng(3)
    n = 500
    first = np.stack([rng.choice([0, 2**40], n), rng.integers(0, 3, n), rng.choice([0, 2**30], n)])
    chunks = broadphase._Chunks(np.arange(n), np.arange(n), np.zeros(n), np.ones(n),
                            rng.integers(0, 3, n), first * 1.0, first * 1.0, first, first + 1)
    chunk = np.repeat(np.arange(n), 8).astype(np.int32)
    step = np.tile(np.arange(8), n).astype(np.int8)
    key = chunks.cell_key(chunk, step)  # spans far beyond 62 bits: ranks
    cells = first[:, chunk] + broadphase._STEPS[:, step]
    rows = list(zip(chunks.bucket[chunk].tolist(), *(c.tolist() for c in cells), strict=True))
    by_tuple = sorted(range(len(rows)), key=lambda k: rows[k])
    assert np.all(np.diff(key[by_tuple]) >= 0)
    assert len(set(key.tolist())) == len(set(rows))


def test_one_broad_phase_at_the_widest_reach_finds_what_each_rule_finds_alone():
    from sim.detect.rules import World, detect, separation_parties, separation_reach

    rng = np.random.default_rng(11)
    plans = [sst.FlightPlan(f"F{k}", ("blue", "red")[k % 2], float(rng.uniform(0, 3600)),
                            float(rng.uniform(150, 260)),
                            float(rng.choice([6096.0, 6096.0 + 304.8, 6200.0])),
                            rng.uniform(-40_000, 40_000, (4, 2))) for k in range(40)]
    rules = [{"id": "wide", "type": "min_separation", "horizontal": "20 km"},
             {"id": "los", "type": "min_separation", "horizontal": "5 nmi",
              "vertical": "1000 ft"},
             {"id": "nmac", "type": "min_separation", "horizontal": "500 ft",
              "vertical": "100 ft"},
             {"id": "blue", "type": "min_separation", "horizontal": "10 km",
              "between": ["blue", "blue"]},
             {"id": "cross", "type": "min_separation", "horizontal": "15 km",
              "between": ["red", "blue"]}]
    result = sst.run_plans(plans, rules=rules, duration_s=3 * 3600.0)
    specs = result.scenario.rules
    shared = World(result.geography, result.flights, result.legs, result.hotline,
                   separation_reach(specs),
                   separation_parties=separation_parties(specs, ["blue", "red"]))
    assert shared.separation_reach == (20_000.0, None)
    assert shared.separation_parties == {("blue", "red"), ("blue", "blue")}
    found = 0
    for spec in specs:
        alone = World(result.geography, result.flights, result.legs, result.hotline)
        episodes = detect(spec, shared)
        assert episodes == detect(spec, alone)
        found += len(episodes)
    assert found > 0
    assert len(shared._pairs) == 1  # the broad phase ran once
    # Asked for no parties (a rule of the user's own), pairs of any two flights.
    every = World(result.geography, result.flights, result.legs, result.hotline)
    for a, b in zip(every.leg_pairs(20_000.0, None), candidate_leg_pairs(result.legs, 20_000.0),
                    strict=True):
        assert np.array_equal(a, b)
    assert sum(len(detect(spec, shared)) for spec in specs[1:]) > 0


def test_rules_between_parties_without_flights_run(tmp_path):
    # A rule may name a party with no aircraft in the air: nothing to pair, no error.
    from sim.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: absent\nduration: 2 h\nframe: {center: raqqa}\n"
        "parties: {coalition: {}, russia: {}}\nflights:\n"
        "- {id: A, party: coalition, speed: 450 kt, altitude: FL200, route: [raqqa, hajin]}\n"
        "- {id: B, party: coalition, speed: 450 kt, altitude: FL200, route: [hajin, raqqa]}\n"
        "rules:\n"
        "- {id: cross, type: min_separation, horizontal: 5 nmi, between: [coalition, russia]}\n"
        "- {id: own, type: min_separation, horizontal: 5 nmi, between: [coalition, coalition]}\n"
        "- {id: any, type: min_separation, horizontal: 5 nmi}\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    events = (tmp_path / "out" / "events.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in events[1:]] == ["own"]


def _check_polygons(legs: Legs, leg: np.ndarray, polygon: np.ndarray, rings: list[np.ndarray],
                    block: int) -> None:
    shapes = [shapely.Polygon(r) for r in rings]
    real = narrowphase.POLYGON_BLOCK
    narrowphase.POLYGON_BLOCK = block
    try:
        row, lo, hi = polygons_pieces(legs, leg, polygon, rings, shapes)
    finally:
        narrowphase.POLYGON_BLOCK = real
    expected = [(k, a, b) for k, (i, p) in enumerate(zip(leg.tolist(), polygon.tolist(),
                                                           strict=True))
                for a, b in polygon_leg_pieces(legs, i, rings[p], shapes[p])]
    assert list(zip(row.tolist(), lo.tolist(), hi.tolist(), strict=True)) == expected


@settings(max_examples=100, deadline=None)
@given(sst.leg_sets(), st.lists(sst.polygons(), min_size=1, max_size=5), st.data(),
       st.sampled_from([1, 10, 25, 1_000_000]))
def test_polygons_at_once_equal_the_reference_one_leg_and_polygon_at_a_time(
        leg_set, polygons, data, block):
    legs, _ = leg_set
    rings = [np.vstack([p, p[:1]]) for p in polygons]  # of 3 to 9 vertices each
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(legs) - 1),
                                         st.integers(0, len(rings) - 1)), max_size=40))
    leg = np.array([i for i, _ in pairs], np.int64)
    polygon = np.array([p for _, p in pairs], np.int64)
    _check_polygons(legs, leg, polygon, rings, block)
    # One polygon alone, as the jammers and plugins ask.
    inside = polygon_pieces(legs, leg, rings[0], shapely.Polygon(rings[0]))
    row, lo, hi = polygons_pieces(legs, leg, np.zeros(len(leg), np.int64), rings[:1],
                                  [shapely.Polygon(rings[0])])
    assert np.array_equal(inside[0], leg[row]) and inside[1].tobytes() == lo.tobytes()
    assert inside[2].tobytes() == hi.tobytes()


def test_polygons_along_edges_and_through_corners_equal_the_reference():
    # Legs along a square's edges, through its corners, along its diagonal and standing
    # still, against the square, a triangle and a pentagon at once.
    along = [(-2.0, -1.0, 1.0, 0.0), (-1.0, -3.0, 0.0, 1.0), (-3.0, -3.0, 1.0, 1.0),
             (-3.0, 1.0, 1.0, -1.0), (0.0, 0.0, 0.0, 0.0), (-1.0, 1.0, 0.5, 0.0)]
    n = len(along)
    x0, y0, vx, vy = (np.array(c, float) * 1000.0 for c in zip(*along, strict=True))  # 6 s
    legs = Legs(np.arange(n), np.zeros(n), np.full(n, 6.0), x0, y0, np.zeros(n), vx, vy,
                np.zeros(n))
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 1000.0
    triangle = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 1000.0
    pentagon = np.array([[0.0, -2.0], [2.0, 0.0], [1.0, 2.0], [-1.0, 2.0], [-2.0, 0.0],
                         [0.0, -2.0]]) * 1000.0
    leg = np.repeat(np.arange(n), 3)
    polygon = np.tile(np.arange(3), n)
    for block in (1, 4, 1_000_000):
        _check_polygons(legs, leg, polygon, [square, triangle, pentagon], block)


# ---------------------------------------------------------------------------- lane discipline


def _segments(route: np.ndarray) -> np.ndarray:
    """A route's segments as an (n, 4) array: ax, ay, bx, by."""
    return np.hstack([route[:-1], route[1:]])


@st.composite
def lane_worlds(draw: st.DrawFn) -> tuple[Legs, np.ndarray, float, np.ndarray, float]:
    """Legs, a corridor (centerline segments, half width) and lanes with their tolerance.

    The lane is sometimes the centerline moved sideways, its tolerance then sometimes ending
    where the corridor does; legs fly laps (the same paths again, later) and some run at
    exactly the half width or the tolerance from a segment: the boundaries where rounding
    decides."""
    legs, _ = draw(sst.leg_sets())
    centerline = _segments(draw(sst.routes(min_points=2, max_points=6, allow_repeats=False)))
    half_width = draw(st.floats(1_000.0, 80_000.0))
    shift = np.array([draw(st.floats(-60_000.0, 60_000.0)), draw(st.floats(-60_000.0, 60_000.0))])
    lanes = draw(st.sampled_from(["moved", "free", "none"]))
    if lanes == "moved":
        lane_segments = centerline + np.tile(shift, 2)
    elif lanes == "free":
        lane_segments = _segments(draw(sst.routes(allow_repeats=False)))
    else:
        lane_segments = np.zeros((0, 4))
    tolerance = draw(st.sampled_from([0.0, max(half_width - float(np.hypot(*shift)), 0.0)])
                     | st.floats(100.0, 60_000.0))
    # Legs along segments, offset by exactly the half width or the tolerance.
    along = []
    for segments, offset in ((centerline, half_width), (lane_segments, tolerance)):
        for ax, ay, bx, by in segments[:draw(st.integers(0, 3))]:
            length = float(np.hypot(bx - ax, by - ay))
            if length == 0.0:
                continue
            side = draw(st.sampled_from([-1.0, 1.0]))
            nx, ny = side * -(by - ay) / length, side * (bx - ax) / length
            speed = draw(st.floats(50.0, 400.0))
            along.append((ax + offset * nx, ay + offset * ny, (bx - ax) / length * speed,
                          (by - ay) / length * speed, length / speed))
    parts = [legs]
    if along:
        x, y, vx, vy, span = (np.array(c) for c in zip(*along, strict=True))
        zero = np.zeros(len(along))
        parts.append(Legs(np.zeros(len(along), np.int64), zero, span, x, y, zero, vx, vy, zero))
    # Laps: some legs again, an hour later.
    again = legs.select(np.asarray(draw(st.lists(st.integers(0, len(legs) - 1), max_size=6)),
                                   np.int64))
    parts.append(Legs(again.flight, again.t0_s + 3600.0, again.t1_s + 3600.0, again.x0_m,
                      again.y0_m, again.z0_m, again.vx_mps, again.vy_mps, again.vz_mps))
    every = Legs(*(np.concatenate([getattr(p, f) for p in parts]) for f in Legs.__slots__))
    return every, centerline, half_width, lane_segments, tolerance


def _same_pieces(a: LegPieces, b: LegPieces) -> bool:
    return (np.array_equal(a.leg, b.leg) and np.array_equal(a.start_s, b.start_s)
            and np.array_equal(a.end_s, b.end_s))


@settings(max_examples=300, deadline=None)
@given(lane_worlds())
def test_lane_prefilter_gives_the_exact_solvers_answer_on_all_legs(world):
    legs, corridor, half_width, lanes, tolerance = world
    assert _same_pieces(lane_pieces(legs, corridor, half_width, lanes, tolerance),
                        _lane_pieces_exact(legs, corridor, half_width, lanes, tolerance))


@settings(max_examples=100, deadline=None)
@given(lane_worlds(), st.randoms())
def test_the_exact_lane_solver_answers_for_each_leg_alone(world, rng):
    # What makes a generous prefilter harmless: a leg's pieces whatever else is solved.
    legs, corridor, half_width, lanes, tolerance = world
    every = _lane_pieces_exact(legs, corridor, half_width, lanes, tolerance)
    mask = np.array([rng.random() < 0.5 for _ in range(len(legs))], bool)
    some = _lane_pieces_exact(legs.select(mask), corridor, half_width, lanes, tolerance)
    kept = mask[every.leg]
    assert _same_pieces(LegPieces(np.flatnonzero(mask)[some.leg], some.start_s, some.end_s),
                        LegPieces(every.leg[kept], every.start_s[kept], every.end_s[kept]))


@settings(max_examples=150, deadline=None)
@given(lane_worlds(), st.booleans())
def test_near_segments_keeps_every_meeting_of_all_pairs(world, closed):
    legs, corridor, half_width, _, _ = world
    leg, lo, hi = near_segments(legs, _leg_boxes(legs), corridor, half_width, closed)
    # The closed form over every (leg, segment) pair, no box, no midpoint test.
    i, j = (a.ravel() for a in np.meshgrid(np.arange(len(legs)), np.arange(len(corridor)),
                                           indexing="ij"))
    s = corridor[j]
    all_lo, all_hi = capsule_interval(legs.x0_m[i], legs.y0_m[i], legs.vx_mps[i],
                                      legs.vy_mps[i], s[:, 0], s[:, 1], s[:, 2], s[:, 3],
                                      half_width, closed)
    all_lo, all_hi = np.maximum(all_lo, 0.0), np.minimum(all_hi, (legs.t1_s - legs.t0_s)[i])
    meet = (all_hi >= all_lo) if closed else (all_hi > all_lo)
    assert sorted(zip(leg.tolist(), lo.tolist(), hi.tolist(), strict=True)) == sorted(
        zip(i[meet].tolist(), all_lo[meet].tolist(), all_hi[meet].tolist(), strict=True))


def test_lane_prefilter_on_a_day_of_the_baseline():
    import dataclasses
    from pathlib import Path

    from sim.model.scenario import load_scenario
    from tests.worlds import rules_and_world

    path = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"
    specs, world = rules_and_world(dataclasses.replace(load_scenario(path),
                                                       duration_s=86400.0))
    spec = next(s for s in specs if s.type == "lane_discipline")
    geo = world.geography
    found = 0
    for party in sorted({g.lane.party for g in geo.lanes}):
        legs = world.legs.select(world.party_of_flight[world.legs.flight] == party)
        lanes = np.vstack([g.line.segments for g in geo.lanes_of(party)])
        args = (geo.centerline.segments, geo.half_width_m, lanes, spec.tolerance_m)
        exact = _lane_pieces_exact(legs, *args)
        assert _same_pieces(lane_pieces(legs, *args), exact)
        found += len(exact.leg)
    assert found > 0
