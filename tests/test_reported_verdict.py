"""The verdict of a simulated rate against a reported fact (issue 23, item 2).

One run is a count: its rate's interval is the exact Poisson (Garwood) 95% interval of
the episode count over the run's days. Over replications it is the percentile bootstrap
of the mean, widened to the exact Poisson interval of the pooled episodes. ``consistent``
when the interval overlaps the reported band (holds a single reported value), ``above`` or
``below`` when all of it lies beyond. The figures below are worked by hand from the
chi-squared quantiles (tables: chi2(0.975, 2) = 7.3778, chi2(0.025, 10) = 3.2470,
chi2(0.975, 12) = 23.3367).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.analysis.metrics import (
    poisson_interval,
    rate_verdict,
    reported_summary,
    reported_verdicts,
    verdicts_of,
)
from sim.cli import main
from sim.io.read import RunFolderError, load_run_folder
from sim.model.records import Episode
from sim.model.scenario import load_scenario
from sim.present.tables import reported_table, text

ROOT = Path(__file__).resolve().parent.parent


def test_garwood_interval_of_no_events_and_of_five():
    assert poisson_interval(0) == pytest.approx((0.0, 7.3778 / 2), abs=1e-4)  # [0, 3.689]
    assert poisson_interval(5) == pytest.approx((3.2470 / 2, 23.3367 / 2), abs=1e-4)
    assert poisson_interval(5) == pytest.approx((1.6235, 11.6683), abs=1e-4)


def test_garwood_interval_refuses_what_is_not_a_count():
    with pytest.raises(ValueError, match="whole number"):
        poisson_interval(-1)
    with pytest.raises(ValueError, match="whole number"):
        poisson_interval(2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(("low", "high", "band", "verdict"), [
    (1.0, 3.0, (5.0, 6.0), "below"),
    (1.0, 5.0, (5.0, 6.0), "consistent"),      # touching ends overlap
    (5.5, 5.6, (5.0, 6.0), "consistent"),
    (6.0, 9.0, (5.0, 6.0), "consistent"),
    (6.01, 9.0, (5.0, 6.0), "above"),
    (5.0, 7.0, (6.0, 6.0), "consistent"),      # a single reported value inside
    (6.2, 7.0, (6.0, 6.0), "above"),
    (0.0, 5.99, (6.0, 6.0), "below"),
])
def test_rate_verdict(low, high, band, verdict):
    assert rate_verdict(low, high, *band) == verdict


SCENARIO = """\
name: verdicts
duration: "12 h"
frame:
  center: deir_ez_zor
parties:
  coalition: {}
  russia: {}
rules:
  - {id: lanes, type: zone_incursion}
reported:
  - {rule: lanes, party: russia, per_day: [5, 6], fact: band}
  - {rule: lanes, party: coalition, per_day: 6, fact: point}
  - {rule: lanes, per_day: [30, 40], fact: many}
"""


def _episode(party: str, start_s: float) -> Episode:
    return Episode(rule="lanes", type="zone_incursion", party=party, aircraft=f"{party}-1",
                   other_party="", other_aircraft="", zone="z", start_s=start_s,
                   end_s=start_s + 60.0, min_distance_m=None, min_time_s=start_s, x_m=0.0,
                   y_m=0.0, lon=0.0, lat=0.0, informed=None, vertical_m=None, cause="")


def test_one_run_is_judged_by_the_exact_interval_of_its_count(tmp_path):
    path = tmp_path / "verdicts.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    scenario = load_scenario(path)
    # Half a day: 5 russian episodes (10 a day, outside 5 to 6 as a point), none by the
    # coalition (0 a day, not 6 as a point), 5 in all.
    episodes = [_episode("russia", 600.0 * k) for k in range(5)]
    russia, coalition, every = reported_summary(scenario, episodes)
    assert russia["simulated_per_day"] == 10.0 and russia["episodes"] == 5
    # [1.6235, 11.6683] / 0.5 d = [3.247, 23.337] a day: overlaps 5 to 6.
    assert russia["interval_per_day"] == pytest.approx([3.247, 23.3367], abs=1e-3)
    assert russia["verdict"] == "consistent" and russia["within"] is True
    # No episode in half a day: [0, 7.378] a day, which holds the reported 6.
    assert coalition["reported_per_day"] == [6.0, 6.0]
    assert coalition["interval_per_day"] == pytest.approx([0.0, 7.3778], abs=1e-3)
    assert coalition["verdict"] == "consistent"
    # 5 episodes cannot be 30 to 40 a day over half a day: 23.337 < 30.
    assert every["verdict"] == "below" and every["within"] is False
    assert "Garwood" in every["interval_method"] and "5 episodes" in every["interval_method"]


def _item(band: list[float], simulated: float, interval: list[float]) -> dict:
    return {"rule": "r", "party": "p", "simulated_per_day": simulated,
            "reported_per_day": band, "episodes": 0, "interval_per_day": interval,
            "interval_method": "this run", "verdict": "x", "within": False, "fact": "f"}


def test_replications_inside_the_band_are_consistent_though_the_run_is_not():
    # The run's own interval lies wholly above the band; the replications decide.
    run = _item([5.0, 6.0], 10.0, [8.0, 12.0])
    assert reported_verdicts([run], None, 10.0)[0]["verdict"] == "above"
    reps = {"metrics": {"r.p.per_day": {"mean": 5.4, "low": 5.1, "high": 5.9,
                                        "replications": 10}}}
    (verdict,) = reported_verdicts([run], reps, 1.0)
    assert verdict["source"] == "replications" and verdict["replications"] == 10
    assert verdict["estimate_per_day"] == 5.4
    # 54 episodes pooled over 10 days: Garwood [40.565, 70.457] / 10, wider than the
    # bootstrap's [5.1, 5.9] at both ends.
    assert verdict["interval_per_day"] == pytest.approx([4.0565, 7.0457], abs=1e-3)
    assert verdict["verdict"] == "consistent" and verdict["within"] is True
    assert "bootstrap" in verdict["interval_method"] and "54 episodes over 10 days" in \
        verdict["interval_method"]


def test_replications_wholly_above_or_below_the_band():
    above = {"metrics": {"r.p.per_day": {"mean": 9.0, "low": 8.0, "high": 10.0,
                                         "replications": 10}}}
    # 90 pooled over 10 days: Garwood [72.37, 110.6] / 10 = [7.24, 11.06]; the hull with
    # [8, 10] is [7.24, 11.06], above 5 to 6.
    (v,) = reported_verdicts([_item([5.0, 6.0], 5.5, [1.0, 9.0])], above, 1.0)
    assert v["interval_per_day"] == pytest.approx([7.237, 11.06], abs=1e-2)
    assert v["verdict"] == "above"
    below = {"metrics": {"r.p.per_day": {"mean": 1.0, "low": 0.6, "high": 1.4,
                                         "replications": 20}}}
    (v,) = reported_verdicts([_item([5.0, 6.0], 5.5, [1.0, 9.0])], below, 1.0)
    assert v["verdict"] == "below" and v["interval_per_day"][1] < 5.0


def test_no_event_in_any_replication_is_no_evidence_of_a_lower_rate():
    # Ten replications of half a day with no near collision: the bootstrap gives [0, 0],
    # which would call 0.01 to 0.1 a day "below"; the pooled count (0 in 5 days) gives
    # [0, 3.689 / 5] = [0, 0.7378], which holds the band.
    reps = {"metrics": {"r.p.per_day": {"mean": 0.0, "low": 0.0, "high": 0.0,
                                        "replications": 10}}}
    (v,) = reported_verdicts([_item([0.01, 0.1], 0.0, [0.0, 7.3778])], reps, 0.5)
    assert v["interval_per_day"] == pytest.approx([0.0, 0.73778], abs=1e-4)
    assert v["verdict"] == "consistent"


def test_one_replication_falls_back_to_the_run():
    reps = {"metrics": {"r.p.per_day": {"mean": 5.5, "low": None, "high": None,
                                        "replications": 1}}}
    (v,) = reported_verdicts([_item([5.0, 6.0], 10.0, [8.0, 12.0])], reps, 1.0)
    assert v["source"] == "run" and v["interval_per_day"] == [8.0, 12.0]
    assert v["verdict"] == "above"


def test_run_with_replications_stores_prints_and_reports_the_verdict(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "euphrates_dec2017.yaml"), "--duration",
                 "12 h", "--replications", "3", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    metrics = stats["replications"]["metrics"]
    lanes, nmac = stats["reported"]
    assert lanes["source"] == nmac["source"] == "replications"
    rep = metrics["opposite_tracks.russia.per_day"]
    assert lanes["estimate_per_day"] == rep["mean"]
    low, high = lanes["interval_per_day"]
    assert low <= rep["low"] and high >= rep["high"]  # the bootstrap, widened
    assert lanes["verdict"] == rate_verdict(low, high, 5.0, 6.0)
    # The console table prints the stored interval and verdict.
    line = next(t for t in printed.splitlines() if t.strip().startswith("opposite_tracks ("))
    assert f"[{low:.2f}, {high:.2f}]" in line and lanes["verdict"] in line.split()
    # A folder read back recomputes the same verdicts from its files.
    folder = load_run_folder(out)
    assert verdicts_of(folder.summary, folder.stats) == stats["reported"]
    # ... and the report shows them.
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"95% interval [{low:.2f}, {high:.2f}]" in page
    assert "3 replications" in page
    table = "\n".join(text(reported_table(folder.summary, folder.stats)))
    assert "Mean over 3 replications" in table
    # A verdict, a replication mean or interval, or a replication's row edited by hand is
    # refused when the folder is read back.
    original = (out / "stats.json").read_text(encoding="utf-8")
    rows = (out / "replications.csv").read_text(encoding="utf-8")
    stats["reported"][0]["verdict"] = "below" if lanes["verdict"] != "below" else "above"
    (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    with pytest.raises(RunFolderError, match="'reported' disagrees"):
        load_run_folder(out)
    for name, edit in [("mean", 99.0), ("low", -1.0)]:
        stats = json.loads(original)
        stats["replications"]["metrics"]["hotline.complaints_per_call"][name] = edit
        (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
        with pytest.raises(RunFolderError, match="'replications' disagrees"):
            load_run_folder(out)
    stats = json.loads(original)
    stats["replications"]["seeds"][0] = 5
    (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    with pytest.raises(RunFolderError, match="'replications' disagrees"):
        load_run_folder(out)
    (out / "stats.json").write_text(original, encoding="utf-8")
    header, first, *rest = rows.splitlines()
    cells = first.split(",")
    cells[-1] = repr(float(cells[-1] or 0) + 1.0)
    (out / "replications.csv").write_text("\n".join([header, ",".join(cells), *rest]) + "\n",
                                          encoding="utf-8")
    with pytest.raises(RunFolderError, match="'replications' disagrees"):
        load_run_folder(out)
    (out / "replications.csv").write_text(rows, encoding="utf-8")
    assert load_run_folder(out).stats["replications"] == json.loads(original)["replications"]


@pytest.mark.parametrize("count", [*range(0, 60), 99, 100, 101, 1000, 4321, 12345])
def test_garwood_interval_is_scipys_chi_squared_quantiles(count):
    # The product solves the interval itself (scipy.stats is slow to import); the oracle
    # is scipy's chi-squared quantiles, at three confidences.
    from scipy.stats import chi2

    for confidence in (0.95, 0.9, 0.99):
        a = (1.0 - confidence) / 2.0
        low, high = poisson_interval(count, confidence)
        want_low = 0.0 if count == 0 else chi2.ppf(a, 2 * count) / 2.0
        assert low == pytest.approx(want_low, rel=1e-10, abs=1e-300)
        assert high == pytest.approx(chi2.ppf(1.0 - a, 2 * count + 2) / 2.0, rel=1e-10)
