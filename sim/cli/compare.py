"""``deconflict compare``: the statistics of two or more run folders side by side (a table,
and a CSV and figure in a folder), or two variants of one scenario over paired
replications, with 95% intervals of their difference."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sim.cli.core import (
    EXIT_OK,
    UsageError,
    add_allow_outside_option,
    load,
    refuse_overwriting_inputs,
    resource_limits,
)
from sim.io.formats import FIGURE_FORMATS, MAX_NAME
from sim.model.scenario import Scenario, ScenarioError
from sim.model.units import DAY


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``compare`` and its options."""
    parser = commands.add_parser(
        "compare", help="compare run folders side by side, or two variants of a scenario "
        "over paired replications",
        description="deconflict compare RUN_A RUN_B [...]: the statistics of run folders side "
        "by side (a table, and a figure in --out). deconflict compare SCENARIO.yaml --b "
        "KEY=VALUE: two variants over paired replications, with 95% CIs of the difference.")
    parser.add_argument("inputs", nargs="+", metavar="RUN_DIR|SCENARIO.yaml")
    add_allow_outside_option(parser)
    parser.add_argument("--out", type=Path, help="run folders: where to write the table and "
                        "figure (default compare-A-vs-B beside the first run folder)")
    parser.add_argument("--format", choices=FIGURE_FORMATS,
                        help="run folders: figure format (default png)")
    parser.add_argument("--force", action="store_true",
                        help="run folders: replace a folder deconflict wrote before")
    parser.add_argument("--a", dest="a", action="append", default=[], metavar="KEY=VALUE",
                        help="scenario: an override for variant A (repeat for more)")
    parser.add_argument("--b", dest="b", action="append", default=[], metavar="KEY=VALUE",
                        help='scenario: an override for variant B, e.g. hotline.enabled=false')
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="scenario: an override for both variants")
    parser.add_argument("--duration", help='scenario: replace the duration, e.g. "7 d"')
    parser.add_argument("--replications", type=int, default=20,
                        help="scenario: paired replications (seeds from the scenario's seed)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="scenario: processes running replications (default: every core)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Compare run folders, or the variants of one scenario file."""
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
    from sim.io.read import load_run_folder
    from sim.io.write import check_target, write_folder
    from sim.present.plots import compare_figure, figure_bytes
    from sim.present.tables import compare_csv, compare_table, text

    folders = [load_run_folder(p, resource_limits(args)) for p in paths]
    labels = [f.label for f in folders]
    if len(set(labels)) < len(labels):
        labels = [str(f.path.resolve()) for f in folders]
    own = args.out is None  # the default folder is the command's own: replaced in place
    out = args.out or resolved[0].parent / ("compare-" + "-vs-".join(
        f.label for f in folders))[:MAX_NAME]
    refuse_overwriting_inputs(out, paths)
    check_target(out, args.force, own)
    table = compare_table([f.stats for f in folders], labels)
    figure = compare_figure(folders, labels)
    figure_format = args.format or "png"
    write_folder(out, {f"compare.{figure_format}": figure_bytes(figure, figure_format),
                       "compare.csv": compare_csv([f.stats for f in folders], labels)},
                 force=args.force, kind="compare", own=own)
    print("\n".join(text(table)))
    print(f"table and figure -> {out}")
    return EXIT_OK


def _compare_variants(args: argparse.Namespace) -> int:
    from sim.analysis.compare import compare

    writing = [option for option, given in (("--out", args.out is not None),
                                             ("--format", args.format is not None),
                                             ("--force", args.force)) if given]
    if writing:
        # Refused rather than ignored: a user who asks for a folder expects one.
        verb = "writes" if len(writing) == 1 else "write"
        raise UsageError(f"{args.scenario}: {', '.join(writing)} {verb} the comparison of "
                         "run folders; the variants of a scenario are printed only "
                         "(redirect the output to keep it)")
    if not 2 <= args.replications <= 10_000:
        raise UsageError("--replications must be from 2 to 10000")
    if not args.a and not args.b:
        raise UsageError(f"{args.scenario}: give the variants: --a KEY=VALUE and/or --b "
                         "KEY=VALUE, such as --b hotline.enabled=false")
    a = _variant(args, "a")
    b = _variant(args, "b")
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


def _variant(args: argparse.Namespace, side: str) -> Scenario:
    """The scenario with ``--set`` and one side's ``--a``/``--b`` overrides; an override in
    error is named by the option it was given with."""
    mine = getattr(args, side)
    try:
        scenario, _ = load(argparse.Namespace(**{**vars(args),
                                                  "overrides": [*args.overrides, *mine]}))
    except ScenarioError as exc:
        raise ScenarioError([replace(p, message=_named(p.message, mine, f"--{side}"))
                             for p in exc.problems]) from None
    return scenario


def _named(message: str, assignments: Sequence[str], option: str) -> str:
    for assignment in assignments:
        message = message.replace(f"override {assignment!r}", f"{option} {assignment!r}")
    return message
