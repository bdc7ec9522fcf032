"""``deconflict sweep``: run a grid of scenario variants, each over the same replication
seeds, into a results store that a killed sweep resumes from; print the summary table and
show progress on stderr."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sim.cli.core import (
    EXIT_OK,
    UsageError,
    add_allow_outside_option,
    check_duration,
    interrupted,
    read_recorded_files,
    resource_limits,
)
from sim.model.fields import MAX_SEED
from sim.model.scenario import read_yaml
from sim.model.units import DAY
from sim.study.names import LOCAL, STORE_NAME

if TYPE_CHECKING:
    from sim.study.grid import SweepPlan
    from sim.study.store import Mode


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sweep`` and its options."""
    parser = commands.add_parser(
        "sweep", help="run a grid of scenario variants x replications into a results store",
        description="deconflict sweep SCENARIO.yaml --grid KEY=V1,V2 [--grid ...] "
        "--replications N: every grid point runs the same replication seeds (common random "
        "numbers); each finished row is committed to OUT/results.sqlite, so a killed sweep "
        "resumes where it stopped. A sweep file (scenarios/sweeps/) gives all of this in one "
        "place; options given here replace its values.")
    parser.add_argument("scenario", metavar="SCENARIO.yaml|SWEEP.yaml")
    add_allow_outside_option(parser)
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                        help='a grid axis, e.g. --grid hotline.latency="0 min","2 h" (repeat '
                        "for more axes; the grid is their product)")
    parser.add_argument("--replications", type=int,
                        help="replications per grid point (default: the sweep file's, or 20)")
    parser.add_argument("--out", type=Path, help="the sweep folder (default sweeps/<name>)")
    parser.add_argument("--seed", type=int, help="replace the scenario's seed (the root of the "
                        "replication seeds)")
    parser.add_argument("--duration", help='replace the scenario\'s duration, e.g. "7 d"')
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a key at every grid point")
    parser.add_argument("--metric", dest="metrics", action="append", default=[],
                        metavar="NAME", help="a metric to print and plot first (repeat; "
                        "default: the sweep file's, or each rule's episodes a day)")
    parser.add_argument("--workers", type=int, help="local processes, or LocalCluster workers "
                        "with --scheduler local (default: every core)")
    parser.add_argument("--dashboard", metavar="HOST:PORT",
                        help="with --scheduler local: serve Dask's dashboard there, e.g. "
                        "127.0.0.1:8787 (off by default)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT|local",
                        help="run on a Dask distributed cluster: a scheduler's address, or "
                        "local for a LocalCluster on this machine")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="the store was made for another "
                       "definition: keep its rows that still apply, run the rest")
    again.add_argument("--restart", action="store_true", help="discard the store and start over")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the sweep into its store, then print its table."""
    # Imported here: the other commands start without the sweep machinery.
    from sim.present.tables import sweep_table, text
    from sim.study.sweep import load_sweep, run_sweep

    plan, out = _sweep_plan(args)
    for point in plan.points:  # a grid may vary the recorded entries
        if point.scenario.recorded:
            read_recorded_files(point.scenario)
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
        return interrupted(exc)
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
    from sim.study.grid import load_sweep_file, merge_axes, parse_grid_argument, plan_sweep

    axes = [parse_grid_argument(a) for a in args.grid]
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed {args.seed}: write a whole number from 0 to 2**64-1")
    if args.replications is not None and args.replications < 0:
        raise UsageError(f"--replications {args.replications}: give a whole number, 0 or more")
    limits = resource_limits(args)
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
    check_duration(duration)
    plan = plan_sweep(scenario_file, all_axes, replications, overrides=overrides, seed=seed,
                      duration=duration, metrics=metrics, limits=limits,
                      allow_outside=args.allow_outside)
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
