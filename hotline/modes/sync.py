"""Each line's mode kept in the PBX: the scheduler's switches written to AstDB, every mode
written again after a reconnect (AstDB may have been reset with Asterisk), and the overrides
an administrator set from the CLI or another instance noticed within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Line
from hotline.modes.schedule import Mode, ModeState, Override
from hotline.modes.scheduler import ModeScheduler
from hotline.modes.store import active_overrides, overrides_version, store_switch
from journal.calendar import ProductionCalendar
from journal.clock import utc_now

log = structlog.get_logger(__name__)

OVERRIDE_CHECK_INTERVAL = 5.0
WriteMode = Callable[[str, Mode], Awaitable[None]]


class ModeSync:
    """The mode scheduler on the journal's overrides, writing through `write_mode`."""

    def __init__(
        self,
        lines: tuple[Line, ...] | list[Line],
        calendar: ProductionCalendar,
        sessions: async_sessionmaker[AsyncSession],
        write_mode: WriteMode,
        *,
        override_check_interval: float = OVERRIDE_CHECK_INTERVAL,
    ) -> None:
        self.lines = tuple(lines)
        self.calendar = calendar
        self.sessions = sessions
        self.write_mode = write_mode
        # Built in start(): it needs the overrides stored in the database.
        self.scheduler: ModeScheduler | None = None
        self._override_check_interval = override_check_interval
        self._overrides_seen: tuple[object, ...] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.running = False

    async def start(self) -> None:
        async with self.sessions() as session:
            self._overrides_seen = await overrides_version(session)
        self.scheduler = ModeScheduler(
            self.lines,
            self.calendar,
            write_mode=self.write_mode,
            store_mode=self._store_mode,
            overrides=await active_overrides(self.sessions, utc_now()),
        )
        await self.scheduler.start()
        self._watch = asyncio.create_task(self._watch_overrides(), name="mode-overrides")
        self.running = True

    async def stop(self) -> None:
        """Stopped when this instance steps down: no switch written, nothing watched (the
        last modes stay readable)."""
        self.running = False
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None

    async def rewrite_all(self) -> None:
        """Every line's mode again (after a reconnect); nothing when stopped (stepped down)."""
        if self.scheduler is not None and self.running:
            await self.scheduler.rewrite_all()

    def current(self, line: str) -> ModeState | None:
        return self.scheduler.current(line) if self.scheduler is not None else None

    @property
    def overrides(self) -> tuple[Override, ...] | None:
        """The overrides the PBX was told about; None before start() and once stopped."""
        return self.scheduler.overrides if self.scheduler is not None and self.running else None

    async def _store_mode(self, line: str, mode: Mode, code: str, text: str, at: datetime) -> None:
        await store_switch(self.sessions, line, mode, code, text, at)

    async def _load_overrides(self) -> None:
        async with self.sessions() as session:
            version = await overrides_version(session)
        if version == self._overrides_seen or self.scheduler is None:
            return
        overrides = await active_overrides(self.sessions, utc_now())
        self._overrides_seen = version
        await self.scheduler.replace_overrides(overrides)

    async def _watch_overrides(self) -> None:
        while True:
            await asyncio.sleep(self._override_check_interval)
            try:
                await self._load_overrides()
            except Exception as exc:  # the database may be away; try again next time
                log.warning("overrides not read", error=repr(exc)[:300])
