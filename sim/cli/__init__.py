"""The ``deconflict`` command line: parse arguments, call the library, print, set exit codes.

One module per command, each with its options (``add_parser``) and what it does
(``handle``): ``run``, ``calibrate``, ``compare``, ``plot``, ``report``, ``sweep``,
``validate``, ``schema`` and ``rules``; ``core`` holds what they share (exit codes, usage
errors, ``--limit``, loading a scenario, SIGTERM, the messages of a failed command). Here
the parser is put together and ``main`` runs it; ``console`` is ``main`` as a process's
entry point.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from sim import __version__
from sim.cli import calibrate, compare, plot, report, rules, run, schema, sweep, validate
from sim.cli.core import add_limit_option, fewer_collections, run_command, terminate_as_interrupt
from sim.cli.sweep import RowProgress
from sim.cli.validate import describe

__all__ = ["RowProgress", "console", "describe", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deconflict", description=f"Airspace deconfliction simulator, version "
        f"{__version__}: fly a scenario and count every violation episode exactly.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_parser(commands)  # in the order the help lists them
    calibrate.add_parser(commands)
    compare.add_parser(commands)
    plot.add_parser(commands)
    report.add_parser(commands)
    sweep.add_parser(commands)
    validate.add_parser(commands)
    for subparser in commands.choices.values():
        add_limit_option(subparser)
    schema.add_parser(commands)  # read no input: no --limit
    rules.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``deconflict`` and ``python -m sim``; returns the exit code."""
    args = _parser().parse_args(argv)
    with terminate_as_interrupt(), fewer_collections():
        return run_command(args)


def console(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deconflict`` process and ``python -m sim``: ``main``, for a
    process that ends when it returns."""
    code = main(argv)
    # Everything the command built is about to go with the process. Frozen, it is left out
    # of the collections the interpreter makes as it shuts down, which would otherwise walk
    # every object of the run: 0.1 s of a 0.65 s run of 500 flights. (Not in ``main``: a
    # program calling it many times must keep collecting its garbage.)
    gc.freeze()
    return code
