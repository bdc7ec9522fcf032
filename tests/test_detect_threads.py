"""The lane rules run in a thread beside the other rules: the outcomes are those of running
the rules one by one, and a failure is the first rule's in order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import sim.detect.rules as rules
import sim.engine.simulation as simulation
from sim.model.limits import LimitExceeded
from sim.model.scenario import ScenarioError, load_scenario
from tests.worlds import rules_and_world

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"


@pytest.fixture(scope="module")
def baseline_world():
    """The baseline's rules and the world they were run on (3 days)."""
    return rules_and_world(dataclasses.replace(load_scenario(BASELINE),
                                               duration_s=3 * 86400.0))


def test_outcomes_are_those_of_the_rules_run_one_by_one(baseline_world):
    specs, world = baseline_world
    assert [s.type for s in specs].count("lane_discipline") == 1 and len(specs) == 5
    one_by_one = [rules.detect(spec, world) for spec in specs]
    # All but the near collisions find episodes in 3 days: the comparison says much.
    assert sum(bool(found) for found in one_by_one) >= 4 and one_by_one[0]
    others = [s for s in specs if s.type != "lane_discipline"]
    for order in (specs, specs[::-1], [specs[0]], others):
        expected = [one_by_one[list(specs).index(s)] for s in order]
        assert rules.detect_all(order, world) == expected


def test_within_one_thread_every_rule_runs_in_the_calling_thread(baseline_world,
                                                                  monkeypatch):
    specs, world = baseline_world
    expected = rules.detect_all(specs, world)

    class NoThreads:
        @staticmethod
        def Thread(*args, **kwargs):  # noqa: N802 - threading's name
            raise AssertionError("a second thread")

    monkeypatch.setattr(rules, "threading", NoThreads)
    with rules.one_thread():
        assert rules.detect_all(specs, world) == expected
    with pytest.raises(AssertionError, match="a second thread"):  # only within it
        rules.detect_all(specs, world)


def _runs_in_one_thread() -> bool:
    return rules._ONE_THREAD.get()


def test_a_pool_worker_runs_its_rules_in_one_thread_and_this_process_does_not():
    from sim.analysis.workers import worker_pool

    with worker_pool(1) as pool:
        assert pool.submit(_runs_in_one_thread).result()
    assert not _runs_in_one_thread()


@pytest.mark.parametrize("failing", [["opposite_tracks"], ["opposite_tracks", "nmac"],
                                     ["nmac", "declared_zones"], ["declared_zones"]])
def test_a_failure_is_the_first_rules_in_order_and_every_rule_before_it_ran(
        baseline_world, monkeypatch, failing):
    specs, world = baseline_world
    ids = [s.id for s in specs]
    real = rules.detect

    def detect(spec, world):
        if spec.id in failing:
            raise LimitExceeded("episodes", f"too much in {spec.id}")
        return real(spec, world)

    monkeypatch.setattr(rules, "detect", detect)
    outcomes = rules.detect_all(specs, world)
    first = min(ids.index(f) for f in failing)
    assert all(isinstance(o, list) for o in outcomes[:first])
    assert isinstance(outcomes[first], LimitExceeded) and ids[first] in str(outcomes[first])


def test_the_engine_names_the_first_failing_rule(monkeypatch):
    scenario = dataclasses.replace(load_scenario(BASELINE), duration_s=86400.0)
    real = rules.detect

    def detect(spec, world):
        if spec.type in ("lane_discipline", "zone_incursion"):
            raise LimitExceeded("episodes", f"too many episodes for {spec.id}")
        return real(spec, world)

    monkeypatch.setattr(rules, "detect", detect)
    with pytest.raises(ScenarioError) as caught:
        simulation.run(scenario)
    lane = [s.type for s in scenario.rules].index("lane_discipline")
    assert f"rules[{lane}]" in str(caught.value) and "too many episodes" in str(caught.value)
    assert len(caught.value.problems) == 1
