"""Callbacks asked from the queue (issue #19): how many citizens pressed 1 instead of waiting,
how many were called back, and how soon (median and 90th percentile of the time from the
moment the caller left the queue, `callback_tasks.asked_at`, to the start of the operator's
call that did the task, `result_call_id`). Wall-clock seconds: the caller counts them so.

Kept apart from the call statistics' roll-up (journal.reports.calls): a handful of rows per
period, read from the tasks themselves, shown as a table of its own in the calls report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.models import Call, CallbackStatus, CallbackTask
from journal.reports.period import Period

QUEUE_ORIGIN = "queue"

# Russian column titles, in the order of `values()` (page, XLSX, CSV).
HEADERS = {
    "organization": "организация",
    "asked": "заказано из очереди",
    "made": "перезвонили",
    "pending": "ждут звонка",
    "median": "перезвон через, медиана, мин",
    "p90": "перезвон через, 90-й процентиль, мин",
}


@dataclass(frozen=True, slots=True)
class QueueCallbackStats:
    """One organization's callbacks asked from the queue in the period (by `asked_at`)."""

    organization_id: int
    asked: int
    made: int
    pending: int
    median_seconds: float | None
    p90_seconds: float | None

    def values(self, name: str) -> list[object]:
        return [name, self.asked, self.made, self.pending, _minutes(self.median_seconds),
                _minutes(self.p90_seconds)]


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    rank = share * (len(sorted_values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


async def queue_callback_stats(
    session: AsyncSession, period: Period, organization_id: int | None = None,
) -> list[QueueCallbackStats]:
    """Per organization, the callbacks asked from the queue during `period`."""
    query = (
        select(CallbackTask.organization_id, CallbackTask.status, CallbackTask.asked_at,
               Call.started_at)
        .outerjoin(Call, Call.id == CallbackTask.result_call_id)
        .where(CallbackTask.origin == QUEUE_ORIGIN, CallbackTask.asked_at >= period.start,
               CallbackTask.asked_at < period.end)
    )
    if organization_id is not None:
        query = query.where(CallbackTask.organization_id == organization_id)
    by_org: dict[int, list[Row[*tuple[Any, ...]]]] = {}
    for row in (await session.execute(query)).all():
        by_org.setdefault(row.organization_id, []).append(row)
    out = []
    for org_id, rows in sorted(by_org.items()):
        delays = sorted(max(0.0, (r.started_at - r.asked_at).total_seconds())
                        for r in rows if r.started_at is not None)
        out.append(QueueCallbackStats(
            organization_id=org_id, asked=len(rows), made=len(delays),
            pending=sum(r.status == CallbackStatus.PENDING for r in rows),
            median_seconds=percentile(delays, 0.5), p90_seconds=percentile(delays, 0.9)))
    return out
