"""Calls, cards and callbacks written straight into the journal for the reports' tests, at local times of the region."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from journal.models import Call, CallbackTask, Card, CardComplaintReason

ZONE = ZoneInfo("Asia/Barnaul")  # UTC+7, the example region of config/hotline.toml


_seq = itertools.count(1)


def local(*args: int) -> datetime:
    """A wall-clock moment of the region as an aware datetime."""
    return datetime(*args, tzinfo=ZONE)


async def add_card(
    session: AsyncSession,
    orgs: dict[str, int],
    receiver: str,
    *,
    received: datetime,
    appeal_type: str | None,
    form: str = "oral",
    topic: str | None = None,
    reasons: tuple[str, ...] = (),
    justified: bool | None = None,
    status: str = "done",
    holder: str | None = None,
    due: date | None = None,
) -> Card:
    """A card received by `receiver`, now under consideration at `holder` (default: the same)."""
    n = next(_seq)
    now = datetime.now(UTC)
    card = Card(
        number=f"R-{n}", year=received.year, sequence=n,
        receiving_organization_id=orgs[receiver], organization_id=orgs[holder or receiver],
        received_at=received, registered_at=received, channel="hotline", form=form,
        appeal_type=appeal_type, topic_code=topic, justified=justified, status=status,
        due_date=due, created_at=now, updated_at=now,
        forwarded_at=now if holder else None,
    )
    session.add(card)
    await session.flush()
    for code in reasons:
        session.add(CardComplaintReason(card_id=card.id, code=code))
    await session.flush()
    return card


async def add_call(session: AsyncSession, orgs: dict[str, int], org: str, line: str,
                   started: datetime, outcome: str, **kwargs: Any) -> Call:
    n = next(_seq)
    talk = kwargs.get("talk_seconds") or 0
    call = Call(
        pbx_call_id=f"pbx-{n}", direction="in", line_number=line, organization_id=orgs[org],
        caller_number=f"+7913000{n:04d}", started_at=started,
        ended_at=started + timedelta(seconds=(kwargs.get("queue_wait_seconds") or 0) + talk + 5),
        outcome=outcome, **kwargs,
    )
    session.add(call)
    await session.flush()
    return call


async def add_callback(session: AsyncSession, card: Card, *, due: datetime, status: str,
                       done: datetime | None = None) -> CallbackTask:
    task = CallbackTask(
        card_id=card.id, organization_id=card.organization_id, contact_phone="+79130000000",
        due_at=due, status=status, attempts=1 if done else 0, created_at=due - timedelta(hours=1),
        done_at=done,
    )
    session.add(task)
    await session.flush()
    return task

