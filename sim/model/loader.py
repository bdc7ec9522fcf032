"""Scenario loading: read YAML, fill defaults, validate, and return frozen typed objects.

One pipeline (``load_scenario``): read the file safely, apply ``--set`` overrides, fill
every default into a copy of the document (which becomes the run folder's
``scenario.yaml``), validate it with the models of ``sim.model.schema``, check what spans
sections (ids, lanes, sizes against the limits), and collect *every* problem with its key
path, so that ``deconflict validate`` can list them all at once. Geometry that needs the
local frame (polygon validity, lane offsets) is checked later by ``sim.model.geography``.

Why one module of a little over 500 lines: the pipeline's steps are read in order, and
splitting them would scatter one walk of the document over files; the leaf checks
(``fields``), the limits (``sizes``) and the models (``schema*``) are already apart.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.model import fields as f
from sim.model import ruletypes, schema_flights, schema_parties, schema_rules, sections
from sim.model import schema as s
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.places import builtin_places
from sim.model.ruletypes import BUILTIN_RULE_TYPES
from sim.model.schema_interference import interference_specs, known_aircraft
from sim.model.schema_recorded import recorded_specs
from sim.model.sizes import size_problems
from sim.model.spec import (
    WORK_AREA_PREFIX,
    AircraftType,
    CircleArea,
    Corridor,
    Deviation,
    FlightSpec,
    Frame,
    HotlineSpec,
    Lane,
    LaneDisciplineSpec,
    MinSeparationSpec,
    Mission,
    Party,
    Planning,
    PolygonArea,
    Problem,
    Reported,
    RuleSpec,
    Scenario,
    ScenarioError,
    Sorties,
    WorkAreas,
    ZoneIncursionSpec,
    ZoneSpec,
    vertical_rates,
)
from sim.model.units import format_si
from sim.model.writer import loaded_sections
from sim.model.yamlio import apply_override, key_path, read_yaml

DEFAULT_DURATION = "1 d"
READING_ORDER = ("name", "description", "seed", "duration", "start", "places", "corridor",
                 "frame", "parties", "lanes", "flights", "recorded", "zones", "interference",
                 "rules", "hotline", "reported")
HOTLINE_OFF: dict[str, Any] = {"enabled": False, "first_call": "6 h", "interval": "24 h",
                               "pattern": ["0 s"], "latency": "30 min", "loss": 0.0,
                               "adhoc": {"probability": 0.0, "delay": "1 h"}}


def load_scenario(path: str | Path, overrides: Sequence[str] = (), *,
                  seed: int | None = None, duration: str | None = None,
                  limits: Limits = DEFAULT_LIMITS, allow_outside: bool = False,
                  data_files: bool = True) -> Scenario:
    """Load, override, default and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: ``KEY=VALUE`` assignments, applied before validation (``--set``).
        seed: replaces the file's ``seed``.
        duration: replaces the file's ``duration`` (a duration text such as ``"7 d"``).
        limits: the resource limits to check it against (``sim.model.limits``).
        allow_outside: let ``recorded:`` name files outside the scenario's folder.
        data_files: check that the files ``recorded:`` names are there (a run folder's
            scenario is read without them).

    Raises:
        ScenarioError: listing every problem found, each naming the file and key path.
    """
    document = scenario_document(path, overrides, seed=seed, duration=duration, limits=limits)
    return parse_scenario(document, str(path), default_name=Path(path).stem, limits=limits,
                          allow_outside=allow_outside, data_files=data_files)


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
                   limits: Limits = DEFAULT_LIMITS, allow_outside: bool = False,
                   data_files: bool = True) -> Scenario:
    """Validate a scenario document (already read from YAML) into a Scenario.

    The document is copied, never modified. Files it names (``recorded:``) are relative to
    the folder of ``file`` (the current folder for ``<scenario>``), and must be inside it
    unless ``allow_outside``, and are there unless not ``data_files``. Raises ScenarioError
    with every problem.
    """
    top = _copy(document, {})
    if not isinstance(top, dict):
        raise ScenarioError([Problem(file, "", f.not_mapping(top, "a scenario"))])
    _fill_top(top, default_name)
    plugins = ruletypes.document_plugins(top)
    root = s.scenario_model(tuple((p.name, p.parameters) for p in plugins))
    fill_defaults(root, top)
    context = _context(top, BUILTIN_RULE_TYPES + tuple(p.name for p in plugins))
    context["base"] = Path(file).parent if file != "<scenario>" else Path(".")
    context["allow_outside"], context["data_files"] = allow_outside, data_files
    problems = _cross_checks(top, context, file)
    model = None
    try:
        model = root.model_validate(top, context=context)
    except ValidationError as exc:
        problems = ruletypes.plugin_named(top, plugins, _problems(exc, file,
                                                                  context["rule_types"]),
                                          file) + problems
        problems += _none_left(top, problems, file) + _zero_weights(top, problems, file)
        unread = _broken_rules(top, context, problems, file)
        # A reported rate is read up to its first key in error: the rest is not reported on.
        problems = [p for p in problems if not any(p.path.startswith(q.path.removesuffix("rule"))
                                                   for q in unread)] + unread
    if "lanes" in context:  # not in error
        problems += _party_lanes(top, context, file)
    problems += _frame_needed(top, context, problems, file)
    if model is not None and not problems:
        scenario = _build(model, top, context, file, limits)
        problems = size_problems(scenario, top, limits)
        if not problems:
            return scenario
    # Listed section by section, in the order a reader meets them (places before the
    # corridor, the corridor before the frame it may need).
    order = {key: i for i, key in enumerate(READING_ORDER)}
    problems.sort(key=lambda p: order.get(re.split(r"[.\[]", p.path, maxsplit=1)[0], -1))
    raise ScenarioError(problems)


# ---------------------------------------------------------------------------- defaults


def _copy(node: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of a YAML document, several times faster than ``copy.deepcopy``; a part
    shared (a YAML alias) stays shared, so that an alias bomb is not expanded."""
    if isinstance(node, _SCALARS) or node is None:
        return node
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, dict):
        out: Any = {}
        memo[id(node)] = out
        for key, value in node.items():
            out[key] = value if isinstance(value, _SCALARS) else _copy(value, memo)
    elif isinstance(node, list):
        out = []
        memo[id(node)] = out
        out += [value if isinstance(value, _SCALARS) else _copy(value, memo) for value in node]
    else:
        out = memo[id(node)] = copy.deepcopy(node)
    return out


_SCALARS = (str, int, float)


def _fill_top(top: dict[str, Any], default_name: str) -> None:
    """The top level's defaults, and the forms that read as another (a date as text)."""
    top.setdefault("name", _slug(default_name))
    top.setdefault("seed", 0)
    if top.get("duration") is None:
        top["duration"] = DEFAULT_DURATION
    if isinstance(top.get("start"), dt.date):  # a datetime is a date too
        top["start"] = f.start_text(top["start"])
    if "corridor" in top and top["corridor"] is None:
        del top["corridor"]
    if "frame" in top and top["frame"] is None:
        top["frame"] = {}
    if top.get("parties") is None:
        top["parties"] = {}
    if top.get("hotline") is None:
        top["hotline"] = copy.deepcopy(HOTLINE_OFF)


def fill_defaults(model: type[sections.Section], raw: Any) -> None:
    """Write the defaults of ``model`` into the mapping ``raw``, in place, and below it.

    A missing key gets its default (a copy: a default shared between nodes would be
    written out as a YAML alias), as does a null, unless the model refuses that null.
    Values that are not of the expected shape are left for the validation to report.
    """
    if not isinstance(raw, dict):
        return
    defaults = sections.defaults_of(model)
    for key in model.fill_keys(raw):
        if raw.get(key) is None and (key not in raw or key not in model.null_refused):
            raw[key] = _copy(defaults[key], {})
    for key, (shape, models) in sections.children(model).items():
        value = raw.get(key)
        if shape == "one":
            fill_defaults(models[None], value)
        elif shape == "list" and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    kind = item.get("type")
                    child = models.get(kind if isinstance(kind, str) else None, models.get(None))
                    if child is not None:
                        fill_defaults(child, item)
        elif shape == "map" and isinstance(value, dict):
            child = models[None]
            for name, item in value.items():
                if item is None and child.null_is_empty:
                    value[name] = item = {}
                fill_defaults(child, item)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.")[:100]
    return slug or "scenario"


# ---------------------------------------------------------------------------- across sections


def _context(top: dict[str, Any], rule_types: tuple[str, ...]) -> dict[str, Any]:
    """What validators need from other sections: the names of places, parties and aircraft
    types, the rule types and the rules' ids (the lanes are added as they are validated)."""
    raw_places, raw_parties = top.get("places"), top["parties"]
    places = raw_places if isinstance(raw_places, dict) else {}
    parties = raw_parties if isinstance(raw_parties, dict) else {}
    context: dict[str, Any] = {
        "names": set(builtin_places()) | {k for k in places if isinstance(k, str)},
        "frame_places": {k for k, v in places.items() if isinstance(v, dict)},
        "parties": [p for p, v in parties.items()
                    if f.id_problem(p) is None and isinstance(v, dict)],
        "rule_types": rule_types,
        "aircraft_types": known_aircraft(parties),
    }
    raw_rules = top.get("rules")
    rules = raw_rules if isinstance(raw_rules, list) else []
    context["rule_ids"] = {r.get("id") for r in rules if isinstance(r, dict) and isinstance(
        r.get("id"), str) and r.get("type") in rule_types}
    if not isinstance(top.get("lanes"), dict):  # else the validation of the lanes tells them
        context["lanes"], context["lane_spacing"] = [], None
    return context


def _cross_checks(top: dict[str, Any], context: Mapping[str, Any], file: str
                  ) -> list[Problem]:
    """Checks that span sections, on the document itself so that they are made even where
    another part of it is in error: unique ids, lanes and their corridor."""
    problems: list[Problem] = []
    for section, what in (("flights", "flight"), ("zones", "zone"),
                          ("interference", "interference area"), ("rules", "rule")):
        seen: dict[str, str] = {}
        items = top.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or (section == "rules"
                                              and item.get("type") not in context["rule_types"]):
                continue
            ident, path = item.get("id"), f"{section}[{i}].id"
            if not isinstance(ident, str) or f.id_problem(ident) is not None or (
                    section == "zones" and ident.startswith(WORK_AREA_PREFIX)):
                continue
            if ident in seen:
                problems.append(Problem(file, path, f"duplicate {what} id {ident!r} (also at "
                                                    f"{seen[ident]}); ids must be unique"))
            else:
                seen[ident] = path
    if isinstance(top.get("lanes"), dict) and top["lanes"] and "corridor" not in top:
        problems.append(Problem(file, "lanes", "lanes are offsets of the corridor's centerline, "
                                "so a corridor is needed; add corridor: {centerline: euphrates, "
                                "half_width: \"40 mi\"}"))
    return problems


def _frame_needed(top: dict[str, Any], context: Mapping[str, Any],
                  problems: Sequence[Problem], file: str) -> list[Problem]:
    """A corridor (not in error) with {x, y} points needs the frame's centre written."""
    corridor, frame = top.get("corridor"), top.get("frame")
    centerline = corridor.get("centerline") if isinstance(corridor, dict) else None
    if (not isinstance(frame, dict) or frame.get("center") is None) and isinstance(
            centerline, list) and not _in_error(_stopping(problems), "corridor") and any(
                isinstance(p, dict) or p in context["frame_places"]
                for p in centerline if isinstance(p, (dict, str))):
        return [Problem(file, "frame.center", "required when corridor.centerline has {x, y} "
                        "points, since those are measured from it; write [lon, lat]")]
    return []


def _party_lanes(top: dict[str, Any], context: Mapping[str, Any], file: str
                 ) -> list[Problem]:
    """The lane each party's sorties fly: given, or its only lane (filled in)."""
    problems = []
    lanes: Sequence[Lane] = context["lanes"]
    for pid in context["parties"]:
        node = top["parties"][pid]
        if "sorties_per_day" not in node:
            continue
        own = [lane.id for lane in lanes if lane.party == pid]
        value, path = node.get("lane"), f"parties.{pid}.lane"
        if value is None:
            if len(own) > 1:
                problems.append(Problem(file, path, f"the party has lanes {', '.join(own)}; say "
                                        f"which its sorties fly, such as lane: {own[0]}"))
            else:
                node["lane"] = own[0] if own else None
        elif value not in own:
            problems.append(Problem(file, path, f"{f.describe(value)} is not a lane of {pid}; "
                                    f"use one of: {', '.join(own) or 'none (define lanes first)'}"))
    return problems


def _none_left(top: dict[str, Any], problems: Sequence[Problem], file: str) -> list[Problem]:
    """A party that generates sorties needs an aircraft and a mission: say so too when
    every one written is in error."""
    found = []
    paths = _stopping(problems)
    for pid, node in (top["parties"] if isinstance(top["parties"], dict) else {}).items():
        if not isinstance(node, dict) or "sorties_per_day" not in node:
            continue
        for key, message in (("aircraft", schema_parties.NEEDS_AIRCRAFT),
                             ("missions", schema_parties.NEEDS_MISSIONS)):
            where, items = f"parties.{pid}.{key}", node.get(key)
            if isinstance(items, list) and items and where not in paths and all(
                    _in_error(paths, f"{where}[{i}]") for i in range(len(items))):
                found.append(Problem(file, where, message))
    return found


def _stopping(problems: Sequence[Problem]) -> set[str]:
    """The key paths of the problems that stop what holds them from being read (an unknown
    key is reported, but does not)."""
    return {p.path for p in problems if not p.message.startswith("unknown key;")}


def _in_error(paths: set[str], where: str) -> bool:
    """Whether a problem is at the key path ``where`` or below it."""
    return any(p == where or p.startswith((f"{where}.", f"{where}[")) for p in paths)


def _zero_weights(top: dict[str, Any], problems: Sequence[Problem], file: str
                  ) -> list[Problem]:
    """The deviations that are not in error must not all weigh 0 either."""
    found = []
    paths = _stopping(problems)
    for pid, node in (top["parties"] if isinstance(top["parties"], dict) else {}).items():
        table, where = node.get("deviations") if isinstance(node, dict) else None, \
            f"parties.{pid}.deviations"
        if not isinstance(table, dict) or where in paths:
            continue
        weights: list[Any] = [cause.get("weight") for name, cause in table.items()
                              if isinstance(cause, dict)
                              and not _in_error(paths, f"{where}.{name}")]
        if weights and len(weights) < len(table) and all(
                f.is_number(w) and float(w) <= 0 for w in weights):
            found.append(Problem(file, where, "every deviation has weight 0; give at least "
                                              "one a positive weight"))
    return found


def _broken_rules(top: dict[str, Any], context: Mapping[str, Any],
                  problems: Sequence[Problem], file: str) -> list[Problem]:
    """A reported rate of a rule in error (or of the lane rule, when the lanes are) is not
    of a rule of this scenario either."""
    rules, reported = top.get("rules"), top.get("reported")
    if not isinstance(rules, list) or not isinstance(reported, list):
        return []
    paths = _stopping(problems)
    broken = {rule.get("id") for i, rule in enumerate(rules) if isinstance(rule, dict)
              and isinstance(rule.get("id"), str) and (_in_error(paths, f"rules[{i}]") or (
                  rule.get("type") == "lane_discipline" and "lanes" not in context))}
    return [Problem(file, f"reported[{i}].rule", f"{f.describe(item['rule'])} is not a rule id "
                    f"of this scenario; {s.REPORTED_FORM}")
            for i, item in enumerate(reported) if isinstance(item, dict)
            and isinstance(item.get("rule"), str) and item["rule"] in broken
            and f"reported[{i}].rule" not in paths]


def _problems(exc: ValidationError, file: str, rule_types: Sequence[str]) -> list[Problem]:
    """The problems of a failed validation, each at its key path; a mapping's unknown keys
    first, before the problems of its known ones (pydantic reports them last)."""
    errors = exc.errors(include_url=False)
    locs = [tuple(error["loc"]) for error in errors]
    order = []
    for i, (error, at) in enumerate(zip(errors, locs, strict=True)):
        rank = i
        if error["type"] == "extra_forbidden":
            rank = next(j for j, other in enumerate(locs) if other[:len(at) - 1] == at[:-1])
        order.append((rank, error["type"] != "extra_forbidden", i))
    problems = []
    for _, _, i in sorted(order):
        error, raw_loc = errors[i], locs[i]
        # A rule's type is a step of the path in pydantic's union, not a key of the file.
        loc = [part for k, part in enumerate(raw_loc)
               if not (k >= 2 and raw_loc[k - 2] == "rules" and isinstance(raw_loc[k - 1], int)
                       and part in rule_types)]
        if error["type"] == "extra_forbidden" and isinstance(error["input"], f.Refused):
            found, up = error["input"].found, error["input"].up
        elif error["type"] == "scenario":
            found, up = error["ctx"]["found"], error["ctx"]["up"]
        else:
            found, up = [((), error["msg"])], 0
        base = loc[:len(loc) - up]
        problems += [Problem(file, key_path([*base, *suffix]), message)
                     for suffix, message in found]
    return problems


# ---------------------------------------------------------------------------- the objects


def _build(m: s.ScenarioModel, top: dict[str, Any], context: Mapping[str, Any], file: str,
           limits: Limits) -> Scenario:
    """The frozen objects of a validated scenario; the defaults that depend on other
    sections (a zone's window, the lane rule's tolerance) are written into ``top``."""
    parties = {pid: _party(pid, p, top["parties"][pid]) for pid, p in m.parties.items()}
    zones = []
    for zone, raw in zip(m.zones or [], top.get("zones") or [], strict=True):
        active = zone.active
        if active is None:
            raw["active"] = ["0 s", top["duration"]]
            active = (0.0, m.duration)
        area = (PolygonArea(zone.area.polygon) if zone.area.polygon is not None
                else CircleArea(zone.area.circle.center, zone.area.circle.radius)
                if zone.area.circle is not None else None)
        assert area is not None  # the area takes exactly one of them
        zones.append(ZoneSpec(zone.id, zone.party, area, zone.floor,
                              math.inf if zone.ceiling is None else zone.ceiling,
                              active[0], active[1], zone.declare))
    rules: list[RuleSpec] = []
    for rule, raw in zip(m.rules or [], top.get("rules") or [], strict=True):
        if isinstance(rule, schema_rules.MinSeparationModel):
            rules.append(MinSeparationSpec(rule.id, rule.horizontal, rule.vertical,
                                           rule.between, rule.complaint))
        elif isinstance(rule, schema_rules.LaneDisciplineModel):
            assert rule.tolerance is not None  # lanes in error are reported
            if raw.get("tolerance") is None:
                raw["tolerance"] = format_si(rule.tolerance, "distance")
            rules.append(LaneDisciplineSpec(rule.id, rule.tolerance, rule.complaint))
        elif isinstance(rule, schema_rules.ZoneIncursionModel):
            rules.append(ZoneIncursionSpec(rule.id, rule.complaint))
        else:  # a plugin's: its validated parameters are the rule
            rules.append(rule)
    hotline, adhoc = m.hotline, m.hotline.adhoc
    corridor = m.corridor
    scenario = Scenario(
        name=m.name, file=file, description=m.description, seed=m.seed, duration_s=m.duration,
        start=m.start,
        frame=Frame(m.frame.center if m.frame is not None else None),
        places=dict(m.places or {}),
        corridor=None if corridor is None else Corridor(corridor.centerline,
                                                        corridor.half_width),
        lanes=tuple(context["lanes"]), parties=parties,
        flights=tuple(_flight(x) for x in m.flights or []),
        recorded=recorded_specs(m.recorded or [], top.get("recorded") or [],
                                context["base"]),
        zones=tuple(zones), rules=tuple(rules),
        interference=interference_specs(m.interference or [], top.get("interference") or [],
                                        top["duration"], m.duration),
        hotline=HotlineSpec(hotline.enabled, hotline.first_call, hotline.interval,
                            hotline.latency, hotline.loss, hotline.pattern, adhoc.probability,
                            adhoc.delay),
        reported=tuple(Reported(r.rule, r.party, r.per_day[0], r.per_day[1], r.fact)
                       for r in m.reported or []),
        limits=limits)
    # What the file wrote, defaults filled, beside each section's typed value: the writer
    # writes a section that is still as loaded as the file wrote it.
    return replace(scenario, written=loaded_sections(scenario, top))


def _flight(x: schema_flights.FlightModel) -> FlightSpec:
    altitudes = schema_flights.route_altitudes(x.route)
    # Without an altitude of its own, every entry gives one: the highest is its cruise.
    altitude = x.altitude if x.altitude is not None else max(a for a in altitudes if a is not None)
    return FlightSpec(x.id, x.party, x.depart, x.speed, altitude,
                      tuple(point for point, _ in x.route), altitudes, x.climb_rate,
                      x.descent_rate)


def _aircraft(a: schema_parties.AircraftModel) -> AircraftType:
    """An aircraft type, its unwritten rates from the table of notional ones."""
    climb, descent = vertical_rates(a.type)
    return AircraftType(a.type, a.speed, a.altitude, a.share,
                        climb if a.climb_rate is None else a.climb_rate,
                        descent if a.descent_rate is None else a.descent_rate)


def _party(pid: str, p: schema_parties.PartyModel, raw: Mapping[str, Any]) -> Party:
    d = p.deviations
    deviations = (
        Deviation("shortcut", d.shortcut.weight, d.shortcut.length, (0.0, 0.0)),
        Deviation("drift", d.drift.weight, d.drift.length, d.drift.beyond),
        Deviation("close_approach", d.close_approach.weight, (0.0, 0.0), (0.0, 0.0),
                  d.close_approach.miss, d.close_approach.vertical, d.close_approach.reach))
    if p.sorties_per_day is None:
        return Party(pid, None, p.compliance, deviations)
    assert p.bases is not None and p.aircraft is not None and p.missions is not None
    sorties = Sorties(
        p.sorties_per_day, p.daily_profile, p.bases,
        tuple(_aircraft(a) for a in p.aircraft),
        tuple(Mission(x.area, x.share, x.time_on_station, x.racetrack.length,
                      x.racetrack.width) for x in p.missions),
        raw.get("lane"), p.lane_entry, p.lane_exit, p.altitude_step)
    q, w = p.planning, p.work_areas
    return Party(pid, sorties, p.compliance, deviations,
                 Planning(q.avoid, q.margin, q.when_blocked, q.max_delay, q.lead),
                 WorkAreas(w.enabled, w.buffer, w.vertical_buffer, w.declare))
