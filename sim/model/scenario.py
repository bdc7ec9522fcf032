"""Scenario loading: parse YAML, fill defaults, validate, and return frozen typed objects.

One pipeline (``load_scenario``): read the file safely, apply ``--set`` overrides, then
walk the document once, filling every default into a copy (which becomes the run
folder's ``scenario.yaml``) and collecting *every* problem with its key path, so that
``deconflict validate`` can list them all at once. Geometry that needs the local frame
(polygon validity, lane offsets) is checked later by ``sim.geo``.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import math
import re
import reprlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.places import builtin_centerlines, builtin_places
from sim.model.units import Kind, QuantityError, accepted_forms, format_si, parse_quantity

# ---------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario: where (file and key path) and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be run; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        # The problems are the exception's argument, so that a copy of it (pickled from a
        # worker process, or re-raised by SimPy from a process) is rebuilt from them.
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# ---------------------------------------------------------------------------- model

MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A point named by the gazetteer or the scenario's ``places``."""

    name: str


@dataclass(frozen=True, slots=True)
class LonLat:
    """A point in WGS84 degrees."""

    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class FramePoint:
    """A point in the scenario's local frame, metres east and north of its centre."""

    x_m: float
    y_m: float


Point = PlaceRef | LonLat | FramePoint


@dataclass(frozen=True, slots=True)
class Frame:
    """The local plane; ``center`` None means the corridor centerline's midpoint."""

    center: Point | None


@dataclass(frozen=True, slots=True)
class Corridor:
    """The corridor: a built-in centerline name or a list of points, and its half width."""

    centerline: str | tuple[Point, ...]
    half_width_m: float


@dataclass(frozen=True, slots=True)
class Lane:
    """A party's lane: the centerline offset sideways (positive: left going downstream)."""

    id: str
    party: str
    offset_m: float
    direction: Literal["downstream", "upstream"]


@dataclass(frozen=True, slots=True)
class AircraftType:
    """One kind of aircraft a party flies: cruise speed, altitude block, share of sorties."""

    type: str
    speed_mps: float
    altitude_m: tuple[float, float]
    share: float


@dataclass(frozen=True, slots=True)
class Mission:
    """A mission area: where sorties work, how long, and the racetrack they fly there."""

    area: Point
    share: float
    time_on_station_s: tuple[float, float]
    racetrack_length_m: float
    racetrack_width_m: float


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way a non-compliant sortie breaks the rules, with its relative weight."""

    cause: str  # shortcut | drift
    weight: float
    length_m: tuple[float, float]  # how far along the lane the deviation lasts
    beyond_m: tuple[float, float]  # drift: how far past the tolerance toward the river
    miss_m: tuple[float, float] = (0.0, 0.0)  # close_approach: horizontal miss distance
    vertical_m: float = 0.0  # close_approach: altitude within this much of the target's
    reach_m: float = 0.0  # close_approach: how far it looks for a target


@dataclass(frozen=True, slots=True)
class Sorties:
    """How a party generates sorties: rate, daily profile, bases, aircraft, missions."""

    per_day: float
    daily_profile: tuple[float, ...]  # 24 hourly weights
    bases: tuple[tuple[Point, float], ...]
    aircraft: tuple[AircraftType, ...]
    missions: tuple[Mission, ...]
    lane: str | None
    lane_entry_m: tuple[float, float]  # join the lane this far before the mission
    lane_exit_m: tuple[float, float]  # leave it this far after
    altitude_step_m: float


@dataclass(frozen=True, slots=True)
class Planning:
    """How a party's planner uses what the hotline brought (issue 4).

    A sortie is known ``lead_s`` before it departs; at departure the planner routes it
    around the other parties' received, active zones (``margin_m`` clear of them), or,
    when no path exists, delays it (at most ``max_delay_s``) or drops it.
    """

    avoid: bool = True
    margin_m: float = 3704.0  # 2 nmi
    when_blocked: Literal["delay", "drop"] = "delay"
    max_delay_s: float = 6 * 3600.0
    lead_s: tuple[float, float] = (2 * 3600.0, 26 * 3600.0)


@dataclass(frozen=True, slots=True)
class WorkAreas:
    """A party's planned work areas: its racetracks with a buffer, declared or kept secret."""

    enabled: bool = True
    buffer_m: float = 9260.0  # 5 nmi
    vertical_buffer_m: float = 304.8  # 1000 ft
    declare: bool = True


@dataclass(frozen=True, slots=True)
class Party:
    """A party (a side): its sortie generation (None: explicit flights only) and behaviour."""

    id: str
    sorties: Sorties | None = None
    compliance: float = 1.0
    deviations: tuple[Deviation, ...] = ()
    planning: Planning = Planning()
    work_areas: WorkAreas = WorkAreas()


@dataclass(frozen=True, slots=True)
class FlightSpec:
    """An explicit flight, flown exactly as written."""

    id: str
    party: str
    depart_s: float
    speed_mps: float
    altitude_m: float
    route: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class PolygonArea:
    """A polygon zone area; the ring closes itself."""

    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class CircleArea:
    """A circular zone area."""

    center: Point
    radius_m: float


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """A zone owned by a party, active in a time window between a floor and a ceiling."""

    id: str
    party: str
    area: PolygonArea | CircleArea
    floor_m: float
    ceiling_m: float  # math.inf: no ceiling
    active_start_s: float
    active_end_s: float
    declare: bool


@dataclass(frozen=True, slots=True)
class MinSeparationSpec:
    """Two aircraft closer than ``horizontal_m`` (and, if given, than ``vertical_m``)."""

    id: str
    horizontal_m: float
    vertical_m: float | None
    between: tuple[str, str] | None
    complaint: bool = False  # the other side complains of what it saw
    type: str = "min_separation"


@dataclass(frozen=True, slots=True)
class LaneDisciplineSpec:
    """An aircraft inside the corridor farther than ``tolerance_m`` from its party's lane."""

    id: str
    tolerance_m: float
    complaint: bool = True  # the other side complains of what it saw
    type: str = "lane_discipline"


@dataclass(frozen=True, slots=True)
class ZoneIncursionSpec:
    """An aircraft inside an active zone owned by another party."""

    id: str
    complaint: bool = True  # the other side complains of what it saw
    type: str = "zone_incursion"


RuleSpec = MinSeparationSpec | LaneDisciplineSpec | ZoneIncursionSpec


@dataclass(frozen=True, slots=True)
class Reported:
    """A reported rate to compare a rule's simulated rate with (episodes a day)."""

    rule: str
    party: str | None  # None: every episode of the rule
    low_per_day: float
    high_per_day: float
    fact: str


@dataclass(frozen=True, slots=True)
class HotlineSpec:
    """The hotline between the parties' duty officers (SPEC §8)."""

    enabled: bool
    first_call_s: float
    interval_s: float
    latency_s: float
    loss: float
    # Calls at first_call + k * interval + each offset ("three times a week": interval
    # 7 d, pattern [0 d, 2 d, 4 d]).
    pattern_s: tuple[float, ...] = (0.0,)
    adhoc_probability: float = 0.0  # a pop-up work area gets an ad-hoc call
    adhoc_delay_s: float = 3600.0  # that long after the sortie is planned


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario: every default filled, every value in SI units."""

    name: str
    file: str
    seed: int
    duration_s: float
    start: str | None
    frame: Frame
    places: Mapping[str, Point]
    corridor: Corridor | None
    lanes: tuple[Lane, ...]
    parties: Mapping[str, Party]
    flights: tuple[FlightSpec, ...]
    zones: tuple[ZoneSpec, ...]
    rules: tuple[RuleSpec, ...]
    hotline: HotlineSpec
    resolved: Mapping[str, Any] = field(repr=False)
    reported: tuple[Reported, ...] = ()
    # The resource limits it was checked against, and that the run enforces (not part of
    # the scenario: they do not change its outputs, only whether it is allowed to run).
    limits: Limits = field(default=DEFAULT_LIMITS, compare=False, repr=False)

    def resolved_yaml(self, frame_center: tuple[float, float] | None = None) -> str:
        """Return the scenario as run, defaults filled, as YAML text.

        ``frame_center`` (lon, lat) fills in the frame's centre when the scenario left it
        to be computed, so that the file pins the very same frame.
        """
        document = dict(self.resolved)
        if frame_center is not None and self.frame.center is None:
            frame = dict(document.get("frame") or {})
            frame["center"] = [float(frame_center[0]), float(frame_center[1])]
            document["frame"] = frame
            document = {k: document[k] for k in TOP_KEYS if k in document}
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(document, Dumper=dumper, sort_keys=False,
                         allow_unicode=True, default_flow_style=None, width=100)


# ---------------------------------------------------------------------------- YAML reading


# libyaml's parser when PyYAML has it (several times faster on large scenarios).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader (no object construction) that refuses duplicate keys.

    Unquoted dates stay text (the scenario parses ``start`` itself), so a malformed date
    is a scenario error with a key path rather than a failure inside the YAML library.
    """


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
                       ) -> dict[Any, Any]:
    # Duplicates among the keys written here; keys merged in with << may be overridden.
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not {type(key).__name__}",
                key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r} (each key may appear once)", key_node.start_mark)
        seen[key] = key_node
    loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Read a YAML file safely; raise ScenarioError naming the file on any problem."""
    name = str(path)
    try:
        with open(path, "rb") as handle:  # at most the limit and a byte (a pipe has no size)
            data = handle.read(limits.file_bytes + 1)
        if len(data) > limits.file_bytes:
            raise ScenarioError([Problem(name, "", f"is larger than {limits.file_bytes:,} bytes; "
                                         "too large to be a scenario (raise the limit with "
                                         "--limit file_bytes=N)")])
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", "no such file")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(name, "", "is a folder, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read ({exc.strerror})")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(name, "", f"is not UTF-8 text (byte {exc.start}); "
                                     "save the scenario as UTF-8")]) from None
    return parse_yaml(text, name, limits)


def parse_yaml(text: str, name: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse YAML text safely; raise ScenarioError naming ``name`` on any problem."""
    depth = _bracket_depth(text)
    if depth > limits.nesting:
        raise ScenarioError([Problem(name, "", f"nested {depth} levels deep; a scenario needs "
                                     f"at most {limits.nesting}")])
    if len(text) > COUNT_NODES_ABOVE_BYTES and _too_many_nodes(text, limits.nodes):
        raise ScenarioError([Problem(name, "", f"has more than {limits.nodes:,} YAML values, "
                                     "lists and mappings; too large to be a scenario (raise "
                                     "the limit with --limit nodes=N)")])
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(name, where, f"not valid YAML: {problem}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(name, "", "nested too deeply to be a scenario")]) from None
    except Exception as exc:  # noqa: BLE001 - a safe loader's constructors fail on bad
        # explicit tags (!!int abc, !!timestamp foo) in many ways; each is bad input here.
        raise ScenarioError([Problem(name, "", f"not valid YAML ({type(exc).__name__}: "
                                     f"{exc}); remove the explicit !!tag or quote the "
                                     "value")]) from None
    problem = _shape_problem(document, limits)
    if problem:
        raise ScenarioError([Problem(name, "", problem)])
    return document


# PyYAML builds every node of a document before any value (about 0.5 kB each): a large
# file's nodes are counted first, on the parser's event stream, in constant memory.
COUNT_NODES_ABOVE_BYTES = 1 << 20
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                yaml.AliasEvent)


def _too_many_nodes(text: str, limit: int) -> bool:
    count = 0
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            if isinstance(event, _NODE_EVENTS):
                count += 1
                if count > limit:
                    return True
    except yaml.YAMLError:
        return False  # the loader says what is wrong, where
    return False


def _bracket_depth(text: str) -> int:
    """The deepest nesting of flow brackets, found before the parser could recurse on it."""
    if "[" not in text and "{" not in text:
        return 0
    codes = np.frombuffer(text.encode("utf-8"), np.uint8)
    opening = np.zeros(256, np.int8)
    opening[[ord("["), ord("{")]] = 1
    opening[[ord("]"), ord("}")]] = -1
    deepest, depth = 0, 0
    for start in range(0, len(codes), BRACKET_BLOCK):  # blocks: memory stays small
        running = np.cumsum(opening[codes[start:start + BRACKET_BLOCK]], dtype=np.int64) + depth
        deepest = max(deepest, int(running.max(initial=0)))
        depth = int(running[-1])
    return deepest


BRACKET_BLOCK = 1 << 22


def _shape_problem(document: Any, limits: Limits) -> str | None:
    """Refuse documents nested too deeply or too large, counting shared (aliased) parts once."""
    stack = [(document, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, (dict, list)) or id(node) in seen:
            continue
        seen.add(id(node))
        if depth >= limits.nesting:
            return (f"nested more than {limits.nesting} levels deep; a scenario needs far "
                    "fewer")
        if len(seen) > limits.nodes:
            return (f"more than {limits.nodes:,} YAML values, lists and mappings; too large "
                    "to be a scenario (raise the limit with --limit nodes=N)")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)
    return None


# ---------------------------------------------------------------------------- overrides

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split_key_path(key: str) -> list[str | int]:
    parts: list[str | int] = []
    pos = 0
    for match in _SEGMENT.finditer(key):
        if match.start() != pos and key[pos:match.start()] != ".":
            raise ValueError(f"cannot read key path {key!r}")
        name, index = match.groups()
        parts.append(int(index) if index is not None else (int(name) if name.isdigit() else name))
        pos = match.end()
    if pos != len(key) or not parts:
        raise ValueError(f"cannot read key path {key!r}")
    return parts


def apply_override(document: Any, assignment: str) -> Any:
    """Apply one ``KEY.PATH=YAML_VALUE`` override to a scenario document (a copy is returned).

    Lists are indexed with ``[2]`` or ``.2``; a list of items with ids can also be indexed
    by id, for example ``rules.agreed_spacing.horizontal``.

    Raises:
        ValueError: the assignment cannot be read or its path does not fit the document.
    """
    if "=" not in assignment:
        raise ValueError(f"--set {assignment!r}: expected KEY=VALUE, such as "
                         "hotline.latency=\"2 h\"")
    key, _, text = assignment.partition("=")
    try:
        parts = _split_key_path(key.strip())
    except ValueError as exc:
        raise ValueError(f"--set {assignment!r}: {exc}; write a dotted key path such as "
                         "parties.russia.compliance or rules[0].horizontal") from None
    try:
        value = parse_yaml(text, "--set")
    except ScenarioError as exc:
        raise ValueError(f"--set {assignment!r}: the value is not valid YAML "
                         f"({exc.problems[0].message}); quote text values, such as "
                         "hotline.latency=\"2 h\"") from None
    root = copy.deepcopy(document) if document is not None else {}
    if not isinstance(root, dict):
        raise ValueError(f"--set {assignment!r}: the scenario is not a mapping")
    node: Any = root
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = key_path(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            index = _list_index(node, part)
            if index is None:
                raise ValueError(f"--set {assignment!r}: {where} does not exist "
                                 f"(the list has {len(node)} items)")
            if last:
                node[index] = value
            else:
                node = node[index]
        else:
            raise ValueError(f"--set {assignment!r}: {key_path(parts[:depth])} is not a mapping "
                             "or a list, so it has no key " + repr(part))
    return root


def _list_index(items: list[Any], part: str | int) -> int | None:
    if isinstance(part, int):
        return part if 0 <= part < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == part:
            return i
    return None


def key_path(parts: Sequence[str | int]) -> str:
    """Write a key path as ``flights[2].speed``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---------------------------------------------------------------------------- the reader

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
ID_FORM = ("an id of letters, digits, '_', '.' or '-' (at most 64, starting with a letter "
           "or digit), such as C1 or coalition")
POINT_FORM = ("write a point as a place name (raqqa), [lon, lat] in degrees ([39.0, 35.9]) "
              "or {x: \"10 nmi\", y: \"-4 nmi\"} in the frame")
RULE_TYPES = ("min_separation", "lane_discipline", "zone_incursion")
TOP_KEYS = ("name", "description", "seed", "duration", "start", "frame", "places", "corridor",
            "lanes", "parties", "flights", "zones", "rules", "hotline", "reported")
DEFAULT_DURATION = "1 d"
WORK_AREA_PREFIX = "work."  # the ids of generated work areas (sim.workareas)
# Limits that keep a run's memory and time bounded; see the README.
MIN_DURATION_S = 1.0
MIN_ZONE_RADIUS_M = 1.0  # a circle is drawn as a polygon: below this it is no shape at all
MIN_SPEED_MPS = 0.1
# The largest magnitude a value of each kind may have: beyond these a value is a typo,
# and the geometry would no longer mean anything (half the Earth's circumference, the
# edge of the atmosphere, Mach 30).
MAGNITUDE_LIMITS: dict[Kind, tuple[float, str]] = {
    "distance": (2.0e7, "20000 km"),
    "altitude": (1.0e5, "100 km"),
    "speed": (1.0e4, "10 km/s"),
    "duration": (1000 * 365.25 * 86_400.0, "1000 years"),
}
DEFAULT_HALF_WIDTH = "40 mi"
HOTLINE_DEFAULTS: dict[str, Any] = {"enabled": True, "first_call": "6 h", "interval": "24 h",
                                    "pattern": ["0 s"], "latency": "30 min", "loss": 0.0,
                                    "adhoc": {"probability": 0.0, "delay": "1 h"}}


class _Reader:
    """Walks a scenario document, fills defaults in place, and collects problems."""

    def __init__(self, file: str, names: set[str]) -> None:
        self.file = file
        self.names = names  # known place names
        self.problems: list[Problem] = []
        # Sections that had errors: defaults derived from them are not computed (and not
        # reported again as errors of their own).
        self.broken: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def mapping(self, value: Any, path: str, allowed: Sequence[str], what: str
                ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected {what} (a mapping of keys), got {_describe(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.error(path, f"key {key!r} is not text; keys are names such as "
                                 f"{allowed[0] if allowed else 'id'}")
            elif key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                accepted = (f"accepted keys: {', '.join(allowed)}" if allowed
                            else f"{what} take no keys here")
                # A key that cannot stand in a key path as it is (empty, spaces, dots) is
                # named in quotes.
                shown = key if re.fullmatch(r"[^\s.\[\]'\"]+", key) else repr(key)
                self.error(_join(path, shown), f"unknown key; {suggestion}{accepted}")
        return value

    def quantity(self, node: dict[str, Any], key: str, path: str, kind: Kind, *,
                 default: Any = MISSING, minimum: float | None = None,
                 strict_minimum: bool = False) -> float | None:
        where = _join(path, key)
        if key not in node or node[key] is None:
            if default is MISSING:
                self.error(where, f"required; {accepted_forms(kind)}")
                return None
            node[key] = default
            if default is None:
                return None
        try:
            value = parse_quantity(node[key], kind).si
        except QuantityError as exc:
            self.error(where, str(exc))
            return None
        limit, limit_text = MAGNITUDE_LIMITS[kind]
        if abs(value) > limit:
            self.error(where, f"{node[key]!r} is beyond any sensible {kind} (at most "
                              f"{limit_text}); {accepted_forms(kind)}")
            return None
        if minimum is not None and (value < minimum or (strict_minimum and value == minimum)):
            bound = "greater than" if strict_minimum else "at least"
            self.error(where, f"{node[key]!r} must be {bound} {format_si(minimum, kind)}; "
                              f"{accepted_forms(kind)}")
            return None
        return value

    def identifier(self, value: Any, path: str) -> str | None:
        if isinstance(value, str) and _ID.fullmatch(value):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.error(path, f"{value!r} is a number; quote it to make it an id, "
                             f"such as \"{value}\"")
            return None
        self.error(path, f"{_describe(value)} is not a valid id; {ID_FORM}")
        return None

    def party(self, value: Any, path: str, parties: Mapping[str, Party]) -> str | None:
        name = self.identifier(value, path)
        if name is None:
            return None
        if name not in parties:
            known = ", ".join(parties) or "none are defined"
            self.error(path, f"unknown party {name!r}; it must be a key of parties ({known})")
            return None
        return name

    def point(self, value: Any, path: str, allow_names: bool = True) -> Point | None:
        if isinstance(value, str):
            if not allow_names:
                self.error(path, "a place must be defined by coordinates, not by another "
                                 "name; write [lon, lat] or {x: ..., y: ...}")
                return None
            if value not in self.names:
                hint = difflib.get_close_matches(value, sorted(self.names), n=3)
                suggestion = f" (did you mean {', '.join(hint)}?)" if hint else ""
                self.error(path, f"unknown place {value!r}{suggestion}; use a built-in place, "
                                 "add it under places:, or " + POINT_FORM.split("as ", 1)[1])
                return None
            return PlaceRef(value)
        if isinstance(value, list):
            if len(value) != 2 or not all(_is_number(v) for v in value):
                self.error(path, f"expected [lon, lat], two numbers in degrees; {POINT_FORM}")
                return None
            lon, lat = float(value[0]), float(value[1])
            if not (math.isfinite(lon) and math.isfinite(lat)) or not (
                    -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                self.error(path, f"[{value[0]}, {value[1]}] is not [lon, lat]: lon must lie in "
                                 "-180..180 and lat in -90..90 degrees, e.g. [39.0, 35.9]")
                return None
            return LonLat(lon, lat)
        if isinstance(value, dict):
            node = self.mapping(value, path, ("x", "y"), "a frame point")
            if node is None:
                return None
            x = self.quantity(node, "x", path, "distance")
            y = self.quantity(node, "y", path, "distance")
            return None if x is None or y is None else FramePoint(x, y)
        self.error(path, f"{_describe(value)} is not a point; {POINT_FORM}")
        return None

    def points(self, value: Any, path: str, minimum: int, what: str) -> tuple[Point, ...] | None:
        if not isinstance(value, list) or len(value) < minimum:
            self.error(path, f"expected {what}: a list of at least {minimum} points; "
                             f"{POINT_FORM}")
            return None
        result = [self.point(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if any(p is None for p in result):
            return None
        return tuple(p for p in result if p is not None)

    def boolean(self, node: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = node.setdefault(key, default)
        if value is None:
            node[key] = value = default
        if not isinstance(value, bool):
            self.error(_join(path, key), f"{_describe(value)} is not true or false")
            return default
        return value

    def items(self, value: Any, path: str, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list of {what}, got {_describe(value)}")
            return []
        return value

    def unique(self, ids: list[tuple[str | None, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for ident, path in ids:
            if ident is None:
                continue
            if ident in seen:
                self.error(path, f"duplicate {what} id {ident!r} (also at {seen[ident]}); "
                                 "ids must be unique")
            else:
                seen[ident] = path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_number(value: Any) -> bool:
    """A YAML number that is a float, or an integer a float can hold (not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, int) or abs(value) <= MAX_FLOAT_INT


MAX_FLOAT_INT = int(sys.float_info.max)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 3, 30, 30


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {_SHORT.repr(value)}"


# ---------------------------------------------------------------------------- the pipeline


def load_scenario(path: str | Path, overrides: Sequence[str] = (), *,
                  seed: int | None = None, duration: str | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """Load, override, default and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: ``KEY=VALUE`` assignments, applied before validation (``--set``).
        seed: replaces the file's ``seed``.
        duration: replaces the file's ``duration`` (a duration text such as ``"7 d"``).
        limits: the resource limits to check it against (``sim.limits``).

    Raises:
        ScenarioError: listing every problem found, each naming the file and key path.
    """
    document = scenario_document(path, overrides, seed=seed, duration=duration, limits=limits)
    return parse_scenario(document, str(path), default_name=Path(path).stem, limits=limits)


def scenario_document(path: str | Path, overrides: Sequence[str] = (), *,
                      seed: int | None = None, duration: str | None = None,
                      limits: Limits = DEFAULT_LIMITS) -> Any:
    """A scenario file read as YAML, with the overrides, seed and duration applied, not
    yet validated (``load_scenario`` validates it; a sweep varies it first)."""
    document = read_yaml(path, limits)
    name = str(path)
    problems: list[Problem] = []
    for assignment in overrides:
        try:
            document = apply_override(document, assignment)
        except ValueError as exc:
            problems.append(Problem(name, "", str(exc)))
    if problems:
        raise ScenarioError(problems)
    if document is None:
        document = {}
    if isinstance(document, dict):
        document = dict(document)  # parse_scenario copies deeply; top-level keys change here
        if seed is not None:
            document["seed"] = seed
        if duration is not None:
            document["duration"] = duration
    return document


def parse_scenario(document: Any, file: str = "<scenario>", default_name: str = "scenario",
                   limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """Validate a scenario document (already read from YAML) into a Scenario.

    The document is copied, never modified. Raises ScenarioError with every problem.
    """
    document = copy.deepcopy(document)
    places_names = set(builtin_places())
    if isinstance(document, dict) and isinstance(document.get("places"), dict):
        places_names |= {k for k in document["places"] if isinstance(k, str)}
    r = _Reader(file, places_names)
    top = r.mapping(document, "", TOP_KEYS, "a scenario")
    if top is None:
        raise ScenarioError(r.problems)

    name = top.setdefault("name", _slug(default_name))
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or "\n" in name:
        r.error("name", f"{_describe(name)} is not a scenario name; write one line of text "
                        "(at most 100 characters) such as euphrates-dec2017")
        name = _slug(default_name)
    description = top.get("description")
    if description is not None and not isinstance(description, str):
        r.error("description", f"{_describe(description)} is not text; write "
                               "description: \"what the scenario is for\"")
    seed = top.setdefault("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        r.error("seed", f"{_describe(seed)} is not a seed; write a whole number from 0 to "
                        "2**63-1, such as seed: 7")
        seed = 0
    duration_s = r.quantity(top, "duration", "", "duration", default=DEFAULT_DURATION,
                            minimum=0.0, strict_minimum=True)
    if duration_s is not None and duration_s < MIN_DURATION_S:
        r.error("duration", f"{top['duration']!r} is shorter than the shortest run this tool "
                            "takes (1 s); write a duration such as \"7 d\"")
        duration_s = None
    if duration_s is None:
        r.broken.add("duration")
    start = _read_start(r, top)

    places = _read_places(r, top)
    corridor = _read_corridor(r, top)
    frame = _read_frame(r, top, corridor, places)
    parties = _read_parties(r, top)
    lanes = _read_lanes(r, top, parties, corridor)
    parties = _read_party_settings(r, top, parties, lanes)
    flights = _read_flights(r, top, parties)
    zones = _read_zones(r, top, parties)
    rules = _read_rules(r, top, parties, lanes)
    hotline = _read_hotline(r, top)
    reported = _read_reported(r, top, parties, rules)
    # The call schedule is also the parties' planning cycle (work areas are grouped by it),
    # so it is bounded even when the hotline is off.
    hotline_ok = not any(p.path == "hotline" or p.path.startswith("hotline.")
                         for p in r.problems)
    if hotline_ok and duration_s is not None and duration_s > hotline.first_call_s:
        calls = (duration_s - hotline.first_call_s) / hotline.interval_s * len(hotline.pattern_s)
        # At least one work area per mission is declared at every call while it lasts.
        areas = sum(len(p.sorties.missions) for p in parties.values()
                    if p.sorties is not None and p.work_areas.enabled and p.work_areas.declare)
        messages = calls * (sum(z.declare for z in zones) + areas) * max(len(parties) - 1, 0)
        if calls > limits.hotline_calls or messages > limits.declarations:
            r.error("hotline.interval", f"{top['hotline']['interval']!r} makes {calls:,.0f} "
                    f"calls (about {messages:,.0f} declarations) in this run, more than "
                    f"{limits.hotline_calls:,} calls or {limits.declarations:,} declarations; "
                    "write a longer interval such as \"24 h\" (or raise the limit with "
                    "--limit hotline_calls=N or --limit declarations=N)")
    if duration_s is not None:
        _check_sizes(r, top, duration_s, parties, flights, zones, limits)

    if r.problems:
        raise ScenarioError(r.problems)
    assert duration_s is not None
    # The resolved document in the contract's order, whatever order the file used.
    resolved = {k: top[k] for k in TOP_KEYS if k in top}
    return Scenario(name=name, file=file, seed=seed, duration_s=duration_s, start=start,
                    frame=frame, places=places, corridor=corridor, lanes=lanes,
                    parties=parties, flights=flights, zones=zones, rules=rules,
                    hotline=hotline, resolved=resolved, reported=reported, limits=limits)


def _check_sizes(r: _Reader, top: dict[str, Any], duration_s: float,
                 parties: Mapping[str, Party], flights: Sequence[FlightSpec],
                 zones: Sequence[ZoneSpec], limits: Limits) -> None:
    """Refuse, before anything is run, a scenario that asks for more flights, waypoints or
    zone vertices than the limits allow (generated sorties at their expected number)."""
    expected = {name: p.sorties.per_day * duration_s / 86_400.0 for name, p in parties.items()
                if p.sorties is not None}
    total = len(flights) + sum(expected.values())
    if total > limits.flights:
        busiest = max(expected, key=lambda n: expected[n]) if expected else None
        path = f"parties.{busiest}.sorties_per_day" if busiest else "flights"
        r.error(path, f"this run would fly about {total:,.0f} flights "
                f"({len(flights):,} written, {sum(expected.values()):,.0f} generated over "
                f"{top.get('duration')!r}), more than the limit of {limits.flights:,}; "
                "shorten the duration or lower the rate (or raise the limit with "
                "--limit flights=N)")
    points = sum(len(f.route) for f in flights)
    if points > limits.waypoints:
        r.error("flights", f"the flights' routes have {points:,} points in all, more than "
                f"the limit of {limits.waypoints:,}; split the scenario (or raise the limit "
                "with --limit waypoints=N)")
    laps, path = _racetrack_points(parties, expected)
    if points + laps > limits.waypoints:
        r.error(path, f"the sorties' racetrack laps alone would have at least about "
                f"{laps:,.0f} waypoints over {top.get('duration')!r}, more than the limit of "
                f"{limits.waypoints:,} for all flights together; shorten the time on station, "
                "lengthen the racetrack or lower the rate (or raise the limit with "
                "--limit waypoints=N)")
    vertices = sum(len(z.area.points) for z in zones if isinstance(z.area, PolygonArea))
    if vertices > limits.zone_vertices:
        r.error("zones", f"the zones' outlines have {vertices:,} vertices in all, more than "
                f"the limit of {limits.zone_vertices:,}; simplify them (or raise the limit "
                "with --limit zone_vertices=N)")


def _racetrack_points(parties: Mapping[str, Party], expected: Mapping[str, float]
                      ) -> tuple[float, str]:
    """A low estimate of the waypoints generated sorties fly in racetrack laps (their
    expected number, each at its least time on station and slowest aircraft), and the
    key path of the mission that weighs most."""
    total, heaviest, path = 0.0, -1.0, "parties"
    for name, party in parties.items():
        sorties = party.sorties
        if sorties is None:
            continue
        speed_mps = min(a.speed_mps for a in sorties.aircraft)
        shares = sum(m.share for m in sorties.missions) or 1.0
        for k, mission in enumerate(sorties.missions):
            # A lap is at most twice (length + width) long (four times here: a lane's bends
            # lengthen the outer side) and has at least four waypoints (six, straight).
            lap_m = 4.0 * (mission.racetrack_length_m + mission.racetrack_width_m)
            laps = math.floor(min(mission.time_on_station_s[0] * speed_mps / lap_m, 1e18))
            points = expected[name] * mission.share / shares * 4.0 * laps
            total += points
            if points > heaviest:
                heaviest, path = points, f"parties.{name}.missions[{k}].time_on_station"
    return total, path


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.")[:100]
    return slug or "scenario"


def _read_start(r: _Reader, top: dict[str, Any]) -> str | None:
    value = top.get("start")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        top["start"] = text
        return text
    if isinstance(value, dt.date):
        text = f"{value.isoformat()}T00:00:00Z"
        top["start"] = text
        return text
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return value
    r.error("start", f"{_describe(value)} is not a date and time; write an ISO 8601 time "
                     "such as 2017-12-01T00:00:00Z")
    return None


def _read_places(r: _Reader, top: dict[str, Any]) -> dict[str, Point]:
    raw = top.get("places") or {}
    names = tuple(k for k in raw if isinstance(k, str)) if isinstance(raw, dict) else ()
    places: dict[str, Point] = {}
    for name, value in (r.mapping(raw, "places", names, "places") or {}).items():
        where = _join("places", str(name))
        if r.identifier(name, where) is None:
            continue
        point = r.point(value, where, allow_names=False)
        if point is not None:
            places[name] = point
    return places


def _read_corridor(r: _Reader, top: dict[str, Any]) -> Corridor | None:
    if top.get("corridor") is None:
        top.pop("corridor", None)
        return None
    node = r.mapping(top["corridor"], "corridor", ("centerline", "half_width"), "the corridor")
    if node is None:
        return None
    centerline: str | tuple[Point, ...] | None
    raw = node.setdefault("centerline", "euphrates")
    if isinstance(raw, str):
        centerline = raw
        if raw not in builtin_centerlines():
            r.error("corridor.centerline", f"unknown centerline {raw!r}; use one of "
                    f"{', '.join(builtin_centerlines())} or a list of points")
            centerline = None
    else:
        centerline = r.points(raw, "corridor.centerline", 2, "a centerline")
    half_width = r.quantity(node, "half_width", "corridor", "distance",
                            default=DEFAULT_HALF_WIDTH, minimum=0.0, strict_minimum=True)
    if centerline is None or half_width is None:
        return None
    return Corridor(centerline, half_width)


def _read_frame(r: _Reader, top: dict[str, Any], corridor: Corridor | None,
                places: Mapping[str, Point]) -> Frame:
    node = r.mapping(top.get("frame") or {}, "frame", ("center",), "the frame") or {}
    if "frame" in top and top["frame"] is None:
        top["frame"] = node
    value = node.get("center")
    if value is None:
        if corridor is not None and not isinstance(corridor.centerline, str) and any(
                isinstance(p, FramePoint) or (isinstance(p, PlaceRef) and isinstance(
                    places.get(p.name), FramePoint)) for p in corridor.centerline):
            r.error("frame.center", "required when corridor.centerline has {x, y} points, "
                                    "since those are measured from it; write [lon, lat]")
        return Frame(None)
    point = r.point(value, "frame.center")
    if isinstance(point, PlaceRef) and isinstance(places.get(point.name), FramePoint):
        point = places[point.name]
    if isinstance(point, FramePoint):
        r.error("frame.center", "the frame's centre cannot be given in the frame itself; "
                                "write [lon, lat] or a place name")
        point = None
    return Frame(point)


def _read_parties(r: _Reader, top: dict[str, Any]) -> dict[str, Party]:
    raw = top.get("parties")
    if raw is None:
        top["parties"] = {}
        return {}
    node = r.mapping(raw, "parties", tuple(k for k in raw if isinstance(k, str))
                     if isinstance(raw, dict) else (), "parties")
    parties: dict[str, Party] = {}
    for pid, settings in (node or {}).items():
        where = _join("parties", str(pid))
        if r.identifier(pid, where) is None:
            continue
        if settings is None:
            node[pid] = settings = {}  # type: ignore[index]
        if r.mapping(settings, where, PARTY_KEYS, "party settings") is not None:
            parties[pid] = Party(pid)
    return parties


PARTY_KEYS = ("sorties_per_day", "daily_profile", "bases", "aircraft", "missions", "lane",
              "lane_entry", "lane_exit", "altitude_step", "planning", "work_areas",
              "compliance", "deviations")
PLANNING_DEFAULTS: dict[str, Any] = {"avoid": True, "margin": "2 nmi", "when_blocked": "delay",
                                     "max_delay": "6 h", "lead": ["2 h", "26 h"]}
WORK_AREA_DEFAULTS: dict[str, Any] = {"enabled": True, "buffer": "5 nmi",
                                      "vertical_buffer": "1000 ft", "declare": True}
DEVIATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "shortcut": {"weight": 1.0, "length": ["30 km", "90 km"]},
    "drift": {"weight": 1.0, "length": ["20 km", "60 km"], "beyond": ["2 km", "20 km"]},
    "close_approach": {"weight": 0.0, "miss": ["50 m", "3 km"], "vertical": "500 ft",
                       "reach": "150 km"},
}


def _read_party_settings(r: _Reader, top: dict[str, Any], parties: dict[str, Party],
                         lanes: tuple[Lane, ...]) -> dict[str, Party]:
    """Second pass over parties, once lanes are known: sorties, compliance, deviations."""
    out = dict(parties)
    for pid in parties:
        node = top["parties"][pid]
        where = _join("parties", pid)
        compliance = node.setdefault("compliance", 1.0)
        if not _is_number(compliance) or not 0.0 <= float(compliance) <= 1.0:
            r.error(_join(where, "compliance"), f"{_describe(compliance)} is not a probability; "
                    "write a number from 0 (never keeps the rules) to 1 (always), such as 0.9")
            compliance = 1.0
        deviations = _read_deviations(r, node, where)
        sorties = _read_sorties(r, node, where, pid, lanes) if "sorties_per_day" in node \
            else None
        if "sorties_per_day" not in node:
            for key in PARTY_KEYS[1:11]:
                if key in node:
                    r.error(_join(where, key), "only used with sorties_per_day; add "
                            "sorties_per_day: 40 or remove this key")
        planning, work_areas = Planning(), WorkAreas()
        if sorties is not None:
            planning = _read_planning(r, node, where) or planning
            work_areas = _read_work_areas(r, node, where) or work_areas
        out[pid] = Party(pid, sorties, float(compliance), deviations, planning, work_areas)
    return out


def _section(r: _Reader, node: dict[str, Any], where: str, key: str,
             defaults: Mapping[str, Any], what: str) -> tuple[dict[str, Any] | None, str]:
    """A party's optional sub-section (missing or null reads as empty), and its path."""
    path = _join(where, key)
    raw = node.setdefault(key, {})
    node[key] = raw = {} if raw is None else raw
    return r.mapping(raw, path, tuple(defaults), what), path


def _read_planning(r: _Reader, node: dict[str, Any], where: str) -> Planning | None:
    spec, path = _section(r, node, where, "planning", PLANNING_DEFAULTS, "planning")
    if spec is None:
        return None
    avoid = r.boolean(spec, "avoid", path, True)
    margin = r.quantity(spec, "margin", path, "distance", default=PLANNING_DEFAULTS["margin"],
                        minimum=0.0)
    policy = spec.setdefault("when_blocked", "delay")
    if policy not in ("delay", "drop"):
        r.error(_join(path, "when_blocked"), f"{_describe(policy)} is not a policy; write "
                "when_blocked: delay (wait until the way is clear, at most max_delay) or "
                "when_blocked: drop")
        return None
    max_delay = r.quantity(spec, "max_delay", path, "duration",
                           default=PLANNING_DEFAULTS["max_delay"], minimum=0.0)
    lead = _read_range(r, spec, "lead", path, "duration", list(PLANNING_DEFAULTS["lead"]))
    if None in (margin, max_delay, lead):
        return None
    return Planning(avoid, margin, policy, max_delay, lead)  # type: ignore[arg-type]


def _read_work_areas(r: _Reader, node: dict[str, Any], where: str) -> WorkAreas | None:
    spec, path = _section(r, node, where, "work_areas", WORK_AREA_DEFAULTS, "work areas")
    if spec is None:
        return None
    enabled = r.boolean(spec, "enabled", path, True)
    buffer = r.quantity(spec, "buffer", path, "distance",
                        default=WORK_AREA_DEFAULTS["buffer"], minimum=0.0)
    vertical = r.quantity(spec, "vertical_buffer", path, "distance",
                          default=WORK_AREA_DEFAULTS["vertical_buffer"], minimum=0.0)
    declare = r.boolean(spec, "declare", path, True)
    if buffer is None or vertical is None:
        return None
    return WorkAreas(enabled, buffer, vertical, declare)


def _read_range(r: _Reader, node: dict[str, Any], key: str, path: str, kind: Kind,
                default: Any, minimum: float = 0.0) -> tuple[float, float] | None:
    """A value or a [low, high] range of one kind of quantity."""
    where = _join(path, key)
    if node.get(key) is None and default is MISSING:
        r.error(where, f"required; {accepted_forms(kind)}, or a [low, high] range")
        return None
    # A copy: a default shared between nodes would be written out as a YAML alias.
    value = node.setdefault(key, copy.deepcopy(default))
    if value is None:
        node[key] = value = copy.deepcopy(default)
    items = value if isinstance(value, list) else [value]
    if len(items) not in (1, 2):
        r.error(where, f"expected one {kind} or a [low, high] range; {accepted_forms(kind)}")
        return None
    holder = {str(i): v for i, v in enumerate(items)}
    values = [r.quantity(holder, str(i), where, kind, minimum=minimum) for i in range(len(items))]
    if any(v is None for v in values):
        return None
    low, high = values[0], values[-1]
    assert low is not None and high is not None
    if high < low:
        r.error(where, f"the range {value!r} runs backwards; write [low, high]")
        return None
    return low, high


def _read_share(r: _Reader, node: dict[str, Any], where: str) -> float | None:
    share = node.setdefault("share", 1.0)
    if not _is_number(share) or not 0.0 < float(share) < math.inf:
        r.error(_join(where, "share"), f"{_describe(share)} is not a share; write a positive "
                                       "number (shares are relative), such as share: 0.4")
        return None
    return float(share)


def _read_deviations(r: _Reader, node: dict[str, Any], where: str) -> tuple[Deviation, ...]:
    raw = node.setdefault("deviations", {})
    path = _join(where, "deviations")
    if raw is None:
        node["deviations"] = raw = {}
    table = r.mapping(raw, path, tuple(DEVIATION_DEFAULTS), "deviations")
    if table is None:
        return ()
    for cause, default in DEVIATION_DEFAULTS.items():
        if cause not in table:
            table[cause] = copy.deepcopy(default)
    deviations = []
    for cause in DEVIATION_DEFAULTS:
        here = _join(path, cause)
        spec = r.mapping(table[cause], here, tuple(DEVIATION_DEFAULTS[cause]), "a deviation")
        if spec is None:
            continue
        weight = spec.setdefault("weight", DEVIATION_DEFAULTS[cause]["weight"])
        if not _is_number(weight) or not 0.0 <= float(weight) < math.inf:
            r.error(_join(here, "weight"), f"{_describe(weight)} is not a weight; write a "
                                           "number of 0 or more, such as weight: 1")
            continue
        if cause == "close_approach":
            miss = _read_range(r, spec, "miss", here, "distance",
                               DEVIATION_DEFAULTS[cause]["miss"])
            vertical = r.quantity(spec, "vertical", here, "distance",
                                  default=DEVIATION_DEFAULTS[cause]["vertical"], minimum=0.0)
            reach = r.quantity(spec, "reach", here, "distance",
                               default=DEVIATION_DEFAULTS[cause]["reach"], minimum=0.0)
            if None not in (miss, vertical, reach):
                deviations.append(Deviation(cause, float(weight), (0.0, 0.0), (0.0, 0.0),
                                            miss, vertical, reach))  # type: ignore[arg-type]
            continue
        length = _read_range(r, spec, "length", here, "distance",
                             DEVIATION_DEFAULTS[cause]["length"])
        beyond = (_read_range(r, spec, "beyond", here, "distance",
                              DEVIATION_DEFAULTS[cause]["beyond"])
                  if cause == "drift" else (0.0, 0.0))
        if length is not None and beyond is not None:
            deviations.append(Deviation(cause, float(weight), length, beyond))
    if deviations and sum(d.weight for d in deviations) <= 0.0:
        r.error(path, "every deviation has weight 0; give at least one a positive weight")
    return tuple(deviations)


def _read_sorties(r: _Reader, node: dict[str, Any], where: str, party: str,
                  lanes: tuple[Lane, ...]) -> Sorties | None:
    ok = True
    per_day = node["sorties_per_day"]
    if not _is_number(per_day) or not 0.0 <= float(per_day) <= 100_000.0:
        r.error(_join(where, "sorties_per_day"), f"{_describe(per_day)} is not a rate; write "
                "the mean number of sorties a day (0 to 100000), such as sorties_per_day: 40")
        ok = False
    profile = _read_profile(r, node, where)
    bases = _read_bases(r, node, where)
    aircraft = []
    for i, value in enumerate(r.items(node.get("aircraft"), _join(where, "aircraft"),
                                      "aircraft")):
        here = f"{_join(where, 'aircraft')}[{i}]"
        spec = r.mapping(value, here, ("type", "speed", "altitude", "share"), "an aircraft")
        if spec is None:
            continue
        kind = spec.get("type")
        if not isinstance(kind, str) or not kind.strip():
            r.error(_join(here, "type"), "required: the aircraft type as text, such as Su-24")
        speed = r.quantity(spec, "speed", here, "speed", minimum=MIN_SPEED_MPS)
        altitude = _read_range(r, spec, "altitude", here, "altitude", MISSING, minimum=-1e3)
        share = _read_share(r, spec, here)
        if isinstance(kind, str) and kind.strip() and None not in (speed, altitude, share):
            aircraft.append(AircraftType(kind, speed, altitude, share))  # type: ignore[arg-type]
    if not aircraft:
        r.error(_join(where, "aircraft"), "a party that generates sorties needs at least one "
                "aircraft; write aircraft: [{type: Su-24, speed: \"430 kt\", "
                "altitude: [FL150, FL250]}]")
        ok = False
    missions = []
    for i, value in enumerate(r.items(node.get("missions"), _join(where, "missions"),
                                      "missions")):
        here = f"{_join(where, 'missions')}[{i}]"
        spec = r.mapping(value, here, ("area", "share", "time_on_station", "racetrack"),
                         "a mission")
        if spec is None:
            continue
        area = r.point(spec.get("area"), _join(here, "area"))
        share = _read_share(r, spec, here)
        station = _read_range(r, spec, "time_on_station", here, "duration", "45 min")
        track = spec.setdefault("racetrack", {"length": "40 km", "width": "10 km"})
        shape = r.mapping(track, _join(here, "racetrack"), ("length", "width"), "a racetrack")
        length = width = None
        if shape is not None:
            length = r.quantity(shape, "length", _join(here, "racetrack"), "distance",
                                default="40 km", minimum=0.0, strict_minimum=True)
            width = r.quantity(shape, "width", _join(here, "racetrack"), "distance",
                               default="10 km", minimum=0.0, strict_minimum=True)
        if None not in (area, share, station, length, width):
            missions.append(Mission(area, share, station, length, width))  # type: ignore[arg-type]
    if not missions:
        r.error(_join(where, "missions"), "a party that generates sorties needs at least one "
                "mission area; write missions: [{area: raqqa, time_on_station: \"45 min\"}]")
        ok = False
    lane = _read_party_lane(r, node, where, party, lanes)
    entry = _read_range(r, node, "lane_entry", where, "distance", ["60 km", "150 km"])
    exit_ = _read_range(r, node, "lane_exit", where, "distance", ["60 km", "150 km"])
    step = r.quantity(node, "altitude_step", where, "distance", default="1000 ft", minimum=0.0)
    if not ok or None in (profile, bases, entry, exit_, step, lane) or r.problems and any(
            p.path.startswith(where + ".") for p in r.problems):
        return None
    return Sorties(float(per_day), profile, bases, tuple(aircraft), tuple(missions),  # type: ignore[arg-type]
                   lane or None, entry, exit_, step)  # type: ignore[arg-type]


def _read_profile(r: _Reader, node: dict[str, Any], where: str) -> tuple[float, ...] | None:
    value = node.setdefault("daily_profile", "flat")
    if value == "flat":
        return (1.0,) * 24
    if (isinstance(value, list) and len(value) == 24 and all(_is_number(v) and 0 <= v < math.inf
                                                             for v in value)
            and sum(value) > 0):
        return tuple(float(v) for v in value)
    r.error(_join(where, "daily_profile"), "expected flat, or 24 hourly weights (0 or more, "
            "not all 0), one for each hour from the scenario's start: [1, 1, ..., 1]")
    return None


def _read_bases(r: _Reader, node: dict[str, Any], where: str
                ) -> tuple[tuple[Point, float], ...] | None:
    value = node.get("bases")
    path = _join(where, "bases")
    form = "write bases: [hmeimim, t4] or bases: {hmeimim: 3, t4: 1} (relative weights)"
    pairs: list[tuple[Point, float]] = []
    if isinstance(value, list) and value:
        for i, item in enumerate(value):
            point = r.point(item, f"{path}[{i}]")
            if point is not None:
                pairs.append((point, 1.0))
        return tuple(pairs) if len(pairs) == len(value) else None
    if isinstance(value, dict) and value:
        for name, weight in value.items():
            point = r.point(name, _join(path, str(name)))
            if not _is_number(weight) or not 0.0 < float(weight) < math.inf:
                r.error(_join(path, str(name)), f"{_describe(weight)} is not a weight; {form}")
                point = None
            if point is not None:
                pairs.append((point, float(weight)))
        return tuple(pairs) if len(pairs) == len(value) else None
    r.error(path, f"a party that generates sorties needs bases; {form}")
    return None


def _read_party_lane(r: _Reader, node: dict[str, Any], where: str, party: str,
                     lanes: tuple[Lane, ...]) -> str | None:
    """The lane the party's sorties fly: given, or its only lane; "" when it has none."""
    own = [lane.id for lane in lanes if lane.party == party]
    value = node.get("lane")
    if value is None:
        if len(own) > 1:
            r.error(_join(where, "lane"), f"the party has lanes {', '.join(own)}; say which "
                    f"its sorties fly, such as lane: {own[0]}")
            return None
        node["lane"] = own[0] if own else None
        return own[0] if own else ""
    if value not in own:
        r.error(_join(where, "lane"), f"{_describe(value)} is not a lane of {party}; use one "
                f"of: {', '.join(own) or 'none (define lanes first)'}")
        return None
    return str(value)


def _read_lanes(r: _Reader, top: dict[str, Any], parties: Mapping[str, Party],
                corridor: Corridor | None) -> tuple[Lane, ...]:
    raw = top.get("lanes")
    if raw is None:
        return ()
    node = r.mapping(raw, "lanes", tuple(k for k in raw if isinstance(k, str))
                     if isinstance(raw, dict) else (), "lanes")
    if node and corridor is None and "corridor" not in top:
        r.error("lanes", "lanes are offsets of the corridor's centerline, so a corridor is "
                         "needed; add corridor: {centerline: euphrates, half_width: \"40 mi\"}")
    lanes = []
    problems_before = len(r.problems)
    for lid, value in (node or {}).items():
        where = _join("lanes", str(lid))
        ident = r.identifier(lid, where)
        lane = r.mapping(value, where, ("party", "offset", "direction"), "a lane")
        if lane is None or ident is None:
            continue
        party = r.party(lane.get("party"), _join(where, "party"), parties)
        offset = r.quantity(lane, "offset", where, "distance")
        direction = lane.get("direction")
        if direction not in ("downstream", "upstream"):
            r.error(_join(where, "direction"), f"{_describe(direction)} is not a direction; "
                                               "write downstream or upstream")
            continue
        if party is not None and offset is not None:
            lanes.append(Lane(ident, party, offset, direction))
    if len(r.problems) > problems_before:
        r.broken.add("lanes")
    return tuple(lanes)


def _read_flights(r: _Reader, top: dict[str, Any], parties: Mapping[str, Party]
                  ) -> tuple[FlightSpec, ...]:
    flights = []
    ids: list[tuple[str | None, str]] = []
    keys = ("id", "party", "depart", "speed", "altitude", "route")
    for i, value in enumerate(r.items(top.get("flights"), "flights", "flights")):
        where = f"flights[{i}]"
        node = r.mapping(value, where, keys, "a flight")
        if node is None:
            continue
        ident = r.identifier(node.get("id"), _join(where, "id"))
        ids.append((ident, _join(where, "id")))
        party = r.party(node.get("party"), _join(where, "party"), parties)
        depart = r.quantity(node, "depart", where, "duration", default="0 s", minimum=0.0)
        speed = r.quantity(node, "speed", where, "speed", minimum=MIN_SPEED_MPS)
        altitude = r.quantity(node, "altitude", where, "altitude")
        route = r.points(node.get("route"), _join(where, "route"), 2, "a route")
        if None in (ident, party, depart, speed, altitude, route):
            continue
        flights.append(FlightSpec(ident, party, depart, speed, altitude, route))  # type: ignore[arg-type]
    r.unique(ids, "flight")
    return tuple(flights)


def _read_zones(r: _Reader, top: dict[str, Any], parties: Mapping[str, Party]
                ) -> tuple[ZoneSpec, ...]:
    zones = []
    ids: list[tuple[str | None, str]] = []
    keys = ("id", "party", "area", "floor", "ceiling", "active", "declare")
    for i, value in enumerate(r.items(top.get("zones"), "zones", "zones")):
        where = f"zones[{i}]"
        node = r.mapping(value, where, keys, "a zone")
        if node is None:
            continue
        ident = r.identifier(node.get("id"), _join(where, "id"))
        if ident is not None and ident.startswith(WORK_AREA_PREFIX):
            r.error(_join(where, "id"), f"{ident!r}: ids beginning with "
                    f"{WORK_AREA_PREFIX!r} are kept for the parties' work areas; rename the "
                    "zone, such as hajin_strikes")
            ident = None
        ids.append((ident, _join(where, "id")))
        party = r.party(node.get("party"), _join(where, "party"), parties)
        area = _read_area(r, node.get("area"), _join(where, "area"))
        floor = r.quantity(node, "floor", where, "altitude", default="0 ft")
        ceiling = r.quantity(node, "ceiling", where, "altitude", default=None)
        if floor is not None and ceiling is not None and ceiling <= floor:
            r.error(_join(where, "ceiling"), f"{node['ceiling']!r} is not above the floor "
                                             f"{node['floor']!r}; the ceiling must be higher")
        active = _read_active(r, node, where, top.get("duration", DEFAULT_DURATION))
        declare = r.boolean(node, "declare", where, True)
        if None in (ident, party, area, floor, active):
            continue
        zones.append(ZoneSpec(ident, party, area, floor,  # type: ignore[arg-type]
                              math.inf if ceiling is None else ceiling,
                              active[0], active[1], declare))  # type: ignore[index]
    r.unique(ids, "zone")
    return tuple(zones)


def _read_area(r: _Reader, value: Any, path: str) -> PolygonArea | CircleArea | None:
    form = ('write area: {polygon: [point, point, point, ...]} or '
            'area: {circle: {center: point, radius: "15 nmi"}}')
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in (
            "polygon", "circle"):
        r.error(path, f"expected a polygon or a circle; {form}")
        return None
    if "polygon" in value:
        points = r.points(value["polygon"], _join(path, "polygon"), 3, "a polygon")
        return None if points is None else PolygonArea(points)
    node = r.mapping(value["circle"], _join(path, "circle"), ("center", "radius"), "a circle")
    if node is None:
        return None
    center = r.point(node.get("center"), _join(path, "circle.center"))
    radius = r.quantity(node, "radius", _join(path, "circle"), "distance", minimum=0.0,
                        strict_minimum=True)
    if radius is not None and radius < MIN_ZONE_RADIUS_M:
        r.error(_join(path, "circle.radius"), f"{node['radius']!r} is smaller than the smallest "
                "zone this tool draws (1 m); write a radius such as \"15 nmi\"")
        radius = None
    return None if center is None or radius is None else CircleArea(center, radius)


def _read_active(r: _Reader, node: dict[str, Any], path: str, duration_text: Any
                 ) -> tuple[float, float] | None:
    where = _join(path, "active")
    value = node.get("active")
    if value is None:
        if "duration" in r.broken:  # already reported; the whole run is the window
            return 0.0, math.inf
        node["active"] = value = ["0 s", duration_text]
    form = 'write active: ["2 h", "8 h"] (start and end, from the scenario\'s start)'
    if not isinstance(value, list) or len(value) != 2:
        r.error(where, f"expected a start and an end; {form}")
        return None
    times = []
    for i, text in enumerate(value):
        try:
            times.append(parse_quantity(text, "duration").si)
        except QuantityError as exc:
            r.error(f"{where}[{i}]", str(exc))
            return None
    if times[0] < 0 or times[1] <= times[0]:
        r.error(where, f"the window {value!r} must start at or after 0 s and end after it "
                       f"starts; {form}")
        return None
    return times[0], times[1]


def _read_rules(r: _Reader, top: dict[str, Any], parties: Mapping[str, Party],
                lanes: tuple[Lane, ...]) -> tuple[RuleSpec, ...]:
    rules: list[RuleSpec] = []
    ids: list[tuple[str | None, str]] = []
    for i, value in enumerate(r.items(top.get("rules"), "rules", "rules")):
        where = f"rules[{i}]"
        if not isinstance(value, dict):
            r.mapping(value, where, (), "a rule")
            continue
        kind = value.get("type")
        if kind not in RULE_TYPES:
            hint = difflib.get_close_matches(str(kind), RULE_TYPES, n=1)
            suggestion = f"did you mean {hint[0]!r}? " if hint else ""
            r.error(_join(where, "type"), f"{_describe(kind)} is not a rule type; "
                                          f"{suggestion}use one of {', '.join(RULE_TYPES)}")
            continue
        ident = r.identifier(value.get("id"), _join(where, "id"))
        ids.append((ident, _join(where, "id")))
        rule = _RULE_READERS[kind](r, value, where, ident, parties, lanes)
        if rule is not None:
            rules.append(rule)
    r.unique(ids, "rule")
    return tuple(rules)


def _read_min_separation(r: _Reader, node: dict[str, Any], where: str, ident: str | None,
                         parties: Mapping[str, Party], lanes: tuple[Lane, ...]
                         ) -> RuleSpec | None:
    r.mapping(node, where, ("id", "type", "horizontal", "vertical", "between", "complaint"),
              "a rule")
    horizontal = r.quantity(node, "horizontal", where, "distance", minimum=0.0,
                            strict_minimum=True)
    vertical = r.quantity(node, "vertical", where, "distance", default=None, minimum=0.0,
                          strict_minimum=True)
    between = node.setdefault("between", None)
    pair: tuple[str, str] | None = None
    if between is not None:
        if not isinstance(between, list) or len(between) != 2:
            r.error(_join(where, "between"), "expected two parties, such as "
                                             "between: [coalition, russia]")
        else:
            first = r.party(between[0], _join(where, "between[0]"), parties)
            second = r.party(between[1], _join(where, "between[1]"), parties)
            if first is not None and second is not None:
                pair = (first, second)
    complaint = r.boolean(node, "complaint", where, False)
    if ident is None or horizontal is None or (between is not None and pair is None):
        return None
    return MinSeparationSpec(ident, horizontal, vertical, pair, complaint)


def _read_lane_discipline(r: _Reader, node: dict[str, Any], where: str, ident: str | None,
                          parties: Mapping[str, Party], lanes: tuple[Lane, ...]
                          ) -> RuleSpec | None:
    r.mapping(node, where, ("id", "type", "tolerance", "complaint"), "a rule")
    complaint = r.boolean(node, "complaint", where, True)
    if "lanes" in r.broken:  # the default tolerance depends on lanes already in error
        return None
    if not lanes:
        r.error(where, "lane_discipline needs lanes; add lanes: {LANE_ID: {party: P, "
                       "offset: \"+22.5 mi\", direction: downstream}}")
        return None
    if node.get("tolerance") is None:
        spacing = _least_lane_spacing(lanes)
        if spacing is None:
            r.error(_join(where, "tolerance"), "required when lanes of two parties are not "
                    "both defined (its default is half the spacing between the lanes); "
                    "write tolerance: \"22.5 mi\"")
            return None
        node["tolerance"] = format_si(spacing / 2.0, "distance")
    tolerance = r.quantity(node, "tolerance", where, "distance", minimum=0.0)
    if ident is None or tolerance is None:
        return None
    return LaneDisciplineSpec(ident, tolerance, complaint)


def _least_lane_spacing(lanes: tuple[Lane, ...]) -> float | None:
    spacings = [abs(a.offset_m - b.offset_m) for a in lanes for b in lanes
                if a.party != b.party and a.offset_m != b.offset_m]
    return min(spacings) if spacings else None


def _read_zone_incursion(r: _Reader, node: dict[str, Any], where: str, ident: str | None,
                         parties: Mapping[str, Party], lanes: tuple[Lane, ...]
                         ) -> RuleSpec | None:
    r.mapping(node, where, ("id", "type", "complaint"), "a rule")
    complaint = r.boolean(node, "complaint", where, True)
    return None if ident is None else ZoneIncursionSpec(ident, complaint)


_RULE_READERS = {
    "min_separation": _read_min_separation,
    "lane_discipline": _read_lane_discipline,
    "zone_incursion": _read_zone_incursion,
}


def _read_reported(r: _Reader, top: dict[str, Any], parties: Mapping[str, Party],
                   rules: tuple[RuleSpec, ...]) -> tuple[Reported, ...]:
    """Reported rates to print beside the simulated ones."""
    out = []
    form = ("write reported: [{rule: opposite_tracks, party: russia, per_day: [5, 6], "
            "fact: violations_per_day_seed}]")
    for i, value in enumerate(r.items(top.get("reported"), "reported", "reported rates")):
        where = f"reported[{i}]"
        node = r.mapping(value, where, ("rule", "party", "per_day", "fact"), "a reported rate")
        if node is None:
            continue
        rule = node.get("rule")
        if not isinstance(rule, str) or rule not in {spec.id for spec in rules}:
            r.error(_join(where, "rule"), f"{_describe(rule)} is not a rule id of this "
                    f"scenario; {form}")
            continue
        party = node.setdefault("party", None)
        if party is not None and r.party(party, _join(where, "party"), parties) is None:
            continue
        rate = node.get("per_day")
        values: list[Any] = rate if isinstance(rate, list) else [rate]
        numbers = [float(v) for v in values if _is_number(v)]
        if not (1 <= len(values) <= 2 and len(numbers) == len(values)
                and all(0 <= v < math.inf for v in numbers) and numbers[0] <= numbers[-1]):
            r.error(_join(where, "per_day"), f"{_describe(rate)} is not a rate; write a number "
                    f"of episodes a day or a [low, high] range; {form}")
            continue
        fact = node.setdefault("fact", "")
        if not isinstance(fact, str):
            r.error(_join(where, "fact"), "expected the id of a fact in seeds/facts.yaml")
            continue
        out.append(Reported(str(rule), party, numbers[0], numbers[-1], fact))
    return tuple(out)


def _read_hotline(r: _Reader, top: dict[str, Any]) -> HotlineSpec:
    if top.get("hotline") is None:
        top["hotline"] = {"enabled": False, **{k: v for k, v in HOTLINE_DEFAULTS.items()
                                               if k != "enabled"}}
    node = r.mapping(top["hotline"], "hotline", tuple(HOTLINE_DEFAULTS), "the hotline")
    if node is None:
        return HotlineSpec(False, 0.0, 1.0, 0.0, 0.0)
    enabled = r.boolean(node, "enabled", "hotline", True)
    first = r.quantity(node, "first_call", "hotline", "duration",
                       default=HOTLINE_DEFAULTS["first_call"], minimum=0.0)
    interval = r.quantity(node, "interval", "hotline", "duration",
                          default=HOTLINE_DEFAULTS["interval"], minimum=0.0,
                          strict_minimum=True)
    latency = r.quantity(node, "latency", "hotline", "duration",
                         default=HOTLINE_DEFAULTS["latency"], minimum=0.0)
    loss = node.setdefault("loss", HOTLINE_DEFAULTS["loss"])
    if not _is_number(loss) or not 0.0 <= float(loss) <= 1.0:
        r.error("hotline.loss", f"{_describe(loss)} is not a probability; write a number "
                                "from 0 to 1, such as loss: 0.05")
        loss = 0.0
    pattern = _read_pattern(r, node, interval)
    adhoc = node.setdefault("adhoc", dict(HOTLINE_DEFAULTS["adhoc"]))
    node["adhoc"] = adhoc = dict(HOTLINE_DEFAULTS["adhoc"]) if adhoc is None else adhoc
    probability, delay = 0.0, 3600.0
    if r.mapping(adhoc, "hotline.adhoc", ("probability", "delay"), "ad-hoc calls") is not None:
        probability = adhoc.setdefault("probability", 0.0)
        if not _is_number(probability) or not 0.0 <= float(probability) <= 1.0:
            r.error("hotline.adhoc.probability", f"{_describe(probability)} is not a "
                    "probability; write a number from 0 to 1, such as probability: 0.5")
            probability = 0.0
        delay = r.quantity(adhoc, "delay", "hotline.adhoc", "duration",
                           default=HOTLINE_DEFAULTS["adhoc"]["delay"], minimum=0.0) or 0.0
    return HotlineSpec(enabled, first or 0.0, interval or 1.0, latency or 0.0, float(loss),
                       pattern, float(probability), delay)


def _read_pattern(r: _Reader, node: dict[str, Any], interval: float | None
                  ) -> tuple[float, ...]:
    """Offsets of the calls within each interval, such as [0 d, 2 d, 4 d] in 7 d."""
    value = node.setdefault("pattern", list(HOTLINE_DEFAULTS["pattern"]))
    form = ('write pattern: ["0 d", "2 d", "4 d"] (offsets within each interval, '
            'increasing and shorter than it: three calls a week with interval: "7 d")')
    if not isinstance(value, list) or not value:
        r.error("hotline.pattern", f"expected a list of offsets; {form}")
        return (0.0,)
    holder = {str(i): v for i, v in enumerate(value)}
    offsets = [r.quantity(holder, str(i), "hotline.pattern", "duration", minimum=0.0)
               for i in range(len(value))]
    if any(o is None for o in offsets):
        return (0.0,)
    numbers = [float(o) for o in offsets if o is not None]
    if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)) or (
            interval is not None and numbers[-1] >= interval):
        r.error("hotline.pattern", f"the offsets {value!r} must increase and stay below the "
                                   f"interval; {form}")
        return (0.0,)
    return tuple(numbers)
