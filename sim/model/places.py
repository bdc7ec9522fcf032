"""The built-in gazetteer and river centerlines, read from the package's data files.

The data files are the project's ``seeds/places.yaml`` and ``seeds/euphrates.yaml``
(linked into ``sim/data``), where every entry carries its public source.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LonLat = tuple[float, float]


def _read(name: str) -> Any:
    text = resources.files("sim").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


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
