"""A message left to the secretary gets one callback task on its card, due when operators are
next on duty. Used by the FastAGI secretary and by the journal writer (the plain-dialplan
secretary works with the service down), so either way the card gets its callback."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.config import Line
from hotline.modes.schedule import next_operator_interval
from journal.actors import Actor
from journal.calendar import ProductionCalendar
from journal.cards import DEFAULT_RULES, CardRules, defer, save
from journal.models import CallbackStatus, CallbackTask, Card, Channel

log = structlog.get_logger(__name__)

SECRETARY_CONTENT = "Сообщение автосекретарю"
CALLBACK_NOTE = "Перезвонить по сообщению, оставленному автосекретарю"


def callback_due(
    line: Line, cal: ProductionCalendar, now: datetime, within: timedelta
) -> datetime:
    """When to call back: the line's first operator hour of the next working period (Friday
    evening → Monday 08:30; before a holiday → the first working day after it). If operators
    are on duty now (a 24/7 line, a queue nobody answered), `within` from now, unless that
    falls after today's closing time."""
    interval = next_operator_interval(line, cal, now)
    if interval is None:
        return now + within
    if interval.start > now:
        return interval.start
    due = now + within
    if due <= interval.end:
        return due
    following = next_operator_interval(line, cal, interval.end)
    return following.start if following is not None else due


async def ensure_callback(
    session: AsyncSession,
    card: Card,
    *,
    line: Line,
    cal: ProductionCalendar,
    number: str | None,
    within: timedelta,
    rules: CardRules = DEFAULT_RULES,
    actor: Actor,
) -> CallbackTask | None:
    """The secretary message's callback task on `card`, unless one is pending already.

    Used by the FastAGI secretary and by the journal writer (for the plain-dialplan secretary
    that works with the service down), so either way the card gets one morning callback.
    """
    if await _has_callback(session, card.id):
        return None
    if card.channel != Channel.SECRETARY and not card.content:
        # The tracker created the card as a hotline call and the lifecycle has no way to
        # change a channel: the history says it is a secretary message instead.
        card = await save(
            session, actor, card.id, {"content": SECRETARY_CONTENT}, card.version, rules=rules
        )
    if number is None:
        log.warning("secretary message without a callback number", card=card.number)
        return None
    due = callback_due(line, cal, rules.now(), within)
    task = await defer(
        session, actor, card.id, contact_phone=number, callback_due_at=due,
        note=CALLBACK_NOTE, rules=rules,
    )
    log.info("secretary message registered", card=card.number, callback_due_at=due.isoformat())
    return task


async def _has_callback(session: AsyncSession, card_id: int) -> bool:
    found = await session.scalar(
        select(CallbackTask.id).where(
            CallbackTask.card_id == card_id, CallbackTask.status == CallbackStatus.PENDING
        )
    )
    return found is not None

