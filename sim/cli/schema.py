"""``deconflict schema``: print the JSON Schema of the scenario format.

The schema is generated from the scenario's models and shipped in the package
(``sim/data/scenario.schema.json``, checked against a fresh generation by the tests), so
this prints the shipped file: ``deconflict schema > scenario.schema.json`` gives an editor
what it needs to check and complete scenario keys as they are typed. With rule types of
installed packages, it is made anew with their parameters.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources

from sim.cli.core import EXIT_OK

SCHEMA_FILE = ("data", "scenario.schema.json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``schema``."""
    parser = commands.add_parser(
        "schema", help="print the JSON Schema of the scenario format",
        description="deconflict schema > scenario.schema.json: the JSON Schema (draft "
        "2020-12) of the scenario format, for editors that validate and complete YAML "
        "keys (a scenario's first line '# yaml-language-server: $schema=PATH' names it).")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the shipped schema, or, when installed packages add rule types, the schema
    made anew with them (a plugin that fails to load is left out, with a warning)."""
    from sim.model.ruletypes import installed

    if not installed():
        sys.stdout.write(resources.files("sim").joinpath(*SCHEMA_FILE).read_text(
            encoding="utf-8"))
        return EXIT_OK
    from sim.detect.rules import rule_types
    from sim.model.schema import scenario_json_schema

    found, broken = rule_types()
    for exc in broken:
        print(f"deconflict schema: warning: left out plugin {exc.plugin}: {exc.message}",
              file=sys.stderr)
    plugins = tuple((kind.name, kind.parameters) for kind in found if not kind.builtin)
    sys.stdout.write(json.dumps(scenario_json_schema(plugins), indent=2) + "\n")
    return EXIT_OK
