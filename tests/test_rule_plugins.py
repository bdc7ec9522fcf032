"""Rule types added by installed packages: discovered by entry point, validated with the
scenario's messages, run in runs, sweeps and reports like the built-in rules, and a
plugin's own faults reported as that plugin's (exit 1), never as a traceback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from sim.cli import main
from sim.engine import run
from sim.model import ruletypes
from sim.model.writer import as_document
from sim.scenario import ScenarioError, load_scenario, parse_scenario
from tests.plugin_site import plugins_on_path, write_plugin

ROOT = Path(__file__).resolve().parent.parent

# A pair rule made of the public blocks: the same as min_separation, under another name.
GOOD = '''
from sim.rules import (OptionalDistance, PartyPair, PositiveDistance, RuleParameters, World,
                       close_pieces, pair_episodes, parameter, rule)


class CloseParameters(RuleParameters):
    """Two aircraft closer than horizontal (and vertical)."""

    horizontal: PositiveDistance = parameter("5 nmi", "How close in plan.", "distance")
    vertical: OptionalDistance = parameter(None, "How close in altitude.", "distance")
    between: PartyPair = parameter(None, "Only between these parties.", "two ids")


@rule("too_close", CloseParameters)
def too_close(params, world: World):
    """Episodes of two aircraft too close, one per pair and interval."""
    return pair_episodes(params, world, close_pieces(world, params.horizontal,
                                                     params.vertical, params.between))
'''

RAISES = '''
from sim.rules import RuleParameters, parameter, rule


class P(RuleParameters):
    """Nothing."""


@rule("buggy", P)
def buggy(params, world):
    """Divides by zero."""
    return [1 / 0]
'''

GARBAGE = '''
from sim.rules import RuleParameters, rule


class P(RuleParameters):
    """Nothing."""


@rule("garbage", P)
def garbage(params, world):
    """Returns what is not an episode."""
    return ["not an episode"]
'''

NOT_A_RULE = "broken_import = 1\n"
FAILS_TO_IMPORT = "import no_such_module_anywhere\n"


@pytest.fixture()
def site(tmp_path):
    """Three installed distributions: a good plugin, a buggy one, and broken ones."""
    site = tmp_path / "site"
    write_plugin(site, "close-rules", "1.2.0", {"close_rules": GOOD},
                 {"too_close": "close_rules:too_close"})
    write_plugin(site, "buggy-rules", "0.1.0", {"buggy_rules": RAISES, "garbage_rules": GARBAGE},
                 {"buggy": "buggy_rules:buggy", "garbage": "garbage_rules:garbage"})
    write_plugin(site, "broken-rules", "0.0.1",
                 {"not_a_rule": NOT_A_RULE, "fails_to_import": FAILS_TO_IMPORT},
                 {"not_a_rule": "not_a_rule:broken_import",
                  "fails_to_import": "fails_to_import:anything"})
    with plugins_on_path(site):
        yield site


def scenario_doc(rule: dict, duration: str = "2 h") -> dict:
    """Two explicit flights crossing head-on (so any separation rule has one episode)."""
    return {
        "name": "plugin-test", "seed": 3, "duration": duration, "frame": {"center": [39.5, 35.8]},
        "parties": {"blue": {}, "red": {}},
        "flights": [
            {"id": "B1", "party": "blue", "depart": "0 s", "speed": "200 m/s",
             "altitude": "7000 m", "route": [{"x": "-60 km", "y": "0 km"},
                                             {"x": "60 km", "y": "0 km"}]},
            {"id": "R1", "party": "red", "depart": "0 s", "speed": "200 m/s",
             "altitude": "7100 m", "route": [{"x": "60 km", "y": "1 km"},
                                            {"x": "-60 km", "y": "1 km"}]}],
        "rules": [rule],
    }


def write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def cli(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_plugin_rule_equals_the_built_in_rule_it_copies(site):
    rule = {"id": "tc", "type": "too_close", "horizontal": "5 nmi", "vertical": "1000 ft"}
    plugin_run = run(parse_scenario(scenario_doc(rule)))
    builtin = dict(rule, type="min_separation")
    builtin_run = run(parse_scenario(scenario_doc(builtin)))
    assert len(plugin_run.episodes) == 1
    mine = [e.__class__(**{**e.__dict__, "type": "min_separation"}) if hasattr(e, "__dict__")
            else e for e in plugin_run.episodes]
    from dataclasses import replace
    assert [replace(e, type="min_separation") for e in plugin_run.episodes] == list(
        builtin_run.episodes)
    assert mine  # the plugin's episodes carry its own type
    assert plugin_run.episodes[0].type == "too_close"


def test_plugin_parameters_are_validated_and_defaulted(site):
    scenario = parse_scenario(scenario_doc({"id": "tc", "type": "too_close"}))
    spec = scenario.rules[0]
    assert spec.type == "too_close" and spec.id == "tc"
    assert spec.horizontal == pytest.approx(5 * 1852.0)
    assert spec.vertical is None and spec.complaint is False
    # The defaults are written into the scenario as run.
    assert as_document(scenario)["rules"][0] == {
        "id": "tc", "type": "too_close", "complaint": False, "horizontal": "5 nmi",
        "vertical": None, "between": None}


def test_wrong_unit_in_a_plugin_parameter_names_rule_and_plugin(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "tc", "type": "too_close",
                                         "horizontal": "5 kg"}))
    code, _, err = cli(capsys, "validate", path)
    assert code == 2, err
    assert "rules[0].horizontal" in err and "'5 kg'" in err
    assert "rule 'tc' of type too_close, from close-rules 1.2.0" in err
    assert "Traceback" not in err


def test_unknown_key_of_a_plugin_rule(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "tc", "type": "too_close", "horizonal": "1 nmi"}))
    code, _, err = cli(capsys, "validate", path)
    assert code == 2
    assert "rules[0].horizonal" in err and "horizontal" in err and "close-rules" in err


def test_unknown_type_lists_the_known_ones(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "x", "type": "too_clse"}))
    code, _, err = cli(capsys, "validate", path)
    assert code == 2
    assert "rules[0].type: str 'too_clse' is not a rule type; did you mean 'too_close'?" in err
    for name in ("min_separation", "lane_discipline", "zone_incursion", "too_close", "buggy"):
        assert name in err


def test_unknown_type_without_plugins_says_none_are_installed(tmp_path, capsys, no_plugins):
    path = write(tmp_path, scenario_doc({"id": "x", "type": "rule_of_fours"}))
    code, _, err = cli(capsys, "validate", path)
    assert code == 2
    assert err.endswith("'rule_of_fours' is not a rule type; use one of min_separation, "
                        "lane_discipline, zone_incursion (no installed package adds rule types; "
                        "see deconflict rules)\n"), err


def test_a_plugin_that_raises_is_its_own_bug(site, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DECONFLICT_DEBUG", raising=False)
    path = write(tmp_path, scenario_doc({"id": "b1", "type": "buggy"}))
    code, _, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 1
    assert err.splitlines()[0] == (
        "deconflict run: error in a plugin: rule 'b1' of plugin buggy-rules 0.1.0 (entry point "
        "buggy = buggy_rules:buggy): raised ZeroDivisionError: division by zero")
    assert "Traceback" not in err and "internal error" not in err
    assert not (tmp_path / "out").exists()  # nothing half written
    monkeypatch.setenv("DECONFLICT_DEBUG", "1")
    code, _, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 1 and "Traceback" in err and "ZeroDivisionError" in err


def test_a_plugin_that_returns_garbage(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "g", "type": "garbage"}))
    code, _, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 1
    assert "rule 'g' of plugin buggy-rules 0.1.0" in err
    assert "returned str as episode 0, not an Episode" in err


@pytest.mark.parametrize("kind, fault", [
    ("not_a_rule", "is int, not a rule type"),
    ("fails_to_import", "failed to load: ModuleNotFoundError")])
def test_a_plugin_that_does_not_load(site, tmp_path, capsys, kind, fault):
    path = write(tmp_path, scenario_doc({"id": "n", "type": kind}))
    code, _, err = cli(capsys, "validate", path)
    assert code == 1, err
    assert f"rule 'n' of plugin broken-rules 0.0.1 (entry point {kind} = " in err
    assert fault in err and "Traceback" not in err


def test_a_broken_plugin_does_not_break_other_scenarios(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "tc", "type": "too_close"}))
    code, out, err = cli(capsys, "validate", path)
    assert code == 0, err


def test_rules_command_lists_types_parameters_and_sources(site, capsys):
    code, out, err = cli(capsys, "rules")
    assert code == 1  # broken plugins are installed
    assert "too_close  (close-rules 1.2.0 (entry point too_close = close_rules:too_close))" in out
    assert "Episodes of two aircraft too close, one per pair and interval." in out
    assert '    horizontal  distance, default "5 nmi": How close in plan.' in out
    assert "    type        too_close, required: The rule type." in out
    assert "min_separation  (built-in)" in out
    assert "plugin broken-rules 0.0.1 (entry point fails_to_import" in err
    code, out, _ = cli(capsys, "rules", "--json")
    listed = {r["type"]: r for r in json.loads(out)["rule_types"]}
    assert {"min_separation", "lane_discipline", "zone_incursion", "too_close", "buggy",
            "garbage"} <= set(listed)  # with any other installed package's (the example's)
    assert [p["key"] for p in listed["too_close"]["parameters"]] == [
        "id", "type", "complaint", "horizontal", "vertical", "between"]


@pytest.fixture()
def no_plugins(monkeypatch):
    """As if no installed package declared rule types (the example is installed in CI)."""
    ruletypes.clear_cache()
    monkeypatch.setattr(ruletypes, "installed", lambda: ())
    yield
    monkeypatch.undo()
    ruletypes.clear_cache()


def test_rules_command_without_plugins(capsys, no_plugins):
    code, out, err = cli(capsys, "rules")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")] \
        == ["min_separation", "lane_discipline", "zone_incursion"]


def test_schema_command_has_the_plugin_rule(site, tmp_path, capsys):
    code, out, err = cli(capsys, "schema")
    assert code == 0
    assert "left out plugin broken-rules" in err
    schema = json.loads(out)
    doc = scenario_doc({"id": "tc", "type": "too_close", "horizontal": "3 nmi"})
    jsonschema.Draft202012Validator(schema).validate(doc)
    bad = scenario_doc({"id": "tc", "type": "too_close", "horizontal": 3})
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    unknown = scenario_doc({"id": "tc", "type": "too_far"})
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(unknown))


def test_plugin_rule_in_run_folder_report_and_stats(site, tmp_path, capsys):
    rule = {"id": "tc", "type": "too_close", "horizontal": "5 nmi", "complaint": True}
    path = write(tmp_path, scenario_doc(rule))
    out_dir = tmp_path / "run"
    code, out, err = cli(capsys, "run", path, "--out", out_dir, "--replications", "3")
    assert code == 0, err
    with open(out_dir / "events.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rule"], r["type"], r["aircraft"], r["other_aircraft"]) for r in rows] == [
        ("tc", "too_close", "B1", "R1")]
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["rules"]["tc"]["type"] == "too_close"
    assert summary["rules"]["tc"]["episodes"] == 1
    stats = json.loads((out_dir / "stats.json").read_text(encoding="utf-8"))
    assert "tc" in json.dumps(stats)
    # The run folder reads back (the plugin is installed) and reports on it.
    code, _, err = cli(capsys, "report", out_dir)
    assert code == 0, err
    report = next(out_dir.glob("report*.html")) if list(out_dir.glob("report*.html")) else \
        next((out_dir / "report").glob("*.html"))
    assert "tc" in report.read_text(encoding="utf-8")
    code, _, err = cli(capsys, "plot", out_dir)
    assert code == 0, err


def test_plugin_rule_in_a_sweep(site, tmp_path, capsys):
    rule = {"id": "tc", "type": "too_close", "horizontal": "5 nmi"}
    path = write(tmp_path, scenario_doc(rule))
    out_dir = tmp_path / "sweep"
    code, out, err = cli(capsys, "sweep", path, "--grid", "rules.tc.horizontal=0.5 nmi,5 nmi",
                         "--replications", "2", "--workers", "1", "--out", out_dir)
    assert code == 0, err
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    per_day = {row["rules.tc.horizontal"]: float(row["mean"]) for row in rows
               if row["metric"] == "tc.per_day"}
    # 0.5 nmi: the flights pass 1 km apart, no episode; 5 nmi: one episode in 2 h each run.
    assert per_day == {"0.5 nmi": 0.0, "5 nmi": 12.0}, per_day


def test_plugin_through_a_subprocess(site, tmp_path):
    path = write(tmp_path, scenario_doc({"id": "tc", "type": "too_close"}))
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout


def test_plugin_spec_pickles(site):
    import pickle
    scenario = parse_scenario(scenario_doc({"id": "tc", "type": "too_close"}))
    again = pickle.loads(pickle.dumps(scenario))
    assert again.rules == scenario.rules


def test_declaring_a_builtin_name_is_refused(tmp_path, capsys):
    site = tmp_path / "site2"
    write_plugin(site, "impostor", "1.0", {"impostor": GOOD},
                 {"min_separation": "impostor:too_close"})
    with plugins_on_path(site):
        # The built-in one is used; the impostor is listed as broken.
        scenario = parse_scenario(scenario_doc({"id": "m", "type": "min_separation",
                                                "horizontal": "5 nmi"}))
        assert len(run(scenario).episodes) == 1
        code, out, err = cli(capsys, "rules")
        assert code == 1 and "declares the built-in rule type 'min_separation'" in err


def test_load_scenario_error_is_a_scenario_error(site, tmp_path):
    path = write(tmp_path, scenario_doc({"id": "tc", "type": "too_close", "horizontal": "0 m"}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "rules[0].horizontal" in str(info.value)


def test_a_plugin_bug_in_a_sweep_worker_process_is_named(site, tmp_path, capsys):
    path = write(tmp_path, scenario_doc({"id": "b", "type": "buggy"}))
    code, _, err = cli(capsys, "sweep", path, "--grid", "hotline.loss=0.1,0.2",
                       "--replications", "2", "--workers", "2", "--out", tmp_path / "sweep")
    assert code == 1
    assert ("deconflict sweep: error in a plugin: rule 'b' of plugin buggy-rules 0.1.0 "
            "(entry point buggy = buggy_rules:buggy): raised ZeroDivisionError") in err
    assert "Traceback" not in err


@pytest.mark.parametrize("change, fault", [
    ({"start_s": float("nan")}, "from nan s to"),
    ({"start_s": "0"}, "from '0' s to"),
    ({"end_s": 1e9}, "outside the flight of 'B1'"),
    ({"aircraft": "NOPE"}, "of aircraft 'NOPE' of party 'blue', not of this run"),
    ({"other_party": "blue"}, "of aircraft 'R1' of party 'blue', not of this run"),
    ({"rule": "other"}, "of rule 'other'")])
def test_a_plugin_returning_a_wrong_episode_is_named(site, change, fault):
    from dataclasses import replace

    from sim.detect.rules import result_problem
    scenario = parse_scenario(scenario_doc({"id": "tc", "type": "too_close"}))
    result = run(scenario)
    good = list(result.episodes)
    from sim.testing import world_of
    world = world_of(scenario_doc({"id": "tc", "type": "too_close"}))
    assert result_problem(scenario.rules[0], world, good) is None
    bad = [replace(good[0], **change)]
    assert fault in result_problem(scenario.rules[0], world, bad)
