"""What the live figures read from the journal: today's calls so far (once, at start-up) and
the callbacks due and overdue (a small grouped count, every half minute or so).

No personal data leaves here: no numbers, no names, only call ids, times and counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.models import Call, CallbackStatus, CallbackTask, Organization


async def calls_since(session: AsyncSession, since: datetime) -> list[dict[str, Any]]:
    """Calls that started at or after `since` and are over (or abandoned), oldest first:
    the facts the figures count (`hotline.figures.core.JournalCall`)."""
    rows = await session.execute(
        select(Call.pbx_call_id, Call.direction, Call.line_number, Organization.code,
               Call.started_at, Call.answered_at, Call.ended_at, Call.outcome,
               Call.queue_wait_seconds, Call.talk_seconds, Call.answered_interface)
        .outerjoin(Organization, Organization.id == Call.organization_id)
        .where(Call.started_at >= since, Call.outcome != "in_progress")
        .order_by(Call.started_at))
    return [dict(row._mapping) for row in rows]


async def callbacks_due(session: AsyncSession, now: datetime, day_end: datetime
                        ) -> dict[str, tuple[int, int]]:
    """Pending callbacks per organization code: (due later today, overdue now)."""
    pending = CallbackTask.status == CallbackStatus.PENDING
    rows = await session.execute(
        select(Organization.code,
               func.count().filter(and_(CallbackTask.due_at >= now, CallbackTask.due_at < day_end)),
               func.count().filter(CallbackTask.due_at < now))
        .join(Organization, Organization.id == CallbackTask.organization_id)
        .where(pending, CallbackTask.due_at < day_end)
        .group_by(Organization.code))
    return {code: (int(due), int(overdue)) for code, due, overdue in rows}


async def organization_codes(session: AsyncSession) -> dict[int, str]:
    """Organization id -> code (sockets know their user's organization by id)."""
    rows = await session.execute(select(Organization.id, Organization.code))
    return {oid: code for oid, code in rows}
