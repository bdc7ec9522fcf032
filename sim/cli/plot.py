"""``deconflict plot``: draw the figures of a run folder (the map, violations a day, miss
distances, time in violation, the hotline), or of a sweep folder (each metric against the
grid), into a folder of figure files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.core import EXIT_OK, UsageError, refuse_overwriting_inputs, resource_limits
from sim.io.formats import FIGURE_FORMATS
from sim.study.names import STORE_NAME


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``plot`` and its options."""
    parser = commands.add_parser("plot", help="draw the figures of a run or sweep folder")
    parser.add_argument("run_dir", metavar="RUN_DIR|SWEEP_DIR")
    parser.add_argument("--out", type=Path,
                        help="where to write them (default RUN_DIR/plots)")
    parser.add_argument("--format", choices=FIGURE_FORMATS, default="png",
                        help="figure format")
    parser.add_argument("--force", action="store_true",
                        help="replace a folder deconflict wrote before")
    parser.add_argument("--metric", dest="metrics", action="append", default=[],
                        metavar="NAME", help="a sweep: a metric to draw (repeat; default: "
                        "the sweep's choice, or each rule's episodes a day)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Draw the figures of a run folder, or of a sweep folder."""
    # Imported here: matplotlib and the run folder's readers, only for the commands that draw.
    from sim.io.read import load_run_folder
    from sim.io.write import check_target
    from sim.model.geography import build_geography
    from sim.present.plots import run_figures

    if (Path(args.run_dir) / STORE_NAME).is_file():
        return _plot_sweep(args)
    if args.metrics:
        raise UsageError("--metric: only for a sweep folder (one holding results.sqlite)")
    folder = load_run_folder(args.run_dir, resource_limits(args))
    own = args.out is None  # RUN_DIR/plots is the command's own folder: redrawn in place
    out = args.out or folder.path / "plots"
    refuse_overwriting_inputs(out, [folder.path])
    check_target(out, args.force, own)
    _write_figures(run_figures(folder, build_geography(folder.scenario)), out, own, args)
    return EXIT_OK


def _write_figures(figures: dict[str, Any], out: Path, own: bool, args: argparse.Namespace
                   ) -> None:
    """Write figures into ``out`` whole; the command's own folder (``own``) is redrawn in
    place, keeping the figures of the other formats drawn there before."""
    from sim.io.write import write_folder
    from sim.present.plots import figure_bytes

    files: dict[str, str | bytes] = {}
    if own and out.is_dir():
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir())
                 if p.is_file() and p.suffix != f".{args.format}"}
    files.update({f"{name}.{args.format}": figure_bytes(fig, args.format)
                  for name, fig in figures.items()})
    write_folder(out, files, force=args.force, kind="plot", own=own)
    print(f"{len(figures)} figures -> {out}: " + ", ".join(figures))


def _plot_sweep(args: argparse.Namespace) -> int:
    from sim.io.write import check_target
    from sim.present.sweepplots import sweep_figures
    from sim.study.sweep import default_metrics, load_sweep

    stored = load_sweep(args.run_dir)
    unknown = [m for m in args.metrics if m not in stored.metrics]
    if unknown:
        raise UsageError(f"--metric {unknown[0]}: not a metric of this sweep; it has "
                         + ", ".join(stored.metrics))
    if not stored.rows:
        raise UsageError(f"{args.run_dir}: the sweep has no finished rows yet; nothing to plot")
    folder = Path(args.run_dir)
    own = args.out is None
    out = args.out or folder / "plots"
    target = out.resolve()
    if target == folder.resolve() or target in folder.resolve().parents:
        raise UsageError(f"--out {out}: would replace the sweep folder; choose another --out")
    check_target(out, args.force, own)
    metrics = tuple(args.metrics) or default_metrics(stored)
    _write_figures(sweep_figures(stored, metrics), out, own, args)
    if not stored.complete:
        print(f"note: the sweep is unfinished ({len(stored.rows)} of "
              f"{len(stored.points) * stored.replications} rows)", file=sys.stderr)
    return EXIT_OK
