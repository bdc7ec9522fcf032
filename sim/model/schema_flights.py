"""The scenario format's explicit flights: the flight, its route entries (a point, or a point
with its altitude) and its climb and descent rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import ConfigDict, PlainValidator, ValidationInfo, WithJsonSchema

from sim.model import fields as f
from sim.model.sections import (
    POINT_SCHEMA,
    Duration,
    Ident,
    PartyRef,
    Section,
    Speed,
    field,
    quantity_json,
    quantity_schema,
)
from sim.model.spec import Point
from sim.model.units import accepted_forms

RouteEntry = tuple[Point, float | None]  # a waypoint and its altitude (None: the flight's)

ENTRY = "{at: raqqa, altitude: FL120}"  # a route entry with its altitude, in messages
RATE_FORM = 'a climb or descent rate is a vertical speed, such as "3000 ft/min" or "15 m/s"'
_ENTRY_KEYS = ("at", "altitude")
_ALTITUDE_NEEDED = (f"required unless every route entry gives its altitude; "
                    f"{accepted_forms('altitude')}, or give each entry one, such as {ENTRY}")

ROUTE_ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "at": {**POINT_SCHEMA, "description": "The waypoint: a point in any of its forms."},
        "altitude": {"anyOf": [quantity_schema("altitude"), {"type": "null"}],
                     "description": "The altitude there; none: the flight's altitude."}},
    "required": ["at"], "additionalProperties": False,
    "description": "A waypoint with its altitude: {at: point, altitude: FL120}."}


def _is_entry(item: Any) -> bool:
    """Whether a route item is a mapping of a route entry: a mapping is a frame point
    ({x, y}) unless it has at or altitude or neither x nor y."""
    return isinstance(item, dict) and (
        "at" in item or "altitude" in item or not ("x" in item or "y" in item))


def _entry(item: Any, names: set[str]) -> tuple[RouteEntry | None, f.Found]:
    """Read one route item: a point, or {at: point, altitude: ...}."""
    if not _is_entry(item):
        plain, found = f.point_problems(item, names)
        return (None if plain is None else (plain, None)), found
    found = f.mapping_keys(item, _ENTRY_KEYS, "a route entry")
    point: Point | None = None
    if item.get("at") is None:
        found.append((("at",), f"required: the entry's point, such as {ENTRY}; "
                               f"{f.POINT_FORM}"))
    else:
        point, problems = f.point_problems(item["at"], names)
        found += [(("at", *suffix), message) for suffix, message in problems]
    altitude = None
    if item.get("altitude") is not None:
        altitude, problem = f.quantity_problem(item["altitude"], "altitude")
        if problem is not None:
            found.append((("altitude",), problem))
    return (None if point is None else (point, altitude)), found


def _route(value: Any, info: ValidationInfo) -> tuple[RouteEntry, ...]:
    value = f.given(value)
    if not isinstance(value, list) or len(value) < 2:
        f.fail_here(f"expected a route: a list of at least 2 points or entries such as {ENTRY}; "
                    f"{f.POINT_FORM}")
    names = f.place_names(info)
    out: list[RouteEntry] = []
    found: f.Found = []
    for i, item in enumerate(value):
        entry, problems = _entry(item, names)
        found += [((i, *suffix), message) for suffix, message in problems]
        if entry is not None:
            out.append(entry)
    if found:
        f.fail(found)
    return tuple(out)


def every_entry_has_altitude(route: Any) -> bool:
    """Whether a route as written gives an altitude at each of its entries."""
    return isinstance(route, list) and bool(route) and all(
        _is_entry(item) and item.get("altitude") is not None for item in route)


def _rate(value: Any) -> float | None:
    value = f.given(value)
    if value is None:
        return None
    si, problem = f.quantity_problem(value, "speed", 0.0, strict=True)
    if problem is not None:
        f.fail_here(f"{problem}; {RATE_FORM}")
    return si


Rate = Annotated[float | None, PlainValidator(_rate), quantity_json("speed")]


class FlightModel(Section):
    """An explicit flight, flown exactly as written."""

    what = "a flight"
    # Its altitude, or one at every entry (a JSON Schema cannot say it with required).
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["altitude"], "properties": {"altitude": {"type": "string"}}},
        {"properties": {"route": {"items": {"type": "object", "required": ["altitude"],
                                            "properties": {"altitude": {"type": "string"}}}}}},
    ]})
    # Optional keys a flight need not write: the resolved scenario leaves them out too.
    unfilled = frozenset({"altitude", "climb_rate", "descent_rate"})
    id: Ident = field(f.REQUIRED, "Its id, unique among the flights.", "id")
    party: PartyRef = field(f.REQUIRED, "The party that flies it: a key of parties.", "id")
    depart: Duration = field("0 s", "When it departs, from the scenario's start.", "duration")
    speed: Speed = field(f.REQUIRED, "Its ground speed.", "speed")
    altitude: Annotated[float | None, PlainValidator(f.quantity("altitude", optional=True)),
                        quantity_json("altitude")] = field(
        None, "Its altitude, at every route entry that gives none; required unless every "
              "entry gives its own.", "altitude")
    route: Annotated[tuple[RouteEntry, ...], PlainValidator(_route), WithJsonSchema(
        {"type": "array", "items": {"anyOf": [*POINT_SCHEMA["anyOf"], ROUTE_ENTRY_SCHEMA]},
         "minItems": 2})] = field(
        f.REQUIRED, "Its waypoints, at least 2: each a point, or {at: point, altitude: ...} "
                    "to give the altitude there (it changes linearly in time along a leg).",
        "points or entries")
    climb_rate: Rate = field(None, "The rate it climbs at: a climb starts with its leg and "
                                   "levels off when reached; none: spread over the whole leg.",
                             "speed")
    descent_rate: Rate = field(None, "The rate it descends at: a descent starts with its leg "
                                     "and levels off when reached; none: spread over the "
                                     "whole leg.", "speed")

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("altitude") is None and not every_entry_has_altitude(data.get("route")):
            data = dict(data)
            data["altitude"] = f.Refused([((), _ALTITUDE_NEEDED)])
        return data


def route_altitudes(route: Sequence[RouteEntry]) -> tuple[float | None, ...]:
    """The altitudes a route's entries give, () when none gives one."""
    altitudes = tuple(altitude for _, altitude in route)
    return altitudes if any(a is not None for a in altitudes) else ()
