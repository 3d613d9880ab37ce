"""Database engine, sessions and schema migrations (Alembic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import ARRAY, ColumnElement, Connection, any_, bindparam, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    """An async engine; for SQLite, the folder is created and foreign keys are enforced."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # A pooled connection the server closed (a restart, a terminated backend) is replaced as
    # it is taken, with no round trip: asyncpg sees the socket close while the connection
    # waits in the pool. SQLAlchemy's pre-ping cost three round trips (BEGIN, a statement,
    # ROLLBACK) on every checkout, a tenth of the service's time under load and as much
    # added to every read a screen-pop waits for. A connection that dies in use fails its
    # statement, and SQLAlchemy then renews the whole pool.
    kwargs.setdefault("pool_pre_ping", False)
    # A connection past the pool's size is closed when returned, and the next one costs a
    # new login (and TLS negotiation, and asyncpg's prepared statements anew): keep enough
    # for the journal writer, the screen-pops' reads and the API's requests of a busy hour.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: object, _record: object, _proxy: object) -> None:
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        # The pool drops it and takes (or opens) another one.
        raise DisconnectionError("connection closed by the server")


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # SQLite's own LOWER folds ASCII only: "Иванова" would never match "иванова".
    dbapi_connection.create_function(  # type: ignore[attr-defined]
        "lower", 1, _unicode_lower, deterministic=True
    )
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # The driver would begin a transaction lazily (BEGIN DEFERRED before the first write), so a
    # transaction that has read the journal and then writes after another one committed gets
    # SQLITE_BUSY at once, whatever busy_timeout says: "database is locked" from the daily
    # roll-up beside the journal writer. SQLAlchemy begins every transaction instead
    # (_begin_immediate), the documented recipe for pysqlite/aiosqlite.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]


def _begin_immediate(connection: Connection) -> None:
    """Every SQLite transaction takes the write lock when it begins: a second one waits for
    it (up to busy_timeout) instead of failing half-way. Transactions run one at a time, reads
    included (most of the service's write an audit row anyway); SQLite writes one at a time
    anyway, and it is the embedded single-box journal, PostgreSQL the production one."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def one_of(session: AsyncSession, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)` whose statement does not change with the number of values.

    SQLAlchemy renders IN with one placeholder per value: every length is another statement,
    which asyncpg prepares anew (a round trip of its own) once its cache of 100 has turned
    over, as the journal writer's batches of 1 to 200 calls make it. On PostgreSQL this is
    `column = ANY($1)`, one array parameter: one statement, prepared once per connection."""
    if session.get_bind().dialect.name == "postgresql":
        clause = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:
        clause = column.in_(list(values))
    return cast(ColumnElement[bool], clause)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads of one statement each, on the same pool, with no transaction.

    On PostgreSQL a session's first statement costs a round trip of its own (asyncpg's
    `BEGIN`) and its end another (`ROLLBACK`): three round trips for one read, each a
    wake-up of the server and of our event loop. In autocommit a read is its one statement,
    so the hot reads (a screen-pop's earlier cards, the recording worker's look at a
    recording) cost a third. A write only when it is one statement, atomic on its own, and
    the session is committed after it (the recording worker's outcome); never for writes of
    several statements, nor for reads that must agree with each other (each statement sees
    its own snapshot). SQLite keeps its transactions (its `BEGIN IMMEDIATE` is how it queues
    writers): there the commit is what keeps the write.
    """
    # None: a live feed without a journal (bench/board.py) keeps none.
    engine = sessions.kw.get("bind") if sessions is not None else None
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return sessions
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    async with sessions() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (blocking: call from a thread inside an event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)
