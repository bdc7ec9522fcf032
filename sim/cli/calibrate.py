"""``deconflict calibrate``: find the compliance of one party that gives a target rate of
reported violations of one rule, and write the scenario with that compliance set."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import yaml

from sim import __version__
from sim.cli.core import EXIT_OK, UsageError, add_allow_outside_option, load, resource_limits
from sim.model.scenario import apply_override, read_yaml


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``calibrate`` and its options."""
    parser = commands.add_parser(
        "calibrate", help="find a party's compliance that gives a reported violation rate")
    parser.add_argument("scenario", metavar="SCENARIO.yaml")
    add_allow_outside_option(parser)
    parser.add_argument("--rule", required=True, help="the rule id, e.g. opposite_tracks")
    parser.add_argument("--party", required=True, help="the party whose knob is set")
    parser.add_argument("--per-day", type=float, required=True, dest="per_day",
                        help="the target: episodes a day the party takes part in")
    parser.add_argument("--replications", type=int, default=10,
                        help="seeded replications per trial value (default 10)")
    parser.add_argument("--duration", help="replace the scenario's duration, e.g. \"7 d\"")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a key before calibrating")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes running replications (default: all cores)")
    parser.add_argument("--out", type=Path, help="the calibrated scenario (default "
                        "<name>.calibrated.yaml in the current folder)")
    parser.add_argument("--force", action="store_true",
                        help="replace a calibrated scenario deconflict wrote")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Calibrate, print the finding and write the calibrated scenario."""
    from sim.analysis.calibrate import calibrate  # imported here: other commands start without
    from sim.io.write import check_file_target, write_text_atomically

    if not 0.0 <= args.per_day < math.inf or not 1 <= args.replications <= 10_000:
        raise UsageError("--per-day must be 0 or more and --replications from 1 to 10000")
    scenario, _ = load(args)
    out = args.out or Path(f"{Path(args.scenario).stem}.calibrated.yaml")
    check_file_target(out, args.force)

    def progress(compliance: float, rate: float) -> None:
        print(f"  compliance {compliance:.4f}: {rate:.3f} a day", file=sys.stderr, flush=True)

    found = calibrate(scenario, args.party, args.rule, args.per_day, args.replications,
                      progress=progress, workers=max(1, args.workers))
    line = (f"{found.party} compliance {found.compliance:.3f} (95% CI {found.compliance_low:.3f}"
            f" to {found.compliance_high:.3f}) gives {found.rule} {found.rate_per_day:.2f} "
            # A rate's interval stops at zero (the t interval would not, for a rare rule).
            f"(95% CI {max(0.0, found.rate_per_day - found.rate_half_width):.2f} to "
            f"{found.rate_per_day + found.rate_half_width:.2f}) a day (target "
            f"{found.target_per_day:g}) over "
            f"{found.replications} replications of {found.days:g} d")
    document = apply_override(read_yaml(args.scenario, resource_limits(args)),
                              f"parties.{found.party}.compliance="
                              f"{round(found.compliance, 4)!r}")
    for assignment in args.overrides:
        document = apply_override(document, assignment)
    text = (f"# Calibrated by deconflict calibrate ({__version__}): {line}.\n"
            + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))
    write_text_atomically(out, text)
    print(line)
    print(f"calibrated scenario: {out}")
    return EXIT_OK
