#!/usr/bin/env python3
# ruff: noqa: T201 - a command-line tool: it prints its report
"""A fuzzing campaign over scenario input, on demand (the CI suite is tests/test_fuzz.py).

    python tools/fuzz_campaign.py --examples 5000 [--seed N] [--workers 2] [--out DIR]

Runs the properties of tests/test_fuzz.py (strategies and oracle in
tests/fuzz_strategies.py) for N examples with random seeds, split over worker processes.
Each example is checked in a forked child process with a hard wall-clock limit (and an
address-space limit), so a hang inside C code, a crash or an exhausted memory is caught
too. Prints the cases run by category and their outcomes (exit 0 / exit 2 / failures),
saves every failing case under OUT/failures/ and, for each distinct failure (kind,
exception, innermost sim/ frame), a reduced reproducer under OUT/minimal/, and prints
where they are. Exit status: 0 when no example failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Appended, not prepended: PYTHONPATH=DIR tests the package in DIR/sim (a snapshot, say)
# instead of the installed one.
sys.path.append(str(ROOT))

from tests.fuzz_strategies import (  # noqa: E402 - after the path is set
    CATEGORIES,
    WORKDIR,
    FuzzCase,
    Outcome,
    check_case,
    delete_at,
    fuzz_cases,
    get_at,
    render,
    set_at,
    walk,
)

ROUND = 20  # examples of each category in a round


# ---------------------------------------------------------------------------- one check


def preload() -> None:
    """Import the product and run one scenario before forking, so that each child starts
    warm (modules imported, caches filled)."""
    import sim.cli  # noqa: F401
    import sim.io.read  # noqa: F401

    check_case(FuzzCase("valid", (ROOT / "scenarios" / "encounters.yaml").read_bytes()))


def check_forked(case: FuzzCase, timeout_s: float, memory_bytes: int, workdir: str) -> Outcome:
    """check_case in a forked child: a hard limit of about three alarms' worth of time
    (validate, run, and a rerun with DECONFLICT_DEBUG=1), and any death is a failure."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            outcome = check_case(case, workdir, timeout_s, memory_bytes)
            payload = pickle.dumps(outcome)
        except BaseException as exc:  # noqa: BLE001 - reported as the child's failure
            payload = pickle.dumps(Outcome(None, None, "harness", f"{type(exc).__name__}: {exc}"))
            code = 3
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 3 * timeout_s + 15
    killed = False
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if ready:
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if killed:
        return Outcome(None, None, "hang", f"killed after {3 * timeout_s + 15:g} s (no alarm "
                       "fired: stuck outside Python?)")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        kind = "memory" if sig == signal.SIGKILL else "crash"
        return Outcome(None, None, kind, f"the process died of signal {sig}")
    try:
        return pickle.loads(b"".join(chunks))
    except Exception as exc:  # noqa: BLE001
        return Outcome(None, None, "harness", f"no result from the child: {exc}")


def outcome_label(outcome: Outcome) -> str:
    """A column of the table: ``exit 0``, ``exit 2``, ``FAIL <kind>``, ..."""
    if outcome.failure:
        return f"FAIL {outcome.failure}"
    return f"exit {outcome.run_rc}" if outcome.validate_rc == outcome.run_rc else \
        f"validate {outcome.validate_rc} / run {outcome.run_rc}"


def signature_of(outcome: Outcome) -> str:
    """What tells failures apart: the kind, the exception and the innermost sim/ function
    (not the line; and not for a hang, which the alarm stops wherever it happens to be)."""
    where = "" if outcome.failure == "hang" else re.sub(r":\d+ in ", " in ", outcome.where)
    return " | ".join(x for x in (outcome.failure or "", outcome.exception, where) if x)


def slug(text: str) -> str:
    """Text made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "failure"


# ---------------------------------------------------------------------------- a worker


def save_failure(out: Path, name: str, case: FuzzCase, outcome: Outcome) -> dict[str, Any]:
    """Write a failing case and what happened to OUT/failures/; return its log record."""
    failures = out / "failures"
    failures.mkdir(parents=True, exist_ok=True)
    sig = signature_of(outcome)
    name = f"{name}-{slug(sig)}"
    (failures / f"{name}.yaml").write_bytes(case.data)
    (failures / f"{name}.json").write_text(json.dumps({
        "signature": sig, "failure": outcome.failure, "exception": outcome.exception,
        "where": outcome.where, "category": case.category, "notes": case.notes,
        "structured": case.structured, "filename": case.filename,
        "validate_rc": outcome.validate_rc, "run_rc": outcome.run_rc,
        "detail": outcome.detail[-8000:]}, indent=1))
    return {"category": case.category, "outcome": outcome_label(outcome), "seconds": None,
            "note": None, "signature": sig, "file": f"{name}.yaml"}


def current_paths(out: Path, worker: int) -> tuple[Path, Path]:
    """Where an in-process worker leaves the case it is checking (and a heartbeat)."""
    return out / f"current-{worker}.yaml", out / f"current-{worker}.json"


def worker(args: argparse.Namespace) -> int:
    """One worker process: rounds of every category, results appended to its log."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    preload()

    out = Path(args.out)
    log = open(out / f"worker-{args.worker}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
    workdir = tempfile.mkdtemp(prefix=f"fuzz-w{args.worker}-", dir=WORKDIR)
    kinds = list(args.kinds.split(",") if args.kinds else CATEGORIES)
    random.Random(args.seed).shuffle(kinds)  # a restarted worker starts elsewhere
    done = [0]
    started = time.monotonic()
    step = max(args.examples // 10, 1)
    current_data, current_meta = current_paths(out, args.worker)
    memory = args.memory_mb * 2**20

    def check(case: FuzzCase) -> None:
        if done[0] >= args.examples or (
                args.stop_after and time.monotonic() - started > args.stop_after):
            return
        t0 = time.monotonic()
        if args.fork:
            outcome = check_forked(case, args.timeout, memory, workdir)
        else:
            # The parent watches these: a worker stuck where the alarm cannot reach it (in
            # C code) or killed is charged with this case.
            current_data.write_bytes(case.data)
            current_meta.write_text(json.dumps({
                "category": case.category, "notes": case.notes, "structured": case.structured,
                "filename": case.filename, "index": done[0]}))
            outcome = check_case(case, workdir, args.timeout, memory)
        record: dict[str, Any] = {"category": case.category, "outcome": outcome_label(outcome),
                                  "seconds": round(time.monotonic() - t0, 3),
                                  "note": outcome.note}
        if outcome.failure:
            name = f"w{args.worker}s{args.seed}-{done[0]:06d}"
            record = {**save_failure(out, name, case, outcome), "seconds": record["seconds"]}
        log.write(json.dumps(record) + "\n")
        log.flush()
        done[0] += 1
        if done[0] % step == 0:
            print(f"  worker {args.worker}: {done[0]}/{args.examples} "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    # Rounds of a few examples of every category, each round with its own seed: the
    # categories stay balanced however long the campaign runs (hypothesis on its own
    # favours the categories of the examples it has already mutated).
    chunk = max(1, min(ROUND, args.examples // len(kinds)))
    round_number = 0
    while done[0] < args.examples and not (
            args.stop_after and time.monotonic() - started > args.stop_after):
        for k, category in enumerate(kinds):
            run_seed = (args.seed * 1_000_003 + round_number * 1009 + k) % 2**32

            @seed(run_seed)
            @settings(max_examples=chunk, database=None, deadline=None, derandomize=False,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(fuzz_cases((category,)))
            def campaign(case: FuzzCase) -> None:
                check(case)

            campaign()
        round_number += 1
    return 0


# ---------------------------------------------------------------------------- reduction


def _same(case: FuzzCase, wanted: str, timeout_s: float, memory: int, workdir: str,
          budget: list[int]) -> bool:
    if budget[0] <= 0:
        return False
    budget[0] -= 1
    return signature_of(check_forked(case, timeout_s, memory, workdir)) == wanted


def reduce_case(case: FuzzCase, wanted: str, timeout_s: float, memory: int, workdir: str,
                attempts: int) -> FuzzCase:
    """Greedy reduction keeping the failure's signature: drop keys and list items of the
    document (when it reads as YAML and re-renders to the same failure), then lines."""
    import yaml

    budget = [attempts]
    best = case
    try:
        document = yaml.safe_load(case.data)
    except Exception:  # noqa: BLE001
        document = None
    if isinstance(document, dict):
        trial = FuzzCase(case.category, render(document).encode("utf-8", "surrogatepass"),
                         case.notes, case.filename, case.structured)
        if _same(trial, wanted, timeout_s, memory, workdir, budget):
            best = trial
            changed = True
            while changed and budget[0] > 0:
                changed = False
                for path in sorted((p for p in walk(document) if p), key=len):
                    try:
                        get_at(document, path)
                    except (KeyError, IndexError, TypeError):
                        continue
                    candidates = []
                    value = get_at(document, path)
                    smaller = json_copy(document)
                    candidates.append(delete_at(smaller, path))
                    if isinstance(value, list) and len(value) > 1:
                        for keep in (value[:1], value[-1:], value[: len(value) // 2]):
                            candidates.append(set_at(json_copy(document), path, keep))
                    for candidate in candidates:
                        try:
                            text = render(candidate).encode("utf-8", "surrogatepass")
                        except Exception:  # noqa: BLE001
                            continue
                        if len(text) >= len(best.data):
                            continue
                        trial = FuzzCase(case.category, text, case.notes, case.filename,
                                         case.structured)
                        if _same(trial, wanted, timeout_s, memory, workdir, budget):
                            document, best, changed = candidate, trial, True
                            break
    # Lines: drop chunks of lines, halving the chunk size (ddmin-like).
    lines = best.data.split(b"\n")
    size = max(len(lines) // 2, 1)
    while size >= 1 and budget[0] > 0:
        k, progressed = 0, False
        while k < len(lines) and budget[0] > 0:
            trial_lines = lines[:k] + lines[k + size:]
            trial = FuzzCase(case.category, b"\n".join(trial_lines), case.notes, case.filename,
                             case.structured)
            if trial_lines and _same(trial, wanted, timeout_s, memory, workdir, budget):
                lines, best, progressed = trial_lines, trial, True
            else:
                k += size
        if not progressed:
            size //= 2
    return best


def json_copy(document: Any) -> Any:
    """A deep copy of a document."""
    import copy

    return copy.deepcopy(document)


# ---------------------------------------------------------------------------- the campaign


def campaign(args: argparse.Namespace) -> int:
    """Start the workers, watch them, then summarize."""
    out = Path(args.out or tempfile.mkdtemp(prefix="fuzz-campaign-"))
    out.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    import sim

    print(f"fuzz campaign: testing {Path(sim.__file__).parent}", flush=True)
    print(f"fuzz campaign: {args.examples} examples, seed {seed}, {args.workers} workers, "
          f"timeout {args.timeout:g} s, results in {out}", flush=True)
    started = time.monotonic()
    share = [args.examples // args.workers + (1 if i < args.examples % args.workers else 0)
             for i in range(args.workers)]
    hard_limit = 3 * args.timeout + 15  # validate, run, and the rerun with the traceback
    restarts = [0]

    def start(i: int, n: int, worker_seed: int) -> subprocess.Popen[bytes]:
        for path in current_paths(out, i):
            path.unlink(missing_ok=True)
        command = [sys.executable, __file__, "--worker", str(i), "--seed", str(worker_seed),
                   "--examples", str(n), "--out", str(out), "--timeout", str(args.timeout),
                   "--memory-mb", str(args.memory_mb)]
        if args.kinds:
            command += ["--kinds", args.kinds]
        if args.fork:
            command += ["--fork"]
        if args.stop_after:
            left = args.stop_after - (time.monotonic() - started)
            command += ["--stop-after", str(max(left, 1.0))]
        return subprocess.Popen(command)

    def logged(i: int) -> int:
        path = out / f"worker-{i}.jsonl"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def charge(i: int, outcome: Outcome) -> None:
        """Record the case worker i was checking when it hung or died."""
        data_path, meta_path = current_paths(out, i)
        if not (data_path.exists() and meta_path.exists()):
            return
        meta = json.loads(meta_path.read_text())
        case = FuzzCase(meta["category"], data_path.read_bytes(), meta["notes"],
                        meta["filename"], meta["structured"])
        record = save_failure(out, f"w{i}-{meta['index']:06d}-r{restarts[0]}", case, outcome)
        with open(out / f"worker-{i}.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")

    procs = {i: start(i, n, seed + i) for i, n in enumerate(share) if n}
    codes: list[int] = []
    while procs:
        time.sleep(1.0)
        for i, proc in list(procs.items()):
            code = proc.poll()
            beat = current_paths(out, i)[1]
            stale = (code is None and not args.fork and beat.exists()
                     and time.time() - beat.stat().st_mtime > hard_limit)
            if code == 0:
                codes.append(code)
                del procs[i]
                continue
            if stale:
                proc.kill()
                proc.wait()
                charge(i, Outcome(None, None, "hang", f"the worker was stuck on this case for "
                                  f"{hard_limit:g} s (beyond the alarm: in C code?)"))
            elif code is not None:
                kind = "memory" if code == -signal.SIGKILL else "crash"
                charge(i, Outcome(None, None, kind, f"the worker died (exit status {code})"))
            else:
                continue
            restarts[0] += 1
            left = share[i] - logged(i)
            if restarts[0] > 50 or left <= 0 or (
                    args.stop_after and time.monotonic() - started > args.stop_after):
                codes.append(code if code is not None else -9)
                del procs[i]
            else:
                procs[i] = start(i, left, seed + 1000 * restarts[0] + i)
    elapsed = time.monotonic() - started
    return summarize(out, args, seed, elapsed, codes)


def summarize(out: Path, args: argparse.Namespace, seed: int | None, elapsed: float | None,
              codes: list[int]) -> int:
    """Print the table of a campaign folder and group, save and reduce its failures."""
    records = []
    for path in sorted(out.glob("worker-*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line]
    by_category: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter)
    for record in records:
        by_category[record["category"]][record["outcome"]] += 1
    labels = sorted({r["outcome"] for r in records}, key=lambda s: (s.startswith("FAIL"), s))
    width = max([len(c) for c in by_category] + [8])
    if elapsed is not None:
        print(f"\n{len(records)} cases in {elapsed:.0f} s "
              f"({len(records) / max(elapsed, 1e-9):.1f} a second); workers exited {codes}\n")
    else:
        print(f"\n{len(records)} cases in {out}\n")
    print(f"{'category':<{width}}  {'cases':>6}  " + "  ".join(f"{x:>14}" for x in labels))
    totals: collections.Counter[str] = collections.Counter()
    for category in sorted(by_category, key=lambda c: CATEGORIES.index(c)
                           if c in CATEGORIES else 99):
        counts = by_category[category]
        totals.update(counts)
        print(f"{category:<{width}}  {sum(counts.values()):>6}  "
              + "  ".join(f"{counts.get(x, 0):>14}" for x in labels))
    print(f"{'total':<{width}}  {sum(totals.values()):>6}  "
          + "  ".join(f"{totals.get(x, 0):>14}" for x in labels))
    notes = collections.Counter(r["note"].splitlines()[-1][:150] for r in records if r["note"])
    if notes:
        print("\nvalidate accepted but run refused (not failures):")
        for note, count in notes.most_common(10):
            print(f"  {count:>5} x {note}")

    failing = [r for r in records if "signature" in r]
    for record in failing:  # signatures as this version draws them
        meta = json.loads((out / "failures" / record["file"]).with_suffix(".json").read_text())
        record["signature"] = signature_of(Outcome(None, None, meta["failure"], "",
                                                   meta["exception"], meta["where"]))
    summary: dict[str, Any] = {"seed": seed, "examples": len(records), "seconds": elapsed,
                               "by_category": by_category, "failures": {}}
    if failing:
        groups: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for record in failing:
            groups[record["signature"]].append(record)
        minimal = out / "minimal"
        minimal.mkdir(exist_ok=True)
        workdir = tempfile.mkdtemp(prefix="fuzz-reduce-", dir=WORKDIR)
        preload()
        print(f"\n{len(failing)} failing cases, {len(groups)} distinct "
              f"(saved in {out / 'failures'}):")
        for sig, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            smallest = min(members, key=lambda r: (out / "failures" / r["file"]).stat().st_size)
            meta = json.loads((out / "failures" / smallest["file"]).with_suffix(".json")
                              .read_text())
            case = FuzzCase(meta["category"], (out / "failures" / smallest["file"]).read_bytes(),
                            meta["notes"], meta["filename"], meta["structured"])
            categories = collections.Counter(r["category"] for r in members)
            print(f"  {len(members):>5} x {sig}   [{', '.join(categories)}]")
            target = minimal / f"{slug(sig)}.yaml"
            if args.reduce:
                attempts = 40 if meta["failure"] == "hang" else args.reduce_attempts
                reduced = reduce_case(case, sig, args.timeout, args.memory_mb * 2**20, workdir,
                                      attempts)
                target.write_bytes(reduced.data)
                print(f"          reduced to {len(reduced.data)} bytes: {target}")
            else:
                target.write_bytes(case.data)
                print(f"          smallest ({len(case.data)} bytes): {target}")
            summary["failures"][sig] = {"count": len(members), "minimal": str(target),
                                        "categories": categories, "example": smallest["file"]}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"\nresults: {out}  (summary.json, failures/, minimal/)")
    return 1 if failing or any(codes) else 0


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5000,
                        help="cases in all (default 5000)")
    parser.add_argument("--seed", type=int, help="the first worker's seed (default: random)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="seconds each of validate and run may take (default 20)")
    parser.add_argument("--memory-mb", type=int, default=3072,
                        help="address space a check may add (default 3072 MB)")
    parser.add_argument("--out", help="results folder (default: a new temporary folder)")
    parser.add_argument("--kinds", help="comma-separated categories, such as "
                        "valid,mutation:geometry,raw:tag (default: all)")
    parser.add_argument("--stop-after", type=float, default=0.0,
                        help="stop drawing new cases after this many seconds")
    parser.add_argument("--no-reduce", dest="reduce", action="store_false",
                        help="save the smallest failing case of each kind, unreduced")
    parser.add_argument("--reduce-attempts", type=int, default=300)
    parser.add_argument("--fork", action="store_true",
                        help="check each case in a forked child (slower; isolates every case)")
    parser.add_argument("--summarize", metavar="DIR", help="only print the table of an "
                        "earlier campaign's folder and reduce its failures again")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return worker(args)
    if args.summarize:
        preload()
        return summarize(Path(args.summarize), args, None, None, [])
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
