"""Scenario loading: parse, fill defaults and validate each shipped scenario, in process.

Usage: python benchmarks/bench_load.py [--repeat 20]

Times ``load_scenario`` alone (imports done first, outside the timing): the median of
``--repeat`` loads of each file in ``scenarios/``, and the import of the loader itself.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
IMPORT = "import time; t = time.perf_counter(); import sim.scenario; print(time.perf_counter() - t)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from sim.scenario import load_scenario

    total = 0.0
    for path in SCENARIOS:
        load_scenario(path)  # warm: caches of the gazetteer and the like
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            load_scenario(path)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        total += median
        print(f"{path.name:28} {median * 1000:8.2f} ms (median of {args.repeat})")
    print(f"{'all five':28} {total * 1000:8.2f} ms")
    imports = [float(subprocess.run([sys.executable, "-c", IMPORT], check=True,
                                    capture_output=True, text=True).stdout)
               for _ in range(5)]
    print(f"{'import sim.scenario':28} {statistics.median(imports) * 1000:8.2f} ms (median of 5)")


if __name__ == "__main__":
    main()
