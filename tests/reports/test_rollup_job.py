"""The service's roll-up job: the last days that have passed are rolled up, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.reports.hours import level2_queues, operator_hours
from hotline.reports.rollup import RollupJob, roll_up_recent
from journal.calendar import load_calendar_dir
from journal.models import CallRollupDay, CallRollupMonth
from journal.reports.calls import roll_up_calls
from journal.reports.period import parse_period
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, local

SOGAZ = "88002009204"


async def test_the_last_days_are_rolled_up_once(sessions, people, settings) -> None:
    calendar = load_calendar_dir(REPO / "config" / "calendar")
    async with unit_of_work(sessions) as s:
        await add_call(s, people.orgs, "sogaz", SOGAZ, local(2026, 11, 9, 10, 0), "answered",
                       queue_wait_seconds=5, talk_seconds=50)
    now = local(2026, 11, 11, 0, 20)
    assert await roll_up_recent(sessions, settings, calendar, days=3, now=now) == 3  # 8-10 Nov
    assert await roll_up_recent(sessions, settings, calendar, days=3, now=now) == 0
    async with unit_of_work(sessions) as s:
        days = (await s.scalars(select(CallRollupDay.day).order_by(CallRollupDay.day))).all()
        assert [d.day for d in days] == [8, 9, 10]
        assert await s.scalar(select(func.count()).select_from(CallRollupDay)) == 3
    # A report's working hours of the whole month agree with the job's of each day: the
    # month's roll-up builds the other 7 days it has had by then, not those 3 again.
    nov = parse_period("2026-11", ZONE)
    async with unit_of_work(sessions) as s:
        assert await roll_up_calls(s, nov, operator_hours(settings, calendar, nov),
                                   level2_queues=level2_queues(settings), now=now) == 7


async def test_the_job_runs_after_midnight_and_catches_up_after_a_start(sessions, settings) -> None:
    calendar = load_calendar_dir(REPO / "config" / "calendar")
    job = RollupJob(settings, sessions, calendar, clock=lambda: datetime(2026, 11, 11, 3, tzinfo=UTC))
    await job.start(paused=True)
    try:
        nightly = job.jobs()["call-rollup"]
        catch_up = job.jobs()["call-rollup-start"]
        assert (nightly.trigger.fields[5].expressions[0].first, str(catch_up.trigger.run_date)) == (
            0, "2026-11-11 03:05:00+00:00")
    finally:
        await job.stop()


async def test_the_job_adds_up_the_months_whose_days_all_passed(sessions, people, settings) -> None:
    """The last 40 days on 5 December: November and 1-4 December are added up, once."""
    calendar = load_calendar_dir(REPO / "config" / "calendar")
    async with unit_of_work(sessions) as s:
        await add_call(s, people.orgs, "sogaz", SOGAZ, local(2026, 11, 9, 10, 0), "answered",
                       queue_wait_seconds=5, talk_seconds=50)
    now = local(2026, 12, 5, 0, 20)
    assert await roll_up_recent(sessions, settings, calendar, days=40, now=now) == 40
    async with unit_of_work(sessions) as s:
        months = (await s.scalars(select(CallRollupMonth))).all()
    assert sorted(m.month.isoformat() for m in months) == ["2026-11-01", "2026-12-01"]
    assert await roll_up_recent(sessions, settings, calendar, days=40, now=now) == 0
    async with unit_of_work(sessions) as s:
        again = (await s.scalars(select(CallRollupMonth))).all()
    assert sorted(m.built_at for m in again) == sorted(m.built_at for m in months)  # not again
