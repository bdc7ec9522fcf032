"""Table-driven tests of quantity parsing (docs/scenario-reference.md): every unit, every
kind, every error."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.units import QuantityError, format_si, parse_quantity, si_value

MI = 1609.344
NMI = 1852.0
FT = 0.3048
KT = NMI / 3600.0

# (text, kind, expected SI value)
VALID = [
    # distances
    ("45 mi", "distance", 45 * MI),
    ("5 nmi", "distance", 9260.0),
    ("5 NM", "distance", 9260.0),
    ("80 km", "distance", 80_000.0),
    ("1200.5 m", "distance", 1200.5),
    ("1000 ft", "distance", 304.8),
    ("0 m", "distance", 0.0),
    # altitudes: every distance unit, and flight levels
    ("FL250", "altitude", 25_000 * FT),
    ("FL250", "altitude", 7620.0),
    ("FL045", "altitude", 4500 * FT),
    ("FL5", "altitude", 500 * FT),
    ("25000 ft", "altitude", 7620.0),
    ("7600 m", "altitude", 7600.0),
    ("12 km", "altitude", 12_000.0),
    ("2 nmi", "altitude", 3704.0),
    ("1 mi", "altitude", MI),
    ("3 NM", "altitude", 5556.0),
    # speeds
    ("450 kt", "speed", 450 * KT),
    ("800 km/h", "speed", 800_000.0 / 3600.0),
    ("230 m/s", "speed", 230.0),
    # vertical speeds (climb and descent rates)
    ("3000 ft/min", "speed", 3000 * FT / 60.0),
    ("1500 fpm", "speed", 1500 * FT / 60.0),
    ("600 m/min", "speed", 10.0),
    ("15 m/s", "speed", 15.0),
    ("3000ft/min", "speed", 3000 * FT / 60.0),
    # durations
    ("30 min", "duration", 1800.0),
    ("6 h", "duration", 21_600.0),
    ("7 d", "duration", 604_800.0),
    ("90 s", "duration", 90.0),
    # signs
    ("+22.5 mi", "distance", 22.5 * MI),
    ("-22.5 mi", "distance", -22.5 * MI),
    ("-4 nmi", "distance", -4 * NMI),
    ("+10 km", "distance", 10_000.0),
    # exponents and decimal forms
    ("1.5e3 m", "distance", 1500.0),
    ("2E2 ft", "distance", 200 * FT),
    ("1e-3 km", "distance", 1.0),
    ("-2.5e+1 nmi", "distance", -25 * NMI),
    (".5 h", "duration", 1800.0),
    ("3. min", "duration", 180.0),
    ("1e2 kt", "speed", 100 * KT),
    # whitespace
    ("45mi", "distance", 45 * MI),
    ("  45 mi  ", "distance", 45 * MI),
    ("45   mi", "distance", 45 * MI),
    ("\t6 h\n", "duration", 21_600.0),
    (" FL250 ", "altitude", 7620.0),
    ("800km/h", "speed", 800_000.0 / 3600.0),
]


@pytest.mark.parametrize(("text", "kind", "expected"), VALID,
                         ids=[f"{k}:{t!r}" for t, k, _ in VALID])
def test_parses(text: str, kind: str, expected: float) -> None:
    quantity = parse_quantity(text, kind)
    assert quantity.si == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert quantity.text == text.strip()


@pytest.mark.parametrize(("text", "expected"), [
    ("45 mi", 72_420.48), ("5 nmi", 9260.0), ("5 NM", 9260.0), ("1000 ft", 304.8),
    ("FL250", 7620.0), ("1 mi", 1609.344), ("1 nmi", 1852.0),
])
def test_exact_constants(text: str, expected: float) -> None:
    """Statute and nautical miles, feet and flight levels are the defined constants."""
    kind = "altitude" if text.startswith("FL") else "distance"
    assert parse_quantity(text, kind).si == pytest.approx(expected, rel=1e-15)


# The example shown for each kind in every error message.
EXAMPLE = {"distance": '"45 mi"', "altitude": '"FL250"', "speed": '"450 kt"',
           "duration": '"30 min"'}

# (value, kind): each must be refused with a QuantityError that shows an accepted form.
INVALID = [
    # bare numbers
    (45, "distance"), (45.0, "distance"), ("45", "distance"), (" 45 ", "distance"),
    ("7", "duration"), (450, "speed"), (25000, "altitude"), ("25000", "altitude"),
    ("-3.5", "distance"), ("1e3", "duration"),
    # unknown units
    ("45 furlongs", "distance"), ("45 miles", "distance"), ("6 hours", "duration"),
    ("450 knots", "speed"), ("10 yd", "distance"),
    ("3 fl", "altitude"),
    # wrong kinds
    ("450 kt", "distance"), ("800 km/h", "distance"), ("230 m/s", "distance"),
    ("30 min", "distance"), ("6 h", "distance"), ("90 s", "altitude"),
    ("45 mi", "speed"), ("45 mi", "duration"), ("450 kt", "duration"),
    ("30 min", "speed"), ("450 kt", "altitude"),
    ("FL250", "distance"), ("FL250", "duration"), ("FL250", "speed"),
    # non-string types
    ([], "distance"), (["45 mi"], "distance"), ({}, "distance"), ({"value": 45}, "speed"),
    (None, "distance"), (None, "duration"), (True, "distance"), (False, "duration"),
    (b"45 mi", "distance"), ((45, "mi"), "distance"),
    # not finite
    ("nan", "distance"), ("inf", "distance"), ("-inf", "duration"), ("nan m", "distance"),
    ("inf m", "distance"), ("NaN kt", "speed"), ("infinity s", "duration"),
    (float("nan"), "distance"), (float("inf"), "duration"),
    # empty and malformed
    ("", "distance"), ("   ", "duration"), ("mi", "distance"), ("FL", "altitude"),
    ("45 mi 3", "distance"), ("4 5 mi", "distance"), ("45 mi/", "distance"),
    ("1,5 km", "distance"),
    # overflow
    ("1e400 m", "distance"), ("1e400 s", "duration"), ("-1e400 ft", "altitude"),
    ("1e308 d", "duration"), ("1e307 mi", "distance"),
]


@pytest.mark.parametrize(("value", "kind"), INVALID,
                         ids=[f"{k}:{v!r}" for v, k in INVALID])
def test_refuses(value: object, kind: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(value, kind)
    message = str(info.value)
    assert EXAMPLE[kind] in message, message


def test_quantity_error_is_a_value_error() -> None:
    assert issubclass(QuantityError, ValueError)


@pytest.mark.parametrize(("value", "kind", "fragment"), [
    ("450 kt", "distance", "speed"),
    ("30 min", "distance", "duration"),
    ("45 mi", "speed", "distance"),
    ("3000 ft", "speed", "distance"),
    ("3000 ft/min", "distance", "speed"),
    ("3000 fpm", "duration", "speed"),
    ("45", "distance", "no unit"),
    (45, "distance", "no unit"),
    ("45 furlongs", "distance", "furlongs"),
    (None, "distance", "NoneType"),
])
def test_message_says_what_is_wrong(value: object, kind: str, fragment: str) -> None:
    with pytest.raises(QuantityError, match=fragment):
        parse_quantity(value, kind)


KINDS = ["distance", "altitude", "speed", "duration"]
finite = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 7620.000000000001,
                                   5e-324, 1.7976931348623157e308, -1e-300, 123456789.123])
def test_format_si_round_trips_table(kind: str, value: float) -> None:
    assert parse_quantity(format_si(value, kind), kind).si == value


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), value=finite)
def test_format_si_round_trips(kind: str, value: float) -> None:
    text = format_si(value, kind)
    back = parse_quantity(text, kind).si
    assert back == value
    assert math.copysign(1.0, back) == math.copysign(1.0, value)


_TEXTS = st.one_of(
    st.builds(lambda n, u, pad: f"{pad}{n!r}{pad} {u}{pad}", finite,
              st.sampled_from(["m", "km", "nmi", "mi", "ft", "FL", "kt", "m/s", "s", "min",
                               "h", "d", "parsec"]), st.sampled_from(["", " "])),
    st.sampled_from(["FL250", " FL 90 ", "FL1000", "5", "abc m", "1e400 m", ""]),
    st.text(max_size=8), st.integers(), st.none())


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(KINDS), value=_TEXTS)
def test_si_value_is_parse_quantitys_si_or_its_error(kind: str, value: object) -> None:
    try:
        expected = parse_quantity(value, kind).si
    except QuantityError as exc:
        with pytest.raises(QuantityError) as caught:
            si_value(value, kind)
        assert str(caught.value) == str(exc)
        return
    got = si_value(value, kind)
    assert got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected)
