"""The worked analysis notebook runs from top to bottom through the public API (nbclient
executes it in a real kernel), and is stored with its outputs cleared."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "near_miss_analysis.ipynb"


def test_notebook_is_stored_with_outputs_cleared():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_executes_and_shows_tables_and_figures():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Episodes by rule" in text and "Severity of encounters" in text
    assert "zone_incursions.uninformed" in text and "declared_zones.per_day" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
