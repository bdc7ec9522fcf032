"""The schema of a party's settings: sortie generation, planning, work areas, deviations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from sim.model import fields as f
from sim.model.schema_flights import Rate as VerticalRate
from sim.model.sections import (
    ID_SCHEMA,
    POINT_SCHEMA,
    AltitudeRange,
    Compliance,
    DistanceRange,
    Duration,
    DurationRange,
    Flag,
    NonZero,
    PointValue,
    Positive,
    Rate,
    Section,
    Share,
    Speed,
    Weight,
    field,
)
from sim.model.spec import Point


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
    # Unwritten rates stay out of the resolved scenario: the loader takes them from the table.
    unfilled = frozenset({"climb_rate", "descent_rate"})
    type: Annotated[str, PlainValidator(_aircraft_type), WithJsonSchema(
        {"type": "string", "minLength": 1})] = field(f.REQUIRED, "The aircraft type, such as "
                                                                 "Su-24.", "text")
    speed: Speed = field(f.REQUIRED, "Its cruise speed.", "speed")
    altitude: AltitudeRange = field(f.REQUIRED, "Its altitude block: one altitude or "
                                                "[low, high].", "altitude or range")
    share: Share = field(1.0, "Its share of the party's sorties (relative).", "number")
    climb_rate: VerticalRate = field(
        None, "The rate its sorties climb at from the base (elevation 0 ft, notional) to "
              "their altitude; none: a notional rate by type (10,000 ft/min for fighters, "
              "4,000 for attack aircraft, 2,500 for tankers and ISR, 500 for an MQ-9, else "
              "3,000).", "speed")
    descent_rate: VerticalRate = field(
        None, "The rate its sorties descend at to land at the base; none: a notional rate "
              "by type (6,000 ft/min for fighters, 3,000 for attack aircraft, 2,000 for "
              "tankers and ISR, 500 for an MQ-9, else 2,500).", "speed")


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
    model_config = ConfigDict(json_schema_extra={"dependentRequired": {
        "sorties_per_day": ["bases", "aircraft", "missions"]}})
    null_is_empty = True
    null_refused = frozenset({"compliance", "daily_profile"})
    # The sortie keys' defaults are not validated: with sorties_per_day the loader has
    # written them in (and they are validated as written), without it they are not used.
    sorties_per_day: Rate = field(
        None, "The mean number of sorties a day it generates; none: it flies the explicit "
              "flights only (and the keys below up to work_areas are not used).", "number")
    daily_profile: Annotated[tuple[float, ...], PlainValidator(_daily_profile), WithJsonSchema(
        {"anyOf": [{"const": "flat"}, {"type": "array", "items": {"type": "number",
                                                                  "minimum": 0},
                                       "minItems": 24, "maxItems": 24}]})] = field(
        "flat", "How sorties spread over the day: flat, or 24 hourly weights from the "
                "scenario's start.", "flat or 24 numbers", validate_default=False)
    bases: Annotated[tuple[tuple[Point, float], ...] | None, PlainValidator(_bases),
                     WithJsonSchema({"anyOf": [
                         {"type": "array", "items": POINT_SCHEMA, "minItems": 1},
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
        {"anyOf": [ID_SCHEMA, {"type": "null"}]})] = field(
        None, "The lane its sorties fly, a key of lanes; none: its only lane (or no lane).",
        "id")
    lane_entry: DistanceRange = field(["60 km", "150 km"], "Sorties join the lane this far "
                                      "before the mission area.", "distance or range",
                                      validate_default=False)
    lane_exit: DistanceRange = field(["60 km", "150 km"], "Sorties leave the lane this far "
                                     "after it.", "distance or range", validate_default=False)
    altitude_step: Positive = field("1000 ft", "Sortie altitudes are whole multiples of this.",
                                    "distance", validate_default=False)
    planning: PlanningModel = field({}, "How its planner uses the hotline's declarations.",
                                    "mapping", validate_default=False)
    work_areas: WorkAreasModel = field({}, "Its planned work areas.", "mapping",
                                       validate_default=False)
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
