"""The BlueSky comparison script without BlueSky: its scenario writer, its exact oracle,
and its skip path (no network, no virtual environment created)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bc():
    spec = importlib.util.spec_from_file_location(
        "bluesky_compare", ROOT / "benchmarks" / "bluesky_compare.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def commands(text: str) -> list[tuple[str, str]]:
    """(time stamp, command) of each non-comment line."""
    return [tuple(line.split(">", 1)) for line in text.splitlines()
            if line and not line.startswith("#")]


def test_the_scn_writer_sets_up_detection_and_creates_straight_aircraft(bc):
    frame = bc.Frame(40.150, 35.333)
    north = bc.Straight("F00000", "coalition", 0.0, 0.0, 0.0, 900_000.0, 250.0, 20000.0)
    east = bc.Straight("F00001", "russia", -10_000.0, 0.0, 890_000.0, 0.0, 200.0, 20500.0)
    aircraft = bc.straight_aircraft([north, east], frame, [300.5, 250.25])
    text = bc.scn_lines(bc.header(dt1=True, record=True), ["a tiny case"], aircraft,
                        snaps=(0.0, 600.0))
    lines = commands(text)
    assert text.startswith("# a tiny case\n")
    assert [c for t, c in lines if t == "00:00:00.00"][:8] == [
        "PLUGINS LOAD BSCOMPARE", "PERF NOLIMITS", "DT 1", "CDMETHOD CSTATEBASED", "ZONER 5",
        "ZONEDH 1000", "RESO OFF", "PAIRLOG"]
    cre = [c.split(" ", 1)[1].split(",") for t, c in lines if c.startswith("CRE ")]
    assert [row[:2] for row in cre] == [["F00000", "B744"], ["F00001", "B744"]]
    # The first starts at the frame centre heading due north; the second due east of it.
    assert float(cre[0][2]) == pytest.approx(35.333, abs=1e-9)
    assert float(cre[0][3]) == pytest.approx(40.150, abs=1e-9)
    assert float(cre[0][4]) == pytest.approx(0.0, abs=1e-6) or float(cre[0][4]) > 359.99999
    # Due east in the plane, 10 km west of the centre: true heading 90 degrees less the
    # meridian convergence there, (lon0 - lon) sin(lat).
    convergence = (40.150 - float(cre[1][3])) * math.sin(math.radians(float(cre[1][2])))
    assert float(cre[1][4]) == pytest.approx(90.0 - convergence, abs=1e-4)
    assert [row[5:] for row in cre] == [["20000", "300.5000000000"], ["20500", "250.2500000000"]]
    assert not any(c.startswith(("ADDWPT", "LNAV")) for _, c in lines)  # no route
    assert lines[-5:] == [("00:00:00.00", "PAIRSNAP"), ("00:00:00.00", "FF"),
                          ("00:10:00.00", "PAIRSNAP"), ("01:00:00.00", "PAIRSAVE"),
                          ("01:00:00.00", "QUIT")]
    plain = [c for _, c in commands(bc.scn_lines(bc.header(dt1=False, record=False), [], []))]
    assert "DT 1" not in plain and "PAIRLOG" not in plain


def test_the_scn_writer_follows_a_route_at_the_same_level_and_speed(bc):
    frame = bc.Frame(40.150, 35.333)
    document = {"flights": [{"id": "F00000", "speed": "200.0 m/s", "altitude": "FL250",
                             "route": [{"x": "0.0 m", "y": "0.0 m"},
                                       {"x": "10000.0 m", "y": "0.0 m"},
                                       {"x": "10000.0 m", "y": "10000.0 m"}]}]}
    assert bc.flight_speeds(document) == ([200.0], [pytest.approx(25000 * 0.3048)])
    lines = bc.route_aircraft(document, frame, [321.0])
    assert lines[0].startswith("CRE F00000,B744,35.3330000000,40.1500000000,")
    assert float(lines[0].split(",")[4]) == pytest.approx(90.0, abs=0.01)
    assert [line.split(",")[0] for line in lines[1:3]] == ["ADDWPT F00000"] * 2
    assert all(line.endswith(",25000,321.0000000000") for line in lines[:3])
    assert lines[3:] == ["LNAV F00000 ON"]  # not VNAV: it overrode the speed


def distances(a, b, times: np.ndarray) -> np.ndarray:
    (ax, ay), (bx, by) = a.velocity, b.velocity
    return np.hypot(b.x - a.x + (bx - ax) * times, b.y - a.y + (by - ay) * times)


track = st.tuples(st.floats(-15_000, 15_000), st.floats(-15_000, 15_000),
                  st.floats(0, 2 * math.pi), st.floats(150, 300))


@settings(max_examples=25, deadline=None)
@given(first=track, second=track, level=st.sampled_from([0.0, 500.0, 999.0, 1000.0, 3000.0]))
def test_the_oracle_agrees_with_dense_sampling(bc, first, second, level):
    a = bc._straight("A", "coalition", first[0], first[1], first[2], first[3], 20000.0)
    b = bc._straight("B", "russia", second[0], second[1], second[2], second[3],
                     20000.0 + level)
    t_end = 300.0
    found = bc.exact_losses([a, b], t_end=t_end)
    times = np.linspace(0.0, t_end, 30_001)  # every 10 ms
    inside = distances(a, b, times) < bc.HORIZONTAL_M
    if level >= 1000.0:
        assert found == {}
        return
    if ("A", "B") not in found:
        assert not inside.any()
        return
    start, end = found[("A", "B")]
    assert 0.0 <= start < end <= t_end
    assert distances(a, b, np.array([(start + end) / 2]))[0] < bc.HORIZONTAL_M
    margin = 1e-3
    assert inside[(times > start + margin) & (times < end - margin)].all()
    assert not inside[(times < start - margin) | (times > end + margin)].any()


def test_the_oracle_on_a_head_on_pair_and_party_filter(bc):
    # 20 km apart head on at 100 m/s each: inside 5 nmi from (20000 - 9260) / 200 s.
    a = bc.Straight("A", "coalition", 0.0, 0.0, 0.0, 360_000.0, 100.0, 20000.0)
    b = bc.Straight("B", "russia", 0.0, 20_000.0, 0.0, -340_000.0, 100.0, 20500.0)
    start, end = bc.exact_losses([a, b])[("A", "B")]
    assert start == pytest.approx((20_000 - 9260) / 200)
    assert end == pytest.approx((20_000 + 9260) / 200)
    same = bc.Straight("B", "coalition", 0.0, 20_000.0, 0.0, -340_000.0, 100.0, 20500.0)
    assert bc.exact_losses([a, same]) == {}
    assert ("A", "B") in bc.exact_losses([a, same], other_party_only=False)


def test_crafted_grazing_encounters_are_short_and_ours_equal_the_oracle(bc, tmp_path):
    from sim.engine.simulation import run
    from sim.model.scenario import load_scenario

    flights = bc.separation_traffic(12, seed=3)
    oracle = bc.exact_losses(flights)
    assert any(end - start < 3.0 for start, end in oracle.values())  # a graze
    path = tmp_path / "straight.yaml"
    path.write_text(yaml.safe_dump(bc.separation_document(flights, 3), sort_keys=False))
    ours = {(e.aircraft, e.other_aircraft): (e.start_s, e.end_s)
            for e in run(load_scenario(path)).episodes if e.rule == "loss_of_separation"}
    assert ours.keys() == oracle.keys()
    for pair, (start, end) in oracle.items():
        assert ours[pair] == (pytest.approx(start, abs=1e-3), pytest.approx(end, abs=1e-3))


def test_compare_lists_misses_and_extras(bc):
    a = bc.Straight("A", "coalition", 0.0, 0.0, 0.0, 360_000.0, 100.0, 20000.0)
    b = bc.Straight("B", "russia", 0.0, 20_000.0, 0.0, -340_000.0, 100.0, 20000.0)
    c = bc.Straight("C", "russia", 50_000.0, 0.0, 50_000.0, 360_000.0, 100.0, 20000.0)
    oracle = bc.exact_losses([a, b, c])
    (start, end), = oracle.values()
    result = bc.compare(oracle, {("A", "B"): [(start, end)]}, {("A", "C"): [(3.0, 4.0)]},
                        [a, b, c])
    assert result["ours_equal_oracle"] and result["oracle_pairs"] == 1
    assert [m["pair"] for m in result["bluesky_missed"]] == [["A", "B"]]
    assert result["bluesky_missed_over_1s"] == 1
    assert result["bluesky_extra"][0]["oracle_closest_m"] == pytest.approx(50_000.0)


def test_an_unavailable_bluesky_is_skipped_with_a_message(bc, tmp_path, monkeypatch, capsys):
    def cannot(path):
        raise OSError("no space left on device")

    monkeypatch.setattr(bc, "create_venv", cannot)
    monkeypatch.setattr(bc.subprocess, "run", lambda *a, **k: pytest.fail("ran a process"))
    out = tmp_path / "result.json"
    assert bc.main(["--venv", str(tmp_path / "venv"), "--json", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("BlueSky comparison skipped: creating the virtual "
                                  "environment")
    assert "no space left on device" in printed.out and len(printed.out.splitlines()) == 1
    assert "Traceback" not in printed.out + printed.err
    result = json.loads(out.read_text())
    assert result["status"] == "skipped" and "no space left" in result["reason"]
