"""The model: what a scenario says and the world it describes, before anything flies.

Units, resource limits, the gazetteer of places, the scenario's schema and loader (YAML in,
frozen typed objects out), the local frame and geography, and the records a run produces.
Imports nothing else of ``sim``: every other layer builds on this one.
"""
