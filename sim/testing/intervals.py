"""Breach time as sets of intervals, compared robustly to floating-point rounding.

The checks compare two runs of a rule by *when it is breached*, key by key, not episode
by episode: a key is a flight pair (unordered) or an aircraft, and a zone (``episode_key``);
its breach is the union of its episodes' intervals (``breaches``). Two breaches agree when
every stretch of time that one has and the other has not (each part of their symmetric
difference) is shorter than the tolerance at that time (``tolerance_s``):
``ABS_TOLERANCE_S`` (2 ms: two merge gaps, as episodes that touch within ``MERGE_GAP_S``
are one and a stretch that rounding leaves a hair longer may merge or not) plus
``REL_TOLERANCE`` of the time (the rounding of times of many hours). So an episode a hair
long that appears or disappears under rotation, or an end a microsecond off, passes; a
missing or shifted episode does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from sim.detect.narrowphase import MERGE_GAP_S
from sim.model.records import Episode

#: A breach's key: (aircraft, other aircraft, zone), the pair sorted; "" where none.
Key = tuple[str, str, str]
#: The absolute part of the tolerance on a boundary, in seconds.
ABS_TOLERANCE_S = 2 * MERGE_GAP_S
#: The relative part of the tolerance on a boundary, a fraction of its time.
REL_TOLERANCE = 1e-9


def episode_key(episode: Episode) -> Key:
    """What an episode is a breach *of*: its flight pair, unordered, or its aircraft, and its
    zone (``(aircraft, other aircraft, zone)``, the pair sorted, "" where none)."""
    if episode.other_aircraft:
        a, b = sorted((episode.aircraft, episode.other_aircraft))
        return a, b, episode.zone
    return episode.aircraft, "", episode.zone


def pair_key(a: str, b: str, zone: str = "") -> Key:
    """The key of a breach of flights ``a`` and ``b`` (either order)."""
    first, second = sorted((a, b))
    return first, second, zone


def aircraft_key(aircraft: str, zone: str = "") -> Key:
    """The key of a breach of one aircraft (in ``zone``, if a zone's)."""
    return aircraft, "", zone


def key_text(key: Key) -> str:
    """A key as messages write it: ``B1 & R2``, ``B1 in Z1``, ``B1``."""
    a, b, zone = key
    text = f"{a} & {b}" if b else a
    return f"{text} in {zone}" if zone else text


def union(intervals: Iterable[tuple[float, float]]) -> np.ndarray:
    """The union of intervals as sorted, disjoint (start, end) rows (touching ones joined);
    empty intervals are left out."""
    rows = sorted((float(s), float(e)) for s, e in intervals if e > s)
    out: list[list[float]] = []
    for s, e in rows:
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return np.array(out, float).reshape(-1, 2)


def breaches(episodes: Iterable[Episode],
             rename: Mapping[str, str] | None = None) -> dict[Key, np.ndarray]:
    """Each key's breach: the union of its episodes' intervals. With ``rename``, the
    aircraft are renamed first (to compare a relabelled world's in the original names)."""
    found: dict[Key, list[tuple[float, float]]] = {}
    for e in episodes:
        if rename:
            aircraft = rename.get(e.aircraft, e.aircraft)
            other = rename.get(e.other_aircraft, e.other_aircraft)
            key = pair_key(aircraft, other, e.zone) if other else aircraft_key(aircraft, e.zone)
        else:
            key = episode_key(e)
        found.setdefault(key, []).append((e.start_s, e.end_s))
    return {key: union(rows) for key, rows in found.items()}


def minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The parts of the union ``a`` not in the union ``b`` (both as ``union`` makes them)."""
    out: list[tuple[float, float]] = []
    k = 0
    for s, e in a.tolist():
        while k < len(b) and b[k, 1] <= s:
            k += 1
        j, cursor = k, s
        while j < len(b) and b[j, 0] < e:
            if b[j, 0] > cursor:
                out.append((cursor, float(b[j, 0])))
            cursor = max(cursor, float(b[j, 1]))
            j += 1
        if cursor < e:
            out.append((cursor, e))
    return np.array(out, float).reshape(-1, 2)


def tolerance_s(time_s: float) -> float:
    """How long a stretch of disagreement at ``time_s`` may be and still be rounding."""
    return ABS_TOLERANCE_S + REL_TOLERANCE * abs(time_s)


def excess(a: np.ndarray, b: np.ndarray) -> list[tuple[float, float]]:
    """The stretches of ``a`` not in ``b`` longer than the tolerance (``tolerance_s``)."""
    return [(s, e) for s, e in minus(a, b).tolist() if e - s > tolerance_s(max(abs(s), abs(e)))]


def _stretches(rows: list[tuple[float, float]], limit: int = 3) -> str:
    text = ", ".join(f"{s:.3f}-{e:.3f} s" for s, e in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def differences(a: Mapping[Key, np.ndarray], b: Mapping[Key, np.ndarray], a_name: str,
                b_name: str, both_ways: bool = True) -> list[str]:
    """Each key's breach time that ``a`` has and ``b`` has not (and, ``both_ways``, the
    reverse), beyond the tolerance, as lines of a message naming them ``a_name`` and
    ``b_name``."""
    empty = np.zeros((0, 2))
    lines = []
    for key in sorted(set(a) | set(b)):
        here, there = a.get(key, empty), b.get(key, empty)
        only_a = excess(here, there)
        if only_a:
            lines.append(f"  {key_text(key)}: breached {_stretches(only_a)} {a_name} only")
        only_b = excess(there, here) if both_ways else []
        if only_b:
            lines.append(f"  {key_text(key)}: breached {_stretches(only_b)} {b_name} only")
    return lines


def assert_same_breaches(a: Iterable[Episode], b: Iterable[Episode], what: str, a_name: str,
                         b_name: str, rename: Mapping[str, str] | None = None) -> None:
    """Raise AssertionError, saying ``what`` failed, when the episodes ``a`` and ``b`` are
    not breaches of the same keys at the same times (within the tolerance); ``rename``
    renames ``b``'s aircraft first."""
    lines = differences(breaches(a), breaches(b, rename), a_name, b_name)
    if lines:
        raise AssertionError(message(what, lines))


def message(what: str, lines: list[str], limit: int = 12) -> str:
    """A check's failure: what failed, then the first ``limit`` lines of detail and the
    tolerance."""
    more = [f"  ... and {len(lines) - limit} more"] if len(lines) > limit else []
    return "\n".join([what, *lines[:limit], *more,
                      f"(a stretch up to {ABS_TOLERANCE_S * 1e3:g} ms plus {REL_TOLERANCE:g} "
                      "of its time is taken as rounding)"])
