"""The built-in gazetteer, river centerlines and country borders, read from the package's
data files.

The gazetteer and centerline are the project's ``seeds/places.yaml`` and
``seeds/euphrates.yaml`` (linked into ``sim/data``), where every entry carries its public
source; the borders are Natural Earth's (``sim/data/README.md`` says how they were made).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

LonLat = tuple[float, float]


def _read(name: str) -> Any:
    text = resources.files("sim").joinpath("data", name).read_text(encoding="utf-8")
    # libyaml's safe loader when PyYAML has it: the same values, faster. This runs at the
    # start of every command that reads a scenario (pure Python: 0.03 s for the gazetteer).
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


@lru_cache(maxsize=1)
def builtin_places() -> dict[str, LonLat]:
    """Return the built-in places as ``{name: (lon, lat)}`` in WGS84 degrees."""
    data = _read("places.yaml")["places"]
    return {name: (float(entry["lon"]), float(entry["lat"])) for name, entry in data.items()}


@lru_cache(maxsize=1)
def builtin_centerlines() -> dict[str, tuple[LonLat, ...]]:
    """Return the built-in centerlines as ``{name: ((lon, lat), ...)}``, downstream order."""
    data = _read("euphrates.yaml")
    points = tuple((float(p["lon"]), float(p["lat"])) for p in data["points"])
    return {str(data["name"]): points}


@dataclass(frozen=True, slots=True)
class BorderLine:
    """A piece of a country border (``kind`` "border", between two ``countries``) or of a
    coast ("coast", one country), its points in lon/lat degrees."""

    kind: str
    countries: tuple[str, ...]
    lonlat: np.ndarray  # (k, 2)


@lru_cache(maxsize=1)
def builtin_borders() -> tuple[tuple[float, float, float, float], tuple[BorderLine, ...]]:
    """The box the border data covers (lon0, lat0, lon1, lat1) and its lines."""
    text = resources.files("sim").joinpath("data", "borders.geojson").read_text(
        encoding="utf-8")
    data = json.loads(text)
    lon0, lat0, lon1, lat1 = (float(v) for v in data["bbox"])
    lines = []
    for feature in data["features"]:
        points = np.asarray(feature["geometry"]["coordinates"], float)
        points.setflags(write=False)  # cached and shared: nobody may change it
        lines.append(BorderLine(str(feature["properties"]["kind"]),
                                tuple(feature["properties"]["countries"]), points))
    return (lon0, lat0, lon1, lat1), tuple(lines)
