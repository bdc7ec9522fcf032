"""``deconflict rules``: list the rule types a scenario may name, with their parameters and
where each comes from (built in, or the installed package and entry point)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sim.cli.core import EXIT_OK
from sim.model.reference import parameter_rows


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules``."""
    parser = commands.add_parser(
        "rules", help="list the rule types, built in and installed, with their parameters",
        description="The rule types a scenario's rules may name: the built-in ones and those "
        "that installed packages add (entry-point group deconflict.rules), each with its "
        "parameters and where it comes from. A plugin that fails to load is listed with "
        "its fault (exit 1).")
    parser.add_argument("--json", action="store_true",
                        help="print them as JSON (a list of types with their parameters)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print every rule type; exit 1 when an installed plugin fails to load."""
    from sim.detect.rules import rule_types

    found, broken = rule_types()
    listed: list[dict[str, Any]] = [
        {"type": kind.name, "source": kind.source, "summary": kind.summary,
         "parameters": [{"key": key, "kind": kind.name if key == "type" else what,
                         "default": default, "meaning": meaning}
                        for key, what, default, meaning in parameter_rows(kind.parameters)]}
        for kind in found]
    if args.json:
        print(json.dumps({"rule_types": listed,
                          "broken": [str(exc) for exc in broken]}, indent=2))
    else:
        for entry in listed:
            print(f"{entry['type']}  ({entry['source']})")
            if entry["summary"]:
                print(f"  {entry['summary']}")
            width = max(len(p["key"]) for p in entry["parameters"])
            for p in entry["parameters"]:
                default = "required" if p["default"] == "required" else f"default {p['default']}"
                print(f"    {p['key']:<{width}}  {p['kind']}, {default}: {p['meaning']}")
            print()
    for exc in broken:
        print(f"deconflict rules: error: plugin {exc.plugin}: {exc.message}", file=sys.stderr)
    return 1 if broken else EXIT_OK
