"""Callback tasks (отложенный ответ, обратный звонок) as the operators see them.

A task is visible exactly when its card is (`journal.access.visible_cards`): forwarding a card
moves its pending callbacks with it. Lists show citizens' numbers, so they are audited in the
caller's transaction like card lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import reads_cards, visible_cards
from journal.actors import Actor
from journal.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from journal.models import AuditEntry, Call, CallbackStatus, CallbackTask, Card, Line, Role, User
from journal.clock import utc_now

MAX_CALLBACKS = 500
PBX = Actor.system("pbx")
# The operator's phone rings for up to a minute before the citizen is dialled.
REDIAL_AFTER = timedelta(minutes=1)


def _visible(actor: Actor) -> Select[CallbackTask]:
    cards = visible_cards(actor).with_only_columns(Card.id)
    return select(CallbackTask).where(CallbackTask.card_id.in_(cards))


async def list_callbacks(
    session: AsyncSession, actor: Actor, *, status: str | None = CallbackStatus.PENDING,
    limit: int = 200, assigned_user_id: int | None = None,
) -> list[CallbackTask]:
    """Visible callback tasks, soonest due first; `status=None` means every status.

    `assigned_user_id` narrows the list to one operator's tasks ("мои обратные звонки"); it
    can only narrow what the actor sees, never widen it. A role that reads no personal data
    (the citizen's phone and name) is refused (403).
    """
    if not reads_cards(actor):
        raise Forbidden("Вашей роли не доступны обратные звонки: в них персональные данные")
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


async def callback_queue(
    session: AsyncSession, actor: Actor, *, limit: int = 200
) -> list[CallbackTask]:
    """The morning's queue (очередь обратных звонков): the pending callbacks nobody has taken
    yet, of the operator's organization (as they see its cards) and level (the card's
    responsible level; a secretary message is level 1's), the most overdue first.

    Audited like any list of citizens' numbers.
    """
    if actor.role != Role.OPERATOR:
        return []
    if not 1 <= limit <= MAX_CALLBACKS:
        raise InvalidInput(f"Размер списка от 1 до {MAX_CALLBACKS}", field="limit")
    level = actor.level or 1
    stmt = (
        _visible(actor)
        .join(Card, Card.id == CallbackTask.card_id)
        .where(CallbackTask.status == CallbackStatus.PENDING,
               CallbackTask.assigned_user_id.is_(None),
               func.coalesce(Card.responsible_level, 1) == level)
        .order_by(CallbackTask.due_at, CallbackTask.id)
        .limit(limit)
    )
    rows = list(await session.scalars(stmt))
    await audit.record(session, actor, audit.AuditAction.LIST, "callback", None,
                       {"queue": True, "level": level, "callback_ids": [r.id for r in rows]})
    return rows


async def get_callback_for(
    session: AsyncSession, actor: Actor, callback_id: int, *, lock: bool = False
) -> CallbackTask:
    """A callback the actor may see; `lock`: held until commit (taking and dialling one)."""
    stmt = _visible(actor).where(CallbackTask.id == callback_id)
    if lock:
        stmt = stmt.with_for_update(of=CallbackTask).execution_options(populate_existing=True)
    task = await session.scalar(stmt)
    if task is None:
        raise NotFound("Обратный звонок не найден", callback_id=callback_id)
    return task


async def _holder(session: AsyncSession, task: CallbackTask) -> str:
    name = await session.scalar(select(User.full_name).where(User.id == task.assigned_user_id))
    return name or "другой оператор"


async def take(session: AsyncSession, actor: Actor, callback_id: int) -> CallbackTask:
    """An operator takes a callback from the queue: it becomes theirs («Мои обратные
    звонки»). One taker: the row is locked, a task someone else took is refused."""
    task = await get_callback_for(session, actor, callback_id, lock=True)
    if task.status != CallbackStatus.PENDING:
        raise InvalidTransition("Этот обратный звонок уже не ожидает набора")
    if task.assigned_user_id not in (None, actor.user_id):
        raise Conflict(f"Этот обратный звонок уже взял(а) {await _holder(session, task)}",
                       callback_id=task.id)
    if task.assigned_user_id is None:
        task.assigned_user_id = actor.user_id
        await audit.record(session, actor, "callback_take", "callback", task.id,
                           {"card_id": task.card_id})
    return task


async def dialling_now(
    session: AsyncSession, task_ids: Sequence[int], *, now: datetime | None = None
) -> dict[int, int | None]:
    """The tasks whose «Позвонить» was pressed within `REDIAL_AFTER` (being dialled now),
    with who pressed it: the lists show them as «набирается», with no button."""
    if not task_ids:
        return {}
    since = (now or utc_now()) - REDIAL_AFTER
    rows = await session.execute(
        select(AuditEntry.object_id, AuditEntry.user_id).where(
            AuditEntry.action == "callback_dial", AuditEntry.object_type == "callback",
            AuditEntry.object_id.in_([str(i) for i in task_ids]), AuditEntry.at >= since,
        )
    )
    return {int(object_id): user_id for object_id, user_id in rows if object_id is not None}


async def zones_of(session: AsyncSession, tasks: Sequence[CallbackTask]) -> dict[int, str]:
    """The time zone of each task's line (the card's call's line, else its organization's
    first line): due times are shown as the line's region reads them."""
    card_ids = {t.card_id for t in tasks}
    if not card_ids:
        return {}
    by_call = dict((await session.execute(
        select(Call.card_id, func.min(Line.timezone))
        .join(Line, Line.number == Call.line_number)
        .where(Call.card_id.in_(card_ids)).group_by(Call.card_id)
    )).all())
    by_org = dict((await session.execute(
        select(Line.organization_id, func.min(Line.timezone)).group_by(Line.organization_id)
    )).all())
    return {t.id: by_call.get(t.card_id) or by_org.get(t.organization_id) or "" for t in tasks}


async def note_attempt(
    session: AsyncSession, actor: Actor, task: CallbackTask, *, now: datetime | None = None
) -> None:
    """An operator pressed «Позвонить»: one more attempt, audited. The task stays pending
    until a callback call reaches the citizen (`complete_by_call`), so a phone nobody picks
    up never leaves it stuck; a second press within `REDIAL_AFTER` is refused, whoever makes
    it. The task is locked to one operator: a queued one becomes the dialler's, one taken by
    someone else is refused. Pass a task read with `lock=True` (two presses at once wait)."""
    if task.status != CallbackStatus.PENDING:
        raise InvalidTransition("Этот обратный звонок уже не ожидает набора")
    if task.assigned_user_id not in (None, actor.user_id) and actor.role == Role.OPERATOR:
        raise Conflict(f"Этот обратный звонок взял(а) {await _holder(session, task)}: "
                       "звонит он(а)", callback_id=task.id)
    since = (now or utc_now()) - REDIAL_AFTER
    dialled = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "callback_dial", AuditEntry.object_type == "callback",
            AuditEntry.object_id == str(task.id), AuditEntry.at >= since,
        ).limit(1)
    )
    if dialled is not None:  # a double click, or a colleague at the same moment
        raise InvalidTransition("Обратный звонок уже набирается: повторить можно через минуту")
    if task.assigned_user_id is None and actor.role == Role.OPERATOR:
        task.assigned_user_id = actor.user_id  # dialling a queued task takes it
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
