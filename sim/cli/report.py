"""``deconflict report``: write a run folder's report, one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.core import EXIT_OK, refuse_overwriting_inputs, resource_limits


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` and its options."""
    parser = commands.add_parser("report", help="write a run folder's report: one HTML page")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--out", type=Path, help="the page (default RUN_DIR/report.html)")
    parser.add_argument("--force", action="store_true",
                        help="replace a page deconflict wrote before")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the report of a run folder."""
    from sim.io.read import load_run_folder
    from sim.io.write import OutputError, check_file_target, write_text_atomically
    from sim.model.geography import build_geography
    from sim.present.report import report_html

    folder = load_run_folder(args.run_dir, resource_limits(args))
    out = args.out or folder.path / "report.html"
    refuse_overwriting_inputs(out, [folder.path])
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name such as report.html")
    if args.out is not None:  # the default page is the command's own, redrawn in place
        check_file_target(out, args.force)
    write_text_atomically(out, report_html(folder, build_geography(folder.scenario)))
    print(f"report -> {out}")
    return EXIT_OK
