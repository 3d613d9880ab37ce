"""Applies call records (serialised domain events) to the journal: calls, timeline, cards.

Besides the PBX's events, the live feed writes here (`screen_pop_shown`) when a screen-pop
showed cards to an operator: that access to personal data is audited (152-ФЗ), and the
writer makes it batched and durable like the rest.

Idempotent: each record leaves one timeline row keyed by (call, dedup key); a record whose
row is already there is skipped, so a batch written twice (a crash between the database
commit and the spool's commit) changes nothing the second time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import Table, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.bootstrap import card_rules
from hotline.calls.records import when
from hotline.calls.spool import DurableSpool
from hotline.calls.writer import CallJournalWriter, WrittenCall
from hotline.cards.schema import card_values
from hotline.config import Line as LineSettings
from hotline.config import Settings
from hotline.callbacks.messages import ensure_callback
from hotline.pbx.callerid import clean_name, clean_number
from hotline.pbx.callkeys import pbx_of
from journal import audit
from journal.actors import Actor
from journal.audit import AuditAction
from journal.calendar import ProductionCalendar
from journal.callbacks import complete_by_call
from journal.cards import DEFAULT_RULES, ArrivedCall, CardRules, attach_call, create_for_calls
from journal.db import one_of
from journal.errors import JournalError
from journal.models import Call, CallEvent, CallTransfer, Card, Line, Organization, Recording, User

log = structlog.get_logger(__name__)

Record = dict[str, Any]
PBX = Actor.system("pbx")
ARRIVAL = "call_arrived"
SCREEN_POP = "screen_pop_shown"
# Fields already stored in their own columns of the timeline row.
_ENVELOPE = {"event", "call_id", "at"}
# What `WrittenCall.card` carries: every column of a new card.


def _storable(value: Any) -> Any:
    """A record's values as PostgreSQL's JSON keeps them: no NUL, no lone surrogate (a
    hostile caller ID in an old spooled record must not refuse the whole batch)."""
    if isinstance(value, str):
        if "\x00" in value or not value.isascii():
            value = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


# Events that happen once per file whenever they are reported: an instance that takes the
# PBX link over reports a recording in progress again, at its own time.
ONCE_PER_FILE = frozenset({"recording_started"})


def dedup_key(record: Record) -> str:
    if record["event"] in ONCE_PER_FILE and record.get("file"):
        return f"{record['event']}|{record['file']}"[:200]
    parts = [record["event"], record["at"]]
    # user_id: two operators shown the same call's cards at the same moment are two accesses.
    for name in ("interface", "queue", "file", "kind", "user_id"):
        if record.get(name):
            parts.append(str(record[name]))
    return "|".join(parts)[:200]


@dataclass(frozen=True, slots=True)
class MessagePolicy:
    """What a secretary message needs for its morning callback task: the lines' schedules."""

    lines: Mapping[str, LineSettings]
    calendar: ProductionCalendar
    within: timedelta = timedelta(minutes=60)


def _list_of(session: AsyncSession) -> Callable[[Any], Any]:
    """The aggregate that gathers a column's values into one value, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.array_agg
    return func.json_group_array  # SQLite: a JSON array as text


def _listed_values(value: Any) -> Sequence[str]:
    """The values `_list_of` gathered: a list (PostgreSQL, None over no rows) or JSON text."""
    if value is None:
        return ()
    return json.loads(value) if isinstance(value, str) else value


class _Batch:
    """Caches of one transaction: calls by PBX key, users by phone, lines by number, the
    recordings and timeline keys already stored; each filled by one query per batch."""

    def __init__(
        self, session: AsyncSession, rules: CardRules, messages: MessagePolicy | None,
        phones: Mapping[str, str] | None = None,
    ) -> None:
        self.session = session
        self.rules = rules
        self.messages = messages
        # Phone (lower-case interface) -> its organization's code: a user at another
        # organization's phone is nobody's operator here (None: no check, tests of old).
        self.phones = phones
        self.calls: dict[str, Call] = {}
        self.users: dict[str, int | None] = {}
        self.line_orgs: dict[str, int | None] | None = None
        self.codes: dict[str, int] = {}
        # (PBX call id, dedup key) of every timeline row in the database or in this batch.
        self.seen: set[tuple[str, str]] = set()
        # (call row id, PBX file) of the recordings in the database or in this batch.
        self.recordings: set[tuple[int, str]] = set()
        # PBX call ids whose rows this batch inserted (so its transaction holds them).
        self.inserted: set[str] = set()
        # Held so that the session's (weak) identity map keeps them for `session.get`.
        self.organizations: list[Organization] = []
        # The cards this batch's arrivals got, by PBX call id (held for `session.get` too).
        self.cards: dict[str, Card] = {}
        # The users of the batch's screen-pops, as the actors of their audit entries.
        self.people: dict[int, Actor] = {}
        # By call row id, the transfers with no target yet, oldest first: read once, when the
        # batch first needs them, then kept here (the batch's own ones added).
        self.open_transfers: dict[int, list[CallTransfer]] | None = None

    async def preload(self, records: Sequence[Record]) -> None:
        """Read the batch's known calls and their timeline keys in two queries, not two per
        record: a batch of hundreds of records is one transaction of a few round trips."""
        keys = {r["call_id"] for r in records if r.get("call_id")}
        if not keys:
            return
        # Each known call with its timeline keys and recordings' files: one round trip (a
        # batch in real time is a record or two, and it runs several times per call).
        listed = _list_of(self.session)
        timeline = select(listed(CallEvent.dedup_key)).where(CallEvent.call_id == Call.id)
        files = select(listed(Recording.pbx_file)).where(Recording.call_id == Call.id)
        found = await self.session.execute(
            select(Call, timeline.scalar_subquery(), files.scalar_subquery())
            .where(one_of(self.session, Call.pbx_call_id, keys))
        )
        for call, dedups, pbx_files in found:
            self.calls[call.pbx_call_id] = call
            self.seen.update((call.pbx_call_id, dedup) for dedup in _listed_values(dedups))
            self.recordings.update((call.id, file) for file in _listed_values(pbx_files))
        await self._load_users(records)
        if any(r.get("event") == ARRIVAL for r in records):
            await self._load_region()

    async def transfers_of(self, call: Call) -> list[CallTransfer]:
        """The call's transfers with no target yet, the batch's own included."""
        if self.open_transfers is None:
            self.open_transfers = {}
            ids = [known.id for known in self.calls.values()]
            with self.session.no_autoflush:  # the batch's new ones are added by `_transferred`
                found = await self.session.scalars(
                    select(CallTransfer)
                    .where(one_of(self.session, CallTransfer.call_id, ids),
                           CallTransfer.to_interface.is_(None))
                    .order_by(CallTransfer.at, CallTransfer.id)
                )
            for transfer in found:
                self.open_transfers.setdefault(transfer.call_id, []).append(transfer)
        return self.open_transfers.setdefault(call.id, [])

    async def _load_users(self, records: Sequence[Record]) -> None:
        """In one query: the users bound to the batch's phones (who answered), and the users
        of its screen-pops (the actors of their audit entries)."""
        interfaces = {r["interface"] for r in records if r.get("interface")}
        ids = {r["user_id"] for r in records if r.get("event") == SCREEN_POP and r.get("user_id")}
        if not interfaces and not ids:
            return
        self.users.update({name: None for name in interfaces})
        rows = await self.session.execute(
            select(User.id, User.login, User.role, User.organization_id, User.level,
                   User.interface, Organization.code)
            .outerjoin(Organization, Organization.id == User.organization_id)
            .where(or_(one_of(self.session, User.interface, interfaces),
                       one_of(self.session, User.id, ids)))
        )
        for row in rows:
            if row.id in ids:
                self.people[row.id] = Actor(row.id, row.login, row.role, row.organization_id,
                                            row.level)
            if (row.interface in interfaces and row.code is not None
                    and self._own_phone(row.interface, row.code)):
                self.users[row.interface] = row.id

    async def _load_region(self) -> dict[str, int | None]:
        """Both tables are tiny (the region's organizations and lines): read them whole, in
        one query (each organization with its lines' numbers)."""
        numbers = (select(_list_of(self.session)(Line.number))
                   .where(Line.organization_id == Organization.id).scalar_subquery())
        self.organizations, self.line_orgs = [], {}
        for org, lines in await self.session.execute(select(Organization, numbers)):
            self.organizations.append(org)
            self.line_orgs.update({number: org.id for number in _listed_values(lines)})
        self.codes = {org.code: org.id for org in self.organizations}
        return self.line_orgs

    async def insert_new_calls(self, records: Sequence[Record]) -> None:
        """Insert every call of the batch not yet in the journal, in one statement.

        A call is made from its first record here; when that is its arrival, the row gets the
        line, caller and organization at once (no UPDATE right after the INSERT). The batch's
        transaction holds these rows, which `create_for_calls` is told (`locked_call`).
        """
        new: dict[str, Call] = {}
        for record in records:
            key = record.get("call_id")
            if not key or key in self.calls or key in new or record.get("event") not in _HANDLERS:
                continue
            call = Call(
                pbx_call_id=key,
                pbx=pbx_of(key),
                direction=record.get("direction") or "in",
                started_at=when(record),
                outcome="in_progress",
            )
            if record["event"] == ARRIVAL:
                call.line_number = record.get("line")
                call.caller_number = clean_number(record.get("caller_number"))
                call.caller_name = clean_name(record.get("caller_name"))
                call.organization_id = await self.organization_id(
                    record.get("line"), record.get("organization")
                )
            new[key] = call
        if new:
            self.session.add_all(new.values())
            await self.session.flush()
            self.calls.update(new)
            self.inserted.update(new)

    async def create_cards(self, records: Sequence[Record]) -> None:
        """The cards of all the batch's inbound arrivals that need one, registered together.

        Every inbound call gets its card the moment it arrives, before anyone answers, so an
        abandoned call or a secretary message is never without one. Done before any handler
        runs, so a later record of the same batch (a secretary message) finds the card.
        """
        arrivals: dict[str, ArrivedCall] = {}
        for record in records:
            arrival = await self._arrival(record)
            if arrival is not None and arrival.pbx_call_id not in arrivals:
                arrivals[arrival.pbx_call_id] = arrival
        if arrivals:
            cards = await create_for_calls(
                self.session, PBX, list(arrivals.values()), rules=self.rules
            )
            self.cards = dict(zip(arrivals, cards, strict=True))

    async def _arrival(self, record: Record) -> ArrivedCall | None:
        """The call of an arrival record, if it needs a card: inbound, none yet, its
        organization known, and the record not written before (its handler is skipped)."""
        if record.get("event") != ARRIVAL or record.get("direction") != "in":
            return None
        if (record["call_id"], dedup_key(record)) in self.seen:
            return None
        call = self.call(record)
        org_id = call.organization_id or await self.organization_id(
            record.get("line"), record.get("organization")
        )
        if call.card_id is not None or org_id is None:
            return None
        return ArrivedCall(
            pbx_call_id=call.pbx_call_id,
            received_at=when(record),
            organization_id=org_id,
            line=call.line_number or record.get("line"),
            caller_number=call.caller_number or clean_number(record.get("caller_number")),
            caller_name=call.caller_name or clean_name(record.get("caller_name")),
            locked_call=call if call.pbx_call_id in self.inserted else None,
            pbx=call.pbx or pbx_of(call.pbx_call_id),
        )

    async def written(self) -> dict[str, WrittenCall]:
        """Each call of the batch, with the columns of the card it got here (after the last
        flush, so they are what commits)."""
        return {
            key: WrittenCall(
                call.id, call.card_id,
                await self._columns(self.cards[key]) if key in self.cards else None,
            )
            for key, call in self.calls.items()
        }

    async def _columns(self, card: Card) -> Mapping[str, Any]:
        if inspect(card).expired_attributes:
            # A secretary message's savepoint rolled back and took the card's changes along.
            await self.session.refresh(card)
        # Read-only: every waiter of the call's arrival gets this same mapping.
        return card_values(card, reasons=False)

    def actor(self, record: Record) -> Actor:
        """The user a screen-pop record names, as read by `preload`."""
        user_id = record.get("user_id")
        if user_id in self.people:
            return self.people[user_id]
        # The access happened whoever it was: keep the entry with the login the feed sent.
        log.warning("screen pop by an unknown user", user_id=user_id, login=record.get("login"))
        return Actor(None, str(record.get("login") or "unknown")[:64], "unknown", None)

    def call(self, record: Record) -> Call:
        """The call of this record (loaded or inserted by the batch)."""
        return self.calls[record["call_id"]]

    async def user_id(self, interface: str | None) -> int | None:
        if not interface:
            return None
        if interface not in self.users:
            row = (await self.session.execute(
                select(User.id, Organization.code)
                .join(Organization, Organization.id == User.organization_id)
                .where(User.interface == interface)
            )).first()
            own = row is not None and self._own_phone(interface, row[1])
            self.users[interface] = row[0] if own and row is not None else None
        return self.users[interface]

    def _own_phone(self, interface: str, code: str) -> bool:
        """Whether the user bound to `interface` belongs to that phone's organization: an
        account at another organization's phone is never stored as a call's operator (it
        would then read the call's evaluation sheets)."""
        if self.phones is None:
            return True
        owner = self.phones.get(interface.lower())
        if owner != code:
            log.warning("operator at another organization's phone not credited",
                        interface=interface, owner=owner, organization=code)
            return False
        return True

    async def organization_id(self, line: str | None, code: str | None) -> int | None:
        """The organization of the dialed line, else the one the dialplan tagged."""
        line_orgs = self.line_orgs if self.line_orgs is not None else await self._load_region()
        org_id = line_orgs.get(line) if line else None
        if org_id is None and code:
            org_id = self.codes.get(code)
        return org_id


async def apply_records(
    session: AsyncSession,
    records: Sequence[Record],
    *,
    rules: CardRules = DEFAULT_RULES,
    messages: MessagePolicy | None = None,
    phones: Mapping[str, str] | None = None,
) -> dict[str, WrittenCall]:
    """Write a batch of records in the caller's transaction.

    With `messages`, a secretary message also gets its morning callback task on the card;
    with `phones` (interface -> organization code), only a user of the phone's organization
    is credited with answering at it.
    Returns each call by PBX call id (valid once committed): its row id, its card id, and
    the columns of the card its arrival got in this batch.
    """
    batch = _Batch(session, rules, messages, phones)
    await batch.preload(records)
    await batch.insert_new_calls(records)
    await batch.create_cards(records)
    # The timeline rows go in as one Core INSERT: ORM objects cost several times the CPU,
    # on the event loop the PBX's events and the screen-pops share.
    timeline: list[dict[str, Any]] = []
    for record in records:
        handler = _HANDLERS.get(record.get("event", ""))
        if handler is None:
            log.warning("unknown call record skipped", call_event=record.get("event"))
            continue
        key = dedup_key(record)
        if (record["call_id"], key) in batch.seen:
            continue
        batch.seen.add((record["call_id"], key))
        call = batch.call(record)
        await handler(batch, call, record)
        timeline.append({
            "call_id": call.id,
            "at": when(record),
            "kind": record["event"],
            "interface": record.get("interface") or record.get("from_interface"),
            "data": _storable({k: v for k, v in record.items() if k not in _ENVELOPE}),
            "dedup_key": key,
        })
    await session.flush()
    if timeline:
        await session.execute(cast(Table, CallEvent.__table__).insert(), timeline)
    return await batch.written()


# ------------------------------------------------------------------ handlers

Handler = Callable[[_Batch, Call, Record], Awaitable[None]]


async def _arrived(batch: _Batch, call: Call, r: Record) -> None:
    """The call's own fields; its card came with the batch's other arrivals (`create_cards`)."""
    call.direction = r["direction"]
    call.line_number = call.line_number or r.get("line")
    # Cleaned again here: a record spooled before the PBX edge cleaned it, or from the
    # ledger, must not cost the call its card (hotline.pbx.callerid).
    call.caller_number = call.caller_number or clean_number(r.get("caller_number"))
    call.caller_name = call.caller_name or clean_name(r.get("caller_name"))
    call.organization_id = call.organization_id or await batch.organization_id(
        r.get("line"), r.get("organization")
    )


async def _noop(batch: _Batch, call: Call, r: Record) -> None:
    """Timeline only (queued, ringing, ring-no-answer)."""


async def _answered(batch: _Batch, call: Call, r: Record) -> None:
    if r.get("consultation"):
        return
    if call.answered_at is not None:
        # A later answer follows a transfer: its operator is whom the call went to.
        await _complete_transfer(batch, call, r.get("interface"))
        return
    call.answered_at = when(r)
    call.answered_interface = r.get("interface")
    call.answered_by_id = await batch.user_id(r.get("interface"))
    if r.get("hold_time") is not None:
        call.queue_wait_seconds = int(r["hold_time"])


async def _transferred(batch: _Batch, call: Call, r: Record) -> None:
    transfer = CallTransfer(
        call_id=call.id,
        at=when(r),
        kind=r["kind"],
        from_interface=r.get("from_interface"),
        to_queue=r.get("to_queue"),
        to_interface=r.get("to_interface"),
    )
    open_transfers = await batch.transfers_of(call)
    batch.session.add(transfer)
    if transfer.to_interface is None:
        open_transfers.append(transfer)


async def _complete_transfer(batch: _Batch, call: Call, interface: str | None) -> None:
    """A blind transfer is reported when the call joins the next queue, before anyone there
    answers: the operator who then answers is the target of its latest open transfer."""
    if not interface:
        return
    waiting = [t for t in await batch.transfers_of(call) if t.to_interface is None]
    # The latest by time; of two at the same moment, the one reported last.
    transfer = max(reversed(waiting), key=lambda t: t.at, default=None)
    if transfer is not None and transfer.from_interface != interface:
        transfer.to_interface = interface


async def _abandoned(batch: _Batch, call: Call, r: Record) -> None:
    call.outcome = "abandoned"
    if r.get("hold_time") is not None:
        call.queue_wait_seconds = int(r["hold_time"])


async def _message(batch: _Batch, call: Call, r: Record) -> None:
    call.outcome = "secretary"
    await _add_recording(batch, call, r["file"], "message", when(r))
    policy = batch.messages
    line = policy.lines.get(r.get("line") or call.line_number or "") if policy else None
    if policy is None or line is None or call.card_id is None:
        return
    card = await batch.session.get(Card, call.card_id)
    if card is None:  # a foreign key: only a concurrent deletion could get here
        return
    try:
        async with batch.session.begin_nested():
            await ensure_callback(
                batch.session, card, line=line, cal=policy.calendar,
                number=clean_number(r.get("caller_number")) or call.caller_number, within=policy.within,
                rules=batch.rules, actor=PBX,
            )
    except JournalError as exc:
        # E.g. the card was cancelled meanwhile: the message stays on the call and the card.
        log.warning("no callback task for the message", call_id=call.pbx_call_id,
                    reason=exc.message)


async def _callback_placed(batch: _Batch, call: Call, r: Record) -> None:
    """Attach the callback to the card named by the Originate's channel variable.

    The variable carries the card's id; its readable number is accepted too (an operator
    placing a callback from a PBX console types the number they see).
    """
    reference = str(r.get("card_id") or "").strip()
    if not reference or call.card_id is not None:
        return
    card_id = await batch.session.scalar(
        select(Card.id).where(Card.id == int(reference)) if reference.isdigit()
        else select(Card.id).where(Card.number == reference)
    )
    if card_id is None:
        log.warning("callback for an unknown card", call_id=call.pbx_call_id, card=reference)
        return
    await batch.session.flush()
    try:
        async with batch.session.begin_nested():
            await attach_call(batch.session, PBX, card_id, pbx_call_id=call.pbx_call_id,
                              rules=batch.rules)
    except JournalError as exc:
        # E.g. the card was closed meanwhile: the call stays in the journal, unlinked.
        log.warning("callback not attached to its card", call_id=call.pbx_call_id,
                    card=reference, reason=exc.message)


async def _callback_answered(batch: _Batch, call: Call, r: Record) -> None:
    # A survey call has no CallbackPlaced (nobody's phone dials out): its card comes here.
    await _callback_placed(batch, call, r)
    if call.answered_at is None:
        call.answered_at = when(r)
        call.answered_interface = r.get("interface")
        call.answered_by_id = await batch.user_id(r.get("interface"))


async def _recording(batch: _Batch, call: Call, r: Record) -> None:
    if r.get("file"):
        kind = "callback" if call.direction == "out" else "call"
        await _add_recording(batch, call, r["file"], kind, when(r))


async def _ended(batch: _Batch, call: Call, r: Record) -> None:
    call.ended_at = when(r)
    call.outcome = r["outcome"]
    if r.get("cause") is not None:
        call.end_cause = f"{r['cause']} {r.get('cause_text') or ''}".strip()[:64]
    if call.answered_at is not None:
        call.talk_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
        if r["outcome"] == "callback" and call.card_id is not None:
            # A callback that reached the citizen fulfils the card's deferred answer.
            await batch.session.flush()
            await complete_by_call(batch.session, card_id=call.card_id, call_id=call.id,
                                   at=call.ended_at)


async def _screen_pop(batch: _Batch, call: Call, r: Record) -> None:
    """Cards shown to an operator by a screen-pop: an access to personal data (152-ФЗ)."""
    await audit.record(
        batch.session, batch.actor(r), AuditAction.LIST, "card", None,
        {"screen_pop": call.pbx_call_id, "card_ids": list(r.get("card_ids") or [])},
        at=when(r),
    )


async def _add_recording(batch: _Batch, call: Call, file: str, kind: str, at: datetime) -> None:
    if (call.id, file) in batch.recordings:
        return
    batch.recordings.add((call.id, file))
    batch.session.add(
        Recording(
            call_id=call.id,
            card_id=call.card_id,
            kind=kind,
            pbx_file=file,
            status="pending",
            created_at=at,
        )
    )


_HANDLERS: dict[str, Handler] = {
    "call_arrived": _arrived,
    "call_queued": _noop,
    "operator_ringing": _noop,
    "ring_no_answer": _noop,
    "operator_answered": _answered,
    "call_transferred": _transferred,
    "call_abandoned": _abandoned,
    "secretary_message": _message,
    "callback_placed": _callback_placed,
    "callback_answered": _callback_answered,
    "recording_started": _recording,
    "call_ended": _ended,
    # A supervisor's listening (ChanSpy): only the call's timeline; who asked for it, and
    # for how long, is in the access log (hotline.supervision).
    "supervision_started": _noop,
    "supervision_switched": _noop,
    "supervision_ended": _noop,
    SCREEN_POP: _screen_pop,
}


def journal_writer(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    calendar: ProductionCalendar,
    *,
    registry: CollectorRegistry | None = None,
) -> CallJournalWriter:
    """The journal writer of the PBX's call events on the region's rules: cards with their
    59-ФЗ deadlines, secretary messages' callbacks, answering credited by the phone's
    organization; spooled on local disk while the database is away."""
    spool_dir = settings.service.spool_dir
    writer = CallJournalWriter(
        sessions,
        functools.partial(
            apply_records,
            rules=card_rules(settings, calendar),
            messages=MessagePolicy({ln.number: ln for ln in settings.lines}, calendar),
            phones={i.lower(): org.code for org in settings.organizations for i in org.interfaces},
        ),
        DurableSpool(spool_dir, "call-events"),
        DurableSpool(spool_dir, "call-events-rejected"),
    )
    if registry is not None:
        Gauge("hotline_journal_pending_events", "Call events not yet in the database",
              registry=registry).set_function(lambda: writer.pending)
    return writer
