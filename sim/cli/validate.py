"""``deconflict validate``: check a scenario file (with its ``--set`` overrides) and print a
one-screen summary of it; nothing is run or written."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from sim.cli.core import EXIT_OK, add_allow_outside_option, load
from sim.model.geography import Geography
from sim.model.scenario import FramePoint, LonLat, Point, Scenario
from sim.model.units import DAY, HOUR, KILOMETRE, UNITS, QuantityError, parse_quantity
from sim.model.writer import as_document
from sim.traffic.recorded_flights import read_entries
from sim.traffic.sorties import explicit_flights


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``validate`` and its options."""
    parser = commands.add_parser("validate", help="check a scenario and summarise it")
    parser.add_argument("scenario", metavar="SCENARIO.yaml")
    add_allow_outside_option(parser)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a key before checking")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Check the scenario and print its summary."""
    scenario, geography = load(args)
    explicit_flights(scenario, geography)  # their climbs and descents need the geography
    print(describe(scenario, geography))
    return EXIT_OK


def describe(scenario: Scenario, geography: Geography) -> str:
    """A one-screen summary of a valid scenario."""
    frame = geography.frame
    lines = [f"{scenario.file}: valid",
             f"  scenario  {scenario.name} (seed {scenario.seed}, "
             f"{scenario.duration_s / HOUR:g} h"
             + (f", from {scenario.start})" if scenario.start else ")"),
             f"  frame     centre {frame.center_lon:.4f} E, {frame.center_lat:.4f} N"]
    written = as_document(scenario)
    if geography.centerline is not None and scenario.corridor is not None:
        length = geography.centerline.geometry().length / 1000.0
        name = scenario.corridor.centerline if isinstance(scenario.corridor.centerline, str) \
            else "custom"
        half = _written(_get(written, "corridor", "half_width"),
                        scenario.corridor.half_width_m)
        lines.append(f"  corridor  {name}, {length:.0f} km long, half width {half}")
    offsets = {lane.id: _get(written, "lanes", lane.id, "offset") for lane in scenario.lanes}
    for lane in geography.lanes:
        offset = _written(offsets[lane.lane.id], lane.lane.offset_m, signed=True)
        lines.append(f"  lane      {lane.lane.id}: {lane.lane.party}, offset {offset}, "
                     f"{lane.lane.direction}")
    by_offset = sorted(scenario.lanes, key=lambda lane: (lane.offset_m, lane.id))
    for a, b in zip(by_offset, by_offset[1:], strict=False):
        lines.append(f"  spacing   {a.id} to {b.id}: "
                     f"{_spacing(offsets[a.id], offsets[b.id], b.offset_m - a.offset_m)}")
    for party_id in scenario.parties:
        count = sum(1 for f in scenario.flights if f.party == party_id)
        lines += _party_lines(scenario, party_id, count)
    entries = read_entries(scenario)  # read once already by the load: cached
    for party in dict.fromkeys(e.spec.party for e in entries):
        own = [e for e in entries if e.spec.party == party]
        files = len(own)
        lines.append(f"  recorded  {party}: {files} file{'s' * (files > 1)} "
                     f"({', '.join(e.spec.file for e in own)}), "
                     f"{sum(len(e.tracks) for e in own):,} flights, "
                     f"{sum(e.reports for e in own):,} reports")
    lines.append(f"  zones     {len(scenario.zones)}"
                 + (f" ({', '.join(z.id for z in scenario.zones[:8])}"
                    + (", ..." if len(scenario.zones) > 8 else "") + ")" if scenario.zones
                    else ""))
    for jammer in scenario.interference:
        effects = [name for name in ("navigation", "drones", "hotline")
                   if getattr(jammer, name) is not None]
        aircraft = f" ({', '.join(jammer.aircraft)})" if jammer.aircraft else ""
        lines.append(f"  jamming   {jammer.id}: {jammer.owner} against "
                     f"{', '.join(jammer.parties)}{aircraft}; {len(jammer.windows_s)} window"
                     f"{'s' * (len(jammer.windows_s) != 1)}; "
                     f"{', '.join(effects) or 'no effects'}")
    rules_written = {r.get("id"): r for r in written.get("rules") or []
                     if isinstance(r, Mapping)}
    lane_units = {u[1] for u in map(_unit, offsets.values()) if u is not None}
    like = next(iter(lane_units)) if len(lane_units) == 1 else None
    for rule in scenario.rules:
        lines.append(f"  rule      {rule.id}: {rule.type}"
                     + _rule_limits(rule, rules_written.get(rule.id, {}), like))
    hotline = scenario.hotline
    per = f"{len(hotline.pattern_s)} calls" if len(hotline.pattern_s) > 1 else "a call"
    lines.append("  hotline   " + (f"from {_hours(hotline.first_call_s)}, {per} every "
                                   f"{_hours(hotline.interval_s)}, latency "
                                   f"{hotline.latency_s / 60:g} min, loss {hotline.loss:g}, "
                                   f"ad-hoc calls {hotline.adhoc_probability:g}"
                                   if hotline.enabled else "off"))
    return "\n".join(lines)


def _party_lines(scenario: Scenario, party_id: str, explicit: int) -> list[str]:
    """A party's generated traffic: sorties a day (and in the run), bases and missions by
    share, compliance; or that it flies explicit flights only."""
    party = scenario.parties[party_id]
    flights = f"{explicit} explicit flight{'s' * (explicit != 1)}"
    sorties = party.sorties
    if sorties is None:
        return [f"  party     {party_id}: no generated sorties, {flights}"]
    days = scenario.duration_s / DAY
    return [f"  party     {party_id}: {sorties.per_day:g} sorties a day "
            f"({sorties.per_day * days:g} in the run), compliance {party.compliance:g}, "
            f"{flights}",
            f"    bases     {_shares([(_point(p), w) for p, w in sorties.bases])}",
            f"    missions  {_shares([(_point(m.area), m.share) for m in sorties.missions])}"]


def _shares(items: Sequence[tuple[str, float]]) -> str:
    """Names with their weights as percentages of the whole, as the generator draws them."""
    total = sum(w for _, w in items)
    return ", ".join(f"{name} {100.0 * w / total:.0f}%" if total > 0 else name
                     for name, w in items)


def _point(point: Point) -> str:
    """A point as the scenario names it: a place, lon/lat, or frame metres."""
    if isinstance(point, LonLat):
        return f"({point.lon:g} E, {point.lat:g} N)"
    if isinstance(point, FramePoint):
        return f"({point.x_m / KILOMETRE:g} km, {point.y_m / KILOMETRE:g} km)"
    return point.name


def _rule_limits(rule: Any, written: Mapping[str, Any], like: str | None) -> str:
    """A rule's distance limits as the scenario wrote them: separation's horizontal and
    vertical, a lane rule's tolerance (filled in from the lanes: in their unit)."""
    parts = []
    for key, attribute in (("horizontal", "horizontal_m"), ("vertical", "vertical_m"),
                           ("tolerance", "tolerance_m")):
        value = getattr(rule, attribute, None)
        if value is not None:
            parts.append(f"{key} {_written(written.get(key), value, like=like)}")
    return f", {', '.join(parts)}" if parts else ""


def _get(document: Mapping[str, Any], *keys: str) -> Any:
    """The value at a key path of the resolved document, or None."""
    node: Any = document
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _unit(text: Any) -> tuple[float, str] | None:
    """The number and unit of a distance written as text ("45 mi" -> (45.0, "mi"))."""
    try:
        quantity = parse_quantity(text, "distance")
    except QuantityError:
        return None
    return quantity.number, quantity.unit


def _km(metres: float, signed: bool = False) -> str:
    """Kilometres to 0.1 km; metres below 1 km."""
    sign = "+" if signed else ""
    if abs(metres) < KILOMETRE:
        return f"{metres:{sign}.0f} m"
    return f"{metres / KILOMETRE:{sign}.1f} km"


def _hours(seconds: float) -> str:
    """A time in whole hours ("6 h"), else whole minutes ("5 min"), else seconds."""
    for unit, size in (("h", HOUR), ("min", 60.0)):
        if seconds % size == 0.0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _written(text: Any, metres: float, signed: bool = False, like: str | None = None) -> str:
    """A distance as written in the scenario, with kilometres beside it unless written in
    kilometres ("45 mi (72.4 km)"); kilometres alone when the text is not at hand. A
    value in plain metres that is a round number in the unit ``like`` (the lanes', for a
    tolerance filled in from their spacing) is shown in that unit."""
    parsed = _unit(text)
    if parsed is None:
        return _km(metres, signed)
    if parsed[1] == "m" and like is not None and like != "m":
        value = metres / UNITS["distance"][like]
        if abs(value - round(value, 3)) < 1e-9 * max(1.0, abs(value)):
            text = f"{round(value, 3):{'+' if signed else ''}g} {like}"
            parsed = _unit(text)
    if parsed[1] == "km":
        return str(text).strip()
    return f"{str(text).strip()} ({_km(metres, signed)})"


def _spacing(text_a: Any, text_b: Any, metres: float) -> str:
    """How far apart two lanes are, in the unit both offsets were written in (else km)."""
    a, b = _unit(text_a), _unit(text_b)
    if a is None or b is None or a[1] != b[1]:
        return f"{_km(metres)} apart"
    apart = f"{round(abs(b[0] - a[0]), 9):g} {a[1]}"  # 9 digits: no float noise
    return f"{apart} apart" if a[1] == "km" else f"{apart} apart ({_km(metres)})"
