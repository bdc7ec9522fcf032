"""Fuzzing scenario input: whatever the file holds, `deconflict validate` and `deconflict
run` end in exit 0 (a complete run folder) or exit 2 (a message naming the file and a key
path, nothing written): never exit 1, a traceback, a hang or unbounded memory.

The strategies and the oracle are in ``tests/fuzz_strategies.py``. This suite is
derandomized (the same examples every run) and bounded: ``FUZZ_EXAMPLES`` examples per
category (default 15: 25 categories, 375 examples, about 30 s on two cores). A longer
campaign with random seeds: ``python tools/fuzz_campaign.py --examples 5000``.

``REGRESSIONS`` holds the minimal reproducers the campaigns found, each checked every run
against its one right outcome in ``FIXED`` (an exit code, and the key path refused).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz_strategies import (
    CATEGORIES,
    TIMEOUT_S,
    FuzzCase,
    Outcome,
    call_main,
    check_case,
    fuzz_cases,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

# No shrinking: it would multiply the time of a failing run; the campaign's reducer and
# REGRESSIONS below give minimal reproducers instead.
CI = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              print_blob=True, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.reuse, Phase.generate])


def assert_contract(case: FuzzCase, timeout_s: float = TIMEOUT_S) -> Outcome:
    outcome = check_case(case, timeout_s=timeout_s)
    assert outcome.failure is None, (
        f"{outcome.failure} (validate exit {outcome.validate_rc}, run exit {outcome.run_rc})"
        f" {outcome.exception} {outcome.where}\n{outcome.detail[-4000:]}\n{case!r}")
    return outcome


@pytest.mark.parametrize("category", CATEGORIES)
@CI
@given(data=st.data())
def test_scenario_input_keeps_the_contract(category: str, data: st.DataObject) -> None:
    """Per category (valid; mutation:<kind> at a random key path; raw:<kind> bytes;
    stacked): a valid scenario runs (exit 0, a complete run folder); anything else runs or
    is refused with exit 2 naming the file and a key path, nothing written."""
    assert_contract(data.draw(fuzz_cases((category,)), label="case"))


# Minimal reproducers found by the campaigns (tools/fuzz_campaign.py), each checked every
# run: (id, YAML text). Found against commit d68e21b (and the last four against the
# uncommitted tree that followed it); FIXED below gives the outcome of each, fixed.
BIG = "1" + "0" * 400  # a YAML int that float() cannot convert (OverflowError)
SORTIES = ('sorties_per_day: 5, bases: [raqqa], missions: [{area: raqqa}], '
           'aircraft: [{type: F-16, speed: "450 kt", altitude: FL200}]')
REGRESSIONS: list[tuple[str, str]] = [
    # exit 1, OverflowError: float() of a huge int, one case per place that calls it
    ("overflow-place-lonlat", f"places: {{p: [{BIG}, 35.0]}}\n"),
    ("overflow-frame-center", f"frame: {{center: [39.0, {BIG}]}}\n"),
    ("overflow-hotline-loss", f"hotline: {{loss: {BIG}}}\n"),
    ("overflow-adhoc-probability", f"hotline: {{adhoc: {{probability: {BIG}}}}}\n"),
    ("overflow-compliance", f"parties: {{a: {{compliance: {BIG}}}}}\n"),
    ("overflow-deviation-weight",
     f"parties: {{a: {{deviations: {{drift: {{weight: {BIG}}}}}}}}}\n"),
    ("overflow-sorties-per-day", f"parties: {{a: {{sorties_per_day: {BIG}}}}}\n"),
    ("overflow-mission-share", "parties: {a: {" + SORTIES.replace(
        "{area: raqqa}", f"{{area: raqqa, share: {BIG}}}") + "}}\n"),
    ("overflow-aircraft-share", "parties: {a: {" + SORTIES.replace(
        "altitude: FL200}", f"altitude: FL200, share: {BIG}}}") + "}}\n"),
    ("overflow-base-weight", "parties: {a: {" + SORTIES.replace(
        "bases: [raqqa]", f"bases: {{raqqa: {BIG}}}") + "}}\n"),
    ("overflow-daily-profile", "parties: {a: {" + SORTIES + f", daily_profile: [{BIG}"
     + ", 1" * 23 + "]}}\n"),
    ("overflow-reported-per-day", "rules: [{id: r, type: zone_incursion}]\n"
     f"reported: [{{rule: r, per_day: {BIG}}}]\n"),
    # exit 1, TypeError: an unhashable rule looked up in a set
    ("unhashable-reported-rule", "reported: [{rule: {}}]\n"),
    ("unhashable-reported-rule-list", "rules: [{id: r, type: zone_incursion}]\n"
     "reported: [{rule: [r]}]\n"),
    # exit 0 but zones.csv does not read back (deconflict plot/report refuse the folder)
    ("zone-circle-radius-1e-300-m", "parties: {a: {}}\nzones: [{id: Z, party: a, area: "
     "{circle: {center: raqqa, radius: \"1e-300 m\"}}}]\n"),
    ("zone-polygon-of-centimetres", "parties: {a: {}}\nzones: [{id: Z, party: a, area: "
     "{polygon: [{x: \"0 m\", y: \"0 m\"}, {x: \"0.01 m\", y: \"0 m\"}, "
     "{x: \"0 m\", y: \"0.01 m\"}]}}]\n"),
    ("zone-circle-radius-19999-km", "parties: {a: {}}\nzones: [{id: Z, party: a, area: "
     "{circle: {center: raqqa, radius: \"19999 km\"}}}]\n"),
    ("work-area-racetrack-19999-km", "parties: {a: {" + SORTIES.replace(
        "{area: raqqa}", "{area: raqqa, racetrack: {width: \"19999 km\"}}") + "}}\n"),
    ("work-area-frame-at-pole", "frame: {center: [0.0, 90.0]}\nparties: {a: {" + SORTIES.replace(
        "{area: raqqa}", "{area: {x: \"-20000 m\", y: \"35000 m\"}}").replace(
        "[raqqa]", "[shayrat]") + "}}\n"),
    # exit 1, MemoryError: a racetrack of a nanometre flown lap by lap
    ("racetrack-1e-9-m", "parties: {a: {" + SORTIES.replace(
        "{area: raqqa}", "{area: raqqa, racetrack: {length: \"1e-9 m\", width: \"1e-9 m\"}}")
     + "}}\n"),
    # hang: 100,000 sorties a day for 1000 days is never refused
    ("sorties-unbounded", "duration: \"1000 d\"\nparties: {a: {" + SORTIES.replace(
        "sorties_per_day: 5", "sorties_per_day: 100000") + "}}\n"),
    # hang: 100,000 sorties in a day; validate accepts it, run takes 40-70 s (then refuses
    # it at the waypoint limit, or runs it)
    ("sorties-100000-a-day", "parties: {a: {" + SORTIES.replace(
        "sorties_per_day: 5", "sorties_per_day: 100000") + "}}\n"),
    # hang: a call every second for a day, 3 parties x 6 declared zones: about a million
    # declarations, under the limit of 2,000,000, and 40 s of hotline
    ("hotline-every-second", "parties: {a: {}, b: {}, c: {}}\nhotline: {interval: \"1 s\"}\n"
     "zones:\n" + "".join(f"  - {{id: Z{k}, party: {'abc'[k % 3]}, area: "
                          f"{{circle: {{center: raqqa, radius: \"5 km\"}}}}}}\n"
                          for k in range(6))),
    # exit 2 naming no key: an empty top-level key is reported at the path ""
    ("empty-top-level-key", '"": 1\n'),
    # exit 1, KeyError (brought in by df444b7, found by the campaign run on it): a rule
    # between a party that flies and one with no flights, beside one between a and a
    # exit 1, OverflowError (found at 7df8a0e): an altitude step so small (subnormal) that
    # altitude / step is infinite
    ("altitude-step-1e-320-m", "parties: {a: {" + SORTIES + ", altitude_step: 1e-320 m}}\n"),
    ("rule-between-a-party-without-flights", "parties: {a: {}, b: {}}\nflights:\n"
     "- {id: F, party: a, speed: 450 kt, altitude: FL200, route: [raqqa, hajin]}\n"
     "- {id: G, party: a, speed: 450 kt, altitude: FL200, route: [hajin, raqqa]}\n"
     "rules:\n- {id: r0, type: min_separation, horizontal: 5 nmi, between: [a, b]}\n"
     "- {id: r1, type: min_separation, horizontal: 500 ft, between: [a, a]}\n"),
    # exit 1, OverflowError (found at 06e9b04, there since the start was first read): a
    # !!timestamp that UTC carries before the year 1
    ("start-before-the-year-1-in-utc", "start: !!timestamp 0001-01-01T00:00:00+14:00\n"),
]
# A regression either is refused at once or runs at once when fixed; a shorter guard than
# the properties' keeps the suite short while a hang is still there.
REGRESSION_TIMEOUT_S = 8.0


# Each regression's one right outcome now that its bug is fixed: the exit code of both
# validate and run, and for a refusal the key path its first problem names. (The refusals
# are also what makes the former hangs quick: the size checks at load.)
FIXED: dict[str, tuple[int, str | None]] = {
    "overflow-place-lonlat": (2, "places.p"),
    "overflow-frame-center": (2, "frame.center"),
    "overflow-hotline-loss": (2, "hotline.loss"),
    "overflow-adhoc-probability": (2, "hotline.adhoc.probability"),
    "overflow-compliance": (2, "parties.a.compliance"),
    "overflow-deviation-weight": (2, "parties.a.deviations.drift.weight"),
    "overflow-sorties-per-day": (2, "parties.a.sorties_per_day"),
    "overflow-mission-share": (2, "parties.a.missions[0].share"),
    "overflow-aircraft-share": (2, "parties.a.aircraft[0].share"),
    "overflow-base-weight": (2, "parties.a.bases.raqqa"),
    "overflow-daily-profile": (2, "parties.a.daily_profile"),
    "overflow-reported-per-day": (2, "reported[0].per_day"),
    "unhashable-reported-rule": (2, "reported[0].rule"),
    "unhashable-reported-rule-list": (2, "reported[0].rule"),
    "zone-circle-radius-1e-300-m": (2, "zones[0].area.circle.radius"),
    "zone-polygon-of-centimetres": (0, None),
    "zone-circle-radius-19999-km": (0, None),
    "work-area-racetrack-19999-km": (0, None),
    "work-area-frame-at-pole": (0, None),
    "racetrack-1e-9-m": (2, "parties.a.missions[0].time_on_station"),
    "sorties-unbounded": (2, "parties.a.sorties_per_day"),
    "sorties-100000-a-day": (2, "parties.a.sorties_per_day"),
    "hotline-every-second": (2, "hotline.interval"),
    "empty-top-level-key": (2, "''"),
    "altitude-step-1e-320-m": (0, None),
    "rule-between-a-party-without-flights": (0, None),
    "start-before-the-year-1-in-utc": (0, None),
}


@pytest.mark.parametrize(("name", "text"),
                         [pytest.param(name, text, id=name) for name, text in REGRESSIONS])
def test_fuzz_regressions(name: str, text: str, tmp_path) -> None:
    assert set(FIXED) == {n for n, _ in REGRESSIONS}  # each regression has its outcome
    outcome = assert_contract(FuzzCase("regression", text.encode("utf-8"), structured=True),
                              timeout_s=REGRESSION_TIMEOUT_S)
    code, key = FIXED[name]
    assert (outcome.validate_rc, outcome.run_rc) == (code, code)
    if key is not None:
        scenario = tmp_path / "scenario.yaml"
        scenario.write_text(text, encoding="utf-8")
        err = call_main(["validate", str(scenario)])[2]
        first = next(line.strip() for line in err.splitlines() if str(scenario) in line)
        assert first.startswith(f"{scenario}: {key}: "), err
