"""Flat, immutable output records: one per violation episode, one per flight."""

from __future__ import annotations

from dataclasses import dataclass

EVENT_COLUMNS = (
    "rule", "type", "party", "aircraft", "other_party", "other_aircraft", "zone",
    "start_s", "end_s", "min_distance_m", "min_time_s", "x_m", "y_m", "lon", "lat",
    "informed", "duration_s", "vertical_m", "cause", "declaration",
)


@dataclass(frozen=True, slots=True)
class Episode:
    """A maximal interval in which one rule's condition held (SPEC §7, §10).

    Separation: ``aircraft`` < ``other_aircraft``; the distance, time and position are those
    of the closest horizontal approach, position the pair's midpoint then, ``vertical_m``
    the altitude difference then. Lane and zone: ``aircraft`` is the violator, position
    where the episode began; ``informed`` says, for zones, whether the violator's party had
    received the zone's declaration by then.
    """

    rule: str
    type: str
    party: str
    aircraft: str
    other_party: str
    other_aircraft: str
    zone: str
    start_s: float
    end_s: float
    min_distance_m: float | None
    min_time_s: float | None
    x_m: float
    y_m: float
    lon: float
    lat: float
    informed: bool | None
    vertical_m: float | None = None
    cause: str = ""  # the deliberate deviations (of either aircraft) the episode overlaps
    # Zones: received | not_yet_received | lost | undeclared (see sim.hotline.Hotline.status)
    declaration: str = ""

    def involves(self, party: str) -> bool:
        """Did ``party`` take part: either side of a separation, the violator otherwise."""
        return party == self.party or (bool(self.other_aircraft) and party == self.other_party)

    @property
    def duration_s(self) -> float:
        """How long the episode lasted."""
        return self.end_s - self.start_s

    def sort_key(self) -> tuple[float, str, str, str, str]:
        """The order of ``events.csv``: start, rule, aircraft, then the rest for ties."""
        return (self.start_s, self.rule, self.aircraft, self.other_aircraft, self.zone)


@dataclass(frozen=True, slots=True)
class FlightRecord:
    """One flight as flown: who, when, how long in the air within the run."""

    id: str
    party: str
    depart_s: float
    land_s: float  # when it reached its last point, or the run's end
    airborne_s: float
