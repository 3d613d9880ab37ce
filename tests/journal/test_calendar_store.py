"""The production calendar copied into the journal for reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from journal.calendar import load_calendar_dir
from journal.calendar_store import sync_calendar
from journal.db import unit_of_work
from journal.models import CalendarDay
from tests.support.paths import REPO

CALENDAR = REPO / "config" / "calendar"


async def test_calendar_days_are_stored_and_resync_does_not_double_them(sessions) -> None:
    calendar = load_calendar_dir(CALENDAR)
    for _ in range(2):
        async with unit_of_work(sessions) as session:
            stored = await sync_calendar(session, calendar)
    async with sessions() as session:
        days = {d.day: d for d in (await session.scalars(select(CalendarDay))).all()}
    assert len(days) == stored
    assert days[date(2026, 4, 30)].kind == "shortened"
    assert days[date(2026, 5, 11)].kind == "holiday"
    assert days[date(2026, 5, 11)].moved_from == date(2026, 5, 9)
    assert days[date(2026, 6, 12)].title == "День России"
    assert date(2026, 5, 12) not in days
