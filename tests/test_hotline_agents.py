"""The hotline's agents (SPEC §6, §8, §10): call schedule with a weekly pattern, latency and
loss of every item, why a zone incursion was uninformed (events.csv's ``declaration``),
complaints, the parties' work areas and ad-hoc calls, and the run folder's hotline counts.

The small scenarios are worked out by hand: a blue zone ``Z1``, a circle of 10 km round the
frame's origin, and red intruders flying east along y = 0 at 100 m/s from 20 km west (each
enters 100 s after it departs); or an intruder loitering inside the zone while the zone's
``active`` window opens at an exact time, so that the episode begins exactly then.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import testing as sst
from sim.analysis.metrics import summarize
from sim.engine.hotline import schedule
from sim.engine.simulation import Run, run
from sim.io.write import events_csv, hotline_csv, write_run, zones_csv
from sim.model.records import LOST, NOT_YET_RECEIVED, RECEIVED, UNDECLARED
from sim.model.scenario import ScenarioError, load_scenario, parse_scenario
from sim.traffic.plans import FlightPlan

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
H = 3600.0
DAY = 86_400.0
STATUSES = (RECEIVED, NOT_YET_RECEIVED, LOST, UNDECLARED)

ZONES_RULE = {"id": "zones", "type": "zone_incursion"}
Z1 = {"id": "Z1", "party": "blue",
      "area": {"circle": {"center": {"x": "0 m", "y": "0 m"}, "radius": "10 km"}}}
# Red's zone, 50 km north of Z1: blue intruders fly east along y = 50 km.
Z2 = {"id": "Z2", "party": "red",
      "area": {"circle": {"center": {"x": "0 m", "y": "50 km"}, "radius": "10 km"}}}


def s(seconds: float) -> str:
    """A duration written so that it reads back to exactly the same float."""
    return f"{float(seconds)!r} s"


def crossing(ident: str, party: str, enters_s: float, y_m: float = 0.0) -> FlightPlan:
    """East along y = y_m at 100 m/s from x = -20 km: inside a 10 km circle centred on the
    line from ``enters_s`` to ``enters_s + 200 s``."""
    return FlightPlan(ident, party, enters_s - 100.0, 100.0, 5000.0,
                      np.array([[-20_000.0, y_m], [20_000.0, y_m]]))


def loiterer(ident: str, party: str, depart_s: float, until_s: float, y_m: float = 0.0
             ) -> FlightPlan:
    """Slowly across the middle of a 10 km circle on y = y_m, inside it the whole flight."""
    return FlightPlan(ident, party, depart_s, 8000.0 / (until_s - depart_s), 5000.0,
                      np.array([[-4000.0, y_m], [4000.0, y_m]]))


def window(zone: dict[str, Any], start_s: float, end_s: float, **extra: Any) -> dict[str, Any]:
    return {**zone, "active": [s(start_s), s(end_s)], **extra}


def build(plans, hotline: dict[str, Any] | None, zones=(Z1,), rules=(ZONES_RULE,),
          duration_s: float = DAY, **extra: Any) -> dict[str, Any]:
    document = sst.scenario_document(list(plans), rules=list(rules), zones=list(zones),
                                     duration_s=duration_s, **extra)
    if hotline is not None:
        document["hotline"] = hotline
    return document


def fly(plans, hotline: dict[str, Any] | None, **kwargs: Any) -> Run:
    return run(parse_scenario(build(plans, hotline, **kwargs)))


def zone_items(result: Run) -> list[Any]:
    return [m for m in result.hotline.messages if m.item_type == "zone"]


def complaint_items(result: Run) -> list[Any]:
    return [m for m in result.hotline.messages if m.item_type == "complaint"]


def incursions(result: Run) -> list[Any]:
    return [e for e in result.episodes if e.type == "zone_incursion"]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_split_adds_up(result: Run) -> dict[str, Any]:
    """The summary's incursion split against the episodes themselves; returns the split."""
    split = summarize(result)["hotline"]["incursions"]
    mine = incursions(result)
    assert split["total"] == len(mine)
    assert split["informed"] + split["uninformed"] == split["total"]
    assert split["not_yet_received"] + split["lost"] + split["undeclared"] == split["uninformed"]
    assert split["informed"] == sum(e.declaration == RECEIVED for e in mine)
    for status in (NOT_YET_RECEIVED, LOST, UNDECLARED):
        assert split[status] == sum(e.declaration == status for e in mine)
    for e in mine:
        assert e.declaration in STATUSES
        assert e.informed is not None and bool(e.informed) == (e.declaration == RECEIVED)
    return split


# --------------------------------------------------------------------- 1. the call schedule

THREE_A_WEEK = {"first_call": "6 h", "interval": "7 d", "pattern": ["0 d", "2 d", "4 d"]}


@pytest.mark.parametrize(("hotline", "duration_s", "expected_h"), [
    pytest.param(THREE_A_WEEK, 14 * DAY, [6, 54, 102, 174, 222, 270], id="three-a-week-14d"),
    pytest.param(THREE_A_WEEK, 5 * DAY, [6, 54, 102], id="three-a-week-5d"),
    pytest.param(THREE_A_WEEK, 4 * DAY, [6, 54], id="offset-past-the-end"),
    pytest.param(THREE_A_WEEK, 102 * H, [6, 54], id="offset-exactly-at-the-end"),
    pytest.param(THREE_A_WEEK, 6 * H, [], id="first-call-at-the-end"),
    pytest.param({"first_call": "0 s", "interval": "12 h"}, DAY, [0, 12], id="end-excluded"),
    pytest.param({"first_call": "6 h", "interval": "24 h", "pattern": ["0 h", "12 h"]},
                 2 * DAY, [6, 18, 30, 42], id="twice-a-day"),
    pytest.param({"first_call": "2 h", "interval": "24 h", "pattern": ["30 min"]}, 2 * DAY,
                 [2.5, 26.5], id="lone-offset"),
    pytest.param({"first_call": "6 h", "interval": "24 h", "pattern": ["0 h", "23 h"]},
                 DAY + 6 * H, [6, 29], id="offset-just-below-interval"),
])
def test_calls_follow_first_call_interval_and_pattern(hotline, duration_s, expected_h):
    expected = [h * H for h in expected_h]
    result = fly([crossing("R1", "red", 3 * H)], dict(hotline, latency="10 min"),
                 zones=[Z1, Z2], duration_s=duration_s)
    log = result.hotline.call_log
    assert [c.at_s for c in log] == expected
    assert [c.number for c in log] == list(range(len(expected)))
    assert all(c.kind == "scheduled" and c.caller == "" for c in log)
    # At each call each party says its one zone to the other: two rows a call.
    rows = [r for r in csv_rows(hotline_csv(result.hotline)) if r["item_type"] == "zone"]
    assert sorted({float(r["sent_s"]) for r in rows}) == expected
    assert sorted((float(r["sent_s"]), r["sender"], r["item"]) for r in rows) == sorted(
        [(t, "blue", "Z1") for t in expected] + [(t, "red", "Z2") for t in expected])
    assert all(int(r["call"]) == expected.index(float(r["sent_s"])) for r in rows)
    summary = summarize(result)["hotline"]
    assert (summary["calls"], summary["scheduled_calls"], summary["adhoc_calls"]) == (
        len(expected), len(expected), 0)
    assert summary["declared"] == 2 * len(expected)
    # The same schedule is the parties' planning cycle, hotline on or off.
    scenario = parse_scenario(build([], dict(hotline, enabled=False), zones=[Z1, Z2],
                                    duration_s=duration_s))
    assert schedule(scenario.hotline, duration_s).tolist() == expected
    assert run(scenario).hotline.calls == 0


def test_the_run_folder_hotline_csv_has_the_pattern_calls(tmp_path):
    result = fly([crossing("R1", "red", 3 * H)], dict(THREE_A_WEEK, latency="10 min"),
                 duration_s=14 * DAY)
    write_run(result, tmp_path / "out")
    with open(tmp_path / "out" / "hotline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    zones = [r for r in rows if r["item_type"] == "zone"]
    assert [float(r["sent_s"]) for r in zones] == [h * H for h in (6, 54, 102, 174, 222, 270)]
    assert [r["sender"] + ">" + r["recipient"] for r in zones] == ["blue>red"] * 6
    # R1's incursion at 3 h is complained of at the first call, after Z1's declaration.
    assert [(r["call"], float(r["sent_s"]), r["sender"], r["recipient"]) for r in rows
            if r["item_type"] == "complaint"] == [("0", 6 * H, "blue", "red")]
    assert [r["item_type"] for r in rows[:2]] == ["zone", "complaint"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["hotline"]["calls"] == 6


@pytest.mark.parametrize("pattern", [
    pytest.param(["2 d", "1 d"], id="decreasing"),
    pytest.param(["0 d", "0 d"], id="repeated"),
    pytest.param(["0 d", "4 d", "3 d"], id="decreasing-later"),
    pytest.param(["0 d", "7 d"], id="equal-to-interval"),
    pytest.param(["8 d"], id="beyond-interval"),
    pytest.param("0 d", id="a-string"),
    pytest.param({"monday": "0 d"}, id="a-mapping"),
    pytest.param([], id="empty"),
    pytest.param(["-1 d"], id="negative"),
    pytest.param([0], id="bare-number"),
    pytest.param(["1 km"], id="a-distance"),
])
def test_bad_patterns_are_refused_naming_hotline_pattern(pattern):
    document = build([crossing("R1", "red", H)], {"interval": "7 d", "pattern": pattern})
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    paths = [p.path for p in info.value.problems]
    assert paths and all(p.startswith("hotline.pattern") for p in paths), paths
    assert "hotline.pattern" in str(info.value)


def test_a_good_pattern_is_read_in_seconds():
    document = build([crossing("R1", "red", H)], THREE_A_WEEK)
    assert parse_scenario(document).hotline.pattern_s == (0.0, 2 * DAY, 4 * DAY)
    assert parse_scenario(build([], {})).hotline.pattern_s == (0.0,)


# ----------------------------------------------------------------- 2. latency and loss

def traffic_both_ways() -> list[FlightPlan]:
    """Red into blue's Z1 and blue into red's Z2, at several times of the day."""
    return ([crossing(f"R{k}", "red", t) for k, t in enumerate((2 * H, 8 * H, 15 * H, 20 * H))]
            + [crossing(f"B{k}", "blue", t, y_m=50_000.0)
               for k, t in enumerate((3 * H, 14 * H))])


@pytest.mark.parametrize("latency_s", [0.0, 17 * 60.0, 5 * H, 7 * H])
def test_without_loss_every_item_arrives_exactly_latency_after_its_call(latency_s):
    hotline = {"first_call": "1 h", "interval": "6 h", "latency": s(latency_s), "loss": 0.0}
    result = fly(traffic_both_ways(), hotline, zones=[Z1, Z2])
    calls = [c.at_s for c in result.hotline.call_log]
    assert calls == [1 * H, 7 * H, 13 * H, 19 * H]
    messages = result.hotline.messages
    assert len(zone_items(result)) == 8          # two zones at four calls
    assert len(complaint_items(result)) == 5     # all but the incursion after 19 h
    late = 0
    for m in messages:
        assert not m.lost and m.sent_s in calls
        if m.sent_s + latency_s < DAY:
            assert m.received_s == m.sent_s + latency_s, m
        else:  # still on the way when the run ended (exactly at the end too)
            assert m.received_s is None, m
            late += 1
    assert late == {0.0: 0, 17 * 60.0: 0, 5 * H: 4, 7 * H: 4}[latency_s]
    # Each side learnt each zone when its first copy arrived.
    assert result.hotline.received == {("red", "Z1"): H + latency_s,
                                       ("blue", "Z2"): H + latency_s}
    # received_by (indexed by arrival) agrees with the record of first arrivals.
    for party in ("red", "blue"):
        for at_s in (0.0, H + latency_s - 1.0, H + latency_s, DAY):
            assert result.hotline.received_by(party, at_s) == {
                zone for (who, zone), when in result.hotline.received.items()
                if who == party and when <= at_s}
    assert result.hotline.received_by("blue", DAY) == {"Z2"}
    for row in csv_rows(hotline_csv(result.hotline)):
        assert row["lost"] == "false"
        expected = float(row["sent_s"]) + latency_s
        assert row["received_s"] == ("" if expected >= DAY else repr(expected))


def test_items_arriving_at_the_end_of_the_run_have_no_received_time():
    # Calls at 1, 7, 13, 19 h; latency 5 h: the last call's items arrive at 24 h, the end.
    hotline = {"first_call": "1 h", "interval": "6 h", "latency": "5 h"}
    result = fly([crossing("R1", "red", 15 * H)], hotline)  # complained of at 19 h
    (complaint,) = complaint_items(result)
    assert complaint.sent_s == 19 * H and complaint.received_s is None and not complaint.lost
    last = [m for m in zone_items(result) if m.sent_s == 19 * H]
    assert len(last) == 1 and last[0].received_s is None and not last[0].lost
    assert [m.received_s for m in zone_items(result)] == [6 * H, 12 * H, 18 * H, None]
    # One second less latency and everything arrives.
    result = fly([crossing("R1", "red", 15 * H)], dict(hotline, latency=s(5 * H - 1)))
    assert all(m.received_s == m.sent_s + 5 * H - 1 for m in result.hotline.messages)


def test_with_total_loss_nothing_arrives_and_every_incursion_is_lost():
    hotline = {"first_call": "0 s", "interval": "6 h", "latency": "10 min", "loss": 1.0}
    result = fly(traffic_both_ways(), hotline, zones=[Z1, Z2])
    assert result.hotline.messages and result.hotline.received == {}
    assert all(m.lost and m.received_s is None for m in result.hotline.messages)
    assert len(complaint_items(result)) == 5  # the incursion at 20 h comes after the last call
    mine = incursions(result)
    assert len(mine) == 6
    assert all(e.informed is False and e.declaration == LOST for e in mine)
    summary = summarize(result)["hotline"]
    assert summary["lost"] == summary["declared"] == 8
    assert summary["complaints_lost"] == summary["complaints"] == 5
    assert summary["incursions"]["lost"] == summary["incursions"]["uninformed"] == 6
    assert {r["received_s"] for r in csv_rows(hotline_csv(result.hotline))} == {""}
    assert {r["lost"] for r in csv_rows(hotline_csv(result.hotline))} == {"true"}
    assert_split_adds_up(result)


# ------------------------------------------------- 3. why an incursion was (un)informed

@pytest.mark.parametrize(("hotline", "zone", "enters_s", "status"), [
    pytest.param({"first_call": "30 min", "latency": "10 min"}, Z1, H, RECEIVED,
                 id="received"),
    # The status is taken when the episode begins (H to H + 200 s), not later in it.
    pytest.param({"first_call": "30 min", "latency": "31 min"}, Z1, H, NOT_YET_RECEIVED,
                 id="in-transit-arrives-during-it"),
    pytest.param({"first_call": "30 min", "latency": "2 h"}, Z1, H, NOT_YET_RECEIVED,
                 id="in-transit"),
    pytest.param({"first_call": "6 h"}, Z1, H, NOT_YET_RECEIVED, id="not-yet-said"),
    pytest.param({"first_call": "3650 s", "latency": "0 s"}, Z1, H, NOT_YET_RECEIVED,
                 id="said-during-it"),
    pytest.param({"first_call": "3650 s", "loss": 1.0}, Z1, H, NOT_YET_RECEIVED,
                 id="said-during-it-and-lost"),
    pytest.param({"first_call": "0 s", "interval": "1 h", "loss": 1.0}, Z1, 2 * H, LOST,
                 id="lost"),
    pytest.param({"first_call": "0 s", "latency": "0 s"}, dict(Z1, declare=False), H,
                 UNDECLARED, id="declare-false"),
    pytest.param({"enabled": False, "first_call": "0 s"}, Z1, H, UNDECLARED,
                 id="hotline-disabled"),
    pytest.param(None, Z1, H, UNDECLARED, id="no-hotline-section"),
])
def test_declaration_status_of_a_zone_incursion(hotline, zone, enters_s, status):
    result = fly([crossing("R1", "red", enters_s)], hotline, zones=[zone])
    (episode,) = result.episodes
    assert episode.start_s == pytest.approx(enters_s, abs=1e-6)
    assert episode.declaration == status
    assert episode.informed is (status == RECEIVED)
    (row,) = csv_rows(events_csv(result.episodes))
    assert row["declaration"] == status
    assert row["informed"] == ("true" if status == RECEIVED else "false")
    split = assert_split_adds_up(result)
    assert split["total"] == 1
    if status != RECEIVED:
        assert split[status] == 1


@pytest.mark.parametrize(("hotline", "status"), [
    ({"latency": "0 s"}, RECEIVED),
    ({"latency": "10 min"}, NOT_YET_RECEIVED),
    ({"latency": "0 s", "loss": 1.0}, LOST),
])
def test_a_declaration_said_the_instant_the_episode_begins(hotline, status):
    # Z1 becomes active exactly at the first call, 1 h, with R1 already inside it.
    result = fly([loiterer("R1", "red", 0.5 * H, 2 * H)], dict(hotline, first_call="1 h"),
                 zones=[window(Z1, H, 1.5 * H)])
    (episode,) = result.episodes
    assert episode.start_s == H
    assert [m.sent_s for m in zone_items(result)] == [H]
    assert episode.declaration == status
    assert episode.informed is (status == RECEIVED)


@pytest.mark.parametrize(("loss", "expected"), [
    (0.0, {"total": 4, "informed": 1, "uninformed": 3, NOT_YET_RECEIVED: 2, LOST: 0,
           UNDECLARED: 1}),
    (1.0, {"total": 4, "informed": 0, "uninformed": 4, NOT_YET_RECEIVED: 1, LOST: 2,
           UNDECLARED: 1}),
])
def test_incursion_split_worked_out_by_hand(loss, expected):
    # One call at 1 h, arriving at 1 h 30 min. R1 enters Z1 at 2 h (received: lost with
    # total loss), R2 at 1 h 15 min (in transit: lost), R3 at 30 min (nothing said yet);
    # B1 enters red's secret zone (undeclared).
    hotline = {"first_call": "1 h", "interval": "24 h", "latency": "30 min", "loss": loss}
    plans = [crossing("R1", "red", 2 * H), crossing("R2", "red", 1.25 * H),
             crossing("R3", "red", 0.5 * H), crossing("B1", "blue", 3 * H, y_m=50_000.0)]
    result = fly(plans, hotline, zones=[Z1, dict(Z2, declare=False)])
    by_aircraft = {e.aircraft: e.declaration for e in result.episodes}
    if loss == 0.0:
        assert by_aircraft == {"R1": RECEIVED, "R2": NOT_YET_RECEIVED, "R3": NOT_YET_RECEIVED,
                               "B1": UNDECLARED}
    else:
        assert by_aircraft == {"R1": LOST, "R2": LOST, "R3": NOT_YET_RECEIVED,
                               "B1": UNDECLARED}
    split = assert_split_adds_up(result)
    assert {k: split[k] for k in expected} == expected
    rows = csv_rows(events_csv(result.episodes))
    assert {r["aircraft"]: r["declaration"] for r in rows} == by_aircraft


# ------------------------------------------------------------------------ 4. complaints

COMPLAINT_CALLS = {"first_call": "1 h", "interval": "6 h", "latency": "10 min"}  # 1, 7, 13, 19 h


@pytest.mark.parametrize(("begins_s", "call"), [
    pytest.param(0.5 * H, 0, id="before-the-first-call"),
    pytest.param(7 * H - 1, 1, id="a-second-before-a-call"),
    pytest.param(7 * H, 2, id="exactly-at-a-call"),
    pytest.param(7 * H + 1, 2, id="a-second-after-a-call"),
    pytest.param(19 * H - 1, 3, id="just-before-the-last-call"),
    pytest.param(19 * H, None, id="exactly-at-the-last-call"),
    pytest.param(20 * H, None, id="after-the-last-call"),
])
def test_a_zone_incursion_is_complained_of_at_the_first_call_after_it_began(begins_s, call):
    # R1 loiters inside Z1 from before; Z1 becomes active exactly at ``begins_s``.
    zone = window(Z1, begins_s, begins_s + 600.0)
    result = fly([loiterer("R1", "red", max(0.0, begins_s - 600.0), begins_s + 1200.0)],
                 COMPLAINT_CALLS, zones=[zone])
    (episode,) = result.episodes
    assert episode.start_s == begins_s
    complaints = complaint_items(result)
    summary = summarize(result)["hotline"]
    if call is None:
        assert complaints == [] and summary["complaints"] == 0
        return
    (m,) = complaints
    at_s = [1 * H, 7 * H, 13 * H, 19 * H][call]
    assert (m.call, m.kind, m.sender, m.recipient, m.sent_s) == (call, "scheduled", "blue",
                                                                   "red", at_s)
    assert result.hotline.call_log[m.call].at_s == at_s
    assert "zones" in m.item and "R1" in m.item
    assert not m.lost and m.received_s == at_s + 600.0
    assert summary["complaints"] == 1 and summary["complaints_by_party"] == {"blue": 1, "red": 0}
    (row,) = [r for r in csv_rows(hotline_csv(result.hotline)) if r["item_type"] == "complaint"]
    assert row == {"call": str(call), "kind": "scheduled", "sender": "blue", "recipient": "red",
                   "item_type": "complaint", "item": m.item, "sent_s": repr(at_s),
                   "received_s": repr(at_s + 600.0), "lost": "false"}


def lanes_document(plans, rules, hotline) -> dict[str, Any]:
    # A straight corridor along y = 0 (downstream = east); blue's lane at y = +10 km,
    # red's at y = -10 km; tolerance: half the spacing, 10 km.
    corridor = {"centerline": [{"x": "-100 km", "y": "0 km"}, {"x": "100 km", "y": "0 km"}],
                "half_width": "40 km"}
    lanes = {"blue_lane": {"party": "blue", "offset": "+10 km", "direction": "downstream"},
             "red_lane": {"party": "red", "offset": "-10 km", "direction": "upstream"}}
    return build(plans, hotline, zones=[], rules=rules, corridor=corridor, lanes=lanes)


def on_lane(ident: str, party: str, depart_s: float, y_m: float) -> FlightPlan:
    return FlightPlan(ident, party, depart_s, 200.0, 7000.0,
                      np.array([[-50_000.0, y_m], [50_000.0, y_m]]))


def test_a_lane_violation_is_complained_of_by_the_other_party():
    # R1 flies 15 km from its lane (at y = +5 km) from 8 h; B1 keeps its lane; R2 keeps its.
    plans = [on_lane("R1", "red", 8 * H, 5000.0), on_lane("B1", "blue", 2 * H, 10_000.0),
             on_lane("R2", "red", 9 * H, -10_000.0)]
    rules = [{"id": "tracks", "type": "lane_discipline"}]
    result = run(parse_scenario(lanes_document(plans, rules, COMPLAINT_CALLS)))
    (episode,) = result.episodes
    assert (episode.aircraft, episode.party, episode.other_party) == ("R1", "red", "blue")
    assert episode.start_s == 8 * H
    (m,) = complaint_items(result)
    assert (m.sender, m.recipient, m.sent_s, m.call) == ("blue", "red", 13 * H, 2)
    assert "tracks" in m.item and "R1" in m.item
    assert m.received_s == 13 * H + 600.0
    # The same rule with complaint: false is counted, not complained of.
    quiet = [dict(rules[0], complaint=False)]
    result = run(parse_scenario(lanes_document(plans, quiet, COMPLAINT_CALLS)))
    assert len(result.episodes) == 1 and complaint_items(result) == []


def head_on() -> list[FlightPlan]:
    # B1 east and R1 west along y = 0 at 100 m/s, meeting at x = 0 at 3 h.
    return [FlightPlan("B1", "blue", 3 * H - 200.0, 100.0, 7000.0,
                       np.array([[-20_000.0, 0.0], [20_000.0, 0.0]])),
            FlightPlan("R1", "red", 3 * H - 200.0, 100.0, 7000.0,
                       np.array([[20_000.0, 0.0], [-20_000.0, 0.0]]))]


def test_separation_is_not_complained_of_by_default():
    rule = {"id": "los", "type": "min_separation", "horizontal": "5 nmi"}
    result = fly(head_on(), COMPLAINT_CALLS, zones=[Z1], rules=[rule])
    assert len(result.episodes) == 1
    assert parse_scenario(build(head_on(), COMPLAINT_CALLS, rules=[rule])).rules[0] \
        .complaint is False
    assert complaint_items(result) == []
    assert summarize(result)["hotline"]["complaints"] == 0
    assert len(zone_items(result)) == 4  # the calls themselves were made


def test_separation_with_complaint_true_is_complained_of_by_both_sides():
    rule = {"id": "los", "type": "min_separation", "horizontal": "5 nmi", "complaint": True}
    result = fly(head_on(), COMPLAINT_CALLS, zones=[], rules=[rule])
    (episode,) = result.episodes
    assert 1 * H < episode.start_s < 7 * H
    complaints = complaint_items(result)
    assert sorted((m.sender, m.recipient) for m in complaints) == [("blue", "red"),
                                                                     ("red", "blue")]
    assert all(m.sent_s == 7 * H and m.call == 1 for m in complaints)
    assert summarize(result)["hotline"]["complaints_by_party"] == {"blue": 1, "red": 1}


def test_zone_incursion_with_complaint_false_and_no_hotline_bring_no_complaints():
    plans = [crossing("R1", "red", 2 * H)]
    quiet = fly(plans, COMPLAINT_CALLS, rules=[dict(ZONES_RULE, complaint=False)])
    assert len(quiet.episodes) == 1 and complaint_items(quiet) == []
    assert len(zone_items(quiet)) == 4
    off = fly(plans, dict(COMPLAINT_CALLS, enabled=False))
    assert len(off.episodes) == 1 and off.hotline.messages == []


def test_complaints_per_call_and_the_complaint_rows_of_hotline_csv():
    # Red into Z1 at 2 h and 3 h (complained of at 7 h), at 8 h (13 h), at 20 h (never);
    # blue into Z2 at 14 h (19 h): four complaints over four scheduled calls.
    plans = [crossing("R1", "red", 2 * H), crossing("R2", "red", 3 * H),
             crossing("R3", "red", 8 * H), crossing("R4", "red", 20 * H),
             crossing("B1", "blue", 14 * H, y_m=50_000.0)]
    result = fly(plans, dict(COMPLAINT_CALLS, first_call="1 h", interval="6 h"),
                 zones=[Z1, Z2])
    complaints = complaint_items(result)
    assert sorted((m.sent_s, m.sender, m.recipient) for m in complaints) == [
        (7 * H, "blue", "red"), (7 * H, "blue", "red"), (13 * H, "blue", "red"),
        (19 * H, "red", "blue")]
    assert len({m.item for m in complaints}) == 4  # one item per episode
    summary = summarize(result)["hotline"]
    assert summary["complaints"] == 4 and summary["scheduled_calls"] == 4
    assert summary["complaints_per_call"] == 1.0
    assert summary["complaints_by_party"] == {"blue": 3, "red": 1}
    rows = [r for r in csv_rows(hotline_csv(result.hotline)) if r["item_type"] == "complaint"]
    assert sorted((int(r["call"]), r["kind"], r["sender"], r["recipient"], r["item"],
                   float(r["sent_s"]), float(r["received_s"]), r["lost"]) for r in rows) == \
        sorted((m.call, m.kind, m.sender, m.recipient, m.item, m.sent_s, m.received_s,
                "false") for m in complaints)
    # Three complaints over two calls: not a whole number.
    result = fly(plans[:3], dict(COMPLAINT_CALLS, first_call="5 h", interval="7 h"),
                 zones=[Z1], duration_s=16 * H)
    summary = summarize(result)["hotline"]
    assert (summary["complaints"], summary["scheduled_calls"]) == (3, 2)
    assert summary["complaints_per_call"] == 1.5


# ----------------------------------------- 5. work areas and ad-hoc calls, with sorties

def shuttle(points: list[str], legs: int) -> list[str]:
    """Back and forth along ``points`` (a, b, c, b, a, b, ...), ``legs`` legs in all."""
    cycle = points + points[-2:0:-1]
    return [cycle[k % len(cycle)] for k in range(legs + 1)]


GENERATED: dict[str, Any] = {
    "name": "agents", "seed": 5, "duration": "2 d",
    "parties": {
        "blue": {"sorties_per_day": 12, "bases": ["incirlik"],
                 "aircraft": [{"type": "F-16", "speed": "480 kt",
                               "altitude": ["FL250", "FL250"]}],
                 "missions": [{"area": "raqqa", "time_on_station": ["60 min", "120 min"]}],
                 "planning": {"lead": ["1 h", "4 h"]}},
        "red": {"sorties_per_day": 12, "bases": ["hmeimim"],
                "aircraft": [{"type": "Su-24", "speed": "430 kt",
                              "altitude": ["FL250", "FL250"]}],
                "missions": [{"area": "deir_ez_zor", "time_on_station": ["60 min", "120 min"]}],
                "planning": {"lead": ["1 h", "4 h"]}},
        # Explicit flights only: no sorties, so no work areas.
        "green": None,
    },
    # Each side's patrol shuttles through the other's mission area all run long, at the
    # sorties' altitude, so every work area sees intruders.
    "flights": [
        {"id": "RX", "party": "red", "speed": "40 m/s", "altitude": "FL250",
         "route": shuttle(["tabqa", "raqqa", "maadan"], 80)},
        {"id": "BX", "party": "blue", "speed": "40 m/s", "altitude": "FL250",
         "route": shuttle(["maadan", "deir_ez_zor", "mayadin"], 80)},
        {"id": "G1", "party": "green", "speed": "200 m/s", "altitude": "FL100",
         "route": ["palmyra", "t4"]},
    ],
    "zones": [{"id": "green_box", "party": "green",
               "area": {"circle": {"center": "palmyra", "radius": "5 nmi"}}}],
    "rules": [ZONES_RULE],
    "hotline": {"first_call": "6 h", "interval": "24 h", "latency": "30 min",
                "adhoc": {"probability": 1.0, "delay": "1 h"}},
}
SORTIE_AREA = re.compile(r"^work\.(?P<sortie>(?P<party>[a-z]+)-\d{5})$")
CYCLE_AREA = re.compile(r"^work\.(?P<party>[a-z]+)\.c(?P<cycle>\d{3})\.m(?P<mission>\d+)$")


def generated(**changes: Any) -> dict[str, Any]:
    """GENERATED with dotted keys replaced, such as ``hotline.adhoc.probability=0``."""
    document = copy.deepcopy(GENERATED)
    for path, value in changes.items():
        *head, last = path.split(".")
        node = document
        for key in head:
            node = node.setdefault(key, {})
        node[last] = value
    return document


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    variants = {
        "adhoc": generated(),
        "no_adhoc": generated(**{"hotline.adhoc": {"probability": 0.0, "delay": "1 h"}}),
        "off": generated(**{"hotline.enabled": False}),
        "secret": generated(**{"parties.blue.work_areas": {"declare": False}}),
        "early": generated(**{"parties.blue.planning": {"lead": ["2 h", "26 h"]},
                              "parties.red.planning": {"lead": ["2 h", "26 h"]}}),
        "blue_only": generated(**{"parties.red.work_areas": {"enabled": False}}),
        # Called in 3 h after being known: some pop-ups are over by then.
        "late": generated(**{"hotline.adhoc": {"probability": 1.0, "delay": "3 h"}}),
    }
    return {name: run(parse_scenario(document)) for name, document in variants.items()}


def work_area_rows(result: Run) -> list[dict[str, str]]:
    return [r for r in csv_rows(zones_csv(result)) if r["origin"] == "work_area"]


def popups(result: Run) -> list[Any]:
    """The declarable pop-up work areas (one sortie each), as zone specs."""
    zones = {z.spec.id: z.spec for z in result.geography.zones}
    return [zones[i] for i in result.work_areas if SORTIE_AREA.match(i) and zones[i].declare]


@pytest.mark.parametrize("variant", ["adhoc", "no_adhoc", "off", "secret", "early",
                                     "blue_only"])
def test_work_areas_belong_to_parties_with_sorties(runs, variant):
    result = runs[variant]
    rows = work_area_rows(result)
    assert {r["zone"] for r in rows} == set(result.work_areas) and len(rows) == len(
        result.work_areas)
    with_sorties = {p for p, party in result.scenario.parties.items()
                    if party.sorties is not None and party.work_areas.enabled}
    assert {r["party"] for r in rows} == with_sorties
    sortie_party = {i: i.rsplit("-", 1)[0] for i in result.outcomes}
    cycles = schedule(result.scenario.hotline, result.scenario.duration_s)
    for r in rows:
        sortie, cycle = SORTIE_AREA.match(r["zone"]), CYCLE_AREA.match(r["zone"])
        assert sortie or cycle, r["zone"]
        if sortie:
            assert sortie_party[sortie["sortie"]] == r["party"] == sortie["party"]
        else:
            assert cycle["party"] == r["party"] and int(cycle["cycle"]) < len(cycles)
    written = [r for r in csv_rows(zones_csv(result)) if r["origin"] == "written"]
    assert [r["zone"] for r in written] == ["green_box"]


@pytest.mark.parametrize("variant", ["adhoc", "no_adhoc", "secret", "early"])
def test_work_areas_are_declared_no_earlier_than_known_and_grouped_by_cycle(runs, variant):
    result = runs[variant]
    zones = {z.spec.id: z.spec for z in result.geography.zones}
    cycles = schedule(result.scenario.hotline, result.scenario.duration_s).tolist()
    said = [m for m in zone_items(result) if m.item in result.known_s]
    assert said
    for m in said:
        assert m.sent_s >= result.known_s[m.item], m
        assert m.sent_s < zones[m.item].active_end_s, m
        assert m.sender == zones[m.item].party
    for ident in result.work_areas:
        spec, known = zones[ident], result.known_s[ident]
        cycle = CYCLE_AREA.match(ident)
        if cycle:  # known at its cycle, which comes before it starts
            assert known == cycles[int(cycle["cycle"])] < spec.active_start_s
        else:  # a pop-up: no cycle between when it was known and when it starts
            assert not any(known <= t < spec.active_start_s for t in cycles), ident
        # Every declarable area still active at a scheduled call it was known by is said.
        if spec.declare:
            for call in result.hotline.scheduled():
                if known <= call.at_s < spec.active_end_s:
                    assert any(m.item == ident and m.call == call.number for m in said), (
                        ident, call)


@pytest.mark.parametrize("variant", ["adhoc", "early", "late"])
def test_with_probability_one_every_popup_gets_an_adhoc_call(runs, variant):
    result = runs[variant]
    duration = result.scenario.duration_s
    delay = {"adhoc": H, "early": H, "late": 3 * H}[variant]
    assert result.scenario.hotline.adhoc_delay_s == delay
    expected, over = set(), 0
    for zone in popups(result):
        # A pop-up known before the run began is called in at its start.
        at_s = max(0.0, result.known_s[zone.id] + delay)
        if at_s < min(duration, zone.active_end_s):
            expected.add((zone.party, at_s, zone.id))
        else:
            over += at_s >= zone.active_end_s
    if variant == "late":
        assert over > 0  # some pop-ups were over before their call could be made
    adhoc = [c for c in result.hotline.call_log if c.kind == "adhoc"]
    said = {(c.caller, c.at_s, m.item) for c in adhoc for m in zone_items(result)
            if m.call == c.number}
    assert len(expected) >= 5
    assert said == expected
    assert len(adhoc) == len(expected)
    # Each ad-hoc call passes its one area to both other parties, and nothing else.
    for c in adhoc:
        mine = [m for m in result.hotline.messages if m.call == c.number]
        assert sorted(m.recipient for m in mine) == sorted(
            set(result.scenario.parties) - {c.caller})
        assert all(m.kind == "adhoc" and m.sent_s == c.at_s and m.item_type == "zone"
                   for m in mine)
        # Without loss each arrives exactly the latency later (or after the run's end).
        for m in mine:
            assert not m.lost
            arrive = m.sent_s + 1800.0
            assert m.received_s == (arrive if arrive < duration else None)
    summary = summarize(result)["hotline"]
    assert summary["adhoc_calls"] == len(adhoc)
    assert summary["calls"] == summary["scheduled_calls"] + len(adhoc)
    if variant == "early":  # some pop-ups were known before the run began
        assert any(c.at_s == 0.0 for c in adhoc)


def test_with_probability_zero_there_are_no_adhoc_calls(runs):
    result = runs["no_adhoc"]
    assert popups(result)
    assert all(c.kind == "scheduled" for c in result.hotline.call_log)
    assert all(m.kind == "scheduled" for m in result.hotline.messages)
    assert summarize(result)["hotline"]["adhoc_calls"] == 0
    # Pop-ups still active at a later scheduled call are said then.
    first = {}
    for m in zone_items(result):
        first.setdefault(m.item, m.sent_s)
    calls = [c.at_s for c in result.hotline.call_log]
    for zone in popups(result):
        later = [t for t in calls if result.known_s[zone.id] <= t < zone.active_end_s]
        assert first.get(zone.id) == (later[0] if later else None), zone.id


def test_secret_work_areas_are_never_said_but_count_incursions(runs):
    result = runs["secret"]
    blue_areas = {i for i in result.work_areas if i.startswith("work.blue")}
    assert blue_areas
    assert not any(m.item in blue_areas for m in result.hotline.messages)
    assert not any(c.caller == "blue" for c in result.hotline.call_log if c.kind == "adhoc")
    rows = {r["zone"]: r for r in work_area_rows(result)}
    assert {rows[i]["declare"] for i in blue_areas} == {"false"}
    assert {r["declare"] for i, r in rows.items() if i not in blue_areas} == {"true"}
    into_blue = [e for e in incursions(result) if e.zone in blue_areas]
    assert into_blue and all(e.party == "red" for e in into_blue)
    assert all(e.declaration == UNDECLARED and e.informed == False for e in into_blue)  # noqa: E712
    # Red still declares its own, and the split still adds up.
    assert any(m.item.startswith("work.red") for m in result.hotline.messages)
    split = assert_split_adds_up(result)
    assert split[UNDECLARED] >= len(into_blue)


def test_turning_the_hotline_off_leaves_the_work_areas_alone(runs):
    on, off = runs["adhoc"], runs["off"]
    assert off.hotline.calls == 0 and off.hotline.messages == []
    assert on.work_areas == off.work_areas
    assert on.known_s == off.known_s
    assert zones_csv(on) == zones_csv(off)  # ids, shapes, altitudes, windows, declare
    zones_on = {z.spec.id: z.spec for z in on.geography.zones}
    zones_off = {z.spec.id: z.spec for z in off.geography.zones}
    assert zones_on == zones_off
    # The same with no ad-hoc calls: the hotline's settings never change the areas.
    assert zones_csv(runs["no_adhoc"]) == zones_csv(off)
    assert all(e.declaration == UNDECLARED for e in incursions(off))
    assert incursions(off)


def test_a_party_with_work_areas_disabled_has_none(runs):
    result = runs["blue_only"]
    assert result.work_areas and all(i.startswith("work.blue") for i in result.work_areas)
    assert set(result.work_areas) == {i for i in runs["adhoc"].work_areas
                                      if i.startswith("work.blue")}


# ------------------------------------------------- 6. the baseline's counts, file by file

@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Run, Path]:
    scenario = load_scenario(BASELINE, overrides=["duration=2 d"])
    assert scenario.duration_s == 2 * DAY
    result = run(scenario)
    out = write_run(result, tmp_path_factory.mktemp("baseline") / "run")
    return result, out


def test_baseline_summary_matches_hotline_csv(baseline):
    result, out = baseline
    summary = json.loads((out / "summary.json").read_text())["hotline"]
    with open(out / "hotline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    zones = [r for r in rows if r["item_type"] == "zone"]
    complaints = [r for r in rows if r["item_type"] == "complaint"]
    assert len(zones) + len(complaints) == len(rows)
    assert summary["calls"] == len({r["call"] for r in rows}) == result.hotline.calls
    assert summary["scheduled_calls"] == len({r["call"] for r in rows
                                              if r["kind"] == "scheduled"}) == 2
    assert summary["adhoc_calls"] == len({r["call"] for r in rows if r["kind"] == "adhoc"})
    assert summary["declared"] == len(zones)
    assert summary["lost"] == sum(r["lost"] == "true" for r in zones)
    assert summary["zones_declared"] == len({r["item"] for r in zones})
    assert summary["complaints"] == len(complaints) > 0
    assert summary["complaints_lost"] == sum(r["lost"] == "true" for r in complaints)
    assert summary["complaints_by_party"] == {
        p: sum(r["sender"] == p for r in complaints) for p in ("coalition", "russia")}
    assert summary["complaints_per_call"] == round(
        len(complaints) / summary["scheduled_calls"], 6)
    assert summary["work_areas"] == sum(
        r["origin"] == "work_area" for r in csv_rows((out / "zones.csv").read_text()))
    # A lost item has no received time; a kept one has one unless the run ended first.
    for r in rows:
        if r["lost"] == "true":
            assert r["received_s"] == ""
    # Complaints go at scheduled calls only, from the victim to the violator.
    scheduled = {str(c.number) for c in result.hotline.scheduled()}
    assert {r["call"] for r in complaints} <= scheduled
    assert all(r["kind"] == "scheduled" and r["sender"] != r["recipient"] for r in complaints)


def test_baseline_declaration_column_matches_the_summary(baseline):
    result, out = baseline
    summary = json.loads((out / "summary.json").read_text())["hotline"]["incursions"]
    with open(out / "events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    zone_rows = [r for r in rows if r["type"] == "zone_incursion"]
    other = [r for r in rows if r["type"] != "zone_incursion"]
    assert zone_rows and other
    assert all(r["declaration"] == "" and r["informed"] == "" for r in other)
    assert all(r["declaration"] in STATUSES for r in zone_rows)
    assert all((r["informed"] == "true") == (r["declaration"] == RECEIVED) for r in zone_rows)
    assert summary["total"] == len(zone_rows)
    assert summary["informed"] == sum(r["informed"] == "true" for r in zone_rows)
    for status in (NOT_YET_RECEIVED, LOST, UNDECLARED):
        assert summary[status] == sum(r["declaration"] == status for r in zone_rows)
    assert_split_adds_up(result)


def test_baseline_time_cells_are_plain_numbers(baseline):
    _, out = baseline
    number = re.compile(r"^-?\d+(\.\d+)?(e[-+]?\d+)?$")
    with open(out / "hotline.csv", newline="") as handle:
        for r in csv.DictReader(handle):
            assert number.match(r["sent_s"]), r
            assert r["received_s"] == "" or number.match(r["received_s"]), r
    with open(out / "zones.csv", newline="") as handle:
        for r in csv.DictReader(handle):
            for key in ("known_s", "active_start_s", "active_end_s", "floor_m"):
                assert number.match(r[key]) and math.isfinite(float(r[key])), (key, r)


def test_times_and_flags_are_python_numbers(runs):
    result = runs["adhoc"]
    assert all(type(c.at_s) is float for c in result.hotline.call_log)
    assert all(type(t) is float for t in result.known_s.values())
    assert all(type(e.informed) is bool for e in incursions(result))
