"""``deconflict run``: fly one scenario, write its run folder and print its tables; with
``--replications N``, also N seeded replications and their means with 95% intervals."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sim.cli.core import EXIT_OK, UsageError, add_allow_outside_option, load
from sim.io.formats import EXPORT_FORMATS
from sim.model.units import DAY


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` and its options."""
    parser = commands.add_parser("run", help="run a scenario and write a run folder")
    parser.add_argument("scenario", metavar="SCENARIO.yaml")
    add_allow_outside_option(parser)
    parser.add_argument("--out", type=Path, help="run folder (default runs/<name>-seed<seed>)")
    parser.add_argument("--seed", type=int, help="replace the scenario's seed")
    parser.add_argument("--duration", help='replace the scenario\'s duration, e.g. "7 d"')
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help='override a key, e.g. hotline.latency="2 h"')
    parser.add_argument("--force", action="store_true",
                        help="replace a folder deconflict wrote before")
    parser.add_argument("--replications", type=int, default=0,
                        help="also run N replications (seeds spawned from the scenario's) and "
                        "add their means and 95%% bootstrap intervals to stats.json")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes running replications (default: every core)")
    parser.add_argument("--export-tracks", choices=EXPORT_FORMATS, metavar="FORMAT",
                        help="also write every flight's full 4D track as recorded tracks, "
                        "recorded-<party>.csv or .parquet (csv or parquet), which a "
                        "scenario's recorded: reads back")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the scenario and write its run folder."""
    # Imported here: the other commands (validate, schema) start without them.
    from sim.analysis.metrics import run_stats, summarize
    from sim.engine.simulation import run as run_scenario
    from sim.io.export import export_files
    from sim.io.write import check_target, default_run_dir, write_run
    from sim.present.tables import (
        interference_table,
        miss_distance_table,
        planning_table,
        rates_table,
        replications_table,
        reported_table,
        severity_table,
        text,
    )

    if not 0 <= args.replications <= 10_000:
        raise UsageError(f"--replications {args.replications}: give a number from 0 to 10000")
    scenario, geography = load(args)
    if args.out is not None:
        check_target(args.out, args.force)  # refuse before spending time on the run
    result = run_scenario(scenario, geography)
    reps = None
    if args.replications:
        from sim.analysis.compare import replicate  # its worker pools only when asked for

        reps = replicate(scenario, args.replications, max(1, args.workers))
    out = args.out or default_run_dir(result)
    stats = run_stats(result, reps)
    summary = summarize(result)
    extra = export_files(result, args.export_tracks) if args.export_tracks else None
    write_run(result, out, force=args.force, replications=reps, stats=stats, summary=summary,
              extra=extra)
    print(f"{scenario.name}: seed {scenario.seed}, {scenario.duration_s / DAY:g} d, "
          f"{len(result.flights)} flights -> {out}")
    tables = [rates_table(stats), severity_table(stats), miss_distance_table(stats),
              planning_table(summary), interference_table(summary, stats),
              reported_table(summary, stats),
              replications_table(stats, brief=True)]
    for table in tables:
        if table is not None and table.rows:
            print()
            print("\n".join(text(table)))
    return EXIT_OK
