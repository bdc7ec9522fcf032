"""The scenario format as pydantic models: what each key means, its kind, its default.

The models validate a YAML document (defaults already filled in by ``sim.model.loader``)
value by value, with the validators of ``sim.model.fields``; the loader then checks what
spans sections and builds the frozen objects of ``sim.model.spec``. The same models give
the JSON Schema of the format (``scenario_json_schema``) and its reference
(``sim.model.reference``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from sim.model import fields as f
from sim.model.places import builtin_centerlines
from sim.model.spec import Lane, Point
from sim.model.units import EXAMPLES, Kind, QuantityError, parse_quantity, quantity_pattern

MIN_DURATION_S = 1.0
MIN_ZONE_RADIUS_M = 1.0  # a circle is drawn as a polygon: below this it is no shape at all
MIN_SPEED_MPS = 0.1
RULE_TYPES = ("min_separation", "lane_discipline", "zone_incursion")


def _quantity_schema(kind: Kind) -> dict[str, Any]:
    return {"type": "string", "pattern": quantity_pattern(kind),
            "description": f"A {kind} with a unit, such as {EXAMPLES[kind]}."}


def _range_schema(kind: Kind) -> dict[str, Any]:
    one = _quantity_schema(kind)
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": 2}]}


_POINT_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "description": "A built-in place or a key of places."},
    {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
     "description": "[lon, lat] in WGS84 degrees."},
    {"type": "object", "properties": {"x": _quantity_schema("distance"),
                                      "y": _quantity_schema("distance")},
     "required": ["x", "y"], "additionalProperties": False,
     "description": "Metres east (x) and north (y) of the frame's centre, as distances."},
]}
_ID_SCHEMA = {"type": "string", "pattern": f.ID_PATTERN}


def _qs(kind: Kind, optional: bool = False) -> WithJsonSchema:
    schema = _quantity_schema(kind)
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]} if optional else schema)


def _rs(kind: Kind) -> WithJsonSchema:
    return WithJsonSchema(_range_schema(kind))


def _about(meaning: str, kind: str | None = None, default: Any = f.REQUIRED) -> str:
    """A field's description: its meaning, its kind of value and its default."""
    text = meaning
    if kind:
        text += f" Kind: {kind}."
    if default is f.REQUIRED:
        return text + " Required."
    if default is None:
        return text + " Default: none."
    return text + f" Default: {default!r}."


def field(default: Any, meaning: str, kind: str | None = None, *,
          validate_default: bool | None = None) -> Any:
    """A model field with its default (the value as YAML would write it) and description."""
    check = default is not None if validate_default is None else validate_default
    return Field(default, validate_default=check, description=_about(meaning, kind, default))


Distance = Annotated[float, PlainValidator(f.quantity("distance")), _qs("distance")]
Positive = Annotated[float, PlainValidator(f.quantity("distance", 0.0)), _qs("distance")]
NonZero = Annotated[float, PlainValidator(f.quantity("distance", 0.0, True)), _qs("distance")]
Altitude = Annotated[float, PlainValidator(f.quantity("altitude")), _qs("altitude")]
Speed = Annotated[float, PlainValidator(f.quantity("speed", MIN_SPEED_MPS)), _qs("speed")]
Duration = Annotated[float, PlainValidator(f.quantity("duration", 0.0)), _qs("duration")]
DistanceRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("distance")),
                          _rs("distance")]
DurationRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("duration")),
                          _rs("duration")]
Ident = Annotated[str, PlainValidator(f.identifier), WithJsonSchema(_ID_SCHEMA)]
PartyRef = Annotated[str, PlainValidator(f.party), WithJsonSchema(_ID_SCHEMA)]
Flag = Annotated[bool, PlainValidator(f.boolean), WithJsonSchema({"type": "boolean"})]
PointValue = Annotated[Point, PlainValidator(f.point), WithJsonSchema(_POINT_SCHEMA)]
Weight = Annotated[float, PlainValidator(f.number(
    lambda v: 0.0 <= v < float("inf"), "is not a weight; write a number of 0 or more, such as "
    "weight: 1")), WithJsonSchema({"type": "number", "minimum": 0})]
Share = Annotated[float, PlainValidator(f.number(
    lambda v: 0.0 < v < float("inf"), "is not a share; write a positive number (shares are "
    "relative), such as share: 0.4")), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]


def _ps(minimum: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "array", "items": _POINT_SCHEMA, "minItems": minimum})


class Section(BaseModel):
    """A mapping of the scenario: known keys only, each validated by its field."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    what: ClassVar[str] = "a mapping"  # what it is, in messages
    null_is_empty: ClassVar[bool] = False  # a null mapping (as a value of a map) reads as {}
    # Keys whose null is refused, not read as the default (the old format's contract).
    null_refused: ClassVar[frozenset[str]] = frozenset()
    unfilled: ClassVar[frozenset[str]] = frozenset()  # defaults not written out when missing

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys it takes, in order (cached: pydantic's ``model_fields`` is slow to ask)."""
        return _keys_of(cls)

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys whose defaults the scenario as run writes out, in that order."""
        return _filled_of(cls)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        data = f.given(data)
        cls._check_shape(data)
        if _key_set(cls).issuperset(data):  # the usual case, made quickly
            return cls._refine(data)
        allowed = _keys_of(cls)
        out: dict[str, Any] = {}
        for n, (key, value) in enumerate(data.items()):
            if not isinstance(key, str):
                out[f"\0{n}"] = f.Refused([((), f.not_text_key(key, allowed))], up=1)
            elif key in allowed:
                out[key] = value
            else:
                out[key] = f.Refused([((f.shown_key(key),), f.unknown_key(key, allowed,
                                                                          cls.what))], up=1)
        return cls._refine(out)

    @classmethod
    def _check_shape(cls, data: Any) -> None:
        """Refuse a value that is not this section's mapping."""
        if not isinstance(data, dict):
            f.fail_here(f.not_mapping(data, cls.what))

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Refuse keys that this kind of section does not take in this form (on a copy:
        ``data`` may be the document itself)."""
        return data


@functools.cache
def _keys_of(model: type[Section]) -> tuple[str, ...]:
    return tuple(model.model_fields)


@functools.cache
def _key_set(model: type[Section]) -> frozenset[str]:
    return frozenset(model.model_fields)


@functools.cache
def _filled_of(model: type[Section]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items()
                 if info.default is not f.REQUIRED and name not in model.unfilled)


@functools.cache
def defaults_of(model: type[Section]) -> dict[str, Any]:
    """The defaults of a model's keys, as YAML writes them."""
    return {name: info.default for name, info in model.model_fields.items()}


# ---------------------------------------------------------------------------- frame, corridor


def _frame_center(value: Any, info: ValidationInfo) -> Point | None:
    value = f.given(value)
    if value is None:
        return None
    context = info.context if isinstance(info.context, Mapping) else {}
    if isinstance(value, dict) or (isinstance(value, str)
                                   and value in context.get("frame_places", ())):
        f.fail_here("the frame's centre cannot be given in the frame itself; write "
                    "[lon, lat] or a place name")
    return f.point(value, info)


class FrameModel(Section):
    """The local plane the simulation runs in (an azimuthal equidistant projection)."""

    what = "the frame"
    unfilled = frozenset({"center"})
    center: Annotated[Point | None, PlainValidator(_frame_center),
                      WithJsonSchema(_POINT_SCHEMA)] = field(
        None, "The frame's centre, a place name or [lon, lat]; none: the midpoint of the "
              "corridor's centerline.", "point")


# The built-in names are listed in the JSON Schema as it is made: reading them here would
# read the gazetteer at import.
_CENTERLINES = "A built-in centerline."


def _centerline(value: Any, info: ValidationInfo) -> str | tuple[Point, ...]:
    value = f.given(value)
    if isinstance(value, str):
        if value not in builtin_centerlines():
            f.fail_here(f"unknown centerline {value!r}; use one of "
                        f"{', '.join(builtin_centerlines())} or a list of points")
        return value
    return f.points(2, "a centerline")(value, info)


class CorridorModel(Section):
    """The corridor: a river's centerline and how far to each side it reaches."""

    what = "the corridor"
    centerline: Annotated[str | tuple[Point, ...], PlainValidator(_centerline), WithJsonSchema(
        {"anyOf": [{"type": "string", "description": _CENTERLINES},
                   {"type": "array", "items": _POINT_SCHEMA, "minItems": 2}]})] = field(
        "euphrates", "A built-in centerline's name, or a list of at least 2 points "
                     "(downstream last).", "name or points")
    half_width: NonZero = field("40 mi", "How far the corridor reaches on each side of the "
                                         "centerline.", "distance")


class LaneModel(Section):
    """A party's lane: the centerline offset sideways."""

    what = "a lane"
    party: PartyRef = field(f.REQUIRED, "The party that flies it: a key of parties.", "id")
    offset: Distance = field(f.REQUIRED, "How far sideways of the centerline; positive: left "
                                         "going downstream.", "distance")
    direction: Annotated[Literal["downstream", "upstream"], PlainValidator(f.choice(
        ("downstream", "upstream"), "is not a direction; write downstream or upstream")),
        WithJsonSchema({"enum": ["downstream", "upstream"]})] = field(
        f.REQUIRED, "Which way it is flown along the centerline.", "downstream or upstream")


# ---------------------------------------------------------------------------- parties


def _nv(low: float, high: float, problem: str, low_open: bool = False) -> PlainValidator:
    """A plain number in [low, high] (in (low, high] when ``low_open``)."""
    return PlainValidator(f.number(lambda v: (low < v if low_open else low <= v) and v <= high
                                   and v != float("inf"), problem))


def _ns(low: float, high: float, low_open: bool = False, null: bool = False) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "number",
                              "exclusiveMinimum" if low_open else "minimum": low}
    if high != float("inf"):
        schema["maximum"] = high
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]} if null else schema)


_PROBABILITY = "is not a probability; write a number from 0 to 1, such as "
Probability = Annotated[float, _nv(0.0, 1.0, _PROBABILITY + "loss: 0.05"), _ns(0.0, 1.0)]
Compliance = Annotated[float, _nv(0.0, 1.0, "is not a probability; write a number from 0 "
                                  "(never keeps the rules) to 1 (always), such as 0.9"),
                       _ns(0.0, 1.0)]
AdhocProbability = Annotated[float, _nv(0.0, 1.0, _PROBABILITY + "probability: 0.5"),
                             _ns(0.0, 1.0)]
Rate = Annotated[float | None, _nv(0.0, 100_000.0, "is not a rate; write the mean number of "
                                   "sorties a day (0 to 100000), such as sorties_per_day: 40"),
                 _ns(0.0, 100_000.0)]
AltitudeRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("altitude",
                                                                               -1e3)),
                          _rs("altitude")]


class PlanningModel(Section):
    """How a party's planner uses what the hotline brought."""

    what = "planning"
    null_refused = frozenset({"when_blocked"})
    avoid: Flag = field(True, "Route sorties around the other parties' received, active "
                              "zones.", "true or false")
    margin: Positive = field("2 nmi", "How far clear of those zones.", "distance")
    when_blocked: Annotated[Literal["delay", "drop"], PlainValidator(f.choice(
        ("delay", "drop"), "is not a policy; write when_blocked: delay (wait until the way is "
        "clear, at most max_delay) or when_blocked: drop")),
        WithJsonSchema({"enum": ["delay", "drop"]})] = field(
        "delay", "When no path avoids them: delay the sortie (at most max_delay) or drop it.",
        "delay or drop")
    max_delay: Duration = field("6 h", "The longest a blocked sortie waits.", "duration")
    lead: DurationRange = field(["2 h", "26 h"], "How long before departure a sortie is "
                                                 "known (planned).", "duration or range")


class WorkAreasModel(Section):
    """A party's planned work areas: its racetracks with a buffer."""

    what = "work areas"
    enabled: Flag = field(True, "Make a work area of each sortie's racetrack.", "true or false")
    buffer: Positive = field("5 nmi", "How far the area reaches beyond the racetrack.",
                             "distance")
    vertical_buffer: Positive = field("1000 ft", "How far above and below the sortie's "
                                                 "altitude.", "distance")
    declare: Flag = field(True, "Declare the areas on the hotline (false: kept secret).",
                          "true or false")


class ShortcutModel(Section):
    """A non-compliant sortie that cuts across instead of flying its lane."""

    what = "a deviation"
    null_refused = frozenset({"weight"})
    weight: Weight = field(1.0, "Its relative weight among the party's deviations.", "number")
    length: DistanceRange = field(["30 km", "90 km"], "How far along the lane it lasts.",
                                  "distance or range")


class DriftModel(Section):
    """A non-compliant sortie that drifts past its lane's tolerance toward the river."""

    what = "a deviation"
    null_refused = frozenset({"weight"})
    weight: Weight = field(1.0, "Its relative weight among the party's deviations.", "number")
    length: DistanceRange = field(["20 km", "60 km"], "How far along the lane it lasts.",
                                  "distance or range")
    beyond: DistanceRange = field(["2 km", "20 km"], "How far past the tolerance it drifts.",
                                  "distance or range")


class CloseApproachModel(Section):
    """A non-compliant sortie that closes on another party's aircraft."""

    what = "a deviation"
    null_refused = frozenset({"weight"})
    weight: Weight = field(0.0, "Its relative weight among the party's deviations.", "number")
    miss: DistanceRange = field(["50 m", "3 km"], "The horizontal miss distance.",
                                "distance or range")
    vertical: Positive = field("500 ft", "Altitude within this much of the target's.",
                               "distance")
    reach: Positive = field("150 km", "How far it looks for a target.", "distance")


class DeviationsModel(Section):
    """The ways a party's non-compliant sorties break the rules."""

    what = "deviations"
    null_refused = frozenset({"shortcut", "drift", "close_approach"})
    shortcut: ShortcutModel = field({}, "Cutting across.", "mapping")
    drift: DriftModel = field({}, "Drifting toward the river.", "mapping")
    close_approach: CloseApproachModel = field({}, "Closing on another aircraft.", "mapping")

    @model_validator(mode="after")
    def _some_weight(self) -> DeviationsModel:
        if self.shortcut.weight + self.drift.weight + self.close_approach.weight <= 0.0:
            f.fail_here("every deviation has weight 0; give at least one a positive weight")
        return self


def _aircraft_type(value: Any) -> str:
    if not isinstance(f.given(value), str) or not value.strip():
        f.fail_here("required: the aircraft type as text, such as Su-24")
    return str(value)


class AircraftModel(Section):
    """One kind of aircraft a party flies."""

    what = "an aircraft"
    null_refused = frozenset({"share"})
    type: Annotated[str, PlainValidator(_aircraft_type), WithJsonSchema(
        {"type": "string", "minLength": 1})] = field(f.REQUIRED, "The aircraft type, such as "
                                                                 "Su-24.", "text")
    speed: Speed = field(f.REQUIRED, "Its cruise speed.", "speed")
    altitude: AltitudeRange = field(f.REQUIRED, "Its altitude block: one altitude or "
                                                "[low, high].", "altitude or range")
    share: Share = field(1.0, "Its share of the party's sorties (relative).", "number")


class RacetrackModel(Section):
    """The racetrack a sortie flies on station."""

    what = "a racetrack"
    length: NonZero = field("40 km", "Its length.", "distance")
    width: NonZero = field("10 km", "Its width.", "distance")


class MissionModel(Section):
    """A mission area: where sorties work, how long, and the racetrack they fly."""

    what = "a mission"
    null_refused = frozenset({"share", "racetrack"})
    area: PointValue = field(f.REQUIRED, "Where the racetrack is centred.", "point")
    share: Share = field(1.0, "Its share of the party's sorties (relative).", "number")
    time_on_station: DurationRange = field("45 min", "How long a sortie works there.",
                                           "duration or range")
    racetrack: RacetrackModel = field({}, "The racetrack's size.", "mapping")


_BASES_FORM = "write bases: [hmeimim, t4] or bases: {hmeimim: 3, t4: 1} (relative weights)"


def _bases(value: Any, info: ValidationInfo) -> tuple[tuple[Point, float], ...]:
    value = f.given(value)
    names = f.place_names(info)
    pairs: list[tuple[Point, float]] = []
    found: f.Found = []
    if isinstance(value, list) and value:
        for i, item in enumerate(value):
            base, problems = f.point_problems(item, names)
            found += [((i, *suffix), message) for suffix, message in problems]
            pairs.append((base, 1.0))  # type: ignore[arg-type]
    elif isinstance(value, dict) and value:
        for name, weight in value.items():
            base, problems = f.point_problems(name, names)
            found += [((str(name), *suffix), message) for suffix, message in problems]
            if not f.is_number(weight) or not 0.0 < float(weight) < float("inf"):
                found.append(((str(name),), f"{f.describe(weight)} is not a weight; "
                                            f"{_BASES_FORM}"))
            else:
                pairs.append((base, float(weight)))  # type: ignore[arg-type]
    else:
        f.fail_here(f"a party that generates sorties needs bases; {_BASES_FORM}")
    if found:
        f.fail(found)
    return tuple(pairs)


def _daily_profile(value: Any) -> tuple[float, ...]:
    value = f.given(value)
    if value == "flat":
        return (1.0,) * 24
    if (isinstance(value, list) and len(value) == 24
            and all(f.is_number(v) and 0 <= v < float("inf") for v in value) and sum(value) > 0):
        return tuple(float(v) for v in value)
    f.fail_here("expected flat, or 24 hourly weights (0 or more, not all 0), one for each hour "
                "from the scenario's start: [1, 1, ..., 1]")


_SORTIE_KEYS = ("daily_profile", "bases", "aircraft", "missions", "lane", "lane_entry",
                "lane_exit", "altitude_step", "planning", "work_areas")
NEEDS_AIRCRAFT = ("a party that generates sorties needs at least one aircraft; write "
                   "aircraft: [{type: Su-24, speed: \"430 kt\", altitude: [FL150, FL250]}]")
NEEDS_MISSIONS = ("a party that generates sorties needs at least one mission area; write "
                   "missions: [{area: raqqa, time_on_station: \"45 min\"}]")


class PartyModel(Section):
    """A party (a side): its sortie generation, if any, and its behaviour."""

    what = "party settings"
    null_is_empty = True
    null_refused = frozenset({"compliance", "daily_profile"})
    sorties_per_day: Rate = field(
        None, "The mean number of sorties a day it generates; none: it flies the explicit "
              "flights only (and the keys below up to work_areas are not used).", "number")
    daily_profile: Annotated[tuple[float, ...], PlainValidator(_daily_profile), WithJsonSchema(
        {"anyOf": [{"const": "flat"}, {"type": "array", "items": {"type": "number",
                                                                  "minimum": 0},
                                       "minItems": 24, "maxItems": 24}]})] = field(
        "flat", "How sorties spread over the day: flat, or 24 hourly weights from the "
                "scenario's start.", "flat or 24 numbers")
    bases: Annotated[tuple[tuple[Point, float], ...] | None, PlainValidator(_bases),
                     WithJsonSchema({"anyOf": [
                         {"type": "array", "items": _POINT_SCHEMA, "minItems": 1},
                         {"type": "object", "additionalProperties": {
                             "type": "number", "exclusiveMinimum": 0}, "minProperties": 1}]})
                     ] = field(None, "Where sorties take off: a list of points, or a map of "
                                     "place name to relative weight. Required with "
                                     "sorties_per_day.", "points or weights")
    aircraft: Annotated[list[AircraftModel] | None,
                        BeforeValidator(f.items("aircraft", NEEDS_AIRCRAFT))] = field(
        None, "The aircraft it flies (at least one). Required with sorties_per_day.", "list")
    missions: Annotated[list[MissionModel] | None,
                        BeforeValidator(f.items("missions", NEEDS_MISSIONS))] = field(
        None, "Its mission areas (at least one). Required with sorties_per_day.", "list")
    lane: Annotated[Any, PlainValidator(f.given), WithJsonSchema(
        {"anyOf": [_ID_SCHEMA, {"type": "null"}]})] = field(
        None, "The lane its sorties fly, a key of lanes; none: its only lane (or no lane).",
        "id")
    lane_entry: DistanceRange = field(["60 km", "150 km"], "Sorties join the lane this far "
                                      "before the mission area.", "distance or range")
    lane_exit: DistanceRange = field(["60 km", "150 km"], "Sorties leave the lane this far "
                                     "after it.", "distance or range")
    altitude_step: Positive = field("1000 ft", "Sortie altitudes are whole multiples of this.",
                                    "distance")
    planning: PlanningModel = field({}, "How its planner uses the hotline's declarations.",
                                    "mapping")
    work_areas: WorkAreasModel = field({}, "Its planned work areas.", "mapping")
    compliance: Compliance = field(1.0, "The probability that a sortie keeps the rules.",
                                   "number from 0 to 1")
    deviations: DeviationsModel = field({}, "How its non-compliant sorties break them.",
                                        "mapping")

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """Compliance and deviations always; the sortie keys with sorties_per_day only."""
        keys: tuple[str, ...] = ("compliance", "deviations")
        if "sorties_per_day" in raw:
            keys += ("daily_profile", "lane", "lane_entry", "lane_exit", "altitude_step",
                     "planning", "work_areas")
        return keys

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if "sorties_per_day" in data:
            for key in ("bases", "aircraft", "missions"):
                data.setdefault(key, f.REQUIRED)
            return data
        for key in _SORTIE_KEYS:
            if key in data:
                data[key] = f.Refused([((), "only used with sorties_per_day; add "
                                            "sorties_per_day: 40 or remove this key")])
        return data


# ---------------------------------------------------------------------------- flights, zones


class FlightModel(Section):
    """An explicit flight, flown exactly as written."""

    what = "a flight"
    id: Ident = field(f.REQUIRED, "Its id, unique among the flights.", "id")
    party: PartyRef = field(f.REQUIRED, "The party that flies it: a key of parties.", "id")
    depart: Duration = field("0 s", "When it departs, from the scenario's start.", "duration")
    speed: Speed = field(f.REQUIRED, "Its ground speed.", "speed")
    altitude: Altitude = field(f.REQUIRED, "Its altitude.", "altitude")
    route: Annotated[tuple[Point, ...], PlainValidator(f.points(2, "a route")), _ps(2)] = field(
        f.REQUIRED, "Its waypoints, at least 2.", "points")


def _radius(value: Any) -> float:
    radius = f.quantity("distance", 0.0, strict=True)(value)
    if radius is not None and radius < MIN_ZONE_RADIUS_M:
        f.fail_here(f"{value!r} is smaller than the smallest zone this tool draws (1 m); write "
                    "a radius such as \"15 nmi\"")
    return float(radius or 0.0)


class CircleModel(Section):
    """A circular zone area."""

    what = "a circle"
    center: PointValue = field(f.REQUIRED, "Its centre.", "point")
    radius: Annotated[float, PlainValidator(_radius), _qs("distance")] = field(
        f.REQUIRED, "Its radius, at least 1 m.", "distance")


_AREA_FORM = ('write area: {polygon: [point, point, point, ...]} or '
              'area: {circle: {center: point, radius: "15 nmi"}}')


class AreaModel(Section):
    """A zone's area: a polygon (closing itself) or a circle, exactly one of them."""

    what = "an area"
    unfilled = frozenset({"polygon", "circle"})
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    polygon: Annotated[tuple[Point, ...] | None, PlainValidator(f.points(3, "a polygon")),
                       _ps(3)] = field(None, "Its corners, at least 3.", "points")
    circle: CircleModel | None = field(None, "A circle.", "mapping")

    @classmethod
    def _check_shape(cls, data: Any) -> None:
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in (
                "polygon", "circle"):
            f.fail_here(f"expected a polygon or a circle; {_AREA_FORM}")
        if "circle" in data and data["circle"] is None:  # not "no circle": a circle of nothing
            f.fail([(("circle",), f.not_mapping(None, CircleModel.what))])


class Beside:
    """A value with the one it is checked against (a zone's ceiling with its floor)."""

    __slots__ = ("other", "value")

    def __init__(self, value: Any, other: Any) -> None:
        self.value = value
        self.other = other


def _ceiling(value: Any, info: ValidationInfo) -> float | None:
    floor_text = value.other if isinstance(value, Beside) else None
    raw = value.value if isinstance(value, Beside) else value
    ceiling = f.quantity("altitude", optional=True)(raw)
    floor = info.data.get("floor")
    if ceiling is not None and floor is not None and ceiling <= floor:
        f.fail_here(f"{raw!r} is not above the floor {floor_text!r}; the ceiling must be higher")
    return ceiling


_ACTIVE_FORM = 'write active: ["2 h", "8 h"] (start and end, from the scenario\'s start)'


def _active(value: Any) -> tuple[float, float] | None:
    value = f.given(value)
    if value is None:
        return None  # the whole run: filled in by the loader, which knows the duration
    if not isinstance(value, list) or len(value) != 2:
        f.fail_here(f"expected a start and an end; {_ACTIVE_FORM}")
    times = []
    for i, text in enumerate(value):
        try:
            times.append(parse_quantity(text, "duration").si)
        except QuantityError as exc:
            f.fail([((i,), str(exc))])
    if times[0] < 0 or times[1] <= times[0]:
        f.fail_here(f"the window {value!r} must start at or after 0 s and end after it starts; "
                    f"{_ACTIVE_FORM}")
    return times[0], times[1]


class ZoneModel(Section):
    """A zone owned by a party, active in a time window between a floor and a ceiling."""

    what = "a zone"
    id: Annotated[str, PlainValidator(f.zone_identifier), WithJsonSchema(_ID_SCHEMA)] = field(
        f.REQUIRED, "Its id, unique among the zones (not beginning with work.).", "id")
    party: PartyRef = field(f.REQUIRED, "The party that owns it: a key of parties.", "id")
    area: AreaModel = field(f.REQUIRED, "Its area: {polygon: [...]} or {circle: {center, "
                                        "radius}}.", "mapping")
    floor: Altitude = field("0 ft", "Its floor.", "altitude")
    ceiling: Annotated[float | None, PlainValidator(_ceiling), _qs("altitude", True)] = field(
        None, "Its ceiling, above the floor; none: no ceiling.", "altitude")
    active: Annotated[tuple[float, float] | None, PlainValidator(_active), WithJsonSchema(
        {"type": "array", "items": _quantity_schema("duration"), "minItems": 2,
         "maxItems": 2})] = field(None, "When it is active: [start, end] from the scenario's "
                                        "start; none: the whole run.", "durations")
    declare: Flag = field(True, "Declare it on the hotline.", "true or false")

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "ceiling" in data:
            data = dict(data)
            data["ceiling"] = Beside(data["ceiling"], data.get("floor"))
        return data


# ---------------------------------------------------------------------------- rules


def _between(value: Any, info: ValidationInfo) -> tuple[str, str] | None:
    value = f.given(value)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        f.fail_here("expected two parties, such as between: [coalition, russia]")
    parties = info.context.get("parties", ()) if isinstance(info.context, Mapping) else ()
    found: f.Found = [((i,), problem) for i, v in enumerate(value)
                      if (problem := f.party_problem(v, parties)) is not None]
    if found:
        f.fail(found)
    return str(value[0]), str(value[1])


class MinSeparationModel(Section):
    """Two aircraft closer than ``horizontal`` (and, if given, than ``vertical``)."""

    what = "a rule"
    id: Ident = field(f.REQUIRED, "Its id, unique among the rules.", "id")
    type: Literal["min_separation"] = field(f.REQUIRED, "The rule type.", "min_separation")
    horizontal: NonZero = field(f.REQUIRED, "The least horizontal separation.", "distance")
    vertical: Annotated[float | None, PlainValidator(f.quantity("distance", 0.0, True, True)),
                        _qs("distance", True)] = field(
        None, "The least vertical separation; none: any altitude counts.", "distance")
    between: Annotated[tuple[str, str] | None, PlainValidator(_between),
                       WithJsonSchema({"anyOf": [{"type": "array", "items": _ID_SCHEMA,
                                                  "minItems": 2, "maxItems": 2},
                                                 {"type": "null"}]})] = field(
        None, "Only between these two parties; none: any two aircraft of different parties.",
        "two ids")
    complaint: Flag = field(False, "The other side complains of what it saw.", "true or false")


def _tolerance(value: Any, info: ValidationInfo) -> float | None:
    value = f.given(value)
    context = info.context if isinstance(info.context, Mapping) else {}
    if "lanes" not in context:  # the default depends on lanes already in error
        return None
    if not context["lanes"]:
        f.fail([((), "lane_discipline needs lanes; add lanes: {LANE_ID: {party: P, "
                     "offset: \"+22.5 mi\", direction: downstream}}")], up=1)
    if value is None:
        if context.get("lane_spacing") is None:
            f.fail_here("required when lanes of two parties are not both defined (its default "
                        "is half the spacing between the lanes); write tolerance: \"22.5 mi\"")
        return float(context["lane_spacing"]) / 2.0
    return f.quantity("distance", 0.0)(value)


class LaneDisciplineModel(Section):
    """An aircraft inside the corridor farther than ``tolerance`` from its party's lane."""

    what = "a rule"
    id: Ident = field(f.REQUIRED, "Its id, unique among the rules.", "id")
    type: Literal["lane_discipline"] = field(f.REQUIRED, "The rule type.", "lane_discipline")
    tolerance: Annotated[float | None, PlainValidator(_tolerance), _qs("distance")] = field(
        None, "How far from its lane an aircraft may be; none: half the least spacing between "
              "two parties' lanes.", "distance", validate_default=True)
    complaint: Flag = field(True, "The other side complains of what it saw.", "true or false")

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The complaint, then the tolerance (its default is filled in by the loader)."""
        return ("complaint", "tolerance")


class ZoneIncursionModel(Section):
    """An aircraft inside an active zone owned by another party."""

    what = "a rule"
    id: Ident = field(f.REQUIRED, "Its id, unique among the rules.", "id")
    type: Literal["zone_incursion"] = field(f.REQUIRED, "The rule type.", "zone_incursion")
    complaint: Flag = field(True, "The other side complains of what it saw.", "true or false")


def _rule_item(value: Any) -> Any:
    value = f.given(value)
    if not isinstance(value, dict):
        f.fail_here(f.not_mapping(value, "a rule"))
    kind = value.get("type")
    if kind not in RULE_TYPES:
        hint = difflib.get_close_matches(str(kind), RULE_TYPES, n=1)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        f.fail([(("type",), f"{f.describe(kind)} is not a rule type; {suggestion}use one of "
                            f"{', '.join(RULE_TYPES)}")])
    return value


RuleModel = Annotated[
    Annotated[MinSeparationModel, Tag("min_separation")]
    | Annotated[LaneDisciplineModel, Tag("lane_discipline")]
    | Annotated[ZoneIncursionModel, Tag("zone_incursion")],
    Discriminator(lambda v: v.get("type") if isinstance(v, dict) else None),
    BeforeValidator(_rule_item)]


# ---------------------------------------------------------------------------- the rest

_REPORTED_FORM = ("write reported: [{rule: opposite_tracks, party: russia, per_day: [5, 6], "
                  "fact: violations_per_day_seed}]")


def _reported_rule(value: Any, info: ValidationInfo) -> str:
    rules = info.context.get("rule_ids", ()) if isinstance(info.context, Mapping) else ()
    if not isinstance(f.given(value), str) or value not in rules:
        f.fail_here(f"{f.describe(value)} is not a rule id of this scenario; {_REPORTED_FORM}")
    return value


def _per_day(value: Any) -> tuple[float, float]:
    values: list[Any] = f.given(value) if isinstance(value, list) else [value]
    numbers = [float(v) for v in values if f.is_number(v)]
    if not (1 <= len(values) <= 2 and len(numbers) == len(values)
            and all(0 <= v < float("inf") for v in numbers) and numbers[0] <= numbers[-1]):
        f.fail_here(f"{f.describe(value)} is not a rate; write a number of episodes a day or a "
                    f"[low, high] range; {_REPORTED_FORM}")
    return numbers[0], numbers[-1]


def _fact(value: Any) -> str:
    if not isinstance(f.given(value), str):
        f.fail_here("expected the id of a fact in seeds/facts.yaml")
    return value


class ReportedModel(Section):
    """A reported rate to compare a rule's simulated rate with."""

    what = "a reported rate"
    null_refused = frozenset({"fact"})
    rule: Annotated[str, PlainValidator(_reported_rule), WithJsonSchema(_ID_SCHEMA)] = field(
        f.REQUIRED, "The rule: an id of rules.", "id")
    party: Annotated[str | None, PlainValidator(f.optional_party), WithJsonSchema(
        {"anyOf": [_ID_SCHEMA, {"type": "null"}]})] = field(
        None, "Only the episodes this party caused; none: every episode.", "id")
    per_day: Annotated[tuple[float, float], PlainValidator(_per_day), WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0},
                   {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1,
                    "maxItems": 2}]})] = field(
        f.REQUIRED, "The reported episodes a day: a number or [low, high].", "number or range")
    fact: Annotated[str, PlainValidator(_fact), WithJsonSchema({"type": "string"})] = field(
        "", "The id of the fact in seeds/facts.yaml it comes from.", "text")


class AdhocModel(Section):
    """Ad-hoc calls: a pop-up work area may get a call of its own."""

    what = "ad-hoc calls"
    null_refused = frozenset({"probability"})
    probability: AdhocProbability = field(0.0, "The probability that a pop-up work area gets "
                                               "an ad-hoc call.", "number from 0 to 1")
    delay: Duration = field("1 h", "How long after the sortie is planned the call is made.",
                            "duration")


_PATTERN_FORM = ('write pattern: ["0 d", "2 d", "4 d"] (offsets within each interval, '
                 'increasing and shorter than it: three calls a week with interval: "7 d")')


def _pattern(value: Any, info: ValidationInfo) -> tuple[float, ...]:
    value = f.given(value)
    if not isinstance(value, list) or not value:
        f.fail_here(f"expected a list of offsets; {_PATTERN_FORM}")
    offsets, found = [], []
    for i, item in enumerate(value):
        si, problem = f.quantity_problem(item, "duration", 0.0)
        if problem is not None:
            found.append(((str(i),), problem))
        offsets.append(si or 0.0)
    if found:
        f.fail(found)
    interval = info.data.get("interval")
    if any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)) or (
            interval is not None and offsets[-1] >= interval):
        f.fail_here(f"the offsets {value!r} must increase and stay below the interval; "
                    f"{_PATTERN_FORM}")
    return tuple(offsets)


class HotlineModel(Section):
    """The hotline between the parties' duty officers: scheduled calls that carry the
    declarations of zones and work areas."""

    what = "the hotline"
    null_refused = frozenset({"loss"})
    enabled: Flag = field(True, "Whether the calls are made (a scenario without hotline: "
                                "false).", "true or false")
    first_call: Duration = field("6 h", "When the first call is made, from the start.",
                                 "duration")
    interval: Annotated[float, PlainValidator(f.quantity("duration", 0.0, True)),
                        _qs("duration")] = field("24 h", "The time between calls (also the "
                                                         "parties' planning cycle).", "duration")
    pattern: Annotated[tuple[float, ...], PlainValidator(_pattern), WithJsonSchema(
        {"type": "array", "items": _quantity_schema("duration"), "minItems": 1})] = field(
        ["0 s"], "Calls at each of these offsets within every interval, increasing and below "
                 "it (three a week: interval 7 d, pattern [0 d, 2 d, 4 d]).", "durations")
    latency: Duration = field("30 min", "How long a declaration takes to reach the other "
                                        "side.", "duration")
    loss: Probability = field(0.0, "The probability that a declaration is lost.",
                              "number from 0 to 1")
    adhoc: AdhocModel = field({}, "Ad-hoc calls.", "mapping")

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The contract's order, which is not the order of the keys."""
        return ("enabled", "first_call", "interval", "latency", "loss", "pattern", "adhoc")


def _duration(value: Any) -> float:
    duration = f.quantity("duration", 0.0, strict=True)(value)
    if duration is not None and duration < MIN_DURATION_S:
        f.fail_here(f"{value!r} is shorter than the shortest run this tool takes (1 s); write a "
                    "duration such as \"7 d\"")
    return float(duration or 0.0)


def _known_lanes(lanes: dict[str, LaneModel], info: ValidationInfo) -> dict[str, LaneModel]:
    """Tell the rules, validated after the lanes (pydantic keeps the fields' order), the
    lanes and their least spacing (the lane rule's default tolerance is half of it)."""
    if isinstance(info.context, dict):
        known = [Lane(k, v.party, v.offset, v.direction) for k, v in lanes.items()]
        spacings = [abs(a.offset_m - b.offset_m) for a in known for b in known
                    if a.party != b.party and a.offset_m != b.offset_m]
        info.context["lanes"] = known
        info.context["lane_spacing"] = min(spacings) if spacings else None
    return lanes


class ScenarioModel(Section):
    """A scenario of the deconfliction simulator."""

    what = "a scenario"
    null_refused = frozenset({"name", "seed"})

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """None: the loader fills the top level (some of its defaults are not written)."""
        return ()

    name: Annotated[str, PlainValidator(f.scenario_name), WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": 100})] = Field(
        None, description="The scenario's name, one line. Default: the file's name.")
    description: Annotated[str | None, PlainValidator(f.description), WithJsonSchema(
        {"type": "string"})] = field(None, "What the scenario is for.", "text")
    seed: Annotated[int, PlainValidator(f.seed), WithJsonSchema(
        {"type": "integer", "minimum": 0, "maximum": 2**63 - 1})] = field(
        0, "The random seed: the same seed, the same run.", "whole number")
    duration: Annotated[float, PlainValidator(_duration), _qs("duration")] = field(
        "1 d", "How long the simulated run lasts, at least 1 s.", "duration")
    start: Annotated[str | None, PlainValidator(f.start), WithJsonSchema(
        {"type": "string", "description": "An ISO 8601 date and time, such as "
                                          "2017-12-01T00:00:00Z."})] = field(
        None, "The calendar time of the run's start (for the daily profile and the outputs).",
        "ISO 8601 time")
    frame: FrameModel | None = field(None, "The local plane.", "mapping")
    places: Annotated[dict[str, Annotated[Point, PlainValidator(f.place),
                                          WithJsonSchema(_POINT_SCHEMA)]],
                      BeforeValidator(f.keyed("places"))] = field(
        None, "Places of this scenario by name, defined by [lon, lat] or {x, y} (not by another "
              "name); built-in places need no definition.", "map of points")
    corridor: CorridorModel | None = field(None, "The corridor; none: no corridor (and no "
                                                 "lanes).", "mapping")
    lanes: Annotated[dict[str, LaneModel], BeforeValidator(f.keyed("lanes")),
                     AfterValidator(_known_lanes)] = field(
        None, "The parties' lanes by id.", "map of lanes")
    parties: Annotated[dict[str, PartyModel], BeforeValidator(f.keyed("parties"))] = field(
        {}, "The parties (sides) by id, each with its settings ({} or null: explicit flights "
            "only).", "map of parties")
    flights: Annotated[list[FlightModel], BeforeValidator(f.items("flights"))] = field(
        None, "Explicit flights.", "list")
    zones: Annotated[list[ZoneModel], BeforeValidator(f.items("zones"))] = field(
        None, "Zones the parties declare.", "list")
    rules: Annotated[list[RuleModel], BeforeValidator(f.items("rules"))] = field(
        None, "The rules whose breaches are counted: min_separation, lane_discipline, "
              "zone_incursion.", "list")
    hotline: HotlineModel = field(None, "The hotline; none: no calls (enabled: false).",
                                  "mapping")
    reported: Annotated[list[ReportedModel], BeforeValidator(f.items("reported rates"))] = field(
        None, "Reported rates to print beside the simulated ones.", "list")


class _SchemaGenerator(GenerateJsonSchema):
    """A required key's default is a marker, not a value: it is required, without default."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        default = schema.get("default", NoDefault)
        return NoDefault if default is f.REQUIRED else default

    def field_is_required(self, field: Any, total: bool) -> bool:
        inner = field["schema"]
        if inner["type"] == "default" and inner.get("default") is f.REQUIRED:
            return True
        return super().field_is_required(field, total)


def _close_objects(node: Any) -> None:
    """Every mapping of the format takes its own keys only."""
    if isinstance(node, dict):
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict) \
                and not node["additionalProperties"] and "properties" in node:
            node["additionalProperties"] = False
        if isinstance(node.get("title"), str):  # pydantic's titles repeat the key's name
            del node["title"]
        for value in node.values():
            _close_objects(value)
    elif isinstance(node, list):
        for value in node:
            _close_objects(value)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (draft 2020-12), made from the models."""
    schema = ScenarioModel.model_json_schema(schema_generator=_SchemaGenerator)
    _close_objects(schema)
    named = schema["$defs"]["CorridorModel"]["properties"]["centerline"]["anyOf"][0]
    named["enum"] = list(builtin_centerlines())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Euphrates deconfliction scenario", **schema}
