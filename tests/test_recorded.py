"""Recorded tracks (issue 18): sim.traffic.recorded reads CSV and Parquet into tracks.

Every bad-data case is a row of one table (the file, the key path, the row and column the
message must name); then the good cases, and a property: random tracks written to CSV
read back as the same tracks.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from sim.model.scenario import ScenarioError
from sim.model.units import FOOT, KNOT
from sim.traffic.recorded import MAX_LISTED, RecordedTrack, read_recorded

ROOT = Path(__file__).resolve().parent.parent
START = "2017-12-13T06:00:00Z"
HEADER = "timestamp,icao24,callsign,latitude,longitude,altitude\n"
# Four reports of one aircraft, 10 s apart, about 1.1 km apart (about 216 kt).
GOOD = HEADER + "".join(f"2017-12-13T06:00:{10 * k:02d}Z,abc123,IRAQI1,{35 + 0.01 * k},40.0,"
                        f"25000\n" for k in range(4))


def write(folder: Path, text: str | bytes, name: str = "tracks.csv") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def write_parquet(folder: Path, data: dict[str, Any], name: str = "tracks.parquet") -> Path:
    path = folder / name
    pq.write_table(pa.table(data), path)
    return path


def read(path: Path, **options: Any) -> list[RecordedTrack]:
    options = {"fmt": "parquet" if path.suffix == ".parquet" else "csv", "start_utc": START,
               **options}
    return read_recorded(path, **options)


def refused(path: Path, **options: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        read(path, **options)
    return caught.value


def rows(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def ok(k: int, lat: float = 35.0, lon: float = 40.0, alt: str = "25000", icao: str = "abc123",
       seconds: int | None = None) -> str:
    """A good report line, 10 s after the one before (or at ``seconds`` after the start)."""
    at = dt.datetime(2017, 12, 13, 6, tzinfo=dt.timezone.utc) + dt.timedelta(
        seconds=10 * k if seconds is None else seconds)
    return f"{at:%Y-%m-%dT%H:%M:%SZ},{icao},CS,{lat + 0.01 * k},{lon},{alt}"


# ---------------------------------------------------------------------------- bad data

# (name, file content or a maker, read options, key path, texts the message must hold)
BAD_CSV: list[tuple[str, str | bytes, dict[str, Any], str, tuple[str, ...]]] = [
    ("text in a number column", rows(ok(0), ok(1, lat=0).replace(",0.01,", ",abc,"), ok(2)),
     {}, "recorded[0].file", ("column 'latitude'", "row 2 ('abc')", "not a finite number",
                              "such as 35.33")),
    ("nan", rows(ok(0), ok(1), ok(2, alt="NaN")), {}, "recorded[0].file",
     ("column 'altitude'", "row 3 ('NaN')", "not a finite number", "such as 25000")),
    ("inf", rows(ok(0), ok(1, alt="-inf"), ok(2)), {}, "recorded[0].file",
     ("column 'altitude'", "row 2 ('-inf')", "not a finite number")),
    ("too large to be finite", rows(ok(0), ok(1, alt="1e999"), ok(2)), {}, "recorded[0].file",
     ("column 'altitude'", "row 2 ('1e999')")),
    ("empty", rows(ok(0), ok(1), ok(2, alt="")), {}, "recorded[0].file",
     ("column 'altitude'", "row 3 (empty)")),
    ("a time that is not a time", rows(ok(0), ok(1).replace("T06:00:10Z", "T06:00:10Zulu"),
                                       ok(2)),
     {}, "recorded[0].file", ("column 'timestamp'", "row 2 ('2017-12-13T06:00:10Zulu')",
                              "not an ISO 8601 time", "2017-12-13T06:00:00Z")),
    ("a day past its month's end", rows(ok(0), ok(1).replace("2017-12-13", "2017-02-30"),
                                        ok(2)),
     {}, "recorded[0].file", ("column 'timestamp'", "row 2 ('2017-02-30T06:00:10Z')")),
    ("a year too far", rows(ok(0), ok(1).replace("2017-12-13", "9999-12-13"), ok(2)),
     {}, "recorded[0].file", ("column 'timestamp'", "row 2 ('9999-12-13T06:00:10Z')",
                              "of the years 1678-2261")),
    ("a number among ISO times", rows(ok(0), ok(1), "30,abc123,CS,35.02,40.0,25000"), {},
     "recorded[0].file", ("column 'timestamp'", "row 3 ('30')", "not an ISO 8601 time")),
    ("text among seconds", HEADER + "0,a,CS,35,40,1\n10,a,CS,35,40,1\nsoon,a,CS,35,40,1\n", {},
     "recorded[0].file", ("column 'timestamp'", "row 3 ('soon')", "not a finite number",
                          "seconds on the run's clock")),
    ("ISO times and no start", GOOD, {"start_utc": None}, "start",
     ("column 'timestamp'", "has none", "start: 2017-12-13T06:00:00Z")),
    ("latitude outside", rows(ok(0), ok(1), ok(2, lat=95)), {}, "recorded[0].file",
     ("column 'latitude'", "row 3 (95.02)", "outside -90..90", "from -90 to 90")),
    ("longitude outside", rows(ok(0, lon=-180.5), ok(1), ok(2)), {}, "recorded[0].file",
     ("column 'longitude'", "row 1 (-180.5)", "outside -180..180")),
    ("an empty id", rows(ok(0), ok(1, icao=""), ok(2)), {}, "recorded[0].file",
     ("column 'icao24'", "row 2", "empty", "such as 3c6444")),
    ("one time, two positions", rows(ok(0), ok(1), ok(2, seconds=10), ok(3)), {},
     "recorded[0].file", ("rows 2 and 3", "abc123 at 10 s", "different positions")),
    ("too fast", rows(ok(0), ok(1, lat=36), ok(2, lat=36)), {}, "recorded[0].max_speed",
     ("rows 1 and 2", "abc123", "kt over 10 s", "faster than max_speed (1200 kt)",
      "max_speed: \"1500 kt\"")),
    ("single reports only", rows(ok(0), ok(1, seconds=1000), ok(2, icao="def456")), {},
     "recorded[0].file", ("gives no track: no aircraft has two reports within max_gap",)),
    ("a flight's name taken", rows(ok(0), ok(1), ok(20, seconds=600), ok(21, seconds=610),
                                   ok(0, icao="abc123#2"), ok(1, icao="abc123#2")),
     {}, "recorded[0].file", ("'abc123#2' is also an id in the file", "raise max_gap")),
    ("a missing column", GOOD.replace("latitude", "lat"), {}, "recorded[0].columns.latitude",
     ("no column 'latitude'", "'timestamp', 'icao24', 'callsign', 'lat', 'longitude'",
      "latitude: LATITUDE")),
    ("no id column", GOOD.replace("icao24", "hex").replace("callsign", "flight"), {},
     "recorded[0].columns.id", ("no column 'icao24' or 'callsign'", "'hex'", "id: ICAO24")),
    ("a mapped column missing", GOOD, {"columns": {"altitude": "alt_m"}},
     "recorded[0].columns.altitude", ("no column 'alt_m' for the altitude",)),
    ("an unknown column key", GOOD, {"columns": {"lat": "latitude"}}, "recorded[0].columns.lat",
     ("unknown column key", "timestamp, id, latitude, longitude, altitude")),
    ("a ragged line", GOOD + "2017-12-13T06:01:00Z,abc123\n", {}, "recorded[0].file",
     ("1 row has another number of values than the header's 6: row 5 (2);",)),
    ("not UTF-8", GOOD.encode() + b"2017-12-13T06:01:00Z,\xff\xfe,CS,35,40,1\n", {},
     "recorded[0].file", ("1 row is not UTF-8 text: row 5 (column 'icao24');",)),
    ("an empty file", "", {}, "recorded[0].file", ("cannot be read as CSV", "Empty CSV file")),
    ("a header only", HEADER, {}, "recorded[0].file", ("holds no reports",)),
    ("a CSV read as Parquet", GOOD, {"fmt": "parquet"}, "recorded[0].format",
     ("is not a Parquet file", "format: csv")),
]


@pytest.mark.parametrize(("content", "options", "key", "texts"),
                         [case[1:] for case in BAD_CSV], ids=[case[0] for case in BAD_CSV])
def test_bad_csv_is_refused_naming_row_and_column(tmp_path, content, options, key, texts):
    path = write(tmp_path, content)
    error = refused(path, **options)
    assert len(error.problems) == 1, error
    problem = error.problems[0]
    assert problem.path == key
    assert problem.file == str(path)  # no scenario file given: the data file
    for text in texts:
        assert text in problem.message, (text, problem.message)


def test_rows_are_reports_counted_from_one_blank_lines_not_counted(tmp_path):
    text = rows(ok(0), "", ok(1).replace(",35.01,", ",x,"), ok(2))
    assert "row 2 ('x')" in refused(write(tmp_path, text)).problems[0].message


def test_a_bad_line_past_the_first_block_is_found(tmp_path):
    lines = [ok(k % 300, icao=f"a{k // 300}") for k in range(30_000)]  # about 1.7 MB
    lines[20_000] = "2017-12-13T06:00:00Z,a1,CS"
    lines[25_000] = lines[25_000].replace("a83", "NOT-UTF-8")
    data = rows(*lines).encode().replace(b"NOT-UTF-8", b"\xff")
    problems = refused(write(tmp_path, data)).problems
    assert [p.message for p in problems] == [
        "1 row is not UTF-8 text: row 25001 (column 'icao24'); save the file as UTF-8",
        "1 row has another number of values than the header's 6: row 20001 (3); give each "
        "row one value for each column of the header (a value with a comma or a line break "
        "in it is quoted, on one line)"]


def test_a_missing_file_and_a_folder(tmp_path):
    error = refused(tmp_path / "nowhere.csv")
    assert [(p.file, p.path, p.message) for p in error.problems] == [
        (str(tmp_path / "nowhere.csv"), "recorded[0].file", "no such file")]
    error = refused(tmp_path, fmt="csv", key_path="recorded[3]")
    assert error.problems[0].path == "recorded[3].file"
    assert "is a folder" in error.problems[0].message


def test_a_parquet_file_read_as_csv(tmp_path):
    path = write_parquet(tmp_path, {"timestamp": [0.0, 1.0]})
    error = refused(path, fmt="csv")
    assert error.problems[0].path == "recorded[0].format"
    assert "is a Parquet file, not CSV text; write format: parquet" in error.problems[0].message


def good_columns(n: int = 3) -> dict[str, Any]:
    return {"timestamp": pa.array([START.replace(":00Z", f":{10 * k:02d}Z") for k in range(n)]),
            "icao24": ["abc123"] * n, "latitude": [35.0 + 0.01 * k for k in range(n)],
            "longitude": [40.0] * n, "altitude": [25000.0] * n}


@pytest.mark.parametrize(("column", "values", "texts"), [
    ("latitude", [35.0, None, 35.02], ("column 'latitude'", "row 2 (empty)")),
    ("altitude", [1.0, 2.0, float("nan")], ("column 'altitude'", "row 3 (nan)")),
    ("latitude", [True, False, True], ("column 'latitude' holds bool values, not numbers",)),
    ("timestamp", pa.array([0, None, 2], pa.timestamp("s", "UTC")),
     ("column 'timestamp'", "row 2", "empty")),
    ("icao24", [None, "abc123", "abc123"], ("column 'icao24'", "row 1", "empty")),
    ("timestamp", pa.array([0, 253402214400, 20], pa.timestamp("s")),
     ("column 'timestamp'", "row 2 (9999-12-31 00:00:00)", "outside the years 1678-2261")),
])
def test_bad_parquet_values(tmp_path, column, values, texts):
    data = good_columns()
    data[column] = values
    error = refused(write_parquet(tmp_path, data))
    assert [p.path for p in error.problems] == ["recorded[0].file"]
    for text in texts:
        assert text in error.problems[0].message


def test_every_problem_of_the_file_at_once(tmp_path):
    lines = [ok(k) for k in range(30)]
    for k in range(3, 28):  # 25 bad latitudes: 20 named, 5 counted
        lines[k] = lines[k].replace(f",{35 + 0.01 * k},", ",north,")
    lines[1] = lines[1].replace(",40.0,", ",200,")
    lines[2] = lines[2].replace("2017-12-13", "13/12/2017")
    error = refused(write(tmp_path, rows(*lines)))
    messages = [p.message for p in error.problems]
    assert len(messages) == 3, messages
    latitude = next(m for m in messages if "'latitude'" in m)
    assert latitude.startswith("column 'latitude': 25 values are not a finite number: row 4 "
                               "('north'), row 5 ('north')")
    assert latitude.count("row ") == MAX_LISTED and "row 23 ('north') and 5 more;" in latitude
    assert any("'longitude'" in m and "row 2 (200)" in m for m in messages)
    assert any("'timestamp'" in m and "row 3 ('13/12/2017T06:00:20Z')" in m for m in messages)


def test_a_tie_names_its_rows_in_file_order(tmp_path):
    path = write(tmp_path, rows(ok(0), ok(1, lat=35.02), ok(2), ok(1, seconds=10)))
    message = refused(path).problems[0].message
    assert "rows 2 and 4 (abc123 at 10 s)" in message  # sorted by position: row 4 first


def test_ties_and_speeds_are_reported_together(tmp_path):
    path = write(tmp_path, rows(ok(0), ok(1), ok(2, seconds=10), ok(3, lat=40)))
    error = refused(path)
    assert sorted(p.path for p in error.problems) == ["recorded[0].file",
                                                      "recorded[0].max_speed"]


def test_the_speed_is_named_in_knots(tmp_path):
    # 0.1 degree of latitude (about 11.1 km) in 10 s: about 2160 kt.
    path = write(tmp_path, rows(ok(0), ok(1, lat=35.09), ok(2, lat=35.09)))
    message = refused(path).problems[0].message
    _, _, distance = Geod(ellps="WGS84").inv(40.0, 35.0, 40.0, 35.1)
    assert f"(abc123, {distance / 10 / KNOT:,.0f} kt over 10 s)" in message
    assert read(path, max_speed_mps=2500 * KNOT)[0].id == "abc123"


def test_a_scenario_file_is_named_with_the_data_file_in_the_message(tmp_path):
    path = write(tmp_path, rows(ok(0), ok(1), ok(2, lat=95)))
    error = refused(path, scenario_file="study.yaml", key_path="recorded[2]")
    problem = error.problems[0]
    assert (problem.file, problem.path) == ("study.yaml", "recorded[2].file")
    assert problem.message.startswith(f"{path}: column 'latitude'")
    assert str(error).startswith(f"study.yaml: recorded[2].file: {path}: column 'latitude'")


# ---------------------------------------------------------------------------- good data


def as_tuples(tracks: list[RecordedTrack]) -> list[tuple[Any, ...]]:
    return [(t.id, t.t_s.tolist(), t.lon.tolist(), t.lat.tolist(), t.altitude_m.tolist())
            for t in tracks]


def test_iso_times_count_from_the_start(tmp_path):
    [track] = read(write(tmp_path, GOOD))
    assert track.id == "abc123"
    assert track.t_s.tolist() == [0.0, 10.0, 20.0, 30.0]
    assert track.lat.tolist() == [35.0, 35.01, 35.02, 35.03]
    assert track.lon.tolist() == [40.0] * 4
    assert track.altitude_m.tolist() == [25000 * FOOT] * 4
    [later] = read(write(tmp_path, GOOD), start_utc="2017-12-13T05:59:00Z")
    assert later.t_s.tolist() == [60.0, 70.0, 80.0, 90.0]
    [before] = read(write(tmp_path, GOOD), start_utc="2017-12-13T06:00:20+00:00")
    assert before.t_s.tolist() == [-20.0, -10.0, 0.0, 10.0]  # before the start: negative


def test_iso_spellings_zones_and_fractions(tmp_path):
    path = write(tmp_path, HEADER + "2017-12-13 06:00:00,a,CS,35,40,0\n"  # no zone: UTC
                                    "2017-12-13T08:00:00.25+02:00,a,CS,35.001,40,0\n"
                                    "2017-12-13T06:00:00.500000001Z,a,CS,35.002,40,0\n"
                                    "2017-12-13T06:01Z,a,CS,35.003,40,0\n"
                                    "2017-12-13T06:00:30-0000,a,CS,35.004,40,0\n")
    [track] = read(path)
    assert track.t_s.tolist() == [0.0, 0.25, 0.500000001, 30.0, 60.0]


def test_plain_seconds_are_the_run_clock(tmp_path):
    text = HEADER + "100,a,CS,35,40,0\n110.5,a,CS,35.01,40,0\n1.2e2,a,CS,35.02,40,0\n"
    for start in (None, START):  # a start does not move times given in seconds
        [track] = read(write(tmp_path, text), start_utc=start)
        assert track.t_s.tolist() == [100.0, 110.5, 120.0]


def test_csv_and_parquet_give_the_same_tracks(tmp_path):
    text = rows(*(ok(k, icao=icao, lat=lat) for icao, lat in (("abc123", 35), ("def456", 36))
                  for k in range(5)))
    from_csv = read(write(tmp_path, text))
    table = pacsv.read_csv(tmp_path / "tracks.csv")  # timestamps typed, numbers typed
    assert pa.types.is_timestamp(table.column("timestamp").type)
    pq.write_table(table, tmp_path / "typed.parquet")
    pq.write_table(table.set_column(0, "timestamp", pc.cast(
        table.column("timestamp"), pa.string())), tmp_path / "text.parquet")
    assert len(from_csv) == 2
    for name in ("typed.parquet", "text.parquet"):
        assert as_tuples(read(tmp_path / name)) == as_tuples(from_csv)


def test_parquet_naive_timestamps_are_utc_and_integers_are_numbers(tmp_path):
    path = write_parquet(tmp_path, {
        "timestamp": pa.array([dt.datetime(2017, 12, 13, 6, 0, s) for s in (5, 15)],
                              pa.timestamp("ms")),
        "callsign": pa.array(["IRAQI1", "IRAQI1"]).dictionary_encode(),
        "latitude": pa.array([35, 35], pa.int32()), "longitude": [40.0, 40.01],
        "altitude": pa.array([100, 200], pa.int64())})
    [track] = read(path, altitude_unit="m")
    assert (track.id, track.t_s.tolist(), track.altitude_m.tolist()) == \
        ("IRAQI1", [5.0, 15.0], [100.0, 200.0])


def test_parquet_seconds_and_integer_ids(tmp_path):
    path = write_parquet(tmp_path, {"timestamp": [30.5, 0.0, 10.0], "icao24": [7, 7, 7],
                                    "latitude": [35.02, 35.0, 35.01], "longitude": [40.0] * 3,
                                    "altitude": [1.0, 2.0, 3.0]})
    [track] = read(path, start_utc=None)
    assert (track.id, track.t_s.tolist(), track.lat.tolist()) == \
        ("7", [0.0, 10.0, 30.5], [35.0, 35.01, 35.02])


def test_a_gap_longer_than_max_gap_starts_another_flight(tmp_path):
    seconds = [0, 10, 70, 131, 140, 300, 310]  # gaps: 60 (kept), 61, 160
    path = write(tmp_path, rows(*(ok(k, seconds=s) for k, s in enumerate(seconds))))
    tracks = read(path)
    assert [(t.id, t.t_s.tolist()) for t in tracks] == [
        ("abc123", [0.0, 10.0, 70.0]), ("abc123#2", [131.0, 140.0]),
        ("abc123#3", [300.0, 310.0])]
    assert [t.id for t in read(path, max_gap_s=200)] == ["abc123"]


def test_single_reports_are_left_out_and_the_flights_numbered_without_holes(tmp_path):
    seconds = [0, 200, 210, 400, 600, 610]  # flights: [0], [200, 210], [400], [600, 610]
    lines = [ok(k, seconds=s) for k, s in enumerate(seconds)] + [ok(0, icao="lone")]
    tracks = read(write(tmp_path, rows(*lines)))
    assert [(t.id, t.t_s.tolist()) for t in tracks] == [
        ("abc123", [200.0, 210.0]), ("abc123#2", [600.0, 610.0])]


def test_a_columns_mapping(tmp_path):
    text = ("when,hex,lat,lon,alt_m,latitude\n"
            "0,x1,35.0,40.0,1000,99\n10,x1,35.01,40.0,1010,99\n")
    columns = {"timestamp": "when", "id": "hex", "latitude": "lat", "longitude": "lon",
               "altitude": "alt_m"}
    [track] = read(write(tmp_path, text), columns=columns, altitude_unit="m")
    assert (track.id, track.lat.tolist(), track.altitude_m.tolist()) == \
        ("x1", [35.0, 35.01], [1000.0, 1010.0])


def test_altitude_in_metres_or_feet(tmp_path):
    path = write(tmp_path, GOOD)
    [feet] = read(path)
    [metres] = read(path, altitude_unit="m")
    assert metres.altitude_m.tolist() == [25000.0] * 4
    assert feet.altitude_m.tolist() == [25000 * 0.3048] * 4


def test_the_id_is_icao24_else_the_callsign(tmp_path):
    assert read(write(tmp_path, GOOD))[0].id == "abc123"
    no_icao = GOOD.replace("icao24", "squawk")
    assert read(write(tmp_path, no_icao))[0].id == "IRAQI1"


def test_identical_duplicates_are_dropped(tmp_path):
    lines = [ok(0), ok(1), ok(1), ok(2), ok(1)]
    [track] = read(write(tmp_path, rows(*lines)))
    assert track.t_s.tolist() == [0.0, 10.0, 20.0]


def test_unsorted_input_is_sorted_and_tracks_ordered_by_id(tmp_path):
    lines = [ok(k, icao=icao) for k in range(6) for icao in ("zz", "aa", "mm")]
    random.Random(3).shuffle(lines)
    tracks = read(write(tmp_path, rows(*lines)))
    assert [t.id for t in tracks] == ["aa", "mm", "zz"]
    for track in tracks:
        assert track.t_s.tolist() == [10.0 * k for k in range(6)]
        assert np.allclose(track.lat, 35 + 0.01 * np.arange(6), rtol=0, atol=1e-12)


def test_tracks_are_read_only(tmp_path):
    [track] = read(write(tmp_path, GOOD))
    with pytest.raises(ValueError):
        track.lat[0] = 0.0
    with pytest.raises(AttributeError):
        track.id = "other"  # type: ignore[misc]


def test_pyarrow_is_imported_lazily():
    import subprocess
    import sys

    code = "import sys, sim.traffic.recorded; print('pyarrow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------------------- property

ID_TEXT = st.text("abcdefXYZ0123456789-_", min_size=1, max_size=8)


@st.composite
def fleets(draw: Any) -> dict[str, list[tuple[int, float, float, float]]]:
    """Aircraft ids to reports (time in ms after the start, lon, lat, altitude in m)."""
    fleet = {}
    for name in draw(st.lists(ID_TEXT, min_size=1, max_size=5, unique=True)):
        first = draw(st.integers(0, 10**8))
        steps = draw(st.lists(st.integers(1, 60_000), min_size=1, max_size=15))
        times = np.cumsum([first, *steps]).tolist()
        coords = st.tuples(st.floats(-180, 180), st.floats(-90, 90), st.floats(-1000, 20000))
        points = draw(st.lists(coords, min_size=len(times), max_size=len(times)))
        fleet[name] = [(t, *p) for t, p in zip(times, points, strict=True)]
    return fleet


@pytest.mark.parametrize("clock", ["seconds", "iso"])
@given(fleet=fleets(), seed=st.integers(0, 2**32 - 1))
def test_random_tracks_read_back_the_same(tmp_path_factory, clock, fleet, seed):
    start = dt.datetime(2017, 12, 13, 6, tzinfo=dt.timezone.utc)
    lines = []
    for name, reports in fleet.items():
        for ms, lon, lat, alt in reports:
            when = (repr(ms / 1000) if clock == "seconds" else
                    (start + dt.timedelta(milliseconds=ms)).isoformat(timespec="milliseconds"))
            lines.append([when, name, lat, lon, alt])
    random.Random(seed).shuffle(lines)
    path = tmp_path_factory.mktemp("property") / "tracks.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "icao24", "latitude", "longitude", "altitude"])
        writer.writerows([w, n, repr(a), repr(o), repr(h)] for w, n, a, o, h in lines)
    tracks = read(path, altitude_unit="m", max_speed_mps=np.inf)
    assert [t.id for t in tracks] == sorted(fleet)
    for track in tracks:
        reports = fleet[track.id]
        assert track.t_s.tolist() == [ms / 1000 for ms, *_ in reports]
        assert track.lon.tolist() == [r[1] for r in reports]
        assert track.lat.tolist() == [r[2] for r in reports]
        assert track.altitude_m.tolist() == [r[3] for r in reports]


# ---------------------------------------------------------------------------- benchmark


def test_the_benchmark_runs_on_a_tiny_file(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_recorded",
                                                  ROOT / "benchmarks" / "bench_recorded.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    assert bench.main(["--aircraft", "5", "--reports", "40", "--repeat", "1",
                       "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert [f["format"] for f in figures] == ["csv", "parquet"]
    assert all(f["reports"] == 200 and f["tracks"] >= 5 and f["wall_s"] for f in figures)
    assert "parquet" in capsys.readouterr().out
