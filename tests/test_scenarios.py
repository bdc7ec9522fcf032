"""Every shipped scenario validates and runs (briefly), so none of them can rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


def test_the_shipped_scenarios_are_there():
    names = {p.name for p in SCENARIOS}
    assert {"euphrates_dec2017.yaml", "euphrates_nyt_sides.yaml", "palmyra_dec2016.yaml",
            "al_tanf_2017.yaml", "encounters.yaml", "recorded_tracks.yaml",
            "encounter_dec13_2017.yaml"} <= names


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_validates_and_runs(scenario, tmp_path, capsys):
    assert main(["validate", str(scenario)]) == 0
    assert main(["run", str(scenario), "--duration", "6 h", "--out", str(tmp_path / "r")]) == 0
    for name in ("summary.json", "events.csv", "scenario.yaml"):
        assert (tmp_path / "r" / name).exists()
