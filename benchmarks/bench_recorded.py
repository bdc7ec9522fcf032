"""Reading recorded tracks (issue 18): a million reports from CSV and from Parquet.

    python benchmarks/bench_recorded.py --aircraft 1000 --reports 1000 --repeat 3

Makes seeded random-walk tracks (``--aircraft`` aircraft, ``--reports`` reports each, every
5 s at 200-260 m/s, one aircraft in ten with a 2-minute gap that splits its flight), the
rows in time order as an export has them, in a temporary folder as CSV (ISO 8601 text
times) and as Parquet (a timestamp column). Each read is a fresh interpreter running
``read_recorded`` alone: wall time of the call, and the process's peak memory after it,
from ``resource.getrusage`` (``ru_maxrss``) and from ``VmHWM`` (which ``exec`` resets;
``ru_maxrss`` can carry a parent's peak), with the peak after the imports for comparison.
Targets: under 10 s and under 1 GB for 1,000,000 reports.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
START = "2017-12-13T06:00:00Z"
STEP_S = 5.0
GAP_S = 120.0  # longer than the default max_gap (60 s): a second flight


def make_table(aircraft: int, reports: int, seed: int = 18):
    """The reports as a pyarrow table, rows in time order (aircraft interleaved)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    start_s = rng.uniform(0, 86_400, aircraft)
    step = np.full((aircraft, reports), STEP_S)
    step[:, 0] = 0.0
    gapped = rng.random(aircraft) < 0.1
    step[gapped, reports // 2] = GAP_S
    t = start_s[:, None] + np.cumsum(step, axis=1)
    heading = rng.uniform(0, 2 * np.pi, aircraft)[:, None] + np.cumsum(
        rng.normal(0, 0.05, (aircraft, reports)), axis=1)
    speed = rng.uniform(200, 260, aircraft)[:, None]
    metres_per_degree = 111_320.0
    lat = rng.uniform(33, 37, aircraft)[:, None] + np.cumsum(
        speed * STEP_S * np.cos(heading) / metres_per_degree, axis=1)
    lon = rng.uniform(37, 42, aircraft)[:, None] + np.cumsum(
        speed * STEP_S * np.sin(heading) / (metres_per_degree * np.cos(np.radians(35))), axis=1)
    altitude_ft = rng.uniform(15_000, 35_000, aircraft)[:, None] + np.cumsum(
        rng.normal(0, 20, (aircraft, reports)), axis=1)
    icao = np.array([f"{k:06x}" for k in rng.choice(0xFFFFFF, aircraft, replace=False)])
    ids = np.repeat(icao, reports)
    order = np.argsort(t.ravel(), kind="stable")
    start_ns = np.datetime64(START.rstrip("Z"), "ns").astype(np.int64)
    stamps = start_ns + np.round(t.ravel()[order] * 1e9).astype(np.int64)
    return pa.table({
        "timestamp": pa.array(stamps, pa.timestamp("ns", "UTC")),
        "icao24": pa.array(ids[order]),
        "callsign": pa.array(np.char.add("CS", ids[order])),
        "latitude": lat.ravel()[order],
        "longitude": lon.ravel()[order],
        "altitude": np.round(altitude_ft.ravel()[order], 1),
    })


def make_files(folder: Path, aircraft: int, reports: int, seed: int = 18) -> dict[str, Path]:
    """Write the reports as CSV and as Parquet in ``folder``."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = make_table(aircraft, reports, seed)
    paths = {"csv": folder / "tracks.csv", "parquet": folder / "tracks.parquet"}
    pacsv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    return paths


def child(path: str, fmt: str) -> dict[str, float]:
    """Read one file in this (fresh) process: the figures of that read."""
    from sim.traffic.recorded import read_recorded

    before_mib = _vm_hwm_mib()
    begin = time.perf_counter()
    tracks = read_recorded(Path(path), fmt=fmt, start_utc=START)  # type: ignore[arg-type]
    wall = time.perf_counter() - begin
    return {"wall_s": wall, "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            / 1024, "vm_hwm_mib": _vm_hwm_mib(), "imports_hwm_mib": before_mib,
            "tracks": len(tracks), "reports": int(sum(len(t.t_s) for t in tracks))}


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: Path, fmt: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    done = subprocess.run([sys.executable, __file__, "--child", str(path), fmt], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aircraft", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=1000, help="reports per aircraft")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        begin = time.perf_counter()
        paths = make_files(Path(folder), args.aircraft, args.reports, args.seed)
        print(f"{args.aircraft * args.reports:,} reports of {args.aircraft:,} aircraft made in "
              f"{time.perf_counter() - begin:.1f} s")
        for fmt, path in paths.items():
            runs = [measure(path, fmt) for _ in range(args.repeat)]
            walls = [r["wall_s"] for r in runs]
            row = {"format": fmt, "file_mib": path.stat().st_size / 2**20,
                   "wall_s_median": statistics.median(walls), "wall_s": walls,
                   "ru_maxrss_mib_max": max(r["ru_maxrss_mib"] for r in runs),
                   "vm_hwm_mib_max": max(r["vm_hwm_mib"] for r in runs),
                   "imports_hwm_mib": runs[0]["imports_hwm_mib"],
                   "tracks": runs[0]["tracks"], "reports": runs[0]["reports"]}
            rows.append(row)
            print(f"{fmt:8} {row['file_mib']:6.1f} MiB  read {row['wall_s_median']:.2f} s "
                  f"(median of {args.repeat}: {', '.join(f'{w:.2f}' for w in walls)})  "
                  f"peak RSS {row['ru_maxrss_mib_max']:.0f} MiB (ru_maxrss), "
                  f"{row['vm_hwm_mib_max']:.0f} MiB (VmHWM; {row['imports_hwm_mib']:.0f} "
                  f"after imports)  {row['tracks']:,} tracks, {row['reports']:,} reports")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
