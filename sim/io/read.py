"""Read a run folder back (for ``plot``, ``compare`` and ``report``): every file checked,
every problem reported with the file, the row and the column, never a traceback.

The scenario comes back from the folder's ``scenario.yaml`` (every default filled, the
frame pinned), so the geography it builds is the one the run flew in.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import __version__
from sim.analysis.metrics import (
    near_miss_stats,
    replication_summary,
    reported_summary,
    reported_verdicts,
)
from sim.io.write import FLIGHT_COLUMNS, HOTLINE_COLUMNS, TRACK_COLUMNS, ZONE_COLUMNS, product_kind
from sim.model.errors import InputError
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.records import EVENT_COLUMNS, Episode, FlightRecord, Message
from sim.model.scenario import Scenario, ScenarioError, load_scenario

REQUIRED = ("summary.json", "stats.json", "events.csv", "flights.csv", "tracks.csv",
            "hotline.csv", "zones.csv", "scenario.yaml")
RUN_FILES = (*REQUIRED, "replications.csv")  # every file deconflict run writes
MAX_CSV_FIELD = 10_000_000  # a zone's WKT can be long; a run folder's is never longer


class RunFolderError(InputError):
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
    """A sampled flight's waypoints as flown: times, lon, lat and altitude (m) of each."""

    flight: str
    party: str
    t_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    altitude_m: np.ndarray


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
        full = self.path.resolve()
        return full.name or str(full)


def _remedy(folder: Path) -> str:
    """What to do about a folder that is not a run folder; ``--force`` is suggested only for
    a run folder deconflict wrote (it would delete anything else)."""
    kind = product_kind(folder)
    if (folder / "results.sqlite").is_file() or kind == "sweep":
        return ("it is a sweep folder: `deconflict plot` draws its figures; give one of its "
                "runs, or run a grid point into a new folder")
    if kind == "run":
        return ("run the scenario again with this version (`deconflict run SCENARIO.yaml "
                f"--out {folder} --force`)")
    if kind is not None:
        return f"it is a {kind} folder; give the run folder it was drawn from"
    return ("give a run folder written by `deconflict run`, or run the scenario into a new "
            "folder (`deconflict run SCENARIO.yaml --out NEW_FOLDER`)")


def load_run_folder(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> RunFolder:
    """Read a run folder written by ``deconflict run`` (its scenario checked against
    ``limits``: a run made with raised limits is read with the same).

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
        raise RunFolderError(f"{folder}: not a complete run folder: missing "
                             f"{', '.join(missing)}; {_remedy(folder)}")
    try:
        # Its recorded files are named by absolute paths, and are not needed to read it.
        scenario = load_scenario(folder / "scenario.yaml", limits=limits, allow_outside=True,
                                 data_files=False)
    except ScenarioError as exc:
        raise RunFolderError(f"{folder / 'scenario.yaml'}: not a valid scenario:\n{exc}"
                             ) from None
    summary = _json(folder / "summary.json", ("scenario", "seed", "flights", "rules",
                                              "hotline", "reported"))
    stored = _json(folder / "stats.json", ("exposure", "rates", "miss_distance", "severity",
                                           "time_in_violation", "hotline"))
    episodes = _episodes(folder / "events.csv")
    flights, aircraft = _flights(folder / "flights.csv")
    messages = _messages(folder / "hotline.csv")
    zones = _zones(folder / "zones.csv")
    tracks = _tracks(folder / "tracks.csv")
    _check_names(folder, scenario, episodes, flights, messages, zones, tracks)
    stats = _checked_stats(folder, scenario, summary, stored, episodes, flights)
    return RunFolder(folder, scenario, summary, stats, episodes, flights, aircraft, messages,
                     zones, tracks)


def _check_names(folder: Path, scenario: Scenario, episodes: Sequence[Episode],
                 flights: Sequence[FlightRecord], messages: Sequence[Message],
                 zones: Sequence[ZoneRecord], tracks: Sequence[Track]) -> None:
    """Every rule, party and flight the files name is one the scenario has."""
    rules = {r.id: r.type for r in scenario.rules}
    parties = set(scenario.parties)
    accepted = f"the scenario's parties are {', '.join(sorted(parties)) or 'none'}"
    for k, e in enumerate(episodes):
        where = f"{folder / 'events.csv'}, row {k + 2}"
        if rules.get(e.rule) != e.type:
            raise RunFolderError(
                f"{where}: rule {e.rule!r} of type {e.type!r} is not in scenario.yaml "
                f"(its rules: {', '.join(f'{r} ({t})' for r, t in rules.items()) or 'none'})")
        if e.party not in parties:
            raise RunFolderError(f"{where}: party {e.party!r} is unknown; {accepted}")
    for name, rows in (("flights.csv", [f.party for f in flights]),
                       ("zones.csv", [z.party for z in zones]),
                       ("hotline.csv", [m.sender for m in messages]),
                       ("hotline.csv", [m.recipient for m in messages])):
        for k, party in enumerate(rows):
            if party not in parties:
                raise RunFolderError(f"{folder / name}, row {k + 2}: party {party!r} is "
                                     f"unknown; {accepted}")
    for track in tracks:
        if track.party not in parties:
            raise RunFolderError(f"{folder / 'tracks.csv'}: flight {track.flight!r} has the "
                                 f"unknown party {track.party!r}; {accepted}")


def _checked_stats(folder: Path, scenario: Scenario, summary: dict[str, Any],
                   stored: dict[str, Any], episodes: Sequence[Episode],
                   flights: Sequence[FlightRecord]) -> dict[str, Any]:
    """The statistics, recomputed from the episodes and flights, which must agree with
    ``stats.json`` (and the reported rates with ``summary.json``): a folder whose files
    were edited apart from one another is refused rather than drawn wrong."""
    hotline = summary["hotline"]
    if not isinstance(hotline, dict) or not all(
            _is_number(hotline.get(k, 0)) for k in HOTLINE_NUMBERS) or not (
            isinstance(hotline.get("complaints_by_party", {}), dict)
            and all(_is_number(v) for v in hotline.get("complaints_by_party", {}).values())):
        raise RunFolderError(f"{folder / 'summary.json'}: 'hotline' must be an object of "
                             "counts, as deconflict run writes it")
    interference = summary.get("interference")
    stats = near_miss_stats(scenario, episodes, flights, hotline, interference=interference
                            if isinstance(interference, dict) else None)
    mismatch = [k for k in stats if k != "version" and stored.get(k) != stats[k]]
    if mismatch:
        raise RunFolderError(
            f"{folder / 'stats.json'}: {', '.join(mismatch)} disagree(s) with events.csv, "
            "flights.csv and scenario.yaml (edited by hand, or written by another "
            f"version: {stored.get('version')!r}, this is {__version__}); run the scenario "
            "again to rebuild the folder")
    if summary["reported"] != reported_summary(scenario, episodes):
        raise RunFolderError(f"{folder / 'summary.json'}: 'reported' disagrees with events.csv"
                             " and scenario.yaml; run the scenario again to rebuild the folder")
    if "replications" in stored:
        # The seeds, means and intervals are recomputed from replications.csv, the rows
        # they summarise: a section edited by hand (or of another shape) is refused.
        seeds, samples = _replication_rows(folder / "replications.csv")
        # In stats.json's order (the bootstrap draws for one metric after another); the
        # file's columns are sorted.
        section = stored["replications"]
        written = section.get("metrics") if isinstance(section, dict) else None
        order = {name: k for k, name in enumerate(written if isinstance(written, dict) else ())}
        samples = [dict(sorted(row.items(), key=lambda item: (order.get(item[0], len(order)),
                                                              item[0]))) for row in samples]
        again = json.loads(json.dumps(
            {"seeds": seeds, "metrics": replication_summary(samples, scenario.seed)}))
        if again != section:
            raise RunFolderError(f"{folder / 'stats.json'}: 'replications' disagrees with "
                                 "replications.csv; run the scenario again to rebuild the "
                                 "folder")
        stats["replications"] = again
    elif (folder / "replications.csv").exists():
        raise RunFolderError(f"{folder / 'replications.csv'}: stats.json has no "
                             "'replications' section to go with it; run the scenario again to "
                             "rebuild the folder")
    if "reported" in stored or summary["reported"]:
        # The verdicts that count (from the replications when there are some) are
        # recomputed too, so that a verdict edited by hand is refused, not shown.
        verdicts = reported_verdicts(summary["reported"], stats.get("replications"),
                                     float(stats["days"]))
        if stored.get("reported") != verdicts:
            raise RunFolderError(f"{folder / 'stats.json'}: 'reported' disagrees with "
                                 "summary.json and the replications; run the scenario again "
                                 "to rebuild the folder")
        stats["reported"] = verdicts
    return stats


HOTLINE_NUMBERS = ("calls", "scheduled_calls", "declared", "lost", "complaints",
                   "complaints_lost", "complaints_per_call")


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _replication_rows(file: Path) -> tuple[list[int], list[dict[str, float]]]:
    """The seeds and headline metrics of ``replications.csv`` (an empty cell: a metric that
    replication did not have)."""
    if not file.is_file():
        raise RunFolderError(f"{file}: missing: stats.json has replications; run the scenario "
                             "again to rebuild the folder")
    seeds, samples = [], []
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or header[:2] != ["replication", "seed"]:
            raise RunFolderError(f"{file}: the header must start replication,seed, as "
                                 "deconflict run writes it")
        for k, row in enumerate(reader):
            try:
                if len(row) != len(header) or int(row[0]) != k or not row[1].isdigit():
                    raise ValueError
                seeds.append(int(row[1]))
                samples.append({name: float(v) for name, v in zip(header[2:], row[2:],
                                                                  strict=True) if v != ""})
            except ValueError:
                raise RunFolderError(f"{file}, row {k + 2}: expected the replication number "
                                     f"{k}, its seed (a whole number) and {len(header) - 2} "
                                     "numbers or empty cells") from None
    if not seeds:
        raise RunFolderError(f"{file}: no replications")
    return seeds, samples


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json(file: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"),
                              parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
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

    def __iter__(self) -> Iterator[_Row]:
        previous = csv.field_size_limit(MAX_CSV_FIELD)  # process-wide: put back after
        try:
            yield from self._read()
        finally:
            csv.field_size_limit(previous)

    def _read(self) -> Iterator[_Row]:
        try:
            # utf-8-sig: a byte-order mark (a spreadsheet's "CSV UTF-8") is not a header.
            with open(self.file, encoding="utf-8-sig", newline="") as handle:
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
                    yield _Row(self.file, reader.line_num, row)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RunFolderError(f"{self.file}: cannot be read as CSV ({exc})") from None



@dataclass(frozen=True, slots=True)
class _Row:
    """One row of a run-folder CSV: its text cells, and typed reading of a cell."""

    file: Path
    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells[column]

    def get(self, column: str, parse: Callable[[str], Any] | None = None,
            expected: str = "a number") -> Any:
        """The cell parsed (a finite number by default), or an error naming the file, row,
        column and what was expected."""
        text = self.cells[column]
        try:
            return (parse or _float)(text)
        except (ValueError, TypeError):
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise RunFolderError(f"{self.file}, row {self.line}, column {column}: "
                                 f"{shown!r} is not {expected}") from None


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # the writer writes no NaN or infinity (no ceiling: empty)
        raise ValueError(text)
    return value


def _lon(text: str) -> float:
    value = _float(text)
    if not -180.0 <= value <= 180.0:
        raise ValueError(text)
    return value


def _lat(text: str) -> float:
    value = _float(text)
    if not -90.0 <= value <= 90.0:
        raise ValueError(text)
    return value


LON, LAT = "a longitude in degrees (-180 to 180)", "a latitude in degrees (-90 to 90)"


def _optional_float(text: str) -> float | None:
    return None if text == "" else _float(text)


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


def _optional_flag(text: str) -> bool | None:
    return None if text == "" else _flag(text)


FLAG = "true or false"


def _episodes(file: Path) -> tuple[Episode, ...]:
    rows = _Rows(file, EVENT_COLUMNS)
    out = []
    for row in rows:
        get = row.get
        out.append(Episode(
            row["rule"], row["type"], row["party"], row["aircraft"], row["other_party"],
            row["other_aircraft"], row["zone"], get("start_s"), get("end_s"),
            get("min_distance_m", _optional_float, "a number or empty"),
            get("min_time_s", _optional_float, "a number or empty"), get("x_m"), get("y_m"),
            get("lon", _lon, LON), get("lat", _lat, LAT),
            get("informed", _optional_flag, "true, false or empty"),
            get("vertical_m", _optional_float, "a number or empty"), row["cause"],
            row["declaration"], get("min_slant_m", _optional_float, "a number or empty")))
    return tuple(out)


def _flights(file: Path) -> tuple[tuple[FlightRecord, ...], dict[str, str]]:
    rows = _Rows(file, FLIGHT_COLUMNS)
    flights, aircraft = [], {}
    for row in rows:
        depart, land, airborne = (row.get(c) for c in ("depart_s", "land_s", "airborne_s"))
        flights.append(FlightRecord(row["flight"], row["party"], depart, land, airborne))
        aircraft[row["flight"]] = row["aircraft"]
    return tuple(flights), aircraft


def _messages(file: Path) -> tuple[Message, ...]:
    rows = _Rows(file, HOTLINE_COLUMNS)
    return tuple(Message(
        row.get("call", int, "a whole number"), row["kind"], row["sender"],
        row["recipient"], row["item_type"], row["item"], row.get("sent_s"),
        row.get("lost", _flag, FLAG), row.get("received_s", _optional_float, "a number or empty"))
        for row in rows)


def _ring(text: str) -> np.ndarray:
    """A WKT ``POLYGON ((lon lat, ...))`` ring (as zones.csv writes it)."""
    body = text.strip()
    if not (body.startswith("POLYGON ((") and body.endswith("))")):
        raise ValueError(text)
    points = [p.split() for p in body[len("POLYGON (("):-2].split(",")]
    ring = np.array([[_lon(a), _lat(b)] for a, b in points], float)
    # Closed, at least a triangle. Not necessarily simple in lon/lat: an area that is simple
    # in the run's plane may wrap round a pole or the antimeridian, or collapse at the
    # written precision (a zone smaller than 0.1 m), and is still the run's.
    if len(ring) < 4 or not np.array_equal(ring[0], ring[-1]):
        raise ValueError(text)
    return ring


def _zones(file: Path) -> tuple[ZoneRecord, ...]:
    rows = _Rows(file, ZONE_COLUMNS)
    out = []
    for row in rows:
        get = row.get
        ceiling = get("ceiling_m", _optional_float, "a number or empty")
        out.append(ZoneRecord(
            row["zone"], row["party"], row["origin"], get("declare", _flag, FLAG),
            get("floor_m"), math.inf if ceiling is None else ceiling, get("active_start_s"),
            get("active_end_s"), get("known_s"),
            get("wkt_lonlat", _ring, "a closed polygon in WKT, lon lat, such as "
                "POLYGON ((40.1 35.2, 40.3 35.2, 40.2 35.4, 40.1 35.2))")))
    return tuple(out)


def _tracks(file: Path) -> tuple[Track, ...]:
    rows = _Rows(file, TRACK_COLUMNS)
    points: dict[str, list[tuple[float, float, float, float]]] = {}
    party: dict[str, str] = {}
    for row in rows:
        t, alt = row.get("t_s"), row.get("altitude_m")
        lon, lat = row.get("lon", _lon, LON), row.get("lat", _lat, LAT)
        points.setdefault(row["flight"], []).append((t, lon, lat, alt))
        party.setdefault(row["flight"], row["party"])
    out = []
    for flight, pts in points.items():
        t, lon, lat, alt = np.array(pts, float).T
        out.append(Track(flight, party[flight], t, lon, lat, alt))
    return tuple(out)
