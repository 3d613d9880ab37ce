"""What a screen-pop shows, gathered once per call before any phone rings.

A pop must reach the operator while the phone rings, and in a busy hour hundreds of phones
ring at once: reading the journal per pop (the user, the card, the caller's earlier cards,
the scripts, an audit row) made every pop wait for the database behind every other one. So:

* `CallCards` keeps, per PBX call, the call's card and the caller's earlier cards, loaded
  ONCE from the call's arrival, both at once. The card comes from the journal writer, which
  says when the call's arrival is committed and hands over the new card's columns (no read
  at all); a call the writer did not create here (one that began before the service started,
  a callback, a card written from the spool after an outage) is read from the journal
  instead, polled until its card appears. The earlier cards are one query by the caller's
  phone (as the card will have it) across all organizations; each pop filters them for its
  user with the journal's own visibility rule (`journal.access.may_see_card_of`).
  Once the call is answered the operator may edit the card: a change made through this
  instance's API updates the call's card at once, so a later pop (level 2, a consultation)
  shows it as saved (and the workspace reads every popped card afresh anyway).
* `ScriptsCache` keeps the active answer scripts, read at most every `SCRIPTS_TTL` seconds
  (and at once after an edit in this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.calls.writer import WrittenCall
from hotline.cards.schema import CardValues, card_values
from journal.cards import caller_phone
from journal.db import read_sessions
from journal.models import AnswerScript, Call, Card

log = structlog.get_logger(__name__)

# How the journal writer answers "is this call's arrival committed, with which card?".
ArrivalLookup = Callable[[str], "asyncio.Future[WrittenCall | None] | None"]

CARD_POLL = 0.02
# Earlier cards read per call, all organizations together; each user sees their own share.
EARLIER_SCAN = 50
SCRIPTS_TTL = 30.0
DB_SLOTS = 8
MAX_SCRIPTS = 20
# Calls remembered at once; a call is forgotten when it ends, this only bounds a leak.
MAX_CALLS = 20_000

@dataclass(eq=False, slots=True)
class CallCard:
    """One call's card and its caller's earlier cards, as every pop of the call shows them."""

    pbx_call_id: str
    call_row_id: int | None = None
    card: CardValues | None = None
    earlier: list[CardValues] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # the card is loaded (or not to be had)
    earlier_ready: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ended: bool = False  # the call ended (and was forgotten) before its loading finished

    async def wait(self, timeout: float) -> bool:
        """Whether the card and the earlier cards were loaded within `timeout` seconds."""
        if not self.complete:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.ready.wait()
                    await self.earlier_ready.wait()
        return self.complete

    @property
    def complete(self) -> bool:
        return self.ready.is_set() and self.earlier_ready.is_set()

    def earlier_than_this(self) -> list[CardValues]:
        """The caller's other cards (the call's own card, once known, left out)."""
        own = self.card["id"] if self.card else None
        return [c for c in self.earlier if c["id"] != own]


class CallCards:
    """Per PBX call, its `CallCard`, loaded in the background from the call's arrival."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        arrival: ArrivalLookup,
        *,
        card_late: float,
    ) -> None:
        # Every read here is one statement: no transaction around it (`read_sessions`).
        self.sessions = read_sessions(sessions)
        self.arrival = arrival
        # At most this many reads at once, so a burst of arriving calls never takes the
        # connections the journal writer needs (a starved writer would make every pop late).
        self.db_slots = asyncio.Semaphore(DB_SLOTS)
        self.card_late = card_late
        self._calls: dict[str, CallCard] = {}

    def __len__(self) -> int:
        return len(self._calls)

    def prepare(
        self, pbx_call_id: str, caller_number: str | None = None, arrived_at: datetime | None = None
    ) -> CallCard:
        """The call's entry, its loading started if this is the first word of the call.

        With the caller's number (the call's arrival), the earlier cards are read at once,
        beside the writer's work on the card; without it (a call met at its ringing), after
        the card, by the card's phone.
        """
        entry = self._calls.get(pbx_call_id)
        if entry is None:
            while len(self._calls) >= MAX_CALLS:
                self.forget(next(iter(self._calls)))
            entry = self._calls[pbx_call_id] = CallCard(pbx_call_id)
            phone = caller_phone(caller_number, date.today()) if caller_number else None
            entry.tasks.append(asyncio.create_task(
                self._load(entry, by_card_phone=phone is None), name=f"pop-card-{pbx_call_id}"))
            if phone is not None:
                entry.tasks.append(asyncio.create_task(
                    self._load_earlier(entry, phone, arrived_at), name=f"pop-earlier-{pbx_call_id}"))
        return entry

    def call_row_id(self, pbx_call_id: str) -> int | None:
        """The journal's id of the call, once loaded (call states carry it to the browser)."""
        entry = self._calls.get(pbx_call_id)
        return entry.call_row_id if entry is not None else None

    def card_changed(self, card: CardValues) -> None:
        """A card was changed through this instance: its calls' next pops show it so."""
        for entry in self._calls.values():
            if entry.card is not None and entry.card["id"] == card["id"]:
                entry.card = card

    def shows_card(self, card_id: int) -> bool:
        return any(e.card is not None and e.card["id"] == card_id for e in self._calls.values())

    async def card_changed_elsewhere(self, card_id: int) -> None:
        """A card was changed through another instance: read it again if a pop shows it."""
        if self.shows_card(card_id):
            card = await self._read_card(card_id)
            if card is not None:
                self.card_changed(card)

    def forget(self, pbx_call_id: str) -> None:
        entry = self._calls.pop(pbx_call_id, None)
        if entry is None:
            return
        for task in entry.tasks:
            task.cancel()
        if not entry.complete:
            # A pop still waiting for the card stops waiting: the call is over.
            entry.ended = True
            entry.ready.set()
            entry.earlier_ready.set()

    async def close(self) -> None:
        tasks = [task for entry in self._calls.values() for task in entry.tasks]
        self._calls.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------ loading

    async def _load(self, entry: CallCard, *, by_card_phone: bool) -> None:
        try:
            written = await self._from_writer(entry.pbx_call_id)
            if written is not None:
                entry.call_row_id = written.call_id
                entry.card = written.card
                card_id = written.card_id
            else:
                entry.call_row_id, card_id = await self._poll_journal(entry.pbx_call_id)
            if entry.card is None and card_id is not None:
                entry.card = await self._read_card(card_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away: pops go without the card
            log.warning("screen pop cannot read the journal", call_id=entry.pbx_call_id,
                        error=repr(exc)[:200])
        finally:
            entry.ready.set()
        if by_card_phone:
            phone = entry.card.get("applicant_phone") if entry.card else None
            await self._load_earlier(entry, phone, None)

    async def _load_earlier(
        self, entry: CallCard, phone: str | None, before: datetime | None
    ) -> None:
        try:
            if phone:
                entry.earlier = await self._earlier(phone, before)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("screen pop without the earlier cards", call_id=entry.pbx_call_id,
                        error=repr(exc)[:200])
        finally:
            entry.earlier_ready.set()

    async def _from_writer(self, pbx_call_id: str) -> WrittenCall | None:
        """The writer's `WrittenCall` once the arrival commits; None if it is not the
        writer's to say (not queued here, spooled, refused, or later than `card_late`)."""
        pending = self.arrival(pbx_call_id)
        if pending is None:
            return None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.card_late):
                return await asyncio.shield(pending)
        return None

    async def _poll_journal(self, pbx_call_id: str) -> tuple[int | None, int | None]:
        """(call row id, card id), polled until the card appears or `card_late` passes."""
        deadline = time.monotonic() + self.card_late
        delay = CARD_POLL
        while True:
            try:
                async with self.db_slots, self.sessions() as session:
                    row = (await session.execute(
                        select(Call.id, Call.card_id).where(Call.pbx_call_id == pbx_call_id)
                    )).first()
            except Exception as exc:
                log.warning("screen pop cannot read the journal", error=repr(exc)[:200])
                row = None
            if row is not None and row.card_id is not None:
                return row.id, row.card_id
            if time.monotonic() + delay > deadline:
                return (row.id if row is not None else None), None
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    async def _read_card(self, card_id: int) -> CardValues | None:
        async with self.db_slots, self.sessions() as session:
            card = await session.get(Card, card_id)
            return card_values(card) if card is not None else None

    async def _earlier(self, phone: str, before: datetime | None) -> list[CardValues]:
        """The phone's cards of every organization, newest first (received before the call,
        when its arrival time is known: the call's own card is not an earlier one)."""
        stmt = select(Card).where(Card.applicant_phone == phone)
        if before is not None:
            stmt = stmt.where(Card.received_at < before)
        async with self.db_slots, self.sessions() as session:
            rows = await session.scalars(
                stmt.order_by(Card.received_at.desc(), Card.id.desc()).limit(EARLIER_SCAN)
            )
            return [card_values(card) for card in rows]


class ScriptsCache:
    """The active answer scripts, read at most every `ttl` seconds, shared by every pop."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float = SCRIPTS_TTL) -> None:
        self.sessions = read_sessions(sessions)
        self.ttl = ttl
        self._scripts: list[dict[str, Any]] | None = None
        self._read_at = 0.0
        self._reading: asyncio.Task[list[dict[str, Any]]] | None = None

    def invalidate(self) -> None:
        """The scripts were edited here: the next pop waits for them as saved (a read that
        began before the edit is not taken)."""
        self._scripts = None
        self._reading = None

    async def for_organization(self, organization_id: int | None) -> list[dict[str, Any]]:
        """The organization's scripts and the common ones, by title (at most `MAX_SCRIPTS`)."""
        scripts = await self._all()
        mine = [s for s in scripts
                if s["organization_id"] is None or s["organization_id"] == organization_id]
        return [{k: v for k, v in s.items() if k != "organization_id"} for s in mine[:MAX_SCRIPTS]]

    async def _all(self) -> list[dict[str, Any]]:
        if self._scripts is not None and time.monotonic() - self._read_at < self.ttl:
            return self._scripts
        if self._reading is None:  # one read however many pops ask at once
            self._reading = asyncio.create_task(self._read(), name="pop-scripts")
            self._reading.add_done_callback(self._refreshed)
        if self._scripts is not None:
            # Out of date: the pops of this moment show the scripts as last read rather
            # than wait for the database (every ring at the same moment would), the next
            # ones what the read in progress brings.
            return self._scripts
        # The first read (or the first after an edit here): nothing to show meanwhile.
        return await asyncio.shield(self._reading)

    def _refreshed(self, reading: asyncio.Task[list[dict[str, Any]]]) -> None:
        if reading.cancelled():
            return
        error = reading.exception()
        if self._reading is not reading:  # an edit here made it out of date
            return
        if error is None:
            self._scripts = reading.result()
            self._read_at = time.monotonic()
        elif self._scripts is not None:
            log.warning("answer scripts not read again, shown as before",
                        error=repr(error)[:200])
            self._read_at = time.monotonic()  # try again after another `ttl`, not at each pop
        self._reading = None

    async def _read(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AnswerScript)
                .where(AnswerScript.active.is_(True))
                .order_by(AnswerScript.title)
            )
            return [
                {"id": s.id, "title": s.title, "keywords": s.keywords, "body": s.body,
                 "topic_code": s.topic_code, "organization_id": s.organization_id}
                for s in rows
            ]
