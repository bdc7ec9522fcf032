"""Detection: exact episodes from piecewise-linear tracks, never a time step.

Legs as arrays and the closed forms on them, the broad phase that prunes pairs, the exact
narrow phase and merging, and the rules with their registry. Pure numpy and shapely;
imports ``sim.model`` (and nothing from the engine above it).
"""
