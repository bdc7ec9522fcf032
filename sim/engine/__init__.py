"""The engine: a run from a scenario and a seed; the only layer that knows everything below.

The SimPy flying processes, the hotline's officers and their lossy link, and ``run``, which
wires scenario -> traffic -> engine -> detection into a ``Run``. Imports model, traffic and
detect; the analysis, outputs, studies, figures and command line build on it.
"""

from sim.engine.simulation import OUTCOMES, Run, run

__all__ = ["OUTCOMES", "Run", "run"]
