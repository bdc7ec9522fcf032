"""The calibrate command: finds the knob, writes the calibrated copy, refuses the impossible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analysis.calibrate import episode_rate, replication_seeds, t975
from sim.cli import main
from sim.model.scenario import load_scenario, read_yaml

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"


def test_calibrate_finds_the_knob_and_writes_a_calibrated_copy(tmp_path, capsys):
    out = tmp_path / "calibrated.yaml"
    code = main(["calibrate", str(BASELINE), "--rule", "opposite_tracks", "--party", "russia",
                 "--per-day", "4", "--replications", "3", "--duration", "1 d", "--workers", "1",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "russia compliance" in printed and str(out) in printed
    calibrated = read_yaml(out)
    compliance = calibrated["parties"]["russia"]["compliance"]
    assert 0.0 < compliance < 1.0
    # The copy differs from the original only in the knob, and gives the target back: the
    # mean over the same replications is at or below 4 a day, and just below the knob
    # (one resolution step) it is above.
    original = read_yaml(BASELINE)
    original["parties"]["russia"]["compliance"] = compliance
    assert calibrated == original
    day = load_scenario(BASELINE, duration="1 d")
    seeds = replication_seeds(day.seed, 3)
    at = episode_rate(day, "russia", "opposite_tracks", compliance + 1e-4, seeds)
    below = episode_rate(day, "russia", "opposite_tracks", compliance - 2e-3, seeds)
    assert np.mean(at) <= 4.0 < np.mean(below)
    # The rate's interval as printed: around the mean over the replications at the knob,
    # the t interval (3 replications) with its low end never below zero.
    rate = float(np.mean(at))
    half = 4.302652729911275 * float(np.std(at, ddof=1)) / np.sqrt(3)
    assert (f"gives opposite_tracks {rate:.2f} (95% CI {max(0.0, rate - half):.2f} to "
            f"{rate + half:.2f}) a day (target 4)") in printed


def test_an_unreachable_target_is_refused_with_the_reachable_range(tmp_path, capsys):
    code = main(["calibrate", str(BASELINE), "--rule", "opposite_tracks", "--party", "russia",
                 "--per-day", "1000", "--replications", "2", "--duration", "6 h",
                 "--workers", "1", "--out", str(tmp_path / "c.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "--per-day 1000" in err and "Traceback" not in err
    assert not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("args", [["--party", "nobody", "--rule", "opposite_tracks"],
                                  ["--party", "russia", "--rule", "nothing"]])
def test_bad_party_or_rule_is_exit_2(tmp_path, capsys, args):
    code = main(["calibrate", str(BASELINE), *args, "--per-day", "5", "--replications", "1",
                 "--duration", "1 h", "--out", str(tmp_path / "c.yaml")])
    assert code == 2 and "Traceback" not in capsys.readouterr().err


def test_t_quantiles():
    assert t975(1) == pytest.approx(12.7062047, abs=1e-6)
    assert t975(9) == pytest.approx(2.2621572, abs=1e-6)
    assert t975(60) == pytest.approx(2.0002978, abs=1e-6)
    assert t975(1000) == pytest.approx(1.9623391, abs=1e-6)
