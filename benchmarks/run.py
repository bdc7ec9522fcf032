"""The benchmark runner: named workloads, measured whole-process, reported as a table and JSON.

    python benchmarks/run.py                          # the standard set
    python benchmarks/run.py box-500-1h box-10000-24h --repeat 3 --json out.json
    python benchmarks/run.py --list
    python benchmarks/run.py box-100-1h --breakdown   # where the whole process's time goes

Workloads (names can be built for any N):
- ``baseline-30d``: ``scenarios/euphrates_dec2017.yaml`` over 30 days.
- ``box-N-1h``: N explicit flights on random 12-waypoint routes in a 400 km box centred on
  Deir ez-Zor, all departing at once, flown for 1 h (the BlueSky comparison's shape).
- ``box-N-24h``: the same N flights departing uniformly over 24 h (constant density).
- ``dense-N``: N aircraft airborne at once for 24 h on random routes (a stress case).
- ``parties-N-1h``: ``box-N-1h``'s flights, one party per aircraft (as a user checks every
  pair), one 5 nmi / 1000 ft rule: cost must not grow with the number of parties.
- ``area-N-24h``: N flights over 24 h at constant density: the box's area grows with N
  (10,000 flights fill the 400 km box), each route a 12-waypoint random walk with steps
  of 20 to 60 km kept inside the box (from 1,000 flights up), so flights and their
  encounters look the same at every N (the scaling curve).

For each workload: the whole process (``python -m sim run`` in a fresh interpreter: start-
up, imports, loading, the run, writing the folder), median of ``--repeat`` runs, and its
peak resident memory; then, once in process, the flights, legs, all time-overlapping leg
pairs against the candidate pairs the broad phase hands to the exact narrow phase (for
the widest separation rule), episodes, and simulated flight hours per wall second.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
STANDARD = ["baseline-30d", "box-100-1h", "box-500-1h", "box-2000-1h", "box-10000-1h",
            "box-100-24h", "box-500-24h", "box-2000-24h", "box-10000-24h", "dense-1000"]
BOX_M = 400_000.0
WAYPOINTS = 12
# The BlueSky comparison's protection zone, and near mid-air collisions. (A 45 mi rule in a
# 400 km box pairs nearly every two aircraft airborne together: its episodes, not the
# simulator, would be what is measured.)
RULES = [
    {"id": "loss_of_separation", "type": "min_separation", "horizontal": "5 nmi",
     "vertical": "1000 ft"},
    {"id": "nmac", "type": "min_separation", "horizontal": "500 ft", "vertical": "100 ft"},
]
LEVELS = (150, 200, 210, 250, 260, 300)

# Run the command line in a fresh interpreter and report its own peak memory on exit:
# VmHWM, the high-water mark of its own address space. (getrusage's ru_maxrss would not do:
# Linux carries it over fork and exec, so a child would report the parent's peak.)
CHILD = ("import json, re, sys\n"
         "from sim.cli import console\n"
         "code = console(sys.argv[1:])\n"
         "status = open('/proc/self/status').read()\n"
         "kb = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
         "print(json.dumps({'maxrss_kb': kb}), file=sys.stderr)\n"
         "sys.exit(code)\n")


# Where a whole process's time goes, stage by stage, in a fresh interpreter (garbage
# collection as the command line sets it, and the heap frozen before exit as it is).
STAGES = """
import gc, json, sys, time
t = [time.perf_counter()]
import sim.cli  # everything the command line imports
from sim.cli.core import FEWER_COLLECTIONS
from sim.engine.simulation import run
from sim.model.geography import build_geography
from sim.analysis.metrics import run_stats
from sim.io.write import write_run
from sim.analysis.metrics import summarize
from sim.detect.rules import World, detect, separation_reach
from sim.model.scenario import load_scenario
from pathlib import Path
t.append(time.perf_counter())
gc.set_threshold(*FEWER_COLLECTIONS)
scenario = load_scenario(sys.argv[1], duration=sys.argv[3] or None)
t.append(time.perf_counter())
result = run(scenario, build_geography(scenario))
t.append(time.perf_counter())
world = World(result.geography, result.flights, result.legs, result.hotline,
              separation_reach(scenario.rules))
for spec in scenario.rules:
    detect(spec, world)
t.append(time.perf_counter())
write_run(result, Path(sys.argv[2]), force=True, stats=run_stats(result),
          summary=summarize(result))
t.append(time.perf_counter())
names = ["imports", "load", "run", "detection (timed again alone)", "statistics and writing"]
print(json.dumps(dict(zip(names, [b - a for a, b in zip(t, t[1:])]))))
gc.freeze()
"""


def breakdown(name: str, repeat: int, folder: Path) -> dict[str, float]:
    """Median seconds of each stage of a whole process, and of a bare interpreter."""
    path, options = workload(name, folder)
    duration = options[1] if options[:1] == ["--duration"] else ""
    rows = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", STAGES, str(path), str(folder / "stages"),
                               duration], capture_output=True, text=True, check=True)
        whole = time.perf_counter() - start
        row = {"interpreter start": bare, **json.loads(done.stdout)}
        row["whole process"] = whole
        rows.append(row)
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def box_scenario(n: int, hours: float, dense: bool = False, seed: int = 1) -> dict[str, Any]:
    """N explicit flights on random routes in the box. ``dense``: every flight airborne
    for the whole run (routes long enough to last it)."""
    rng = np.random.default_rng(seed)
    duration_s = hours * 3600.0
    flights = []
    for k in range(n):
        speed = float(rng.uniform(180, 260))
        depart = 0.0 if hours <= 1 or dense else float(rng.uniform(0, duration_s - 3600.0))
        points = rng.uniform(-BOX_M / 2, BOX_M / 2, size=(WAYPOINTS, 2))
        while dense and _length(points) < speed * duration_s:  # airborne all day long
            points = np.vstack([points, rng.uniform(-BOX_M / 2, BOX_M / 2, size=(50, 2))])
        flights.append(_flight(k, depart, speed, points, rng))
    return _document(f"bench-{n}", seed, f"{hours:g} h", flights)


def area_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """N flights over 24 h in a box whose area grows with N (constant density)."""
    rng = np.random.default_rng(seed)
    half = BOX_M / 2 * np.sqrt(n / 10_000)
    flights = []
    for k in range(n):
        speed = float(rng.uniform(180, 260))
        depart = float(rng.uniform(0, 23 * 3600.0))
        points = [rng.uniform(-half, half, 2)]
        # (Below 1,000 flights the box is too small for such steps: they shrink with it,
        # never beyond half its side, so that a step always fits.)
        for step in rng.uniform(20_000, 60_000, WAYPOINTS - 1) * min(1.0, half / 60_000):
            while True:  # a heading that keeps the step in the box: steps keep their length
                turn = rng.uniform(0, 2 * np.pi)
                point = points[-1] + step * np.array([np.cos(turn), np.sin(turn)])
                if np.all(np.abs(point) <= half):
                    break
            points.append(point)
        flights.append(_flight(k, depart, speed, points, rng))
    return _document(f"area-{n}", seed, "24 h", flights)


def parties_scenario(n: int) -> dict[str, Any]:
    """``box_scenario(n, 1 h)`` with one party per aircraft and the 5 nmi rule only."""
    document = box_scenario(n, 1.0)
    for flight in document["flights"]:
        flight["party"] = f"P{flight['id'][1:]}"
    document["name"] = f"parties-{n}"
    document["parties"] = {f["party"]: {} for f in document["flights"]}
    document["rules"] = RULES[:1]
    return document


def _flight(k: int, depart_s: float, speed_mps: float, points: Any,
            rng: np.random.Generator) -> dict[str, Any]:
    """One explicit flight of a workload (its level drawn last, from ``rng``)."""
    return {"id": f"F{k:05d}", "party": ("coalition", "russia")[k % 2],
            "depart": f"{depart_s:.1f} s", "speed": f"{speed_mps:.1f} m/s",
            "altitude": f"FL{int(rng.choice(LEVELS))}",
            "route": [{"x": f"{x:.1f} m", "y": f"{y:.1f} m"} for x, y in points]}


def _document(name: str, seed: int, duration: str, flights: list[dict[str, Any]]
              ) -> dict[str, Any]:
    return {"name": name, "seed": seed, "duration": duration,
            "frame": {"center": "deir_ez_zor"}, "parties": {"coalition": {}, "russia": {}},
            "flights": flights, "rules": RULES}


def _length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum())


def workload(name: str, folder: Path) -> tuple[Path, list[str]]:
    """The scenario file and extra ``run`` options of a named workload."""
    if name == "baseline-30d":
        return BASELINE, ["--duration", "30 d"]
    box = re.fullmatch(r"box-(\d+)-(1h|24h)", name)
    dense = re.fullmatch(r"dense-(\d+)", name)
    area = re.fullmatch(r"area-(\d+)-24h", name)
    parties = re.fullmatch(r"parties-(\d+)-1h", name)
    if parties:
        document = parties_scenario(int(parties.group(1)))
    elif area:
        document = area_scenario(int(area.group(1)))
    elif box:
        document = box_scenario(int(box.group(1)), 1.0 if box.group(2) == "1h" else 24.0)
    elif dense:
        document = box_scenario(int(dense.group(1)), 24.0, dense=True)
    else:
        raise SystemExit(f"unknown workload {name!r}; try --list")
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path, []


def whole_process(path: Path, options: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one ``python -m sim run``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, "run", str(path), "--out", str(out),
                           "--force", *options], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{path}: the run failed:\n{done.stderr}")
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return wall, report["maxrss_kb"] / 1024.0


def in_process(path: Path, options: list[str]) -> dict[str, Any]:
    """Counts of one run: legs, leg pairs, candidates, episodes, flight hours."""
    from sim.detect.rules import World, separation_stats
    from sim.engine.simulation import run
    from sim.model.geography import build_geography
    from sim.model.scenario import load_scenario

    duration = options[1] if options[:1] == ["--duration"] else None
    scenario = load_scenario(path, duration=duration)
    geography = build_geography(scenario)
    result = run(scenario, geography)
    world = World(result.geography, result.flights, result.legs, result.hotline)
    widest = max((r for r in scenario.rules if r.type == "min_separation"),
                 key=lambda r: r.horizontal_m)
    pairs = separation_stats(world, widest.horizontal_m, widest.vertical_m)
    return {"flights": len(result.flights), "legs": pairs.legs,
            "overlapping_leg_pairs": pairs.overlapping_pairs,
            "candidate_leg_pairs": pairs.candidate_pairs, "widest_rule": widest.id,
            "episodes": {r.id: sum(1 for e in result.episodes if e.rule == r.id)
                         for r in scenario.rules},
            "flight_hours": sum(f.airborne_s for f in result.flights) / 3600.0}


def measure(name: str, repeat: int, folder: Path, counts: bool) -> dict[str, Any]:
    path, options = workload(name, folder)
    walls, memory = [], []
    for k in range(repeat):
        wall, rss = whole_process(path, options, folder / f"run-{name}-{k}")
        walls.append(wall)
        memory.append(rss)
    row: dict[str, Any] = {"workload": name, "wall_s_median": statistics.median(walls),
                           "wall_s_all": walls, "peak_rss_mib": max(memory)}
    if counts:
        row.update(in_process(path, options))
        row["flight_hours_per_wall_s"] = row["flight_hours"] / row["wall_s_median"]
    return row


def table(rows: list[dict[str, Any]]) -> str:
    header = (f"{'workload':<15} {'wall s':>8} {'peak MiB':>9} {'flights':>8} {'legs':>9} "
              f"{'overlapping':>13} {'candidates':>11} {'episodes':>9} {'fh/wall s':>10}")
    lines = [header, "-" * len(header)]
    for r in rows:
        episodes = sum(r["episodes"].values()) if "episodes" in r else None
        lines.append(
            f"{r['workload']:<15} {r['wall_s_median']:>8.2f} {r['peak_rss_mib']:>9.0f} "
            + (f"{r['flights']:>8,} {r['legs']:>9,} {r['overlapping_leg_pairs']:>13,} "
               f"{r['candidate_leg_pairs']:>11,} {episodes:>9,} "
               f"{r['flight_hours_per_wall_s']:>10,.0f}" if "legs" in r else ""))
    return "\n".join(lines)


def compile_package() -> None:
    """Write the package's bytecode first, as installing it with pip does. An interpreter
    that may not write bytecode (PYTHONDONTWRITEBYTECODE=1, as in this project's
    workplace) would otherwise compile every module changed since its last bytecode at
    each start: 0.08 s of a 0.38 s small run, measured."""
    spec = importlib.util.find_spec("sim")  # the package the measured processes import
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="names (default: the standard set)")
    parser.add_argument("--repeat", type=int, default=3, help="whole-process runs (median)")
    parser.add_argument("--no-counts", action="store_true",
                        help="skip the in-process counts (legs, pairs, episodes)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--list", action="store_true", help="list the standard workloads")
    parser.add_argument("--breakdown", action="store_true",
                        help="time each stage of the whole process instead")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(STANDARD))
        return 0
    compile_package()
    if args.breakdown:
        with tempfile.TemporaryDirectory() as tmp:
            stages = {name: breakdown(name, args.repeat, Path(tmp))
                      for name in args.workloads or ["box-100-1h"]}
        for name, seconds in stages.items():
            print(f"{name}:")
            print("\n".join(f"  {stage:<32} {value:7.3f} s" for stage, value in seconds.items()))
        if args.json:
            args.json.write_text(json.dumps(stages, indent=2) + "\n")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads or STANDARD:
            rows.append(measure(name, args.repeat, Path(tmp), not args.no_counts))
            print(f"{name}: {rows[-1]['wall_s_median']:.2f} s", file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
