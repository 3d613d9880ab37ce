"""The PBX's own ledger of calls: what reaches the journal when the service did not see a call.

AMI keeps no replay buffer, so a call that starts and ends while this service is down (or cut
off from AMI) leaves no event to follow. The dialplan therefore leaves one line per inbound
call in AstDB when the call ends (the `hotline-ledger` hangup handler of
config/asterisk/extensions.conf): `hotline/ledger/<HOTLINE_ID>` =
`v=1|line=..|start=..|end=..|num=..|name=<base64>|qstart=..|member=..|hold=..|rec=..|msg=..|
msgstart=..|cb=..|cause=..` (epoch seconds; `member` and `hold` are the queue's
MEMBERINTERFACE and QEHOLDTIME of the last queue that connected the caller).

`LedgerSweep` reads the lines (`DBGetTree`) after every (re)connect and then every minute:
a call already in the journal and ended is only deleted from AstDB (`DBDel`); a call the
journal lacks, or holds unfinished, is turned into the same domain events the tracker reports
(`events_for`) and written through the journal writer, so its card, recording and, for a
secretary message, its callback task appear as if the call had been followed live. Written
events carry the PBX's own times, so writing the same line twice changes nothing (the
writer's records are idempotent), and the line is deleted on the sweep after it is in.
What the ledger cannot tell: the transfers between levels (only the last operator who
answered is named) and the ringing of phones.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.pbx.ami.client import AmiConnection, AmiError
from hotline.pbx.callkeys import MAIN as MAIN_PBX
from hotline.pbx.callkeys import key_prefix
from hotline.pbx.events import (
    CallAbandoned,
    CallArrived,
    CallEnded,
    DomainEvent,
    OperatorAnswered,
    Outcome,
    RecordingStarted,
    SecretaryMessage,
)
from journal.models import Call
from journal.clock import utc_now

log = structlog.get_logger(__name__)

LEDGER_FAMILY = "hotline/ledger"
LEDGER_CONTEXT = "hotline-ledger"
# A call that just ended is still on its way through the live path (tracker → writer):
# leave its line alone this long before deciding the journal lacks it.
SETTLE_SECONDS = 30.0
SWEEP_INTERVAL = 60.0
# HOTLINE_ID is the inbound channel's UNIQUEID ("1790000000.7"; a caller-assigned ChannelId
# may be any short token): anything else under the family is not ours.
_CALL_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A caller id longer than this is cut, as the live path's caller ids are (journal columns).
_NUMBER_MAX, _NAME_MAX = 32, 200


# The line's fields, in the order the dialplan writes them (`v=1|line=..|...`).
FIELDS = ("v", "line", "start", "end", "num", "name", "qstart", "member", "hold", "rec", "msg",
          "msgstart", "cb", "cause")


def format_line(values: Mapping[str, str]) -> str:
    """A ledger value from its fields (missing ones empty): the dialplan's expressions when
    config/asterisk/ is rendered, the simulated PBX's values when it ends a call."""
    return "|".join(f"{name}={values.get(name, '')}" for name in FIELDS)


def _not_ahead_of(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """The entry with its times moved back, durations kept, when the PBX's clock ran ahead
    of ours: the journal refuses a call that arrives in the future, and the call would be
    lost."""
    ahead = entry.ended_at - now
    if ahead <= timedelta(0):
        return entry
    return replace(
        entry, started_at=entry.started_at - ahead, ended_at=now,
        queued_at=entry.queued_at - ahead if entry.queued_at else None,
        message_at=entry.message_at - ahead if entry.message_at else None,
    )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One call as the PBX's dialplan saw it end."""

    call_id: str
    line: str | None
    started_at: datetime
    ended_at: datetime
    caller_number: str | None
    caller_name: str | None
    queued_at: datetime | None
    operator: str | None
    hold_seconds: int | None
    recording: str | None
    message: str | None
    message_at: datetime | None
    callback_number: str | None
    cause: int | None

    @property
    def answered_at(self) -> datetime | None:
        """When the last queue connected the caller to an operator (queue start + wait)."""
        if self.operator is None or self.queued_at is None:
            return None
        return datetime.fromtimestamp(
            self.queued_at.timestamp() + (self.hold_seconds or 0), UTC
        )

    @property
    def outcome(self) -> Outcome:
        if self.message is not None:
            return "secretary"
        if self.operator is not None:
            return "answered"
        return "abandoned" if self.queued_at is not None else "unanswered"


def parse_entry(key: str, value: str) -> LedgerEntry | None:
    """A ledger line as `DBGetTree` shows it (`/hotline/ledger/<id>`); None if unusable."""
    call_id = key.strip().strip("/").removeprefix(LEDGER_FAMILY).removeprefix("/")
    fields = dict(part.partition("=")[::2] for part in value.split("|"))
    if not _CALL_ID.fullmatch(call_id) or fields.get("v") != "1":
        return None
    started, ended = _epoch(fields.get("start")), _epoch(fields.get("end"))
    if started is None or ended is None:
        return None
    return LedgerEntry(
        call_id=call_id,
        line=_text(fields.get("line")),
        started_at=started,
        ended_at=max(started, ended),
        caller_number=_text(fields.get("num"), _NUMBER_MAX),
        caller_name=_name(fields.get("name")),
        queued_at=_epoch(fields.get("qstart")),
        operator=_text(fields.get("member")),
        hold_seconds=_int(fields.get("hold")),
        recording=_text(fields.get("rec")),
        message=_text(fields.get("msg")),
        message_at=_epoch(fields.get("msgstart")),
        callback_number=_text(fields.get("cb"), _NUMBER_MAX),
        cause=_int(fields.get("cause")),
    )


def events_for(
    entry: LedgerEntry, organization: str | None, level1_queue: str | None
) -> list[DomainEvent]:
    """The domain events the tracker would have reported for this call, at the PBX's times."""
    cid, start = entry.call_id, entry.started_at
    events: list[DomainEvent] = [CallArrived(
        call_id=cid, at=start, direction="in", line=entry.line, organization=organization,
        caller_number=entry.caller_number, caller_name=entry.caller_name,
        channel="", uniqueid=cid, linkedid=cid, resumed=True,
    )]
    if entry.recording is not None:
        events.append(RecordingStarted(call_id=cid, at=start, file=entry.recording, channel=""))
    answered_at = entry.answered_at
    if answered_at is not None and entry.operator is not None:
        events.append(OperatorAnswered(
            call_id=cid, at=answered_at, interface=entry.operator, member_name=None,
            queue=None, hold_time=entry.hold_seconds, ring_time=None, channel=None,
        ))
    if entry.message is not None:
        at = entry.message_at or entry.ended_at
        events.append(SecretaryMessage(
            call_id=cid, at=at, file=entry.message, line=entry.line,
            caller_number=entry.callback_number or entry.caller_number,
            duration=max(0, int((entry.ended_at - at).total_seconds())),
        ))
    elif entry.outcome == "abandoned" and entry.queued_at is not None and level1_queue:
        events.append(CallAbandoned(
            call_id=cid, at=entry.ended_at, queue=level1_queue,
            hold_time=max(0, int((entry.ended_at - entry.queued_at).total_seconds())),
            position=None, original_position=None,
        ))
    events.append(CallEnded(
        call_id=cid, at=entry.ended_at, cause=entry.cause, cause_text=None,
        outcome=entry.outcome,
    ))
    return events


def _text(value: str | None, limit: int = 255) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value else None


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _epoch(value: str | None) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _name(value: str | None) -> str | None:
    """CALLERID(name) as BASE64_ENCODE wrote it; undecodable or control characters dropped."""
    try:
        raw = base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", "replace")
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[:_NAME_MAX] or None


# --------------------------------------------------------------------------- the sweep


@dataclass(frozen=True, slots=True)
class Organizations:
    """What a ledger line needs from the region: each line's organization and its queue."""

    by_line: Mapping[str, str]
    level1_queue: Mapping[str, str]


class LedgerSweep:
    """Reads the PBX's ledger, writes the calls the journal lacks, deletes what it holds."""

    def __init__(
        self,
        connection: AmiConnection,
        sessions: async_sessionmaker[AsyncSession],
        organizations: Organizations,
        submit: Callable[[Sequence[DomainEvent]], None],
        *,
        live_call_ids: Callable[[], set[str]],
        writer_idle: Callable[[], bool],
        writer_flushed: Callable[[], Awaitable[None]],
        clock: Callable[[], datetime] = lambda: utc_now(),
        interval: float = SWEEP_INTERVAL,
        settle_seconds: float = SETTLE_SECONDS,
        pbx: str = MAIN_PBX,
    ) -> None:
        self.connection = connection
        # Several PBXs: the ledger's ids are this PBX's own; the journal's keys name it.
        self.key_prefix = key_prefix(pbx)
        self.sessions = sessions
        self.organizations = organizations
        self.submit = submit
        self.live_call_ids = live_call_ids
        self.writer_idle = writer_idle
        self.writer_flushed = writer_flushed
        self.clock = clock
        self.interval = interval
        self.settle_seconds = settle_seconds
        self.imported = 0
        self.deleted = 0
        self._wake = asyncio.Event()
        self._one_at_a_time = asyncio.Lock()
        self._first_seen: dict[str, datetime] = {}

    def poke(self) -> None:
        """Sweep now (after a (re)connect: calls may have come and gone meanwhile)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            if self.connection.state != "connected":
                continue
            try:
                await self.sweep()
            except Exception as exc:  # AMI or the database away: the next sweep tries again
                log.warning("pbx ledger sweep failed", error=repr(exc)[:300])

    async def sweep(self) -> tuple[int, int]:
        """One pass: (calls imported, lines deleted)."""
        async with self._one_at_a_time:
            return await self._sweep()

    async def _sweep(self) -> tuple[int, int]:
        entries = await self._read()
        if not entries:
            return 0, 0
        local = {self.key_prefix + e.call_id: e.call_id for e in entries}
        entries = [replace(e, call_id=self.key_prefix + e.call_id) for e in entries]
        done, unfinished = await self._journaled([e.call_id for e in entries])
        imported = deleted = 0
        # Read before this sweep submits anything (its own events make the writer busy).
        now, live, idle = self.clock(), self.live_call_ids(), self.writer_idle()
        for entry in entries:
            if entry.call_id in done:
                self._first_seen.pop(entry.call_id, None)
                if await self._delete(local[entry.call_id]):
                    deleted += 1
                continue
            # Settled by the PBX's end time, or by when this sweep first saw the line: a PBX
            # clock running ahead of ours must not keep a call out of the journal for ever.
            first_seen = self._first_seen.setdefault(entry.call_id, now)
            settled = max((now - entry.ended_at).total_seconds(),
                          (now - first_seen).total_seconds()) >= self.settle_seconds
            # Live calls, and everything while the writer still holds events (a database
            # outage), are the live path's: importing them too would write them twice.
            if not settled or entry.call_id in live or not idle:
                continue
            org = self.organizations.by_line.get(entry.line or "")
            queue = self.organizations.level1_queue.get(org or "")
            self.submit(events_for(_not_ahead_of(entry, now), org, queue))
            imported += 1
            log.info("call taken from the pbx ledger", call_id=entry.call_id,
                     outcome=entry.outcome, unfinished=entry.call_id in unfinished)
        self.imported += imported
        self.deleted += deleted
        if imported:
            # The next sweep must find them in the journal, not import them again.
            with contextlib.suppress(TimeoutError):
                await self.writer_flushed()
        return imported, deleted

    async def _read(self) -> list[LedgerEntry]:
        try:
            reply = await self.connection.send_action(
                {"Action": "DBGetTree", "Family": LEDGER_FAMILY}
            )
        except AmiError as exc:
            log.warning("pbx ledger not read", error=str(exc))
            return []
        messages: list[Any] = reply if isinstance(reply, list) else [reply]
        entries = []
        for message in messages:
            if str(message.get("Event", "")) != "DBGetTreeResponse":
                continue
            entry = parse_entry(str(message.get("Key", "")), str(message.get("Val", "")))
            if entry is None:
                log.warning("pbx ledger line not understood", key=str(message.get("Key"))[:80])
                continue
            entries.append(entry)
        return entries

    async def _journaled(self, call_ids: list[str]) -> tuple[set[str], set[str]]:
        """Of these PBX call ids: the ones the journal holds as ended, and the unfinished
        (never ended, or ended as «прерван» because the service lost sight of it)."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Call.pbx_call_id, Call.ended_at, Call.outcome)
                .where(Call.pbx_call_id.in_(call_ids))
            )).all()
        done = {pbx_id for pbx_id, ended, outcome in rows
                if ended is not None and outcome != "interrupted"}
        return done, {pbx_id for pbx_id, _, _ in rows if pbx_id not in done}

    async def _delete(self, call_id: str) -> bool:
        try:
            reply = await self.connection.send_action(
                {"Action": "DBDel", "Family": LEDGER_FAMILY, "Key": call_id}
            )
        except AmiError as exc:
            log.warning("pbx ledger line not deleted", call_id=call_id, error=str(exc))
            return False
        return not isinstance(reply, list) and bool(reply.success)
