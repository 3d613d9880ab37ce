"""The journal's people (a user of each role and organization), cards made for them, and reading back the audit and history rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.actors import Actor
from journal.models import AuditEntry, Card, CardHistory


@dataclass(frozen=True)
class People:
    """Organizations of config/hotline.toml and one actor per role that matters."""

    orgs: dict[str, int]
    admin: Actor  # the contact center's administrator (at the fund)
    sysadmin: Actor
    system: Actor  # the telephony integration
    tfoms_op: Actor
    sogaz_op: Actor
    sogaz_op2: Actor  # a level-2 colleague in the same insurer
    kapital_op: Actor


def recently(minutes: int = 5) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


MakeCard = Callable[..., Awaitable[Card]]


async def count(sessions: async_sessionmaker[AsyncSession], model: type, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def audit_rows(
    sessions: async_sessionmaker[AsyncSession], card_id: int | None = None
) -> list[AuditEntry]:
    async with sessions() as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if card_id is not None:
            stmt = stmt.where(AuditEntry.object_type == "card", AuditEntry.object_id == str(card_id))
        return list(await session.scalars(stmt))


async def history_rows(sessions: async_sessionmaker[AsyncSession], card_id: int) -> list[CardHistory]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(CardHistory).where(CardHistory.card_id == card_id).order_by(CardHistory.id)
            )
        )

