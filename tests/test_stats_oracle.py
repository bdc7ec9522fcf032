"""Independent oracles for the near-miss statistics (``stats.json``, ``sim.analysis.metrics``).

Every expected number below is worked out by hand from the scenario's geometry (straight
head-on passes in the local frame, constant speeds and altitudes), not taken from the
implementation:

* a pass at lateral offset ``d`` with closing speed ``v`` holds a horizontal limit ``R``
  for ``2 * sqrt(R**2 - d**2) / v`` seconds, centred on the closest approach;
* rates are episodes / days, / sorties * 100 and / flight hours * 1000, where a flight
  counts if it departs before the run ends and flies until its last point or the run end;
* quantiles are numpy's default (linear interpolation between order statistics),
  re-implemented here;
* severity bins are NMAC (< 500 ft, < 100 ft), < 1 nmi & < 1000 ft, < 5 nmi & < 1000 ft,
  then the widest min_separation rule, each encounter in its most severe bin.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.metrics import (
    bootstrap_interval,
    encounter_rule,
    headline_metrics,
    near_miss_stats,
    quantiles,
    replication_summary,
    reported_verdicts,
    severity,
)
from sim.cli import main
from sim.io.read import load_run_folder
from sim.model.records import Episode, FlightRecord
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

FT = 0.3048
NMI = 1852.0
MI = 1609.344
HOUR = 3600.0
DAY = 86400.0

# ----------------------------------------------------------------------------- hand oracles


def lin_quantile(values: list[float], q: float) -> float:
    """numpy's default quantile ('linear', type 7), written out by hand."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


QS = {"min": 0.0, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "max": 1.0}


def expected_quantiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0, "mean": None, **{k: None for k in QS}}
    return {"count": len(values), "mean": sum(values) / len(values),
            **{k: lin_quantile(values, q) for k, q in QS.items()}}


def head_on_duration(limit_m: float, offset_m: float, closing_mps: float) -> float:
    """How long two straight, opposite tracks offset by ``offset_m`` stay within ``limit_m``."""
    return 2.0 * math.sqrt(limit_m ** 2 - offset_m ** 2) / closing_mps


def expected_rates(count: int, days: float, sorties: int, hours: float) -> dict:
    return {"episodes": count, "per_day": count / days,
            "per_100_sorties": None if sorties == 0 else 100.0 * count / sorties,
            "per_1000_flight_hours": None if hours == 0 else 1000.0 * count / hours}


def close(actual, expected, tol: float = 2e-6) -> bool:
    """Equal, to the 6 decimals stats.json keeps (relative for large numbers)."""
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(float(actual), float(expected), rel_tol=tol, abs_tol=tol)


def assert_close_dict(actual: dict, expected: dict, where: str = "") -> None:
    for key, want in expected.items():
        assert key in actual, f"{where}{key} missing"
        got = actual[key]
        if isinstance(want, dict):
            assert_close_dict(got, want, f"{where}{key}.")
        elif isinstance(want, str):
            assert got == want, f"{where}{key}: {got!r} != {want!r}"
        else:
            assert close(got, want), f"{where}{key}: {got!r} != {want!r}"


def run_cli(scenario: Path, out: Path, *extra: str) -> Path:
    code = main(["run", str(scenario), "--out", str(out), *extra])
    assert code == 0
    return out


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------- scenario A
#
# A straight 200 km corridor along the frame's x axis (frame centred on Deir ez-Zor),
# lanes at y = +20 km (coalition) and y = -20 km (russia); the run lasts 20 min = 1200 s.
#
#   C1 coalition  (-100, 0) -> (+100, 0) km, 200 m/s, FL250:         x = -100 km + 200 t,
#                 t = 0..1000 s.
#   R1 russia     (+100, 0.1) -> (-100, 0.1) km, 200 m/s, 25050 ft:   x = 100 km - 200 t,
#                 t = 0..1000. Meets C1 at t = 500 s, x = 0: miss 100 m, 50 ft (NMAC).
#   R2 russia     (+100, -1) -> (-100, -1) km, 200 m/s, 25900 ft, departs 300 s:
#                 x = 160 km - 200 t, would land at 1300 s: clipped, flies 900 s in the run.
#                 Meets C1 at t = 650 s, x = 30 km: miss 1 km, 900 ft (< 1 nmi bin).
#   R3 russia     (+80, 15) -> (-20, 15) km, 100 m/s, FL230, t = 0..1000:
#                 x = 80 km - 100 t. Meets C1 at t = 600 s, x = 20 km: miss 15 km, 2000 ft
#                 below (only the 10 nmi rule; its vertical difference is negative).
#   syria         a party with no flights at all.
#
# Rules: wide (10 nmi, horizontal only: the encounter rule), los (5 nmi / 1000 ft),
# nobody (between coalition and syria: never), lanes (tolerance 20.05 km: R1 is 20.1 km
# and R3 35 km from russia_lane for their whole flights, R2 19 km and C1 20 km are not),
# zones (coalition BOX x in [-90, -50] km, |y| < 5 km: R1 inside 750..950 s, R2 from 1050 s
# until the run ends at 1200 s).

SCENARIO_A = """\
name: oracle-headon
seed: 3
duration: "20 min"
frame:
  center: deir_ez_zor
corridor:
  centerline: [{x: "-100 km", y: "0 km"}, {x: "100 km", y: "0 km"}]
  half_width: "40 km"
lanes:
  coalition_lane: {party: coalition, offset: "+20 km", direction: downstream}
  russia_lane: {party: russia, offset: "-20 km", direction: upstream}
parties:
  coalition: {}
  russia: {}
  syria: {}
flights:
  - {id: C1, party: coalition, depart: "0 s", speed: "200 m/s", altitude: "FL250",
     route: [{x: "-100 km", y: "0 km"}, {x: "100 km", y: "0 km"}]}
  - {id: R1, party: russia, depart: "0 s", speed: "200 m/s", altitude: "25050 ft",
     route: [{x: "100 km", y: "100 m"}, {x: "-100 km", y: "100 m"}]}
  - {id: R2, party: russia, depart: "5 min", speed: "200 m/s", altitude: "25900 ft",
     route: [{x: "100 km", y: "-1 km"}, {x: "-100 km", y: "-1 km"}]}
  - {id: R3, party: russia, depart: "0 s", speed: "100 m/s", altitude: "FL230",
     route: [{x: "80 km", y: "15 km"}, {x: "-20 km", y: "15 km"}]}
zones:
  - id: BOX
    party: coalition
    area: {polygon: [{x: "-90 km", y: "-5 km"}, {x: "-50 km", y: "-5 km"},
                     {x: "-50 km", y: "5 km"}, {x: "-90 km", y: "5 km"}]}
    ceiling: "FL300"
rules:
  - {id: wide, type: min_separation, horizontal: "10 nmi"}
  - {id: los, type: min_separation, horizontal: "5 nmi", vertical: "1000 ft"}
  - {id: nobody, type: min_separation, horizontal: "5 nmi", between: [coalition, syria]}
  - {id: lanes, type: lane_discipline, tolerance: "20.05 km"}
  - {id: zones, type: zone_incursion}
"""

A_DAYS = 1200.0 / DAY
A_PARTIES = ("coalition", "russia", "syria")
A_SORTIES = {"coalition": 1, "russia": 3, "syria": 0}
A_HOURS = {"coalition": 1000.0 / HOUR, "russia": (1000.0 + 900.0 + 1000.0) / HOUR, "syria": 0.0}
WIDE_M = 10 * NMI
LOS_M = 5 * NMI
# The three encounters with C1: (other aircraft, miss m, |vertical| m, closing m/s, t_cpa).
A_PASSES = [("R1", 100.0, 50 * FT, 400.0, 500.0),
            ("R2", 1000.0, 900 * FT, 400.0, 650.0),
            ("R3", 15000.0, 2000 * FT, 300.0, 600.0)]
# Per rule: the episode durations, and the parties each episode involves.
A_EPISODES = {
    "wide": [(head_on_duration(WIDE_M, d, v), {"coalition", "russia"})
             for _, d, _, v, _ in A_PASSES],
    "los": [(head_on_duration(LOS_M, d, v), {"coalition", "russia"})
            for _, d, _, v, _ in A_PASSES[:2]],
    "nobody": [],
    "lanes": [(1000.0, {"russia"}), (1000.0, {"russia"})],
    "zones": [(200.0, {"russia"}), (150.0, {"russia"})],
}
A_TYPES = {"wide": "min_separation", "los": "min_separation", "nobody": "min_separation",
           "lanes": "lane_discipline", "zones": "zone_incursion"}


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("oracle_a")
    path = base / "a.yaml"
    path.write_text(SCENARIO_A, encoding="utf-8")
    return run_cli(path, base / "run")


@pytest.fixture(scope="module")
def stats_a(run_a) -> dict:
    return read_json(run_a / "stats.json")


def test_a_scenario_is_what_the_hand_computation_assumes(run_a):
    """Guard for the oracle itself: the episodes the product found are the ones worked
    out by hand (times, miss distances), so the statistics below test statistics."""
    events = read_csv(run_a / "events.csv")
    seen = Counter(e["rule"] for e in events)
    assert seen == {r: len(v) for r, v in A_EPISODES.items() if v}
    for rule, limit, passes in (("wide", WIDE_M, A_PASSES), ("los", LOS_M, A_PASSES[:2])):
        for other, d, dv, v, t_cpa in passes:
            [e] = [e for e in events if e["rule"] == rule and e["other_aircraft"] == other]
            half = head_on_duration(limit, d, v) / 2
            assert float(e["start_s"]) == pytest.approx(t_cpa - half, abs=1e-6)
            assert float(e["end_s"]) == pytest.approx(t_cpa + half, abs=1e-6)
            assert float(e["min_distance_m"]) == pytest.approx(d, abs=1e-6)
            assert abs(float(e["vertical_m"])) == pytest.approx(dv, abs=1e-6)
    zone = sorted((float(e["start_s"]), float(e["end_s"])) for e in events
                  if e["rule"] == "zones")
    assert zone == [pytest.approx((750.0, 950.0)), pytest.approx((1050.0, 1200.0))]


def test_a_header_and_exposure(stats_a):
    assert stats_a["scenario"] == "oracle-headon"
    assert stats_a["seed"] == 3
    assert stats_a["duration_s"] == 1200.0
    assert close(stats_a["days"], A_DAYS)
    sorties = stats_a["exposure"]["sorties"]
    assert sorties == {"total": 4, **A_SORTIES}
    hours = stats_a["exposure"]["flight_hours"]
    assert close(hours["total"], sum(A_HOURS.values()))
    for p in A_PARTIES:
        assert close(hours[p], A_HOURS[p]), p


@pytest.mark.parametrize("rule", list(A_EPISODES))
def test_a_rates_by_hand(stats_a, rule):
    r = stats_a["rates"][rule]
    episodes = A_EPISODES[rule]
    assert r["type"] == A_TYPES[rule]
    want = expected_rates(len(episodes), A_DAYS, sum(A_SORTIES.values()),
                          sum(A_HOURS.values()))
    assert_close_dict(r, want, f"{rule}.")
    assert set(r["by_party"]) == set(A_PARTIES)
    for p in A_PARTIES:
        n = sum(1 for _, parties in episodes if p in parties)
        assert_close_dict(r["by_party"][p], expected_rates(n, A_DAYS, A_SORTIES[p], A_HOURS[p]),
                          f"{rule}.{p}.")
    # Nothing here is a deliberate deviation.
    assert r["by_cause"] == ({"none": {"episodes": len(episodes),
                                       "per_day": pytest.approx(len(episodes) / A_DAYS)}}
                             if episodes else {})


def test_a_rates_spot_values(stats_a):
    """A few of the numbers above written out, in case the helpers share a mistake."""
    wide = stats_a["rates"]["wide"]
    assert wide["episodes"] == 3
    assert wide["per_day"] == pytest.approx(216.0)               # 3 / (1/72 d)
    assert wide["per_100_sorties"] == pytest.approx(75.0)        # 3 / 4 * 100
    assert wide["per_1000_flight_hours"] == pytest.approx(2769.230769, abs=1e-6)  # 3/(65/60)
    assert wide["by_party"]["coalition"]["per_100_sorties"] == pytest.approx(300.0)
    assert wide["by_party"]["coalition"]["per_1000_flight_hours"] == pytest.approx(10800.0)
    assert wide["by_party"]["russia"]["per_100_sorties"] == pytest.approx(100.0)
    assert wide["by_party"]["russia"]["per_1000_flight_hours"] == pytest.approx(
        3724.137931, abs=1e-6)                                   # 3 / (29/36 h) * 1000
    assert wide["by_party"]["syria"] == {"episodes": 0, "per_day": 0.0,
                                         "per_100_sorties": None,
                                         "per_1000_flight_hours": None}
    lanes = stats_a["rates"]["lanes"]
    assert lanes["by_party"]["coalition"]["per_100_sorties"] == 0.0
    assert lanes["by_party"]["russia"]["per_100_sorties"] == pytest.approx(66.666667, abs=1e-6)


def test_a_miss_distance_quantiles(stats_a):
    miss = stats_a["miss_distance"]
    assert set(miss) == {"wide", "los", "nobody"}   # separation rules only
    wide_h = [d for _, d, _, _, _ in A_PASSES]
    wide_v = [dv for _, _, dv, _, _ in A_PASSES]
    assert miss["wide"]["episodes"] == 3
    assert_close_dict(miss["wide"]["horizontal_m"], expected_quantiles(wide_h), "wide.h.")
    assert_close_dict(miss["wide"]["vertical_m"], expected_quantiles(wide_v), "wide.v.")
    # Written out: {100, 1000, 15000} -> positions 2q.
    h = miss["wide"]["horizontal_m"]
    assert (h["min"], h["p05"], h["p25"], h["p50"], h["p75"], h["p95"], h["max"]) == (
        pytest.approx(100.0), pytest.approx(190.0), pytest.approx(550.0), pytest.approx(1000.0),
        pytest.approx(8000.0), pytest.approx(13600.0), pytest.approx(15000.0))
    assert h["mean"] == pytest.approx(16100.0 / 3, abs=1e-6)
    # Vertical misses are magnitudes (R3 is 2000 ft *below* C1): {50, 900, 2000} ft.
    v = miss["wide"]["vertical_m"]
    assert v["min"] == pytest.approx(15.24) and v["max"] == pytest.approx(609.6)
    assert v["p50"] == pytest.approx(274.32)
    assert miss["los"]["episodes"] == 2
    assert_close_dict(miss["los"]["horizontal_m"], expected_quantiles([100.0, 1000.0]), "los.h.")
    assert miss["los"]["horizontal_m"]["p25"] == pytest.approx(325.0)
    assert_close_dict(miss["los"]["vertical_m"], expected_quantiles(wide_v[:2]), "los.v.")


def test_a_zero_episode_rule_has_null_quantiles(stats_a):
    nobody = stats_a["miss_distance"]["nobody"]
    assert nobody["episodes"] == 0
    for side in ("horizontal_m", "vertical_m"):
        assert nobody[side] == {"count": 0, "mean": None, "min": None, "p05": None, "p25": None,
                                "p50": None, "p75": None, "p95": None, "max": None}
    rates = stats_a["rates"]["nobody"]
    assert rates["episodes"] == 0 and rates["per_day"] == 0.0
    assert rates["per_100_sorties"] == 0.0 and rates["per_1000_flight_hours"] == 0.0
    assert rates["by_cause"] == {}
    tiv = stats_a["time_in_violation"]["nobody"]
    assert tiv["total_s"] == 0.0
    assert tiv["mean_s"] is None and tiv["median_s"] is None and tiv["max_s"] is None


def test_a_severity_bins(stats_a):
    sev = stats_a["severity"]
    assert sev["encounter_rule"] == "wide"
    assert sev["encounters"] == 3
    bins = sev["bins"]
    assert [b["name"] for b in bins] == ["nmac", "under_1nmi", "under_5nmi", "wide"]
    limits = [(500 * FT, 100 * FT), (NMI, 1000 * FT), (5 * NMI, 1000 * FT), (WIDE_M, None)]
    for b, (h, v) in zip(bins, limits, strict=True):
        assert b["horizontal_m"] == pytest.approx(h)
        assert (b["vertical_m"] is None) if v is None else b["vertical_m"] == pytest.approx(v)
    # Classify each hand-made encounter into its most severe bin, independently.
    counts = [0, 0, 0, 0]
    for _, d, dv, _, _ in A_PASSES:
        for k, (h, v) in enumerate(limits):
            if d < h and (v is None or dv < v):
                counts[k] += 1
                break
    assert counts == [1, 1, 0, 1]
    cumulative = [1, 2, 2, 3]
    assert [b["encounters"] for b in bins] == counts
    assert [b["cumulative"] for b in bins] == cumulative
    for b, n, c in zip(bins, counts, cumulative, strict=True):
        assert b["per_day"] == pytest.approx(n / A_DAYS)
        assert b["cumulative_per_day"] == pytest.approx(c / A_DAYS)
    # The widest bin's cumulative is every episode of the encounter rule.
    assert bins[-1]["cumulative"] == stats_a["rates"]["wide"]["episodes"]


@pytest.mark.parametrize("rule", list(A_EPISODES))
def test_a_time_in_violation(stats_a, rule):
    tiv = stats_a["time_in_violation"][rule]
    durations = [d for d, _ in A_EPISODES[rule]]
    assert close(tiv["total_s"], sum(durations))
    if durations:
        assert close(tiv["mean_s"], statistics.fmean(durations))
        assert close(tiv["median_s"], statistics.median(durations))
        assert close(tiv["max_s"], max(durations))
    for p in A_PARTIES:
        mine = sum(d for d, parties in A_EPISODES[rule] if p in parties)
        assert close(tiv["by_party"][p]["total_s"], mine), p
        want = None if A_HOURS[p] == 0 else mine / A_HOURS[p]
        assert close(tiv["by_party"][p]["per_flight_hour_s"], want), p


def test_a_time_in_violation_spot_values(stats_a):
    tiv = stats_a["time_in_violation"]
    # wide: 2*sqrt(18520^2-100^2)/400 + 2*sqrt(18520^2-1000^2)/400 + 2*sqrt(18520^2-15000^2)/300
    assert tiv["wide"]["total_s"] == pytest.approx(92.598650 + 92.464912 + 72.415591, abs=1e-5)
    # lanes: two whole 1000 s flights, russia flew 2900 s = 29/36 h
    assert tiv["lanes"]["by_party"]["russia"]["per_flight_hour_s"] == pytest.approx(
        2000.0 * 36 / 29, abs=1e-5)
    # zones: the second incursion is cut at the run's end (1200 s)
    assert tiv["zones"]["total_s"] == pytest.approx(350.0)
    assert tiv["zones"]["max_s"] == pytest.approx(200.0)


def test_a_stats_agree_with_summary(run_a, stats_a):
    summary = read_json(run_a / "summary.json")
    for rule, r in stats_a["rates"].items():
        assert r["per_day"] == pytest.approx(summary["rules"][rule]["per_day"])
        assert r["episodes"] == summary["rules"][rule]["episodes"]
        for p in A_PARTIES:
            assert r["by_party"][p]["episodes"] == summary["rules"][rule]["by_party"][p]
    assert {p: stats_a["exposure"]["sorties"][p] for p in A_PARTIES} == summary["flights"]
    for p in A_PARTIES:
        assert close(stats_a["exposure"]["flight_hours"][p], summary["flight_hours"][p])


def test_a_headline_metrics(stats_a):
    head = headline_metrics(stats_a)
    assert head["wide.per_day"] == pytest.approx(216.0)
    assert head["wide.per_100_sorties"] == pytest.approx(75.0)
    assert head["wide.per_1000_flight_hours"] == pytest.approx(3000.0 / (3900.0 / HOUR),
                                                               abs=1e-5)
    assert head["wide.russia.per_day"] == pytest.approx(216.0)
    assert head["wide.syria.per_day"] == 0.0
    assert head["lanes.coalition.per_day"] == 0.0
    wide_s = sum(d for d, _ in A_EPISODES["wide"])
    assert head["wide.hours_in_violation"] == pytest.approx(wide_s / HOUR, abs=1e-6)
    assert head["lanes.hours_in_violation"] == pytest.approx(2000.0 / HOUR, abs=1e-6)
    # Severity per day is cumulative ("at least this close").
    assert head["severity.nmac.per_day"] == pytest.approx(72.0)
    assert head["severity.under_1nmi.per_day"] == pytest.approx(144.0)
    assert head["severity.under_5nmi.per_day"] == pytest.approx(144.0)
    assert head["severity.wide.per_day"] == pytest.approx(216.0)
    assert all(isinstance(v, float) for v in head.values())


def test_a_replications_of_fixed_flights_are_degenerate(tmp_path):
    """Explicit flights fly the same whatever the seed: every replication gives the same
    headline metrics, so each mean is that value and each interval collapses onto it."""
    path = tmp_path / "a.yaml"
    path.write_text(SCENARIO_A, encoding="utf-8")
    out = run_cli(path, tmp_path / "run", "--replications", "3", "--workers", "1")
    stats = read_json(out / "stats.json")
    head = headline_metrics(stats)
    reps = stats["replications"]
    assert len(reps["seeds"]) == 3
    rows = read_csv(out / "replications.csv")
    assert len(rows) == 3
    for name, value in head.items():
        m = reps["metrics"][name]
        assert m["replications"] == 3
        assert m["mean"] == pytest.approx(value, abs=1e-6)
        assert m["low"] == pytest.approx(value, abs=1e-6)
        assert m["high"] == pytest.approx(value, abs=1e-6)
        assert all(float(r[name]) == pytest.approx(value, abs=1e-6) for r in rows)


# ----------------------------------------------------------------------------- edge scenario
#
# No min_separation rule at all. C1 as above; R1 2 km off C1's track crosses BOX 750..950 s.
# turkey: one flight whose route has no length (a sortie with no flight hours).
# syria: S1 departs exactly when the run ends and S2 after it: no sorties in the run.

SCENARIO_EDGES = """\
name: oracle-edges
seed: 5
duration: "20 min"
frame:
  center: deir_ez_zor
parties:
  coalition: {}
  russia: {}
  turkey: {}
  syria: {}
flights:
  - {id: C1, party: coalition, depart: "0 s", speed: "200 m/s", altitude: "FL250",
     route: [{x: "-100 km", y: "0 km"}, {x: "100 km", y: "0 km"}]}
  - {id: R1, party: russia, depart: "0 s", speed: "200 m/s", altitude: "FL250",
     route: [{x: "100 km", y: "2 km"}, {x: "-100 km", y: "2 km"}]}
  - {id: T1, party: turkey, depart: "10 min", speed: "200 m/s", altitude: "FL100",
     route: [{x: "0 km", y: "300 km"}, {x: "0 km", y: "300 km"}]}
  - {id: S1, party: syria, depart: "20 min", speed: "200 m/s", altitude: "FL100",
     route: [{x: "0 km", y: "300 km"}, {x: "10 km", y: "300 km"}]}
  - {id: S2, party: syria, depart: "30 min", speed: "200 m/s", altitude: "FL100",
     route: [{x: "0 km", y: "300 km"}, {x: "10 km", y: "300 km"}]}
zones:
  - id: BOX
    party: coalition
    area: {polygon: [{x: "-90 km", y: "-5 km"}, {x: "-50 km", y: "-5 km"},
                     {x: "-50 km", y: "5 km"}, {x: "-90 km", y: "5 km"}]}
rules:
  - {id: zones, type: zone_incursion}
"""


@pytest.fixture(scope="module")
def stats_edges(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("oracle_edges")
    path = base / "edges.yaml"
    path.write_text(SCENARIO_EDGES, encoding="utf-8")
    return read_json(run_cli(path, base / "run") / "stats.json")


def test_edges_no_separation_rule(stats_edges):
    assert stats_edges["severity"] == {"encounter_rule": None, "encounters": 0, "bins": []}
    assert stats_edges["miss_distance"] == {}
    assert not any(k.startswith("severity.") for k in headline_metrics(stats_edges))


def test_edges_parties_without_sorties_or_hours(stats_edges):
    exp = stats_edges["exposure"]
    assert exp["sorties"] == {"total": 3, "coalition": 1, "russia": 1, "turkey": 1, "syria": 0}
    assert close(exp["flight_hours"]["total"], 2000.0 / HOUR)
    assert exp["flight_hours"]["turkey"] == 0.0 and exp["flight_hours"]["syria"] == 0.0
    zones = stats_edges["rates"]["zones"]
    assert_close_dict(zones, expected_rates(1, 1200.0 / DAY, 3, 2000.0 / HOUR))
    assert zones["by_party"]["syria"] == {"episodes": 0, "per_day": 0.0,
                                          "per_100_sorties": None,
                                          "per_1000_flight_hours": None}
    # A sortie, but no flight hours: a per-sortie rate, no per-hour rate.
    assert zones["by_party"]["turkey"] == {"episodes": 0, "per_day": 0.0,
                                           "per_100_sorties": 0.0,
                                           "per_1000_flight_hours": None}
    assert_close_dict(zones["by_party"]["russia"],
                      expected_rates(1, 1200.0 / DAY, 1, 1000.0 / HOUR))
    tiv = stats_edges["time_in_violation"]["zones"]
    assert tiv["total_s"] == pytest.approx(200.0)
    assert tiv["by_party"]["syria"] == {"total_s": 0.0, "per_flight_hour_s": None}
    assert tiv["by_party"]["turkey"] == {"total_s": 0.0, "per_flight_hour_s": None}
    assert tiv["by_party"]["russia"]["per_flight_hour_s"] == pytest.approx(720.0)


# ----------------------------------------------------------------------------- pure functions


def make_episode(rule: str, a: str, b: str, miss_m: float, vertical_m: float,
                 start: float = 0.0, end: float = 10.0, cause: str = "") -> Episode:
    return Episode(rule=rule, type="min_separation", party="coalition", aircraft=a,
                   other_party="russia", other_aircraft=b, zone="", start_s=start,
                   end_s=end, min_distance_m=miss_m, min_time_s=start, x_m=0.0, y_m=0.0,
                   lon=0.0, lat=0.0, informed=None, vertical_m=vertical_m, cause=cause)


RULES_ONLY = """\
name: oracle-rules
duration: "1 d"
frame:
  center: deir_ez_zor
parties:
  coalition: {}
  russia: {}
rules:
"""


def scenario_with(tmp_path: Path, rules: list[str]):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_ONLY + "".join(f"  - {r}\n" for r in rules), encoding="utf-8")
    return load_scenario(path)


def test_encounter_rule_is_the_widest(tmp_path):
    sc = scenario_with(tmp_path, [
        '{id: a, type: min_separation, horizontal: "5 nmi", vertical: "1000 ft"}',
        '{id: b, type: min_separation, horizontal: "5 nmi"}',
        '{id: c, type: min_separation, horizontal: "3 nmi"}',
        '{id: c2, type: min_separation, horizontal: "5 nmi", vertical: "2000 ft"}',
    ])
    assert encounter_rule(sc).id == "b"          # same horizontal, no vertical limit wins
    sc = scenario_with(tmp_path, [
        '{id: a, type: min_separation, horizontal: "5 nmi", vertical: "1000 ft"}',
        '{id: c2, type: min_separation, horizontal: "5 nmi", vertical: "2000 ft"}',
        '{id: z, type: zone_incursion}',
    ])
    assert encounter_rule(sc).id == "c2"
    sc = scenario_with(tmp_path, ['{id: z, type: zone_incursion}'])
    assert encounter_rule(sc) is None


def test_severity_classification_of_synthetic_encounters(tmp_path):
    """The encounter rule is exactly the ICAO 5 nmi / 1000 ft: the '< 5 nmi' bin is that
    rule (named after it). Encounters are binned by |vertical| at closest approach, with
    strict limits, and episodes of other rules are ignored."""
    sc = scenario_with(tmp_path, [
        '{id: los, type: min_separation, horizontal: "5 nmi", vertical: "1000 ft"}',
        '{id: tight, type: min_separation, horizontal: "1 nmi"}',
    ])
    eps = [
        make_episode("los", "C1", "R1", 10.0, -20.0),          # NMAC (vertical sign ignored)
        make_episode("los", "C1", "R2", 100.0, 40.0),          # 40 m >= 100 ft -> < 1 nmi
        make_episode("los", "C1", "R3", 1000.0, -300.0),       # < 1 nmi, < 1000 ft
        make_episode("los", "C2", "R1", 2000.0, 0.0),          # >= 1 nmi -> the rule's bin
        make_episode("los", "C2", "R2", 9000.0, 300.0),        # the rule's bin
        make_episode("tight", "C2", "R3", 5.0, 0.0),           # not the encounter rule
    ]
    sev = severity(sc, eps)
    assert sev["encounter_rule"] == "los"
    assert sev["encounters"] == 5
    names = [b["name"] for b in sev["bins"]]
    assert names == ["nmac", "under_1nmi", "los"]
    assert [b["encounters"] for b in sev["bins"]] == [1, 2, 2]
    assert [b["cumulative"] for b in sev["bins"]] == [1, 3, 5]
    assert sev["bins"][-1]["horizontal_m"] == pytest.approx(5 * NMI)
    assert sev["bins"][-1]["vertical_m"] == pytest.approx(1000 * FT)
    assert [b["per_day"] for b in sev["bins"]] == [1.0, 2.0, 2.0]   # a 1 d run


def test_severity_limits_are_strict(tmp_path):
    """An encounter exactly at a bin's limit is not in that bin (docs/exactness.md: conditions are
    strict); it falls to the next, wider one."""
    sc = scenario_with(tmp_path, ['{id: wide, type: min_separation, horizontal: "10 nmi"}'])
    eps = [
        make_episode("wide", "C1", "R1", 500 * FT, 0.0),       # -> under_1nmi
        make_episode("wide", "C1", "R2", 100.0, 100 * FT),     # -> under_1nmi
        make_episode("wide", "C1", "R3", NMI, 0.0),            # -> under_5nmi
        make_episode("wide", "C2", "R1", 100.0, 1000 * FT),    # -> wide
        make_episode("wide", "C2", "R2", 5 * NMI, 0.0),        # -> wide
        make_episode("wide", "C2", "R3", 499 * FT, -99 * FT),  # -> nmac
    ]
    sev = severity(sc, eps)
    assert [b["name"] for b in sev["bins"]] == ["nmac", "under_1nmi", "under_5nmi", "wide"]
    assert [b["encounters"] for b in sev["bins"]] == [1, 2, 1, 2]
    assert [b["cumulative"] for b in sev["bins"]] == [1, 3, 4, 6]
    assert sev["bins"][-1]["vertical_m"] is None


def test_near_miss_stats_counts_flights_departed_before_the_end(tmp_path):
    """Pure function: sorties are flights departing strictly before the run's end; hours
    are their airborne time; a party's rates use its own exposure."""
    sc = scenario_with(tmp_path, [
        '{id: los, type: min_separation, horizontal: "5 nmi", vertical: "1000 ft"}'])
    flights = [FlightRecord("C1", "coalition", 0.0, 7200.0, 7200.0),
               FlightRecord("C2", "coalition", 3600.0, 14400.0, 10800.0),
               FlightRecord("R1", "russia", 1800.0, 9000.0, 7200.0),
               FlightRecord("R2", "russia", 86400.0, 86400.0, 0.0),      # at the end: out
               FlightRecord("R3", "russia", 90000.0, 90000.0, 0.0)]      # after: out
    eps = [make_episode("los", "C1", "R1", 100.0, 10.0, 3600.0, 3660.0, cause="drift"),
           make_episode("los", "C2", "R1", 5000.0, 10.0, 4000.0, 4100.0)]
    stats = near_miss_stats(sc, eps, flights, {"enabled": False, "calls": 0})
    assert stats["exposure"]["sorties"] == {"total": 3, "coalition": 2, "russia": 1}
    assert stats["exposure"]["flight_hours"]["coalition"] == pytest.approx(5.0)
    assert stats["exposure"]["flight_hours"]["russia"] == pytest.approx(2.0)
    r = stats["rates"]["los"]
    assert_close_dict(r, expected_rates(2, 1.0, 3, 7.0))
    assert_close_dict(r["by_party"]["coalition"], expected_rates(2, 1.0, 2, 5.0))
    assert_close_dict(r["by_party"]["russia"], expected_rates(2, 1.0, 1, 2.0))
    assert r["by_cause"] == {"drift": {"episodes": 1, "per_day": 1.0},
                             "none": {"episodes": 1, "per_day": 1.0}}
    tiv = stats["time_in_violation"]["los"]
    assert tiv["total_s"] == pytest.approx(160.0)
    assert tiv["by_party"]["coalition"]["per_flight_hour_s"] == pytest.approx(32.0)
    assert tiv["by_party"]["russia"]["per_flight_hour_s"] == pytest.approx(80.0)
    assert stats["hotline"] == {"enabled": False, "calls": 0}


@pytest.mark.parametrize("values", [
    [3.0], [1.0, 2.0], [5.0, 1.0, 4.0, 2.0, 3.0], [0.5, 10.0, 7.25, 7.25, 100.0, -3.0],
    [float(i * i) for i in range(21)],
])
def test_quantiles_match_hand_interpolation(values):
    assert_close_dict(quantiles(values), expected_quantiles(values))


def test_quantiles_written_out():
    q = quantiles([10.0, 20.0, 30.0, 40.0, 50.0])     # positions 4q
    assert q["count"] == 5 and q["mean"] == pytest.approx(30.0)
    assert (q["min"], q["p05"], q["p25"], q["p50"], q["p75"], q["p95"], q["max"]) == (
        pytest.approx(10.0), pytest.approx(12.0), pytest.approx(20.0), pytest.approx(30.0),
        pytest.approx(40.0), pytest.approx(48.0), pytest.approx(50.0))
    assert quantiles([]) == {"count": 0, "mean": None, "min": None, "p05": None, "p25": None,
                             "p50": None, "p75": None, "p95": None, "max": None}


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_contains_the_sample_mean():
    for seed in range(20):
        data = np.random.default_rng(1000 + seed).exponential(2.0, size=2 + seed * 3)
        low, high = bootstrap_interval(list(data), np.random.default_rng(seed))
        assert low <= float(np.mean(data)) <= high
        assert min(data) <= low <= high <= max(data)


def test_bootstrap_of_constant_values_is_a_point():
    low, high = bootstrap_interval([4.25] * 6, np.random.default_rng(0))
    assert low == pytest.approx(4.25) and high == pytest.approx(4.25)


def test_bootstrap_is_reproducible_with_a_fixed_seed():
    data = [1.0, 4.0, 2.5, 8.0, 3.0, 0.5, 7.0]
    a = bootstrap_interval(data, np.random.default_rng(42))
    b = bootstrap_interval(data, np.random.default_rng(42))
    assert a == b


def test_bootstrap_intervals_shrink_with_more_replications():
    def mean_width(n: int) -> float:
        widths = []
        for seed in range(12):
            data = np.random.default_rng(seed).normal(10.0, 2.0, size=n)
            low, high = bootstrap_interval(list(data), np.random.default_rng(100 + seed))
            widths.append(high - low)
        return float(np.mean(widths))

    w5, w80 = mean_width(5), mean_width(80)
    assert w80 < w5 / 2          # ~ sqrt(80/5) = 4 in theory


def test_bootstrap_width_matches_normal_theory():
    """For a large sample the 95% percentile bootstrap of the mean is close to
    mean +- 1.96 * s / sqrt(n) (s with ddof=0, the bootstrap's plug-in); 50% to +-0.674."""
    data = np.random.default_rng(7).normal(0.0, 3.0, size=400)
    se = float(np.std(data)) / math.sqrt(len(data))
    low, high = bootstrap_interval(list(data), np.random.default_rng(8))
    assert high - low == pytest.approx(2 * 1.959964 * se, rel=0.12)
    assert (low + high) / 2 == pytest.approx(float(np.mean(data)), abs=0.2 * se)
    low, high = bootstrap_interval(list(data), np.random.default_rng(8), confidence=0.5)
    assert high - low == pytest.approx(2 * 0.674490 * se, rel=0.15)


def test_replication_summary_single_sample_has_no_interval():
    out = replication_summary([{"a.per_day": 1.5, "b.per_day": 0.0}], seed=3)
    assert out == {"a.per_day": {"mean": 1.5, "low": None, "high": None, "replications": 1},
                   "b.per_day": {"mean": 0.0, "low": None, "high": None, "replications": 1}}


def test_replication_summary_many_samples():
    rng = np.random.default_rng(11)
    samples = [{"x": float(v), "y": float(2 * v + 1)} for v in rng.poisson(5.0, size=12)]
    out = replication_summary(samples, seed=9)
    again = replication_summary(samples, seed=9)
    assert out == again
    for name in ("x", "y"):
        values = [s[name] for s in samples]
        m = out[name]
        assert m["replications"] == 12
        assert m["mean"] == pytest.approx(sum(values) / 12, abs=1e-6)
        assert min(values) <= m["low"] <= m["mean"] <= m["high"] <= max(values)
        assert m["low"] < m["high"]


# ----------------------------------------------------------------------------- shipped scenario


@pytest.fixture(scope="module")
def euphrates_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oracle_euphrates") / "run"
    return run_cli(ROOT / "scenarios" / "euphrates_dec2017.yaml", out, "--duration", "2 d")


def test_euphrates_stats_consistent_with_csvs(euphrates_run):
    stats = read_json(euphrates_run / "stats.json")
    summary = read_json(euphrates_run / "summary.json")
    events = read_csv(euphrates_run / "events.csv")
    flights = read_csv(euphrates_run / "flights.csv")
    days = 2.0
    assert stats["duration_s"] == 2 * DAY
    assert close(stats["days"], days)
    parties = sorted(summary["flights"])
    # Exposure from flights.csv: flights departing before the end, their airborne time.
    flown = [f for f in flights if float(f["depart_s"]) < 2 * DAY]
    sorties = Counter(f["party"] for f in flown)
    hours: dict[str, float] = defaultdict(float)
    for f in flown:
        hours[f["party"]] += float(f["airborne_s"]) / HOUR
    assert stats["exposure"]["sorties"]["total"] == len(flown)
    for p in parties:
        assert stats["exposure"]["sorties"][p] == sorties[p] == summary["flights"][p]
        assert close(stats["exposure"]["flight_hours"][p], hours[p])
    total_sorties, total_hours = len(flown), sum(hours.values())
    rule_ids = list(summary["rules"])
    assert list(stats["rates"]) == rule_ids
    for rule in rule_ids:
        mine = [e for e in events if e["rule"] == rule]
        r = stats["rates"][rule]
        assert_close_dict(r, expected_rates(len(mine), days, total_sorties, total_hours),
                          f"{rule}.")
        assert r["per_day"] == pytest.approx(summary["rules"][rule]["per_day"])
        for p in parties:
            theirs = [e for e in mine if e["party"] == p
                      or (e["other_aircraft"] and e["other_party"] == p)]
            assert_close_dict(r["by_party"][p],
                              expected_rates(len(theirs), days, sorties[p], hours[p]),
                              f"{rule}.{p}.")
            assert r["by_party"][p]["episodes"] == summary["rules"][rule]["by_party"][p]
        assert sum(c["episodes"] for c in r["by_cause"].values()) == r["episodes"]
        causes = Counter(e["cause"] or "none" for e in mine)
        assert {c: v["episodes"] for c, v in r["by_cause"].items()} == dict(causes)
        # Time in violation from the events' own durations.
        durations = [float(e["end_s"]) - float(e["start_s"]) for e in mine]
        tiv = stats["time_in_violation"][rule]
        assert close(tiv["total_s"], sum(durations), tol=1e-5)
        if durations:
            assert close(tiv["median_s"], statistics.median(durations), tol=1e-5)
            assert close(tiv["max_s"], max(durations), tol=1e-5)
    # Miss distances of separation rules, from events.csv.
    sep_rules = [r for r in rule_ids if stats["rates"][r]["type"] == "min_separation"]
    assert set(stats["miss_distance"]) == set(sep_rules)
    for rule in sep_rules:
        mine = [e for e in events if e["rule"] == rule]
        assert_close_dict(stats["miss_distance"][rule]["horizontal_m"],
                          expected_quantiles([float(e["min_distance_m"]) for e in mine]),
                          f"{rule}.h.")
        assert_close_dict(stats["miss_distance"][rule]["vertical_m"],
                          expected_quantiles([abs(float(e["vertical_m"])) for e in mine]),
                          f"{rule}.v.")


def test_euphrates_severity_consistent_with_events(euphrates_run):
    stats = read_json(euphrates_run / "stats.json")
    events = read_csv(euphrates_run / "events.csv")
    sev = stats["severity"]
    # The widest separation rule of the shipped scenario is the 45 mi agreed spacing.
    assert sev["encounter_rule"] == "agreed_spacing"
    enc = [e for e in events if e["rule"] == "agreed_spacing"]
    assert sev["encounters"] == len(enc)
    assert sev["bins"][-1]["cumulative"] == stats["rates"]["agreed_spacing"]["episodes"]
    limits = [("nmac", 500 * FT, 100 * FT), ("under_1nmi", NMI, 1000 * FT),
              ("under_5nmi", 5 * NMI, 1000 * FT), ("agreed_spacing", 45 * MI, math.inf)]
    assert [b["name"] for b in sev["bins"]] == [n for n, _, _ in limits]
    counts = Counter()
    for e in enc:
        h, v = float(e["min_distance_m"]), abs(float(e["vertical_m"]))
        counts[next(n for n, lh, lv in limits if h < lh and v < lv)] += 1
    running = 0
    for b, (name, _, _) in zip(sev["bins"], limits, strict=True):
        running += counts[name]
        assert b["encounters"] == counts[name], name
        assert b["cumulative"] == running, name
        assert b["cumulative_per_day"] == pytest.approx(running / 2.0)
    # A rule with a bin's limits (loss_of_separation: 5 nmi / 1000 ft; nmac: 500 ft /
    # 100 ft) holds in exactly the encounters that reach the bin; an encounter may hold
    # it more than once, so the rule has at least as many episodes, and none iff zero.
    by = {b["name"]: b for b in sev["bins"]}
    for name, rule in (("under_5nmi", "loss_of_separation"), ("nmac", "nmac")):
        n = stats["rates"][rule]["episodes"]
        assert by[name]["cumulative"] <= n
        assert (by[name]["cumulative"] == 0) == (n == 0)


def test_euphrates_replications_summarised_from_their_rows(tmp_path):
    """``run --replications``: each metric's mean is the mean of its replications.csv
    column, and its bootstrap interval lies between that column's extremes round the mean."""
    out = run_cli(ROOT / "scenarios" / "euphrates_dec2017.yaml", tmp_path / "run",
                  "--duration", "12 h", "--replications", "3", "--workers", "1")
    stats = read_json(out / "stats.json")
    rows = read_csv(out / "replications.csv")
    reps = stats["replications"]
    assert len(rows) == 3 and len(reps["seeds"]) == 3
    assert [int(r["seed"]) for r in rows] == reps["seeds"]
    assert set(reps["metrics"]) == set(rows[0]) - {"replication", "seed"}
    assert set(reps["metrics"]) == set(headline_metrics(stats))
    for name, m in reps["metrics"].items():
        values = [float(r[name]) for r in rows]
        assert m["replications"] == 3
        assert m["mean"] == pytest.approx(sum(values) / 3, abs=2e-6), name
        assert min(values) - 1e-6 <= m["low"] <= m["mean"] + 1e-6, name
        assert m["mean"] - 1e-6 <= m["high"] <= max(values) + 1e-6, name


def test_euphrates_stats_recomputed_from_the_run_folder(euphrates_run):
    """near_miss_stats is pure: the folder's episodes, flights and hotline summary give
    back stats.json exactly."""
    folder = load_run_folder(euphrates_run)
    again = near_miss_stats(folder.scenario, folder.episodes, folder.flights,
                            folder.summary["hotline"])
    # The reported verdicts are recomputed from summary.json (and replications) on reading.
    stored = {k: v for k, v in folder.stats.items() if k != "reported"}
    assert json.loads(json.dumps(again)) == stored
    assert folder.stats["reported"] == reported_verdicts(folder.summary["reported"], None,
                                                         folder.stats["days"])
    assert [v["source"] for v in folder.stats["reported"]] == ["run"] * len(
        folder.scenario.reported)
    hot = folder.stats["hotline"]
    assert all(folder.summary["hotline"][k] == v for k, v in hot.items())
