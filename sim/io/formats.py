"""The file formats and name limits the outputs take, apart from the writers, so that the
command line's options can name them without importing what writes them."""

from __future__ import annotations

FIGURE_FORMATS = ("png", "svg", "pdf")  # what `deconflict plot` and `compare` can write
EXPORT_FORMATS = ("csv", "parquet")  # recorded tracks `deconflict run --export-tracks` writes
MAX_NAME = 200  # leaves room for the hidden ".NAME.partial-PID" beside it within 255 bytes
