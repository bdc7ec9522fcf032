"""Sweep throughput: replications a minute of the 7-day baseline with 1 and 2 local
workers (the scaling efficiency), and the Dask overhead per task against the local pool.

    python benchmarks/bench_sweep.py --replications 12 --tasks 60 --json out.json

Each measurement runs ``sim.study.sweep.run_sweep`` into a fresh folder (so it includes writing
every row to the SQLite store, as a real sweep does). The Dask overhead is measured on
short replications (6 h of the baseline) where it shows: the wall time of a Dask
``LocalCluster`` sweep less the cluster's start-up, less the local pool's wall time, per
task.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sim.study.grid import parse_grid_argument, plan_sweep
from sim.study.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"


def timed_sweep(plan, **options) -> float:
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        start = time.perf_counter()
        outcome = run_sweep(plan, folder / "s", **options)
        wall = time.perf_counter() - start
        assert outcome.ran == plan.size
        return wall
    finally:
        shutil.rmtree(folder)


def cluster_startup(workers: int) -> float:
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(workers)
    wall = time.perf_counter() - start
    client.close()
    cluster.close()
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=12,
                        help="7-day replications per throughput measurement")
    parser.add_argument("--tasks", type=int, default=60, help="short tasks for the Dask overhead")
    parser.add_argument("--repeat", type=int, default=3,
                        help="repeats of the Dask overhead measurement (the median is kept)")
    parser.add_argument("--skip-week", action="store_true", help="only the Dask overhead")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, float] = {}

    week = plan_sweep(BASELINE, [parse_grid_argument("hotline.loss=0.05")], args.replications,
                      duration="7 d")
    for workers in () if args.skip_week else (1, 2):
        wall = timed_sweep(week, workers=workers)
        figures[f"week_{workers}_workers_s"] = wall
        figures[f"week_{workers}_workers_per_min"] = 60.0 * args.replications / wall
        print(f"7-day baseline, {workers} worker(s): {args.replications} replications in "
              f"{wall:.1f} s = {60.0 * args.replications / wall:.1f} a minute", flush=True)
    if not args.skip_week:
        efficiency = figures["week_2_workers_per_min"] / (2 * figures["week_1_workers_per_min"])
        figures["scaling_efficiency"] = efficiency
        print(f"scaling efficiency with 2 workers: {100 * efficiency:.0f}%")

    short = plan_sweep(BASELINE, [parse_grid_argument("hotline.loss=0.05")], args.tasks,
                       duration="6 h")
    overheads = []
    for _ in range(args.repeat):
        pool = timed_sweep(short, workers=2)
        startup = cluster_startup(2)
        dask = timed_sweep(short, workers=2, scheduler="local")
        per_task = (dask - startup - pool) / args.tasks
        overheads.append(per_task)
        print(f"{args.tasks} 6-hour tasks: pool {pool:.2f} s, Dask LocalCluster {dask:.2f} s "
              f"(start-up {startup:.2f} s): overhead {1000 * per_task:.1f} ms a task",
              flush=True)
    figures["dask_overhead_per_task_s"] = statistics.median(overheads)
    print(f"Dask overhead a task, median of {args.repeat}: "
          f"{1000 * figures['dask_overhead_per_task_s']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
