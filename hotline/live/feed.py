"""What the PBX's domain events become in the browsers: screen-pops, the live board, agent states.

Screen-pop (всплывающая карточка). When an operator's phone rings (`OperatorRinging` on the
interface a signed-in user is bound to: a level-1 call, the level-2 operator after a transfer,
or the consultation leg of an attended transfer), that user's sockets get

    {"type": "screen_pop", "call": {...}, "card": {...} | null, "card_pending": bool,
     "earlier_cards": [...], "scripts": [...]}

The card (РКК) is created by the journal writer when the call arrives, keyed by the PBX call
id, so the card exists before any phone rings. We do not create it here: a second writer of
the same call row would race the journal writer's own insert. What a pop shows is gathered
once per call from its arrival (`hotline.live.screen_pop`: the card as the writer committed it,
the caller's earlier cards, the scripts), so a ringing phone costs no read of the journal and
a burst of rings does not queue behind the database. The pop waits up to `CARD_WAIT` seconds
for that; if the card is still not there (database outage, writer spooling, a burst of
arrivals), the pop goes out without it and with `card_pending: true`, and a second
`screen_pop` with the card follows when it appears (up to `CARD_LATE` seconds). Each user's
pop holds only what `journal.access` lets that user see: an operator never receives another
organization's card (it is simply null). The cards a pop showed are audited as a list (152-ФЗ)
through the journal writer (`screen_pop_shown` records), batched and kept through outages.

Live board (administrators): `{"type": "board", "calls": [...], "waiting": n, "lines": [...]}`,
sent on subscribing, at most every `BOARD_INTERVAL` seconds while calls change, and every
`BOARD_REFRESH` seconds anyway (a line's mode changes on the clock, not on a call event).
An organization's supervisor gets the same message cut down to their own organization's
calls, lines and operators (`hotline.live.board_scope`).

Agent state: `{"type": "agent_state", ...}` to the operator whenever their queue state
changes: by the agent API (see `hotline.agents.http`) or as the PBX reports it (the pure
`hotline.pbx.tracking.agents` roster: a pause from the phone's keys, a phone that became unreachable,
ringing, talking, calls counted; every operator at each login). The board carries them all.

Call state: `{"type": "call_state", ...}` (see `hotline.live.call_states`) to the operator
whose phone is on a call, as that leg rings, is answered, is transferred away or ends; on
connecting, `{"type": "call_legs", "legs": [call_state, ...]}`: the legs live at their phone,
then a `screen_pop` of each of them (its call marked `"resumed": true`), as if it had just
rung: an operator who signs in (or opens another browser) while the phone rings or talks
gets the call's card, the caller's earlier cards and the scripts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.pbx.events import (
    AgentChanged, CallArrived, CallEnded, CallSnapshot, DomainEvent, OperatorRinging,
)
from hotline.calls.writer import CallJournalWriter
from hotline.config import Line
from hotline.modes.sync import ModeSync
from hotline.pbx.feed import PbxFeed
from hotline.pbx.callkeys import pbx_of
from hotline.pbx.sites import PbxSet
from hotline.live.call_states import CallLeg, CallStates
from hotline.live.board_scope import board_for, sees_board
from hotline.live.hub import Hub, Message, Subscriber
from hotline.cards.schema import EARLIER_FIELDS, CardValues, card_json
from hotline.live.screen_pop import CallCard, CallCards, ScriptsCache
from journal.access import may_see_card_of
from journal.clock import utc_now

log = structlog.get_logger(__name__)

# A ring does not wait longer than this for the card: the operator sees the call, the
# caller's earlier appeals and the scripts at once, the new card follows in a second pop.
CARD_WAIT = 0.05
CARD_LATE = 15.0
BOARD_INTERVAL = 0.5
BOARD_REFRESH = 5.0
EARLIER_LIMIT = 10



def _no_arrival(_pbx_call_id: str) -> None:
    """Without telephony there is no writer to ask: read the journal."""
    return None



def call_json(snapshot: CallSnapshot | None, event: OperatorRinging, call_row_id: int | None,
              *, resumed: bool = False) -> dict[str, Any]:
    """The ringing call as the screen-pop shows it (the tracker's view, plus the journal id);
    `resumed`: popped to a socket that connected while the call was already on the phone."""
    body: dict[str, Any] = {
        "id": call_row_id,
        "resumed": resumed,
        "pbx_call_id": event.call_id,
        "interface": event.interface,
        "queue": event.queue,
        "consultation": event.consultation,
        "ringing_at": event.at.isoformat(),
    }
    if snapshot is not None:
        body.update(
            direction=snapshot.direction,
            line=snapshot.line,
            organization=snapshot.organization,
            caller_number=snapshot.caller_number,
            caller_name=snapshot.caller_name,
            state=snapshot.state,
            queue=event.queue or snapshot.queue,
            started_at=snapshot.started_at.isoformat(),
            transfers=len(snapshot.transfers),
        )
    return body


def board_call_json(snapshot: CallSnapshot) -> dict[str, Any]:
    return {
        "pbx_call_id": snapshot.call_id,
        "pbx": pbx_of(snapshot.call_id),
        "direction": snapshot.direction,
        "line": snapshot.line,
        "organization": snapshot.organization,
        "caller_number": snapshot.caller_number,
        "state": snapshot.state,
        "queue": snapshot.queue,
        "current_operator": snapshot.current_operator,
        "started_at": snapshot.started_at.isoformat(),
        "answered_at": snapshot.answered_at.isoformat() if snapshot.answered_at else None,
        "listeners": [{"interface": x.interface, "mode": x.mode, "since": x.since.isoformat()}
                      for x in snapshot.listeners],
    }


@dataclass(slots=True)
class AgentState:
    """An operator's membership of their queue, as the PBX reported it or the last agent
    action left it. The phone's fields (`device`: free, in_use, ringing, unavailable, ...;
    `calls_taken`) come from the PBX only and are None until it reported this phone."""

    interface: str
    queue: str | None = None
    state: str = "unknown"  # unknown | out | ready | paused | unavailable
    paused_reason: str = ""
    changed_at: datetime = field(default_factory=utc_now)
    member_name: str | None = None
    device: str | None = None
    device_since: datetime | None = None
    in_call: bool = False
    calls_taken: int | None = None

    @classmethod
    def of(cls, event: AgentChanged, old: AgentState | None) -> AgentState:
        agent = event.agent
        queue = agent.queues[0] if agent.queues else (old.queue if old else None)
        return cls(agent.interface, queue, agent.state, agent.paused_reason, agent.since,
                   agent.member_name, agent.device, agent.device_since, agent.in_call,
                   agent.calls_taken)

    def as_json(self) -> dict[str, Any]:
        return {
            "interface": self.interface, "queue": self.queue, "state": self.state,
            "paused_reason": self.paused_reason, "changed_at": self.changed_at.isoformat(),
            "member_name": self.member_name, "device": self.device,
            "device_since": self.device_since.isoformat() if self.device_since else None,
            "in_call": self.in_call, "calls_taken": self.calls_taken,
        }

    def same_as(self, other: AgentState | None) -> bool:
        """Nothing a person would notice differs (times of equal states aside)."""
        if other is None:
            return False
        mine, theirs = self.as_json(), other.as_json()
        for volatile in ("changed_at", "device_since"):
            mine.pop(volatile), theirs.pop(volatile)
        return mine == theirs


class LiveFeed:
    """Turns the PBX's domain events into hub messages; owns its tasks.

    Without a PBX (`pbx` None) it serves the sockets with what the journal has."""

    def __init__(
        self,
        hub: Hub,
        sessions: async_sessionmaker[AsyncSession],
        pbx: PbxFeed | PbxSet | None,
        *,
        writer: CallJournalWriter | None = None,
        modes: ModeSync | None = None,
        lines: Sequence[Line] = (),
        card_wait: float = CARD_WAIT,
        card_late: float = CARD_LATE,
        phone_org: Callable[[str], str | None] = lambda _interface: None,
    ) -> None:
        self.hub = hub
        self.phone_org = phone_org
        self.pbx = pbx
        self.writer = writer
        self.modes = modes
        self.lines = tuple(lines)
        self.card_wait = card_wait
        self.card_late = card_late
        self.agents: dict[str, AgentState] = {}
        self.call_states = CallStates()
        self._tasks: set[asyncio.Task[None]] = set()
        self.cards = CallCards(sessions, writer.arrival if writer is not None else _no_arrival,
                               card_late=card_late)
        self.scripts = ScriptsCache(sessions)
        self._board_dirty = asyncio.Event()
        self._board_task: asyncio.Task[None] | None = None
        hub.on_subscribe.append(self._greet)
        # Told the id of every card changed here (other instances refresh their pops).
        self.on_card_changed: list[Callable[[int], None]] = []

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self.pbx is not None:
            self.pbx.subscribe_calls(self.on_events)
            self.pbx.subscribe_agents(self.on_agents)
            self._board_task = asyncio.create_task(self._board_loop(), name="live-board")

    async def stop(self) -> None:
        if self.pbx is not None:
            self.pbx.unsubscribe_calls(self.on_events)
            self.pbx.unsubscribe_agents(self.on_agents)
        tasks = list(self._tasks)
        if self._board_task is not None:
            tasks.append(self._board_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.cards.close()
        self.hub.close_all()

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def card_changed(self, card: Any) -> None:
        """A card was changed through this instance: the next pops of its calls show it so,
        here and (through `on_card_changed`) on the other instances."""
        self.cards.card_changed(card)
        for hook in self.on_card_changed:
            hook(card["id"])

    def card_changed_elsewhere(self, card_id: int) -> None:
        self._spawn(self.cards.card_changed_elsewhere(card_id), f"card-changed-{card_id}")

    # ------------------------------------------------------------ events

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        """A call subscriber of the PBX feed: runs on the PBX event path, so it only schedules work."""
        self._board_dirty.set()
        for event in events:
            if isinstance(event, CallArrived):  # gathered before any phone rings
                inbound = event.direction == "in"
                self.cards.prepare(event.call_id, event.caller_number if inbound else None,
                                   event.at)
            elif isinstance(event, OperatorRinging):
                targets = self.hub.at_interface(event.interface)
                if targets:
                    self._spawn(self._pop(event, targets), f"screen-pop-{event.call_id}")
        self._send_call_states(events)
        for event in events:
            if isinstance(event, CallEnded):
                self.cards.forget(event.call_id)

    async def _pop(
        self, event: OperatorRinging, targets: list[Subscriber], *, resumed: bool = False
    ) -> None:
        bound = log.bind(call_id=event.call_id, interface=event.interface, resumed=resumed)
        try:
            snapshot = self.pbx.snapshot(event.call_id) if self.pbx else None
            started = time.monotonic()
            entry = self.cards.prepare(event.call_id)
            complete = await entry.wait(self.card_wait)
            with_card = await self._send_pops(event, snapshot, entry, targets, resumed=resumed)
            bound.info("screen pop sent", card_id=entry.card["id"] if entry.card else None,
                       users=[s.user_id for s in targets],
                       ms=int((time.monotonic() - started) * 1000),
                       since_ring_ms=int((utc_now() - event.at).total_seconds() * 1000))
            if not complete:
                # What the journal had not given yet follows in a second pop.
                await entry.wait(self.card_late)
                if entry.card is not None and (not with_card or entry.earlier):
                    await self._send_pops(event, snapshot, entry, targets, resumed=resumed)
            if entry.card is None and entry.ended:
                bound.info("screen pop without a card: the call ended before it was written")
            elif entry.card is None:
                bound.warning("screen pop without a card: the journal has none")
        except Exception:
            bound.exception("screen pop failed")

    async def _send_pops(
        self,
        event: OperatorRinging,
        snapshot: CallSnapshot | None,
        entry: CallCard,
        targets: list[Subscriber],
        *,
        resumed: bool = False,
    ) -> bool:
        """One pop per socket, each showing only what its user may see; the cards shown are
        audited (personal data) through the journal writer, batched and spooled. Whether
        the pops carried the call's card."""
        loaded = entry.ready.is_set()
        card = entry.card if loaded else None
        shown: list[dict[str, Any]] = []
        for subscriber in targets:
            message, card_ids = await self._pop_message(subscriber, event, snapshot, entry, card,
                                                        pending=not loaded, resumed=resumed)
            subscriber.put(message)
            if card_ids:
                shown.append({
                    "event": "screen_pop_shown", "call_id": event.call_id,
                    "at": utc_now().isoformat(), "user_id": subscriber.user_id,
                    "login": subscriber.login, "interface": event.interface,
                    "card_ids": card_ids,
                })
        if shown and self.writer is not None:
            self.writer.submit_records(shown)
        return card is not None

    async def _pop_message(
        self,
        subscriber: Subscriber,
        event: OperatorRinging,
        snapshot: CallSnapshot | None,
        entry: CallCard,
        card: CardValues | None,
        *,
        pending: bool,
        resumed: bool = False,
    ) -> tuple[Message, list[int]]:
        """The pop for one user, from memory: the card and the earlier cards that user may
        see, and their organization's scripts; with the ids of the cards it shows."""
        actor = subscriber.actor
        message: Message = {
            "type": "screen_pop",
            "call": {**call_json(snapshot, event, entry.call_row_id, resumed=resumed),
                     **self._site_of(event.call_id)},
            "card": None,
            "card_pending": pending,
            "earlier_cards": [],
            "scripts": [],
        }
        shown: list[int] = []
        if card is not None:
            if may_see_card_of(actor, card["organization_id"]):
                message["card"] = card_json(card)
                shown.append(card["id"])
            else:
                log.warning("screen pop of a card the user may not see",
                            user_id=subscriber.user_id, card_id=card["id"])
        earlier = [c for c in entry.earlier_than_this()
                   if may_see_card_of(actor, c["organization_id"])]
        message["earlier_cards"] = [card_json(c, EARLIER_FIELDS) for c in earlier[:EARLIER_LIMIT]]
        shown += [c["id"] for c in earlier[:EARLIER_LIMIT]]
        try:
            message["scripts"] = await self.scripts.for_organization(subscriber.organization_id)
        except Exception as exc:  # the call still rings: send what we know
            log.warning("screen pop without answer scripts", error=repr(exc)[:200])
        return message, shown

    def _site_of(self, call_id: str) -> dict[str, str]:
        """With several PBXs, which one the call came through (its title, for people)."""
        if isinstance(self.pbx, PbxSet) and len(self.pbx) > 1:
            return {"pbx_title": self.pbx.title(pbx_of(call_id))}
        return {}

    # ------------------------------------------------------------ board

    def board(self) -> Message:
        """Calls in progress and waiting, and each line's mode, now."""
        calls = self.pbx.calls() if self.pbx else []
        live = [c for c in calls if c.state != "ended"]
        lines = []
        if self.pbx is not None:
            for line in self.lines:
                state = self.modes.current(line.number) if self.modes else None
                lines.append({"number": line.number, "organization": line.organization,
                              "mode": state.mode if state else None})
        return {
            "type": "board",
            "at": utc_now().isoformat(),
            "calls": [{**board_call_json(c), "id": self.cards.call_row_id(c.call_id)} for c in live],
            "waiting": sum(1 for c in live if c.state == "queued"),
            "talking": sum(1 for c in live if c.state == "talking"),
            "lines": lines,
            "agents": [a.as_json() for a in self.agents.values()],
            "roster_complete": self._roster_complete(),
            "pbx": self.pbx.link_state if self.pbx else "disabled",
            # Several PBXs: each one's link with its title (one PBX: absent).
            **({"pbxs": self.pbx.links()}
               if isinstance(self.pbx, PbxSet) and len(self.pbx) > 1 else {}),
        }

    def _send_board(self, subscribers: Sequence[Subscriber]) -> None:
        """The board, built once, to each subscriber as far as they may see it."""
        board: Message | None = None
        for subscriber in subscribers:
            if not sees_board(subscriber):
                continue
            board = board if board is not None else self.board()
            message = board_for(board, subscriber, self.phone_org)
            if message is not None:
                subscriber.put(message)

    def _greet(self, subscriber: Subscriber) -> None:
        self._send_board([subscriber])
        if subscriber.interface and (subscriber.interface in self.agents or self._roster_complete()):
            subscriber.put(self.agent_message(self.agent_state(subscriber.interface)))
        if subscriber.interface:
            # What rings or talks at this phone now: a reloaded workspace learns whether the
            # call it remembers is still on (and a call missing here is over).
            legs = self.call_states.live_at(subscriber.interface)
            subscriber.put({"type": "call_legs", "legs": [
                leg.as_message(self.cards.call_row_id(leg.pbx_call_id)) for leg in legs]})
            for leg in legs:
                self._resume_pop(leg, subscriber)

    def _resume_pop(self, leg: CallLeg, subscriber: Subscriber) -> None:
        """Pop a call already ringing or talking at the phone of a socket that just connected
        (a sign-in, a second browser, a reload): the same pop its ring gave, to this socket."""
        ringing = OperatorRinging(
            call_id=leg.pbx_call_id, at=leg.ringing_at or leg.answered_at or utc_now(),
            interface=leg.interface, member_name=None, queue=leg.queue, channel=None,
            consultation=leg.consultation,
        )
        self._spawn(self._pop(ringing, [subscriber], resumed=True),
                    f"screen-pop-resumed-{leg.pbx_call_id}")

    async def _board_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(BOARD_REFRESH):
                    await self._board_dirty.wait()
            except TimeoutError:
                pass
            self._board_dirty.clear()
            viewers = self.hub.admins() + self.hub.supervisors()
            if viewers:
                try:
                    self._send_board(viewers)
                except Exception:
                    log.exception("live board failed")
            await asyncio.sleep(BOARD_INTERVAL)

    # ------------------------------------------------------------ agents

    def agent_state(self, interface: str) -> AgentState:
        """The operator's state; a phone the PBX's complete member list lacks is `out`."""
        known = self.agents.get(interface)
        if known is not None:
            return known
        return AgentState(interface, state="out" if self._roster_complete() else "unknown")

    def _roster_complete(self) -> bool:
        return self.pbx is not None and self.pbx.roster_complete

    def set_agent(self, user_id: int, state: AgentState) -> None:
        """Remember the queue state an agent action left and tell the operator's browsers.

        The phone's own facts (device, calls taken) stay as the PBX last reported them, and a
        phone the PBX reports unreachable stays `unavailable` although the operator joined.
        """
        old = self.agents.get(state.interface)
        if old is not None and old.device is not None:
            state = replace(state, member_name=old.member_name, device=old.device,
                            device_since=old.device_since, in_call=old.in_call,
                            calls_taken=old.calls_taken)
            if old.state == "unavailable" and state.state == "ready":
                state.state = "unavailable"
        if state.same_as(old):
            return  # the PBX's own event said it first: keep its time
        self.agents[state.interface] = state
        self.hub.to_user(user_id, self.agent_message(state))
        self._board_dirty.set()

    def on_agents(self, events: Sequence[AgentChanged]) -> None:
        """An agent subscriber of the PBX feed: the PBX reported operators' queue states."""
        for event in events:
            old = self.agents.get(event.agent.interface)
            state = AgentState.of(event, old)
            self.agents[state.interface] = state
            if state.same_as(old):
                continue
            message = self.agent_message(state)
            for subscriber in self.hub.at_interface(state.interface):
                subscriber.put(message)
        self._board_dirty.set()

    # ------------------------------------------------------------ call states

    def _send_call_states(self, events: Sequence[DomainEvent]) -> None:
        """Tell each operator whose phone is on a call how their leg of it goes."""
        for leg in self.call_states.feed(events):
            self._send_leg(leg)

    def _send_leg(self, leg: CallLeg) -> None:
        targets = self.hub.at_interface(leg.interface)
        if targets:
            message = leg.as_message(self.cards.call_row_id(leg.pbx_call_id))
            for subscriber in targets:
                subscriber.put(message)

    @staticmethod
    def agent_message(state: AgentState) -> Message:
        return {"type": "agent_state", **state.as_json()}
