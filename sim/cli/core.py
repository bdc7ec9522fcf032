"""What every command shares: exit codes, usage errors, ``--limit``, loading the scenario
named on the command line, SIGTERM as an interrupt, and the messages of a failed command.

Exit codes: 0 success; 2 bad input or usage (a message naming the file and key path, no
traceback, nothing written); 1 an internal error; 130 or 143 when stopped by SIGINT or
SIGTERM.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.model.errors import InputError
from sim.model.fields import MAX_SEED
from sim.model.geography import Geography, build_geography
from sim.model.limits import LIMITS, Limits, set_limits
from sim.model.ruletypes import PluginError
from sim.model.scenario import Scenario, load_scenario
from sim.model.units import QuantityError, parse_quantity
from sim.traffic.recorded_flights import recorded_flights
from sim.traffic.sorties import explicit_flights

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader left


class UsageError(InputError):
    """A command line that cannot be carried out as written."""


def add_limit_option(parser: argparse.ArgumentParser) -> None:
    """Give a command the ``--limit NAME=VALUE`` option (every command has it)."""
    parser.add_argument("--limit", dest="limits", action="append", default=[],
                        metavar="NAME=VALUE", help="raise or lower a resource limit, e.g. "
                        f"--limit waypoints=10000000 (names: {', '.join(LIMITS)}; see "
                        "README, Limits)")


def add_allow_outside_option(parser: argparse.ArgumentParser) -> None:
    """Give a command that loads a scenario the ``--allow-outside`` option."""
    parser.add_argument("--allow-outside", action="store_true",
                        help="let the scenario's recorded: entries read files outside its "
                        "folder (by default a scenario reads files in its folder or below)")


def resource_limits(args: argparse.Namespace) -> Limits:
    """The resource limits of ``--limit`` (the defaults when none is given)."""
    try:
        return set_limits(getattr(args, "limits", []))
    except ValueError as exc:  # the library's message names the assignment, not the flag
        raise UsageError(f"--limit {exc}".replace(
            "e.g. ", "e.g. --limit ")) from None


def check_duration(duration: str | None) -> None:
    """Refuse a ``--duration`` that is not a quantity of time."""
    if duration is not None:
        try:
            parse_quantity(duration, "duration")
        except QuantityError as exc:
            raise UsageError(f"--duration {duration!r}: {exc}") from None


def load(args: argparse.Namespace) -> tuple[Scenario, Geography]:
    """The scenario of ``args.scenario`` with the command's ``--set``, ``--seed`` and
    ``--duration`` applied (a command without one of them leaves it as written), and its
    geography; its recorded files are read here (``read_recorded_files``)."""
    duration = getattr(args, "duration", None)
    check_duration(duration)
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UsageError(f"--seed {seed}: write a whole number from 0 to 2**64-1")
    scenario = load_scenario(args.scenario, args.overrides, seed=seed, duration=duration,
                             limits=resource_limits(args),
                             allow_outside=getattr(args, "allow_outside", False))
    return scenario, read_recorded_files(scenario)


def read_recorded_files(scenario: Scenario) -> Geography:
    """The scenario's geography, its recorded files read and made flights (the reads are
    kept for the run), so that bad data stops a command before it runs or writes."""
    geography = build_geography(scenario)
    recorded_flights(scenario, geography, explicit_flights(scenario, geography))
    return geography


def refuse_overwriting_inputs(out: Path, inputs: Sequence[Path]) -> None:
    """An output may not be, or contain, a run folder it was drawn from, nor be one of
    its files: ``--force`` replaces outputs, never the data."""
    from sim.io.read import RUN_FILES

    target = out.resolve()
    for folder in inputs:
        source = folder.resolve()
        if target == source or target in source.parents or (
                target.parent == source and target.name in RUN_FILES):
            raise UsageError(f"--out {out}: would replace the run folder {folder} or one of "
                             "its files; choose another --out")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that every write cleans up as on Ctrl-C."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM raises ``Terminated`` (the main thread only: a
    signal handler cannot be set elsewhere, and the default then stays)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# A run builds millions of long-lived objects (YAML values, validated points, legs,
# episodes, rows) and few reference cycles: at Python's default thresholds the collector
# walks the growing heap again and again (a fifth of box-10000-24h's time). Collections
# stay on, only rarer; peak memory measured the same.
FEWER_COLLECTIONS = (100_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """While the command runs (and in the workers it forks), collect garbage rarely."""
    previous = gc.get_threshold()
    gc.set_threshold(*FEWER_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def interrupted(exc: KeyboardInterrupt) -> int:
    """The exit code of a command stopped by SIGINT (130) or SIGTERM (143)."""
    return 143 if isinstance(exc, Terminated) else 130


def run_command(args: argparse.Namespace) -> int:
    """Carry out a parsed command line with the handler its command set; return the exit
    code. A bad input is a message and exit 2, never a traceback."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InputError as exc:  # a scenario, run folder, option or output path in error
        print(f"deconflict {args.command}: error:", file=sys.stderr)
        for line in for_command_line(str(exc)).splitlines():
            print(f"  {line}", file=sys.stderr)
        return EXIT_INPUT
    except PluginError as exc:
        return _bug(f"deconflict {args.command}: error in a plugin: {exc}\n  This is the "
                    "plugin's bug, not the scenario's: report it to the plugin's authors.")
    except KeyboardInterrupt as exc:
        print("deconflict: interrupted; every output is as it was, or whole if its writing "
              "had finished", file=sys.stderr)
        return interrupted(exc)
    except BrokenPipeError:
        # The reader of our output went away (``| head``): not a bug, nothing to say. Point
        # stdout at /dev/null so that the interpreter's last flush cannot fail again, and
        # exit as a shell reports a command ended by SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 1, no traceback
        return _bug(f"deconflict {args.command}: internal error: {type(exc).__name__}: {exc}\n"
                    "  This is a bug; please report it with the scenario.")


def for_command_line(message: str) -> str:
    """A library message as the command line says it: its Python remedies (a ``Limits``
    field, ``allow_outside=True``, an override, a keyword argument such as
    ``force=True`` or ``mode='restart'``) named by the options that give them."""
    message = re.sub(r"Limits\((\w+)=N\)", r"--limit \1=N", message)
    message = message.replace("raise the limit: --limit", "raise the limit with --limit")
    message = message.replace("load it with allow_outside=True", "pass --allow-outside")
    message = re.sub(r"\bforce=True\b", "--force", message)
    message = re.sub(r"\bmode='(resume|restart)'", r"--\1", message)
    for python, option in _PHRASES:
        message = message.replace(python, option)
    # Arguments that begin a message or follow a file's name: "party=x: ...".
    message = re.sub(r"(?m)(^|: )override '", r"\1--set '", message)
    message = re.sub(r"(?m)(^|: )(party|rule|replications)=", r"\1--\2 ", message)
    message = re.sub(r"(?m)(^|: )per_day=", r"\1--per-day ", message)
    return re.sub(r"\bscheduler=", "--scheduler ", message)


# The library's words for what an option gives, and the option (sim.io, sim.study).
_PHRASES = (
    (" out folder", " --out"), (" out file", " --out"), ("fewer workers", "fewer --workers"),
    ("change that with seed=N", "change that with --seed"),
    ("one or more grid axes KEY=", "one or more --grid KEY="),
    ("per grid axis)", "per --grid)"),
)


def _bug(message: str) -> int:
    """Say what went wrong (the traceback only with DECONFLICT_DEBUG=1); exit 1."""
    print(f"{message} Set DECONFLICT_DEBUG=1 for the traceback.", file=sys.stderr)
    if os.environ.get("DECONFLICT_DEBUG"):
        traceback.print_exc()
    return EXIT_INTERNAL
