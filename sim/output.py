"""The run folder (SPEC §10): summary.json, events.csv, hotline.csv, zones.csv and
scenario.yaml, whole or not at all.

Files are written into a hidden sibling folder first and renamed into place in one
step; with ``--force`` an existing folder is moved aside only once the new one is
complete, and removed after the swap. An interrupted write leaves the old folder (or
nothing) and at most a hidden ``.NAME.partial-PID`` folder, never a half run folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sim.engine import Run
from sim.hotline import Hotline
from sim.metrics import summarize
from sim.records import EVENT_COLUMNS, Episode

MAX_NAME = 200  # leaves room for the hidden ".NAME.partial-PID" beside it within 255 bytes


class OutputError(Exception):
    """The run folder cannot be written where asked (exit code 2)."""


def default_run_dir(run: Run) -> Path:
    """``runs/<scenario-name>-seed<seed>`` (the name made safe for a folder name)."""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in run.scenario.name)
    return Path("runs") / f"{name.strip('.-') or 'scenario'}-seed{run.scenario.seed}"


def check_target(out: Path, force: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder without ``force``."""
    if len(out.name) > MAX_NAME:
        raise OutputError(f"{out}: the folder name is longer than {MAX_NAME} characters; "
                          "choose a shorter --out (or scenario name)")
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder; choose another --out")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise OutputError(f"{out}: the folder is not empty; use --force to replace it, "
                              "or choose another --out")
    except OSError as exc:
        raise OutputError(f"{out}: cannot be used as the run folder ({exc.strerror or exc}); "
                          "choose another --out") from None


def write_run(run: Run, out: Path, force: bool = False) -> Path:
    """Write a run folder atomically and return its path."""
    check_target(out, force)
    files = {
        "summary.json": json.dumps(summarize(run), indent=2, allow_nan=False) + "\n",
        "events.csv": events_csv(run.episodes),
        "hotline.csv": hotline_csv(run.hotline),
        "zones.csv": zones_csv(run),
        "scenario.yaml": run.scenario.resolved_yaml(
            (run.geography.frame.center_lon, run.geography.frame.center_lat)),
    }
    write_folder(out, files, force)
    return out


def write_folder(out: Path, files: dict[str, str], force: bool) -> None:
    """Write ``files`` (name -> text) as the folder ``out``, whole or not at all."""
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    created = [p for p in [parent, *parent.parents] if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(f"{parent}: cannot create the folder ({exc.strerror})") from None
    partial = parent / f".{out.name}.partial-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name, text in files.items():
            with open(partial / name, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        if out.is_dir():
            if any(out.iterdir()):
                check_target(out, force)
                out.rename(old)
            else:
                out.rmdir()
        partial.rename(out)
    except OSError as exc:
        _restore(partial, old, out)
        _remove_empty(created)
        raise OutputError(f"{out}: cannot write the run folder ({exc.strerror or exc})") from None
    except BaseException:
        _restore(partial, old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write a file whole or not at all (a temporary file beside it, then a rename)."""
    path = Path(path)
    partial = path.parent / f".{path.name}.partial-{os.getpid()}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _restore(partial: Path, old: Path, out: Path) -> None:
    """After a failed write: drop the partial folder and put the previous run back."""
    shutil.rmtree(partial, ignore_errors=True)
    try:
        if old.exists() and not out.exists():
            old.rename(out)
    except OSError:
        pass


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders this write created (deepest first), if they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def events_csv(episodes: Iterable[Episode]) -> str:
    """The ``events.csv`` text: one row per episode, floats written to round-trip exactly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    writer.writerows(_row(e) for e in episodes)
    return buffer.getvalue()


def _row(e: Episode) -> list[str]:
    """One episode's cells, in the order of ``EVENT_COLUMNS``."""
    return [e.rule, e.type, e.party, e.aircraft, e.other_party, e.other_aircraft, e.zone,
            repr(e.start_s), repr(e.end_s), _number(e.min_distance_m), _number(e.min_time_s),
            repr(e.x_m), repr(e.y_m), repr(e.lon), repr(e.lat), _flag(e.informed),
            repr(e.duration_s), _number(e.vertical_m), e.cause, e.declaration]


HOTLINE_COLUMNS = ("call", "kind", "sender", "recipient", "item_type", "item", "sent_s",
                   "received_s", "lost")
ZONE_COLUMNS = ("zone", "party", "origin", "declare", "floor_m", "ceiling_m",
                "active_start_s", "active_end_s", "known_s", "wkt_lonlat")


def hotline_csv(hotline: Hotline) -> str:
    """The ``hotline.csv`` text: what was said, when, and whether it arrived, in call order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HOTLINE_COLUMNS)
    order = sorted(hotline.messages, key=lambda m: (m.sent_s, m.call, m.item_type != "zone",
                                                     m.sender, m.recipient, m.item))
    writer.writerows([m.call, m.kind, m.sender, m.recipient, m.item_type, m.item,
                      repr(m.sent_s), _number(m.received_s), _flag(m.lost)] for m in order)
    return buffer.getvalue()


def zones_csv(run: Run) -> str:
    """The ``zones.csv`` text: written zones and work areas, their areas in lon/lat (WKT)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ZONE_COLUMNS)
    work = set(run.work_areas)
    known = run.known_s
    frame = run.geography.frame
    for zone in run.geography.zones:
        z = zone.spec
        x, y = np.asarray(zone.shape.exterior.coords, float).T
        lon, lat = frame.to_lonlat(x, y)
        wkt = "POLYGON ((" + ", ".join(f"{a:.6f} {b:.6f}" for a, b in zip(
            np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), strict=True)) + "))"
        writer.writerow([z.id, z.party, "work_area" if z.id in work else "written",
                         _flag(z.declare), repr(z.floor_m), _number_inf(z.ceiling_m),
                         repr(z.active_start_s), repr(z.active_end_s),
                         repr(known.get(z.id, 0.0)), wkt])
    return buffer.getvalue()


def _number_inf(value: float) -> str:
    return "" if math.isinf(value) else repr(value)


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")
