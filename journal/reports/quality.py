"""Operator quality: the evaluation sheets' scores over time, per operator and per criterion.

An evaluation (`Evaluation`, the administrator's sheet on one call) has a total and a score per
criterion (`EvaluationScore`). The report gives, for each month or ISO week of the requested
period (local days of the region) and for the period as a whole, the number of evaluations and
the average score:
- per operator and in all (every operator the actor may see together);
- for the sheet's total and for each criterion.

Decisions:
- An evaluation counts in the period of its `at` (when it was made), local time.
- A week is labelled by its Monday, which may fall before the period's first day; only the
  evaluations inside the period count in it.
- An operator belongs to the organization of their user (`User.organization_id`): an
  organization's staff see their own operators only, the administrator everyone.
Every figure is a GROUP BY of the database; Python only files the aggregated rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import Evaluation, EvaluationScore, Organization, User
from journal.reports.period import Period
from journal.reports.sql import tune_for_report

TOTAL = None  # the criterion key of the sheet's total
ALL = None  # the operator key of every operator together, and the bucket key of the period


class Bucket(StrEnum):
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class Score:
    """How many evaluations and their average score."""

    count: int
    average: float | None


@dataclass(frozen=True, slots=True)
class QualityOperator:
    id: int
    name: str
    organization_code: str


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Scores keyed by (bucket start or ALL, operator id or ALL, criterion or TOTAL)."""

    period: Period
    bucket: Bucket
    buckets: list[date]
    operators: list[QualityOperator]
    criteria: list[str]
    scores: dict[tuple[date | None, int | None, str | None], Score] = field(default_factory=dict)

    def score(self, bucket: date | None = ALL, operator_id: int | None = ALL,
              criterion: str | None = TOTAL) -> Score:
        """The figure of one cell; no evaluation there is a count of 0 and no average."""
        return self.scores.get((bucket, operator_id, criterion), Score(0, None))


def _bucket_expr(bucket: Bucket, period: Period, dialect: str) -> ColumnElement[Any]:
    """The first local day of the month or ISO week of the evaluation."""
    if dialect == "postgresql":
        local = func.timezone(period.zone.key, Evaluation.at)
        return cast(func.date_trunc(str(bucket), local), Date)
    # SQLite: the zone's offset at the period start (Russian zones keep no daylight saving).
    offset = period.start.astimezone(period.zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0.0
    local = func.datetime(Evaluation.at, f"{hours:+g} hours")
    if bucket == Bucket.MONTH:
        return func.strftime("%Y-%m-01", local)
    return func.date(local, "-6 days", "weekday 1")  # the Monday on or before the day


def _query(bucket: ColumnElement[Any] | None, by_operator: bool, by_criterion: bool,
           period: Period, scope: int | None) -> Select[Any]:
    """Counts and averages grouped by the bucket, the operator and the criterion asked for."""
    keys: list[Any] = [
        (bucket if bucket is not None else literal(None)).label("bucket"),
        (Evaluation.operator_id if by_operator else literal(None)).label("operator"),
        (EvaluationScore.criterion if by_criterion else literal(None)).label("criterion"),
    ]
    value = EvaluationScore.score if by_criterion else Evaluation.total
    stmt = select(*keys, func.count(), func.avg(value)).select_from(Evaluation)
    if by_criterion:
        stmt = stmt.join(EvaluationScore, EvaluationScore.evaluation_id == Evaluation.id)
    stmt = stmt.where(Evaluation.at >= period.start, Evaluation.at < period.end)
    if scope is not None:
        stmt = stmt.join(User, User.id == Evaluation.operator_id).where(
            User.organization_id == scope)
    groups = [k for k, used in zip(keys, (bucket is not None, by_operator, by_criterion),
                                   strict=True) if used]
    return stmt.group_by(*groups) if groups else stmt


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def _operators(session: AsyncSession, period: Period, scope: int | None) -> list[QualityOperator]:
    stmt = (
        select(User.id, User.full_name, Organization.code)
        .join(Organization, Organization.id == User.organization_id)
        .where(User.id.in_(
            select(Evaluation.operator_id)
            .where(Evaluation.at >= period.start, Evaluation.at < period.end)
        ))
        .order_by(Organization.code, User.full_name, User.id)
    )
    if scope is not None:
        stmt = stmt.where(User.organization_id == scope)
    return [QualityOperator(*r) for r in (await session.execute(stmt)).all()]


async def quality_report(
    session: AsyncSession,
    actor: Actor,
    period: Period,
    organization_id: int | None = None,
    *,
    bucket: Bucket = Bucket.MONTH,
) -> QualityReport:
    """Evaluation counts and average scores of the period, as the actor may see them (audited)."""
    scope = report_scope(actor, organization_id)
    await tune_for_report(session)
    bucket = Bucket(bucket)
    expr = _bucket_expr(bucket, period, session.get_bind().dialect.name)
    scores: dict[tuple[date | None, int | None, str | None], Score] = {}
    for by_bucket in (True, False):
        for by_operator in (True, False):
            for by_criterion in (True, False):
                stmt = _query(expr if by_bucket else None, by_operator, by_criterion, period, scope)
                for b, op, criterion, count, average in (await session.execute(stmt)).all():
                    if count:
                        avg = None if average is None else round(float(average), 2)
                        scores[(_day(b), op, criterion)] = Score(int(count), avg)
    report = QualityReport(
        period=period,
        bucket=bucket,
        buckets=sorted({k[0] for k in scores if k[0] is not None}),
        operators=await _operators(session, period, scope),
        criteria=sorted({k[2] for k in scores if k[2] is not None}),
        scores=scores,
    )
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "quality",
                       {"period": period.label, "organization_id": scope, "by": str(bucket)})
    return report
