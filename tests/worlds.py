"""The rules and the World a run's detection looked at, captured from a real run."""

from __future__ import annotations

from typing import Any

import sim.detect.rules as rules
import sim.engine.simulation as simulation
from sim.model.geography import build_geography
from sim.model.scenario import Scenario


def rules_and_world(scenario: Scenario) -> tuple[Any, rules.World]:
    """Run ``scenario`` and return the rule specs and the World its rules were run on."""
    seen: dict[str, Any] = {}

    def spy(specs, world):
        seen["specs"], seen["world"] = specs, world
        return rules.detect_all(specs, world)

    original = simulation.detect_all
    simulation.detect_all = spy
    try:
        simulation.run(scenario, build_geography(scenario))
    finally:
        simulation.detect_all = original
    return seen["specs"], seen["world"]
