"""What the hotline buys: paired replications, hotline on against off, a statistical test."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.compare import compare, sign_test
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

BASELINE = str(ROOT / "scenarios" / "euphrates_dec2017.yaml")


@pytest.mark.parametrize(("differences", "p"), [
    ([1, 2, 3], 0.25),                       # 3 of 3 positive: 2 * 1/8
    ([-1, -1, -1, -1, -1, -1, -1, -1], 2 / 256),
    ([1, -1], 1.0),
    ([0, 0, 0], 1.0),                        # ties only: no evidence either way
    ([1, 0, 0, 2, -3, 4, 5], 2 * (1 + 5) / 32),  # ties dropped: 4 plus, 1 minus of 5
])
def test_sign_test_exact_values(differences, p):
    assert sign_test(np.array(differences, float)) == pytest.approx(p)


def test_the_hotline_reduces_zone_incursions_significantly():
    """Same seeds, same sorties: only the hotline differs. Incursions into the other side's
    zones fall when the planners know the zones; the sign is significant (sign test)."""
    on = load_scenario(BASELINE, ["duration=3 d"])
    off = load_scenario(BASELINE, ["duration=3 d", "hotline.enabled=false"])
    found = {d.metric: d for d in compare(off, on, replications=10, workers=2)}
    incursions = found["declared_zones"]
    assert incursions.difference < 0 and incursions.high < 0, incursions
    assert incursions.p_sign < 0.01, incursions
    # What the planners knew is what changed: informed incursions exist only with it on.
    assert found["zone_incursions.informed"].mean_a == 0.0
    assert found["sorties.rerouted"].mean_a == 0.0 < found["sorties.rerouted"].mean_b
    assert math.isfinite(found["loss_of_separation"].difference)
