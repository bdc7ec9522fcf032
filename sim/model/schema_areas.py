"""The parts of the scenario schema that zones and interference areas share: an area (a
polygon or a circle), a ceiling checked against its floor, and a time window.

``sim.model.schema`` (zones) and ``sim.model.schema_interference`` (jamming areas) both
use them, so that an area, a ceiling or a window is written, and refused, the same way in
either.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, PlainValidator, ValidationInfo

from sim.model import fields as f
from sim.model.sections import (
    MIN_ZONE_RADIUS_M,
    PointValue,
    Section,
    field,
    points_json,
    quantity_json,
)
from sim.model.spec import Point
from sim.model.units import QuantityError, parse_quantity


def _radius(value: Any) -> float:
    radius = f.quantity("distance", 0.0, strict=True)(value)
    if radius is not None and radius < MIN_ZONE_RADIUS_M:
        f.fail_here(f"{value!r} is smaller than the smallest zone this tool draws (1 m); write "
                    "a radius such as \"15 nmi\"")
    return float(radius or 0.0)


class CircleModel(Section):
    """A circular zone area."""

    what = "a circle"
    center: PointValue = field(f.REQUIRED, "Its centre.", "point")
    radius: Annotated[float, PlainValidator(_radius), quantity_json("distance")] = field(
        f.REQUIRED, "Its radius, at least 1 m.", "distance")


AREA_FORM = ('write area: {polygon: [point, point, point, ...]} or '
             'area: {circle: {center: point, radius: "15 nmi"}}')


class AreaModel(Section):
    """A zone's area: a polygon (closing itself) or a circle, exactly one of them."""

    what = "an area"
    unfilled = frozenset({"polygon", "circle"})
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    polygon: Annotated[tuple[Point, ...] | None, PlainValidator(f.points(3, "a polygon")),
                       points_json(3)] = field(None, "Its corners, at least 3.", "points")
    circle: CircleModel | None = field(None, "A circle.", "mapping")

    @classmethod
    def _check_shape(cls, data: Any) -> None:
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in (
                "polygon", "circle"):
            f.fail_here(f"expected a polygon or a circle; {AREA_FORM}")
        if "circle" in data and data["circle"] is None:  # not "no circle": a circle of nothing
            f.fail([(("circle",), f.not_mapping(None, CircleModel.what))])


class Beside:
    """A value with the one it is checked against (a zone's ceiling with its floor)."""

    __slots__ = ("other", "value")

    def __init__(self, value: Any, other: Any) -> None:
        self.value = value
        self.other = other


def validate_ceiling(value: Any, info: ValidationInfo) -> float | None:
    """Validate a ceiling (none: no ceiling) above the floor validated before it; the
    section's ``_refine`` hands it with the floor as written (a ``Beside``)."""
    floor_text = value.other if isinstance(value, Beside) else None
    raw = value.value if isinstance(value, Beside) else value
    result = f.quantity("altitude", optional=True)(raw)
    floor = info.data.get("floor")
    if result is not None and floor is not None and result <= floor:
        f.fail_here(f"{raw!r} is not above the floor {floor_text!r}; the ceiling must be higher")
    return result


def with_floor(data: dict[str, Any]) -> dict[str, Any]:
    """A section's keys with its ceiling handed beside the floor as written (on a copy)."""
    if "ceiling" in data:
        data = dict(data)
        data["ceiling"] = Beside(data["ceiling"], data.get("floor"))
    return data


def window_problems(value: Any, form: str) -> tuple[tuple[float, float] | None, f.Found]:
    """Read one time window [start, end] (durations from the scenario's start, the start at
    or after 0 s and the end after it): the window, or its problems (``form`` says how
    to write one)."""
    if not isinstance(value, list) or len(value) != 2:
        return None, [((), f"expected a start and an end; {form}")]
    times = []
    for i, text in enumerate(value):
        try:
            times.append(parse_quantity(text, "duration").si)
        except QuantityError as exc:
            return None, [((i,), str(exc))]
    if times[0] < 0 or times[1] <= times[0]:
        return None, [((), f"the window {value!r} must start at or after 0 s and end after "
                           f"it starts; {form}")]
    return (times[0], times[1]), []
