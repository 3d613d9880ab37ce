"""The one clock of the journal and the service: aware UTC now.

Everything that needs the time takes it from here or as an injected `Clock`, so tests drive
time with a fake one and nothing reads a naive local time by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
