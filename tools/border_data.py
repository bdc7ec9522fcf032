"""Write sim/data/borders.geojson: Natural Earth's country borders and coastlines of the region.

Usage:
    npm pack world-atlas@2.0.2            # in a scratch folder; then:
    tar xzf world-atlas-2.0.2.tgz
    python tools/border_data.py package/countries-50m.json

The npm package ``world-atlas`` 2.0.2 redistributes Natural Earth 4.1.0's Admin 0 countries
(1:50m) as TopoJSON. Every arc two countries share is a land border; every arc only one
country uses is its coast. The arcs are clipped to ``BOX`` with shapely and written with
coordinates rounded to ``DIGITS`` decimals (about 100 m, well below the 1:50m scale's
precision); the same input gives the same bytes. sim/data/README.md records the source.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shapely import LineString, MultiLineString, box

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sim" / "data" / "borders.geojson"
# lon0, lat0, lon1, lat1: Syria, Iraq, Jordan, Lebanon, Israel, Turkey, Cyprus, and the
# Gulf down to Qatar (the bases of the shipped scenarios), with a margin.
BOX = (26.0, 24.0, 52.0, 42.5)
DIGITS = 3


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The topology's arcs in lon/lat: quantized, delta-encoded positions made absolute."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def arc_users(topology: dict[str, Any]) -> dict[int, list[str]]:
    """For each arc, the names of the countries whose outline uses it."""
    users: dict[int, list[str]] = {}
    for country in topology["objects"]["countries"]["geometries"]:
        rings = country.get("arcs", [])
        polygons = rings if country["type"] == "MultiPolygon" else [rings]
        name = country["properties"]["name"]
        for polygon in polygons:
            for ring in polygon:
                for index in ring:
                    arc = index if index >= 0 else ~index  # ~i: arc i reversed
                    if name not in users.setdefault(arc, []):
                        users[arc].append(name)
    return users


def features(topology: dict[str, Any]) -> list[dict[str, Any]]:
    """One feature per clipped arc piece: ``kind`` border (with its two countries) or coast."""
    arcs = decode_arcs(topology)
    frame = box(*BOX)
    out = []
    for index, names in sorted(arc_users(topology).items()):
        if len(arcs[index]) < 2:
            continue
        clipped = LineString(arcs[index]).intersection(frame)
        parts = clipped.geoms if isinstance(clipped, MultiLineString) else [clipped]
        for part in parts:
            if not isinstance(part, LineString) or part.is_empty:
                continue
            coords = [[round(x, DIGITS), round(y, DIGITS)] for x, y in part.coords]
            coords = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
            if len(coords) < 2:
                continue
            kind = "border" if len(names) > 1 else "coast"
            properties: dict[str, Any] = {"kind": kind, "countries": sorted(names)}
            out.append({"type": "Feature", "properties": properties,
                        "geometry": {"type": "LineString", "coordinates": coords}})
    return out


def main(argv: list[str]) -> int:
    """Read the TopoJSON file named on the command line and write ``OUT``."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    lines = features(topology)
    head = {"type": "FeatureCollection",
            "source": "Natural Earth 4.1.0, Admin 0 countries 1:50m (public domain), "
                      "via the npm package world-atlas 2.0.2; see sim/data/README.md",
            "bbox": list(BOX)}
    # One feature a line: compact, and a change shows as a readable diff.
    text = (json.dumps(head, separators=(",", ":"))[:-1] + ',"features":[\n'
            + ",\n".join(json.dumps(f, separators=(",", ":")) for f in lines) + "\n]}\n")
    json.loads(text)  # well formed
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(lines)} lines, {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
