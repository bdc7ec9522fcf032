"""Summaries and statistics of a run: counts and rates per rule and party, flights and flight
hours (``summary.json``); near-miss statistics (``stats.json``); replication intervals."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import __version__
from sim.engine.hotline import Degradation
from sim.engine.simulation import OUTCOMES, Run
from sim.model.records import LOST, NOT_YET_RECEIVED, UNDECLARED, Episode, FlightRecord
from sim.model.scenario import MinSeparationSpec, Scenario
from sim.model.units import DAY, FOOT, HOUR, NAUTICAL_MILE, STATUTE_MILE


def summarize(run: Run) -> dict[str, Any]:
    """The ``summary.json`` of a run (docs/run-folder.md).

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
        by_party = involvement(mine, parties)[0]
        rules[spec.id] = {"type": spec.type, "episodes": len(mine), "by_party": by_party,
                          "per_day": round(len(mine) / days, 6)}
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "version": __version__,
        "duration_s": float(scenario.duration_s),
        "start": scenario.start,
        "flights": per_party(flown, parties),
        "flight_hours": {p: round(s / HOUR, 6) for p, s in
                         per_party(flown, parties, lambda f: f.airborne_s).items()},
        "rules": rules,
        "hotline": hotline_summary(run),
        "planning": planning_summary(run),
        "reported": reported_summary(scenario, run.episodes),
        **({"interference": interference_summary(run)} if scenario.interference else {}),
    }


INTERFERENCE = "interference"  # the cause of an episode overlapping a navigation error


def caused_by_interference(episode: Episode) -> bool:
    """Whether the episode overlaps a navigation error of one of its aircraft."""
    return INTERFERENCE in episode.cause.split(";")


def interference_summary(run: Run) -> dict[str, Any]:
    """What the interference areas did: crossings of targeted aircraft, those flown with a
    navigation error, drones aborted and lost, hotline items sent while degraded, and
    each rule's episodes caused by interference (overlapping a navigation error)."""
    effects, scenario = run.interference, run.scenario
    degraded = Degradation.of(scenario.interference)
    return {
        "areas": [a.id for a in scenario.interference],
        "crossings": effects.crossings,
        "displaced_crossings": effects.displaced,
        "drones_aborted": len(effects.aborted),
        "drones_lost": len(effects.lost),
        "aborted": list(effects.aborted),
        "lost": list(effects.lost),
        "hotline_items_affected": sum(1 for m in run.hotline.messages
                                      if degraded.affects(m.sent_s)),
        "episodes_by_rule": {spec.id: sum(1 for e in run.episodes if e.rule == spec.id
                                          and caused_by_interference(e))
                             for spec in scenario.rules},
    }


def per_party(items: Iterable[Any], parties: Sequence[str],
              value: Callable[[Any], Any] | None = None,
              party: Callable[[Any], str] = lambda item: item.party) -> dict[str, Any]:
    """Per party (every one of ``parties``, in order): how many of ``items`` are its, or the
    sum of their ``value``. One pass, whatever the number of parties; each party's sum
    adds its items in their order, as ``sum`` over them would."""
    out: dict[str, Any] = dict.fromkeys(parties, 0)
    for item in items:
        p = party(item)
        if p in out:
            out[p] += 1 if value is None else value(item)
    return out


def involvement(episodes: Iterable[Episode], parties: Sequence[str]
                ) -> tuple[dict[str, int], dict[str, float]]:
    """Per party (every one of ``parties``): how many of the episodes it took part in
    (``Episode.involves``: both sides of a pair, the violator otherwise) and their total
    duration. One pass, whatever the number of parties; each total adds its episodes in
    their order, as ``sum`` over them would."""
    counts: dict[str, int] = dict.fromkeys(parties, 0)
    totals: dict[str, float] = dict.fromkeys(parties, 0)
    for e in episodes:
        for p in ((e.party, e.other_party) if e.other_aircraft and e.other_party != e.party
                  else (e.party,)):
            if p in counts:
                counts[p] += 1
                totals[p] += e.duration_s
    return counts, {p: float(t) for p, t in totals.items()}


def reported_summary(scenario: Scenario, episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    """Each reported rate beside this run's simulated one (episodes a day the party took
    part in, or all the rule's episodes), with the exact Poisson (Garwood) 95% interval of
    the run's episode count over its days and the verdict of that interval against the
    reported band (``rate_verdict``; ``within``: the verdict is ``consistent``)."""
    days = scenario.duration_s / DAY
    reported = []
    for item in scenario.reported:
        count = sum(1 for e in episodes if e.rule == item.rule and (
            item.party is None or e.involves(item.party)))
        low, high = (_round(v / days) for v in poisson_interval(count))
        verdict = rate_verdict(low, high, item.low_per_day, item.high_per_day)
        reported.append({"rule": item.rule, "party": item.party,
                         "simulated_per_day": _round(count / days),
                         "reported_per_day": [item.low_per_day, item.high_per_day],
                         "episodes": count,
                         "interval_per_day": [low, high],
                         "interval_method": _run_method(count, days),
                         "verdict": verdict, "within": verdict == CONSISTENT,
                         "fact": item.fact})
    return reported


# The verdicts of a simulated rate's 95% interval against a reported band (or value).
CONSISTENT, ABOVE, BELOW = "consistent", "above", "below"
CONFIDENCE = 0.95


def poisson_interval(count: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The exact (Garwood) interval of a Poisson mean from one observed ``count``: the
    means at which seeing ``count`` or more (the low end; 0 for no count), or ``count`` or
    fewer (the high end), has probability (1 - confidence) / 2 (the chi-squared quantiles
    ``chi2(a/2, 2k)/2`` and ``chi2(1 - a/2, 2k + 2)/2``). Never below zero, and never of
    zero width, as a count's is.

    Solved here by bisection on the Poisson distribution function (to the float; the
    tests hold it to scipy's chi-squared quantiles): importing scipy.stats for it would
    cost every run with reported rates 0.8 s, scipy.special 0.24 s.
    """
    if count < 0 or int(count) != count:
        raise ValueError(f"a Poisson interval needs a count (a whole number >= 0), not {count}")
    k = int(count)
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else _poisson_mean_where(k - 1, 1.0 - tail)
    return low, _poisson_mean_where(k, tail)


def _poisson_mean_where(k: int, probability: float) -> float:
    """The Poisson mean at which P(N <= k) equals ``probability`` (it falls as the mean
    grows), by bisection down to adjacent floats."""
    low, high = 0.0, k + 20.0 * math.sqrt(k + 1.0) + 40.0  # P(N <= k) is ~0 up there
    for _ in range(200):
        middle = (low + high) / 2.0
        if not low < middle < high:
            break
        if _poisson_cdf(k, middle) > probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def _poisson_cdf(k: int, mean: float) -> float:
    """P(N <= k) for N Poisson with ``mean`` > 0: the terms summed in logs, from 40
    standard deviations below the mean (the terms further down add less than 1e-300)."""
    start = max(0, int(mean - 40.0 * math.sqrt(mean) - 1.0))
    if start > k:
        return 0.0
    i = np.arange(start, k + 1, dtype=float)
    logs = -mean + i * math.log(mean) - np.array([math.lgamma(v + 1.0) for v in i])
    top = float(logs.max())
    return min(1.0, math.exp(top) * float(np.sum(np.exp(logs - top))))


def rate_verdict(low: float, high: float, band_low: float, band_high: float) -> str:
    """``above`` when the whole interval [low, high] is above the reported band, ``below``
    when it is wholly below, else ``consistent`` (they overlap, ends included). A single
    reported value is the band [value, value]: consistent when the interval holds it."""
    if low > band_high:
        return ABOVE
    if high < band_low:
        return BELOW
    return CONSISTENT


def _run_method(count: int, days: float) -> str:
    return (f"exact Poisson (Garwood) 95% interval of this run's {count} episode"
            f"{'' if count == 1 else 's'} over {days:g} days")


def reported_metric(item: Mapping[str, Any]) -> str:
    """The headline metric (``headline_metrics``) of a reported rate's rule and party."""
    return f"{item['rule']}.{item['party']}.per_day" if item["party"] else \
        f"{item['rule']}.per_day"


def reported_verdicts(reported: Sequence[Mapping[str, Any]],
                      replications: Mapping[str, Any] | None, days: float
                      ) -> list[dict[str, Any]]:
    """The verdict of each reported rate (``stats.json``'s ``reported``): from the
    replications' interval when the run has two or more, else from the run's own count
    (``reported``: ``summary.json``'s list, ``reported_summary``).

    Over replications the interval is the percentile bootstrap of the mean rate
    (``replications.metrics``), widened at each end to the exact Poisson interval of the
    replications' pooled episodes over their pooled days: rare events that no
    replication saw give a bootstrap interval [0, 0], which would call a rate "below"
    any band on no evidence. Pure: ``deconflict report`` recomputes it from the files.
    """
    metrics = (replications or {}).get("metrics") or {}
    out = []
    for item in reported:
        rep = metrics.get(reported_metric(item))
        band_low, band_high = item["reported_per_day"]
        entry: dict[str, Any] = {"rule": item["rule"], "party": item["party"],
                                 "reported_per_day": [band_low, band_high]}
        if rep and rep.get("low") is not None:
            n = int(rep["replications"])
            pooled = max(0, round(float(rep["mean"]) * n * days))
            p_low, p_high = poisson_interval(pooled)
            low = _round(min(float(rep["low"]), p_low / (n * days)))
            high = _round(max(float(rep["high"]), p_high / (n * days)))
            entry.update({
                "source": "replications", "replications": n,
                "estimate_per_day": float(rep["mean"]), "interval_per_day": [low, high],
                "interval_method": (
                    f"95% percentile bootstrap of the mean over {n} replications "
                    f"[{float(rep['low']):g}, {float(rep['high']):g}], widened to the exact "
                    f"Poisson (Garwood) 95% interval of their {pooled} episode"
                    f"{'' if pooled == 1 else 's'} over "
                    f"{n * days:g} days [{_round(p_low / (n * days)):g}, "
                    f"{_round(p_high / (n * days)):g}]")})
        else:
            low, high = item["interval_per_day"]
            entry.update({"source": "run", "replications": 0,
                          "estimate_per_day": item["simulated_per_day"],
                          "interval_per_day": [low, high],
                          "interval_method": item["interval_method"]})
        verdict = rate_verdict(low, high, band_low, band_high)
        entry.update({"verdict": verdict, "within": verdict == CONSISTENT,
                      "fact": item["fact"]})
        out.append(entry)
    return out


def verdicts_of(summary: Mapping[str, Any], stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The reported verdicts of a run: ``stats.json``'s ``reported`` (``run_stats`` and a
    run folder read back hold it), else recomputed from ``summary.json`` and the
    replications (statistics made without them, such as ``near_miss_stats``'s)."""
    if "reported" in stats:
        return list(stats["reported"])
    return reported_verdicts(summary.get("reported", []), stats.get("replications"),
                             float(stats["days"]))


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
        "complaints_by_party": per_party(complaints, parties, party=lambda m: m.sender),
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


# ---------------------------------------------------------------------------- near-miss statistics

# The quantiles of the miss-distance distributions (numpy's default linear interpolation).
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
NO_CAUSE = "none"  # the ``by_cause`` key of episodes that overlap no deliberate deviation


@dataclass(frozen=True, slots=True)
class SeverityBin:
    """Encounters whose closest approach is nearer than both limits (strictly)."""

    name: str
    label: str
    horizontal_m: float
    vertical_m: float  # math.inf: no vertical limit


# Nested, most severe first: an NMAC as the nmac facts define it, then 1 nmi, then the ICAO
# loss of separation (5 nmi / 1000 ft); the widest min_separation rule closes the list.
SEVERITY_BINS = (
    SeverityBin("nmac", "NMAC (< 500 ft, < 100 ft)", 500 * FOOT, 100 * FOOT),
    SeverityBin("under_1nmi", "< 1 nmi, < 1000 ft", NAUTICAL_MILE, 1000 * FOOT),
    SeverityBin("under_5nmi", "< 5 nmi, < 1000 ft", 5 * NAUTICAL_MILE, 1000 * FOOT),
)


def near_miss_stats(scenario: Scenario, episodes: Sequence[Episode],
                    flights: Sequence[FlightRecord], hotline: Mapping[str, Any],
                    bins: Sequence[SeverityBin] = SEVERITY_BINS,
                    interference: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``stats.json`` of a run: rates, miss distances, severity, time in violation.

    Pure: computed from the episodes, the flights (those that departed within the run are
    its sorties and flight hours) and the hotline summary (``hotline_summary``), so that
    it can be recomputed from a run folder. Rates are per day of run time, per 100
    sorties and per 1,000 flight hours; a party's rates count the episodes it took part
    in over its own sorties and hours. A scenario with interference areas also gets each
    rule's episodes caused by interference, with the drones aborted and lost and the
    hotline items degraded from ``interference`` (``interference_summary``).
    """
    parties = sorted(scenario.parties)
    days = scenario.duration_s / DAY
    flown = [f for f in flights if f.depart_s < scenario.duration_s]
    sorties = per_party(flown, parties)
    hours = {p: s / HOUR for p, s in per_party(flown, parties, lambda f: f.airborne_s).items()}
    total_sorties, total_hours = sum(sorties.values()), sum(hours.values())
    rates: dict[str, Any] = {}
    miss: dict[str, Any] = {}
    time_in: dict[str, Any] = {}
    for spec in scenario.rules:
        mine = [e for e in episodes if e.rule == spec.id]
        counts = involvement(mine, parties)[0]
        by_party = {p: _rates(counts[p], days, sorties[p], hours[p]) for p in parties}
        causes = sorted({e.cause or NO_CAUSE for e in mine})
        rates[spec.id] = {
            "type": spec.type, **_rates(len(mine), days, total_sorties, total_hours),
            "by_party": by_party,
            "by_cause": {c: {"episodes": n, "per_day": _round(n / days)} for c in causes
                         for n in [sum(1 for e in mine if (e.cause or NO_CAUSE) == c)]},
        }
        time_in[spec.id] = _time_in_violation(mine, parties, hours)
        if spec.type not in ("lane_discipline", "zone_incursion"):  # pairs: how close they came
            miss[spec.id] = {
                "episodes": len(mine),
                "horizontal_m": quantiles([e.min_distance_m for e in mine
                                           if e.min_distance_m is not None]),
                "vertical_m": quantiles([abs(e.vertical_m) for e in mine
                                         if e.vertical_m is not None]),
            }
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "version": __version__,
        "duration_s": float(scenario.duration_s),
        "days": _round(days),
        "exposure": {
            "sorties": {"total": total_sorties, **sorties},
            "flight_hours": {"total": _round(total_hours),
                             **{p: _round(h) for p, h in hours.items()}},
        },
        "rates": rates,
        "miss_distance": miss,
        "severity": severity(scenario, episodes, bins),
        "time_in_violation": time_in,
        "hotline": {k: hotline[k] for k in ("enabled", "calls", "scheduled_calls", "declared",
                                           "lost", "complaints", "complaints_lost",
                                           "complaints_by_party", "complaints_per_call")
                    if k in hotline},
        **({"interference": {
            "episodes_by_rule": {spec.id: _rates(n, days, total_sorties, total_hours)
                                 for spec in scenario.rules
                                 for n in [sum(1 for e in episodes if e.rule == spec.id
                                               and caused_by_interference(e))]},
            **{k: (interference or {}).get(k, 0) for k in (
                "drones_aborted", "drones_lost", "hotline_items_affected")},
        }} if scenario.interference else {}),
    }


def _rates(count: int, days: float, sorties: int, hours: float) -> dict[str, Any]:
    """A count and its three rates; a rate over no sorties (or hours) is null."""
    return {"episodes": count, "per_day": _round(count / days),
            "per_100_sorties": _round(100.0 * count / sorties) if sorties else None,
            "per_1000_flight_hours": _round(1000.0 * count / hours) if hours > 0 else None}


def _time_in_violation(mine: Sequence[Episode], parties: Sequence[str],
                       hours: Mapping[str, float]) -> dict[str, Any]:
    """How long the rule's condition held: in all (aircraft-time for lanes and zones,
    pair-time for separation), per episode, and per party per hour that party flew."""
    durations = np.array([e.duration_s for e in mine], float)
    totals = involvement(mine, parties)[1]
    by_party = {p: {"total_s": _round(totals[p]),
                    "per_flight_hour_s": _round(totals[p] / hours[p]) if hours[p] > 0 else None}
                for p in parties}
    return {
        "total_s": _round(float(durations.sum())),
        "mean_s": _round(float(durations.mean())) if len(durations) else None,
        "median_s": _round(float(np.median(durations))) if len(durations) else None,
        "max_s": _round(float(durations.max())) if len(durations) else None,
        "by_party": by_party,
    }


def quantiles(values: Sequence[float]) -> dict[str, Any]:
    """Count, mean and the ``QUANTILES`` of a sample (nulls for an empty one)."""
    data = np.asarray(values, float)
    if not len(data):
        return {"count": 0, "mean": None, **{_q_name(q): None for q in QUANTILES}}
    values_q = np.quantile(data, QUANTILES)
    return {"count": int(len(data)), "mean": _round(float(data.mean())),
            **{_q_name(q): _round(float(v)) for q, v in zip(QUANTILES, values_q, strict=True)}}


def _q_name(q: float) -> str:
    return {0.0: "min", 1.0: "max"}.get(q, f"p{round(q * 100):02d}")


def encounter_rule(scenario: Scenario) -> MinSeparationSpec | None:
    """The widest min_separation rule (largest horizontal, then vertical limit): its
    episodes are the encounters the severity bins classify."""
    rules = [r for r in scenario.rules if isinstance(r, MinSeparationSpec)]
    if not rules:
        return None
    return max(rules, key=lambda r: (r.horizontal_m, math.inf if r.vertical_m is None
                                     else r.vertical_m))


def severity_bins(scenario: Scenario, bins: Sequence[SeverityBin] = SEVERITY_BINS
                  ) -> tuple[SeverityBin, ...]:
    """The bins that apply: those strictly inside the encounter rule, then that rule."""
    widest = encounter_rule(scenario)
    if widest is None:
        return ()
    h = widest.horizontal_m
    v = math.inf if widest.vertical_m is None else widest.vertical_m
    inside = [b for b in bins if b.horizontal_m <= h and b.vertical_m <= v
              and (b.horizontal_m, b.vertical_m) != (h, v)]
    label = f"< {_distance_label(h)}" + ("" if math.isinf(v) else f", < {v / FOOT:g} ft")
    return (*inside, SeverityBin(widest.id, f"{label} ({widest.id})", h, v))


def severity(scenario: Scenario, episodes: Sequence[Episode],
             bins: Sequence[SeverityBin] = SEVERITY_BINS) -> dict[str, Any]:
    """Encounters (episodes of the widest min_separation rule) by the most severe bin
    their closest approach falls in.

    Altitudes are constant along a flight, so the vertical miss distance at the closest
    horizontal approach is the pair's vertical separation throughout: an encounter is in
    a bin exactly when a min_separation rule with the bin's limits holds at some moment.
    An encounter that comes close twice counts once, at its closest.
    """
    widest = encounter_rule(scenario)
    if widest is None:
        return {"encounter_rule": None, "encounters": 0, "bins": []}
    days = scenario.duration_s / DAY
    applied = severity_bins(scenario, bins)
    found = [e for e in episodes if e.rule == widest.id and e.min_distance_m is not None]
    counts = [0] * len(applied)
    for e in found:
        h = float(e.min_distance_m or 0.0)
        v = abs(e.vertical_m) if e.vertical_m is not None else 0.0
        for k, b in enumerate(applied):
            if h < b.horizontal_m and v < b.vertical_m:
                counts[k] += 1
                break
    out = []
    cumulative = 0
    for b, n in zip(applied, counts, strict=True):
        cumulative += n
        out.append({"name": b.name, "label": b.label, "horizontal_m": _round(b.horizontal_m),
                    "vertical_m": None if math.isinf(b.vertical_m) else _round(b.vertical_m),
                    "encounters": n, "per_day": _round(n / days),
                    "cumulative": cumulative, "cumulative_per_day": _round(cumulative / days)})
    return {"encounter_rule": widest.id, "encounters": len(found), "bins": out}


def _distance_label(metres: float) -> str:
    """A limit as written in the field: whole statute or nautical miles, or feet."""
    for unit, name in ((STATUTE_MILE, "mi"), (NAUTICAL_MILE, "nmi")):
        if abs(metres / unit - round(metres / unit)) < 1e-9 and metres >= unit:
            return f"{round(metres / unit)} {name}"
    if metres < NAUTICAL_MILE:
        return f"{metres / FOOT:g} ft"
    return f"{metres / NAUTICAL_MILE:.3g} nmi"


def _round(value: float) -> float:
    return round(value, 6)


# ---------------------------------------------------------------------------- replications

BOOTSTRAP_RESAMPLES = 2000


def headline_metrics(stats: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of one run that replications summarise, flattened to dotted names:
    each rule's three rates and each party's episodes a day, hours in violation,
    encounters a day at least as close as each severity bin, and complaints per call."""
    out: dict[str, float] = {}
    for rule_id, r in stats["rates"].items():
        for rate in ("per_day", "per_100_sorties", "per_1000_flight_hours"):
            if r[rate] is not None:
                out[f"{rule_id}.{rate}"] = float(r[rate])
        for party, pr in r["by_party"].items():
            out[f"{rule_id}.{party}.per_day"] = float(pr["per_day"])
        out[f"{rule_id}.hours_in_violation"] = _round(
            float(stats["time_in_violation"][rule_id]["total_s"]) / HOUR)
    for b in stats["severity"]["bins"]:
        out[f"severity.{b['name']}.per_day"] = float(b["cumulative_per_day"])
    if "complaints_per_call" in stats["hotline"]:
        out["hotline.complaints_per_call"] = float(stats["hotline"]["complaints_per_call"])
    if "interference" in stats:
        for rule_id, r in stats["interference"]["episodes_by_rule"].items():
            out[f"interference.{rule_id}.per_day"] = float(r["per_day"])
        for key in ("drones_aborted", "drones_lost"):
            out[f"interference.{key}"] = float(stats["interference"][key])
    return out


def headline_metric_names(scenario: Scenario) -> tuple[str, ...]:
    """Every name ``headline_metrics`` can give for runs of ``scenario``, in its order (a
    run leaves out a rate over no sorties or no flight hours)."""
    names: list[str] = []
    for spec in scenario.rules:
        names += [f"{spec.id}.{rate}" for rate in
                  ("per_day", "per_100_sorties", "per_1000_flight_hours")]
        names += [f"{spec.id}.{party}.per_day" for party in scenario.parties]
        names.append(f"{spec.id}.hours_in_violation")
    names += [f"severity.{b.name}.per_day" for b in severity_bins(scenario)]
    names.append("hotline.complaints_per_call")
    if scenario.interference:
        names += [f"interference.{spec.id}.per_day" for spec in scenario.rules]
        names += ["interference.drones_aborted", "interference.drones_lost"]
    return tuple(names)


def bootstrap_interval(values: Sequence[float], rng: np.random.Generator,
                       resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = 0.95
                       ) -> tuple[float, float]:
    """A percentile bootstrap interval for the mean of ``values`` (replications)."""
    data = np.asarray(values, float)
    if len(data) < 2:
        raise ValueError("a bootstrap interval needs at least two replications")
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def replication_summary(samples: Sequence[Mapping[str, float]], seed: int
                        ) -> dict[str, dict[str, Any]]:
    """Mean and 95% bootstrap interval of every headline metric over replications.

    The resampling draws from its own generator seeded with ``seed`` (the scenario's), so
    the intervals are reproducible. With one replication there is no interval (nulls).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    names = [m for m in samples[0] if all(m in s for s in samples)] if samples else []
    out = {}
    for name in names:
        values = [float(s[name]) for s in samples]
        low, high = bootstrap_interval(values, rng) if len(values) > 1 else (None, None)
        out[name] = {"mean": _round(float(np.mean(values))),
                     "low": None if low is None else _round(low),
                     "high": None if high is None else _round(high),
                     "replications": len(values)}
    return out


@dataclass(frozen=True, slots=True)
class Replications:
    """Headline metrics of further runs of the scenario, one per seed."""

    seeds: tuple[int, ...]
    metrics: tuple[dict[str, float], ...]


def run_stats(run: Run, replications: Replications | None = None) -> dict[str, Any]:
    """The ``stats.json`` of a run (see ``near_miss_stats``), with the means and
    bootstrap intervals of its replications when given, and the verdict of each reported
    rate (``reported_verdicts``) when the scenario has any."""
    stats = near_miss_stats(run.scenario, run.episodes, run.flights, hotline_summary(run),
                            interference=interference_summary(run)
                            if run.scenario.interference else None)
    if replications is not None:
        stats["replications"] = {"seeds": list(replications.seeds),
                                 "metrics": replication_summary(replications.metrics,
                                                                run.scenario.seed)}
    if run.scenario.reported:
        stats["reported"] = reported_verdicts(reported_summary(run.scenario, run.episodes),
                                              stats.get("replications"), stats["days"])
    return stats
