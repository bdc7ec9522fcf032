"""Core benchmark: N explicit flights on random straight legs in a 400 km box over 24 h.

For each N it writes a scenario YAML, then measures
- the whole process, ``deconflict run`` in a fresh interpreter (median of --repeat runs);
- in-process stages (load, geography, engine + detection) once;
- the broad phase: all leg pairs, time-overlapping leg pairs, candidate pairs examined;
- episodes found per rule.

Usage: python benchmarks/bench_core.py [--sizes 100 1000 5000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from sim.detect.rules import World, separation_stats
from sim.engine.simulation import run
from sim.model.geography import build_geography
from sim.model.scenario import load_scenario

BOX_M = 400_000.0
RULES = [
    {"id": "agreed_spacing", "type": "min_separation", "horizontal": "45 mi"},
    {"id": "loss_of_separation", "type": "min_separation", "horizontal": "5 nmi",
     "vertical": "1000 ft"},
    {"id": "nmac", "type": "min_separation", "horizontal": "500 ft", "vertical": "100 ft"},
]


def scenario(n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    flights = []
    for k in range(n):
        points = rng.uniform(-BOX_M / 2, BOX_M / 2, size=(3, 2))
        flights.append({
            "id": f"F{k:05d}", "party": ("coalition", "russia")[k % 2],
            "depart": f"{rng.uniform(0, 86_400 - 3_600):.1f} s",
            "speed": f"{rng.uniform(180, 260):.1f} m/s",
            "altitude": f"FL{int(rng.choice([150, 200, 210, 250, 260, 300]))}",
            "route": [{"x": f"{x:.1f} m", "y": f"{y:.1f} m"} for x, y in points]})
    return {"name": f"bench-{n}", "seed": seed, "duration": "24 h",
            "frame": {"center": "deir_ez_zor"},
            "parties": {"coalition": {}, "russia": {}}, "flights": flights, "rules": RULES}


def measure(n: int, repeat: int, folder: Path) -> dict:
    path = folder / f"bench-{n}.yaml"
    path.write_text(yaml.safe_dump(scenario(n), sort_keys=False))
    walls = []
    for k in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--out",
                        str(folder / f"run-{n}-{k}"), "--force"], check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - start)

    t0 = time.perf_counter()
    loaded = load_scenario(path)
    t1 = time.perf_counter()
    geography = build_geography(loaded)
    t2 = time.perf_counter()
    result = run(loaded, geography)
    t3 = time.perf_counter()
    world = World(geography, result.flights, result.legs, result.hotline)
    pairs = {rule["id"]: separation_stats(world, spec.horizontal_m)
             for rule, spec in zip(RULES, loaded.rules, strict=True)}
    episodes = {spec.id: sum(1 for e in result.episodes if e.rule == spec.id)
                for spec in loaded.rules}
    any_pairs = next(iter(pairs.values()))
    return {
        "flights": n, "legs": any_pairs.legs,
        "wall_s_median": statistics.median(walls), "wall_s_all": walls,
        "load_s": t1 - t0, "geography_s": t2 - t1, "run_s": t3 - t2,
        "all_leg_pairs": any_pairs.all_pairs,
        "overlapping_leg_pairs": any_pairs.overlapping_pairs,
        "candidate_leg_pairs": {k: v.candidate_pairs for k, v in pairs.items()},
        "episodes": episodes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            results.append(measure(n, args.repeat, Path(tmp)))
            r = results[-1]
            print(f"N={n:>6}  wall {r['wall_s_median']:6.2f} s (median of {args.repeat})  "
                  f"load {r['load_s']:.2f}  run {r['run_s']:.2f}  legs {r['legs']}  "
                  f"all pairs {r['all_leg_pairs']:,}  overlapping {r['overlapping_leg_pairs']:,}  "
                  f"candidates {r['candidate_leg_pairs']}  episodes {r['episodes']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
