"""Read a run folder back (for ``plot``, ``compare`` and ``report``): every file checked,
every problem reported with the file, the row and the column, never a traceback.

The scenario comes back from the folder's ``scenario.yaml`` (every default filled, the
frame pinned), so the geography it builds is the one the run flew in.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.hotline import Message
from sim.output import (
    FLIGHT_COLUMNS,
    HOTLINE_COLUMNS,
    TRACK_COLUMNS,
    ZONE_COLUMNS,
)
from sim.records import EVENT_COLUMNS, Episode, FlightRecord
from sim.scenario import Scenario, ScenarioError, load_scenario

REQUIRED = ("summary.json", "stats.json", "events.csv", "flights.csv", "tracks.csv",
            "hotline.csv", "zones.csv", "scenario.yaml")
MAX_CSV_FIELD = 10_000_000  # a zone's WKT can be long; a run folder's is never longer


class RunFolderError(Exception):
    """A folder that is not a readable run folder (exit code 2)."""


@dataclass(frozen=True, slots=True)
class ZoneRecord:
    """A zone as the run folder lists it, its ring in lon/lat."""

    id: str
    party: str
    origin: str  # written | work_area
    declare: bool
    floor_m: float
    ceiling_m: float  # math.inf: no ceiling
    active_start_s: float
    active_end_s: float
    known_s: float
    ring_lonlat: np.ndarray  # (k, 2)


@dataclass(frozen=True, slots=True)
class Track:
    """A sampled flight's waypoints as flown: times, lon, lat, and its altitude."""

    flight: str
    party: str
    t_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    altitude_m: float


@dataclass(frozen=True, slots=True)
class RunFolder:
    """Everything a run folder holds, read back and checked."""

    path: Path
    scenario: Scenario
    summary: dict[str, Any]
    stats: dict[str, Any]
    episodes: tuple[Episode, ...]
    flights: tuple[FlightRecord, ...]
    aircraft: dict[str, str]  # flight id -> aircraft type ("" for explicit flights)
    messages: tuple[Message, ...]
    zones: tuple[ZoneRecord, ...]
    tracks: tuple[Track, ...]

    @property
    def label(self) -> str:
        """A short name for tables and legends: the folder's name."""
        return self.path.name


def load_run_folder(path: str | Path) -> RunFolder:
    """Read a run folder written by ``deconflict run``.

    Raises:
        RunFolderError: the folder is missing, incomplete or has a malformed file; the
            message names the file, the row and column, and what was expected.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder; give a run folder written by "
                             "`deconflict run` (it holds summary.json, events.csv, ...)")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise RunFolderError(
            f"{folder}: not a complete run folder: missing {', '.join(missing)}; run the "
            "scenario again with this version (`deconflict run SCENARIO.yaml --out "
            f"{folder} --force`)")
    try:
        scenario = load_scenario(folder / "scenario.yaml")
    except ScenarioError as exc:
        raise RunFolderError(f"{folder / 'scenario.yaml'}: not a valid scenario:\n{exc}"
                             ) from None
    summary = _json(folder / "summary.json", ("scenario", "seed", "flights", "rules"))
    stats = _json(folder / "stats.json", ("exposure", "rates", "miss_distance", "severity",
                                          "time_in_violation", "hotline"))
    flights, aircraft = _flights(folder / "flights.csv")
    return RunFolder(folder, scenario, summary, stats, _episodes(folder / "events.csv"),
                     flights, aircraft, _messages(folder / "hotline.csv"),
                     _zones(folder / "zones.csv"), _tracks(folder / "tracks.csv"))


def _json(file: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{file}: cannot be read as JSON ({exc})") from None
    if not isinstance(document, dict):
        raise RunFolderError(f"{file}: expected a JSON object, found {type(document).__name__}")
    absent = [k for k in keys if k not in document]
    if absent:
        raise RunFolderError(f"{file}: missing the key(s) {', '.join(absent)}; was it written "
                             "by this version of deconflict?")
    return document


class _Rows:
    """The rows of a CSV file as dicts, with typed cell readers that name the file, row
    and column of a bad cell."""

    def __init__(self, file: Path, columns: tuple[str, ...]) -> None:
        self.file = file
        self.columns = columns

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        csv.field_size_limit(MAX_CSV_FIELD)
        try:
            with open(self.file, encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                absent = [c for c in self.columns if c not in (reader.fieldnames or [])]
                if absent:
                    raise RunFolderError(
                        f"{self.file}: missing the column(s) {', '.join(absent)}; expected "
                        f"the header {','.join(self.columns)}")
                for row in reader:
                    if None in row or any(row[c] is None for c in self.columns):
                        raise RunFolderError(f"{self.file}, row {reader.line_num}: expected "
                                             f"{len(reader.fieldnames or [])} cells")
                    yield reader.line_num, row
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RunFolderError(f"{self.file}: cannot be read as CSV ({exc})") from None

    def cell(self, line: int, row: dict[str, str], column: str,
             parse: Callable[[str], Any], expected: str) -> Any:
        try:
            return parse(row[column])
        except (ValueError, TypeError):
            raise RunFolderError(f"{self.file}, row {line}, column {column}: "
                                 f"{row[column]!r} is not {expected}") from None


def _float(text: str) -> float:
    value = float(text)
    if math.isnan(value):
        raise ValueError(text)
    return value


def _optional_float(text: str) -> float | None:
    return None if text == "" else _float(text)


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


def _optional_flag(text: str) -> bool | None:
    return None if text == "" else _flag(text)


NUMBER, FLAG = "a number", "true or false"


def _episodes(file: Path) -> tuple[Episode, ...]:
    rows = _Rows(file, EVENT_COLUMNS)
    out = []
    for line, row in rows:
        def get(column: str, parse: Callable[[str], Any] = _float, expected: str = NUMBER,
                line: int = line, row: dict[str, str] = row) -> Any:
            return rows.cell(line, row, column, parse, expected)

        out.append(Episode(
            row["rule"], row["type"], row["party"], row["aircraft"], row["other_party"],
            row["other_aircraft"], row["zone"], get("start_s"), get("end_s"),
            get("min_distance_m", _optional_float, "a number or empty"),
            get("min_time_s", _optional_float, "a number or empty"), get("x_m"), get("y_m"),
            get("lon"), get("lat"), get("informed", _optional_flag, "true, false or empty"),
            get("vertical_m", _optional_float, "a number or empty"), row["cause"],
            row["declaration"]))
    return tuple(out)


def _flights(file: Path) -> tuple[tuple[FlightRecord, ...], dict[str, str]]:
    rows = _Rows(file, FLIGHT_COLUMNS)
    flights, aircraft = [], {}
    for line, row in rows:
        depart, land, airborne = (rows.cell(line, row, c, _float, NUMBER)
                                  for c in ("depart_s", "land_s", "airborne_s"))
        flights.append(FlightRecord(row["flight"], row["party"], depart, land, airborne))
        aircraft[row["flight"]] = row["aircraft"]
    return tuple(flights), aircraft


def _messages(file: Path) -> tuple[Message, ...]:
    rows = _Rows(file, HOTLINE_COLUMNS)
    return tuple(Message(
        rows.cell(line, row, "call", int, "a whole number"), row["kind"], row["sender"],
        row["recipient"], row["item_type"], row["item"],
        rows.cell(line, row, "sent_s", _float, NUMBER),
        rows.cell(line, row, "lost", _flag, FLAG),
        rows.cell(line, row, "received_s", _optional_float, "a number or empty"))
        for line, row in rows)


def _ring(text: str) -> np.ndarray:
    """A WKT ``POLYGON ((lon lat, ...))`` ring (as zones.csv writes it)."""
    body = text.strip()
    if not (body.startswith("POLYGON ((") and body.endswith("))")):
        raise ValueError(text)
    points = [p.split() for p in body[len("POLYGON (("):-2].split(",")]
    ring = np.array([[float(a), float(b)] for a, b in points], float)
    if len(ring) < 4 or not np.isfinite(ring).all():
        raise ValueError(text)
    return ring


def _zones(file: Path) -> tuple[ZoneRecord, ...]:
    rows = _Rows(file, ZONE_COLUMNS)
    out = []
    for line, row in rows:
        def get(column: str, parse: Callable[[str], Any] = _float, expected: str = NUMBER,
                line: int = line, row: dict[str, str] = row) -> Any:
            return rows.cell(line, row, column, parse, expected)

        ceiling = get("ceiling_m", _optional_float, "a number or empty")
        out.append(ZoneRecord(
            row["zone"], row["party"], row["origin"], get("declare", _flag, FLAG),
            get("floor_m"), math.inf if ceiling is None else ceiling, get("active_start_s"),
            get("active_end_s"), get("known_s"),
            get("wkt_lonlat", _ring, "a WKT polygon such as POLYGON ((40.1 35.2, ...))")))
    return tuple(out)


def _tracks(file: Path) -> tuple[Track, ...]:
    rows = _Rows(file, TRACK_COLUMNS)
    points: dict[str, list[tuple[float, float, float]]] = {}
    meta: dict[str, tuple[str, float]] = {}
    for line, row in rows:
        t, lon, lat, alt = (rows.cell(line, row, c, _float, NUMBER)
                            for c in ("t_s", "lon", "lat", "altitude_m"))
        points.setdefault(row["flight"], []).append((t, lon, lat))
        meta.setdefault(row["flight"], (row["party"], alt))
    out = []
    for flight, pts in points.items():
        t, lon, lat = np.array(pts, float).T
        out.append(Track(flight, meta[flight][0], t, lon, lat, meta[flight][1]))
    return tuple(out)
