"""Side by side with BlueSky: whole-process wall time, and losses of separation pair by pair.

    python benchmarks/bluesky_compare.py                      # N = 100 and 500, 1 h each
    python benchmarks/bluesky_compare.py --sizes 100 --skip-default-step --json out.json
    python benchmarks/bluesky_compare.py --keep /tmp/bscmp    # keep the generated files

An optional benchmark. BlueSky (PyPI ``bluesky-simulator``, a time-stepped air-traffic
simulator) is installed into a virtual environment of its own (default
``benchmarks/.venv-bluesky/``, from ``benchmarks/requirements-bluesky.txt``) the first
time; if that or BlueSky's start-up fails, the script says what failed in one paragraph
and exits 0 with status ``skipped``.

For each N in ``--sizes``, one simulated hour:

a. Timing. The ``box-N-1h`` workload of ``benchmarks/run.py`` (N flights on random
   12-waypoint routes in a 400 km box, all departing at 0, constant speed and level),
   written as our scenario and as a BlueSky scenario (CRE at the first waypoint heading for
   the second, ADDWPT for the rest, LNAV on, state-based detection with a 5 nmi /
   1000 ft zone, no resolution, fast time, QUIT at 1 h). Whole processes: BlueSky headless
   (``bluesky --detached``) at its default step (0.05 s, detection every 1 s) and at
   ``DT 1``; ours ``python -m sim run``. Speeds: BlueSky takes CAS, so our true airspeed
   (= ground speed, no wind) is converted with BlueSky's own ``bluesky.tools.aero`` at each
   aircraft's altitude; BlueSky's performance model is replaced by its envelope-free base
   (a tiny plugin), and speeds and levels are read back from BlueSky's state.
b. Losses of separation, pair by pair. N straight single-leg flights converging on the
   frame centre (Deir ez-Zor) at three levels, plus crafted grazing encounters a few
   seconds long. BlueSky's losses are recorded by the plugin from ``traf.cd.lospairs``
   after every detection update; ours come from ``events.csv``; an exact oracle (the
   quadratic of the distance of two straight tracks, solved in closed form) is the
   reference. Only pairs of different parties count (our rule's default).

Our plane is the azimuthal equidistant projection of WGS84 centred on the frame centre;
BlueSky flies lat/lon on a sphere of 6371 km (constant heading, flat-earth distance). The
tracks are drawn in our plane and handed to BlueSky as start point, initial true heading
and speed (``--earth sphere`` maps the plane onto BlueSky's sphere instead of WGS84);
the script measures and reports how far BlueSky's aircraft end up from our tracks.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import yaml
from pyproj import Geod, Proj

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "requirements-bluesky.txt"
DEFAULT_VENV = HERE / ".venv-bluesky"
DURATION_S = 3600.0
NMI_M = 1852.0
FT_M = 0.3048
HORIZONTAL_M = 5 * NMI_M          # the protection zone: 5 nmi ...
VERTICAL_FT = 1000.0              # ... and |dz| < 1000 ft
TOLERANCE_S = 1e-3                # ours against the oracle
SPHERE_M = 6371000.0              # BlueSky's earth (bluesky.tools.aero.Rearth)
ACTYPE = "B744"                   # a label only: the envelope-free performance model
SEPARATION_LEVELS_FT = (20000.0, 20500.0, 23000.0)  # 500 ft apart (a loss), and clear
SEPARATION_RULES = [{"id": "loss_of_separation", "type": "min_separation",
                     "horizontal": "5 nmi", "vertical": "1000 ft"}]
PARTIES = ("coalition", "russia")
PLUGIN_NAME = "bscompare"

# The BlueSky plugin the script writes into BlueSky's working directory. It adds
# - PERF NOLIMITS: the performance base (wide limits, no envelope clamping). BlueSky 1.1.1's
#   own PERF OFF selects the proxied base class and recurses forever on the first step.
# - PAIRLOG: from now on, after every conflict-detection update, note which pairs are in
#   loss of separation (traf.cd.lospairs_unique) at the time of the positions it used.
# - PAIRSNAP: note every aircraft's state. PAIRSAVE: write both to $BSCOMPARE_OUT.
PLUGIN_SOURCE = '''\
""" Loss-of-separation pairs and aircraft states for bluesky_compare.py. """
import atexit
import json
import os

import bluesky as bs
from bluesky import core, stack
from bluesky.traffic.performance.perfbase import PerfBase


def init_plugin():
    """ Plugin initialisation function. """
    PairRecorder()
    config = {
        'plugin_name': 'BSCOMPARE',
        'plugin_type': 'sim',
    }
    return config


class NoLimits(PerfBase):
    """ BlueSky's performance base: no envelope limits, speeds and levels as commanded. """


def _name(entity):
    return type(getattr(entity, '_refobj', entity)).__name__


class PairRecorder(core.Entity):
    """ Records traf.cd.lospairs_unique after every detection update. """

    def __init__(self):
        super().__init__()
        self.active = False
        self.samples = 0
        self.inside = {}
        self.episodes = []
        self.snapshots = []
        self.saved = False
        atexit.register(self.save)

    @core.timed_function(name='bscompare_pairs', dt=0)
    def update(self):
        if not self.active or not bs.traf.asastimer.readynext:
            return
        # Detection ran in this step, on the positions before this step's move.
        t = bs.sim.simt - bs.sim.simdt
        self.samples += 1
        now = {tuple(sorted(pair)) for pair in bs.traf.cd.lospairs_unique}
        for pair in now.difference(self.inside):
            self.inside[pair] = t
        for pair in set(self.inside).difference(now):
            self.episodes.append([pair[0], pair[1], self.inside.pop(pair), t])

    @stack.command(name='PAIRLOG')
    def pairlog(self):
        """ Start recording loss-of-separation pairs. """
        self.active = True
        return True, 'PAIRLOG on'

    @stack.command(name='PAIRSNAP')
    def pairsnap(self):
        """ Note the state of every aircraft. """
        traf = bs.traf
        self.snapshots.append({
            't': bs.sim.simt, 'simdt': bs.sim.simdt, 'id': list(traf.id),
            'lat': traf.lat.tolist(), 'lon': traf.lon.tolist(), 'alt': traf.alt.tolist(),
            'tas': traf.tas.tolist(), 'cas': traf.cas.tolist(), 'hdg': traf.hdg.tolist(),
            'perf': _name(traf.perf), 'cd': _name(traf.cd), 'cr': _name(traf.cr),
            'rpz': traf.cd.rpz.tolist(), 'hpz': traf.cd.hpz.tolist()})
        return True

    @stack.command(name='PAIRSAVE')
    def pairsave(self):
        """ Write what was recorded to $BSCOMPARE_OUT. """
        self.save()
        return True

    def save(self):
        path = os.environ.get('BSCOMPARE_OUT')
        if self.saved or not path:
            return
        still = [[a, b, t, None] for (a, b), t in self.inside.items()]
        with open(path, 'w') as out:
            json.dump({'samples': self.samples, 'end_s': bs.sim.simt,
                       'episodes': self.episodes + still, 'snapshots': self.snapshots}, out)
        self.saved = True
'''

# Run inside BlueSky's environment: our true airspeeds to BlueSky's CAS (knots).
CAS_SNIPPET = """\
import json, sys
import numpy as np
from bluesky.tools import aero
data = json.load(sys.stdin)
cas = aero.vtas2cas(np.array(data["tas"], float), np.array(data["alt"], float)) / aero.kts
json.dump({"cas_kt": cas.tolist(), "nm": aero.nm, "ft": aero.ft, "rearth": aero.Rearth},
          sys.stdout)
"""
VERSION_SNIPPET = ("import importlib.metadata as m; "
                   "print(m.version('bluesky-simulator'))")


class Unavailable(Exception):
    """BlueSky could not be installed or started: the comparison is skipped."""


class BenchError(Exception):
    """A run failed after BlueSky was up: reported without a traceback."""


# --------------------------------------------------------------------------- environment

def create_venv(path: Path) -> None:
    """Create a virtual environment with pip (a seam for the tests). An existing one is
    kept, not cleared: ``--venv`` may name a folder that is not the script's own."""
    venv.EnvBuilder(with_pip=True).create(path)


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


@dataclass(frozen=True)
class BlueSky:
    """An installed BlueSky: its environment, working directory and version."""

    venv: Path
    workdir: Path
    version: str
    timeout_s: float

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, scenario: Path, record: Path) -> float:
        """Run one scenario headless, as a whole process; its wall seconds."""
        record.unlink(missing_ok=True)
        env = {**os.environ, "BSCOMPARE_OUT": str(record)}
        command = [str(self.venv / "bin" / "bluesky"), "--detached", "--workdir",
                   str(self.workdir), "--scenfile", str(scenario)]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env,
                                  cwd=self.workdir, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"BlueSky did not finish {scenario.name} within "
                             f"{self.timeout_s:g} s") from exc
        wall = time.perf_counter() - start
        if done.returncode != 0 or not record.exists():
            raise BenchError(f"BlueSky failed on {scenario.name} (exit {done.returncode}, "
                             f"no record written): {_tail(done.stdout + done.stderr)}")
        return wall

    def cas_knots(self, tas_mps: Sequence[float], alt_m: Sequence[float]) -> list[float]:
        """BlueSky's CAS (knots) for true airspeeds at altitudes, by its own aero module."""
        done = subprocess.run([str(self.python), "-c", CAS_SNIPPET], capture_output=True,
                              text=True, input=json.dumps({"tas": list(tas_mps),
                                                           "alt": list(alt_m)}))
        if done.returncode != 0:
            raise BenchError(f"bluesky.tools.aero failed: {_tail(done.stderr)}")
        result = json.loads(done.stdout)
        if (result["nm"], result["ft"], result["rearth"]) != (NMI_M, FT_M, SPHERE_M):
            raise BenchError(f"BlueSky's units differ from the script's: {result}")
        return [float(c) for c in result["cas_kt"]]


def ensure_bluesky(venv_dir: Path, requirements: Path = REQUIREMENTS,
                   timeout_s: float = 3600.0) -> BlueSky:
    """The BlueSky environment, created and installed when missing, and started once.
    Raises Unavailable with what failed."""
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv_dir / ".bluesky-compare-installed"
    python = venv_dir / "bin" / "python"
    if not (stamp.exists() and stamp.read_text().strip() == wanted and python.exists()):
        print(f"installing BlueSky into {venv_dir} (once) ...", file=sys.stderr, flush=True)
        try:
            create_venv(venv_dir)
        except Exception as exc:  # any failure to create it means: skipped
            raise Unavailable(f"creating the virtual environment {venv_dir} failed "
                              f"({type(exc).__name__}: {exc})") from exc
        try:
            done = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", "-r", str(requirements)],
                                  capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"pip could not install {requirements.name} "
                              f"({type(exc).__name__}: {exc})") from exc
        if done.returncode != 0:
            raise Unavailable(f"pip could not install {requirements.name} into {venv_dir} "
                              f"(exit {done.returncode}): {_tail(done.stderr)}")
        stamp.write_text(wanted + "\n")
    workdir = venv_dir / "workdir"
    (workdir / "plugins").mkdir(parents=True, exist_ok=True)
    (workdir / "plugins" / f"{PLUGIN_NAME}.py").write_text(PLUGIN_SOURCE)
    version = subprocess.run([str(python), "-c", VERSION_SNIPPET], capture_output=True,
                             text=True)
    if version.returncode != 0:
        raise Unavailable(f"BlueSky is not importable in {venv_dir}: "
                          f"{_tail(version.stderr)}")
    bluesky = BlueSky(venv_dir, workdir, version.stdout.strip(), timeout_s)
    # Start it once on a tiny scenario: the plugin loads, the navigation data is cached.
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "smoke.scn"
        scenario.write_text(scn_lines(header(dt1=False, record=False), [], [
            "CRE SMOKE1 B744 35.0 40.0 90 20000 300"], snaps=(0.0, 10.0), end_s=10.0))
        try:
            bluesky.run(scenario, Path(tmp) / "smoke.json")
        except BenchError as exc:
            raise Unavailable(f"BlueSky {bluesky.version} did not start: {exc}") from exc
        snap = json.loads((Path(tmp) / "smoke.json").read_text())["snapshots"]
        if not snap or snap[-1]["perf"] != "NoLimits":
            raise Unavailable("BlueSky started, but the comparison's plugin did not take "
                              "over its performance model")
    return bluesky


# --------------------------------------------------------------------------- geometry

class Frame:
    """Our plane (x east, y north, metres) to lon/lat and true headings."""

    def __init__(self, lon0: float, lat0: float, earth: str = "wgs84") -> None:
        shape = "+datum=WGS84" if earth == "wgs84" else f"+R={SPHERE_M:.0f}"
        self.proj = Proj(f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +x_0=0 +y_0=0 "
                         f"{shape} +units=m +no_defs")
        self.geod = (Geod(ellps="WGS84") if earth == "wgs84"
                     else Geod(a=SPHERE_M, b=SPHERE_M))

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self.proj(np.asarray(x, float), np.asarray(y, float), inverse=True)
        return np.asarray(lon, float), np.asarray(lat, float)

    def heading(self, x: np.ndarray, y: np.ndarray, ux: np.ndarray, uy: np.ndarray
                ) -> np.ndarray:
        """True heading (degrees) at (x, y) of the plane direction (ux, uy): the azimuth
        of a 10 m step along it."""
        norm = np.hypot(ux, uy)
        lon0, lat0 = self.lonlat(x, y)
        lon1, lat1 = self.lonlat(x + 10.0 * ux / norm, y + 10.0 * uy / norm)
        azimuth, _, _ = self.geod.inv(lon0, lat0, lon1, lat1)
        return np.asarray(azimuth, float) % 360.0

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.proj(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def distance(self, lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray,
                 lat1: np.ndarray) -> np.ndarray:
        _, _, metres = self.geod.inv(lon0, lat0, lon1, lat1)
        return np.asarray(metres, float)


def frame_centre() -> tuple[float, float]:
    """deir_ez_zor from our gazetteer (``frame: {center: deir_ez_zor}``)."""
    from sim.model.places import builtin_places

    return builtin_places()["deir_ez_zor"]


# --------------------------------------------------------------------------- scenarios

def header(dt1: bool, record: bool, cdmethod: str = "CSTATEBASED") -> list[str]:
    """The BlueSky set-up commands, before any aircraft."""
    lines = [f"PLUGINS LOAD {PLUGIN_NAME.upper()}", "PERF NOLIMITS"]
    if dt1:
        lines.append("DT 1")
    lines += [f"CDMETHOD {cdmethod}", f"ZONER {HORIZONTAL_M / NMI_M:g}",
              f"ZONEDH {VERTICAL_FT:g}", "RESO OFF"]
    if record:
        lines.append("PAIRLOG")
    return lines


def _stamp(t: float) -> str:
    hours, rest = divmod(t, 3600.0)
    minutes, seconds = divmod(rest, 60.0)
    return f"{int(hours):02d}:{int(minutes):02d}:{seconds:05.2f}"


def scn_lines(setup: Sequence[str], comment: Sequence[str], aircraft: Sequence[str],
              snaps: Sequence[float] = (0.0, 1800.0, DURATION_S),
              end_s: float = DURATION_S) -> str:
    """A BlueSky scenario: set-up and aircraft at 0, fast time, snapshots, quit at end."""
    out = [f"# {line}" for line in comment]
    out += [f"{_stamp(0.0)}>{cmd}" for cmd in (*setup, *aircraft)]
    out += [f"{_stamp(t)}>PAIRSNAP" for t in snaps if t == 0.0]
    out.append(f"{_stamp(0.0)}>FF")
    out += [f"{_stamp(t)}>PAIRSNAP" for t in snaps if t > 0.0]
    out += [f"{_stamp(end_s)}>PAIRSAVE", f"{_stamp(end_s)}>QUIT"]
    return "\n".join(out) + "\n"


def _num(text: str) -> float:
    return float(str(text).split()[0])


def _level_ft(text: str) -> float:
    text = str(text)
    return 100.0 * float(text[2:]) if text.upper().startswith("FL") else _num(text) / FT_M


def load_run_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot load {HERE / 'run.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def route_aircraft(document: dict[str, Any], frame: Frame, cas_kt: Sequence[float]
                   ) -> list[str]:
    """CRE at the first waypoint heading for the second, ADDWPT for the rest (same level
    and CAS), LNAV on. Not VNAV: the level is constant, and with VNAV on BlueSky 1.1.1's
    speed logic overrode the commanded CAS on some legs (measured: 2 aircraft of 100
    flying 65 m/s too fast at 30 min)."""
    lines = []
    for flight, cas in zip(document["flights"], cas_kt, strict=True):
        xy = np.array([[_num(p["x"]), _num(p["y"])] for p in flight["route"]])
        lon, lat = frame.lonlat(xy[:, 0], xy[:, 1])
        d = xy[1] - xy[0]
        hdg = float(frame.heading(xy[:1, 0], xy[:1, 1], d[:1], d[1:])[0])
        alt = _level_ft(flight["altitude"])
        ident = flight["id"]
        lines.append(f"CRE {ident},{ACTYPE},{lat[0]:.10f},{lon[0]:.10f},{hdg:.10f},"
                     f"{alt:.0f},{cas:.10f}")
        lines += [f"ADDWPT {ident},{la:.10f},{lo:.10f},{alt:.0f},{cas:.10f}"
                  for lo, la in zip(lon[1:], lat[1:], strict=True)]
        lines.append(f"LNAV {ident} ON")
    return lines


def flight_speeds(document: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Each flight's speed (m/s) and level (m)."""
    return ([_num(f["speed"]) for f in document["flights"]],
            [_level_ft(f["altitude"]) * FT_M for f in document["flights"]])


@dataclass(frozen=True)
class Straight:
    """A straight constant-velocity flight in our plane, airborne from 0 to 1 h."""

    ident: str
    party: str
    x: float
    y: float
    x1: float
    y1: float
    speed: float
    level_ft: float

    @property
    def velocity(self) -> tuple[float, float]:
        dx, dy = self.x1 - self.x, self.y1 - self.y
        length = math.hypot(dx, dy)
        return self.speed * dx / length, self.speed * dy / length


def _straight(ident: str, party: str, x: float, y: float, heading: float, speed: float,
              level_ft: float) -> Straight:
    x, y, speed = round(x, 3), round(y, 3), round(speed, 3)
    reach = speed * DURATION_S
    return Straight(ident, party, x, y, round(x + reach * math.sin(heading), 3),
                    round(y + reach * math.cos(heading), 3), speed, level_ft)


def separation_traffic(n: int, seed: int) -> list[Straight]:
    """N straight flights converging on the centre, and crafted grazing encounters.

    Most start 40-80 km from the centre, heading for a random point within 25 km of it,
    at 180-260 m/s on one of three levels (two of them 500 ft apart). One flight in ten
    (at least 6) is instead crafted to pass a random earlier flight of the other party at
    its level at a horizontal miss a little under 5 nmi, inside for 0.2-3 s."""
    rng = np.random.default_rng(seed)
    crafted = min(n // 2, max(6, n // 10))
    flights: list[Straight] = []
    for k in range(n - crafted):
        bearing = rng.uniform(0, 2 * math.pi)
        radius = rng.uniform(40_000, 80_000)
        x, y = radius * math.sin(bearing), radius * math.cos(bearing)
        aim = rng.uniform(0, 25_000) * np.array([math.sin(a := rng.uniform(0, 2 * math.pi)),
                                                 math.cos(a)])
        heading = math.atan2(aim[0] - x, aim[1] - y)
        flights.append(_straight(f"F{k:05d}", PARTIES[k % 2], x, y, heading,
                                 rng.uniform(180, 260),
                                 float(rng.choice(SEPARATION_LEVELS_FT))))
    for k in range(n - crafted, n):
        target = flights[int(rng.integers(0, n - crafted))]
        t_c = rng.uniform(120, 480)
        heading = rng.uniform(0, 2 * math.pi)
        speed = round(rng.uniform(180, 260), 3)
        va = np.array(target.velocity)
        vb = speed * np.array([math.sin(heading), math.cos(heading)])
        rel = vb - va
        closing = float(np.hypot(*rel))
        if closing < 100.0:  # too slow to graze briefly: turn it round
            heading += math.pi
            vb = -vb
            rel = vb - va
            closing = float(np.hypot(*rel))
        inside_s = rng.uniform(0.2, 3.0)
        half = 0.5 * closing * inside_s
        miss = math.sqrt(HORIZONTAL_M**2 - half**2)
        side = rel[::-1] * np.array([1.0, -1.0]) / closing * rng.choice([-1.0, 1.0])
        at_c = np.array([target.x, target.y]) + va * t_c + miss * side
        start = at_c - vb * t_c
        flights.append(_straight(f"F{k:05d}", PARTIES[1 - PARTIES.index(target.party)],
                                 float(start[0]), float(start[1]), heading, speed,
                                 target.level_ft))
    return flights


def separation_document(flights: Sequence[Straight], seed: int) -> dict[str, Any]:
    """Our scenario for the straight flights."""
    return {"name": f"bluesky-separation-{len(flights)}", "seed": seed, "duration": "1 h",
            "frame": {"center": "deir_ez_zor"}, "parties": {p: {} for p in PARTIES},
            "flights": [{"id": f.ident, "party": f.party, "depart": "0 s",
                         "speed": f"{f.speed:.3f} m/s", "altitude": f"{f.level_ft:.0f} ft",
                         "route": [{"x": f"{f.x:.3f} m", "y": f"{f.y:.3f} m"},
                                   {"x": f"{f.x1:.3f} m", "y": f"{f.y1:.3f} m"}]}
                        for f in flights],
            "rules": SEPARATION_RULES}


def straight_aircraft(flights: Sequence[Straight], frame: Frame, cas_kt: Sequence[float],
                      route: bool = False) -> list[str]:
    """CRE with position, initial true heading, level and CAS; no route (BlueSky then
    holds the heading: a rhumb line), or with ``route`` one waypoint at the track's end
    and LNAV (BlueSky then flies the great circle to it)."""
    x = np.array([f.x for f in flights])
    y = np.array([f.y for f in flights])
    lon, lat = frame.lonlat(x, y)
    lon1, lat1 = frame.lonlat(np.array([f.x1 for f in flights]),
                              np.array([f.y1 for f in flights]))
    hdg = frame.heading(x, y, np.array([f.x1 - f.x for f in flights]),
                        np.array([f.y1 - f.y for f in flights]))
    lines = []
    for k, (f, c) in enumerate(zip(flights, cas_kt, strict=True)):
        lines.append(f"CRE {f.ident},{ACTYPE},{lat[k]:.10f},{lon[k]:.10f},{hdg[k]:.10f},"
                     f"{f.level_ft:.0f},{c:.10f}")
        if route:
            lines += [f"ADDWPT {f.ident},{lat1[k]:.10f},{lon1[k]:.10f},{f.level_ft:.0f},"
                      f"{c:.10f}", f"LNAV {f.ident} ON"]
    return lines


# --------------------------------------------------------------------------- the oracle

Pair = tuple[str, str]


def exact_losses(flights: Sequence[Straight], horizontal_m: float = HORIZONTAL_M,
                 vertical_m: float = VERTICAL_FT * FT_M, t_end: float = DURATION_S,
                 other_party_only: bool = True) -> dict[Pair, tuple[float, float]]:
    """Every pair's interval of loss of separation, in closed form.

    Relative position d(t) = d0 + dv t; |d(t)|^2 < h^2 is a t^2 + b t + c < 0 with
    a = |dv|^2, b = 2 d0.dv, c = |d0|^2 - h^2: the open interval between the roots (none
    when the discriminant is not positive), cut to [0, t_end]; the levels are constant."""
    if len(flights) < 2:
        return {}
    pos = np.array([[f.x, f.y] for f in flights])
    vel = np.array([f.velocity for f in flights])
    level = np.array([f.level_ft * FT_M for f in flights])
    party = np.array([f.party for f in flights])
    i, j = np.triu_indices(len(flights), k=1)
    keep = np.abs(level[i] - level[j]) < vertical_m
    if other_party_only:
        keep &= party[i] != party[j]
    i, j = i[keep], j[keep]
    d0 = pos[j] - pos[i]
    dv = vel[j] - vel[i]
    a = np.einsum("ij,ij->i", dv, dv)
    b = 2.0 * np.einsum("ij,ij->i", d0, dv)
    c = np.einsum("ij,ij->i", d0, d0) - horizontal_m**2
    disc = b * b - 4.0 * a * c
    moving = a > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = -0.5 * (b + np.where(b >= 0.0, 1.0, -1.0) * np.sqrt(np.maximum(disc, 0.0)))
        r1, r2 = q / a, c / q
    t0 = np.where(moving, np.minimum(r1, r2), np.where(c < 0.0, -np.inf, np.inf))
    t1 = np.where(moving, np.maximum(r1, r2), np.where(c < 0.0, np.inf, -np.inf))
    hit = np.where(moving, disc > 0.0, c < 0.0)
    t0, t1 = np.maximum(t0, 0.0), np.minimum(t1, t_end)
    hit &= t1 > t0
    ids = [f.ident for f in flights]
    return {tuple(sorted((ids[p], ids[q]))): (float(s), float(e))
            for p, q, s, e in zip(i[hit], j[hit], t0[hit], t1[hit], strict=True)}


def closest_approach(a: Straight, b: Straight, t_end: float = DURATION_S
                     ) -> tuple[float, float]:
    """The least horizontal distance of two straight flights over [0, t_end], and when."""
    d0 = np.array([b.x - a.x, b.y - a.y])
    dv = np.array(b.velocity) - np.array(a.velocity)
    speed2 = float(dv @ dv)
    t = 0.0 if speed2 == 0.0 else min(max(-float(d0 @ dv) / speed2, 0.0), t_end)
    return float(np.hypot(*(d0 + dv * t))), t


# --------------------------------------------------------------------------- runs

def run_ours(scenario: Path, out: Path) -> float:
    """One whole ``python -m sim run`` in the project's interpreter; its wall seconds."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--out",
                           str(out), "--force"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"our run of {scenario.name} failed (exit {done.returncode}): "
                         f"{_tail(done.stderr)}")
    return wall


def our_losses(run_dir: Path) -> dict[Pair, list[tuple[float, float]]]:
    """``loss_of_separation`` episodes from a run folder's events.csv, by pair."""
    import csv

    found: dict[Pair, list[tuple[float, float]]] = {}
    with open(run_dir / "events.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["rule"] == "loss_of_separation":
                pair = tuple(sorted((row["aircraft"], row["other_aircraft"])))
                found.setdefault(pair, []).append(  # type: ignore[arg-type]
                    (float(row["start_s"]), float(row["end_s"])))
    return found


def bluesky_losses(record: dict[str, Any], party: dict[str, str]
                   ) -> tuple[dict[Pair, list[tuple[float, float | None]]], int]:
    """BlueSky's episodes by pair (different parties), and its same-party pair count."""
    found: dict[Pair, list[tuple[float, float | None]]] = {}
    same: set[Pair] = set()
    for a, b, start, end in record["episodes"]:
        pair: Pair = (min(a, b), max(a, b))
        if party[a] == party[b]:
            same.add(pair)
            continue
        found.setdefault(pair, []).append((float(start), None if end is None else float(end)))
    return found, len(same)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def compare(oracle: dict[Pair, tuple[float, float]],
            ours: dict[Pair, list[tuple[float, float]]],
            theirs: dict[Pair, list[tuple[float, float | None]]],
            flights: Sequence[Straight]) -> dict[str, Any]:
    """Pair-by-pair agreement of ours and BlueSky's with the oracle."""
    by_id = {f.ident: f for f in flights}

    def closest(pair: Pair) -> float:
        return closest_approach(by_id[pair[0]], by_id[pair[1]])[0]

    ours_off = [p for p in oracle.keys() & ours.keys()
                if len(ours[p]) != 1 or abs(ours[p][0][0] - oracle[p][0]) > TOLERANCE_S
                or abs(ours[p][0][1] - oracle[p][1]) > TOLERANCE_S]
    ours_dev = [max(abs(ours[p][0][0] - oracle[p][0]), abs(ours[p][0][1] - oracle[p][1]))
                for p in oracle.keys() & ours.keys()]
    missed = sorted(oracle.keys() - theirs.keys(), key=lambda p: oracle[p][1] - oracle[p][0])
    extra = sorted(theirs.keys() - oracle.keys())
    common = sorted(oracle.keys() & theirs.keys())
    entry = [theirs[p][0][0] - oracle[p][0] for p in common]
    durations = [e - s for s, e in oracle.values()]
    short = [p for p, (s, e) in oracle.items() if e - s < 1.0]
    return {
        "oracle_pairs": len(oracle), "ours_pairs": len(ours), "bluesky_pairs": len(theirs),
        "bluesky_episodes": sum(len(v) for v in theirs.values()),
        "ours_equal_oracle": set(ours) == set(oracle) and not ours_off,
        "ours_only": len(ours.keys() - oracle.keys()),
        "oracle_only_vs_ours": len(oracle.keys() - ours.keys()),
        "ours_max_deviation_s": max(ours_dev) if ours_dev else None,
        "oracle_duration_s": {"min": min(durations) if durations else None,
                              "median": _median(durations)},
        "oracle_pairs_under_1s": len(short),
        "bluesky_caught_under_1s": sum(1 for p in short if p in theirs),
        # Longer than BlueSky's 1 s detection interval: a sample fell inside, so such a
        # miss comes from the kinematics, not from the sampling.
        "bluesky_missed_over_1s": sum(1 for p in missed if oracle[p][1] - oracle[p][0] > 1.0),
        "bluesky_missed": [{"pair": list(p), "oracle_start_s": oracle[p][0],
                            "oracle_duration_s": oracle[p][1] - oracle[p][0],
                            "oracle_closest_m": closest(p)} for p in missed],
        "bluesky_extra": [{"pair": list(p), "bluesky_start_s": theirs[p][0][0],
                           "bluesky_end_s": theirs[p][0][1], "oracle_closest_m": closest(p),
                           "level_gap_ft": abs(by_id[p[0]].level_ft - by_id[p[1]].level_ft)}
                          for p in extra],
        "entry_diff_s": {"median_abs": _median([abs(d) for d in entry]),
                         "max_abs": max((abs(d) for d in entry), default=None),
                         "median_signed": _median(entry)},
    }


def kinematics(snapshots: list[dict[str, Any]], flights: Sequence[Straight], frame: Frame
               ) -> dict[str, Any]:
    """How far BlueSky's aircraft are from our tracks at each snapshot; speeds and levels
    read back."""
    by_id = {f.ident: f for f in flights}
    rows = []
    for snap in snapshots:
        own = [by_id[i] for i in snap["id"]]
        t = float(snap["t"])
        x = np.array([f.x + f.velocity[0] * t for f in own])
        y = np.array([f.y + f.velocity[1] * t for f in own])
        lon, lat = frame.lonlat(x, y)
        gap = frame.distance(lon, lat, np.array(snap["lon"]), np.array(snap["lat"]))
        rows.append({"t_s": t, "median_m": float(np.median(gap)), "max_m": float(gap.max())})
    return {"position_gap": rows, **readback(snapshots, [f.speed for f in flights],
                                             [f.level_ft * FT_M for f in flights])}


def readback(snapshots: list[dict[str, Any]], speeds: Sequence[float],
             levels_m: Sequence[float]) -> dict[str, Any]:
    """The largest gap between BlueSky's true airspeed and level and ours, over the
    snapshots; and what BlueSky ran with."""
    tas = max(float(np.max(np.abs(np.array(s["tas"]) - np.array(speeds))))
              for s in snapshots)
    alt = max(float(np.max(np.abs(np.array(s["alt"]) - np.array(levels_m))))
              for s in snapshots)
    last = snapshots[-1]
    return {"max_tas_gap_mps": tas, "max_level_gap_m": alt, "perf": last["perf"],
            "cd": last["cd"], "cr": last["cr"], "simdt": last["simdt"],
            "zone_m": [last["rpz"][0], last["hpz"][0]] if last["rpz"] else None}


def route_gap(snapshots: list[dict[str, Any]], document: dict[str, Any], frame: Frame
              ) -> list[dict[str, float]]:
    """At each snapshot after 0, how far BlueSky's aircraft are from our route (cross-track,
    to the nearest leg) and from where ours is at that time (along the route at its speed,
    which BlueSky's fly-by turns cut short), median and max in metres."""
    routes = [np.array([[_num(p["x"]), _num(p["y"])] for p in f["route"]])
              for f in document["flights"]]
    speeds, _ = flight_speeds(document)
    rows = []
    for snap in snapshots:
        t = float(snap["t"])
        if t <= 0.0:
            continue
        x, y = frame.xy(np.array(snap["lon"]), np.array(snap["lat"]))
        cross, along = [], []
        for k, pts in enumerate(routes):
            q = np.array([x[k], y[k]])
            a, b = pts[:-1], pts[1:]
            ab = b - a
            u = np.clip(np.einsum("ij,ij->i", q - a, ab) / np.einsum("ij,ij->i", ab, ab), 0, 1)
            cross.append(float(np.min(np.hypot(*(a + u[:, None] * ab - q).T))))
            lengths = np.hypot(*ab.T)
            reach = min(speeds[k] * t, float(lengths.sum()))
            i = min(int(np.searchsorted(np.cumsum(lengths), reach)), len(lengths) - 1)
            done = float(lengths[:i].sum())
            ours = a[i] + ab[i] * (reach - done) / lengths[i]
            along.append(float(np.hypot(*(ours - q))))
        rows.append({"t_s": t, "cross_track_median_m": float(np.median(cross)),
                     "cross_track_max_m": float(np.max(cross)),
                     "gap_median_m": float(np.median(along)), "gap_max_m": float(np.max(along))})
    return rows


@dataclass
class Options:
    """Command-line options, parsed."""

    sizes: list[int]
    repeat: int
    repeat_ours: int
    seed: int
    keep: Path | None
    json: Path | None
    venv: Path
    skip_default_step: bool
    only: str | None
    earth: str
    straight: str
    cdmethod: str
    timeout: float


def settings_to_run(options: Options) -> list[tuple[str, bool]]:
    """(label, DT 1?) for each BlueSky setting measured."""
    fast = [("dt1", True)]
    return fast if options.skip_default_step else [("default", False), *fast]


def measure_startup(options: Options, bluesky: BlueSky, folder: Path) -> dict[str, Any]:
    """Fixed costs: BlueSky on a scenario without aircraft (set-up, then QUIT at 0), ours
    on the 2-flight box; median of the same repeats as the timing runs."""
    scn = folder / "startup.scn"
    scn.write_text(scn_lines(header(dt1=False, record=False, cdmethod=options.cdmethod),
                             ["start-up only: no aircraft"], [], snaps=(), end_s=0.0))
    theirs = [bluesky.run(scn, folder / "startup.json") for _ in range(options.repeat)]
    runner = load_run_py()
    ours_path = folder / "box-2-1h.yaml"
    ours_path.write_text(yaml.safe_dump(runner.box_scenario(2, 1.0, seed=options.seed),
                                        sort_keys=False))
    ours = [run_ours(ours_path, folder / f"run-box-2-{k}") for k in range(options.repeat_ours)]
    print(f"  start-up: BlueSky {statistics.median(theirs):.1f} s, ours "
          f"{statistics.median(ours):.2f} s", file=sys.stderr, flush=True)
    return {"bluesky_s": statistics.median(theirs), "bluesky_s_all": theirs,
            "ours_s": statistics.median(ours), "ours_s_all": ours}


def measure_timing(n: int, options: Options, bluesky: BlueSky, frame: Frame,
                   folder: Path) -> dict[str, Any]:
    """Part a: box-N-1h, whole processes."""
    runner = load_run_py()
    document = runner.box_scenario(n, 1.0, seed=options.seed)
    ours_path = folder / f"box-{n}-1h.yaml"
    ours_path.write_text(yaml.safe_dump(document, sort_keys=False))
    speeds, levels = flight_speeds(document)
    cas = bluesky.cas_knots(speeds, levels)
    aircraft = route_aircraft(document, frame, cas)
    row: dict[str, Any] = {"n": n, "workload": f"box-{n}-1h"}
    for label, dt1 in settings_to_run(options):
        scn = folder / f"box-{n}-1h-{label}.scn"
        scn.write_text(scn_lines(header(dt1, record=False, cdmethod=options.cdmethod),
                                 [f"box-{n}-1h of benchmarks/run.py, seed {options.seed}",
                                  f"BlueSky setting: {label}"], aircraft))
        walls = []
        for k in range(options.repeat):
            record = folder / f"box-{n}-1h-{label}-{k}.json"
            walls.append(bluesky.run(scn, record))
            print(f"  BlueSky {label} box-{n}-1h: {walls[-1]:.1f} s", file=sys.stderr,
                  flush=True)
        snaps = json.loads(record.read_text())["snapshots"]
        row[f"bluesky_{label}"] = {"wall_s": statistics.median(walls), "wall_s_all": walls,
                                   **readback(snaps, speeds, levels),
                                   "route_gap": route_gap(snaps, document, frame)}
    walls = []
    for k in range(options.repeat_ours):
        walls.append(run_ours(ours_path, folder / f"run-box-{n}-{k}"))
    print(f"  ours box-{n}-1h: {statistics.median(walls):.2f} s", file=sys.stderr, flush=True)
    row["ours"] = {"wall_s": statistics.median(walls), "wall_s_all": walls}
    for label, _ in settings_to_run(options):
        row[f"ratio_{label}"] = row[f"bluesky_{label}"]["wall_s"] / row["ours"]["wall_s"]
    return row


def measure_separation(n: int, options: Options, bluesky: BlueSky, frame: Frame,
                       folder: Path) -> list[dict[str, Any]]:
    """Part b: straight flights, losses pair by pair, for each BlueSky setting."""
    flights = separation_traffic(n, options.seed)
    ours_path = folder / f"separation-{n}.yaml"
    ours_path.write_text(yaml.safe_dump(separation_document(flights, options.seed),
                                        sort_keys=False))
    oracle = exact_losses(flights)
    our_dir = folder / f"run-separation-{n}"
    ours_wall = run_ours(ours_path, our_dir)
    ours = our_losses(our_dir)
    cas = bluesky.cas_knots([f.speed for f in flights], [f.level_ft * FT_M for f in flights])
    aircraft = straight_aircraft(flights, frame, cas, route=options.straight == "route")
    party = {f.ident: f.party for f in flights}
    rows = []
    for label, dt1 in settings_to_run(options):
        scn = folder / f"separation-{n}-{label}.scn"
        scn.write_text(scn_lines(header(dt1, record=True, cdmethod=options.cdmethod),
                                 [f"straight flights, seed {options.seed}, earth "
                                  f"{options.earth}, {options.straight}",
                                  f"BlueSky setting: {label}"],
                                 aircraft, snaps=(0.0, 300.0, 600.0, 1800.0, DURATION_S)))
        record_path = folder / f"separation-{n}-{label}.json"
        wall = bluesky.run(scn, record_path)
        record = json.loads(record_path.read_text())
        theirs, same_party = bluesky_losses(record, party)
        print(f"  BlueSky {label} separation-{n}: {wall:.1f} s", file=sys.stderr, flush=True)
        rows.append({"n": n, "setting": label, "earth": options.earth,
                     "straight": options.straight,
                     "bluesky_wall_s": wall, "ours_wall_s": ours_wall,
                     "bluesky_samples": record["samples"],
                     "bluesky_same_party_pairs": same_party,
                     **compare(oracle, ours, theirs, flights),
                     "kinematics": kinematics(record["snapshots"], flights, frame)})
    return rows


# --------------------------------------------------------------------------- report

def _f(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def timing_table(rows: list[dict[str, Any]], labels: list[str]) -> str:
    head = f"{'workload':<13} {'ours s':>8}"
    for label in labels:
        head += f" {'BlueSky ' + label + ' s':>18} {'ratio':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r['workload']:<13} {r['ours']['wall_s']:>8.2f}"
        for label in labels:
            line += f" {r[f'bluesky_{label}']['wall_s']:>18.1f} {r[f'ratio_{label}']:>6.1f}x"
        lines.append(line)
    return "\n".join(lines)


def separation_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'N':>5} {'BlueSky':>8} {'oracle':>7} {'ours':>6} {'ours=oracle':>11} "
            f"{'BlueSky':>8} {'missed (>1 s)':>13} {'extra':>6} {'<1 s caught':>11} "
            f"{'|entry diff| med/max s':>23} {'gap@600s med/max m':>19}")
    lines = [head, "-" * len(head)]
    for r in rows:
        gap = next((g for g in r["kinematics"]["position_gap"] if g["t_s"] == 600.0), None)
        lines.append(
            f"{r['n']:>5} {r['setting']:>8} {r['oracle_pairs']:>7} {r['ours_pairs']:>6} "
            f"{'yes' if r['ours_equal_oracle'] else 'NO':>11} {r['bluesky_pairs']:>8} "
            f"{len(r['bluesky_missed']):>7} ({r['bluesky_missed_over_1s']:>3}) "
            f"{len(r['bluesky_extra']):>6} "
            f"{r['bluesky_caught_under_1s']:>5}/{r['oracle_pairs_under_1s']:<5} "
            f"{_f(r['entry_diff_s']['median_abs']):>11}/{_f(r['entry_diff_s']['max_abs']):<11} "
            f"{_f(gap and gap['median_m'], '.0f'):>9}/{_f(gap and gap['max_m'], '.0f'):<9}")
    return "\n".join(lines)


def misses_text(rows: list[dict[str, Any]], limit: int = 12) -> str:
    lines = []
    for r in rows:
        missed = r["bluesky_missed"]
        if missed:
            shown = ", ".join(f"{'-'.join(m['pair'])} ({m['oracle_duration_s']:.2f} s, "
                              f"{HORIZONTAL_M - m['oracle_closest_m']:.0f} m inside)"
                              for m in missed[:limit])
            more = f" and {len(missed) - limit} more" if len(missed) > limit else ""
            lines.append(f"N={r['n']} {r['setting']}: BlueSky missed {shown}{more}")
        if r["bluesky_extra"]:
            lines.append(f"N={r['n']} {r['setting']}: BlueSky reported "
                         f"{len(r['bluesky_extra'])} pair(s) the oracle does not: "
                         + ", ".join(f"{'-'.join(e['pair'])} (closest "
                                     f"{e['oracle_closest_m'] - HORIZONTAL_M:+.0f} m from 5 nmi)"
                                     for e in r["bluesky_extra"][:limit]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500],
                        help="numbers of flights (default 100 500)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="BlueSky whole-process runs per setting (median; default 1)")
    parser.add_argument("--repeat-ours", type=int, default=3,
                        help="our whole-process runs (median; default 3)")
    parser.add_argument("--seed", type=int, default=1, help="traffic seed (default 1)")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"BlueSky's virtual environment (default {DEFAULT_VENV})")
    parser.add_argument("--skip-default-step", action="store_true",
                        help="run BlueSky at DT 1 only (not also at its 0.05 s default)")
    parser.add_argument("--only", choices=["timing", "separation"],
                        help="run one part only (a. timing or b. separation)")
    parser.add_argument("--earth", choices=["wgs84", "sphere"], default="wgs84",
                        help="map our plane to lon/lat on WGS84 (our frame; default) or "
                             "on BlueSky's 6371 km sphere")
    parser.add_argument("--straight", choices=["heading", "route"], default="heading",
                        help="part b: BlueSky aircraft hold their initial heading (no route; "
                             "default) or fly LNAV to one waypoint at the track's end")
    parser.add_argument("--cdmethod", default="CSTATEBASED",
                        help="BlueSky's detection (default CSTATEBASED, its compiled "
                             "state-based detection, the fastest; or STATEBASED, the "
                             "numpy one that CDMETHOD ON picks)")
    parser.add_argument("--timeout", type=float, default=7200.0,
                        help="seconds allowed for one BlueSky run (default 7200)")
    args = parser.parse_args(argv)
    if min(args.sizes) < 2 or args.repeat < 1 or args.repeat_ours < 1:
        parser.error("sizes must be at least 2 and repeats at least 1")
    return Options(args.sizes, args.repeat, args.repeat_ours, args.seed, args.keep,
                   args.json, args.venv.resolve(), args.skip_default_step, args.only, args.earth,
                   args.straight, args.cdmethod.upper(), args.timeout)


def write_json(path: Path | None, result: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(result, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    try:
        bluesky = ensure_bluesky(options.venv, timeout_s=options.timeout)
    except Unavailable as exc:
        message = (f"BlueSky comparison skipped: {exc}. Nothing was measured. BlueSky is "
                   f"optional; to retry, check that PyPI is reachable and that "
                   f"{REQUIREMENTS.name} installs with pip on this Python "
                   f"({sys.version.split()[0]}), or delete {options.venv} to start afresh.")
        print(message)
        write_json(options.json, {"status": "skipped", "reason": str(exc),
                                  "message": message})
        return 0
    except Exception as exc:  # an unexpected failure while setting up: still no traceback
        message = (f"BlueSky comparison skipped: setting BlueSky up failed unexpectedly "
                   f"({type(exc).__name__}: {exc}). Nothing was measured.")
        print(message)
        write_json(options.json, {"status": "skipped", "reason": str(exc),
                                  "message": message})
        return 0
    frame = Frame(*frame_centre(), earth=options.earth)
    labels = [label for label, _ in settings_to_run(options)]
    timing: list[dict[str, Any]] = []
    separation: list[dict[str, Any]] = []
    folder = options.keep or Path(tempfile.mkdtemp(prefix="bluesky-compare-"))
    folder.mkdir(parents=True, exist_ok=True)
    startup: dict[str, Any] | None = None
    try:
        if options.only != "separation":
            load_run_py().compile_package()  # BlueSky's venv has its bytecode: ours too
            startup = measure_startup(options, bluesky, folder)
        for n in options.sizes:
            print(f"N = {n}", file=sys.stderr, flush=True)
            if options.only != "separation":
                timing.append(measure_timing(n, options, bluesky, frame, folder))
            if options.only != "timing":
                separation.extend(measure_separation(n, options, bluesky, frame, folder))
    except BenchError as exc:
        print(f"BlueSky comparison failed: {exc}", file=sys.stderr)
        write_json(options.json, {"status": "failed", "reason": str(exc),
                                  "bluesky_version": bluesky.version})
        return 1
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"BlueSky {bluesky.version} ({options.cdmethod}, performance limits off, "
          f"earth {options.earth}) against ours, {DURATION_S / 3600:g} simulated hour\n")
    if timing and startup:
        print("a. Whole-process wall time (box-N-1h), BlueSky / ours")
        print(timing_table(timing, labels))
        print(f"start-up alone: BlueSky {startup['bluesky_s']:.1f} s (no aircraft), ours "
              f"{startup['ours_s']:.2f} s (2 flights)\n")
    if separation:
        print("b. Losses of separation (5 nmi / 1000 ft, different parties), pair by pair")
        print(separation_table(separation))
    detail = misses_text(separation)
    if detail:
        print("\n" + detail)
    if options.keep:
        print(f"\ngenerated files kept in {options.keep}")
    write_json(options.json, {
        "status": "ok", "bluesky_version": bluesky.version, "cdmethod": options.cdmethod,
        "earth": options.earth, "straight": options.straight, "seed": options.seed,
        "sizes": options.sizes,
        "repeat_bluesky": options.repeat, "repeat_ours": options.repeat_ours,
        "python": sys.version.split()[0], "startup": startup, "timing": timing,
        "separation": separation})
    return 0


if __name__ == "__main__":
    sys.exit(main())
