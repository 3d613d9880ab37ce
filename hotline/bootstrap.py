"""Start-up steps shared by `hotline serve`, the CLI and `hotline demo`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from journal.calendar import ProductionCalendar
from journal.calendar_store import sync_calendar
from journal.cards import CardRules
from journal.deadlines import DeadlinePolicy
from journal.db import unit_of_work
from journal.organizations import LineSpec, OrganizationSpec, sync_organizations


def organization_specs(settings: Settings) -> list[OrganizationSpec]:
    return [OrganizationSpec(o.code, o.kind, o.name) for o in settings.organizations]


def line_specs(settings: Settings) -> list[LineSpec]:
    return [
        LineSpec(ln.number, ln.organization, ln.timezone, ln.around_the_clock)
        for ln in settings.lines
    ]


async def sync_region(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    calendar: ProductionCalendar | None = None,
) -> None:
    """Bring the journal's organizations, lines and calendar in step with the configuration."""
    async with unit_of_work(sessions) as session:
        await sync_organizations(session, organization_specs(settings), line_specs(settings))
        if calendar is not None:
            await sync_calendar(session, calendar)


def card_rules(settings: Settings, calendar: ProductionCalendar) -> CardRules:
    """Deadlines in the region's time zone, rolled to working days if the config says so."""
    return CardRules(
        deadlines=DeadlinePolicy(
            zone=ZoneInfo(settings.service.timezone),
            roll_to_working_day=settings.service.roll_due_dates_to_working_day,
            is_working_day=calendar.is_working_day,
        )
    )
