"""Generated sorties climb from and descend to their bases at their types' rates (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.engine import run
from sim.model.scenario import load_scenario, parse_scenario
from sim.model.spec import vertical_rates
from sim.model.units import FOOT, MINUTE
from sim.traffic.plans import FlightPlan, climb_profile
from tests.test_scenario_errors import SORTIES, refuse, variant

ROOT = Path(__file__).resolve().parent.parent

FPM = FOOT / MINUTE
CLIMB, DESCENT = 10_000 * FPM, 6_000 * FPM


def _level(route: list[tuple[float, float]], altitude_m: float = 7_000.0) -> FlightPlan:
    return FlightPlan("A", "blue", 100.0, 200.0, altitude_m, np.array(route, float))


def _rates(plan: FlightPlan) -> np.ndarray:
    return np.diff(plan.altitudes()) / np.diff(plan.waypoint_times())


def _on_legs(level: FlightPlan, profiled: FlightPlan, index: np.ndarray) -> None:
    """The level route's waypoints are the profile's at ``index``, exactly, at the same
    times; every inserted point lies on its leg where the time puts it."""
    assert np.array_equal(profiled.route_xy[index], level.route_xy)
    np.testing.assert_allclose(profiled.waypoint_times()[index], level.waypoint_times())
    extra = np.setdiff1d(np.arange(len(profiled.route_xy)), index)
    times = level.waypoint_times()
    for j in extra:
        t = profiled.waypoint_times()[j]
        expected = [np.interp(t, times, level.route_xy[:, c]) for c in (0, 1)]
        np.testing.assert_allclose(profiled.route_xy[j], expected, atol=1e-6)


def test_climb_cruise_descent_at_the_rates() -> None:
    level = _level([(0, 0), (100_000, 0), (100_000, 80_000), (0, 0)])
    profiled, index = climb_profile(level, CLIMB, DESCENT)
    z = profiled.altitudes()
    assert z[0] == 0.0 and z[-1] == 0.0 and z.max() == pytest.approx(7_000.0)
    assert len(profiled.route_xy) == len(level.route_xy) + 2  # level-off, top of descent
    rates = _rates(profiled)
    assert all(np.isclose(r, CLIMB) or r == 0.0 or np.isclose(r, -DESCENT) for r in rates)
    assert np.isclose(rates[0], CLIMB) and np.isclose(rates[-1], -DESCENT)
    t = profiled.waypoint_times()
    np.testing.assert_allclose(z, np.minimum(7_000.0, np.minimum(
        CLIMB * (t - t[0]), DESCENT * (t[-1] - t))), atol=1e-9)
    _on_legs(level, profiled, index)


def test_short_route_peaks_below_cruise() -> None:
    level = _level([(0, 0), (20_000, 0), (30_000, 0)], altitude_m=12_000.0)  # 150 s aloft
    profiled, index = climb_profile(level, CLIMB, DESCENT)
    z, t = profiled.altitudes(), profiled.waypoint_times()
    assert len(profiled.route_xy) == 4 and 0.0 < z.max() < 12_000.0
    peak = int(np.argmax(z))
    assert np.isclose(CLIMB * (t[peak] - t[0]), DESCENT * (t[-1] - t[peak]))
    rates = _rates(profiled)
    assert np.allclose(rates[:peak], CLIMB) and np.allclose(rates[peak:], -DESCENT)
    _on_legs(level, profiled, index)


def test_level_off_at_a_waypoint_inserts_nothing() -> None:
    # 7000 m at 50.8 m/s: the climb takes 137.8 s, 27,559 m at 200 m/s.
    level_off = 7_000.0 / CLIMB * 200.0
    level = _level([(0, 0), (level_off, 0), (200_000, 0)])
    profiled, index = climb_profile(level, CLIMB, DESCENT)
    assert len(profiled.route_xy) == 4 and list(index) == [0, 1, 3]
    assert profiled.altitudes()[1] == pytest.approx(7_000.0)


@pytest.fixture(scope="module")
def baseline() -> Any:
    # Low compliance: many close approaches and shortcuts, in two days.
    return run(load_scenario(str(ROOT / "scenarios" / "euphrates_dec2017.yaml"),
                             ["duration=2 d", "parties.russia.compliance=0.5"]))


def _type_rates(result: Any, plan: FlightPlan) -> tuple[float, float]:
    sorties = result.scenario.parties[plan.party].sorties
    (aircraft,) = [a for a in sorties.aircraft if a.type == plan.aircraft]
    return aircraft.climb_rate_mps, aircraft.descent_rate_mps


def test_every_flown_sortie_climbs_and_descends_at_its_rates(baseline: Any) -> None:
    generated = {k for k, p in enumerate(baseline.plans) if p.id in baseline.outcomes}
    assert generated
    legs = baseline.legs
    turned = 0
    for k in generated:
        plan = baseline.plans[k]
        climb, descent = _type_rates(baseline, plan)
        z = plan.altitudes()
        assert len(z) == len(plan.route_xy)
        assert z[0] == 0.0 and z[-1] == 0.0 and z.max() > 0.0
        # The legs flown (before and after a close approach's turn) climb, cruise or
        # descend at the type's rates, and nothing else.
        vz = legs.vz_mps[legs.flight == k]
        assert np.all(np.isclose(vz, climb) | (np.abs(vz) < 1e-9) | np.isclose(vz, -descent))
        turns = [a for cause, a, _ in plan.deviations if cause == "close_approach"]
        if turns:  # from the turn on, the profile at the target's level (its new cruise)
            turned += 1
            t = plan.waypoint_times()
            after = t > turns[0]  # (the waypoint before the turn may be at its time)
            np.testing.assert_allclose(z[after], np.minimum(plan.altitude_m, np.minimum(
                climb * (t[after] - t[0]), descent * (t[-1] - t[after]))), atol=1e-6)
    assert turned  # close approaches were made, and their plans kept the profile
    # and planners rerouted sorties round zones (none is delayed here): those plans too
    assert "rerouted" in baseline.outcomes.values()


def test_racetracks_are_flown_at_cruise(baseline: Any) -> None:
    # Up to cruise, level, down: between its level-off and its top of descent every
    # waypoint, the racetrack's included, is at cruise. A fast climber levels off before its
    # first waypoint past the base (only the two on the ground are not at cruise); an MQ-9
    # at 500 ft/min climbs for 40 minutes, past several.
    kept = [p for p in baseline.plans if p.id in baseline.outcomes and not p.deviations]
    assert kept
    for plan in kept:
        z = plan.altitudes()
        top = np.flatnonzero(z == plan.altitude_m)
        assert len(top) and np.all(np.diff(top) == 1)
        assert np.all(np.diff(z[:top[0] + 1]) > 0) and np.all(np.diff(z[top[-1]:]) < 0)
        if _type_rates(baseline, plan)[0] > 2_000 * FPM:
            assert len(z) - len(top) == 2


def test_resolved_scenario_leaves_unwritten_rates_out() -> None:
    scenario = parse_scenario(variant(("parties.coalition", SORTIES)), "x.yaml")
    (aircraft,) = scenario.parties["coalition"].sorties.aircraft  # type: ignore[union-attr]
    assert (aircraft.climb_rate_mps, aircraft.descent_rate_mps) == vertical_rates("F-16")
    assert vertical_rates("F-16") == pytest.approx((10_000 * FPM, 6_000 * FPM))
    assert vertical_rates("Learjet") == pytest.approx((3_000 * FPM, 2_500 * FPM))
    assert "climb_rate" not in scenario.resolved_yaml()


def test_written_rates_are_used_and_kept() -> None:
    written = {**SORTIES, "aircraft": [{**SORTIES["aircraft"][0], "climb_rate": "15 m/s",
                                         "descent_rate": "2000 ft/min"}]}
    scenario = parse_scenario(variant(("parties.coalition", written)), "x.yaml")
    (aircraft,) = scenario.parties["coalition"].sorties.aircraft  # type: ignore[union-attr]
    assert aircraft.climb_rate_mps == 15.0
    assert aircraft.descent_rate_mps == pytest.approx(2_000 * FPM)
    assert "climb_rate" in scenario.resolved_yaml()


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("climb_rate", "0 ft/min", "greater than 0"),
    ("climb_rate", "-500 fpm", '"3000 ft/min"'),
    ("descent_rate", "3000 ft", "is a distance, not a speed"),
    ("descent_rate", 3000, "no unit"),
    ("climb_rate", "5 min", '"15 m/s"'),
    ("descent_rate", "0 m/s", "greater than 0"),
])
def test_bad_rates_are_refused(key: str, value: Any, fragment: str) -> None:
    bad = {**SORTIES, "aircraft": [{**SORTIES["aircraft"][0], key: value}]}
    error = refuse(variant(("parties.coalition", bad)))
    wanted = f"parties.coalition.aircraft[0].{key}"
    matching = [p for p in error.problems if p.path == wanted]
    assert matching, [str(p) for p in error.problems]
    assert any(fragment in p.message for p in matching), [str(p) for p in matching]
