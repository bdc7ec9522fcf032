"""euphrates-deconfliction: an airspace deconfliction simulator.

``sim.engine.run`` flies a scenario and returns its episodes; ``sim.scenario.load_scenario``
reads one; ``sim.testing`` has hypothesis strategies for tracks, encounters and zones.
"""

__version__ = "0.1.0"
