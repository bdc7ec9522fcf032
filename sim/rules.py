"""The public rule API: write a rule type, install it, and it counts in every run.

A rule type is a parameter model and a detect function, made one by ``rule``::

    from sim.rules import Distance, RuleParameters, World, close_pieces, pair_episodes
    from sim.rules import parameter, rule

    class TooClose(RuleParameters):
        \"\"\"Two aircraft closer than ``horizontal``.\"\"\"
        horizontal: Distance = parameter("5 nmi", "How close is too close.", "distance")

    @rule("too_close", TooClose)
    def too_close(params: TooClose, world: World) -> list[Episode]:
        \"\"\"Episodes of two aircraft closer than the rule allows.\"\"\"
        return pair_episodes(params, world, close_pieces(world, params.horizontal))

An installed package declares it under the entry-point group ``deconflict.rules``
(``too_close = "my_package.rules:too_close"``) and scenarios name it as ``type: too_close``.
Parameters arrive validated, in SI units (metres, seconds, metres per second), under the
keys the scenario writes; the blocks below are exact (closed forms on straight legs, no
time step), so a rule composed of them is exact too. ``docs/rules.md`` is the tutorial,
``sim.testing`` the kit to property-test a rule with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import PlainValidator

from sim.detect.blocks import (
    NARROW_BLOCK,
    aircraft_episodes,
    check_episodes,
    close_pieces,
    episode_spans,
    pair_episodes,
)
from sim.detect.legs import Legs
from sim.detect.narrowphase import (
    MERGE_GAP_S,
    MIN_EPISODE_S,
    LegPieces,
    PairPieces,
    circle_pieces,
    clip_pieces,
    episode_bounds,
    lane_pieces,
    merge_pieces,
    polygon_pieces,
    separation_pieces,
    zone_pieces,
)
from sim.detect.rules import BUILTIN, result_problem, rule_type, rule_types
from sim.detect.world import World
from sim.model import fields as _fields
from sim.model.records import Episode, FlightRecord, Hotline
from sim.model.ruletypes import (
    BUILTIN_RULE_TYPES,
    ENTRY_POINT_GROUP,
    PluginError,
    RuleParameters,
    RuleType,
)
from sim.model.schema_rules import OptionalDistance, PartyPair
from sim.model.sections import Altitude, Duration, Flag, PartyRef, Speed, quantity_json
from sim.model.sections import NonZero as PositiveDistance
from sim.model.sections import Positive as Distance
from sim.model.sections import field as _field

__all__ = [
    "BUILTIN", "BUILTIN_RULE_TYPES", "ENTRY_POINT_GROUP", "MERGE_GAP_S", "MIN_EPISODE_S",
    "NARROW_BLOCK", "Altitude", "Distance", "Duration", "Episode", "Flag", "FlightRecord",
    "Hotline", "LegPieces", "Legs", "OptionalDistance", "PairPieces", "PartyPair", "PartyRef",
    "PluginError", "PositiveDistance", "PositiveDuration", "REQUIRED", "RuleParameters", "RuleType",
    "Speed", "World", "aircraft_episodes", "check_episodes", "circle_pieces", "clip_pieces",
    "close_pieces", "episode_bounds", "episode_spans", "lane_pieces", "merge_pieces",
    "pair_episodes", "parameter", "polygon_pieces", "result_problem", "rule", "rule_type",
    "rule_types", "separation_pieces", "zone_pieces",
]

#: A duration greater than zero.
PositiveDuration = Annotated[float, PlainValidator(_fields.quantity("duration", 0.0, True)),
                             quantity_json("duration")]

REQUIRED = _fields.REQUIRED  # the default of a parameter that every rule must write
P = TypeVar("P", bound=RuleParameters)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parameter(default: Any, meaning: str, kind: str | None = None) -> Any:
    """A parameter of a rule: its default as a scenario would write it (``"3 nmi"``,
    ``None``, ``sim.rules.REQUIRED``), one sentence of meaning, and its kind ("distance",
    "duration", ...) for the reference and the messages."""
    return _field(default, meaning, kind)


def rule(name: str, parameters: type[P]) -> Callable[[Callable[[P, World], list[Episode]]],
                                                     RuleType]:
    """Make a detect function ``(parameters, world) -> episodes`` a rule type named
    ``name`` (the YAML ``type``: lower case letters, digits and ``_``), with the
    parameter model ``parameters`` (a subclass of ``RuleParameters``)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{name!r} is not a rule type name; use lower-case letters, digits "
                         "and '_', starting with a letter, such as rule_of_threes")
    if name in BUILTIN_RULE_TYPES:
        raise ValueError(f"{name!r} is a built-in rule type; give yours a name of its own")
    if not (isinstance(parameters, type) and issubclass(parameters, RuleParameters)):
        raise TypeError(f"the parameters of rule type {name!r} must be a subclass of "
                        "sim.rules.RuleParameters")

    def make(detect: Callable[[P, World], list[Episode]]) -> RuleType:
        if not callable(detect):
            raise TypeError(f"rule type {name!r}: {detect!r} is not a function")
        return RuleType(name, parameters, detect)
    return make
