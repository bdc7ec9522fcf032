"""Scenarios: the frozen typed objects and the loader that makes them, at one address.

The objects live in ``sim.model.spec``, the format's pydantic models in
``sim.model.schema``, YAML reading and ``--set`` overrides in ``sim.model.yamlio`` and
the pipeline in ``sim.model.loader``; every name the rest of the simulator imports from
here is re-exported.
"""

from __future__ import annotations

from sim.model.fields import ID_FORM, MAGNITUDE_LIMITS, POINT_FORM
from sim.model.loader import DEFAULT_DURATION, load_scenario, parse_scenario, scenario_document
from sim.model.ruletypes import BUILTIN_RULE_TYPES as RULE_TYPES
from sim.model.sections import MIN_DURATION_S, MIN_SPEED_MPS, MIN_ZONE_RADIUS_M
from sim.model.sizes import _racetrack_points
from sim.model.spec import (
    AIRCRAFT_CLASSES,
    TOP_KEYS,
    WORK_AREA_PREFIX,
    AircraftType,
    CircleArea,
    Corridor,
    Deviation,
    DroneEffect,
    FlightSpec,
    Frame,
    FramePoint,
    HotlineEffect,
    HotlineSpec,
    InterferenceSpec,
    Lane,
    LaneDisciplineSpec,
    LonLat,
    MinSeparationSpec,
    Mission,
    NavigationEffect,
    Party,
    PlaceRef,
    Planning,
    Point,
    PolygonArea,
    Problem,
    RecordedSpec,
    Reported,
    RuleSpec,
    Scenario,
    ScenarioError,
    Sorties,
    WorkAreas,
    ZoneIncursionSpec,
    ZoneSpec,
)
from sim.model.yamlio import apply_override, key_path, parse_yaml, read_yaml

__all__ = [
    "AIRCRAFT_CLASSES", "DEFAULT_DURATION", "ID_FORM", "MAGNITUDE_LIMITS", "MIN_DURATION_S",
    "MIN_SPEED_MPS", "MIN_ZONE_RADIUS_M", "POINT_FORM", "RULE_TYPES", "TOP_KEYS",
    "WORK_AREA_PREFIX", "AircraftType", "CircleArea", "Corridor", "Deviation", "DroneEffect",
    "FlightSpec", "Frame", "FramePoint", "HotlineEffect", "HotlineSpec", "InterferenceSpec",
    "Lane", "LaneDisciplineSpec", "LonLat", "MinSeparationSpec", "Mission", "NavigationEffect",
    "Party", "PlaceRef", "Planning", "Point", "PolygonArea", "Problem", "RecordedSpec",
    "Reported", "RuleSpec", "Scenario", "ScenarioError", "Sorties", "WorkAreas",
    "ZoneIncursionSpec", "ZoneSpec", "_racetrack_points", "apply_override", "key_path",
    "load_scenario", "parse_scenario", "parse_yaml", "read_yaml", "scenario_document",
]
