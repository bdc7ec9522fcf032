"""Names the sweep machinery and the command line share, apart from the machinery so that
the command line can name them without importing it."""

from __future__ import annotations

LOCAL = "local"  # --scheduler local: a Dask LocalCluster on this machine
STORE_NAME = "results.sqlite"  # a sweep folder's results store
