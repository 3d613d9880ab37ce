"""What every report's SQL needs from the connection, whatever the report."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Enough for a quarter's calls to be sorted and hashed in memory (see bench/reports.py).
REPORT_WORK_MEM = "64MB"


async def tune_for_report(db: AsyncSession | AsyncConnection) -> None:
    """PostgreSQL settings for the rest of the report's transaction (SET LOCAL).

    - No JIT: a report's aggregation over a year of calls costs far above `jit_above_cost`,
      so PostgreSQL compiles it, and the compilation (1.5 s of a 2.5 s query on the
      benchmark's journal) costs more than it saves on a query that runs once.
    - More `work_mem` than the default 4 MB, so that the per-group sorts (percentile_cont)
      stay in memory instead of spilling to disk: a few administrators build reports, not
      hundreds of connections at once.
    Nothing to do on SQLite.
    """
    bind = db.get_bind() if isinstance(db, AsyncSession) else db.engine
    if bind.dialect.name == "postgresql":
        await db.execute(text("SET LOCAL jit = off"))
        await db.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
