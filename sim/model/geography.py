"""Space: the scenario's local frame (pyproj), points, the corridor, lanes and zones.

Everything geometric the rest of the simulator needs is resolved here once, into plain
numpy arrays in the frame (metres east and north of the frame's centre), with shapely
geometry beside them for pruning and plotting. Exact conditions are computed from the
arrays (``sim.detect``), so shapely's arc approximations never change a count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.errors
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.validation import explain_validity

from sim.model.places import builtin_centerlines, builtin_places
from sim.model.scenario import (
    CircleArea,
    FramePoint,
    InterferenceSpec,
    Lane,
    LonLat,
    PlaceRef,
    Point,
    PolygonArea,
    Problem,
    Scenario,
    ScenarioError,
    ZoneSpec,
)

WGS84 = Geod(ellps="WGS84")
# Lanes are offset curves of the centerline; round joins are approximated by this many
# segments per quarter circle (a 22.5 mi offset then stays within about 40 m of the true
# offset at bends). The lane *is* the resulting polyline: distance to it is exact.
LANE_QUAD_SEGMENTS = 32
MAX_FRAME_M = 1.0e7  # the local plane is used within 10,000 km of its centre
LONLAT = "+proj=longlat +datum=WGS84 +no_defs"  # WGS84 degrees, (lon, lat)


class LocalFrame:
    """The azimuthal equidistant projection of WGS84 centred on ``(lon, lat)``; x east, y north."""

    def __init__(self, center_lon: float, center_lat: float) -> None:
        self.center_lon = center_lon
        self.center_lat = center_lat
        crs = (f"+proj=aeqd +lat_0={center_lat!r} +lon_0={center_lon!r} +x_0=0 +y_0=0 "
               "+datum=WGS84 +units=m +no_defs")
        # WGS84 lon/lat by its PROJ string, not as EPSG:4326: the same pipelines, bit for
        # bit (tests/test_geo.py), without looking EPSG:4326 up in PROJ's database at
        # every start (0.02 s).
        self._forward = Transformer.from_crs(LONLAT, crs, always_xy=True)
        self._inverse = Transformer.from_crs(crs, LONLAT, always_xy=True)

    def to_xy(self, lon: np.ndarray | float, lat: np.ndarray | float
              ) -> tuple[np.ndarray, np.ndarray]:
        """Project WGS84 degrees to frame metres."""
        x, y = self._forward.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_lonlat(self, x: np.ndarray | float, y: np.ndarray | float
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Unproject frame metres to WGS84 degrees."""
        lon, lat = self._inverse.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, float), np.asarray(lat, float)


@dataclass(frozen=True, slots=True)
class Polyline:
    """A polyline (or several parts) in the frame, with its segments as an (n, 4) array."""

    parts: tuple[np.ndarray, ...]  # each (k, 2)
    segments: np.ndarray  # (n, 4): ax, ay, bx, by

    @classmethod
    def from_parts(cls, parts: Sequence[np.ndarray]) -> Polyline:
        """Build from point arrays; consecutive repeated points are dropped."""
        clean = []
        for part in parts:
            keep = np.ones(len(part), bool)
            keep[1:] = np.any(np.diff(part, axis=0) != 0.0, axis=1)
            clean.append(np.ascontiguousarray(part[keep], dtype=float))
        segs = [np.hstack([p[:-1], p[1:]]) for p in clean if len(p) >= 2]
        segments = np.vstack(segs) if segs else np.zeros((0, 4))
        return cls(tuple(clean), segments)

    def geometry(self) -> LineString | MultiLineString:
        """Return the polyline as shapely geometry."""
        lines = [LineString(p) for p in self.parts if len(p) >= 2]
        return lines[0] if len(lines) == 1 else MultiLineString(lines)


@dataclass(frozen=True, slots=True)
class LaneGeometry:
    """A lane resolved in the frame."""

    lane: Lane
    line: Polyline


@dataclass(frozen=True, slots=True)
class ZoneGeometry:
    """A zone resolved in the frame: a polygon ring (closed) or a circle."""

    spec: ZoneSpec
    ring: np.ndarray | None  # (k+1, 2), first point repeated at the end
    center: tuple[float, float] | None
    radius_m: float | None
    shape: Polygon  # exact for polygons; a fine approximation of circles (pruning, plots)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The area's exact bounding box (xmin, ymin, xmax, ymax)."""
        if self.center is not None and self.radius_m is not None:
            cx, cy = self.center
            return cx - self.radius_m, cy - self.radius_m, cx + self.radius_m, cy + self.radius_m
        xmin, ymin, xmax, ymax = self.shape.bounds
        return xmin, ymin, xmax, ymax


@dataclass(frozen=True, slots=True)
class JammerGeometry:
    """An interference area resolved in the frame, as a zone's area is."""

    spec: InterferenceSpec
    ring: np.ndarray | None  # (k+1, 2), first point repeated at the end
    center: tuple[float, float] | None
    radius_m: float | None
    shape: Polygon  # exact for polygons; a fine approximation of circles (plots)


@dataclass(frozen=True, slots=True)
class Geography:
    """Every place, line and area of a scenario, in its local frame."""

    frame: LocalFrame
    centerline: Polyline | None
    half_width_m: float | None
    corridor_shape: Polygon | None  # for pruning and plots only
    lanes: tuple[LaneGeometry, ...]
    zones: tuple[ZoneGeometry, ...]
    routes: dict[str, np.ndarray]  # flight id -> (k, 2)
    jammers: tuple[JammerGeometry, ...] = ()  # interference areas, in scenario order
    # What is built from this geography alone, once (each party's router): shared by the
    # copies a run makes and by every replication that reuses the geography.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def lanes_of(self, party: str) -> tuple[LaneGeometry, ...]:
        """Return the lanes of a party."""
        return tuple(g for g in self.lanes if g.lane.party == party)


def lonlat_of(point: Point, scenario: Scenario) -> tuple[float, float] | None:
    """Return a point's (lon, lat), or None when it is given in the frame."""
    if isinstance(point, LonLat):
        return point.lon, point.lat
    if isinstance(point, PlaceRef):
        local = scenario.places.get(point.name)
        if local is not None:
            return lonlat_of(local, scenario)
        return builtin_places()[point.name]
    return None


def centerline_lonlat(scenario: Scenario) -> list[tuple[float, float]] | None:
    """The corridor centerline in degrees (the built-in Euphrates without a corridor)."""
    if scenario.corridor is None:
        return list(builtin_centerlines()["euphrates"])
    if isinstance(scenario.corridor.centerline, str):
        return list(builtin_centerlines()[scenario.corridor.centerline])
    points = [lonlat_of(p, scenario) for p in scenario.corridor.centerline]
    if any(p is None for p in points):
        return None
    return [p for p in points if p is not None]


def geodesic_midpoint(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Return the point halfway along a polyline of (lon, lat), by geodesic length."""
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    azimuths, _, lengths = WGS84.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    lengths = np.atleast_1d(lengths)
    total = float(np.sum(lengths))
    if total == 0.0:
        return float(lons[0]), float(lats[0])
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    i = int(np.searchsorted(cumulative, total / 2.0, side="right") - 1)
    i = min(i, len(lengths) - 1)
    lon, lat, _ = WGS84.fwd(lons[i], lats[i], np.atleast_1d(azimuths)[i],
                            total / 2.0 - cumulative[i])
    return float(lon), float(lat)


def frame_of(scenario: Scenario) -> LocalFrame:
    """Build the scenario's local frame (its centre, or the centerline's midpoint)."""
    if scenario.frame.center is not None:
        center = lonlat_of(scenario.frame.center, scenario)
        assert center is not None  # the loader refuses frame points as the centre
        return LocalFrame(*center)
    line = centerline_lonlat(scenario)
    assert line is not None  # the loader asks for frame.center in that case
    return LocalFrame(*geodesic_midpoint(line))


def build_geography(scenario: Scenario) -> Geography:
    """Resolve every point, line and area of a scenario in its frame.

    Raises:
        ScenarioError: geometry that cannot be flown or tested (self-intersecting or
            zero-area polygons of zones and interference areas, points that do not
            project, lanes that vanish).
    """
    frame = frame_of(scenario)
    problems: list[Problem] = []
    file = scenario.file

    def xy(points: Sequence[Point], path: str) -> np.ndarray:
        out = np.empty((len(points), 2))
        for i, point in enumerate(points):
            out[i] = resolve_point(point, scenario, frame)
        far = ~np.all(np.isfinite(out) & (np.abs(out) <= MAX_FRAME_M), axis=1)
        if np.any(far):
            problems.append(Problem(file, f"{path}[{int(np.argmax(far))}]", "the point is "
                                    "more than 10000 km from the frame's centre, where the "
                                    "local plane means nothing; move it or frame.center"))
            out[far] = 0.0
        return out

    centerline = corridor_shape = None
    half_width = None
    lanes: list[LaneGeometry] = []
    if scenario.corridor is not None:
        half_width = scenario.corridor.half_width_m
        raw = scenario.corridor.centerline
        if isinstance(raw, str):
            lonlat = np.array(builtin_centerlines()[raw])
            line_xy = np.column_stack(frame.to_xy(lonlat[:, 0], lonlat[:, 1]))
            if not np.all(np.isfinite(line_xy) & (np.abs(line_xy) <= MAX_FRAME_M)):
                problems.append(Problem(file, "frame.center", "the corridor's centerline is "
                                        "more than 10000 km from the frame's centre; move "
                                        "frame.center nearer"))
                line_xy = np.zeros((0, 2))
        else:
            line_xy = xy(raw, "corridor.centerline")
        centerline = Polyline.from_parts([line_xy])
        if len(centerline.segments) == 0:
            if not problems:
                problems.append(Problem(file, "corridor.centerline", "the centerline has no "
                                        "length: give at least two different points"))
        else:
            corridor_shape = centerline.geometry().buffer(half_width, quad_segs=16)
            for lane in scenario.lanes:
                try:
                    geometry = _offset(centerline, lane.offset_m)
                except shapely.errors.GEOSException:
                    geometry = None
                if geometry is None:
                    problems.append(Problem(file, f"lanes.{lane.id}.offset", "the lane "
                                            "vanishes at this offset from the centerline; "
                                            "use a smaller offset"))
                    continue
                lanes.append(LaneGeometry(lane, geometry))

    def area(shape: PolygonArea | CircleArea, where: str
             ) -> tuple[np.ndarray | None, tuple[float, float] | None, float | None,
                        Polygon] | None:
        """An area in the frame (its closed ring, or its centre and radius, and its shape),
        or None when it is in error (the problem is recorded)."""
        if isinstance(shape, PolygonArea):
            ring = xy(shape.points, f"{where}.polygon")
            if not np.all(np.isfinite(ring)):
                return None
            polygon = Polygon(ring)
            if not polygon.is_valid or polygon.area <= 0.0:
                reason = explain_validity(polygon) if not polygon.is_valid else "zero area"
                problems.append(Problem(file, f"{where}.polygon", f"not a simple polygon "
                                        f"({reason}); list the corners in order around the "
                                        "area, without crossing edges"))
                return None
            return np.vstack([ring, ring[:1]]), None, None, polygon
        cx, cy = resolve_point(shape.center, scenario, frame)
        if not (math.isfinite(cx) and math.isfinite(cy)):
            problems.append(Problem(file, f"{where}.circle.center", "the centre does not "
                                    "project into the frame; move frame.center"))
            return None
        circle = shapely.Point(cx, cy).buffer(shape.radius_m, quad_segs=32)
        return None, (cx, cy), shape.radius_m, circle

    zones = []
    for i, zone in enumerate(scenario.zones):
        resolved = area(zone.area, f"zones[{i}].area")
        if resolved is not None:
            zones.append(ZoneGeometry(zone, *resolved))
    jammers = []
    for i, jammer in enumerate(scenario.interference):
        resolved = area(jammer.area, f"interference[{i}].area")
        if resolved is not None:
            jammers.append(JammerGeometry(jammer, *resolved))

    routes = {f.id: xy(f.route, f"flights[{i}].route") for i, f in enumerate(scenario.flights)}
    if problems:
        raise ScenarioError(problems)
    return Geography(frame, centerline, half_width, corridor_shape, tuple(lanes),
                     tuple(zones), routes, tuple(jammers))


def resolve_point(point: Point, scenario: Scenario, frame: LocalFrame) -> tuple[float, float]:
    """Return a point's (x, y) in the frame."""
    if isinstance(point, FramePoint):
        return point.x_m, point.y_m
    if isinstance(point, PlaceRef) and isinstance(scenario.places.get(point.name), FramePoint):
        local = scenario.places[point.name]
        assert isinstance(local, FramePoint)
        return local.x_m, local.y_m
    lonlat = lonlat_of(point, scenario)
    assert lonlat is not None
    x, y = frame.to_xy(lonlat[0], lonlat[1])
    return float(x), float(y)


def _offset(centerline: Polyline, offset_m: float) -> Polyline | None:
    """The centerline offset sideways; positive to the left of its direction (downstream)."""
    line = centerline.geometry()
    if offset_m == 0.0:
        return centerline
    curve = line.offset_curve(offset_m, quad_segs=LANE_QUAD_SEGMENTS, join_style="round")
    if curve.is_empty:
        return None
    parts = [np.asarray(g.coords) for g in getattr(curve, "geoms", [curve])]
    result = Polyline.from_parts(parts)
    return result if len(result.segments) else None
