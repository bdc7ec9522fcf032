"""Replications of a scenario, and comparisons of two variants: what a different rule (or
hotline) buys.

Both variants fly the same replication seeds (common random numbers: the same sorties,
the same deviations), so each seed gives a paired difference B - A per metric. The
summary is the mean of each side, the mean difference with a 95% Student t interval,
and an exact two-sided sign test on the paired differences (ties dropped).
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, replace

import numpy as np

from sim.analysis.calibrate import replication_seeds, t975
from sim.analysis.metrics import Replications, headline_metrics, run_stats
from sim.analysis.workers import worker_pool
from sim.engine.simulation import run
from sim.model.geography import Geography, build_geography
from sim.model.scenario import Scenario
from sim.model.units import DAY


@dataclass(frozen=True, slots=True)
class Difference:
    """One metric compared: per-day means of A and B, B - A with its interval, a p-value."""

    metric: str
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    p_sign: float  # exact two-sided sign test on the paired differences
    replications: int


def metrics_per_day(scenario: Scenario, seed: int) -> dict[str, float]:
    """Episodes a day of every rule, and zone incursions split by what was known.

    A pure top-level function, so that a process pool can run replications in parallel.
    """
    result = run(scenario, seed=seed)
    days = scenario.duration_s / DAY
    out = {f"{spec.id}": sum(1 for e in result.episodes if e.rule == spec.id) / days
           for spec in scenario.rules}
    zones = [e for e in result.episodes if e.type == "zone_incursion"]
    if any(spec.type == "zone_incursion" for spec in scenario.rules):
        out["zone_incursions.informed"] = sum(1 for e in zones if e.informed) / days
        out["zone_incursions.uninformed"] = sum(1 for e in zones if not e.informed) / days
    outcomes = list(result.outcomes.values())
    for outcome in ("rerouted", "delayed", "dropped"):
        out[f"sorties.{outcome}"] = outcomes.count(outcome) / days
    return out


def replication_metrics(scenario: Scenario, seed: int) -> dict[str, float]:
    """The headline metrics (``sim.analysis.metrics.headline_metrics``) of one replication; a pure
    top-level function, so that a process pool can run it."""
    return headline_metrics(run_stats(run(scenario, seedless_geography(scenario), seed=seed)))


# Per process: the geographies of the last few scenarios replicated, by the scenario less
# its seed (a worker runs one grid point's replications one after another). The geography,
# and what is built from it once (routers, racetracks, gates), does not depend on the seed.
_GEOGRAPHIES: dict[bytes, Geography] = {}
KEPT_GEOGRAPHIES = 4


def seedless_geography(scenario: Scenario) -> Geography:
    """The scenario's geography, built once per process for all its seeds."""
    key = pickle.dumps(replace(scenario, seed=0), protocol=pickle.HIGHEST_PROTOCOL)
    geography = _GEOGRAPHIES.pop(key, None) or build_geography(scenario)
    _GEOGRAPHIES[key] = geography  # the most recent last
    while len(_GEOGRAPHIES) > KEPT_GEOGRAPHIES:
        del _GEOGRAPHIES[next(iter(_GEOGRAPHIES))]
    return geography


def replicate(scenario: Scenario, count: int, workers: int = 1) -> Replications:
    """Run ``count`` replications (seeds spawned from the scenario's) and keep each one's
    headline metrics, in seed order whatever the number of workers."""
    seeds = replication_seeds(scenario.seed, count)
    if workers > 1 and count > 1:
        with worker_pool(min(workers, count)) as pool:
            rows = list(pool.map(replication_metrics, [scenario] * count, seeds))
    else:
        rows = [replication_metrics(scenario, s) for s in seeds]
    return Replications(tuple(seeds), tuple(rows))


def compare(a: Scenario, b: Scenario, replications: int = 20, workers: int = 1
            ) -> list[Difference]:
    """Run both variants on the same seeds (from their common seed) and compare every
    metric; each variant's rates are per day of its own duration."""
    if a.seed != b.seed:
        raise ValueError("the variants must share a seed: replications are paired by seed")
    seeds = replication_seeds(a.seed, replications)
    jobs = [(a, s) for s in seeds] + [(b, s) for s in seeds]
    if workers > 1:
        with worker_pool(workers) as pool:
            results = list(pool.map(metrics_per_day, *zip(*jobs, strict=True)))
    else:
        results = [metrics_per_day(scenario, seed) for scenario, seed in jobs]
    side_a, side_b = results[:replications], results[replications:]
    names = [m for m in side_a[0] if m in side_b[0]]
    out = []
    for name in names:
        va = np.array([r[name] for r in side_a])
        vb = np.array([r[name] for r in side_b])
        d = vb - va
        half = (t975(len(d) - 1) * float(np.std(d, ddof=1)) / math.sqrt(len(d))
                if len(d) > 1 else math.inf)
        mean = float(np.mean(d))
        out.append(Difference(name, float(np.mean(va)), float(np.mean(vb)), mean,
                              mean - half, mean + half, sign_test(d), len(d)))
    return out


def sign_test(differences: np.ndarray) -> float:
    """Exact two-sided sign test: the chance of a split at least this uneven by luck."""
    plus = int(np.sum(differences > 0))
    minus = int(np.sum(differences < 0))
    n = plus + minus
    if n == 0:
        return 1.0
    k = min(plus, minus)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)
