"""Key 1 in the queue: «оператор вам перезвонит» instead of waiting (issue #19).

After `[lines.queue] callback_after` seconds in a level-1 queue the caller hears the offer
(app_queue's periodic announcement); key 1 leaves the queue for `hotline-queue-exit`, whose
FastAGI script `queue-callback` runs here: the secretary's number dialog (the caller's own
number read back and confirmed, or another typed), then when to expect the call (within the
hour while operators are on duty, else in working hours, with the line's hours). The callback
task is written at once for the line's organization and level 1, marked `origin="queue"` with
the moment the caller left (`HOTLINE_QLEFT`), and the organization's workspaces are told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Line
from hotline.ivr.engine import SOUNDS, Channel, LineContext, Secretary, usable_number
from hotline.callbacks.messages import callback_due
from hotline.ivr.messages import IVR
from hotline.ivr.schema import SecretaryScript
from journal.calendar import ProductionCalendar
from journal.cards import CardRules, create_for_call, defer
from journal.db import unit_of_work
from journal.models import CallbackTask, Channel as CardChannel

QUEUE_ORIGIN = "queue"
CALLBACK_NOTE = "Гражданин не стал ждать в очереди и попросил перезвонить"
WITHIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class QueueCallbackAsked:
    number: str | None
    left_at: datetime
    steps: tuple[str, ...]


async def run_dialog(
    script: SecretaryScript, line: LineContext, channel: Channel, clock: Callable[[], datetime],
    *, within_hour: bool,
) -> QueueCallbackAsked:
    """The number dialog, then «оператор перезвонит вам в течение часа / в рабочее время»."""
    secretary = Secretary(script, line, channel, clock)
    caller = usable_number(channel.env.get("agi_callerid"))
    left = clock()
    number = await secretary._callback_number(caller)  # noqa: SLF001 - the same dialog
    await channel.stream(f"{SOUNDS}/queue-callback-ok")
    await channel.stream(f"{SOUNDS}/queue-callback-{'hour' if within_hour else 'workday'}")
    if not within_hour:
        for segment in line.hours:
            await channel.stream(f"{SOUNDS}/{segment.prompt}")
    await channel.stream(f"{SOUNDS}/{script.goodbye[0]}" if script.goodbye else f"{SOUNDS}/queue-stay")
    return QueueCallbackAsked(number, left, tuple(secretary.outcome.steps))


async def register_queue_callback(
    sessions: async_sessionmaker[AsyncSession], line: Line, cal: ProductionCalendar, *,
    pbx_call_id: str, caller_number: str | None, number: str, left_at: datetime,
    received_at: datetime, rules: CardRules,
) -> CallbackTask:
    """The call's card with a level-1 callback task asked from the queue, due within the
    hour of operator time (the line's hours and the production calendar)."""
    async with unit_of_work(sessions) as session:
        card = await create_for_call(
            session, IVR, pbx_call_id=pbx_call_id, received_at=received_at, line=line.number,
            caller_number=caller_number, channel=CardChannel.HOTLINE, rules=rules,
        )
        due = callback_due(line, cal, rules.now(), WITHIN)
        task = await defer(session, IVR, card.id, contact_phone=number, callback_due_at=due,
                           note=CALLBACK_NOTE, rules=rules)
        task.origin = QUEUE_ORIGIN
        task.asked_at = left_at
        await session.flush()
        return task
