"""End to end: the simulator writes real WAV files as MixMonitor and Record() do, the service
turns every answered call and secretary message into a verified, compressed recording linked
to its call and card (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hotline.app import create_app
from hotline.config import Settings
from hotline.sim.simulator import PbxSimulator
from hotline.recordings.playback import open_verified
from hotline.web.keys import SESSIONS
from hotline.keys import MODES, PBX_ACTIONS, RECORDINGS
from journal.models import Call, Recording
from tests.support.service import INSURER_LINE, running, service_settings, settle


@pytest.fixture
async def sim(settings: Settings, tmp_path: Path) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=11,
                            as_configured=True,
                            recordings_dir=tmp_path / "pbx", recording_max_seconds=4.0) as simulator:
        yield simulator


@pytest.fixture
async def client(settings, sim, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    base = service_settings(settings, sim, pg_url, tmp_path)
    app = create_app(base.model_copy(update={
        "service": base.service.model_copy(update={"recordings_dir": tmp_path / "recordings"}),
        "recordings": base.recordings.model_copy(update={"pbx_dir": tmp_path / "pbx"}),
    }))
    async with running(app) as client:
        yield client


async def test_every_call_ends_with_a_verified_linked_compressed_recording(client, sim, tmp_path) -> None:
    app = client.server.app
    scenarios = {"79140000001": "answered", "79140000002": "blind", "79140000003": "attended",
                 "79140000005": "abandoned"}
    for number, scenario in scenarios.items():
        sim.place_call(INSURER_LINE, number, "Белова Нина Петровна", scenario)
    await settle(sim, app)
    # After hours: the electronic secretary records a message.
    await app[MODES].scheduler.set_override(
        INSURER_LINE, "secretary", datetime.now(UTC) + timedelta(hours=1), by="admin")
    sim.place_call(INSURER_LINE, "79140000004", "Белова Нина Петровна", "answered")
    await settle(sim, app)
    async with asyncio.timeout(30):
        while True:
            async with app[SESSIONS]() as session:
                rows = (await session.scalars(select(Recording))).all()
            if rows and all(r.status != "pending" for r in rows):
                break
            await asyncio.sleep(0.1)
    async with app[SESSIONS]() as session:
        calls = {c.id: c for c in (await session.scalars(select(Call))).all()}
        rows = (await session.scalars(select(Recording))).all()
    storage = app[RECORDINGS].storage
    by_caller: dict[str, set[str]] = {}
    never_talked = {calls[r.call_id].caller_number for r in rows if r.status == "no_conversation"}
    # MixMonitor(b) writes only while bridged: the secretary's call and the caller who gave up
    # in the queue never were, so their header-only files go, and no fault is raised.
    assert never_talked == {"79140000004", "79140000005"}
    for row in rows:
        call = calls[row.call_id]
        if row.status == "no_conversation":
            assert row.kind == "call" and row.stored_path is None and call.answered_at is None
            continue
        assert row.status == "stored", (row.pbx_file, row.status, row.problem)
        assert row.card_id == call.card_id is not None
        assert row.format == "ogg" and row.duration_seconds > 0 and row.sha256
        with open_verified(storage, row) as stream:
            assert stream.read(4) == b"OggS"
        by_caller.setdefault(call.caller_number, set()).add(row.kind)
    assert by_caller == {
        "79140000001": {"call"}, "79140000002": {"call"}, "79140000003": {"call"},
        "79140000004": {"message"},
    }
    assert not list((tmp_path / "pbx").rglob("*.wav"))  # every original moved into storage
    assert await app[RECORDINGS].check() == []


async def test_a_callback_is_recorded_and_attached_to_its_card(client, sim) -> None:
    """The operator's "call back" rings their phone, then the citizen; the recording and the
    call land on the card the callback was placed for."""
    from journal.actors import Actor
    from journal.cards import create_written
    from journal.db import unit_of_work

    app = client.server.app
    async with unit_of_work(app[SESSIONS]) as session:
        card = await create_written(
            session, Actor.system("test"), channel="post", organization_id=1,
            received_at=datetime.now(UTC) - timedelta(days=1),
            fields={"applicant_name": "Белова Нина Петровна", "applicant_phone": "79140000006"},
        )
    await app[PBX_ACTIONS].place_callback(
        card_id=card.id, interface="PJSIP/op201", number="+7 (914) 000-00-06", line="88007758565")
    await settle(sim, app)
    async with asyncio.timeout(30):
        while True:
            async with app[SESSIONS]() as session:
                row = await session.scalar(select(Recording).where(Recording.kind == "callback"))
            if row is not None and row.status != "pending":
                break
            await asyncio.sleep(0.1)
    async with app[SESSIONS]() as session:
        call = await session.get(Call, row.call_id)
    assert (call.direction, call.outcome, call.card_id) == ("out", "callback", card.id)
    assert call.caller_number == "79140000006"
    assert row.status == "stored" and row.card_id == card.id
    with open_verified(app[RECORDINGS].storage, row) as stream:
        assert stream.read(4) == b"OggS"
