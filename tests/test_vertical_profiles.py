"""Explicit flights' vertical profiles (issue 18): an altitude per route entry, climb and
descent rates with their level-off points, the errors of a rate too slow for its leg, and
a climb through another aircraft's level flown through the whole command line."""

from __future__ import annotations

import copy
import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.model.geography import build_geography
from sim.model.scenario import ScenarioError, parse_scenario
from sim.model.units import FLIGHT_LEVEL, FOOT, MINUTE
from sim.traffic.sorties import explicit_flights

FL100, FL200 = 10_000 * FOOT, 20_000 * FOOT
FPM = FOOT / MINUTE


def _xy(x_m: float, y_m: float = 0.0) -> dict[str, str]:
    return {"x": f"{x_m!r} m", "y": f"{y_m!r} m"}


def _document(*flights: dict[str, Any]) -> dict[str, Any]:
    return {"name": "vertical", "frame": {"center": [39.5, 35.8]},
            "parties": {"blue": None, "red": None}, "flights": list(flights)}


def _flight(route: list[Any], ident: str = "B1", **keys: Any) -> dict[str, Any]:
    return {"id": ident, "party": "blue", "speed": "200 m/s", "route": route, **keys}


def _plans(document: dict[str, Any]):
    scenario = parse_scenario(document, "v.yaml")
    return scenario, explicit_flights(scenario, build_geography(scenario))


def test_plain_points_and_entries_mix_and_take_the_flights_altitude():
    route = ["raqqa", {"at": [38.5, 36.0], "altitude": "FL120"}, {"at": _xy(0.0)},
             _xy(1000.0), {"at": "mayadin", "altitude": None}]
    scenario, (plan,) = _plans(_document(_flight(route, altitude="FL250")))
    spec = scenario.flights[0]
    assert spec.route_altitudes_m == (None, 120 * FLIGHT_LEVEL, None, None, None)
    assert spec.altitude_m == 250 * FLIGHT_LEVEL
    assert plan.route_z_m is not None
    fl250, fl120 = 250 * FLIGHT_LEVEL, 120 * FLIGHT_LEVEL
    assert list(plan.route_z_m) == [fl250, fl120, fl250, fl250, fl250]
    assert len(plan.route_xy) == 5


def test_the_flights_altitude_is_optional_when_every_entry_has_one():
    route = [{"at": _xy(0.0), "altitude": "FL100"}, {"at": _xy(60_000.0), "altitude": "FL200"}]
    scenario, (plan,) = _plans(_document(_flight(route)))
    assert scenario.flights[0].altitude_m == FL200  # the highest: its cruise
    assert list(plan.altitudes()) == pytest.approx([FL100, FL200])
    # The spread climb: linear in time over the whole leg, no level-off point.
    assert list(plan.waypoint_times()) == pytest.approx([0.0, 300.0])
    resolved = yaml.safe_load(scenario.resolved_yaml())["flights"][0]
    assert "altitude" not in resolved and "climb_rate" not in resolved
    assert resolved["route"] == route


def test_a_flight_without_the_new_forms_is_todays_plan_and_gains_no_keys():
    flight = _flight(["raqqa", "mayadin"], altitude="FL250", climb_rate="3000 ft/min")
    scenario, (plan,) = _plans(_document(flight))
    assert plan.route_z_m is None and len(plan.route_xy) == 2
    plain = copy.deepcopy(flight)
    del plain["climb_rate"]
    resolved = yaml.safe_load(parse_scenario(_document(plain), "v.yaml").resolved_yaml())
    assert set(resolved["flights"][0]) == {"id", "party", "depart", "speed", "altitude", "route"}


@pytest.mark.parametrize(("rates", "z_from", "z_to", "change_s"), [
    ({"climb_rate": "3000 ft/min"}, FL100, FL200, 10_000 * FOOT / (3000 * FPM)),  # 200 s
    ({"climb_rate": "3000 fpm"}, FL100, FL200, 200.0),
    ({"descent_rate": "20 m/s"}, FL200, FL100, 10_000 * FOOT / 20.0),  # 152.4 s
    ({"descent_rate": "1200 m/min", "climb_rate": "1 m/s"}, FL200, FL100, 152.4),
])
def test_a_rate_inserts_the_level_off_point_at_the_closed_form_place(rates, z_from, z_to,
                                                                      change_s):
    # A 60 km leg at 200 m/s lasts 300 s: the change is made in its first change_s, at
    # 200 m/s * change_s along the leg, and the flight then flies level to the waypoint.
    route = [{"at": _xy(0.0), "altitude": f"{z_from!r} m"},
             {"at": _xy(60_000.0), "altitude": f"{z_to!r} m"}, _xy(60_000.0, 30_000.0)]
    _, (plan,) = _plans(_document(_flight(route, altitude=f"{z_to!r} m", depart="100 s",
                                          **rates)))
    level_off = 200.0 * change_s
    np.testing.assert_allclose(plan.route_xy, [[0.0, 0.0], [level_off, 0.0], [60_000.0, 0.0],
                                               [60_000.0, 30_000.0]], atol=1e-6)
    np.testing.assert_allclose(plan.altitudes(), [z_from, z_to, z_to, z_to], atol=1e-9)
    np.testing.assert_allclose(plan.waypoint_times(),
                               [100.0, 100.0 + change_s, 400.0, 550.0], atol=1e-9)


def test_a_rate_spreads_nothing_it_does_not_govern():
    # A climb_rate governs climbs only: the descent is spread over its whole leg, and a
    # change the rate makes exactly in its leg's time needs no level-off point.
    route = [{"at": _xy(0.0), "altitude": "FL100"},
             {"at": _xy(40_000.0), "altitude": "FL200"},  # 200 s at 3000 ft/min: exact
             {"at": _xy(100_000.0), "altitude": "FL100"}]
    _, (plan,) = _plans(_document(_flight(route, climb_rate="3000 ft/min")))
    assert len(plan.route_xy) == 3
    np.testing.assert_allclose(plan.waypoint_times(), [0.0, 200.0, 500.0])


TOO_SLOW = [{"at": _xy(0.0), "altitude": "FL100"}, {"at": _xy(10_000.0), "altitude": "FL100"},
            {"at": _xy(58_000.0), "altitude": "FL300"}]  # 48 km: 240 s, 4.0 min


def test_a_rate_too_slow_for_its_leg_names_both_entries():
    document = _document(
        _flight(TOO_SLOW, climb_rate="3000 ft/min"),
        _flight(list(reversed(TOO_SLOW)), "B2", descent_rate="15 m/s"),
        _flight(TOO_SLOW, "B3", climb_rate="5000 ft/min"))  # 4.0 min: just in time
    with pytest.raises(ScenarioError) as info:
        _plans(document)
    problems = info.value.problems
    assert [(p.file, p.path) for p in problems] == [("v.yaml", "flights[0].route[2]"),
                                                    ("v.yaml", "flights[1].route[1]")]
    assert problems[0].message == (
        "climbing from FL100 (route[1]) to FL300 at 3000 ft/min takes 6.7 min, but the leg "
        "to route[2] takes 4.0 min; write a faster rate, such as climb_rate: \"5000 ft/min\", "
        "a smaller level change, or a longer leg")
    assert problems[1].message.startswith(
        "descending from FL300 (route[0]) to FL100 at 2953 ft/min takes 6.8 min, but the leg "
        "to route[1] takes 4.0 min; write a faster rate, such as descent_rate: ")


def test_a_level_change_on_a_leg_of_no_length_cannot_be_made_at_a_rate():
    route = [{"at": _xy(0.0), "altitude": "FL100"}, {"at": _xy(0.0), "altitude": "FL200"},
             _xy(1000.0)]
    with pytest.raises(ScenarioError) as info:
        _plans(_document(_flight(route, altitude="FL200", climb_rate="3000 ft/min")))
    (problem,) = info.value.problems
    assert problem.path == "flights[0].route[1]"
    assert "takes 0.0 s" in problem.message and "needs a leg of some length" in problem.message


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "vertical.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_validate_and_run_refuse_a_rate_too_slow(tmp_path, capsys):
    path = _write(tmp_path, _document(_flight(TOO_SLOW, climb_rate="3000 ft/min")))
    for args in (["validate", path], ["run", path, "--out", tmp_path / "out"]):
        capsys.readouterr()
        assert main([str(a) for a in args]) == 2
        err = capsys.readouterr().err
        assert f"{path}: flights[0].route[2]: climbing from FL100 (route[1])" in err
    assert not (tmp_path / "out").exists()


NMAC = {"id": "nmac", "type": "min_separation", "horizontal": "500 ft", "vertical": "100 ft"}


@pytest.mark.parametrize(("climb_to", "rate"), [("7000 m", None), ("6500 m", "10 m/s")],
                         ids=["spread", "rate-then-level"])
def test_a_climb_through_the_other_level_is_the_closed_form_nmac_through_the_cli(
        tmp_path, capsys, climb_to, rate):
    # A level at 6000 m eastbound along y = 0; B westbound 100 m to the side, climbing at
    # 10 m/s through 6000 m at t = 100 s (spread 5000 -> 7000 m over its 200 s leg, or at
    # climb_rate 10 m/s to 6500 m, level from t = 150 s). |dz| < 100 ft for 3.048 s either
    # side of t = 100 s; within 500 ft horizontally while |400 (t - 100)| < sqrt(152.4**2 -
    # 100**2): the NMAC is that shorter interval.
    a = _flight([_xy(-20_000.0), _xy(20_000.0)], "A", altitude="6000 m")
    b = _flight([{"at": _xy(20_000.0, 100.0), "altitude": "5000 m"},
                 {"at": _xy(-20_000.0, 100.0), "altitude": climb_to}], "B",
                **({"climb_rate": rate} if rate else {}))
    b["party"] = "red"
    document = {**_document(a, b), "duration": "1 h", "rules": [NMAC]}
    out = tmp_path / "run"
    assert main(["run", str(_write(tmp_path, document)), "--out", str(out)]) == 0
    with open(out / "events.csv", encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    half = math.sqrt((500 * FOOT) ** 2 - 100.0**2) / 400.0
    assert (row["rule"], row["aircraft"], row["other_aircraft"]) == ("nmac", "A", "B")
    assert float(row["start_s"]) == pytest.approx(100.0 - half, abs=1e-6)
    assert float(row["end_s"]) == pytest.approx(100.0 + half, abs=1e-6)
    assert float(row["min_time_s"]) == pytest.approx(100.0, abs=1e-6)
    assert float(row["min_distance_m"]) == pytest.approx(100.0, abs=1e-6)
    assert float(row["min_vertical_m"]) == pytest.approx(0.0, abs=1e-6)
    assert float(row["min_slant_m"]) == pytest.approx(100.0, abs=1e-6)


def test_an_absurdly_slow_rate_is_told_in_readable_numbers():
    # 1e-300 m/s: the message gives the rate and the time it would take in e-notation
    # (days), not a 300-digit number of minutes.
    with pytest.raises(ScenarioError) as info:
        _plans(_document(_flight(TOO_SLOW, climb_rate="1e-300 m/s")))
    (problem,) = info.value.problems
    assert problem.path == "flights[0].route[2]"
    assert problem.message.startswith("climbing from FL100 (route[1]) to FL300 at 1.97e-298 "
                                      "ft/min takes 7.06e+298 d, but the leg to route[2] "
                                      "takes 4.0 min; ")
