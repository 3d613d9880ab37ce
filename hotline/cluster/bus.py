"""The instances' bus: PostgreSQL LISTEN/NOTIFY on a dedicated asyncpg connection.

Each instance listens on the shared channel `hotline_live` (who is connected where, sessions
ended, cards changed) and on its own `hotline_live_<id>` (the messages for its sockets). A
payload must stay within NOTIFY's 8000 bytes: a bigger one is written as a row of
`live_messages` and only `{"row": id}` is notified; the receiver reads the row. Messages
arrive in the order sent, one consumer task per instance, rows read in their turn.

The connection is re-opened every second while the database is away; `on_reconnect` then
runs (the relay announces its sockets again: what was sent meanwhile is lost, as a broken
WebSocket loses it, and the browsers get a fresh board).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from journal.clock import utc_now

log = structlog.get_logger(__name__)

SHARED = "hotline_live"
INLINE_LIMIT = 7800  # bytes of a NOTIFY payload (PostgreSQL's limit: 8000)
ROW_TTL = timedelta(minutes=5)
RECONNECT = 1.0
OUTBOX = 10_000
SEND_BATCH = 200  # NOTIFYs sent in one round trip at most

Receiver = Callable[[str, dict[str, Any]], None]


def own_channel(instance_key: str) -> str:
    return f"{SHARED}_{instance_key}"


class Bus:
    """Sends JSON objects to a channel and hands those received to `receiver(channel, obj)`."""

    def __init__(self, dsn: str, instance_key: str, receiver: Receiver,
                 on_reconnect: Callable[[], None] = lambda: None) -> None:
        self.dsn = dsn
        self.channel = own_channel(instance_key)
        self.receiver = receiver
        self.on_reconnect = on_reconnect
        self.connected = False
        self.sent = 0
        self.received = 0
        self.rows = 0
        self._conn: asyncpg.Connection | None = None
        self._out: asyncio.Queue[tuple[str, str]] = asyncio.Queue(OUTBOX)
        self._in: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._up = asyncio.Event()
        self._swept = 0.0

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="bus-connection"),
                       asyncio.create_task(self._consume(), name="bus-in")]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._up.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.close(), 2.0)

    def send(self, channel: str, body: dict[str, Any]) -> None:
        """Queue `body` for `channel`; dropped (and logged) while the bus is away or full."""
        if not self.connected:
            return
        try:
            self._out.put_nowait((channel, json.dumps(body, ensure_ascii=False, default=str)))
        except asyncio.QueueFull:
            log.warning("bus outbox full: live message dropped", channel=channel)

    def health(self) -> dict[str, Any]:
        return {"connected": self.connected, "sent": self.sent, "received": self.received,
                "rows": self.rows, "queued": self._out.qsize()}

    # ------------------------------------------------------------ connection

    async def _run(self) -> None:
        while True:
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(
                    self.dsn, timeout=3.0, server_settings={"application_name": "hotline bus"})
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                for channel in (SHARED, self.channel):
                    await conn.add_listener(channel, self._heard)
                self._conn = conn
                self.connected = True
                self._up.set()
                log.info("bus connected", channel=self.channel)
                self.on_reconnect()
                await self._send_loop(conn, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus connection failed", error=repr(exc)[:200])
            self.connected = False
            if self._conn is not None:
                self._conn.terminate()
                self._conn = None
            while not self._out.empty():
                self._out.get_nowait()
            await asyncio.sleep(RECONNECT)

    async def _send_loop(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        while not lost.is_set():
            try:
                async with asyncio.timeout(1.0):
                    first = await self._out.get()
            except TimeoutError:
                async with asyncio.timeout(2.0):
                    await conn.fetchval("SELECT 1")  # a dead link shows here
                continue
            # What queued meanwhile goes in the same round trip: under load one NOTIFY per
            # round trip made every live message of the other instances wait its turn.
            batch = [first]
            while len(batch) < SEND_BATCH and not self._out.empty():
                batch.append(self._out.get_nowait())
            notes = []
            for channel, payload in batch:
                if len(payload.encode()) > INLINE_LIMIT:
                    row_id = await conn.fetchval(
                        "INSERT INTO live_messages (created_at, payload) VALUES ($1, $2) "
                        "RETURNING id", utc_now(), payload)
                    self.rows += 1
                    payload = json.dumps({"row": row_id})
                    await self._sweep(conn)
                notes.append((channel, payload))
            if len(notes) == 1:
                await conn.execute("SELECT pg_notify($1, $2)", *notes[0])
            else:  # one transaction: delivered together at its commit, in this order
                await conn.executemany("SELECT pg_notify($1, $2)", notes)
            self.sent += len(notes)

    async def _sweep(self, conn: asyncpg.Connection) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._swept > 30.0:
            self._swept = now
            await conn.execute("DELETE FROM live_messages WHERE created_at < $1",
                               utc_now() - ROW_TTL)

    # ------------------------------------------------------------ in

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self._in.put_nowait((channel, payload))

    async def _consume(self) -> None:
        reader: asyncpg.Connection | None = None
        try:
            while True:
                channel, payload = await self._in.get()
                try:
                    body = json.loads(payload)
                    if isinstance(body, dict) and set(body) == {"row"}:
                        if reader is None or reader.is_closed():
                            reader = await asyncpg.connect(self.dsn, timeout=3.0)
                        text = await reader.fetchval(
                            "SELECT payload FROM live_messages WHERE id = $1", int(body["row"]))
                        if text is None:
                            continue
                        body = json.loads(text)
                    self.received += 1
                    self.receiver(channel, body)
                except Exception:
                    log.exception("bus message not handled", channel=channel)
        finally:  # stopped while waiting for a message too: the row reader is closed
            if reader is not None:
                reader.terminate()
