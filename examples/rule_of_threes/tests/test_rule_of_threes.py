"""Property tests of the rule of threes, written as a rule author writes them with the kit
(``sim.testing``): one check a test, an oracle of a few lines, the relation to the
built-in close-approach rule, and the example scenario's numbers worked out by hand.

Run them with ``python -m pytest examples/rule_of_threes/tests -q``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_of_threes import rule_of_threes

from sim import testing as sst
from sim.engine import run
from sim.rules import MIN_EPISODE_S, rule_type
from sim.scenario import load_scenario

NMI_M, FT_M = 1852.0, 0.3048
PARAMS = {"horizontal": "3 nmi", "vertical": "3000 ft", "dwell": "1 min"}
HORIZONTAL_M, VERTICAL_M, DWELL_S = 3 * NMI_M, 3000 * FT_M, 60.0
# Worlds with long close approaches: aircraft overtaking and climbing through each other.
WORLDS = sst.worlds(kinds=("overtaking", "level_crossing", None))
CHECK = settings(max_examples=15, deadline=None)
SHADOWING = Path(__file__).resolve().parent.parent / "scenarios" / "shadowing.yaml"


def threes(samples: sst.Samples) -> dict[sst.Key, np.ndarray]:
    """The oracle: close in plan and in altitude, for more than the dwell."""
    return {key: sst.lasting(flags, samples.step_s, DWELL_S)
            for key, flags in sst.close(samples, HORIZONTAL_M, VERTICAL_M).items()}


@CHECK
@given(WORLDS)
def test_episodes_are_disjoint_and_merged(document: dict) -> None:
    sst.check_disjoint_and_merged(rule_of_threes, PARAMS, document)


@CHECK
@given(WORLDS)
def test_symmetric(document: dict) -> None:
    sst.check_symmetric(rule_of_threes, PARAMS, document)


@CHECK
@given(WORLDS, st.floats(-50_000.0, 50_000.0), st.floats(-50_000.0, 50_000.0))
def test_translation_invariant(document: dict, dx_m: float, dy_m: float) -> None:
    sst.check_translation_invariant(rule_of_threes, PARAMS, document, dx_m, dy_m)


@CHECK
@given(WORLDS, st.floats(-math.pi, math.pi))
def test_rotation_invariant(document: dict, angle_rad: float) -> None:
    sst.check_rotation_invariant(rule_of_threes, PARAMS, document, angle_rad)


@CHECK
@given(WORLDS, st.integers(0, 1000))
def test_relabelling_invariant(document: dict, seed: int) -> None:
    sst.check_relabelling_invariant(rule_of_threes, {**PARAMS, "between": ["blue", "red"]},
                                    document, seed=seed)


@CHECK
@given(WORLDS)
def test_monotone_in_the_distances_and_the_dwell(document: dict) -> None:
    sst.check_monotone(rule_of_threes, PARAMS, document, "horizontal", "2 nmi", "4 nmi")
    sst.check_monotone(rule_of_threes, PARAMS, document, "vertical", "1000 ft", "3000 ft")
    sst.check_monotone(rule_of_threes, PARAMS, document, "dwell", "1 min", "3 min",
                       grows=False)


@CHECK
@given(WORLDS)
def test_agrees_with_sampling(document: dict) -> None:
    sst.check_agrees_with_sampling(rule_of_threes, PARAMS, document, threes)


@settings(max_examples=25, deadline=None)
@given(WORLDS)
def test_each_violation_is_the_end_of_a_close_approach_longer_than_the_dwell(
        document: dict) -> None:
    """A close approach (min_separation, the same distances) gives one violation iff it
    lasts longer than the dwell: from its start plus the dwell to its end."""
    world = sst.world_of(document)
    close = sst.detect_rule(rule_type("min_separation"), {"horizontal": "3 nmi",
                                                          "vertical": "3000 ft"}, document, world)
    found = sst.detect_rule(rule_of_threes, PARAMS, document, world)
    by_pair: dict[sst.Key, list] = {}
    for e in found:
        by_pair.setdefault(sst.episode_key(e), []).append(e)
    matched = 0
    for approach in close:
        key = sst.episode_key(approach)
        inside = [e for e in by_pair.get(key, [])
                  if approach.start_s <= e.start_s and e.end_s <= approach.end_s]
        if approach.duration_s > DWELL_S + MIN_EPISODE_S:
            assert len(inside) == 1, (approach, inside)
            (violation,) = inside
            assert violation.start_s == pytest.approx(approach.start_s + DWELL_S, abs=1e-9)
            assert violation.end_s == pytest.approx(approach.end_s, abs=1e-9)
            assert (violation.aircraft, violation.other_aircraft) == (
                approach.aircraft, approach.other_aircraft)
        elif approach.duration_s <= DWELL_S:
            assert inside == []
        matched += len(inside)
    assert matched == len(found)  # none outside a close approach


def test_the_shadowing_scenario_by_hand() -> None:
    """The numbers of the header of scenarios/shadowing.yaml, worked out by hand.

    Every pair is 300 m apart in height (less than 3,000 ft = 914.4 m) but B3/R3 (1,000 m:
    never close). 3 nmi = 5,556 m.

    B1/R1, head-on, 2 km apart in plan: B1 at x = -100 km + 100 t, R1 at x = 100 km - 200 t,
    closing at 300 m/s. Close while |dx| < sqrt(5556^2 - 2000^2) = 5183.5 m, that is
    2 x 5183.5 / 300 = 34.6 s, centred on dx = 0 at t = 200 km / 300 m/s = 666.7 s: from
    649.4 s to 683.9 s. Shorter than 3 min: no violation of the rule of threes.

    B2/R2, side by side 2 km apart at the same speed from t = 0 until R2 turns north at
    x = -40 km (after 60 km, t = 600 s): close from 0 s. Then, u = t - 600 s, B2 is 100 u
    east and R2 2000 + 100 u north of the turn point's abeam: close until
    (100 u)^2 + (2000 + 100 u)^2 = 5556^2, i.e. u^2 + 20 u - 1343.46 = 0,
    u = (-20 + sqrt(400 + 4 x 1343.46)) / 2 = 28.0 s: the close approach ends at 628.0 s;
    the violation runs from 180 s to its end.
    """
    result = run(load_scenario(SHADOWING))
    by_rule: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
    for e in result.episodes:
        by_rule.setdefault(e.rule, {})[(e.aircraft, e.other_aircraft)] = (e.start_s, e.end_s)
    h_m = 3 * NMI_M
    head_on_half_s = math.sqrt(h_m**2 - 2000.0**2) / 300.0
    meet_s = 200_000.0 / 300.0
    c = (2000.0**2 - h_m**2) / (2 * 100.0**2)  # u^2 + 20 u + c = 0, from the sum above
    shadow_end_s = 600.0 + (-20.0 + math.sqrt(20.0**2 - 4 * c)) / 2
    assert head_on_half_s * 2 == pytest.approx(34.6, abs=0.05)
    assert shadow_end_s == pytest.approx(628.0, abs=0.05)
    assert set(by_rule["close_approach"]) == {("B1", "R1"), ("B2", "R2")}
    assert by_rule["close_approach"][("B1", "R1")] == pytest.approx(
        (meet_s - head_on_half_s, meet_s + head_on_half_s), abs=1e-6)
    assert by_rule["close_approach"][("B2", "R2")] == pytest.approx((0.0, shadow_end_s),
                                                                    abs=1e-6)
    assert by_rule["threes"] == {("B2", "R2"): pytest.approx((180.0, shadow_end_s), abs=1e-6)}
