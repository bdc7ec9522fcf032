"""The records a run produces: episodes, flights, and the hotline's ledger of what was said.

Episodes and flights are flat, immutable rows (``events.csv``, ``flights.csv``); the
hotline's ledger (``Hotline``) is filled in by the officers during a run and read by the
rules (was a zone's declaration received in time?) and the outputs."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from sim.model.scenario import ZoneSpec

EVENT_COLUMNS = (
    "rule", "type", "party", "aircraft", "other_party", "other_aircraft", "zone",
    "start_s", "end_s", "min_distance_m", "min_time_s", "x_m", "y_m", "lon", "lat",
    "informed", "duration_s", "vertical_m", "cause", "declaration", "min_vertical_m",
    "min_slant_m",
)


@dataclass(frozen=True, slots=True)
class Episode:
    """A maximal interval in which one rule's condition held (docs/exactness.md).

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
    # Zones: received | not_yet_received | lost | undeclared (see Hotline.status below)
    declaration: str = ""
    # Separation: the least 3D distance in the episode (exact), wherever it fell.
    min_slant_m: float | None = None

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


# Why a zone incursion was uninformed (or that it was not): events.csv's ``declaration``.
RECEIVED, NOT_YET_RECEIVED, LOST, UNDECLARED = "received", "not_yet_received", "lost", "undeclared"


@dataclass(frozen=True, slots=True)
class Message:
    """One item said on the hotline: which call, who to whom, what, when sent and received."""

    call: int
    kind: str  # scheduled | adhoc
    sender: str
    recipient: str
    item_type: str  # zone | complaint
    item: str
    sent_s: float
    lost: bool
    received_s: float | None  # None: lost, or still on the way when the run ended


@dataclass(frozen=True, slots=True)
class Call:
    """A call made: its number, kind, who called (every officer, at a scheduled call), when."""

    number: int
    kind: str  # scheduled | adhoc
    caller: str  # "" for a scheduled call, at which every officer speaks
    at_s: float


@dataclass(slots=True)
class Hotline:
    """The state of the hotline during a run: calls made, messages, what each side knows."""

    enabled: bool = False
    call_log: list[Call] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    # (receiving party, zone id) -> when that zone's declaration first arrived
    received: dict[tuple[str, str], float] = field(default_factory=dict)
    # The same, per receiving party in order of arrival: (times, zone ids), for received_by.
    _arrivals: dict[str, tuple[list[float], list[str]]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def calls(self) -> int:
        """Calls made, scheduled and ad-hoc."""
        return len(self.call_log)

    def scheduled(self) -> list[Call]:
        """The scheduled calls made, in order."""
        return [c for c in self.call_log if c.kind == "scheduled"]

    def informed(self, party: str, zone_id: str, at_s: float) -> bool:
        """Had ``party`` received ``zone_id``'s declaration by ``at_s``?"""
        when = self.received.get((party, zone_id))
        return when is not None and when <= at_s

    def receive(self, party: str, zone_id: str, at_s: float) -> None:
        """``party`` received ``zone_id``'s declaration at ``at_s`` (the first copy counts;
        arrivals come in time order, as the run's clock runs)."""
        if (party, zone_id) not in self.received:
            self.received[(party, zone_id)] = at_s
            times, zones = self._arrivals.setdefault(party, ([], []))
            times.append(at_s)
            zones.append(zone_id)

    def received_by(self, party: str, at_s: float) -> set[str]:
        """The zone ids ``party`` had received by ``at_s``."""
        times, zones = self._arrivals.get(party, ([], []))
        return set(zones[:bisect.bisect_right(times, at_s)])

    def status(self, party: str, zone: ZoneSpec, at_s: float) -> str:
        """Why ``party`` was informed of a zone by ``at_s``, or why not.

        ``received``; else ``not_yet_received`` if a copy was on its way then, or none had
        been sent yet though the zone is declared (the next call had not come);
        ``lost`` if every copy sent by then was lost; ``undeclared`` for a secret zone
        (``declare: false``) or with the hotline off.
        """
        if self.informed(party, zone.id, at_s):
            return RECEIVED
        sent = [m for m in self.messages if m.item_type == "zone" and m.item == zone.id
                and m.recipient == party and m.sent_s <= at_s]
        if any(not m.lost for m in sent):
            return NOT_YET_RECEIVED
        if sent:
            return LOST
        return NOT_YET_RECEIVED if self.enabled and zone.declare else UNDECLARED
