"""Modes and overrides in the journal's database.

The database is where an administrator's override lives (the CLI and the web write it there;
the running service picks it up), and where every switch is kept with its reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.modes.schedule import MODES, Override
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.models import LineMode, ModeOverride, User


async def store_switch(
    sessions: async_sessionmaker[AsyncSession],
    line: str,
    mode: str,
    reason_code: str,
    reason_text: str,
    at: datetime,
) -> None:
    """Keep one switch of a line's mode (what was written to the PBX, and why)."""
    async with unit_of_work(sessions) as session:
        session.add(
            LineMode(
                line_number=line,
                mode=mode,
                at=at,
                reason_code=reason_code,
                reason_text=reason_text[:300],
            )
        )


async def last_switches(session: AsyncSession) -> dict[str, LineMode]:
    """The latest stored switch of every line."""
    newest = select(func.max(LineMode.id)).group_by(LineMode.line_number)
    rows = await session.scalars(select(LineMode).where(LineMode.id.in_(newest)))
    return {row.line_number: row for row in rows}


async def add_override(
    sessions: async_sessionmaker[AsyncSession],
    *,
    line: str,
    mode: str,
    until: datetime,
    now: datetime,
    set_by: str,
    reason: str = "",
) -> ModeOverride:
    """Record an administrator's override; earlier ones of the line are cancelled."""
    if mode not in MODES:
        raise InvalidInput(f"Неизвестный режим «{mode}»: operator или secretary")
    if until.tzinfo is None or until <= now:
        raise InvalidInput("Время окончания ручного режима должно быть в будущем")
    async with unit_of_work(sessions) as session:
        for earlier in await _active(session, line, now):
            earlier.cancelled_at = now
        user_id = await session.scalar(select(User.id).where(User.login == set_by))
        row = ModeOverride(
            line_number=line,
            mode=mode,
            until=until,
            reason=reason or None,
            set_by_id=user_id,
            created_at=now,
        )
        session.add(row)
    return row


async def active_overrides(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[Override]:
    """Overrides in force at `now`, as the scheduler understands them."""
    async with sessions() as session:
        rows = await _active(session, None, now)
        logins = dict(
            (await session.execute(select(User.id, User.login))).all()
        )
    return [
        Override(
            line=row.line_number,
            mode=row.mode,  # type: ignore[arg-type]
            until=row.until,
            set_by=logins.get(row.set_by_id, "администратор") if row.set_by_id else "администратор",
            reason=row.reason or "",
            since=row.created_at,
        )
        for row in rows
    ]


async def overrides_version(session: AsyncSession) -> tuple[object, ...]:
    """Changes whenever an override is added or cancelled: cheap to ask every few seconds."""
    row = (
        await session.execute(
            select(func.count(ModeOverride.id), func.max(ModeOverride.id),
                   func.max(ModeOverride.cancelled_at))
        )
    ).one()
    return tuple(row)


async def _active(session: AsyncSession, line: str | None, now: datetime) -> list[ModeOverride]:
    stmt = select(ModeOverride).where(
        ModeOverride.until > now, ModeOverride.cancelled_at.is_(None)
    )
    if line is not None:
        stmt = stmt.where(ModeOverride.line_number == line)
    return list((await session.scalars(stmt.order_by(ModeOverride.id))).all())
