"""euphrates-deconfliction: an airspace deconfliction simulator.

The layers, each importing only those before it: ``sim.model`` (units, scenario, geography,
records), ``sim.traffic``, ``sim.detect``, ``sim.engine`` (``sim.engine.run``), ``sim.analysis``,
``sim.io``, ``sim.study``, ``sim.present`` and ``sim.cli``; ``sim.testing`` has hypothesis
strategies for tracks, encounters and zones. ``sim.scenario.load_scenario`` reads a scenario.
"""

__version__ = "0.1.0"
