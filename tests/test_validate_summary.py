"""``deconflict validate``'s summary: each party's generated traffic (sorties a day, bases,
compliance) as the scenario file gives it, and distances echoed in the units written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.model.units import DAY, parse_quantity

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
ENCOUNTERS = ROOT / "scenarios" / "encounters.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
PARTY = re.compile(r"^  party     (?P<party>\S+): (?P<per_day>[\d.]+) sorties a day "
                   r"\((?P<run>[\d.]+) in the run\), compliance (?P<compliance>[\d.]+), "
                   r"(?P<flights>\d+) explicit flights?$")


def validate(capsys, *args: object) -> list[str]:
    capsys.readouterr()
    assert main(["validate", *map(str, args)]) == 0
    return capsys.readouterr().out.splitlines()


def line(lines: list[str], start: str) -> str:
    found = [x for x in lines if x.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_partys_generated_sorties_are_those_of_the_file(capsys, path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    days = parse_quantity(document.get("duration", "7 d"), "duration").si / DAY
    lines = validate(capsys, path)
    for party, raw in document["parties"].items():
        flights = sum(1 for f in document.get("flights") or [] if f["party"] == party)
        if "sorties_per_day" not in raw:
            assert line(lines, f"  party     {party}:") == (
                f"  party     {party}: no generated sorties, {flights} explicit flight"
                + "s" * (flights != 1))
            continue
        at = lines.index(line(lines, f"  party     {party}:"))
        shown = PARTY.match(lines[at])
        assert shown, lines[at]
        assert float(shown["per_day"]) == raw["sorties_per_day"]
        assert float(shown["run"]) == pytest.approx(raw["sorties_per_day"] * days)
        assert float(shown["compliance"]) == raw.get("compliance", 1.0)
        assert int(shown["flights"]) == flights
        bases = raw["bases"] if isinstance(raw["bases"], dict) else dict.fromkeys(raw["bases"], 1)
        total = sum(bases.values())
        assert lines[at + 1] == "    bases     " + ", ".join(
            f"{name} {100 * w / total:.0f}%" for name, w in bases.items())
        missions = [m["area"] for m in raw["missions"]]
        assert re.findall(r"(\w+) \d+%", lines[at + 2].split("missions", 1)[1]) == missions


def test_distances_are_echoed_in_the_units_written(capsys):
    lines = validate(capsys, BASELINE)
    assert line(lines, "  corridor").endswith("half width 40 mi (64.4 km)")
    assert line(lines, "  lane      coalition_lane").endswith("offset +22.5 mi (+36.2 km), "
                                                              "downstream")
    # The lanes are 45 miles apart, as the scenario says (+22.5 mi and -22.5 mi).
    assert line(lines, "  spacing") == ("  spacing   russia_lane to coalition_lane: "
                                        "45 mi apart (72.4 km)")
    assert line(lines, "  rule      agreed_spacing") == (
        "  rule      agreed_spacing: min_separation, horizontal 45 mi (72.4 km)")
    assert line(lines, "  rule      loss_of_separation").endswith(
        "horizontal 5 nmi (9.3 km), vertical 1000 ft (305 m)")
    # The lane tolerance is not written: filled in as half the spacing, shown in miles.
    assert line(lines, "  rule      opposite_tracks").endswith("tolerance 22.5 mi (36.2 km)")


def test_distances_follow_the_overrides_and_mixed_units_fall_back_to_km(capsys):
    lines = validate(capsys, BASELINE, "--set", "lanes.coalition_lane.offset=+12 nmi",
                     "--set", "lanes.russia_lane.offset=-8 nmi")
    assert line(lines, "  spacing").endswith(": 20 nmi apart (37.0 km)")
    assert line(lines, "  rule      opposite_tracks").endswith("tolerance 10 nmi (18.5 km)")
    lines = validate(capsys, BASELINE, "--set", "lanes.coalition_lane.offset=+12 nmi")
    apart = (12 * 1852.0 + 22.5 * 1609.344) / 1000.0
    assert line(lines, "  spacing").endswith(f": {apart:.1f} km apart")
    lines = validate(capsys, ENCOUNTERS)  # written in km: no second figure
    assert line(lines, "  spacing").endswith(": 40 km apart")
    assert line(lines, "  corridor").endswith("half width 40 km")


@pytest.mark.parametrize(("first_call", "interval", "shown"), [
    ('"5 min"', '"24 h"', "from 5 min, a call every 24 h,"),
    ('"6 h"', '"90 min"', "from 6 h, a call every 90 min,"),
    ('"0 s"', '"45 s"', "from 0 h, a call every 45 s,"),
])
def test_the_hotline_times_are_shown_in_whole_units(capsys, first_call, interval, shown):
    lines = validate(capsys, ENCOUNTERS, "--set", f"hotline.first_call={first_call}", "--set",
                     f"hotline.interval={interval}", "--set", "hotline.enabled=true")
    assert shown in line(lines, "  hotline ")
