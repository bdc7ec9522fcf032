"""The common parts of the scenario schema's models: the base of every section, the
annotated types of its values (each a validator of ``sim.model.fields`` and its JSON
Schema) and how a field describes itself."""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Tag,
    WithJsonSchema,
    model_validator,
)

from sim.model import fields as f
from sim.model.spec import Point
from sim.model.units import EXAMPLES, Kind, quantity_pattern

MIN_DURATION_S = 1.0
MIN_ZONE_RADIUS_M = 1.0  # a circle is drawn as a polygon: below this it is no shape at all
MIN_SPEED_MPS = 0.1


def quantity_schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema of a quantity: a text with a unit."""
    return {"type": "string", "pattern": quantity_pattern(kind),
            "description": f"A {kind} with a unit, such as {EXAMPLES[kind]}."}


def range_schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema of a quantity or a [low, high] range."""
    one = quantity_schema(kind)
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": 2}]}


POINT_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "description": "A built-in place or a key of places."},
    {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
     "description": "[lon, lat] in WGS84 degrees."},
    {"type": "object", "properties": {"x": quantity_schema("distance"),
                                      "y": quantity_schema("distance")},
     "required": ["x", "y"], "additionalProperties": False,
     "description": "Metres east (x) and north (y) of the frame's centre, as distances."},
]}
ID_SCHEMA = {"type": "string", "pattern": f.ID_PATTERN}


def quantity_json(kind: Kind, optional: bool = False) -> WithJsonSchema:
    """A field's JSON Schema: a quantity (or null, when ``optional``)."""
    schema = quantity_schema(kind)
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]} if optional else schema)


def range_json(kind: Kind) -> WithJsonSchema:
    """A field's JSON Schema: a quantity or a range."""
    return WithJsonSchema(range_schema(kind))


def _about(meaning: str, kind: str | None, default: Any, default_text: str | None) -> str:
    """A field's description: its meaning, its kind of value and its default."""
    text = meaning
    if kind:
        unit = kind.split()[0]
        forms = f", a text with a unit such as {EXAMPLES[unit]}" if unit in EXAMPLES else ""
        text += f" Kind: {kind}{forms}."
    if default_text is not None:
        return text + f" Default: {default_text}."
    if default is f.REQUIRED:
        return text + " Required."
    if default is None:
        return text + " Default: none."
    return text + f" Default: {json.dumps(default)}."


def field(default: Any, meaning: str, kind: str | None = None, *,
          validate_default: bool | None = None, default_text: str | None = None) -> Any:
    """A model field with its default (the value as YAML would write it) and description;
    ``default_text`` says what the default is when it is not a value (made elsewhere)."""
    check = default is not None if validate_default is None else validate_default
    return Field(default, validate_default=check,
                 description=_about(meaning, kind, default, default_text))


_DISTANCE, _ALTITUDE = quantity_json("distance"), quantity_json("altitude")
Distance = Annotated[float, PlainValidator(f.quantity("distance")), _DISTANCE]
Positive = Annotated[float, PlainValidator(f.quantity("distance", 0.0)), _DISTANCE]
NonZero = Annotated[float, PlainValidator(f.quantity("distance", 0.0, True)), _DISTANCE]
Altitude = Annotated[float, PlainValidator(f.quantity("altitude")), _ALTITUDE]
Speed = Annotated[float, PlainValidator(f.quantity("speed", MIN_SPEED_MPS)),
                  quantity_json("speed")]
Duration = Annotated[float, PlainValidator(f.quantity("duration", 0.0)),
                     quantity_json("duration")]
DistanceRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("distance")),
                          range_json("distance")]
DurationRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("duration")),
                          range_json("duration")]
Ident = Annotated[str, PlainValidator(f.identifier), WithJsonSchema(ID_SCHEMA)]
PartyRef = Annotated[str, PlainValidator(f.party), WithJsonSchema(ID_SCHEMA)]
Flag = Annotated[bool, PlainValidator(f.boolean), WithJsonSchema({"type": "boolean"})]
PointValue = Annotated[Point, PlainValidator(f.point), WithJsonSchema(POINT_SCHEMA)]
Weight = Annotated[float, PlainValidator(f.number(
    lambda v: 0.0 <= v < float("inf"), "is not a weight; write a number of 0 or more, such as "
    "weight: 1")), WithJsonSchema({"type": "number", "minimum": 0})]
Share = Annotated[float, PlainValidator(f.number(
    lambda v: 0.0 < v < float("inf"), "is not a share; write a positive number (shares are "
    "relative), such as share: 0.4")), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]


def points_json(minimum: int) -> WithJsonSchema:
    """A field's JSON Schema: a list of at least ``minimum`` points."""
    return WithJsonSchema({"type": "array", "items": POINT_SCHEMA, "minItems": minimum})


class Section(BaseModel):
    """A mapping of the scenario: known keys only, each validated by its field."""

    # Built at the first load, not at import (about 40 ms): a command that loads no
    # scenario does not pay for it, and both together cost less than building at import.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    what: ClassVar[str] = "a mapping"  # what it is, in messages
    null_is_empty: ClassVar[bool] = False  # a null mapping (as a value of a map) reads as {}
    # Keys whose null is an error, not the default (as the format has always had it).
    null_refused: ClassVar[frozenset[str]] = frozenset()
    unfilled: ClassVar[frozenset[str]] = frozenset()  # defaults not written out when missing

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys whose defaults the scenario as run writes out, in that order."""
        return _filled_of(cls)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        cls._check_shape(f.given(data))
        if _key_set(cls).issuperset(data):  # the usual case, made quickly
            return cls._refine(data)
        allowed = _keys_of(cls)
        out: dict[str, Any] = {}
        for n, (key, value) in enumerate(data.items()):
            if not isinstance(key, str):  # kept under a stand-in key, reported at the mapping
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


# Cached: pydantic's model_fields is slow to ask, and a load asks it for every mapping.
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


def number_check(low: float, high: float, problem: str, low_open: bool = False) -> PlainValidator:
    """A plain number in [low, high] (in (low, high] when ``low_open``)."""
    return PlainValidator(f.number(lambda v: (low < v if low_open else low <= v) and v <= high
                                   and v != float("inf"), problem))


def number_json(low: float, high: float, low_open: bool = False) -> WithJsonSchema:
    """A field's JSON Schema: a number in [low, high] (in (low, high] when ``low_open``)."""
    schema: dict[str, Any] = {"type": "number",
                              "exclusiveMinimum" if low_open else "minimum": low}
    if high != float("inf"):
        schema["maximum"] = high
    return WithJsonSchema(schema)


PROBABILITY = "is not a probability; write a number from 0 to 1, such as "
_UNIT = number_json(0.0, 1.0)
Probability = Annotated[float, number_check(0.0, 1.0, PROBABILITY + "loss: 0.05"), _UNIT]
Compliance = Annotated[float, number_check(0.0, 1.0, "is not a probability; write a number "
                                           "from 0 (never keeps the rules) to 1 (always), "
                                           "such as 0.9"), _UNIT]
AdhocProbability = Annotated[float, number_check(0.0, 1.0, PROBABILITY + "probability: 0.5"),
                             _UNIT]
Rate = Annotated[float | None, number_check(0.0, 100_000.0, "is not a rate; write the mean "
                                            "number of sorties a day (0 to 100000), such as "
                                            "sorties_per_day: 40"),
                 number_json(0.0, 100_000.0)]
AltitudeRange = Annotated[tuple[float, float], PlainValidator(f.quantity_range("altitude",
                                                                               -1e3)),
                          range_json("altitude")]


@functools.cache
def children(model: type[Section]) -> dict[str, tuple[str, dict[Any, type[Section]]]]:
    """The fields of a model that hold sections: one, a list or a map of them (the
    models by rule type in a list of rules)."""
    out: dict[str, tuple[str, dict[Any, type[Section]]]] = {}
    for name, info in model.model_fields.items():
        annotation = _bare(info.annotation)
        origin = typing.get_origin(annotation)
        shape, inner = "one", annotation
        if origin is list:
            shape, inner = "list", _bare(typing.get_args(annotation)[0])
        elif origin is dict:
            shape, inner = "map", _bare(typing.get_args(annotation)[1])
        models = _sections(inner)
        if models:
            out[name] = (shape, models)
    return out


def _bare(annotation: Any) -> Any:
    """An annotation without its metadata and without None."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _sections(annotation: Any) -> dict[Any, type[Section]]:
    """The section models an annotation names: one (key None), or a union by ``type``."""
    if isinstance(annotation, type) and issubclass(annotation, Section):
        return {None: annotation}
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return {_tag(a): _bare(a) for a in typing.get_args(annotation)
                if isinstance(_bare(a), type) and issubclass(_bare(a), Section)}
    return {}


def _tag(member: Any) -> Any:
    """The ``type`` a member of a union of rules stands for: its Tag."""
    tags = [m.tag for m in getattr(member, "__metadata__", ()) if isinstance(m, Tag)]
    return tags[0] if tags else None
