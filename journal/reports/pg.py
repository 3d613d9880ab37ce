"""Form ПГ, tables 1.1 (appeals by type and topic code) and 1.2 (complaints by reason).

Decisions (state them to whoever signs the form):
- A card counts for its *receiving* organization (`Card.receiving_organization_id`): the form
  reports the appeals each organization received. A card forwarded to another organization
  stays in the receiver's column and is never counted twice.
- A card belongs to the period of its `received_at`, in the region's local days.
- Drafts (never saved by an operator) and cancelled cards are not appeals and are left out.
- Rows follow the dated topic dictionary (`topics`): a type row (2, 3, 4, 5) counts every card
  of that type; a code counts its own cards and those of its sub-codes ("в том числе":
  3.2 includes 3.2.1 and 3.2.2).
- Table 1.2 counts complaints per reason: a complaint with two reasons counts in both rows,
  but once in a parent row that covers both (4 for 4.1 and 4.2).
- "Justified" counts complaints with `justified` true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, case, distinct, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import (
    AppealForm,
    AppealType,
    Card,
    CardComplaintReason,
    CardStatus,
    Organization,
    OrgKind,
    Topic,
    TopicKind,
)
from journal.reports.period import Period
from journal.reports.sql import tune_for_report

TOTAL = "1"  # table 1.1, row 1: all appeals (types are rows 2-5)
NOT_APPEALS = (CardStatus.DRAFT, CardStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class ReportOrg:
    """A column group of the form: the fund or one insurer."""

    id: int
    code: str
    kind: str
    name: str


@dataclass(slots=True)
class Cell:
    """Counts of one row in one organization (or in all of them)."""

    total: int = 0
    oral: int = 0
    written: int = 0
    justified: int = 0


@dataclass(slots=True)
class PgRow:
    """One line of a table: its code, title, depth (0 for a type) and cells per org id."""

    code: str
    title: str
    depth: int
    cells: dict[int, Cell] = field(default_factory=dict)
    all: Cell = field(default_factory=Cell)

    def cell(self, org_id: int) -> Cell:
        return self.cells.get(org_id, Cell())


@dataclass(frozen=True, slots=True)
class PgReport:
    period: Period
    organizations: list[ReportOrg]
    table_1_1: list[PgRow]
    table_1_2: list[PgRow]

    def row(self, table: str, code: str) -> PgRow:
        rows = self.table_1_1 if table == "1.1" else self.table_1_2
        return next(r for r in rows if r.code == code)


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split(".") if part.isdigit())


def _appeals(period: Period, org_id: int | None) -> list[Any]:
    """WHERE conditions of the cards that count in the period."""
    conditions = [
        Card.received_at >= period.start,
        Card.received_at < period.end,
        Card.status.not_in([str(s) for s in NOT_APPEALS]),
        Card.appeal_type.is_not(None),
    ]
    if org_id is not None:
        conditions.append(Card.receiving_organization_id == org_id)
    return conditions


def _topics(kind: str, period: Period) -> Select[str, str | None, str | None, str]:
    return select(Topic.code, Topic.parent_code, Topic.appeal_type, Topic.title).where(
        Topic.kind == kind,
        Topic.valid_from < period.after,
        or_(Topic.valid_to.is_(None), Topic.valid_to >= period.first),
    )


def _covers(code_col: ColumnElement[str], topic_code_col: ColumnElement[str]) -> ColumnElement[bool]:
    """The card's code is the row's code or one of its sub-codes."""
    return or_(topic_code_col == code_col, topic_code_col.like(code_col + literal(".%")))


def _justified_count(card_id_col: SQLColumnExpression[int]) -> ColumnElement[int]:
    justified = and_(Card.appeal_type == AppealType.COMPLAINT, Card.justified.is_(True))
    return func.count(distinct(case((justified, card_id_col))))


async def _table_1_1(session: AsyncSession, period: Period, org_id: int | None) -> list[tuple[Any, ...]]:
    """Counts per row code, organization and form.

    The cards are first counted per (organization, form, type, topic code): a few hundred
    groups, whatever the size of the journal. Only those groups are matched with the rows of
    the dictionary (a card matches a row once, so the groups' counts add up). The dictionary's
    rows are made distinct first: two editions valid in one period must not count a card twice.
    """
    topics = (
        select(Topic.code, Topic.appeal_type, Topic.parent_code.is_(None).label("is_type"))
        .where(Topic.kind == TopicKind.TOPIC, Topic.valid_from < period.after,
               or_(Topic.valid_to.is_(None), Topic.valid_to >= period.first))
        .distinct()
        .subquery("t")
    )
    justified = and_(Card.appeal_type == AppealType.COMPLAINT, Card.justified.is_(True))
    groups = (
        select(Card.receiving_organization_id.label("org"), Card.form.label("form"),
               Card.appeal_type.label("appeal_type"), Card.topic_code.label("topic_code"),
               func.count().label("n"), func.sum(case((justified, 1), else_=0)).label("j"))
        .where(*_appeals(period, org_id))
        .group_by(Card.receiving_organization_id, Card.form, Card.appeal_type, Card.topic_code)
        .cte("g")  # used twice: by the rows and by the total, computed once
    )
    matches = or_(
        and_(topics.c.is_type, groups.c.appeal_type == topics.c.appeal_type),
        _covers(topics.c.code, groups.c.topic_code),
    )
    by_topic = (
        select(topics.c.code, groups.c.org, groups.c.form, func.sum(groups.c.n), func.sum(groups.c.j))
        .select_from(topics)
        .join(groups, matches)
        .group_by(topics.c.code, groups.c.org, groups.c.form)
    )
    total = (
        select(literal(TOTAL), groups.c.org, groups.c.form, func.sum(groups.c.n), func.sum(groups.c.j))
        .group_by(groups.c.org, groups.c.form)
    )
    return [tuple(r) for r in (await session.execute(by_topic.union_all(total))).all()]


async def _table_1_2(session: AsyncSession, period: Period, org_id: int | None) -> list[tuple[Any, ...]]:
    """Complaints per reason row, organization and form (a complaint once per row).

    The rows of the dictionary are matched with the few distinct reason codes in use first
    (`rows`: row code → reason code it covers), so the complaints' reasons join it by
    equality instead of testing every reason against every row.
    """
    topics = _topics(TopicKind.COMPLAINT_REASON, period).subquery("t")
    used = select(CardComplaintReason.code).distinct().subquery("used")
    rows = (
        select(topics.c.code.label("row"), used.c.code.label("reason"))
        .join(used, _covers(topics.c.code, used.c.code))
        .distinct()
        .subquery("rows")
    )
    stmt = (
        select(rows.c.row, Card.receiving_organization_id, Card.form,
               func.count(distinct(Card.id)), _justified_count(Card.id))
        .select_from(rows)
        .join(CardComplaintReason, CardComplaintReason.code == rows.c.reason)
        .join(Card, Card.id == CardComplaintReason.card_id)
        .where(*_appeals(period, org_id), Card.appeal_type == AppealType.COMPLAINT)
        .group_by(rows.c.row, Card.receiving_organization_id, Card.form)
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]


def _add(cell: Cell, form: str, count: int, justified: int) -> None:
    cell.total += count
    cell.justified += justified
    if form == AppealForm.ORAL:
        cell.oral += count
    elif form == AppealForm.WRITTEN:
        cell.written += count


def _pivot(titles: Sequence[tuple[Any, ...]], counts: Sequence[tuple[Any, ...]]) -> list[PgRow]:
    """Aggregated (code, org, form, count, justified) rows into one PgRow per code."""
    rows = {code: PgRow(code, title, depth) for code, title, depth in titles}
    for code, org_id, form, count, justified in counts:
        row = rows[code]
        _add(row.cells.setdefault(org_id, Cell()), form, int(count), int(justified))
        _add(row.all, form, int(count), int(justified))
    return list(rows.values())


async def _organizations(session: AsyncSession, org_id: int | None) -> list[ReportOrg]:
    stmt = select(Organization.id, Organization.code, Organization.kind, Organization.name)
    if org_id is not None:
        stmt = stmt.where(Organization.id == org_id)
    fund_first = case((Organization.kind == OrgKind.FUND, 0), else_=1)
    rows = await session.execute(stmt.order_by(fund_first, Organization.code))
    return [ReportOrg(*r) for r in rows.all()]


async def _titles(session: AsyncSession, kind: str, period: Period) -> list[tuple[str, str, int]]:
    rows = (await session.execute(_topics(kind, period))).all()
    ordered = sorted(rows, key=lambda r: _code_key(r.code))
    return [(r.code, r.title, r.code.count(".")) for r in ordered]


async def pg_report(
    session: AsyncSession, actor: Actor, period: Period, organization_id: int | None = None
) -> PgReport:
    """Form ПГ tables 1.1 and 1.2 for the period, as the actor may see them (audited)."""
    scope = report_scope(actor, organization_id)
    await tune_for_report(session)
    titles_11 = [(TOTAL, "Всего обращений", -1), *await _titles(session, TopicKind.TOPIC, period)]
    titles_12 = await _titles(session, TopicKind.COMPLAINT_REASON, period)
    report = PgReport(
        period,
        await _organizations(session, scope),
        _pivot(titles_11, await _table_1_1(session, period, scope)),
        _pivot(titles_12, await _table_1_2(session, period, scope)),
    )
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "pg",
                       {"period": period.label, "organization_id": scope})
    return report
