"""Reading a recorded-track file: the table, its columns checked and typed, its problems.

The half of ``sim.traffic.recorded`` that knows files: CSV or Parquet read with pyarrow,
column names mapped, and every value checked (numbers, ids, ISO 8601 or seconds), each bad
one named by its row and column. ``sim.traffic.recorded`` makes tracks of the columns.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from sim.model.scenario import Problem, ScenarioError

FIELDS = ("timestamp", "id", "latitude", "longitude", "altitude")
# The column names of the open-source ``traffic`` library's flight tables; the id is the
# ICAO 24-bit address where the file has one, else the callsign.
DEFAULT_COLUMNS: dict[str, str] = {"timestamp": "timestamp", "latitude": "latitude",
                                   "longitude": "longitude", "altitude": "altitude"}
DEFAULT_ID_COLUMNS = ("icao24", "callsign")
MAX_LISTED = 20  # rows named in one problem; the rest are counted

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


# ---------------------------------------------------------------------------- problems


class Where:
    """Where the problems of one data file are reported, and the problems found so far."""

    def __init__(self, data: str, key_path: str, scenario_file: str | None) -> None:
        self.key_path = key_path
        self.file = scenario_file if scenario_file is not None else data
        self.prefix = "" if scenario_file is None else f"{data}: "  # name the data file once
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        """Note a problem of this entry's ``key`` (``start``: the scenario's own)."""
        path = key if key == "start" else f"{self.key_path}.{key}"
        self.problems.append(Problem(self.file, path, self.prefix + message))

    def fail(self, key: str, message: str) -> NoReturn:
        """Note a problem and stop: nothing more can be read."""
        self.add(key, message)
        raise ScenarioError(self.problems)

    def check(self) -> None:
        """Stop with every problem noted so far, if any."""
        if self.problems:
            raise ScenarioError(self.problems)


def listing(rows: np.ndarray | Sequence[int], describe: Callable[[int], str]) -> str:
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


def column_names(columns: Mapping[str, str] | None, where: Where) -> dict[str, str]:
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


def read_table(path: Path, fmt: str, names: dict[str, str], where: Where) -> Any:
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


def _csv_faults(path: Path, where: Where) -> None:
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
                          f" not UTF-8 text: " + listing(range(len(undecodable)), lambda k:
                          f"row {undecodable[k][0]} (column {undecodable[k][1]})")
                          + "; save the file as UTF-8")
    if ragged:
        where.add("file", f"{len(ragged):,} row{'s have' if len(ragged) > 1 else ' has'} "
                          f"another number of values than the header's {len(header)}: "
                          + listing(range(len(ragged)), lambda k:
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


def _resolve_id(names: dict[str, str], have: list[str], where: Where) -> None:
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


def report(where: Where, rows: np.ndarray, column: str, what: str,
            describe: Callable[[int], str], form: str) -> None:
    """One problem for the rows (file indices) where a column is wrong in one way."""
    if len(rows):
        count = f"{len(rows):,} value{'s are' if len(rows) > 1 else ' is'}"
        where.add("file", f"column {column!r}: {count} {what}: {listing(rows, describe)}; "
                          f"{form}")


def _value_of(array: Any) -> Callable[[int], str]:
    return lambda i: f"row {i + 1} ({_short(array[i].as_py())})"


def number_column(array: Any, column: str, form: str, where: Where
                  ) -> tuple[np.ndarray, np.ndarray]:
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
    report(where, np.flatnonzero(bad), column, "not a finite number",
            _value_of(shown), form)
    return values, bad


def id_column(array: Any, column: str, where: Where
              ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Each row's aircraft as a code that sorts like its id, the ids by code, bad rows."""
    import pyarrow.compute as pc

    text = _as_text(array)
    bad = np.asarray(pc.fill_null(pc.equal(text, ""), True))
    report(where, np.flatnonzero(bad), column, "empty",
            lambda i: f"row {i + 1}", "give every report its aircraft's id, such as 3c6444")
    encoded = pc.dictionary_encode(text)
    names: list[str] = [n if n is not None else "" for n in encoded.dictionary.to_pylist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    codes = rank[pc.fill_null(encoded.indices, 0).to_numpy()] if names else \
        np.zeros(len(text), np.int64)
    return codes, [names[k] for k in order], bad


def time_column(array: Any, column: str, start_utc: str | None,
           where: Where) -> tuple[np.ndarray, np.ndarray]:
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
        report(where, np.flatnonzero(bad), column, f"empty, or outside the years "
                f"{YEARS[0]}-{YEARS[1]}", _value_of(array), TIME_FORM)
    elif _is_text(array):
        text = _as_text(array)
        iso = pc.fill_null(pc.match_substring_regex(text, _ISO), False)
        plain = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
        # A column holds one kind of time: most of its values tell which.
        if (pc.sum(iso).as_py() or 0) <= (pc.sum(plain).as_py() or 0):
            return number_column(array, column, TIME_FORM, where)
        ns, bad = _iso_ns(text, iso, column, where)
    else:
        return number_column(array, column, TIME_FORM, where)
    start_ns = _start_ns(start_utc, column, where)
    return (ns - start_ns) / 1e9, bad


def _iso_ns(text: Any, iso: Any, column: str, where: Where) -> tuple[np.ndarray, np.ndarray]:
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
    report(where, np.flatnonzero(bad), column,
            f"not an ISO 8601 time of the years {YEARS[0]}-{YEARS[1]}",
            _value_of(text), TIME_FORM)
    return ns, bad


def _is_date(text: str) -> bool:
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return YEARS[0] <= date.year <= YEARS[1]


def _start_ns(start_utc: str | None, column: str, where: Where) -> int:
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
