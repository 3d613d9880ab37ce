"""The nightly roll-up of the call statistics (journal.reports.calls.roll_up_calls).

`RollupJob` runs in the service: shortly after each local midnight (`ROLLUP_TIME`) it rolls up
every day of the last `ROLLUP_DAYS` that has fully passed and has no valid roll-up yet (after
a restart, an outage, a late call or callback or a changed schedule), one day per transaction so that the
journal writer never waits long; then it adds up again the calendar months of those days
whose days changed (the monthly layer a year's report reads), in one more transaction. It
also runs once `CATCH_UP_AFTER` the service started (the days missed while it was down; not
at once, so that a start stays quick). Days older than that are rolled up by the first
report that asks for them. A failing run is logged and the next still runs.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.reports.hours import level2_queues, operator_hours
from hotline.jobs import ScheduledJob
from journal.calendar import ProductionCalendar
from journal.db import unit_of_work
from journal.reports.calls import ROLLUP_ROUNDS, roll_up_call_months, roll_up_calls, stale_call_days
from journal.reports.period import Period
from journal.clock import utc_now

log = structlog.get_logger(__name__)
JOB_ID = "call-rollup"
ROLLUP_DAYS = 400  # a year's report, whatever day of the next year it is made
ROLLUP_TIME = time(0, 20)  # local: calls still going at midnight have mostly ended
CATCH_UP_AFTER = timedelta(minutes=5)



async def roll_up_recent(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    calendar: ProductionCalendar,
    *,
    days: int = ROLLUP_DAYS,
    now: datetime | None = None,
) -> int:
    """Roll up each of the last `days` passed days that needs it; return how many were built.

    One query finds them; each is then built in a transaction of its own.
    """
    zone = ZoneInfo(settings.service.timezone)
    now = now or utc_now()
    today = now.astimezone(zone).date()
    queues = level2_queues(settings)
    recent = Period("recent", today - timedelta(days=days), today, zone)
    built: set = set()
    # A day built may mark others (its messages' callbacks): those are built in the next round.
    for _ in range(ROLLUP_ROUNDS):
        async with unit_of_work(sessions) as session:
            stale = await stale_call_days(session, recent,
                                          operator_hours(settings, calendar, recent),
                                          level2_queues=queues, now=now)
        if not stale:
            break
        for day in stale:
            period = Period(day.isoformat(), day, day + timedelta(days=1), zone)
            async with unit_of_work(sessions) as session:
                if await roll_up_calls(session, period, operator_hours(settings, calendar, period),
                                       level2_queues=queues, now=now):
                    built.add(day)
    async with unit_of_work(sessions) as session:
        months = await roll_up_call_months(session, recent, now=now)
    if built or months:
        log.info("call_rollup.built", days=len(built), months=months)
    return len(built)


class RollupJob(ScheduledJob):
    """Rolls up the past days of the call statistics at start and after each local midnight."""

    name = "call_rollup"
    job_ids = (JOB_ID, f"{JOB_ID}-start")

    def schedule(self, now: datetime) -> None:
        zone = ZoneInfo(self.settings.service.timezone)
        trigger = CronTrigger(hour=ROLLUP_TIME.hour, minute=ROLLUP_TIME.minute, timezone=zone)
        self.scheduler.add_job(self.run, trigger=trigger, id=JOB_ID, replace_existing=True,
                               misfire_grace_time=3600, coalesce=True)
        self.scheduler.add_job(self.run, trigger=DateTrigger(run_date=now + CATCH_UP_AFTER),
                               id=f"{JOB_ID}-start", replace_existing=True, misfire_grace_time=3600)

    async def work(self) -> int:
        return await roll_up_recent(self.sessions, self.settings, self.calendar, now=self.clock())
