"""Loading scenarios: the public entry point kept at its first address.

The loader lives in ``sim.model.scenario``; ``from sim.scenario import load_scenario`` (the
README's and the notebook's first line) keeps working.
"""

from sim.model.scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario", "parse_scenario"]
