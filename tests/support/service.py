"""The service running on a simulated PBX: settings for it, starting and stopping it, waiting until every event of the simulator is in the journal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.app import create_app
from hotline.config import Settings
from hotline.keys import CALL_WRITER, PBX
from hotline.sim.simulator import PbxSimulator
from tests.support.paths import REPO

INSURER_LINE = "88002009204"  # staffed around the clock: always in operator mode


FUND_LINE = "88007758565"


METRICS_TOKEN = "scrape-token-for-tests"


# /healthz details and /metrics are for administrators and the scraper (its token).
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def service_settings(settings: Settings, sim: PbxSimulator, db_url: str, tmp: Path) -> Settings:
    host, port = sim.address
    return settings.model_copy(update={
        "service": settings.service.model_copy(update={
            "database_url": db_url,
            "spool_dir": tmp / "spool",
            "calendar_dir": REPO / "config" / "calendar",
            "metrics_token": METRICS_TOKEN,
        }),
        "ami": settings.ami.model_copy(update={
            "host": host, "port": port, "ping_interval": 0.5, "action_timeout": 2.0,
            "reconnect_min_delay": 0.05, "reconnect_max_delay": 0.2,
        }),
    })




@asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[TestClient]:
    """The app served over real HTTP, connected to its PBX and resynchronised."""
    client = TestClient(TestServer(app))
    try:
        await client.start_server()
        await app[PBX].wait_resynced(1)
        yield client
    finally:
        await client.close()




async def settle(sim: PbxSimulator, app: web.Application) -> None:
    await sim.wait_idle(timeout=20)
    await asyncio.sleep(0.2)  # the last events cross the socket and the tracker
    await app[CALL_WRITER].flushed(timeout=20)


@pytest.fixture
def service(client: TestClient) -> web.Application:
    return client.server.app


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=7,
                            as_configured=True) as simulator:
        yield simulator


@pytest.fixture
async def client(settings, sim, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    """The whole service on PostgreSQL, its AMI pointed at the simulator, over real HTTP."""
    async with running(create_app(service_settings(settings, sim, pg_url, tmp_path))) as client:
        yield client
