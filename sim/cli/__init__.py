"""The ``deconflict`` command line: parse arguments, call the library, print, set exit codes.

Exit codes: 0 success; 2 bad input or usage (a message naming the file and key path, no
traceback, nothing written); 1 an internal error.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import yaml

from sim import __version__
from sim.analysis.calibrate import CalibrationError, calibrate
from sim.analysis.compare import compare, replicate
from sim.analysis.metrics import run_stats, summarize
from sim.engine.simulation import run as run_scenario
from sim.io.read import RUN_FILES, RunFolderError, load_run_folder
from sim.io.write import (
    FIGURE_FORMATS,
    MAX_NAME,
    OutputError,
    check_target,
    default_run_dir,
    write_folder,
    write_run,
    write_text_atomically,
)
from sim.model.geography import Geography, build_geography
from sim.model.limits import LIMITS, Limits, set_limits
from sim.model.scenario import Scenario, ScenarioError, apply_override, load_scenario, read_yaml
from sim.model.units import DAY, HOUR, QuantityError, parse_quantity
from sim.present.tables import (
    compare_csv,
    compare_table,
    miss_distance_table,
    rates_table,
    replications_table,
    reported_table,
    severity_table,
    sweep_table,
    text,
)
from sim.study.executors import LOCAL, ExecutorError
from sim.study.grid import (
    GridError,
    SweepPlan,
    load_sweep_file,
    merge_axes,
    parse_grid_argument,
    plan_sweep,
)
from sim.study.store import STORE_NAME, Mode, StoreError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


def _add_limit_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", dest="limits", action="append", default=[],
                        metavar="NAME=VALUE", help="raise or lower a resource limit, e.g. "
                        f"--limit waypoints=10000000 (names: {', '.join(LIMITS)}; see "
                        "README, Limits)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deconflict", description="Airspace deconfliction simulator: fly a scenario "
        "and count every violation episode exactly.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write a run folder")
    run.add_argument("scenario", metavar="SCENARIO.yaml")
    run.add_argument("--out", type=Path, help="run folder (default runs/<name>-seed<seed>)")
    run.add_argument("--seed", type=int, help="replace the scenario's seed")
    run.add_argument("--duration", help='replace the scenario\'s duration, e.g. "7 d"')
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help='override a key, e.g. hotline.latency="2 h"')
    run.add_argument("--force", action="store_true", help="replace a non-empty run folder")
    run.add_argument("--replications", type=int, default=0,
                     help="also run N replications (seeds spawned from the scenario's) and "
                     "add their means and 95%% bootstrap intervals to stats.json")
    run.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="processes running replications (default: every core)")

    calibrate = commands.add_parser(
        "calibrate", help="find a party's compliance that gives a reported violation rate")
    calibrate.add_argument("scenario", metavar="SCENARIO.yaml")
    calibrate.add_argument("--rule", required=True, help="the rule id, e.g. opposite_tracks")
    calibrate.add_argument("--party", required=True, help="the party whose knob is set")
    calibrate.add_argument("--per-day", type=float, required=True, dest="per_day",
                           help="the target: episodes a day the party takes part in")
    calibrate.add_argument("--replications", type=int, default=10,
                           help="seeded replications per trial value (default 10)")
    calibrate.add_argument("--duration", help="replace the scenario's duration, e.g. \"7 d\"")
    calibrate.add_argument("--set", dest="overrides", action="append", default=[],
                           metavar="KEY=VALUE", help="override a key before calibrating")
    calibrate.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                           help="processes running replications (default: all cores)")
    calibrate.add_argument("--out", type=Path, help="the calibrated scenario (default "
                           "<name>.calibrated.yaml in the current folder)")
    calibrate.add_argument("--force", action="store_true", help="replace an existing --out")

    compare = commands.add_parser(
        "compare", help="compare run folders side by side, or two variants of a scenario "
        "over paired replications",
        description="deconflict compare RUN_A RUN_B [...]: the statistics of run folders side "
        "by side (a table, and a figure in --out). deconflict compare SCENARIO.yaml --b "
        "KEY=VALUE: two variants over paired replications, with 95%% CIs of the difference.")
    compare.add_argument("inputs", nargs="+", metavar="RUN_DIR|SCENARIO.yaml")
    compare.add_argument("--out", type=Path, help="run folders: where to write the table and "
                         "figure (default compare-A-vs-B beside the first run folder)")
    compare.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format")
    compare.add_argument("--force", action="store_true", help="replace a non-empty --out")
    compare.add_argument("--a", dest="a", action="append", default=[], metavar="KEY=VALUE",
                         help="scenario: an override for variant A (repeat for more)")
    compare.add_argument("--b", dest="b", action="append", default=[], metavar="KEY=VALUE",
                         help='scenario: an override for variant B, e.g. hotline.enabled=false')
    compare.add_argument("--set", dest="overrides", action="append", default=[],
                         metavar="KEY=VALUE", help="scenario: an override for both variants")
    compare.add_argument("--duration", help='scenario: replace the duration, e.g. "7 d"')
    compare.add_argument("--replications", type=int, default=20,
                         help="scenario: paired replications (seeds from the scenario's seed)")
    compare.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                         help="scenario: processes running replications (default: every core)")

    plot = commands.add_parser("plot", help="draw the figures of a run or sweep folder")
    plot.add_argument("run_dir", metavar="RUN_DIR|SWEEP_DIR")
    plot.add_argument("--out", type=Path, help="where to write them (default RUN_DIR/plots)")
    plot.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format")
    plot.add_argument("--force", action="store_true", help="replace a non-empty --out")
    plot.add_argument("--metric", dest="metrics", action="append", default=[], metavar="NAME",
                      help="a sweep: a metric to draw (repeat; default: the sweep's choice, "
                      "or each rule's episodes a day)")

    report = commands.add_parser("report", help="write a run folder's report: one HTML page")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument("--out", type=Path, help="the page (default RUN_DIR/report.html)")
    report.add_argument("--force", action="store_true", help="replace an existing --out")

    sweep = commands.add_parser(
        "sweep", help="run a grid of scenario variants x replications into a results store",
        description="deconflict sweep SCENARIO.yaml --grid KEY=V1,V2 [--grid ...] "
        "--replications N: every grid point runs the same replication seeds (common random "
        "numbers); each finished row is committed to OUT/results.sqlite, so a killed sweep "
        "resumes where it stopped. A sweep file (scenarios/sweeps/) gives all of this in one "
        "place; options given here replace its values.")
    sweep.add_argument("scenario", metavar="SCENARIO.yaml|SWEEP.yaml")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                       help='a grid axis, e.g. --grid hotline.latency="0 min","2 h" (repeat '
                       "for more axes; the grid is their product)")
    sweep.add_argument("--replications", type=int,
                       help="replications per grid point (default: the sweep file's, or 20)")
    sweep.add_argument("--out", type=Path, help="the sweep folder (default sweeps/<name>)")
    sweep.add_argument("--seed", type=int, help="replace the scenario's seed (the root of the "
                       "replication seeds)")
    sweep.add_argument("--duration", help='replace the scenario\'s duration, e.g. "7 d"')
    sweep.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a key at every grid point")
    sweep.add_argument("--metric", dest="metrics", action="append", default=[],
                       metavar="NAME", help="a metric to print and plot first (repeat; "
                       "default: the sweep file's, or each rule's episodes a day)")
    sweep.add_argument("--workers", type=int, help="local processes, or LocalCluster workers "
                       "with --scheduler local (default: every core)")
    sweep.add_argument("--dashboard", metavar="HOST:PORT",
                       help="with --scheduler local: serve Dask's dashboard there, e.g. "
                       "127.0.0.1:8787 (off by default)")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT|local",
                       help="run on a Dask distributed cluster: a scheduler's address, or "
                       "local for a LocalCluster on this machine")
    again = sweep.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="the store was made for another "
                       "definition: keep its rows that still apply, run the rest")
    again.add_argument("--restart", action="store_true", help="discard the store and start over")

    validate = commands.add_parser("validate", help="check a scenario and summarise it")
    validate.add_argument("scenario", metavar="SCENARIO.yaml")
    validate.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="KEY=VALUE", help="override a key before checking")
    for command in commands.choices.values():
        _add_limit_option(command)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that every write cleans up as on Ctrl-C."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
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


def _interrupted(exc: KeyboardInterrupt) -> int:
    """The exit code of a command stopped by SIGINT (130) or SIGTERM (143)."""
    return 143 if isinstance(exc, Terminated) else 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``deconflict`` and ``python -m sim``; returns the exit code."""
    args = _parser().parse_args(argv)
    with _terminate_as_interrupt():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "plot":
            return _plot(args)
        if args.command == "report":
            return _report(args)
        if args.command == "sweep":
            return _sweep(args)
        return _validate(args)
    except (ScenarioError, OutputError, UsageError, CalibrationError, RunFolderError,
            GridError, StoreError, ExecutorError) as exc:
        print(f"deconflict {args.command}: error:", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  {line}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        print("deconflict: interrupted; every output is as it was, or whole if its writing "
              "had finished", file=sys.stderr)
        return _interrupted(exc)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 1, no traceback
        print(f"deconflict {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "  This is a bug; please report it with the scenario. Set DECONFLICT_DEBUG=1 "
              "for the traceback.", file=sys.stderr)
        if os.environ.get("DECONFLICT_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL


def _load(args: argparse.Namespace) -> tuple[Scenario, Geography]:
    duration = getattr(args, "duration", None)
    if duration is not None:
        try:
            parse_quantity(duration, "duration")
        except QuantityError as exc:
            raise UsageError(f"--duration {duration!r}: {exc}") from None
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed < 2**63:
        raise UsageError(f"--seed {seed}: write a whole number from 0 to 2**63-1")
    scenario = load_scenario(args.scenario, args.overrides, seed=seed, duration=duration,
                             limits=_limits(args))
    return scenario, build_geography(scenario)


def _limits(args: argparse.Namespace) -> Limits:
    """The resource limits of ``--limit`` (the defaults when none is given)."""
    try:
        return set_limits(getattr(args, "limits", []))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    if not 0 <= args.replications <= 10_000:
        raise UsageError(f"--replications {args.replications}: give a number from 0 to 10000")
    scenario, geography = _load(args)
    if args.out is not None:
        check_target(args.out, args.force)  # refuse before spending time on the run
    result = run_scenario(scenario, geography)
    reps = (replicate(scenario, args.replications, max(1, args.workers))
            if args.replications else None)
    out = args.out or default_run_dir(result)
    stats = run_stats(result, reps)
    summary = summarize(result)
    write_run(result, out, force=args.force, replications=reps, stats=stats, summary=summary)
    print(f"{scenario.name}: seed {scenario.seed}, {scenario.duration_s / DAY:g} d, "
          f"{len(result.flights)} flights -> {out}")
    tables = [rates_table(stats), severity_table(stats), miss_distance_table(stats),
              reported_table(summary), replications_table(stats, brief=True)]
    for table in tables:
        if table is not None and table.rows:
            print()
            print("\n".join(text(table)))
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    if not 0.0 <= args.per_day < math.inf or not 1 <= args.replications <= 10_000:
        raise UsageError("--per-day must be 0 or more and --replications from 1 to 10000")
    scenario, _ = _load(args)
    out = args.out or Path(f"{Path(args.scenario).stem}.calibrated.yaml")
    if out.exists() and not args.force:
        raise OutputError(f"{out}: exists; use --force to replace it, or choose another --out")

    def progress(compliance: float, rate: float) -> None:
        print(f"  compliance {compliance:.4f}: {rate:.3f} a day", file=sys.stderr, flush=True)

    found = calibrate(scenario, args.party, args.rule, args.per_day, args.replications,
                      progress=progress, workers=max(1, args.workers))
    line = (f"{found.party} compliance {found.compliance:.3f} (95% CI {found.compliance_low:.3f}"
            f" to {found.compliance_high:.3f}) gives {found.rule} {found.rate_per_day:.2f} "
            f"± {found.rate_half_width:.2f} a day (target {found.target_per_day:g}) over "
            f"{found.replications} replications of {found.days:g} d")
    document = apply_override(read_yaml(args.scenario, _limits(args)),
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


def _refuse_overwriting_inputs(out: Path, inputs: Sequence[Path]) -> None:
    """An output may not be, or contain, a run folder it was drawn from, nor be one of
    its files: ``--force`` replaces outputs, never the data."""
    target = out.resolve()
    for folder in inputs:
        source = folder.resolve()
        if target == source or target in source.parents or (
                target.parent == source and target.name in RUN_FILES):
            raise UsageError(f"--out {out}: would replace the run folder {folder} or one of "
                             "its files; choose another --out")


def _plot(args: argparse.Namespace) -> int:
    from sim.present.plots import run_figures  # matplotlib: only for the commands that draw

    if (Path(args.run_dir) / STORE_NAME).is_file():
        return _plot_sweep(args)
    if args.metrics:
        raise UsageError("--metric: only for a sweep folder (one holding results.sqlite)")
    folder = load_run_folder(args.run_dir, _limits(args))
    own = args.out is None  # RUN_DIR/plots is the command's own folder: redrawn in place
    out = args.out or folder.path / "plots"
    _refuse_overwriting_inputs(out, [folder.path])
    check_target(out, args.force or own)
    _write_figures(run_figures(folder, build_geography(folder.scenario)), out, own, args)
    return EXIT_OK


def _write_figures(figures: dict[str, Any], out: Path, own: bool, args: argparse.Namespace
                   ) -> None:
    """Write figures into ``out`` whole; the command's own folder (``own``) is redrawn in
    place, keeping the figures of the other formats drawn there before."""
    from sim.present.plots import figure_bytes

    files: dict[str, str | bytes] = {}
    if own and out.is_dir():
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir())
                 if p.is_file() and p.suffix != f".{args.format}"}
    files.update({f"{name}.{args.format}": figure_bytes(fig, args.format)
                  for name, fig in figures.items()})
    write_folder(out, files, force=args.force or own)
    print(f"{len(figures)} figures -> {out}: " + ", ".join(figures))


def _plot_sweep(args: argparse.Namespace) -> int:
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
    check_target(out, args.force or own)
    metrics = tuple(args.metrics) or default_metrics(stored)
    _write_figures(sweep_figures(stored, metrics), out, own, args)
    if not stored.complete:
        print(f"note: the sweep is unfinished ({len(stored.rows)} of "
              f"{len(stored.points) * stored.replications} rows)", file=sys.stderr)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from sim.present.report import report_html

    folder = load_run_folder(args.run_dir, _limits(args))
    out = args.out or folder.path / "report.html"
    _refuse_overwriting_inputs(out, [folder.path])
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name such as report.html")
    if args.out is not None and out.exists() and not args.force:
        raise OutputError(f"{out}: exists; use --force to replace it, or choose another --out")
    write_text_atomically(out, report_html(folder, build_geography(folder.scenario)))
    print(f"report -> {out}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.inputs]
    if len(paths) == 1 and not paths[0].is_dir():
        args.scenario = args.inputs[0]
        return _compare_variants(args)
    if len(paths) < 2:
        raise UsageError(f"{paths[0]}: give two or more run folders to compare, or one "
                         "scenario file with --b KEY=VALUE")
    variant_options = [o for o in ("a", "b", "overrides") if getattr(args, o)]
    if variant_options or args.duration:
        raise UsageError("--a, --b, --set and --duration compare variants of one scenario "
                         "file; run folders are compared as they are")
    resolved = [p.resolve() for p in paths]
    twice = sorted({str(p) for p in paths if resolved.count(p.resolve()) > 1})
    if twice:
        raise UsageError(f"{twice[0]}: given more than once; compare different run folders")
    from sim.present.plots import compare_figure, figure_bytes

    folders = [load_run_folder(p, _limits(args)) for p in paths]
    labels = [f.label for f in folders]
    if len(set(labels)) < len(labels):
        labels = [str(f.path.resolve()) for f in folders]
    own = args.out is None  # the default folder is the command's own: replaced in place
    out = args.out or resolved[0].parent / ("compare-" + "-vs-".join(
        f.label for f in folders))[:MAX_NAME]
    _refuse_overwriting_inputs(out, paths)
    check_target(out, args.force or own)
    table = compare_table([f.stats for f in folders], labels)
    figure = compare_figure(folders, labels)
    write_folder(out, {f"compare.{args.format}": figure_bytes(figure, args.format),
                       "compare.csv": compare_csv([f.stats for f in folders], labels)},
                 force=args.force or own)
    print("\n".join(text(table)))
    print(f"table and figure -> {out}")
    return EXIT_OK


def _compare_variants(args: argparse.Namespace) -> int:
    if not 2 <= args.replications <= 10_000:
        raise UsageError("--replications must be from 2 to 10000")
    if not args.a and not args.b:
        raise UsageError(f"{args.scenario}: give the variants: --a KEY=VALUE and/or --b "
                         "KEY=VALUE, such as --b hotline.enabled=false")
    base = args.overrides
    a, _ = _load(argparse.Namespace(**{**vars(args), "overrides": [*base, *args.a]}))
    b, _ = _load(argparse.Namespace(**{**vars(args), "overrides": [*base, *args.b]}))
    if a.seed != b.seed:
        raise UsageError("--a/--b: the variants must share a seed (replications are paired "
                         "by seed); set it for both with --set seed=N")
    found = compare(a, b, args.replications, max(1, args.workers))
    length = f"{a.duration_s / DAY:g} d" if a.duration_s == b.duration_s else \
        f"{a.duration_s / DAY:g} d (A) and {b.duration_s / DAY:g} d (B)"
    print(f"{a.name}: A = {' '.join(args.a) or 'as written'}; B = "
          f"{' '.join(args.b) or 'as written'}; {args.replications} paired replications of "
          f"{length} (a day; 95% CI of B - A; sign-test p)")
    print(f"  {'metric':<30} {'A':>9} {'B':>9} {'B - A':>9}  {'95% CI':<21} {'p':>7}")
    for d in found:
        print(f"  {d.metric:<30} {d.mean_a:>9.3f} {d.mean_b:>9.3f} {d.difference:>+9.3f}  "
              f"[{d.low:+.3f}, {d.high:+.3f}]".ljust(72) + f" {d.p_sign:>7.2g}")
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from sim.study.sweep import load_sweep, run_sweep

    plan, out = _sweep_plan(args)
    if args.scheduler is not None and args.scheduler != LOCAL and \
            not args.scheduler.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        raise UsageError(f"--scheduler {args.scheduler}: give a Dask scheduler address such "
                         "as tcp://10.0.0.5:8786, or local")
    if args.dashboard is not None and args.scheduler != LOCAL:
        raise UsageError(f"--dashboard {args.dashboard}: only a local cluster's dashboard is "
                         "served from here (with --scheduler local); a real cluster's is its "
                         "scheduler's business")
    if args.dashboard is not None and not re.fullmatch(r"[\w.\-\[\]:]*:\d{1,5}",
                                                        args.dashboard):
        raise UsageError(f"--dashboard {args.dashboard}: give HOST:PORT, e.g. 127.0.0.1:8787")
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    if not 1 <= workers <= 1024:
        raise UsageError(f"--workers {workers}: give a number from 1 to 1024")
    mode: Mode = "resume" if args.resume else "restart" if args.restart else "auto"
    where = (f"Dask at {args.scheduler}" if args.scheduler not in (None, LOCAL) else
             f"a Dask LocalCluster of {workers}" if args.scheduler == LOCAL else
             f"{workers} process{'es' if workers > 1 else ''}")
    print(f"{plan.name}: {len(plan.points)} grid points x {plan.replications} replications = "
          f"{plan.size} rows, {plan.points[0].scenario.duration_s / DAY:g} d each, on {where}"
          f" -> {out}", flush=True)
    progress = RowProgress("sweep")
    try:
        outcome = run_sweep(plan, out, workers=workers, scheduler=args.scheduler, mode=mode,
                            dashboard=args.dashboard,
                            progress=progress)
    except KeyboardInterrupt as exc:
        progress.close()
        print(f"deconflict sweep: interrupted; the finished rows are saved in {out / STORE_NAME}"
              "; run the same command again to finish", file=sys.stderr)
        return _interrupted(exc)
    finally:
        progress.close()
    said = f"ran {outcome.ran} rows, {outcome.reused} were already in the store"
    if outcome.dropped:
        said += f", dropped {outcome.dropped} of the old definition"
    print(f"{said}: {out / STORE_NAME}, summary {out / 'summary.csv'}")
    stored = load_sweep(out)
    print()
    print("\n".join(text(sweep_table(stored, plan.metrics or None))))
    print(f"\nplot it: deconflict plot {out}")
    return EXIT_OK


def _sweep_plan(args: argparse.Namespace) -> tuple[SweepPlan, Path]:
    """The plan from a scenario or sweep file and the command line's options."""
    axes = [parse_grid_argument(a) for a in args.grid]
    for value, option in ((args.seed, "--seed"), (args.replications, "--replications")):
        if value is not None and value < 0:
            raise UsageError(f"{option} {value}: give a whole number, 0 or more")
    limits = _limits(args)
    document = read_yaml(args.scenario, limits)
    is_sweep_file = isinstance(document, dict) and "grid" in document  # no scenario key
    if is_sweep_file:
        spec = load_sweep_file(args.scenario, limits)
        scenario_file: str | Path = spec.scenario
        all_axes = merge_axes(spec.axes, axes)
        replications = next((r for r in (args.replications, spec.replications)
                             if r is not None), 20)
        overrides = [*spec.overrides, *args.overrides]
        seed = args.seed if args.seed is not None else spec.seed
        duration = args.duration or spec.duration
        metrics = args.metrics or list(spec.metrics)
        default_out = Path("sweeps") / Path(args.scenario).stem
    else:
        scenario_file, all_axes = args.scenario, tuple(axes)
        replications = 20 if args.replications is None else args.replications
        overrides, seed, duration, metrics = args.overrides, args.seed, args.duration, \
            args.metrics
        default_out = None
    if duration is not None:
        try:
            parse_quantity(duration, "duration")
        except QuantityError as exc:
            raise UsageError(f"--duration {duration!r}: {exc}") from None
    plan = plan_sweep(scenario_file, all_axes, replications, overrides=overrides, seed=seed,
                      duration=duration, metrics=metrics, limits=limits)
    out = args.out or default_out or Path("sweeps") / plan.name
    return plan, out


# Progress of a sweep on stderr: a rich bar with rate and time left on a terminal;
# elsewhere (a log, CI) a quiet line at every tenth of the rows.
class RowProgress:
    """A ``(done, total)`` callback that shows how far a sweep is; ``close()`` when done."""

    def __init__(self, label: str, stream: TextIO | None = None,
                 terminal: bool | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.started = time.monotonic()
        self.first: int | None = None  # rows done before this run: not part of the rate
        self.last_tenth = -1
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Show that ``done`` of ``total`` rows are finished."""
        if self.first is None:
            self.first = done
            self.started = time.monotonic()
            if self.terminal:
                self._start_bar(done, total)
        if self.bar is not None:
            rate = self.rate_per_minute(done)
            self.bar.update(self.task, completed=done, total=total,
                            rate="" if rate is None else f"{rate:.1f}/min")
            return
        tenth = 10 * done // total if total else 10
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            print(f"{self.label}: {self._line(done, total)}", file=self.stream, flush=True)

    def _start_bar(self, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), TimeRemainingColumn(),
                            console=Console(file=self.stream), transient=False)
        self.task = self.bar.add_task(self.label, total=total, completed=done, rate="")
        self.bar.start()

    def rate_per_minute(self, done: int) -> float | None:
        """Rows a minute computed by this run so far (None before the first); rows found
        done in the store do not count, unlike rich's own speed column."""
        elapsed = time.monotonic() - self.started
        ran = done - (self.first or 0)
        return 60.0 * ran / elapsed if ran > 0 and elapsed > 0 else None

    def _line(self, done: int, total: int) -> str:
        percent = 100.0 * done / total if total else 100.0
        text = f"{done}/{total} rows ({percent:.0f}%)"
        rate = self.rate_per_minute(done)
        if rate is not None:
            text += f", {rate:.1f} a minute"
            if done < total:
                text += f", about {_duration((total - done) / rate * 60.0)} left"
        return text

    def close(self) -> None:
        """Stop the bar (the last state stays on screen)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _validate(args: argparse.Namespace) -> int:
    scenario, geography = _load(args)
    print(describe(scenario, geography))
    return EXIT_OK


def describe(scenario: Scenario, geography: Geography) -> str:
    """A one-screen summary of a valid scenario."""
    frame = geography.frame
    lines = [f"{scenario.file}: valid",
             f"  scenario  {scenario.name} (seed {scenario.seed}, "
             f"{scenario.duration_s / HOUR:g} h"
             + (f", from {scenario.start})" if scenario.start else ")"),
             f"  frame     centre {frame.center_lon:.4f} E, {frame.center_lat:.4f} N"]
    if geography.centerline is not None and scenario.corridor is not None:
        length = geography.centerline.geometry().length / 1000.0
        name = scenario.corridor.centerline if isinstance(scenario.corridor.centerline, str) \
            else "custom"
        lines.append(f"  corridor  {name}, {length:.0f} km long, half width "
                     f"{scenario.corridor.half_width_m / 1000.0:.1f} km")
    for lane in geography.lanes:
        lines.append(f"  lane      {lane.lane.id}: {lane.lane.party}, offset "
                     f"{lane.lane.offset_m / 1000.0:+.1f} km, {lane.lane.direction}")
    for party in scenario.parties:
        count = sum(1 for f in scenario.flights if f.party == party)
        lines.append(f"  party     {party}: {count} explicit flights")
    lines.append(f"  zones     {len(scenario.zones)}"
                 + (f" ({', '.join(z.id for z in scenario.zones[:8])}"
                    + (", ..." if len(scenario.zones) > 8 else "") + ")" if scenario.zones
                    else ""))
    for rule in scenario.rules:
        lines.append(f"  rule      {rule.id}: {rule.type}")
    hotline = scenario.hotline
    per = f"{len(hotline.pattern_s)} calls" if len(hotline.pattern_s) > 1 else "a call"
    lines.append("  hotline   " + (f"from {hotline.first_call_s / HOUR:g} h, {per} every "
                                   f"{hotline.interval_s / HOUR:g} h, latency "
                                   f"{hotline.latency_s / 60:g} min, loss {hotline.loss:g}, "
                                   f"ad-hoc calls {hotline.adhoc_probability:g}"
                                   if hotline.enabled else "off"))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
