"""The figures' shared style: party and rule colours, resolution, and text as written."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

from sim.model.scenario import RuleSpec

PARTY_COLORS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573")
RULE_COLORS = ("#e67e22", "#27ae60", "#8e44ad", "#111111", "#16a085", "#d4ac0d", "#7f8c8d",
               "#a04000")
RIVER_COLOR = "#5dade2"
DPI = 110


def plain_text(value: str) -> str:
    """Text from the user (names, labels) drawn as written: a ``$`` is not mathtext."""
    return value.replace("$", r"\$")


def no_data(ax: Axes, message: str) -> None:
    """Say on an empty axes why there is nothing to draw."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            color="#777777")


def party_colors(parties: Sequence[str]) -> dict[str, str]:
    """A fixed colour per party, in sorted party order."""
    return {p: PARTY_COLORS[k % len(PARTY_COLORS)] for k, p in enumerate(sorted(parties))}


def rule_colors(rules: Sequence[RuleSpec]) -> dict[str, str]:
    """A fixed colour per rule, in the scenario's rule order."""
    return {r.id: RULE_COLORS[k % len(RULE_COLORS)] for k, r in enumerate(rules)}
