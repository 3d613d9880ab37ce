"""Soak: thirty simulated minutes of a busy hour through the real service, nothing left over.

The PBX simulator plays citizens' calls at a realistic rate (Poisson arrivals, every scenario,
talks of minutes) with its clock compressed, over real TCP AMI into the whole service
(`create_app` on PostgreSQL) with operators signed in on their WebSockets. After a warm-up
(lazy imports, connection pool, statement caches), a baseline is taken; after the soak and
once every call has ended, the service must be back to it: no tracked-call state in the
tracker, the live feed or the journal writer, no more asyncio tasks, no more open files,
no more live objects of the service's own kinds, and the process's objects within a
generous tolerance. Every call has its row, its end and its card in the journal.

It runs in the normal test run (marker `soak`), in about half a minute; nothing here is
timed: the waits only wait for quiet.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.sim.cli import DEFAULT_MIX, parse_mix
from hotline.config import Settings
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS, SETTINGS
from hotline.keys import CALL_WRITER, HUB, LIVE, PBX, RECORDINGS
from journal.db import unit_of_work
from journal.models import Call, Organization, User
from tests.support.service import running, service_settings

pytestmark = [pytest.mark.soak, pytest.mark.postgres]

# 30 simulated minutes take 30 * 60 * SCALE = 27 real seconds.
SCALE = 0.015
SOAK_MINUTES = 30
WARMUP_MINUTES = 2
# A busy hour of a region's four lines: eight calls a minute, talks of minutes.
CALLS_PER_MINUTE = 8.0
REALISTIC = Timing(ring=8.0, talk=150.0, level2_talk=240.0, consult=20.0, patience=40.0,
                   message=40.0, citizen_answer=6.0, dtmf_gap=0.2)
AGENTS_PER_QUEUE = 6
PASSWORD = "soak-password-1"
# Kinds whose live instances must be back to the baseline count: per-call state of the
# tracker, the live feed and the journal writer, ORM rows, sockets' subscribers, tasks.
WATCHED_KINDS = (
    "hotline.pbx.tracking.calls._Channel", "hotline.pbx.tracking.calls._Call", "hotline.live.hub.Subscriber",
    "_asyncio.Task", "_asyncio.Future", "journal.models.Call", "journal.models.Card",
    "journal.models.CallEvent", "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.orm.session.Session",
)
# In-flight at any moment (a heartbeat's future, a pooled connection's query): a leak of
# per-call state would be hundreds in this run, not a handful.
KIND_SLACK = 3
# gc-tracked objects the process may gain for good in 240 calls: the tracker's bounded
# memory of recently ended calls, SQLAlchemy's statement cache, interned log keys. A leak of
# one call's state (its channels, tasks, rows) would be far more than this.
OBJECT_TOLERANCE = 25_000


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=SCALE, auth_failure_delay=0, seed=30,
                            timing=REALISTIC, agents_per_queue=AGENTS_PER_QUEUE) as simulator:
        yield simulator


@pytest.fixture
async def client(settings, sim, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    async with running(create_app(service_settings(settings, sim, pg_url, tmp_path))) as client:
        yield client


async def add_operators(client: TestClient, sim: PbxSimulator) -> list[str]:
    """One operator per level-1 phone of the simulator (a cheap argon2 hash: sign-in is not
    what this test is about)."""
    app = client.server.app
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    logins = []
    async with unit_of_work(app[SESSIONS]) as session:
        orgs = dict((await session.execute(select(Organization.code, Organization.id))).all())
        for org in app[SETTINGS].organizations:
            for phone in sim.dialplan.roster[org.level1_queue]:
                login = phone.endpoint.lower()
                session.add(User(login=login, password_hash=cheap, full_name=login,
                                 role="operator", level=1, organization_id=orgs[org.code],
                                 interface=phone.interface, active=True, failed_logins=0,
                                 created_at=datetime.now(UTC)))
                logins.append(login)
    return logins


async def open_workspaces(client: TestClient, logins: list[str], pops: list[Any],
                          browsers: list[aiohttp.ClientSession]) -> None:
    """Each operator signed in with the live WebSocket open, screen-pops collected."""
    for login in logins:
        browser = aiohttp.ClientSession(base_url=str(client.make_url("")),
                                        cookie_jar=aiohttp.CookieJar(unsafe=True))
        browsers.append(browser)
        reply = await browser.post("/api/v1/login", json={"login": login, "password": PASSWORD})
        assert reply.status == 200, await reply.text()
        ws = await browser.ws_connect("/api/v1/ws")
        asyncio.get_running_loop().create_task(_collect(ws, pops), name=f"soak-ws-{login}")


async def _collect(ws: aiohttp.ClientWebSocketResponse, pops: list[Any]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            body = message.json()
            if body.get("type") == "screen_pop":
                pops.append(body)


async def play(sim: PbxSimulator, minutes: float, rng: random.Random) -> int:
    """Citizens call a random line, Poisson arrivals in simulated time; returns how many."""
    mix = parse_mix(DEFAULT_MIX)
    names, weights = list(mix), list(mix.values())
    lines = [line.number for line in sim.settings.lines]
    placed, elapsed = 0, 0.0
    while True:
        gap = rng.expovariate(CALLS_PER_MINUTE / 60.0)
        elapsed += gap
        if elapsed > minutes * 60:
            return placed
        await asyncio.sleep(sim.clock.real(gap))
        sim.place_call(rng.choice(lines), scenario=rng.choices(names, weights)[0])
        placed += 1


async def quiet(client: TestClient, sim: PbxSimulator) -> None:
    """Every call ended, the journal written, the pops sent, the loop at rest."""
    app = client.server.app
    await sim.wait_idle(timeout=120)
    async with asyncio.timeout(60):
        while app[PBX].tracker.calls() or app[LIVE]._tasks or app[CALL_WRITER].pending:
            await asyncio.sleep(0.05)
        await app[CALL_WRITER].flushed(timeout=30)
        while app[RECORDINGS].worker.busy:  # the last calls' recordings being stored
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # sockets' last frames, finished tasks collected


def footprint(app: Any, sim: PbxSimulator) -> dict[str, Any]:
    # The simulator (the test's PBX, not the service) keeps every finished call and its task.
    sim.engine.completed.clear()
    gc.collect()
    objects = gc.get_objects()
    kinds = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
    return {
        "objects": len(objects),
        "kinds": {name: kinds.get(name, 0) for name in WATCHED_KINDS},
        "tasks": len(asyncio.all_tasks()),
        # The journal's connection pool keeps up to its size open by design (one more may
        # have been opened under load); every other descriptor must be the baseline's.
        "fds": len(os.listdir("/proc/self/fd")) - pool_connections(app),
    }


def pool_connections(app: Any) -> int:
    pool = app[SESSIONS].kw["bind"].pool
    return pool.checkedin() + pool.checkedout()


def tracked_state(app: Any) -> dict[str, int]:
    """Per-call state the service keeps while calls live (all of it must drain)."""
    tracker, writer, live = app[PBX].tracker, app[CALL_WRITER], app[LIVE]
    return {
        "tracker calls": len(tracker.calls()),
        "tracker channels": len(tracker._channels),
        "tracker names": len(tracker._by_name),
        "tracker linkedids": len(tracker._by_linkedid),
        "tracker hotline ids": len(tracker._by_hotline_id),
        "writer queue": writer.pending,
        "writer arrivals": len(writer._arrivals),
        "live pops": len(live._tasks),
        "live calls gathered for pops": len(live.cards),
        "live call states": len(live.call_states._calls),
    }


async def test_thirty_busy_minutes_leave_nothing_behind(client, sim) -> None:
    """Thirty simulated minutes at eight calls a minute: every call has its card, and the
    service is back to its baseline of state, tasks, files and objects."""
    app = client.server.app
    rng = random.Random(30)
    pops: list[Any] = []
    browsers: list[aiohttp.ClientSession] = []
    try:
        await open_workspaces(client, await add_operators(client, sim), pops, browsers)
        placed = await play(sim, WARMUP_MINUTES, rng)
        await quiet(client, sim)
        baseline = footprint(app, sim)

        placed += await play(sim, SOAK_MINUTES, rng)
        await quiet(client, sim)
        after = footprint(app, sim)

        async with app[SESSIONS]() as session:
            calls, with_card, ended = (await session.execute(select(
                func.count(Call.id), func.count(Call.card_id), func.count(Call.ended_at)
            ))).one()
        assert (calls, with_card, ended) == (placed, placed, placed)
        assert placed > SOAK_MINUTES * CALLS_PER_MINUTE * 0.7 and pops
        assert tracked_state(app) == dict.fromkeys(tracked_state(app), 0)
        assert len(app[HUB]) == len(browsers)
        grown = {kind: (baseline["kinds"][kind], count) for kind, count in after["kinds"].items()
                 if count > baseline["kinds"][kind] + KIND_SLACK}
        assert not grown, grown
        assert after["tasks"] <= baseline["tasks"]
        assert after["fds"] <= baseline["fds"]
        assert app[SESSIONS].kw["bind"].pool.overflow() <= 0
        assert after["objects"] - baseline["objects"] < OBJECT_TOLERANCE, (baseline, after)
    finally:
        for browser in browsers:
            await browser.close()
