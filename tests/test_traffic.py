"""Sortie generation (sim/traffic/sorties.py, routes.py): rates, routes, compliance,
determinism, validation.

The statistical tests run at fixed seeds with proper tests at alpha = 0.001 (math only:
a normal CDF from ``math.erfc`` and the Wilson-Hilferty approximation for chi-square),
so a product that draws the wrong number of sorties, or at the wrong hours, fails them;
a correct one passes them (the seeds are fixed, so they never flake).
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from sim.analysis.metrics import summarize
from sim.cli import main
from sim.engine.simulation import Run, run
from sim.model.geography import resolve_point
from sim.model.scenario import ScenarioError, parse_scenario
from sim.model.units import DAY, HOUR
from sim.traffic.plans import FlightPlan
from sim.traffic.sorties import arrival_times

ALPHA = 0.001
KM = 1000.0

# /tmp/gen.yaml, the example scenario with generated traffic for both parties.
BASE: dict[str, Any] = {
    "name": "gen-test",
    "seed": 3,
    "duration": "2 d",
    "corridor": {"centerline": "euphrates", "half_width": "40 mi"},
    "lanes": {
        "coalition_lane": {"party": "coalition", "offset": "+22.5 mi",
                           "direction": "downstream"},
        "russia_lane": {"party": "russia", "offset": "-22.5 mi", "direction": "upstream"},
    },
    "parties": {
        "coalition": {
            "sorties_per_day": 30,
            "bases": ["incirlik", "al_udeid"],
            "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": ["FL200", "FL300"]}],
            "missions": [{"area": "raqqa", "time_on_station": ["30 min", "60 min"]},
                         {"area": "deir_ez_zor"}],
            "compliance": 0.7,
        },
        "russia": {
            "sorties_per_day": 30,
            "bases": ["hmeimim", "t4"],
            "aircraft": [{"type": "Su-24", "speed": "430 kt", "altitude": ["FL150", "FL250"]}],
            "missions": [{"area": "mayadin"}, {"area": "maadan"}],
            "compliance": 0.7,
        },
    },
    "rules": [
        {"id": "opposite_tracks", "type": "lane_discipline"},
        {"id": "loss_of_separation", "type": "min_separation", "horizontal": "5 nmi",
         "vertical": "1000 ft"},
    ],
}

COALITION_BASES = ["incirlik", "al_udeid"]
RUSSIA_BASES = ["hmeimim", "t4", "shayrat"]
MISSION_PLACES = ["raqqa", "deir_ez_zor", "mayadin", "maadan", "tabqa", "abu_kamal"]
SORTIE_ID = re.compile(r"^(?P<party>[A-Za-z_][A-Za-z0-9_]*)-\d{5}$")


def doc(**top: Any) -> dict[str, Any]:
    """A deep copy of BASE with top-level keys replaced."""
    document = copy.deepcopy(BASE)
    document.update(copy.deepcopy(top))
    return document


def lane_episodes(result: Run) -> list[Any]:
    return [e for e in result.episodes if e.type == "lane_discipline"]


# ----------------------------------------------------------------------------- statistics


def norm_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_sided_normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square(dof), Wilson-Hilferty normal approximation."""
    c = 2.0 / (9.0 * dof)
    z = ((x / dof) ** (1.0 / 3.0) - (1.0 - c)) / math.sqrt(c)
    return norm_sf(z)


def test_statistics_helpers_are_right() -> None:
    # Known values: Phi(1.96) = 0.975, chi2(0.95; 10) = 18.307, chi2(0.999; 99) = 148.23.
    assert two_sided_normal_p(1.959964) == pytest.approx(0.05, abs=1e-5)
    assert chi2_sf(18.307, 10) == pytest.approx(0.05, abs=2e-3)
    assert chi2_sf(148.23, 99) == pytest.approx(0.001, abs=2e-4)
    assert chi2_sf(99.0, 99) == pytest.approx(0.48, abs=0.02)


FLAT = (1.0,) * 24
# A daily profile with quiet nights (two hours with no sorties at all) and busy days.
PROFILE = (0, 0, 0.5, 0.5, 1, 2, 4, 6, 8, 8, 8, 6, 4, 4, 6, 8, 8, 6, 4, 2, 1, 1, 0.5, 0.5)


def test_total_sortie_count_is_poisson_at_the_configured_rate() -> None:
    per_day, days = 40.0, 100
    duration = days * DAY
    times = arrival_times(per_day, FLAT, duration, np.random.default_rng(20240601))
    expected = per_day * days  # lambda * T
    z = (len(times) - expected) / math.sqrt(expected)
    p = two_sided_normal_p(z)
    assert p > ALPHA, f"{len(times)} sorties in {days} d at {per_day}/d: z={z:.2f}, p={p:.2g}"
    assert np.all(np.diff(times) >= 0.0), "departure times must be sorted"
    assert times.min() >= 0.0 and times.max() < duration


def test_daily_counts_have_poisson_dispersion() -> None:
    per_day, days = 40.0, 100
    times = arrival_times(per_day, FLAT, days * DAY, np.random.default_rng(777))
    daily = np.bincount((times // DAY).astype(int), minlength=days)
    assert len(daily) == days
    mean = daily.mean()
    # Index of dispersion: sum (c - mean)^2 / mean ~ chi-square(k - 1) for Poisson counts.
    statistic = float(np.sum((daily - mean) ** 2) / mean)
    upper = chi2_sf(statistic, days - 1)
    p = 2.0 * min(upper, 1.0 - upper)  # over- and under-dispersion both fail
    assert p > ALPHA, f"dispersion statistic {statistic:.1f} on {days - 1} dof, p={p:.2g}"


def test_hour_of_day_histogram_follows_the_daily_profile() -> None:
    per_day, days = 40.0, 100
    times = arrival_times(per_day, PROFILE, days * DAY, np.random.default_rng(4242))
    # The profile is relative: it shapes the day, it does not change the daily rate.
    expected_total = per_day * days
    z = (len(times) - expected_total) / math.sqrt(expected_total)
    assert two_sided_normal_p(z) > ALPHA, f"{len(times)} sorties, expected {expected_total}"

    hours = ((times % DAY) // HOUR).astype(int)
    observed = np.bincount(hours, minlength=24)
    weights = np.asarray(PROFILE, float) / sum(PROFILE)
    assert observed[weights == 0].sum() == 0, f"sorties in hours of weight 0: {observed}"
    live = weights > 0
    expected = len(times) * weights[live]
    statistic = float(np.sum((observed[live] - expected) ** 2 / expected))
    dof = int(live.sum()) - 1
    p = chi2_sf(statistic, dof)
    assert p > ALPHA, f"chi-square {statistic:.1f} on {dof} dof, p={p:.2g}: {observed}"


def test_departures_are_uniform_within_the_hour() -> None:
    times = arrival_times(40.0, PROFILE, 100 * DAY, np.random.default_rng(99))
    tenth = ((times % HOUR) // (HOUR / 10)).astype(int)
    observed = np.bincount(tenth, minlength=10)
    expected = len(times) / 10.0
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2_sf(statistic, 9) > ALPHA, observed


def test_a_partial_last_hour_gets_its_share_of_sorties() -> None:
    # 90 min at 24000 a day: 1000 an hour, so ~1000 in the first hour, ~500 in the half.
    duration = 1.5 * HOUR
    times = arrival_times(24_000.0, FLAT, duration, np.random.default_rng(5))
    assert times.min() >= 0.0 and times.max() < duration
    for count, expected in ((np.sum(times < HOUR), 1000.0), (np.sum(times >= HOUR), 500.0)):
        z = (count - expected) / math.sqrt(expected)
        assert two_sided_normal_p(z) > ALPHA, (count, expected)


def test_arrival_times_depend_only_on_the_seed() -> None:
    def draw(seed: int) -> np.ndarray:
        return arrival_times(40.0, PROFILE, 10 * DAY, np.random.default_rng(seed))

    first, again, other = draw(11), draw(11), draw(12)
    assert np.array_equal(first, again)
    assert len(first) != len(other) or not np.array_equal(first, other)


def test_generated_sortie_count_end_to_end() -> None:
    # A party without lanes: base -> racetrack -> base. 40 a day for 20 days.
    document = {
        "name": "rate", "seed": 17, "duration": "20 d",
        "parties": {"coalition": {
            "sorties_per_day": 40, "bases": ["incirlik"],
            "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": "FL250"}],
            "missions": [{"area": "raqqa", "time_on_station": "10 min"}]}},
    }
    result = run(parse_scenario(document))
    plans = [p for p in result.plans if p.party == "coalition"]
    expected = 40.0 * 20
    z = (len(plans) - expected) / math.sqrt(expected)
    assert two_sided_normal_p(z) > ALPHA, f"{len(plans)} sorties, expected {expected}"
    ids = [p.id for p in plans]
    assert len(set(ids)) == len(ids)
    for ident in ids:
        match = SORTIE_ID.match(ident)
        assert match is not None and match["party"] == "coalition", ident
    assert all(0.0 <= p.depart_s < 20 * DAY for p in plans)


# ----------------------------------------------------------------------------- routes


def _frame_xy(result: Run, point: Any) -> np.ndarray:
    return np.asarray(resolve_point(point, result.scenario, result.geography.frame), float)


def _level_route(plan: FlightPlan) -> np.ndarray:
    """The route without its climb profile's points: those on a straight leg (between
    their neighbours, in line) where the vertical speed changes."""
    xy, t, z = plan.route_xy, plan.waypoint_times(), plan.altitudes()
    keep = np.ones(len(xy), bool)
    for j in range(1, len(xy) - 1):
        before, after = xy[j] - xy[j - 1], xy[j + 1] - xy[j]
        span = float(np.hypot(*before) * np.hypot(*after))
        cross = float(before[0] * after[1] - before[1] * after[0])
        in_line = span > 0 and abs(cross) <= 1e-9 * span and float(before @ after) > 0
        # (In line, both legs have length, so time: their vertical speeds are defined.)
        keep[j] = not (in_line and not np.isclose((z[j] - z[j - 1]) / (t[j] - t[j - 1]),
                                                  (z[j + 1] - z[j]) / (t[j + 1] - t[j])))
    return xy[keep]


def _check_starts_and_ends_at_a_base(result: Run) -> None:
    for party_id, party in result.scenario.parties.items():
        assert party.sorties is not None
        bases = np.array([_frame_xy(result, b) for b, _ in party.sorties.bases])
        plans = [p for p in result.plans if p.party == party_id]
        assert plans, f"no sorties for {party_id}"
        for plan in plans:
            first, last = plan.route_xy[0], plan.route_xy[-1]
            at_first = np.hypot(*(bases - first).T).min()
            at_last = np.hypot(*(bases - last).T).min()
            assert at_first < 1e-6, f"{plan.id} starts {at_first:.0f} m from any base"
            assert at_last < 1e-6, f"{plan.id} ends {at_last:.0f} m from any base"
            assert np.allclose(first, last, atol=1e-6), f"{plan.id} lands at another base"


def _one_mission(area: str) -> list[dict[str, Any]]:
    return [{"area": area, "time_on_station": ["20 min", "40 min"],
             "racetrack": {"length": "40 km", "width": "10 km"}}]


LANE_CASES = [("raqqa", "mayadin", 1), ("abu_kamal", "tabqa", 2), ("deir_ez_zor", "maadan", 3)]


@functools.cache
def _lane_run(coalition_area: str, russia_area: str, seed: int) -> Run:
    document = doc(seed=seed, duration="1 d")
    document["parties"]["coalition"]["missions"] = _one_mission(coalition_area)
    document["parties"]["russia"]["missions"] = _one_mission(russia_area)
    return run(parse_scenario(document))


@pytest.mark.parametrize(("coalition_area", "russia_area", "seed"), LANE_CASES)
def test_lane_routes_start_and_end_at_a_base(coalition_area: str, russia_area: str,
                                             seed: int) -> None:
    _check_starts_and_ends_at_a_base(_lane_run(coalition_area, russia_area, seed))


@pytest.mark.parametrize(("coalition_area", "russia_area", "seed"), LANE_CASES)
def test_lane_routes_pass_the_mission(coalition_area: str, russia_area: str,
                                      seed: int) -> None:
    result = _lane_run(coalition_area, russia_area, seed)
    for party_id, party in result.scenario.parties.items():
        assert party.sorties is not None
        mission = party.sorties.missions[0]
        lane = result.geography.lanes_of(party_id)[0].line.geometry()
        place = Point(_frame_xy(result, mission.area))
        abeam = lane.interpolate(lane.project(place))
        abeam_xy = np.array([abeam.x, abeam.y])
        plans = [p for p in result.plans if p.party == party_id]
        assert plans
        for plan in plans:
            nearest = np.hypot(*(plan.route_xy - abeam_xy).T).min()
            assert nearest <= 25 * KM, (
                f"{plan.id}: no waypoint within 25 km of the lane abeam {mission.area}; "
                f"nearest {nearest / KM:.1f} km")
            # The racetrack (or the lane through it) passes abeam within its half width.
            passing = LineString(plan.route_xy).distance(abeam)
            assert passing <= mission.racetrack_width_m / 2 + 1 * KM, (plan.id, passing)
            times = plan.waypoint_times()
            for _cause, start, end in plan.deviations:
                assert times[0] <= start < end <= times[-1], (plan.id, plan.deviations)


def test_example_scenario_routes_start_and_end_at_a_base() -> None:
    _check_starts_and_ends_at_a_base(run(parse_scenario(doc())))


NO_LANE: dict[str, Any] = {
    "name": "nolane", "seed": 5, "duration": "1 d",
    "parties": {
        "coalition": {
            "sorties_per_day": 20, "bases": ["incirlik", "al_udeid"],
            "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": ["FL200", "FL300"]}],
            "missions": [{"area": "raqqa", "time_on_station": ["30 min", "60 min"],
                          "racetrack": {"length": "40 km", "width": "10 km"}}],
        },
        "russia": {
            "sorties_per_day": 20, "bases": ["hmeimim", "shayrat"],
            "aircraft": [{"type": "Su-24", "speed": "430 kt", "altitude": ["FL150", "FL250"]}],
            "missions": [{"area": "abu_kamal", "time_on_station": ["30 min", "60 min"],
                          "racetrack": {"length": "60 km", "width": "6 km"}}],
        },
    },
}


def test_routes_without_lanes_start_and_end_at_a_base_and_reach_the_mission() -> None:
    result = run(parse_scenario(copy.deepcopy(NO_LANE)))
    _check_starts_and_ends_at_a_base(result)
    for party_id, party in result.scenario.parties.items():
        assert party.sorties is not None
        mission = party.sorties.missions[0]
        place = _frame_xy(result, mission.area)
        for plan in (p for p in result.plans if p.party == party_id):
            nearest = np.hypot(*(plan.route_xy - place).T).min()
            assert nearest <= mission.racetrack_length_m / 2 + 1 * KM, (plan.id, nearest)
            # Everything between base and base is the racetrack at the mission area.
            loop = _level_route(plan)[1:-1]
            reach = math.hypot(mission.racetrack_length_m, mission.racetrack_width_m) / 2
            assert np.hypot(*(loop - place).T).max() <= reach + 1 * KM, plan.id


def test_racetrack_without_a_lane_has_its_length_and_is_centred_on_the_area() -> None:
    # A mission's racetrack is `length` long; "a racetrack at the mission area" is
    # centred there (as the lane racetrack is centred abeam the area).
    result = run(parse_scenario(copy.deepcopy(NO_LANE)))
    for party_id, party in result.scenario.parties.items():
        assert party.sorties is not None
        mission = party.sorties.missions[0]
        place = _frame_xy(result, mission.area)
        half = mission.racetrack_length_m / 2
        for plan in (p for p in result.plans if p.party == party_id):
            base = plan.route_xy[0]
            axis = (place - base) / np.linalg.norm(place - base)
            along = (_level_route(plan)[1:-1] - place) @ axis  # past the area, from base
            assert along.min() == pytest.approx(-half, abs=1 * KM) and along.max() == \
                pytest.approx(half, abs=1 * KM), (
                f"{plan.id}: racetrack spans {along.min() / KM:+.1f}..{along.max() / KM:+.1f} "
                f"km along base->{mission.area}, expected {-half / KM:+.1f}..{half / KM:+.1f}")


# ----------------------------------------------------------------------------- compliance


def _km(value: int) -> str:
    return f"{value} km"


@st.composite
def party_settings(draw: st.DrawFn, base_pool: list[str]) -> dict[str, Any]:
    missions = []
    for area in draw(st.lists(st.sampled_from(MISSION_PLACES), min_size=1, max_size=3,
                              unique=True)):
        low = draw(st.integers(0, 120))
        high = low + draw(st.integers(0, 120))
        missions.append({
            "area": area, "share": draw(st.integers(1, 5)),
            "time_on_station": [f"{low} min", f"{high} min"],
            "racetrack": {"length": _km(draw(st.integers(10, 80))),
                          "width": f"{draw(st.integers(2000, 20000))} m"},
        })
    entry = draw(st.integers(0, 200))
    exit_ = draw(st.integers(0, 200))
    return {
        "sorties_per_day": draw(st.integers(5, 60)),
        "bases": draw(st.lists(st.sampled_from(base_pool), min_size=1, unique=True)),
        "missions": missions,
        "lane_entry": [_km(entry), _km(entry + draw(st.integers(0, 100)))],
        "lane_exit": [_km(exit_), _km(exit_ + draw(st.integers(0, 100)))],
        "compliance": 1.0,
    }


@settings(deadline=None, max_examples=25,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(0, 2**32 - 1), coalition=party_settings(COALITION_BASES),
       russia=party_settings(RUSSIA_BASES))
def test_full_compliance_never_breaks_lane_discipline(
        seed: int, coalition: dict[str, Any], russia: dict[str, Any]) -> None:
    document = doc(seed=seed, duration="1 d",
                   rules=[{"id": "lanes", "type": "lane_discipline"}])
    document["parties"]["coalition"].update(coalition)
    document["parties"]["russia"].update(russia)
    result = run(parse_scenario(document))
    assert all(p.deviations == () for p in result.plans)
    bad = lane_episodes(result)
    assert not bad, [(e.aircraft, e.start_s, e.end_s, e.x_m, e.y_m) for e in bad[:5]]


def test_zero_compliance_every_sortie_deviates_and_is_caught() -> None:
    document = doc()
    for party in document["parties"].values():
        party["compliance"] = 0.0
    result = run(parse_scenario(document))
    duration = result.scenario.duration_s
    lanes = lane_episodes(result)
    assert lanes
    assert all(e.cause for e in lanes), [e for e in lanes if not e.cause][:3]
    assert all(len(p.deviations) == 1 for p in result.plans)
    assert {c for p in result.plans for c, _, _ in p.deviations} == {"shortcut", "drift"}
    caught = {e.aircraft for e in lanes}
    assert len(caught) >= 0.8 * len(result.plans), (len(caught), len(result.plans))
    # A deviation flown wholly within the run is a lane episode of that aircraft, tagged
    # with that cause, during its window (shortcut: on the mirror lane; drift: past the
    # tolerance toward the river).
    for plan in result.plans:
        cause, start, end = plan.deviations[0]
        if end >= duration:
            continue
        assert any(e.aircraft == plan.id and cause in e.cause.split(";")
                   and e.start_s < end and start < e.end_s for e in lanes), plan.id


# ----------------------------------------------------------------------------- determinism


def test_same_scenario_runs_identically() -> None:
    first, second = run(parse_scenario(doc())), run(parse_scenario(doc()))
    assert first.episodes == second.episodes
    assert [p.id for p in first.plans] == [p.id for p in second.plans]
    for a, b in zip(first.plans, second.plans, strict=True):
        assert (a.depart_s, a.altitude_m, a.speed_mps, a.aircraft, a.deviations) == (
            b.depart_s, b.altitude_m, b.speed_mps, b.aircraft, b.deviations)
        assert np.array_equal(a.route_xy, b.route_xy)


def test_cli_runs_are_byte_identical_and_the_seed_changes_the_traffic(tmp_path: Path) -> None:
    scenario = tmp_path / "gen.yaml"
    scenario.write_text(yaml.safe_dump(doc(duration="1 d")), encoding="utf-8")
    outs = {name: tmp_path / name for name in ("a", "b", "same_seed", "other_seed")}
    assert main(["run", str(scenario), "--out", str(outs["a"])]) == 0
    assert main(["run", str(scenario), "--out", str(outs["b"])]) == 0
    assert main(["run", str(scenario), "--seed", "3", "--out", str(outs["same_seed"])]) == 0
    assert main(["run", str(scenario), "--seed", "4", "--out", str(outs["other_seed"])]) == 0
    for name in ("events.csv", "summary.json"):
        reference = (outs["a"] / name).read_bytes()
        assert (outs["b"] / name).read_bytes() == reference, name
        assert (outs["same_seed"] / name).read_bytes() == reference, name
    assert (outs["other_seed"] / "events.csv").read_bytes() != (
        outs["a"] / "events.csv").read_bytes()

    # A different seed flies different traffic: different departure times.
    three = run(parse_scenario(doc(duration="1 d", seed=3)))
    four = run(parse_scenario(doc(duration="1 d", seed=4)))
    assert sorted(p.depart_s for p in three.plans) != sorted(p.depart_s for p in four.plans)


# ----------------------------------------------------------------------- common random numbers


def test_raising_compliance_only_removes_deviations() -> None:
    def at(compliance: float) -> Run:
        document = doc()
        for party in document["parties"].values():
            party["compliance"] = compliance
        return run(parse_scenario(document))

    loose, strict = at(0.5), at(0.8)
    assert [p.id for p in loose.plans] == [p.id for p in strict.plans]
    deviating_loose = {p.id for p in loose.plans if p.deviations}
    deviating_strict = {p.id for p in strict.plans if p.deviations}
    assert deviating_strict, "0.8 compliance should still leave some deviating sorties"
    assert deviating_strict <= deviating_loose, sorted(deviating_strict - deviating_loose)
    assert len(deviating_strict) < len(deviating_loose)
    # Common random numbers: a sortie the knob does not touch flies exactly the same.
    for a, b in zip(loose.plans, strict.plans, strict=True):
        assert (a.depart_s, a.altitude_m, a.speed_mps, a.aircraft) == (
            b.depart_s, b.altitude_m, b.speed_mps, b.aircraft), a.id
        if bool(a.deviations) == bool(b.deviations):
            assert a.deviations == b.deviations, a.id
            assert np.array_equal(a.route_xy, b.route_xy), a.id
        else:
            assert np.array_equal(a.route_xy[0], b.route_xy[0]), a.id  # same base
    assert len(lane_episodes(strict)) <= len(lane_episodes(loose))
    assert set(lane_episodes(strict)) <= set(lane_episodes(loose))


# ----------------------------------------------------------------------------- mirror

X_SETTINGS: dict[str, Any] = {
    "sorties_per_day": 35, "bases": ["incirlik", "al_udeid"],
    "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": ["FL200", "FL300"]}],
    "missions": [{"area": "raqqa", "time_on_station": ["30 min", "60 min"]},
                 {"area": "mayadin"}],
    "compliance": 0.6,
}
Y_SETTINGS: dict[str, Any] = {
    "sorties_per_day": 35, "bases": ["hmeimim", "t4"],
    "aircraft": [{"type": "Su-24", "speed": "430 kt", "altitude": ["FL200", "FL300"]}],
    "missions": [{"area": "deir_ez_zor"}, {"area": "maadan"}],
    "compliance": 0.9,
}


def _mirror_doc(first: str, second: str) -> dict[str, Any]:
    """First block: settings X on the +22.5 mi downstream lane; second: Y, the other lane."""
    return doc(
        duration="2 d",
        lanes={"east": {"party": first, "offset": "+22.5 mi", "direction": "downstream"},
               "west": {"party": second, "offset": "-22.5 mi", "direction": "upstream"}},
        parties={first: copy.deepcopy(X_SETTINGS), second: copy.deepcopy(Y_SETTINGS)},
        rules=[{"id": "lanes", "type": "lane_discipline"},
               {"id": "sep", "type": "min_separation", "horizontal": "10 nmi",
                "vertical": "2000 ft"}],
    )


def test_swapping_party_names_swaps_their_counts() -> None:
    a = run(parse_scenario(_mirror_doc("coalition", "russia")))
    b = run(parse_scenario(_mirror_doc("russia", "coalition")))
    sa, sb = summarize(a), summarize(b)
    swap = {"coalition": "russia", "russia": "coalition"}
    for rule in ("lanes", "sep"):
        assert sa["rules"][rule]["episodes"] == sb["rules"][rule]["episodes"], rule
        for party, other in swap.items():
            assert sa["rules"][rule]["by_party"][party] == sb["rules"][rule]["by_party"][other], (
                rule, sa["rules"][rule]["by_party"], sb["rules"][rule]["by_party"])
    assert sa["flights"] == {p: sb["flights"][swap[p]] for p in swap}
    lanes_a = Counter(e.party for e in lane_episodes(a))
    lanes_b = Counter(e.party for e in lane_episodes(b))
    assert lanes_a["coalition"] > lanes_a["russia"] > 0  # the two behaviours differ
    assert lanes_a == Counter({swap[p]: n for p, n in lanes_b.items()})

    # Episode by episode: the same aircraft (renamed), off its lane at the same times.
    def renamed(e: Any) -> tuple[str, float, float]:
        party, number = e.aircraft.rsplit("-", 1)
        return f"{swap[party]}-{number}", round(e.start_s, 3), round(e.end_s, 3)

    assert sorted(renamed(e) for e in lane_episodes(a)) == sorted(
        (e.aircraft, round(e.start_s, 3), round(e.end_s, 3)) for e in lane_episodes(b))


# ----------------------------------------------------------------------------- validation


def _set(key: str, value: Any) -> Any:
    def change(party: dict[str, Any]) -> None:
        party[key] = value
    return change


def _remove(key: str) -> Any:
    def change(party: dict[str, Any]) -> None:
        party.pop(key)
    return change


def _only(settings_: dict[str, Any]) -> Any:
    def change(party: dict[str, Any]) -> None:
        party.clear()
        party.update(settings_)
    return change


R = "parties.russia"
INVALID = [
    ("rate negative", _set("sorties_per_day", -5), f"{R}.sorties_per_day"),
    ("rate text", _set("sorties_per_day", "many"), f"{R}.sorties_per_day"),
    ("rate boolean", _set("sorties_per_day", True), f"{R}.sorties_per_day"),
    ("rate huge", _set("sorties_per_day", 1e9), f"{R}.sorties_per_day"),
    ("rate nan", _set("sorties_per_day", float("nan")), f"{R}.sorties_per_day"),
    ("profile 23", _set("daily_profile", [1] * 23), f"{R}.daily_profile"),
    ("profile 25", _set("daily_profile", [1] * 25), f"{R}.daily_profile"),
    ("profile zeros", _set("daily_profile", [0] * 24), f"{R}.daily_profile"),
    ("profile negative", _set("daily_profile", [1] * 23 + [-1]), f"{R}.daily_profile"),
    ("profile text", _set("daily_profile", "peaky"), f"{R}.daily_profile"),
    ("profile inf", _set("daily_profile", [1] * 23 + [float("inf")]), f"{R}.daily_profile"),
    ("bases empty", _set("bases", []), f"{R}.bases"),
    ("bases missing", _remove("bases"), f"{R}.bases"),
    ("base unknown", _set("bases", ["hmeimim", "atlantis"]), f"{R}.bases[1]"),
    ("base weight 0", _set("bases", {"hmeimim": 0, "t4": 1}), f"{R}.bases.hmeimim"),
    ("base weight text", _set("bases", {"hmeimim": "lots"}), f"{R}.bases.hmeimim"),
    ("aircraft no speed", _set("aircraft", [{"type": "Su-24", "altitude": "FL200"}]),
     f"{R}.aircraft[0].speed"),
    ("aircraft no type", _set("aircraft", [{"speed": "430 kt", "altitude": "FL200"}]),
     f"{R}.aircraft[0].type"),
    ("aircraft no altitude", _set("aircraft", [{"type": "Su-24", "speed": "430 kt"}]),
     f"{R}.aircraft[0].altitude"),
    ("aircraft altitude reversed",
     _set("aircraft", [{"type": "Su-24", "speed": "430 kt", "altitude": ["FL250", "FL150"]}]),
     f"{R}.aircraft[0].altitude"),
    ("aircraft share 0",
     _set("aircraft", [{"type": "Su-24", "speed": "430 kt", "altitude": "FL200", "share": 0}]),
     f"{R}.aircraft[0].share"),
    ("aircraft empty", _set("aircraft", []), f"{R}.aircraft"),
    ("aircraft missing", _remove("aircraft"), f"{R}.aircraft"),
    ("mission no area", _set("missions", [{"time_on_station": "1 h"}]), f"{R}.missions[0].area"),
    ("mission unknown area", _set("missions", [{"area": "atlantis"}]), f"{R}.missions[0].area"),
    ("mission station reversed",
     _set("missions", [{"area": "mayadin", "time_on_station": ["2 h", "1 h"]}]),
     f"{R}.missions[0].time_on_station"),
    ("mission station not a duration",
     _set("missions", [{"area": "mayadin", "time_on_station": "40 km"}]),
     f"{R}.missions[0].time_on_station.0"),
    ("mission racetrack width 0",
     _set("missions", [{"area": "mayadin", "racetrack": {"length": "40 km", "width": "0 km"}}]),
     f"{R}.missions[0].racetrack.width"),
    ("mission racetrack unknown key",
     _set("missions", [{"area": "mayadin", "racetrack": {"radius": "4 km"}}]),
     f"{R}.missions[0].racetrack.radius"),
    ("mission share negative", _set("missions", [{"area": "mayadin", "share": -1}]),
     f"{R}.missions[0].share"),
    ("missions empty", _set("missions", []), f"{R}.missions"),
    ("lane of another party", _set("lane", "coalition_lane"), f"{R}.lane"),
    ("lane unknown", _set("lane", "nowhere"), f"{R}.lane"),
    ("lane entry reversed", _set("lane_entry", ["150 km", "60 km"]), f"{R}.lane_entry"),
    ("lane exit negative", _set("lane_exit", "-5 km"), f"{R}.lane_exit.0"),
    ("altitude step negative", _set("altitude_step", "-100 ft"), f"{R}.altitude_step"),
    ("compliance 1.5", _set("compliance", 1.5), f"{R}.compliance"),
    ("compliance negative", _set("compliance", -0.1), f"{R}.compliance"),
    ("compliance text", _set("compliance", "high"), f"{R}.compliance"),
    ("deviation weight -1", _set("deviations", {"drift": {"weight": -1}}),
     f"{R}.deviations.drift.weight"),
    ("deviation weight text", _set("deviations", {"shortcut": {"weight": "often"}}),
     f"{R}.deviations.shortcut.weight"),
    ("deviation unknown cause", _set("deviations", {"teleport": {"weight": 1}}),
     f"{R}.deviations.teleport"),
    ("deviation weights all 0",
     _set("deviations", {"drift": {"weight": 0}, "shortcut": {"weight": 0}}),
     f"{R}.deviations"),
    ("deviation length reversed", _set("deviations", {"drift": {"length": ["60 km", "20 km"]}}),
     f"{R}.deviations.drift.length"),
    ("shortcut has no beyond", _set("deviations", {"shortcut": {"beyond": "5 km"}}),
     f"{R}.deviations.shortcut.beyond"),
    ("deviations not a mapping", _set("deviations", ["drift"]), f"{R}.deviations"),
    ("unknown party key", _set("sortie_per_day", 30), f"{R}.sortie_per_day"),
    ("bases without rate", _only({"bases": ["hmeimim"]}), f"{R}.bases"),
    ("missions without rate", _only({"missions": [{"area": "mayadin"}]}), f"{R}.missions"),
    ("profile without rate", _only({"daily_profile": "flat"}), f"{R}.daily_profile"),
    ("lane without rate", _only({"lane": "russia_lane"}), f"{R}.lane"),
]


@pytest.mark.parametrize(("change", "path"), [(c, p) for _, c, p in INVALID],
                         ids=[name for name, _, _ in INVALID])
def test_bad_party_settings_name_their_key_path(change: Any, path: str) -> None:
    document = doc()
    change(document["parties"]["russia"])
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document, file="gen.yaml")
    problems = info.value.problems
    assert any(p.path == path for p in problems), [str(p) for p in problems]
    assert all(p.file == "gen.yaml" for p in problems)
    assert f"gen.yaml: {path}: " in str(info.value)


KEEPS_RATE = [case for case in INVALID if case[0] in (
    "rate negative", "base unknown", "aircraft no speed", "mission station reversed",
    "deviation weight -1")]


@pytest.mark.parametrize(("change", "path"), [(c, p) for _, c, p in KEEPS_RATE],
                         ids=[name for name, _, _ in KEEPS_RATE])
def test_a_bad_setting_does_not_make_the_others_unused(change: Any, path: str) -> None:
    # sorties_per_day is written, so no other key may be reported as "only used with
    # sorties_per_day; add sorties_per_day: 40 or remove this key".
    document = doc()
    change(document["parties"]["russia"])
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document, file="gen.yaml")
    spurious = [str(p) for p in info.value.problems if "only used with sorties_per_day" in
                p.message]
    assert not spurious, spurious


def test_two_own_lanes_need_the_lane_named() -> None:
    document = doc()
    document["lanes"]["russia_lane_2"] = {"party": "russia", "offset": "-10 mi",
                                          "direction": "downstream"}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    assert any(p.path == f"{R}.lane" for p in info.value.problems)
    document["parties"]["russia"]["lane"] = "russia_lane_2"
    russia = parse_scenario(document).parties["russia"]
    assert russia.sorties is not None and russia.sorties.lane == "russia_lane_2"


def test_valid_party_settings_are_read() -> None:
    document = doc()
    document["parties"]["russia"].update({
        "bases": {"hmeimim": 3, "t4": 1}, "daily_profile": list(PROFILE),
        "compliance": 0, "deviations": {"shortcut": {"weight": 0}},
        "lane_entry": "0 km", "altitude_step": "0 ft",
    })
    scenario = parse_scenario(document)
    russia = scenario.parties["russia"]
    assert russia.sorties is not None
    assert russia.sorties.per_day == 30.0
    assert [w for _, w in russia.sorties.bases] == [3.0, 1.0]
    assert russia.sorties.daily_profile == tuple(float(v) for v in PROFILE)
    assert russia.sorties.lane == "russia_lane"
    assert russia.sorties.lane_entry_m == (0.0, 0.0)
    assert russia.compliance == 0.0
    weights = {d.cause: d.weight for d in russia.deviations}
    assert weights["shortcut"] == 0.0 and weights["drift"] == 1.0
    # Weight 0 means never: every russian sortie deviates, and always by drifting.
    result = run(parse_scenario(dict(document, duration="12 h")))
    causes = {c for p in result.plans if p.party == "russia" for c, _, _ in p.deviations}
    assert causes == {"drift"}


def test_reported_rates_are_compared_in_the_summary(tmp_path):
    import json

    from sim.cli import main as cli_main

    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"
    out = tmp_path / "run"
    assert cli_main(["run", str(scenario), "--duration", "1 d", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (lanes, nmac) = summary["reported"]
    russian = summary["rules"]["opposite_tracks"]["by_party"]["russia"]
    assert lanes["simulated_per_day"] == pytest.approx(russian / 1.0)
    assert lanes["reported_per_day"] == [5.0, 6.0] and lanes["fact"] == "violations_per_day_seed"
    # One run is a count: its verdict is that of the exact Poisson 95% interval of the
    # count (over 1 day), worked here from the chi-squared quantiles.
    from scipy.stats import chi2

    low = 0.0 if russian == 0 else chi2.ppf(0.025, 2 * russian) / 2
    high = chi2.ppf(0.975, 2 * russian + 2) / 2
    assert lanes["episodes"] == russian
    assert lanes["interval_per_day"] == pytest.approx([low, high], abs=1e-6)
    assert lanes["verdict"] == ("above" if low > 6.0 else "below" if high < 5.0
                                else "consistent")
    assert lanes["within"] == (lanes["verdict"] == "consistent")
    assert nmac["party"] is None and nmac["reported_per_day"] == [0.01, 0.1]
    # No near collision in a day is no evidence against 0.01 to 0.1 a day: [0, 3.689].
    assert nmac["episodes"] == 0 and nmac["interval_per_day"] == [0.0, 3.688879]
    assert nmac["verdict"] == "consistent"


@pytest.mark.parametrize("bad", [
    {"rule": "no_such_rule", "per_day": 5},
    {"rule": "opposite_tracks", "party": "nobody", "per_day": 5},
    {"rule": "opposite_tracks", "per_day": [6, 5]},
    {"rule": "opposite_tracks", "per_day": "five"},
])
def test_bad_reported_rates_name_their_key(bad):
    import yaml

    from sim.model.scenario import ScenarioError, parse_scenario
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"
    document = yaml.safe_load(scenario.read_text())
    document["reported"] = [bad]
    with pytest.raises(ScenarioError) as error:
        parse_scenario(document, "x.yaml")
    assert any(p.path.startswith("reported[0]") for p in error.value.problems)


# ---------------------------------------------------------------------------- Polyline


@st.composite
def _lines_and_cuts(draw):
    n = draw(st.integers(2, 12))
    points = [(draw(st.floats(-1e5, 1e5)), draw(st.floats(-1e5, 1e5))) for _ in range(n)]
    if draw(st.booleans()):  # a repeated vertex: a zero-length segment
        k = draw(st.integers(0, n - 1))
        points.insert(k, points[k])
    line = LineString(points)
    length = line.length
    assume(length > 0.0)  # lanes, rings and racetracks all have a length
    # Cuts at vertices, at the ends, beyond the end, equal, reversed and anywhere.
    at_vertex = [line.project(Point(p)) for p in points]
    distance = st.sampled_from([0.0, length, length * 1.5, *at_vertex]) | st.floats(
        0.0, max(length * 1.2, 1.0))
    return line, draw(distance), draw(distance)


@settings(max_examples=300, deadline=None)
@given(_lines_and_cuts())
def test_polyline_cuts_are_substrings_bit_for_bit(case):
    from shapely.ops import substring

    from sim.model.polyline import Polyline

    line, start, end = case
    expected = [(float(x), float(y)) for x, y in substring(line, start, end).coords]
    assert Polyline(line).cut(start, end) == expected
