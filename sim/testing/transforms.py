"""The same world seen another way: a scenario document moved, turned, or with its flights
and parties renamed, for the invariance checks (``sim.testing.checks``).

Only points written in the frame (``{x, y}``) can be moved: a place name or ``[lon, lat]``
is fixed on the Earth, so a document with one is refused (``ValueError``). Every function
returns a new document and leaves its argument alone.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

from sim.model.units import parse_quantity
from sim.testing.documents import distance_text

Move = Callable[[float, float], tuple[float, float]]


def move_points(document: Mapping[str, Any], move: Move) -> dict[str, Any]:
    """The document with ``move(x_m, y_m) -> (x_m, y_m)`` applied to every point: the
    flights' routes, the zones' polygons and circle centres, the corridor's centerline and
    the places written in the frame. Distances (radii, half widths, lane offsets) stay."""
    out = copy.deepcopy(dict(document))
    for n, flight in enumerate(out.get("flights") or []):
        for k, entry in enumerate(flight.get("route") or []):
            where = f"flights[{n}].route[{k}]"
            if isinstance(entry, dict) and "at" in entry:
                entry["at"] = _moved(entry["at"], move, f"{where}.at")
            else:
                flight["route"][k] = _moved(entry, move, where)
    for n, zone in enumerate(out.get("zones") or []):
        area = zone.get("area") or {}
        if area.get("polygon") is not None:
            area["polygon"] = [_moved(p, move, f"zones[{n}].area.polygon[{k}]")
                               for k, p in enumerate(area["polygon"])]
        if area.get("circle") is not None:
            circle = area["circle"]
            circle["center"] = _moved(circle["center"], move, f"zones[{n}].area.circle.center")
    corridor = out.get("corridor")
    if isinstance(corridor, dict) and corridor.get("centerline") is not None:
        corridor["centerline"] = [_moved(p, move, f"corridor.centerline[{k}]")
                                  for k, p in enumerate(_points(corridor["centerline"]))]
    for name, place in (out.get("places") or {}).items():
        if isinstance(place, dict) and set(place) == {"x", "y"}:
            out["places"][name] = _moved(place, move, f"places.{name}")
    return out


def translate_document(document: Mapping[str, Any], dx_m: float, dy_m: float
                       ) -> dict[str, Any]:
    """The document with every point moved by (``dx_m``, ``dy_m``) in the frame."""
    return move_points(document, lambda x, y: (x + dx_m, y + dy_m))


def rotate_document(document: Mapping[str, Any], angle_rad: float) -> dict[str, Any]:
    """The document with every point turned by ``angle_rad`` (counter-clockwise: from east
    towards north) about the frame's centre."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return move_points(document, lambda x, y: (c * x - s * y, s * x + c * y))


def relabel_document(document: Mapping[str, Any], flights: Mapping[str, str] | None = None,
                     parties: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The document with flight ids renamed by ``flights`` and party ids by ``parties``
    (old -> new; ids not named keep theirs): the flights, the parties, the zones' and the
    lanes' owners. Each mapping must be one to one."""
    flights, parties = dict(flights or {}), dict(parties or {})
    for what, mapping in (("flight", flights), ("party", parties)):
        if len(set(mapping.values())) != len(mapping):
            raise ValueError(f"the {what} renaming {mapping} is not one to one")
    out = copy.deepcopy(dict(document))
    for flight in out.get("flights") or []:
        flight["id"] = flights.get(flight["id"], flight["id"])
        flight["party"] = parties.get(flight["party"], flight["party"])
    out["parties"] = {parties.get(p, p): v for p, v in (out.get("parties") or {}).items()}
    for zone in out.get("zones") or []:
        zone["party"] = parties.get(zone["party"], zone["party"])
    for lane in (out.get("lanes") or {}).values():
        lane["party"] = parties.get(lane["party"], lane["party"])
    return out


def relabel_parameters(params: Mapping[str, Any], parties: Mapping[str, str]
                       ) -> dict[str, Any]:
    """A rule's parameters with the parties they name renamed: a value that is a party id,
    or a list of party ids (``between: [blue, red]``), is renamed by ``parties``."""
    def renamed(value: Any) -> Any:
        if isinstance(value, str):
            return parties.get(value, value)
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return [parties.get(v, v) for v in value]
        return value
    return {key: renamed(value) for key, value in params.items()}


def flight_ids(document: Mapping[str, Any]) -> list[str]:
    """The document's flight ids, in the order of flight indices (sorted)."""
    return sorted(str(f["id"]) for f in document.get("flights") or [])


def _points(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"the kit moves only points written in the frame, not {value!r}; "
                         "write the centerline as a list of {x, y} points")
    return value


def _moved(point: Any, move: Move, where: str) -> dict[str, str]:
    """A frame point ``{x, y}`` moved, written exactly."""
    if not (isinstance(point, dict) and set(point) == {"x", "y"}):
        raise ValueError(f"{where} is {point!r}: the kit moves only points written in the "
                         "frame, such as {x: \"1000.0 m\", y: \"-20.0 m\"}")
    x, y = move(_metres(point["x"]), _metres(point["y"]))
    return {"x": distance_text(x), "y": distance_text(y)}


def _metres(value: Any) -> float:
    return float(parse_quantity(value, "distance").si)
