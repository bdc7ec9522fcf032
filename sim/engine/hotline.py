"""The hotline: duty officers passing declared zones and complaints over a lossy link.

Each party has an officer. At every scheduled call (``first_call``, then every
``interval``, at each offset of ``pattern``) every officer passes to every other party
the zones it declares that it knows of and that have not ended; a party that learns of a
pop-up work area after the last call may make an ad-hoc call for it. Following SimPy's
latency example, delay and loss live in the link, not in the officers: each item reaches
the other side ``latency`` later or is lost with probability ``loss``, and the listening
officer notes when each zone first reached its side (what its planner can then avoid).

Complaints (violations a side saw, passed at the next scheduled call) change nobody's
flying in this model, so they are worked out once the flying is done, from the exact
episodes, through the same latency and loss: ``complain``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.model.limits import DEFAULT_LIMITS
from sim.model.records import Call, Episode, Hotline, Message
from sim.model.scenario import (
    HotlineSpec,
    InterferenceSpec,
    Problem,
    RuleSpec,
    ScenarioError,
    ZoneSpec,
)
from sim.traffic.workareas import Declarable


@dataclass(frozen=True, slots=True)
class Degradation:
    """The hotline's loss and latency while interference windows are active: each window
    (start, end) with the loss and latency it imposes (None: the hotline's own)."""

    windows: tuple[tuple[float, float, float | None, float | None], ...] = ()

    @classmethod
    def of(cls, areas: Sequence[InterferenceSpec]) -> Degradation:
        """The windows of the areas that degrade the hotline."""
        return cls(tuple((w0, w1, a.hotline.loss, a.hotline.latency_s) for a in areas
                         if a.hotline is not None for w0, w1 in a.windows_s))

    def at(self, t_s: float, loss: float, latency_s: float) -> tuple[float, float]:
        """The (loss, latency) of an item sent at ``t_s``: the worst of the windows active
        then (start included, end not), or the hotline's own."""
        for w0, w1, w_loss, w_latency in self.windows:
            if w0 <= t_s < w1:
                loss = max(loss, w_loss) if w_loss is not None else loss
                latency_s = max(latency_s, w_latency) if w_latency is not None else latency_s
        return loss, latency_s

    def affects(self, t_s: float) -> bool:
        """Whether an item sent at ``t_s`` goes through a degraded hotline."""
        return any(w0 <= t_s < w1 for w0, w1, _, _ in self.windows)


class Link:
    """A one-way channel: items arrive ``latency_s`` after they are sent, unless lost."""

    def __init__(self, env: simpy.Environment, latency_s: float, loss: float,
                 rng: np.random.Generator, degradation: Degradation = Degradation()) -> None:
        self.env = env
        self.latency_s = latency_s
        self.loss = loss
        self.rng = rng
        self.degradation = degradation
        self.store: simpy.Store = simpy.Store(env)

    def send(self, item: Any) -> bool:
        """Send an item; return False if it is lost on the way."""
        loss, latency_s = self.degradation.at(float(self.env.now), self.loss, self.latency_s)
        # Draw for every item, lost or not, so that runs differing only in ``loss`` see
        # the same random numbers (common random numbers across a sweep).
        if self.rng.random() < loss:
            return False
        self.env.process(self._carry(item, latency_s))
        return True

    def _carry(self, item: Any, latency_s: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(latency_s)
        yield self.store.put(item)


def schedule(spec: HotlineSpec, duration_s: float) -> np.ndarray:
    """The call schedule within the run (also the parties' planning cycle), on or off."""
    if spec.first_call_s >= duration_s:
        return np.zeros(0)
    count = int(np.ceil((duration_s - spec.first_call_s) / spec.interval_s))
    starts = spec.first_call_s + spec.interval_s * np.arange(count)
    times: np.ndarray = (starts[:, None] + np.asarray(spec.pattern_s)[None, :]).ravel()
    return times[times < duration_s]


def call_times(spec: HotlineSpec, duration_s: float) -> np.ndarray:
    """The scheduled calls made: the schedule if the hotline is on, else none."""
    return schedule(spec, duration_s) if spec.enabled else np.zeros(0)


class Officer:
    """A party's duty officer: says its declarations at calls, notes what it receives."""

    def __init__(self, party: str, declarables: Sequence[Declarable]) -> None:
        self.party = party
        # In the order it learns of them; ``_next`` is the first it does not know yet.
        self.declarables = sorted((d for d in declarables
                                   if d.zone.party == party and d.zone.declare),
                                  key=lambda d: d.known_s)
        self._next = 0
        self._known: list[Declarable] = []

    def to_declare(self, now_s: float) -> list[ZoneSpec]:
        """The zones it knows of by now that have not ended (calls come in time order)."""
        while self._next < len(self.declarables) and \
                self.declarables[self._next].known_s <= now_s:
            self._known.append(self.declarables[self._next])
            self._next += 1
        self._known = [d for d in self._known if now_s < d.zone.active_end_s]
        return [d.zone for d in self._known]


def start_hotline(env: simpy.Environment, spec: HotlineSpec, parties: Sequence[str],
                  declarables: Sequence[Declarable], duration_s: float,
                  rng: np.random.Generator, file: str = "<scenario>",
                  max_declarations: int = DEFAULT_LIMITS.declarations,
                  degradation: Degradation = Degradation()) -> Hotline:
    """Start the officers' calls and listeners; return the hotline they fill in (a run
    that would pass more than ``max_declarations`` items stops with ScenarioError)."""
    times = call_times(spec, duration_s)
    hotline = Hotline(enabled=spec.enabled)
    if not spec.enabled or len(parties) < 2:
        return hotline
    link_rng, adhoc_rng = rng.spawn(2)
    links = {(a, b): Link(env, spec.latency_s, spec.loss, link_rng, degradation)
             for a in parties for b in parties if a != b}
    officers = {p: Officer(p, declarables) for p in parties}
    pending: dict[int, Message] = {}
    for (_, recipient), link in links.items():
        env.process(_listen(env, link, recipient, hotline, pending))
    say = _Speaker(env, links, hotline, pending, parties, file, max_declarations)
    env.process(_scheduled_calls(env, times, officers, say))
    # Ad-hoc calls: one draw per pop-up work area, in a fixed order (common random numbers).
    popups = sorted((d for d in declarables if d.popup and d.zone.declare),
                    key=lambda d: (d.known_s, d.zone.id))
    draws = adhoc_rng.uniform(0.0, 1.0, len(popups))
    for declarable, u in zip(popups, draws, strict=True):
        at_s = declarable.known_s + spec.adhoc_delay_s
        if u < spec.adhoc_probability and at_s < min(duration_s, declarable.zone.active_end_s):
            env.process(_adhoc_call(env, at_s, declarable.zone, say))
    return hotline


@dataclass
class _Speaker:
    """Puts a call's items on the links and logs them."""

    env: simpy.Environment
    links: dict[tuple[str, str], Link]
    hotline: Hotline
    pending: dict[int, Message]
    parties: Sequence[str]
    file: str
    max_declarations: int

    def call(self, call: int, kind: str, sender: str, zones: Sequence[ZoneSpec]) -> None:
        limit = self.max_declarations
        if len(self.hotline.messages) + len(zones) * len(self.parties) > limit:
            raise ScenarioError([Problem(self.file, "hotline.interval", f"this run passes "
                                         f"more than {limit:,} declarations on the hotline "
                                         "(work areas are declared at every call while "
                                         "they last); write a longer interval such as "
                                         "\"24 h\" (or raise the limit: Limits("
                                         "declarations=N))")])
        for recipient in self.parties:
            if recipient == sender:
                continue
            for zone in zones:
                index = len(self.hotline.messages)
                delivered = self.links[(sender, recipient)].send(index)
                message = Message(call, kind, sender, recipient, "zone", zone.id,
                                  float(self.env.now), not delivered, None)
                self.hotline.messages.append(message)
                if delivered:
                    self.pending[index] = message


def _scheduled_calls(env: simpy.Environment, times: np.ndarray, officers: dict[str, Officer],
                     say: _Speaker) -> Generator[simpy.Event, Any, None]:
    for at_s in times:
        yield env.timeout(max(0.0, float(at_s) - env.now))
        call = say.hotline.calls
        say.hotline.call_log.append(Call(call, "scheduled", "", float(env.now)))
        for party, officer in officers.items():
            say.call(call, "scheduled", party, officer.to_declare(env.now))


def _adhoc_call(env: simpy.Environment, at_s: float, zone: ZoneSpec, say: _Speaker
                ) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(max(0.0, at_s - env.now))  # known before the run began: at once
    call = say.hotline.calls
    say.hotline.call_log.append(Call(call, "adhoc", zone.party, float(env.now)))
    say.call(call, "adhoc", zone.party, [zone])


def _listen(env: simpy.Environment, link: Link, recipient: str, hotline: Hotline,
            pending: dict[int, Message]) -> Generator[simpy.Event, Any, None]:
    while True:
        index = yield link.store.get()
        message = pending.pop(index)
        hotline.messages[index] = Message(message.call, message.kind, message.sender,
                                          message.recipient, message.item_type,
                                          message.item, message.sent_s, False, float(env.now))
        hotline.receive(recipient, message.item, float(env.now))


def complainants(episode: Episode, parties: Sequence[str]) -> list[str]:
    """Who saw an episode as the other side's violation: the zone's owner, the lane's
    other parties, or for a separation each party of the pair (of the other's aircraft)."""
    if episode.other_aircraft:
        return [episode.other_party, episode.party] if episode.party != episode.other_party \
            else []
    return [p for p in episode.other_party.split(";") if p and p in parties
            and p != episode.party]


def complain(hotline: Hotline, spec: HotlineSpec, rules: Sequence[RuleSpec],
             episodes: Sequence[Episode], parties: Sequence[str], duration_s: float,
             rng: np.random.Generator, degradation: Degradation = Degradation()) -> None:
    """Pass each complaint at the first scheduled call after the episode began.

    Complaints come from the rules with ``complaint: true``; each is an item on the link
    from the party that saw the violation to the violator's, with a loss draw of its own
    (in events order) and the hotline's latency.
    """
    complaining = {r.id for r in rules if r.complaint}
    calls = hotline.scheduled()
    if not hotline.enabled or not calls or not complaining:
        return
    times = np.array([c.at_s for c in calls])
    for episode in episodes:
        if episode.rule not in complaining:
            continue
        k = int(np.searchsorted(times, episode.start_s, side="right"))
        if k >= len(times):
            continue  # seen after the last call of the run
        for party in complainants(episode, parties):
            loss, latency_s = degradation.at(float(times[k]), spec.loss, spec.latency_s)
            lost = bool(rng.random() < loss)
            arrive = float(times[k]) + latency_s
            pair = f"{episode.aircraft}/{episode.other_aircraft}" if episode.other_aircraft \
                else episode.aircraft
            item = f"{episode.rule}:{pair}@{episode.start_s:.3f}"
            hotline.messages.append(Message(
                calls[k].number, "scheduled", party, _violator_party(episode, party),
                "complaint", item, float(times[k]), lost,
                None if lost or arrive >= duration_s else arrive))


def _violator_party(episode: Episode, complainant: str) -> str:
    if episode.other_aircraft:
        return episode.party if complainant == episode.other_party else episode.other_party
    return episode.party
