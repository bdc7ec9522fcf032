#!/usr/bin/env python3
# ruff: noqa: T201 - a command-line tool: it prints its report
"""A mutation study of the oracle property tests, on demand (not part of the test run).

    python tools/mutations.py [--only ID ...] [--seed N] [--list]

Each mutation is a one-line bug put into a copy of the package: the repository's ``sim/``
and ``tests/`` are copied to a temporary folder, one line of the copy is changed, and the
property tests that check the product against the independent sampling oracle
(``PROPERTY_TESTS``) run there on the copy. A mutation is caught when at least one of them
fails. The working tree is never changed. Prints a table: mutation, file, the line change
and the tests that caught it; exit status 0 when every mutation was caught, 1 otherwise
(or when the unmutated copy does not pass, which would make the study meaningless).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROPERTY_TESTS = (
    "tests/test_detect_properties.py::test_separation_agrees_with_sampling_oracle",
    "tests/test_detect_properties.py::test_zone_incursions_agree_with_sampling_oracle",
    "tests/test_detect_properties.py::test_lane_discipline_agrees_with_sampling_oracle",
    "tests/test_detect_properties.py::test_legs_through_polygon_corners_agree_with_sampling_oracle",
    "tests/test_detect_4d.py::test_climbing_separation_agrees_with_sampling_oracle",
    "tests/test_detect_4d.py::test_climbing_zone_incursions_agree_with_sampling_oracle",
)


@dataclass(frozen=True)
class Mutation:
    """One line of one file changed: ``old`` (which must occur exactly once) -> ``new``."""

    id: str
    area: str
    file: str
    old: str
    new: str


MUTATIONS = (
    # The two the issue found surviving the earlier oracles.
    Mutation("speed-1pct", "motion", "sim/traffic/plans.py",
             "np.cumsum(np.hypot(step[:, 0], step[:, 1]) / self.speed_mps, out=times[1:])",
             "np.cumsum(np.hypot(step[:, 0], step[:, 1]) / (1.01 * self.speed_mps), "
             "out=times[1:])"),
    Mutation("lane-tolerance-2.2", "rules", "sim/model/schema_rules.py",
             'return float(context["lane_spacing"]) / 2.0',
             'return float(context["lane_spacing"]) / 2.2'),
    # motion
    Mutation("climb-rate-ignored", "motion", "sim/traffic/sorties.py",
             "rate = spec.climb_rate_mps if dz > 0 else spec.descent_rate_mps",
             "rate = None if dz > 0 else spec.descent_rate_mps"),
    Mutation("level-off-from-the-wrong-end", "motion", "sim/traffic/sorties.py",
             "points.append(xy[k - 1] + change_s / leg_s * (xy[k] - xy[k - 1]))",
             "points.append(xy[k] - change_s / leg_s * (xy[k] - xy[k - 1]))"),
    Mutation("legs-not-cut-at-the-end", "motion", "sim/engine/motion.py",
             "return Legs(flight[order], t0[keep][order], np.minimum(t1[keep][order], until_s),",
             "return Legs(flight[order], t0[keep][order], t1[keep][order],"),
    Mutation("position-from-the-legs-end", "motion", "sim/detect/legs.py",
             "dt = t_s - self.t0_s[leg]",
             "dt = t_s - self.t1_s[leg]"),
    # detect
    Mutation("merge-against-the-next-end", "detect", "sim/detect/narrowphase.py",
             "new = key_starts | np.r_[True, s[1:] - reach[:-1] > MERGE_GAP_S]",
             "new = key_starts | np.r_[True, s[1:] - reach[1:] > MERGE_GAP_S]"),
    Mutation("episode-ends-with-its-first-piece", "detect", "sim/detect/narrowphase.py",
             "end = np.maximum.reduceat(end_s[order], first)",
             "end = np.minimum.reduceat(end_s[order], first)"),
    Mutation("floor-and-ceiling-swapped", "detect", "sim/detect/narrowphase.py",
             "zlo, zhi = between_bounds(legs.z0_m[leg], legs.vz_mps[leg], floor_m, ceiling_m)",
             "zlo, zhi = between_bounds(legs.z0_m[leg], legs.vz_mps[leg], ceiling_m, floor_m)"),
    Mutation("window-end-ignored", "detect", "sim/detect/narrowphase.py",
             "alo, ahi = between_bounds(legs.t0_s[leg], np.ones(len(leg)), active_start_s, "
             "active_end_s)",
             "alo, ahi = between_bounds(legs.t0_s[leg], np.ones(len(leg)), active_start_s, "
             "np.inf)"),
    Mutation("vertical-without-abs", "detect", "sim/detect/narrowphase.py",
             "vlo, vhi = between_bounds(dz0, dvz, -vertical_m, vertical_m)",
             "vlo, vhi = between_bounds(dz0, dvz, 0.0, vertical_m)"),
    Mutation("relative-velocity-sign", "detect", "sim/detect/narrowphase.py",
             "dvx, dvy = legs.vx_mps[j] - legs.vx_mps[i], legs.vy_mps[j] - legs.vy_mps[i]",
             "dvx, dvy = legs.vx_mps[j] + legs.vx_mps[i], legs.vy_mps[j] - legs.vy_mps[i]"),
    Mutation("polygon-piece-judged-at-its-start", "detect", "sim/detect/narrowphase.py",
             "mid = 0.5 * (lo + hi)", "mid = lo"),
    Mutation("lane-broad-phase-not-conservative", "detect", "sim/detect/narrowphase.py",
             "off_lane = (to_lane[:, :-1] + to_lane[:, 1:] + length_m[:, None]) / 2.0 > "
             "tolerance_m",
             "off_lane = (to_lane[:, :-1] + to_lane[:, 1:] - length_m[:, None]) / 2.0 > "
             "tolerance_m"),
    # rules
    Mutation("lane-rule-judges-the-other-lane", "rules", "sim/detect/rules.py",
             "own = geo.lanes_of(party)",
             "own = [g for g in geo.lanes if g.lane.party != party]"),
    # geo
    Mutation("projection-lat-lon-swapped", "geo", "sim/model/geography.py",
             'crs = (f"+proj=aeqd +lat_0={center_lat!r} +lon_0={center_lon!r} +x_0=0 +y_0=0 "',
             'crs = (f"+proj=aeqd +lat_0={center_lon!r} +lon_0={center_lat!r} +x_0=0 +y_0=0 "'),
    Mutation("lane-offset-sign", "geo", "sim/model/geography.py",
             "curve = line.offset_curve(offset_m, quad_segs=LANE_QUAD_SEGMENTS, "
             'join_style="round")',
             'curve = line.offset_curve(-offset_m, quad_segs=LANE_QUAD_SEGMENTS, '
             'join_style="round")'),
    Mutation("lane-joins-coarse", "geo", "sim/model/geography.py",
             "LANE_QUAD_SEGMENTS = 32", "LANE_QUAD_SEGMENTS = 4"),
    Mutation("polygon-ring-not-closed", "geo", "sim/model/geography.py",
             "return np.vstack([ring, ring[:1]]), None, None, polygon",
             "return ring, None, None, polygon"),
    Mutation("circle-radius-in-nmi-for-km", "geo", "sim/model/schema_areas.py",
             "return float(radius or 0.0)", "return float(radius or 0.0) * 1.852"),
    # units
    Mutation("knot-of-statute-miles", "units", "sim/model/units.py",
             "KNOT = NAUTICAL_MILE / HOUR", "KNOT = STATUTE_MILE / HOUR"),
    Mutation("mile-read-as-nautical", "units", "sim/model/units.py",
             '"mi": STATUTE_MILE,', '"mi": NAUTICAL_MILE,'),
    Mutation("flight-level-in-metres", "units", "sim/model/units.py",
             "FLIGHT_LEVEL = 100.0 * FOOT", "FLIGHT_LEVEL = 100.0 * METRE"),
    Mutation("km-per-minute", "units", "sim/model/units.py",
             '"km/h": KILOMETRE / HOUR,', '"km/h": KILOMETRE / MINUTE,'),
    Mutation("feet-per-second", "units", "sim/model/units.py",
             '"ft/min": FOOT / MINUTE,', '"ft/min": FOOT / SECOND,'),
)


def _copy(workdir: Path) -> None:
    """The package and the tests, without caches or a hypothesis database."""
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    shutil.copytree(ROOT / "sim", workdir / "sim", ignore=ignore)
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=ignore)
    # The same examples as the default run, without shrinking a failure (the study needs
    # to know that a test fails, not its smallest example).
    with (workdir / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write("\nfrom hypothesis import Phase\n\n"
                       "settings.register_profile('mutations', settings.get_profile('default'),"
                       " phases=[Phase.explicit, Phase.reuse, Phase.generate])\n"
                       "settings.load_profile('mutations')\n")


def _apply(workdir: Path, mutation: Mutation) -> None:
    """Change the one line; refuse a mutation whose line is not there exactly once."""
    path = workdir / mutation.file
    text = path.read_text(encoding="utf-8")
    if text.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.id}: {mutation.file} has {text.count(mutation.old)} "
                         f"copies of {mutation.old!r}; update the mutation")
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


def _run(workdir: Path, seed: int) -> tuple[list[str], str]:
    """Run the property tests on the copy: the tests that failed, and pytest's output."""
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("HYPOTHESIS_PROFILE", None)
    # cwd is the copy, so that its sim shadows any installed one (checked in main).
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *PROPERTY_TESTS, "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", "-rf", f"--hypothesis-seed={seed}"],
        cwd=workdir, env=env, capture_output=True, text=True, check=False)
    failed = re.findall(r"^FAILED \S+::(\w+)", result.stdout, re.MULTILINE)
    return failed, result.stdout + result.stderr


def _fresh(seed: int, mutation: Mutation | None) -> tuple[list[str], str, float]:
    started = time.monotonic()
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="mutation-", dir=shm) as tmp:
        workdir = Path(tmp)
        _copy(workdir)
        if mutation is not None:
            _apply(workdir, mutation)
        where = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"],
                               cwd=workdir, env={**os.environ, "PYTHONPATH": str(workdir)},
                               capture_output=True, text=True, check=True).stdout.strip()
        if not where.startswith(str(workdir)):
            raise SystemExit(f"the copy's sim is not the one imported ({where})")
        failed, output = _run(workdir, seed)
    return failed, output, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Run the study and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="mutation ids to run")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.only is None or m.id in args.only]
    if args.list:
        for m in chosen:
            print(f"{m.id:36} {m.area:7} {m.file}\n    - {m.old}\n    + {m.new}")
        return 0
    failed, output, took = _fresh(args.seed, None)
    if failed or "passed" not in output:
        print(output)
        print("the unmutated copy does not pass: no study")
        return 1
    print(f"unmutated: {len(PROPERTY_TESTS)} property tests pass ({took:.0f} s)\n")
    survivors = []
    for m in chosen:
        failed, output, took = _fresh(args.seed, m)
        if "error" in output.lower() and not failed and "passed" not in output:
            print(output)
        print(f"{m.id} ({m.area}, {m.file}, {took:.0f} s)\n    - {m.old}\n    + {m.new}\n"
              f"    caught by: {', '.join(failed) if failed else 'NOTHING (survived)'}")
        if not failed:
            survivors.append(m.id)
    print(f"\n{len(chosen) - len(survivors)} of {len(chosen)} mutations caught"
          + (f"; survived: {', '.join(survivors)}" if survivors else ""))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
