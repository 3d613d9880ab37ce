"""The database goes away mid-call: events are spooled on disk and written when it is back.

These tests point the writer at a database that does not answer; the ones that really stop
and restart a PostgreSQL server (a private one) are in tests/test_db_restart.py.
"""

from __future__ import annotations

import asyncio
import errno

import pytest

from hotline.calls.spool import DurableSpool, SpoolError
from journal.db import make_engine, make_sessionmaker
from tests.support.records import records_of
from tests.support.outage import call_state, wait_until, writer_for

pytestmark = pytest.mark.usefixtures("region")








async def test_spool_survives_a_restart_of_the_service(sessions, tmp_path) -> None:
    """The database never answered while this instance ran; the next instance writes it all."""
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    records = records_of("secretary_message")
    first = writer_for(make_sessionmaker(dead), tmp_path)
    task = asyncio.create_task(first.run())
    first.submit_records(records)
    await wait_until(lambda: len(first.spool) == len(records))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await dead.dispose()
    assert await call_state(sessions) == (0, 0, None, 0)

    second = writer_for(sessions, tmp_path)
    task = asyncio.create_task(second.run())
    try:
        await wait_until(lambda: len(second.spool) == 0)
        await second.flushed()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await call_state(sessions) == (1, 1, "secretary", len(records))


class FullDisk(DurableSpool):
    """A spool on a disk with no space left."""

    def append(self, records) -> int:
        raise SpoolError(errno.ENOSPC, f"cannot write the spool {self.path}: No space left on device")


async def test_full_disk_during_an_outage_keeps_events_in_memory(sessions, tmp_path) -> None:
    """No database and no disk: the events stay queued, in order, and reach the journal later."""
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    writer = writer_for(make_sessionmaker(dead), tmp_path)
    writer.spool = FullDisk(tmp_path, "events")
    records = records_of("abandoned_in_queue")
    task = asyncio.create_task(writer.run())
    try:
        writer.submit_records(records)
        await wait_until(lambda: writer.last_error is not None and "spool" in writer.last_error)
        assert writer.pending >= len(records)
        assert len(writer.spool) == 0, "nothing reached the disk"
        writer._sessions = sessions  # the database and the disk come back
        writer.spool = DurableSpool(tmp_path, "events")
        await writer.flushed(timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dead.dispose()
    assert await call_state(sessions) == (1, 1, "abandoned", len(records))


async def test_a_record_the_journal_refuses_is_set_aside_not_blocking(sessions, tmp_path) -> None:
    records = records_of("operator_answered")
    broken = {**records[1], "at": "not a time"}
    writer = writer_for(sessions, tmp_path)
    task = asyncio.create_task(writer.run())
    try:
        writer.submit_records([records[0], broken, *records[1:]])
        await writer.flushed()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.rejected == 1
    rejected = writer.rejects.peek(10)
    assert rejected[0]["at"] == "not a time" and "_error" in rejected[0]
    assert await call_state(sessions) == (1, 1, "answered", len(records))
