"""Switching each line between operator and electronic secretary at the exact boundary.

`ModeScheduler` keeps one APScheduler `DateTrigger` job per line, set at the line's next
boundary (a change of mode, or the end of an administrator's override). When it fires, the
line's mode is written to the PBX (AstDB `hotline/mode/<line>`, read by the dialplan for every
call), stored with its reason, logged, and the job is set again at the following boundary.
Nothing polls. After an AMI reconnect `rewrite_all()` writes every mode again, because AstDB
may have been reset with Asterisk.

The PBX and the database come in as async callables, the time as a clock, so tests drive it
with fakes. A failing write or store is logged and never stops the next switch from being
scheduled: the next `rewrite_all()` repairs the PBX.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from hotline.config import Line
from hotline.modes.schedule import Mode, ModeState, Override, mode_at, next_switch
from journal.calendar import ProductionCalendar
from journal.clock import utc_now

WriteMode = Callable[[str, Mode], Awaitable[None]]
"""Write a line's mode to the PBX: AMI DBPut Family=hotline Key=mode/<line> Val=<mode>."""
StoreMode = Callable[[str, Mode, str, str, datetime], Awaitable[None]]
"""Store a switch: line number, mode, reason code, reason text, when."""
Clock = Callable[[], datetime]

log = structlog.get_logger(__name__)
JOB_PREFIX = "line-mode:"
CALENDAR_LOOKAHEAD = timedelta(days=60)  # warn this early that next year's calendar is missing



class ModeScheduler:
    """Keeps every line's PBX mode equal to its schedule, switching at exact boundaries."""

    def __init__(
        self,
        lines: Sequence[Line],
        calendar: ProductionCalendar,
        *,
        write_mode: WriteMode,
        store_mode: StoreMode,
        clock: Clock = utc_now,
        scheduler: AsyncIOScheduler | None = None,
        overrides: Iterable[Override] = (),
    ) -> None:
        """`scheduler`: a shared, already configured one (started by its owner); else own."""
        self._lines = {line.number: line for line in lines}
        self._calendar = calendar
        self._write_mode = write_mode
        self._store_mode = store_mode
        self._clock = clock
        self._owns_scheduler = scheduler is None
        self._scheduler = scheduler or AsyncIOScheduler(timezone=UTC)
        self._overrides = {o.line: o for o in overrides if o.line in self._lines}
        self._lock = asyncio.Lock()
        self._warned_years: set[int] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, paused: bool = False) -> None:
        """Write and store every line's current mode, then schedule each next boundary.

        `paused` starts an own scheduler without running jobs (tests inspect and run them).
        """
        if self._owns_scheduler and not self._scheduler.running:
            self._scheduler.start(paused=paused)
        now = self._now()
        self._warn_missing_calendar(now)
        async with self._lock:
            for number in self._lines:
                await self._apply(number, now, event="mode.initial")
                self._schedule_next(number, now)

    async def stop(self) -> None:
        """Remove this scheduler's jobs; shut an own scheduler down."""
        for number in self._lines:
            self._remove_job(number)
        if self._owns_scheduler and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    # --- administrator and PBX events --------------------------------------------------------

    async def set_override(
        self, line: str, mode: Mode, until: datetime, by: str, reason: str = ""
    ) -> Override:
        """Force `mode` on `line` until `until`, now: writes, stores and reschedules the line."""
        self._line(line)
        now = self._now()
        if until.tzinfo is None or until <= now:
            raise ValueError(f"the override must end in the future, not at {until.isoformat()}")
        override = Override(line, mode, until, set_by=by, reason=reason, since=now)
        async with self._lock:
            self._overrides[line] = override
            log.info("mode.override_set", line=line, mode=mode, until=until.isoformat(), by=by)
            await self._apply(line, now, event="mode.switch")
            self._schedule_next(line, now)
        return override

    async def clear_override(self, line: str, by: str) -> None:
        """Cancel the override of `line` (if any) and return to its schedule now."""
        self._line(line)
        now = self._now()
        async with self._lock:
            if self._overrides.pop(line, None) is None:
                return
            log.info("mode.override_cleared", line=line, by=by)
            await self._apply(line, now, event="mode.switch")
            self._schedule_next(line, now)

    async def replace_overrides(self, overrides: Iterable[Override]) -> None:
        """Make `overrides` the whole set (as read from the database); changed lines apply now.

        Unknown lines and expired overrides are ignored; of several for one line the last wins.
        """
        now = self._now()
        fresh = {o.line: o for o in overrides if o.line in self._lines and o.until > now}
        async with self._lock:
            changed = [n for n in self._lines if fresh.get(n) != self._overrides.get(n)]
            self._overrides = fresh
            for number in changed:
                override = fresh.get(number)
                log.info("mode.overrides_changed", line=number,
                         mode=override.mode if override else None,
                         until=override.until.isoformat() if override else None)
                await self._apply(number, now, event="mode.switch")
                self._schedule_next(number, now)

    async def rewrite_all(self) -> None:
        """Write every line's current mode to the PBX again (after each AMI reconnect)."""
        now = self._now()
        async with self._lock:
            for number in self._lines:
                state = self.current(number, now)
                await self._write(number, state.mode)
                log.info("mode.rewritten", line=number, mode=state.mode, reason=state.reason.code)

    # --- queries -----------------------------------------------------------------------------

    @property
    def overrides(self) -> tuple[Override, ...]:
        """Overrides that have not expired yet."""
        now = self._now()
        return tuple(o for o in self._overrides.values() if o.until > now)

    def current(self, line: str, at: datetime | None = None) -> ModeState:
        """The mode and reason of `line` now (or at `at`)."""
        at = at or self._now()
        return mode_at(self._line(line), self._calendar, at, self._overrides.values())

    def next_run(self, line: str) -> datetime | None:
        """When the line's switch job will run, or None (a 24/7 line without override)."""
        job = self._job(line)
        return job.next_run_time if job else None

    def job(self, line: str) -> Job | None:
        """The APScheduler job of `line` (for inspection)."""
        return self._job(line)

    # --- internals ---------------------------------------------------------------------------

    async def _on_boundary(self, number: str, boundary: datetime) -> None:
        """The job: the line reached `boundary`; apply its mode and schedule the next one."""
        async with self._lock:
            at = max(self._now(), boundary)  # never act on a mode before its boundary
            self._drop_expired(at)
            self._warn_missing_calendar(at)
            try:
                await self._apply(number, at, event="mode.switch")
            finally:
                self._schedule_next(number, at)

    async def _apply(self, number: str, at: datetime, *, event: str) -> None:
        state = self.current(number, at)
        reason = state.reason
        log.info(event, line=number, mode=state.mode, reason=reason.code, text=reason.text,
                 at=at.isoformat())
        await self._write(number, state.mode)
        try:
            await self._store_mode(number, state.mode, reason.code.value, reason.text, at)
        except Exception:
            log.exception("mode.store_failed", line=number, mode=state.mode)

    async def _write(self, number: str, mode: Mode) -> None:
        try:
            await self._write_mode(number, mode)
        except Exception:
            log.exception("mode.write_failed", line=number, mode=mode)

    def _schedule_next(self, number: str, after: datetime) -> None:
        boundary = self._next_boundary(number, after)
        if boundary is None:
            self._remove_job(number)
            log.info("mode.no_next_switch", line=number)
            return
        self._scheduler.add_job(
            self._on_boundary,
            trigger=DateTrigger(run_date=boundary),
            args=(number, boundary),
            id=JOB_PREFIX + number,
            name=f"mode switch of line {number}",
            replace_existing=True,
            misfire_grace_time=None,  # run late rather than never (e.g. after a suspend)
            coalesce=True,
        )
        log.debug("mode.next_switch", line=number, at=boundary.isoformat())

    def _next_boundary(self, number: str, after: datetime) -> datetime | None:
        """The next change of mode, or the end of an override if that comes first."""
        switch = next_switch(self._line(number), self._calendar, after, self._overrides.values())
        candidates = [switch.at] if switch else []
        override = self._overrides.get(number)
        if override and override.until > after:
            candidates.append(override.until)
        return min(candidates, default=None)

    def _drop_expired(self, at: datetime) -> None:
        for number, override in list(self._overrides.items()):
            if override.until <= at:
                del self._overrides[number]
                log.info("mode.override_expired", line=number, mode=override.mode)

    def _warn_missing_calendar(self, now: datetime) -> None:
        """Warn once per year that is (nearly) here without calendar data."""
        if all(line.around_the_clock for line in self._lines.values()):
            return
        today = now.date()
        missing = set(self._calendar.missing_years(today, today + CALENDAR_LOOKAHEAD))
        if missing - self._warned_years:
            self._warned_years |= missing
            log.warning("mode.calendar_missing", years=sorted(missing),
                        note="holidays and moved days are not known; weekdays only")

    def _job(self, number: str) -> Job | None:
        return self._scheduler.get_job(JOB_PREFIX + number)

    def _remove_job(self, number: str) -> None:
        if self._job(number) is not None:
            self._scheduler.remove_job(JOB_PREFIX + number)

    def _line(self, number: str) -> Line:
        try:
            return self._lines[number]
        except KeyError:
            raise KeyError(f"unknown line {number!r}") from None

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(UTC)
