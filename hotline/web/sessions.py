"""Signed-in browser sessions, kept in the journal's database and keyed by a random token.

The cookie carries only the token; the table keeps its SHA-256 (a copy of the table opens no
session), the user, the CSRF token and the times. Every service instance on the same database
knows every session, and a restart of the service signs nobody out. A session ends after
`IDLE` without requests or `ABSOLUTE` after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.models import User, WebSessionRow
from journal.clock import utc_now

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# `last_seen` is written at most this often: not one write per request, and the idle limit
# is still kept to within this much.
TOUCH_EVERY = timedelta(seconds=30)
TOKEN_BYTES = 32



def _digest(token: str) -> str:
    # A cookie's bytes that are not UTF-8 reach us as surrogate escapes: hash them as sent
    # (they match no session) instead of failing before authentication.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(slots=True)
class WebSession:
    """One signed-in user: `token` is the cookie's value, `csrf` must come back in a header."""

    token: str
    csrf: str
    user_id: int
    created_at: datetime
    last_seen: datetime


class SessionStore:
    """Sessions by token, with idle and absolute expiry; expired ones are deleted on sight."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        idle: timedelta = IDLE,
        absolute: timedelta = ABSOLUTE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.idle = idle
        self.absolute = absolute
        self.clock = clock

    async def create(self, user_id: int) -> WebSession:
        """A new session with fresh random tokens (a new id at every sign-in: no fixation)."""
        now = self.clock()
        session = WebSession(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            csrf=secrets.token_urlsafe(TOKEN_BYTES),
            user_id=user_id,
            created_at=now,
            last_seen=now,
        )
        async with self.sessions.begin() as db:
            await db.execute(delete(WebSessionRow).where(self._expired(now)))
            db.add(WebSessionRow(token_hash=_digest(session.token), csrf=session.csrf,
                                 user_id=user_id, created_at=now, last_seen=now))
        return session

    async def get(self, token: str | None) -> WebSession | None:
        """The live session of `token` (its idle clock restarts), or None."""
        if not token or len(token) > 128 or not token.isascii():
            return None  # our tokens are URL-safe base64: anything else is no session
        now = self.clock()
        key = _digest(token)
        async with self.sessions.begin() as db:
            row = await db.get(WebSessionRow, key)
            if row is None:
                return None
            if self._is_expired(row, now):
                await db.delete(row)
                return None
            if now - row.last_seen >= TOUCH_EVERY:
                row.last_seen = now
            return WebSession(token, row.csrf, row.user_id, row.created_at, row.last_seen)

    async def alive(self, tokens: Collection[str]) -> set[str]:
        """Which of `tokens` still open a session of an active account; their idle clocks
        restart (an open workspace counts as activity). One query for all of them: the live
        sockets of a whole contact center are checked together."""
        now = self.clock()
        by_hash = {_digest(token): token for token in tokens if token and len(token) <= 128}
        if not by_hash:
            return set()
        async with self.sessions.begin() as db:
            rows = (await db.execute(
                select(WebSessionRow.token_hash, WebSessionRow.created_at, WebSessionRow.last_seen)
                .join(User, User.id == WebSessionRow.user_id)
                .where(WebSessionRow.token_hash.in_(by_hash), User.active.is_(True))
            )).all()
            live = [row for row in rows if not self._is_expired(row, now)]
            touch = [row.token_hash for row in live if now - row.last_seen >= TOUCH_EVERY]
            if touch:
                await db.execute(update(WebSessionRow)
                                 .where(WebSessionRow.token_hash.in_(touch))
                                 .values(last_seen=now))
        return {by_hash[row.token_hash] for row in live}

    async def drop(self, token: str | None) -> None:
        if token:
            async with self.sessions.begin() as db:
                await db.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _digest(token)))

    async def drop_user(self, user_id: int) -> None:
        """Sign a user out everywhere (e.g. when the account is disabled)."""
        async with self.sessions.begin() as db:
            await db.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))

    def _expired(self, now: datetime) -> ColumnElement[bool]:
        return or_(WebSessionRow.last_seen <= now - self.idle,
                   WebSessionRow.created_at <= now - self.absolute)

    def _is_expired(self, row: WebSessionRow | Any, now: datetime) -> bool:
        return now - row.last_seen >= self.idle or now - row.created_at >= self.absolute
