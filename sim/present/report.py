"""One self-contained HTML page of a run, to mail to a colleague: the scenario, the headline
numbers against the reported facts, the tables and the figures (PNG, embedded as data
URIs). No script, no external file, no web font: it opens the same anywhere.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from sim.analysis.metrics import CONSISTENT, verdicts_of
from sim.io.read import RunFolder
from sim.model.geography import Geography
from sim.model.units import DAY, HOUR
from sim.present.plots import figure_bytes, run_figures
from sim.present.tables import (
    Table,
    hotline_table,
    interference_table,
    miss_distance_table,
    planning_table,
    rates_table,
    replications_table,
    reported_table,
    severity_table,
    to_html,
)

CAPTIONS = {
    "map": "Where each episode happened: separation episodes at the pair's midpoint at "
           "closest approach, lane and zone episodes where they began. Tracks are a fixed "
           "sample of the sorties.",
    "violations_per_day": "Episodes in each day of the run, per party, against the "
                          "reported rates (shaded band).",
    "miss_distance": "Miss distances at closest approach for each separation rule, with the "
                     "severity limits marked, and how many encounters came that close.",
    "time_in_violation": "How long each rule's condition held, per party.",
    "hotline": "What each hotline call passed, delivered and lost.",
    "altitude": "Altitude against time of the sampled flights (drawn when a flight changes "
                "level), with each separation episode's closest approach marked.",
}

STYLE = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#1b2631;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #d5d8dc;
padding-bottom:.2em;margin-top:1.6em}
.meta{color:#566573}.headline{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.card{border:1px solid #d5d8dc;border-radius:6px;padding:.6em 1em;min-width:200px}
.card .value{font-size:1.6em;font-weight:bold}.card .what{color:#566573;font-size:.85em}
.card .method{max-width:22em}
.within{color:#1e8449}.outside{color:#b03a2e}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border-bottom:1px solid #e5e8e8;padding:.25em .7em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f6f6}
.note{color:#566573;font-size:.85em;margin-top:0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #e5e8e8}
figcaption{color:#566573;font-size:.9em}
pre{background:#f8f9f9;border:1px solid #e5e8e8;padding:.8em;font-size:.8em;overflow:auto;
max-height:28em}
"""


def report_html(folder: RunFolder, geography: Geography) -> str:
    """The report page of a run folder as HTML text."""
    scenario, stats, summary = folder.scenario, folder.stats, folder.summary
    figures = run_figures(folder, geography)
    images = {name: base64.b64encode(figure_bytes(fig, "png")).decode("ascii")
              for name, fig in figures.items()}
    title = f"{scenario.name}: seed {scenario.seed}, {duration_text(scenario.duration_s)}"
    tables: list[Table | None] = [rates_table(stats), severity_table(stats),
                                  miss_distance_table(stats), hotline_table(stats),
                                  planning_table(summary), interference_table(summary, stats),
                                  replications_table(stats)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(_description(scenario.description))}'
        f"{_meta(folder)}</p>",
        "<h2>Headline numbers against the reported facts</h2>",
        _headline(summary, stats),
        to_html(reported_table(summary, stats)) if summary.get("reported") else "",
        "<h2>Figures</h2>",
        *(f'<figure><img alt="{html.escape(name.replace("_", " "))}" '
          f'src="data:image/png;base64,{data}"><figcaption>{html.escape(CAPTIONS[name])}'
          "</figcaption></figure>" for name, data in images.items()),
        "<h2>Tables</h2>",
        *(to_html(t) for t in tables if t is not None and t.rows),
        "<h2>The scenario as run</h2>",
        f"<pre>{html.escape((folder.path / 'scenario.yaml').read_text(encoding='utf-8'))}"
        "</pre>",
        f'<p class="meta">Written by deconflict {html.escape(str(stats.get("version", "")))}'
        f" from the run folder {html.escape(folder.label)}.</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def duration_text(seconds: float) -> str:
    """A run's length as a person says it: 7 days, 6 h, 45 min, 30 s."""
    for unit, name in ((DAY, " days"), (HOUR, " h"), (60.0, " min")):
        if seconds >= unit:
            value = seconds / unit
            text = f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"
            return text + (" day" if name == " days" and text == "1" else name)
    return f"{seconds:g} s"


def _description(text: str | None) -> str:
    return f"{text} " if text else ""


def _meta(folder: RunFolder) -> str:
    stats = folder.stats
    exposure = stats["exposure"]
    start = folder.scenario.start
    return html.escape(
        (f"From {start}; " if start else "")
        + f"{exposure['sorties']['total']:,} sorties, "
        f"{exposure['flight_hours']['total']:,.1f} flight hours, "
        f"{len(folder.episodes):,} episodes.")


def _headline(summary: Mapping[str, Any], stats: Mapping[str, Any]) -> str:
    """Cards: each reported fact against the simulated rate, then the worst encounter."""
    cards = []
    for item in verdicts_of(summary, stats):
        low, high = item["reported_per_day"]
        band = f"{low:g}" if low == high else f"{low:g} to {high:g}"
        who = f" ({item['party']})" if item["party"] else ""
        css = "within" if item["verdict"] == CONSISTENT else "outside"
        i_low, i_high = item["interval_per_day"]
        over = (f"{item['replications']} replications" if item["source"] == "replications"
                else "this run")
        cards.append(
            f'<div class="card"><div class="what">{html.escape(item["rule"] + who)} a day'
            f'</div><div class="value">{item["estimate_per_day"]:.2f}</div>'
            f'<div class="what">{html.escape(over)}, 95% interval [{i_low:.2f}, '
            f'{i_high:.2f}]</div><div class="what">reported {html.escape(band)}: '
            f'<span class="{css}">{html.escape(item["verdict"])}</span></div>'
            f'<div class="what method">{html.escape(item["interval_method"])}</div></div>')
    for b in stats["severity"]["bins"][:1]:
        cards.append(
            f'<div class="card"><div class="what">{html.escape(b["label"])}</div>'
            f'<div class="value">{b["encounters"]:,}</div><div class="what">'
            f'{b["per_day"]:.3f} a day</div></div>')
    hours = sum(v["total_s"] for k, v in stats["time_in_violation"].items()
                if stats["rates"][k]["type"] in ("lane_discipline", "zone_incursion")) / HOUR
    cards.append(f'<div class="card"><div class="what">hours in lane and zone violation'
                 f'</div><div class="value">{hours:,.1f}</div></div>')
    return '<div class="headline">' + "".join(cards) + "</div>"
