"""Domain events as plain JSON records: the one form that is spooled and written.

Direct writes and writes after an outage take the same path (event -> record -> database),
so what survives a database outage is exactly what would have been written without one.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def kind_of(event: object) -> str:
    """`OperatorAnswered` -> `operator_answered`."""
    return _CAMEL.sub("_", type(event).__name__).lower()


def to_record(event: object) -> dict[str, Any]:
    """A JSON-serialisable dict of a dataclass event; its type goes under "event"."""
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        raise TypeError(f"not a domain event: {event!r}")
    record: dict[str, Any] = {"event": kind_of(event)}
    for field in dataclasses.fields(event):
        record[field.name] = _plain(getattr(event, field.name))
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def when(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["at"])
