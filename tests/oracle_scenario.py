"""The oracle's own reading of a scenario document: tracks, zones, lanes and limits.

The sampling oracle (``tests/oracle.py``) must not check the product against the product's
own intermediate results, so this module builds everything it samples from the scenario
document itself (the YAML values and their units) by the conventions of the README's
scenario format and ``docs/exactness.md``, written out again here: its own unit table, its
own call to pyproj for the frame (the azimuthal equidistant projection of WGS84 centred on
``frame.center``), its own waypoint times (length flown over the ground speed) and
level-offs (``climb_rate`` / ``descent_rate``), its own cut at the run's end, its own
lane offset curves (round joins, ``LANE_QUAD_SEGMENTS`` a quarter circle) and the lane
rule's default tolerance (half the least spacing between two parties' lanes).

It imports nothing from ``sim``: only numpy and pyproj. It reads the subset of the format
the property tests write (points as ``{x, y}`` or ``[lon, lat]``, explicit flights, zones,
one corridor with lanes, the three built-in rules); anything else is a ``ValueError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj

# The units of the README ("Units"), typed again here (not imported from sim.model.units).
_DISTANCE = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "mi": 1609.344, "nmi": 1852.0,
             "NM": 1852.0}
_SPEED = {"m/s": 1.0, "km/h": 1000.0 / 3600.0, "kt": 1852.0 / 3600.0, "kts": 1852.0 / 3600.0,
          "mph": 1609.344 / 3600.0, "ft/min": 0.3048 / 60.0, "fpm": 0.3048 / 60.0,
          "m/min": 1.0 / 60.0}
_DURATION = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
UNIT_FACTORS = {"distance": _DISTANCE, "altitude": _DISTANCE, "speed": _SPEED,
                "duration": _DURATION}
_TEXT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z/]+)\s*$")
# FL n is n hundred feet: n x (100 ft), one multiplication (as "250 x 100 ft" is read).
_FLIGHT_LEVEL_M = 100.0 * 0.3048
_LEVEL = re.compile(r"^\s*FL\s*(\d{1,3})\s*$")

# docs/exactness.md: a lane's round joins are drawn with this many segments a quarter circle.
LANE_QUAD_SEGMENTS = 32
# docs/exactness.md: a level change its rate makes within this (relatively) of its leg's
# time fills the leg (no level-off point).
LEVEL_OFF_TOLERANCE = 1e-9


def quantity(text: str, kind: str) -> float:
    """A quantity's SI value: ``"5 nmi"`` -> 9260.0; an altitude may be ``"FL250"``."""
    if kind == "altitude":
        level = _LEVEL.match(text)
        if level:
            return int(level.group(1)) * _FLIGHT_LEVEL_M
    match = _TEXT.match(text)
    if not match or match.group(2) not in UNIT_FACTORS[kind]:
        raise ValueError(f"the oracle cannot read {text!r} as {kind}")
    return float(match.group(1)) * UNIT_FACTORS[kind][match.group(2)]


class Frame:
    """The scenario's local plane: aeqd on WGS84 centred on ``frame.center``, x east, y north."""

    def __init__(self, center: Sequence[float]) -> None:
        lon, lat = float(center[0]), float(center[1])
        self._proj = pyproj.Proj(proj="aeqd", lat_0=lat, lon_0=lon, x_0=0.0, y_0=0.0,
                                 ellps="WGS84", datum="WGS84", units="m")

    def xy(self, point: Any) -> tuple[float, float]:
        """A point of the document (``{x, y}`` in the frame or ``[lon, lat]``) in metres."""
        if isinstance(point, Mapping):
            return quantity(point["x"], "distance"), quantity(point["y"], "distance")
        if isinstance(point, Sequence) and not isinstance(point, str) and len(point) == 2:
            x, y = self._proj(float(point[0]), float(point[1]))
            return float(x), float(y)
        raise ValueError(f"the oracle reads {{x, y}} and [lon, lat] points only, not {point!r}")

    def lonlat(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Frame metres back to degrees (for writing documents)."""
        lon, lat = self._proj(x_m, y_m, inverse=True)
        return float(lon), float(lat)


@dataclass(frozen=True, slots=True)
class Flight:
    """A flight as the oracle flies it: vertices (t, x, y, z), cut at the run's end."""

    id: str
    party: str
    speed_mps: float
    track: np.ndarray  # (n, 4); n = 0 when it never flies within the run


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone as the oracle tests it (``area`` as ``tests.oracle.inside_area`` takes it)."""

    id: str
    party: str
    area: dict[str, Any]
    floor_m: float
    ceiling_m: float
    active: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Corridor:
    """The corridor's centerline and half width, and each lane's party and polyline."""

    centerline: np.ndarray
    half_width_m: float
    lanes: dict[str, tuple[str, np.ndarray]]
    offsets_m: dict[str, tuple[str, float]]

    def lanes_of(self, party: str) -> list[np.ndarray]:
        """The polylines of a party's lanes."""
        return [line for p, line in self.lanes.values() if p == party]


def duration_s(document: Mapping[str, Any]) -> float:
    """The run's duration."""
    return quantity(document["duration"], "duration")


def frame(document: Mapping[str, Any]) -> Frame:
    """The document's frame (the property tests always write ``frame.center`` as lon, lat)."""
    return Frame(document["frame"]["center"])


def flights(document: Mapping[str, Any]) -> list[Flight]:
    """Every explicit flight, flown as docs/exactness.md says (Motion)."""
    plane, end_s = frame(document), duration_s(document)
    out = []
    for f in document.get("flights", []):
        speed = quantity(f["speed"], "speed")
        depart = quantity(f.get("depart", "0 s"), "duration")
        level = f.get("altitude")
        points, heights = [], []
        for entry in f["route"]:
            if isinstance(entry, Mapping) and "at" in entry:
                points.append(plane.xy(entry["at"]))
                heights.append(quantity(entry["altitude"], "altitude"))
            else:
                points.append(plane.xy(entry))
                heights.append(quantity(level, "altitude"))
        rates = {+1: f.get("climb_rate"), -1: f.get("descent_rate")}
        out.append(Flight(f["id"], f["party"], speed, _cut(_fly(
            points, heights, depart, speed, rates), end_s)))
    return out


def _fly(points: list[tuple[float, float]], heights: list[float], depart_s: float,
         speed_mps: float, rates: dict[int, str | None]) -> np.ndarray:
    """The vertices: each waypoint at depart + length so far / speed, with a level-off
    vertex where a rate makes the level change before the leg ends."""
    t, flown_m = depart_s, 0.0
    rows = [(t, *points[0], heights[0])]
    for k in range(1, len(points)):
        (ax, ay), (bx, by) = points[k - 1], points[k]
        leg_m = math.hypot(bx - ax, by - ay)
        leg_s = leg_m / speed_mps
        dz = heights[k] - heights[k - 1]
        rate = rates[1 if dz > 0 else -1]
        if dz != 0.0 and rate is not None:
            change_s = abs(dz) / quantity(rate, "speed")
            if change_s > leg_s * (1.0 + LEVEL_OFF_TOLERANCE):
                raise ValueError("a level change its rate cannot make: the product refuses it")
            if change_s < leg_s * (1.0 - LEVEL_OFF_TOLERANCE):
                f = change_s / leg_s
                rows.append((t + change_s, ax + f * (bx - ax), ay + f * (by - ay), heights[k]))
        flown_m += leg_m
        t = depart_s + flown_m / speed_mps
        rows.append((t, bx, by, heights[k]))
    return np.array(rows, float)


def _cut(track: np.ndarray, end_s: float) -> np.ndarray:
    """The track within the run: up to its end, a leg still flown then cut there."""
    if track[0, 0] >= end_s or track[-1, 0] == track[0, 0]:
        return np.zeros((0, 4))  # never flies a leg within the run
    keep = track[track[:, 0] <= end_s]
    if track[-1, 0] > end_s:
        k = len(keep) - 1
        a, b = track[k], track[k + 1]
        cut = a + (end_s - a[0]) / (b[0] - a[0]) * (b - a)
        cut[0] = end_s  # exactly: the interpolation may round the time a hair off
        keep = np.vstack([keep, cut])
    return keep


def zones(document: Mapping[str, Any]) -> list[Zone]:
    """Every zone: its area in the frame, floor (default 0), ceiling (default none) and
    active window (default the whole run)."""
    plane, end_s = frame(document), duration_s(document)
    out = []
    for z in document.get("zones", []):
        if "polygon" in z["area"]:
            area: dict[str, Any] = {"polygon": [plane.xy(p) for p in z["area"]["polygon"]]}
        else:
            circle = z["area"]["circle"]
            area = {"circle": (plane.xy(circle["center"]), quantity(circle["radius"],
                                                                    "distance"))}
        ceiling = z.get("ceiling")
        active = z.get("active")
        out.append(Zone(z["id"], z["party"], area, quantity(z.get("floor", "0 ft"), "altitude"),
                        math.inf if ceiling is None else quantity(ceiling, "altitude"),
                        (0.0, end_s) if active is None else
                        (quantity(active[0], "duration"), quantity(active[1], "duration"))))
    return out


def corridor(document: Mapping[str, Any]) -> Corridor:
    """The corridor and its lanes: each lane the centerline's offset curve, positive to the
    left of a traveller going downstream (the centerline's own direction)."""
    plane = frame(document)
    raw = document["corridor"]
    line = np.array([plane.xy(p) for p in raw["centerline"]], float)
    lanes, offsets = {}, {}
    for ident, lane in (document.get("lanes") or {}).items():
        offset = quantity(lane["offset"], "distance")
        offsets[ident] = (lane["party"], offset)
        lanes[ident] = (lane["party"], offset_curve(line, offset))
    return Corridor(line, quantity(raw["half_width"], "distance"), lanes, offsets)


def lane_tolerance_m(document: Mapping[str, Any], rule: Mapping[str, Any]) -> float:
    """The lane rule's tolerance: as written, or half the least spacing between a lane of
    one party and a lane of another."""
    if rule.get("tolerance") is not None:
        return quantity(rule["tolerance"], "distance")
    offsets = list(corridor(document).offsets_m.values())
    spacings = [abs(a - b) for p, a in offsets for q, b in offsets if p != q and a != b]
    return min(spacings) / 2.0


def separation_limits(rule: Mapping[str, Any]) -> tuple[float, float | None]:
    """A separation rule's horizontal and (or None) vertical limits."""
    vertical = rule.get("vertical")
    return (quantity(rule["horizontal"], "distance"),
            None if vertical is None else quantity(vertical, "distance"))


# --------------------------------------------------------------------------- lanes


def offset_curve(line: np.ndarray, offset_m: float,
                 quad_segments: int = LANE_QUAD_SEGMENTS) -> np.ndarray:
    """A polyline offset sideways by ``offset_m`` (positive: to its left).

    Each segment moves along its normal; on the outside of a bend the two moved segments
    are joined by an arc round the vertex, cut into the fewest equal pieces no wider than
    a quarter circle over ``quad_segments``; on the inside they meet where they cross.

    Raises:
        ValueError: If an inside bend eats a whole moved segment (the curve would fold;
            the property tests draw centerlines where it does not).
    """
    pts = line[np.r_[True, np.any(np.diff(line, axis=0) != 0.0, axis=1)]]
    if offset_m == 0.0:
        return pts
    u = np.diff(pts, axis=0)
    u = u / np.hypot(u[:, 0], u[:, 1])[:, None]
    normal = np.column_stack([-u[:, 1], u[:, 0]]) * offset_m
    a, b = pts[:-1] + normal, pts[1:] + normal
    out = [a[0]]
    # GEOS (as JTS) draws an offset curve's joins with at least 8 segments a quarter circle.
    quantum = math.pi / 2.0 / max(quad_segments, 8)
    for i in range(len(u) - 1):
        cross = u[i, 0] * u[i + 1, 1] - u[i, 1] * u[i + 1, 0]
        dot = float(u[i] @ u[i + 1])
        if cross == 0.0 and dot > 0.0:
            out.append(b[i])
        elif cross * offset_m < 0.0 or (cross == 0.0 and dot < 0.0):
            # Outside of the bend: an arc from this segment's end to the next one's start.
            # GEOS joins ends closer than 1e-3 of the offset at one of them alone: the first
            # it meets going round the buffer, which walks a right-hand side backwards.
            if math.hypot(*(a[i + 1] - b[i])) < 1e-3 * abs(offset_m):
                out.append(b[i] if offset_m > 0.0 else a[i + 1])
                continue
            centre = pts[i + 1]
            start = math.atan2(b[i, 1] - centre[1], b[i, 0] - centre[0])
            turn = math.atan2(cross, dot)  # signed angle from u[i] to u[i + 1]
            # The nearest whole number of pieces of (about) one quantum each, as GEOS does.
            pieces = max(1, int(abs(turn) / quantum + 0.5))
            out.append(b[i])
            for k in range(1, pieces):
                angle = start + turn * k / pieces
                out.append(centre + abs(offset_m) * np.array([math.cos(angle), math.sin(angle)]))
            out.append(a[i + 1])
        else:
            # Inside of the bend: where the two moved segments cross.
            d1, d2 = b[i] - a[i], b[i + 1] - a[i + 1]
            det = d1[0] * -d2[1] - d1[1] * -d2[0]
            rhs = a[i + 1] - a[i]
            with np.errstate(divide="ignore", invalid="ignore"):  # parallel: no crossing
                s = (rhs[0] * -d2[1] - rhs[1] * -d2[0]) / det
                r = (d1[0] * rhs[1] - d1[1] * rhs[0]) / det
            if not (0.0 < s < 1.0 and 0.0 < r < 1.0):
                raise ValueError("an inside bend eats a whole offset segment")
            out.append(a[i] + s * d1)
    out.append(b[-1])
    return np.array(out, float)
