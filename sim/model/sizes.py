"""A scenario's size against the resource limits, checked before anything is run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.model.limits import Limits
from sim.model.spec import Party, PolygonArea, Problem, Scenario


def size_problems(scenario: Scenario, top: Mapping[str, Any], limits: Limits
                    ) -> list[Problem]:
    """Refuse, before anything is run, a scenario that asks for more hotline calls,
    flights, waypoints or zone (and interference area) vertices than the limits allow."""
    problems: list[Problem] = []
    file, duration_s, parties = scenario.file, scenario.duration_s, scenario.parties
    hotline, zones = scenario.hotline, scenario.zones
    # The call schedule is also the parties' planning cycle (work areas are grouped by it),
    # so it is bounded even when the hotline is off.
    if duration_s > hotline.first_call_s:
        calls = (duration_s - hotline.first_call_s) / hotline.interval_s * len(hotline.pattern_s)
        # At least one work area per mission is declared at every call while it lasts.
        areas = sum(len(p.sorties.missions) for p in parties.values()
                    if p.sorties is not None and p.work_areas.enabled and p.work_areas.declare)
        messages = calls * (sum(z.declare for z in zones) + areas) * max(len(parties) - 1, 0)
        if calls > limits.hotline_calls or messages > limits.declarations:
            problems.append(Problem(file, "hotline.interval", (
                f"{top['hotline']['interval']!r} makes {calls:,.0f} calls (about "
                f"{messages:,.0f} declarations) in this run, more than "
                f"{limits.hotline_calls:,} calls or {limits.declarations:,} declarations; "
                "write a longer interval such as \"24 h\" (or raise the limit: "
                "Limits(hotline_calls=N) or Limits(declarations=N))")))
    flights = scenario.flights
    expected = {name: p.sorties.per_day * duration_s / 86_400.0 for name, p in parties.items()
                if p.sorties is not None}
    total = len(flights) + sum(expected.values())
    if total > limits.flights:
        busiest = max(expected, key=lambda n: expected[n]) if expected else None
        path = f"parties.{busiest}.sorties_per_day" if busiest else "flights"
        problems.append(Problem(file, path, (
            f"this run would fly about {total:,.0f} flights ({len(flights):,} written, "
            f"{sum(expected.values()):,.0f} generated over {top.get('duration')!r}), more than "
            f"the limit of {limits.flights:,}; shorten the duration or lower the rate (or "
            "raise the limit: Limits(flights=N))")))
    points = sum(len(x.route) for x in flights)
    if points > limits.waypoints:
        problems.append(Problem(file, "flights", (
            f"the flights' routes have {points:,} points in all, more than the limit of "
            f"{limits.waypoints:,}; split the scenario (or raise the limit: "
            "Limits(waypoints=N))")))
    laps, path = _racetrack_points(parties, expected)
    if points + laps > limits.waypoints:
        problems.append(Problem(file, path, (
            f"the sorties' racetrack laps alone would have at least about {laps:,.0f} "
            f"waypoints over {top.get('duration')!r}, more than the limit of "
            f"{limits.waypoints:,} for all flights together; shorten the time on station, "
            "lengthen the racetrack or lower the rate (or raise the limit: "
            "Limits(waypoints=N))")))
    vertices = sum(len(z.area.points) for z in zones if isinstance(z.area, PolygonArea))
    if vertices > limits.zone_vertices:
        problems.append(Problem(file, "zones", (
            f"the zones' outlines have {vertices:,} vertices in all, more than the limit of "
            f"{limits.zone_vertices:,}; simplify them (or raise the limit: "
            "Limits(zone_vertices=N))")))
    jammed = sum(len(x.area.points) for x in scenario.interference
                 if isinstance(x.area, PolygonArea))
    if vertices <= limits.zone_vertices < vertices + jammed:
        problems.append(Problem(file, "interference", (
            f"the interference areas' outlines have {jammed:,} vertices ({vertices + jammed:,} "
            f"with the zones'), more than the limit of {limits.zone_vertices:,} for all "
            "outlines together; simplify them (or raise the limit: "
            "Limits(zone_vertices=N))")))
    return problems


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
