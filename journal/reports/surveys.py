"""Survey results (issue #6): the ratings of the period by organization and score.

A rating counts in the period its answer came in (`answered_at`), for the organization that
had the card when the survey was scheduled. Audited as an export like the other reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import Organization, SurveyStatus, SurveyTask
from journal.reports.period import Period
from journal.reports.sql import tune_for_report

SCORES = (1, 2, 3, 4, 5)


@dataclass(slots=True)
class SurveyRow:
    """One organization's ratings: score → count."""

    code: str
    name: str
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        total = self.total
        return sum(s * n for s, n in self.counts.items()) / total if total else None


async def survey_report(
    session: AsyncSession, actor: Actor, period: Period, organization_id: int | None = None
) -> list[SurveyRow]:
    """Ratings received in the period by organization and score (organizations without any
    rating are listed with zeros)."""
    scope = report_scope(actor, organization_id)
    await tune_for_report(session)
    orgs = select(Organization.id, Organization.code, Organization.name).order_by(Organization.id)
    if scope is not None:
        orgs = orgs.where(Organization.id == scope)
    rows = {org_id: SurveyRow(code, name) for org_id, code, name in await session.execute(orgs)}
    counts = (
        select(SurveyTask.organization_id, SurveyTask.rating, func.count())
        .where(
            SurveyTask.status == SurveyStatus.DONE,
            SurveyTask.rating.is_not(None),
            SurveyTask.answered_at >= period.start,
            SurveyTask.answered_at < period.end,
        )
        .group_by(SurveyTask.organization_id, SurveyTask.rating)
    )
    if scope is not None:
        counts = counts.where(SurveyTask.organization_id == scope)
    for org_id, rating, count in await session.execute(counts):
        if org_id in rows and rating in rows[org_id].counts:
            rows[org_id].counts[rating] += count
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "surveys",
                       {"period": period.label, "organization_id": scope})
    return list(rows.values())
