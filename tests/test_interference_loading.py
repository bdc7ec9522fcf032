"""The ``interference:`` key (issue 20): jamming areas read into InterferenceSpec objects.

Valid forms (every point form, circle and polygon, one window or a list of them, the
defaults filled in the scenario as run), their SI values, and a loader error for every
new key, each asserted in full: file, key path, what is wrong and an accepted form. The
JSON Schema takes them too (tests/test_schema.py has more refusals, with its other forms).
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.model.geography import build_geography
from sim.model.limits import Limits
from sim.model.scenario import (
    CircleArea,
    DroneEffect,
    FramePoint,
    HotlineEffect,
    InterferenceSpec,
    LonLat,
    NavigationEffect,
    PlaceRef,
    PolygonArea,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from sim.model.schema import scenario_json_schema
from sim.model.writer import as_document

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DAY = 86_400.0
FT = 0.3048

# The brief's example, as a scenario file would write it.
EXAMPLE = """
id: ew_deir_ez_zor
owner: russia
targets:
  parties: [coalition]
  aircraft: [drone, fighter]
area: {circle: {center: deir_ez_zor, radius: "60 km"}}
floor: "0 ft"
ceiling: null
active: [["38 d", "60 d"]]
navigation: {offset: ["0.5 km", "3 km"], probability: 1.0}
drones: {abort: 0.05, lost: 0.01}
hotline: {loss: 0.3, latency: "2 h"}
"""

SORTIES = {"sorties_per_day": 4, "bases": ["incirlik"], "missions": [{"area": "raqqa"}],
           "aircraft": [{"type": "Heron-TP", "speed": "120 kt", "altitude": "FL200"},
                        {"type": "F-16", "speed": "480 kt", "altitude": "FL250"}]}

BASE: dict[str, Any] = {
    "name": "ew",
    "duration": "90 d",
    "frame": {"center": [40.0, 35.2]},
    "places": {"fob": [39.2, 36.1], "pt": {"x": "10 nmi", "y": "-4 nmi"}},
    "parties": {"coalition": SORTIES, "russia": {}, "syria": None},
    "zones": [{"id": "Z1", "party": "russia",
               "area": {"circle": {"center": "mayadin", "radius": "15 nmi"}}}],
    "interference": [
        yaml.safe_load(EXAMPLE),
        {"id": "ew_raqqa", "owner": "coalition", "targets": {"parties": ["russia", "syria"]},
         "area": {"polygon": ["raqqa", [39.3, 36.2], {"x": "1 km", "y": "2 km"}]}},
    ],
    "rules": [{"id": "zones", "type": "zone_incursion"}],
}

DELETE = object()
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def variant(*edits: tuple[str, Any]) -> dict[str, Any]:
    """A deep copy of BASE with each (key path, value) set; DELETE removes the key."""
    document = copy.deepcopy(BASE)
    for path, value in edits:
        parts = [int(i) if i else k for k, i in _PART.findall(path)]
        node: Any = document
        for part in parts[:-1]:
            node = node[part]
        if value is DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return document


def problems(document: Any) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document, "x.yaml")
    return [str(p) for p in info.value.problems]


# ---------------------------------------------------------------------------- valid forms


def test_the_example_is_read_into_si_values() -> None:
    scenario = parse_scenario(BASE, "x.yaml")
    assert scenario.interference[0] == InterferenceSpec(
        id="ew_deir_ez_zor", owner="russia", parties=("coalition",),
        aircraft=("drone", "fighter"), area=CircleArea(PlaceRef("deir_ez_zor"), 60_000.0),
        floor_m=0.0, ceiling_m=math.inf, windows_s=((38 * DAY, 60 * DAY),),
        navigation=NavigationEffect((500.0, 3000.0), 1.0), drones=DroneEffect(0.05, 0.01),
        hotline=HotlineEffect(0.3, 7200.0))
    assert scenario.interference[1] == InterferenceSpec(
        id="ew_raqqa", owner="coalition", parties=("russia", "syria"), aircraft=(),
        area=PolygonArea((PlaceRef("raqqa"), LonLat(39.3, 36.2), FramePoint(1000.0, 2000.0))),
        floor_m=0.0, ceiling_m=math.inf, windows_s=((0.0, 90 * DAY),))
    build_geography(scenario)  # the areas are simple


@pytest.mark.parametrize(("point", "expected"), [
    ("deir_ez_zor", PlaceRef("deir_ez_zor")),      # a built-in place
    ("fob", PlaceRef("fob")),                      # a place of the scenario, [lon, lat]
    ("pt", PlaceRef("pt")),                        # a place of the scenario, in the frame
    ([40.1, 35.3], LonLat(40.1, 35.3)),
    ({"x": "-5 nmi", "y": "3 km"}, FramePoint(-5 * 1852.0, 3000.0)),
], ids=["builtin", "place", "frame-place", "lonlat", "frame-point"])
def test_every_point_form_is_a_circle_centre_and_a_corner(point: Any, expected: Any) -> None:
    circle = parse_scenario(variant(("interference[0].area.circle.center", point)), "x.yaml")
    assert circle.interference[0].area == CircleArea(expected, 60_000.0)
    corners = ["raqqa", point, [38.9, 35.0]]
    polygon = parse_scenario(variant(("interference[1].area.polygon", corners)), "x.yaml")
    assert polygon.interference[1].area == PolygonArea((PlaceRef("raqqa"), expected,
                                                        LonLat(38.9, 35.0)))
    build_geography(circle)
    build_geography(polygon)


def test_one_window_or_a_list_of_them_sorted() -> None:
    one = parse_scenario(variant(("interference[0].active", ["2 h", "8 h"])), "x.yaml")
    assert one.interference[0].windows_s == ((7200.0, 28800.0),)
    assert as_document(one)["interference"][0]["active"] == ["2 h", "8 h"]  # as written
    many = parse_scenario(variant(("interference[0].active",
                                   [["60 d", "61 d"], ["30 min", "2 h"], ["1 d", "3 d"]])),
                          "x.yaml")
    assert many.interference[0].windows_s == ((1800.0, 7200.0), (DAY, 3 * DAY),
                                              (60 * DAY, 61 * DAY))


def test_defaults_are_filled_in_the_scenario_as_run() -> None:
    scenario = parse_scenario(variant(
        ("interference[0]", {"id": "bare", "owner": "russia",
                             "targets": {"parties": ["coalition"]},
                             "area": {"circle": {"center": "mayadin", "radius": "20 km"}},
                             "navigation": {"offset": "2 km"}, "drones": {"lost": 0.2},
                             "hotline": {"latency": "3 h"}})), "x.yaml")
    spec = scenario.interference[0]
    assert spec == InterferenceSpec(
        "bare", "russia", ("coalition",), (), CircleArea(PlaceRef("mayadin"), 20_000.0), 0.0,
        math.inf, ((0.0, 90 * DAY),), NavigationEffect((2000.0, 2000.0), 1.0),
        DroneEffect(0.0, 0.2), HotlineEffect(None, 10_800.0))
    assert as_document(scenario)["interference"][0] == {
        "id": "bare", "owner": "russia", "targets": {"parties": ["coalition"], "aircraft": []},
        "area": {"circle": {"center": "mayadin", "radius": "20 km"}},
        "navigation": {"offset": "2 km", "distribution": "uniform", "probability": 1.0},
        "drones": {"lost": 0.2, "abort": 0.0}, "hotline": {"latency": "3 h", "loss": None},
        "floor": "0 ft", "ceiling": None, "active": [["0 s", "90 d"]]}
    # Null reads as the default, as elsewhere in the format.
    nulls = parse_scenario(variant(("interference[0].floor", None),
                                   ("interference[0].targets.aircraft", None),
                                   ("interference[0].navigation.probability", None),
                                   ("interference[0].active", None)), "x.yaml")
    assert nulls.interference[0].floor_m == 0.0 and nulls.interference[0].aircraft == ()
    assert nulls.interference[0].navigation == NavigationEffect((500.0, 3000.0), 1.0)
    assert nulls.interference[0].windows_s == ((0.0, 90 * DAY),)


def test_floor_ceiling_and_effects_in_si_units() -> None:
    scenario = parse_scenario(variant(
        ("interference[0].floor", "FL100"), ("interference[0].ceiling", "25000 ft"),
        ("interference[0].navigation", {"offset": ["1 nmi", "2 mi"], "probability": 0.25}),
        ("interference[0].hotline", {"loss": 1, "latency": "45 min"})), "x.yaml")
    spec = scenario.interference[0]
    assert (spec.floor_m, spec.ceiling_m) == (10_000 * FT, 25_000 * FT)
    assert spec.navigation == NavigationEffect((1852.0, 3218.688), 0.25)
    assert spec.hotline == HotlineEffect(1.0, 2700.0)


def test_aircraft_classes_and_types() -> None:
    """Classes, types of a class (MQ-9), types a party flies (Heron-TP) or the tool knows."""
    aircraft = ["drone", "MQ-9", "Heron-TP", "Su-25"]
    scenario = parse_scenario(variant(("interference[0].targets.aircraft", aircraft)), "x.yaml")
    assert scenario.interference[0].aircraft == tuple(aircraft)


def test_the_scenario_as_run_reads_back_the_same() -> None:
    first = parse_scenario(BASE, "x.yaml")
    text = first.resolved_yaml()
    second = parse_scenario(yaml.safe_load(text), "y.yaml")
    assert second.interference == first.interference
    assert second.resolved_yaml() == text
    assert list(as_document(second)) == ["name", "seed", "duration", "frame", "places", "parties",
                                     "zones", "interference", "rules", "hotline"]


@pytest.mark.parametrize("path", [p for p in SCENARIOS if p.stem != "euphrates_feb2018_ew"],
                         ids=[p.stem for p in SCENARIOS if p.stem != "euphrates_feb2018_ew"])
def test_shipped_scenarios_have_no_interference(path: Path) -> None:
    """Those written before interference (all but the February 2018 one) read as before."""
    scenario = load_scenario(path)
    assert scenario.interference == ()
    assert "interference" not in as_document(scenario)
    assert "interference" not in scenario.resolved_yaml()


def test_the_february_2018_scenario_has_its_two_areas() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "euphrates_feb2018_ew.yaml")
    assert [a.id for a in scenario.interference] == ["ew_deir_ez_zor", "ew_mayadin"]
    first = scenario.interference[0]
    assert first.parties == ("coalition",) and first.aircraft == ("drone", "fighter")
    assert first.navigation is not None and first.navigation.offset_m == (500.0, 3000.0)
    assert first.windows_s == ((0.0, 7 * 86_400.0),)


# ---------------------------------------------------------------------------- errors

ID = ("an id of letters, digits, '_', '.' or '-' (at most 64, starting with a letter or "
      "digit), such as C1 or coalition")
TARGETS = "write targets: {parties: [coalition], aircraft: [drone, fighter]}"
AIRCRAFT = ("write a class (drone or fighter) or an aircraft type (of those classes, or one "
            "the parties' sorties fly), such as aircraft: [drone, F-16]")
AREA = ('write area: {polygon: [point, point, point, ...]} or '
        'area: {circle: {center: point, radius: "15 nmi"}}')
WINDOWS = ('write active: [["38 d", "60 d"], ["70 d", "75 d"]] (windows of start and end, '
           "from the scenario's start) or one window, active: [\"2 h\", \"8 h\"]")
OFFSET = 'write offset: "2 km" or a [low, high] range such as offset: ["0.5 km", "3 km"]'
DURATION = 'write a duration with a unit, such as "90 s", "30 min", "6 h" or "7 d"'
DISTANCE = ('write a distance with a unit, such as "45 mi", "5 nmi", "80 km", "1200.5 m" or '
            '"1000 ft"')
ALTITUDE = 'write an altitude with a unit, such as "FL250", "25000 ft" or "7600 m"'
PROBABILITY = "is not a probability; write a number from 0 to 1, such as"
KEYS = ("accepted keys: id, owner, targets, area, floor, ceiling, active, navigation, drones, "
        "hotline")

# (case id, edits, every problem the loader reports, in full, without "x.yaml: ")
ERRORS: list[tuple[str, list[tuple[str, Any]], list[str]]] = [
    # ---- the list and its items
    ("top-typo", [("interferance", [])],
     ["interferance: unknown key; did you mean 'interference'? accepted keys: name, "
      "description, seed, duration, start, frame, places, corridor, lanes, parties, flights, "
      "recorded, zones, interference, rules, hotline, reported"]),
    ("not-a-list", [("interference", {"id": "x"})],
     ["interference: expected a list of interference areas, got dict {'id': 'x'}"]),
    ("item-not-mapping", [("interference[1]", "ew_raqqa")],
     ["interference[1]: expected an interference area (a mapping of keys), got str "
      "'ew_raqqa'"]),
    ("unknown-key", [("interference[0].cieling", "FL300")],
     [f"interference[0].cieling: unknown key; did you mean 'ceiling'? {KEYS}"]),
    # ---- id
    ("id-missing", [("interference[0].id", DELETE)],
     [f"interference[0].id: nothing (null) is not a valid id; {ID}"]),
    ("id-number", [("interference[0].id", 7)],
     ['interference[0].id: 7 is a number; quote it to make it an id, such as "7"']),
    ("id-duplicate", [("interference[1].id", "ew_deir_ez_zor")],
     ["interference[1].id: duplicate interference area id 'ew_deir_ez_zor' (also at "
      "interference[0].id); ids must be unique"]),
    # ---- owner
    ("owner-missing", [("interference[0].owner", DELETE)],
     [f"interference[0].owner: nothing (null) is not a valid id; {ID}"]),
    ("owner-unknown", [("interference[0].owner", "iran")],
     ["interference[0].owner: unknown party 'iran'; it must be a key of parties (coalition, "
      "russia, syria)"]),
    # ---- targets
    ("targets-missing", [("interference[0].targets", DELETE)],
     [f"interference[0].targets: required: whom the area targets; {TARGETS}"]),
    ("targets-null", [("interference[0].targets", None)],
     [f"interference[0].targets: required: whom the area targets; {TARGETS}"]),
    ("targets-list", [("interference[0].targets", ["coalition"])],
     ["interference[0].targets: expected the targets (a mapping of keys), got list "
      f"['coalition']; {TARGETS}"]),
    ("targets-unknown-key", [("interference[0].targets", {"partys": ["coalition"]})],
     ["interference[0].targets.partys: unknown key; did you mean 'parties'? accepted keys: "
      "parties, aircraft",
      f"interference[0].targets.parties: required: the parties whose aircraft it targets; "
      f"{TARGETS}"]),
    ("parties-missing", [("interference[0].targets.parties", DELETE)],
     [f"interference[0].targets.parties: required: the parties whose aircraft it targets; "
      f"{TARGETS}"]),
    ("parties-empty", [("interference[0].targets.parties", [])],
     [f"interference[0].targets.parties: expected a list of at least one party, got list []; "
      f"{TARGETS}"]),
    ("parties-text", [("interference[0].targets.parties", "coalition")],
     ["interference[0].targets.parties: expected a list of at least one party, got str "
      f"'coalition'; {TARGETS}"]),
    ("parties-unknown", [("interference[0].targets.parties", ["coalition", "turkey"])],
     ["interference[0].targets.parties[1]: unknown party 'turkey'; it must be a key of "
      "parties (coalition, russia, syria)"]),
    ("parties-twice", [("interference[0].targets.parties", ["coalition", "coalition"])],
     ["interference[0].targets.parties[1]: party 'coalition' is listed twice (also at [0]); "
      "list each once"]),
    ("owner-targeted", [("interference[0].targets.parties", ["coalition", "russia"])],
     ["interference[0].targets.parties[1]: 'russia' is the area's owner; an area targets the "
      "other parties' aircraft, such as owner: russia with targets: {parties: [coalition]}"]),
    ("aircraft-text", [("interference[0].targets.aircraft", "drone")],
     ["interference[0].targets.aircraft: expected a list of aircraft classes or types, got "
      f"str 'drone'; {AIRCRAFT}"]),
    ("aircraft-typo", [("interference[0].targets.aircraft", ["drones", "fighter"])],
     [f"interference[0].targets.aircraft[0]: unknown aircraft 'drones' (did you mean drone?); "
      f"{AIRCRAFT}"]),
    ("aircraft-unknown", [("interference[0].targets.aircraft", ["drone", "zeppelin"])],
     [f"interference[0].targets.aircraft[1]: unknown aircraft 'zeppelin'; {AIRCRAFT}"]),
    ("aircraft-twice", [("interference[0].targets.aircraft", ["drone", "MQ-9", "drone"])],
     ["interference[0].targets.aircraft[2]: aircraft 'drone' is listed twice (also at [0]); "
      "list each once"]),
    # ---- area
    ("area-missing", [("interference[0].area", DELETE)],
     [f"interference[0].area: expected a polygon or a circle; {AREA}"]),
    ("area-square", [("interference[0].area", {"square": ["raqqa"]})],
     [f"interference[0].area: expected a polygon or a circle; {AREA}"]),
    ("polygon-two", [("interference[1].area.polygon", ["raqqa", "tabqa"])],
     ["interference[1].area.polygon: expected a polygon: a list of at least 3 points; write a "
      "point as a place name (raqqa), [lon, lat] in degrees ([39.0, 35.9]) or "
      '{x: "10 nmi", y: "-4 nmi"} in the frame']),
    ("radius-zero", [("interference[0].area.circle.radius", "0 km")],
     [f"interference[0].area.circle.radius: '0 km' must be greater than 0.0 m; {DISTANCE}"]),
    # ---- floor and ceiling
    ("floor-bare", [("interference[0].floor", 0)],
     [f"interference[0].floor: 0 has no unit; {ALTITUDE}"]),
    ("ceiling-unit", [("interference[0].ceiling", "5 h")],
     [f"interference[0].ceiling: '5 h' is a duration, not an altitude; {ALTITUDE}"]),
    ("ceiling-below-floor", [("interference[0].floor", "FL300"),
                             ("interference[0].ceiling", "FL200")],
     ["interference[0].ceiling: 'FL200' is not above the floor 'FL300'; the ceiling must be "
      "higher"]),
    # ---- active
    ("active-text", [("interference[0].active", "38 d")],
     [f"interference[0].active: expected a [start, end] window or a list of them, got str "
      f"'38 d'; {WINDOWS}"]),
    ("active-empty", [("interference[0].active", [])],
     [f"interference[0].active: expected a [start, end] window or a list of them, got list "
      f"[]; {WINDOWS}"]),
    ("active-one-bare", [("interference[0].active", ["2 h", 8])],
     [f"interference[0].active[1]: 8 has no unit; {DURATION}"]),
    ("active-item-unit", [("interference[0].active", [["1 d", "2 d"], ["3 d", "4 km"]])],
     [f"interference[0].active[1][1]: '4 km' is a distance, not a duration; {DURATION}"]),
    ("active-item-three", [("interference[0].active", [["1 d", "2 d", "3 d"]])],
     [f"interference[0].active[0]: expected a start and an end; {WINDOWS}"]),
    ("active-item-text", [("interference[0].active", [["1 d", "2 d"], "3 d"])],
     [f"interference[0].active[1]: expected a start and an end; {WINDOWS}"]),
    ("active-backwards", [("interference[0].active", [["1 d", "2 d"], ["9 d", "8 d"]])],
     ["interference[0].active[1]: the window ['9 d', '8 d'] must start at or after 0 s and "
      f"end after it starts; {WINDOWS}"]),
    ("active-negative", [("interference[0].active", ["-1 h", "2 h"])],
     ["interference[0].active: the window ['-1 h', '2 h'] must start at or after 0 s and end "
      f"after it starts; {WINDOWS}"]),
    ("active-overlap", [("interference[0].active", [["10 d", "20 d"], ["1 d", "2 d"],
                                                     ["15 d", "30 d"]])],
     ["interference[0].active: the windows active[0] ['10 d', '20 d'] and active[2] "
      "['15 d', '30 d'] overlap (or touch); windows must be disjoint: merge them into one, "
      "such as ['10 d', '30 d']"]),
    ("active-touch", [("interference[0].active", [["2 d", "3 d"], ["1 d", "2 d"]])],
     ["interference[0].active: the windows active[0] ['2 d', '3 d'] and active[1] "
      "['1 d', '2 d'] overlap (or touch); windows must be disjoint: merge them into one, "
      "such as ['1 d', '3 d']"]),
    # ---- navigation
    ("navigation-not-mapping", [("interference[0].navigation", "3 km")],
     ["interference[0].navigation: expected the navigation effect (a mapping of keys), got "
      "str '3 km'"]),
    ("navigation-unknown-key", [("interference[0].navigation.ofset", "1 km")],
     ["interference[0].navigation.ofset: unknown key; did you mean 'offset'? accepted keys: "
      "offset, distribution, probability"]),
    ("distribution-unknown", [("interference[0].navigation.distribution", "gaussian")],
     ["interference[0].navigation.distribution: str 'gaussian' is not a distribution of the "
      "offset; write uniform, triangular or half_normal"]),
    ("offset-missing", [("interference[0].navigation", {"probability": 0.5})],
     [f"interference[0].navigation.offset: required: how far sideways a crossing is flown; "
      f"{OFFSET}"]),
    ("offset-null", [("interference[0].navigation.offset", None)],
     [f"interference[0].navigation.offset: required: how far sideways a crossing is flown; "
      f"{OFFSET}"]),
    ("offset-backwards", [("interference[0].navigation.offset", ["3 km", "0.5 km"])],
     ["interference[0].navigation.offset: the range ['3 km', '0.5 km'] runs backwards; write "
      "[low, high]"]),
    ("offset-too-far", [("interference[0].navigation.offset", ["1 km", "60 km"])],
     ["interference[0].navigation.offset: ['1 km', '60 km'] reaches beyond 50 km, farther "
      'than jamming displaces a flight; write an offset up to "50 km", such as offset: '
      '"2 km" or offset: ["0.5 km", "3 km"]']),
    ("offset-negative", [("interference[0].navigation.offset", ["-1 km", "3 km"])],
     [f"interference[0].navigation.offset.0: '-1 km' must be at least 0.0 m; {DISTANCE}"]),
    ("offset-unit", [("interference[0].navigation.offset", "3 min")],
     [f"interference[0].navigation.offset.0: '3 min' is a duration, not a distance; "
      f"{DISTANCE}"]),
    ("probability-above", [("interference[0].navigation.probability", 1.5)],
     [f"interference[0].navigation.probability: float 1.5 {PROBABILITY} probability: 1"]),
    # ---- drones
    ("drones-not-mapping", [("interference[0].drones", 0.05)],
     ["interference[0].drones: expected the drones effect (a mapping of keys), got float "
      "0.05"]),
    ("drones-unknown-key", [("interference[0].drones.aborts", 0.1)],
     ["interference[0].drones.aborts: unknown key; did you mean 'abort'? accepted keys: abort, "
      "lost"]),
    ("abort-negative", [("interference[0].drones.abort", -0.1)],
     [f"interference[0].drones.abort: float -0.1 {PROBABILITY} abort: 0.05"]),
    ("lost-bool", [("interference[0].drones.lost", True)],
     [f"interference[0].drones.lost: bool True {PROBABILITY} lost: 0.01"]),
    ("abort-and-lost", [("interference[0].drones", {"abort": 0.6, "lost": 0.5})],
     ["interference[0].drones: abort 0.6 and lost 0.5 add up to more than 1 (a crossing "
      "aborts, loses the drone or neither); write drones: {abort: 0.05, lost: 0.01}"]),
    ("drones-not-targeted", [("interference[0].targets.aircraft", ["fighter", "Su-25"])],
     ["interference[0].drones: the area targets no drones (targets.aircraft: ['fighter', "
      "'Su-25']); add drone to targets.aircraft, or remove drones"]),
    # ---- hotline
    ("hotline-not-mapping", [("interference[0].hotline", "jammed")],
     ["interference[0].hotline: expected the hotline effect (a mapping of keys), got str "
      "'jammed'"]),
    ("hotline-unknown-key", [("interference[0].hotline.latncy", "1 h")],
     ["interference[0].hotline.latncy: unknown key; did you mean 'latency'? accepted keys: "
      "loss, latency"]),
    ("loss-above", [("interference[0].hotline.loss", 2)],
     [f"interference[0].hotline.loss: int 2 {PROBABILITY} loss: 0.3"]),
    ("latency-bare", [("interference[0].hotline.latency", 30)],
     [f"interference[0].hotline.latency: 30 has no unit; {DURATION}"]),
    ("latency-negative", [("interference[0].hotline.latency", "-1 h")],
     [f"interference[0].hotline.latency: '-1 h' must be at least 0.0 s; {DURATION}"]),
]


@pytest.mark.parametrize(("edits", "expected"), [c[1:] for c in ERRORS],
                         ids=[c[0] for c in ERRORS])
def test_loader_error(edits: list[tuple[str, Any]], expected: list[str]) -> None:
    assert problems(variant(*edits)) == [f"x.yaml: {message}" for message in expected]


def test_every_key_has_an_error_case() -> None:
    tested = {key for _, edits, _ in ERRORS for path, _ in edits
              for key in re.findall(r"[a-z_]+", path)}
    assert tested >= {"interference", "id", "owner", "targets", "parties", "aircraft", "area",
                      "floor", "ceiling", "active", "navigation", "offset", "probability",
                      "drones", "abort", "lost", "hotline", "loss", "latency"}


def test_problems_come_in_reading_order_all_at_once() -> None:
    document = variant(("rules[0].type", "zone_incursions"),
                       ("interference[1].owner", "iran"),
                       ("zones[0].floor", 5),
                       ("interference[0].drones.abort", 2))
    assert [p.split(": ")[1] for p in problems(document)] == [
        "zones[0].floor", "interference[0].drones.abort", "interference[1].owner",
        "rules[0].type"]


# ---------------------------------------------------------------------------- geometry, sizes


SIMPLE = "list the corners in order around the area, without crossing edges"


@pytest.mark.parametrize(("polygon", "expected"), [
    ([[39.0, 35.0], [40.0, 36.0], [40.0, 35.0], [39.0, 36.0]],
     rf"polygon: not a simple polygon \(Self-intersection\[.+\]\); {SIMPLE}"),
    (["raqqa", "raqqa", "raqqa"], rf"polygon: not a simple polygon \(Too few points.+\); {SIMPLE}"),
    (["raqqa", [39.3, 36.2], {"x": "15000 km", "y": "0 km"}],
     r"polygon\[2\]: the point is more than 10000 km from the frame's centre, where the "
     r"local plane means nothing; move it or frame\.center"),
], ids=["bow-tie", "one-point", "far-corner"])
def test_polygons_are_checked_like_zones(polygon: list[Any], expected: str) -> None:
    scenario = parse_scenario(variant(("interference[1].area.polygon", polygon)), "x.yaml")
    with pytest.raises(ScenarioError) as info:
        build_geography(scenario)
    [problem] = [str(p) for p in info.value.problems]
    # The reason is shapely's, with the point where it fails in frame metres.
    assert re.fullmatch(rf"x\.yaml: interference\[1\]\.area\.{expected}", problem), problem
    # ... and a zone of the same outline is refused with the same words.
    zone = variant(("zones[0].area", {"polygon": polygon}))
    with pytest.raises(ScenarioError) as info:
        build_geography(parse_scenario(zone, "x.yaml"))
    assert [str(p) for p in info.value.problems] == [
        problem.replace("interference[1]", "zones[0]")]


def test_outline_vertices_count_against_the_limit() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE, "x.yaml", limits=Limits(zone_vertices=2))
    assert [str(p) for p in info.value.problems] == [
        "x.yaml: interference: the interference areas' outlines have 3 vertices (3 with the "
        "zones'), more than the limit of 2 for all outlines together; simplify them (or raise "
        "the limit: Limits(zone_vertices=N))"]
    parse_scenario(BASE, "x.yaml", limits=Limits(zone_vertices=3))


# ---------------------------------------------------------------------------- JSON Schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    generated = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(generated)
    return jsonschema.Draft202012Validator(generated)


def test_the_schema_takes_valid_areas_and_refuses_a_bad_one(validator) -> None:
    document = variant(("interference[1].active", ["2 h", "8 h"]),
                       ("interference[1].hotline", {"loss": None, "latency": "1 h"}),
                       ("interference[1].navigation", {"offset": "1 km"}))
    assert not [e.message for e in validator.iter_errors(document)]
    resolved = json.loads(json.dumps(as_document(parse_scenario(document, "x.yaml"))))
    assert not [e.message for e in validator.iter_errors(resolved)]
    assert list(validator.iter_errors(variant(("interference[0].drones.abort", 1.5))))
