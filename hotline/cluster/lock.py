"""Who holds the PBX's AMI link and the once-only scheduled work: a PostgreSQL advisory lock.

Every instance of `hotline serve` on the same PostgreSQL runs one `Leadership`. It keeps a
dedicated asyncpg connection (not one of the SQLAlchemy pool's: a pooled connection is
reset and handed around, a session lock must live exactly as long as its connection) and
tries `pg_try_advisory_lock` on it every `RETRY` seconds. The instance that gets it is the
holder: it starts what only one instance may run (the AMI link, the modes' switches, the
scheduled jobs); the others serve the web and stand by.

The lock is checked every `CHECK` seconds with a short query (and asyncpg's termination
listener): a broken connection, a terminated backend or a query that does not answer within
`CHECK_TIMEOUT` means the lock may be someone else's already, so the holder stops at once
what it started (the AMI link first) and goes back to trying. On the server side the lock
connection runs with `idle_session_timeout`: a holder that stops asking (frozen, cut off
by the network) is ended by PostgreSQL itself, and its lock freed, within `SERVER_TIMEOUT`.

A holder that sees no other instance (no other lock connection of the service on the
server at its last check) keeps what it started while PostgreSQL is unreachable: nobody else
can take the lock then, and a lone service keeps following the calls, spooling them for the
journal (the database outage it was built to survive). It takes the lock back as soon as the
server answers, and stands by only if another instance got there first.

SQLite (the single-box demo) has no advisory locks: the only instance always holds.

The lock key is per PBX (`lock_key("pbx", name)`). The first PBX's lock carries the
scheduled work and the live hub; with several PBXs (`[[pbx]]`) the holder of that lock also
takes each other PBX's own lock (`pbx:<name>`, a `follower`: tried only while the first is
held, let go with it) before it starts that PBX's link, so each link is held by exactly one
instance. A follower's connection is not counted among the instances (`peers`).

A lock may also give way (`give_way`): while its test is true it is not tried, and a holder
lets it go at its next check. The recordings' lock (`work:recordings`) gives way on the PBX
link's holder while another instance stands by, so that the audio work (ffmpeg, the storage's
copies) runs beside the web on a standby, never beside the AMI link and the screen-pops; an
instance alone keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.engine import make_url

from journal.clock import utc_now

log = structlog.get_logger(__name__)

RETRY = 1.0
CHECK = 1.0
# A slow answer is not a lost lock: the session stays ours while its query runs. A check may
# take this long, so that a holder short of CPU keeps the link, and the last moment it can
# still believe itself the holder (CHECK + CHECK_TIMEOUT after its last answer) comes before
# the server ends a silent session (SERVER_TIMEOUT) and frees the lock for another.
CHECK_TIMEOUT = 3.0
CONNECT_TIMEOUT = 3.0
SERVER_TIMEOUT = "5s"
# The first half of every hotline advisory lock key ("hotl"): other applications on the
# same database pick other numbers.
LOCK_CLASS = 0x686F746C

Hook = Callable[[], Awaitable[None] | None]


def lock_key(kind: str, name: str) -> tuple[int, int]:
    """The (class, object) pair of a lock: e.g. ("pbx", "main") for the main PBX's link."""
    value = zlib.crc32(f"{kind}:{name}".encode())
    return LOCK_CLASS, value - (1 << 32) if value >= 1 << 31 else value


def asyncpg_dsn(database_url: str) -> str | None:
    """The asyncpg DSN of a SQLAlchemy PostgreSQL URL; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def instance_name() -> str:
    """How logs and health name this instance: host, process and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LockMetrics:
    """The locks' Prometheus metric families, made once per registry (prometheus_client
    refuses a name twice): each `Leadership` counts under its `lock` and its PBX's `pbx`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.held = Gauge("hotline_lock_held", "1 while this instance holds the lock (the PBX "
                          "link and the once-only work go with it)", ["lock", "pbx"],
                          registry=registry)
        self.changes = Counter("hotline_lock_changes", "Locks taken and lost by this instance",
                               ["lock", "pbx", "change"], registry=registry)


class Leadership:
    """Holds or waits for one advisory lock; runs the holder's start and stop steps."""

    def __init__(
        self,
        database_url: str,
        name: str = "pbx:main",
        key: tuple[int, int] | None = None,
        *,
        instance: str | None = None,
        metrics: LockMetrics | None = None,
        pbx: str | None = None,
        retry: float = RETRY,
        check: float = CHECK,
        follower: bool = False,
        give_way: Callable[[], bool] | None = None,
    ) -> None:
        self.dsn = asyncpg_dsn(database_url)
        # A lock taken only while this instance holds the first one (another PBX's link).
        self.follower = follower
        # While true, the lock is left to the other instances (not tried, let go if held).
        self.give_way = give_way or (lambda: False)
        self.name = name
        self.key = key or lock_key(*name.split(":", 1))
        self.instance = instance or instance_name()
        self.retry = retry
        self.check = check
        self.holding = False
        self.since: datetime = utc_now()
        self.acquired_at: float | None = None
        self.backend_pid: int | None = None
        self.last_error: str | None = None
        # Other instances' lock connections seen at the holder's last check.
        self.peers = 0
        self._starts: list[tuple[str, Hook]] = []
        self._stops: list[tuple[str, Hook]] = []
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None
        # Its metrics, labelled with the PBX whose link it guards (by default the one its
        # name says: "pbx:<name>"); alone (a test): on a registry of its own.
        metrics = metrics or LockMetrics(CollectorRegistry())
        self.pbx = pbx if pbx is not None else name.split(":", 1)[-1]  # "": no PBX's lock
        metrics.held.labels(name, self.pbx).set_function(lambda: 1 if self.holding else 0)
        self._changes = {change: metrics.changes.labels(name, self.pbx, change)
                         for change in ("taken", "lost")}

    @property
    def clustered(self) -> bool:
        """True on PostgreSQL (a lock to share); False on SQLite (always the holder)."""
        return self.dsn is not None

    def holds(self) -> bool:
        return self.holding

    def while_holding(self, what: str, start: Hook, stop: Hook, *,
                      before: str | None = None) -> None:
        """Run `start` on taking the lock and `stop` on losing it (stops in reverse order);
        `before`: start ahead of that step (and stop after it)."""
        names = [name for name, _ in self._starts]
        at = names.index(before) if before in names else len(names)
        self._starts.insert(at, (what, start))
        stop_names = [name for name, _ in self._stops]
        self._stops.insert(stop_names.index(before) + 1 if before in stop_names else 0,
                           (what, stop))

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not self.clustered:
            await self._acquired()
            return
        self._task = asyncio.create_task(self._run(), name=f"lock-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.holding:
            await self._released("stopped")
        await self._close()

    def health(self) -> dict[str, Any]:
        return {
            "state": "ok",
            "instance": self.instance,
            "lock": self.name,
            "role": "holder" if self.holding else "standby",
            "shared": self.clustered,
            "since": self.since.isoformat(),
            "lock_backend_pid": self.backend_pid,
            "peers": self.peers,
            "last_error": self.last_error,
        }

    # ------------------------------------------------------------ the lock

    async def _run(self) -> None:
        while True:
            try:
                if self.give_way() or not await self._try():
                    # A standby keeps its connection between tries: the holder counts it.
                    await asyncio.sleep(self.retry)
                    continue
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: try again
                self.last_error = repr(exc)[:200]
                log.warning("lock not checked", lock=self.name, error=self.last_error)
            if (self.holding and self.peers == 0 and not self.give_way()
                    and await self._retake()):
                continue  # alone, and the lock is ours again: nothing was stopped
            if self.holding:
                await self._released(self.last_error or ("given way" if self.give_way() else "lost"))
            await self._close()
            await asyncio.sleep(self.retry)

    async def _retake(self) -> bool:
        """The lone holder's lock connection failed: keep holding while the server cannot be
        reached, take the lock back when it can; False if another instance has it now."""
        log.warning("lock connection lost; alone, keeping the pbx link", lock=self.name,
                    reason=self.last_error)
        while True:
            await self._close()
            try:
                if await self._try(acquire_steps=False):
                    log.warning("lock taken back", lock=self.name, instance=self.instance)
                    return True
                return False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # still unreachable: nobody else can hold it either
                self.last_error = repr(exc)[:200]
            await asyncio.sleep(self.retry)

    async def _try(self, *, acquire_steps: bool = True) -> bool:
        if self._conn is None or self._conn.is_closed():
            self._lost.clear()
            self._conn = await asyncpg.connect(
                self.dsn, timeout=CONNECT_TIMEOUT,
                server_settings={"application_name": self._application_name()})
            with contextlib.suppress(asyncpg.PostgresError):  # PostgreSQL 14 and later
                await self._conn.execute(f"SET idle_session_timeout = '{SERVER_TIMEOUT}'")
            self._conn.add_termination_listener(lambda _conn: self._lost.set())
            self.backend_pid = self._conn.get_server_pid()
        async with asyncio.timeout(CHECK_TIMEOUT):
            got = await self._conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *self.key)
        if got:
            await self._count_peers()
        if got and acquire_steps:
            # The start steps (the AMI link, its resync, the modes) may take seconds: they
            # run beside the lock's checks, or the idle lock connection would be ended by
            # the server's idle_session_timeout before they are done.
            self._mark_holder()
            self._starting = asyncio.create_task(self._start_steps(), name=f"start-{self.name}")
        return bool(got)

    def _application_name(self) -> str:
        kind = "pbx-lock" if self.follower else "lock"
        return f"hotline {kind} {self.instance}"[:63]

    async def _count_peers(self) -> None:
        """How many other instances keep a lock connection on the server now (their first
        lock's: followers are not instances)."""
        assert self._conn is not None
        own = f"hotline lock {self.instance}"[:63]
        async with asyncio.timeout(CHECK_TIMEOUT):
            self.peers = await self._conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                " AND application_name LIKE 'hotline lock %' AND application_name <> $1", own)

    async def _watch(self) -> None:
        """Until the lock's connection fails: a short query every `check` seconds."""
        assert self._conn is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check):
                    await self._lost.wait()
            if self._lost.is_set():
                self.last_error = "lock connection closed"
                return
            if self.give_way():
                self.last_error = None
                log.info("lock left to another instance", lock=self.name, instance=self.instance)
                return
            try:
                await self._count_peers()
            except (TimeoutError, OSError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                self.last_error = f"lock check failed: {exc!r}"[:200]
                return

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # terminate(): no polite close on a connection that may hang.
            conn.terminate()

    # ------------------------------------------------------------ holder's steps

    async def _acquired(self) -> None:
        self._mark_holder()
        await self._start_steps()

    def _mark_holder(self) -> None:
        self.holding = True
        self.since = utc_now()
        self.acquired_at = time.monotonic()
        self._changes["taken"].inc()
        log.warning("lock taken: this instance is the holder", lock=self.name,
                    instance=self.instance, backend_pid=self.backend_pid)

    async def _start_steps(self) -> None:
        for what, start in self._starts:
            try:
                done = start()
                if done is not None:
                    await done
            except Exception:
                log.exception("holder start step failed", step=what)

    async def _released(self, reason: str) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():  # lost before it was all started
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        self.holding = False
        self.since = utc_now()
        self._changes["lost"].inc()
        log.warning("lock lost: this instance stands by", lock=self.name,
                    instance=self.instance, reason=reason)
        for what, stop in self._stops:
            try:
                done = stop()
                if done is not None:
                    await done
            except Exception:
                log.exception("holder stop step failed", step=what)
