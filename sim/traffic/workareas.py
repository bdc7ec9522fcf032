"""Work areas: where each party's sorties will work, as zones it may declare.

At each planning cycle (the hotline's call schedule, kept whether the hotline is on or
off, so that the zones are the same either way) a party gathers the sorties it knows of
and has not yet declared, by mission: each group becomes one work area, the convex hull
of its racetracks grown by ``buffer``, from the first sortie's arrival on station to the
last one's departure, between the lowest altitude less ``vertical_buffer`` and the
highest plus it. A sortie known only after the last cycle before it goes on station is a
*pop-up*: its work area is its own, and the hotline may pass it at an ad-hoc call.

Work areas are zones like written ones: the ``zone_incursion`` rule counts other parties'
aircraft inside them, declared or not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

from sim.model.geography import ZoneGeometry
from sim.model.scenario import WORK_AREA_PREFIX, FramePoint, PolygonArea, Scenario, ZoneSpec
from sim.traffic.sorties import Sortie


@dataclass(frozen=True, slots=True)
class Declarable:
    """A zone a party will declare: from when it knows of it, and if it asks an ad-hoc call."""

    zone: ZoneSpec
    known_s: float
    popup: bool = False  # a work area known after the last call before it: ad-hoc candidate


MIN_BUFFER_M = 1.0  # a racetrack with no width still makes an area


def work_areas(scenario: Scenario, sorties: Sequence[Sortie], cycles_s: np.ndarray
               ) -> list[tuple[ZoneGeometry, Declarable]]:
    """Every party's work areas, as zones and as what its officer will declare."""
    groups: dict[tuple[str, int, int], list[Sortie]] = defaultdict(list)
    popups: list[Sortie] = []
    for sortie in sorties:
        if not scenario.parties[sortie.plan.party].work_areas.enabled:
            continue
        on_station_s = sortie.station_s[0]
        k = int(np.searchsorted(cycles_s, sortie.known_s, side="left"))
        if k < len(cycles_s) and cycles_s[k] < on_station_s:
            groups[(sortie.plan.party, k, sortie.mission)].append(sortie)
        else:
            popups.append(sortie)
    areas = []
    for (party, k, mission), members in sorted(groups.items()):
        zone = _area(scenario, f"{WORK_AREA_PREFIX}{party}.c{k:03d}.m{mission}", party, members)
        areas.append((zone, Declarable(zone.spec, float(cycles_s[k]))))
    for sortie in popups:
        zone = _area(scenario, f"{WORK_AREA_PREFIX}{sortie.plan.id}", sortie.plan.party,
                     [sortie])
        areas.append((zone, Declarable(zone.spec, sortie.known_s, popup=True)))
    return areas  # ids cannot clash: written zone ids may not begin with "work."


def _area(scenario: Scenario, ident: str, party: str, members: Sequence[Sortie]
          ) -> ZoneGeometry:
    settings = scenario.parties[party].work_areas
    points = MultiPoint(np.vstack([s.racetrack_xy for s in members]))
    shape = shapely.convex_hull(points).buffer(max(settings.buffer_m, MIN_BUFFER_M),
                                               quad_segs=8)
    assert isinstance(shape, Polygon)
    ring = np.asarray(shape.exterior.coords, float)
    altitudes = [s.plan.altitude_m for s in members]
    windows = [s.station_s for s in members]
    spec = ZoneSpec(ident, party, PolygonArea(tuple(FramePoint(x, y)
                                                    for x, y in ring[:-1].tolist())),
                    min(altitudes) - settings.vertical_buffer_m,
                    max(altitudes) + settings.vertical_buffer_m,
                    min(w[0] for w in windows), max(w[1] for w in windows), settings.declare)
    return ZoneGeometry(spec, ring, None, None, shape)
