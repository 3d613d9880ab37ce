"""The morning digest: per organization, cards overdue or due soon and callbacks not made.

`morning_digest` is an APScheduler job function (e.g. a cron trigger at 08:00 in the region's
zone); it logs one event per organization and returns the lists, so a mailer can be added.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from journal.actors import Actor
from journal.db import unit_of_work
from journal.reports.deadlines import OrgDeadlines, deadlines

log = structlog.get_logger(__name__)
DEFAULT_WITHIN_DAYS = 3


async def morning_digest(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    now: datetime | None = None,
) -> list[OrgDeadlines]:
    """Collect and log the deadlines of every organization (the job of the scheduler)."""
    now = now or datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.service.timezone)).date()
    async with unit_of_work(sessions) as session:
        orgs = await deadlines(session, Actor.system("digest"), today, now, within_days=within_days)
    for org in orgs:
        log.info(
            "deadline_digest",
            organization=org.organization_code,
            cards_due=len(org.cards),
            cards_overdue=org.overdue_cards,
            callbacks_pending=len(org.callbacks),
            callbacks_overdue=org.overdue_callbacks,
            card_numbers=[c.number for c in org.cards],
        )
    return orgs
