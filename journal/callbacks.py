"""Callback tasks (отложенный ответ, обратный звонок) as the operators see them.

A task is visible exactly when its card is (`journal.access.visible_cards`): forwarding a card
moves its pending callbacks with it. Lists show citizens' numbers, so they are audited in the
caller's transaction like card lists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import visible_cards
from journal.actors import Actor
from journal.errors import InvalidInput, InvalidTransition, NotFound
from journal.models import AuditEntry, CallbackStatus, CallbackTask, Card

MAX_CALLBACKS = 500
PBX = Actor.system("pbx")
# The operator's phone rings for up to a minute before the citizen is dialled.
REDIAL_AFTER = timedelta(minutes=1)


def _visible(actor: Actor):  # noqa: ANN202 - a SELECT of CallbackTask
    cards = visible_cards(actor).with_only_columns(Card.id)
    return select(CallbackTask).where(CallbackTask.card_id.in_(cards))


async def list_callbacks(
    session: AsyncSession, actor: Actor, *, status: str | None = CallbackStatus.PENDING,
    limit: int = 200, assigned_user_id: int | None = None,
) -> list[CallbackTask]:
    """Visible callback tasks, soonest due first; `status=None` means every status.

    `assigned_user_id` narrows the list to one operator's tasks ("мои обратные звонки"); it
    can only narrow what the actor sees, never widen it.
    """
    if status is not None and status not in set(CallbackStatus):
        raise InvalidInput(f"Неизвестный статус обратного звонка «{status}»", field="status")
    if not 1 <= limit <= MAX_CALLBACKS:
        raise InvalidInput(f"Размер списка от 1 до {MAX_CALLBACKS}", field="limit")
    stmt = _visible(actor)
    if status is not None:
        stmt = stmt.where(CallbackTask.status == status)
    if assigned_user_id is not None:
        stmt = stmt.where(CallbackTask.assigned_user_id == assigned_user_id)
    rows = list(await session.scalars(stmt.order_by(CallbackTask.due_at, CallbackTask.id).limit(limit)))
    await audit.record(session, actor, audit.AuditAction.LIST, "callback", None,
                       {"status": status, "assigned_user_id": assigned_user_id,
                        "callback_ids": [r.id for r in rows]})
    return rows


async def get_callback_for(session: AsyncSession, actor: Actor, callback_id: int) -> CallbackTask:
    task = await session.scalar(_visible(actor).where(CallbackTask.id == callback_id))
    if task is None:
        raise NotFound("Обратный звонок не найден", callback_id=callback_id)
    return task


async def note_attempt(
    session: AsyncSession, actor: Actor, task: CallbackTask, *, now: datetime | None = None
) -> None:
    """An operator pressed «Позвонить»: one more attempt, audited. The task stays pending
    until a callback call reaches the citizen (`complete_by_call`), so a phone nobody picks
    up never leaves it stuck; a second press within `REDIAL_AFTER` is refused."""
    if task.status != CallbackStatus.PENDING:
        raise InvalidTransition("Этот обратный звонок уже не ожидает набора")
    since = (now or datetime.now(UTC)) - REDIAL_AFTER
    dialled = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "callback_dial", AuditEntry.object_type == "callback",
            AuditEntry.object_id == str(task.id), AuditEntry.at >= since,
        ).limit(1)
    )
    if dialled is not None:  # a double click, or a colleague at the same moment
        raise InvalidTransition("Обратный звонок уже набирается: повторить можно через минуту")
    task.attempts = (task.attempts or 0) + 1
    await audit.record(session, actor, "callback_dial", "callback", task.id,
                       {"card_id": task.card_id, "attempt": task.attempts})


async def complete_by_call(
    session: AsyncSession, *, card_id: int, call_id: int, at: datetime
) -> CallbackTask | None:
    """A callback call of the card reached the citizen: its oldest pending task is done, with
    the call as the result (None when the card had no pending task)."""
    task = await session.scalar(
        select(CallbackTask)
        .where(CallbackTask.card_id == card_id, CallbackTask.status == CallbackStatus.PENDING)
        .order_by(CallbackTask.due_at, CallbackTask.id)
        .limit(1)
        .with_for_update()
    )
    if task is None:
        return None
    task.status = CallbackStatus.DONE.value
    task.done_at = at
    task.result_call_id = call_id
    await audit.record(session, PBX, "callback_done", "callback", task.id,
                       {"card_id": card_id, "call_id": call_id})
    return task
