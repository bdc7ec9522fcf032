"""The schema of the rules whose breaches are counted, one model for each rule type."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    PlainValidator,
    Tag,
    ValidationInfo,
    WithJsonSchema,
)

from sim.model import fields as f
from sim.model.ruletypes import BUILTIN_RULE_TYPES, known_names
from sim.model.sections import (
    ID_SCHEMA,
    Flag,
    Ident,
    NonZero,
    Section,
    field,
    quantity_json,
)


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


PartyPair = Annotated[tuple[str, str] | None, PlainValidator(_between),
                     WithJsonSchema({"anyOf": [{"type": "array", "items": ID_SCHEMA,
                                                "minItems": 2, "maxItems": 2},
                                               {"type": "null"}]})]
OptionalDistance = Annotated[float | None,
                             PlainValidator(f.quantity("distance", 0.0, True, True)),
                             quantity_json("distance", True)]


class MinSeparationModel(Section):
    """Two aircraft closer than ``horizontal`` (and, if given, than ``vertical``)."""

    what = "a rule"
    id: Ident = field(f.REQUIRED, "Its id, unique among the rules.", "id")
    type: Literal["min_separation"] = field(f.REQUIRED, "The rule type.", "min_separation")
    horizontal: NonZero = field(f.REQUIRED, "The least horizontal separation.", "distance")
    vertical: OptionalDistance = field(
        None, "The least vertical separation; none: any altitude counts.", "distance")
    between: PartyPair = field(
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
    tolerance: Annotated[float | None, PlainValidator(_tolerance),
                         quantity_json("distance")] = field(
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


def _rule_item(value: Any, info: ValidationInfo) -> Any:
    value = f.given(value)
    if not isinstance(value, dict):
        f.fail_here(f.not_mapping(value, "a rule"))
    kind = value.get("type")
    context = info.context if isinstance(info.context, Mapping) else {}
    if kind not in context.get("rule_types", BUILTIN_RULE_TYPES):
        known = known_names()  # the installed packages are looked at only now
        hint = difflib.get_close_matches(str(kind), known, n=1)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        plugins = "" if len(known) > len(BUILTIN_RULE_TYPES) else (
            " (no installed package adds rule types; see deconflict rules)")
        f.fail([(("type",), f"{f.describe(kind)} is not a rule type; {suggestion}use one of "
                            f"{', '.join(known)}{plugins}")])
    return value


BUILTIN_MODELS: dict[str, type[Section]] = {
    "min_separation": MinSeparationModel, "lane_discipline": LaneDisciplineModel,
    "zone_incursion": ZoneIncursionModel}


def _kind(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else None


RuleModel = Annotated[
    Annotated[MinSeparationModel, Tag("min_separation")]
    | Annotated[LaneDisciplineModel, Tag("lane_discipline")]
    | Annotated[ZoneIncursionModel, Tag("zone_incursion")],
    Discriminator(_kind),
    BeforeValidator(_rule_item)]


def rule_model(plugins: tuple[tuple[str, type[Section]], ...]) -> Any:
    """``RuleModel`` with the types of ``plugins`` (name, parameter model) beside the
    built-in ones, chosen by the rule's ``type``."""
    members = tuple(Annotated[model, Tag(name)]
                    for name, model in (*BUILTIN_MODELS.items(), *plugins))
    union: Any = Union.__getitem__(members)  # built at run time from what is installed
    return Annotated[union, Discriminator(_kind), BeforeValidator(_rule_item)]
