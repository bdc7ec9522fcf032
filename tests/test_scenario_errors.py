"""Every loader error path of the scenario loader (sim/model/): key paths, file names, hints.

Each case starts from one valid base document and changes it; the loader must refuse it
with a ScenarioError in which one problem names the expected key path.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest
import yaml

from sim.model.scenario import (
    ScenarioError,
    apply_override,
    load_scenario,
    parse_scenario,
    read_yaml,
)
from sim.model.units import parse_quantity

MI = 1609.344

BASE: dict[str, Any] = {
    "name": "base",
    "seed": 7,
    "duration": "1 d",
    "start": "2017-12-01T00:00:00Z",
    "frame": {"center": [39.5, 35.8]},
    "places": {"fob": [39.2, 36.1], "pt": {"x": "10 nmi", "y": "-4 nmi"}},
    "corridor": {"centerline": "euphrates", "half_width": "40 mi"},
    "lanes": {
        "east": {"party": "coalition", "offset": "+22.5 mi", "direction": "downstream"},
        "west": {"party": "russia", "offset": "-22.5 mi", "direction": "upstream"},
    },
    "parties": {"coalition": {}, "russia": None},
    "flights": [
        {"id": "C1", "party": "coalition", "depart": "0 min", "speed": "450 kt",
         "altitude": "FL250", "route": ["incirlik", [38.5, 36.0], {"x": "0 nmi", "y": "10 nmi"}]},
        {"id": "R1", "party": "russia", "depart": "30 min", "speed": "800 km/h",
         "altitude": "7000 m", "route": ["hmeimim", "deir_ez_zor", "fob"]},
    ],
    "zones": [
        {"id": "Z1", "party": "coalition",
         "area": {"polygon": ["raqqa", [39.3, 36.2], [39.4, 35.9]]},
         "floor": "0 ft", "ceiling": "FL450", "active": ["2 h", "8 h"], "declare": True},
        {"id": "Z2", "party": "russia",
         "area": {"circle": {"center": "mayadin", "radius": "15 nmi"}}},
    ],
    "rules": [
        {"id": "zones", "type": "zone_incursion"},
        {"id": "lanes", "type": "lane_discipline"},
        {"id": "sep", "type": "min_separation", "horizontal": "5 nmi", "vertical": "1000 ft",
         "between": ["coalition", "russia"]},
    ],
    "hotline": {"enabled": True, "first_call": "6 h", "interval": "24 h",
                "latency": "30 min", "loss": 0.1},
}

DELETE = object()
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else k for k, i in _PART.findall(path)]


def variant(*edits: tuple[str, Any]) -> dict[str, Any]:
    """A deep copy of BASE with each (key path, value) set; DELETE removes the key."""
    document = copy.deepcopy(BASE)
    for path, value in edits:
        parts = _parts(path)
        node: Any = document
        for part in parts[:-1]:
            node = node[part]
        if value is DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return document


def refuse(document: Any, file: str = "x.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document, file)
    error = info.value
    assert error.problems, "a ScenarioError must carry its problems"
    for problem in error.problems:
        assert str(problem).startswith(file), str(problem)
        assert problem.file == file
    return error


def test_base_is_valid() -> None:
    scenario = parse_scenario(BASE, "x.yaml")
    assert [f.id for f in scenario.flights] == ["C1", "R1"]
    assert [z.id for z in scenario.zones] == ["Z1", "Z2"]
    assert [r.id for r in scenario.rules] == ["zones", "lanes", "sep"]
    assert scenario.seed == 7


def test_parse_does_not_modify_its_input() -> None:
    document = copy.deepcopy(BASE)
    parse_scenario(document, "x.yaml")
    assert document == BASE


LONG = "a" * 65

# (case id, edits, expected key path, fragment the message of that problem must contain)
CASES: list[tuple[str, list[tuple[str, Any]], str, str | None]] = [
    # ---- unknown keys, with did-you-mean
    ("top-unknown", [("flight", [])], "flight", "did you mean 'flights'"),
    ("top-unknown-no-hint", [("zzzzzz", 1)], "zzzzzz", "unknown key"),
    ("top-hotlines", [("hotlines", {})], "hotlines", "did you mean 'hotline'"),
    ("flight-unknown", [("flights[1].sped", "450 kt")], "flights[1].sped",
     "did you mean 'speed'"),
    ("zone-unknown", [("zones[0].cieling", "FL400")], "zones[0].cieling",
     "did you mean 'ceiling'"),
    ("circle-unknown", [("zones[1].area.circle.raduis", "1 km")], "zones[1].area.circle.raduis",
     "did you mean 'radius'"),
    ("rule-unknown", [("rules[2].horizontl", "5 nmi")], "rules[2].horizontl",
     "did you mean 'horizontal'"),
    ("rule-zone-unknown", [("rules[0].tolerance", "1 km")], "rules[0].tolerance", "unknown key"),
    ("rule-lane-unknown", [("rules[1].tolerence", "1 km")], "rules[1].tolerence",
     "did you mean 'tolerance'"),
    ("lane-unknown", [("lanes.east.ofset", "1 mi")], "lanes.east.ofset", "did you mean 'offset'"),
    ("hotline-unknown", [("hotline.latncy", "1 h")], "hotline.latncy", "did you mean 'latency'"),
    ("corridor-unknown", [("corridor.halfwidth", "1 mi")], "corridor.halfwidth",
     "did you mean 'half_width'"),
    ("frame-unknown", [("frame.centre", [39.0, 35.0])], "frame.centre", "did you mean 'center'"),
    ("framepoint-unknown", [("places.pt.z", "1 m")], "places.pt.z", "unknown key"),
    # ---- missing required keys
    ("flight-no-speed", [("flights[1].speed", DELETE)], "flights[1].speed", '"450 kt"'),
    ("flight-no-altitude", [("flights[0].altitude", DELETE)], "flights[0].altitude", '"FL250"'),
    ("flight-no-route", [("flights[0].route", DELETE)], "flights[0].route", None),
    ("flight-no-id", [("flights[0].id", DELETE)], "flights[0].id", None),
    ("flight-no-party", [("flights[1].party", DELETE)], "flights[1].party", None),
    ("zone-no-area", [("zones[0].area", DELETE)], "zones[0].area", "polygon"),
    ("zone-no-party", [("zones[0].party", DELETE)], "zones[0].party", None),
    ("zone-no-id", [("zones[1].id", DELETE)], "zones[1].id", None),
    ("circle-no-radius", [("zones[1].area.circle.radius", DELETE)], "zones[1].area.circle.radius",
     '"45 mi"'),
    ("circle-no-center", [("zones[1].area.circle.center", DELETE)],
     "zones[1].area.circle.center", None),
    ("rule-no-horizontal", [("rules[2].horizontal", DELETE)], "rules[2].horizontal", '"45 mi"'),
    ("rule-no-type", [("rules[2].type", DELETE)], "rules[2].type", "min_separation"),
    ("rule-no-id", [("rules[2].id", DELETE)], "rules[2].id", None),
    ("lane-no-party", [("lanes.east.party", DELETE)], "lanes.east.party", None),
    ("lane-no-offset", [("lanes.east.offset", DELETE)], "lanes.east.offset", '"45 mi"'),
    ("lane-no-direction", [("lanes.west.direction", DELETE)], "lanes.west.direction",
     "downstream"),
    ("framepoint-no-y", [("places.pt", {"x": "1 km"})], "places.pt.y", None),
    # ---- wrong types
    ("flights-not-list", [("flights", {"C1": {}})], "flights", None),
    ("flight-not-mapping", [("flights[1]", "R1")], "flights[1]", None),
    ("zones-not-list", [("zones", "Z1")], "zones", None),
    ("rules-not-list", [("rules", {"id": "x"})], "rules", None),
    ("rule-not-mapping", [("rules[1]", ["lane_discipline"])], "rules[1]", None),
    ("hotline-not-mapping", [("hotline", [1, 2])], "hotline", None),
    ("corridor-not-mapping", [("corridor", "euphrates")], "corridor", None),
    ("frame-not-mapping", [("frame", [39.5, 35.8])], "frame", None),
    ("places-not-mapping", [("places", ["fob"])], "places", None),
    ("lanes-not-mapping", [("lanes", ["east"])], "lanes", None),
    ("lane-not-mapping", [("lanes.east", "+22.5 mi")], "lanes.east", None),
    ("parties-not-mapping", [("parties", ["coalition", "russia"])], "parties", None),
    ("party-not-mapping", [("parties.russia", 5)], "parties.russia", None),
    ("party-list", [("parties.russia", ["a"])], "parties.russia", None),
    ("name-number", [("name", 5)], "name", None),
    ("name-empty", [("name", "  ")], "name", None),
    ("declare-text", [("zones[0].declare", "yes")], "zones[0].declare", "true or false"),
    ("enabled-text", [("hotline.enabled", "on")], "hotline.enabled", "true or false"),
    ("active-text", [("zones[0].active", "2 h")], "zones[0].active", '"2 h", "8 h"'),
    ("active-three", [("zones[0].active", ["1 h", "2 h", "3 h"])], "zones[0].active", None),
    ("active-bare", [("zones[0].active", ["2 h", 5])], "zones[0].active[1]", '"30 min"'),
    ("area-both", [("zones[0].area", {"polygon": ["raqqa", "tabqa", "maadan"],
                                      "circle": {"center": "raqqa", "radius": "1 km"}})],
     "zones[0].area", "polygon"),
    ("area-square", [("zones[0].area", {"square": ["raqqa"]})], "zones[0].area", "circle"),
    ("area-list", [("zones[0].area", ["raqqa", "tabqa", "maadan"])], "zones[0].area", None),
    ("circle-not-mapping", [("zones[1].area.circle", ["mayadin", "15 nmi"])],
     "zones[1].area.circle", None),
    ("start-text", [("start", "yesterday")], "start", "2017-12-01T00:00:00Z"),
    ("start-number", [("start", 2017)], "start", "ISO 8601"),
    ("centerline-unknown", [("corridor.centerline", "tigris")], "corridor.centerline",
     "euphrates"),
    ("centerline-one-point", [("corridor.centerline", ["raqqa"])], "corridor.centerline", None),
    ("centerline-number", [("corridor.centerline", 5)], "corridor.centerline", None),
    ("route-number", [("flights[0].route", 5)], "flights[0].route", None),
    ("point-number", [("flights[0].route[1]", 5)], "flights[0].route[1]", "[lon, lat]"),
    ("point-null", [("flights[0].route[1]", None)], "flights[0].route[1]", None),
    # ---- route entries with their altitudes, climb and descent rates
    ("entry-bad-altitude", [("flights[0].route[1]", {"at": [38.5, 36.0], "altitude": "450 kt"})],
     "flights[0].route[1].altitude", '"FL250"'),
    ("entry-bare-altitude", [("flights[0].route[1]", {"at": "raqqa", "altitude": 12000})],
     "flights[0].route[1].altitude", "no unit"),
    ("entry-unknown-key", [("flights[0].route[1]", {"at": [38.5, 36.0], "altitud": "FL120"})],
     "flights[0].route[1].altitud", "did you mean 'altitude'"),
    ("entry-no-at", [("flights[0].route[1]", {"altitude": "FL120"})], "flights[0].route[1].at",
     "{at: raqqa, altitude: FL120}"),
    ("entry-null-at", [("flights[0].route[1]", {"at": None, "altitude": "FL120"})],
     "flights[0].route[1].at", "required"),
    ("entry-bad-at", [("flights[0].route[1]", {"at": "raqa", "altitude": "FL120"})],
     "flights[0].route[1].at", "did you mean raqqa"),
    ("entry-frame-at", [("flights[0].route[1]", {"at": {"x": 0, "y": "1 nmi"}})],
     "flights[0].route[1].at.x", '"45 mi"'),
    ("entry-altitude-missing", [("flights[0].altitude", DELETE), ("flights[0].route[1]",
                                {"at": [38.5, 36.0], "altitude": "FL120"})],
     "flights[0].altitude", "every route entry gives its altitude"),
    ("entry-altitude-missing-form", [("flights[0].altitude", DELETE)], "flights[0].altitude",
     "{at: raqqa, altitude: FL120}"),
    ("altitude-null", [("flights[0].altitude", None)], "flights[0].altitude", '"FL250"'),
    ("climb-rate-zero", [("flights[0].climb_rate", "0 ft/min")], "flights[0].climb_rate",
     "greater than 0"),
    ("descent-rate-negative", [("flights[0].descent_rate", "-1500 fpm")],
     "flights[0].descent_rate", '"3000 ft/min"'),
    ("climb-rate-distance", [("flights[0].climb_rate", "3000 ft")], "flights[0].climb_rate",
     "is a distance, not a speed"),
    ("climb-rate-duration", [("flights[0].climb_rate", "5 min")], "flights[0].climb_rate",
     '"15 m/s"'),
    ("descent-rate-bare", [("flights[1].descent_rate", 3000)], "flights[1].descent_rate",
     "no unit"),
    ("climb-rate-unknown", [("flights[1].climbrate", "3000 ft/min")], "flights[1].climbrate",
     "did you mean 'climb_rate'"),
    # ---- bad units
    ("speed-bare", [("flights[1].speed", 450)], "flights[1].speed", '"450 kt"'),
    ("speed-as-distance", [("flights[1].speed", "45 mi")], "flights[1].speed", '"450 kt"'),
    ("speed-unknown-unit", [("flights[1].speed", "450 knots")], "flights[1].speed", '"450 kt"'),
    ("altitude-speed", [("flights[0].altitude", "450 kt")], "flights[0].altitude", '"FL250"'),
    ("depart-distance", [("flights[0].depart", "5 mi")], "flights[0].depart", '"30 min"'),
    ("depart-negative", [("flights[0].depart", "-5 min")], "flights[0].depart", None),
    ("horizontal-bare", [("rules[2].horizontal", 5)], "rules[2].horizontal", '"45 mi"'),
    ("horizontal-speed", [("rules[2].horizontal", "5 kt")], "rules[2].horizontal", '"45 mi"'),
    ("horizontal-zero", [("rules[2].horizontal", "0 nmi")], "rules[2].horizontal", None),
    ("vertical-duration", [("rules[2].vertical", "10 min")], "rules[2].vertical", '"45 mi"'),
    ("vertical-negative", [("rules[2].vertical", "-1000 ft")], "rules[2].vertical", None),
    ("tolerance-bare", [("rules[1].tolerance", 10)], "rules[1].tolerance", '"45 mi"'),
    ("tolerance-negative", [("rules[1].tolerance", "-1 mi")], "rules[1].tolerance", None),
    ("offset-bare", [("lanes.east.offset", "22.5")], "lanes.east.offset", '"45 mi"'),
    ("offset-fl", [("lanes.east.offset", "FL250")], "lanes.east.offset", '"45 mi"'),
    ("half-width-bare", [("corridor.half_width", 40)], "corridor.half_width", '"45 mi"'),
    ("half-width-speed", [("corridor.half_width", "40 kt")], "corridor.half_width", '"45 mi"'),
    ("half-width-zero", [("corridor.half_width", "0 mi")], "corridor.half_width", None),
    ("half-width-negative", [("corridor.half_width", "-4 mi")], "corridor.half_width", None),
    ("floor-bare", [("zones[0].floor", 0)], "zones[0].floor", '"FL250"'),
    ("ceiling-duration", [("zones[0].ceiling", "5 h")], "zones[0].ceiling", '"FL250"'),
    ("latency-bare", [("hotline.latency", 30)], "hotline.latency", '"30 min"'),
    ("latency-negative", [("hotline.latency", "-30 min")], "hotline.latency", None),
    ("first-call-distance", [("hotline.first_call", "6 mi")], "hotline.first_call", '"30 min"'),
    ("interval-speed", [("hotline.interval", "24 kt")], "hotline.interval", '"30 min"'),
    ("duration-bare", [("duration", 7)], "duration", '"30 min"'),
    ("duration-text", [("duration", "7")], "duration", '"30 min"'),
    ("duration-zero", [("duration", "0 d")], "duration", None),
    ("duration-negative", [("duration", "-1 d")], "duration", None),
    ("duration-distance", [("duration", "7 mi")], "duration", '"30 min"'),
    ("framepoint-bare", [("flights[0].route[2]", {"x": 0, "y": "10 nmi"})],
     "flights[0].route[2].x", '"45 mi"'),
    # ---- parties
    ("flight-unknown-party", [("flights[1].party", "rusia")], "flights[1].party", "rusia"),
    ("zone-unknown-party", [("zones[0].party", "turkey")], "zones[0].party", "turkey"),
    ("lane-unknown-party", [("lanes.west.party", "syria")], "lanes.west.party", "syria"),
    ("party-bad-id", [("parties", {"coalition": {}, "russia": {}, "bad party": {}})],
     "parties.bad party", None),
    ("no-parties", [("parties", DELETE)], "flights[0].party", "unknown party"),
    # ---- places and points
    ("unknown-place", [("flights[1].route[1]", "raqa")], "flights[1].route[1]",
     "did you mean raqqa"),
    ("unknown-place-deir", [("zones[1].area.circle.center", "deir_ezzor")],
     "zones[1].area.circle.center", "deir_ez_zor"),
    ("unknown-place-centerline", [("corridor.centerline", ["raqqa", "mayadn"])],
     "corridor.centerline[1]", "mayadin"),
    ("lon-out-of-range", [("flights[0].route[1]", [200.0, 36.0])], "flights[0].route[1]",
     "[39.0, 35.9]"),
    ("lat-out-of-range", [("flights[0].route[1]", [38.5, 91.0])], "flights[0].route[1]", None),
    ("lon-negative-range", [("zones[0].area.polygon[1]", [-180.5, 36.0])],
     "zones[0].area.polygon[1]", None),
    ("lonlat-three", [("flights[0].route[1]", [38.5, 36.0, 100.0])], "flights[0].route[1]",
     "[lon, lat]"),
    ("lonlat-one", [("flights[0].route[1]", [38.5])], "flights[0].route[1]", "[lon, lat]"),
    ("lonlat-strings", [("flights[0].route[1]", ["38.5", "36.0"])], "flights[0].route[1]",
     "[lon, lat]"),
    ("lonlat-bool", [("flights[0].route[1]", [True, 36.0])], "flights[0].route[1]", None),
    ("lonlat-nan", [("flights[0].route[1]", [float("nan"), 36.0])], "flights[0].route[1]",
     None),
    ("place-by-name", [("places.fob", "raqqa")], "places.fob", "[lon, lat]"),
    ("place-out-of-range", [("places.fob", [39.0, 100.0])], "places.fob", None),
    ("place-bad-name", [("places", {"my place": [39.0, 36.0]})], "places.my place", None),
    ("frame-center-range", [("frame.center", [500.0, 0.0])], "frame.center", None),
    ("frame-center-frame", [("frame.center", {"x": "0 m", "y": "0 m"})], "frame.center",
     "[lon, lat]"),
    ("frame-center-unknown", [("frame.center", "damascus")], "frame.center", "unknown place"),
    ("frame-needed", [("frame", DELETE),
                      ("corridor.centerline", [{"x": "0 m", "y": "0 m"}, "raqqa"])],
     "frame.center", None),
    # ---- ids
    ("dup-flight", [("flights[1].id", "C1")], "flights[1].id", "duplicate"),
    ("dup-zone", [("zones[1].id", "Z1")], "zones[1].id", "duplicate"),
    ("dup-rule", [("rules[2].id", "zones")], "rules[2].id", "duplicate"),
    ("id-int", [("flights[0].id", 7)], "flights[0].id", '"7"'),
    ("id-float", [("zones[0].id", 1.5)], "zones[0].id", "quote"),
    ("id-empty", [("flights[0].id", "")], "flights[0].id", "id"),
    ("id-slash", [("flights[0].id", "C/1")], "flights[0].id", "such as C1"),
    ("id-space", [("rules[2].id", "loss of sep")], "rules[2].id", "such as C1"),
    ("id-leading-dash", [("zones[0].id", "-Z")], "zones[0].id", None),
    ("id-too-long", [("flights[0].id", LONG)], "flights[0].id", None),
    ("id-bool", [("flights[0].id", True)], "flights[0].id", None),
    ("id-list", [("rules[0].id", ["a"])], "rules[0].id", None),
    ("lane-id-bad", [("lanes", {"east lane": BASE["lanes"]["east"],
                                "west": BASE["lanes"]["west"]})], "lanes.east lane", None),
    # ---- shapes and lists of points
    ("route-one-point", [("flights[0].route", ["incirlik"])], "flights[0].route", "at least 2"),
    ("route-empty", [("flights[1].route", [])], "flights[1].route", "at least 2"),
    ("polygon-two-points", [("zones[0].area.polygon", ["raqqa", "tabqa"])],
     "zones[0].area.polygon", "at least 3"),
    ("polygon-not-list", [("zones[0].area.polygon", "raqqa")], "zones[0].area.polygon", None),
    ("radius-zero", [("zones[1].area.circle.radius", "0 nmi")], "zones[1].area.circle.radius",
     None),
    ("radius-negative", [("zones[1].area.circle.radius", "-5 nmi")],
     "zones[1].area.circle.radius", None),
    ("radius-bare", [("zones[1].area.circle.radius", 15)], "zones[1].area.circle.radius",
     '"45 mi"'),
    ("ceiling-equal-floor", [("zones[0].ceiling", "0 ft")], "zones[0].ceiling", "floor"),
    ("ceiling-below-floor", [("zones[0].floor", "FL300"), ("zones[0].ceiling", "FL200")],
     "zones[0].ceiling", "floor"),
    ("ceiling-below-floor-units", [("zones[0].floor", "10 km"), ("zones[0].ceiling", "FL300")],
     "zones[0].ceiling", "floor"),
    ("active-reversed", [("zones[0].active", ["8 h", "2 h"])], "zones[0].active", None),
    ("active-empty", [("zones[0].active", ["2 h", "2 h"])], "zones[0].active", None),
    ("active-negative", [("zones[0].active", ["-2 h", "2 h"])], "zones[0].active", None),
    # ---- rules
    ("rule-type-unknown", [("rules[2].type", "min_seperation")], "rules[2].type",
     "did you mean 'min_separation'"),
    ("rule-type-number", [("rules[0].type", 3)], "rules[0].type", "zone_incursion"),
    ("lane-rule-no-lanes", [("lanes", DELETE)], "rules[1]", "lanes"),
    ("lane-rule-one-party", [("lanes", {"east": BASE["lanes"]["east"]})], "rules[1].tolerance",
     "tolerance"),
    ("lane-rule-same-party", [("lanes.west.party", "coalition")], "rules[1].tolerance", None),
    ("lanes-no-corridor", [("corridor", DELETE)], "lanes", "corridor"),
    ("lanes-null-corridor", [("corridor", None)], "lanes", "corridor"),
    ("lane-direction-bad", [("lanes.east.direction", "north")], "lanes.east.direction",
     "downstream or upstream"),
    ("speed-negative", [("flights[1].speed", "-450 kt")], "flights[1].speed", None),
    ("speed-zero", [("flights[1].speed", "0 kt")], "flights[1].speed", None),
    ("between-unknown", [("rules[2].between", ["coalition", "turkey"])], "rules[2].between[1]",
     "turkey"),
    ("between-unknown-first", [("rules[2].between", ["iran", "russia"])],
     "rules[2].between[0]", "iran"),
    ("between-one", [("rules[2].between", ["coalition"])], "rules[2].between", "two parties"),
    ("between-three", [("rules[2].between", ["coalition", "russia", "coalition"])],
     "rules[2].between", "two parties"),
    ("between-text", [("rules[2].between", "coalition")], "rules[2].between", None),
    # ---- seed
    ("seed-negative", [("seed", -1)], "seed", "seed: 7"),
    ("seed-bool", [("seed", True)], "seed", None),
    ("seed-float", [("seed", 7.0)], "seed", None),
    ("seed-string", [("seed", "7")], "seed", None),
    ("seed-huge", [("seed", 2**64)], "seed", None),
    # ---- hotline
    ("loss-above", [("hotline.loss", 1.5)], "hotline.loss", "0 to 1"),
    ("loss-below", [("hotline.loss", -0.01)], "hotline.loss", None),
    ("loss-text", [("hotline.loss", "5%")], "hotline.loss", None),
    ("loss-bool", [("hotline.loss", True)], "hotline.loss", None),
    ("loss-nan", [("hotline.loss", float("nan"))], "hotline.loss", None),
    ("interval-zero", [("hotline.interval", "0 h")], "hotline.interval", None),
    ("interval-negative", [("hotline.interval", "-1 h")], "hotline.interval", None),
    ("first-call-negative", [("hotline.first_call", "-1 h")], "hotline.first_call", None),
    ("pattern-not-list", [("hotline.pattern", "0 d")], "hotline.pattern", "increasing"),
    ("pattern-empty", [("hotline.pattern", [])], "hotline.pattern", None),
    ("pattern-backwards", [("hotline.interval", "7 d"), ("hotline.pattern", ["2 d", "0 d"])],
     "hotline.pattern", "must increase"),
    ("pattern-beyond", [("hotline.interval", "7 d"), ("hotline.pattern", ["0 d", "7 d"])],
     "hotline.pattern", "below the interval"),
    ("pattern-item", [("hotline.pattern", ["0 d", "2 km"])], "hotline.pattern.1", None),
    ("adhoc-not-mapping", [("hotline.adhoc", 0.5)], "hotline.adhoc", None),
    ("adhoc-probability", [("hotline.adhoc", {"probability": 2})],
     "hotline.adhoc.probability", "0 to 1"),
    ("adhoc-delay", [("hotline.adhoc", {"delay": "-1 h"})], "hotline.adhoc.delay", None),
    ("adhoc-unknown", [("hotline.adhoc", {"probabilty": 0.5})], "hotline.adhoc.probabilty",
     "did you mean 'probability'"),
    ("complaint-text", [("rules[0].complaint", "yes")], "rules[0].complaint", "true or false"),
    ("complaint-sep", [("rules[2].complaint", 1)], "rules[2].complaint", None),
    ("planning-without-sorties", [("parties.coalition", {"planning": {}})],
     "parties.coalition.planning", "sorties_per_day"),
]

SORTIES = {"sorties_per_day": 10, "bases": ["incirlik"], "missions": [{"area": "raqqa"}],
           "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": ["FL200", "FL300"]}]}


@pytest.mark.parametrize(("key", "value", "path", "fragment"), [
    ("planning", {"when_blocked": "wait"}, "planning.when_blocked", "delay"),
    ("planning", {"margin": "-1 nmi"}, "planning.margin", None),
    ("planning", {"margin": "2 h"}, "planning.margin", None),
    ("planning", {"max_delay": "6 km"}, "planning.max_delay", None),
    ("planning", {"lead": ["26 h", "2 h"]}, "planning.lead", "backwards"),
    ("planning", {"avoid": "no"}, "planning.avoid", "true or false"),
    ("planning", {"avoid": True, "margn": "1 nmi"}, "planning.margn", "did you mean"),
    ("planning", [1], "planning", None),
    ("work_areas", {"buffer": "-5 nmi"}, "work_areas.buffer", None),
    ("work_areas", {"vertical_buffer": "5 min"}, "work_areas.vertical_buffer", None),
    ("work_areas", {"declare": "secret"}, "work_areas.declare", "true or false"),
    ("work_areas", {"enabled": 1}, "work_areas.enabled", None),
])
def test_planning_and_work_area_errors(key: str, value: Any, path: str,
                                       fragment: str | None) -> None:
    error = refuse(variant(("parties.coalition", {**SORTIES, key: value})))
    wanted = f"parties.coalition.{path}"
    assert any(p.path == wanted for p in error.problems), [str(p) for p in error.problems]
    if fragment is not None:
        assert any(fragment in str(p) for p in error.problems if p.path == wanted)


def test_planning_and_work_area_defaults_are_filled_in() -> None:
    scenario = parse_scenario(variant(("parties.coalition", SORTIES)), "x.yaml")
    party = scenario.parties["coalition"]
    assert party.planning.when_blocked == "delay" and party.planning.margin_m == 3704.0
    assert party.planning.lead_s == (7200.0, 93600.0)
    assert party.work_areas.buffer_m == 9260.0 and party.work_areas.declare
    written = yaml.safe_load(scenario.resolved_yaml())
    assert written["parties"]["coalition"]["planning"]["lead"] == ["2 h", "26 h"]
    assert written["hotline"]["pattern"] == ["0 s"]
    assert "*id" not in scenario.resolved_yaml()  # no YAML aliases in the scenario as run


@pytest.mark.parametrize(("edits", "path", "fragment"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_error_names_key_path(edits: list[tuple[str, Any]], path: str,
                              fragment: str | None) -> None:
    error = refuse(variant(*edits))
    matching = [p for p in error.problems if p.path == path]
    assert matching, f"no problem at {path!r}: {[str(p) for p in error.problems]}"
    for problem in matching:
        assert str(problem).startswith(f"x.yaml: {path}: ")
    if fragment is not None:
        assert any(fragment in p.message for p in matching), [str(p) for p in matching]
    # The exception's text lists every problem.
    assert all(str(p) in str(error) for p in error.problems)


def test_valid_id_forms_are_accepted() -> None:
    document = variant(("flights[0].id", "C-1_a.b"), ("flights[1].id", "9"),
                       ("zones[0].id", "z" * 64))
    scenario = parse_scenario(document, "x.yaml")
    assert [f.id for f in scenario.flights] == ["C-1_a.b", "9"]


@pytest.mark.parametrize("document", [[1, 2], "text", 5, None],
                         ids=["list", "str", "int", "null"])
def test_document_must_be_a_mapping(document: Any) -> None:
    error = refuse(document)
    assert len(error.problems) == 1
    assert error.problems[0].path == ""
    assert "mapping" in error.problems[0].message


def test_many_errors_reported_at_once() -> None:
    document = variant(
        ("flight", []),                                   # unknown top-level key
        ("seed", -3),                                     # bad seed
        ("duration", "7"),                                # bare number
        ("flights[0].speed", "450"),                      # bare number
        ("flights[1].party", "rusia"),                    # unknown party
        ("flights[1].route[0]", "hmeimeem"),              # unknown place
        ("zones[0].area.polygon", ["raqqa", "tabqa"]),    # too few points
        ("zones[1].area.circle.radius", "0 nmi"),         # zero radius
        ("rules[2].horizontal", "5 kt"),                  # wrong kind
        ("rules[2].id", "zones"),                         # duplicate rule id
        ("hotline.loss", 2),                              # not a probability
        ("lanes.east.offset", "22.5"),                    # bare number
        # not errors: written out so that no error above has a follow-on elsewhere
        ("zones[1].active", ["0 s", "1 h"]),
        ("rules[1].tolerance", "10 mi"),
    )
    error = refuse(document)
    paths = sorted(p.path for p in error.problems)
    expected = sorted(["flight", "seed", "duration", "flights[0].speed", "flights[1].party",
                       "flights[1].route[0]", "zones[0].area.polygon",
                       "zones[1].area.circle.radius", "rules[2].horizontal", "rules[2].id",
                       "hotline.loss", "lanes.east.offset"])
    assert paths == expected, [str(p) for p in error.problems]
    assert len(str(error).splitlines()) == len(expected)


def test_bad_duration_is_reported_once() -> None:
    """A zone without ``active`` defaults to the whole run; a bad ``duration`` is one error,
    at ``duration``, not a second one at a key the file never wrote (zones[1].active)."""
    error = refuse(variant(("duration", "7")))
    assert [p.path for p in error.problems] == ["duration"], [str(p) for p in error.problems]


def test_bad_lane_is_reported_once() -> None:
    """Both parties do define a lane; a bad offset in one is one error, at that offset, not
    also "tolerance required when lanes of two parties are not both defined"."""
    error = refuse(variant(("lanes.east.offset", "22.5")))
    assert [p.path for p in error.problems] == ["lanes.east.offset"], [
        str(p) for p in error.problems]


# ---------------------------------------------------------------------------- files


def write(tmp_path, text: str | bytes, name: str = "scenario.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refuse_file(path, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    for problem in info.value.problems:
        assert str(problem).startswith(str(path))
    return info.value


def test_invalid_yaml_names_line(tmp_path) -> None:
    path = write(tmp_path, "name: x\nseed: 1\nflights: [\n  {id: C1,\n")
    error = refuse_file(path)
    assert len(error.problems) == 1
    assert "line" in error.problems[0].path
    assert "not valid YAML" in error.problems[0].message


def test_invalid_yaml_bad_indent(tmp_path) -> None:
    path = write(tmp_path, "hotline:\n  enabled: true\n latency: 1 h\n")
    error = refuse_file(path)
    assert re.search(r"line \d+", str(error))


def test_duplicate_keys_refused(tmp_path) -> None:
    path = write(tmp_path, "seed: 1\nduration: 1 d\nseed: 2\n")
    error = refuse_file(path)
    assert "duplicate key 'seed'" in str(error)
    assert "line 3" in str(error)


def test_nested_duplicate_keys_refused(tmp_path) -> None:
    path = write(tmp_path, "hotline:\n  latency: 1 h\n  loss: 0.1\n  latency: 2 h\n")
    error = refuse_file(path)
    assert "duplicate key 'latency'" in str(error)


def test_read_yaml_duplicate_keys(tmp_path) -> None:
    path = write(tmp_path, "a: 1\na: 2\n")
    with pytest.raises(ScenarioError, match="duplicate"):
        read_yaml(path)


def test_non_utf8_refused(tmp_path) -> None:
    path = write(tmp_path, "name: caf\xe9\n".encode("latin-1"))
    error = refuse_file(path)
    assert "UTF-8" in str(error)


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "nope.yaml"
    error = refuse_file(path)
    assert "no such file" in str(error)


def test_folder(tmp_path) -> None:
    error = refuse_file(tmp_path)
    assert "folder" in str(error)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"],
                         ids=["empty", "newline", "comment", "document-marker"])
def test_empty_file_is_an_empty_scenario(tmp_path, text: str) -> None:
    path = write(tmp_path, text, "empty-one.yaml")
    scenario = load_scenario(path)
    assert scenario.name == "empty-one"
    assert scenario.seed == 0
    assert scenario.duration_s == 86400.0
    assert scenario.flights == () and scenario.zones == () and scenario.rules == ()
    assert scenario.file == str(path)


def test_yaml_list_refused(tmp_path) -> None:
    path = write(tmp_path, "- a\n- b\n")
    error = refuse_file(path)
    assert "mapping" in str(error)


def test_unsafe_tag_refused_not_executed(tmp_path) -> None:
    marker = tmp_path / "executed"
    path = write(tmp_path, f'seed: !!python/object/apply:os.system ["touch {marker}"]\n')
    error = refuse_file(path)
    assert not marker.exists()
    assert "not valid YAML" in str(error)


def test_unsafe_top_level_tag_refused(tmp_path) -> None:
    marker = tmp_path / "executed2"
    path = write(tmp_path, f'!!python/object/apply:os.system ["touch {marker}"]\n')
    refuse_file(path)
    assert not marker.exists()


def test_load_errors_name_the_file(tmp_path) -> None:
    path = write(tmp_path, yaml.safe_dump(variant(("flights[1].speed", "450"))))
    error = refuse_file(path)
    assert any(str(p).startswith(f"{path}: flights[1].speed: ") for p in error.problems)


def test_load_with_seed_duration_and_overrides(tmp_path) -> None:
    path = write(tmp_path, yaml.safe_dump(BASE))
    scenario = load_scenario(path, ['hotline.latency="2 h"', "rules.sep.horizontal=3 nmi"],
                             seed=11, duration="2 d")
    assert scenario.seed == 11
    assert scenario.duration_s == 2 * 86400.0
    assert scenario.hotline.latency_s == 7200.0
    assert scenario.rules[2].horizontal_m == 3 * 1852.0


def test_load_bad_override(tmp_path) -> None:
    path = write(tmp_path, yaml.safe_dump(BASE))
    error = refuse_file(path, overrides=["flights[9].speed=1"])
    # The library names the override; the command line says --set (tests/test_limits.py).
    assert "override 'flights[9].speed=1'" in str(error) and "--set" not in str(error)


# ---------------------------------------------------------------------------- --set


@pytest.mark.parametrize(("assignment", "getter", "expected"), [
    ('hotline.latency="2 h"', lambda d: d["hotline"]["latency"], "2 h"),
    ("hotline.loss=0.25", lambda d: d["hotline"]["loss"], 0.25),
    ("seed=3", lambda d: d["seed"], 3),
    ("flights[1].speed=300 kt", lambda d: d["flights"][1]["speed"], "300 kt"),
    ("flights.1.speed=300 kt", lambda d: d["flights"][1]["speed"], "300 kt"),
    ("flights[0].route[1]=[39.0, 36.5]", lambda d: d["flights"][0]["route"][1], [39.0, 36.5]),
    ("flights.0.route.1=raqqa", lambda d: d["flights"][0]["route"][1], "raqqa"),
    ('rules.sep.horizontal="3 nmi"', lambda d: d["rules"][2]["horizontal"], "3 nmi"),
    ("flights.R1.altitude=FL300", lambda d: d["flights"][1]["altitude"], "FL300"),
    ("parties.russia.compliance=0.9", lambda d: d["parties"]["russia"]["compliance"], 0.9),
    ("new.deeper.key=1", lambda d: d["new"]["deeper"]["key"], 1),
    ("zones[1].floor=1000 ft", lambda d: d["zones"][1]["floor"], "1000 ft"),
    ("lanes.east={party: russia, offset: 1 mi, direction: upstream}",
     lambda d: d["lanes"]["east"], {"party": "russia", "offset": "1 mi", "direction": "upstream"}),
    ("start=2018-01-01", lambda d: str(d["start"]), "2018-01-01"),
])
def test_apply_override(assignment: str, getter, expected: Any) -> None:
    original = copy.deepcopy(BASE)
    result = apply_override(BASE, assignment)
    assert getter(result) == expected
    assert BASE == original, "apply_override must not modify its input"


def test_apply_override_on_empty_document() -> None:
    assert apply_override(None, "hotline.loss=0.5") == {"hotline": {"loss": 0.5}}


@pytest.mark.parametrize("assignment", [
    "flights[5].speed=1 kt",
    "flights.7.speed=1 kt",
    "rules.nosuchrule.horizontal=1 km",
    "seed.x=1",
    "name.first=a",
    "hotline.loss.value=0.1",
    "flights[0].speed.unit=kt",
    "hotline.latency",
    "=3",
    "a..b=1",
    "flights[x]=1",
    "hotline.latency=[unclosed",
])
def test_apply_override_errors(assignment: str) -> None:
    with pytest.raises(ValueError) as info:
        apply_override(BASE, assignment)
    message = str(info.value)
    assert f"override {assignment!r}" in message and "--set" not in message, message


def test_apply_override_index_error_says_list_length() -> None:
    with pytest.raises(ValueError, match="2 items"):
        apply_override(BASE, "flights[5].speed=1 kt")


def test_apply_override_through_scalar_names_it() -> None:
    with pytest.raises(ValueError, match="seed"):
        apply_override(BASE, "seed.x=1")


# ---------------------------------------------------------------------------- resolved YAML


def _comparable(scenario):
    return dataclasses.replace(scenario, written={}, file="")


MINIMAL: dict[str, Any] = {
    "corridor": {"centerline": "euphrates"},
    "lanes": {
        "east": {"party": "coalition", "offset": "+22.5 mi", "direction": "downstream"},
        "west": {"party": "russia", "offset": "-22.5 mi", "direction": "upstream"},
    },
    "parties": {"coalition": None, "russia": None},
    "flights": [{"id": "C1", "party": "coalition", "speed": "450 kt", "altitude": "FL250",
                 "route": ["raqqa", "mayadin"]}],
    "zones": [{"id": "Z1", "party": "russia",
               "area": {"circle": {"center": "deir_ez_zor", "radius": "10 km"}}}],
    "rules": [{"id": "lanes", "type": "lane_discipline"},
              {"id": "los", "type": "min_separation", "horizontal": "5 nmi"},
              {"id": "zones", "type": "zone_incursion"}],
}


@pytest.mark.parametrize("document", [BASE, MINIMAL, {}], ids=["base", "minimal", "empty"])
def test_resolved_yaml_round_trips(document: dict[str, Any]) -> None:
    first = parse_scenario(document, "x.yaml", default_name="demo")
    text = first.resolved_yaml()
    second = parse_scenario(yaml.safe_load(text), "y.yaml", default_name="other")
    assert _comparable(first) == _comparable(second)
    # And it is a fixed point: resolving again writes the same text.
    assert second.resolved_yaml() == text


def test_resolved_yaml_fills_defaults() -> None:
    scenario = parse_scenario(MINIMAL, "x.yaml", default_name="demo")
    resolved = yaml.safe_load(scenario.resolved_yaml())
    assert resolved["name"] == "demo"
    assert resolved["seed"] == 0
    assert parse_quantity(resolved["duration"], "duration").si == 86400.0
    assert parse_quantity(resolved["corridor"]["half_width"], "distance").si == 40 * MI
    hotline = resolved["hotline"]
    assert set(hotline) >= {"enabled", "first_call", "interval", "latency", "loss"}
    zone = resolved["zones"][0]
    assert parse_quantity(zone["floor"], "altitude").si == 0.0
    assert "ceiling" in zone and zone["ceiling"] is None
    assert [parse_quantity(t, "duration").si for t in zone["active"]] == [0.0, 86400.0]
    assert zone["declare"] is True
    assert zone == {**MINIMAL["zones"][0], "floor": zone["floor"], "ceiling": None,
                    "active": zone["active"], "declare": True}
    flight = resolved["flights"][0]
    assert parse_quantity(flight["depart"], "duration").si == 0.0
    # tolerance default: half the spacing between the two lanes (45 mi / 2)
    tolerance = parse_quantity(resolved["rules"][0]["tolerance"], "distance").si
    assert tolerance == pytest.approx(22.5 * MI, abs=1e-9)
    assert scenario.rules[0].tolerance_m == pytest.approx(22.5 * MI, abs=1e-9)
    assert resolved["rules"][1]["vertical"] is None  # written out: no vertical limit
    assert scenario.rules[1].vertical_m is None
    assert scenario.rules[1].between is None


def test_resolved_yaml_hotline_defaults_when_given() -> None:
    scenario = parse_scenario({"hotline": {}}, "x.yaml")
    resolved = yaml.safe_load(scenario.resolved_yaml())["hotline"]
    assert resolved["enabled"] is True
    assert parse_quantity(resolved["first_call"], "duration").si == 6 * 3600.0
    assert parse_quantity(resolved["interval"], "duration").si == 24 * 3600.0
    assert parse_quantity(resolved["latency"], "duration").si == 1800.0
    assert resolved["loss"] == 0.0
    assert scenario.hotline.enabled is True


def test_resolved_tolerance_default_with_uneven_lanes() -> None:
    document = copy.deepcopy(MINIMAL)
    document["lanes"]["east"]["offset"] = "+30 km"
    document["lanes"]["west"]["offset"] = "-10 km"
    scenario = parse_scenario(document, "x.yaml")
    assert scenario.rules[0].tolerance_m == pytest.approx(20_000.0)
    again = parse_scenario(yaml.safe_load(scenario.resolved_yaml()), "x.yaml")
    assert _comparable(again) == _comparable(scenario)
