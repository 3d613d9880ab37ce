"""The morning digest: per organization, cards overdue or due soon and callbacks not made.

`DigestJob` runs in the service: one APScheduler `DateTrigger` job, set at the start of the next
working day of the production calendar (`[reports] digest_time` in the region's time zone,
`[service] timezone`), so a holiday or a moved day off gets no digest and a working Saturday
gets one. When it fires, the deadlines of every organization are collected
(`journal.reports.deadlines`), logged with one structlog event per organization, kept as the
latest digest for the web (`GET /api/v1/reports/digest`), and the job is set again at the next
working day's start. A failing run is logged and the next one is still scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from apscheduler.job import Job
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.jobs import ScheduledJob
from journal.actors import Actor
from journal.calendar import ProductionCalendar
from journal.db import unit_of_work
from journal.reports.deadlines import OrgDeadlines, deadlines
from journal.clock import utc_now

log = structlog.get_logger(__name__)
DEFAULT_WITHIN_DAYS = 3
JOB_ID = "deadline-digest"
MAX_DAYS_AHEAD = 60  # longer than any run of days off in a production calendar



@dataclass(frozen=True, slots=True)
class Digest:
    """One morning's digest: when it was built, for which local day, and its lists."""

    built_at: datetime
    day: date
    within_days: int
    organizations: tuple[OrgDeadlines, ...]


async def morning_digest(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    now: datetime | None = None,
) -> list[OrgDeadlines]:
    """Collect and log the deadlines of every organization (the job of the scheduler)."""
    now = now or utc_now()
    today = now.astimezone(ZoneInfo(settings.service.timezone)).date()
    async with unit_of_work(sessions) as session:
        orgs = await deadlines(session, Actor.system("digest"), today, now, within_days=within_days)
    for org in orgs:
        log.info(
            "deadline_digest",
            organization=org.organization_code,
            day=today.isoformat(),
            cards_due=len(org.cards),
            cards_overdue=org.overdue_cards,
            callbacks_pending=len(org.callbacks),
            callbacks_overdue=org.overdue_callbacks,
            card_numbers=[c.number for c in org.cards],
        )
    if not orgs:
        log.info("deadline_digest.empty", day=today.isoformat())
    return orgs


def next_digest_at(calendar: ProductionCalendar, zone: ZoneInfo, at: time, after: datetime) -> datetime:
    """The first start of a working day (`at`, local) strictly after `after`, in UTC."""
    day = after.astimezone(zone).date()
    for _ in range(MAX_DAYS_AHEAD):
        start = datetime.combine(day, at, tzinfo=zone)
        if calendar.is_working_day(day) and start > after:
            return start.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"no working day within {MAX_DAYS_AHEAD} days after {after.isoformat()}")


class DigestJob(ScheduledJob):
    """Builds the digest at the start of every working day and keeps the latest one."""

    name = "deadline_digest"
    job_ids = (JOB_ID,)
    latest: Digest | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.service.timezone)

    @property
    def job(self) -> Job | None:
        """The scheduled APScheduler job (for inspection)."""
        return self.jobs()[JOB_ID]

    def next_run(self, after: datetime) -> datetime:
        return next_digest_at(self.calendar, self.zone, self.settings.reports.digest_time, after)

    async def build(self) -> Digest:
        """Collect, log and keep the digest now."""
        now = self.clock()
        within = self.settings.reports.digest_within_days
        orgs = await morning_digest(self.sessions, self.settings, within_days=within, now=now)
        self.latest = Digest(now, now.astimezone(self.zone).date(), within, tuple(orgs))
        return self.latest

    async def work(self) -> Digest:
        return await self.build()

    def after_run(self) -> None:
        """Set the job at the next working day's start."""
        self.schedule(self.clock())

    def schedule(self, now: datetime) -> None:
        run_at = self.next_run(now)
        self.scheduler.add_job(self.run, trigger=DateTrigger(run_date=run_at), id=JOB_ID,
                               replace_existing=True, misfire_grace_time=3600)
        log.info("deadline_digest.scheduled", at=run_at.isoformat())
