"""The scenario as the simulator sees it: frozen typed objects, every value in SI units.

``sim.model.loader`` makes them from a YAML document (validated by the pydantic models of
``sim.model.schema``); the rest of the simulator only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sim.model.errors import InputError
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.units import FOOT, MINUTE

# The top-level keys of a scenario, in the order the resolved scenario is written in.
TOP_KEYS = ("name", "description", "seed", "duration", "start", "frame", "places", "corridor",
            "lanes", "parties", "flights", "recorded", "zones", "interference", "rules", "hotline",
            "reported")
WORK_AREA_PREFIX = "work."  # the ids of generated work areas (sim.traffic.workareas)

# ---------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario: where (file and key path) and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ScenarioError(InputError):
    """A scenario that cannot be run; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        # The problems are the exception's argument, so that a copy of it (pickled from a
        # worker process, or re-raised by SimPy from a process) is rebuilt from them.
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# ---------------------------------------------------------------------------- model

@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A point named by the gazetteer or the scenario's ``places``."""

    name: str


@dataclass(frozen=True, slots=True)
class LonLat:
    """A point in WGS84 degrees."""

    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class FramePoint:
    """A point in the scenario's local frame, metres east and north of its centre."""

    x_m: float
    y_m: float


Point = PlaceRef | LonLat | FramePoint


@dataclass(frozen=True, slots=True)
class Frame:
    """The local plane; ``center`` None means the corridor centerline's midpoint."""

    center: Point | None


@dataclass(frozen=True, slots=True)
class Corridor:
    """The corridor: a built-in centerline name or a list of points, and its half width."""

    centerline: str | tuple[Point, ...]
    half_width_m: float


@dataclass(frozen=True, slots=True)
class Lane:
    """A party's lane: the centerline offset sideways (positive: left going downstream)."""

    id: str
    party: str
    offset_m: float
    direction: Literal["downstream", "upstream"]


_FPM = FOOT / MINUTE
# Notional climb and descent rates (ft/min) of generated sorties by aircraft type, for a
# scenario that writes none: round figures by class (fighter, attack, tanker and ISR,
# MQ-9-class drone), not from any source.
VERTICAL_RATES_FPM: dict[str, tuple[float, float]] = {
    **dict.fromkeys(("F-15E", "F-16", "F-22", "Su-35", "Su-30", "Su-34"), (10_000.0, 6_000.0)),
    **dict.fromkeys(("A-10", "Su-25", "Su-24"), (4_000.0, 3_000.0)),
    **dict.fromkeys(("KC-135", "KC-10", "E-3", "RC-135", "P-8"), (2_500.0, 2_000.0)),
    "MQ-9": (500.0, 500.0),
}
OTHER_RATES_FPM = (3_000.0, 2_500.0)  # any type not in the table


def vertical_rates(aircraft_type: str) -> tuple[float, float]:
    """The notional climb and descent rates (m/s) of an aircraft type (by its name)."""
    climb, descent = VERTICAL_RATES_FPM.get(aircraft_type, OTHER_RATES_FPM)
    return climb * _FPM, descent * _FPM


@dataclass(frozen=True, slots=True)
class AircraftType:
    """One kind of aircraft a party flies: cruise speed, altitude block, share of sorties,
    and the rates its sorties climb from and descend to their bases at."""

    type: str
    speed_mps: float
    altitude_m: tuple[float, float]
    share: float
    climb_rate_mps: float = OTHER_RATES_FPM[0] * _FPM
    descent_rate_mps: float = OTHER_RATES_FPM[1] * _FPM


@dataclass(frozen=True, slots=True)
class Mission:
    """A mission area: where sorties work, how long, and the racetrack they fly there."""

    area: Point
    share: float
    time_on_station_s: tuple[float, float]
    racetrack_length_m: float
    racetrack_width_m: float


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way a non-compliant sortie breaks the rules, with its relative weight."""

    cause: str  # shortcut | drift
    weight: float
    length_m: tuple[float, float]  # how far along the lane the deviation lasts
    beyond_m: tuple[float, float]  # drift: how far past the tolerance toward the river
    miss_m: tuple[float, float] = (0.0, 0.0)  # close_approach: horizontal miss distance
    vertical_m: float = 0.0  # close_approach: altitude within this much of the target's
    reach_m: float = 0.0  # close_approach: how far it looks for a target


@dataclass(frozen=True, slots=True)
class Sorties:
    """How a party generates sorties: rate, daily profile, bases, aircraft, missions."""

    per_day: float
    daily_profile: tuple[float, ...]  # 24 hourly weights
    bases: tuple[tuple[Point, float], ...]
    aircraft: tuple[AircraftType, ...]
    missions: tuple[Mission, ...]
    lane: str | None
    lane_entry_m: tuple[float, float]  # join the lane this far before the mission
    lane_exit_m: tuple[float, float]  # leave it this far after
    altitude_step_m: float


@dataclass(frozen=True, slots=True)
class Planning:
    """How a party's planner uses what the hotline brought (issue 4).

    A sortie is known ``lead_s`` before it departs; at departure the planner routes it
    around the other parties' received, active zones (``margin_m`` clear of them), or,
    when no path exists, delays it (at most ``max_delay_s``) or drops it.
    """

    avoid: bool = True
    margin_m: float = 3704.0  # 2 nmi
    when_blocked: Literal["delay", "drop"] = "delay"
    max_delay_s: float = 6 * 3600.0
    lead_s: tuple[float, float] = (2 * 3600.0, 26 * 3600.0)


@dataclass(frozen=True, slots=True)
class WorkAreas:
    """A party's planned work areas: its racetracks with a buffer, declared or kept secret."""

    enabled: bool = True
    buffer_m: float = 9260.0  # 5 nmi
    vertical_buffer_m: float = 304.8  # 1000 ft
    declare: bool = True


@dataclass(frozen=True, slots=True)
class Party:
    """A party (a side): its sortie generation (None: explicit flights only) and behaviour."""

    id: str
    sorties: Sorties | None = None
    compliance: float = 1.0
    deviations: tuple[Deviation, ...] = ()
    planning: Planning = Planning()
    work_areas: WorkAreas = WorkAreas()


@dataclass(frozen=True, slots=True)
class FlightSpec:
    """An explicit flight, flown exactly as written."""

    id: str
    party: str
    depart_s: float
    speed_mps: float
    altitude_m: float  # the flight's altitude, or (every entry giving one) the highest
    route: tuple[Point, ...]
    # The altitude each route entry gives (None: the flight's); () when none gives one.
    route_altitudes_m: tuple[float | None, ...] = ()
    climb_rate_mps: float | None = None  # None: a climb is spread over the whole leg
    descent_rate_mps: float | None = None  # None: a descent is spread over the whole leg


@dataclass(frozen=True, slots=True)
class RecordedSpec:
    """A file of recorded tracks, flown as the flights of a party (read by
    ``sim.traffic.recorded``)."""

    file: str  # the path as written (in messages)
    path: str  # the file itself: absolute, symlinks resolved
    party: str
    format: Literal["csv", "parquet"]
    columns: tuple[tuple[str, str], ...]  # (field, the file's column) where not the reader's
    altitude_unit: Literal["ft", "m"]
    max_gap_s: float
    max_speed_mps: float
    key_path: str  # recorded[i]


@dataclass(frozen=True, slots=True)
class PolygonArea:
    """A polygon zone area; the ring closes itself."""

    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class CircleArea:
    """A circular zone area."""

    center: Point
    radius_m: float


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """A zone owned by a party, active in a time window between a floor and a ceiling."""

    id: str
    party: str
    area: PolygonArea | CircleArea
    floor_m: float
    ceiling_m: float  # math.inf: no ceiling
    active_start_s: float
    active_end_s: float
    declare: bool


# The aircraft classes an interference area may target, by aircraft type (a type not listed
# is neither a drone nor a fighter; an area may also name types themselves).
AIRCRAFT_CLASSES: dict[str, frozenset[str]] = {
    "drone": frozenset({"MQ-9", "MQ-1", "RQ-4", "RQ-170", "Orlan-10", "Forpost"}),
    "fighter": frozenset({"F-15E", "F-16", "F-22", "F-35", "Su-35", "Su-30", "Su-34", "Su-27",
                          "MiG-29"}),
}


@dataclass(frozen=True, slots=True)
class NavigationEffect:
    """Degraded navigation inside an interference area: each crossing of a targeted aircraft
    is, with ``probability``, flown displaced sideways by an offset drawn from
    ``offset_m`` (a [low, high] magnitude, by ``distribution``: uniform, triangular or
    half_normal; to the left or right at even odds)."""

    offset_m: tuple[float, float]
    probability: float = 1.0
    distribution: str = "uniform"


@dataclass(frozen=True, slots=True)
class DroneEffect:
    """Drones crossing an active area: each crossing aborts the mission (the drone flies
    home) with probability ``abort``, or loses the drone (its flight ends) with ``lost``."""

    abort: float
    lost: float


@dataclass(frozen=True, slots=True)
class HotlineEffect:
    """The hotline while an interference window is active: each item's loss probability
    and its latency (replacing the hotline's own; None: unchanged)."""

    loss: float | None
    latency_s: float | None


@dataclass(frozen=True, slots=True)
class InterferenceSpec:
    """A jamming area of ``owner``: whom it targets (parties and, if given, aircraft classes
    or types), where (an area between a floor and a ceiling), when (its active windows) and
    what it does."""

    id: str
    owner: str
    parties: tuple[str, ...]  # the parties targeted
    aircraft: tuple[str, ...]  # classes (AIRCRAFT_CLASSES) or types; (): every aircraft
    area: PolygonArea | CircleArea
    floor_m: float
    ceiling_m: float  # math.inf: no ceiling
    windows_s: tuple[tuple[float, float], ...]  # (start, end), sorted, disjoint
    navigation: NavigationEffect | None = None
    drones: DroneEffect | None = None
    hotline: HotlineEffect | None = None


@dataclass(frozen=True, slots=True)
class MinSeparationSpec:
    """Two aircraft closer than ``horizontal_m`` (and, if given, than ``vertical_m``)."""

    id: str
    horizontal_m: float
    vertical_m: float | None
    between: tuple[str, str] | None
    complaint: bool = False  # the other side complains of what it saw
    type: str = "min_separation"


@dataclass(frozen=True, slots=True)
class LaneDisciplineSpec:
    """An aircraft inside the corridor farther than ``tolerance_m`` from its party's lane."""

    id: str
    tolerance_m: float
    complaint: bool = True  # the other side complains of what it saw
    type: str = "lane_discipline"


@dataclass(frozen=True, slots=True)
class ZoneIncursionSpec:
    """An aircraft inside an active zone owned by another party."""

    id: str
    complaint: bool = True  # the other side complains of what it saw
    type: str = "zone_incursion"


class PluginRuleSpec(Protocol):
    """A rule of a type an installed package adds: its validated parameters
    (``sim.rules.RuleParameters``), SI values under the keys the file wrote."""

    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def type(self) -> str: ...  # noqa: D102
    @property
    def complaint(self) -> bool: ...  # noqa: D102


RuleSpec = MinSeparationSpec | LaneDisciplineSpec | ZoneIncursionSpec | PluginRuleSpec


@dataclass(frozen=True, slots=True)
class Reported:
    """A reported rate to compare a rule's simulated rate with (episodes a day)."""

    rule: str
    party: str | None  # None: every episode of the rule
    low_per_day: float
    high_per_day: float
    fact: str


@dataclass(frozen=True, slots=True)
class HotlineSpec:
    """The hotline between the parties' duty officers (docs/scenario-reference.md)."""

    enabled: bool
    first_call_s: float
    interval_s: float
    latency_s: float
    loss: float
    # Calls at first_call + k * interval + each offset ("three times a week": interval
    # 7 d, pattern [0 d, 2 d, 4 d]).
    pattern_s: tuple[float, ...] = (0.0,)
    adhoc_probability: float = 0.0  # a pop-up work area gets an ad-hoc call
    adhoc_delay_s: float = 3600.0  # that long after the sortie is planned


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario: every default filled, every value in SI units."""

    name: str
    file: str
    seed: int
    duration_s: float
    start: str | None
    frame: Frame
    places: Mapping[str, Point]
    corridor: Corridor | None
    lanes: tuple[Lane, ...]
    parties: Mapping[str, Party]
    flights: tuple[FlightSpec, ...]
    zones: tuple[ZoneSpec, ...]
    rules: tuple[RuleSpec, ...]
    hotline: HotlineSpec
    reported: tuple[Reported, ...] = ()
    recorded: tuple[RecordedSpec, ...] = ()
    interference: tuple[InterferenceSpec, ...] = ()  # jamming areas (issue 20)
    description: str | None = None
    # Each top-level key's typed value as loaded, with the section as the file wrote it
    # (sim.model.writer writes a section unchanged since as the file wrote it; not part of
    # the scenario's value: equal scenarios are equal whatever their files said).
    written: Mapping[str, tuple[Any, Any]] = field(default_factory=dict, compare=False,
                                                   repr=False)
    # The resource limits it was checked against, and that the run enforces (not part of
    # the scenario: they do not change its outputs, only whether it is allowed to run).
    limits: Limits = field(default=DEFAULT_LIMITS, compare=False, repr=False)

    @property
    def resolved(self) -> dict[str, Any]:
        """The scenario as run, defaults filled, as a document (``sim.model.writer``):
        derived from the typed values, so that a changed scenario gives what it runs."""
        from sim.model.writer import as_document  # the writer imports these classes

        return as_document(self)

    def resolved_yaml(self, frame_center: tuple[float, float] | None = None) -> str:
        """Return the scenario as run, defaults filled, as YAML text that reads back to
        it (``sim.model.writer``).

        ``frame_center`` (lon, lat) fills in the frame's centre when the scenario left it
        to be computed, so that the file pins the very same frame.
        """
        from sim.model.writer import scenario_yaml  # the writer imports these classes

        return scenario_yaml(self, frame_center)


