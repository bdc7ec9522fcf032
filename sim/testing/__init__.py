"""The kit for property-testing rules: strategies for tracks, encounters, zones, lanes and
whole small worlds, and checks a rule author calls on a rule in one line each.

::

    from hypothesis import given, settings
    from sim import testing as sst
    from my_package import too_close        # a sim.rules.RuleType, installed or not

    PARAMS = {"horizontal": "3 nmi"}

    @settings(max_examples=20, deadline=None)
    @given(sst.worlds())
    def test_symmetric(document):
        sst.check_symmetric(too_close, PARAMS, document)

    @settings(max_examples=20, deadline=None)
    @given(sst.worlds())
    def test_agrees_with_sampling(document):
        sst.check_agrees_with_sampling(too_close, PARAMS, document,
                                       lambda samples: sst.close(samples, 5556.0))

The modules: ``strategies`` (routes, 4D tracks, encounters of four kinds, zones, leg sets),
``small_worlds`` (a corridor with lanes, whole small worlds as scenario documents, and the
``World`` of a document), ``documents`` (plans as scenario documents, run through the
product), ``transforms`` (a document moved, turned, relabelled), ``intervals`` (breach
time compared within rounding), ``sampling`` (the sampling oracle and its conditions) and
``checks`` (the property checks). Everything is in the local frame, in metres and seconds.
"""

from __future__ import annotations

from sim.detect.legs import Legs
from sim.engine.motion import FlightLog
from sim.model.records import Episode
from sim.testing.checks import (
    check_agrees_with_sampling,
    check_disjoint_and_merged,
    check_monotone,
    check_relabelling_invariant,
    check_rotation_invariant,
    check_symmetric,
    check_translation_invariant,
    detect_rule,
    rule_parameters,
)
from sim.testing.documents import (
    FRAME_CENTER,
    detect_plans,
    distance_text,
    duration_text,
    flight_document,
    legs_of,
    run_plans,
    scenario_document,
    vertices,
)
from sim.testing.intervals import (
    ABS_TOLERANCE_S,
    REL_TOLERANCE,
    Key,
    aircraft_key,
    breaches,
    episode_key,
    key_text,
    pair_key,
)
from sim.testing.sampling import (
    Oracle,
    Samples,
    close,
    inside_zones,
    lasting,
    off_lanes,
    sample_world,
)
from sim.testing.small_worlds import PARTIES, lanes, world_of, worlds
from sim.testing.strategies import (
    BOX_M,
    ENCOUNTER_KINDS,
    altitudes_m,
    coordinates,
    encounters,
    leg_sets,
    polygons,
    profiles,
    routes,
    speeds_mps,
    tracks,
    zones,
)
from sim.testing.transforms import (
    relabel_document,
    relabel_parameters,
    rotate_document,
    translate_document,
)
from sim.traffic.plans import FlightPlan

__all__ = [
    "ABS_TOLERANCE_S", "BOX_M", "ENCOUNTER_KINDS", "FRAME_CENTER", "PARTIES", "REL_TOLERANCE",
    "Episode", "FlightLog", "FlightPlan", "Key", "Legs", "Oracle", "Samples", "aircraft_key",
    "altitudes_m", "breaches", "check_agrees_with_sampling", "check_disjoint_and_merged",
    "check_monotone", "check_relabelling_invariant", "check_rotation_invariant",
    "check_symmetric", "check_translation_invariant", "close", "coordinates", "detect_plans",
    "detect_rule", "distance_text", "duration_text", "encounters", "episode_key",
    "flight_document", "inside_zones", "key_text", "lanes", "lasting", "leg_sets", "legs_of",
    "off_lanes", "pair_key", "polygons", "profiles", "relabel_document", "relabel_parameters",
    "rotate_document", "routes", "rule_parameters", "run_plans", "sample_world",
    "scenario_document", "speeds_mps", "tracks", "translate_document", "vertices", "world_of",
    "worlds", "zones",
]
