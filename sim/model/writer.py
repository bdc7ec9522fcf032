"""The scenario as run, written back as a scenario document: the run folder's
``scenario.yaml`` and the scenario digest are made here, from the typed ``Scenario``.

The typed scenario is the one source of truth. A section that is still what the file
said (its typed value equal to the one loaded) is written as the file wrote it, defaults
filled, in the units the user chose; a section changed in Python (``dataclasses.replace``:
a seed, a party's compliance, an added rule) is written from its typed values, in SI
units that read back to exactly the same floats. Lists (flights, zones, rules, ...) and
parties are compared item by item, so an added rule leaves the others as written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import yaml

from sim.model.fields import MAX_SEED
from sim.model.spec import (
    TOP_KEYS,
    CircleArea,
    Corridor,
    FlightSpec,
    Frame,
    FramePoint,
    HotlineSpec,
    InterferenceSpec,
    Lane,
    LaneDisciplineSpec,
    LonLat,
    MinSeparationSpec,
    Party,
    PlaceRef,
    Point,
    PolygonArea,
    RecordedSpec,
    Reported,
    Scenario,
    ZoneIncursionSpec,
    ZoneSpec,
)
from sim.model.units import SI_UNIT, Kind, format_si
from sim.model.yamlemit import dump_yaml


def sections(scenario: Scenario) -> dict[str, Any]:
    """The typed value behind each top-level key of the document, in the contract's order
    (lanes as a tuple, parties as a mapping of id to party)."""
    return {
        "name": scenario.name, "description": scenario.description, "seed": scenario.seed,
        "duration": scenario.duration_s, "start": scenario.start, "frame": scenario.frame,
        "places": dict(scenario.places), "corridor": scenario.corridor,
        "lanes": tuple(scenario.lanes), "parties": dict(scenario.parties),
        "flights": tuple(scenario.flights), "recorded": tuple(scenario.recorded),
        "zones": tuple(scenario.zones), "interference": tuple(scenario.interference),
        "rules": tuple(scenario.rules), "hotline": scenario.hotline,
        "reported": tuple(scenario.reported),
    }


def loaded_sections(scenario: Scenario, raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the loader keeps of a file: each key's typed value with the section as the
    file wrote it, defaults filled (``ABSENT`` where the file left the key out)."""
    return {key: (value, raw.get(key, ABSENT)) for key, value in sections(scenario).items()}


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # a key the file did not write (and that stays unwritten)


class UnwritableScenario(ValueError):
    """A scenario changed in Python into values the scenario format cannot say (a party
    with no deviations, sorties on no lane though the party has one, a reported rate of a
    removed rule): written, it would read back to another scenario."""


def as_document(scenario: Scenario, frame_center: tuple[float, float] | None = None
                ) -> dict[str, Any]:
    """The scenario as a document that reads back to it: what the file wrote where that
    is still what runs, the typed values where the scenario was changed.

    ``frame_center`` (lon, lat) fills in the frame's centre when the scenario left it to
    be computed, so that the document pins the very same frame.

    Raises:
        UnwritableScenario: a section changed in Python does not read back to itself
            (the document is read back whenever a section other than the seed was
            written from its values).
    """
    out: dict[str, Any] = {}
    changed: list[str] = []

    def kept(key: str, before: tuple[Any, Any] | None, typed: Any,
             write: Callable[[Any], Any]) -> Any:
        if before is not None and before[0] == typed:
            return before[1]
        if key not in changed:
            changed.append(key)
        return _native(write(typed))

    for key, value in sections(scenario).items():
        loaded, raw = scenario.written.get(key, (ABSENT, ABSENT))
        if loaded is not ABSENT and loaded == value:
            if raw is not ABSENT:
                out[key] = raw
            continue
        if key == "lanes":
            before = {lane.id: (lane, raw[lane.id]) for lane in loaded} \
                if loaded is not ABSENT and raw is not ABSENT else {}
            if value or raw is not ABSENT:
                out[key] = {lane.id: kept(key, before.get(lane.id), lane, _lane)
                            for lane in value}
        elif key in ITEM_WRITERS:
            items = list(zip(loaded, raw, strict=True)) \
                if loaded is not ABSENT and raw is not ABSENT else []
            if value or raw is not ABSENT:
                out[key] = [kept(key, items[i] if i < len(items) else None, item,
                                 ITEM_WRITERS[key]) for i, item in enumerate(value)]
            if len(value) < len(items) and key not in changed:
                changed.append(key)  # items removed
        elif key == "parties":
            before = {pid: (party, raw[pid]) for pid, party in loaded.items()} \
                if loaded is not ABSENT and raw is not ABSENT else {}
            out[key] = {pid: kept(key, before.get(pid), party, _party)
                        for pid, party in value.items()}
            if set(before) - set(value) and key not in changed:
                changed.append(key)  # parties removed
        else:
            written = kept(key, None, value, WRITERS[key])
            if written is not None:
                out[key] = written
    document = {key: out[key] for key in TOP_KEYS if key in out}
    plain_seed = type(scenario.seed) is int and 0 <= scenario.seed <= MAX_SEED
    if [key for key in changed if key != "seed"] or not plain_seed:  # a seed reads back
        _check_reads_back(scenario, document, changed)
    if frame_center is not None and scenario.frame.center is None:
        frame = dict(document.get("frame") or {})
        frame["center"] = [float(frame_center[0]), float(frame_center[1])]
        document["frame"] = frame
        document = {key: document[key] for key in TOP_KEYS if key in document}
    return document


def _check_reads_back(scenario: Scenario, document: dict[str, Any], changed: list[str]
                      ) -> None:
    """Refuse a document that does not read back to ``scenario`` (UnwritableScenario)."""
    from sim.model.loader import parse_scenario  # the loader imports this module
    from sim.model.spec import ScenarioError

    what = f"{scenario.file or 'the scenario'}: changed in Python ({', '.join(changed)})"
    try:
        again = parse_scenario(copy.deepcopy(document), scenario.file or "<scenario>",
                               limits=scenario.limits, allow_outside=True, data_files=False)
    except ScenarioError as exc:
        raise UnwritableScenario(f"{what}, it is no longer a valid scenario:\n{exc}") from None
    want, got = sections(_comparable(scenario)), sections(_comparable(again))
    differ = [key for key in want if want[key] != got[key]]
    if differ:
        raise UnwritableScenario(
            f"{what}, its {', '.join(differ)} would read back as other values: the scenario "
            "format cannot say them (such as a party without deviations, sorties on no lane "
            "when the party has one, bases of coordinates with weights)")


def _comparable(scenario: Scenario) -> Scenario:
    """A scenario without its recorded entries' paths as written (the document names
    each file by its absolute path)."""
    return replace(scenario, recorded=tuple(replace(r, file="") for r in scenario.recorded))


def _native(value: Any) -> Any:
    """A written value in YAML's plain types: numpy numbers as Python ones, tuples as
    lists (a scenario changed in Python may hold either)."""
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_native(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def yaml_text(document: Mapping[str, Any]) -> str:
    """A scenario document as YAML text: keys in the document's order, short lists of
    plain values on one line."""
    document = dict(document)
    if document.get("recorded"):
        # Block style: a recorded file's absolute path would otherwise decide where the
        # flow mapping's line breaks fall, and so the file's bytes.
        document["recorded"] = [_Block(entry) for entry in document["recorded"]]
    return dump_yaml(document, dumper=_Dumper, block=_Block, width=100, allow_unicode=True)


def scenario_yaml(scenario: Scenario, frame_center: tuple[float, float] | None = None) -> str:
    """The scenario as run, as YAML text (a run folder's ``scenario.yaml``)."""
    return yaml_text(as_document(scenario, frame_center))


class _Block(dict):  # type: ignore[type-arg]
    """A mapping that is written in block style, one key a line."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The scenario writer's YAML dumper (the C one when PyYAML has it)."""


_Dumper.add_representer(_Block, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data, flow_style=False))


# ---------------------------------------------------------------------------- values


def _si(value: float, kind: Kind) -> str:
    return format_si(float(value), kind)


def _pair(values: Sequence[float], kind: Kind) -> list[str]:
    return [_si(v, kind) for v in values]


def _point(point: Point) -> Any:
    if isinstance(point, PlaceRef):
        return point.name
    if isinstance(point, LonLat):
        return [point.lon, point.lat]
    assert isinstance(point, FramePoint)
    return {"x": _si(point.x_m, "distance"), "y": _si(point.y_m, "distance")}


def _area(area: PolygonArea | CircleArea) -> dict[str, Any]:
    if isinstance(area, PolygonArea):
        return {"polygon": [_point(p) for p in area.points]}
    return {"circle": {"center": _point(area.center), "radius": _si(area.radius_m, "distance")}}


def _ceiling(value: float) -> str | None:
    return None if value == float("inf") else _si(value, "altitude")


def _frame(frame: Frame) -> dict[str, Any] | None:
    return None if frame.center is None else {"center": _point(frame.center)}


def _places(places: Mapping[str, Point]) -> dict[str, Any] | None:
    return {name: _point(p) for name, p in places.items()} or None


def _corridor(corridor: Corridor | None) -> dict[str, Any] | None:
    if corridor is None:
        return None
    line = corridor.centerline
    return {"centerline": line if isinstance(line, str) else [_point(p) for p in line],
            "half_width": _si(corridor.half_width_m, "distance")}


def _lane(lane: Lane) -> dict[str, Any]:
    return {"party": lane.party, "offset": _si(lane.offset_m, "distance"),
            "direction": lane.direction}


def _bases(bases: Sequence[tuple[Point, float]]) -> Any:
    if all(isinstance(p, PlaceRef) for p, _ in bases):
        return {p.name: w for p, w in bases}  # type: ignore[union-attr]
    if all(w == 1.0 for _, w in bases):
        return [_point(p) for p, _ in bases]
    raise UnwritableScenario("bases of coordinates with weights cannot be written: name "
                             "them under places: and weigh the names")


def _party(party: Party) -> dict[str, Any]:
    out: dict[str, Any] = {}
    s = party.sorties
    if s is not None:
        out.update({
            "sorties_per_day": s.per_day, "daily_profile": list(s.daily_profile),
            "bases": _bases(s.bases),
            "aircraft": [{"type": a.type, "speed": _si(a.speed_mps, "speed"),
                          "altitude": _pair(a.altitude_m, "altitude"), "share": a.share,
                          "climb_rate": _si(a.climb_rate_mps, "speed"),
                          "descent_rate": _si(a.descent_rate_mps, "speed")}
                         for a in s.aircraft],
            "missions": [{"area": _point(m.area), "share": m.share,
                          "time_on_station": _pair(m.time_on_station_s, "duration"),
                          "racetrack": {"length": _si(m.racetrack_length_m, "distance"),
                                        "width": _si(m.racetrack_width_m, "distance")}}
                         for m in s.missions]})
        if s.lane is not None:
            out["lane"] = s.lane
        q, w = party.planning, party.work_areas
        out.update({
            "lane_entry": _pair(s.lane_entry_m, "distance"),
            "lane_exit": _pair(s.lane_exit_m, "distance"),
            "altitude_step": _si(s.altitude_step_m, "distance"),
            "planning": {"avoid": q.avoid, "margin": _si(q.margin_m, "distance"),
                         "when_blocked": q.when_blocked,
                         "max_delay": _si(q.max_delay_s, "duration"),
                         "lead": _pair(q.lead_s, "duration")},
            "work_areas": {"enabled": w.enabled, "buffer": _si(w.buffer_m, "distance"),
                           "vertical_buffer": _si(w.vertical_buffer_m, "distance"),
                           "declare": w.declare}})
    ways = {d.cause: d for d in party.deviations}
    deviations: dict[str, Any] = {}
    if "shortcut" in ways:
        d = ways["shortcut"]
        deviations["shortcut"] = {"weight": d.weight, "length": _pair(d.length_m, "distance")}
    if "drift" in ways:
        d = ways["drift"]
        deviations["drift"] = {"weight": d.weight, "length": _pair(d.length_m, "distance"),
                               "beyond": _pair(d.beyond_m, "distance")}
    if "close_approach" in ways:
        d = ways["close_approach"]
        deviations["close_approach"] = {
            "weight": d.weight, "miss": _pair(d.miss_m, "distance"),
            "vertical": _si(d.vertical_m, "distance"), "reach": _si(d.reach_m, "distance")}
    out.update({"compliance": party.compliance, "deviations": deviations})
    return out


def _flight(flight: FlightSpec) -> dict[str, Any]:
    if flight.route_altitudes_m:
        route = [_point(p) if a is None else {"at": _point(p), "altitude": _si(a, "altitude")}
                 for p, a in zip(flight.route, flight.route_altitudes_m, strict=True)]
    else:
        route = [_point(p) for p in flight.route]
    out = {"id": flight.id, "party": flight.party, "depart": _si(flight.depart_s, "duration"),
           "speed": _si(flight.speed_mps, "speed"),
           "altitude": _si(flight.altitude_m, "altitude"), "route": route}
    if flight.climb_rate_mps is not None:
        out["climb_rate"] = _si(flight.climb_rate_mps, "speed")
    if flight.descent_rate_mps is not None:
        out["descent_rate"] = _si(flight.descent_rate_mps, "speed")
    return out


def _recorded(entry: RecordedSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"file": entry.path, "party": entry.party, "format": entry.format}
    if entry.columns:
        out["columns"] = dict(entry.columns)
    out.update({"altitude_unit": entry.altitude_unit,
                "max_gap": _si(entry.max_gap_s, "duration"),
                "max_speed": _si(entry.max_speed_mps, "speed")})
    return out


def _zone(zone: ZoneSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": zone.id, "party": zone.party, "area": _area(zone.area),
                           "floor": _si(zone.floor_m, "altitude")}
    if (ceiling := _ceiling(zone.ceiling_m)) is not None:
        out["ceiling"] = ceiling
    out.update({"active": _pair((zone.active_start_s, zone.active_end_s), "duration"),
                "declare": zone.declare})
    return out


def _interference(area: InterferenceSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": area.id, "owner": area.owner,
                           "targets": {"parties": list(area.parties),
                                       "aircraft": list(area.aircraft)},
                           "area": _area(area.area), "floor": _si(area.floor_m, "altitude")}
    if (ceiling := _ceiling(area.ceiling_m)) is not None:
        out["ceiling"] = ceiling
    out["active"] = [_pair(window, "duration") for window in area.windows_s]
    if area.navigation is not None:
        nav = area.navigation
        out["navigation"] = {"offset": _pair(nav.offset_m, "distance"),
                             "distribution": nav.distribution, "probability": nav.probability}
    if area.drones is not None:
        out["drones"] = {"abort": area.drones.abort, "lost": area.drones.lost}
    if area.hotline is not None:
        effect = area.hotline
        out["hotline"] = {"loss": effect.loss, "latency": None if effect.latency_s is None
                          else _si(effect.latency_s, "duration")}
    return out


def _rule(rule: Any) -> dict[str, Any]:
    if isinstance(rule, MinSeparationSpec):
        out: dict[str, Any] = {"id": rule.id, "type": rule.type,
                               "horizontal": _si(rule.horizontal_m, "distance")}
        if rule.vertical_m is not None:
            out["vertical"] = _si(rule.vertical_m, "distance")
        if rule.between is not None:
            out["between"] = list(rule.between)
        out["complaint"] = rule.complaint
        return out
    if isinstance(rule, LaneDisciplineSpec):
        return {"id": rule.id, "type": rule.type,
                "tolerance": _si(rule.tolerance_m, "distance"), "complaint": rule.complaint}
    if isinstance(rule, ZoneIncursionSpec):
        return {"id": rule.id, "type": rule.type, "complaint": rule.complaint}
    return _parameters(rule)


def _parameters(rule: Any) -> dict[str, Any]:
    """A plugin rule's parameters (a pydantic model of SI values): each quantity written
    in its kind's SI unit, found from the field's JSON Schema."""
    out: dict[str, Any] = {}
    for name, info in type(rule).model_fields.items():
        value = getattr(rule, name)
        kind = _quantity_kind(info.metadata)
        if value is None:
            out[name] = None
        elif kind is not None and isinstance(value, (tuple, list)):
            out[name] = _pair(value, kind)
        elif kind is not None:
            out[name] = _si(value, kind)
        else:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _quantity_kind(metadata: Sequence[Any]) -> Kind | None:
    """The kind of quantity a field's JSON Schema says it is (None: not a quantity)."""
    from sim.model.sections import quantity_schema, range_schema  # they import the fields

    for item in metadata:
        schema = getattr(item, "json_schema", None)
        for kind in SI_UNIT:
            one = quantity_schema(kind)
            if schema in (one, range_schema(kind), {"anyOf": [one, {"type": "null"}]}):
                return kind
    return None


def _hotline(hotline: HotlineSpec) -> dict[str, Any]:
    return {"enabled": hotline.enabled, "first_call": _si(hotline.first_call_s, "duration"),
            "interval": _si(hotline.interval_s, "duration"),
            "latency": _si(hotline.latency_s, "duration"), "loss": hotline.loss,
            "adhoc": {"probability": hotline.adhoc_probability,
                      "delay": _si(hotline.adhoc_delay_s, "duration")},
            "pattern": _pair(hotline.pattern_s, "duration")}


def _reported(item: Reported) -> dict[str, Any]:
    return {"rule": item.rule, "party": item.party,
            "per_day": [item.low_per_day, item.high_per_day], "fact": item.fact}


def _plain(value: Any) -> Any:
    return value


WRITERS: dict[str, Callable[[Any], Any]] = {
    "name": _plain, "description": _plain, "seed": _plain,
    "duration": lambda v: _si(v, "duration"), "start": _plain, "frame": _frame,
    "places": _places, "corridor": _corridor, "hotline": _hotline,
}
ITEM_WRITERS: dict[str, Callable[[Any], Any]] = {
    "lanes": _lane, "flights": _flight, "recorded": _recorded, "zones": _zone,
    "interference": _interference, "rules": _rule, "reported": _reported,
}
