"""Baseline benchmark: the whole process for 30 days of euphrates_dec2017, and calibrate.

Usage: python benchmarks/bench_baseline.py [--repeat 5] [--calibrate]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "euphrates_dec2017.yaml"


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--calibrate", action="store_true", help="also time calibrate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        walls = [timed([sys.executable, "-m", "sim", "run", str(SCENARIO), "--duration", "30 d",
                        "--out", f"{tmp}/run", "--force"]) for _ in range(args.repeat)]
        print(f"30-day baseline, whole process: median {statistics.median(walls):.2f} s "
              f"of {args.repeat} ({', '.join(f'{w:.2f}' for w in walls)})", flush=True)
        if args.calibrate:
            for workers in (1, 2):
                wall = timed([sys.executable, "-m", "sim", "calibrate", str(SCENARIO),
                              "--rule", "opposite_tracks", "--party", "russia", "--per-day",
                              "5.5", "--workers", str(workers), "--out", f"{tmp}/c.yaml",
                              "--force"])
                print(f"calibrate (10 replications x 7 d, {workers} worker(s)): {wall:.1f} s",
                      flush=True)


if __name__ == "__main__":
    main()
