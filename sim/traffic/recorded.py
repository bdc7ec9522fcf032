"""Recorded tracks: ADS-B exports and radar plots read from CSV or Parquet (issue 18).

The reader of a scenario's ``recorded:`` entries, and nothing more: it turns one data file
into time-sorted tracks on the run's clock, and refuses bad data with every problem it
finds, each naming the row and the column. Making flights of the tracks is the loader's.
Reading is vectorised with pyarrow and numpy (a million reports in a few seconds).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
from pyproj import Geod

from sim.model.geography import LocalFrame
from sim.model.scenario import Problem, ScenarioError
from sim.model.units import FOOT, KNOT, METRE
from sim.traffic.plans import FlightPlan

FIELDS = ("timestamp", "id", "latitude", "longitude", "altitude")
# The column names of the open-source ``traffic`` library's flight tables; the id is the
# ICAO 24-bit address where the file has one, else the callsign.
DEFAULT_COLUMNS: dict[str, str] = {"timestamp": "timestamp", "latitude": "latitude",
                                   "longitude": "longitude", "altitude": "altitude"}
DEFAULT_ID_COLUMNS = ("icao24", "callsign")
ALTITUDE_UNITS: dict[str, float] = {"ft": FOOT, "m": METRE}
DEFAULT_MAX_GAP_S = 60.0
DEFAULT_MAX_SPEED_MPS = 1200 * KNOT
# A gap is longer than max_gap by more than this: times are subtracted in floats, so a gap
# of exactly max_gap between two times on a long clock may come out an ulp longer.
GAP_TOLERANCE_S = 1e-6
MAX_LISTED = 20  # rows named in one problem; the rest are counted
SPLIT_MARK = "#"  # a flight after a gap: <id>#2, <id>#3, ...

TIME_FORM = ("write ISO 8601 UTC times such as 2017-12-13T06:00:00Z, or seconds on the run's "
             "clock such as 3600")
# Exactly what pyarrow's cast accepts, so that a row that matches always converts: a
# finite decimal number, and an ISO 8601 time (a date, hours and minutes, optional seconds
# with up to 9 decimals, an optional zone; no zone means UTC). Days past the end of their
# month, and years that nanoseconds since 1970 in 64 bits cannot hold, are caught apart,
# from the few distinct dates.
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_ZONE = r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)"
_ISO = (r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d"
        r"(?::[0-5]\d(?:\.\d{1,9})?)?" + _ZONE + "?$")
YEARS = (1678, 2261)  # the whole years that int64 nanoseconds since 1970 span
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_GEOD = Geod(ellps="WGS84")


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
    """

    id: str
    t_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    altitude_m: np.ndarray


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
    where = _Where(str(path), key_path, scenario_file)
    names = _column_names(columns, where)
    if not path.exists():
        where.fail("file", "no such file")
    if path.is_dir():
        where.fail("file", "is a folder, not a file of recorded reports")
    table = _read_table(path, fmt, names, where)
    return _tracks(table, names, ALTITUDE_UNITS[altitude_unit], start_utc, max_gap_s,
                   max_speed_mps, where)


# ---------------------------------------------------------------------------- problems


class _Where:
    """Where the problems of one data file are reported, and the problems found so far."""

    def __init__(self, data: str, key_path: str, scenario_file: str | None) -> None:
        self.key_path = key_path
        self.file = scenario_file if scenario_file is not None else data
        self.prefix = "" if scenario_file is None else f"{data}: "  # name the data file once
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        path = key if key == "start" else f"{self.key_path}.{key}"
        self.problems.append(Problem(self.file, path, self.prefix + message))

    def fail(self, key: str, message: str) -> NoReturn:
        self.add(key, message)
        raise ScenarioError(self.problems)

    def check(self) -> None:
        if self.problems:
            raise ScenarioError(self.problems)


def _listing(rows: np.ndarray | Sequence[int], describe: Callable[[int], str]) -> str:
    """Name the first MAX_LISTED rows (``describe`` of each) and count the rest."""
    shown = ", ".join(describe(int(i)) for i in rows[:MAX_LISTED])
    more = len(rows) - MAX_LISTED
    return shown + (f" and {more:,} more" if more > 0 else "")


def _short(value: object) -> str:
    if value is None or value == "":
        return "empty"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------------- reading


def _column_names(columns: Mapping[str, str] | None, where: _Where) -> dict[str, str]:
    """Our names to the file's, as given (the id left out when not given: it has a default)."""
    names = dict(DEFAULT_COLUMNS)
    for key, value in (columns or {}).items():
        if key not in FIELDS:
            where.add(f"columns.{key}", f"unknown column key; accepted keys: {', '.join(FIELDS)}")
        elif not isinstance(value, str) or not value:
            where.add(f"columns.{key}", f"expected the file's column name as text, such as "
                                        f"{key}: {DEFAULT_COLUMNS.get(key, 'icao24')}")
        else:
            names[key] = value
    where.check()
    return names


def _read_table(path: Path, fmt: str, names: dict[str, str], where: _Where) -> Any:
    """Read the columns that ``names`` asks for (strings only, for a CSV) into a table."""
    import pyarrow as pa  # lazy: the command line starts without it
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            try:
                have = pq.read_schema(path).names
            except pa.ArrowInvalid as exc:
                where.fail("format", f"is not a Parquet file ({exc}); for CSV text write "
                                     f"format: csv")
        else:
            with path.open("rb") as head:
                if head.read(4) == b"PAR1":
                    where.fail("format", "is a Parquet file, not CSV text; write format: "
                                         "parquet")
            with pacsv.open_csv(path) as reader:  # the header, from the first block only
                have = reader.schema.names
        _resolve_id(names, have, where)
        wanted = list(dict.fromkeys(names.values()))
        if fmt == "parquet":
            return pq.read_table(path, columns=wanted)
        # Every value as text, as written: the values are converted here, row by row in
        # effect, so that each bad one can be named.
        convert = pacsv.ConvertOptions(include_columns=wanted, strings_can_be_null=False,
                                       column_types=dict.fromkeys(wanted, pa.string()))
        return pacsv.read_csv(path, convert_options=convert)
    except (OSError, pa.ArrowException) as exc:
        if fmt == "csv" and isinstance(exc, pa.ArrowInvalid):
            _csv_faults(path, where)
        what = "CSV" if fmt == "csv" else "Parquet"
        reason = getattr(exc, "strerror", None) or str(exc).replace("\n", " ")
        where.fail("file", f"cannot be read as {what} ({reason})")


def _csv_faults(path: Path, where: _Where) -> None:
    """Find the rows that the CSV reader refused (it names none), and fail naming them.

    A line-by-line scan in Python, run only once the reader has refused the file.
    """
    with path.open("rb") as lines:
        try:
            header = next(csv.reader([next(lines, b"").decode("utf-8-sig")]), [])
        except UnicodeDecodeError:
            where.fail("file", "the header line is not UTF-8 text; save the file as UTF-8")
        ragged: list[tuple[int, int]] = []
        undecodable: list[tuple[int, str]] = []
        row = 0
        for line in lines:
            if not line.strip():
                continue  # the reader skips empty lines: they are no rows
            row += 1
            try:
                text = line.decode()
            except UnicodeDecodeError:
                fields = line.rstrip(b"\r\n").split(b",")
                bad = next(k for k, f in enumerate(fields) if not _decodes(f))
                undecodable.append((row, repr(header[bad]) if bad < len(header)
                                    else f"#{bad + 1}"))
                continue
            values = len(next(csv.reader([text]), []))
            if values != len(header):
                ragged.append((row, values))
    if undecodable:
        where.add("file", f"{len(undecodable):,} row{'s are' if len(undecodable) > 1 else ' is'}"
                          f" not UTF-8 text: " + _listing(range(len(undecodable)), lambda k:
                          f"row {undecodable[k][0]} (column {undecodable[k][1]})")
                          + "; save the file as UTF-8")
    if ragged:
        where.add("file", f"{len(ragged):,} row{'s have' if len(ragged) > 1 else ' has'} "
                          f"another number of values than the header's {len(header)}: "
                          + _listing(range(len(ragged)), lambda k:
                                     f"row {ragged[k][0]} ({ragged[k][1]})")
                          + "; give each row one value for each column of the header (a "
                            "value with a comma or a line break in it is quoted, on one line)")
    where.check()


def _decodes(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _resolve_id(names: dict[str, str], have: list[str], where: _Where) -> None:
    """Choose the id column, then check that every column named is in the file."""
    if "id" not in names:
        names["id"] = next((c for c in DEFAULT_ID_COLUMNS if c in have), "")
    listed = ", ".join(repr(c) for c in have) or "none"
    for field in FIELDS:
        column = names[field]
        if column in have:
            continue
        wanted = repr(column) if column else " or ".join(repr(c) for c in DEFAULT_ID_COLUMNS)
        example = "ICAO24" if field == "id" else field.upper()
        where.add(f"columns.{field}", f"the file has no column {wanted} for the {field} "
                                      f"(its columns: {listed}); name the file's column "
                                      f"under columns:, such as {field}: {example}")
    where.check()


# ---------------------------------------------------------------------------- values


def _as_text(array: Any) -> Any:
    """A column as trimmed strings (nulls stay null), whatever its type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.utf8_trim_whitespace(array)


def _is_text(array: Any) -> bool:
    import pyarrow as pa

    kind = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_number(array: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
                or pa.types.is_decimal(array.type))


def _report(where: _Where, rows: np.ndarray, column: str, what: str,
            describe: Callable[[int], str], form: str) -> None:
    """One problem for the rows (file indices) where a column is wrong in one way."""
    if len(rows):
        count = f"{len(rows):,} value{'s are' if len(rows) > 1 else ' is'}"
        where.add("file", f"column {column!r}: {count} {what}: {_listing(rows, describe)}; "
                          f"{form}")


def _value_of(array: Any) -> Callable[[int], str]:
    return lambda i: f"row {i + 1} ({_short(array[i].as_py())})"


def _numbers(array: Any, column: str, form: str, where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """A column's values as floats, and the rows that are not finite numbers (reported)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if _is_number(array):
        shown = array
        values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)  # null: nan
    elif _is_text(array):
        shown = _as_text(array)
        ok = pc.fill_null(pc.match_substring_regex(shown, _NUMBER), False)
        values = pc.cast(pc.if_else(ok, shown, None), pa.float64()).to_numpy(
            zero_copy_only=False)
    else:
        where.add("file", f"column {column!r} holds {array.type} values, not numbers; {form}")
        return np.zeros(len(array)), np.ones(len(array), bool)
    bad = ~np.isfinite(values)  # nan, inf, empty, text; "1e999" too, which casts to inf
    _report(where, np.flatnonzero(bad), column, "not a finite number",
            _value_of(shown), form)
    return values, bad


def _ids(array: Any, column: str, where: _Where) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Each row's aircraft as a code that sorts like its id, the ids by code, bad rows."""
    import pyarrow.compute as pc

    text = _as_text(array)
    bad = np.asarray(pc.fill_null(pc.equal(text, ""), True))
    _report(where, np.flatnonzero(bad), column, "empty",
            lambda i: f"row {i + 1}", "give every report its aircraft's id, such as 3c6444")
    encoded = pc.dictionary_encode(text)
    names: list[str] = [n if n is not None else "" for n in encoded.dictionary.to_pylist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    codes = rank[pc.fill_null(encoded.indices, 0).to_numpy()] if names else \
        np.zeros(len(text), np.int64)
    return codes, [names[k] for k in order], bad


def _times(array: Any, column: str, start_utc: str | None,
           where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """Each row's time in seconds on the run's clock, and the bad rows (reported)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(array.type):
        # The stored integers count from 1970 UTC whatever the zone (none: taken as UTC);
        # scaled here, as a cast to nanoseconds refuses the whole column for one year 9999.
        per_unit = _NS_PER_UNIT[array.type.unit]
        count = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy()
        bad = np.asarray(array.is_null()) | (np.abs(count) > np.iinfo(np.int64).max // per_unit)
        ns = np.where(bad, 0, count) * per_unit
        _report(where, np.flatnonzero(bad), column, f"empty, or outside the years "
                f"{YEARS[0]}-{YEARS[1]}", _value_of(array), TIME_FORM)
    elif _is_text(array):
        text = _as_text(array)
        iso = pc.fill_null(pc.match_substring_regex(text, _ISO), False)
        plain = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
        # A column holds one kind of time: most of its values tell which.
        if (pc.sum(iso).as_py() or 0) <= (pc.sum(plain).as_py() or 0):
            return _numbers(array, column, TIME_FORM, where)
        ns, bad = _iso_ns(text, iso, column, where)
    else:
        return _numbers(array, column, TIME_FORM, where)
    start_ns = _start_ns(start_utc, column, where)
    return (ns - start_ns) / 1e9, bad


def _iso_ns(text: Any, iso: Any, column: str, where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 times (the rows where ``iso``) as UTC nanoseconds, and the rows that are not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dates = pc.utf8_slice_codeunits(pc.if_else(iso, text, None), 0, 10)
    impossible = [d for d in pc.unique(dates).to_pylist() if d is not None and not _is_date(d)]
    if impossible:  # 2017-02-30, 9999-01-01: the pattern takes any year, and 31 days
        iso = pc.and_(iso, pc.invert(pc.is_in(dates, pa.array(impossible, pa.string()))))
    zoned = pc.match_substring_regex(text, _ZONE + "$")
    utc = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
    stamps = pc.cast(pc.if_else(iso, utc, None), pa.timestamp("ns", "UTC"))
    ns = pc.fill_null(pc.cast(stamps, pa.int64()), 0).to_numpy()
    bad = ~np.asarray(iso)
    _report(where, np.flatnonzero(bad), column,
            f"not an ISO 8601 time of the years {YEARS[0]}-{YEARS[1]}",
            _value_of(text), TIME_FORM)
    return ns, bad


def _is_date(text: str) -> bool:
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return YEARS[0] <= date.year <= YEARS[1]


def _start_ns(start_utc: str | None, column: str, where: _Where) -> int:
    """The scenario's start in UTC nanoseconds (0, with a problem, when there is none)."""
    start = None
    if start_utc is not None:
        try:
            start = dt.datetime.fromisoformat(start_utc.replace("Z", "+00:00"))
        except ValueError:
            start = None
    if start is None:
        said = "has none" if start_utc is None else f"has {start_utc!r}, which is not one"
        where.add("start", f"the times in column {column!r} are dates and times, counted on "
                           f"the run's clock from the scenario's start, and the scenario "
                           f"{said}; write start: 2017-12-13T06:00:00Z (ISO 8601 UTC), or "
                           f"give the times as seconds on the run's clock")
        return 0
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.timezone.utc)
    return (start - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        microseconds=1) * 1000


# ---------------------------------------------------------------------------- tracks


def _tracks(table: Any, names: dict[str, str], altitude_factor: float, start_utc: str | None,
            max_gap_s: float, max_speed_mps: float, where: _Where) -> list[RecordedTrack]:
    """Check the reports and cut them into flights."""
    if table.num_rows == 0:
        where.fail("file", "holds no reports (a header only); a track needs two reports or "
                           "more of one aircraft")

    def column(field: str) -> Any:
        return table.column(names[field]).combine_chunks()

    codes, ids, _ = _ids(column("id"), names["id"], where)
    t, _ = _times(column("timestamp"), names["timestamp"], start_utc, where)
    lat, lat_bad = _numbers(column("latitude"), names["latitude"],
                            "write latitudes in decimal degrees, such as 35.33", where)
    lon, lon_bad = _numbers(column("longitude"), names["longitude"],
                            "write longitudes in decimal degrees, such as 40.15", where)
    altitude, _ = _numbers(column("altitude"), names["altitude"],
                           "write altitudes as numbers, such as 25000", where)
    _within(lat, lat_bad, 90, "latitude", names["latitude"], where)
    _within(lon, lon_bad, 180, "longitude", names["longitude"], where)
    where.check()
    return _flights(codes, ids, t, lon, lat, altitude * altitude_factor, max_gap_s,
                    max_speed_mps, where)


def _within(values: np.ndarray, bad: np.ndarray, limit: int, field: str, column: str,
            where: _Where) -> None:
    outside = np.flatnonzero(~bad & (np.abs(values) > limit))
    _report(where, outside, column, f"outside -{limit}..{limit}",
            lambda i: f"row {i + 1} ({values[i]:.10g})",
            f"write {field}s in decimal degrees from -{limit} to {limit} (WGS84)")


def _flights(codes: np.ndarray, ids: list[str], t: np.ndarray, lon: np.ndarray,
             lat: np.ndarray, altitude: np.ndarray, max_gap_s: float, max_speed_mps: float,
             where: _Where) -> list[RecordedTrack]:
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
                  + _listing(clash, lambda k: f"rows {min(rows[k], rows[k + 1]) + 1} and "
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
                  + _listing(fast, lambda k: f"rows {rows[k] + 1} and {rows[k + 1] + 1} "
                             f"({ids[codes[k]]}, {speed[k] / KNOT:,.0f} kt over "
                             f"{step[k]:.6g} s)")
                  + "; check those reports, or raise max_speed, such as max_speed: "
                    "\"1500 kt\"")
    where.check()
    for a in (t, lon, lat, altitude):
        a.flags.writeable = False  # the tracks' arrays are views of these
    return _cut(codes, ids, new, t, lon, lat, altitude, where)


def _cut(codes: np.ndarray, ids: list[str], new: np.ndarray, t: np.ndarray, lon: np.ndarray,
         lat: np.ndarray, altitude: np.ndarray, where: _Where) -> list[RecordedTrack]:
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
        tracks.append(RecordedTrack(name, t[a:b], lon[a:b], lat[a:b], altitude[a:b]))
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
