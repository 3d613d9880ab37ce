"""Callback tasks (отложенный ответ, обратный звонок) as the operators see them.

A task is visible exactly when its card is (`journal.access.visible_cards`): forwarding a card
moves its pending callbacks with it. Lists show citizens' numbers, so they are audited in the
caller's transaction like card lists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import visible_cards
from journal.actors import Actor
from journal.errors import InvalidInput, NotFound
from journal.models import CallbackStatus, CallbackTask, Card

MAX_CALLBACKS = 500


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
