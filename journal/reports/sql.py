"""What every report's SQL needs from the connection, whatever the report."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def without_jit(db: AsyncSession | AsyncConnection) -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of the report's transaction.

    A report's aggregation over a year of calls costs far above `jit_above_cost`, so
    PostgreSQL compiles it, and the compilation (1.5 s of a 2.5 s query on the benchmark's
    journal, see bench/reports.py) costs more than it saves on a query that runs once.
    Nothing to do on SQLite.
    """
    bind = db.bind if isinstance(db, AsyncSession) else db.engine
    if bind.dialect.name == "postgresql":
        await db.execute(text("SET LOCAL jit = off"))
