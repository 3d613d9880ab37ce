"""Deadlines (59-ФЗ): open cards overdue or due soon, deferred answers not yet called back.

A card counts for the organization that has it under consideration now
(`Card.organization_id`): that is who must answer. Only card numbers, types and dates are
listed, no applicant data; the list is still audited as an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import CallbackStatus, CallbackTask, Card, CardStatus, Organization
from journal.reports.sql import tune_for_report

OPEN_STATUSES = (CardStatus.DRAFT, CardStatus.IN_WORK)
NOT_CALLED_BACK = (CallbackStatus.PENDING, CallbackStatus.DIALING, CallbackStatus.FAILED)


@dataclass(frozen=True, slots=True)
class DueCard:
    card_id: int
    number: str
    appeal_type: str | None
    status: str
    due_date: date
    overdue: bool


@dataclass(frozen=True, slots=True)
class PendingCallback:
    task_id: int
    card_number: str
    due_at: datetime
    status: str
    overdue: bool


@dataclass(slots=True)
class OrgDeadlines:
    """What one organization must do: cards by due date, callbacks by due time."""

    organization_id: int
    organization_code: str
    cards: list[DueCard] = field(default_factory=list)
    callbacks: list[PendingCallback] = field(default_factory=list)

    @property
    def overdue_cards(self) -> int:
        return sum(1 for c in self.cards if c.overdue)

    @property
    def overdue_callbacks(self) -> int:
        return sum(1 for c in self.callbacks if c.overdue)


async def deadlines(
    session: AsyncSession,
    actor: Actor,
    today: date,
    now: datetime,
    *,
    within_days: int = 3,
    organization_id: int | None = None,
) -> list[OrgDeadlines]:
    """Per organization: open cards due by `today + within_days` and callbacks not yet made."""
    scope = report_scope(actor, organization_id)
    await tune_for_report(session)
    limit = today + timedelta(days=within_days)
    cards = (
        select(Card.organization_id, Organization.code, Card.id, Card.number, Card.appeal_type,
               Card.status, Card.due_date, case((Card.due_date < today, True), else_=False))
        .join(Organization, Organization.id == Card.organization_id)
        .where(Card.status.in_([str(s) for s in OPEN_STATUSES]), Card.due_date <= limit)
        .order_by(Organization.code, Card.due_date, Card.id)
    )
    callbacks = (
        select(Card.organization_id, Organization.code, CallbackTask.id, Card.number,
               CallbackTask.due_at, CallbackTask.status,
               case((CallbackTask.due_at < now, True), else_=False))
        .join(Card, Card.id == CallbackTask.card_id)
        .join(Organization, Organization.id == Card.organization_id)
        .where(CallbackTask.status.in_([str(s) for s in NOT_CALLED_BACK]))
        .order_by(Organization.code, CallbackTask.due_at, CallbackTask.id)
    )
    if scope is not None:
        cards = cards.where(Card.organization_id == scope)
        callbacks = callbacks.where(Card.organization_id == scope)
    out: dict[int, OrgDeadlines] = {}
    for org_id, code, *rest in (await session.execute(cards)).all():
        out.setdefault(org_id, OrgDeadlines(org_id, code)).cards.append(
            DueCard(rest[0], rest[1], rest[2], rest[3], rest[4], bool(rest[5])))
    for org_id, code, *rest in (await session.execute(callbacks)).all():
        out.setdefault(org_id, OrgDeadlines(org_id, code)).callbacks.append(
            PendingCallback(rest[0], rest[1], rest[2], rest[3], bool(rest[4])))
    result = sorted(out.values(), key=lambda o: o.organization_code)
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "deadlines", {
        "within_days": within_days, "organization_id": scope,
        "card_ids": [c.card_id for o in result for c in o.cards],
    })
    return result


