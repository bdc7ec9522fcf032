"""``deconflict run --export-tracks``: every flight's full 4D track as recorded tracks."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from pyproj import Transformer

from sim.cli import main
from sim.io.export import REPORT_INTERVAL_S
from tests import oracle

ROOT = Path(__file__).resolve().parent.parent
FT = 0.3048


def _csv_columns(path: Path) -> dict[str, list[str]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [r[key] for r in rows] for key in rows[0]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export")
    out = {}
    for fmt in ("csv", "parquet"):
        out[fmt] = base / fmt
        assert main(["run", str(ROOT / "scenarios" / "encounters.yaml"), "--out",
                     str(out[fmt]), "--export-tracks", fmt]) == 0
    return out


def test_one_file_per_party_beside_the_run_files(exported):
    names = sorted(p.name for p in exported["csv"].iterdir())
    assert "recorded-coalition.csv" in names and "recorded-russia.csv" in names
    assert sorted(p.name for p in exported["parquet"].iterdir() if "recorded" in p.name) == [
        "recorded-coalition.parquet", "recorded-russia.parquet"]


def test_csv_and_parquet_hold_the_same_reports(exported):
    for party in ("coalition", "russia"):
        text = _csv_columns(exported["csv"] / f"recorded-{party}.csv")
        table = pq.read_table(exported["parquet"] / f"recorded-{party}.parquet").to_pydict()
        assert list(table) == ["timestamp", "callsign", "latitude", "longitude", "altitude"]
        assert table["callsign"] == text["callsign"]
        for column in ("timestamp", "latitude", "longitude", "altitude"):
            assert table[column] == [float(v) for v in text[column]]  # every digit kept


def test_reports_lie_on_the_flown_tracks_and_are_never_far_apart(exported):
    # encounters.yaml: the flights' routes, speeds and altitudes as written there, in the
    # frame centred on Deir ez-Zor (40.15 E, 35.333 N). R2 departs at 10 min.
    written = {
        "C1": (0.0, 200.0, 25_000 * FT, [(-100e3, 20e3), (100e3, 20e3)]),
        "R1": (0.0, 200.0, 25_000 * FT, [(100e3, -20e3), (-100e3, -20e3)]),
        "R2": (600.0, 200.0, 25_050 * FT, [(60e3, -20e3), (60e3, 60e3)]),
        "R3": (0.0, 100.0, 3000.0, [(0.0, -50e3), (0.0, -15e3)]),
    }
    to_xy = Transformer.from_crs("EPSG:4326", "+proj=aeqd +lat_0=35.333 +lon_0=40.15 "
                                 "+datum=WGS84 +units=m", always_xy=True)
    seen = set()
    for party in ("coalition", "russia"):
        cols = _csv_columns(exported["csv"] / f"recorded-{party}.csv")
        for flight in sorted(set(cols["callsign"])):
            rows = [k for k, c in enumerate(cols["callsign"]) if c == flight]
            t = np.array([float(cols["timestamp"][k]) for k in rows])
            lon = np.array([float(cols["longitude"][k]) for k in rows])
            lat = np.array([float(cols["latitude"][k]) for k in rows])
            alt = np.array([float(cols["altitude"][k]) for k in rows]) * FT
            depart, speed, z, route = written[flight]
            track, clock = [], depart
            for k, (x, y) in enumerate(route):
                if k:
                    clock += np.hypot(x - route[k - 1][0], y - route[k - 1][1]) / speed
                track.append((clock, x, y, z))
            state = oracle.track_state(track, t)
            x, y = to_xy.transform(lon, lat)
            assert np.all(np.diff(t) > 0) and np.max(np.diff(t)) <= REPORT_INTERVAL_S + 1e-9
            assert (t[0], t[-1]) == pytest.approx((track[0][0], min(track[-1][0], 3600.0)))
            assert np.max(np.hypot(x - state.x_m, y - state.y_m)) < 1e-3
            assert np.max(np.abs(alt - state.z_m)) < 1e-6
            seen.add(flight)
    assert seen == set(written)


def test_exports_are_byte_identical_run_to_run(exported, tmp_path):
    again = tmp_path / "again"
    assert main(["run", str(ROOT / "scenarios" / "encounters.yaml"), "--out", str(again),
                 "--export-tracks", "parquet"]) == 0
    for name in ("recorded-coalition.parquet", "recorded-russia.parquet"):
        assert (again / name).read_bytes() == (exported["parquet"] / name).read_bytes()


def test_an_unknown_export_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's usage error
        main(["run", str(ROOT / "scenarios" / "encounters.yaml"), "--out",
              str(tmp_path / "x"), "--export-tracks", "xlsx"])
    assert stop.value.code == 2
    assert "invalid choice: 'xlsx' (choose from 'csv', 'parquet')" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_exported_tracks_run_back_as_recorded_give_the_same_episodes(tmp_path):
    # The round trip: export every flight's track, read the files back as recorded
    # tracks (default max_gap 60 s), fly them through their reports, and count again.
    from sim.detect.rules import World, detect
    from sim.engine.simulation import run
    from sim.scenario import load_scenario
    from sim.testing import legs_of
    from sim.traffic.recorded import read_recorded, recorded_plans

    scenario = load_scenario(ROOT / "scenarios" / "euphrates_dec2017.yaml", duration="2 d")
    result = run(scenario)
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "euphrates_dec2017.yaml"), "--duration",
                 "2 d", "--out", str(out), "--export-tracks", "csv"]) == 0
    plans = {}
    for party in sorted(scenario.parties):
        tracks = read_recorded(out / f"recorded-{party}.csv", fmt="csv")
        plans |= {p.id: p for p in recorded_plans(tracks, party, result.geography.frame)}
    assert sorted(plans) == sorted(p.id for p in result.plans)  # no flight split or lost
    legs = legs_of([plans[p.id] for p in result.plans], scenario.duration_s)
    world = World(result.geography, result.flights, legs, result.hotline)
    again = sorted((e for spec in scenario.rules for e in detect(spec, world)),
                   key=lambda e: e.sort_key())
    before = sorted(result.episodes, key=lambda e: e.sort_key())
    assert len(before) > 50
    assert [(e.rule, e.aircraft, e.other_aircraft, e.zone) for e in again] == [
        (e.rule, e.aircraft, e.other_aircraft, e.zone) for e in before]
    for e, f in zip(before, again, strict=True):
        assert f.start_s == pytest.approx(e.start_s, abs=1e-6)
        assert f.end_s == pytest.approx(e.end_s, abs=1e-6)
        if e.min_distance_m is not None:
            assert f.min_distance_m == pytest.approx(e.min_distance_m, abs=1e-5)
            assert f.min_slant_m == pytest.approx(e.min_slant_m, abs=1e-5)


def _events(folder: Path) -> list[dict[str, str]]:
    with open(folder / "events.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_exported_tracks_flown_as_recorded_through_the_cli_give_the_same_episodes(tmp_path):
    # The round trip through the product: run A with its tracks exported, then a scenario
    # of A's resolved scenario.yaml with no generated traffic and A's files as recorded:
    # entries, run to B. Work areas are off: they come from generated sorties only.
    import yaml

    off = ["--set", "parties.coalition.work_areas.enabled=false",
           "--set", "parties.russia.work_areas.enabled=false"]
    a = tmp_path / "A"
    assert main(["run", str(ROOT / "scenarios" / "euphrates_dec2017.yaml"), "--duration",
                 "2 d", "--out", str(a), "--export-tracks", "parquet", *off]) == 0
    document = yaml.safe_load((a / "scenario.yaml").read_text())
    document["parties"] = {name: {} for name in document["parties"]}
    document["recorded"] = [{"file": f"A/recorded-{name}.parquet", "party": name}
                            for name in document["parties"]]
    scenario = tmp_path / "B.yaml"
    scenario.write_text(yaml.safe_dump(document, sort_keys=False))
    b = tmp_path / "B"
    assert main(["run", str(scenario), "--out", str(b)]) == 0
    before, again = _events(a), _events(b)
    assert len(before) > 50
    identity = ("rule", "type", "party", "aircraft", "other_party", "other_aircraft", "zone")
    assert [[e[k] for k in identity] for e in again] == [[e[k] for k in identity]
                                                         for e in before]
    for e, f in zip(before, again, strict=True):
        for key in ("start_s", "end_s", "min_time_s"):
            if e[key]:
                assert float(f[key]) == pytest.approx(float(e[key]), abs=1e-6)
        for key in ("min_distance_m", "min_vertical_m", "min_slant_m"):
            if e[key]:
                assert float(f[key]) == pytest.approx(float(e[key]), abs=1e-5)
    with open(a / "flights.csv", newline="") as handle:
        flown_a = sorted(r["flight"] for r in csv.DictReader(handle))
    with open(b / "flights.csv", newline="") as handle:
        flown_b = sorted(r["flight"] for r in csv.DictReader(handle))
    assert flown_b == flown_a
