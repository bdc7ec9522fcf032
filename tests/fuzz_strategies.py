"""Hypothesis strategies for fuzzing scenario input, and the oracle that judges a run.

Shared by the CI suite (``tests/test_fuzz.py``) and the on-demand campaign
(``tools/fuzz_campaign.py``).

* ``scenario_documents()`` draws small **valid** scenarios: two or three parties, a few
  explicit flights, durations of 1 h to 1 d, and optionally places, a corridor with lanes,
  zones, rules, a hotline, reported rates and generated sorties (small sorties_per_day).
* ``fuzz_cases()`` draws a ``FuzzCase``: a valid scenario as it is, or mutated. Structured
  mutations work on the nested document at a random key path (``mutate``): wrong types,
  missing and unknown keys, unknown names and units, absurd magnitudes, NaN and
  infinities, empty lists and maps, degenerate geometry, duplicate ids, deep nesting,
  long strings, unicode, non-text keys, values at the legal limits. Raw mutations work on
  the file's bytes: non-UTF-8, binary garbage, truncation, YAML tags and other YAML
  features (aliases, merge keys, duplicate keys, several documents, tabs...).
* ``check_case()`` writes a case to a file, runs ``deconflict validate`` and ``deconflict
  run`` on it in this process (``sim.cli.main``) under a wall-clock alarm and an address
  space limit, and returns an ``Outcome``: exit 0 with a complete run folder, or exit 2
  with a message naming the file and a key path and nothing written; anything else is a
  failure with a ``kind`` (``exit-1``, ``traceback``, ``hang``, ``memory``, ``no-key``,
  ``written-on-error``, ``incomplete-run``, ``inconsistent``, ``valid-refused``, ...).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
import resource
import signal
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

KeyPath = tuple[Any, ...]

# ---------------------------------------------------------------------------- vocabulary

PARTY_IDS = ("coalition", "russia", "turkey")
REGION_PLACES = ("raqqa", "tabqa", "maadan", "deir_ez_zor", "mayadin", "abu_kamal",
                 "palmyra", "t4", "manbij", "tishrin_dam", "al_tanf", "hajin")
BASES = ("incirlik", "hmeimim", "t4", "shayrat", "tabqa")
DURATIONS = ("1 h", "90 min", "3 h", "6 h", "12 h", "1 d")
TOP_KEYS = ("name", "description", "seed", "duration", "start", "frame", "places", "corridor",
            "lanes", "parties", "flights", "zones", "rules", "hotline", "reported")
SPEED_TEXTS = ("200 m/s", "450 kt", "800 km/h", "300 mph", "480 kts")
ALTITUDE_TEXTS = ("FL250", "FL100", "3000 m", "25000 ft", "FL300")
QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z/]+)\s*$")
FLIGHT_LEVEL = re.compile(r"^\s*FL\s*\d{1,3}\s*$")
SENTINEL = "FUZZ_SENTINEL_Q7"


def _km(value: float) -> str:
    return f"{value:g} km"


# ---------------------------------------------------------------------------- valid scenarios


@st.composite
def lonlats(draw: st.DrawFn) -> list[float]:
    """A [lon, lat] over the middle Euphrates."""
    return [draw(st.integers(38_000, 41_000)) / 1000.0, draw(st.integers(34_300, 36_500)) / 1000.0]


@st.composite
def frame_points(draw: st.DrawFn, reach_km: int = 150) -> dict[str, str]:
    """A point {x, y} in the frame, within ``reach_km`` of its centre."""
    unit = draw(st.sampled_from(["km", "km", "nmi", "mi", "m"]))
    scale = {"km": 1.0, "nmi": 1 / 1.852, "mi": 1 / 1.609344, "m": 1000.0}[unit]
    x = draw(st.integers(-reach_km, reach_km)) * scale
    y = draw(st.integers(-reach_km, reach_km)) * scale
    return {"x": f"{x:.6g} {unit}", "y": f"{y:.6g} {unit}"}


def points(names: tuple[str, ...] = REGION_PLACES) -> st.SearchStrategy[Any]:
    """A point in any of the three forms: a place name, [lon, lat], or {x, y}."""
    return st.one_of(st.sampled_from(names), lonlats(), frame_points())


@st.composite
def polygon_areas(draw: st.DrawFn) -> dict[str, Any]:
    """A simple (star-shaped) polygon of 3 to 7 corners, radius 5 to 40 km."""
    cx, cy = draw(st.integers(-100, 100)), draw(st.integers(-100, 100))
    n = draw(st.integers(3, 7))
    step = 2 * math.pi / n
    turn = draw(st.integers(0, 359)) * math.pi / 180
    ring = []
    for k in range(n):
        angle = turn + k * step + draw(st.integers(-40, 40)) / 100 * step
        radius = draw(st.integers(5, 40))
        ring.append({"x": f"{cx + radius * math.cos(angle):.3f} km",
                     "y": f"{cy + radius * math.sin(angle):.3f} km"})
    return {"polygon": ring}


@st.composite
def circle_areas(draw: st.DrawFn, names: tuple[str, ...] = REGION_PLACES) -> dict[str, Any]:
    return {"circle": {"center": draw(points(names)),
                       "radius": draw(st.sampled_from(["5 km", "15 nmi", "30 km", "8 mi"]))}}


@st.composite
def zone_documents(draw: st.DrawFn, ident: str, parties: list[str], duration_h: float,
                   names: tuple[str, ...]) -> dict[str, Any]:
    zone: dict[str, Any] = {"id": ident, "party": draw(st.sampled_from(parties)),
                            "area": draw(st.one_of(polygon_areas(), circle_areas(names)))}
    if draw(st.booleans()):
        zone["floor"] = draw(st.sampled_from(["0 ft", "FL100", "3000 m"]))
    if draw(st.booleans()):
        zone["ceiling"] = draw(st.sampled_from(["FL450", "15000 m"]))
    if draw(st.booleans()):
        start = draw(st.integers(0, max(int(duration_h * 60) - 1, 0)))
        zone["active"] = [f"{start} min", f"{start + draw(st.integers(1, 600))} min"]
    if draw(st.booleans()):
        zone["declare"] = draw(st.booleans())
    return zone


@st.composite
def flight_documents(draw: st.DrawFn, ident: str, parties: list[str], names: tuple[str, ...]
                     ) -> dict[str, Any]:
    flight: dict[str, Any] = {"id": ident, "party": draw(st.sampled_from(parties))}
    if draw(st.booleans()):
        flight["depart"] = draw(st.sampled_from(["0 s", "5 min", "30 min", "2 h"]))
    flight["speed"] = draw(st.sampled_from(SPEED_TEXTS))
    flight["altitude"] = draw(st.sampled_from(ALTITUDE_TEXTS))
    flight["route"] = draw(st.lists(points(names), min_size=2, max_size=4))
    return flight


@st.composite
def sortie_settings(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, Any]:
    """Sortie generation for a party: small sorties_per_day, one or two missions."""
    settings: dict[str, Any] = {"sorties_per_day": draw(st.sampled_from([1, 2, 3, 5, 8, 2.5]))}
    bases = draw(st.lists(st.sampled_from(BASES), min_size=1, max_size=2, unique=True))
    settings["bases"] = (bases if draw(st.booleans())
                         else {b: draw(st.integers(1, 3)) for b in bases})
    settings["aircraft"] = [
        {"type": draw(st.sampled_from(["F-16", "Su-24", "MQ-9"])),
         "speed": draw(st.sampled_from(["450 kt", "350 kt", "170 kt"])),
         "altitude": draw(st.sampled_from([["FL150", "FL250"], "FL200", ["3000 m", "FL150"]])),
         "share": draw(st.sampled_from([1, 0.5, 2]))}
        for _ in range(draw(st.integers(1, 2)))]
    missions = []
    for _ in range(draw(st.integers(1, 2))):
        mission: dict[str, Any] = {"area": draw(points(names))}
        if draw(st.booleans()):
            mission["time_on_station"] = draw(st.sampled_from([["20 min", "40 min"], "30 min"]))
        if draw(st.booleans()):
            mission["racetrack"] = {"length": draw(st.sampled_from(["30 km", "10 nmi"])),
                                    "width": draw(st.sampled_from(["8 km", "3 nmi"]))}
        if draw(st.booleans()):
            mission["share"] = draw(st.sampled_from([1, 0.3]))
        missions.append(mission)
    settings["missions"] = missions
    if draw(st.booleans()):
        settings["compliance"] = draw(st.sampled_from([1.0, 0.8, 0.5, 0]))
    if draw(st.booleans()):
        settings["deviations"] = {
            "shortcut": {"weight": draw(st.sampled_from([0, 1, 0.45]))},
            "drift": {"weight": 1, "length": ["20 km", "60 km"], "beyond": ["2 km", "20 km"]},
            "close_approach": {"weight": draw(st.sampled_from([0, 0.25])),
                               "miss": ["50 m", "3 km"], "vertical": "300 ft", "reach": "150 km"}}
    if draw(st.booleans()):
        settings["planning"] = {"avoid": draw(st.booleans()), "margin": "2 nmi",
                                "when_blocked": draw(st.sampled_from(["delay", "drop"])),
                                "max_delay": "6 h", "lead": ["2 h", "26 h"]}
    if draw(st.booleans()):
        settings["work_areas"] = {"enabled": draw(st.booleans()), "buffer": "5 nmi",
                                  "vertical_buffer": "1000 ft", "declare": draw(st.booleans())}
    if draw(st.booleans()):
        settings["daily_profile"] = draw(st.sampled_from(
            ["flat", [1] * 12 + [2] * 12, [0] * 23 + [1]]))
    if draw(st.booleans()):
        settings["lane_entry"] = ["60 km", "150 km"]
        settings["lane_exit"] = "80 km"
    if draw(st.booleans()):
        settings["altitude_step"] = draw(st.sampled_from(["1000 ft", "500 m", "0 m"]))
    return settings


@st.composite
def scenario_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid scenario document (a dict, as read from YAML)."""
    parties = list(PARTY_IDS[:draw(st.integers(2, 3))])
    duration = draw(st.sampled_from(DURATIONS))
    duration_h = {"1 h": 1, "90 min": 1.5, "3 h": 3, "6 h": 6, "12 h": 12, "1 d": 24}[duration]
    doc: dict[str, Any] = {"name": draw(st.sampled_from(["fuzz", "fuzz-case", "Fuzz case 1"])),
                           "seed": draw(st.integers(0, 2**32)), "duration": duration}
    if draw(st.booleans()):
        doc["description"] = "a generated scenario"
    if draw(st.booleans()):
        doc["start"] = draw(st.sampled_from(["2017-12-01T00:00:00Z", "2017-12-13T06:00:00Z"]))
    names = REGION_PLACES
    if draw(st.booleans()):
        doc["places"] = {"fob": draw(lonlats()), "pt": draw(frame_points())}
        names = (*REGION_PLACES, "fob", "pt")
    has_frame = draw(st.integers(0, 4)) > 0
    if has_frame:
        doc["frame"] = {"center": draw(st.sampled_from(
            [[39.5, 35.8], "deir_ez_zor", "raqqa", [40.0, 35.3], "fob" if "places" in doc
             else "maadan"]))}
    lanes: dict[str, Any] = {}
    if draw(st.booleans()):
        if has_frame and draw(st.booleans()):
            line = [{"x": "-100 km", "y": "0 km"}, {"x": "100 km", "y": "0 km"}]
            if draw(st.booleans()):
                line.insert(1, {"x": "0 km", "y": f"{draw(st.integers(-30, 30))} km"})
            centerline: Any = line
        else:
            centerline = "euphrates"
        half_width = draw(st.integers(20, 60))
        doc["corridor"] = {"centerline": centerline, "half_width": _km(half_width)}
        if draw(st.booleans()):
            offset = draw(st.integers(5, 25))
            lanes = {f"{parties[0]}_lane": {"party": parties[0], "offset": f"+{offset} km",
                                            "direction": "downstream"},
                     f"{parties[1]}_lane": {"party": parties[1], "offset": f"-{offset} km",
                                            "direction": "upstream"}}
            doc["lanes"] = lanes
    doc["parties"] = {p: draw(st.sampled_from([None, {}])) for p in parties}
    for p in parties:
        if draw(st.integers(0, 3)) == 0:
            doc["parties"][p] = draw(sortie_settings(names))
    doc["flights"] = [draw(flight_documents(f"F{k + 1}", parties, names))
                      for k in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        doc["zones"] = [draw(zone_documents(f"Z{k + 1}", parties, duration_h, names))
                        for k in range(draw(st.integers(1, 3)))]
    rules: list[dict[str, Any]] = []
    for k in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["min_separation", "zone_incursion", "lane_discipline"]))
        if kind == "lane_discipline" and not lanes:
            kind = "min_separation"
        rule: dict[str, Any] = {"id": f"r{k}", "type": kind}
        if kind == "min_separation":
            rule["horizontal"] = draw(st.sampled_from(["5 nmi", "45 mi", "500 ft", "20 km"]))
            if draw(st.booleans()):
                rule["vertical"] = draw(st.sampled_from(["1000 ft", "100 ft"]))
            if draw(st.booleans()):
                rule["between"] = draw(st.lists(st.sampled_from(parties), min_size=2,
                                                max_size=2))
        elif kind == "lane_discipline" and draw(st.booleans()):
            rule["tolerance"] = draw(st.sampled_from(["10 km", "5 mi"]))
        if draw(st.integers(0, 3)) == 0:
            rule["complaint"] = draw(st.booleans())
        rules.append(rule)
    if rules or draw(st.booleans()):
        doc["rules"] = rules
    if draw(st.booleans()):
        hotline: dict[str, Any] = {"enabled": draw(st.booleans())}
        for key, choices in (("first_call", ["0 s", "5 min", "1 h", "6 h"]),
                             ("interval", ["1 h", "6 h", "24 h"]),
                             ("latency", ["0 s", "5 min", "30 min"])):
            if draw(st.booleans()):
                hotline[key] = draw(st.sampled_from(choices))
        if draw(st.booleans()):
            hotline["loss"] = draw(st.sampled_from([0, 0.05, 0.5, 1]))
        if draw(st.booleans()):
            hotline["pattern"] = draw(st.sampled_from([["0 s"], ["0 s", "30 min"]]))
        if draw(st.booleans()):
            hotline["adhoc"] = {"probability": draw(st.sampled_from([0, 0.5, 1])),
                                "delay": "1 h"}
        doc["hotline"] = hotline
    if rules and draw(st.integers(0, 3)) == 0:
        doc["reported"] = [{"rule": rules[0]["id"], "party": parties[0], "per_day": [1, 3],
                            "fact": "x"}]
    return doc


# ---------------------------------------------------------------------------- key paths


def walk(node: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path in a document, the root first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, (*prefix, i))


def get_at(doc: Any, path: KeyPath) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def set_at(doc: Any, path: KeyPath, value: Any) -> Any:
    """Set the value at ``path`` (the root when empty); return the (new) document."""
    if not path:
        return value
    get_at(doc, path[:-1])[path[-1]] = value
    return doc


def delete_at(doc: Any, path: KeyPath) -> Any:
    if not path:
        return None
    del get_at(doc, path[:-1])[path[-1]]
    return doc


def rename_key(doc: Any, path: KeyPath, new_key: Any) -> Any:
    """Rename the last key of ``path`` (a mapping key) in place, keeping the order."""
    parent = get_at(doc, path[:-1])
    items = [((new_key if k == path[-1] else k), v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return doc


def path_text(path: KeyPath) -> str:
    """``("flights", 0, "route", 1)`` -> ``flights[0].route[1]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def is_quantity_text(value: Any) -> bool:
    return isinstance(value, str) and bool(QUANTITY.match(value) or FLIGHT_LEVEL.match(value))


def _unit_of(text: str) -> str:
    match = QUANTITY.match(text)
    return match.group(2) if match else "ft"


# ---------------------------------------------------------------------------- rendering


def render(doc: Any) -> str:
    """A document as YAML text (block style, unicode kept)."""
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


def render_with(doc: Any, path: KeyPath, snippet: str) -> str:
    """The document as YAML, with the value at ``path`` replaced by raw YAML ``snippet``
    (one line, flow style): a way to write tags, aliases, duplicate keys and the like."""
    doc = copy.deepcopy(doc)
    doc = set_at(doc, path, SENTINEL)
    return render(doc).replace(SENTINEL, snippet, 1)


def flow(value: Any) -> str:
    """A value as one line of flow YAML."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=10**9).strip().removesuffix("...").strip()


# ---------------------------------------------------------------------------- cases


@dataclass
class FuzzCase:
    """One scenario file to feed to the CLI."""

    category: str  # valid | mutation:<kind> | raw:<kind> | stacked
    data: bytes  # the file's bytes
    notes: list[str] = field(default_factory=list)  # what was done, for the report
    filename: str = "s.yaml"
    structured: bool = True  # the text is YAML of a mapping made by the generator

    def __repr__(self) -> str:
        shown = self.data[:3000].decode("utf-8", "backslashreplace")
        more = f"\n... ({len(self.data)} bytes)" if len(self.data) > 3000 else ""
        return (f"FuzzCase({self.category}, file={self.filename!r}, notes={self.notes})\n"
                f"{shown}{more}")


weird_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.sampled_from(
        [0, -1, 1, 2**63, 2**64, 10**400, -(10**400), 0.5, -0.0, 1e308, 5e-324,
         math.nan, math.inf, -math.inf, "", " ", "0", "yes", "null", "~", "1 h", "FL250",
         "raqqa", "450 kt"]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
weird_values = st.one_of(
    weird_scalars,
    st.lists(weird_scalars, max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(["id", "x", "polygon"])),
                    weird_scalars, max_size=2),
    st.sampled_from([[], {}, [[]], [{}], {"x": {}}, [None, None]]))

TYPO_OPS = ("drop", "swap", "double", "case", "suffix")


def typo(text: str, k: int, op: str) -> str:
    if not text:
        return "x"
    k %= len(text)
    if op == "drop" and len(text) > 1:
        return text[:k] + text[k + 1:]
    if op == "swap" and len(text) > 1:
        j = min(k + 1, len(text) - 1)
        chars = list(text)
        chars[k], chars[j] = chars[j], chars[k]
        swapped = "".join(chars)
        return swapped if swapped != text else text + "x"
    if op == "double":
        return text[:k] + text[k] + text[k:]
    if op == "case":
        changed = text.swapcase()
        return changed if changed != text else text + "_"
    return text + "_2"


UNICODE_TEXTS = ("Ж1", "飞机", "✈️", "é", "e\u0301", "\u202eabc", "ا", "𝔸", "x\u200by",
                 "Z\u00a01", "a\u2028b", "a\x85b", "tab\there", "nul\x00x", "\x1b[31mred",
                 "cr\rx", "\ufeffbom", "İ", "ß", "0xFF", "-x", ".x", "x" * 64, "y" * 65)
BAD_UNIT_TEXTS = ("{n}", "{n} parsecs", "{n} knots", "{n} KM", "{n} Km", "{n} m/s/s",
                  "{n}km/h", "{n} sec", "{n} hours", "{n} %", "{n} FL", "FL{n}", "FL 1000",
                  "FL-5", "{n} ㎞", "{n} m m", "m {n}", "{n} kt", "{n} h", "{n} km", "{n} ft",
                  "{n} d", "{n} mph", "{n} NM")
ABSURD_NUMBERS = ("1e308", "-5", "0", "1e20", "-1e308", "1e-320", "-0", "1e309", "9e15",
                  "20000.001", "1e-9", "99999999999999999999999", "0.0000001", "+7", ".5",
                  "5.", "1E3")
NONFINITE_VALUES: tuple[Any, ...] = (math.nan, math.inf, -math.inf, "nan {u}", "inf {u}",
                                     "-inf {u}", "NaN {u}", "infinity {u}", ".nan", ".inf",
                                     "nan", "Infinity")
BOUNDARY_EDITS: tuple[tuple[KeyPath, Any], ...] = (
    (("duration",), "1 s"), (("duration",), "365000 d"), (("duration",), "365250 d"),
    (("duration",), "0.999 s"), (("duration",), "8766000 h"), (("seed",), 2**64 - 1),
    (("seed",), 0), (("hotline",), {"interval": "5 min"}), (("hotline",), {"interval": "1 s"}),
    (("start",), "0001-01-01T00:00:00+14:00"), (("start",), "9999-12-31T23:59:59-12:00"),
    (("start",), "2017-12-01"), (("start",), "2017-12-01T00:00:00.123456789Z"),
    (("name",), "n" * 100), (("name",), "a/b"), (("name",), ".."), (("name",), "-"),
    (("corridor",), {"centerline": "euphrates", "half_width": "20000 km"}),
    (("corridor",), {"centerline": "euphrates", "half_width": "1 m"}),
    (("corridor",), {"centerline": "euphrates", "half_width": "1e-300 m"}),
)

GEOMETRY_KINDS = ("zero-area", "collinear", "bow-tie", "one-point", "two-points",
                  "repeated-corner", "closed-ring", "huge-polygon", "tiny-polygon",
                  "zero-radius", "tiny-radius", "huge-radius", "route-all-equal",
                  "route-one-point", "route-two-equal", "route-back-and-forth",
                  "centerline-all-equal", "centerline-one-point", "centerline-zigzag",
                  "lane-huge-offset", "lane-zero-offset", "lanes-same-offset", "pole-frame",
                  "antimeridian", "far-point", "racetrack-degenerate", "mission-at-base",
                  "place-far")


def _xy(x: float, y: float, unit: str = "km") -> dict[str, str]:
    return {"x": f"{x:g} {unit}", "y": f"{y:g} {unit}"}


def _ensure_zone(doc: dict[str, Any]) -> dict[str, Any]:
    parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["coalition"]
    zones = doc.get("zones")
    if not isinstance(zones, list) or not zones or not isinstance(zones[0], dict):
        doc["zones"] = zones = [{"id": "ZG", "party": parties[0],
                                 "area": {"circle": {"center": "raqqa", "radius": "5 km"}}}]
    return zones[0]


def _ensure_flight(doc: dict[str, Any]) -> dict[str, Any]:
    parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["coalition"]
    flights = doc.get("flights")
    if not isinstance(flights, list) or not flights or not isinstance(flights[0], dict):
        doc["flights"] = flights = [{"id": "FG", "party": parties[0], "speed": "200 m/s",
                                     "altitude": "FL100", "route": ["raqqa", "tabqa"]}]
    return flights[0]


def apply_geometry(doc: dict[str, Any], kind: str, k: int) -> str:
    """Make one piece of the document's geometry degenerate; return its key path."""
    if kind in ("zero-area", "collinear", "bow-tie", "one-point", "two-points",
                "repeated-corner", "closed-ring", "huge-polygon", "tiny-polygon"):
        zone = _ensure_zone(doc)
        ring = {"zero-area": [_xy(5, 5)] * 3,
                "collinear": [_xy(0, 0), _xy(10, 0), _xy(20, 0), _xy(30, 0)],
                "bow-tie": [_xy(0, 0), _xy(10, 10), _xy(10, 0), _xy(0, 10)],
                "one-point": [_xy(1, 1)],
                "two-points": [_xy(0, 0), _xy(10, 0)],
                "repeated-corner": [_xy(0, 0), _xy(10, 0), _xy(10, 0), _xy(10, 10), _xy(0, 10)],
                "closed-ring": [_xy(0, 0), _xy(10, 0), _xy(10, 10), _xy(0, 0)],
                "huge-polygon": [_xy(-9000, -9000), _xy(9000, -9000), _xy(9000, 9000),
                                 _xy(-9000, 9000)],
                "tiny-polygon": [_xy(0, 0, "m"), _xy(1e-9, 0, "m"), _xy(0, 1e-9, "m")],
                }[kind]
        zone["area"] = {"polygon": ring}
        return "zones[0].area.polygon"
    if kind in ("zero-radius", "tiny-radius", "huge-radius"):
        zone = _ensure_zone(doc)
        radius = {"zero-radius": "0 m", "tiny-radius": "1e-300 m",
                  "huge-radius": "19999 km"}[kind]
        zone["area"] = {"circle": {"center": "raqqa", "radius": radius}}
        return "zones[0].area.circle.radius"
    if kind.startswith("route-"):
        flight = _ensure_flight(doc)
        flight["route"] = {"route-all-equal": ["raqqa", "raqqa", "raqqa"],
                           "route-one-point": ["raqqa"],
                           "route-two-equal": [_xy(3, 3), _xy(3, 3)],
                           "route-back-and-forth": [_xy(0, 0), _xy(50, 0), _xy(0, 0), _xy(50, 0)],
                           }[kind]
        return "flights[0].route"
    if kind.startswith("centerline-"):
        corridor = doc.setdefault("corridor", {})
        if not isinstance(corridor, dict):
            doc["corridor"] = corridor = {}
        doc["frame"] = {"center": [39.5, 35.8]}
        corridor["centerline"] = {"centerline-all-equal": [_xy(1, 1)] * 3,
                                  "centerline-one-point": [_xy(1, 1)],
                                  "centerline-zigzag": [_xy(0, 0), _xy(100, 0), _xy(0, 1e-6, "m"),
                                                        _xy(100, 0)],
                                  }[kind]
        return "corridor.centerline"
    if kind.startswith("lane"):
        doc["corridor"] = doc.get("corridor") if isinstance(doc.get("corridor"), dict) else {
            "centerline": "euphrates", "half_width": "40 km"}
        parties = [p for p in doc.get("parties") or {} if isinstance(p, str)]
        if len(parties) < 2:
            doc["parties"] = {"coalition": None, "russia": None}
            parties = ["coalition", "russia"]
        offsets = {"lane-huge-offset": ("+19000 km", "-5000 km"),
                   "lane-zero-offset": ("0 m", "-0 m"),
                   "lanes-same-offset": ("+10 km", "+10 km")}[kind]
        doc["lanes"] = {"a": {"party": parties[0], "offset": offsets[0],
                              "direction": "downstream"},
                        "b": {"party": parties[1], "offset": offsets[1],
                              "direction": "upstream"}}
        doc.setdefault("rules", [])
        if isinstance(doc["rules"], list):
            doc["rules"].append({"id": "lane_rule_g", "type": "lane_discipline"})
        return "lanes"
    if kind in ("pole-frame", "antimeridian"):
        doc["frame"] = {"center": [0.0, 90.0] if kind == "pole-frame" else [180.0, -89.999]}
        return "frame.center"
    if kind == "far-point":
        flight = _ensure_flight(doc)
        flight["route"] = [[39.0, 35.0], [-140.0, -35.0] if k % 2 else _xy(10000.001, 0)]
        return "flights[0].route[1]"
    if kind == "place-far":
        doc["places"] = {"far": [-140.0, -35.0]}
        _ensure_flight(doc)["route"] = ["far", "raqqa"]
        return "flights[0].route[0]"
    # racetrack-degenerate, mission-at-base: a party generating sorties
    parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["coalition"]
    if not isinstance(doc.get("parties"), dict):
        doc["parties"] = {}
    doc["parties"][parties[0]] = {
        "sorties_per_day": 5, "bases": ["raqqa"],
        "aircraft": [{"type": "F-16", "speed": "450 kt", "altitude": "FL200"}],
        "missions": [{"area": "raqqa",
                      "racetrack": ({"length": "1e-9 m", "width": "1e-9 m"}
                                    if kind == "racetrack-degenerate"
                                    else {"length": "19999 km", "width": "19999 km"})}]}
    return f"parties.{parties[0]}.missions[0]"


RAW_KINDS = ("non-utf8", "garbage", "truncated", "tag", "yaml-feature", "dup-key",
             "deep-text", "control-char")
TAGS = ("!!python/object/apply:os.system ['true']", "!!python/object:builtins.dict {}",
        "!!python/name:os.system ''", "!!python/tuple [1, 2]", "!!python/module:os ''",
        "!!binary aGVsbG8=", "!!set {a: null, b: null}", "!!omap [{a: 1}, {b: 2}]",
        "!!pairs [{a: 1}]", "!!timestamp 2017-13-45", "!!timestamp 2017-12-01",
        "!!timestamp 0001-01-01T00:00:00+14:00", "!!timestamp 9999-12-31T23:00:00-05:00",
        "!!timestamp 2017-12-01T00:00:00Z", "!!float abc", "!!float .nan", "!!int 0x1F",
        "!!int abc", "!!int 1_000", "!!bool maybe", "!!null x", "!!str 5", "!!map [1, 2]",
        "!!seq {a: 1}", "!foo bar", "!<tag:example.com,2000:x> 1", "!!merge x", "!!value x",
        "!!yaml x", "!!int " + "9" * 5000, "!!float 1e999", "!!str", "! 5", "!!binary ===")
YAML_FEATURES = ("&a [1, 2]", "*undefined", "{<<: {a: 1}, b: 2}", "{<<: [1, 2]}",
                 "{<<: 5}", "{? [a, b] : 1}", "{[a]: 1}", "{{a: 1}: 2}", "{null: 1}",
                 "{~: 1, 1: 2}", "{.nan: 1}", "{2017-12-01: x}", "{true: 1, false: 2}",
                 "{1: a, 1.0: b}", "'unterminated", "\"bad \\q escape\"", "[1, 2", "{a: 1",
                 "| \n  block", "@reserved", "`backtick", "%percent", "a: b: c", "- - -",
                 "{a: 1, a: 2}", "[&x 1, *x, *x]", "!!int " + "1" * 4000)


def _raw_case(doc: dict[str, Any], kind: str, draw: st.DrawFn) -> tuple[bytes, str, bool]:
    """A raw mutation: (bytes, note, whether the result is still a generator mapping)."""
    text = render(doc)
    data = text.encode("utf-8")
    paths = [p for p in walk(doc) if p]
    if kind == "non-utf8":
        how = draw(st.sampled_from(["latin1", "utf16", "insert", "overlong", "surrogate",
                                    "cut-multibyte"]))
        if how == "latin1":
            return (text + "description: café\n").encode("latin-1", "replace"), how, False
        if how == "utf16":
            return text.encode("utf-16"), how, False
        if how == "overlong":
            return data + b"name: \xc0\xaf\n", how, False
        if how == "surrogate":
            return data + b"name: \xed\xa0\x80\n", how, False
        if how == "cut-multibyte":
            return data + "description: 飞".encode()[:-1], how, False
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\x80", b"\xc3", b"\xf8\x88\x80"]))
        return data[:at] + junk + data[at:], f"{how} {junk!r} at byte {at}", False
    if kind == "garbage":
        garbage = draw(st.one_of(st.binary(max_size=400), st.sampled_from(
            [b"\x00" * 100, b"\x7fELF\x02\x01\x01" + bytes(range(256)), b"PK\x03\x04",
             b"\x1f\x8b\x08", b"%PDF-1.4", b"{}", b"[]", b"null", b"42", b"'text'",
             b"- a\n- b\n", b":", b"---", b"...", b"? ", b"&a *a", b"*a"])))
        return garbage, f"{len(garbage)} bytes", False
    if kind == "truncated":
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        return data[:at], f"cut at byte {at} of {len(data)}", False
    if kind == "control-char":
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\ufffe", "\uffff",
                                     "\x0c", "\x0b"]))
        return (text[:at] + char + text[at:]).encode("utf-8"), f"{char!r} at {at}", False
    if kind == "deep-text":
        n = draw(st.sampled_from([31, 32, 33, 100, 1000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]))
        body = opener * n + "1" + closer * n
        return f"{text}description: {body}\n".encode(), f"{n} levels of {opener}", False
    if kind == "dup-key":
        mappings = [p for p in walk(doc) if isinstance(get_at(doc, p), dict) and get_at(doc, p)]
        path = draw(st.sampled_from(mappings))
        node = get_at(doc, path)
        keys = list(node)
        dup = keys[draw(st.integers(0, len(keys) - 1))]
        if not path:
            return (text + f"{flow(dup)}: {flow(node[dup])}\n").encode(), "top-level " + str(
                dup), True
        items = [f"{flow(k)}: {flow(v)}" for k, v in node.items()] + [
            f"{flow(dup)}: {flow(node[dup])}"]
        return (render_with(doc, path, "{" + ", ".join(items) + "}").encode(),
                f"{path_text(path)}.{dup}", True)
    path = draw(st.sampled_from(paths)) if paths else ()
    if kind == "tag":
        snippet = draw(st.sampled_from(TAGS))
    else:  # yaml-feature
        snippet = draw(st.sampled_from(YAML_FEATURES + ("DOCS", "BOM", "CRLF", "TABS",
                                                        "DIRECTIVE", "ALIAS-BOMB")))
        if snippet == "DOCS":
            return (text + "---\nname: second\n").encode(), "two documents", True
        if snippet == "BOM":
            return b"\xef\xbb\xbf" + data, "BOM", True
        if snippet == "CRLF":
            return text.replace("\n", "\r\n").encode(), "CRLF", True
        if snippet == "TABS":
            return re.sub(r"(?m)^  ", "\t", text).encode(), "tabs", False
        if snippet == "DIRECTIVE":
            directive = draw(st.sampled_from(["%YAML 1.1\n---\n", "%YAML 2.0\n---\n",
                                              "%TAG ! tag:example.com,2000:\n---\n",
                                              "%FOO bar\n---\n"]))
            return (directive + text).encode(), directive.strip(), True
        if snippet == "ALIAS-BOMB":
            levels = draw(st.integers(3, 9))
            lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
                f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, levels)]
            return ("\n".join(lines).replace(f"a{levels - 1}:", "description:", 1) + "\n"
                    + text).encode(), f"alias bomb 9^{levels}", False
    return render_with(doc, path, snippet).encode(), f"{path_text(path)} = {snippet[:60]}", True


STRUCTURED_KINDS = ("type", "missing", "extra-key", "unknown-name", "bad-unit", "magnitude",
                    "nonfinite", "empty", "geometry", "duplicate", "deep", "long-string",
                    "unicode", "key-type", "boundary")


def mutate(doc: dict[str, Any], kind: str, draw: st.DrawFn) -> tuple[Any, str]:
    """Apply one structured mutation of ``kind`` to ``doc`` (in place where it can);
    return the (possibly new) document and a note naming the key path."""
    paths = [p for p in walk(doc) if p]
    if kind == "type":
        path = draw(st.sampled_from(paths)) if draw(st.integers(0, 30)) else ()
        old = get_at(doc, path)
        value = draw(weird_values.filter(lambda v: type(v) is not type(old)))
        return set_at(doc, path, value), f"{path_text(path) or '<root>'} = {value!r:.60}"
    if kind == "missing":
        path = draw(st.sampled_from(paths))
        return delete_at(doc, path), f"del {path_text(path)}"
    if kind == "extra-key":
        mappings = [p for p in walk(doc) if isinstance(get_at(doc, p), dict)]
        path = draw(st.sampled_from(mappings))
        node = get_at(doc, path)
        existing = [k for k in node if isinstance(k, str)]
        key = draw(st.one_of(
            st.sampled_from(existing or ["id"]).flatmap(
                lambda k: st.builds(typo, st.just(k), st.integers(0, 20),
                                    st.sampled_from(TYPO_OPS))),
            st.sampled_from(list(TOP_KEYS) + ["", " ", "<<", "id", "x", "type", "polygon",
                                              "circle", "Speed", "__class__", "x" * 500]),
            st.text(min_size=1, max_size=10)))
        if key in node:
            key = f"{key}_extra"
        node[key] = draw(weird_values)
        return doc, f"{path_text(path)}.{key!s:.40} added"
    if kind in ("unknown-name", "unicode"):
        strings = [p for p in paths if isinstance(get_at(doc, p), str)]
        keyed = [p for p in paths if isinstance(p[-1], str) and p[0] in (
            "places", "parties", "lanes") and len(p) == 2]
        if kind == "unicode" and keyed and draw(st.booleans()):
            path = draw(st.sampled_from(keyed))
            new = draw(st.sampled_from(UNICODE_TEXTS))
            if new in get_at(doc, path[:-1]):
                new += "_"
            return rename_key(doc, path, new), f"key {path_text(path)} -> {new!r}"
        if not strings:
            return mutate(doc, "type", draw)
        path = draw(st.sampled_from(strings))
        old = get_at(doc, path)
        if kind == "unicode":
            new = draw(st.one_of(st.sampled_from(UNICODE_TEXTS),
                                 st.text(min_size=1, max_size=8)))
        else:
            new = draw(st.one_of(
                st.builds(typo, st.just(old), st.integers(0, 40), st.sampled_from(TYPO_OPS)),
                st.sampled_from(["nowhere", "atlantis", "nobody", "min_seperation",
                                 "zone_intrusion", "sideways", "nile", "lane_x", "wait",
                                 "coalition-1", "russia-1", "turkey-2", "raqqa ", " raqqa",
                                 "RAQQA", "work.x", "F1", "Z1", "r0"])))
        return set_at(doc, path, new), f"{path_text(path)}: {old!r:.30} -> {new!r:.30}"
    if kind in ("bad-unit", "magnitude", "nonfinite"):
        quantities = [p for p in paths if is_quantity_text(get_at(doc, p))]
        numbers = [p for p in paths if isinstance(get_at(doc, p), (int, float))
                   and not isinstance(get_at(doc, p), bool)]
        pool = quantities + (numbers if kind != "bad-unit" else [])
        if not pool:
            return mutate(doc, "type", draw)
        path = draw(st.sampled_from(pool))
        old = get_at(doc, path)
        unit = _unit_of(old) if isinstance(old, str) else draw(st.sampled_from(["m", "s"]))
        n = draw(st.sampled_from(["450", "0", "-3", "1e308", "nan"]))
        if kind == "bad-unit":
            new: Any = draw(st.sampled_from(BAD_UNIT_TEXTS)).format(n=n)
        elif kind == "magnitude":
            number = draw(st.sampled_from(ABSURD_NUMBERS))
            if isinstance(old, str):
                new = f"{number} {unit}" if draw(st.integers(0, 5)) else f"{number}{unit}"
            else:
                new = draw(st.sampled_from([10**20, -(10**20), 10**400, -(10**400), 1e308,
                                            -1e308, 2**63, -1, 0, 5e-324, 10**6, 100_000,
                                            100_001, 1.0000001, -0.0]))
        else:
            new = draw(st.sampled_from(NONFINITE_VALUES))
            if isinstance(new, str) and "{u}" in new:
                new = new.format(u=unit)
        return set_at(doc, path, new), f"{path_text(path)}: {old!r:.30} -> {new!r:.40}"
    if kind == "empty":
        containers = [p for p in paths if isinstance(get_at(doc, p), (list, dict, str))]
        path = draw(st.sampled_from(containers or paths))
        new = draw(st.sampled_from([[], {}, "", None]))
        return set_at(doc, path, new), f"{path_text(path)} = {new!r}"
    if kind == "geometry":
        what = draw(st.sampled_from(GEOMETRY_KINDS))
        where = apply_geometry(doc, what, draw(st.integers(0, 1)))
        return doc, f"{what} at {where}"
    if kind == "duplicate":
        how = draw(st.sampled_from(["flights", "zones", "rules", "place-builtin",
                                    "lane-party", "sortie-id", "rule-flight-same-id",
                                    "place-party-same-name"]))
        if how in ("flights", "zones", "rules"):
            items = doc.get(how)
            if not isinstance(items, list) or not items:
                if how == "zones":
                    _ensure_zone(doc)
                elif how == "flights":
                    _ensure_flight(doc)
                else:
                    doc["rules"] = [{"id": "r0", "type": "zone_incursion"}]
                items = doc[how]
            k = draw(st.integers(0, len(items) - 1))
            items.append(copy.deepcopy(items[k]))
            return doc, f"{how}[{k}] duplicated as {how}[{len(items) - 1}]"
        if how == "place-builtin":
            doc["places"] = {"raqqa": [-140.0, -35.0], "tabqa": {"x": "1 km", "y": "1 km"}}
            return doc, "places override built-in raqqa and tabqa"
        if how == "sortie-id":
            flight = _ensure_flight(doc)
            party = flight.get("party") if isinstance(flight.get("party"), str) else "coalition"
            flight["id"] = f"{party}-{draw(st.integers(0, 3))}"
            if isinstance(doc.get("parties"), dict) and party in doc["parties"]:
                doc["parties"][party] = {
                    "sorties_per_day": 50, "bases": ["tabqa"], "missions": [{"area": "raqqa"}],
                    "aircraft": [{"type": "F-16", "speed": "450 kt", "altitude": "FL200"}]}
            return doc, f"flights[0].id = {flight['id']} (a generated sortie's id)"
        if how == "rule-flight-same-id":
            flight = _ensure_flight(doc)
            zone = _ensure_zone(doc)
            zone["id"] = flight["id"] if isinstance(flight.get("id"), str) else "F1"
            return doc, "zone and flight share an id"
        if how == "place-party-same-name":
            parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["x"]
            doc["places"] = {parties[0]: [39.0, 35.5]}
            return doc, f"place named {parties[0]}"
        parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["coalition"]
        doc["corridor"] = {"centerline": "euphrates"}
        doc["lanes"] = {"l1": {"party": parties[0], "offset": "+10 km", "direction": "downstream"},
                        "l2": {"party": parties[0], "offset": "+20 km", "direction": "upstream"}}
        return doc, "two lanes for one party"
    if kind == "deep":
        path = draw(st.sampled_from(paths))
        depth = draw(st.sampled_from([5, 20, 30, 31, 32, 33, 40]))
        value: Any = draw(st.sampled_from([1, "x", None]))
        as_list = draw(st.booleans())
        for _ in range(depth):
            value = [value] if as_list else {"k": value}
        return set_at(doc, path, value), f"{path_text(path)} nested {depth} deep"
    if kind == "long-string":
        size = draw(st.sampled_from([65, 101, 201, 1000, 5000, 100_000, 1_000_000]))
        text = draw(st.sampled_from(["a", "é", "1", " ", "[", "飞"])) * size
        if draw(st.integers(0, 3)) == 0:
            mappings = [p for p in walk(doc) if isinstance(get_at(doc, p), dict)]
            path = draw(st.sampled_from(mappings))
            get_at(doc, path)[text] = 1
            return doc, f"{path_text(path)} gets a key of {size} characters"
        strings = [p for p in paths if isinstance(get_at(doc, p), str)] or paths
        path = draw(st.sampled_from(strings))
        if is_quantity_text(get_at(doc, path)) and draw(st.booleans()):
            text = "1" * size + " m"
        return set_at(doc, path, text), f"{path_text(path)} = {size} characters"
    if kind == "key-type":
        mappings = [p for p in walk(doc) if isinstance(get_at(doc, p), dict) and get_at(doc, p)]
        path = draw(st.sampled_from(mappings))
        node = get_at(doc, path)
        key = draw(st.sampled_from(list(node)))
        new_key = draw(st.sampled_from([1, 0, -1, 1.5, math.nan, math.inf, True, False, None,
                                        10**400]))
        if any(k == new_key for k in node if k is not key):
            return mutate(doc, "type", draw)
        return rename_key(doc, (*path, key), new_key), f"key {path_text((*path, key))} -> " \
            f"{new_key!r:.20}"
    # boundary: values at or just beyond the limits the README gives
    path, value = draw(st.sampled_from(BOUNDARY_EDITS + (
        ("flight-speed", "0.1 m/s"), ("flight-speed", "10 km/s"), ("flight-speed", "0.09 m/s"),
        ("flight-altitude", "100 km"), ("flight-altitude", "-100 km"),
        ("flight-altitude", "FL999"), ("flight-depart", "365000 d"),
        ("sorties", 100_000), ("sorties", 0), ("sorties", 1e-9))))
    if path == "flight-speed" or path == "flight-altitude" or path == "flight-depart":
        flight = _ensure_flight(doc)
        flight[path.split("-")[1]] = value
        return doc, f"flights[0].{path.split('-')[1]} = {value!r}"
    if path == "sorties":
        parties = [p for p in doc.get("parties") or {} if isinstance(p, str)] or ["coalition"]
        if not isinstance(doc.get("parties"), dict):
            doc["parties"] = {}
        doc["parties"][parties[0]] = {
            "sorties_per_day": value, "bases": ["tabqa"], "missions": [{"area": "raqqa"}],
            "aircraft": [{"type": "F-16", "speed": "450 kt", "altitude": "FL200"}]}
        return doc, f"parties.{parties[0]}.sorties_per_day = {value!r}"
    if path == ("hotline",):
        hotline = doc.get("hotline") if isinstance(doc.get("hotline"), dict) else {}
        doc["hotline"] = {**hotline, **value}
    else:
        doc = set_at(doc, path, value)
    return doc, f"{path_text(path)} = {value!r:.40}"


CATEGORIES = (("valid",) + tuple(f"mutation:{k}" for k in STRUCTURED_KINDS)
              + tuple(f"raw:{k}" for k in RAW_KINDS) + ("stacked",))
FILENAMES = ("s.yaml", "s.yaml", "s.yaml", "scénario v2.yaml", "a.b.c.yml", "no_extension",
             "x" * 150 + ".yaml", "飞.yaml", ".hidden.yaml", "s p a c e.yaml")


@st.composite
def fuzz_cases(draw: st.DrawFn, kinds: tuple[str, ...] | None = None) -> FuzzCase:
    """A valid scenario, or a mutation of one. ``kinds`` limits the categories drawn:
    ``valid``, ``mutation:<kind>`` (STRUCTURED_KINDS), ``raw:<kind>`` (RAW_KINDS),
    ``stacked`` (two or three structured mutations)."""
    category = draw(st.sampled_from(kinds or CATEGORIES))
    doc = draw(scenario_documents())
    filename = draw(st.sampled_from(FILENAMES)) if category == "valid" else "s.yaml"
    if category == "valid":
        return FuzzCase(category, render(doc).encode(), [], filename)
    if category.startswith("raw:"):
        data, note, structured = _raw_case(doc, category[4:], draw)
        return FuzzCase(category, data, [note], filename, structured)
    notes = []
    count = draw(st.integers(2, 3)) if category == "stacked" else 1
    for _ in range(count):
        if not isinstance(doc, dict) or not doc:
            break
        kind = draw(st.sampled_from(STRUCTURED_KINDS)) if category == "stacked" \
            else category.split(":", 1)[1]
        doc, note = mutate(doc, kind, draw)
        notes.append(f"{kind}: {note}" if category == "stacked" else note)
    return FuzzCase(category, render(doc).encode("utf-8", "surrogatepass"), notes, filename)


# ---------------------------------------------------------------------------- the oracle

TIMEOUT_S = 20.0
# Run folders are written with fsync; on a RAM disk that costs nothing.
WORKDIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
MEMORY_BYTES = 3 * 2**30  # above the process's size when the check starts
FILE_LEVEL = re.compile(r"not valid YAML|is not UTF-8|nested|lists and mappings|a mapping of "
                        r"keys|no such file|cannot be read")


class FuzzTimeout(BaseException):
    """Raised by the alarm: a BaseException, so that ``main``'s ``except Exception`` (its
    exit 1 for internal errors) does not turn a hang into an internal error."""


@dataclass
class Outcome:
    """What validate and run did with a case; ``failure`` is None when both kept the
    contract."""

    validate_rc: int | None
    run_rc: int | None
    failure: str | None = None  # kind: exit-1, traceback, hang, memory, no-key, ...
    detail: str = ""  # the stderr or reason
    exception: str = ""  # the exception type of an internal error
    where: str = ""  # innermost sim/ frame of the traceback: "sim/geo.py:123 in build"
    note: str | None = None  # not a failure but worth a look (validate ok, run refused)

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.failure or "", self.exception, self.where)


def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def guarded(timeout_s: float, memory_bytes: int | None) -> Iterator[None]:
    """A wall-clock alarm (raises FuzzTimeout) and an address-space limit for a block."""
    def alarm(signum: int, frame: Any) -> None:
        raise FuzzTimeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    if memory_bytes is not None:
        soft = _vm_size() + memory_bytes
        if old_limit[1] == resource.RLIM_INFINITY or soft < old_limit[1]:
            resource.setrlimit(resource.RLIMIT_AS, (soft, old_limit[1]))
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, old_limit)


def call_main(args: list[str], debug: bool = False) -> tuple[int, str, str]:
    """``sim.cli.main(args)`` with its output captured: (exit code, stdout, stderr)."""
    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("DECONFLICT_DEBUG")
    if debug:
        os.environ["DECONFLICT_DEBUG"] = "1"
    else:
        os.environ.pop("DECONFLICT_DEBUG", None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        if saved is None:
            os.environ.pop("DECONFLICT_DEBUG", None)
        else:
            os.environ["DECONFLICT_DEBUG"] = saved
    return code, out.getvalue(), err.getvalue()


def innermost_sim_frame(text: str) -> str:
    """The last ``sim/`` frame of a printed traceback: ``sim/geo.py:123 in build``."""
    frames = re.findall(r'File "([^"]*?/sim/[^"/]+\.py)", line (\d+), in (\S+)', text)
    if not frames:
        return ""
    path, line, function = frames[-1]
    return f"sim/{Path(path).name}:{line} in {function}"


def _top_keys(data: bytes) -> set[str]:
    """The text keys at the top of the file, if it reads as a YAML mapping."""
    try:
        document = yaml.safe_load(data)
    except Exception:  # noqa: BLE001 - any file that does not read has no keys
        return set()
    return {str(k) for k in document} if isinstance(document, dict) else set()


def names_a_key(err: str, file: str, case: FuzzCase) -> bool:
    """Does the error message name the file and, for a file the generator wrote as a YAML
    mapping, a key path (or say why the file as a whole is refused)?"""
    lines = [line.strip() for line in err.splitlines()]
    named = [line[len(file) + 2:] for line in lines if line.startswith(f"{file}: ")]
    if not named:
        return False
    if not case.structured:
        return True
    def starts_with_key(rest: str, keys: set[str]) -> bool:
        return any(rest.startswith(key) and rest[len(key):len(key) + 1] in (".", "[", ":")
                   for key in keys if key)

    for rest in named:
        if FILE_LEVEL.search(rest) or re.match(r"line \d+|key .* is not text", rest):
            return True
        if starts_with_key(rest, set(TOP_KEYS)):
            return True
    keys = _top_keys(case.data)  # an unknown top-level key is named as written, or quoted
    return any(starts_with_key(rest, keys | {repr(k) for k in keys}) for rest in named)


def check_case(case: FuzzCase, workdir: str | Path | None = None, timeout_s: float = TIMEOUT_S,
               memory_bytes: int | None = MEMORY_BYTES, valid_must_run: bool = True
               ) -> Outcome:
    """Write the case, validate it and run it; judge the outcome against the contract."""
    with tempfile.TemporaryDirectory(dir=workdir or WORKDIR, prefix="fuzz-") as tmp:
        folder = Path(tmp)
        scenario = folder / case.filename
        scenario.write_bytes(case.data)
        out = folder / "out"
        file = str(scenario)
        results: dict[str, tuple[int, str, str]] = {}
        for command in ("validate", "run"):
            args = [command, file] + (["--out", str(out), "--force"] if command == "run" else [])
            try:
                with guarded(timeout_s, memory_bytes):
                    results[command] = call_main(args)
            except FuzzTimeout:
                stack = traceback.format_exc()
                return Outcome(results.get("validate", (None,))[0], None, "hang",
                               f"{command} took more than {timeout_s:g} s\n{stack}",
                               where=innermost_sim_frame(stack))
            except MemoryError:
                return Outcome(None, None, "memory", f"{command}: MemoryError escaped main")
            code, _, err = results[command]
            if code == 1 and ("MemoryError" in err):
                return Outcome(results.get("validate", (None,))[0], code, "memory", err)
            if code not in (0, 2):
                exception = re.search(r"internal error: (\w+)", err)
                try:
                    with guarded(timeout_s, memory_bytes):
                        debug = call_main(args, debug=True)[2]
                except (FuzzTimeout, MemoryError):
                    debug = err
                return Outcome(results.get("validate", (None,))[0], code, f"exit-{code}",
                               debug, exception.group(1) if exception else "",
                               innermost_sim_frame(debug))
            if "Traceback" in err:
                return Outcome(code, None, "traceback", err, where=innermost_sim_frame(err))
            if code == 2:
                if not names_a_key(err, file, case):
                    return Outcome(code, None, "no-key", f"{command}: {err}")
                leftovers = sorted(p.name for p in folder.iterdir() if p != scenario)
                if leftovers:
                    return Outcome(code, None, "written-on-error",
                                   f"{command} exit 2 left {leftovers}: {err}")
        v_code, r_code = results["validate"][0], results["run"][0]
        v_err, r_err = results["validate"][2], results["run"][2]
        if r_code == 0:
            problem = _incomplete(out)
            if problem:
                return Outcome(v_code, r_code, "incomplete-run", problem)
            extra = sorted(p.name for p in folder.iterdir() if p not in (scenario, out))
            if extra:
                return Outcome(v_code, r_code, "written-beside", f"run left {extra}")
        if v_code == 2 and r_code == 0:
            return Outcome(v_code, r_code, "inconsistent", f"validate refused, run ran: {v_err}")
        if case.category == "valid" and valid_must_run and r_code != 0:
            return Outcome(v_code, r_code, "valid-refused", f"{v_err}{r_err}")
        note = (f"validate accepted, run refused: {r_err.strip().replace(file + ': ', '')}"
                if v_code == 0 and r_code == 2 else None)
        return Outcome(v_code, r_code, None, r_err, note=note)


def _incomplete(out: Path) -> str | None:
    """Why a run folder written with exit 0 is not whole (None when it is)."""
    from sim.io.read import REQUIRED, RunFolderError, load_run_folder

    if not out.is_dir():
        return f"{out} does not exist after exit 0"
    missing = [name for name in REQUIRED if not (out / name).is_file()]
    if missing:
        return f"missing {missing}"
    for name in ("summary.json", "stats.json"):
        try:
            json.loads((out / name).read_text(encoding="utf-8"))
        except ValueError as exc:
            return f"{name} is not JSON: {exc}"
    try:
        load_run_folder(out)
    except RunFolderError as exc:
        return f"the run folder does not read back: {exc}"
    except Exception:  # noqa: BLE001 - a folder that crashes its own reader is incomplete
        return "reading the run folder back raised:\n" + traceback.format_exc()
    return None


def reproducer_yaml(case: FuzzCase) -> str:
    """The case's text for a report (bytes that are not UTF-8 shown escaped)."""
    return case.data.decode("utf-8", "backslashreplace")
