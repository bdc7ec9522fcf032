"""The "rule of threes" as a rule type: two aircraft of different parties may come within
3 NM and 3,000 ft of each other, but not stay that close for more than 3 minutes.

Reported by the Wall Street Journal (9 Jan 2017) as the working rule between the
coalition's and Russia's aircraft over Syria (facts ``rule_of_threes_horizontal_wsj``,
``rule_of_threes_vertical_wsj`` and ``rule_of_threes_duration_wsj`` of the simulator's
``seeds/facts.yaml``). A violation is the stretch of a close approach that
lasts beyond the allowed dwell: its episode starts when the allowed time runs out and ends
with the close approach. A close approach of exactly the dwell, or shorter, is no
violation.

Made only of the public, exact blocks of ``sim.rules``: the close approaches come from the
broad phase and the closed-form solver (``close_pieces``), each piece learns the approach it
belongs to (``episode_spans``), the first ``dwell`` seconds are cut away (``clip_pieces``,
which solves the closest approach again on what is left) and the rest is assembled into
episodes (``pair_episodes``). Nothing is sampled.
"""

from __future__ import annotations

from sim.rules import (
    Duration,
    Episode,
    PartyPair,
    PositiveDistance,
    RuleParameters,
    World,
    clip_pieces,
    close_pieces,
    episode_spans,
    pair_episodes,
    parameter,
    rule,
)

__all__ = ["RuleOfThrees", "rule_of_threes"]


class RuleOfThrees(RuleParameters):
    """Within ``horizontal`` and ``vertical`` of each other for more than ``dwell``."""

    horizontal: PositiveDistance = parameter(
        "3 nmi", "Closer than this in plan (and than vertical in altitude) is a close approach.",
        "distance")
    vertical: PositiveDistance = parameter(
        "3000 ft", "Closer than this in altitude (and than horizontal in plan) is a close "
        "approach.", "distance")
    dwell: Duration = parameter(
        "3 min", "How long a close approach may last before the rest of it is a violation.",
        "duration")
    between: PartyPair = parameter(
        None, "Only between these two parties; none: any two aircraft of different parties.",
        "two ids")


@rule("rule_of_threes", RuleOfThrees)
def rule_of_threes(params: RuleOfThrees, world: World) -> list[Episode]:
    """Close approaches that last beyond the allowed dwell, from the moment it runs out."""
    close = close_pieces(world, params.horizontal, params.vertical, params.between)
    start_s, end_s = episode_spans(world, close)
    return pair_episodes(params, world, clip_pieces(world.legs, close, start_s + params.dwell,
                                                    end_s))
