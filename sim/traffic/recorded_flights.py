"""A scenario's ``recorded:`` entries as flights: each file read, each track a plan.

The files are read with ``sim.traffic.recorded`` (every entry's problems collected
before any is raised) and kept while they are unchanged, so that ``deconflict validate``,
the run and its replications read each file once. The tracks become plans that fly
exactly through their reports in the run's frame, beside the explicit flights.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.model.geography import MAX_FRAME_M, Geography
from sim.model.scenario import Problem, RecordedSpec, Scenario, ScenarioError
from sim.traffic.plans import FlightPlan
from sim.traffic.recorded import RecordedTrack, read_recorded, recorded_plans
from sim.traffic.recorded_columns import MAX_LISTED

CACHED_FILES = 16


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """One entry read: its spec and its tracks."""

    spec: RecordedSpec
    tracks: tuple[RecordedTrack, ...]

    @property
    def reports(self) -> int:
        """The reports its tracks fly through."""
        return sum(len(t.t_s) for t in self.tracks)


def read_entries(scenario: Scenario) -> list[RecordedFile]:
    """Every recorded entry of the scenario, read.

    Raises:
        ScenarioError: every problem of every entry's file (the reader's: naming the
            scenario file, the entry's key path, the data file, rows and columns).
    """
    problems: list[Problem] = []
    read = []
    for spec in scenario.recorded:
        try:
            read.append(RecordedFile(spec, _read(spec, scenario.start, scenario.file)))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return read


def _read(spec: RecordedSpec, start: str | None, scenario_file: str
          ) -> tuple[RecordedTrack, ...]:
    path = Path(spec.path)
    try:
        stat = os.stat(path)
        # The file's size and time of change tell a changed file from the one cached.
        version: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
    except OSError:
        version = None  # the reader says what is wrong
    return _cached(spec, start, scenario_file, version)


@functools.lru_cache(maxsize=CACHED_FILES)
def _cached(spec: RecordedSpec, start: str | None, scenario_file: str,
            version: tuple[int, int] | None) -> tuple[RecordedTrack, ...]:
    return tuple(read_recorded(
        Path(spec.path), fmt=spec.format, columns=dict(spec.columns) or None,
        altitude_unit=spec.altitude_unit, start_utc=start, max_gap_s=spec.max_gap_s,
        max_speed_mps=spec.max_speed_mps, key_path=spec.key_path,
        scenario_file=scenario_file))


def recorded_flights(scenario: Scenario, geography: Geography,
                     explicit: Sequence[FlightPlan] = ()) -> list[FlightPlan]:
    """The recorded entries' tracks as plans in the frame, flown beside ``explicit``.

    Raises:
        ScenarioError: a file's problems; a report more than 10000 km from the frame's
            centre; a flight id used twice (by two entries, or by an explicit flight); more
            flights or waypoints than the limits.
    """
    problems: list[Problem] = []
    plans: list[FlightPlan] = []
    seen = {p.id: f"flights[{i}].id" for i, p in enumerate(explicit)}
    for entry in read_entries(scenario):
        spec = entry.spec
        made = recorded_plans(entry.tracks, spec.party, geography.frame)
        clashes: dict[str, list[str]] = {}
        for track, plan in zip(entry.tracks, made, strict=True):
            far = ~np.all(np.isfinite(plan.route_xy) & (np.abs(plan.route_xy) <= MAX_FRAME_M),
                          axis=1)
            if np.any(far):
                rows = np.flatnonzero(far)[:MAX_LISTED]
                shown = ", ".join(str(int(track.rows[k])) if track.rows is not None
                                  else f"report {k + 1}" for k in rows)
                problems.append(Problem(scenario.file, f"{spec.key_path}.file", (
                    f"{spec.file}: row{'s' * (len(rows) > 1)} {shown} ({track.id}) "
                    f"{'are' if len(rows) > 1 else 'is'} more than 10000 km from the frame's "
                    "centre, where the local plane means nothing; remove those reports or "
                    "move frame.center")))
            where = f"{spec.key_path} ({spec.file})"
            if plan.id in seen:
                clashes.setdefault(seen[plan.id], []).append(plan.id)
            else:
                seen[plan.id] = where
        for other, ids in clashes.items():
            problems.append(Problem(scenario.file, f"{spec.key_path}.file", (
                f"{spec.file}: {len(ids):,} flight id{'s' * (len(ids) > 1)} "
                f"({', '.join(map(repr, ids[:MAX_LISTED]))}"
                f"{', ...' if len(ids) > MAX_LISTED else ''}) "
                f"{'are' if len(ids) > 1 else 'is'} also used at {other}; flight ids must be "
                "unique: rename the flights or the aircraft in the file")))
        plans += made
    problems += _limit_problems(scenario, explicit, plans)
    if problems:
        raise ScenarioError(problems)
    return plans


def _limit_problems(scenario: Scenario, explicit: Sequence[FlightPlan],
                    plans: Sequence[FlightPlan]) -> list[Problem]:
    limits = scenario.limits
    if not plans:
        return []
    path = f"{scenario.recorded[0].key_path}.file"
    flights = len(explicit) + len(plans)
    if flights > limits.flights:
        return [Problem(scenario.file, path, (
            f"the recorded files give {len(plans):,} flights ({flights:,} with the written "
            f"ones), more than the limit of {limits.flights:,}; split the files (or raise "
            "the limit: Limits(flights=N))"))]
    points = sum(len(p.route_xy) for p in explicit) + sum(len(p.route_xy) for p in plans)
    if points > limits.waypoints:
        return [Problem(scenario.file, path, (
            f"the recorded files' tracks have {points - sum(len(p.route_xy) for p in explicit):,} "
            f"reports ({points:,} waypoints with the written flights), more than the limit of "
            f"{limits.waypoints:,}; split the files (or raise the limit: "
            "Limits(waypoints=N))"))]
    return []
