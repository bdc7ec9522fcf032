"""Golden runs: every shipped scenario at its seed and a short duration, the whole run
folder against the files checked in under tests/goldens/<scenario>/.

The expected episodes of scenarios/encounters.yaml and encounter_dec13_2017.yaml are also
worked out by hand here (the scenarios' comments explain the geometry), so the golden
files are not merely "what the code printed once". After an intended change, rewrite the
files with ``python -m pytest tests/test_golden.py --update-goldens`` (the rewritten tests
then fail, so that a golden never passes by comparing an output with itself), review the
diff with ``git diff tests/goldens`` and run the tests again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDENS = Path(__file__).resolve().parent / "goldens"
# Every shipped scenario (the sweep definitions under scenarios/sweeps/ are not scenarios).
SHIPPED = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*/scenarios/*.yaml")])
# The week-long scenarios are cut to half a day (a hotline call at 6 h; the golden runs
# together take a second or two); the hand-made ones run their own, shorter, duration.
SHORT = "12 h"
FT = 0.3048
MI = 1609.344


@pytest.fixture(scope="module")
def encounters_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "encounters"
    assert main(["run", str(ROOT / "scenarios" / "encounters.yaml"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def dec13_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "encounter_dec13_2017"
    assert main(["run", str(ROOT / "scenarios" / "encounter_dec13_2017.yaml"), "--out",
                 str(out)]) == 0
    return out


def test_the_dec13_2017_encounter_as_the_scenario_builds_it(dec13_run):
    # The Su-25s (3300 m, 350 kt) meet the F-22 (450 kt, level at 3450 m after its
    # descent) head-on on the orbit's south-east-bound side, 0.3 km apart laterally as the
    # scenario's comments lay it out (rounded coordinates move that a little): SU25-1 is at
    # the meeting point after 175.9 km, the F-22 after 60.0 + 30 km from 588.1 s, both
    # about 977 s. Closing at 180.06 + 231.5 m/s, a 5 nmi episode lasts 2 sqrt(r^2 - d^2)
    # / closing, about 45 s.
    run = dec13_run
    los = find(run, "loss_of_separation", "F22", "SU25-1")
    d, t = float(los["min_distance_m"]), float(los["min_time_s"])
    assert 250.0 < d < 320.0 and t == pytest.approx(976.9, abs=1.0)
    assert float(los["vertical_m"]) == pytest.approx(150.0, abs=1e-6)  # both level then
    assert float(los["min_slant_m"]) == pytest.approx(math.hypot(d, 150.0), abs=1e-6)
    closing = 350 * 1852 / 3600 + 450 * 1852 / 3600
    half = math.sqrt((5 * 1852.0) ** 2 - d**2) / closing
    assert float(los["start_s"]) == pytest.approx(t - half, abs=0.5)
    assert float(los["end_s"]) == pytest.approx(t + half, abs=0.5)
    # The wingman, 2 km behind, meets the F-22 2 km / closing later.
    wing = find(run, "loss_of_separation", "F22", "SU25-2")
    assert float(wing["min_time_s"]) - t == pytest.approx(2000.0 / closing, abs=0.5)
    # The Su-25s are off their lane inside the corridor for about half an hour or more
    # (reported: about 40 minutes); the Su-35 at 10,000 m never loses separation.
    lane = find(run, "opposite_tracks", "SU25-1")
    assert 30 * 60 < float(lane["end_s"]) - float(lane["start_s"]) < 42 * 60
    assert not [r for r in rows(run) if r["rule"] != "agreed_spacing" and "SU35" in (
        r["aircraft"], r["other_aircraft"])]
    assert not [r for r in rows(run) if r["rule"] == "nmac"]  # the F-22 kept clear


@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_run_folder_matches_its_golden(scenario, tmp_path, request):
    text = scenario.read_text(encoding="utf-8")
    args = ["run", str(scenario), "--out", str(tmp_path / "run")]
    if '"7 d"' in text:
        args += ["--duration", SHORT]
    assert main(args) == 0
    got = normalized(tmp_path / "run")
    expected = GOLDENS / scenario.stem
    if request.config.getoption("--update-goldens"):
        shutil.rmtree(expected, ignore_errors=True)
        expected.mkdir(parents=True)
        for name, content in got.items():
            (expected / name).write_text(content, encoding="utf-8")
        pytest.fail(f"wrote {expected.relative_to(ROOT)}: review `git diff tests/goldens` and "
                    "run the tests again without --update-goldens")
    assert expected.is_dir(), f"no golden for {scenario.name}: run with --update-goldens"
    want = {p.name: p.read_text(encoding="utf-8") for p in sorted(expected.iterdir())}
    assert sorted(got) == sorted(want)  # the same files, none missing, none extra
    for name in sorted(want):
        assert got[name] == want[name], f"{scenario.stem}/{name} differs from its golden"


def normalized(folder: Path) -> dict[str, str]:
    """A run folder's text files, with what depends on where the repo is checked out
    (the absolute path of a recorded-tracks file, and so the scenario digest) replaced
    by placeholders, once the digest is checked against the folder's scenario.yaml."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert all(p.is_file() for p in folder.iterdir())  # a run writes no sub-folders
    digest = hashlib.sha256(files["scenario.yaml"].encode("utf-8")).hexdigest()
    for name in ("summary.json", "stats.json"):
        assert json.loads(files[name])["scenario_sha256"] == digest
    return {name: text.replace(digest, "<scenario_sha256>").replace(str(ROOT), "<repo>")
            for name, text in files.items()}


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "events.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def find(run: Path, rule: str, aircraft: str, other: str = "") -> dict[str, str]:
    (row,) = [r for r in rows(run) if r["rule"] == rule and r["aircraft"] == aircraft
              and (r["other_aircraft"] == other or r["zone"] == other)]
    return row


def test_encounters_episodes_worked_out_by_hand(encounters_run):
    run = encounters_run
    # C1 and R1 fly opposite ways on lanes 40 km apart at 200 m/s each: closest 40 km at
    # 500 s; within 45 mi while |200 km - 400 m/s t| < sqrt((45 mi)^2 - (40 km)^2).
    half = math.sqrt((45 * MI) ** 2 - 40_000.0**2) / 400.0
    r1 = find(run, "agreed_spacing", "C1", "R1")
    assert float(r1["start_s"]) == pytest.approx(500.0 - half, abs=1e-9)
    assert float(r1["end_s"]) == pytest.approx(500.0 + half, abs=1e-9)
    assert (float(r1["min_distance_m"]), float(r1["min_time_s"])) == (40_000.0, 500.0)
    assert (float(r1["min_vertical_m"]), float(r1["min_slant_m"])) == (0.0, 40_000.0)
    # R3 (3000 m) stays 4620 m below C1 (FL250): the least 3D distance is at the closest
    # approach in plan, hypot(plan distance, 4620 m).
    r3 = find(run, "agreed_spacing", "C1", "R3")
    assert float(r3["min_slant_m"]) == pytest.approx(
        math.hypot(float(r3["min_distance_m"]), 7620.0 - 3000.0), abs=1e-6)
    # R2 meets C1 at (60 km, 20 km) at 800 s on perpendicular tracks: the pair closes at
    # 200*sqrt(2) m/s, so each rule's episode is 800 s -/+ threshold / (200 sqrt 2).
    closing = 200.0 * math.sqrt(2.0)
    for rule, threshold in [("loss_of_separation", 5 * 1852.0), ("nmac", 500 * FT)]:
        row = find(run, rule, "C1", "R2")
        assert float(row["start_s"]) == pytest.approx(800.0 - threshold / closing, abs=1e-9)
        assert float(row["end_s"]) == pytest.approx(800.0 + threshold / closing, abs=1e-9)
        assert float(row["min_distance_m"]) == pytest.approx(0.0, abs=1e-6)
        assert float(row["x_m"]) == pytest.approx(60_000.0)
        assert float(row["y_m"]) == pytest.approx(20_000.0)
        assert float(row["vertical_m"]) == pytest.approx(50 * FT)
        # Level flight: |dz| is 50 ft throughout, so the least 3D distance is 50 ft too.
        assert float(row["min_vertical_m"]) == pytest.approx(50 * FT)
        assert float(row["min_slant_m"]) == pytest.approx(50 * FT)
    # R2 appears (600 s) already within 45 mi of C1, and both land at 1000 s.
    r2 = find(run, "agreed_spacing", "C1", "R2")
    assert (float(r2["start_s"]), float(r2["end_s"])) == (600.0, 1000.0)
    # R2 is more than 20 km (the default tolerance, half the spacing) from its lane
    # once north of the river (700 s), until it leaves the corridor at y = 40 km (900 s).
    lane = find(run, "opposite_tracks", "R2")
    assert (float(lane["start_s"]), float(lane["end_s"])) == (700.0, 900.0)
    assert (lane["other_party"], float(lane["x_m"]), float(lane["y_m"])) == ("coalition",
                                                                             60_000.0, 0.0)
    # Zones: the hotline call at 300 s delivers declarations at 600 s.
    strike = find(run, "declared_zones", "R2", "STRIKE")
    assert (float(strike["start_s"]), float(strike["end_s"]), strike["informed"]) == (
        825.0, 925.0, "true")
    tanker = find(run, "declared_zones", "R3", "TANKER")
    assert (float(tanker["start_s"]), float(tanker["end_s"]), tanker["informed"]) == (
        200.0, 350.0, "false")
    patrol = find(run, "declared_zones", "C1", "PATROL")
    assert (float(patrol["start_s"]), float(patrol["end_s"]), patrol["informed"]) == (
        200.0, 300.0, "false")
    # R1 flies over TANKER above its FL200 ceiling: no incursion.
    assert not [r for r in rows(run) if r["aircraft"] == "R1" and r["zone"]]
    # No loss of separation other than C1/R2, no NMAC other than C1/R2.
    assert len([r for r in rows(run) if r["rule"] in ("loss_of_separation", "nmac")]) == 2
