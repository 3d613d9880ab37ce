"""Sign-in throttling the database's per-account lock-out cannot give.

- Per address: more than `ADDRESS_LIMIT` wrong sign-ins from one address within `WINDOW`
  refuse every further attempt from it (whatever the login) until the window has moved on,
  so one client can neither guess at many accounts nor lock them all.
- Unknown logins: counted like real ones and "locked" after `LOGIN_LIMIT` attempts with the
  same answer, so the lock-out does not tell which logins exist.

In memory, per service instance (a restart forgets it; the per-account lock lives in the
journal). Bounded: the oldest entries go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW = 15 * 60.0
ADDRESS_LIMIT = 20
LOGIN_LIMIT = 5
MAX_KEYS = 10_000


class LoginThrottle:
    """Failures by address (a sliding window) and locks of logins that do not exist."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._unknown: OrderedDict[str, deque[float]] = OrderedDict()

    def address_retry_after(self, address: str | None) -> float | None:
        """Seconds until this address may try again, or None when it may now."""
        return self._retry(self._by_address, address or "-", ADDRESS_LIMIT)

    def unknown_retry_after(self, login: str) -> float | None:
        return self._retry(self._unknown, login, LOGIN_LIMIT)

    def failed(self, address: str | None, unknown_login: str | None = None) -> float | None:
        """Count a wrong sign-in; for an unknown login, seconds of its "lock" if this one
        locked it (as a real account's fifth wrong password does), else None."""
        self._add(self._by_address, address or "-")
        if unknown_login is None:
            return None
        hits = self._add(self._unknown, unknown_login)
        return WINDOW if len(hits) == LOGIN_LIMIT else None

    def _retry(self, table: OrderedDict[str, deque[float]], key: str, limit: int) -> float | None:
        hits = self._fresh(table, key)
        if hits is None or len(hits) < limit:
            return None
        return max(1.0, hits[-limit] + WINDOW - self.clock())

    def _fresh(self, table: OrderedDict[str, deque[float]], key: str) -> deque[float] | None:
        hits = table.get(key)
        if hits is None:
            return None
        horizon = self.clock() - WINDOW
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del table[key]
            return None
        return hits

    def _add(self, table: OrderedDict[str, deque[float]], key: str) -> deque[float]:
        hits = self._fresh(table, key) or deque(maxlen=max(ADDRESS_LIMIT, LOGIN_LIMIT) + 1)
        hits.append(self.clock())
        table[key] = hits
        table.move_to_end(key)
        while len(table) > MAX_KEYS:
            table.popitem(last=False)
        return hits
