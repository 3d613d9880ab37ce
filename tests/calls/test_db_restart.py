"""PostgreSQL really stopped and started in the middle of a call: nothing is lost.

These tests stop a private server of their own (tests/private_pg.py), never the shared one
on 127.0.0.1:5432 that the rest of the tests (and other people) use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.bootstrap import sync_region
from hotline.config import Settings
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS
from hotline.keys import CALL_WRITER, PBX
from journal.db import make_engine, make_sessionmaker
from journal.models import CallEvent, Card
from tests.support.private_pg import PrivatePostgres
from tests.support.records import records_of
from tests.support.outage import call_state, wait_until, writer_for
from tests.support.service_calls import OPERATOR, calls_by_caller, timeline, until
from tests.support.service import INSURER_LINE, running, SCRAPER, service_settings


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=17) as simulator:
        yield simulator


async def test_postgres_stopped_mid_call_loses_nothing(
    private_pg: PrivatePostgres, private_pg_url: str, settings: Settings, tmp_path
) -> None:
    """The journal writer alone: the server stops after the call arrived; the rest of the call
    waits on disk (not only in memory) and is written, once, when the server is back."""
    engine = make_engine(private_pg_url)
    sessions = make_sessionmaker(engine)
    await sync_region(sessions, settings)
    writer = writer_for(sessions, tmp_path)
    task = asyncio.create_task(writer.run())
    records = records_of("operator_answered")
    first, rest = records[:2], records[2:]
    try:
        writer.submit_records(first)
        await writer.flushed()
        assert (await call_state(sessions))[:3] == (1, 1, "in_progress")
        await asyncio.to_thread(private_pg.stop)
        writer.submit_records(rest)
        await wait_until(lambda: len(writer.spool) == len(rest))
        assert writer.state == "spooling"
        assert writer.spool.path.exists(), "the events wait on disk, not only in memory"
        await asyncio.to_thread(private_pg.start)
        await writer.flushed(timeout=60)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.state == "direct" and len(writer.spool) == 0
    assert not writer.spool.path.exists()
    assert await call_state(sessions) == (1, 1, "answered", len(records))
    await engine.dispose()


async def test_postgres_restarted_mid_call_the_service_loses_nothing(
    private_pg: PrivatePostgres, private_pg_url: str, settings: Settings, sim: PbxSimulator,
    tmp_path,
) -> None:
    """The whole service: the citizen's call rings an operator, the database goes down, the
    operator answers and the citizen hangs up while it is down, and another citizen calls and
    gives up in the queue meanwhile (/healthz says "down"). The database comes back: both
    calls have their whole timelines, once, their outcomes and their cards."""
    app = create_app(service_settings(settings, sim, private_pg_url, tmp_path))
    async with running(app) as client:
        placed = sim.place_call(INSURER_LINE, "79130000020", "Лебедева Ольга", "answered",
                                agent=OPERATOR, auto_answer=False)
        await until(lambda: [c.state for c in app[PBX].tracker.calls()] == ["ringing"])
        await app[CALL_WRITER].flushed()
        call = (await calls_by_caller(app))["79130000020"]
        assert call.outcome == "in_progress" and call.card_id is not None
        await asyncio.to_thread(private_pg.stop)
        try:
            assert sim.answer(OPERATOR)
            await placed.finished()
            during = sim.place_call(INSURER_LINE, "79130000021", "Гусева Ия", "abandoned")
            await during.finished()
            await until(lambda: app[CALL_WRITER].state == "spooling", timeout=30)
            health = await client.get("/healthz", headers=SCRAPER)
            body = await health.json()
            assert health.status == 503 and body["status"] == "down"
            assert body["pbx"]["journal_writer"]["state"] == "spooling"
        finally:
            await asyncio.to_thread(private_pg.start)
        await app[CALL_WRITER].flushed(timeout=60)
        assert app[CALL_WRITER].state == "direct"
        call = (await calls_by_caller(app))["79130000020"]
        assert (call.outcome, call.answered_interface) == ("answered", OPERATOR)
        assert await timeline(app, call.id) == [
            "call_arrived", "call_queued", "operator_ringing", "operator_answered", "call_ended"]
        during = (await calls_by_caller(app))["79130000021"]
        assert during.outcome == "abandoned" and during.card_id not in (None, call.card_id)
        story = await timeline(app, during.id)
        assert story[:2] == ["call_arrived", "call_queued"]
        assert story[-2:] == ["call_abandoned", "call_ended"]
        async with app[SESSIONS]() as session:
            cards = await session.scalar(select(func.count(Card.id)))
            events = await session.scalar(select(func.count(CallEvent.id)))
            distinct = await session.scalar(select(func.count(func.distinct(CallEvent.dedup_key))))
        assert cards == 2 and events == distinct, "nothing doubled by the replay of the spool"
        assert (await client.get("/healthz")).status == 200
