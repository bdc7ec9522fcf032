"""Tables of a run's statistics (``stats.json``), as rows of text cells: printed aligned by
the command line, rendered as HTML by the report. Distances are shown in nautical miles
and feet, as the field reads them; the files keep SI units.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.analysis.metrics import headline_metrics, reported_verdicts, verdicts_of
from sim.model.units import FOOT, HOUR, NAUTICAL_MILE

if TYPE_CHECKING:
    from sim.study.store import StoredSweep


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of text cells; the first column is left-aligned, the rest right."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def _num(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def rates_table(stats: Mapping[str, Any]) -> Table:
    """Episodes of each rule: count, per day, per 100 sorties, per 1,000 flight hours, hours
    in violation, and per party a day."""
    parties = [p for p in stats["exposure"]["sorties"] if p != "total"]
    rows = []
    for rule_id, r in stats["rates"].items():
        hours = stats["time_in_violation"][rule_id]["total_s"] / HOUR
        rows.append((rule_id, r["type"], f"{r['episodes']:,}", _num(r["per_day"]),
                     _num(r["per_100_sorties"]), _num(r["per_1000_flight_hours"]),
                     _num(hours, 1), *(_num(r["by_party"][p]["per_day"]) for p in parties)))
    exposure = stats["exposure"]
    note = (f"{exposure['sorties']['total']:,} sorties, "
            f"{exposure['flight_hours']['total']:,.1f} flight hours in "
            f"{stats['days']:g} days. A party's rate counts the episodes it took part in.")
    return Table("Episodes by rule", ("rule", "type", "episodes", "a day", "per 100 sorties",
                                      "per 1000 fh", "hours in", *(f"{p} a day" for p in parties)),
                 tuple(rows), note)


def severity_table(stats: Mapping[str, Any]) -> Table:
    """Encounters by the most severe bin their closest approach reached."""
    sev = stats["severity"]
    rows = tuple((b["label"], f"{b['encounters']:,}", _num(b["per_day"], 3),
                  f"{b['cumulative']:,}", _num(b["cumulative_per_day"], 3))
                 for b in sev["bins"])
    note = (f"{sev['encounters']:,} encounters (episodes of {sev['encounter_rule']}), each "
            "in the most severe bin its closest approach reached."
            if sev["encounter_rule"] else "No min_separation rule: no encounters to bin.")
    return Table("Severity of encounters", ("closest approach", "encounters", "a day",
                                            "at least this close", "a day"), rows, note)


def miss_distance_table(stats: Mapping[str, Any]) -> Table:
    """Horizontal (nmi) and vertical (ft) miss distances at closest approach, per rule."""
    rows = []
    for rule_id, m in stats["miss_distance"].items():
        h, v = m["horizontal_m"], m["vertical_m"]

        def nmi(q: str, h: Mapping[str, Any] = h) -> str:
            return "–" if h[q] is None else f"{h[q] / NAUTICAL_MILE:.2f}"

        def ft(q: str, v: Mapping[str, Any] = v) -> str:
            return "–" if v[q] is None else f"{v[q] / FOOT:,.0f}"

        rows.append((rule_id, f"{m['episodes']:,}", nmi("min"), nmi("p05"), nmi("p50"),
                     nmi("p95"), ft("min"), ft("p50"), ft("p95")))
    return Table("Miss distance at closest approach",
                 ("rule", "episodes", "min nmi", "5% nmi", "median nmi", "95% nmi",
                  "min ft", "median ft", "95% ft"), tuple(rows))


def hotline_table(stats: Mapping[str, Any]) -> Table:
    """Calls, declarations, losses and complaints."""
    h = stats["hotline"]
    rows = [("calls (scheduled)", f"{h.get('calls', 0):,} ({h.get('scheduled_calls', 0):,})"),
            ("declarations passed (lost)", f"{h.get('declared', 0):,} ({h.get('lost', 0):,})"),
            ("complaints passed (lost)",
             f"{h.get('complaints', 0):,} ({h.get('complaints_lost', 0):,})"),
            ("complaints per scheduled call", _num(h.get("complaints_per_call")))]
    for party, n in (h.get("complaints_by_party") or {}).items():
        rows.append((f"complaints by {party}", f"{n:,}"))
    return Table("Hotline", ("", ""), tuple(rows))


def planning_table(summary: Mapping[str, Any]) -> Table | None:
    """Zone incursions split by what the violator's party knew through the hotline, and
    what each party's planner did with its sorties (None: no zones, no planner)."""
    incursions = summary.get("hotline", {}).get("incursions") or {}
    planning = summary.get("planning") or {}
    rows = []
    if incursions.get("total"):
        rows += [("zone incursions", f"{incursions['total']:,}"),
                 ("  informed (the zone's declaration had arrived)",
                  f"{incursions.get('informed', 0):,}"),
                 ("  uninformed", f"{incursions.get('uninformed', 0):,}"),
                 ("    declaration not yet received", f"{incursions.get('not_yet_received', 0):,}"),
                 ("    declaration lost", f"{incursions.get('lost', 0):,}"),
                 ("    never declared", f"{incursions.get('undeclared', 0):,}")]
    for party, counts in planning.items():
        rows.append((f"{party}: sorties (as planned, rerouted, delayed, dropped, not flown)",
                     f"{counts.get('sorties', 0):,} ({counts.get('as_planned', 0):,}, "
                     f"{counts.get('rerouted', 0):,}, {counts.get('delayed', 0):,}, "
                     f"{counts.get('dropped', 0):,}, {counts.get('not_flown', 0):,})"))
    if not rows:
        return None
    return Table("Informed and uninformed, and the planners", ("", ""), tuple(rows),
                 "From summary.json (hotline.incursions, planning): a planner reroutes, "
                 "delays or drops a sortie round the other side's zones it has received.")


def interference_table(summary: Mapping[str, Any], stats: Mapping[str, Any]) -> Table | None:
    """What the jamming areas did, and each rule's episodes they caused (None: none)."""
    if "interference" not in summary:
        return None
    effects, caused = summary["interference"], stats.get("interference", {})
    rows = [("areas", ", ".join(effects.get("areas", [])) or "–"),
            ("crossings (flown with a navigation error)",
             f"{effects.get('crossings', 0):,} ({effects.get('displaced_crossings', 0):,})"),
            ("drones aborted (lost)",
             f"{effects.get('drones_aborted', 0):,} ({effects.get('drones_lost', 0):,})"),
            ("hotline items sent while degraded", f"{effects.get('hotline_items_affected', 0):,}")]
    for rule, r in caused.get("episodes_by_rule", {}).items():
        rows.append((f"{rule}: episodes caused (a day)",
                     f"{r['episodes']:,} ({_num(r['per_day'])})"))
    return Table("Interference", ("", ""), tuple(rows),
                 "An episode is caused by interference when it overlaps a navigation error "
                 "of one of its aircraft, or a drone's flight home after an abort (cause: "
                 "interference in events.csv).")


def reported_table(summary: Mapping[str, Any], stats: Mapping[str, Any] | None = None
                   ) -> Table:
    """Simulated rates against the reported facts: the estimate, its 95% interval and the
    verdict of that interval against the reported band (``verdicts_of``: over the
    replications when ``stats`` has them, else this run's count)."""
    items = (verdicts_of(summary, stats) if stats is not None else
             reported_verdicts(summary.get("reported", []), None, 1.0))
    rows = []
    for item in items:
        low, high = item["reported_per_day"]
        band = f"{low:g}" if low == high else f"{low:g} to {high:g}"
        who = f" ({item['party']})" if item["party"] else ""
        i_low, i_high = item["interval_per_day"]
        rows.append((item["rule"] + who, _num(item["estimate_per_day"]),
                     f"[{i_low:.2f}, {i_high:.2f}]", band, item["verdict"], item["fact"]))
    reps = {item["replications"] for item in items if item["source"] == "replications"}
    if reps:
        source = (f"Mean over {', '.join(str(n) for n in sorted(reps))} replications; its "
                  "interval is the percentile bootstrap, widened to the exact Poisson "
                  "interval of their pooled episodes.")
    else:
        source = ("This run's rate; its interval is the exact Poisson (Garwood) interval of "
                  "the run's episode count over its days.")
    return Table("Simulated against reported (episodes a day)",
                 ("rule", "simulated", "95% interval", "reported", "verdict", "fact"),
                 tuple(rows), source + " consistent: the interval overlaps the reported "
                 "band (holds a single reported value); above/below: all of it is above/"
                 "below the band.")


def replications_table(stats: Mapping[str, Any], brief: bool = False) -> Table | None:
    """Means and 95% bootstrap intervals over replications, when the run has them;
    ``brief``: only each rule's and each severity bin's episodes a day, and complaints."""
    reps = stats.get("replications")
    if not reps:
        return None
    rows = tuple((name, _num(m["mean"], 3), _interval(m)) for name, m in reps["metrics"].items()
                 if not brief or _brief(name))
    return Table(f"Over {len(reps['seeds'])} replications", ("metric", "mean", "95% interval"),
                 rows, "Percentile bootstrap of the mean over replications (seeds spawned "
                 "from the scenario's seed); the run's own files are from its seed.")


def _brief(name: str) -> bool:
    """A rule's or a severity bin's episodes a day, or complaints per call."""
    rule_rate = name.endswith(".per_day") and name.count(".") == 1
    return rule_rate or name.startswith(("severity.", "hotline."))


def _interval(m: Mapping[str, Any]) -> str:
    if m.get("low") is None:
        return "–"
    return f"[{m['low']:.3f}, {m['high']:.3f}]"


def compare_table(stats: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> Table:
    """The headline metrics of several runs side by side; metrics some run lacks show a
    dash. When every run has replications the cells are their means with 95% bootstrap
    intervals; otherwise each run's own value, so that like is set beside like."""
    flats = [headline_metrics(s) for s in stats]
    use_reps = all(s.get("replications") for s in stats)
    names: list[str] = []
    for flat in flats:
        names += [n for n in flat if n not in names]
    rows = []
    for name in names:
        cells = []
        for s, flat in zip(stats, flats, strict=True):
            rep = (s.get("replications") or {}).get("metrics", {}).get(name)
            if use_reps and rep and rep.get("low") is not None:
                cells.append(f"{rep['mean']:.3f} {_interval(rep)}")
            else:
                cells.append(_num(flat.get(name), 3))
        rows.append((name, *cells))
    note = ("Means over each run's replications [95% bootstrap interval]." if use_reps else
            "Each run's own value (one seed each); run with --replications N for intervals.")
    return Table("Side by side", ("metric", *labels), tuple(rows), note)


def compare_csv(stats: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    """The headline metrics of several runs as CSV of plain numbers: a column per run (its
    own value) and, for a run with replications, ``LABEL.mean``, ``.low`` and ``.high``;
    empty where a run lacks the metric."""
    flats = [headline_metrics(s) for s in stats]
    names: list[str] = []
    for flat in flats:
        names += [n for n in flat if n not in names]
    header = ["metric"]
    for s, label in zip(stats, labels, strict=True):
        header.append(label)
        if s.get("replications"):
            header += [f"{label}.mean", f"{label}.low", f"{label}.high"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for name in names:
        row = [name]
        for s, flat in zip(stats, flats, strict=True):
            row.append(_plain(flat.get(name)))
            if s.get("replications"):
                rep = s["replications"]["metrics"].get(name) or {}
                row += [_plain(rep.get(k)) for k in ("mean", "low", "high")]
        writer.writerow(row)
    return buffer.getvalue()


def _plain(value: Any) -> str:
    return "" if value is None else repr(float(value))


def text(table: Table) -> list[str]:
    """The table as aligned lines of text, title first."""
    rows = [table.header, *table.rows]
    widths = [max(len(r[k]) for r in rows) for k in range(len(table.header))]
    lines = [table.title]
    for row in rows:
        cells = [c.ljust(w) if k == 0 else c.rjust(w)
                 for k, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  " + "  ".join(cells).rstrip())
    if table.note:
        lines.append("  " + table.note)
    return lines


def to_html(table: Table) -> str:
    """The table as an HTML ``<table>`` with a caption (cells escaped)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table>{note}")


def sweep_table(stored: StoredSweep, metrics: Sequence[str] | None = None) -> Table:
    """A sweep's grid points, each with the mean and 95% interval of a few metrics."""
    # Imported here: a run's tables need none of the sweeps' machinery (SQLite).
    from sim.study.sweep import default_metrics, label_text, summarize_sweep

    names = tuple(metrics) if metrics else default_metrics(stored)
    names = tuple(m for m in names if m in stored.metrics)
    cells: dict[tuple[int, str], str] = {}
    counts: dict[int, int] = {}
    for s in summarize_sweep(stored, names):
        interval = "" if s.replications < 2 else f" [{s.low:,.2f}, {s.high:,.2f}]"
        cells[s.point, s.metric] = f"{s.mean:,.2f}{interval}"
        counts[s.point] = max(counts.get(s.point, 0), s.replications)
    rows = tuple((*(label_text(v) for v in stored.points[p]), str(counts.get(p, 0)),
                  *(cells.get((p, m), "–") for m in names)) for p in sorted(stored.points))
    done = "" if stored.complete else (f" Unfinished: {len(stored.rows)} of "
                                       f"{len(stored.points) * stored.replications} rows.")
    return Table(f"Sweep {stored.name}: mean [95% CI] over replications",
                 (*stored.axes, "reps", *names), rows,
                 "Student t intervals (clipped at zero: the metrics are counts and rates); "
                 "every grid point runs the same replication seeds."
                 + done)
