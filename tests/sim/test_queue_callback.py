"""Key 1 in the queue on the simulator against the real Asterisk 22 (tests/fixtures/ami/
queue_callback.jsonl), and through the whole service.

The recorded scenario played again on the simulator (as configured, the fund's two phones):
op101 talks to a first citizen, op102 is paused, a second citizen waits in `l1-tfoms`, hears
the offer and presses 1; the dialplan's `hotline-queue-exit` runs the service's FastAGI
`queue-callback` script (the real IvrService over a real socket), which confirms the caller's
number and sends UserEvent HotlineQueueCallback. Every message about that caller's channel
must be the recorded one: the same events in the same order, the same header names in the
same order. Then the whole service on the simulator: the call ends «queue_callback» and its
level-1 callback task is in the operators' queue of untaken callbacks.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.config import Settings
from hotline.ivr.loader import load_scripts
from hotline.ivr.service import IvrService
from hotline.pbx.ami.wire import AmiFramer
from hotline.pbx.events import CallEnded
from hotline.pbx.tracking.calls import CallTracker
from hotline.sim.agi import AgiTarget
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from journal.calendar import load_calendar_dir
from journal.cards import CardRules
from journal.db import make_sessionmaker
from tests.support.ami_client import AmiClient
from tests.support.ami_stream import FUND_ROSTER as ROSTER, Normaliser, messages
from tests.support.paths import REPO

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
LINE = "88007758565"
RECORDED_CALLER = "1796200395.8"  # the citizen who pressed 1 in the recording
EXPECTED = [
    "Newchannel", "HangupHandlerPush", "Newstate", "MixMonitorStart", "QueueCallerJoin",
    "QueueCallerLeave", "UserEvent", "SoftHangupRequest", "HangupHandlerRun", "Hangup",
]


def recorded() -> bytes:
    with (FIXTURES / "queue_callback.jsonl").open(encoding="utf-8") as lines:
        return "".join(r["data"] for r in map(json.loads, lines) if r["dir"] == "in").encode()


def about_channel(stream: list[list[tuple[str, str]]], uniqueid: str) -> list[list[tuple[str, str]]]:
    return [m for m in stream if m[0][0] == "Event" and ("Uniqueid", uniqueid) in m]


@pytest.fixture
async def ivr(settings: Settings, pg_only_engine) -> AsyncIterator[AgiTarget]:
    """The service's FastAGI scripts (the real IvrService) on a free port, on PostgreSQL."""
    from hotline.bootstrap import sync_region

    sessions = make_sessionmaker(pg_only_engine)
    await sync_region(sessions, settings)
    service = IvrService(settings, load_scripts(REPO / "ivr_scripts", settings),
                         load_calendar_dir(REPO / "config" / "calendar"), sessions, CardRules())
    server = service.server()
    server.host, server.port = "127.0.0.1", 0
    await server.start()
    try:
        yield AgiTarget("127.0.0.1", server.port)
    finally:
        await server.stop()


@pytest.fixture
async def sim(settings: Settings, ivr: AgiTarget) -> AsyncIterator[PbxSimulator]:
    timing = Timing(ring=1.0, talk=10_000)
    simulator = PbxSimulator(settings, time_scale=0.01, timing=timing, as_configured=True,
                             roster=ROSTER, auth_failure_delay=0.0, seed=11, agi=ivr)
    async with simulator:
        yield simulator


async def play_the_recorded_scenario(sim: PbxSimulator) -> tuple[bytes, str, str | None]:
    """What the real test did, on the simulator: everything AMI sent, from the login on."""
    client = await AmiClient.connect(sim)
    try:
        await client.login()
        await client.reply(client.send("QueuePause", Interface="PJSIP/op102", Paused="true",
                                       Reason="обед"))
        first = sim.place_call(LINE, "79131112311", "Занятой Захар", agent="PJSIP/op101")
        await client.event("BridgeEnter", BridgeNumChannels="2")
        second = sim.place_call(LINE, "79131112312", "Спешащая Светлана", "queue_callback")
        outcome = await asyncio.wait_for(second.finished(), 20)
        assert sim.hangup(first.uniqueid or "")
        await asyncio.wait_for(first.finished(), 10)
        await asyncio.sleep(0.05)
        return bytes(client.raw), second.uniqueid or "", outcome
    finally:
        await client.close()


async def test_key_1_in_the_queue_is_what_asterisk_22_sent(sim: PbxSimulator) -> None:
    raw, caller, outcome = await play_the_recorded_scenario(sim)
    assert outcome == "queue_callback"
    ours = about_channel(messages(raw), caller)
    real = about_channel(messages(recorded()), RECORDED_CALLER)
    assert [m[0][1] for m in real] == EXPECTED
    assert [m[0][1] for m in ours] == EXPECTED
    ours_n, real_n = Normaliser(), Normaliser()
    for mine, theirs in zip(ours, real, strict=True):
        assert [k for k, _ in ours_n.message(mine)] == [k for k, _ in real_n.message(theirs)], \
            mine[0][1]
    # Where the caller is when each happens: app_queue's exit context (priority 0 on leaving),
    # the AGI's priority for its UserEvent, Hangup() at `done`; the UserEvent names the line.
    def where(stream: list[list[tuple[str, str]]]) -> list[tuple[str, ...]]:
        return [(m[0][1], d["Context"], d["Exten"], d["Priority"], d.get("UserEvent", ""),
                 d.get("Line", ""), d.get("Cause", ""))
                for m in stream[5:] for d in [dict(m)]]
    assert where(ours) == where(real)


async def test_the_simulated_stream_ends_queue_callback_in_the_tracker(sim: PbxSimulator) -> None:
    raw, _, _ = await play_the_recorded_scenario(sim)
    framer, tracker, events = AmiFramer(banner=""), CallTracker(), []
    from datetime import UTC, datetime
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    for message in messages(raw):
        text = "".join(f"{k}: {v}\r\n" for k, v in message) + "\r\n"
        for parsed in framer.feed(text.encode("utf-8")):
            events.extend(tracker.feed(parsed, at))
    assert sorted(e.outcome for e in events if isinstance(e, CallEnded)) == [
        "answered", "queue_callback"]
    assert tracker.stats.orphans == 0 and list(tracker.problems) == []


async def test_without_the_service_the_plain_secretary_takes_a_message(settings) -> None:
    """AGI() finds nobody (the service down, or agi_serve off): the dialplan goes on to the
    plain-dialplan secretary, whose message carries the number to call back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with PbxSimulator(settings, time_scale=0.01, timing=Timing(ring=1.0, talk=10_000),
                            as_configured=True, roster=ROSTER, auth_failure_delay=0.0,
                            agi=AgiTarget("127.0.0.1", closed)) as sim:
        sim.pause_from_phone("PJSIP/op102", True, "обед")
        first = sim.place_call(LINE, "79131112311", "Занятой Захар", agent="PJSIP/op101")
        await asyncio.sleep(0.1)
        second = sim.place_call(LINE, "79131112312", "Спешащая Светлана", "queue_callback")
        assert await asyncio.wait_for(second.finished(), 20) == "message"
        sim.hangup(first.uniqueid or "")
        await asyncio.wait_for(first.finished(), 10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_service_ends_the_call_queue_callback_with_its_level_1_task(
    settings: Settings, pg_only_engine, pg_url, tmp_path,
) -> None:
    """`hotline serve` with its FastAGI on, the simulator's dialplan pointed at it: the citizen
    who presses 1 in the insurer's queue ends «queue_callback», and the level-1 operators see
    the task at once among the untaken callbacks (origin «queue», the caller's own number)."""
    from hotline.app import create_app
    from hotline.web.keys import SESSIONS
    from journal.models import Call
    from sqlalchemy import select
    from tests.support.api import Api
    from tests.support.service import INSURER_LINE, running, service_settings, settle

    port = free_port()
    async with PbxSimulator(settings, time_scale=0.01, timing=Timing(ring=1.0, talk=10_000),
                            auth_failure_delay=0, seed=7, as_configured=True,
                            agi=AgiTarget("127.0.0.1", port)) as sim:
        configured = service_settings(settings, sim, pg_url, tmp_path)
        configured = configured.model_copy(update={"asterisk": configured.asterisk.model_copy(
            update={"agi_serve": True, "agi_bind": "127.0.0.1", "agi_port": port,
                    "agi_secret": ""})})
        async with running(create_app(configured)) as client:
            app = client.server.app
            org = settings.organization(settings.line(INSURER_LINE).organization)
            phones = [m.interface for m in sim.pbx.state.queues[org.level1_queue].members]
            for phone in phones[1:]:
                sim.pause_from_phone(phone, True, "обед")
            busy = sim.place_call(INSURER_LINE, "79131112311", "Занятой Захар", agent=phones[0])
            await asyncio.sleep(0.2)
            asked = sim.place_call(INSURER_LINE, "79131112312", "Спешащая Светлана",
                                   "queue_callback")
            assert await asyncio.wait_for(asked.finished(), 20) == "queue_callback"
            sim.hangup(busy.uniqueid or "")
            await settle(sim, app)
            async with app[SESSIONS]() as session:
                call = await session.scalar(select(Call).where(
                    Call.caller_number == "79131112312"))
            assert call is not None and call.outcome == "queue_callback"
            api = Api(client)
            await api.add_user("op-sogaz", org.code)
            await api.login("op-sogaz")
            untaken = (await api.call("GET", "/api/v1/callbacks?assigned=none"))["items"]
            # The level-1 operator's queue of untaken callbacks (journal.callbacks.callback_queue).
            assert [(t["origin"], t["contact_phone"], t["status"], t["card_id"])
                    for t in untaken] == [("queue", "89131112312", "pending", call.card_id)]
