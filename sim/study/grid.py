"""Sweep grids: the axes a sweep varies, read from ``--grid`` arguments or a sweep file,
expanded into grid points whose scenarios are all validated before anything runs.

An axis sets one scenario key (``hotline.latency: ["0 min", "2 h"]``) or, in a sweep
file, several keys together under one name (a lane spacing moves both lanes and the
agreed-spacing rule). The grid is the product of the axes, in the order given.
Replication seeds come from ``SeedSequence(scenario seed).spawn``: the same seeds at
every grid point (common random numbers).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim import __version__
from sim.analysis.calibrate import replication_seeds
from sim.analysis.metrics import headline_metric_names
from sim.model.errors import InputError
from sim.model.fields import MAX_SEED
from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    parse_scenario,
    parse_yaml,
    read_yaml,
    scenario_document,
)
from sim.model.units import UNITS, Kind, QuantityError, parse_quantity
from sim.model.writer import as_document

MAX_POINTS = 10_000
MAX_REPLICATIONS = 10_000
SWEEP_FILE_KEYS = ("description", "scenario", "seed", "duration", "set", "grid",
                   "replications", "metrics")
RESERVED_COLUMNS = ("point", "replication", "seed", "version")  # of the results table
# Names a grid axis cannot take: the columns of the results store and of summary.csv.
RESERVED_NAMES = (*RESERVED_COLUMNS, "scenario_sha", "metric", "replications", "mean", "std",
                  "ci95_low", "ci95_high")
MAX_INTEGER = 2**63 - 1  # what SQLite stores as an integer


class GridError(InputError, ValueError):
    """A grid or sweep definition that cannot be run; the message names where it was given."""


@dataclass(frozen=True, slots=True)
class Axis:
    """One dimension of a grid: its name (the column in the results), the values as
    written, and for each value the scenario keys it sets."""

    name: str
    labels: tuple[Any, ...]
    settings: tuple[tuple[tuple[str, Any], ...], ...]
    source: str  # where it was given, for messages: "--grid 'k=a,b'" or "study.yaml: grid.k"

    @property
    def keys(self) -> tuple[str, ...]:
        """The scenario keys this axis sets (the same at every value)."""
        return tuple(key for key, _ in self.settings[0])


@dataclass(frozen=True, slots=True)
class Point:
    """One grid point: its index, a label per axis, and its validated scenario."""

    index: int
    labels: tuple[Any, ...]
    scenario: Scenario
    sha: str  # of the scenario as run: identifies the point's rows across grid edits


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """Everything a sweep runs: grid points x replications, expanded before anything runs."""

    name: str
    scenario_file: str
    base_sha: str
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    replications: int
    seed: int
    seeds: tuple[int, ...]
    metrics: tuple[str, ...]  # what summaries print and plots draw first (may be empty)
    version: str

    def definition(self) -> dict[str, Any]:
        """The sweep's identity as JSON: a store made for another definition is refused."""
        return {"scenario": self.base_sha, "seed": self.seed,
                "grid": [[a.name, [_jsonable(v) for v in a.labels],
                          [[[k, _jsonable(v)] for k, v in s] for s in a.settings]]
                         for a in self.axes],
                "replications": self.replications, "version": self.version}

    @property
    def size(self) -> int:
        """Rows of a finished sweep: grid points times replications."""
        return len(self.points) * self.replications


@dataclass(frozen=True, slots=True)
class SweepFile:
    """A sweep definition file, read and checked (the scenario not yet loaded)."""

    path: str
    description: str
    scenario: Path
    seed: int | None
    duration: str | None
    overrides: tuple[str, ...]
    axes: tuple[Axis, ...]
    replications: int | None
    metrics: tuple[str, ...]


def yaml_text(value: Any) -> str:
    """A value written as one line of YAML that reads back as the same value."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=10**9).strip().removesuffix("...").strip()


def parse_grid_argument(argument: str) -> Axis:
    """Read one ``--grid KEY=V1,V2,...`` argument: the values are a YAML flow sequence,
    so ``"0 min",2 h`` and ``[1, 2],[3, 4]`` both work."""
    source = f"--grid {argument!r}"
    if "=" not in argument:
        raise GridError(f"{source}: expected KEY=V1,V2,..., such as "
                        "--grid hotline.latency=\"0 min\",\"2 h\"")
    key, _, text = argument.partition("=")
    key = key.strip()
    if not key:
        raise GridError(f"{source}: no key before '='; write a dotted key path such as "
                        "hotline.latency or parties.russia.compliance")
    if not text.strip():
        raise GridError(f"{source}: no values after '='; give one or more, separated by "
                        "commas, such as hotline.latency=\"0 min\",\"2 h\"")
    try:
        values = parse_yaml(f"[{text}]", "--grid")
    except ScenarioError as exc:
        raise GridError(f"{source}: the values are not valid YAML ({exc.problems[0].message}); "
                        "separate them with commas and quote text that holds a comma") from None
    if not isinstance(values, list) or not values:
        raise GridError(f"{source}: give one or more values separated by commas")
    return _plain_axis(key, values, source)


def _plain_axis(key: str, values: Sequence[Any], source: str) -> Axis:
    _check_axis_name(key, source)
    labels = tuple(values)
    _check_labels(labels, source)
    return Axis(key, labels, tuple(((key, v),) for v in labels), source)


def _check_axis_name(name: str, source: str) -> None:
    if name in ("seed", "replication"):
        raise GridError(f"{source}: {name!r} cannot be a grid key: replication seeds come "
                        "from the scenario's seed; change that with seed=N")
    if name.lower() in RESERVED_NAMES:
        raise GridError(f"{source}: {name!r} cannot name a grid axis: it is a column of the "
                        f"results ({', '.join(RESERVED_NAMES)}); choose another name")
    if not name.strip() or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise GridError(f"{source}: {name!r} is not a key path; write a dotted key path "
                        "such as hotline.latency")


def _check_labels(labels: tuple[Any, ...], source: str) -> None:
    if len(labels) > MAX_POINTS:
        raise GridError(f"{source}: {len(labels)} values; a grid axis takes at most "
                        f"{MAX_POINTS}")
    seen: set[str] = set()
    for label in labels:
        if isinstance(label, float) and not math.isfinite(label):
            raise GridError(f"{source}: {label!r} is not a finite number")
        if isinstance(label, int) and not -MAX_INTEGER <= label <= MAX_INTEGER:
            raise GridError(f"{source}: {label} is too large a whole number (at most "
                            "2**63-1); quote it to use it as a label")
        text = json.dumps(_jsonable(label), sort_keys=True)
        if text in seen:
            raise GridError(f"{source}: the value {yaml_text(label)} is given twice; each "
                            "grid value must differ")
        seen.add(text)


def load_sweep_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> SweepFile:
    """Read and check a sweep definition file (YAML): see ``scenarios/sweeps/``."""
    name = str(path)
    document = read_yaml(path, limits)
    if not isinstance(document, dict):
        raise GridError(f"{name}: a sweep file is a mapping with keys "
                        f"{', '.join(SWEEP_FILE_KEYS)}")
    unknown = [k for k in document if k not in SWEEP_FILE_KEYS]
    if unknown:
        raise GridError(f"{name}: {unknown[0]}: unknown key; a sweep file takes "
                        f"{', '.join(SWEEP_FILE_KEYS)}")
    scenario = document.get("scenario")
    if not isinstance(scenario, str) or not scenario.strip():
        raise GridError(f"{name}: scenario: required: the scenario file, relative to this "
                        "one, such as scenario: ../euphrates_dec2017.yaml")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise GridError(f"{name}: description: write one line of text")
    seed = document.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)
                             or not 0 <= seed <= MAX_SEED):
        raise GridError(f"{name}: seed: {seed!r} is not a whole number from 0 to 2**64-1")
    duration = document.get("duration")
    if duration is not None:
        try:
            parse_quantity(duration, "duration")
        except QuantityError as exc:
            raise GridError(f"{name}: duration: {exc}") from None
    overrides = _file_overrides(name, document.get("set"))
    grid = document.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise GridError(f"{name}: grid: required: a mapping of key path to a list of values, "
                        "such as grid: {hotline.latency: [\"0 min\", \"2 h\"]}")
    axes = tuple(_file_axis(name, str(key), values) for key, values in grid.items())
    replications = document.get("replications")
    if replications is not None and (not isinstance(replications, int)
                                     or isinstance(replications, bool)
                                     or not 1 <= replications <= MAX_REPLICATIONS):
        raise GridError(f"{name}: replications: {replications!r}: give a whole number from 1 "
                        f"to {MAX_REPLICATIONS}")
    metrics = document.get("metrics", [])
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise GridError(f"{name}: metrics: a list of metric names, such as "
                        "[opposite_tracks.russia.per_day, severity.under_5nmi.per_day]")
    return SweepFile(name, description, Path(path).parent / scenario, seed,
                     duration, overrides, axes, replications, tuple(metrics))


def _file_overrides(name: str, node: Any) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, dict):
        raise GridError(f"{name}: set: a mapping of key path to value, such as "
                        "set: {hotline.loss: 0.1}")
    return tuple(f"{key}={yaml_text(value)}" for key, value in node.items())


def _file_axis(name: str, key: str, node: Any) -> Axis:
    source = f"{name}: grid.{key}"
    if isinstance(node, list):
        if not node:
            raise GridError(f"{source}: give one or more values")
        return _plain_axis(key, node, source)
    if isinstance(node, dict) and node:
        # A linked axis: label -> {key: value, ...}, every label setting the same keys.
        _check_axis_name(key, source)
        labels = tuple(node)
        _check_labels(labels, source)
        settings = []
        keys: list[str] | None = None
        for label, assignments in node.items():
            where = f"{source}.{yaml_text(label)}"
            if not isinstance(assignments, dict) or not assignments:
                raise GridError(f"{where}: a mapping of key path to value, such as "
                                "{lanes.coalition_lane.offset: \"+15 mi\"}")
            for k in assignments:
                if str(k).strip() == "seed":
                    raise GridError(f"{where}: sets seed: replication seeds come from the "
                                    "scenario's seed; change that with seed=N")
            if keys is None:
                keys = [str(k) for k in assignments]
            elif [str(k) for k in assignments] != keys:
                raise GridError(f"{where}: sets {', '.join(map(str, assignments))}; every "
                                f"value of the axis must set the same keys ({', '.join(keys)})")
            settings.append(tuple((str(k), v) for k, v in assignments.items()))
        return Axis(key, labels, tuple(settings), source)
    raise GridError(f"{source}: a list of values, such as [\"0 min\", \"2 h\"], or a mapping "
                    "of labels to the keys each one sets")


def merge_axes(first: Sequence[Axis], second: Sequence[Axis]) -> tuple[Axis, ...]:
    """The axes of ``first`` with any of the same name replaced by ``second``'s, then the
    rest of ``second`` (command-line ``--grid`` over a sweep file's grid)."""
    replacing = {a.name: a for a in second}
    merged = [replacing.pop(a.name, a) for a in first]
    return tuple(merged + [a for a in second if a.name in replacing])


def plan_sweep(scenario_file: str | Path, axes: Sequence[Axis], replications: int, *,
               overrides: Sequence[str] = (), seed: int | None = None,
               duration: str | None = None, metrics: Sequence[str] = (),
               limits: Limits = DEFAULT_LIMITS, allow_outside: bool = False) -> SweepPlan:
    """Expand a sweep: validate the base scenario and every grid point's scenario, and
    spawn the replication seeds. Raises ScenarioError for the base scenario, GridError
    for the grid (naming the ``--grid`` argument or sweep-file key and the value)."""
    if not axes:
        raise GridError("no grid: give one or more grid axes KEY=V1,V2,... (or a sweep file)")
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise GridError(f"replications={replications}: give a number from 1 to "
                        f"{MAX_REPLICATIONS}")
    _check_distinct(axes)
    _check_overrides(overrides, axes)
    count = math.prod(len(a.labels) for a in axes)
    if count > MAX_POINTS:
        raise GridError(f"the grid has {count} points; a sweep takes at most {MAX_POINTS} "
                        "(fewer values per grid axis)")
    name = str(scenario_file)
    document = scenario_document(scenario_file, overrides, seed=seed, duration=duration,
                                 limits=limits)
    default_name = Path(scenario_file).stem
    base = parse_scenario(document, name, default_name=default_name, limits=limits,
                          allow_outside=allow_outside)
    points = []
    for index, combo in enumerate(itertools.product(*(range(len(a.labels)) for a in axes))):
        point_document = document
        for axis, i in zip(axes, combo, strict=True):
            point_document = _apply(point_document, axis, i)
        try:
            scenario = parse_scenario(point_document, name, default_name=default_name,
                                      limits=limits, allow_outside=allow_outside)
        except ScenarioError as exc:
            labels = tuple(a.labels[i] for a, i in zip(axes, combo, strict=True))
            raise GridError("\n".join(
                f"{_at(axes, labels)}: {p}" for p in exc.problems[:20])) from None
        labels = tuple(a.labels[i] for a, i in zip(axes, combo, strict=True))
        points.append(Point(index, labels, scenario, scenario_sha(scenario)))
    _check_points(axes, points)
    _check_names(axes, points, metrics)
    return SweepPlan(base.name, name, scenario_sha(base), tuple(axes), tuple(points),
                     replications, base.seed, tuple(replication_seeds(base.seed, replications)),
                     tuple(metrics), __version__)


def _check_distinct(axes: Sequence[Axis]) -> None:
    names: dict[str, str] = {}
    keys: dict[str, str] = {}
    for axis in axes:
        if axis.name in names:
            raise GridError(f"{axis.source}: the grid key {axis.name} is also given by "
                            f"{names[axis.name]}; give each key once")
        names[axis.name] = axis.source
        for key in axis.keys:
            if key in keys:
                raise GridError(f"{axis.source}: sets {key}, which {keys[key]} sets too; "
                                "a key can vary along one axis only")
            keys[key] = axis.source


def _check_overrides(overrides: Sequence[str], axes: Sequence[Axis]) -> None:
    keys = {key: axis for axis in axes for key in axis.keys}
    for assignment in overrides:
        key = assignment.partition("=")[0].strip()
        if key in keys:
            raise GridError(f"override {assignment!r}: {key} is also varied by "
                            f"{keys[key].source}; the grid would override it at every point")


def _check_points(axes: Sequence[Axis], points: Sequence[Point]) -> None:
    """Two grid points that run the same scenario mean an axis that changes nothing
    (two key paths to one key, or a value repeated in other words): refused."""
    seen: dict[str, Point] = {}
    for point in points:
        twin = seen.setdefault(point.sha, point)
        if twin is not point:
            raise GridError(
                f"grid points ({_at(axes, twin.labels)}) and ({_at(axes, point.labels)}) run "
                "the same scenario: an axis changes nothing there (the same value twice, or "
                "two key paths to one key, such as rules[1] and rules.agreed_spacing); give "
                "each value, and each key, once")


def _at(axes: Sequence[Axis], labels: Sequence[Any]) -> str:
    """A grid point for messages: where each axis was given, and its value there."""
    return "; ".join(f"{a.source} at {yaml_text(v)}" for a, v in zip(axes, labels, strict=True))


def _check_names(axes: Sequence[Axis], points: Sequence[Point], metrics: Sequence[str]) -> None:
    """Axis names become columns beside the metrics' (compared without case, as SQLite
    does); the metrics asked for must be ones the sweep gives."""
    known: dict[str, str] = {}
    for point in points:
        known.update({m.lower(): m for m in headline_metric_names(point.scenario)})
    taken: dict[str, Axis] = {}
    for axis in axes:
        folded = axis.name.lower()
        if folded in known:
            raise GridError(f"{axis.source}: the axis name {axis.name} is also a metric's "
                            "column; choose another name")
        if folded in taken:
            raise GridError(f"{axis.source}: the axis {axis.name} and {taken[folded].name} "
                            f"({taken[folded].source}) would be one column (names are "
                            "compared without case); rename one")
        taken[folded] = axis
    for metric in metrics:
        if metric not in known.values():
            raise GridError(f"metric {metric}: not a metric of this sweep; choose from "
                            + ", ".join(sorted(known.values())))


def _apply(document: Any, axis: Axis, i: int) -> Any:
    for key, value in axis.settings[i]:
        try:
            document = apply_override(document, f"{key}={yaml_text(value)}")
        except ValueError as exc:
            message = str(exc).split(": ", 1)[-1]
            raise GridError(f"{axis.source}: {key}: {message}") from None
    return document


def grid_position(point: int, sizes: Sequence[int]) -> tuple[int, ...]:
    """A grid point's index along each axis (the grid is a product, the last axis
    fastest, as ``itertools.product`` gives it)."""
    at = []
    for size in reversed(sizes):
        point, i = divmod(point, size)
        at.append(i)
    return tuple(reversed(at))


def scenario_sha(scenario: Scenario) -> str:
    """A digest of the scenario as run (every default filled): equal scenarios, equal digest."""
    text = json.dumps(_jsonable(as_document(scenario)), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def axis_numbers(labels: Sequence[Any]) -> tuple[list[float], str] | None:
    """Numbers to plot an axis against, with their unit: the labels themselves when they
    are numbers; quantities of one kind in the first label's unit; else None."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels):
        return [float(v) for v in labels], ""
    if not all(isinstance(v, str) for v in labels):
        return None
    kinds: tuple[Kind, ...] = ("duration", "distance", "speed")
    for kind in kinds:
        try:
            values = [parse_quantity(v, kind).si for v in labels]
        except QuantityError:
            continue
        match = re.search(r"[A-Za-z/]+\s*$", str(labels[0]))
        unit = match.group(0).strip() if match else ""
        scale = UNITS[kind].get(unit)
        if scale is None:
            return values, {"duration": "s", "distance": "m", "speed": "m/s"}[kind]
        # 12 significant digits: "45 mi" is 45, not the 44.99999999999999 of a round trip.
        return [float(f"{v / scale:.12g}") for v in values], unit
    return None
