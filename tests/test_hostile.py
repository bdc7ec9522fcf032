"""Hostile input found by review and fuzzing: each case ends in exit 0 or exit 2, never a
traceback, a hang or an exhausted memory. (The full fuzzing suite comes with the
reliability work; these are the regressions.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.model.spec import ScenarioError
from tests.cli_helpers import refused

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "scenarios" / "encounters.yaml").read_text()


def run_cli(tmp_path: Path, text: str, command: str = "run", *extra: str) -> tuple[int, str]:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    args = [command, str(scenario)]
    if command == "run":
        args += ["--out", str(tmp_path / "out"), "--force"]
    code = main([*args, *extra])
    return code, ""


BOMB = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
    f"a{k}: &a{k} [*a{k-1}, *a{k-1}, *a{k-1}, *a{k-1}, *a{k-1}, *a{k-1}, *a{k-1}, *a{k-1}, "
    f"*a{k-1}]" for k in range(1, 9)])


@pytest.mark.parametrize(("text", "phrases"), [
    (BOMB.replace("a8:", "name:"), ["a0"]),                            # alias bomb, no hang
    ("description: " + "[" * 100_000 + "]" * 100_000, ["nested"]),     # no segfault
    ("description: " + "[" * 600 + "]" * 600, ["nested"]),
    ("name: x\n" + "".join("  " * k + f"k{k}:\n" for k in range(60)) + "  " * 60 + "v: 1\n",
     ["nested"]),
    ("start: 2017-13-45\n", ["start"]),
    ("start: 2017-12-13T25:00:00Z\n", ["start"]),
    ("seed: !!int abc\n", ["not valid YAML"]),
    ("start: !!timestamp foo\n", ["not valid YAML"]),
    ('duration: "1e-320 s"\n', ["duration"]),
    ('places: {p1: {x: "1 km", y: "2 km"}}\nframe: {center: p1}\n', ["frame.center"]),
    ('corridor: {centerline: euphrates, half_width: "1e308 m"}\n', ["corridor.half_width"]),
    ("parties: {a: {}}\nflights: [{id: F, party: a, speed: \"200 m/s\", altitude: FL100, "
     "route: [{x: \"0 m\", y: \"0 m\"}, {x: \"1e308 m\", y: \"0 m\"}]}]\n", ["route[1].x"]),
    ("parties: {a: {}}\nflights: [{id: F, party: a, speed: \"200 m/s\", altitude: FL100, "
     "route: [{x: \"0 m\", y: \"0 m\"}, {x: \"15000 km\", y: \"0 m\"}]}]\n", ["route[1]"]),
    ('parties: {a: {}}\nflights: [{id: "F\\n", party: a, speed: "200 m/s", altitude: FL100, '
     'route: [raqqa, palmyra]}]\n', ["flights[0].id"]),
    ('name: "' + "n" * 300 + '"\n', ["name"]),
])
def test_hostile_scenarios_are_refused_cleanly(tmp_path, capsys, text, phrases):
    for command in ("validate", "run"):
        code, _ = run_cli(tmp_path, text, command)
        refused(capsys, code, *phrases)
        assert not (tmp_path / "out").exists()


def test_yaml_merge_keys_are_accepted(tmp_path, capsys):
    text = ("parties: {a: {}}\nflights:\n  - &first {id: F1, party: a, speed: \"200 m/s\", "
        "altitude: FL100, route: [raqqa, palmyra]}\n  - {<<: *first, id: F2}\n")
    code, _ = run_cli(tmp_path, text, "run")
    assert code == 0, capsys.readouterr().err


def test_a_long_slow_flight_over_centuries_runs_in_bounded_memory(tmp_path, capsys):
    text = ('duration: "1000 d"\nframe: {center: raqqa}\nparties: {a: {}, b: {}}\nflights:\n'
            '  - {id: SLOW, party: a, speed: "1 m/s", altitude: FL100, '
            'route: [{x: "0 km", y: "0 km"}, {x: "90000 km", y: "0 km"}]}\n'
            '  - {id: FAST, party: b, speed: "3000 m/s", altitude: FL100, '
            'route: [{x: "1 km", y: "-100 km"}, {x: "1 km", y: "100 km"}]}\n'
            'rules: [{id: los, type: min_separation, horizontal: "5 nmi"}]\n')
    # 90,000 km is beyond the plane: refused; the same flight within it runs.
    code, _ = run_cli(tmp_path, text, "run")
    refused(capsys, code, "route[1]")
    code, _ = run_cli(tmp_path, text.replace("90000 km", "9000 km"), "run")
    assert code == 0, capsys.readouterr().err
    events = (tmp_path / "out" / "events.csv").read_text().splitlines()
    assert len(events) == 2  # header and the one encounter


def test_too_long_output_path_is_a_clean_error(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(BASE)
    code = main(["run", str(scenario), "--out", str(tmp_path / "new" / ("x" * 300))])
    refused(capsys, code, "longer than")
    assert not (tmp_path / "new").exists()


def test_hotline_declarations_are_bounded(tmp_path, capsys):
    text = BASE.replace('duration: "1 h"', 'duration: "1000 d"').replace(
        'interval: "24 h"', 'interval: "90 s"')
    code, _ = run_cli(tmp_path, text, "validate")
    refused(capsys, code, "hotline.interval")


def test_deep_nesting_does_not_crash_the_process(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("description: " + "[" * 200_000 + "]" * 200_000)
    result = subprocess.run([sys.executable, "-m", "sim", "validate", str(scenario)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr


# ------------------------------------------------- plain documents, read straight from events

_SCALARS = st.sampled_from(
    ["yes", "No", "on", "~", "null", "", "0x1F", "0o17", "017", "0b101", "1_000", "1:30",
     "190:20:30.15", ".inf", "-.Inf", ".NaN", "1e3", "6.8523015e+5", "2018-02-07",
     "2018-02-07T10:00:00Z", "<<", "=", "5 nmi", "FL250", "- x", "a: b", "'q'", "#c",
     "نهر الفرات", "true", "12", "-3.5"]) | st.text(max_size=6) | st.integers() | st.floats(
    allow_nan=False) | st.booleans() | st.none()
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    _SCALARS.filter(lambda k: not isinstance(k, float)), inner, max_size=4), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_DOCUMENTS, st.sampled_from([None, True, False]), st.booleans())
def test_plain_documents_read_as_pyyamls_loader_reads_them(document, flow, canonical):
    from sim.model import yamlio

    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True,
                          sort_keys=False, canonical=canonical)
    expected = yaml.load(text, Loader=yamlio._StrictLoader)  # noqa: S506 - a safe loader
    got = yamlio.parse_yaml(text, "doc.yaml")
    assert repr(got) == repr(expected)


def test_a_text_written_quoted_and_plain_reads_as_each_is_written():
    from sim.model import yamlio

    # Each distinct text is resolved once, quoted and plain apart.
    text = 'a: "12"\nb: 12\nc: [12, "12", yes, "yes", ~, "~", 1.5, "1.5"]\n"12": 1\n'
    got = yamlio._plain_document(text, yamlio.DEFAULT_LIMITS)
    assert got == {"a": "12", "b": 12, "c": [12, "12", True, "yes", None, "~", 1.5, "1.5"],
                   "12": 1}
    assert repr(got) == repr(yaml.load(text, Loader=yamlio._StrictLoader))  # noqa: S506


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: *x\n",                   # an anchor and an alias: shared, as PyYAML makes it
    "base: &b {k: 1}\nmine:\n  <<: *b\n  j: 2\n",  # a merge key
    "a: !!str 12\nb: !!float 3\n",             # explicit tags
    "? [1, 2]\n: x\n",                          # a collection as a key
    "a: 1\na: 2\n",                             # a key written twice
    "1: x\ntrue: y\n",                          # keys equal as values (1 == True)
    "--- 1\n--- 2\n",                           # two documents
    "a: [1, 2\n",                               # not valid YAML
    "= : 1\n",                                  # a value key
])
def test_documents_that_are_not_plain_data_are_read_by_pyyamls_loader(text):
    from sim.model import yamlio

    try:
        expected = yaml.load(text, Loader=yamlio._StrictLoader)  # noqa: S506
    except Exception as exc:  # noqa: BLE001 - then the scenario error says what PyYAML said
        with pytest.raises(ScenarioError) as caught:
            yamlio.parse_yaml(text, "doc.yaml")
        assert str(getattr(exc, "problem", None) or exc) in str(caught.value)
        return
    with pytest.raises(yamlio._NotPlain):
        yamlio._plain_document(text, yamlio.DEFAULT_LIMITS)
    assert repr(yamlio.parse_yaml(text, "doc.yaml")) == repr(expected)
