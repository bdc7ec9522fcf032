"""The world a rule looks at once the flying is done: flights, their legs as arrays, the
geography and the hotline's record, with the broad phase's candidate pairs computed once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from sim.detect.broadphase import Meets, PairStats, candidate_leg_pairs, overlapping_pair_count
from sim.detect.legs import Legs
from sim.model.geography import Geography
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.records import FlightRecord, Hotline
from sim.model.scenario import MinSeparationSpec, RuleSpec


@dataclass(frozen=True, slots=True)
class World:
    """Everything a rule may look at once the flying is done."""

    geography: Geography
    flights: tuple[FlightRecord, ...]  # index i is flight index i in ``legs``
    legs: Legs
    hotline: Hotline
    # The widest (horizontal, vertical) reach of the run's separation rules: their broad
    # phase runs once, at that reach, and each rule's exact narrow phase sorts it out.
    separation_reach: tuple[float, float | None] | None = None
    limits: Limits = DEFAULT_LIMITS  # pairs and episodes (LimitExceeded beyond them)
    # The party pairs those rules look at, each (low, high): the shared broad phase pairs
    # only their legs (None: every two flights).
    separation_parties: frozenset[tuple[str, str]] | None = None
    _pairs: dict[tuple[float, float | None, frozenset[tuple[str, str]] | None],
                 tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def party_of_flight(self) -> np.ndarray:
        """Each flight's party, as an array aligned with flight indices."""
        return np.array([f.party for f in self.flights], dtype=object)

    def leg_pairs(self, horizontal_m: float, vertical_m: float | None,
                  parties: frozenset[tuple[str, str]] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate leg pairs (``candidate_leg_pairs``) for a separation threshold, of
        flights of the party pairs ``parties`` (each (low, high); None: of any two
        flights). Those of ``separation_reach`` and ``separation_parties`` when they
        cover the request, computed once: pairs of other parties may come too."""
        reach, shared = self.separation_reach, self.separation_parties
        if reach is not None and horizontal_m <= reach[0] and (
                reach[1] is None or (vertical_m is not None and vertical_m <= reach[1])) and (
                shared is None or (parties is not None and parties <= shared)):
            (horizontal_m, vertical_m), parties = reach, shared
        if (horizontal_m, vertical_m, parties) not in self._pairs:
            self._pairs[(horizontal_m, vertical_m, parties)] = candidate_leg_pairs(
                self.legs, horizontal_m, vertical_m, self.limits.pairs,
                None if parties is None else self._meets(parties))
        return self._pairs[(horizontal_m, vertical_m, parties)]

    def _meets(self, parties: frozenset[tuple[str, str]]) -> Meets:
        """``parties`` as party codes (those with no flights left out)."""
        code = {name: k for k, name in enumerate(sorted({f.party for f in self.flights}))}
        return Meets(np.array([code[f.party] for f in self.flights], np.int64),
                     frozenset((min(code[p], code[q]), max(code[p], code[q]))
                               for p, q in parties if p in code and q in code))


def meeting_parties(between: tuple[str, str] | None, parties: Iterable[str]
                    ) -> frozenset[tuple[str, str]]:
    """The unordered party pairs, each written (low, high), a separation rule looks at
    among ``parties``: ``between``, or every two different parties."""
    if between is not None:
        p, q = sorted(between)
        return frozenset({(p, q)})
    names = sorted(set(parties))
    return frozenset((p, q) for k, p in enumerate(names) for q in names[k + 1:])


def separation_reach(rules: Iterable[RuleSpec]) -> tuple[float, float | None] | None:
    """The least (horizontal, vertical) reach that covers every separation rule's."""
    specs = [r for r in rules if isinstance(r, MinSeparationSpec)]
    if not specs:
        return None
    verticals = [r.vertical_m for r in specs]
    return (max(r.horizontal_m for r in specs),
            None if None in verticals else max(v for v in verticals if v is not None))


def separation_parties(rules: Iterable[RuleSpec], parties: Iterable[str]
                       ) -> frozenset[tuple[str, str]] | None:
    """Every party pair (``meeting_parties``) some separation rule looks at."""
    names = set(parties)
    specs = [r for r in rules if isinstance(r, MinSeparationSpec)]
    if not specs:
        return None
    return frozenset().union(*(meeting_parties(r.between, names) for r in specs))


def separation_stats(world: World, reach_m: float, vertical_m: float | None = None
                     ) -> PairStats:
    """How many leg pairs exist, overlap in time, and survive the broad phase at ``reach_m``
    (and ``vertical_m``)."""
    n = len(world.legs)
    i, _ = candidate_leg_pairs(world.legs, reach_m, vertical_m)
    return PairStats(n, n * (n - 1) // 2, overlapping_pair_count(world.legs), len(i))
