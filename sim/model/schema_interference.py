"""The scenario's ``interference:`` entries as pydantic models: jamming areas (issue 20).

Each entry is an area of one party (its owner) that, while one of its windows is active,
degrades the aircraft of the parties it targets (all of them, or only some aircraft
classes or types) between a floor and a ceiling: their navigation (a sideways offset
drawn per crossing), their drones (aborted or lost), and the hotline (more loss, longer
latency). The models check an entry as written; ``interference_specs`` builds the frozen
``InterferenceSpec`` objects of ``sim.model.spec``, filling in the window that defaults
to the whole run. The effects themselves are the engine's.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, PlainValidator, ValidationInfo, WithJsonSchema

from sim.model import fields as f
from sim.model.schema_areas import AreaModel, validate_ceiling, window_problems, with_floor
from sim.model.sections import (
    ID_SCHEMA,
    PROBABILITY,
    Altitude,
    Ident,
    PartyRef,
    Section,
    field,
    number_check,
    number_json,
    quantity_json,
    quantity_schema,
    range_json,
)
from sim.model.spec import (
    AIRCRAFT_CLASSES,
    VERTICAL_RATES_FPM,
    CircleArea,
    DroneEffect,
    HotlineEffect,
    InterferenceSpec,
    NavigationEffect,
    PolygonArea,
)

MAX_OFFSET_M = 50_000.0  # the largest navigation offset: farther off, a flight is lost
_TARGETS_FORM = "write targets: {parties: [coalition], aircraft: [drone, fighter]}"
_WINDOWS_FORM = ('write active: [["38 d", "60 d"], ["70 d", "75 d"]] (windows of start and '
                 "end, from the scenario's start) or one window, active: [\"2 h\", \"8 h\"]")
_OFFSET_FORM = 'write offset: "2 km" or a [low, high] range such as offset: ["0.5 km", "3 km"]'
_DRONES_FORM = "write drones: {abort: 0.05, lost: 0.01}"

# ---------------------------------------------------------------------------- targets


def known_aircraft(parties: Mapping[str, Any]) -> frozenset[str]:
    """The aircraft types an area may name: those the parties' sorties fly (as written in
    ``parties``, not yet validated) and those the tool knows (its classes and rates)."""
    types = {t for members in AIRCRAFT_CLASSES.values() for t in members} | set(
        VERTICAL_RATES_FPM)
    for node in parties.values():
        aircraft = node.get("aircraft") if isinstance(node, dict) else None
        for item in aircraft if isinstance(aircraft, list) else []:
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind:
                types.add(kind)
    return frozenset(types)


def _twice(value: Sequence[Any], what: str) -> f.Found:
    """The items of a list written more than once."""
    first: dict[Any, int] = {}
    found: f.Found = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item in first:
            found.append(((i,), f"{what} {item!r} is listed twice (also at [{first[item]}]); "
                                "list each once"))
        elif isinstance(item, str):
            first[item] = i
    return found


def _target_parties(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    value = f.given(value)
    if value is None or value is f.REQUIRED:
        f.fail_here(f"required: the parties whose aircraft it targets; {_TARGETS_FORM}")
    if not isinstance(value, list) or not value:
        f.fail_here(f"expected a list of at least one party, got {f.describe(value)}; "
                    f"{_TARGETS_FORM}")
    parties = info.context.get("parties", ()) if isinstance(info.context, Mapping) else ()
    found: f.Found = [((i,), problem) for i, v in enumerate(value)
                      if (problem := f.party_problem(v, parties)) is not None]
    found += _twice(value, "party")
    if found:
        f.fail(sorted(found, key=lambda item: item[0]))
    return tuple(value)


def _aircraft(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    value = f.given(value)
    if value is None:
        return ()
    classes = " or ".join(AIRCRAFT_CLASSES)
    form = (f"write a class ({classes}) or an aircraft type (of those classes, or one the "
            "parties' sorties fly), such as aircraft: [drone, F-16]")
    if not isinstance(value, list):
        f.fail_here(f"expected a list of aircraft classes or types, got {f.describe(value)}; "
                    f"{form}")
    context = info.context if isinstance(info.context, Mapping) else {}
    known = sorted(set(AIRCRAFT_CLASSES) | set(context.get("aircraft_types", ())))
    found: f.Found = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            found.append(((i,), f"{f.describe(item)} is not an aircraft class or type; {form}"))
        elif item not in known:
            hint = difflib.get_close_matches(item, known, n=1)
            suggestion = f" (did you mean {hint[0]}?)" if hint else ""
            found.append(((i,), f"unknown aircraft {item!r}{suggestion}; {form}"))
    found += _twice(value, "aircraft")
    if found:
        f.fail(sorted(found, key=lambda item: item[0]))
    return tuple(value)


class TargetsModel(Section):
    """Whom an interference area targets: parties, and (if given) only some aircraft."""

    what = "the targets"
    parties: Annotated[tuple[str, ...], PlainValidator(_target_parties), WithJsonSchema(
        {"type": "array", "items": ID_SCHEMA, "minItems": 1, "uniqueItems": True})] = field(
        f.REQUIRED, "The parties whose aircraft it targets, at least one: keys of parties, "
                    "not its owner.", "ids")
    aircraft: Annotated[tuple[str, ...], PlainValidator(_aircraft), WithJsonSchema(
        {"type": "array", "items": {"type": "string", "minLength": 1},
         "uniqueItems": True})] = field(
        [], "Only these of their aircraft: classes (drone, fighter) or aircraft types (such "
            "as MQ-9); []: every aircraft.", "names")

    @classmethod
    def _check_shape(cls, data: Any) -> None:
        if data is None or data is f.REQUIRED:
            f.fail_here(f"required: whom the area targets; {_TARGETS_FORM}")
        if not isinstance(data, dict):
            f.fail_here(f"{f.not_mapping(data, cls.what)}; {_TARGETS_FORM}")


def _not_owner(targets: TargetsModel, info: ValidationInfo) -> TargetsModel:
    owner = info.data.get("owner")
    if owner in targets.parties:
        f.fail([(("parties", targets.parties.index(owner)),
                 f"{owner!r} is the area's owner; an area targets the other parties' aircraft, "
                 "such as owner: russia with targets: {parties: [coalition]}")])
    return targets


# ---------------------------------------------------------------------------- when, effects


def _windows(value: Any) -> tuple[tuple[float, float], ...] | None:
    value = f.given(value)
    if value is None:
        return None  # the whole run: filled in by the loader, which knows the duration
    if not isinstance(value, list) or not value:
        f.fail_here(f"expected a [start, end] window or a list of them, got "
                    f"{f.describe(value)}; {_WINDOWS_FORM}")
    listed = value if any(isinstance(item, list) for item in value) else [value]
    windows: list[tuple[float, float, int]] = []
    found: f.Found = []
    for i, item in enumerate(listed):
        window, problems = window_problems(item, _WINDOWS_FORM)
        prefix: tuple[int, ...] = (i,) if listed is value else ()
        found += [((*prefix, *suffix), message) for suffix, message in problems]
        if window is not None:
            windows.append((*window, i))
    if found:
        f.fail(found)
    windows.sort()
    for (_, end_a, a), (start_b, end_b, b) in zip(windows, windows[1:], strict=False):
        if start_b <= end_a:
            merged = [listed[a][0], listed[a if end_a >= end_b else b][1]]
            first, second = sorted((a, b))
            f.fail_here(f"the windows active[{first}] {listed[first]!r} and active[{second}] "
                        f"{listed[second]!r} overlap (or touch); windows must be disjoint: "
                        f"merge them into one, such as {merged!r}")
    return tuple((start, end) for start, end, _ in windows)


WINDOW_JSON = {"type": "array", "items": quantity_schema("duration"), "minItems": 2,
               "maxItems": 2}


def _offset(value: Any) -> tuple[float, float]:
    value = f.given(value)
    if value is None or value is f.REQUIRED:
        f.fail_here(f"required: how far sideways a crossing is flown; {_OFFSET_FORM}")
    low, high = f.quantity_range("distance")(value)
    if high > MAX_OFFSET_M:
        f.fail_here(f"{value!r} reaches beyond 50 km, farther than jamming displaces a flight; "
                    'write an offset up to "50 km", such as offset: "2 km" or offset: '
                    '["0.5 km", "3 km"]')
    return low, high


DISTRIBUTIONS = ("uniform", "triangular", "half_normal")


class NavigationModel(Section):
    """Degraded navigation: a crossing is flown displaced sideways."""

    what = "the navigation effect"
    offset: Annotated[tuple[float, float], PlainValidator(_offset), range_json("distance")] = \
        field(f.REQUIRED, "How far sideways a crossing is flown: a distance, or [low, high] "
                          "(0 to 50 km) drawn as distribution says, to the left or right at "
                          "even odds.", "distance or range")
    distribution: Annotated[Literal["uniform", "triangular", "half_normal"], PlainValidator(
        f.choice(DISTRIBUTIONS, "is not a distribution of the offset; write uniform, "
                                "triangular or half_normal")),
        WithJsonSchema({"enum": list(DISTRIBUTIONS)})] = field(
        "uniform", "How the offset is drawn in [low, high]: uniform; triangular (most likely "
                   "at low, falling to none at high); half_normal (a normal's upper half from "
                   "low, its standard deviation half the range, cut at high).",
        "uniform, triangular or half_normal")
    probability: Annotated[float, number_check(0.0, 1.0, PROBABILITY + "probability: 1"),
                           number_json(0.0, 1.0)] = field(
        1.0, "The probability that a crossing is displaced.", "number from 0 to 1")


def _unit(value: float) -> bool:
    return 0.0 <= value <= 1.0


_abort = f.number(_unit, PROBABILITY + "abort: 0.05")
_lost_alone = f.number(_unit, PROBABILITY + "lost: 0.01")
_loss = f.number(_unit, PROBABILITY + "loss: 0.3")


def _lost(value: Any, info: ValidationInfo) -> float:
    lost = _lost_alone(value)
    abort = info.data.get("abort")
    if abort is not None and abort + lost > 1.0:
        f.fail([((), f"abort {abort!r} and lost {lost!r} add up to more than 1 (a crossing "
                     f"aborts, loses the drone or neither); {_DRONES_FORM}")], up=1)
    return lost


class DronesModel(Section):
    """Drones crossing the area: aborted (flown home) or lost."""

    what = "the drones effect"
    abort: Annotated[float, PlainValidator(_abort), number_json(0.0, 1.0)] = field(
        0.0, "The probability that a drone's crossing aborts its mission (it flies home).",
        "number from 0 to 1")
    lost: Annotated[float, PlainValidator(_lost), number_json(0.0, 1.0)] = field(
        0.0, "The probability that a drone's crossing loses it (its flight ends); abort and "
             "lost add up to at most 1.", "number from 0 to 1")


def _drones_targeted(drones: DronesModel | None, info: ValidationInfo) -> DronesModel | None:
    targets = info.data.get("targets")
    aircraft = targets.aircraft if isinstance(targets, TargetsModel) else ()
    if drones is not None and aircraft and not any(
            a == "drone" or a in AIRCRAFT_CLASSES["drone"] for a in aircraft):
        f.fail_here(f"the area targets no drones (targets.aircraft: {list(aircraft)}); add "
                    "drone to targets.aircraft, or remove drones")
    return drones


def _optional_loss(value: Any) -> float | None:
    return None if f.given(value) is None else _loss(value)


OptionalProbability = Annotated[
    float | None, PlainValidator(_optional_loss),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                              {"type": "null"}]})]
OptionalDuration = Annotated[float | None, PlainValidator(f.quantity("duration", 0.0,
                                                                     optional=True)),
                             quantity_json("duration", True)]


class InterferenceHotlineModel(Section):
    """The hotline while one of the area's windows is active."""

    what = "the hotline effect"
    loss: OptionalProbability = field(None, "The probability that a declaration is lost; "
                                            "none: the hotline's own.", "number from 0 to 1")
    latency: OptionalDuration = field(None, "How long a declaration takes to reach the other "
                                            "side; none: the hotline's own.", "duration")


# ---------------------------------------------------------------------------- the area


class InterferenceModel(Section):
    """A jamming area of a party: whom it targets, where, when and what it does."""

    what = "an interference area"
    id: Ident = field(f.REQUIRED, "Its id, unique among the interference areas.", "id")
    owner: PartyRef = field(f.REQUIRED, "The party that jams: a key of parties.", "id")
    targets: Annotated[TargetsModel, AfterValidator(_not_owner)] = field(
        f.REQUIRED, "Whom it targets: {parties: [...], aircraft: [...]}.", "mapping")
    area: AreaModel = field(f.REQUIRED, "Its area: {polygon: [...]} or {circle: {center, "
                                        "radius}}.", "mapping")
    floor: Altitude = field("0 ft", "Its floor.", "altitude")
    ceiling: Annotated[float | None, PlainValidator(validate_ceiling),
                       quantity_json("altitude", True)] = field(
        None, "Its ceiling, above the floor; none: no ceiling.", "altitude")
    active: Annotated[tuple[tuple[float, float], ...] | None, PlainValidator(_windows),
                      WithJsonSchema({"anyOf": [WINDOW_JSON, {"type": "array",
                                                              "items": WINDOW_JSON,
                                                              "minItems": 1}]})] = field(
        None, "When it is active: a list of disjoint [start, end] windows from the scenario's "
              "start, or one window; none: the whole run.", "durations")
    navigation: NavigationModel | None = field(
        None, "Degraded navigation of the targeted aircraft; none: not degraded.", "mapping")
    drones: Annotated[DronesModel | None, AfterValidator(_drones_targeted)] = field(
        None, "Targeted drones aborted or lost; none: neither.", "mapping")
    hotline: InterferenceHotlineModel | None = field(
        None, "The hotline between the parties while one of its windows is active; none: "
              "unchanged.", "mapping")

    @classmethod
    def _refine(cls, data: dict[str, Any]) -> dict[str, Any]:
        return with_floor(data)


def interference_specs(models: Sequence[InterferenceModel], raw: Sequence[dict[str, Any]],
                       duration_text: Any, duration_s: float) -> tuple[InterferenceSpec, ...]:
    """The frozen interference areas of validated models; an area without windows is
    active the whole run, written into the area as run (``raw``) as one window."""
    specs = []
    for area, node in zip(models, raw, strict=True):
        windows = area.active
        if windows is None:
            node["active"] = [["0 s", duration_text]]
            windows = ((0.0, duration_s),)
        shape = (PolygonArea(area.area.polygon) if area.area.polygon is not None
                 else CircleArea(area.area.circle.center, area.area.circle.radius)
                 if area.area.circle is not None else None)
        assert shape is not None  # the area takes exactly one of them
        nav, drones, hotline = area.navigation, area.drones, area.hotline
        specs.append(InterferenceSpec(
            area.id, area.owner, area.targets.parties, area.targets.aircraft, shape,
            area.floor, float("inf") if area.ceiling is None else area.ceiling, windows,
            None if nav is None else NavigationEffect(nav.offset, nav.probability,
                                                             nav.distribution),
            None if drones is None else DroneEffect(drones.abort, drones.lost),
            None if hotline is None else HotlineEffect(hotline.loss, hotline.latency)))
    return tuple(specs)
