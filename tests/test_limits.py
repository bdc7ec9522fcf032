"""Resource limits (sim.limits): each refuses what is over it with exit 2 and a message
naming the key and the limit to raise, early and in bounded memory; each can be set with
``--limit NAME=VALUE``; and none changes what a run that passes writes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.model.limits import DEFAULT_LIMITS, LIMITS, Limits, set_limits
from sim.model.scenario import ScenarioError, load_scenario
from tests.cli_helpers import refused

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
ENCOUNTERS = ROOT / "scenarios" / "encounters.yaml"


def test_every_limit_is_documented_and_settable():
    assert set(LIMITS) == {f.name for f in dataclasses.fields(Limits)}
    raised = set_limits([f"{name}={getattr(DEFAULT_LIMITS, name) * 2}" for name in LIMITS])
    assert all(getattr(raised, n) == 2 * getattr(DEFAULT_LIMITS, n) for n in LIMITS)
    assert set_limits(["zone-vertices=1e3", "waypoints=1_000"]) == Limits(
        zone_vertices=1000, waypoints=1000)
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in LIMITS)


@pytest.mark.parametrize("bad", ["flights", "flights=", "flights=0", "flights=-3",
                                 "flights=lots", "fligths=10", "=5", "flights=1e99"])
def test_a_bad_limit_is_a_usage_error(bad, capsys):
    with pytest.raises(ValueError, match="NAME=VALUE|whole number") as info:
        set_limits([bad])
    assert "--limit" not in str(info.value)  # the library names no option
    refused(capsys, main(["validate", str(ENCOUNTERS), "--limit", bad]), "--limit")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read_whole(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(ENCOUNTERS.read_text())
    size = scenario.stat().st_size
    refused(capsys, main(["validate", str(scenario), "--limit", f"file_bytes={size - 1}"]),
            str(scenario), "--limit file_bytes")
    assert main(["validate", str(scenario), "--limit", f"file_bytes={size}"]) == 0


def test_an_endless_input_is_refused_at_the_size_limit():
    result = subprocess.run([sys.executable, "-m", "sim", "validate", "/dev/zero", "--limit",
                             "file_bytes=100000"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "larger than 100,000 bytes" in result.stderr


def test_a_large_file_with_too_many_nodes_is_refused_before_they_are_built(tmp_path, capsys):
    # Over 1 MiB, the nodes are counted on the parser's events before any is built.
    scenario = tmp_path / "s.yaml"
    scenario.write_text("description:\n" + "- [0, 0]\n" * 200_000)
    refused(capsys, main(["validate", str(scenario), "--limit", "nodes=100000"]),
            "more than 100,000 YAML values", "--limit nodes")
    # A small one is counted after loading (lists and mappings, aliases once).
    scenario.write_text("description:\n" + "- [0, 0]\n" * 2_000)
    refused(capsys, main(["validate", str(scenario), "--limit", "nodes=1000"]),
            "more than 1,000 YAML values")


def test_too_many_generated_sorties_are_refused_at_load(capsys):
    err = refused(capsys, main(["validate", str(BASELINE), "--set", 'duration="36500 d"']),
                  "parties.coalition.sorties_per_day", "1,825,000 flights", "--limit flights")
    assert "50,000" in err
    assert main(["validate", str(BASELINE), "--set", 'duration="36500 d"',
                 "--limit", "flights=2000000", "--limit", "waypoints=1e9",
                 "--limit", "hotline_calls=1e6"]) == 0


def test_generated_sorties_beyond_the_flight_limit_stop_as_they_are_drawn():
    # The load-time check knows the expected number; the real draw is checked as made.
    from sim.engine.simulation import run

    scenario = load_scenario(BASELINE, duration="1 d")
    count = len(run(scenario).flights)
    assert len(run(dataclasses.replace(scenario, limits=Limits(flights=count))).flights) \
        == count
    with pytest.raises(ScenarioError) as info:
        run(dataclasses.replace(scenario, limits=Limits(flights=count - 1)))
    assert info.value.problems[0].path.endswith(".sorties_per_day")
    assert "Limits(flights=N)" in str(info.value)


def test_too_many_generated_waypoints_are_refused_while_making_traffic(tmp_path, capsys):
    out = tmp_path / "out"
    refused(capsys, main(["run", str(BASELINE), "--duration", "3 d", "--limit",
                          "waypoints=5000", "--out", str(out)]),
            "time_on_station", "--limit waypoints")
    assert not out.exists()


def test_a_racetrack_of_endless_laps_is_refused_before_it_is_built(tmp_path, capsys):
    text = BASELINE.read_text().replace('time_on_station: ["30 min", "90 min"]',
                                        'time_on_station: ["3000 d", "3000 d"]')
    assert text != BASELINE.read_text()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    for command in (["validate"], ["run", "--out", str(tmp_path / "out")]):
        refused(capsys, main([*command, str(scenario), "--set", 'duration="1 d"']),
                "missions[0].time_on_station", "racetrack laps", "4,000,000")
    assert not (tmp_path / "out").exists()


def test_the_load_time_estimate_of_racetrack_laps_is_a_low_one():
    # validate refuses on the estimate only what making the traffic would refuse too.
    from sim.engine.simulation import run
    from sim.model.scenario import _racetrack_points

    scenario = load_scenario(BASELINE, duration="10 d")
    expected = {name: p.sorties.per_day * 10.0 for name, p in scenario.parties.items()
                if p.sorties is not None}
    estimate, _ = _racetrack_points(scenario.parties, expected)
    # What making the traffic counts against the limit: every generated route's points.
    flown = sum(len(plan.route_xy) for plan in run(scenario).plans
                if plan.id.startswith(("coalition-", "russia-")))
    assert 0 < estimate < flown


def test_explicit_route_points_and_zone_vertices_are_counted_at_load(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(ENCOUNTERS.read_text())
    refused(capsys, main(["validate", str(scenario), "--limit", "waypoints=7"]),
            "flights:", "--limit waypoints")
    refused(capsys, main(["validate", str(scenario), "--limit", "zone_vertices=5"]),
            "zones:", "--limit zone_vertices")


def test_limits_do_not_change_what_a_run_writes_and_reach_the_readers(tmp_path, capsys):
    default, raised = tmp_path / "default", tmp_path / "raised"
    assert main(["run", str(ENCOUNTERS), "--out", str(default)]) == 0
    assert main(["run", str(ENCOUNTERS), "--out", str(raised), "--limit", "flights=1e6",
                 "--limit", "waypoints=1e8"]) == 0
    for path in default.iterdir():
        assert path.read_bytes() == (raised / path.name).read_bytes(), path.name
    capsys.readouterr()
    # Readers check a run folder's scenario against the limits they are given.
    refused(capsys, main(["report", str(default), "--limit", "flights=1"]), "--limit flights")


def test_the_pairs_limit_counts_only_the_parties_a_rule_looks_at():
    # One red aircraft among a hundred blue ones, all in one box at once: a rule between
    # red and blue has ~100 pairs to look at, a rule between blue and blue thousands.
    import numpy as np

    from sim import testing as sst
    from sim.detect.rules import World, detect, separation_parties, separation_reach
    from sim.model.limits import LimitExceeded

    rng = np.random.default_rng(5)
    plans = [sst.FlightPlan(f"F{k:03d}", "red" if k == 0 else "blue", 0.0, 200.0, 6096.0,
                            rng.uniform(-30_000, 30_000, (3, 2))) for k in range(100)]
    rules = [{"id": "cross", "type": "min_separation", "horizontal": "45 mi",
              "between": ["red", "blue"]},
             {"id": "blue", "type": "min_separation", "horizontal": "45 mi",
              "between": ["blue", "blue"]}]
    result = sst.run_plans(plans, rules=rules, duration_s=3600.0)
    cross, same = result.scenario.rules

    def world(rule) -> World:
        return World(result.geography, result.flights, result.legs, result.hotline,
                     separation_reach([rule]), Limits(pairs=1_000),
                     separation_parties([rule], ["red", "blue"]))

    assert len(detect(cross, world(cross))) > 0
    with pytest.raises(LimitExceeded):
        detect(same, world(same))


def test_library_messages_name_python_remedies_and_the_command_line_its_options(capsys):
    from sim.cli.core import for_command_line

    # A limit, an override: the library says what a Python caller changes ...
    with pytest.raises(ScenarioError) as info:
        load_scenario(ENCOUNTERS, limits=Limits(nodes=10))
    assert "(raise the limit: Limits(nodes=N))" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        load_scenario(ENCOUNTERS, ["seed"])
    assert "override 'seed': expected KEY=VALUE" in str(info.value)
    assert "--" not in str(info.value)
    # ... and the command line says which option does it.
    refused(capsys, main(["validate", str(ENCOUNTERS), "--limit", "nodes=10"]),
            "(raise the limit with --limit nodes=N)")
    err = refused(capsys, main(["validate", str(ENCOUNTERS), "--set", "seed"]),
                  "--set 'seed': expected KEY=VALUE")
    assert "override" not in err
    assert for_command_line("x (or raise the limit: Limits(hotline_calls=N) or "
                            "Limits(declarations=N))") == (
        "x (or raise the limit with --limit hotline_calls=N or --limit declarations=N)")
    assert for_command_line("f: outside; load it with allow_outside=True to read it anyway") \
        == "f: outside; pass --allow-outside to read it anyway"
    # The keyword arguments and words of sim.io and sim.study, as the options they are.
    assert for_command_line(
        "s: holds a sweep; run with mode='resume' to keep them, with mode='restart' to "
        "discard them, or choose another out folder") == (
        "s: holds a sweep; run with --resume to keep them, with --restart to discard them, "
        "or choose another --out")
    assert for_command_line("o: holds a run folder; use force=True to replace it") == \
        "o: holds a run folder; use --force to replace it"
    assert for_command_line("party=x: not a party\nreplications=0: give a number") == \
        "--party x: not a party\n--replications 0: give a number"
    assert for_command_line("scheduler=tcp://h:1: cannot reach it, or use scheduler=local") \
        == "--scheduler tcp://h:1: cannot reach it, or use --scheduler local"


def test_an_override_of_compare_is_named_by_its_option_and_sweep_checks_its_seed(capsys):
    refused(capsys, main(["compare", str(ENCOUNTERS), "--a", "bad", "--b", "hotline.loss=0.1"]),
            "--a 'bad': expected KEY=VALUE")
    refused(capsys, main(["compare", str(ENCOUNTERS), "--b", "nonsense"]),
            "--b 'nonsense': expected KEY=VALUE")
    refused(capsys, main(["sweep", str(ENCOUNTERS), "--grid", "hotline.loss=0.1,0.2",
                          "--seed", str(2**64)]),
            f"--seed {2**64}: write a whole number from 0 to 2**64-1")
