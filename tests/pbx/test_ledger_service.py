"""Calls the PBX handled while the service was down reach the journal from the PBX's ledger.

The simulated Asterisk speaks as the real one with config/asterisk/ does (channelvars, the
exclude filters, the hotline-ledger hangup handler, header-only WAVs of calls never bridged);
the service runs on PostgreSQL. tests/asterisk/ proves the same on a real Asterisk 22.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.config import Settings
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS
from hotline.keys import CALL_WRITER
from hotline.keys import LEDGER as PBX_LEDGER
from journal.models import Call, CallbackTask, CallEvent, Card, Recording
from tests.support.service import INSURER_LINE, running, service_settings, settle

LEDGER = "hotline/ledger/"


@pytest.fixture
async def sim(settings: Settings, tmp_path: Path) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=5,
                            as_configured=True, recordings_dir=tmp_path / "pbx",
                            recording_max_seconds=2.0) as simulator:
        yield simulator


def app_for(settings, sim, pg_url, tmp_path):
    base = service_settings(settings, sim, pg_url, tmp_path)
    return create_app(base.model_copy(update={
        "service": base.service.model_copy(update={"recordings_dir": tmp_path / "recordings"}),
        "recordings": base.recordings.model_copy(update={"pbx_dir": tmp_path / "pbx"}),
    }))


def ledger_lines(sim: PbxSimulator) -> dict[str, str]:
    return {k: v for k, v in sim.pbx.state.astdb.items() if k.startswith(LEDGER)}


def after_the_calls(sim: PbxSimulator):
    """The ledger's clock, set past the PBX's (simulated) time: every call has settled."""
    return lambda: datetime.fromtimestamp(sim.clock.now(), UTC) + timedelta(minutes=5)


async def test_calls_and_messages_taken_while_the_service_was_down_reach_the_journal(
    settings, sim, pg_only_engine, pg_url, tmp_path
) -> None:
    """With nobody on AMI the PBX answers one call, loses one in the queue and takes one
    message; when the service starts, each is in the journal with its card, the answered
    one with its operator and recording, the message with its callback task, and the ledger
    is emptied. A second sweep writes nothing twice."""
    sim.place_call(INSURER_LINE, "79150000001", "Лебедева Анна", "answered")
    sim.place_call(INSURER_LINE, "79150000002", "Лебедев Олег", "abandoned")
    await sim.wait_idle(timeout=20)
    sim.set_mode(INSURER_LINE, "secretary")
    sim.place_call(INSURER_LINE, "79150000003", "Ночная Нина", "answered")
    await sim.wait_idle(timeout=20)
    assert len(ledger_lines(sim)) == 3

    async with running(app_for(settings, sim, pg_url, tmp_path)) as client:
        app = client.server.app
        app[PBX_LEDGER].clock = after_the_calls(sim)
        await app[PBX_LEDGER].sweep()
        assert app[PBX_LEDGER].imported == 3  # by this sweep or the one the connect started
        await app[CALL_WRITER].flushed(timeout=20)
        async with app[SESSIONS]() as session:
            calls = {c.caller_number: c for c in (await session.scalars(select(Call))).all()}
            cards = (await session.scalars(select(Card))).all()
            tasks = (await session.scalars(select(CallbackTask))).all()
            kinds = {(r.call_id, r.kind) for r in (await session.scalars(select(Recording))).all()}
        assert {n: c.outcome for n, c in calls.items()} == {
            "79150000001": "answered", "79150000002": "abandoned", "79150000003": "secretary"}
        assert all(c.card_id is not None and c.line_number == INSURER_LINE for c in calls.values())
        assert len(cards) == 3 and {c.number.split("-")[0] for c in cards} == {"SOGAZ"}
        answered = calls["79150000001"]
        assert answered.answered_interface and answered.answered_interface.startswith("PJSIP/")
        assert answered.caller_name == "Лебедева Анна"
        assert (answered.id, "call") in kinds
        assert (calls["79150000003"].id, "message") in kinds
        assert [t.card_id for t in tasks] == [calls["79150000003"].card_id]
        assert tasks[0].status == "pending"

        # The next sweep finds them in the journal: the ledger is emptied, nothing doubles.
        await app[PBX_LEDGER].sweep()
        assert (app[PBX_LEDGER].imported, app[PBX_LEDGER].deleted) == (3, 3)
        assert ledger_lines(sim) == {}
        async with app[SESSIONS]() as session:
            assert await session.scalar(select(func.count(Call.id))) == 3
            assert await session.scalar(select(func.count(Card.id))) == 3
            arrivals = await session.scalar(
                select(func.count(CallEvent.id)).where(CallEvent.kind == "call_arrived"))
        assert arrivals == 3


async def test_calls_the_service_followed_live_are_only_deleted_from_the_ledger(
    settings, sim, pg_only_engine, pg_url, tmp_path
) -> None:
    async with running(app_for(settings, sim, pg_url, tmp_path)) as client:
        app = client.server.app
        sim.place_call(INSURER_LINE, "79150000011", "Живая Лиза", "answered")
        await settle(sim, app)
        assert len(ledger_lines(sim)) == 1
        app[PBX_LEDGER].clock = after_the_calls(sim)
        await app[PBX_LEDGER].sweep()
        assert (app[PBX_LEDGER].imported, app[PBX_LEDGER].deleted) == (0, 1)
        assert ledger_lines(sim) == {}
        async with app[SESSIONS]() as session:
            (call,) = (await session.scalars(select(Call))).all()
            arrivals = await session.scalar(
                select(func.count(CallEvent.id)).where(CallEvent.kind == "call_arrived"))
        assert call.outcome == "answered" and arrivals == 1


async def test_a_call_that_never_reached_an_operator_expects_no_conversation_recording(
    settings, sim, pg_only_engine, pg_url, tmp_path
) -> None:
    """MixMonitor(b) leaves a header-only WAV for a call never bridged: the service removes
    it as «разговора не было», and the reconciliation reports no fault for the call."""
    from hotline.recordings.reconcile import Reconciler
    from hotline.keys import RECORDINGS

    async with running(app_for(settings, sim, pg_url, tmp_path)) as client:
        app = client.server.app
        sim.place_call(INSURER_LINE, "79150000021", "Ушедшая Ольга", "abandoned")
        await settle(sim, app)
        async with asyncio.timeout(30):
            while True:
                async with app[SESSIONS]() as session:
                    row = await session.scalar(select(Recording))
                if row is not None and row.status != "pending":
                    break
                await asyncio.sleep(0.1)
        assert row.status == "no_conversation"
        assert "разговора с оператором не было" in (row.problem or "")
        assert not list((tmp_path / "pbx").rglob("*.wav"))
        service = app[RECORDINGS]
        faults = await Reconciler(app[SESSIONS], service.storage, service.settings.recordings
                                  ).run(flag=False)
        assert faults == []
