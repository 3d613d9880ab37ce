"""The journal writer's records of a transcript's calls, and their copies with changed fields."""

from __future__ import annotations

from hotline.calls.records import to_record
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.tracking.calls import CallTracker
from tests.support.transcripts import load


def _replaced(value: object, replace: dict[str, str]) -> object:
    if isinstance(value, list):
        return [_replaced(v, replace) for v in value]
    if isinstance(value, str):
        for old, new in replace.items():
            value = value.replace(old, new)
    return value


def records_of(name: str, replace: dict[str, str] | None = None) -> list[dict]:
    """The records the tracker yields for a transcript (values optionally substituted)."""
    messages, times = load(name)
    tracker = CallTracker()
    records: list[dict] = []
    for message, at in zip(messages, times, strict=True):
        message = AmiMessage(
            [(key, _replaced(value, replace or {})) for key, value in message.header_items()],
            message.content,
        )
        records.extend(to_record(e) for e in tracker.feed(message, at))
    return records

