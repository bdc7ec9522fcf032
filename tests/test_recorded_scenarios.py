"""A scenario's ``recorded:`` entries: their errors (exit 2, nothing written), their
defaults, and their flights in the outputs and the summary of ``validate``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from sim.model.writer import as_document
from sim.scenario import ScenarioError, load_scenario
from tests.cli_helpers import refused

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "data" / "baseline-week-russia.parquet"
BASE: dict[str, Any] = {"duration": "1 d", "start": "2017-12-01T00:00:00Z",
                        "frame": {"center": [40.0, 35.0]},
                        "parties": {"russia": {}, "coalition": {}}}
HEADER = "timestamp,callsign,latitude,longitude,altitude\n"
GOOD_CSV = HEADER + "0,X1,35.0,40.0,20000\n30,X1,35.01,40.0,20000\n60,X1,35.02,40.0,20000\n"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.csv").write_text(GOOD_CSV)
    (tmp_path / "notes.txt").write_text(GOOD_CSV)
    return tmp_path


def scenario(folder: Path, recorded: Any, **extra: Any) -> Path:
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump({**BASE, **extra, "recorded": recorded}, sort_keys=False))
    return path


ERRORS = [
    ("unknown key", [{"file": "good.csv", "party": "russia", "formt": "csv"}],
     "recorded[0].formt", "did you mean 'format'?"),
    ("bad format", [{"file": "good.csv", "party": "russia", "format": "xlsx"}],
     "recorded[0].format", "is not a format; write csv or parquet"),
    ("no format", [{"file": "notes.txt", "party": "russia"}],
     "recorded[0].format", "ends neither .csv nor .parquet; write format: csv"),
    ("unknown party", [{"file": "good.csv", "party": "rusia"}],
     "recorded[0].party", "unknown party 'rusia'"),
    ("missing file", [{"file": "nothere.csv", "party": "russia"}],
     "recorded[0].file", "no such file"),
    ("folder", [{"file": ".", "party": "russia"}],
     "recorded[0].file", "is a folder"),
    ("not a path", [{"file": 5, "party": "russia"}],
     "recorded[0].file", "is not a file name"),
    ("no file", [{"party": "russia"}], "recorded[0].file", "is not a file name"),
    ("unknown column", [{"file": "good.csv", "party": "russia", "columns": {"lat": "y"}}],
     "recorded[0].columns.lat", "unknown key; accepted keys: timestamp, id, latitude"),
    ("bad unit", [{"file": "good.csv", "party": "russia", "altitude_unit": "km"}],
     "recorded[0].altitude_unit", "is not an altitude unit; write ft or m"),
    ("bad gap", [{"file": "good.csv", "party": "russia", "max_gap": "-1 s"}],
     "recorded[0].max_gap", "must be greater than"),
    ("bad speed", [{"file": "good.csv", "party": "russia", "max_speed": "fast"}],
     "recorded[0].max_speed", "speed"),
    ("not a list", {"file": "good.csv"}, "recorded", "expected a list of recorded entries"),
]


@pytest.mark.parametrize(("recorded", "path", "fragment"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_entry_errors_name_the_key_path(folder: Path, recorded: Any, path: str,
                                        fragment: str, capsys) -> None:
    code = main(["run", str(scenario(folder, recorded)), "--out", str(folder / "out")])
    err = refused(capsys, code, f"s.yaml: {path}: ", fragment)
    assert "Traceback" not in err
    assert not (folder / "out").exists()


def test_a_path_outside_the_folder_needs_allow_outside(folder: Path, tmp_path_factory,
                                                       capsys) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(folder / "good.csv", elsewhere / "far.csv")
    for name in (f"../{elsewhere.name}/far.csv", str(elsewhere / "far.csv")):
        path = scenario(folder, [{"file": name, "party": "russia"}])
        code = main(["validate", str(path)])
        refused(capsys, code, "s.yaml: recorded[0].file: ", "is outside the scenario's folder",
                "pass --allow-outside")
        assert main(["validate", str(path), "--allow-outside"]) == 0
        assert "recorded  russia: 1 file" in capsys.readouterr().out
        with pytest.raises(ScenarioError, match="outside the scenario's folder") as info:
            load_scenario(path)
        # The library names its own remedy, not the command line's option.
        assert "load it with allow_outside=True" in str(info.value)
        assert "--allow-outside" not in str(info.value)
        assert load_scenario(path, allow_outside=True).recorded[0].party == "russia"


def test_a_symlink_out_of_the_folder_is_outside(folder: Path, tmp_path_factory,
                                                capsys) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(folder / "good.csv", elsewhere / "far.csv")
    (folder / "link.csv").symlink_to(elsewhere / "far.csv")
    path = scenario(folder, [{"file": "link.csv", "party": "russia"}])
    refused(capsys, main(["validate", str(path)]), "recorded[0].file", "outside")
    assert main(["validate", str(path), "--allow-outside"]) == 0


@pytest.mark.parametrize("command", [["run"], ["validate"], ["calibrate"], ["compare"],
                                     ["sweep"]])
def test_every_command_that_loads_a_scenario_takes_allow_outside(command: list[str],
                                                                 capsys) -> None:
    with pytest.raises(SystemExit):
        main([command[0], "--help"])
    assert "--allow-outside" in capsys.readouterr().out


def test_bad_data_of_every_entry_is_listed_at_once(folder: Path, capsys) -> None:
    (folder / "bad.csv").write_text(HEADER + "0,X1,35.0,40.0,20000\n30,X1,35.01,40.0,abc\n"
                                    "60,X1,95,40.0,20000\n")
    path = scenario(folder, [{"file": "bad.csv", "party": "russia"},
                             {"file": "good.csv", "party": "coalition", "max_speed": "10 kt"}])
    code = main(["run", str(path), "--out", str(folder / "out")])
    err = refused(capsys, code, "s.yaml: recorded[0].file: ", "bad.csv: column 'altitude'",
                  "row 2 ('abc')", "column 'latitude'", "row 3 (95)",
                  "s.yaml: recorded[1].max_speed: ", "good.csv", "rows 1 and 2")
    assert err.count("s.yaml: ") == 3
    assert not (folder / "out").exists()


def test_bad_data_is_refused_by_validate_too(folder: Path, capsys) -> None:
    (folder / "one.csv").write_text(HEADER + "0,X1,35.0,40.0,20000\n")
    code = main(["validate", str(scenario(folder, [{"file": "one.csv", "party": "russia"}]))])
    refused(capsys, code, "recorded[0].file: ", "gives no track")


def test_reports_beyond_the_frame_are_refused_by_row(folder: Path, capsys) -> None:
    (folder / "far.csv").write_text(HEADER + "0,F1,-35.0,-140.0,20000\n"
                                    "30000,F1,-35.01,-140.0,20000\n")
    path = scenario(folder, [{"file": "far.csv", "party": "russia", "max_gap": "1 d"}])
    refused(capsys, main(["validate", str(path)]), "recorded[0].file: far.csv: rows 1, 2 (F1)",
            "more than 10000 km from the frame's centre")


def test_a_recorded_id_may_not_be_an_explicit_flights(folder: Path, capsys) -> None:
    flights = [{"id": "X1", "party": "coalition", "speed": "400 kt", "altitude": "FL200",
                "route": [[40, 35], [41, 35]]}]
    path = scenario(folder, [{"file": "good.csv", "party": "russia"}], flights=flights)
    refused(capsys, main(["validate", str(path)]), "recorded[0].file: good.csv: 1 flight id "
            "('X1') is also used at flights[0].id")


def test_two_entries_may_not_share_ids(folder: Path, capsys) -> None:
    path = scenario(folder, [{"file": "good.csv", "party": "russia"},
                             {"file": "good.csv", "party": "coalition"}])
    refused(capsys, main(["validate", str(path)]), "recorded[1].file: good.csv: 1 flight id "
            "('X1') is also used at recorded[0] (good.csv)")


def test_a_recorded_id_may_not_be_a_generated_sorties(tmp_path: Path, capsys) -> None:
    document = yaml.safe_load((ROOT / "scenarios" / "recorded_tracks.yaml").read_text())
    shutil.copy(SAMPLE, tmp_path / "russia.parquet")
    document["recorded"] = [{"file": "russia.parquet", "party": "coalition"}]
    document["parties"]["russia"] = {"sorties_per_day": 20, **{
        k: v for k, v in document["parties"]["coalition"].items() if k != "sorties_per_day"}}
    document["lanes"]["russia_lane"]["direction"] = "upstream"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    code = main(["run", str(path), "--duration", "2 d", "--out", str(tmp_path / "out")])
    refused(capsys, code, "recorded[0].file: russia.parquet: the flight id 'russia-",
            "is also a generated sortie's id")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("limit", "fragment"), [
    ("flights=1", "the recorded files give 1 flights (2 with the written ones), more than the "
                  "limit of 1; split the files (or raise the limit with --limit flights=N)"),
    ("waypoints=4", "have 3 reports (5 waypoints with the written flights), more than the "
                    "limit of 4"),
])
def test_the_limits_count_recorded_flights_and_reports(folder: Path, limit: str,
                                                       fragment: str, capsys) -> None:
    flights = [{"id": "C1", "party": "coalition", "speed": "400 kt", "altitude": "FL200",
                "route": [[40, 35], [41, 35]]}]
    path = scenario(folder, [{"file": "good.csv", "party": "russia"}], flights=flights)
    code = main(["run", str(path), "--limit", limit, "--out", str(folder / "out")])
    refused(capsys, code, "recorded[0].file: ", fragment)


def test_recorded_flights_are_in_the_outputs_like_explicit_ones(folder: Path, capsys) -> None:
    flights = [{"id": "C1", "party": "coalition", "speed": "400 kt", "altitude": "20000 ft",
                "route": [[39.99, 35.01], [40.01, 35.01]]}]
    rules = [{"id": "close", "type": "min_separation", "horizontal": "10 nmi"}]
    path = scenario(folder, [{"file": "good.csv", "party": "russia", "columns": {
        "id": "callsign"}, "altitude_unit": "ft", "max_gap": "90 s"}], flights=flights,
        rules=rules)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "recorded  russia: 1 file (good.csv), 1 flights, 3 reports" in out
    assert main(["run", str(path), "--out", str(folder / "out")]) == 0
    with open(folder / "out" / "flights.csv", newline="") as handle:
        flown = {r["flight"]: r for r in csv.DictReader(handle)}
    assert set(flown) == {"C1", "X1"} and flown["X1"]["party"] == "russia"
    assert float(flown["X1"]["depart_s"]) == 0.0 and float(flown["X1"]["land_s"]) == 60.0
    with open(folder / "out" / "tracks.csv", newline="") as handle:
        assert "X1" in {r["flight"] for r in csv.DictReader(handle)}
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["flights"] == {"coalition": 1, "russia": 1}
    with open(folder / "out" / "events.csv", newline="") as handle:
        assert {(r["aircraft"], r["other_aircraft"]) for r in csv.DictReader(handle)} <= {
            ("C1", "X1"), ("X1", "C1")}
    resolved = yaml.safe_load((folder / "out" / "scenario.yaml").read_text())
    good = str((folder / "good.csv").resolve())
    assert resolved["recorded"] == [{"file": good, "party": "russia", "format": "csv",
                                     "columns": {"id": "callsign"}, "altitude_unit": "ft",
                                     "max_gap": "90 s", "max_speed": "1200 kt"}]


def test_the_defaults_are_filled_in(folder: Path) -> None:
    loaded = load_scenario(scenario(folder, [{"file": "good.csv", "party": "russia"}]))
    (entry,) = loaded.recorded
    assert (entry.format, entry.altitude_unit, entry.max_gap_s, entry.columns) == (
        "csv", "ft", 60.0, ())
    assert entry.max_speed_mps == pytest.approx(1200 * 1852 / 3600)
    assert entry.path == str((folder / "good.csv").resolve())
    assert as_document(loaded)["recorded"] == [{"file": entry.path, "party": "russia",
                                            "format": "csv", "altitude_unit": "ft",
                                            "max_gap": "60 s", "max_speed": "1200 kt"}]


def test_a_scenario_without_recorded_gains_no_key(folder: Path) -> None:
    path = folder / "plain.yaml"
    path.write_text(yaml.safe_dump(BASE))
    assert "recorded" not in as_document(load_scenario(path))


def test_a_run_folder_is_read_without_its_recorded_files(folder: Path, capsys) -> None:
    # The run folder's scenario.yaml names the file by its absolute path: it is read (plot,
    # report) without the file, and runs again with --allow-outside while the file is there.
    path = scenario(folder, [{"file": "good.csv", "party": "russia"}])
    out = folder / "runs" / "a"
    assert main(["run", str(path), "--out", str(out)]) == 0
    again = out / "scenario.yaml"
    refused(capsys, main(["validate", str(again)]), "recorded[0].file", "--allow-outside")
    assert main(["run", str(again), "--allow-outside", "--out", str(folder / "b")]) == 0
    (folder / "good.csv").unlink()
    assert main(["report", str(out)]) == 0


def test_sweep_and_compare_read_the_files_before_running(folder: Path, capsys) -> None:
    (folder / "one.csv").write_text(HEADER + "0,X1,35.0,40.0,20000\n")
    path = scenario(folder, [{"file": "one.csv", "party": "russia"}])
    code = main(["sweep", str(path), "--grid", "hotline.loss=0,0.1", "--replications", "1",
                 "--out", str(folder / "sw")])
    refused(capsys, code, "recorded[0].file: ", "gives no track")
    assert not (folder / "sw").exists()
    code = main(["compare", str(path), "--b", "seed=3", "--replications", "2"])
    refused(capsys, code, "recorded[0].file: ", "gives no track")
