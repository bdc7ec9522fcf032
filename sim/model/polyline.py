"""Lines cut by distance along them, fast: routes are built from many pieces of a few lines.

``shapely.ops.substring`` walks the line's vertices in Python on every call, which made
it the largest cost of generating traffic (thousands of sorties, a few cuts each, of lanes
with hundreds of vertices). A ``Polyline`` walks them once, keeping each vertex's distance
along the line summed exactly as ``substring`` sums it, and then answers each cut with a
binary search and one vectorised shapely call for the two ends: the same points, bit for
bit (``tests/test_traffic.py`` checks this against ``substring`` itself). The distances and
vertices are kept as Python lists: a cut takes a few of them, and numpy's per-call cost on
such small pieces was most of a cut's.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import shapely
from shapely.geometry import LineString

Coords = list[tuple[float, float]]


@dataclass(frozen=True)
class Polyline:
    """A line and the distance along it of each of its vertices."""

    line: LineString
    length: float = field(init=False)
    _along: list[float] = field(init=False, repr=False)  # of every vertex but the last
    _xy: Coords = field(init=False, repr=False)

    def __post_init__(self) -> None:
        along, total = [], 0.0
        for (x1, y1), (x2, y2) in pairwise(self.line.coords):
            along.append(total)
            total += ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5  # as substring sums them
        object.__setattr__(self, "length", self.line.length)
        object.__setattr__(self, "_along", along)
        object.__setattr__(self, "_xy", list(map(tuple, shapely.get_coordinates(self.line)
                                                 .tolist())))

    def cut(self, start_m: float, end_m: float) -> Coords:
        """The points of ``shapely.ops.substring(line, start_m, end_m)`` (one point when
        that is a point), for distances that are not negative."""
        if start_m == end_m:
            return self.points(start_m)
        if start_m >= self.length and end_m >= self.length:
            return self.points(self.length)
        first, last = self.points(start_m, end_m)
        reverse = start_m > end_m
        low, high = (end_m, start_m) if reverse else (start_m, end_m)
        low = max(low, 0)
        # substring keeps vertex i when low < along[i] < high, along[i] rising.
        a = bisect.bisect_right(self._along, low)
        b = bisect.bisect_left(self._along, high)
        inner = self._xy[a:max(a, b)]
        if reverse:
            return [first, *inner[::-1], last]
        return [first, *inner, last]

    def points(self, *distances_m: float) -> Coords:
        """The points at these distances along the line (``LineString.interpolate``)."""
        where = shapely.line_interpolate_point(self.line, np.array(distances_m, float))
        return [(float(x), float(y)) for x, y in shapely.get_coordinates(where)]

    def project(self, x: float, y: float) -> float:
        """Distance along the line of the point nearest (x, y) (``LineString.project``)."""
        return float(shapely.line_locate_point(self.line, shapely.Point(x, y)))
