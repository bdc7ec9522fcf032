"""The hotline: calls, latency, loss, and when an incursion is informed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim import testing as sst
from sim.analysis.metrics import summarize
from sim.engine.simulation import run
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.scenario import parse_scenario
from sim.traffic.plans import FlightPlan

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
    from sim.model.scenario import ScenarioError

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
