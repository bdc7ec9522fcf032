"""Exact detection on tracks that climb and descend (x, y and altitude linear in time on
each leg), against the sampling oracle and against closed forms worked out by hand.

The oracle tests draw scenario documents whose route entries give their altitudes and
sometimes a climb and a descent rate (``tests/scenario_documents.py``); the product runs on
the document and the oracle flies it by its own reading (``tests/oracle_scenario.py``:
level-offs included). Other tests take plans from ``sim.testing`` with ``vertical=True``,
detected by ``sim.testing.detect_plans`` (the product's rules on the plans' own 4D legs);
flown through the whole product (``sim.testing.run_plans``) they give the same episodes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import testing as sst
from sim.traffic.plans import FlightPlan
from tests import oracle
from tests import oracle_scenario as osc
from tests.scenario_documents import encounter_documents, run_document, zone_documents
from tests.test_detect_properties import (
    DT,
    EPS,
    HORIZONTAL_ONLY,
    LOS,
    NMAC,
    assert_separation_matches_oracle,
    assert_zone_matches_oracle,
    common_window,
    episodes_of,
)

FT = 0.3048


def assert_same_episodes(flown, detected) -> None:
    """The episodes of the whole product equal the plans' own, to 1e-6 s and 1e-6 m."""
    assert len(flown) == len(detected)
    for e, f in zip(flown, detected, strict=True):
        assert (e.rule, e.aircraft, e.other_aircraft, e.zone, e.cause) == (
            f.rule, f.aircraft, f.other_aircraft, f.zone, f.cause)
        for name in ("start_s", "end_s", "min_time_s", "min_distance_m", "vertical_m",
                     "min_slant_m", "x_m", "y_m"):
            a, b = getattr(e, name), getattr(f, name)
            assert (a is None) == (b is None), name
            if a is not None:
                assert a == pytest.approx(b, abs=1e-6), name


def _shifted(plan: FlightPlan, dz: float = 0.0, angle: float = 0.0,
             shift: tuple[float, float] = (0.0, 0.0)) -> FlightPlan:
    c, s = math.cos(angle), math.sin(angle)
    xy = plan.route_xy @ np.array([[c, s], [-s, c]]) + np.asarray(shift)
    return FlightPlan(plan.id, plan.party, plan.depart_s, plan.speed_mps, plan.altitude_m + dz,
                      xy, route_z_m=plan.altitudes() + dz)


def climb_mps(flight: osc.Flight) -> float:
    """The fastest climb or descent of a flight's track."""
    t, z = flight.track[:, 0], flight.track[:, 3]
    flown = np.diff(t) > 0
    return float(np.max(np.abs(np.diff(z)[flown] / np.diff(t)[flown]), initial=0.0))


@settings(deadline=None, max_examples=60)
@given(document=encounter_documents(vertical=True))
def test_climbing_separation_agrees_with_sampling_oracle(document):
    rule = document["rules"][0]
    product = episodes_of(run_document(document), rule["id"])
    a, b = osc.flights(document)
    horizontal, vertical = osc.separation_limits(rule)
    assert_separation_matches_oracle(product, a, b, horizontal, vertical)
    if len(a.track) == 0 or len(b.track) == 0:
        return  # one never flies within the run (and the product found nothing)
    # Relative speed in 3D is at most the two ground speeds plus the two climb rates.
    relative_speed = a.speed_mps + b.speed_mps + climb_mps(a) + climb_mps(b)
    lo, hi = common_window(a, b)
    for episode in product:
        times = np.append(oracle.sample_times(episode.start_s, episode.end_s, DT),
                          np.clip(episode.min_time_s, lo, hi))  # within rounding of the ends
        sa, sb = oracle.track_state(a.track, times), oracle.track_state(b.track, times)
        holds = np.hypot(sa.x_m - sb.x_m, sa.y_m - sb.y_m) < horizontal
        if vertical is not None:
            holds &= np.abs(sa.z_m - sb.z_m) < vertical
        slant = np.sqrt((sa.x_m - sb.x_m) ** 2 + (sa.y_m - sb.y_m) ** 2 + (sa.z_m - sb.z_m) ** 2)
        # min_vertical_m is |dz| at the closest approach in plan
        assert episode.vertical_m == pytest.approx(abs(sa.z_m[-1] - sb.z_m[-1]), abs=1e-6)
        # the exact least 3D distance is never above a sampled one in the episode, and
        # no farther below than the sampling's resolution
        assert episode.min_slant_m <= np.nanmin(slant) + EPS
        # (the ends, where the condition is only just false, are left out: the least
        # distance may fall at an end, a whole step from the nearest sample inside)
        inner = slant[:-1][holds[:-1]]
        if len(inner):
            assert np.min(inner) - episode.min_slant_m <= relative_speed * DT + EPS
        # ... and never below the horizontal distance, never above the slant at min time
        assert episode.min_distance_m - EPS <= episode.min_slant_m <= slant[-1] + EPS


@settings(deadline=None, max_examples=20)
@given(pair=sst.encounters(vertical=True), rule=st.sampled_from([LOS, HORIZONTAL_ONLY, NMAC]),
       track=sst.tracks(vertical=True, party="red"), zone=sst.zones())
def test_plans_detected_on_their_own_legs_give_the_whole_products_episodes(pair, rule, track,
                                                                          zone):
    assert_same_episodes(sst.run_plans(pair, rules=[rule]).episodes,
                         sst.detect_plans(pair, rules=[rule]))
    rules = [{"id": "z", "type": "zone_incursion"}]
    assert_same_episodes(sst.run_plans([track], rules=rules, zones=[zone]).episodes,
                         sst.detect_plans([track], rules=rules, zones=[zone]))


@settings(deadline=None, max_examples=40)
@given(pair=sst.encounters(vertical=True), dz=st.floats(-2000.0, 2000.0),
       angle=st.floats(0.0, 2 * math.pi), shift=st.tuples(st.floats(-5e4, 5e4),
                                                           st.floats(-5e4, 5e4)))
def test_invariant_under_rotation_translation_and_a_common_altitude_shift(pair, dz, angle, shift):
    before = sst.detect_plans(pair, rules=[LOS, NMAC])
    after = sst.detect_plans([_shifted(p, dz + 3000.0, angle, shift) for p in pair],
                             rules=[LOS, NMAC])
    assert len(before) == len(after)
    for e, f in zip(before, after, strict=True):
        assert (e.rule, e.aircraft, e.other_aircraft) == (f.rule, f.aircraft, f.other_aircraft)
        assert f.start_s == pytest.approx(e.start_s, abs=1e-5)
        assert f.end_s == pytest.approx(e.end_s, abs=1e-5)
        assert f.min_distance_m == pytest.approx(e.min_distance_m, abs=1e-4)
        assert f.min_slant_m == pytest.approx(e.min_slant_m, abs=1e-4)


@settings(deadline=None)
@given(pair=sst.encounters())
def test_a_constant_altitude_profile_gives_exactly_todays_episodes(pair):
    level = [FlightPlan(p.id, p.party, p.depart_s, p.speed_mps, p.altitude_m, p.route_xy,
                        route_z_m=np.full(len(p.route_xy), p.altitude_m)) for p in pair]
    today = sst.run_plans(pair, rules=[LOS, HORIZONTAL_ONLY, NMAC]).episodes
    assert sst.detect_plans(level, rules=[LOS, HORIZONTAL_ONLY, NMAC]) == list(today)


def _level_and_climber(climb_from_m: float, climb_to_m: float, lateral_m: float,
                       closest_at_s: float = 100.0) -> list[FlightPlan]:
    """A level at 6000 m eastbound at 200 m/s along y = 0 from x = -20 km; B westbound on
    y = lateral_m from x = +20 km at 200 m/s (they pass at t = 100 s), climbing linearly
    from ``climb_from_m`` to ``climb_to_m`` over its 200 s."""
    a = FlightPlan("A", "blue", 0.0, 200.0, 6000.0, np.array([[-20_000.0, 0.0], [20_000.0, 0.0]]))
    b = FlightPlan("B", "red", 0.0, 200.0, climb_from_m,
                   np.array([[20_000.0, lateral_m], [-20_000.0, lateral_m]]),
                   route_z_m=np.array([climb_from_m, climb_to_m]))
    return [a, b]


def test_a_climb_through_the_other_level_gives_the_closed_form_interval():
    # B climbs at 10 m/s through 6000 m at t = 100 s, 100 m to the side: |dz| < 100 ft
    # for |10 (t - 100)| < 30.48, i.e. 96.952 < t < 103.048; horizontally within 500 ft
    # (152.4 m) only while |400 (t - 100)| < sqrt(152.4**2 - 100**2) = 115.0 m.
    plans = _level_and_climber(5000.0, 7000.0, 100.0)
    (nmac,) = sst.detect_plans(plans, rules=[NMAC])
    half = math.sqrt((500 * FT) ** 2 - 100.0**2) / 400.0
    assert nmac.start_s == pytest.approx(100.0 - half, abs=1e-9)
    assert nmac.end_s == pytest.approx(100.0 + half, abs=1e-9)
    (vertical,) = sst.detect_plans(plans, rules=[
        {"id": "v", "type": "min_separation", "horizontal": "50 km", "vertical": "100 ft"}])
    assert vertical.start_s == pytest.approx(100.0 - 100 * FT / 10.0, abs=1e-9)
    assert vertical.end_s == pytest.approx(100.0 + 100 * FT / 10.0, abs=1e-9)
    assert vertical.min_distance_m == pytest.approx(100.0, abs=1e-9)
    assert vertical.min_time_s == pytest.approx(100.0, abs=1e-9)
    assert vertical.vertical_m == pytest.approx(0.0, abs=1e-9)
    assert vertical.min_slant_m == pytest.approx(100.0, abs=1e-9)


def test_nmac_needs_both_conditions_at_the_same_instant():
    # B is level with A only at t = 150 s (climbing 5000 -> 6000 over 0..150 s at 6.67 m/s,
    # then on to 6333 m), but they pass horizontally at t = 100 s: each condition holds at
    # some time, never both at once.
    a = FlightPlan("A", "blue", 0.0, 200.0, 6000.0, np.array([[-20_000.0, 0.0], [20_000.0, 0.0]]))
    b = FlightPlan("B", "red", 0.0, 200.0, 5000.0,
                   np.array([[20_000.0, 50.0], [-10_000.0, 50.0], [-20_000.0, 50.0]]),
                   route_z_m=np.array([5000.0, 6000.0, 6000.0 + 1000.0 / 3.0]))
    assert sst.detect_plans([a, b], rules=[NMAC]) == []
    horizontal = sst.detect_plans([a, b], rules=[
        {"id": "h", "type": "min_separation", "horizontal": "500 ft"}])
    assert len(horizontal) == 1 and horizontal[0].min_time_s == pytest.approx(100.0)
    vertical = sst.detect_plans([a, b], rules=[
        {"id": "v", "type": "min_separation", "horizontal": "100 km", "vertical": "100 ft"}])
    assert len(vertical) == 1 and vertical[0].start_s < 150.0 < vertical[0].end_s


def test_a_level_off_is_one_episode_across_the_waypoint():
    # B climbs to A's level by x = 0 and flies level from there: |dz| < 1000 ft from the
    # climb's last 1000 ft on, across the waypoint where it levels off, as one episode.
    a = FlightPlan("A", "blue", 0.0, 200.0, 6000.0, np.array([[-20_000.0, 0.0], [20_000.0, 0.0]]))
    b = FlightPlan("B", "red", 0.0, 200.0, 5000.0,
                   np.array([[-20_000.0, 1000.0], [0.0, 1000.0], [20_000.0, 1000.0]]),
                   route_z_m=np.array([5000.0, 6000.0, 6000.0]))
    (episode,) = sst.detect_plans([a, b], rules=[LOS])
    climb_mps = 1000.0 / 100.0
    assert episode.start_s == pytest.approx(100.0 - 1000 * FT / climb_mps, abs=1e-9)
    assert episode.end_s == pytest.approx(200.0)


@pytest.mark.parametrize(("z_from", "z_to", "floor", "ceiling"), [
    (2000.0, 8000.0, 3000.0, 6000.0),  # climbing 30 m/s: in from t = 33.3 s to t = 133.3 s
    (8000.0, 2000.0, 6000.0, 7000.0),  # descending: in from the ceiling down to the floor
])
def test_a_climb_through_a_zone_floor_and_ceiling_at_the_closed_form_times(
        z_from, z_to, floor, ceiling):
    # One leg of 200 s inside a big red circle all the way, climbing or descending
    # linearly: the incursion runs between the times it crosses the floor and ceiling.
    track = FlightPlan("T", "blue", 0.0, 100.0, z_from,
                       np.array([[-10_000.0, 0.0], [10_000.0, 0.0]]),
                       route_z_m=np.array([z_from, z_to]))
    zone = {"id": "Z", "party": "red", "area": {"circle": {"center": {"x": "0 m", "y": "0 m"},
                                                           "radius": "50 km"}},
            "floor": f"{floor} m", "ceiling": f"{ceiling} m"}
    (episode,) = sst.detect_plans([track], rules=[{"id": "z", "type": "zone_incursion"}],
                                  zones=[zone])
    rate = (z_to - z_from) / 200.0
    crossings = sorted([(floor - z_from) / rate, (ceiling - z_from) / rate])
    assert episode.start_s == pytest.approx(crossings[0], abs=1e-9)
    assert episode.end_s == pytest.approx(crossings[1], abs=1e-9)


@settings(deadline=None, max_examples=60)
@given(document=zone_documents(vertical=True))
def test_climbing_zone_incursions_agree_with_sampling_oracle(document):
    run = run_document(document)
    (flight,), (zone,) = osc.flights(document), osc.zones(document)
    assert_zone_matches_oracle(list(run.episodes), flight, zone)
