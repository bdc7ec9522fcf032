"""Studies: sweeps of many runs over a grid of parameters, and where they run.

Sweep files and grids, the pure replication worker, executors (serial, process pool, Dask)
and the SQLite results store. Imports the layers below it (model to io), never
presentation or the command line.
"""
