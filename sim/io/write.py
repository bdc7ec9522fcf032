"""The run folder (docs/run-folder.md): summary.json, stats.json, events.csv, flights.csv,
tracks.csv, hotline.csv, zones.csv and scenario.yaml (and replications.csv when asked for), whole or
not at all.

Files are written into a hidden sibling folder first and renamed into place in one
step; with ``--force`` the new folder and the old one are swapped in one step (Linux's
``renameat2`` exchange; elsewhere two renames, the old folder put back by the next write if
the process dies between them), and the old one removed after. An interrupted write leaves
the old folder (or nothing) and at most a hidden ``.NAME.partial-PID`` folder, never a half
run folder; hidden folders of processes that died (SIGKILL) are cleared by the next write.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import hashlib
import io
import json
import math
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.metrics import Replications, run_stats, summarize
from sim.engine.simulation import Run
from sim.io.formats import MAX_NAME
from sim.model.errors import InputError
from sim.model.records import EVENT_COLUMNS, Episode, FlightRecord, Hotline

SCENARIO_DIGEST = "scenario_sha256"  # in summary.json and stats.json


class OutputError(InputError):
    """The run folder cannot be written where asked (exit code 2)."""


def default_run_dir(run: Run) -> Path:
    """``runs/<scenario-name>-seed<seed>`` (the name made safe for a folder name)."""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in run.scenario.name)
    return Path("runs") / f"{name.strip('.-') or 'scenario'}-seed{run.scenario.seed}"


MARKER = ".deconflict"  # written into every folder deconflict makes; --force needs it
KINDS = ("run", "plot", "compare", "sweep")


def marker_text(kind: str) -> str:
    """The marker file's text for a folder of ``kind``."""
    return f"{kind} folder written by deconflict; --force may replace it\n"


def product_kind(folder: Path) -> str | None:
    """The kind of product folder ``folder`` is (``run``, ``plot``, ``compare``, ``sweep``),
    read from its marker file; None for any folder deconflict did not write."""
    try:
        text = (Path(folder) / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    kind = text.split(" ", 1)[0]
    return kind if kind in KINDS and text == marker_text(kind) else None


def describe_contents(folder: Path, shown: int = 3) -> str:
    """What a folder holds, for a message: its first few names and how many more."""
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in Path(folder).iterdir())
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _is_current_folder(out: Path) -> bool:
    """True when ``out`` is the current folder or holds it (it cannot be swapped away)."""
    try:
        target, here = out.resolve(), Path.cwd().resolve()
    except OSError:
        return False
    return target == here or target in here.parents


def check_target(out: Path, force: bool, own: bool = False) -> None:
    """Refuse a target that is a file, the current folder, or a non-empty folder unless
    ``force`` is given and deconflict wrote it (its marker file says so); ``own`` is the
    command's own default folder, replaced in place whatever it holds."""
    if len(out.name) > MAX_NAME:
        raise OutputError(f"{out}: the folder name is longer than {MAX_NAME} characters; "
                          "choose a shorter out folder (or scenario name)")
    try:
        recover_interrupted(out)
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder; choose another out folder")
        if not out.is_dir() or not any(out.iterdir()):
            return
        if _is_current_folder(out):
            raise OutputError(f"{out}: is the current folder (or holds it) and is not empty; "
                              "it cannot be replaced; choose another out folder")
        if own:
            return
        kind = product_kind(out)
        if kind is None:
            raise OutputError(f"{out}: the folder holds {describe_contents(out)} and has no "
                              f"{MARKER} file: deconflict did not write it (or an older "
                              "version did); force=True replaces only folders deconflict "
                              "marked as its own, so choose another out folder (or delete the "
                              "folder yourself)")
        if not force:
            raise OutputError(f"{out}: holds a {kind} folder written by deconflict; use "
                              "force=True to replace it, or choose another out folder")
    except OSError as exc:
        raise OutputError(f"{out}: cannot be used as the run folder ({exc.strerror or exc}); "
                          "choose another out folder") from None


def product_file(path: Path) -> bool:
    """True when ``path`` is a file deconflict wrote: a report page (its closing line names
    deconflict) or a calibrated scenario (its first line does)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            handle.seek(max(0, Path(path).stat().st_size - 4096))
            tail = handle.read()
    except OSError:
        return False
    return head.startswith(b"# Calibrated by deconflict calibrate (") or (
        head.startswith(b"<!DOCTYPE html>\n") and tail.endswith(b"</body></html>\n")
        and b'<p class="meta">Written by deconflict ' in tail)


def check_file_target(out: Path, force: bool) -> None:
    """Refuse an output file that exists, unless ``force`` is given and deconflict wrote it."""
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name")
    if not out.exists():
        return
    if not product_file(out):
        raise OutputError(f"{out}: exists and was not written by deconflict; force=True replaces "
                          "only files deconflict wrote; choose another out file")
    if not force:
        raise OutputError(f"{out}: exists (written by deconflict); use force=True to replace it, "
                          "or choose another out file")


def write_run(run: Run, out: Path, force: bool = False,
              replications: Replications | None = None,
              stats: dict[str, Any] | None = None, summary: dict[str, Any] | None = None,
              extra: Mapping[str, str | bytes] | None = None) -> Path:
    """Write a run folder atomically and return its path.

    ``replications``, when given, adds ``replications.csv`` (one row of headline metrics
    per replication) and their means and bootstrap intervals to ``stats.json``. ``stats``
    and ``summary``, when given, are the run's ``run_stats`` and ``summarize`` already
    computed (the command line shows them too); ``extra`` adds files of its own (exported
    tracks), written with the rest in the same step.
    """
    check_target(out, force)
    stats = stats if stats is not None else run_stats(run, replications)
    summary = summary if summary is not None else summarize(run)
    scenario_yaml = run.scenario.resolved_yaml(
        (run.geography.frame.center_lon, run.geography.frame.center_lat))
    # Both JSON files name what made them: the version, and the digest of the folder's own
    # scenario.yaml (``sha256sum scenario.yaml`` checks it).
    digest = hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()
    files: dict[str, str | bytes] = {
        "summary.json": _json(with_scenario_digest(summary, digest)),
        "stats.json": _json(with_scenario_digest(stats, digest)),
        "events.csv": events_csv(run.episodes),
        "flights.csv": flights_csv(run.flights, {p.id: p.aircraft for p in run.plans}),
        "tracks.csv": tracks_csv(run),
        "hotline.csv": hotline_csv(run.hotline),
        "zones.csv": zones_csv(run),
        "scenario.yaml": scenario_yaml,
    }
    if replications is not None:
        files["replications.csv"] = replications_csv(replications)
    files.update(extra or {})
    write_folder(out, files, force, kind="run")
    return out


def with_scenario_digest(document: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """``document`` with ``scenario_sha256`` set, placed after ``version``."""
    out: dict[str, Any] = {}
    for key, value in document.items():
        if key != SCENARIO_DIGEST:
            out[key] = value
        if key == "version":
            out[SCENARIO_DIGEST] = digest
    out.setdefault(SCENARIO_DIGEST, digest)
    return out


def write_folder(out: Path, files: Mapping[str, str | bytes], force: bool, *, kind: str,
                 own: bool = False) -> None:
    """Write ``files`` (name -> text or bytes) as the folder ``out`` of ``kind``, with its
    marker file, whole or not at all (``force`` and ``own`` as for ``check_target``).

    Each name must be a plain file name: nothing is ever written outside ``out``.
    """
    out = Path(out)
    files = {**files, MARKER: marker_text(kind)}
    for name in files:
        if name in ("", ".", "..") or Path(name).name != name or "\\" in name or "\0" in name:
            raise OutputError(f"{out}: {name!r} is not a plain file name; nothing was written")
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
        recover_interrupted(out)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(partial / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        if out.is_dir() and any(out.iterdir()):
            check_target(out, force, own)
            if _exchange(partial, out):  # the new folder in place, the old one at ``partial``
                partial.rename(old)
            else:
                out.rename(old)
                partial.rename(out)
        else:
            partial.rename(out)  # (an empty folder is replaced in the same step)
        _fsync_folder(parent)
    except OSError as exc:
        _restore(partial, old, out)
        _remove_empty(created)
        raise OutputError(f"{out}: cannot write the folder ({exc.strerror or exc})") from None
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
        recover_interrupted(path)
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except OSError as exc:
        _unlink(partial)
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    except BaseException:  # interrupted: leave no partial file behind
        _unlink(partial)
        raise


_DEBRIS = re.compile(r"\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)")


def recover_interrupted(out: Path) -> None:
    """Clear what a write to ``out`` killed outright (SIGKILL, power loss) left beside it:
    hidden partial folders or files of processes that no longer run are removed, and if
    ``out`` is missing while such a process's moved-aside previous folder is there, that
    folder is put back (it was complete: only a complete folder is ever moved aside)."""
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        entries = list(parent.iterdir()) if parent.is_dir() else []
    except OSError:
        return
    for entry in sorted(entries):
        match = _DEBRIS.fullmatch(entry.name)
        if not match or match["name"] != out.name or _alive(int(match["pid"])):
            continue
        try:
            if match["kind"] == "old" and entry.is_dir() and not out.exists():
                entry.rename(out)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        except OSError:
            pass  # someone else's to clear; the write goes on beside it


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own are handled by the write itself
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or cannot tell: leave it alone
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system cannot, and the caller falls back on two renames."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the system allows)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _restore(partial: Path, old: Path, out: Path) -> None:
    """After a failed or interrupted write: drop the partial folder, and put the previous
    run back if it was moved aside, or remove it if the new one is already in place."""
    shutil.rmtree(partial, ignore_errors=True)
    try:
        if old.exists() and not out.exists():
            old.rename(out)
        elif old.exists():
            shutil.rmtree(old, ignore_errors=True)
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
    episodes = list(episodes)
    if _plain_texts(episodes):  # no cell needs quoting: each row as one formatted line
        return ",".join(EVENT_COLUMNS) + "\n" + "".join(map(_line, episodes))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    writer.writerows(_row(e) for e in episodes)
    return buffer.getvalue()


_QUOTED = re.compile(r'[,"\r\n]')  # what makes the csv module quote a cell


def _plain_texts(episodes: Sequence[Episode]) -> bool:
    """True when no text cell of ``episodes`` holds a character that needs quoting."""
    texts = {text for e in episodes for text in (e.rule, e.type, e.party, e.aircraft,
                                                  e.other_party, e.other_aircraft, e.zone,
                                                  e.cause, e.declaration)}
    return not any(_QUOTED.search(text) for text in texts)


def _row(e: Episode) -> list[str]:
    """One episode's cells, in the order of ``EVENT_COLUMNS``."""
    return [e.rule, e.type, e.party, e.aircraft, e.other_party, e.other_aircraft, e.zone,
            repr(e.start_s), repr(e.end_s), _number(e.min_distance_m), _number(e.min_time_s),
            repr(e.x_m), repr(e.y_m), repr(e.lon), repr(e.lat), _flag(e.informed),
            repr(e.duration_s), _number(e.vertical_m), e.cause, e.declaration,
            _number(e.vertical_m), _number(e.min_slant_m)]


def _line(e: Episode) -> str:
    """``_row`` as one line of plain cells (a quarter of a million episodes a second;
    ``tests/test_cli.py`` holds it to the csv module's rows)."""
    vertical = _number(e.vertical_m)
    return (f"{e.rule},{e.type},{e.party},{e.aircraft},{e.other_party},{e.other_aircraft},"
            f"{e.zone},{e.start_s!r},{e.end_s!r},{_number(e.min_distance_m)},"
            f"{_number(e.min_time_s)},{e.x_m!r},{e.y_m!r},{e.lon!r},{e.lat!r},"
            f"{_flag(e.informed)},{e.duration_s!r},{vertical},{e.cause},{e.declaration},"
            f"{vertical},{_number(e.min_slant_m)}\n")


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
    zones = run.geography.zones
    rings = [np.asarray(zone.shape.exterior.coords, float) for zone in zones]
    # Every ring unprojected in one call (the same values point by point; a run of the
    # baseline has some 600 zones), then cut back into rings.
    ends = np.cumsum([len(ring) for ring in rings])
    xy = np.concatenate(rings) if rings else np.empty((0, 2))
    lon, lat = run.geography.frame.to_lonlat(xy[:, 0], xy[:, 1])
    lons, lats = np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist()
    for zone, end, ring in zip(zones, ends.tolist(), rings, strict=True):
        z = zone.spec
        start = end - len(ring)
        wkt = "POLYGON ((" + ", ".join(f"{a:.6f} {b:.6f}" for a, b in zip(
            lons[start:end], lats[start:end], strict=True)) + "))"
        writer.writerow([z.id, z.party, "work_area" if z.id in work else "written",
                         _flag(z.declare), repr(z.floor_m), _number_inf(z.ceiling_m),
                         repr(z.active_start_s), repr(z.active_end_s),
                         repr(known.get(z.id, 0.0)), wkt])
    return buffer.getvalue()


FLIGHT_COLUMNS = ("flight", "party", "aircraft", "depart_s", "land_s", "airborne_s")
TRACK_COLUMNS = ("flight", "party", "t_s", "lon", "lat", "altitude_m")
TRACKS_PER_PARTY = 10  # the map's sample; every flight when there are few
ALL_TRACKS_UP_TO = 40


def flights_csv(flights: Iterable[FlightRecord], aircraft: dict[str, str] | None = None) -> str:
    """The ``flights.csv`` text: every flight that departed, when, and how long it flew."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FLIGHT_COLUMNS)
    kinds = aircraft or {}
    writer.writerows([f.id, f.party, kinds.get(f.id, ""), repr(f.depart_s), repr(f.land_s),
                      repr(f.airborne_s)] for f in flights)
    return buffer.getvalue()


def track_sample(run: Run) -> list[int]:
    """Which flights' tracks the run folder keeps for the map: all of them when there are
    at most ``ALL_TRACKS_UP_TO``, else ``TRACKS_PER_PARTY`` per party spread evenly over
    the party's departures (a fixed choice: no random draw)."""
    plans = run.plans
    if len(plans) <= ALL_TRACKS_UP_TO:
        return list(range(len(plans)))
    chosen: list[int] = []
    for party in sorted(run.scenario.parties):
        mine = sorted((i for i, p in enumerate(plans) if p.party == party),
                      key=lambda i: (plans[i].depart_s, plans[i].id))
        if len(mine) <= TRACKS_PER_PARTY:
            chosen += mine
        else:
            picks = np.linspace(0, len(mine) - 1, TRACKS_PER_PARTY).round().astype(int)
            chosen += [mine[k] for k in sorted(set(picks.tolist()))]
    return sorted(chosen)


def tracks_csv(run: Run) -> str:
    """The ``tracks.csv`` text: the sampled flights' waypoints as flown, in lon/lat, up to
    where each flight was when the run ended."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRACK_COLUMNS)
    frame = run.geography.frame
    end = run.scenario.duration_s
    for i in track_sample(run):
        plan = run.plans[i]
        times = plan.waypoint_times()
        xy, z = plan.route_xy, plan.altitudes()
        keep = int(np.searchsorted(times, end, side="right"))
        if keep < len(times):  # still flying at the end: cut the leg there
            x = np.interp(end, times, xy[:, 0])
            y = np.interp(end, times, xy[:, 1])
            z = np.append(z[:keep], np.interp(end, times, z))
            times = np.append(times[:keep], end)
            xy = np.vstack([xy[:keep], [x, y]])
        lon, lat = frame.to_lonlat(xy[:, 0], xy[:, 1])
        for t, a, b, h in zip(times.tolist(), np.atleast_1d(lon).tolist(),
                              np.atleast_1d(lat).tolist(), z.tolist(), strict=True):
            writer.writerow([plan.id, plan.party, repr(t), f"{a:.6f}", f"{b:.6f}", repr(h)])
    return buffer.getvalue()


def replications_csv(replications: Replications) -> str:
    """The ``replications.csv`` text: one row per replication, its seed and metrics."""
    names = sorted({m for row in replications.metrics for m in row})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["replication", "seed", *names])
    for k, (seed, row) in enumerate(zip(replications.seeds, replications.metrics,
                                        strict=True)):
        writer.writerow([k, seed, *(_number(row.get(m)) for m in names)])
    return buffer.getvalue()


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _number_inf(value: float) -> str:
    return "" if math.isinf(value) else repr(value)


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")
