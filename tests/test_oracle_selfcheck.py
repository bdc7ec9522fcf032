"""Self-checks of the sampling oracle (tests/oracle.py) and of its reading of a scenario
document (tests/oracle_scenario.py) against cases solved by hand.

The oracle is what the product's exact episode detection is tested against, so it must
itself be right. Each case here has a closed-form answer. Step sizes are powers of two
times a second so that the grid hits the hand-computed boundary instants exactly, which
lets the strictness of each condition (``<``, not ``<=``) be seen in the sampled ends.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from tests import oracle_scenario as osc
from tests.oracle import (
    SampledEpisode,
    crossing_number_inside,
    distance_series,
    lane_episodes,
    polyline_distance,
    sample_times,
    separation_episodes,
    track_state,
    zone_episodes,
)

NAN = math.nan


def spans(episodes: list[SampledEpisode]) -> list[tuple[float, float]]:
    return [(e.start_s, e.end_s) for e in episodes]


# ----------------------------------------------------------------- sampling and motion


def test_sample_times_includes_both_ends_and_never_steps_more_than_dt() -> None:
    t = sample_times(3.0, 10.0, 2.0)
    assert t.tolist() == [3.0, 5.0, 7.0, 9.0, 10.0]
    assert sample_times(0.0, 1.0, 0.1)[-1] == 1.0
    assert np.all(np.diff(sample_times(0.0, 1.0, 0.1)) <= 0.1 + 1e-12)
    assert sample_times(5.0, 5.0, 1.0).tolist() == [5.0]
    with pytest.raises(ValueError):
        sample_times(0.0, 1.0, 0.0)


def test_track_state_hover_and_zero_duration_leg() -> None:
    # Arrives at the origin at t=100, a zero-duration leg (same time, same place), hovers
    # until t=150, then leaves eastwards.
    track = [
        (0, -10_000, 0, 0),
        (100, 0, 0, 0),
        (100, 0, 0, 0),
        (150, 0, 0, 0),
        (250, 10_000, 0, 0),
    ]
    st = track_state(track, [-1, 0, 50, 100, 125, 150, 200, 250, 251])
    assert st.exists.tolist() == [False, True, True, True, True, True, True, True, False]
    assert np.isnan(st.x_m[[0, -1]]).all()
    assert st.x_m[1:-1].tolist() == [-10_000, -5_000, 0, 0, 0, 5_000, 10_000]


def test_distance_series_is_nan_where_either_aircraft_is_absent() -> None:
    a = [(0, 0, 0, 0), (10, 100, 0, 0)]
    b = [(5, 0, 30, 0), (20, 0, 30, 0)]
    d = distance_series(a, b, [0, 5, 10, 15])
    assert np.isnan(d[[0, 3]]).all()
    assert d[1] == pytest.approx(math.hypot(50, 30))
    assert d[2] == pytest.approx(math.hypot(100, 30))


# ----------------------------------------------------------------------- separation

# Head-on on the x axis, 100 m/s each, 20 km apart at t=0; they meet at the origin at
# t=100. Distance 20 000 - 200 t < 5 000 exactly for 75 < t < 125.
HEAD_ON_A = [(0, -10_000, 0, 3_000), (200, 10_000, 0, 3_000)]
HEAD_ON_B = [(0, 10_000, 0, 3_000), (200, -10_000, 0, 3_000)]


def test_head_on_gives_one_episode_from_75_to_125_with_min_0_at_100() -> None:
    dt = 0.5
    eps = separation_episodes(HEAD_ON_A, HEAD_ON_B, 5_000, None, dt)
    # t=75 and t=125 are samples where the distance is exactly 5 000: not a violation.
    assert eps == [SampledEpisode(75.5, 124.5, 0.0, 100.0, 0.0)]
    e = eps[0]
    assert e.start_s - dt <= 75.0 <= e.start_s
    assert e.end_s <= 125.0 <= e.end_s + dt


def test_head_on_with_an_irregular_step_brackets_the_true_interval() -> None:
    dt = 0.37
    (e,) = separation_episodes(HEAD_ON_A, HEAD_ON_B, 5_000, 300, dt)
    assert e.start_s - dt <= 75.0 < e.start_s
    assert e.end_s < 125.0 <= e.end_s + dt
    assert e.min_distance_m <= 200 * dt / 2 + 1e-9
    assert abs(e.min_time_s - 100.0) <= dt / 2 + 1e-9


def test_vertical_condition_that_never_holds() -> None:
    high_b = [(t, x, y, 4_000) for t, x, y, _ in HEAD_ON_B]  # 1 000 m above A
    assert separation_episodes(HEAD_ON_A, high_b, 5_000, 300, 0.5) == []
    assert separation_episodes(HEAD_ON_A, high_b, 5_000, 1_000, 0.5) == []  # strict
    assert spans(separation_episodes(HEAD_ON_A, high_b, 5_000, 1_000.5, 0.5)) == [(75.5, 124.5)]


def test_separation_only_while_both_exist() -> None:
    # B appears at t=90 and vanishes at t=110: the episode is clipped exactly there.
    b = [(90, 1_000, 0, 3_000), (110, -1_000, 0, 3_000)]
    assert separation_episodes(HEAD_ON_A, b, 5_000, None, 0.5) == [
        SampledEpisode(90.0, 110.0, 0.0, 100.0, 0.0)
    ]
    assert separation_episodes(HEAD_ON_A, [(300, 0, 0, 0), (400, 0, 0, 0)], 5_000, None, 0.5) == []


def test_zero_duration_legs_and_a_hover_give_one_episode() -> None:
    # A reaches the origin at t=100, hovers there until t=150 (with a zero-duration leg at
    # t=100) and leaves; B sits at the origin. Within 5 km for 50 < t < 200.
    a = [(0, -10_000, 0, 0), (100, 0, 0, 0), (100, 0, 0, 0), (150, 0, 0, 0), (250, 10_000, 0, 0)]
    b = [(0, 0, 0, 0), (300, 0, 0, 0)]
    assert separation_episodes(a, b, 5_000, None, 0.5) == [
        SampledEpisode(50.5, 199.5, 0.0, 100.0, 0.0)]


def test_a_turn_that_keeps_the_condition_true_gives_one_episode() -> None:
    # B flies (-4000,0) -> (0,3000) -> (4000,0) at 100 m/s around A parked at the origin;
    # every point of both legs is within 4 km. Closest on the first leg: 2 400 m at t=32.
    a = [(0, 0, 0, 0), (400, 0, 0, 0)]
    b = [(0, -4_000, 0, 0), (50, 0, 3_000, 0), (100, 4_000, 0, 0)]
    (e,) = separation_episodes(a, b, 5_000, None, 0.5)
    assert (e.start_s, e.end_s) == (0.0, 100.0)
    assert e.min_distance_m == pytest.approx(2_400.0)
    # The second leg is as close at t=68; the spec (docs/exactness.md) takes the first.
    assert e.min_time_s == 32.0
    # A turn at a vertex *exactly on* the 3 000 m circle: the condition fails only at the
    # instant of the turn, which the spec counts as touching (one episode). The vertex is
    # sampled exactly, so the default merge must bridge that single failing sample.
    # On the first leg the distance is below 3 000 m for 14 < t < 50, on the second for
    # 50 < t < 86.
    eps = separation_episodes(a, b, 3_000, None, 0.5)
    assert spans(eps) == [(14.5, 85.5)]
    # With the stricter merge the single failing sample splits it, as documented.
    assert len(separation_episodes(a, b, 3_000, None, 0.5, merge_gap_s=0.5 * 1.5 + 0.001)) == 2


# ----------------------------------------------------------------------------- zones

SQUARE = {"polygon": [(0, 0), (1_000, 0), (1_000, 1_000), (0, 1_000)]}
# Along y=500 from x=-1000 (t=0) to x=2000 (t=30) at 100 m/s: inside for 10 < t < 20.
CROSSING = [(0, -1_000, 500, 500), (30, 2_000, 500, 500)]


def test_polygon_crossing() -> None:
    assert spans(zone_episodes(CROSSING, SQUARE, 0, math.inf, (0, 100), 0.25)) == [(10.25, 19.75)]
    (e,) = zone_episodes(CROSSING, SQUARE, 0, None, None, 0.25)
    assert math.isnan(e.min_distance_m) and math.isnan(e.min_time_s)
    # Floor and ceiling are strict; the activity window clips (strictly).
    assert zone_episodes(CROSSING, SQUARE, 0, 500, None, 0.25) == []
    assert zone_episodes(CROSSING, SQUARE, 500, 1_000, None, 0.25) == []
    assert spans(zone_episodes(CROSSING, SQUARE, 0, None, (12, 15), 0.25)) == [(12.25, 14.75)]
    assert zone_episodes(CROSSING, SQUARE, 0, None, (20, 25), 0.25) == []


def test_flying_along_a_polygon_edge_is_not_inside() -> None:
    along_edge = [(0, -1_000, 0, 500), (30, 2_000, 0, 500)]
    assert zone_episodes(along_edge, SQUARE, 0, None, None, 0.25) == []


def test_turning_inside_a_polygon_gives_one_episode() -> None:
    # North in through the bottom edge (t=5), turn east at the centre (t=10), out through
    # the right edge (t=15): the turn must not split the episode.
    track = [(0, 500, -500, 100), (10, 500, 500, 100), (20, 1_500, 500, 100)]
    assert spans(zone_episodes(track, SQUARE, 0, None, None, 0.25)) == [(5.25, 14.75)]


def test_circle_chord() -> None:
    # y = 3 000 through a 5 km circle at the origin: chord |x| < 4 000, x = -10 000 + 100 t,
    # inside for 60 < t < 140. The tangent line y = 5 000 never enters.
    circle = {"circle": ((0.0, 0.0), 5_000.0)}
    chord = [(0, -10_000, 3_000, 1_000), (200, 10_000, 3_000, 1_000)]
    tangent = [(0, -10_000, 5_000, 1_000), (200, 10_000, 5_000, 1_000)]
    assert spans(zone_episodes(chord, circle, 0, None, None, 0.5)) == [(60.5, 139.5)]
    assert zone_episodes(tangent, circle, 0, None, None, 0.5) == []


# ------------------------------------------------------------------------------ lanes


def test_lane_case_crossing_the_corridor() -> None:
    # Corridor along y=0, half width 40 km; lanes at y = +-20 km, tolerance 5 km. Flying
    # north along x=50 km from y=-60 km (t=0) at 100 m/s: y = -60 000 + 100 t. Outside the
    # tolerance of both lanes and inside the corridor for
    #   -40 000 < y < -25 000 (200 < t < 350), -15 000 < y < 15 000 (450 < t < 750),
    #    25 000 < y <  40 000 (850 < t < 1000).
    centerline = [(0, 0), (50_000, 0), (100_000, 0)]
    lanes = [[(0, 20_000), (100_000, 20_000)], [(0, -20_000), (100_000, -20_000)]]
    track = [(0, 50_000, -60_000, 7_000), (1_200, 50_000, 60_000, 7_000)]
    eps = lane_episodes(track, centerline, 40_000, lanes, 5_000, 0.5)
    assert spans(eps) == [(200.5, 349.5), (450.5, 749.5), (850.5, 999.5)]
    assert all(math.isnan(e.min_distance_m) for e in eps)
    # Keeping to one lane exactly is never a violation.
    on_lane = [(0, 0, 20_000, 7_000), (1_000, 100_000, 20_000, 7_000)]
    assert lane_episodes(on_lane, centerline, 40_000, lanes[:1], 5_000, 0.5) == []


def test_lane_corridor_has_round_ends() -> None:
    # Beyond the centerline's end the corridor is a half disc: a point 30 km past the end
    # and 30 km to the side is 42.4 km away (outside); 20 km past and 20 km aside, inside.
    centerline = [(0, 0), (100_000, 0)]
    lanes = [[(0, 0), (100_000, 0)]]
    outside = [(0, 130_000, 30_000, 0), (10, 130_000, 30_000, 0)]
    inside = [(0, 120_000, 20_000, 0), (10, 120_000, 20_000, 0)]
    assert lane_episodes(outside, centerline, 40_000, lanes, 1_000, 1.0) == []
    assert spans(lane_episodes(inside, centerline, 40_000, lanes, 1_000, 1.0)) == [(0.0, 10.0)]


def test_polyline_distance_agrees_with_shapely() -> None:
    rng = np.random.default_rng(1)
    line = rng.uniform(-50_000, 50_000, size=(40, 2))
    x, y = rng.uniform(-80_000, 80_000, size=(2, 5_000))
    ours = polyline_distance(x, y, line)
    theirs = shapely.distance(shapely.points(x, y), shapely.LineString(line))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-6)


def test_dense_sampling_is_fast_enough() -> None:
    # 1e5+ samples over a long centerline, and a long separation run.
    rng = np.random.default_rng(2)
    centerline = np.cumsum(rng.uniform(0, 2_000, size=(100, 2)), axis=0)
    track = [(0, 0, 0, 0), (100_000, 300_000, 300_000, 0)]
    lane_episodes(track, centerline, 40_000, [centerline + 20_000], 5_000, 1.0)
    separation_episodes(track, [(0, 300_000, 0, 0), (100_000, 0, 300_000, 0)], 9_000, None, 1.0)


def test_a_climb_through_the_other_level_is_sampled_in_3d() -> None:
    # A level at 3 000 m; C flies A's head-on track 200 m to the side, climbing from 2 000
    # to 4 000 m over the 200 s: |dz| = |10 t - 1000| < 100 for 90 < t < 110, and the
    # least 3D distance is 200 m, at t = 100 (horizontal 200 m and level there).
    climb = [(0, 10_000, 200, 2_000), (200, -10_000, 200, 4_000)]
    (e,) = separation_episodes(HEAD_ON_A, climb, 5_000, 100, 0.5)
    assert (e.start_s, e.end_s) == (90.5, 109.5)
    assert e.min_distance_m == pytest.approx(200.0) and e.min_time_s == 100.0
    assert e.min_slant_m == pytest.approx(200.0)


# ------------------------------------------------------------ the document, read by hand

FRAME = {"center": [39.5, 35.8]}


def test_quantities_are_read_by_the_specs_table() -> None:
    assert osc.quantity("5 nmi", "distance") == 9260.0
    assert osc.quantity("5 NM", "distance") == 9260.0
    assert osc.quantity("45 mi", "distance") == pytest.approx(72_420.48)
    assert osc.quantity("FL250", "altitude") == pytest.approx(7620.0)
    assert osc.quantity("1000 ft", "altitude") == pytest.approx(304.8)
    assert osc.quantity("450 kt", "speed") == pytest.approx(231.5)
    assert osc.quantity("360 km/h", "speed") == pytest.approx(100.0)
    assert osc.quantity("3000 ft/min", "speed") == pytest.approx(15.24)
    assert osc.quantity("90 min", "duration") == 5400.0
    assert osc.quantity("1 d", "duration") == 86_400.0
    with pytest.raises(ValueError, match="cannot read"):
        osc.quantity("5 kt", "distance")


def test_the_frame_keeps_distances_from_its_centre() -> None:
    # The azimuthal equidistant projection: a point's distance from the centre in the plane
    # is its geodesic distance on WGS84; due north of the centre lies on the y axis.
    import pyproj

    frame = osc.Frame([39.5, 35.8])
    assert frame.xy([39.5, 35.8]) == pytest.approx((0.0, 0.0), abs=1e-6)
    x, y = frame.xy([39.5, 36.8])
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(39.5, 35.8, 39.5, 36.8)
    assert x == pytest.approx(0.0, abs=1e-6) and y == pytest.approx(metres, abs=1e-6)
    x, y = frame.xy([40.7, 35.1])
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(39.5, 35.8, 40.7, 35.1)
    assert math.hypot(x, y) == pytest.approx(metres, rel=1e-9) and x > 0 > y
    assert frame.xy(frame.lonlat(12_345.0, -6_789.0)) == pytest.approx((12_345.0, -6_789.0))
    assert frame.xy({"x": "2 km", "y": "-1 nmi"}) == (2000.0, -1852.0)


def test_a_flight_reaches_each_waypoint_at_the_length_flown_over_its_speed() -> None:
    document = {"duration": "1 d", "frame": FRAME, "flights": [{
        "id": "A", "party": "blue", "depart": "1 min", "speed": "360 km/h",
        "altitude": "FL100", "route": [{"x": "0 km", "y": "0 km"}, {"x": "10 km", "y": "0 km"},
                                       {"x": "10 km", "y": "5 km"}]}]}
    (flight,) = osc.flights(document)
    assert flight.speed_mps == pytest.approx(100.0)
    np.testing.assert_allclose(flight.track, [[60, 0, 0, 3048], [160, 10_000, 0, 3048],
                                              [210, 10_000, 5_000, 3048]])


def test_a_climb_at_its_rate_levels_off_on_the_leg_and_the_run_cuts_the_last_leg() -> None:
    # 100 m/s over a 10 km leg (100 s); 500 m at 10 m/s takes 50 s: level at x = 5 km.
    document = {"duration": "150 s", "frame": FRAME, "flights": [{
        "id": "A", "party": "blue", "depart": "0 s", "speed": "100 m/s", "climb_rate": "10 m/s",
        "route": [{"at": {"x": "0 m", "y": "0 m"}, "altitude": "1000 m"},
                  {"at": {"x": "10 km", "y": "0 m"}, "altitude": "1500 m"},
                  {"at": {"x": "20 km", "y": "0 m"}, "altitude": "1000 m"}]}]}
    (flight,) = osc.flights(document)
    # The descent has no rate: spread over its leg, 1500 -> 1000 m over 100 s, cut at 150 s.
    np.testing.assert_allclose(flight.track, [[0, 0, 0, 1000], [50, 5_000, 0, 1500],
                                              [100, 10_000, 0, 1500], [150, 15_000, 0, 1250]])
    assert flight.track[-1, 0] == 150.0  # exactly the run's end
    document["flights"][0]["climb_rate"] = "4 m/s"  # 125 s for a 100 s leg: refused
    with pytest.raises(ValueError, match="cannot make"):
        osc.flights(document)
    document["flights"][0]["depart"] = "150 s"
    document["flights"][0]["climb_rate"] = "10 m/s"
    assert len(osc.flights(document)[0].track) == 0  # departs at the run's end: never flies


def test_a_zones_defaults_are_the_ground_no_ceiling_and_the_whole_run() -> None:
    document = {"duration": "2 h", "frame": FRAME, "zones": [{
        "id": "Z", "party": "red", "area": {"circle": {"center": {"x": "1 km", "y": "2 km"},
                                                       "radius": "5 nmi"}}}]}
    (zone,) = osc.zones(document)
    assert (zone.area, zone.floor_m, zone.ceiling_m, zone.active) == (
        {"circle": ((1000.0, 2000.0), 9260.0)}, 0.0, math.inf, (0.0, 7200.0))


def test_the_default_lane_tolerance_is_half_the_least_spacing_between_parties() -> None:
    document = {"frame": FRAME, "corridor": {
        "centerline": [{"x": "-50 km", "y": "0 km"}, {"x": "50 km", "y": "0 km"}],
        "half_width": "40 km"},
        "lanes": {"a": {"party": "blue", "offset": "+10 km"},
                  "b": {"party": "red", "offset": "-10 km"},
                  "c": {"party": "red", "offset": "+16 km"},
                  "d": {"party": "blue", "offset": "+11 km"}}}
    # blue-red spacings: 20, 6, 21 and 5 km (blue-blue's 1 km does not count).
    assert osc.lane_tolerance_m(document, {"type": "lane_discipline"}) == 2500.0
    assert osc.lane_tolerance_m(document, {"tolerance": "1 nmi"}) == 1852.0
    corridor = osc.corridor(document)
    # Positive is to the left of a traveller going downstream (east here): north.
    np.testing.assert_allclose(corridor.lanes["a"][1], [[-50_000, 10_000], [50_000, 10_000]])
    np.testing.assert_allclose(corridor.lanes["b"][1], [[-50_000, -10_000], [50_000, -10_000]])


def test_a_lanes_round_join_is_the_offset_curve_geos_draws() -> None:
    # An independent drawing of the same curve: GEOS's, with the product's 32 segments.
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(3, 6))
        line = np.column_stack([np.linspace(-90e3, 90e3, n),
                                np.r_[0.0, rng.uniform(-15e3, 15e3, n - 2), 0.0]])
        offset = float(rng.uniform(-30e3, 30e3))
        try:
            mine = osc.offset_curve(line, offset)
        except ValueError:
            continue  # a fold, which the property tests leave out
        geos = shapely.LineString(line).offset_curve(offset, quad_segs=32, join_style="round")
        assert shapely.hausdorff_distance(shapely.LineString(mine), geos) < 1e-6


def test_a_quarter_turn_joins_with_the_nearest_number_of_pieces() -> None:
    # A right angle turning left, offset 1 to the right (outside): 32 pieces of the quarter.
    curve = osc.offset_curve(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]), -1.0)
    assert len(curve) == 2 + 33
    np.testing.assert_allclose(np.hypot(curve[1:-1, 0] - 10.0, curve[1:-1, 1]), 1.0)
    inside = osc.offset_curve(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]), 1.0)
    np.testing.assert_allclose(inside, [[0, 1], [9, 1], [9, 10]])


def test_crossing_number_is_strictly_inside_also_for_a_concave_polygon() -> None:
    # A U shape: the notch (x in 1..2, y above 1) is outside.
    ring = np.array([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)], float)
    x = np.array([0.5, 1.5, 1.5, 2.5, 0.0, 1.5, 2.0, 3.0, 1.0, -1.0, 0.5])
    y = np.array([2.0, 2.0, 0.5, 2.9, 1.0, 1.0, 2.0, 3.0, 1.0, 1.0, 3.0])
    expected = [True, False, True, True, False, False, False, False, False, False, False]
    assert crossing_number_inside(x, y, ring).tolist() == expected
    # It is the point-in-polygon of GEOS everywhere off the boundary.
    px, py = np.meshgrid(np.linspace(-0.3, 3.3, 37), np.linspace(-0.3, 3.3, 37))
    geos = shapely.contains_xy(shapely.Polygon(ring), px, py)
    assert (crossing_number_inside(px, py, ring) == geos).all()
