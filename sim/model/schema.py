"""The scenario format as pydantic models: what each key means, its kind, its default.

The models validate a YAML document (defaults already filled in by ``sim.model.loader``)
value by value, with the validators of ``sim.model.fields``; the loader then checks what
spans sections and builds the frozen objects of ``sim.model.spec``. The same models give
the JSON Schema of the format (``scenario_json_schema``) and its reference
(``sim.model.reference``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from sim.model import fields as f
from sim.model.places import builtin_centerlines
from sim.model.schema_areas import AreaModel, validate_ceiling, window_problems, with_floor
from sim.model.schema_flights import FlightModel
from sim.model.schema_interference import InterferenceModel
from sim.model.schema_parties import PartyModel
from sim.model.schema_recorded import RecordedModel
from sim.model.schema_rules import RuleModel, rule_model
from sim.model.sections import (
    ID_SCHEMA,
    MIN_DURATION_S,
    POINT_SCHEMA,
    AdhocProbability,
    Altitude,
    Distance,
    Duration,
    Flag,
    NonZero,
    PartyRef,
    Probability,
    Section,
    children,
    field,
    quantity_json,
    quantity_schema,
)
from sim.model.spec import Lane, Point

# ---------------------------------------------------------------------------- frame, corridor


def _frame_center(value: Any, info: ValidationInfo) -> Point | None:
    value = f.given(value)
    if value is None:
        return None
    context = info.context if isinstance(info.context, Mapping) else {}
    if isinstance(value, dict):  # what is wrong with the point, if anything, comes first
        f.fail(f.point_problems(value, None)[1] or [((), _FRAME_IN_FRAME)])
    if isinstance(value, str) and value in context.get("frame_places", ()):
        f.fail_here(_FRAME_IN_FRAME)
    return f.point(value, info)


_FRAME_IN_FRAME = ("the frame's centre cannot be given in the frame itself; write [lon, lat] "
                   "or a place name")


class FrameModel(Section):
    """The local plane the simulation runs in (an azimuthal equidistant projection)."""

    what = "the frame"
    unfilled = frozenset({"center"})
    center: Annotated[Point | None, PlainValidator(_frame_center),
                      WithJsonSchema(POINT_SCHEMA)] = field(
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
    null_refused = frozenset({"centerline"})
    centerline: Annotated[str | tuple[Point, ...], PlainValidator(_centerline), WithJsonSchema(
        {"anyOf": [{"type": "string", "description": _CENTERLINES},
                   {"type": "array", "items": POINT_SCHEMA, "minItems": 2}]})] = field(
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


# ---------------------------------------------------------------------------- flights, zones


_ACTIVE_FORM = 'write active: ["2 h", "8 h"] (start and end, from the scenario\'s start)'


def _active(value: Any) -> tuple[float, float] | None:
    value = f.given(value)
    if value is None:
        return None  # the whole run: filled in by the loader, which knows the duration
    window, found = window_problems(value, _ACTIVE_FORM)
    if window is None:
        f.fail(found)
    return window


class ZoneModel(Section):
    """A zone owned by a party, active in a time window between a floor and a ceiling."""

    what = "a zone"
    id: Annotated[str, PlainValidator(f.zone_identifier), WithJsonSchema(ID_SCHEMA)] = field(
        f.REQUIRED, "Its id, unique among the zones (not beginning with work.).", "id")
    party: PartyRef = field(f.REQUIRED, "The party that owns it: a key of parties.", "id")
    area: AreaModel = field(f.REQUIRED, "Its area: {polygon: [...]} or {circle: {center, "
                                        "radius}}.", "mapping")
    floor: Altitude = field("0 ft", "Its floor.", "altitude")
    ceiling: Annotated[float | None, PlainValidator(validate_ceiling),
                       quantity_json("altitude", True)] = field(
        None, "Its ceiling, above the floor; none: no ceiling.", "altitude")
    active: Annotated[tuple[float, float] | None, PlainValidator(_active), WithJsonSchema(
        {"type": "array", "items": quantity_schema("duration"), "minItems": 2,
         "maxItems": 2})] = field(None, "When it is active: [start, end] from the scenario's "
                                        "start; none: the whole run.", "durations")
    declare: Flag = field(True, "Declare it on the hotline.", "true or false")

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        return with_floor(data)


# ---------------------------------------------------------------------------- the rest

REPORTED_FORM = ("write reported: [{rule: opposite_tracks, party: russia, per_day: [5, 6], "
                  "fact: violations_per_day_seed}]")


def _reported_rule(value: Any, info: ValidationInfo) -> str:
    rules = info.context.get("rule_ids", ()) if isinstance(info.context, Mapping) else ()
    if not isinstance(f.given(value), str) or value not in rules:
        f.fail_here(f"{f.describe(value)} is not a rule id of this scenario; {REPORTED_FORM}")
    return str(value)


def _read_so_far(info: ValidationInfo, *keys: str) -> bool:
    """Whether the keys read before this one are valid: a reported rate is read up to its
    first key in error, and the rest of it is not reported on."""
    return all(key in info.data for key in keys)


def _reported_party(value: Any, info: ValidationInfo) -> str | None:
    return f.optional_party(value, info) if _read_so_far(info, "rule") else None


def _per_day(value: Any, info: ValidationInfo) -> tuple[float, float]:
    if not _read_so_far(info, "rule", "party"):
        return 0.0, 0.0
    values: list[Any] = f.given(value) if isinstance(value, list) else [value]
    numbers = [float(v) for v in values if f.is_number(v)]
    if not (1 <= len(values) <= 2 and len(numbers) == len(values)
            and all(0 <= v < float("inf") for v in numbers) and numbers[0] <= numbers[-1]):
        f.fail_here(f"{f.describe(value)} is not a rate; write a number of episodes a day or a "
                    f"[low, high] range; {REPORTED_FORM}")
    return numbers[0], numbers[-1]


def _fact(value: Any, info: ValidationInfo) -> str:
    if _read_so_far(info, "rule", "party", "per_day") and not isinstance(f.given(value), str):
        f.fail_here("expected the id of a fact in seeds/facts.yaml")
    return str(value)


class ReportedModel(Section):
    """A reported rate to compare a rule's simulated rate with."""

    what = "a reported rate"
    null_refused = frozenset({"fact"})
    rule: Annotated[str, PlainValidator(_reported_rule), WithJsonSchema(ID_SCHEMA)] = field(
        f.REQUIRED, "The rule: an id of rules.", "id")
    party: Annotated[str | None, PlainValidator(_reported_party), WithJsonSchema(
        {"anyOf": [ID_SCHEMA, {"type": "null"}]})] = field(
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
    offsets: list[float] = []
    found: f.Found = []
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
    null_refused = frozenset({"loss", "pattern"})
    enabled: Flag = field(True, "Whether the calls are made (a scenario without hotline: "
                                "false).", "true or false")
    first_call: Duration = field("6 h", "When the first call is made, from the start.",
                                 "duration")
    interval: Annotated[float, PlainValidator(f.quantity("duration", 0.0, True)),
                        quantity_json("duration")] = field(
        "24 h", "The time between calls (also the parties' planning cycle).", "duration")
    pattern: Annotated[tuple[float, ...], PlainValidator(_pattern), WithJsonSchema(
        {"type": "array", "items": quantity_schema("duration"), "minItems": 1})] = field(
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


RULES_MEANING = ("The rules whose breaches are counted: min_separation, lane_discipline, "
                 "zone_incursion, or a type an installed package adds (deconflict rules).")


class ScenarioModel(Section):
    """A scenario of the deconfliction simulator."""

    what = "a scenario"
    null_refused = frozenset({"name", "seed"})

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """None: the loader fills the top level (some of its defaults are not written)."""
        return ()

    name: Annotated[str, PlainValidator(f.scenario_name), WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": 100})] = field(
        None, "The scenario's name, one line.", "text", default_text="the file's name")
    description: Annotated[str | None, PlainValidator(f.description), WithJsonSchema(
        {"type": "string"})] = field(None, "What the scenario is for.", "text")
    seed: Annotated[int, PlainValidator(f.seed), WithJsonSchema(
        {"type": "integer", "minimum": 0, "maximum": 2**64 - 1})] = field(
        0, "The random seed, from 0 to 2**64-1: the same seed, the same run.", "whole number")
    duration: Annotated[float, PlainValidator(_duration), quantity_json("duration")] = field(
        "1 d", "How long the simulated run lasts, at least 1 s.", "duration")
    start: Annotated[str | None, PlainValidator(f.start), WithJsonSchema(
        {"type": "string", "description": "An ISO 8601 date and time, such as "
                                          "2017-12-01T00:00:00Z."})] = field(
        None, "The calendar time of the run's start (for the daily profile and the outputs).",
        "ISO 8601 time")
    frame: Annotated[FrameModel | None, BeforeValidator(f.empty_if_falsy)] = field(
        None, "The local plane.", "mapping")
    places: Annotated[dict[str, Annotated[Point, PlainValidator(f.place),
                                          WithJsonSchema(POINT_SCHEMA)]],
                      BeforeValidator(f.keyed("places", falsy_is_empty=True))] = field(
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
    recorded: Annotated[list[RecordedModel], BeforeValidator(f.items("recorded entries"))] = field(
        None, "Files of recorded tracks (CSV or Parquet), each flown as a party's flights "
              "through its reports.", "list")
    zones: Annotated[list[ZoneModel], BeforeValidator(f.items("zones"))] = field(
        None, "Zones the parties declare.", "list")
    interference: Annotated[list[InterferenceModel],
                            BeforeValidator(f.items("interference areas"))] = field(
        None, "Jamming areas: whom each targets, where, when, and what it does to their "
              "navigation, their drones and the hotline.", "list")
    rules: Annotated[list[RuleModel], BeforeValidator(f.items("rules"))] = field(
        None, RULES_MEANING, "list")
    hotline: HotlineModel = field(None, "The hotline; none: no calls (enabled: false).",
                                  "mapping")
    reported: Annotated[list[ReportedModel], BeforeValidator(f.items("reported rates"))] = field(
        None, "Reported rates to print beside the simulated ones.", "list")


@functools.cache
def scenario_model(plugins: tuple[tuple[str, type[Section]], ...] = ()) -> type[ScenarioModel]:
    """The scenario's model with the rule types of ``plugins`` (name, parameter model)
    beside the built-in ones."""
    if not plugins:
        return ScenarioModel
    rules: Any = Annotated[list.__class_getitem__(rule_model(plugins)),
                           BeforeValidator(f.items("rules"))]
    model: type[ScenarioModel] = create_model(
        "ScenarioModel", __base__=ScenarioModel, __doc__=ScenarioModel.__doc__,
        rules=(rules, field(None, RULES_MEANING, "list")))
    return model


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


def _or_null(node: dict[str, Any]) -> dict[str, Any]:
    if any(member == {"type": "null"} for member in node.get("anyOf", ())):
        return node
    inner = {k: v for k, v in node.items() if k not in ("description", "default")}
    return {"anyOf": [inner, {"type": "null"}],
            **{k: v for k, v in node.items() if k in ("description", "default")}}


def _null_is_default(schema: dict[str, Any], root: type[Section]) -> None:
    """A null reads as the default, where the loader takes it so (a party's null: {});
    a rule's ``type`` is its type's name."""
    models: list[type[Section]] = [root]
    for model in models:
        node = schema if model is root else schema["$defs"][model.__name__]
        for name, info in model.model_fields.items():
            if info.default is not f.REQUIRED and name not in model.null_refused:
                node["properties"][name] = _or_null(node["properties"][name])
        for tag, child in (pair for _, found in children(model).values()
                           for pair in found.items()):
            types = schema["$defs"][child.__name__]["properties"].get("type", {})
            if tag is not None and "const" not in types:  # a plugin's type is a plain text
                types.update({"const": tag, "description": "The rule type. Required."})
                types.pop("type", None)
            if child not in models:
                models.append(child)
    parties = schema["properties"]["parties"]["anyOf"][0]
    parties["additionalProperties"] = _or_null(parties["additionalProperties"])


def scenario_json_schema(plugins: tuple[tuple[str, type[Section]], ...] = ()
                         ) -> dict[str, Any]:
    """The JSON Schema of a scenario file (draft 2020-12), made from the models, with the
    rule types of ``plugins`` (name, parameter model)."""
    root = scenario_model(plugins)
    schema = root.model_json_schema(schema_generator=_SchemaGenerator)
    _close_objects(schema)
    _null_is_default(schema, root)
    named = schema["$defs"]["CorridorModel"]["properties"]["centerline"]["anyOf"][0]
    named["enum"] = list(builtin_centerlines())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Euphrates deconfliction scenario", **schema}
