"""Flights exported as recorded tracks, in the format a scenario's ``recorded:`` reads.

``deconflict run --export-tracks csv|parquet`` adds ``recorded-<party>.<format>`` to the run
folder, one file per party that flew: every flight's full 4D track as flown within the run,
with the open-source ``traffic`` library's columns (``timestamp``, ``callsign``,
``latitude``, ``longitude``, ``altitude`` in feet). A report stands at every waypoint and
every ``REPORT_INTERVAL_S`` along each leg, so that no gap between reports is longer than
a reader's default ``max_gap`` (60 s); the reports in between lie on the straight leg, so
flying through them is flying the leg. Times are seconds on the run's clock and every
number is written with all its digits: running the files back as recorded flights flies
the same tracks (to the rounding of the projection and of feet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.engine.simulation import Run
from sim.io.formats import EXPORT_FORMATS
from sim.model.units import FOOT
from sim.traffic.plans import FlightPlan

EXPORT_COLUMNS = ("timestamp", "callsign", "latitude", "longitude", "altitude")
REPORT_INTERVAL_S = 30.0


def export_files(run: Run, fmt: str) -> dict[str, str | bytes]:
    """The recorded-track files of a run, by file name: one per party that flew."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format {fmt!r}: write one of {', '.join(EXPORT_FORMATS)}")
    files: dict[str, str | bytes] = {}
    for party in sorted(run.scenario.parties):
        plans = [p for p in run.plans if p.party == party]
        reports = track_reports(plans, run, run.scenario.duration_s)
        if len(reports["timestamp"]):
            name = f"recorded-{party}.{fmt}"
            files[name] = _csv(reports) if fmt == "csv" else _parquet(reports)
    return files


def track_reports(plans: Sequence[FlightPlan], run: Run, until_s: float
                  ) -> dict[str, np.ndarray]:
    """The reports of the plans' tracks up to ``until_s``, flight after flight in time
    order: columns of ``EXPORT_COLUMNS`` (altitude in feet)."""
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for plan in plans:
        t, xy, z = _reports(plan, until_s)
        if len(t):
            parts.append((plan.id, t, xy, z))
    if not parts:
        empty = np.zeros(0)
        return {"timestamp": empty, "callsign": np.zeros(0, object), "latitude": empty,
                "longitude": empty, "altitude": empty}
    t = np.concatenate([p[1] for p in parts])
    xy = np.concatenate([p[2] for p in parts])
    lon, lat = run.geography.frame.to_lonlat(xy[:, 0], xy[:, 1])
    ids = np.concatenate([np.full(len(p[1]), p[0], object) for p in parts])
    return {"timestamp": t, "callsign": ids, "latitude": np.atleast_1d(lat),
            "longitude": np.atleast_1d(lon),
            "altitude": np.concatenate([p[3] for p in parts]) / FOOT}


def _reports(plan: FlightPlan, until_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, frame positions and altitudes (m) of one plan's reports up to ``until_s``."""
    times, xy, z = plan.waypoint_times(), np.asarray(plan.route_xy, float), plan.altitudes()
    t_out, xy_out, z_out = [], [], []
    for k in range(len(times) - 1):
        t0, t1 = float(times[k]), float(times[k + 1])
        if t0 > until_s:
            break
        if t1 <= t0:
            continue  # a zero-duration leg: its end is the next leg's start
        end = min(t1, until_s)
        ts = t0 + REPORT_INTERVAL_S * np.arange(int(np.ceil((end - t0) / REPORT_INTERVAL_S)))
        frac = (ts - t0) / (t1 - t0)
        t_out.append(ts)
        xy_out.append(xy[k] + frac[:, None] * (xy[k + 1] - xy[k]))
        z_out.append(z[k] + frac * (z[k + 1] - z[k]))
        if end < t1:  # the run ends on this leg: the last report is where it is then
            frac_end = (end - t0) / (t1 - t0)
            t_out.append(np.array([end]))
            xy_out.append((xy[k] + frac_end * (xy[k + 1] - xy[k]))[None, :])
            z_out.append(np.array([z[k] + frac_end * (z[k + 1] - z[k])]))
            break
    else:
        if len(times) and float(times[-1]) <= until_s:
            t_out.append(times[-1:])
            xy_out.append(xy[-1:])
            z_out.append(z[-1:])
    if not t_out:
        return np.zeros(0), np.zeros((0, 2)), np.zeros(0)
    return np.concatenate(t_out), np.concatenate(xy_out), np.concatenate(z_out)


def _csv(reports: dict[str, np.ndarray]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(zip(map(repr, reports["timestamp"].tolist()), reports["callsign"].tolist(),
                         map(repr, reports["latitude"].tolist()),
                         map(repr, reports["longitude"].tolist()),
                         map(repr, reports["altitude"].tolist()), strict=True))
    return buffer.getvalue()


def _parquet(reports: dict[str, np.ndarray]) -> bytes:
    import pyarrow as pa  # lazy: only exports need it
    import pyarrow.parquet as pq

    columns: dict[str, Any] = {
        "timestamp": pa.array(reports["timestamp"], pa.float64()),
        "callsign": pa.array(reports["callsign"].tolist(), pa.string()),
        "latitude": pa.array(reports["latitude"], pa.float64()),
        "longitude": pa.array(reports["longitude"], pa.float64()),
        "altitude": pa.array(reports["altitude"], pa.float64())}
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, compression="zstd")
    return sink.getvalue()
