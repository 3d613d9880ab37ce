"""A journal writer in front of a database that goes away: its calls' state, and waiting for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from hotline.calls.spool import DurableSpool
from hotline.calls.store import apply_records
from hotline.calls.writer import CallJournalWriter
from journal.models import Call, CallEvent, Card


async def wait_until(predicate, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def writer_for(sessions, spool_dir: Path, **kwargs) -> CallJournalWriter:
    return CallJournalWriter(
        sessions, apply_records, DurableSpool(spool_dir, "events"),
        DurableSpool(spool_dir, "rejected"), retry_min=0.05, retry_max=0.5, write_timeout=5.0,
        **kwargs,
    )


async def call_state(sessions) -> tuple[int, int, str | None, int]:
    async with sessions() as session:
        calls = await session.scalar(select(func.count(Call.id)))
        cards = await session.scalar(select(func.count(Card.id)))
        outcome = await session.scalar(select(Call.outcome))
        events = await session.scalar(select(func.count(CallEvent.id)))
    return calls, cards, outcome, events

