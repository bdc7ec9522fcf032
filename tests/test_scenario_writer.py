"""The scenario as run is written from the typed scenario (sim.model.writer): a scenario
changed in Python writes what was run, and every document written reads back to the
very scenario it was written from."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.simulation import run
from sim.io.write import write_run
from sim.model.scenario import (
    LaneDisciplineSpec,
    MinSeparationSpec,
    Scenario,
    load_scenario,
    parse_scenario,
)
from sim.model.writer import UnwritableScenario, as_document, scenario_yaml
from sim.study.grid import scenario_sha
from tests import scenario_documents as docs

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*/scenarios/*.yaml")])
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"


def comparable(scenario: Scenario) -> Scenario:
    """A scenario without what names its file: the file's path and each recorded entry's
    path as written (the document names the file read by its absolute path)."""
    return dataclasses.replace(scenario, file="", recorded=tuple(
        dataclasses.replace(r, file="") for r in scenario.recorded))


def reread(text: str) -> Scenario:
    return parse_scenario(yaml.safe_load(text), "again.yaml", allow_outside=True)


def from_values(scenario: Scenario) -> str:
    """The scenario written wholly from its typed values (nothing kept of its file)."""
    return scenario_yaml(dataclasses.replace(scenario, written={}))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_written_from_its_values_reads_back_to_itself(path):
    scenario = load_scenario(path)
    text = from_values(scenario)
    assert comparable(reread(text)) == comparable(scenario)
    # Written as the file wrote it, it reads back to itself too.
    assert comparable(reread(scenario.resolved_yaml())) == comparable(scenario)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(docs.encounter_documents(vertical=True), docs.zone_documents(vertical=True),
                 docs.lane_documents()))
def test_drawn_scenarios_written_from_their_values_read_back(document: dict[str, Any]):
    scenario = parse_scenario(copy.deepcopy(document), "drawn.yaml")
    assert comparable(reread(from_values(scenario))) == comparable(scenario)


def test_a_new_seed_changes_the_seed_line_and_nothing_else():
    scenario = load_scenario(BASELINE)
    moved = dataclasses.replace(scenario, seed=99)
    before, after = scenario.resolved_yaml().splitlines(), moved.resolved_yaml().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [(f"seed: {scenario.seed}", "seed: 99")]
    assert reread(moved.resolved_yaml()).seed == 99
    assert scenario_sha(moved) != scenario_sha(scenario)
    assert scenario_sha(dataclasses.replace(moved, seed=scenario.seed)) == scenario_sha(scenario)


def test_a_changed_party_is_written_from_its_values_the_others_as_written():
    scenario = load_scenario(BASELINE)
    parties = dict(scenario.parties)
    parties["russia"] = dataclasses.replace(parties["russia"], compliance=0.5)
    changed = dataclasses.replace(scenario, parties=parties)
    document = yaml.safe_load(changed.resolved_yaml())
    original = yaml.safe_load(scenario.resolved_yaml())
    assert document["parties"]["coalition"] == original["parties"]["coalition"]
    assert document["parties"]["russia"]["compliance"] == 0.5
    # In SI units, read back to exactly the same floats.
    assert document["parties"]["russia"]["aircraft"][0]["speed"] == \
        f"{scenario.parties['russia'].sorties.aircraft[0].speed_mps!r} m/s"
    assert comparable(reread(changed.resolved_yaml())) == comparable(changed)


def test_an_added_rule_is_written_and_the_others_kept_as_written():
    scenario = load_scenario(BASELINE)
    added = MinSeparationSpec("close_in", 1852.0 * 2, 300.0, ("coalition", "russia"))
    changed = dataclasses.replace(scenario, rules=(*scenario.rules, added))
    rules = yaml.safe_load(changed.resolved_yaml())["rules"]
    original = yaml.safe_load(scenario.resolved_yaml())["rules"]
    assert rules[:-1] == original
    assert rules[-1] == {"id": "close_in", "type": "min_separation", "horizontal": "3704.0 m",
                         "vertical": "300.0 m", "between": ["coalition", "russia"],
                         "complaint": False}
    assert comparable(reread(changed.resolved_yaml())) == comparable(changed)
    # A rule changed in place is rewritten; a removed one is gone.
    lane = next(r for r in scenario.rules if isinstance(r, LaneDisciplineSpec))
    tighter = tuple(dataclasses.replace(r, tolerance_m=5000.0) if r is lane else r
                    for r in scenario.rules if r.id != "nmac")
    reported = tuple(r for r in scenario.reported if r.rule != "nmac")
    again = reread(dataclasses.replace(scenario, rules=tighter, reported=reported)
                   .resolved_yaml())
    assert [r.id for r in again.rules] == [r.id for r in tighter]
    assert next(r for r in again.rules if r.id == lane.id).tolerance_m == 5000.0


def test_a_plugin_rule_changed_in_python_reads_back():
    path = ROOT / "examples" / "rule_of_threes" / "scenarios" / "shadowing.yaml"
    scenario = load_scenario(path)
    threes = next(r for r in scenario.rules if r.type == "rule_of_threes")
    changed_rule = threes.model_copy(update={"dwell": 600.0})
    changed = dataclasses.replace(scenario, rules=tuple(
        changed_rule if r is threes else r for r in scenario.rules))
    text = changed.resolved_yaml()
    again = reread(text)
    assert next(r for r in again.rules if r.type == "rule_of_threes").dwell == 600.0
    assert comparable(again) == comparable(changed)


def test_the_run_folder_names_the_seed_that_was_run(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "encounters.yaml")
    result = run(scenario, seed=7)
    assert result.scenario.seed == 7
    out = write_run(result, tmp_path / "run")
    text = (out / "scenario.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text)["seed"] == 7
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert json.loads((out / "summary.json").read_text())["scenario_sha256"] == digest
    # The folder's scenario runs again to the same episodes.
    again = run(load_scenario(out / "scenario.yaml"))
    assert again.episodes == result.episodes


def test_run_takes_a_seed_or_a_generator():
    scenario = load_scenario(BASELINE, duration="1 d")
    by_seed = run(scenario, seed=5)
    assert by_seed.episodes == run(dataclasses.replace(scenario, seed=5)).episodes
    assert by_seed.episodes == run(scenario, seed=np.random.default_rng(5)).episodes
    assert by_seed.episodes != run(scenario).episodes  # the file's seed is 2017
    with pytest.raises(TypeError, match="seed"):
        run(scenario, seed="5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2\\*\\*64-1"):
        run(scenario, seed=-1)


def test_numpy_numbers_changed_in_python_are_written_as_plain_numbers(tmp_path):
    scenario = load_scenario(BASELINE, duration="1 d")
    parties = dict(scenario.parties)
    parties["russia"] = dataclasses.replace(parties["russia"], compliance=np.float64(0.5))
    changed = dataclasses.replace(
        scenario, parties=parties, seed=np.uint64(2**64 - 1),
        hotline=dataclasses.replace(scenario.hotline, loss=np.float64(0.1)))
    result = run(changed)
    out = write_run(result, tmp_path / "run")
    again = load_scenario(out / "scenario.yaml")
    assert again.seed == 2**64 - 1 and again.parties["russia"].compliance == 0.5
    assert again.hotline.loss == 0.1
    assert run(again).episodes == result.episodes


@pytest.mark.parametrize("change", ["no deviations", "one deviation", "no lane", "no rule"])
def test_a_change_the_format_cannot_say_is_refused_not_written_otherwise(change, tmp_path):
    scenario = load_scenario(BASELINE, duration="1 d")
    russia = scenario.parties["russia"]
    parties = dict(scenario.parties)
    if change == "no deviations":
        parties["russia"] = dataclasses.replace(russia, deviations=())
    elif change == "one deviation":
        parties["russia"] = dataclasses.replace(russia, deviations=russia.deviations[1:2])
    elif change == "no lane":
        parties["russia"] = dataclasses.replace(russia, sorties=dataclasses.replace(
            russia.sorties, lane=None))
    changed = dataclasses.replace(scenario, parties=parties)
    if change == "no rule":  # the reported rates still name it
        changed = dataclasses.replace(scenario, rules=tuple(
            r for r in scenario.rules if r.id != "nmac"))
    words = "no longer a valid scenario" if change == "no rule" else "would read back as"
    with pytest.raises(UnwritableScenario, match=words):
        changed.resolved_yaml()
    with pytest.raises(UnwritableScenario):
        write_run(run(changed), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing half written


def test_a_seed_out_of_range_set_in_python_is_refused_when_written():
    scenario = load_scenario(BASELINE)
    with pytest.raises(UnwritableScenario, match="seed"):
        dataclasses.replace(scenario, seed=-1).resolved_yaml()
    assert "seed: 18446744073709551615\n" in dataclasses.replace(
        scenario, seed=2**64 - 1).resolved_yaml()


def test_resolved_is_the_document_of_the_typed_values():
    scenario = load_scenario(BASELINE)
    assert scenario.resolved == as_document(scenario)
    assert dataclasses.replace(scenario, seed=3).resolved["seed"] == 3


# ------------------------------------------- plain data emitted straight as events (yamlemit)

_TEXTS = st.sampled_from(
    ["yes", "No", "on", "~", "null", "", "0x1F", "0o17", "017", "1_000", "1:30", ".inf",
     "-.Inf", ".NaN", "1e3", "2018-02-07", "<<", "=", "5 nmi", "FL250", "- x", "a: b", "'q'",
     "#c", "نهر الفرات", "true", "12", "-3.5", " lead", "trail ", "a\nb", "x" * 120,
     "tab\there", "\u2028", "\x85"]) | st.text(max_size=8)
_EMIT_SCALARS = (_TEXTS | st.integers() | st.floats() | st.booleans() | st.none()
                 | st.sampled_from([0.0, -0.0, 1e17, 1e-5, float("inf"), -float("inf"),
                                    float("nan"), True, 1, 1.0]))
_EMIT_DOCUMENTS = st.recursive(_EMIT_SCALARS, lambda inner: st.lists(inner, max_size=5)
                               | st.dictionaries(_EMIT_SCALARS.filter(lambda k: k == k),
                                                 inner, max_size=5), max_leaves=30)


def _pyyaml_text(document: Any, width: int | None, allow_unicode: bool) -> str:
    from sim.model import writer

    return yaml.dump(document, Dumper=writer._Dumper, sort_keys=False,
                     default_flow_style=None, width=width, allow_unicode=allow_unicode)


@settings(max_examples=400, deadline=None)
@given(_EMIT_DOCUMENTS, st.sampled_from([None, 20, 100]), st.booleans())
def test_plain_data_is_written_byte_for_byte_as_pyyaml_writes_it(document, width,
                                                                  allow_unicode):
    from sim.model import writer
    from sim.model.yamlemit import dump_yaml

    got = dump_yaml(document, dumper=writer._Dumper, width=width, allow_unicode=allow_unicode)
    assert got == _pyyaml_text(document, width, allow_unicode)


def test_block_mappings_and_everything_but_plain_data_are_written_as_pyyaml_writes_them():
    from sim.model import writer, yamlemit

    shared = [1, 2]
    block = {"recorded": [writer._Block({"file": "/a/b.csv", "party": "x"})], "k": {"a": 1}}
    assert (yamlemit.dump_yaml(block, dumper=writer._Dumper, block=writer._Block, width=100)
            == yaml.dump(block, Dumper=writer._Dumper, sort_keys=False,
                         default_flow_style=None, width=100))
    assert "recorded:\n- file: /a/b.csv\n  party: x\n" in yamlemit.dump_yaml(
        block, dumper=writer._Dumper, block=writer._Block)
    # One list written twice: PyYAML gives it an anchor and an alias, so PyYAML writes it.
    twice = {"a": shared, "b": shared}
    with pytest.raises(yamlemit._NotPlain):
        yamlemit._events(twice, writer._Dumper(None), None)
    assert yamlemit.dump_yaml(twice, dumper=writer._Dumper) == "a: &id001 [1, 2]\nb: *id001\n"
    # Tuples and collections as keys are PyYAML's to write; what it cannot, its error.
    for value in ({"t": (1, 2)}, {(1, 2): "key"}):
        with pytest.raises(yamlemit._NotPlain):
            yamlemit._events(value, writer._Dumper(None), None)
        assert yamlemit.dump_yaml(value, dumper=writer._Dumper) == _pyyaml_text(value, None,
                                                                                False)
    with pytest.raises(yaml.representer.RepresenterError):
        yamlemit.dump_yaml({"n": np.float64(1.5)}, dumper=writer._Dumper)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_is_written_as_pyyaml_writes_it(path):
    from sim.model import writer

    loaded = load_scenario(path)
    for scenario in (loaded, dataclasses.replace(loaded, written={})):
        document = dict(as_document(scenario))
        if document.get("recorded"):
            document["recorded"] = [writer._Block(e) for e in document["recorded"]]
        assert scenario_yaml(scenario) == _pyyaml_text(document, 100, True)
