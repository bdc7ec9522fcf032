"""The hotline: duty officers exchanging declared zones over a link with latency and loss.

Following SimPy's latency example, delay and loss live in the link (a Store behind a
delay, with seeded loss), not in the officers: at each scheduled call every party's
officer passes its declared zones to every other party; the link delivers each item
``latency_s`` later or loses it with probability ``loss``; the receiving officer notes
when each zone first reached its side.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.scenario import HotlineSpec, ZoneSpec


@dataclass(frozen=True, slots=True)
class Message:
    """One item said on the hotline: which call, who to whom, what, when sent and received."""

    call: int
    sender: str
    recipient: str
    item: str
    sent_s: float
    lost: bool
    received_s: float | None  # None: lost, or still on the way when the run ended


class Link:
    """A one-way channel: items arrive ``latency_s`` after they are sent, unless lost."""

    def __init__(self, env: simpy.Environment, latency_s: float, loss: float,
                 rng: np.random.Generator) -> None:
        self.env = env
        self.latency_s = latency_s
        self.loss = loss
        self.rng = rng
        self.store: simpy.Store = simpy.Store(env)

    def send(self, item: Any) -> bool:
        """Send an item; return False if it is lost on the way."""
        # Draw for every item, lost or not, so that runs differing only in ``loss`` see
        # the same random numbers (common random numbers across a sweep).
        if self.rng.random() < self.loss:
            return False
        self.env.process(self._carry(item))
        return True

    def _carry(self, item: Any) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.latency_s)
        yield self.store.put(item)


@dataclass(slots=True)
class Hotline:
    """The state of the hotline during a run: calls made, messages, what each side knows."""

    calls: int = 0
    messages: list[Message] = field(default_factory=list)
    # (receiving party, zone id) -> when that zone's declaration first arrived
    received: dict[tuple[str, str], float] = field(default_factory=dict)

    def informed(self, party: str, zone_id: str, at_s: float) -> bool:
        """Had ``party`` received ``zone_id``'s declaration by ``at_s``?"""
        when = self.received.get((party, zone_id))
        return when is not None and when <= at_s


def call_times(spec: HotlineSpec, duration_s: float) -> np.ndarray:
    """The scheduled calls within the run: ``first_call`` then every ``interval``."""
    if not spec.enabled or spec.first_call_s >= duration_s:
        return np.zeros(0)
    count = int(np.ceil((duration_s - spec.first_call_s) / spec.interval_s))
    times = spec.first_call_s + spec.interval_s * np.arange(count)
    return times[times < duration_s]


def start_hotline(env: simpy.Environment, spec: HotlineSpec, parties: Sequence[str],
                  zones: Sequence[ZoneSpec], duration_s: float, rng: np.random.Generator
                  ) -> Hotline:
    """Start the calls and the officers' processes; return the hotline they fill in."""
    hotline = Hotline()
    times = call_times(spec, duration_s)
    if len(times) == 0 or len(parties) < 2:
        return hotline
    links = {(a, b): Link(env, spec.latency_s, spec.loss, rng)
             for a in parties for b in parties if a != b}
    pending: dict[int, Message] = {}
    for (_, recipient), link in links.items():
        env.process(_listen(env, link, recipient, hotline, pending))
    env.process(_calls(env, times, parties, zones, links, hotline, pending))
    return hotline


def _calls(env: simpy.Environment, times: np.ndarray, parties: Sequence[str],
           zones: Sequence[ZoneSpec], links: dict[tuple[str, str], Link], hotline: Hotline,
           pending: dict[int, Message]) -> Generator[simpy.Event, Any, None]:
    for call, at_s in enumerate(times):
        yield env.timeout(float(at_s) - env.now)
        hotline.calls += 1
        for sender in parties:
            # A party declares its zones that are still to come or going on.
            declared = [z for z in zones if z.party == sender and z.declare
                        and z.active_end_s > env.now]
            for recipient in parties:
                if recipient == sender:
                    continue
                for zone in declared:
                    index = len(hotline.messages)
                    delivered = links[(sender, recipient)].send(index)
                    message = Message(call, sender, recipient, zone.id, env.now, not delivered,
                                      None)
                    hotline.messages.append(message)
                    if delivered:
                        pending[index] = message


def _listen(env: simpy.Environment, link: Link, recipient: str, hotline: Hotline,
            pending: dict[int, Message]) -> Generator[simpy.Event, Any, None]:
    while True:
        index = yield link.store.get()
        message = pending.pop(index)
        hotline.messages[index] = Message(message.call, message.sender, message.recipient,
                                          message.item, message.sent_s, False, env.now)
        hotline.received.setdefault((recipient, message.item), env.now)
