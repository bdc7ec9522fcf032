"""Interrupting `deconflict run` and `deconflict sweep` with SIGINT, SIGTERM and SIGKILL.

Real subprocesses (``python -m sim ...``). To stop a process at a known step of its write
without racing it, the subprocesses get a ``sitecustomize`` (written by these tests, put
first on PYTHONPATH) that logs every file-system step inside the watched folder (mkdir,
rename, replace, fsync, and the opening of the scenario file) and can hold the process
right after the N-th step (or the first step matching a pattern): the test waits for the
hook's marker file, then sends the signal, so the signal lands exactly after that step.
The steps to stop at are read from the log of the same command run uninterrupted, so the
tests follow the implementation's own sequence of steps. Nothing else is changed in the
subprocess.

States accepted after a signal:
- ``run`` into a fresh OUT: OUT absent, or complete and byte-identical to the same run
  done uninterrupted.
- ``run --force`` over a previous run folder: OUT byte-identical to the previous folder
  or to the new run; never missing, never partial.
- SIGINT (sent to the process group, as Ctrl-C does) and SIGTERM (to the process, as
  ``kill`` does): nothing hidden left beside OUT, exit code 130 (SIGINT) / 143 (SIGTERM;
  death by the signal itself, -15, is accepted too as long as everything was cleaned
  up), no traceback on stderr.
- SIGKILL: debris may remain, but the next ``run --force`` into OUT must succeed and
  leave exactly OUT (the stale hidden folders of the dead process cleared).
- sweeps (a process pool; SIGINT to the group, SIGTERM and SIGKILL to the sweep's own
  process): the store passes ``PRAGMA integrity_check`` after any signal; the same
  command run again right away is accepted and finishes the sweep, its summary.csv and
  rows equal to an uninterrupted sweep's; after SIGINT/SIGTERM no worker process lives on
  and no hidden ``.*.partial-PID`` file is left in the sweep folder (the run folder's
  no-debris rule applied to the sweep folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sim.io.read import load_run_folder

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
RUN_SCENARIO = SCENARIOS / "encounters.yaml"  # ~1 s a run: every rule type, a hotline
PREVIOUS_ARGS = ("--duration", "30 min")  # the run folder that `run --force` replaces
SWEEP_SCENARIO = SCENARIOS / "euphrates_dec2017.yaml"
SWEEP_ARGS = ("--duration", "8 h", "--grid", "hotline.latency=0 min,4 h",
              "--grid", "parties.russia.compliance=0.0,1.0", "--replications", "2",
              "--workers", "2")  # 4 points x 2 replications on a process pool: ~3-5 s
OUT = "out"
TIMEOUT = 90  # seconds: only a hung process ever gets near it

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
SIGNAL_IDS = [s.name for s in SIGNALS]

HOOK_SOURCE = r'''
"""Written by tests/test_signals.py: log (and optionally hold) file-system steps."""
import builtins
import io
import os
import re
import time

_WATCH = os.environ.get("SIGTEST_WATCH")
if _WATCH:
    _WATCH = os.path.realpath(_WATCH)
    _LOG = os.environ["SIGTEST_LOG"]
    _INPUT = os.path.realpath(os.environ.get("SIGTEST_INPUT") or "/nonexistent")
    _PAUSE = int(os.environ.get("SIGTEST_PAUSE") or "0")
    _MATCH = os.environ.get("SIGTEST_PAUSE_MATCH") or ""
    _MARKER = os.environ.get("SIGTEST_MARKER") or ""
    _PID = os.getpid()
    _state = {"count": 0, "held": False}
    _real = {name: getattr(os, name) for name in ("mkdir", "rename", "replace", "fsync")}
    _real_open = builtins.open

    def _rel(path):
        try:
            p = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return None
        if p == _INPUT:
            return "<input>"
        if p == _WATCH:
            return "."
        if p.startswith(_WATCH + os.sep):
            return p[len(_WATCH) + 1:]
        return None

    def _event(kind, *paths):
        if os.getpid() != _PID:  # a forked worker: not the process under test
            return
        names = [_rel(p) for p in paths]
        if all(n is None for n in names):
            return
        _state["count"] += 1
        line = f"{kind} {' '.join(str(n) for n in names)}"
        with _real_open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(f"{_state['count']} {line}\n")
        hold = (_state["count"] == _PAUSE if _PAUSE else
                bool(_MATCH) and not _state["held"] and re.search(_MATCH, line) is not None)
        if hold:
            _state["held"] = True
            with _real_open(_MARKER, "w", encoding="utf-8") as handle:
                handle.write(f"{_state['count']} {line}\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the test signals us now
                time.sleep(0.02)

    def _wrap(name):
        real = _real[name]

        def hooked(*args, **kwargs):
            result = real(*args, **kwargs)
            if name == "fsync":
                fd = args[0] if args else kwargs.get("fd")
                fd = fd.fileno() if hasattr(fd, "fileno") else fd
                try:
                    path = os.readlink(f"/proc/self/fd/{int(fd)}")
                except (OSError, TypeError, ValueError):
                    path = None
                if path is not None:
                    _event(name, path)
            elif name == "mkdir":
                _event(name, args[0] if args else kwargs.get("path"))
            else:
                _event(name, *(args[:2] if len(args) >= 2 else
                               (kwargs.get("src"), kwargs.get("dst"))))
            return result
        return hooked

    for _name in _real:
        setattr(os, _name, _wrap(_name))

    def _open(file, *args, **kwargs):
        handle = _real_open(file, *args, **kwargs)
        if isinstance(file, (str, bytes, os.PathLike)) and _rel(file) == "<input>":
            _event("open", file)
        return handle

    builtins.open = _open
    io.open = _open
'''


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sigtest-hook")
    (folder / "sitecustomize.py").write_text(HOOK_SOURCE, encoding="utf-8")
    return folder


@dataclass
class Case:
    """One subprocess's world: ``work`` is its cwd and OUT's parent (watched by the hook);
    ``meta`` holds its log, marker, stdout, stderr and TMPDIR, outside ``work``."""

    root: Path
    work: Path = field(init=False)
    meta: Path = field(init=False)

    def __post_init__(self) -> None:
        self.work = self.root / "work"
        self.meta = self.root / "meta"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.meta / "tmp").mkdir(parents=True, exist_ok=True)

    @property
    def out(self) -> Path:
        return self.work / OUT


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    case: Case
    tag: str
    marker: Path
    log: Path

    def stderr(self) -> str:
        return (self.case.meta / f"{self.tag}.stderr").read_text("utf-8", "replace")

    def events(self) -> list[str]:
        return self.log.read_text("utf-8").splitlines() if self.log.exists() else []


def launch(hook: Path, case: Case, args: Sequence[str], tag: str, *, watch: Path | None = None,
           scenario: Path | None = None, pause: int = 0, pause_match: str = "") -> Launched:
    """Start ``python -m sim ARGS`` in ``case.work`` (a session of its own, so that a
    Ctrl-C can be sent to its process group and leftovers reaped)."""
    env = dict(os.environ)
    env.pop("DECONFLICT_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(hook), str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    log = case.meta / f"{tag}.events"
    marker = case.meta / f"{tag}.held"
    log.unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    env.update(SIGTEST_WATCH=str(watch or case.work), SIGTEST_LOG=str(log),
               SIGTEST_INPUT=str(scenario or ""), SIGTEST_PAUSE=str(pause),
               SIGTEST_PAUSE_MATCH=pause_match, SIGTEST_MARKER=str(marker),
               TMPDIR=str(case.meta / "tmp"))
    with open(case.meta / f"{tag}.stdout", "wb") as stdout, \
            open(case.meta / f"{tag}.stderr", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=case.work, env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    return Launched(proc, case, tag, marker, log)


def finish(launched: Launched) -> int:
    try:
        return launched.proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        reap(launched)
        raise


def reap(launched: Launched) -> bool:
    """Kill whatever is left of the subprocess's own process group (orphaned workers);
    True if anything was left."""
    try:
        os.killpg(launched.proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        os.killpg(launched.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    launched.proc.poll()
    return True


def group_alive(launched: Launched) -> bool:
    try:
        os.killpg(launched.proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_for(launched: Launched, ready: Callable[[], bool], what: str) -> bool:
    """Poll until ``ready()``; False if the process ended first."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return True
        if launched.proc.poll() is not None:
            return ready()
        time.sleep(0.01)
    reap(launched)
    raise AssertionError(f"{launched.tag}: timed out waiting for {what}")


def send(launched: Launched, sig: signal.Signals) -> None:
    """Ctrl-C goes to the whole foreground process group; `kill` to the one process."""
    if sig == signal.SIGINT:
        os.killpg(launched.proc.pid, sig)
    else:
        launched.proc.send_signal(sig)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def exit_problems(sig: signal.Signals, rc: int, stderr: str) -> list[str]:
    problems = []
    if sig == signal.SIGINT and rc != 130:
        problems.append(f"exit code {rc}, expected 130")
    # Every stop is sent while the command runs, where SIGTERM is an interrupt (exit 143),
    # never the default death by the signal.
    if sig == signal.SIGTERM and rc != 143:
        problems.append(f"exit code {rc}, expected 143")
    if sig == signal.SIGKILL and rc != -signal.SIGKILL:
        problems.append(f"exit code {rc}, expected death by SIGKILL")
    if sig != signal.SIGKILL and rc in (0, 1):
        problems.append(f"exit code {rc} after {sig.name}")
    if "Traceback" in stderr:
        problems.append("a traceback on stderr:\n" + stderr[-1500:])
    return problems


def parse_events(lines: Sequence[str]) -> list[tuple[int, str]]:
    out = []
    for line in lines:
        number, text = line.split(" ", 1)
        out.append((int(number), text))
    return out


def describe(text: str) -> str:
    return re.sub(r"-\d+", "-PID", text)


# --------------------------------------------------------------------------- run folders


@dataclass
class RunRefs:
    previous: dict[str, bytes]
    new: dict[str, bytes]
    fresh_events: list[tuple[int, str]]
    force_events: list[tuple[int, str]]
    cases: dict[str, Case]


NEW_ARGS = ("run", str(RUN_SCENARIO), "--out", OUT)


@pytest.fixture(scope="module")
def run_refs(hook: Path, tmp_path_factory: pytest.TempPathFactory) -> RunRefs:
    """The uninterrupted runs: the previous folder, the new run into a fresh OUT, and the
    new run with --force over the previous folder (each with its log of steps)."""
    base = tmp_path_factory.mktemp("sigtest-refs")
    cases = {name: Case(base / name) for name in ("previous", "fresh", "force")}
    fresh = launch(hook, cases["fresh"], NEW_ARGS, "ref", scenario=RUN_SCENARIO)
    previous = launch(hook, cases["previous"], (*NEW_ARGS, *PREVIOUS_ARGS), "ref",
                      scenario=RUN_SCENARIO)
    for launched in (fresh, previous):
        assert finish(launched) == 0, launched.stderr()
    shutil.copytree(cases["previous"].out, cases["force"].out)
    force = launch(hook, cases["force"], (*NEW_ARGS, "--force"), "ref", scenario=RUN_SCENARIO)
    assert finish(force) == 0, force.stderr()
    for case in cases.values():
        load_run_folder(case.out)  # complete and well formed
    new = folder_bytes(cases["fresh"].out)
    assert folder_bytes(cases["force"].out) == new, "run --force differs from a fresh run"
    old = folder_bytes(cases["previous"].out)
    assert old != new and set(old) == set(new)
    return RunRefs(old, new, parse_events(fresh.events()), parse_events(force.events()), cases)


def stages(events: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Where to stop a run: just after the scenario file is opened (loading, then flying),
    after the first file of the hidden partial folder is written, after every rename, and
    after the last step of the write."""
    chosen: dict[int, str] = {}
    opened = [e for e in events if e[1].startswith("open ")]
    if opened:
        chosen[opened[0][0]] = opened[0][1]
    partial_fsync = [e for e in events if e[1].startswith("fsync ") and ".partial-" in e[1]]
    if partial_fsync:
        chosen[partial_fsync[0][0]] = partial_fsync[0][1]
    for number, text in events:
        if text.startswith(("rename ", "replace ")):
            chosen[number] = text
    if events:
        chosen[events[-1][0]] = events[-1][1]
    return sorted(chosen.items())


def interrupt_run(hook: Path, refs: RunRefs, root: Path, kind: str, sig: signal.Signals,
                  stage: tuple[int, str]) -> list[str]:
    """Run the new run (fresh OUT or --force over the previous folder), stop it after
    step ``stage``, send ``sig``, and return what is wrong with what it left."""
    number, text = stage
    where = f"{kind} run, {sig.name} after step #{number} ({describe(text)})"
    case = Case(root / f"{kind}-{sig.name}-{number}")
    args: tuple[str, ...] = NEW_ARGS
    if kind == "force":
        shutil.copytree(refs.cases["previous"].out, case.out)
        args = (*NEW_ARGS, "--force")
    launched = launch(hook, case, args, "cut", scenario=RUN_SCENARIO, pause=number)
    try:
        if not wait_for(launched, launched.marker.exists, f"step #{number}"):
            return [f"{where}: the run finished without reaching that step "
                    f"(exit {launched.proc.returncode}); its steps: {launched.events()}"]
        send(launched, sig)
        rc = finish(launched)
    finally:
        reap(launched)
    problems = [f"{where}: {p}" for p in exit_problems(sig, rc, launched.stderr())]
    entries = listing(case.work)
    state = "missing"
    if case.out.exists():
        got = folder_bytes(case.out)
        if got == refs.new:
            state = "new"
        elif kind == "force" and got == refs.previous:
            state = "previous"
        else:
            state = "partial"
            problems.append(f"{where}: OUT is neither the previous folder nor the complete new "
                            f"run: holds {sorted(got)}")
    if kind == "force" and state == "missing":
        problems.append(f"{where}: OUT is missing (the previous folder is gone); beside it: "
                        f"{entries}")
    debris = [e for e in entries if e != OUT]
    if sig != signal.SIGKILL:
        if debris:
            problems.append(f"{where}: hidden debris left beside OUT: {describe(str(debris))}")
        return problems
    # After SIGKILL: debris may remain; the next run must succeed and clear it.
    after = launch(hook, case, (*NEW_ARGS, "--force"), "next")
    rc = finish(after)
    if rc != 0:
        problems.append(f"{where} (state {state}, beside it {describe(str(debris))}): the next "
                        f"`run --force` exited {rc}: {after.stderr()[-800:]}")
    elif listing(case.work) != [OUT]:
        problems.append(f"{where}: after the next run the parent holds "
                        f"{describe(str(listing(case.work)))} (debris {describe(str(debris))} "
                        "of the killed process not cleared)")
    elif folder_bytes(case.out) != refs.new:
        problems.append(f"{where}: the next run's OUT differs from the uninterrupted run")
    return problems


def run_stages(hook: Path, refs: RunRefs, root: Path, kind: str, sig: signal.Signals) -> None:
    events = refs.fresh_events if kind == "fresh" else refs.force_events
    chosen = stages(events)
    assert len(chosen) >= 3, f"too few steps logged for the {kind} run: {events}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s: interrupt_run(hook, refs, root, kind, sig, s),
                                chosen))
    problems = [p for r in results for p in r]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_run_into_fresh_out_interrupted(hook: Path, run_refs: RunRefs, tmp_path: Path,
                                        sig: signal.Signals) -> None:
    """`run` into a fresh OUT, stopped at each step of its write: OUT absent or the complete
    run, byte-identical to the uninterrupted one."""
    run_stages(hook, run_refs, tmp_path, "fresh", sig)


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_run_force_over_previous_interrupted(hook: Path, run_refs: RunRefs, tmp_path: Path,
                                             sig: signal.Signals) -> None:
    """`run --force` over a previous run folder, stopped at each step: OUT is the previous
    folder or the new one, byte for byte, never missing or partial."""
    run_stages(hook, run_refs, tmp_path, "force", sig)


def test_stale_debris_of_a_killed_run_is_recovered(hook: Path, run_refs: RunRefs,
                                                   tmp_path: Path) -> None:
    """OUT missing, a complete `.OUT.old-PID` and a half `.OUT.partial-PID` of a dead
    process beside it (a SIGKILL between the two renames): the next run puts the old
    folder back first (so without --force it refuses, OUT intact) and clears the debris."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    case = Case(tmp_path / "stale")
    shutil.copytree(run_refs.cases["previous"].out, case.work / f".{OUT}.old-{dead.pid}")
    partial = case.work / f".{OUT}.partial-{dead.pid}"
    partial.mkdir()
    (partial / "summary.json").write_bytes(run_refs.new["summary.json"])
    (partial / "events.csv").write_bytes(run_refs.new["events.csv"][:100])

    refused = launch(hook, case, NEW_ARGS, "no-force")
    rc = finish(refused)
    assert listing(case.work) == [OUT], (
        f"after `run` (exit {rc}) beside a dead process's debris the parent holds "
        f"{listing(case.work)}; expected the old folder restored as OUT and the partial "
        f"cleared\n{refused.stderr()}")
    assert folder_bytes(case.out) == run_refs.previous, "the restored OUT is not the previous"
    assert rc == 2, f"`run` without --force over the restored folder exited {rc}"

    forced = launch(hook, case, (*NEW_ARGS, "--force"), "force")
    assert finish(forced) == 0, forced.stderr()
    assert listing(case.work) == [OUT]
    assert folder_bytes(case.out) == run_refs.new


def test_run_writes_nothing_outside_out(run_refs: RunRefs) -> None:
    """After uninterrupted runs (fresh and --force), OUT's parent (also the cwd) holds
    exactly OUT, and the process's TMPDIR is left empty."""
    for name, case in run_refs.cases.items():
        assert listing(case.work) == [OUT], f"{name}: {listing(case.work)}"
        assert listing(case.meta / "tmp") == [], f"{name}: TMPDIR: {listing(case.meta / 'tmp')}"


# --------------------------------------------------------------------------- sweeps


SWEEP_COMMAND = ("sweep", str(SWEEP_SCENARIO), *SWEEP_ARGS, "--out", OUT)
FINALISE_STEP = r"^fsync \.results\.sqlite\.partial-\d+$"  # the canonical store, not yet in place


def store_rows(path: Path) -> list[tuple[Any, ...]]:
    """The results table's rows, each as sorted (column, value) pairs, sorted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = sorted(r[1] for r in conn.execute("PRAGMA table_info(results)"))
        rows = conn.execute(f"SELECT {', '.join(json.dumps(n) for n in names)} "
                            "FROM results").fetchall()
    finally:
        conn.close()
    return sorted((tuple(zip(names, row, strict=True)) for row in rows), key=repr)


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the store, opened as the next sweep would (a hot
    journal left by a kill is rolled back by this open)."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        return ";".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def committed_rows(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(conn.execute("SELECT count(*) FROM results").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@dataclass
class SweepRef:
    summary: bytes
    definition: bytes
    rows: list[tuple[Any, ...]]
    problems: list[str]


def sweep_reference(hook: Path, root: Path) -> SweepRef:
    """The sweep run once, uninterrupted."""
    case = Case(root)
    launched = launch(hook, case, SWEEP_COMMAND, "ref", watch=case.out)
    assert finish(launched) == 0, launched.stderr()
    problems = []
    if listing(case.work) != [OUT]:
        problems.append(f"uninterrupted sweep: OUT's parent holds {listing(case.work)}")
    if not any(re.match(FINALISE_STEP, text) for _, text in parse_events(launched.events())):
        problems.append(f"uninterrupted sweep: no step matched {FINALISE_STEP!r}, so the "
                        f"finalisation stage is not exercised; its steps: {launched.events()}")
    rows = store_rows(case.out / "results.sqlite")
    assert len(rows) == 8, rows
    return SweepRef((case.out / "summary.csv").read_bytes(),
                    (case.out / "sweep.yaml").read_bytes(), rows, problems)


def sweep_state_problems(case: Case, where: str, sig: signal.Signals) -> list[str]:
    """What is wrong with a sweep folder just after ``sig`` stopped its sweep."""
    problems = []
    store = case.out / "results.sqlite"
    if not store.exists():
        problems.append(f"{where}: no results.sqlite")
    else:
        check = integrity(store)
        if check != "ok":
            problems.append(f"{where}: integrity_check: {check}")
    if listing(case.work) != [OUT]:
        problems.append(f"{where}: OUT's parent holds {listing(case.work)}")
    inside = [n for n in listing(case.out) if ".partial-" in n]
    if sig != signal.SIGKILL and inside:
        problems.append(f"{where}: hidden partial files left in OUT: {describe(str(inside))}")
    return problems


@dataclass
class SweepChain:
    problems: list[str]
    case: Case
    final_exit: int | None


def sweep_chain(hook: Path, root: Path, sig: signal.Signals) -> SweepChain:
    """Stop a sweep with ``sig`` once rows are committed; run the same command again and
    stop it with ``sig`` while it finalises the store; run it again to the end."""
    case = Case(root)
    problems: list[str] = []
    store = case.out / "results.sqlite"
    first = launch(hook, case, SWEEP_COMMAND, "first", watch=case.out)
    second = third = None
    try:
        # 1. Stopped with rows committed and others running.
        if not wait_for(first, lambda: committed_rows(store) >= 1, "a committed row"):
            return SweepChain([f"{sig.name}: the sweep ended (exit {first.proc.returncode}) "
                               f"before a row was seen: {first.stderr()[-400:]}"], case, None)
        send(first, sig)
        rc = finish(first)
        where = f"{sig.name} with {committed_rows(store)}/8 rows committed"
        problems += [f"{where}: {p}" for p in exit_problems(sig, rc, first.stderr())]
        problems += sweep_state_problems(case, where, sig)
        if sig != signal.SIGKILL and group_alive(first):
            time.sleep(1)  # a worker finishing its row may take a moment to go
            if group_alive(first):
                problems.append(f"{where}: worker processes still running after the sweep "
                                "exited")

        # 2. The same command, stopped once the canonical store is written to its hidden
        #    partial file and before that file replaces results.sqlite. If it is refused
        #    because processes of the stopped sweep live on holding the folder's lock, that
        #    is reported, they are killed, and it is tried once more.
        for attempt in (1, 2):
            second = launch(hook, case, SWEEP_COMMAND, f"second-{attempt}", watch=case.out,
                            pause_match=FINALISE_STEP)
            if wait_for(second, second.marker.exists, "the store's finalisation"):
                send(second, sig)
                rc = finish(second)
                at = f"{sig.name} while finalising the store"
                problems += [f"{at}: {p}" for p in exit_problems(sig, rc, second.stderr())]
                problems += sweep_state_problems(case, at, sig)
            elif (attempt == 1 and second.proc.returncode == 2
                  and "another sweep" in second.stderr() and reap(first)):
                problems.append(f"{where}: the same sweep run again right after is refused "
                                "while the stopped sweep's worker processes live on, holding "
                                "the folder's lock: "
                                f"{' '.join(second.stderr().split())[-120:]}")
                continue
            elif second.proc.returncode != 0:
                problems.append(f"{where}: the same sweep run again exited "
                                f"{second.proc.returncode}: {second.stderr()[-400:]}")
            else:
                problems.append(f"{sig.name}: the re-run finished without a step matching "
                                f"{FINALISE_STEP!r}; the finalisation stage was not exercised")
            break
        reap(first)
        if second is not None:
            reap(second)

        # 3. The same command again, to the end.
        third = launch(hook, case, SWEEP_COMMAND, "third", watch=case.out)
        rc = finish(third)
        if rc != 0:
            problems.append(f"{sig.name}: the final re-run exited {rc}: {third.stderr()[-400:]}")
        return SweepChain(problems, case, rc)
    finally:
        for launched in (first, second, third):
            if launched is not None:
                reap(launched)


@pytest.fixture(scope="module")
def sweeps(hook: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[SweepRef, dict[signal.Signals, SweepChain]]:
    """The uninterrupted sweep and the three interrupted ones, run side by side."""
    base = tmp_path_factory.mktemp("sigtest-sweeps")
    with ThreadPoolExecutor(max_workers=4) as pool:
        reference = pool.submit(sweep_reference, hook, base / "reference")
        chains = {sig: pool.submit(sweep_chain, hook, base / sig.name, sig) for sig in SIGNALS}
        return reference.result(), {sig: future.result() for sig, future in chains.items()}


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_sweep_interrupted_then_rerun(sweeps: tuple[SweepRef, dict[signal.Signals, SweepChain]],
                                      sig: signal.Signals) -> None:
    """A process-pool sweep stopped once rows are committed, run again and stopped while
    its store is finalised, then run again to the end: the store is never corrupt, the
    re-runs are accepted, and summary.csv and the rows equal the uninterrupted sweep's."""
    reference, chains = sweeps
    chain = chains[sig]
    problems = list(chain.problems)
    out = chain.case.out
    if chain.final_exit == 0:
        store = out / "results.sqlite"
        check = integrity(store)
        if check != "ok":
            problems.append(f"after the final re-run: integrity_check: {check}")
        if (out / "summary.csv").read_bytes() != reference.summary:
            problems.append("after the final re-run: summary.csv differs from the "
                            "uninterrupted sweep's")
        if store_rows(store) != reference.rows:
            problems.append("after the final re-run: the store's rows differ from the "
                            "uninterrupted sweep's")
        if (out / "sweep.yaml").read_bytes() != reference.definition:
            problems.append("after the final re-run: sweep.yaml differs")
        if listing(chain.case.work) != [OUT]:
            problems.append(f"after the final re-run: OUT's parent holds "
                            f"{listing(chain.case.work)}")
        debris = [n for n in listing(out) if ".partial-" in n]
        if debris:
            problems.append(f"after the final re-run: hidden files in OUT: "
                            f"{describe(str(debris))}")
    assert not problems, "\n".join(problems)


def test_sweep_writes_nothing_outside_out(
        sweeps: tuple[SweepRef, dict[signal.Signals, SweepChain]]) -> None:
    """An uninterrupted sweep leaves exactly OUT in its parent (the cwd), and has the
    store-finalisation step that the interruption tests stop at."""
    reference, _ = sweeps
    assert not reference.problems, "\n".join(reference.problems)
