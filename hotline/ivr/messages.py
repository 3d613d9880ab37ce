"""A message left to the secretary, in the journal: the call's card and a callback task.

The card is the call's own (`create_for_call` is idempotent on the PBX call id, so it is the
one the call tracker created at arrival, or this creates it first with the channel
"electronic secretary"). The recording is not written here: the dialplan's hangup handler
reports it (UserEvent HotlineMessage) and the call tracker links it, as on the plain-dialplan
path. This side adds only what the tracker cannot know: the confirmed callback number and the
callback task due the next working morning.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Line
from hotline.ivr.engine import MessageTaken
from hotline.callbacks.messages import ensure_callback
from journal.actors import Actor
from journal.calendar import ProductionCalendar
from journal.cards import DEFAULT_RULES, CardRules, create_for_call
from journal.db import unit_of_work
from journal.models import CallbackTask, Channel

log = structlog.get_logger(__name__)

IVR = Actor.system("ivr")


async def register_message(
    sessions: async_sessionmaker[AsyncSession],
    line: Line,
    cal: ProductionCalendar,
    *,
    pbx_call_id: str,
    message: MessageTaken,
    within: timedelta,
    rules: CardRules = DEFAULT_RULES,
) -> CallbackTask | None:
    """The call's card marked as a secretary message, with its callback task (None when the
    citizen left no usable number, or the task exists already)."""
    async with unit_of_work(sessions) as session:
        card = await create_for_call(
            session, IVR, pbx_call_id=pbx_call_id, received_at=message.started_at,
            line=line.number, caller_number=message.caller_number, channel=Channel.SECRETARY,
            rules=rules,
        )
        return await ensure_callback(
            session, card, line=line, cal=cal, number=message.callback_number
            or message.caller_number, within=within, rules=rules, actor=IVR,
        )


