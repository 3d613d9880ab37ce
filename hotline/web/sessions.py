"""Signed-in browser sessions, kept on the server and keyed by a random token.

The cookie carries only the token; the user, the CSRF token and the times live here. A
session ends after `IDLE` without requests or `ABSOLUTE` after sign-in, whichever comes first.

This store is in memory, per process: a restart signs everyone out and two service instances
do not share sessions. A later change moves it to a `web_sessions` table in the journal's
database (same interface) so several instances behind one load balancer can share it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOKEN_BYTES = 32


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class WebSession:
    """One signed-in user: `token` is the cookie's value, `csrf` must come back in a header."""

    token: str
    csrf: str
    user_id: int
    created_at: datetime
    last_seen: datetime


class SessionStore:
    """Sessions by token, with idle and absolute expiry; expired ones are dropped on sight."""

    def __init__(
        self,
        *,
        idle: timedelta = IDLE,
        absolute: timedelta = ABSOLUTE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.idle = idle
        self.absolute = absolute
        self.clock = clock
        self._sessions: dict[str, WebSession] = {}

    def create(self, user_id: int) -> WebSession:
        """A new session with fresh random tokens (a new id at every sign-in: no fixation)."""
        now = self.clock()
        session = WebSession(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            csrf=secrets.token_urlsafe(TOKEN_BYTES),
            user_id=user_id,
            created_at=now,
            last_seen=now,
        )
        self._sessions[session.token] = session
        self._sweep(now)
        return session

    def get(self, token: str | None) -> WebSession | None:
        """The live session of `token` (its idle clock restarts), or None."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            del self._sessions[token]
            return None
        session.last_seen = now
        return session

    def drop(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)

    def drop_user(self, user_id: int) -> None:
        """Sign a user out everywhere (e.g. when the account is disabled)."""
        for token in [t for t, s in self._sessions.items() if s.user_id == user_id]:
            del self._sessions[token]

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: WebSession, now: datetime) -> bool:
        return now - session.last_seen >= self.idle or now - session.created_at >= self.absolute

    def _sweep(self, now: datetime) -> None:
        for token in [t for t, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[token]
