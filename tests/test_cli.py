"""End-to-end tests of the ``deconflict`` command line and its run folder (docs/).

Most tests call ``sim.cli.main`` in-process (it returns the exit code; argparse usage errors
raise ``SystemExit``); a few run the real thing as a subprocess, ``python -m sim`` and the
``deconflict`` console script, to cover the entry points, exit statuses and determinism
across processes (different hash seeds).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.model.records import EVENT_COLUMNS, Episode

EVENT_HEADER = ("rule,type,party,aircraft,other_party,other_aircraft,zone,start_s,end_s,"
                "min_distance_m,min_time_s,x_m,y_m,lon,lat,informed")

# A small scenario on the built-in Euphrates centerline. C1 flies downstream along the
# river and R1 upstream, at the same time: they pass each other head-on (separation), both
# stay near the river, more than 10 mi off their lanes (lane discipline). The Russian zone
# around Raqqa is crossed by C1 before the first hotline call (not informed) and by C2
# after the declaration has arrived (informed).
SCENARIO = """\
name: cli-test
seed: 7
duration: "6 h"
start: 2017-12-01T00:00:00Z
corridor: {centerline: euphrates, half_width: "40 mi"}
parties:
  coalition: {}
  russia: {}
lanes:
  coalition_lane: {party: coalition, offset: "+22.5 mi", direction: downstream}
  russia_lane: {party: russia, offset: "-22.5 mi", direction: upstream}
flights:
  - id: C1
    party: coalition
    depart: "0 min"
    speed: "450 kt"
    altitude: "FL250"
    route: [jarabulus, raqqa, deir_ez_zor, abu_kamal]
  - id: R1
    party: russia
    depart: "0 min"
    speed: "400 kt"
    altitude: "FL260"
    route: [abu_kamal, deir_ez_zor, raqqa, jarabulus]
  - id: C2
    party: coalition
    depart: "3 h"
    speed: "420 kt"
    altitude: "FL200"
    route: [[38.5, 36.2], raqqa, [39.5, 35.5]]
zones:
  - id: RZ1
    party: russia
    area: {circle: {center: raqqa, radius: "15 nmi"}}
    ceiling: "FL450"
rules:
  - {id: sep_h, type: min_separation, horizontal: "5 nmi"}
  - {id: sep_hv, type: min_separation, horizontal: "5 nmi", vertical: "2000 ft",
     between: [coalition, russia]}
  - {id: lanes, type: lane_discipline, tolerance: "10 mi"}
  - {id: zones, type: zone_incursion}
hotline: {enabled: true, first_call: "1 h", interval: "2 h", latency: "30 min", loss: 0.0}
"""

RULE_TYPES = {"sep_h": "min_separation", "sep_hv": "min_separation",
              "lanes": "lane_discipline", "zones": "zone_incursion"}

# Several independent mistakes, each with the key path validate must name.
BAD_SCENARIO = """\
name: bad
duration: "6 h"
corridor: {centerline: euphrates}
parties: {coalition: {}, russia: {}}
flights:
  - {id: C1, party: coalition, speed: "450 kt", altitude: "FL250", route: [jarabulus, raqqa]}
  - {id: C2, party: coalition, speed: 450, altitude: "FL250", route: [jarabulus, raqqa]}
  - {id: R1, party: rusia, speed: "400 kt", altitude: "25 kt", route: [abu_kamal, raqqa]}
zones:
  - {id: Z, party: russia, area: {circle: {center: raqqa, radius: "15 nmi"}},
     floor: "1000 ft", ceiling: "0 ft"}
rules:
  - {id: s, type: min_separation, horizontal: "5 kt"}
hotline: {loss: 2}
"""
BAD_PATHS = ("flights[1].speed", "flights[2].party", "flights[2].altitude",
             "zones[0].ceiling", "rules[0].horizontal", "hotline.loss")


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scen" / "cli-test.yaml"
    path.parent.mkdir()
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def bad_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SCENARIO, encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run ``deconflict ARGS`` in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse: usage errors, --version
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_process(args: list[str], cwd: Path, hash_seed: str = "0"
                ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def read_events(folder: Path) -> tuple[str, list[dict[str, str]]]:
    text = (folder / "events.csv").read_text(encoding="utf-8")
    header = text.splitlines()[0]
    return header, list(csv.DictReader(io.StringIO(text)))


def read_summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def read_resolved(folder: Path) -> dict:
    return yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes()
            for name in ("summary.json", "events.csv", "scenario.yaml")}


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith(".") and (".partial" in p.name or ".old" in p.name))


def assert_clean_failure(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.strip(), "a bad input must be explained on stderr"


# ---------------------------------------------------------------------------- run: the folder


def test_run_writes_summary_with_contract_keys(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 0, err
    assert "Traceback" not in err
    assert {p.name for p in out.iterdir()} >= {"summary.json", "events.csv", "scenario.yaml"}

    summary = read_summary(out)
    for key in ("scenario", "seed", "version", "duration_s", "flights", "flight_hours",
                "rules", "hotline"):
        assert key in summary, key
    assert summary["scenario"] == "cli-test"
    assert summary["seed"] == 7
    assert summary["version"] == sim.__version__
    assert summary["duration_s"] == 6 * 3600
    assert summary["flights"] == {"coalition": 2, "russia": 1}
    assert set(summary["flight_hours"]) == {"coalition", "russia"}
    assert all(h > 0 for h in summary["flight_hours"].values())

    assert list(summary["rules"]) == list(RULE_TYPES)
    days = summary["duration_s"] / 86400
    for rule_id, rule in summary["rules"].items():
        assert {"type", "episodes", "by_party", "per_day"} <= set(rule)
        assert rule["type"] == RULE_TYPES[rule_id]
        assert isinstance(rule["episodes"], int) and rule["episodes"] >= 0
        assert set(rule["by_party"]) == {"coalition", "russia"}
        assert rule["per_day"] == pytest.approx(rule["episodes"] / days, abs=1e-6)
    # The fixture is built so that every rule fires.
    assert all(rule["episodes"] >= 1 for rule in summary["rules"].values())

    hotline = summary["hotline"]
    assert {"calls", "declared", "lost", "complaints"} <= set(hotline)
    assert hotline["calls"] == 3  # at 1 h, 3 h and 5 h of a 6 h run
    assert hotline["lost"] == 0  # loss 0.0
    assert "cli-test" in stdout


_PLAIN = ["", "a", "loss_of_separation", "F00001", "interference"]
_QUOTED = ["x,y", 'say "hi"', "two\nlines", "cr\r"]
_FLOATS = st.floats(allow_nan=True, allow_infinity=True)


def _episodes(texts: st.SearchStrategy[str]) -> st.SearchStrategy[list[Episode]]:
    return st.lists(st.builds(
        Episode, rule=texts, type=texts, party=texts, aircraft=texts, other_party=texts,
        other_aircraft=texts, zone=texts, start_s=_FLOATS, end_s=_FLOATS,
        min_distance_m=st.none() | _FLOATS, min_time_s=st.none() | _FLOATS, x_m=_FLOATS,
        y_m=_FLOATS, lon=_FLOATS, lat=_FLOATS, informed=st.none() | st.booleans(),
        vertical_m=st.none() | _FLOATS, cause=texts, declaration=texts,
        min_slant_m=st.none() | _FLOATS), min_size=1, max_size=6)


# Plain cells (written as formatted lines) and cells the csv module must quote.
@pytest.mark.parametrize("texts", [_PLAIN, _PLAIN + _QUOTED], ids=["plain", "quoted"])
def test_events_csv_is_the_csv_modules_text_of_each_row(texts):
    from sim.io.write import _row, events_csv

    @settings(max_examples=150, deadline=None)
    @given(_episodes(st.sampled_from(texts)))
    def check(episodes):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(
            [EVENT_COLUMNS] + [_row(e) for e in episodes])
        assert events_csv(episodes) == buffer.getvalue()
    check()


def test_events_csv_contract(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 0, err
    summary = read_summary(out)
    header, rows = read_events(out)
    # the columns of docs/run-folder.md, in order: the first sixteen, then the later ones
    assert header == EVENT_HEADER + (",duration_s,vertical_m,cause,declaration,"
                                     "min_vertical_m,min_slant_m")

    keys = [(float(r["start_s"]), r["rule"], r["aircraft"]) for r in rows]
    assert keys == sorted(keys), "rows must be ordered by start_s, then rule, then aircraft"

    for row in rows:
        assert row["type"] == RULE_TYPES[row["rule"]]
        assert float(row["end_s"]) >= float(row["start_s"])
        if row["type"] == "min_separation":
            assert row["other_aircraft"], row
            assert row["aircraft"] < row["other_aircraft"], row
            assert row["min_distance_m"] != "" and row["min_time_s"] != ""
            assert float(row["start_s"]) <= float(row["min_time_s"]) <= float(row["end_s"])
        else:
            assert row["other_aircraft"] == "", row
        if row["type"] == "zone_incursion":
            assert row["informed"] in ("true", "false"), row
            assert row["zone"] == "RZ1"
            assert row["other_party"] == "russia"
        else:
            assert row["informed"] == "", row
            assert row["zone"] == "", row

    for rule_id, rule in summary["rules"].items():
        mine = [r for r in rows if r["rule"] == rule_id]
        assert len(mine) == rule["episodes"], rule_id
        for party, count in rule["by_party"].items():
            took_part = sum(1 for r in mine if party == r["party"]
                            or (r["other_aircraft"] and party == r["other_party"]))
            assert took_part == count, (rule_id, party)
    assert len(rows) == sum(r["episodes"] for r in summary["rules"].values())

    # C1 crosses the zone before the first call (1 h + 30 min latency), C2 after it.
    informed = {r["aircraft"]: r["informed"] for r in rows if r["rule"] == "zones"}
    assert informed == {"C1": "false", "C2": "true"}


def test_default_output_folder_is_runs_name_seed(capsys, scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", scenario)
    assert code == 0, err
    assert (tmp_path / "runs" / "cli-test-seed7" / "summary.json").is_file()
    code, _, err = cli(capsys, "run", scenario, "--seed", 11)
    assert code == 0, err
    assert read_summary(tmp_path / "runs" / "cli-test-seed11")["seed"] == 11
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "cli-test-seed11", "cli-test-seed7"]
    # A second run into the now non-empty default folder is refused.
    before = folder_bytes(tmp_path / "runs" / "cli-test-seed7")
    code, _, err = cli(capsys, "run", scenario)
    assert_clean_failure(code, err)
    assert folder_bytes(tmp_path / "runs" / "cli-test-seed7") == before
    assert hidden_leftovers(tmp_path / "runs") == []


# ---------------------------------------------------------------------------- run: the target


def test_refuses_a_foreign_folder_with_or_without_force(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious", encoding="utf-8")
    for force in ([], ["--force"]):
        code, _, err = cli(capsys, "run", scenario, "--out", out, *force)
        assert_clean_failure(code, err)
        assert str(out) in err and "keep.txt" in err and "deconflict did not write it" in err
        assert "use --force" not in err
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert (out / "keep.txt").read_text(encoding="utf-8") == "precious"
    assert hidden_leftovers(tmp_path) == []


def test_refuses_its_own_run_folder_without_force_and_replaces_it_with(capsys, scenario,
                                                                       tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 0, err
    (out / "events.csv").write_text("stale", encoding="utf-8")
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert_clean_failure(code, err)
    assert str(out) in err and "--force" in err
    assert (out / "events.csv").read_text(encoding="utf-8") == "stale"

    code, _, err = cli(capsys, "run", scenario, "--out", out, "--force")
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {
        "events.csv", "hotline.csv", "scenario.yaml", "summary.json", "zones.csv", "stats.json",
        "flights.csv", "tracks.csv", ".deconflict"}
    assert (out / "events.csv").read_text(encoding="utf-8") != "stale"
    assert hidden_leftovers(tmp_path) == []


def test_empty_existing_folder_is_fine(capsys, scenario, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 0, err
    assert (out / "summary.json").is_file()


@pytest.mark.parametrize("force", [False, True])
def test_out_pointing_at_a_file_is_refused(capsys, scenario, tmp_path, force):
    target = tmp_path / "a-file"
    target.write_text("not a folder", encoding="utf-8")
    code, _, err = cli(capsys, "run", scenario, "--out", target, *(["--force"] if force else []))
    assert_clean_failure(code, err)
    assert str(target) in err
    assert target.read_text(encoding="utf-8") == "not a folder"
    assert hidden_leftovers(tmp_path) == []


# ---------------------------------------------------------------------------- run: overrides


def test_seed_option_changes_summary_and_scenario_yaml(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out, "--seed", 12345)
    assert code == 0, err
    assert read_summary(out)["seed"] == 12345
    assert read_resolved(out)["seed"] == 12345


def test_duration_option_changes_duration(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out, "--duration", "2 h")
    assert code == 0, err
    summary = read_summary(out)
    assert summary["duration_s"] == 7200.0
    for rule in summary["rules"].values():
        assert rule["per_day"] == pytest.approx(rule["episodes"] / (7200 / 86400), abs=1e-6)
    _, rows = read_events(out)
    assert all(float(r["end_s"]) <= 7200.0 for r in rows)
    assert read_resolved(out)["duration"] == "2 h"


def test_duration_without_unit_is_a_usage_error(capsys, scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", scenario, "--duration", "5")
    assert_clean_failure(code, err)
    assert "--duration" in err
    assert not (tmp_path / "runs").exists()


def test_set_hotline_latency_is_in_scenario_yaml(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out, "--set", "hotline.latency=2 h")
    assert code == 0, err
    assert read_resolved(out)["hotline"]["latency"] == "2 h"
    # The declaration now reaches russia's opponents at 3 h, C2 enters the zone later.
    _, rows = read_events(out)
    assert {r["aircraft"]: r["informed"] for r in rows if r["rule"] == "zones"} == {
        "C1": "false", "C2": "true"}


def test_set_addresses_a_rule_by_id(capsys, scenario, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scenario, "--out", out,
                       "--set", "rules.sep_h.horizontal=1 nmi",
                       "--set", "rules[1].vertical=500 ft")
    assert code == 0, err
    rules = {r["id"]: r for r in read_resolved(out)["rules"]}
    assert rules["sep_h"]["horizontal"] == "1 nmi"
    assert rules["sep_hv"]["horizontal"] == "5 nmi"
    assert rules["sep_hv"]["vertical"] == "500 ft"
    assert rules["lanes"]["tolerance"] == "10 mi"
    summary = read_summary(out)
    # C1 and R1 meet head-on at a 1000 ft altitude difference: not < 500 ft.
    assert summary["rules"]["sep_hv"]["episodes"] == 0
    assert summary["rules"]["sep_h"]["episodes"] == 1


@pytest.mark.parametrize("assignment", [
    "hotline.latency",              # no '='
    "seed.x=1",                     # a path through a scalar
    "flights[7].speed=400 kt",      # an index out of range
    "rules.no_such_rule.horizontal=1 nmi",  # an id that no item has
])
def test_bad_set_is_an_input_error_naming_the_argument(capsys, scenario, tmp_path,
                                                       monkeypatch, assignment):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", scenario, "--set", assignment)
    assert_clean_failure(code, err)
    assert assignment in err
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------------------- reproducibility


def test_resolved_scenario_yaml_reruns_to_identical_outputs(capsys, scenario, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    code, _, err = cli(capsys, "run", scenario, "--out", first,
                       "--seed", 3, "--set", "hotline.loss=0.5")
    assert code == 0, err
    code, _, err = cli(capsys, "run", first / "scenario.yaml", "--out", second)
    assert code == 0, err
    a, b = folder_bytes(first), folder_bytes(second)
    assert a["summary.json"] == b["summary.json"]
    assert a["events.csv"] == b["events.csv"]
    assert a["scenario.yaml"] == b["scenario.yaml"], "resolving a resolved scenario changed it"


def test_resolved_scenario_keeps_a_name_taken_from_the_file(capsys, tmp_path):
    source = tmp_path / "from-file-name.yaml"
    source.write_text(SCENARIO.replace("name: cli-test\n", ""), encoding="utf-8")
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli(capsys, "run", source, "--out", first)[0] == 0
    assert read_resolved(first)["name"] == "from-file-name"
    assert cli(capsys, "run", first / "scenario.yaml", "--out", second)[0] == 0
    assert folder_bytes(first) == folder_bytes(second)


def test_runs_are_byte_identical_across_processes(scenario, tmp_path):
    """Same scenario and seed, two processes with different hash seeds: same bytes."""
    for name, hash_seed in (("a", "1"), ("b", "4242")):
        proc = run_process([sys.executable, "-m", "sim", "run", str(scenario),
                            "--out", str(tmp_path / name)], cwd=tmp_path, hash_seed=hash_seed)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")


def test_in_process_run_matches_subprocess_run(capsys, scenario, tmp_path):
    code, _, err = cli(capsys, "run", scenario, "--out", tmp_path / "inproc")
    assert code == 0, err
    proc = run_process([sys.executable, "-m", "sim", "run", str(scenario),
                        "--out", str(tmp_path / "subproc")], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert folder_bytes(tmp_path / "inproc") == folder_bytes(tmp_path / "subproc")


# ---------------------------------------------------------------------------- validate


def test_validate_prints_a_summary(capsys, scenario):
    code, out, err = cli(capsys, "validate", scenario)
    assert code == 0, err
    assert err == ""
    assert "valid" in out and "cli-test" in out
    assert 3 <= len(out.splitlines()) <= 40  # one screen


def test_validate_lists_every_error(capsys, bad_scenario):
    code, out, err = cli(capsys, "validate", bad_scenario)
    assert_clean_failure(code, err)
    lines = err.splitlines()
    for path in BAD_PATHS:
        naming = [line for line in lines if f"{path}:" in line]
        assert naming, f"no error names {path}:\n{err}"
        assert all(str(bad_scenario) in line for line in naming), naming


@pytest.mark.parametrize("kind", ["missing", "not-utf8", "bad-yaml", "folder"])
def test_validate_unreadable_files(capsys, tmp_path, kind):
    path = tmp_path / f"{kind}.yaml"
    if kind == "not-utf8":
        path.write_bytes(b"name: caf\xe9\nseed: 1\n")
    elif kind == "bad-yaml":
        path.write_text("name: x\nflights: [\n  - {id: C1\n", encoding="utf-8")
    elif kind == "folder":
        path.mkdir()
    code, _, err = cli(capsys, "validate", path)
    assert_clean_failure(code, err)
    assert str(path) in err


# ---------------------------------------------------------------- bad input: nothing written


def _bad_run_args(kind: str, scenario: Path, bad_scenario: Path, tmp_path: Path) -> list[object]:
    if kind == "invalid-scenario":
        return ["run", bad_scenario]
    if kind == "missing-file":
        return ["run", tmp_path / "nope.yaml"]
    if kind == "bad-yaml":
        path = tmp_path / "broken.yaml"
        path.write_text(SCENARIO + "  : : [\n", encoding="utf-8")
        return ["run", path]
    if kind == "bad-duration":
        return ["run", scenario, "--duration", "5"]
    if kind == "bad-set-value":
        return ["run", scenario, "--set", "flights[0].speed=450"]
    if kind == "negative-seed":
        return ["run", scenario, "--seed=-1"]
    raise AssertionError(kind)


BAD_RUNS = ["invalid-scenario", "missing-file", "bad-yaml", "bad-duration", "bad-set-value",
            "negative-seed"]


@pytest.mark.parametrize("kind", BAD_RUNS)
def test_bad_run_writes_no_default_folder(capsys, scenario, bad_scenario, tmp_path,
                                          monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *_bad_run_args(kind, scenario, bad_scenario, tmp_path))
    assert_clean_failure(code, err)
    assert not (tmp_path / "runs").exists()
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", BAD_RUNS)
def test_bad_run_writes_no_explicit_folder(capsys, scenario, bad_scenario, tmp_path, kind):
    out = tmp_path / "deep" / "out"
    code, _, err = cli(capsys, *_bad_run_args(kind, scenario, bad_scenario, tmp_path),
                       "--out", out)
    assert_clean_failure(code, err)
    assert not out.exists()
    if out.parent.exists():
        assert hidden_leftovers(out.parent) == []


def test_bad_run_as_subprocess(bad_scenario, tmp_path):
    proc = run_process([sys.executable, "-m", "sim", "run", str(bad_scenario)], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "flights[1].speed" in proc.stderr
    assert not (tmp_path / "runs").exists()
    assert hidden_leftovers(tmp_path) == []


# -------------------------------------------------------------- usage, version, entry points


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["run"],
    ["run", "SCENARIO", "--bogus"],
    ["validate", "SCENARIO", "--out", "x"],
    ["run", "SCENARIO", "--seed", "seven"],
])
def test_usage_errors_exit_2(capsys, scenario, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    args = [str(scenario) if a == "SCENARIO" else a for a in args]
    code, _, err = cli(capsys, *args)
    assert_clean_failure(code, err)
    assert not (tmp_path / "runs").exists()


def test_usage_errors_exit_2_as_subprocess(scenario, tmp_path):
    for args in ([], ["run", str(scenario), "--bogus"]):
        proc = run_process([sys.executable, "-m", "sim", *args], cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "usage" in proc.stderr.lower()
        assert "Traceback" not in proc.stderr


def test_version(capsys, tmp_path):
    code, out, err = cli(capsys, "--version")
    assert (code, out, err) == (0, f"deconflict {sim.__version__}\n", "")
    proc = run_process([sys.executable, "-m", "sim", "--version"], cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == f"deconflict {sim.__version__}\n"


def test_help_shows_the_version(capsys, tmp_path):
    code, out, err = cli(capsys, "--help")
    assert code == 0 and err == ""
    assert out.startswith("usage: deconflict ")
    words = " ".join(out.split())  # argparse wraps the description to the terminal's width
    assert f"Airspace deconfliction simulator, version {sim.__version__}: " in words
    proc = run_process([sys.executable, "-m", "sim", "--help"], cwd=tmp_path)
    assert proc.returncode == 0
    assert f", version {sim.__version__}: " in " ".join(proc.stdout.split())


def test_console_script_on_path_runs_validate(scenario, tmp_path):
    exe = shutil.which("deconflict")
    assert exe is not None, "the console script `deconflict` is not on PATH"
    proc = run_process([exe, "validate", str(scenario)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout and "cli-test" in proc.stdout


def test_schema_prints_the_shipped_json_schema_and_it_checks_scenarios(capsys, tmp_path):
    import jsonschema

    from sim.detect.rules import rule_types
    from sim.model.ruletypes import installed
    from sim.model.scenario import parse_yaml  # dates stay text, as in YAML 1.2 editors
    from sim.model.schema import scenario_json_schema

    code, out, err = cli(capsys, "schema")
    shipped = (Path(sim.__file__).parent / "data" / "scenario.schema.json").read_text(
        encoding="utf-8")
    if installed():  # an installed package's rule types (the example's, in CI) join in
        plugins = tuple((k.name, k.parameters) for k in rule_types()[0] if not k.builtin)
        assert plugins
        shipped = json.dumps(scenario_json_schema(plugins), indent=2) + "\n"
    assert (code, err) == (0, "") and out == shipped
    schema = json.loads(out)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(parse_yaml(SCENARIO, "s.yaml"))) == []
    bad = parse_yaml(SCENARIO, "s.yaml")
    bad["flights"][0]["speeds"] = bad["flights"][0].pop("speed")  # an unknown key
    assert [e.validator for e in validator.iter_errors(bad)]  # refused by the schema too
    proc = run_process([sys.executable, "-m", "sim", "schema"], cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == shipped


def test_a_reader_that_closes_the_output_is_not_an_internal_error(tmp_path):
    # ``deconflict schema | head -1``: the pipe's reader is gone before the first write.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim", "schema"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=tmp_path, timeout=120)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, b"")


@pytest.mark.parametrize(("written", "resolved"), [
    ("2017-12-13T09:00:00+03:00", "2017-12-13T06:00:00Z"),
    ("0100-03-01T00:00:00Z", "0100-03-01T00:00:00Z"),  # a year below 1000 stays ISO
    ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00"),  # UTC would be the year 0
])
def test_a_yaml_timestamp_start_is_written_back_as_iso_text(written, resolved, tmp_path,
                                                             capsys):
    source = tmp_path / "s.yaml"
    source.write_text(SCENARIO.replace("start: 2017-12-01T00:00:00Z",
                                       f"start: !!timestamp {written}"), encoding="utf-8")
    assert cli(capsys, "run", source, "--out", tmp_path / "run")[0] == 0
    assert read_resolved(tmp_path / "run")["start"] == resolved
    # and the run folder's scenario.yaml runs again to the same start
    assert cli(capsys, "run", tmp_path / "run" / "scenario.yaml", "--out", tmp_path / "b")[0] == 0
    assert read_resolved(tmp_path / "b")["start"] == resolved


def test_commands_collect_garbage_rarely_and_restore_the_thresholds(capsys, monkeypatch):
    import gc

    import sim.cli
    from sim.cli import core
    seen = []
    monkeypatch.setattr(sim.cli, "run_command", lambda args: seen.append(gc.get_threshold()) or 0)
    before = gc.get_threshold()
    assert main(["rules"]) == 0
    assert seen == [core.FEWER_COLLECTIONS] != [before]
    assert gc.get_threshold() == before


def test_run_prints_the_informed_split_and_the_planners_as_summary_json_has_them(
        capsys, tmp_path):
    out = tmp_path / "week"
    baseline = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"
    code, stdout, err = cli(capsys, "run", baseline,
                            "--out", out)
    assert code == 0, err
    summary = read_summary(out)
    split, planning = summary["hotline"]["incursions"], summary["planning"]
    assert split["total"] > 0 and split["uninformed"] > 0 and planning["russia"]["rerouted"] > 0

    def shown(label: str) -> str:
        (line,) = [x for x in stdout.splitlines() if x.strip().startswith(label)]
        return line.split()[-1]
    assert int(shown("zone incursions")) == split["total"]
    assert int(shown("informed (the zone's")) == split["informed"]
    assert int(shown("uninformed")) == split["uninformed"]
    assert int(shown("declaration not yet received")) == split["not_yet_received"]
    assert int(shown("declaration lost")) == split["lost"]
    for party, counts in planning.items():
        (line,) = [x for x in stdout.splitlines() if x.strip().startswith(f"{party}: sorties")]
        assert line.split(")", 1)[1].strip() == (
            f"{counts['sorties']:,} ({counts['as_planned']:,}, {counts['rerouted']:,}, "
            f"{counts['delayed']:,}, {counts['dropped']:,}, {counts['not_flown']:,})")
    assert cli(capsys, "report", out)[0] == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Informed and uninformed, and the planners" in page
    assert f"{planning['russia']['sorties']:,} ({planning['russia']['as_planned']:,}," in page


def test_the_process_entry_point_returns_mains_code_and_leaves_the_heap_frozen(tmp_path):
    import gc

    from sim.cli import console

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    gc.unfreeze()
    try:
        assert console(["validate", str(scenario)]) == 0
        assert gc.get_freeze_count() > 0  # the shutdown collections will pass it over
        gc.unfreeze()
        assert console(["validate", str(tmp_path / "missing.yaml")]) == 2
    finally:
        gc.unfreeze()
