"""Interference in a run: navigation errors only inside active areas and within their
bounds, exact detection on the displaced tracks, drones aborted and lost at the rates
asked for, the hotline degraded exactly during active windows, and no effect at all when
every effect is zero. Oracles here sample positions with numpy and test areas with their
own point-in-circle and crossing-number tests."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from sim import testing as sst
from sim.cli import main
from sim.engine import interference as interference_module
from sim.engine import run
from sim.engine.hotline import Degradation
from sim.model.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent

DT = 2.0


def _m(value: float) -> str:
    return f"{float(value)!r} m"


def jammer(area: dict, windows: list[tuple[float, float]], offset=("1000 m", "3000 m"),
           probability=1.0, floor=0.0, ceiling=None, drones=None, hotline=None,
           aircraft=None) -> dict:
    doc = {"id": "J1", "owner": "red", "targets": {"parties": ["blue"]}, "area": area,
           "floor": _m(floor), "ceiling": None if ceiling is None else _m(ceiling),
           "active": [[f"{a!r} s", f"{b!r} s"] for a, b in windows]}
    if aircraft is not None:
        doc["targets"]["aircraft"] = aircraft
    if offset is not None:
        doc["navigation"] = {"offset": list(offset), "probability": probability}
    if drones is not None:
        doc["drones"] = drones
    if hotline is not None:
        doc["hotline"] = hotline
    return doc


def inside_polygon(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Crossing number, ring not closed."""
    inside = np.zeros(len(x), bool)
    n = len(ring)
    for k in range(n):
        (x1, y1), (x2, y2) = ring[k], ring[(k + 1) % n]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at)
    return inside


def positions(plan, times: np.ndarray) -> np.ndarray:
    """(x, y, z) at ``times``, NaN outside the plan's times."""
    t = np.asarray(plan.waypoint_times(), float)
    xy, z = np.asarray(plan.route_xy, float), plan.altitudes()
    out = np.column_stack([np.interp(times, t, xy[:, 0]), np.interp(times, t, xy[:, 1]),
                           np.interp(times, t, z)])
    out[(times < t[0]) | (times > t[-1])] = np.nan
    return out


@st.composite
def areas(draw):
    if draw(st.booleans()):
        ring = draw(sst.polygons(min_radius_m=10_000.0, max_radius_m=60_000.0))
        return {"polygon": [{"x": _m(x), "y": _m(y)} for x, y in ring]}, ring
    center = (draw(st.floats(-30_000.0, 30_000.0)), draw(st.floats(-30_000.0, 30_000.0)))
    radius = draw(st.floats(5_000.0, 60_000.0))
    return {"circle": {"center": {"x": _m(center[0]), "y": _m(center[1])},
                       "radius": _m(radius)}}, (center, radius)


@settings(max_examples=40, deadline=None)
@given(plans=st.lists(sst.tracks(party="blue", vertical=True), min_size=1, max_size=4,
                      unique_by=lambda p: p.id),
       area=areas(), start=st.floats(0.0, 3000.0), length=st.floats(600.0, 20_000.0),
       floor=st.sampled_from([0.0, 3000.0]), ceiling=st.sampled_from([None, 9000.0]))
def test_errors_only_inside_active_areas_and_within_bounds(plans, area, start, length, floor,
                                                          ceiling):
    doc_area, shape = area
    windows = [(start, start + length)]
    base = sst.scenario_document(plans, duration_s=40_000.0)
    base["parties"]["red"] = None
    nominal = run(parse_scenario(base))
    jammed_doc = copy.deepcopy(base)
    jammed_doc["interference"] = [jammer(doc_area, windows, floor=floor, ceiling=ceiling)]
    jammed = run(parse_scenario(jammed_doc))
    for before, after in zip(nominal.plans, jammed.plans, strict=True):
        t = np.asarray(before.waypoint_times(), float)
        times = np.linspace(t[0], t[-1], 3001)
        p0, p1 = positions(before, times), positions(after, times)
        error = np.hypot(p1[:, 0] - p0[:, 0], p1[:, 1] - p0[:, 1])
        assert np.all(error <= 3000.0 * (1 + 1e-9) + 1e-6)  # the offset's upper bound
        assert np.allclose(p1[:, 2], p0[:, 2], atol=1e-6)  # altitudes are kept
        if isinstance(shape, tuple) and len(shape) == 2 and not isinstance(shape[0], float):
            (cx, cy), radius = shape
            inside = np.hypot(p0[:, 0] - cx, p0[:, 1] - cy) < radius
        else:
            inside = inside_polygon(p0[:, 0], p0[:, 1], shape)
        # Within a micrometre of the floor or ceiling counts as possibly inside: a track one
        # ulp above the floor is inside, and sampling it may round it onto the floor.
        band = (p0[:, 2] > floor - 1e-6) & (p0[:, 2] < (math.inf if ceiling is None
                                                           else ceiling + 1e-6))
        active = (times >= windows[0][0]) & (times <= windows[0][1])
        # Outside (nominal position) the area, its altitudes or its window: no error at all
        # (a sample within one step of the crossing's ends may still carry a little).
        near_edge = np.convolve(inside & band & active, np.ones(3), "same") > 0
        assert np.all(error[~near_edge] <= 1e-6), error[~near_edge].max()


@settings(max_examples=30, deadline=None)
@given(pair=sst.encounters(parties=("blue", "red")), area=areas(),
       offset=st.tuples(st.floats(0.0, 3000.0), st.floats(0.0, 3000.0)).map(sorted))
def test_exact_detection_agrees_with_sampling_on_displaced_tracks(pair, area, offset):
    doc = sst.scenario_document(list(pair), rules=[{"id": "los", "type": "min_separation",
                                                    "horizontal": "5 nmi"}],
                                duration_s=20_000.0)
    doc["interference"] = [jammer(area[0], [(0.0, 20_000.0)],
                                  offset=(_m(offset[0]), _m(offset[1])))]
    result = run(parse_scenario(doc))
    a, b = result.plans
    times = np.arange(0.0, 20_000.0, DT)
    pa, pb = positions(a, times), positions(b, times)
    distance = np.hypot(pa[:, 0] - pb[:, 0], pa[:, 1] - pb[:, 1])
    inside = np.zeros(len(times), bool)
    for e in result.episodes:
        inside |= (times >= e.start_s) & (times <= e.end_s)  # ends: flights start, stop
    speed = a.speed_mps + b.speed_mps + 4 * 3000.0 / 60.0  # an error moves the track too
    margin = speed * DT
    certain_in = distance < 9260.0 - margin
    certain_out = ~(distance < 9260.0 + margin)  # NaN (not flying) counts as out
    assert not np.any(certain_in & ~inside)
    assert not np.any(certain_out & inside)
    for e in result.episodes:
        assert ("interference" in e.cause.split(";")) == any(
            s < e.end_s and e.start_s < t for p in (e.aircraft, e.other_aircraft)
            for s, t in result.interference.windows.get(p, ()))


def drone_doc(n: int, abort: float, lost: float) -> dict:
    flights = [{"id": f"D{k:03d}", "party": "blue", "depart": f"{k * 10.0!r} s",
                "speed": "60 m/s", "altitude": "5000 m",
                "route": [{"x": "-50000.0 m", "y": _m(100.0 * k)},
                          {"x": "50000.0 m", "y": _m(100.0 * k)}]} for k in range(n)]
    return {"name": "drones", "seed": 11, "duration": "6 h", "frame": {"center": [40.0, 35.0]},
            "parties": {"blue": {}, "red": {}}, "flights": flights,
            "interference": [jammer({"circle": {"center": {"x": "0 m", "y": "0 m"},
                                                "radius": "40 km"}},
                                    [(0.0, 21_600.0)], offset=None,
                                    drones={"abort": abort, "lost": lost})]}


def _as_drones(monkeypatch):
    # Explicit flights carry no aircraft type: these are all drones for the test.
    monkeypatch.setattr(interference_module, "is_drone", lambda plan: True)


def rates_test(doc: dict) -> tuple[float, float]:
    result = run(parse_scenario(doc))
    n = len(doc["flights"])
    spec = doc["interference"][0]["drones"]
    aborted, lost = len(result.interference.aborted), len(result.interference.lost)
    return (scipy_stats.binomtest(lost, n, spec["lost"]).pvalue,
            scipy_stats.binomtest(aborted, n, spec["abort"]).pvalue)


def test_abort_and_loss_rates_are_those_asked_for(monkeypatch):
    _as_drones(monkeypatch)
    p_lost, p_abort = rates_test(drone_doc(400, abort=0.2, lost=0.1))
    assert p_lost > 0.001 and p_abort > 0.001


def test_the_rate_test_fails_against_a_broken_generator(monkeypatch):
    _as_drones(monkeypatch)
    real = interference_module.interfere

    def broken(geography, plans, legs, rng):
        class Halved:
            def random(self, size):
                return rng.random(size) * 0.5  # every draw twice as likely to fire
        return real(geography, plans, legs, Halved())
    monkeypatch.setattr("sim.engine.simulation.interfere", broken)
    p_lost, p_abort = rates_test(drone_doc(400, abort=0.2, lost=0.1))
    assert min(p_lost, p_abort) < 0.001


def test_lost_drone_ends_there_aborted_drone_flies_home(monkeypatch):
    _as_drones(monkeypatch)
    result = run(parse_scenario(drone_doc(60, abort=0.5, lost=0.5)))
    fates = set(result.interference.aborted) | set(result.interference.lost)
    assert fates == {f.id for f in result.flights}  # abort + lost = 1: every drone
    for plan in result.plans:
        xy = np.asarray(plan.route_xy)
        # the area's edge is crossed at x = -sqrt(40 km^2 - y^2)
        entry_x = -math.sqrt(40_000.0**2 - xy[0, 1] ** 2)
        if plan.id in result.interference.lost:
            assert xy[-1, 0] == pytest.approx(entry_x, abs=1e-6)
        else:
            assert xy[-2, 0] == pytest.approx(entry_x, abs=1e-6)
            assert tuple(xy[-1]) == tuple(xy[0])  # home: its first waypoint


def test_degradation_applies_exactly_during_active_windows():
    spec = parse_scenario({
        "parties": {"blue": {}, "red": {}}, "frame": {"center": [40.0, 35.0]},
        "interference": [jammer({"circle": {"center": {"x": "0 m", "y": "0 m"},
                                            "radius": "1 km"}},
                                [(3600.0, 7200.0), (10_800.0, 14_400.0)], offset=None,
                                hotline={"loss": 0.9, "latency": "2 h"})]}).interference
    d = Degradation.of(spec)
    assert d.at(3599.999, 0.1, 60.0) == (0.1, 60.0)
    assert d.at(3600.0, 0.1, 60.0) == (0.9, 7200.0)
    assert d.at(7199.999, 0.1, 60.0) == (0.9, 7200.0)
    assert d.at(7200.0, 0.1, 60.0) == (0.1, 60.0)
    assert d.at(12_000.0, 0.95, 9000.0) == (0.95, 9000.0)  # never better than the hotline's
    assert [d.affects(t) for t in (0.0, 3600.0, 9000.0, 10_800.0, 14_400.0)] == [
        False, True, False, True, False]


def test_a_run_loses_every_item_of_a_degraded_window_and_none_outside():
    doc = {"name": "h", "seed": 1, "duration": "3 d", "frame": {"center": [40.0, 35.0]},
           "parties": {"blue": {}, "red": {}},
           "zones": [{"id": "Z", "party": "blue",
                      "area": {"circle": {"center": {"x": "0 m", "y": "0 m"},
                                          "radius": "10 km"}}}],
           "hotline": {"enabled": True, "first_call": "6 h", "interval": "6 h", "loss": 0.0},
           "interference": [jammer({"circle": {"center": {"x": "0 m", "y": "0 m"},
                                               "radius": "1 km"}},
                                   [(86_400.0, 172_800.0)], offset=None,
                                   hotline={"loss": 1.0, "latency": None})]}
    result = run(parse_scenario(doc))
    zone_items = [m for m in result.hotline.messages if m.item_type == "zone"]
    assert zone_items
    for m in zone_items:
        assert m.lost == (86_400.0 <= m.sent_s < 172_800.0)


def test_zero_effects_change_no_output(tmp_path, capsys):
    scenario = str(ROOT / "scenarios" / "euphrates_dec2017.yaml")
    with_zero = tmp_path / "zero.yaml"
    # The same file with an area whose every effect is zero appended (read from the
    # scenarios folder: --allow-outside is not needed, it names no files).
    with_zero.write_text(open(scenario, encoding="utf-8").read() + """
interference:
  - id: J0
    owner: russia
    targets: {parties: [coalition]}
    area: {circle: {center: deir_ez_zor, radius: "150 km"}}
    navigation: {offset: "0 km", probability: 1.0}
    drones: {abort: 0.0, lost: 0.0}
    hotline: {loss: null, latency: null}
""", encoding="utf-8")
    for name, path in (("plain", scenario), ("zero", with_zero)):
        assert main(["run", str(path), "--duration", "2 d", "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    for file in ("events.csv", "flights.csv", "tracks.csv", "hotline.csv", "zones.csv"):
        assert (tmp_path / "plain" / file).read_bytes() == (tmp_path / "zero" / file).read_bytes()
    for file in ("summary.json", "stats.json"):
        plain = json.loads((tmp_path / "plain" / file).read_text(encoding="utf-8"))
        zero = json.loads((tmp_path / "zero" / file).read_text(encoding="utf-8"))
        effects = zero.pop("interference")
        if file == "summary.json":  # the area was crossed, to no effect
            assert effects["crossings"] > 0 and effects["displaced_crossings"] == 0
            assert effects["drones_aborted"] == effects["drones_lost"] == 0
        plain.pop("scenario_sha256", None)
        zero.pop("scenario_sha256", None)
        assert plain == zero


@pytest.mark.parametrize("distribution, reference", [
    ("uniform", scipy_stats.uniform(1000.0, 2000.0)),
    # triangular with its mode at low: scipy's c = 0
    ("triangular", scipy_stats.triang(0.0, loc=1000.0, scale=2000.0)),
    # a half-normal from 1 km, sigma 1 km, cut at 3 km (two sigmas)
    ("half_normal", scipy_stats.truncnorm(0.0, 2.0, loc=1000.0, scale=1000.0))])
def test_offsets_follow_their_distribution(distribution, reference):
    from sim.engine.interference import offset_magnitude
    from sim.model.scenario import NavigationEffect

    effect = NavigationEffect((1000.0, 3000.0), 1.0, distribution)
    u = np.random.default_rng(5).random(4000)
    drawn = np.array([offset_magnitude(effect, float(x)) for x in u])
    assert np.all((drawn >= 1000.0) & (drawn <= 3000.0))
    assert scipy_stats.kstest(drawn, reference.cdf).pvalue > 0.001
    # ... and the test can tell them apart: uniform draws are not triangular ones
    other = "uniform" if distribution != "uniform" else "triangular"
    wrong = np.array([offset_magnitude(NavigationEffect((1000.0, 3000.0), 1.0, other),
                                       float(x)) for x in u])
    assert scipy_stats.kstest(wrong, reference.cdf).pvalue < 0.001
