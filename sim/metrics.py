"""Summaries of a run: counts and rates per rule and party, flights and flight hours."""

from __future__ import annotations

from typing import Any

from sim import __version__
from sim.engine import OUTCOMES, Run
from sim.hotline import LOST, NOT_YET_RECEIVED, UNDECLARED
from sim.units import DAY, HOUR


def summarize(run: Run) -> dict[str, Any]:
    """The ``summary.json`` of a run (SPEC §10).

    ``by_party`` counts the episodes each party took part in: both parties of a separation
    episode, the violator's party for lane and zone episodes. Every party appears, with 0
    where it took part in none.
    """
    scenario = run.scenario
    parties = sorted(scenario.parties)
    flown = [f for f in run.flights if f.depart_s < scenario.duration_s]
    days = scenario.duration_s / DAY
    rules: dict[str, Any] = {}
    for spec in scenario.rules:
        mine = [e for e in run.episodes if e.rule == spec.id]
        by_party = {p: sum(1 for e in mine if e.involves(p)) for p in parties}
        rules[spec.id] = {"type": spec.type, "episodes": len(mine), "by_party": by_party,
                          "per_day": round(len(mine) / days, 6)}
    reported = []
    for item in scenario.reported:
        count = sum(1 for e in run.episodes if e.rule == item.rule and (
            item.party is None or e.involves(item.party)))
        simulated = count / days
        reported.append({"rule": item.rule, "party": item.party,
                         "simulated_per_day": round(simulated, 6),
                         "reported_per_day": [item.low_per_day, item.high_per_day],
                         "within": item.low_per_day <= simulated <= item.high_per_day,
                         "fact": item.fact})
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "version": __version__,
        "duration_s": float(scenario.duration_s),
        "start": scenario.start,
        "flights": {p: sum(1 for f in flown if f.party == p) for p in parties},
        "flight_hours": {p: round(sum(f.airborne_s for f in flown if f.party == p) / HOUR, 6)
                         for p in parties},
        "rules": rules,
        "hotline": hotline_summary(run),
        "planning": planning_summary(run),
        "reported": reported,
    }


def hotline_summary(run: Run) -> dict[str, Any]:
    """Calls, declarations, losses, complaints, and zone incursions by what was known.

    ``declared``/``lost`` count declaration items passed (one per zone, recipient and
    call) and those lost; ``complaints`` the complaints passed, ``by_party`` by the side
    that complained. ``incursions`` splits zone_incursion episodes by the violator's
    knowledge of the zone when the episode began (see ``Hotline.status``).
    """
    hotline = run.hotline
    parties = sorted(run.scenario.parties)
    zones = [m for m in hotline.messages if m.item_type == "zone"]
    complaints = [m for m in hotline.messages if m.item_type == "complaint"]
    scheduled = len(hotline.scheduled())
    incursions = [e for e in run.episodes if e.type == "zone_incursion"]
    by_status = {s: sum(1 for e in incursions if e.declaration == s)
                 for s in (NOT_YET_RECEIVED, LOST, UNDECLARED)}
    return {
        "enabled": run.scenario.hotline.enabled,
        "calls": hotline.calls,
        "scheduled_calls": scheduled,
        "adhoc_calls": hotline.calls - scheduled,
        "declared": len(zones),
        "lost": sum(1 for m in zones if m.lost),
        "zones_declared": len({m.item for m in zones}),
        "work_areas": len(run.work_areas),
        "complaints": len(complaints),
        "complaints_lost": sum(1 for m in complaints if m.lost),
        "complaints_by_party": {p: sum(1 for m in complaints if m.sender == p)
                                for p in parties},
        "complaints_per_call": round(len(complaints) / scheduled, 6) if scheduled else 0.0,
        "incursions": {"total": len(incursions),
                       "informed": sum(1 for e in incursions if e.informed),
                       "uninformed": sum(1 for e in incursions if not e.informed),
                       **by_status},
    }


def planning_summary(run: Run) -> dict[str, dict[str, int]]:
    """What became of each party's generated sorties: as planned, rerouted round received
    zones, delayed, dropped, or not flown (still waiting when the run ended)."""
    out: dict[str, dict[str, int]] = {}
    for party in sorted(run.scenario.parties):
        mine = [o for sortie, o in run.outcomes.items()
                if sortie.rsplit("-", 1)[0] == party]
        out[party] = {"sorties": len(mine), **{o: mine.count(o) for o in OUTCOMES}}
    return out
