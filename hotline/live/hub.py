"""The in-process fan-out of live messages to signed-in browsers (WebSocket `/api/v1/ws`).

Every open WebSocket is one `Subscriber`: who is signed in (user, role, organization, the
phone the PBX knows them by) and a bounded outbox its sender task drains. Producers (the
screen-pop, the live board, the agent API) never write to a socket themselves: they address
subscribers here (by phone interface, by user, or all administrators) and go on, so one slow
browser can neither block the PBX event path nor the others. A browser whose outbox overflows
is disconnected (it reconnects and gets a fresh board).

This hub lives in one process. With several service instances on one PostgreSQL, the hub of
the instance holding the PBX link also holds a stand-in for every socket of the others and
sends them their messages over `LISTEN/NOTIFY` (`hotline.live.relay`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog

from journal.actors import Actor

log = structlog.get_logger(__name__)

Message = dict[str, Any]
OUTBOX_SIZE = 256
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 4408
CLOSE_SESSION_ENDED = 4401
_ids = itertools.count(1)


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open WebSocket of a signed-in user. `interface` is the user's phone, e.g.
    "PJSIP/op101" (None for users without one)."""

    user_id: int
    login: str
    role: str
    organization_id: int | None
    interface: str | None
    session_token: str
    # The organization's code ("tfoms"): what part of the live board a supervisor sees.
    organization_code: str | None = None
    id: int = field(default_factory=lambda: next(_ids))
    outbox: asyncio.Queue[Message | None] = field(
        default_factory=lambda: asyncio.Queue(OUTBOX_SIZE)
    )
    overflowed: bool = False
    close_code: int = 1000

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> Actor:
        """Who reads through this socket, as the journal's access rules know them (the
        session sweep closes the socket when the session or the account ends)."""
        return Actor(self.user_id, self.login, self.role, self.organization_id)

    def put(self, message: Message) -> None:
        """Queue a message; a full outbox marks the subscriber for disconnection."""
        if self.overflowed:
            return
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("live subscriber too slow, disconnecting", user_id=self.user_id)
            self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        """Drop what is queued and ask the sender task to close the socket with `code`."""
        self.overflowed = True
        self.close_code = code
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait(None)  # the sender task closes the socket on None


class Hub:
    """Subscribers of this process and the ways to address them."""

    def __init__(self) -> None:
        self._subscribers: dict[int, Subscriber] = {}
        # Every ringing phone and every call state asks "who sits at this phone": an index,
        # not a scan of every open socket (hundreds of them in a busy contact center).
        self._by_interface: dict[str, dict[int, Subscriber]] = {}
        # Called with a new subscriber (e.g. to send administrators the board at once).
        self.on_subscribe: list[Callable[[Subscriber], None]] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers[subscriber.id] = subscriber
        if subscriber.interface:
            self._by_interface.setdefault(subscriber.interface.lower(), {})[subscriber.id] = subscriber
        log.info("live subscriber joined", user_id=subscriber.user_id, count=len(self))
        for hook in self.on_subscribe:
            try:
                hook(subscriber)
            except Exception:
                log.exception("live subscribe hook failed")

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.pop(subscriber.id, None)
        if subscriber.interface:
            at_phone = self._by_interface.get(subscriber.interface.lower(), {})
            at_phone.pop(subscriber.id, None)
            if not at_phone:
                self._by_interface.pop(subscriber.interface.lower(), None)

    def __len__(self) -> int:
        return len(self._subscribers)

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(list(self._subscribers.values()))

    def at_interface(self, interface: str) -> list[Subscriber]:
        """Subscribers whose phone is `interface` (Asterisk device names compare caselessly)."""
        return list(self._by_interface.get(interface.lower(), {}).values())

    def admins(self) -> list[Subscriber]:
        return [s for s in self if s.is_admin]

    def supervisors(self) -> list[Subscriber]:
        """Organizations' supervisors (each sees their own organization's board)."""
        return [s for s in self if s.role == "supervisor"]

    def of_user(self, user_id: int) -> list[Subscriber]:
        """Every open socket of one user (several tabs, several browsers)."""
        return [s for s in self if s.user_id == user_id]

    def to_user(self, user_id: int, message: Message) -> int:
        """Send to every open socket of one user; how many got it."""
        targets = self.of_user(user_id)
        for subscriber in targets:
            subscriber.put(message)
        return len(targets)

    def to_admins(self, message: Message) -> int:
        targets = self.admins()
        for subscriber in targets:
            subscriber.put(message)
        return len(targets)

    def close_session(self, token: str, code: int = CLOSE_SESSION_ENDED) -> int:
        """Close the sockets opened with a session (its sign-out); how many."""
        return _close([s for s in self if s.session_token == token], code)

    def close_user(self, user_id: int, code: int = CLOSE_SESSION_ENDED) -> int:
        """Close every socket of one user (account disabled, password changed); how many."""
        return _close(self.of_user(user_id), code)

    def close_all(self) -> None:
        """Ask every sender task to close its socket (shutdown)."""
        _close(list(self), CLOSE_GOING_AWAY)


def _close(targets: list[Subscriber], code: int) -> int:
    for subscriber in targets:
        subscriber.close(code)
    return len(targets)
