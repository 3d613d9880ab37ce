"""The journal's connection pool after the server dropped its connections."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from journal.db import make_engine, make_sessionmaker, read_sessions, unit_of_work
from tests.support.private_pg import PG_ADMIN_DSN


async def test_connections_the_server_closed_are_replaced_before_use(pg_url: str) -> None:
    """Every pooled connection's backend terminated (as a restart of PostgreSQL or an
    administrator would): the next units of work get fresh connections, none fails."""
    engine = make_engine(pg_url, pool_size=3, max_overflow=0)
    name = pg_url.rsplit("/", 1)[1]
    try:
        async def backend() -> int:
            async with engine.connect() as conn:
                await asyncio.sleep(0.05)  # the three at once: three pooled connections
                return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())

        before = set(await asyncio.gather(backend(), backend(), backend()))
        assert len(before) == 3
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid = ANY($2::int[])", name, list(before))
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # the sockets' close reaches the idle connections
        after = set(await asyncio.gather(backend(), backend(), backend()))
        assert after and not after & before
    finally:
        await engine.dispose()


async def test_a_read_without_transaction_leaves_writes_atomic(pg_url: str) -> None:
    """A screen-pop's read runs outside any transaction (`read_sessions`); the same pooled
    connection then serves a unit of work that fails half-way: none of it is kept, and
    the read saw what was committed before it."""
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    sessions = make_sessionmaker(engine)
    reads = read_sessions(sessions)
    table = f"pool_probe_{uuid.uuid4().hex[:8]}"
    try:
        async with unit_of_work(sessions) as session:
            await session.execute(text(f"CREATE TABLE {table} (n int)"))
            await session.execute(text(f"INSERT INTO {table} VALUES (1)"))
        async with reads() as session:
            assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 1
            # No transaction around the reads: each statement is its own.
            first = await session.scalar(text("SELECT txid_current()"))
            assert await session.scalar(text("SELECT txid_current()")) != first
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessions) as session:
                await session.execute(text(f"INSERT INTO {table} VALUES (2)"))
                first = await session.scalar(text("SELECT txid_current()"))
                assert await session.scalar(text("SELECT txid_current()")) == first
                raise RuntimeError("the batch fails after its first statement")
        async with reads() as session:
            assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await engine.dispose()
