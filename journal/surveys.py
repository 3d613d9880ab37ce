"""Surveys of citizens on the results (issue #6): one survey task per done card, ever.

`schedule_for_done_cards` turns cards completed recently (a "complete" row in the card's
history within the look-back) into survey tasks, for the organizations whose survey mode is
not "off" (the modes come in as a mapping: the journal does not read the service's config).
The database's unique constraint on `card_id` makes scheduling idempotent, also between two
schedulers running at once (INSERT ... ON CONFLICT DO NOTHING).

IVR tasks are dialled by `hotline.surveys.service`: `due_tasks` → `record_attempt` (attempts + 1, the
next try `retry_after` later) until a rating arrives or `max_attempts` is reached
(`expire_exhausted` → failed). Operator tasks are never dialled: operators see them in
`operator_tasks` and store the rating with `record_rating` like the IVR does.

A rating is stored on the task (the card's satellite row, 1-5) and written to the card's
history and the audit log; the card row itself is not touched, so its version does not move
and an operator editing the card at that moment is not interrupted by a Conflict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import visible_cards
from journal.actors import Actor
from journal.errors import InvalidInput, NotFound
from journal.models import (
    Card,
    CardHistory,
    CardStatus,
    Organization,
    SurveyMode,
    SurveyStatus,
    SurveyTask,
)

SURVEY_ACTOR = Actor.system("survey")
LOWEST, HIGHEST = 1, 5
DEFAULT_LOOKBACK = timedelta(days=3)
OPEN = (SurveyStatus.PENDING, SurveyStatus.DIALING)


async def schedule_for_done_cards(
    session: AsyncSession,
    modes: Mapping[str, str],
    now: datetime,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> int:
    """Insert a survey task for every card done within `lookback` of an organization whose mode
    (organization code → "off" | "ivr" | "operator") is not off, with an applicant's phone and no
    task yet. Returns how many were inserted. Anonymous appeals are not surveyed."""
    wanted = {code: mode for code, mode in modes.items() if mode in set(SurveyMode)}
    if not wanted:
        return 0
    completed = exists().where(
        CardHistory.card_id == Card.id,
        CardHistory.action == audit.AuditAction.COMPLETE,
        CardHistory.at >= now - lookback,
    )
    has_task = exists().where(SurveyTask.card_id == Card.id)
    rows = (await session.execute(
        select(Card.id, Card.organization_id, Card.applicant_phone, Organization.code)
        .join(Organization, Organization.id == Card.organization_id)
        .where(
            Card.status == CardStatus.DONE,
            Card.applicant_phone.is_not(None),
            Card.applicant_phone != "",
            Card.anonymous.is_(False),
            Organization.code.in_(wanted),
            completed,
            ~has_task,
        )
        .order_by(Card.id)
    )).all()
    if not rows:
        return 0
    values = [
        {
            "card_id": card_id, "organization_id": org_id, "mode": wanted[code], "phone": phone,
            "status": SurveyStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "created_at": now,
        }
        for card_id, org_id, phone, code in rows
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(SurveyTask).values(values).on_conflict_do_nothing(index_elements=["card_id"])
    )
    return max(cast("CursorResult[Any]", result).rowcount or 0, 0)


async def due_tasks(
    session: AsyncSession, now: datetime, max_attempts: int, *, limit: int = 100
) -> list[SurveyTask]:
    """IVR tasks whose next attempt is due (pending, or dialled without a rating since)."""
    return list(await session.scalars(
        select(SurveyTask)
        .where(
            SurveyTask.mode == SurveyMode.IVR,
            SurveyTask.status.in_(OPEN),
            SurveyTask.next_attempt_at <= now,
            SurveyTask.attempts < max_attempts,
        )
        .order_by(SurveyTask.next_attempt_at, SurveyTask.id)
        .limit(limit)
    ))


async def expire_exhausted(session: AsyncSession, now: datetime, max_attempts: int) -> int:
    """IVR tasks whose last attempt brought no rating within its retry pause become failed."""
    result = await session.execute(
        update(SurveyTask)
        .where(
            SurveyTask.mode == SurveyMode.IVR,
            SurveyTask.status.in_(OPEN),
            SurveyTask.attempts >= max_attempts,
            SurveyTask.next_attempt_at <= now,
        )
        .values(status=SurveyStatus.FAILED)
    )
    return max(cast("CursorResult[Any]", result).rowcount or 0, 0)


def record_attempt(task: SurveyTask, now: datetime, retry_after: timedelta) -> None:
    """A call is being placed: count it; the next one is due `retry_after` later."""
    task.attempts += 1
    task.status = SurveyStatus.DIALING
    task.next_attempt_at = now + retry_after


def record_failure(task: SurveyTask) -> None:
    """The task cannot be dialled at all (no usable number)."""
    task.status = SurveyStatus.FAILED


async def _task(session: AsyncSession, task_id: int, card_id: int | None) -> SurveyTask:
    task = await session.get(SurveyTask, task_id, with_for_update=True)
    if task is None or (card_id is not None and task.card_id != card_id):
        raise NotFound("Опрос не найден", survey_id=task_id)
    return task


async def record_rating(
    session: AsyncSession,
    task_id: int,
    rating: int,
    now: datetime,
    *,
    card_id: int | None = None,
    actor: Actor = SURVEY_ACTOR,
) -> bool:
    """Store the citizen's rating (1-5) on the survey task, with a card-history row and an audit
    entry. False (nothing written) if the survey already has its answer: one per card."""
    if not LOWEST <= rating <= HIGHEST:
        raise InvalidInput(f"Оценка от {LOWEST} до {HIGHEST}", field="rating")
    task = await _task(session, task_id, card_id)
    if task.status == SurveyStatus.DONE:
        return False
    if not actor.is_system and await session.scalar(
        visible_cards(actor).with_only_columns(Card.id).where(Card.id == task.card_id)
    ) is None:
        raise NotFound("Опрос не найден", survey_id=task.id)
    old = task.status
    task.rating = rating
    task.answered_at = now
    task.status = SurveyStatus.DONE
    session.add(CardHistory(
        card_id=task.card_id, at=now, user_id=actor.user_id, action=audit.AuditAction.SURVEY,
        changes={"survey_rating": [None, rating], "survey_status": [old, SurveyStatus.DONE]},
        comment=f"Опрос ({task.mode}), попыток: {task.attempts}",
    ))
    await audit.record(session, actor, audit.AuditAction.SURVEY, "card", task.card_id,
                       {"survey_id": task.id, "rating": rating, "mode": task.mode}, at=now)
    await session.flush()
    return True


async def record_refusal(
    session: AsyncSession, task_id: int, now: datetime, *, card_id: int | None = None
) -> bool:
    """The citizen answered the survey call and gave no rating: no more attempts."""
    task = await _task(session, task_id, card_id)
    if task.status not in OPEN:
        return False
    task.status = SurveyStatus.REFUSED
    task.answered_at = now
    await session.flush()
    return True


async def operator_tasks(
    session: AsyncSession, actor: Actor, *, limit: int = 200
) -> Sequence[SurveyTask]:
    """Operator-mode surveys waiting for a call, of the cards the actor sees (audited: phones)."""
    cards = visible_cards(actor).with_only_columns(Card.id)
    rows = list(await session.scalars(
        select(SurveyTask)
        .where(and_(SurveyTask.mode == SurveyMode.OPERATOR, SurveyTask.status.in_(OPEN),
                    SurveyTask.card_id.in_(cards)))
        .order_by(SurveyTask.created_at, SurveyTask.id)
        .limit(limit)
    ))
    await audit.record(session, actor, audit.AuditAction.LIST, "survey", None,
                       {"survey_ids": [r.id for r in rows]})
    return rows
