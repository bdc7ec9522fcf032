"""Quantities with units: parsing of scenario strings such as ``"45 mi"`` into SI values.

This is the one place that knows unit names and conversion constants. Everything else
in ``sim`` works in SI (metres, seconds, metres per second) and says so in its names.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["distance", "altitude", "speed", "duration"]

METRE = 1.0
KILOMETRE = 1000.0
FOOT = 0.3048
STATUTE_MILE = 1609.344
NAUTICAL_MILE = 1852.0
SECOND = 1.0
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
KNOT = NAUTICAL_MILE / HOUR
FLIGHT_LEVEL = 100.0 * FOOT

_DISTANCE_UNITS: dict[str, float] = {
    "m": METRE,
    "km": KILOMETRE,
    "ft": FOOT,
    "mi": STATUTE_MILE,
    "nmi": NAUTICAL_MILE,
    "NM": NAUTICAL_MILE,
}
_SPEED_UNITS: dict[str, float] = {
    "m/s": 1.0,
    "km/h": KILOMETRE / HOUR,
    "kt": KNOT,
    "kts": KNOT,
    "mph": STATUTE_MILE / HOUR,
    # Vertical speeds (climb and descent rates) are speeds too.
    "ft/min": FOOT / MINUTE,
    "fpm": FOOT / MINUTE,
    "m/min": METRE / MINUTE,
}
_DURATION_UNITS: dict[str, float] = {
    "s": SECOND,
    "min": MINUTE,
    "h": HOUR,
    "d": DAY,
}
UNITS: dict[Kind, dict[str, float]] = {
    "distance": _DISTANCE_UNITS,
    "altitude": _DISTANCE_UNITS,
    "speed": _SPEED_UNITS,
    "duration": _DURATION_UNITS,
}
EXAMPLES: dict[Kind, str] = {
    "distance": '"45 mi", "5 nmi", "80 km", "1200.5 m" or "1000 ft"',
    "altitude": '"FL250", "25000 ft" or "7600 m"',
    "speed": '"450 kt", "800 km/h", "230 m/s" or "520 mph"',
    "duration": '"90 s", "30 min", "6 h" or "7 d"',
}
SI_UNIT: dict[Kind, str] = {"distance": "m", "altitude": "m", "speed": "m/s", "duration": "s"}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(
    rf"^\s*(?P<number>{_NUMBER})\s*(?P<unit>[A-Za-z/]+)\s*$",
    re.ASCII,  # "２ h" (a full-width digit) is not a number here
)
_FLIGHT_LEVEL = re.compile(r"^\s*FL\s*(?P<level>\d{1,3})\s*$", re.ASCII)


class QuantityError(ValueError):
    """A value that is not a quantity of the expected kind; the message shows accepted forms."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed quantity: its SI value, the text it came from, and its number and unit as
    written ("FL" for a flight level)."""

    si: float
    text: str
    number: float
    unit: str


def accepted_forms(kind: Kind) -> str:
    """Return a short phrase listing accepted spellings for a kind of quantity."""
    return f"write {_a(kind)} with a unit, such as {EXAMPLES[kind]}"


def quantity_pattern(kind: Kind) -> str:
    """A regular expression (for a JSON Schema) of the texts ``parse_quantity`` reads as ``kind``.

    It checks the spelling only: the parser still decides (a value too large, for one).
    """
    units = "|".join(re.escape(u) for u in sorted(UNITS[kind], key=len, reverse=True))
    quantity = rf"\s*{_NUMBER}\s*(?:{units})\s*"
    if kind == "altitude":
        return rf"^(?:{quantity}|\s*FL\s*\d{{1,3}}\s*)$"
    return rf"^{quantity}$"


def _unit_kind(unit: str) -> Kind | None:
    kinds: tuple[Kind, ...] = ("distance", "speed", "duration")
    for kind in kinds:
        if unit in UNITS[kind]:
            return kind
    return None


def parse_quantity(value: object, kind: Kind) -> Quantity:
    """Parse ``value`` (a string such as ``"45 mi"``) as a quantity of ``kind``.

    Raises:
        QuantityError: the value is not a string, has no unit, an unknown unit, a unit of
            another kind, or a number that is not finite. The message says which, and
            shows accepted forms.
    """
    si, number, unit = _parts(value, kind)
    assert isinstance(value, str)  # _parts refuses anything else
    return Quantity(si, value.strip(), number, unit)


def si_value(value: object, kind: Kind) -> float:
    """``parse_quantity(value, kind).si``, without building the Quantity (a scenario's
    thousands of waypoints are read through here)."""
    return _parts(value, kind)[0]


def _parts(value: object, kind: Kind) -> tuple[float, float, str]:
    """The SI value, number and unit of ``value`` (``parse_quantity``'s checks)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"expected {_a(kind)} text, got {type(value).__name__}; "
                            f"{accepted_forms(kind)}")
    if isinstance(value, (int, float)):
        raise QuantityError(f"{value!r} has no unit; {accepted_forms(kind)}")
    text = value
    if kind == "altitude":
        level = _FLIGHT_LEVEL.match(text)
        if level:
            number = int(level.group("level"))
            return number * FLIGHT_LEVEL, number, "FL"
    match = _QUANTITY.match(text)
    if not match:
        bare = text.strip()
        try:
            float(bare)
        except ValueError:
            raise QuantityError(f"{text!r} is not a number followed by a unit; "
                                f"{accepted_forms(kind)}") from None
        raise QuantityError(f"{text!r} has no unit; {accepted_forms(kind)}")
    number = float(match.group("number"))
    unit = match.group("unit")
    factors = UNITS[kind]
    if unit not in factors:
        other = _unit_kind(unit)
        if other is not None and not (kind == "altitude" and other == "distance"):
            raise QuantityError(f"{text!r} is {_a(other)}, not {_a(kind)}; "
                                f"{accepted_forms(kind)}")
        known = ", ".join(factors)
        raise QuantityError(f"unknown unit {unit!r} in {text!r} (known: {known}); "
                            f"{accepted_forms(kind)}")
    si = number * factors[unit]
    if not math.isfinite(si):
        raise QuantityError(f"{text!r} is too large to be {_a(kind)}; {accepted_forms(kind)}")
    return si, number, unit


def format_si(value: float, kind: Kind) -> str:
    """Write an SI value as a quantity string that parses back to exactly the same float."""
    return f"{value!r} {SI_UNIT[kind]}"


def _a(kind: str) -> str:
    """The kind with its article: "a distance", "an altitude"."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
