"""Two writers on one SQLite journal (the demo, a single-box trial): neither fails with
`database is locked`.

The daily roll-up reads a day's calls, then writes its sums, while the journal writer commits
calls; a transaction that has read and then writes after another one committed cannot get
SQLite's write lock (SQLITE_BUSY at once: busy_timeout does not help it). journal.db makes
every SQLite transaction take the write lock when it begins, so the second one waits.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from journal.db import make_engine, make_sessionmaker, unit_of_work


async def test_a_reader_turned_writer_waits_for_the_other_writer(tmp_path: Path) -> None:
    """The roll-up's shape (gather into a temporary table, then write its sums) beside the
    journal writer's (write, commit): both transactions commit, one after the other."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'journal.sqlite3'}")
    sessions = make_sessionmaker(engine)
    try:
        async with unit_of_work(sessions) as db:
            await db.execute(text("CREATE TABLE sums (n INTEGER)"))
        has_read = asyncio.Event()

        async def roll_up() -> None:
            async with unit_of_work(sessions) as db:
                # As the roll-up gathers a day's facts: a temporary table filled from the
                # journal's (a write, so the transaction has begun, and a read of the journal).
                await db.execute(text("CREATE TEMPORARY TABLE facts (n INTEGER)"))
                await db.execute(text("INSERT INTO facts SELECT n FROM sums"))
                has_read.set()
                await asyncio.sleep(0.3)  # the other writer commits meanwhile (or waits)
                await db.execute(text("INSERT INTO sums VALUES (1)"))

        async def journal_writer() -> None:
            await asyncio.wait_for(has_read.wait(), 5)
            async with unit_of_work(sessions) as db:
                await db.execute(text("INSERT INTO sums VALUES (2)"))

        await asyncio.wait_for(asyncio.gather(roll_up(), journal_writer()), 15)
        async with sessions() as db:
            rows = (await db.execute(text("SELECT n FROM sums ORDER BY rowid"))).scalars().all()
        assert rows == [1, 2]  # the roll-up first: it held the write lock from its start
    finally:
        await engine.dispose()
