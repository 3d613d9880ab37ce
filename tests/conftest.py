"""Shared fixtures: a throwaway PostgreSQL database per test session, and a SQLite file.

PostgreSQL must answer on 127.0.0.1:5432 (`.ci/run` makes sure it does); a missing server is
an error, not a skip, because the journal's guarantees are proven on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.app import create_app
from hotline.bootstrap import sync_region
from hotline.config import Settings, load_settings
from journal.db import make_engine, make_sessionmaker, upgrade_async
from journal.models import Base
from tests.support.api import Api, web_settings
from tests.support.paths import REPO
from tests.support.private_pg import (
    PG_ADMIN_DSN, PrivatePostgres, migrated_database, why_unavailable,
)

# Tables whose rows come from migrations and survive between tests.
SEEDED_TABLES = {"topics", "alembic_version"}


@pytest.fixture(autouse=True)
def _cli_logging_left_as_found(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`hotline` run in-process (CliRunner) configures logging for the whole process: keep it
    from caching the module loggers, and put structlog back as it was after each test."""
    import functools

    import structlog

    import hotline.cli.main
    from hotline.logs import configure_logging

    monkeypatch.setattr(hotline.cli.main, "configure_logging",
                        functools.partial(configure_logging, cache=False))
    before = structlog.get_config()
    yield
    structlog.configure(**before)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The example region of config/hotline.toml, its FastAGI server off: tests that need it
    turn it on with a port of their own (several test runs share this machine's 4573)."""
    region = load_settings(REPO / "config" / "hotline.toml", environ={})
    return region.model_copy(update={
        "asterisk": region.asterisk.model_copy(update={"agi_serve": False}),
    })


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, migrated to head, dropped after the session."""
    async with migrated_database(PG_ADMIN_DSN, "hotline_test") as url:
        yield url


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "journal.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    return url


@pytest.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url, pool_size=20, max_overflow=10)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sqlite_url)
    yield engine
    await engine.dispose()


async def _wipe(engine: AsyncEngine) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in SEEDED_TABLES]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(params=["pg", "sqlite"])
def backend_engine(request: pytest.FixtureRequest) -> AsyncEngine:
    """The journal's tests run on both backends."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
async def engine(backend_engine: AsyncEngine) -> AsyncEngine:
    """An engine on an empty journal (seeded dictionaries kept)."""
    await _wipe(backend_engine)
    return backend_engine


@pytest.fixture
async def pg_only_engine(pg_engine: AsyncEngine) -> AsyncEngine:
    await _wipe(pg_engine)
    return pg_engine


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def region(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    await sync_region(sessions, settings)


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test session alone (see tests/private_pg.py), for tests
    that stop or restart the database; skipped only when the server binaries are missing."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL server: {reason}")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
async def private_pg_url(private_pg: PrivatePostgres) -> AsyncIterator[str]:
    """A fresh, migrated database on the private server (running again if a test stopped it)."""
    if not private_pg.is_running():
        private_pg.start()
    async with migrated_database(private_pg.admin_dsn, "hotline_private") as url:
        yield url
        if not private_pg.is_running():
            private_pg.start()


@pytest.fixture
async def api(client: TestClient) -> Api:
    """An admin of the fund, an operator of the fund and one of an insurer (СМО)."""
    api = Api(client)
    await api.add_user("admin", "tfoms", role="admin")
    await api.add_user("fund-op", "tfoms")
    await api.add_user("sogaz-op", "sogaz")
    return api


@pytest.fixture
async def client(settings, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    """The service without a PBX (journal and web only) on an empty PostgreSQL journal."""
    app = create_app(web_settings(settings, pg_url, tmp_path), migrate=False, telephony=False)
    client = TestClient(TestServer(app))
    try:
        await client.start_server()
        yield client
    finally:
        await client.close()
