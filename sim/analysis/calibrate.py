"""Calibration: find the compliance knob that gives a reported violation rate.

The mean rate of a rule's episodes (those a party took part in) over seeded replications
is a non-increasing function of the party's ``compliance``: the replications use the
same seeds at every trial value (common random numbers), and a sortie deviates exactly
when its own uniform draw is at or above the compliance, so raising the knob only ever
removes deviations. Bisection finds where the mean crosses the target; the confidence
interval of the rate there (Student t over replications) is carried back through the same
function to an interval for the knob.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np

from sim.analysis.workers import worker_pool
from sim.engine.simulation import run
from sim.model.errors import InputError
from sim.model.geography import build_geography
from sim.model.scenario import Scenario
from sim.model.units import DAY


class CalibrationError(InputError, ValueError):
    """The target cannot be reached by the knob (exit code 2)."""


def t975(dof: int) -> float:
    """The 97.5% quantile of Student's t (a 95% two-sided interval)."""
    if dof < 1:
        return math.inf
    from scipy.stats import t as student_t  # slow to import: only when an interval is due

    return float(student_t.ppf(0.975, dof))


def replication_seeds(seed: int, count: int) -> list[int]:
    """Replication seeds spawned from a scenario's seed (the same list every time): 64-bit,
    so that even millions of replications are unlikely to share one."""
    return [int(child.generate_state(1, np.uint64)[0])
            for child in np.random.SeedSequence(seed).spawn(count)]


@dataclass(frozen=True, slots=True)
class Calibration:
    """What calibration found: the knob, its interval, and the rate it gives."""

    party: str
    rule: str
    target_per_day: float
    compliance: float
    compliance_low: float
    compliance_high: float
    rate_per_day: float
    rate_half_width: float
    replications: int
    days: float
    evaluations: int


def replication_rate(scenario: Scenario, party: str, rule: str, compliance: float,
                     seed: int) -> float:
    """Episodes of ``rule`` a day that ``party`` took part in, in one replication.

    A pure top-level function, so that a process pool can run replications in parallel.
    """
    parties = dict(scenario.parties)
    parties[party] = replace(parties[party], compliance=compliance)
    result = run(replace(scenario, parties=parties), seed=seed)
    count = sum(1 for e in result.episodes if e.rule == rule and e.involves(party))
    return count / (scenario.duration_s / DAY)


def episode_rate(scenario: Scenario, party: str, rule: str, compliance: float,
                 seeds: list[int], pool: Executor | None = None) -> np.ndarray:
    """Episodes of ``rule`` a day that ``party`` took part in, one value per replication."""
    if pool is None:
        return np.array([replication_rate(scenario, party, rule, compliance, s) for s in seeds])
    jobs = [pool.submit(replication_rate, scenario, party, rule, compliance, s) for s in seeds]
    return np.array([job.result() for job in jobs])


def calibrate(scenario: Scenario, party: str, rule: str, per_day: float,
              replications: int = 10, resolution: float = 1e-3,
              progress: Callable[[float, float], None] | None = None,
              workers: int = 1) -> Calibration:
    """Find ``party``'s compliance at which ``rule`` happens ``per_day`` times a day.

    Raises:
        CalibrationError: the party generates no sorties, or the target lies outside the
            rates that compliance 0 and 1 give.
    """
    if party not in scenario.parties or scenario.parties[party].sorties is None:
        raise CalibrationError(f"party={party}: not a party that generates sorties "
                               f"(parties: {', '.join(scenario.parties)})")
    if rule not in {r.id for r in scenario.rules}:
        raise CalibrationError(f"rule={rule}: no such rule (rules: "
                               f"{', '.join(r.id for r in scenario.rules)})")
    build_geography(scenario)  # geometry problems surface here, once, as input errors
    seeds = replication_seeds(scenario.seed, replications)
    with worker_pool(workers) if workers > 1 else nullcontext() as pool:
        return _calibrate(scenario, party, rule, per_day, seeds, resolution, progress, pool)


def _calibrate(scenario: Scenario, party: str, rule: str, per_day: float, seeds: list[int],
               resolution: float, progress: Callable[[float, float], None] | None,
               pool: Executor | None) -> Calibration:
    cache: dict[float, np.ndarray] = {}

    def rates(c: float) -> np.ndarray:
        if c not in cache:
            cache[c] = episode_rate(scenario, party, rule, c, seeds, pool)
            if progress is not None:
                progress(c, float(np.mean(cache[c])))
        return cache[c]

    def solve(target: float, step: float) -> float:
        """The least compliance whose mean rate is at or below ``target``."""
        low, high = 0.0, 1.0
        while high - low > step:
            middle = (low + high) / 2.0
            if float(np.mean(rates(middle))) > target:
                low = middle
            else:
                high = middle
        return high

    at_zero, at_one = float(np.mean(rates(0.0))), float(np.mean(rates(1.0)))
    if not at_one <= per_day <= at_zero:
        raise CalibrationError(
            f"per_day={per_day:g}: {party}'s compliance can only give {at_one:.2f} (always "
            f"compliant) to {at_zero:.2f} (never) {rule} episodes a day in this scenario; "
            "change the sortie rate or the deviations to reach it")
    knob = solve(per_day, resolution)
    sample = rates(knob)
    half = t975(len(sample) - 1) * float(np.std(sample, ddof=1)) / math.sqrt(len(sample)) \
        if len(sample) > 1 else math.inf
    low = solve(per_day + half, resolution * 10) if math.isfinite(half) else 0.0
    high = solve(per_day - half, resolution * 10) if math.isfinite(half) else 1.0
    return Calibration(party, rule, per_day, knob, min(low, knob), max(high, knob),
                       float(np.mean(sample)), half, len(seeds),
                       scenario.duration_s / DAY, len(cache))
