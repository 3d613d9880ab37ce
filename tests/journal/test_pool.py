"""The journal's connection pool after the server dropped its connections."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text

from journal.db import make_engine
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
