"""The scenario format's JSON Schema and reference, made from the pydantic models.

The shipped files must equal a fresh generation (``python tools/scenario_docs.py``
writes both), every shipped scenario must validate against the schema, and so must the
other forms the loader accepts.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sim.model import schema, sections
from sim.model.reference import scenario_reference
from sim.model.scenario import ScenarioError, parse_scenario, read_yaml
from sim.model.schema import scenario_json_schema
from sim.model.writer import as_document

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SCHEMA_FILE = ROOT / "sim" / "data" / "scenario.schema.json"
REFERENCE_FILE = ROOT / "docs" / "scenario-reference.md"
FIRST_LINE = "# yaml-language-server: $schema=../sim/data/scenario.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    generated = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(generated)
    return jsonschema.Draft202012Validator(generated)


def test_shipped_schema_is_up_to_date() -> None:
    fresh = json.dumps(scenario_json_schema(), indent=2, sort_keys=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == fresh, (
        "sim/data/scenario.schema.json is stale: run python tools/scenario_docs.py")


def test_shipped_reference_is_up_to_date() -> None:
    assert REFERENCE_FILE.read_text(encoding="utf-8") == scenario_reference(), (
        "docs/scenario-reference.md is stale: run python tools/scenario_docs.py")


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_validate(path: Path, validator) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == FIRST_LINE
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(
        read_yaml(path))]
    assert not errors, errors


def _models(model: type[sections.Section]) -> list[type[sections.Section]]:
    out = [model]
    for _, models in sections.children(model).values():
        for child in models.values():
            out += [m for m in _models(child) if m not in out]
    return out


def test_every_key_is_described() -> None:
    for model in _models(schema.ScenarioModel):
        assert model.__doc__, model.__name__
        for name, info in model.model_fields.items():
            assert info.description and (" Required." in info.description
                                         or " Default: " in info.description), (
                f"{model.__name__}.{name}")


def test_every_key_is_in_the_reference() -> None:
    reference = scenario_reference()
    for key in ("`flights[].speed`", "`parties.<party>.deviations.drift.length`",
                "`hotline.adhoc.delay`", "`rules[] (type: lane_discipline).tolerance`",
                "`zones[].area.circle.radius`", "`reported[].per_day`",
                "`flights[].climb_rate`", "`flights[].descent_rate`",
                "`interference[].targets.aircraft`", "`interference[].navigation.offset`"):
        assert key in reference


# Forms the loader accepts that the shipped scenarios do not all use.
HOSTILE: dict[str, Any] = {
    "name": "hostile-forms",
    "seed": 3,
    "duration": "2 d",
    "start": "2017-12-01T00:00:00Z",
    "frame": {"center": [39.5, 35.8]},
    "places": {"fob": [39.2, 36.1], "pt": {"x": "10 nmi", "y": "-4 nmi"}},
    "corridor": {"centerline": ["raqqa", [39.6, 35.5], {"x": "40 km", "y": "-60 km"}],
                 "half_width": "25 mi"},
    "lanes": {"east": {"party": "blue", "offset": "+10 mi", "direction": "downstream"},
              "west": {"party": "red", "offset": "-10 mi", "direction": "upstream"}},
    "parties": {
        "blue": {"sorties_per_day": 12, "bases": ["incirlik", [38.5, 36.0]],
                 "aircraft": [{"type": "F-16", "speed": "480 kt", "altitude": "FL250"}],
                 "missions": [{"area": {"x": "0 km", "y": "0 km"}, "share": 2},
                              {"area": "fob", "time_on_station": ["30 min", "1 h"]}],
                 "planning": {"when_blocked": "drop"}, "work_areas": {"declare": False}},
        "red": {"sorties_per_day": 8.5, "bases": {"hmeimim": 3, "t4": 1},
                "daily_profile": [0] * 6 + [1] * 12 + [0] * 6,
                "aircraft": [{"type": "Su-24", "speed": "800 km/h",
                              "altitude": ["15000 ft", "7600 m"], "share": 0.5}],
                "missions": [{"area": "pt", "racetrack": {"length": "30 km", "width": "8 km"}}],
                "compliance": 0.8, "deviations": {"close_approach": {"weight": 1}}},
        "grey": None,
    },
    "flights": [{"id": "G1", "party": "grey", "depart": "1 h", "speed": "230 m/s",
                 "altitude": "7000 m", "route": ["palmyra", [38.9, 35.0], {"x": "5 km",
                                                                          "y": "5 km"}]},
                {"id": "G2", "party": "grey", "speed": "230 m/s", "climb_rate": "3000 ft/min",
                 "descent_rate": "15 m/s",
                 "route": [{"at": "palmyra", "altitude": "FL100"},
                           {"at": [38.9, 35.0], "altitude": "7000 m"},
                           {"at": {"x": "5 km", "y": "5 km"}, "altitude": "FL050"}]},
                {"id": "G3", "party": "grey", "speed": "230 m/s", "altitude": "FL200",
                 "route": ["palmyra", {"at": [38.9, 35.0], "altitude": "FL150"},
                           {"at": {"x": "5 km", "y": "5 km"}, "altitude": None},
                           {"x": "9 km", "y": "5 km"}]}],
    "zones": [
        {"id": "Z1", "party": "blue", "area": {"polygon": ["raqqa", [39.3, 36.2],
                                                           {"x": "1 km", "y": "2 km"}]},
         "floor": "FL100", "ceiling": None, "active": ["2 h", "8 h"], "declare": True},
        {"id": "Z2", "party": "red", "area": {"circle": {"center": [40.1, 35.3],
                                                         "radius": "15 nmi"}}},
    ],
    "interference": [
        {"id": "EW1", "owner": "red", "targets": {"parties": ["blue", "grey"],
                                                 "aircraft": ["drone", "F-16"]},
         "area": {"polygon": ["raqqa", [39.3, 36.2], {"x": "1 km", "y": "2 km"}]},
         "floor": "FL050", "active": [["2 h", "8 h"], ["1 d", "30 h"]],
         "navigation": {"offset": "2 km"}, "drones": {"lost": 0.1}, "hotline": {"latency": "2 h"}},
        {"id": "EW2", "owner": "blue", "targets": {"parties": ["red"]}, "active": ["0 s", "1 h"],
         "area": {"circle": {"center": "pt", "radius": "40 km"}}, "ceiling": "FL300",
         "navigation": {"offset": ["0.5 km", "3 km"], "probability": 0.5},
         "hotline": {"loss": 0.5, "latency": None}},
    ],
    "rules": [
        {"id": "lanes", "type": "lane_discipline"},
        {"id": "los", "type": "min_separation", "horizontal": "5 nmi", "vertical": "1000 ft",
         "between": ["blue", "red"], "complaint": True},
        {"id": "zones", "type": "zone_incursion", "complaint": False},
    ],
    "hotline": {"interval": "7 d", "pattern": ["0 d", "2 d", "4 d"], "loss": 0.05,
                "adhoc": {"probability": 0.5, "delay": "30 min"}},
    "reported": [{"rule": "los", "party": None, "per_day": [0.1, 1]},
                 {"rule": "lanes", "party": "red", "per_day": 3, "fact": "x"}],
}


def test_hostile_but_valid_forms_are_accepted_by_loader_and_schema(validator) -> None:
    parse_scenario(HOSTILE, "hostile.yaml")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(HOSTILE)]
    assert not errors, errors


def test_the_resolved_scenario_validates_too(validator) -> None:
    resolved = as_document(parse_scenario(HOSTILE, "hostile.yaml"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(
        json.loads(json.dumps(resolved)))]
    assert not errors, errors


@pytest.mark.parametrize(("path", "value"), [
    (("flight",), []),
    (("flights", 0, "speed"), 450),
    (("flights", 0, "speed"), "450 knots"),
    (("flights", 1, "route", 1, "altitud"), "FL120"),
    (("flights", 1, "route", 1, "altitude"), "450 kt"),
    (("flights", 1, "climb_rate"), "3000 ft"),
    (("flights", 0, "altitude"), None),
    (("zones", 1, "area"), {"square": ["raqqa"]}),
    (("rules", 1, "type"), "min_seperation"),
    (("parties", "red", "compliance"), 1.5),
    (("hotline", "latncy"), "1 h"),
    (("interference", 0, "cieling"), "FL300"),
    (("interference", 0, "targets"), {"aircraft": ["drone"]}),
    (("interference", 0, "targets", "parties"), []),
    (("interference", 1, "active"), "2 h"),
    (("interference", 1, "active"), [["1 d", "2 d", "3 d"]]),
    (("interference", 0, "navigation", "offset"), "3 min"),
    (("interference", 0, "drones", "abort"), 1.5),
    (("interference", 1, "hotline", "latency"), 30),
])
def test_the_schema_refuses_what_the_loader_refuses(path: tuple[Any, ...], value: Any,
                                                     validator) -> None:
    document = copy.deepcopy(HOSTILE)
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(validator.iter_errors(document))
    with pytest.raises(ScenarioError, match="hostile.yaml"):
        parse_scenario(document, "hostile.yaml")
