"""The shipped December 2017 baseline stays within what was reported.

Seed article 002 reports "at least five" Russian violations of the lanes a day, the New
York Times "half a dozen" (seeds/facts.yaml: violations_per_day_seed,
violations_per_day_nyt): over 7 days and 10 replications the mean Russian
``opposite_tracks`` rate must lie in 5-6 a day. "One near-collision" in December 2017
(near_collision_dec2017_seed): over a month the ``nmac`` rate is small but not zero.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.calibrate import episode_rate, replication_seeds
from sim.model.scenario import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"


@pytest.mark.slow
def test_baseline_is_calibrated_to_the_reported_rates():
    week = load_scenario(BASELINE)
    month = load_scenario(BASELINE, duration="30 d")
    compliance = week.parties["russia"].compliance
    seeds = replication_seeds(week.seed, 10)
    with ProcessPoolExecutor(2) as pool:
        lanes = episode_rate(week, "russia", "opposite_tracks", compliance, seeds, pool)
        nmacs = episode_rate(month, "russia", "nmac", compliance, seeds, pool) * 30.0
    assert 5.0 <= float(np.mean(lanes)) <= 6.0, lanes
    assert 0.0 < float(np.mean(nmacs)) <= 5.0, nmacs
