"""Summaries of a run: counts and rates per rule and party, flights and flight hours."""

from __future__ import annotations

from typing import Any

from sim import __version__
from sim.engine import Run
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
    messages = run.hotline.messages
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
        "hotline": {"enabled": scenario.hotline.enabled, "calls": run.hotline.calls,
                    "declared": len(messages), "lost": sum(1 for m in messages if m.lost),
                    "complaints": 0},
        "reported": reported,
    }
