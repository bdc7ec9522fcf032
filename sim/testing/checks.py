"""Property checks a rule author calls on a rule, one line per test, on a drawn world::

    from hypothesis import given, settings
    from sim import testing as sst

    @settings(max_examples=20, deadline=None)
    @given(sst.worlds())
    def test_my_rule_is_symmetric(document):
        sst.check_symmetric(my_rule, {"horizontal": "3 nmi"}, document)

Each check takes the rule type (``sim.rules.RuleType``: installed or not), its parameters
as a scenario writes them, without ``id`` and ``type`` (``{"horizontal": "3 nmi", "dwell":
"3 min"}``), and a scenario document (``sim.testing.small_worlds``); it validates the parameters
with the rule's own model, runs its detect function on the ``World`` of the document
(``world_of``), holds the result to the contract the product holds a plugin to, and raises
AssertionError saying what failed, where and when. Breach times are compared key by key
with the tolerance of ``sim.testing.intervals`` (a few milliseconds), never episode by
episode, so that rounding does not fail a correct rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.detect.narrowphase import MERGE_GAP_S
from sim.detect.rules import result_problem
from sim.detect.world import World
from sim.model.records import Episode
from sim.model.ruletypes import BUILTIN_RULE_TYPES, RuleType
from sim.testing import intervals as iv
from sim.testing import transforms as tf
from sim.testing.sampling import Oracle, sample_world
from sim.testing.small_worlds import world_of

Params = Mapping[str, Any]
RULE_ID = "checked"  # the id the checks give the rule


def rule_parameters(rule: RuleType, params: Params, document: Mapping[str, Any]) -> Any:
    """The rule's parameters as its detect function receives them: ``params`` (without
    ``id`` and ``type``) validated for the document, as the loader validates a rule of
    the scenario (a built-in type through the loader itself; another with its own model,
    whether installed or not). Raises ValueError when they do not validate."""
    raw = {"id": RULE_ID, "type": rule.name, **params}
    if rule.name in BUILTIN_RULE_TYPES:
        from sim.model.scenario import ScenarioError, parse_scenario

        try:
            return parse_scenario({**document, "rules": [raw]}).rules[0]
        except ScenarioError as exc:
            raise ValueError(f"the parameters {dict(params)} of rule type {rule.name!r} do "
                             f"not validate: {exc}") from exc
    from sim.model.loader import fill_defaults

    fill_defaults(rule.parameters, raw)
    context = {"parties": list(document.get("parties") or {}),
               "rule_types": (*BUILTIN_RULE_TYPES, rule.name), "rule_ids": {RULE_ID}}
    try:
        return rule.parameters.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ValueError(f"the parameters {dict(params)} of rule type {rule.name!r} do not "
                         f"validate: {exc}") from exc


def detect_rule(rule: RuleType, params: Params, document: Mapping[str, Any],
                world: World | None = None) -> list[Episode]:
    """The episodes of ``rule`` with ``params`` in the document's world (``world``, when
    given, must be ``world_of(document)``), held to the plugin contract: a list of episodes
    of this rule, each an interval, of aircraft of the world (AssertionError if not)."""
    world = world_of(document) if world is None else world
    spec = rule_parameters(rule, params, document)
    found = rule.detect(spec, world)
    problem = result_problem(spec, world, found)
    if problem is not None:
        raise AssertionError(f"rule type {rule.name!r} returned {problem}")
    return list(found)


def check_disjoint_and_merged(rule: RuleType, params: Params, document: Mapping[str, Any]
                              ) -> None:
    """Each key's episodes (a flight pair, unordered, or an aircraft, and a zone) are
    intervals (start < end) that do not overlap and are more than ``MERGE_GAP_S`` apart:
    touching pieces of one breach make one episode."""
    by_key: dict[iv.Key, list[Episode]] = {}
    for e in detect_rule(rule, params, document):
        by_key.setdefault(iv.episode_key(e), []).append(e)
    lines = []
    for key, episodes in sorted(by_key.items()):
        episodes.sort(key=lambda e: (e.start_s, e.end_s))
        for a, b in zip(episodes, episodes[1:], strict=False):
            gap = b.start_s - a.end_s
            if gap <= MERGE_GAP_S:
                how = "overlap" if gap < 0 else "touch, unmerged"
                lines.append(f"  {iv.key_text(key)}: {a.start_s:.3f}-{a.end_s:.3f} s and "
                             f"{b.start_s:.3f}-{b.end_s:.3f} s {how} (gap {gap:.6f} s)")
    if lines:
        raise AssertionError("\n".join([f"rule type {rule.name!r} returned episodes of one "
                                        f"key that overlap or are within {MERGE_GAP_S} s:",
                                        *lines[:12]]))


def check_symmetric(rule: RuleType, params: Params, document: Mapping[str, Any]) -> None:
    """The same breaches, pair by unordered pair, with the flights in the reverse order.

    Flight indices follow the order of the flight ids, so the flights are renamed by an
    order-reversing renaming (and listed in reverse): every pair's flights swap places,
    their legs too; the episodes are mapped back to the original ids to compare. (So a
    rule that reads the ids' text fails here too; ``check_relabelling_invariant`` is the
    check made for that.)"""
    ids = tf.flight_ids(document)
    width = len(str(len(ids)))
    forward = {old: f"S{len(ids) - 1 - k:0{width}d}" for k, old in enumerate(ids)}
    swapped = tf.relabel_document(document, flights=forward)
    swapped["flights"] = list(reversed(swapped.get("flights") or []))
    back = {new: old for old, new in forward.items()}
    iv.assert_same_breaches(
        detect_rule(rule, params, document), detect_rule(rule, params, swapped),
        f"rule type {rule.name!r} is not symmetric: with the flights in the reverse order "
        "(renamed so that their indices reverse) it finds other breaches:",
        "in the original order", "in the reverse order", rename=back)


def check_translation_invariant(rule: RuleType, params: Params, document: Mapping[str, Any],
                                dx_m: float, dy_m: float) -> None:
    """The same breaches when every point of the world (routes, zones, corridor) is moved
    by (``dx_m``, ``dy_m``) in the frame."""
    moved = tf.translate_document(document, dx_m, dy_m)
    iv.assert_same_breaches(
        detect_rule(rule, params, document), detect_rule(rule, params, moved),
        f"rule type {rule.name!r} is not translation invariant: with every point moved by "
        f"({dx_m!r}, {dy_m!r}) m it finds other breaches:", "where it was", "moved")


def check_rotation_invariant(rule: RuleType, params: Params, document: Mapping[str, Any],
                             angle_rad: float) -> None:
    """The same breaches when every point of the world (routes, zones, corridor) is turned
    by ``angle_rad`` about the frame's centre."""
    turned = tf.rotate_document(document, angle_rad)
    iv.assert_same_breaches(
        detect_rule(rule, params, document), detect_rule(rule, params, turned),
        f"rule type {rule.name!r} is not rotation invariant: with every point turned by "
        f"{angle_rad!r} rad ({math.degrees(angle_rad):.1f} deg) it finds other breaches:",
        "as it was", "turned")


def check_relabelling_invariant(rule: RuleType, params: Params, document: Mapping[str, Any],
                                seed: int = 0, flights: Mapping[str, str] | None = None,
                                parties: Mapping[str, str] | None = None) -> None:
    """The same breaches, mapped back, when the flights and parties are renamed (a one to
    one renaming; the parameters that name a party are renamed with it).

    By default flights get new ids (``F`` and a number) and parties new names (``side``
    and a number), each shuffled by ``seed``, so that the flight indices change too; or
    give the renamings ``flights`` and ``parties`` (old -> new)."""
    rng = np.random.default_rng(seed)
    ids = tf.flight_ids(document)
    names = sorted(document.get("parties") or {})
    if flights is None:
        flights = {old: f"F{int(k)}" for old, k in zip(ids, rng.permutation(len(ids)),
                                                      strict=True)}
    if parties is None:
        parties = {old: f"side{int(k)}" for old, k in zip(names, rng.permutation(len(names)),
                                                         strict=True)}
    renamed = tf.relabel_document(document, flights=flights, parties=parties)
    back = {new: old for old, new in flights.items()}
    iv.assert_same_breaches(
        detect_rule(rule, params, document),
        detect_rule(rule, tf.relabel_parameters(params, parties), renamed),
        f"rule type {rule.name!r} is not invariant under relabelling: with flights renamed "
        f"{dict(flights)} and parties {dict(parties)} it finds other breaches:",
        "under the original names", "under the new names", rename=back)


def check_monotone(rule: RuleType, params: Params, document: Mapping[str, Any], key: str,
                   smaller: Any, larger: Any, grows: bool = True) -> None:
    """Breach time grows (``grows``) or shrinks with the parameter ``key``: key by key, the
    breach with ``params[key] = larger`` covers the one with ``smaller`` (with ``grows``),
    or is covered by it (without)."""
    world = world_of(document)
    low = iv.breaches(detect_rule(rule, {**params, key: smaller}, document, world))
    high = iv.breaches(detect_rule(rule, {**params, key: larger}, document, world))
    low_name, high_name = f"with {key} = {smaller!r}", f"with {key} = {larger!r}"
    if grows:  # what the smaller value breaches, the larger breaches too
        lines = iv.differences(low, high, low_name, high_name, both_ways=False)
    else:
        lines = iv.differences(high, low, high_name, low_name, both_ways=False)
    if lines:
        sense = "grow" if grows else "shrink"
        raise AssertionError(iv.message(
            f"rule type {rule.name!r} is not monotone in {key}: its breaches should {sense} "
            f"from {key} = {smaller!r} to {larger!r}, but:", lines))


def check_agrees_with_sampling(rule: RuleType, params: Params, document: Mapping[str, Any],
                               oracle: Oracle, step_s: float = 1.0,
                               margin_s: float | None = None) -> None:
    """The rule is breached exactly when ``oracle`` says, at every sample time.

    The kit samples the world every ``step_s`` (``sim.testing.sampling``); the oracle
    returns, for each key, whether the rule is breached at each sample time. They must
    agree at every sample farther than ``margin_s`` (default: one step) from a boundary of
    the rule's episodes of that key and from a change of the oracle's verdict: there a
    sampled condition may be a step off, and what happens between two samples (a gap of
    an instant that the rule rightly merges across, a touch) is not seen. So whatever
    lasts a few steps is held to the oracle, and a rule that is a step off is not.
    ``margin_s`` plus ``ABS_TOLERANCE_S``, in fact, for the rounding of the boundaries."""
    world = world_of(document)
    found = iv.breaches(detect_rule(rule, params, document, world))
    samples = sample_world(world, step_s)
    expected = oracle(samples)
    margin = (step_s if margin_s is None else margin_s) + iv.ABS_TOLERANCE_S
    t = samples.times_s
    lines = []
    for key in sorted(set(found) | set(expected)):
        said = np.asarray(expected[key], bool) if key in expected else np.zeros(len(t), bool)
        if said.shape != t.shape:
            raise ValueError(f"the oracle's flags of {iv.key_text(key)} have shape "
                             f"{said.shape}, not one per sample time {t.shape}")
        rows = found.get(key, np.zeros((0, 2)))
        inside = np.zeros(len(t), bool)
        for s, e in rows.tolist():
            inside |= (t > s) & (t < e)
        change = np.flatnonzero(said[1:] != said[:-1])
        unsure = np.concatenate([rows.ravel(), (t[change] + t[change + 1]) / 2.0])
        wrong = np.flatnonzero((said != inside) & (_distance_to(t, unsure) > margin))
        if len(wrong):
            runs = np.split(wrong, np.flatnonzero(np.diff(wrong) > 1) + 1)
            where = ", ".join(f"{t[r[0]]:.1f}-{t[r[-1]]:.1f} s" for r in runs[:3])
            verdict = "breached" if said[wrong[0]] else "not breached"
            lines.append(f"  {iv.key_text(key)}: the oracle says {verdict} at {where}"
                         f"{' and more' if len(runs) > 3 else ''}, the rule the opposite"
                         f" (its episodes: {_rows(rows)})")
    if lines:
        raise AssertionError("\n".join([
            f"rule type {rule.name!r} disagrees with the sampling oracle (every {step_s} s; "
            f"samples within {margin:.3f} s of an episode's boundary or of a change of the "
            "oracle's verdict not counted):",
            *lines[:12]]))


def _distance_to(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How far each of ``t`` is from the nearest of ``times`` (inf if there is none)."""
    if len(times) == 0:
        return np.full(len(t), np.inf)
    times = np.sort(times)
    k = np.searchsorted(times, t)
    before = np.abs(t - times[np.clip(k - 1, 0, len(times) - 1)])
    after = np.abs(times[np.clip(k, 0, len(times) - 1)] - t)
    result: np.ndarray = np.minimum(before, after)
    return result


def _rows(rows: np.ndarray, limit: int = 3) -> str:
    if len(rows) == 0:
        return "none"
    text = ", ".join(f"{s:.3f}-{e:.3f} s" for s, e in rows[:limit].tolist())
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
