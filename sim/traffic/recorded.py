"""Recorded tracks: ADS-B exports and radar plots read from CSV or Parquet (issue 18).

The reader of a scenario's ``recorded:`` entries, and nothing more: it turns one data file
into time-sorted tracks on the run's clock, and refuses bad data with every problem it
finds, each naming the row and the column (a scenario's entries are read, and made
flights, by ``sim.traffic.recorded_flights``). Reading is vectorised with pyarrow and
numpy (a million reports in a few seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pyproj import Geod

from sim.model.geography import LocalFrame
from sim.model.units import FOOT, KNOT, METRE
from sim.traffic.plans import FlightPlan
from sim.traffic.recorded_columns import (
    DEFAULT_COLUMNS,
    DEFAULT_ID_COLUMNS,
    FIELDS,
    MAX_LISTED,
    YEARS,
    Where,
    column_names,
    id_column,
    listing,
    number_column,
    read_table,
    report,
    time_column,
)

ALTITUDE_UNITS: dict[str, float] = {"ft": FOOT, "m": METRE}
DEFAULT_MAX_GAP_S = 60.0
DEFAULT_MAX_SPEED_MPS = 1200 * KNOT
# A gap is longer than max_gap by more than this: times are subtracted in floats, so a gap
# of exactly max_gap between two times on a long clock may come out an ulp longer.
GAP_TOLERANCE_S = 1e-6
SPLIT_MARK = "#"  # a flight after a gap: <id>#2, <id>#3, ...
_GEOD = Geod(ellps="WGS84")

# The file's columns and limits are the file reader's; they are part of this API too.
__all__ = ["ALTITUDE_UNITS", "DEFAULT_COLUMNS", "DEFAULT_ID_COLUMNS", "DEFAULT_MAX_GAP_S",
           "DEFAULT_MAX_SPEED_MPS", "FIELDS", "MAX_LISTED", "YEARS", "RecordedTrack",
           "read_recorded", "recorded_plans"]


@dataclass(frozen=True, slots=True, eq=False)  # eq: numpy arrays have no truth value
class RecordedTrack:
    """One recorded flight: its reports in time order, on the run's clock.

    Attributes:
        id: the aircraft's id from the file; ``<id>#2``, ``<id>#3``, ... for the flights
            that follow a gap longer than ``max_gap``.
        t_s: seconds since the scenario's start, strictly increasing (read-only).
        lon: WGS84 longitudes in degrees (read-only).
        lat: WGS84 latitudes in degrees (read-only).
        altitude_m: altitudes in metres (read-only).
        rows: each report's row in the file, counted from 1 (read-only); None: not read
            from a file.
    """

    id: str
    t_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    altitude_m: np.ndarray
    rows: np.ndarray | None = None


def read_recorded(path: Path, *, fmt: Literal["csv", "parquet"],
                  columns: Mapping[str, str] | None = None,
                  altitude_unit: Literal["ft", "m"] = "ft", start_utc: str | None = None,
                  max_gap_s: float = DEFAULT_MAX_GAP_S,
                  max_speed_mps: float = DEFAULT_MAX_SPEED_MPS,
                  key_path: str = "recorded[0]",
                  scenario_file: str | None = None) -> list[RecordedTrack]:
    """Read one file of recorded reports into tracks, one for each flight.

    Each aircraft's reports, sorted by time, make one track; a gap longer than
    ``max_gap_s`` between two reports ends a flight and starts the next (``<id>#2``, ...).
    Identical duplicate reports are dropped. A flight of a single report has no track and
    is left out (as real exports often hold stray single reports); a file that gives no
    track at all is an error.

    Args:
        path: the data file.
        fmt: ``"csv"`` (a header line, then one report a line) or ``"parquet"``.
        columns: the file's column names for ours (``timestamp``, ``id``, ``latitude``,
            ``longitude``, ``altitude``); unnamed ones take ``DEFAULT_COLUMNS``, and the id
            ``icao24``, else ``callsign``.
        altitude_unit: the altitude column's unit.
        start_utc: the scenario's start (ISO 8601), where ISO 8601 times are counted from;
            times given as plain numbers are seconds on the run's clock already.
        max_gap_s: the longest time between two reports of one flight.
        max_speed_mps: the highest horizontal (WGS84 geodesic) speed between two reports.
        key_path: the scenario key of this entry, for the problems' key paths.
        scenario_file: the scenario's file, named by the problems (and the data file in
            their messages); None: the problems name the data file.

    Returns:
        The tracks, ordered by the file's ids (each aircraft's flights in time order).

    Raises:
        ScenarioError: the file is missing or unreadable, a column is missing, or the data
            is bad. Every problem found is listed, each naming the rows (counted from 1,
            the first report; a CSV's header line and blank lines are not rows), the
            column, what is wrong and an accepted form.
    """
    where = Where(str(path), key_path, scenario_file)
    names = column_names(columns, where)
    if not path.exists():
        where.fail("file", "no such file")
    if path.is_dir():
        where.fail("file", "is a folder, not a file of recorded reports")
    table = read_table(path, fmt, names, where)
    return _tracks(table, names, ALTITUDE_UNITS[altitude_unit], start_utc, max_gap_s,
                   max_speed_mps, where)


# ---------------------------------------------------------------------------- tracks


def _tracks(table: Any, names: dict[str, str], altitude_factor: float, start_utc: str | None,
            max_gap_s: float, max_speed_mps: float, where: Where) -> list[RecordedTrack]:
    """Check the reports and cut them into flights."""
    if table.num_rows == 0:
        where.fail("file", "holds no reports (a header only); a track needs two reports or "
                           "more of one aircraft")

    def column(field: str) -> Any:
        return table.column(names[field]).combine_chunks()

    codes, ids, _ = id_column(column("id"), names["id"], where)
    t, _ = time_column(column("timestamp"), names["timestamp"], start_utc, where)
    lat, lat_bad = number_column(column("latitude"), names["latitude"],
                            "write latitudes in decimal degrees, such as 35.33", where)
    lon, lon_bad = number_column(column("longitude"), names["longitude"],
                            "write longitudes in decimal degrees, such as 40.15", where)
    altitude, _ = number_column(column("altitude"), names["altitude"],
                           "write altitudes as numbers, such as 25000", where)
    _within(lat, lat_bad, 90, "latitude", names["latitude"], where)
    _within(lon, lon_bad, 180, "longitude", names["longitude"], where)
    where.check()
    return _flights(codes, ids, t, lon, lat, altitude * altitude_factor, max_gap_s,
                    max_speed_mps, where)


def _within(values: np.ndarray, bad: np.ndarray, limit: int, field: str, column: str,
            where: Where) -> None:
    outside = np.flatnonzero(~bad & (np.abs(values) > limit))
    report(where, outside, column, f"outside -{limit}..{limit}",
            lambda i: f"row {i + 1} ({values[i]:.10g})",
            f"write {field}s in decimal degrees from -{limit} to {limit} (WGS84)")


def _flights(codes: np.ndarray, ids: list[str], t: np.ndarray, lon: np.ndarray,
             lat: np.ndarray, altitude: np.ndarray, max_gap_s: float, max_speed_mps: float,
             where: Where) -> list[RecordedTrack]:
    """Sort, drop identical duplicates, check ties and speeds, cut at gaps: the tracks."""
    # By aircraft, then time; then position, so that identical reports come together.
    rows = np.lexsort((altitude, lat, lon, t, codes))
    codes, t, lon, lat, altitude = (a[rows] for a in (codes, t, lon, lat, altitude))
    tie = (codes[1:] == codes[:-1]) & (t[1:] == t[:-1])
    same = tie & (lon[1:] == lon[:-1]) & (lat[1:] == lat[:-1]) & (altitude[1:] == altitude[:-1])
    clash = np.flatnonzero(tie & ~same)
    if len(clash):
        where.add("file", f"{len(clash):,} pair{'s' * (len(clash) > 1)} of reports of one "
                  f"aircraft at one time in different positions: "
                  + listing(clash, lambda k: f"rows {min(rows[k], rows[k + 1]) + 1} and "
                             f"{max(rows[k], rows[k + 1]) + 1} ({ids[codes[k]]} at "
                             f"{t[k]:.10g} s)")
                  + "; an aircraft is in one place at a time: correct or remove one report "
                    "of each pair")
    keep = np.ones(len(t), bool)
    keep[1:] = ~same
    rows, codes, t, lon, lat, altitude = (a[keep] for a in (rows, codes, t, lon, lat, altitude))
    step = np.diff(t)
    new = np.ones(len(t), bool)
    new[1:] = (codes[1:] != codes[:-1]) | (step > max_gap_s + GAP_TOLERANCE_S)
    joined = ~new[1:] & (step > 0)  # step 0: a tie, reported above
    _, _, distance = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    speed = np.divide(distance, step, out=np.zeros(len(step)), where=joined)
    fast = np.flatnonzero(speed > max_speed_mps)
    if len(fast):  # each pair's rows in time order: from one report to the next
        where.add("max_speed", f"{len(fast):,} pair{'s' * (len(fast) > 1)} of reports "
                  f"{'are' if len(fast) > 1 else 'is'} faster than max_speed "
                  f"({max_speed_mps / KNOT:.6g} kt): "
                  + listing(fast, lambda k: f"rows {rows[k] + 1} and {rows[k + 1] + 1} "
                             f"({ids[codes[k]]}, {speed[k] / KNOT:,.0f} kt over "
                             f"{step[k]:.6g} s)")
                  + "; check those reports, or raise max_speed, such as max_speed: "
                    "\"1500 kt\"")
    where.check()
    rows = rows + 1  # counted from 1, as the problems count them
    for a in (t, lon, lat, altitude, rows):
        a.flags.writeable = False  # the tracks' arrays are views of these
    return _cut(codes, ids, new, t, lon, lat, altitude, rows, where)


def _cut(codes: np.ndarray, ids: list[str], new: np.ndarray, t: np.ndarray, lon: np.ndarray,
         lat: np.ndarray, altitude: np.ndarray, rows: np.ndarray, where: Where
         ) -> list[RecordedTrack]:
    """The tracks between the flight starts ``new``, single reports left out."""
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(t))
    tracks: list[RecordedTrack] = []
    pieces: dict[int, int] = {}
    first: list[str] = []
    later: list[str] = []  # the names of flights after a gap
    for code, a, b in zip(codes[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        if b - a < 2:
            continue
        pieces[code] = k = pieces.get(code, 0) + 1
        name = ids[code] if k == 1 else f"{ids[code]}{SPLIT_MARK}{k}"
        (later if k > 1 else first).append(name)
        tracks.append(RecordedTrack(name, t[a:b], lon[a:b], lat[a:b], altitude[a:b],
                                    rows[a:b]))
    if not tracks:
        where.fail("file", "gives no track: no aircraft has two reports within max_gap of "
                           "each other, and a track needs two reports or more")
    clashes = sorted(set(later) & set(first))
    if clashes:
        where.add("file", f"the flights after a gap are named <id>{SPLIT_MARK}2, "
                          f"<id>{SPLIT_MARK}3, ...; {', '.join(map(repr, clashes[:MAX_LISTED]))} "
                          f"{'is also an id' if len(clashes) == 1 else 'are also ids'} in the "
                          f"file: rename those aircraft, or raise max_gap")
    where.check()
    return tracks


def recorded_plans(tracks: Sequence[RecordedTrack], party: str, frame: LocalFrame
                   ) -> list[FlightPlan]:
    """Flight plans that fly the tracks exactly through their reports, in the frame.

    Each report is a waypoint with its own time and altitude, so each leg is flown at its
    own ground speed and climb rate; the plan's nominal speed is the track's mean ground
    speed, its nominal altitude the highest reported.
    """
    plans = []
    for track in tracks:
        x, y = frame.to_xy(track.lon, track.lat)
        route = np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])
        length = float(np.sum(np.hypot(*np.diff(route, axis=0).T)))
        duration = float(track.t_s[-1] - track.t_s[0])
        speed = length / duration if length > 0.0 and duration > 0.0 else 1.0
        plans.append(FlightPlan(track.id, party, float(track.t_s[0]), speed,
                                float(np.max(track.altitude_m)), route,
                                route_z_m=np.asarray(track.altitude_m, float),
                                route_t_s=np.asarray(track.t_s, float)))
    return plans
