"""``deconflict validate``: check a scenario file (with its ``--set`` overrides) and print a
one-screen summary of it; nothing is run or written."""

from __future__ import annotations

import argparse

from sim.cli.core import EXIT_OK, add_allow_outside_option, load
from sim.model.geography import Geography
from sim.model.scenario import Scenario
from sim.model.units import HOUR
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
    if geography.centerline is not None and scenario.corridor is not None:
        length = geography.centerline.geometry().length / 1000.0
        name = scenario.corridor.centerline if isinstance(scenario.corridor.centerline, str) \
            else "custom"
        lines.append(f"  corridor  {name}, {length:.0f} km long, half width "
                     f"{scenario.corridor.half_width_m / 1000.0:.1f} km")
    for lane in geography.lanes:
        lines.append(f"  lane      {lane.lane.id}: {lane.lane.party}, offset "
                     f"{lane.lane.offset_m / 1000.0:+.1f} km, {lane.lane.direction}")
    for party in scenario.parties:
        count = sum(1 for f in scenario.flights if f.party == party)
        lines.append(f"  party     {party}: {count} explicit flights")
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
    for rule in scenario.rules:
        lines.append(f"  rule      {rule.id}: {rule.type}")
    hotline = scenario.hotline
    per = f"{len(hotline.pattern_s)} calls" if len(hotline.pattern_s) > 1 else "a call"
    lines.append("  hotline   " + (f"from {hotline.first_call_s / HOUR:g} h, {per} every "
                                   f"{hotline.interval_s / HOUR:g} h, latency "
                                   f"{hotline.latency_s / 60:g} min, loss {hotline.loss:g}, "
                                   f"ad-hoc calls {hotline.adhoc_probability:g}"
                                   if hotline.enabled else "off"))
    return "\n".join(lines)
