"""Resource limits: how much a scenario may ask for, so that a run stays bounded in time and
memory whatever the file says. Each limit has a default and can be raised (or lowered) on
the command line with ``--limit NAME=VALUE`` or in Python with ``Limits(...)``.

A scenario over a limit is refused with exit 2 and a message naming the key that asked for
too much and the limit to raise; the checks that depend on what the run generates
(generated sorties and their waypoints, hotline declarations) run as the traffic is made,
before the costly stages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

# Measured on the 30-day baseline and a 120-day run of it: about 0.6-0.7 kB of peak memory
# per waypoint flown (legs, their chunks in the broad phase, the tracks written out), so
# the default waypoint limit keeps a run under about 3 GB.


@dataclass(frozen=True, slots=True)
class Limits:
    """What a scenario may ask for (see ``LIMITS`` for what each one bounds)."""

    file_bytes: int = 64 * 2**20
    nesting: int = 32
    nodes: int = 2_000_000
    flights: int = 50_000
    waypoints: int = 4_000_000
    zone_vertices: int = 100_000
    hotline_calls: int = 20_000
    declarations: int = 500_000
    pairs: int = 20_000_000
    episodes: int = 1_000_000


DEFAULT_LIMITS = Limits()

LIMITS: dict[str, str] = {
    "file_bytes": "bytes in a scenario file (or sweep file)",
    "nesting": "levels of YAML nesting",
    "nodes": "YAML values, lists and mappings in a file (shared, aliased parts once)",
    "flights": "explicit flights plus generated sorties (the expected number is checked "
               "at load, the real one as they are made)",
    "waypoints": "route points of all flights together, generated sorties' included "
                 "(about 0.7 kB of memory each)",
    "zone_vertices": "vertices of all zone and interference area outlines together",
    "hotline_calls": "hotline calls in a run (the call schedule is also the planning cycle)",
    "declarations": "zone declarations passed on the hotline in a run",
    "pairs": "leg pairs a separation rule's broad phase hands to the exact solver (dense "
             "traffic: every aircraft near every other)",
    "episodes": "episodes of one rule in a run",
}


class LimitExceeded(Exception):
    """A run found more than a limit allows while running (the engine names the rule)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(f"{message} (raise the limit: Limits({limit}=N))")
        self.limit = limit


def set_limits(assignments: Sequence[str], base: Limits = DEFAULT_LIMITS) -> Limits:
    """``base`` with ``NAME=VALUE`` assignments applied (``waypoints=10000000``).

    Raises ValueError with a message that says what is accepted.
    """
    names = ", ".join(LIMITS)
    changes: dict[str, int] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in LIMITS:
            raise ValueError(f"{assignment!r}: write NAME=VALUE with NAME one of {names}, "
                             "e.g. waypoints=10000000")
        try:
            value = int(float(text.replace("_", ""))) if text.strip() else -1
        except (ValueError, OverflowError):
            value = -1
        if not 1 <= value <= 2**62:
            raise ValueError(f"{assignment!r}: the value must be a whole number from 1 to 2**62, "
                             f"e.g. {name}={getattr(base, name) * 2}")
        changes[name] = value
    return dataclasses.replace(base, **changes)

