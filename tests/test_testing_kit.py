"""The rule author's kit, ``sim.testing``: its strategies draw what they say, its worlds are
the product's, and each property check passes on the built-in rules and the rule of threes
and fails on a rule broken on purpose in the way it is meant to catch."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_of_threes import rule_of_threes as THREES

from sim import testing as sst
from sim.engine import run
from sim.rules import (
    BUILTIN,
    Episode,
    OptionalDistance,
    PairPieces,
    PositiveDistance,
    RuleParameters,
    World,
    close_pieces,
    pair_episodes,
    parameter,
    rule,
    rule_type,
)
from sim.scenario import parse_scenario
from sim.traffic.plans import FlightPlan

PARAMS = {"horizontal": "3 nmi", "vertical": "3000 ft"}
H_M, V_M = 3 * 1852.0, 3000 * 0.3048
MIN_SEPARATION = rule_type("min_separation")
LANES, ZONES = BUILTIN["lane_discipline"], BUILTIN["zone_incursion"]
THREES_PARAMS = {**PARAMS, "dwell": "1 min"}  # a minute: drawn worlds often dwell that long
KIT = settings(max_examples=12, deadline=None)
MOVES = (st.floats(-60_000.0, 60_000.0), st.floats(-60_000.0, 60_000.0))


# ---------------------------------------------------------------------------- broken rules


class Close(RuleParameters):
    """Closer than ``horizontal`` in plan (and ``vertical`` in altitude)."""

    horizontal: PositiveDistance = parameter("3 nmi", "How close in plan.", "distance")
    vertical: OptionalDistance = parameter(None, "How close in altitude.", "distance")


def _close(params: Close, world: World) -> PairPieces:
    return close_pieces(world, params.horizontal, params.vertical)


def _only(pieces: PairPieces, keep: np.ndarray) -> PairPieces:
    return PairPieces(*(getattr(pieces, f.name)[keep] for f in fields(PairPieces)))


@rule("first_is_blue", Close)
def first_is_blue(params: Close, world: World) -> list[Episode]:
    """Asymmetric: a pair counts only when its lower flight index is blue."""
    pieces = _close(params, world)
    keep = world.party_of_flight[world.legs.flight[pieces.leg_i]] == "blue"
    return pair_episodes(params, world, _only(pieces, keep))


@rule("east_only", Close)
def east_only(params: Close, world: World) -> list[Episode]:
    """Translation-dependent: only episodes whose closest approach is east of the centre."""
    return [e for e in pair_episodes(params, world, _close(params, world)) if e.x_m > 0.0]


@rule("eastbound", Close)
def eastbound(params: Close, world: World) -> list[Episode]:
    """Rotation-dependent (translation invariant): only pairs whose mean heading is east."""
    pieces, legs = _close(params, world), world.legs
    keep = legs.vx_mps[pieces.leg_i] + legs.vx_mps[pieces.leg_j] > 0.0
    return pair_episodes(params, world, _only(pieces, keep))


@rule("blue_named", Close)
def blue_named(params: Close, world: World) -> list[Episode]:
    """Relabelling-dependent: only pairs with a party called "blue"."""
    return [e for e in pair_episodes(params, world, _close(params, world))
            if "blue" in (e.party, e.other_party)]


@rule("room_left", Close)
def room_left(params: Close, world: World) -> list[Episode]:
    """Not monotone: takes the room left under 20 km for the threshold."""
    return pair_episodes(params, world, close_pieces(world, 20_000.0 - params.horizontal,
                                                     params.vertical))


@rule("every_minute", Close)
def every_minute(params: Close, world: World) -> list[Episode]:
    """Sampled at a time step: the distance every 60 s, each close sample 60 s of breach."""
    samples = sst.sample_world(world, 60.0)
    found = []
    for (a, b, _), flags in sst.close(samples, params.horizontal, params.vertical).items():
        i, j = samples.index(a), samples.index(b)
        edges = np.diff(np.r_[0, flags.astype(int), 0])
        for k0, k1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            found.append(Episode(
                rule=params.id, type=params.type, party=samples.parties[i], aircraft=a,
                other_party=samples.parties[j], other_aircraft=b, zone="",
                start_s=float(samples.times_s[k0]), end_s=float(samples.times_s[k1 - 1] + 60.0),
                min_distance_m=None, min_time_s=None, x_m=0.0, y_m=0.0, lon=0.0, lat=0.0,
                informed=None))
    return found


@rule("piecewise", Close)
def piecewise(params: Close, world: World) -> list[Episode]:
    """Unmerged: each leg pair's piece its own episode."""
    pieces = _close(params, world)
    return [e for k in range(len(pieces.start_s))
            for e in pair_episodes(params, world, _only(pieces, np.arange(len(pieces.start_s))
                                                        == k))]


# ---------------------------------------------------------------------------- a world to break


def plan(ident: str, party: str, depart_s: float, speed_mps: float, altitude_m: float,
         *points: tuple[float, float]) -> FlightPlan:
    return FlightPlan(ident, party, depart_s, speed_mps, altitude_m, np.array(points, float))


# A head-on pass 2 km apart whose closest approach is at x = 10 km, t = 300 s, the blue one
# turning a little there (so the pass is two leg pairs); and, 30 km north, a red aircraft
# overtaking a blue one 1 km off its wing, both eastbound, at x = 0 km at t = 600 s.
CONCRETE = sst.scenario_document([
    plan("B1", "blue", 0.0, 200.0, 6000.0, (-50_000.0, 0.0), (10_000.0, 0.0), (70_000.0, 500.0)),
    plan("R1", "red", 0.0, 200.0, 6000.0, (70_000.0, 2000.0), (-50_000.0, 2000.0)),
    plan("B2", "blue", 0.0, 100.0, 6000.0, (-60_000.0, 30_000.0), (60_000.0, 30_000.0)),
    plan("R2", "red", 200.0, 150.0, 6000.0, (-60_000.0, 31_000.0), (60_000.0, 31_000.0)),
], duration_s=2000.0)


def close_oracle(samples: sst.Samples) -> dict[sst.Key, np.ndarray]:
    return sst.close(samples, H_M, V_M)


def threes_oracle(dwell_s: float) -> sst.Oracle:
    def oracle(samples: sst.Samples) -> dict[sst.Key, np.ndarray]:
        return {key: sst.lasting(flags, samples.step_s, dwell_s)
                for key, flags in sst.close(samples, H_M, V_M).items()}
    return oracle


CHECKS = {
    "disjoint": lambda r, p, d: sst.check_disjoint_and_merged(r, p, d),
    "symmetric": lambda r, p, d: sst.check_symmetric(r, p, d),
    "translation": lambda r, p, d: sst.check_translation_invariant(r, p, d, -30_000.0, 500.0),
    "rotation": lambda r, p, d: sst.check_rotation_invariant(r, p, d, math.pi),
    "relabelling": lambda r, p, d: sst.check_relabelling_invariant(r, p, d),
    "monotone": lambda r, p, d: sst.check_monotone(r, p, d, "horizontal", "2 nmi", "4 nmi"),
    "sampling": lambda r, p, d: sst.check_agrees_with_sampling(r, p, d, close_oracle),
}
BROKEN = {"disjoint": piecewise, "symmetric": first_is_blue, "translation": east_only,
          "rotation": eastbound, "relabelling": blue_named, "monotone": room_left,
          "sampling": every_minute}


def test_the_concrete_world_has_what_the_broken_rules_need() -> None:
    episodes = sst.detect_rule(MIN_SEPARATION, PARAMS, CONCRETE)
    assert sorted(sst.episode_key(e) for e in episodes) == [("B1", "R1", ""), ("B2", "R2", "")]
    assert len(close_pieces(sst.world_of(CONCRETE), H_M, V_M).start_s) == 3  # B1 turns


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_passes_the_built_in_rule_on_the_concrete_world(name: str) -> None:
    CHECKS[name](MIN_SEPARATION, PARAMS, CONCRETE)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_fails_its_broken_rule(name: str) -> None:
    with pytest.raises(AssertionError, match=f"rule type '{BROKEN[name].name}'"):
        CHECKS[name](BROKEN[name], PARAMS, CONCRETE)


def test_the_failures_say_what_and_where() -> None:
    with pytest.raises(AssertionError, match=r"not symmetric(.|\n)*B1 & R1: breached"):
        sst.check_symmetric(first_is_blue, PARAMS, CONCRETE)
    with pytest.raises(AssertionError, match=r"B1 & R1: .* overlap|B1 & R1: .* touch"):
        sst.check_disjoint_and_merged(piecewise, PARAMS, CONCRETE)
    with pytest.raises(AssertionError, match=r"B1 & R1: the oracle says"):
        sst.check_agrees_with_sampling(every_minute, PARAMS, CONCRETE, close_oracle)


def test_monotone_knows_which_way() -> None:
    sst.check_monotone(MIN_SEPARATION, PARAMS, CONCRETE, "horizontal", "2 nmi", "4 nmi")
    with pytest.raises(AssertionError, match="should shrink"):
        sst.check_monotone(MIN_SEPARATION, PARAMS, CONCRETE, "horizontal", "2 nmi", "4 nmi",
                           grows=False)
    sst.check_monotone(THREES, PARAMS, CONCRETE, "dwell", "10 s", "30 s", grows=False)


def test_sampling_catches_a_wrong_oracle_too() -> None:
    with pytest.raises(AssertionError, match="disagrees with the sampling oracle"):
        sst.check_agrees_with_sampling(MIN_SEPARATION, PARAMS, CONCRETE,
                                       lambda s: sst.close(s, 2 * H_M, V_M))


def test_parameters_are_validated_with_the_rule_s_own_model() -> None:
    params = sst.rule_parameters(first_is_blue, {"horizontal": "2 km"}, CONCRETE)
    assert (params.id, params.type, params.horizontal, params.vertical) == (
        "checked", "first_is_blue", 2000.0, None)
    with pytest.raises(ValueError, match="do not validate"):
        sst.rule_parameters(first_is_blue, {"horizontal": "two km"}, CONCRETE)
    with pytest.raises(ValueError, match="do not validate"):
        sst.rule_parameters(THREES, {"between": ["blue", "nobody"]}, CONCRETE)
    assert sst.rule_parameters(MIN_SEPARATION, PARAMS, CONCRETE).horizontal_m == H_M


def test_a_result_that_breaks_the_contract_is_a_failure() -> None:
    @rule("no_interval", Close)
    def no_interval(params: Close, world: World) -> list[Episode]:
        """Episodes that end before they start."""
        from dataclasses import replace
        return [replace(e, end_s=e.start_s - 1.0)
                for e in pair_episodes(params, world, _close(params, world))]

    with pytest.raises(AssertionError, match="not an interval"):
        sst.check_symmetric(no_interval, PARAMS, CONCRETE)


# ---------------------------------------------------------------------------- the checks pass


RULES = {
    "min_separation": (MIN_SEPARATION, PARAMS, close_oracle, sst.worlds()),
    "rule_of_threes": (THREES, THREES_PARAMS, threes_oracle(60.0),
                       sst.worlds(kinds=("overtaking", "level_crossing", None))),
    "lane_discipline": (LANES, {"tolerance": "2 km"}, lambda s: sst.off_lanes(s, 2000.0),
                        sst.worlds(with_lanes=True, max_flights=4)),
    "zone_incursion": (ZONES, {}, sst.inside_zones, sst.worlds(with_zones=True, max_flights=4)),
}
DRAWN = {
    "disjoint": lambda r, p, d, o, data: sst.check_disjoint_and_merged(r, p, d),
    "symmetric": lambda r, p, d, o, data: sst.check_symmetric(r, p, d),
    "translation": lambda r, p, d, o, data: sst.check_translation_invariant(
        r, p, d, data.draw(MOVES[0]), data.draw(MOVES[1])),
    "rotation": lambda r, p, d, o, data: sst.check_rotation_invariant(
        r, p, d, data.draw(st.floats(-math.pi, math.pi))),
    "relabelling": lambda r, p, d, o, data: sst.check_relabelling_invariant(
        r, p, d, seed=data.draw(st.integers(0, 1000))),
    "sampling": lambda r, p, d, o, data: sst.check_agrees_with_sampling(r, p, d, o, step_s=2.0),
}


@pytest.mark.parametrize("check", sorted(DRAWN))
@pytest.mark.parametrize("name", sorted(RULES))
@KIT
@given(data=st.data())
def test_each_check_passes_on_drawn_worlds(name: str, check: str, data: st.DataObject) -> None:
    kind, params, oracle, worlds = RULES[name]
    DRAWN[check](kind, params, data.draw(worlds), oracle, data)


@KIT
@given(document=sst.worlds(), between=st.booleans())
def test_monotone_in_the_distances(document: dict, between: bool) -> None:
    params = {**PARAMS, "between": ["red", "blue"]} if between else PARAMS
    sst.check_monotone(MIN_SEPARATION, params, document, "horizontal", "2 nmi", "5 nmi")
    sst.check_monotone(MIN_SEPARATION, params, document, "vertical", "500 ft", "3000 ft")
    sst.check_monotone(THREES, params, document, "dwell", "30 s", "2 min", grows=False)


@KIT
@given(document=sst.worlds(with_lanes=True, max_flights=4))
def test_lane_discipline_shrinks_with_its_tolerance(document: dict) -> None:
    sst.check_monotone(LANES, {}, document, "tolerance", "1 km", "4 km", grows=False)


# ---------------------------------------------------------------------------- the strategies


def heading(plan: FlightPlan, leg: int = 0) -> float:
    dx, dy = plan.route_xy[leg + 1] - plan.route_xy[leg]
    return math.atan2(dy, dx)


def turned(a: float, b: float) -> float:
    """The angle between two headings, 0 to pi."""
    return abs((a - b + math.pi) % (2 * math.pi) - math.pi)


def at_time(plan: FlightPlan, t_s: float) -> np.ndarray:
    """Where the plan is at ``t_s`` (x, y, z), from its vertices."""
    t, x, y, z = np.array(sst.vertices(plan)).T
    return np.array([np.interp(t_s, t, x), np.interp(t_s, t, y), np.interp(t_s, t, z)])


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sst.ENCOUNTER_KINDS), data=st.data())
def test_encounters_of_a_kind_meet_as_the_kind_says(kind: str, data: st.DataObject) -> None:
    a, b = data.draw(sst.encounters(kind=kind, max_miss_m=5000.0))
    assert (a.party, b.party) == ("blue", "red")
    pa, pb = at_time(a, 3600.0), at_time(b, 3600.0)  # both at their pass points then
    assert math.hypot(*(pb - pa)[:2]) <= 5000.0 + 1e-6
    between = turned(heading(a), heading(b))
    if kind == "head_on":
        assert between >= math.radians(170.0) - 1e-9
    elif kind == "crossing":
        assert math.radians(30.0) - 1e-9 <= between <= math.radians(150.0) + 1e-9
    elif kind == "overtaking":
        assert between <= math.radians(10.0) + 1e-9
        assert b.speed_mps >= 1.2 * a.speed_mps * (1 - 1e-12)
        # The faster one gains on the slower one along its heading.
        u = np.array([math.cos(heading(a)), math.sin(heading(a))])
        velocity = b.speed_mps * np.array([math.cos(heading(b)), math.sin(heading(b))])
        assert velocity @ u > a.speed_mps
    else:
        assert a.route_z_m is None  # level
        z_before, z_after = at_time(b, b.waypoint_times()[0])[2], b.altitudes()[-1]
        assert (z_before - a.altitude_m) * (z_after - a.altitude_m) < 0.0  # through its level
        assert abs(pb[2] - a.altitude_m) <= 100.0 + 1e-9


@settings(max_examples=1, deadline=None)
@given(data=st.data())
def test_an_unknown_kind_of_encounter_is_refused(data: st.DataObject) -> None:
    with pytest.raises(ValueError, match="not a kind of encounter"):
        data.draw(sst.encounters(kind="sideways"))


@settings(max_examples=30, deadline=None)
@given(corridor_lanes=sst.lanes(parties=("red", "green")))
def test_lanes_are_two_parties_lanes_inside_the_corridor(corridor_lanes) -> None:
    corridor, lanes = corridor_lanes
    document = sst.scenario_document([], corridor=corridor, lanes=lanes, duration_s=60.0)
    geography = sst.world_of(document).geography
    assert geography.centerline is not None and geography.half_width_m is not None
    assert sorted(g.lane.party for g in geography.lanes) == ["green", "red"]
    offsets = [g.lane.offset_m for g in geography.lanes]
    assert offsets[0] * offsets[1] < 0.0  # either side of the centerline
    assert max(abs(o) for o in offsets) < geography.half_width_m


@settings(max_examples=30, deadline=None)
@given(document=sst.worlds())
def test_worlds_are_small_valid_scenarios_that_cover_their_flights(document: dict) -> None:
    scenario = parse_scenario(document)
    assert 2 <= len(scenario.flights) <= 8
    assert 2 <= len(scenario.parties) <= 3
    world = sst.world_of(document)
    assert [f.id for f in world.flights] == sorted(f.id for f in scenario.flights)
    plans = {p.id: p for p in run(scenario).plans}
    for flight in world.flights:  # each flown to its last point
        assert flight.land_s == pytest.approx(plans[flight.id].waypoint_times()[-1])
        assert flight.land_s < scenario.duration_s


@settings(max_examples=15, deadline=None)
@given(document=sst.worlds())
def test_a_rule_called_on_world_of_finds_what_a_run_finds(document: dict) -> None:
    found = sst.detect_rule(THREES, THREES_PARAMS, document)
    rules = [{"id": "checked", "type": "rule_of_threes", **THREES_PARAMS}]
    assert sorted(found, key=Episode.sort_key) == list(
        run(parse_scenario({**document, "rules": rules})).episodes)


@settings(max_examples=15, deadline=None)
@given(document=sst.worlds(vertical=True, max_flights=3))
def test_samples_are_where_the_flights_are(document: dict) -> None:
    world = sst.world_of(document)
    samples = sst.sample_world(world, 7.0)
    assert np.all(np.diff(samples.times_s) == pytest.approx(7.0))
    legs = world.legs
    for leg in range(len(legs)):
        f, t0, t1 = int(legs.flight[leg]), legs.t0_s[leg], legs.t1_s[leg]
        inside = (samples.times_s >= t0) & (samples.times_s <= t1)
        t = samples.times_s[inside]
        x, y = legs.position(np.full(len(t), leg), t)
        np.testing.assert_allclose(samples.x_m[f, inside], x, atol=1e-6)
        np.testing.assert_allclose(samples.y_m[f, inside], y, atol=1e-6)
        np.testing.assert_allclose(samples.z_m[f, inside],
                                   legs.altitude(np.full(len(t), leg), t), atol=1e-6)
    for f in range(len(world.flights)):  # nowhere before departure or after landing
        up = samples.airborne[f]
        assert np.all(samples.times_s[up] >= world.flights[f].depart_s - 1e-9)
        assert np.all(samples.times_s[up] <= world.flights[f].land_s + 1e-9)


def test_lasting_holds_once_the_dwell_is_over() -> None:
    flags = np.array([0, 1, 1, 1, 1, 0, 1, 1, 1, 1], bool)
    # Held from sample 1: 30 s at sample 4; from sample 6: 20 s at 8 (not more), 30 s at 9.
    assert sst.lasting(flags, 10.0, 20.0).tolist() == [
        False, False, False, False, True, False, False, False, False, True]
    assert not sst.lasting(flags, 10.0, 30.0).any()


def test_breaches_compare_within_rounding_only() -> None:
    from sim.testing import intervals as iv

    a = iv.union([(0.0, 10.0), (10.0, 20.0), (30.0, 40.0)])
    assert a.tolist() == [[0.0, 20.0], [30.0, 40.0]]
    assert iv.minus(a, iv.union([(5.0, 35.0)])).tolist() == [[0.0, 5.0], [35.0, 40.0]]
    assert iv.excess(a, iv.union([(0.0, 20.0), (30.0, 40.0 - 1e-3)])) == []  # 1 ms: rounding
    assert iv.excess(a, iv.union([(0.0, 20.0), (30.0, 39.99)])) == [(39.99, 40.0)]
    assert iv.excess(iv.union([(5e4, 5e4 + 1e-6)]), np.zeros((0, 2))) == []  # a sliver
