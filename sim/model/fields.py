"""The leaves of the scenario schema: one validator per kind of value, with its messages.

Each validator checks one value as YAML gave it and returns it typed (quantities in SI
units, through ``sim.model.units``). A refusal is one pydantic error of type
``scenario`` whose context lists its problems, each a key path relative to the value and
a message; ``sim.model.loader`` turns them into ``Problem``s. The messages name what is
wrong and show an accepted form.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import reprlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

from sim.model.spec import WORK_AREA_PREFIX, FramePoint, LonLat, PlaceRef, Point
from sim.model.units import Kind, QuantityError, accepted_forms, format_si, si_value

Suffix = tuple[str | int, ...]
Found = list[tuple[Suffix, str]]  # problems of one value: where below it, and what

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_ID = re.compile(ID_PATTERN)
ID_FORM = ("an id of letters, digits, '_', '.' or '-' (at most 64, starting with a letter "
           "or digit), such as C1 or coalition")
POINT_FORM = ("write a point as a place name (raqqa), [lon, lat] in degrees ([39.0, 35.9]) "
              "or {x: \"10 nmi\", y: \"-4 nmi\"} in the frame")
# The largest magnitude a value of each kind may have: beyond these a value is a typo,
# and the geometry would no longer mean anything (half the Earth's circumference, the
# edge of the atmosphere, Mach 30).
MAGNITUDE_LIMITS: dict[Kind, tuple[float, str]] = {
    "distance": (2.0e7, "20000 km"),
    "altitude": (1.0e5, "100 km"),
    "speed": (1.0e4, "10 km/s"),
    "duration": (1000 * 365.25 * 86_400.0, "1000 years"),
}
MAX_FLOAT_INT = int(sys.float_info.max)


class Required:
    """The default of a key that must be written: its validator says what to write."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"

    def __deepcopy__(self, memo: dict[int, Any]) -> Required:
        return self  # the one marker: pydantic copies a default before it uses it


REQUIRED: Any = Required()


class Refused:
    """A value refused before its field could read it (a key that is unknown, or only
    used with another); the field reports its problems. ``up`` moves them that many keys
    up the path (a key that is not text is reported at its mapping)."""

    __slots__ = ("found", "up")

    def __init__(self, found: Found, up: int = 0) -> None:
        self.found = found
        self.up = up


def fail(found: Found, up: int = 0) -> NoReturn:
    """Refuse a value with its problems (each at a key path below it)."""
    raise PydanticCustomError("scenario", "{message}",
                              {"message": found[0][1], "found": found, "up": up})


def fail_here(message: str) -> NoReturn:
    """Refuse a value with one problem, at its own key path."""
    fail([((), message)])


def given(value: Any) -> Any:
    """The value, unless it was refused before its field saw it."""
    if isinstance(value, Refused):
        fail(value.found, value.up)
    return value


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 3, 30, 30


def describe(value: Any) -> str:
    """A short description of a YAML value for a message: its type and a shortened repr."""
    if value is None or value is REQUIRED:
        return "nothing (null)"
    return f"{type(value).__name__} {_SHORT.repr(value)}"


def is_number(value: Any) -> bool:
    """A YAML number that is a float, or an integer a float can hold (not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, int) or abs(value) <= MAX_FLOAT_INT


def shown_key(key: str) -> str:
    """A key as it stands in a key path: quoted when it could not stand there as it is."""
    return key if re.fullmatch(r"[^\s.\[\]'\"]+", key) else repr(key)


def unknown_key(key: str, allowed: Sequence[str], what: str) -> str:
    """The message for a key a mapping does not take, with the nearest accepted one."""
    hint = difflib.get_close_matches(key, allowed, n=1)
    suggestion = f"did you mean {hint[0]!r}? " if hint else ""
    accepted = (f"accepted keys: {', '.join(allowed)}" if allowed
                else f"{what} take no keys here")
    return f"unknown key; {suggestion}{accepted}"


def not_text_key(key: Any, allowed: Sequence[str]) -> str:
    """The message for a mapping key that is not text."""
    return (f"key {key!r} is not text; keys are names such as "
            f"{allowed[0] if allowed else 'id'}")


def not_mapping(value: Any, what: str) -> str:
    """The message for a value that should have been a mapping."""
    return f"expected {what} (a mapping of keys), got {describe(value)}"


def mapping_keys(value: Mapping[Any, Any], allowed: Sequence[str], what: str) -> Found:
    """The problems of a mapping's keys: not text, or not among ``allowed``."""
    found: Found = []
    for key in value:
        if not isinstance(key, str):
            found.append(((), not_text_key(key, allowed)))
        elif key not in allowed:
            found.append(((shown_key(key),), unknown_key(key, allowed, what)))
    return found


# ---------------------------------------------------------------------------- quantities


def _parse(value: Any, kind: Kind) -> tuple[float | None, str | None]:
    try:
        return si_value(value, kind), None
    except QuantityError as exc:
        return None, str(exc)


# A scenario writes the same few quantities many times ("0 s", "FL250"), and a sweep loads
# it once per grid point: short texts are parsed once.
CACHED_TEXT = 64
_parsed = functools.lru_cache(maxsize=4096)(_parse)


def quantity_problem(value: Any, kind: Kind, minimum: float | None = None,
                     strict: bool = False) -> tuple[float | None, str | None]:
    """Parse a quantity and check its bounds: its SI value, or the problem with it."""
    if value is None or value is REQUIRED:
        return None, f"required; {accepted_forms(kind)}"
    if isinstance(value, str) and len(value) <= CACHED_TEXT:
        si, problem = _parsed(value, kind)
    else:
        si, problem = _parse(value, kind)
    if si is None:
        return None, problem
    limit, limit_text = MAGNITUDE_LIMITS[kind]
    if abs(si) > limit:
        return None, (f"{value!r} is beyond any sensible {kind} (at most {limit_text}); "
                      f"{accepted_forms(kind)}")
    if minimum is not None and (si < minimum or (strict and si == minimum)):
        bound = "greater than" if strict else "at least"
        return None, (f"{value!r} must be {bound} {format_si(minimum, kind)}; "
                      f"{accepted_forms(kind)}")
    return si, None


def quantity(kind: Kind, minimum: float | None = None, strict: bool = False,
             optional: bool = False) -> Callable[[Any], float | None]:
    """A validator of one quantity of ``kind``, at least (or above) ``minimum``."""
    def validate(value: Any) -> float | None:
        value = given(value)
        if optional and value is None:
            return None
        si, problem = quantity_problem(value, kind, minimum, strict)
        if problem is not None:
            fail_here(problem)
        return si
    return validate


def quantity_range(kind: Kind, minimum: float = 0.0) -> Callable[[Any], tuple[float, float]]:
    """A validator of one quantity or a [low, high] range (one value is a range of one)."""
    def validate(value: Any) -> tuple[float, float]:
        value = given(value)
        if value is None or value is REQUIRED:
            fail_here(f"required; {accepted_forms(kind)}, or a [low, high] range")
        items = value if isinstance(value, list) else [value]
        if len(items) not in (1, 2):
            fail_here(f"expected one {kind} or a [low, high] range; {accepted_forms(kind)}")
        values: list[float | None] = []
        found: Found = []
        for i, item in enumerate(items):
            si, problem = quantity_problem(item, kind, minimum)
            if problem is not None:
                found.append(((str(i),), problem))
            values.append(si)
        if found:
            fail(found)
        low, high = float(values[0] or 0.0), float(values[-1] or 0.0)
        if high < low:
            fail_here(f"the range {value!r} runs backwards; write [low, high]")
        return low, high
    return validate


# ---------------------------------------------------------------------------- ids, parties


def id_problem(value: Any) -> str | None:
    """What is wrong with an id, or None."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return None
    if is_number(value):
        return f"{value!r} is a number; quote it to make it an id, such as \"{value}\""
    return f"{describe(value)} is not a valid id; {ID_FORM}"


def identifier(value: Any) -> str:
    """Validate an id."""
    problem = id_problem(given(value))
    if problem is not None:
        fail_here(problem)
    return str(value)


def zone_identifier(value: Any) -> str:
    """Validate a zone's id, which may not look like a generated work area's."""
    ident = identifier(value)
    if ident.startswith(WORK_AREA_PREFIX):
        fail_here(f"{ident!r}: ids beginning with {WORK_AREA_PREFIX!r} are kept for the "
                  "parties' work areas; rename the zone, such as hajin_strikes")
    return ident


def party_problem(value: Any, parties: Sequence[str]) -> str | None:
    """What is wrong with a reference to a party, or None."""
    problem = id_problem(value)
    if problem is None and value not in parties:
        known = ", ".join(parties) or "none are defined"
        return f"unknown party {value!r}; it must be a key of parties ({known})"
    return problem


def party(value: Any, info: ValidationInfo) -> str:
    """Validate a reference to a party of the scenario (``parties`` in the context)."""
    problem = party_problem(given(value), _context(info).get("parties", ()))
    if problem is not None:
        fail_here(problem)
    return str(value)


def optional_party(value: Any, info: ValidationInfo) -> str | None:
    """Validate a reference to a party, or nothing (null: every party)."""
    return None if given(value) is None else party(value, info)


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    return info.context if isinstance(info.context, Mapping) else {}


# ---------------------------------------------------------------------------- points


def point_problems(value: Any, names: Sequence[str] | set[str] | None
                   ) -> tuple[Point | None, Found]:
    """Read a point: a place name (unless ``names`` is None), [lon, lat] or {x, y}."""
    if isinstance(value, str):
        if names is None:
            return None, [((), "a place must be defined by coordinates, not by another name; "
                               "write [lon, lat] or {x: ..., y: ...}")]
        if value not in names:
            hint = difflib.get_close_matches(value, sorted(names), n=3)
            suggestion = f" (did you mean {', '.join(hint)}?)" if hint else ""
            return None, [((), f"unknown place {value!r}{suggestion}; use a built-in place, "
                               "add it under places:, or " + POINT_FORM.split("as ", 1)[1])]
        return PlaceRef(value), []
    if isinstance(value, list):
        if len(value) != 2 or not all(is_number(v) for v in value):
            return None, [((), f"expected [lon, lat], two numbers in degrees; {POINT_FORM}")]
        lon, lat = float(value[0]), float(value[1])
        if not (math.isfinite(lon) and math.isfinite(lat)) or not (
                -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return None, [((), f"[{value[0]}, {value[1]}] is not [lon, lat]: lon must lie in "
                               "-180..180 and lat in -90..90 degrees, e.g. [39.0, 35.9]")]
        return LonLat(lon, lat), []
    if isinstance(value, dict):
        found = mapping_keys(value, ("x", "y"), "a frame point")
        xy = []
        for key in ("x", "y"):
            si, problem = quantity_problem(value.get(key), "distance")
            if problem is not None:
                found.append(((key,), problem))
            xy.append(si)
        if found or xy[0] is None or xy[1] is None:
            return None, found
        return FramePoint(xy[0], xy[1]), []
    return None, [((), f"{describe(value)} is not a point; {POINT_FORM}")]


def place_names(info: ValidationInfo) -> set[str]:
    """The place names a point may use: built-in and the scenario's (in the context)."""
    names: set[str] = _context(info).get("names", set())
    return names


def point(value: Any, info: ValidationInfo) -> Point:
    """Validate one point."""
    result, found = point_problems(given(value), place_names(info))
    if found or result is None:
        fail(found)
    return result


def place(value: Any) -> Point:
    """Validate a place's definition: coordinates, not another name."""
    result, found = point_problems(given(value), None)
    if found or result is None:
        fail(found)
    return result


def points(minimum: int, what: str) -> Callable[[Any, ValidationInfo], tuple[Point, ...]]:
    """A validator of a list of at least ``minimum`` points."""
    def validate(value: Any, info: ValidationInfo) -> tuple[Point, ...]:
        value = given(value)
        if not isinstance(value, list) or len(value) < minimum:
            fail_here(f"expected {what}: a list of at least {minimum} points; {POINT_FORM}")
        names = place_names(info)
        out, found = [], []
        for i, item in enumerate(value):
            result, problems = point_problems(item, names)
            found += [((i, *suffix), message) for suffix, message in problems]
            out.append(result)
        if found:
            fail(found)
        return tuple(p for p in out if p is not None)
    return validate


# ---------------------------------------------------------------------------- plain values


def boolean(value: Any) -> bool:
    """Validate true or false."""
    if not isinstance(given(value), bool):
        fail_here(f"{describe(value)} is not true or false")
    return bool(value)


def number(accept: Callable[[float], bool], problem: str) -> Callable[[Any], float]:
    """A validator of a plain number that ``accept`` takes; else "<value> <problem>"."""
    def validate(value: Any) -> float:
        value = given(value)
        if not is_number(value) or not accept(float(value)):
            fail_here(f"{describe(value)} {problem}")
        return float(value)
    return validate


def choice(options: Sequence[str], problem: str) -> Callable[[Any], str]:
    """A validator of one of ``options``; else "<value> <problem>"."""
    def validate(value: Any) -> str:
        if given(value) not in options:
            fail_here(f"{describe(value)} {problem}")
        return str(value)
    return validate


def scenario_name(value: Any) -> str:
    """Validate the scenario's name: one line of text."""
    if not isinstance(given(value), str) or not value.strip() or len(value) > 100 \
            or "\n" in value:
        fail_here(f"{describe(value)} is not a scenario name; write one line of text "
                  "(at most 100 characters) such as euphrates-dec2017")
    return str(value)


def description(value: Any) -> str | None:
    """Validate the free-text description."""
    if given(value) is not None and not isinstance(value, str):
        fail_here(f"{describe(value)} is not text; write description: \"what the scenario "
                  "is for\"")
    return None if value is None else str(value)


MAX_SEED = 2**64 - 1  # seeds are 64-bit unsigned, as the replication seeds are


def seed(value: Any) -> int:
    """Validate the random seed: a whole number from 0 to 2**64-1."""
    if not isinstance(given(value), int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED:
        fail_here(f"{describe(value)} is not a seed; write a whole number from 0 to 2**64-1, "
                  "such as seed: 7")
    return int(value)


def start(value: Any) -> str | None:
    """Validate the start: an ISO 8601 date and time (dates are made text before this)."""
    if given(value) is None:
        return None
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return value
    fail_here(f"{describe(value)} is not a date and time; write an ISO 8601 time such as "
              "2017-12-01T00:00:00Z")


def start_text(value: dt.date) -> str:
    """A YAML date or date and time (an explicit !!timestamp) as the start's text, in UTC
    (with its own offset where UTC would fall outside the years 1 to 9999)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        try:
            utc = value.astimezone(dt.timezone.utc)
        except OverflowError:  # 0001-01-01T00:00+14:00 is a day before the year 1 in UTC
            return value.isoformat(timespec="seconds")
        # isoformat, not strftime: %Y writes the year 100 as "100", which no ISO reader takes
        return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return f"{value.isoformat()}T00:00:00Z"


def empty_if_falsy(value: Any) -> Any:
    """A falsy value (0, "", []) as an empty mapping, as the format always took it."""
    return given(value) or {}


def items(what: str, empty: str | None = None) -> Callable[[Any], Any]:
    """A check before a list's items are read: a list (nothing: none), and not empty when
    ``empty`` says why it may not be."""
    def validate(value: Any) -> Any:
        value = given(value)
        if value is None or value is REQUIRED:
            value = []
        if not isinstance(value, list):
            found: Found = [((), f"expected a list of {what}, got {describe(value)}")]
            fail(found + [((), empty)] if empty else found)
        if not value and empty:
            fail_here(empty)
        return value
    return validate


def keyed(what: str, falsy_is_empty: bool = False) -> Callable[[Any], Any]:
    """A check before a mapping of ids (places, parties, lanes) is read: a mapping (nothing:
    none; also 0, "" or [] where ``falsy_is_empty``, as the format always took them); a key
    that is not an id is refused where it stands."""
    def validate(value: Any) -> Any:
        value = given(value)
        if value is None or (falsy_is_empty and not value):
            return {}
        if not isinstance(value, dict):
            fail_here(not_mapping(value, what))
        out: dict[str, Any] = {}
        names = tuple(k for k in value if isinstance(k, str))
        for n, (key, item) in enumerate(value.items()):
            problem = id_problem(key)
            if problem is None:
                out[key] = item
            elif isinstance(key, str):
                out[key] = Refused([((key,), problem)], up=1)
            else:  # reported at the mapping and under the key as written
                out[f"\0{n}"] = Refused([((), not_text_key(key, names)),
                                          ((str(key),), problem)], up=1)
        return out
    return validate
