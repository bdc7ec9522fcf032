"""The hotline: calls, latency, loss, and when an incursion is informed; and, from the
review of the hotline, planner, work areas and ``deconflict compare``, regressions for the
bugs it found and guards of the behaviour it checked."""

from __future__ import annotations

import csv
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString

from sim import testing as sst
from sim.analysis.metrics import summarize
from sim.cli import main
from sim.engine.simulation import OUTCOMES, run
from sim.model.geography import build_geography
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.scenario import Problem, ScenarioError, load_scenario, parse_scenario
from sim.traffic.plans import FlightPlan
from sim.traffic.sorties import plan_traffic
from tests.cli_helpers import refused

ZONE = {"id": "Z1", "party": "blue",
        "area": {"circle": {"center": {"x": "0 m", "y": "0 m"}, "radius": "10 km"}}}
RULE = {"id": "zones", "type": "zone_incursion"}


def run_with(hotline: dict, depart_s: float = 0.0, zones=(ZONE,), duration_s: float = 86_400.0,
             limits: Limits = DEFAULT_LIMITS):
    # R1 enters the zone 100 s after departure (from 20 km west, at 100 m/s).
    intruder = FlightPlan("R1", "red", depart_s, 100.0, 5000.0,
                          np.array([[-20_000.0, 0.0], [20_000.0, 0.0]]))
    document = sst.scenario_document([intruder], rules=[RULE], zones=list(zones),
                                     duration_s=duration_s)
    document["hotline"] = hotline
    return run(parse_scenario(document, limits=limits))


def declarations(result):
    """The zone declarations said on the hotline (complaints left out)."""
    return [m for m in result.hotline.messages if m.item_type == "zone"]


def test_with_no_loss_every_declaration_arrives_exactly_latency_later():
    result = run_with({"first_call": "1 h", "interval": "6 h", "latency": "17 min"})
    messages = declarations(result)
    assert [m.sent_s for m in messages] == [3600.0 + 6 * 3600.0 * k for k in range(4)]
    assert all(m.received_s == m.sent_s + 17 * 60 and not m.lost for m in messages)
    assert {(m.sender, m.recipient, m.item) for m in messages} == {("blue", "red", "Z1")}
    summary = summarize(result)["hotline"]
    assert (summary["calls"], summary["declared"], summary["lost"]) == (4, 4, 0)


def test_with_total_loss_nothing_arrives_and_nothing_is_informed():
    result = run_with({"first_call": "0 s", "interval": "1 h", "latency": "0 s", "loss": 1.0},
                      depart_s=7200.0)
    assert all(m.lost and m.received_s is None for m in declarations(result))
    assert len(result.episodes) == 1 and result.episodes[0].informed is False
    summary = summarize(result)["hotline"]
    assert summary["lost"] == summary["declared"] == 24


@pytest.mark.parametrize(("enters_at_s", "informed"), [
    (1800.0 + 600.0 - 1.0, False),   # one second before the declaration arrives
    (1800.0 + 600.0, True),          # exactly when it arrives: it had been received
    (1800.0 + 600.0 + 1.0, True),
])
def test_informed_flips_exactly_at_the_arrival_time(enters_at_s, informed):
    result = run_with({"first_call": "30 min", "interval": "24 h", "latency": "10 min"},
                      depart_s=enters_at_s - 100.0)
    (episode,) = result.episodes
    assert episode.start_s == pytest.approx(enters_at_s, abs=1e-9)
    assert episode.informed is informed


def test_undeclared_zones_stay_secret():
    secret = dict(ZONE, declare=False)
    result = run_with({"first_call": "0 s"}, depart_s=3600.0, zones=[secret])
    assert declarations(result) == []
    assert result.episodes[0].informed is False


def test_expired_zones_are_not_declared_again():
    short = dict(ZONE, active=["0 s", "2 h"])
    result = run_with({"first_call": "1 h", "interval": "1 h"}, zones=[short], duration_s=6 * 3600)
    assert [m.sent_s for m in declarations(result)] == [3600.0]


def test_loss_draws_are_reproducible_and_seeded():
    hotline = {"first_call": "0 s", "interval": "1 h", "loss": 0.5}
    first = [m.lost for m in declarations(run_with(hotline))]
    second = [m.lost for m in declarations(run_with(hotline))]
    assert first == second
    assert 0 < sum(first) < len(first)


def test_no_hotline_section_means_no_calls():
    intruder = FlightPlan("R1", "red", 0.0, 100.0, 5000.0, np.array([[-20_000.0, 0.0],
                                                                     [20_000.0, 0.0]]))
    result = run(parse_scenario(sst.scenario_document([intruder], rules=[RULE], zones=[ZONE])))
    assert result.hotline.calls == 0 and result.episodes[0].informed is False


def test_a_declared_zone_not_yet_said_is_not_yet_received_and_a_secret_one_undeclared():
    # The zone ends before the first call: it was to be declared, but never got said.
    short = dict(ZONE, active=["0 s", "2 h"])
    said_later = run_with({"first_call": "6 h"}, depart_s=3500.0, zones=[short])
    assert [e.declaration for e in said_later.episodes] == ["not_yet_received"]
    secret = run_with({"first_call": "6 h"}, depart_s=3500.0, zones=[dict(short, declare=False)])
    assert [e.declaration for e in secret.episodes] == ["undeclared"]
    off = run_with({"enabled": False}, depart_s=3500.0, zones=[short])
    assert [e.declaration for e in off.episodes] == ["undeclared"]


def test_too_many_declarations_are_refused_at_load_and_stop_the_run():
    # At load, from the call schedule's estimate:
    with pytest.raises(ScenarioError) as info:
        run_with({"first_call": "0 s", "interval": "1 h"}, limits=Limits(declarations=10))
    assert info.value.problems[0].path == "hotline.interval"
    # The library names the Python remedy; the command line, the option (tests/test_limits).
    assert "Limits(declarations=N)" in str(info.value)
    assert "--limit" not in str(info.value)
    # While running, counting what is said (the scenario passed the load-time check):
    result = run_with({"first_call": "0 s", "interval": "1 h"})
    assert len(declarations(result)) > 10
    scenario = replace(result.scenario, limits=Limits(declarations=10))
    with pytest.raises(ScenarioError) as info:
        run(scenario)
    assert info.value.problems[0].path == "hotline.interval"
    assert "declarations" in str(info.value)


# ------------------------------------------------------------------ review
# The review of the hotline, planner, work areas and compare: a two-party scenario with a
# zone, lanes, work areas and ad hoc calls. First regressions for the bugs it found (each
# failed on the code as reviewed), then guards of behaviour it checked.

BASE = """\
name: review
seed: 3
duration: "2 d"
corridor: {centerline: euphrates, half_width: "40 mi"}
lanes:
  coalition_lane: {party: coalition, offset: "+22.5 mi", direction: downstream}
  russia_lane: {party: russia, offset: "-22.5 mi", direction: upstream}
parties:
  coalition:
    sorties_per_day: 10
    bases: {incirlik: 1}
    aircraft: [{type: F-16, speed: "480 kt", altitude: [FL200, FL300], share: 1}]
    missions: [{area: mayadin, share: 1, time_on_station: ["30 min", "90 min"]}]
    compliance: 0.9
  russia:
    sorties_per_day: 10
    bases: {hmeimim: 1}
    aircraft: [{type: Su-24, speed: "430 kt", altitude: [FL200, FL300], share: 1}]
    missions: [{area: mayadin, share: 1, time_on_station: ["20 min", "60 min"]}]
    compliance: 0.3
zones:
  - {id: hz, party: coalition, area: {circle: {center: hajin, radius: "10 nmi"}}, ceiling: FL300}
rules:
  - {id: sep, type: min_separation, horizontal: "20 nmi", complaint: true}
  - {id: zones, type: zone_incursion}
  - {id: lanes, type: lane_discipline}
hotline:
  enabled: true
  first_call: "1 h"
  interval: "3 h"
  latency: "20 min"
  loss: 0.3
  adhoc: {probability: 0.5, delay: "1 h"}
"""

STRESS = ["hotline.first_call=\"0 s\"", "hotline.latency=\"0 s\"", "hotline.loss=0",
          "parties.coalition.sorties_per_day=30", "parties.russia.sorties_per_day=30",
          "parties.coalition.work_areas.buffer=\"50 nmi\"",
          "parties.russia.work_areas.buffer=\"50 nmi\"",
          "parties.russia.planning.max_delay=\"1 h\""]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "base.yaml"
    path.write_text(BASE)
    return path


# ------------------------------------------------------- review: regressions

def test_hotline_not_a_mapping_on_a_long_run_is_exit_2(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text('name: x\nduration: "14 d"\nparties: {a: {}, b: {}}\nhotline: true\n')
    refused(capsys, main(["validate", str(path)]), "hotline")


def test_scenario_error_survives_pickling():
    error = ScenarioError([Problem("s.yaml", "zones", "the id 'x' clashes")])
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)


def test_compare_in_workers_reports_a_readable_error(base, capsys):
    clash = ("zones=[{id: work.coalition.c000.m0, party: coalition, "
             "area: {circle: {center: hajin, radius: \"10 nmi\"}}}]")
    code = main(["compare", str(base), "--set", clash, "--b", "hotline.enabled=false",
                 "--replications", "2", "--workers", "2"])
    refused(capsys, code, "kept for the parties' work areas")


def test_validate_finds_the_work_area_id_clash_that_run_refuses(base, capsys):
    clash = ("zones=[{id: work.coalition.c000.m0, party: coalition, "
             "area: {circle: {center: hajin, radius: \"10 nmi\"}}}]")
    refused(capsys, main(["validate", str(base), "--set", clash]), "work.coalition.c000.m0")


def test_an_interval_with_too_many_calls_is_refused_before_anything_runs(base, tmp_path,
                                                                         capsys):
    # What keeps a tiny interval from running for hours: the size check counts the calls
    # (the call schedule is also the planning cycle) at load. 0.2 s over the 47 h after
    # the first call is 846,000 calls.
    with pytest.raises(ScenarioError) as info:
        load_scenario(base, ['hotline.interval="0.2 s"'])
    assert [p.path for p in info.value.problems] == ["hotline.interval"]
    out = tmp_path / "out"
    refused(capsys, main(["run", str(base), "--out", str(out), "--set",
                          'hotline.interval="0.2 s"']),
            "hotline.interval", "846,000 calls", "more than 20,000 calls", "--limit hotline_calls")
    assert not out.exists()
    # Either side of the limit: 9 s is 18,800 calls, 8 s is 21,150.
    assert load_scenario(base, ['hotline.interval="9 s"']).hotline.interval_s == 9.0
    with pytest.raises(ScenarioError, match="makes 21,150 calls"):
        load_scenario(base, ['hotline.interval="8 s"'])


# ------------------------------------------------------------------ review: guards

@pytest.mark.parametrize("seed", [0, 1])
def test_planner_invariants_under_stress(base, seed):
    """Outcomes add up; a delay never exceeds max_delay; a flown sortie (close approaches
    aside) never enters a zone its party had received at its departure."""
    scenario = load_scenario(base, STRESS, seed=seed)
    result = run(scenario)
    traffic = plan_traffic(scenario, build_geography(scenario),
                           np.random.default_rng(scenario.seed).spawn(2)[0])
    nominal = {s.plan.id: s.plan for s in traffic.sorties}
    assert set(result.outcomes) == set(nominal)
    assert set(result.outcomes.values()) <= set(OUTCOMES)
    flown = {p.id: p for p in result.plans}
    zones = {z.spec.id: z for z in result.geography.zones}
    for ident, outcome in result.outcomes.items():
        if outcome in ("dropped", "not_flown"):
            assert ident not in flown
            continue
        plan, policy = flown[ident], scenario.parties[nominal[ident].party].planning
        late = plan.depart_s - nominal[ident].depart_s
        if outcome == "delayed":
            assert 0.0 < late <= policy.max_delay_s + 1e-6
        else:
            assert late == 0.0
        times = plan.waypoint_times()
        for zid in result.hotline.received_by(plan.party, plan.depart_s):
            z = zones[zid]
            if z.spec.party == plan.party or not z.spec.floor_m < plan.altitude_m \
                    < z.spec.ceiling_m:
                continue
            for k in range(len(plan.route_xy) - 1):
                t0, t1 = times[k], times[k + 1]
                if t1 <= z.spec.active_start_s or t0 >= z.spec.active_end_s or t1 <= t0:
                    continue
                if any(c == "close_approach" and a < t1 and t0 < b
                       for c, a, b in plan.deviations):
                    continue
                assert LineString(plan.route_xy[k:k + 2]).intersection(z.shape).length < 1e-3


def test_informed_declaration_and_complaints_agree_with_hotline_csv(base, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(base), "--out", str(out), "--seed", "1", "--set",
                 'parties.coalition.work_areas.buffer="25 nmi"', "--set",
                 "parties.russia.planning.avoid=false"]) == 0
    messages = list(csv.DictReader((out / "hotline.csv").open()))
    events = list(csv.DictReader((out / "events.csv").open()))
    summary = json.loads((out / "summary.json").read_text())
    incursions = [e for e in events if e["type"] == "zone_incursion"]
    assert {e["declaration"] for e in incursions} == {"received", "lost"}
    for e in incursions:
        start = float(e["start_s"])
        mine = [m for m in messages if m["item_type"] == "zone" and m["item"] == e["zone"]
                and m["recipient"] == e["party"]]
        got = any(m["received_s"] and float(m["received_s"]) <= start for m in mine)
        assert (e["informed"] == "true") == got
        assert (e["declaration"] == "received") == got
    scheduled = sorted({float(m["sent_s"]) for m in messages if m["kind"] == "scheduled"
                        and m["item_type"] == "zone"})
    complaints = [m for m in messages if m["item_type"] == "complaint"]
    for m in complaints:
        began = float(m["item"].rsplit("@", 1)[1])
        assert float(m["sent_s"]) == min(t for t in scheduled if t > began)
    hotline = summary["hotline"]
    assert hotline["complaints"] == len(complaints)
    assert hotline["declared"] == len(messages) - len(complaints)
    for counts in summary["planning"].values():
        assert counts["sorties"] == sum(counts[o] for o in OUTCOMES)


def test_same_seed_same_bytes_with_adhoc_calls_and_planning(base, tmp_path):
    for name in ("a", "b"):
        assert main(["run", str(base), "--out", str(tmp_path / name), *sum(
            (["--set", s] for s in STRESS), [])]) == 0
    for file in ("summary.json", "events.csv", "hotline.csv", "zones.csv", "scenario.yaml"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize(("extra", "phrase"), [
    ([], "--b"),
    (["--b", "hotline.enabled=false", "--replications", "1"], "--replications"),
    (["--b", "hotline"], "KEY=VALUE"),
    (["--b", "hotline.enabled=maybe"], "hotline.enabled"),
    (["--set", "hotline.pattern=[]", "--b", "hotline.enabled=false"], "hotline.pattern"),
])
def test_compare_bad_usage_is_exit_2(base, capsys, extra, phrase):
    refused(capsys, main(["compare", str(base), *extra]), phrase)


@pytest.mark.parametrize("assignment", [
    'hotline.pattern=["0 h", "30 h"]', 'hotline.pattern=["nan h"]', "hotline.adhoc=[]",
    "hotline.adhoc.probability=true", 'parties.russia.planning.lead=["2 h", "1 h"]',
    "parties.russia.planning.when_blocked=wait", 'parties.russia.work_areas.buffer="-1 m"',
    "parties.russia.planning=[]",
])
def test_hostile_new_keys_are_exit_2(base, capsys, assignment):
    refused(capsys, main(["validate", str(base), "--set", assignment]),
             assignment.split("=", 1)[0].split(".")[0])
