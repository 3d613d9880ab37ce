"""The production calendar in the database, so reports can join on it in SQL.

The XML files of config/calendar/ stay the source; this copy is rewritten from them at start.
"""

from __future__ import annotations

from sqlalchemy import delete, extract
from sqlalchemy.ext.asyncio import AsyncSession

from journal.calendar import ProductionCalendar
from journal.models import CalendarDay


async def sync_calendar(session: AsyncSession, calendar: ProductionCalendar) -> int:
    """Replace the stored days of every year the calendar has data for; returns how many."""
    days = calendar.listed_days()
    for year in calendar.years:
        await session.execute(delete(CalendarDay).where(extract("year", CalendarDay.day) == year))
    session.add_all(
        CalendarDay(day=info.day, kind=info.kind.value, title=info.title, moved_from=info.moved_from)
        for info in days
    )
    await session.flush()
    return len(days)
