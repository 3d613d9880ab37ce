"""Writes the call tracker's domain events into the journal, losing nothing.

Events arrive on the event loop from the PBX; this task takes them in batches and writes each
batch in one transaction. When the database is unreachable, batches go to a durable spool on
disk (in order) and the task keeps retrying with backoff; when the database answers again the
spool drains first, then live writing resumes. A record the database refuses for its content
(a bug, not an outage) is set aside in a reject file with the reason, so it cannot block the
rest.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.calls.records import to_record
from hotline.calls.spool import DurableSpool, SpoolError

log = structlog.get_logger(__name__)

Record = dict[str, Any]
# The record that creates a call's row and its card (`CallArrived`).
ARRIVAL = "call_arrived"
# Batches this many times the usual size while a backlog of more than `BACKLOG_AFTER` usual
# batches waits: a real backlog only (a stream beyond capacity), since a big batch holds the
# event loop for its ORM work, and at a busy real-time moment that would hold the pops.
BACKLOG = 4
BACKLOG_AFTER = 20


@dataclass(frozen=True, slots=True)
class WrittenCall:
    """A call as its batch left it in the journal: where a screen-pop finds its card."""

    call_id: int  # the journal's call row id
    card_id: int | None  # the call's card, if any
    # The card's columns (attribute name -> Python value, as committed) when this batch
    # created the card, so the screen-pop shows a new card without reading it back; else None.
    card: Mapping[str, Any] | None = None


# Each call of a batch by PBX call id.
Written = Mapping[str, WrittenCall]
ApplyFn = Callable[[AsyncSession, Sequence[Record]], Awaitable[Written | None]]
# What an outage looks like from SQLAlchemy/asyncpg/aiosqlite: retry later, keep the data.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    OSError,
    ConnectionError,
    TimeoutError,
)


# asyncpg's own errors for a dropped connection or a server going down or coming up.
_OUTAGE_NAMES = frozenset({
    "ConnectionDoesNotExistError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "CrashShutdownError",
    "ConnectionFailureError",
    "TooManyConnectionsError",
    "InterfaceError",
    "ConnectionRefusedError",
})
# The same by SQLSTATE: class 08 (connection exceptions), 57P01-57P03 (the server shuts down,
# crashed, or is still starting up after a restart), 53300 (too many connections).
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _chain(exc: BaseException) -> list[BaseException]:
    """The error, the driver error SQLAlchemy wraps (`orig`) and their causes."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 8:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [getattr(current, "orig", None), current.__cause__]
    return seen


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for error in _chain(exc):
        if isinstance(error, OUTAGE_ERRORS) or type(error).__name__ in _OUTAGE_NAMES:
            return True
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _OUTAGE_SQLSTATES):
            return True
    # SQLAlchemy/aiosqlite say so in words only.
    return "connection" in str(exc).lower() and "closed" in str(exc).lower()


class CallJournalWriter:
    """The single owner of writes from the PBX side into the journal."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        apply: ApplyFn,
        spool: DurableSpool,
        rejects: DurableSpool,
        *,
        batch_size: int = 200,
        batch_arrivals: int = 50,
        retry_min: float = 0.2,
        retry_max: float = 10.0,
        write_timeout: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._apply = apply
        self.spool = spool
        self.rejects = rejects
        self._queue: deque[Record] = deque()
        # Calls whose arrival (the record that creates the call row and its card) is queued
        # and not yet committed: the screen-pop waits on these instead of polling the
        # database. An entry lives only while its record is in memory, so this never grows.
        self._arrivals: dict[str, asyncio.Future[WrittenCall | None]] = {}
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._batch_size = batch_size
        # A batch's arrivals get their cards in a dozen statements however many they are,
        # but each still costs about a millisecond of ORM work, on the event loop: from ~50
        # arrivals on a bigger batch is no cheaper per card, and it holds the loop (the PBX's
        # events, every screen-pop) that long. Timeline records cost less; 200 of them at most.
        self._batch_arrivals = batch_arrivals
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._write_timeout = write_timeout
        self.state = "direct"  # direct | spooling
        self.written = 0
        self.rejected = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------ producer side

    def submit(self, events: Sequence[object]) -> None:
        """Queue events for writing; never blocks and never raises for the caller."""
        if not events:
            return
        self.submit_records([to_record(e) for e in events])

    def submit_records(self, records: Sequence[Record]) -> None:
        self._queue.extend(records)
        for record in records:
            if record.get("event") == ARRIVAL and record.get("call_id"):
                if record["call_id"] not in self._arrivals:
                    self._arrivals[record["call_id"]] = asyncio.get_running_loop().create_future()
        self._idle.clear()
        self._wakeup.set()

    def arrival(self, call_id: str) -> asyncio.Future[WrittenCall | None] | None:
        """The call's arrival record while it waits to be written: a future that becomes the
        `WrittenCall` once it is committed, or None when it went to the spool or was refused
        (or the apply function does not say). None when no arrival of that call is waiting
        (already written, or never seen): read the database."""
        return self._arrivals.get(call_id)

    def _settle(self, records: Sequence[Record], written: Written | None) -> None:
        if not self._arrivals:
            return
        for record in records:
            if record.get("event") == ARRIVAL:
                future = self._arrivals.pop(record.get("call_id"), None)  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(written.get(record["call_id"]) if written else None)

    async def flushed(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is in the database (tests, shutdown)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self.spool)

    def health(self) -> dict[str, object]:
        return {
            "state": "ok" if self.state == "direct" else "spooling",
            "queued": len(self._queue),
            "spooled": len(self.spool),
            "written": self.written,
            "rejected": self.rejected,
            "last_error": self.last_error,
        }

    # ------------------------------------------------------------ the task

    async def run(self) -> None:
        """Write forever; cancel to stop (call `flushed()` first for a clean stop)."""
        while True:
            batch: list[Record] = []
            try:
                if len(self.spool):
                    await self._drain_spool()
                    continue
                if not self._queue:
                    self._idle.set()
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = self._take(*self._limits())
                await self._write_batch(batch)
            except Exception:
                # A bug of ours must stop neither the writer nor lose the batch.
                log.exception("call journal writer failed; batch kept in the spool")
                self._park(batch)
                await asyncio.sleep(self._retry_max)

    async def _write_batch(self, batch: list[Record]) -> None:
        try:
            await self._write(batch)
        except Exception as exc:
            if not is_outage(exc):
                await self._write_one_by_one(batch)
                return
            self._enter_outage(exc)
            if self._park(batch):
                await self._drain_spool()
            else:
                await asyncio.sleep(self._retry_max)

    def _limits(self) -> tuple[int, int]:
        """A batch's records and arrivals at most: bigger while a backlog waits (the PBX's
        events came faster than the journal took them), when the pops wait for their cards
        anyway and what counts is getting the backlog in; each batch costs its round trips
        and its commit's flush to disk whatever its size."""
        if len(self._queue) > BACKLOG_AFTER * self._batch_size:
            return BACKLOG * self._batch_size, BACKLOG * self._batch_arrivals
        return self._batch_size, self._batch_arrivals

    def _take(self, limit: int, arrivals: int | None = None) -> list[Record]:
        """Up to `limit` records from the head of the queue, in order, ending the batch after
        its `arrivals`-th call arrival (None: no such limit)."""
        batch: list[Record] = []
        queue = self._queue
        while queue and len(batch) < limit:
            record = queue.popleft()
            batch.append(record)
            if arrivals is not None and record.get("event") == ARRIVAL:
                arrivals -= 1
                if arrivals <= 0:
                    break
        return batch

    async def _write(self, records: Sequence[Record]) -> None:
        async with asyncio.timeout(self._write_timeout):
            async with self._sessions() as session, session.begin():
                written = await self._apply(session, records)
        self.written += len(records)
        self._settle(records, written or {})

    async def _write_one_by_one(self, records: Sequence[Record]) -> None:
        """A batch failed for its content: find the bad record(s), set them aside."""
        for record in records:
            try:
                await self._write([record])
            except Exception as exc:
                if is_outage(exc):
                    self._enter_outage(exc)
                    self._park([record])
                    continue
                self._reject(record, exc)

    def _reject(self, record: Record, exc: BaseException) -> None:
        self.rejected += 1
        self._settle([record], None)
        log.error("record refused by the journal, set aside", call_event=record.get("event"),
                  call_id=record.get("call_id"), error=repr(exc)[:500])
        try:
            self.rejects.append([{**record, "_error": repr(exc)[:2000]}])
        except SpoolError:
            log.critical("cannot keep the refused record on disk", record=record)

    def _enter_outage(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {str(exc)[:300]}"
        if self.state != "spooling":
            log.warning("journal database unreachable, spooling events", error=self.last_error)
        self.state = "spooling"

    def _park(self, records: Sequence[Record]) -> bool:
        """Move records to disk; if even the disk refuses, put them back at the head of the
        in-memory queue (order kept) and say so."""
        try:
            self.spool.append(records)
            self._settle(records, None)
            return True
        except SpoolError as exc:
            self.last_error = f"spool: {exc}"
            log.critical("spool not writable, keeping events in memory", error=str(exc))
            self._queue.extendleft(reversed(records))
            return False

    async def _drain_spool(self) -> None:
        """Write spooled records oldest first, retrying with backoff until the spool is empty.

        New events that arrive meanwhile are appended to the spool so order is kept.
        """
        delay = self._retry_min
        while len(self.spool) or (self.state == "spooling" and self._queue):
            if self._queue and not self._park(self._take(len(self._queue))):
                await asyncio.sleep(self._retry_max)
            chunk = self.spool.peek(self._batch_size)
            if not chunk:
                break
            try:
                await self._write(chunk)
            except Exception as exc:
                if is_outage(exc):
                    self._enter_outage(exc)
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, self._retry_max)
                    continue
                await self._write_one_by_one(chunk)
            self.spool.commit(len(chunk))
            delay = self._retry_min
        if self.state == "spooling":
            log.info("journal database back, spool drained", written=self.written)
        self.state = "direct"
        self.last_error = None
