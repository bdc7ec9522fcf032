"""Write the scenario format's generated files from the pydantic models.

Usage: python tools/scenario_docs.py

Writes sim/data/scenario.schema.json (the JSON Schema) and docs/scenario-reference.md
(the reference); tests/test_schema.py checks that both are up to date.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.model.reference import scenario_reference
from sim.model.schema import scenario_json_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "sim" / "data" / "scenario.schema.json"
REFERENCE = ROOT / "docs" / "scenario-reference.md"


def main() -> None:
    """Write both files from the models."""
    SCHEMA.write_text(json.dumps(scenario_json_schema(), indent=2) + "\n", encoding="utf-8")
    REFERENCE.write_text(scenario_reference(), encoding="utf-8")


if __name__ == "__main__":
    main()
