"""`hotline serve` pointed at a PBX: the simulator speaks AMI over TCP, the service tracks its
calls into the journal (PostgreSQL) with a card for every inbound call, writes each line's mode
to AstDB, and survives a dropped link and an Asterisk restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hotline.keys import CALL_WRITER, MODES, PBX
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS, SETTINGS
from journal.models import CallTransfer, Card, LineMode
from tests.support import service as service_with_pbx
from tests.support.service import INSURER_LINE, SCRAPER, settle
from tests.support.service_calls import OPERATOR, calls_by_caller, timeline, until

# The service on a simulated PBX (fixtures shared with other modules).
client, service, sim = service_with_pbx.client, service_with_pbx.service, service_with_pbx.sim








async def test_every_line_mode_is_written_to_astdb_and_stored(service, sim) -> None:
    for line in service[SETTINGS].lines:
        expected = service[MODES].scheduler.current(line.number).mode
        assert sim.pbx.state.astdb[f"hotline/mode/{line.number}"] == expected
    async with service[SESSIONS]() as session:
        stored = await session.scalar(select(func.count(LineMode.id)))
    assert stored == len(service[SETTINGS].lines)


async def test_calls_of_every_scenario_reach_the_journal_with_cards(service, sim) -> None:
    scenarios = {
        "79130000001": "answered",
        "79130000002": "abandoned",
        "79130000003": "blind",
        "79130000004": "attended",
    }
    for number, scenario in scenarios.items():
        sim.place_call(INSURER_LINE, number, "Сидорова Вера Васильевна", scenario)
    await settle(sim, service)
    calls = await calls_by_caller(service)
    assert {n: calls[n].outcome for n in scenarios} == {
        "79130000001": "answered",
        "79130000002": "abandoned",
        "79130000003": "answered",
        "79130000004": "answered",
    }
    assert {c.caller_name for c in calls.values()} == {"Сидорова Вера Васильевна"}
    assert all(c.line_number == INSURER_LINE and c.card_id for c in calls.values())
    async with service[SESSIONS]() as session:
        cards = (await session.scalars(select(Card))).all()
        transfers = dict(
            (await session.execute(select(CallTransfer.call_id, CallTransfer.kind))).all()
        )
    assert len(cards) == 4 and {c.number.split("-")[0] for c in cards} == {"SOGAZ"}
    assert transfers == {calls["79130000003"].id: "blind", calls["79130000004"].id: "attended"}


async def test_an_override_sends_the_next_call_to_the_secretary(service, sim) -> None:
    await service[MODES].scheduler.set_override(
        INSURER_LINE, "secretary", datetime.now(UTC) + timedelta(hours=1), by="admin")
    assert sim.pbx.state.astdb[f"hotline/mode/{INSURER_LINE}"] == "secretary"
    sim.place_call(INSURER_LINE, "79130000009", "Петров Пётр", "answered")
    await settle(sim, service)
    call = (await calls_by_caller(service))["79130000009"]
    assert call.outcome == "secretary" and call.card_id is not None






class EmittedEvents:
    """What the simulated Asterisk sent (to any client, or to nobody during an outage)."""

    def __init__(self, sim: PbxSimulator) -> None:
        self.events: list[dict[str, str]] = []
        sim.add_listener(lambda headers: self.events.append(dict(headers)))

    @property
    def names(self) -> list[str]:
        return [event.get("Event", "") for event in self.events]


@asynccontextmanager
async def link_down(sim: PbxSimulator, app: web.Application) -> AsyncIterator[None]:
    """The AMI link is cut and stays down (logins refused) until the block ends; then the
    service logs in again and resynchronises. Events of the PBX meanwhile reach nobody."""
    resyncs, secret = app[PBX].resyncs, sim.secret
    sim.secret = "not-the-secret"
    sim.drop_connections()
    try:
        await until(lambda: app[PBX].link_state != "connected")
        yield
    finally:
        sim.secret = secret
    await app[PBX].wait_resynced(resyncs + 1)




async def test_a_call_answered_while_the_link_was_down_has_its_whole_timeline(service, sim) -> None:
    """The link dies while the operator's phone rings; the operator answers during the outage
    (AMI keeps no replay: that AgentConnect is lost). After the resync the call is found
    bridged to the operator, so the journal has arrived, queued, ringing, answered and ended,
    the outcome is "answered" and the card is there."""
    emitted = EmittedEvents(sim)
    placed = sim.place_call(INSURER_LINE, "79130000010", "Кузнецова Анна", "answered",
                            agent=OPERATOR, auto_answer=False, timing=Timing(talk=3600.0))
    await until(lambda: [c.state for c in service[PBX].tracker.calls()] == ["ringing"])
    async with link_down(sim, service):
        assert sim.answer(OPERATOR)
        await until(lambda: "AgentConnect" in emitted.names)
    # Still talking after the resync: the snapshot shows the citizen bridged with the phone.
    await until(lambda: [c.state for c in service[PBX].tracker.calls()] == ["talking"])
    assert placed.caller is not None and sim.hangup(placed.caller.name)
    await placed.finished()
    await settle(sim, service)
    call = (await calls_by_caller(service))["79130000010"]
    assert (call.outcome, call.answered_at is not None) == ("answered", True)
    assert await timeline(service, call.id) == [
        "call_arrived", "call_queued", "operator_ringing", "operator_answered", "call_ended"]
    assert call.answered_interface == OPERATOR
    async with service[SESSIONS]() as session:
        card = await session.get(Card, call.card_id)
    assert card is not None and card.number.startswith("SOGAZ-")


async def test_a_call_waiting_in_the_queue_through_a_link_cut_has_its_whole_timeline(
    service, sim
) -> None:
    """The only operator is busy; a second citizen waits in the queue when the link dies and
    still waits when it is back (the snapshot shows the caller in the queue: not queued a
    second time). The operator frees up, the second call rings and is answered with the link
    up: its timeline is whole and in order, once."""
    sim.place_call(INSURER_LINE, "79130000017", "Белова Нина", "answered",
                   agent=OPERATOR, timing=Timing(talk=3600.0))
    await until(lambda: [c.state for c in service[PBX].tracker.calls()] == ["talking"])
    waiting = sim.place_call(INSURER_LINE, "79130000018", "Котова Вера", "answered", agent=OPERATOR)
    await until(lambda: sorted(c.state for c in service[PBX].tracker.calls()) == ["queued", "talking"])
    async with link_down(sim, service):
        assert sim.active_calls == 2  # both citizens are still on the PBX meanwhile
    first = next(c for c in sim.pbx.state.channels.values()
                 if c.name.startswith("PJSIP/trunk") and c.caller_num == "79130000017")
    assert sim.hangup(first.uniqueid)
    await waiting.finished()
    await settle(sim, service)
    calls = await calls_by_caller(service)
    second = calls["79130000018"]
    assert (second.outcome, second.answered_interface) == ("answered", OPERATOR)
    assert second.card_id is not None
    assert await timeline(service, second.id) == [
        "call_arrived", "call_queued", "operator_ringing", "operator_answered", "call_ended"]
    assert calls["79130000017"].outcome == "answered"


async def test_a_call_that_ended_while_the_link_was_down_is_closed_after_the_resync(
    service, sim
) -> None:
    """The link dies while the citizen talks to the operator; the citizen hangs up during
    the outage. The resync finds the channels gone: the call is ended (interrupted, since
    nobody saw how), keeping its answer and the whole timeline before it, and its card."""
    sim.place_call(INSURER_LINE, "79130000013", "Фролова Нина", "answered",
                   agent=OPERATOR, timing=Timing(talk=3600.0))
    await until(lambda: [c.state for c in service[PBX].tracker.calls()] == ["talking"])
    async with link_down(sim, service):
        caller = next(c for c in sim.pbx.state.channels.values() if c.name.startswith("PJSIP/trunk"))
        assert sim.hangup(caller.uniqueid)
        await sim.wait_idle(timeout=10)
    await service[CALL_WRITER].flushed(timeout=20)
    call = (await calls_by_caller(service))["79130000013"]
    assert call.outcome == "interrupted" and call.ended_at is not None
    assert call.answered_at is not None and call.card_id is not None
    assert await timeline(service, call.id) == [
        "call_arrived", "call_queued", "operator_ringing", "operator_answered", "call_ended"]
    assert service[PBX].tracker.calls() == []


async def test_asterisk_restart_closes_calls_as_interrupted_and_rewrites_modes(service, sim) -> None:
    """Asterisk restarts while one citizen talks and another waits for an operator: after the
    reconnect FullyBooted reports a small uptime, so both calls are closed as interrupted
    (their channels died with the PBX, no Hangup ever comes), their cards stay, and every
    line's mode is written to AstDB again (even if AstDB had lost it)."""
    sim.place_call(INSURER_LINE, "79130000011", "Орлова Ольга", "answered",
                   agent=OPERATOR, timing=Timing(talk=3600.0))
    await until(lambda: [c.state for c in service[PBX].tracker.calls()] == ["talking"])
    sim.place_call(INSURER_LINE, "79130000014", "Седова Анна", "answered",
                   agent=OPERATOR, auto_answer=False)
    await until(lambda: len(service[PBX].tracker.calls()) == 2)
    await service[CALL_WRITER].flushed()
    sim.pbx.state.astdb.clear()
    await sim.restart(uptime=1.0)
    await service[PBX].wait_resynced(2)
    await service[CALL_WRITER].flushed()
    assert service[PBX].last_resync.restarted
    assert service[PBX].tracker.calls() == []
    calls = await calls_by_caller(service)
    assert {n: calls[n].outcome for n in ("79130000011", "79130000014")} == {
        "79130000011": "interrupted", "79130000014": "interrupted"}
    assert calls["79130000011"].answered_at is not None
    for call in calls.values():
        assert call.ended_at is not None and call.card_id is not None
        assert (await timeline(service, call.id))[-1] == "call_ended"
    assert set(sim.pbx.state.astdb) == {f"hotline/mode/{ln.number}" for ln in service[SETTINGS].lines}
    for line in service[SETTINGS].lines:
        expected = service[MODES].scheduler.current(line.number).mode
        assert sim.pbx.state.astdb[f"hotline/mode/{line.number}"] == expected


async def test_healthz_reports_the_pbx_link_and_the_writer(client, sim) -> None:
    response = await client.get("/healthz", headers=SCRAPER)
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok"
    assert body["pbx"]["state"] == "connected"
    assert body["pbx"]["journal_writer"]["state"] == "ok"
    metrics = await (await client.get("/metrics", headers=SCRAPER)).text()
    assert 'hotline_ami_connected{pbx="main"} 1.0' in metrics  # the only PBX, by its default name
    # Anyone else: a bare liveness, no PBX address; no metrics.
    bare = await client.get("/healthz")
    assert bare.status == 200 and await bare.json() == {"status": "ok"}
    refused = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status == 401 and "hotline_ami" not in await refused.text()


async def test_a_secretary_call_ends_as_a_card_with_a_message_and_a_morning_callback(
    service, sim
) -> None:
    """The plain-dialplan secretary (the service's FastAGI is not used here): the message
    still becomes a callback task on the call's card, due when the operators are next on."""
    from journal.models import CallbackTask, Recording
    await service[MODES].scheduler.set_override(
        INSURER_LINE, "secretary", datetime.now(UTC) + timedelta(hours=1), by="admin")
    sim.place_call(INSURER_LINE, "79130000012", "Зайцева Ирина", "answered")
    await settle(sim, service)
    call = (await calls_by_caller(service))["79130000012"]
    async with service[SESSIONS]() as session:
        tasks = (await session.scalars(select(CallbackTask))).all()
        message = await session.scalar(select(Recording).where(Recording.kind == "message"))
        card = await session.get(Card, call.card_id)
    assert call.outcome == "secretary" and message.card_id == card.id
    assert [(t.card_id, t.contact_phone, t.status) for t in tasks] == [
        (card.id, "79130000012", "pending")]
    # A 24/7 line: operators are on duty, so within the hour (not the next morning).
    assert tasks[0].due_at <= datetime.now(UTC) + timedelta(minutes=61)
    assert card.status == "in_work" and card.content == "Сообщение автосекретарю"


def inject(sim: PbxSimulator, data: bytes) -> None:
    """Raw bytes to every logged-in AMI client, as a broken or hostile PBX would send them."""
    sessions = [session for session in sim.server.sessions if session.authenticated]
    assert sessions, "the service is logged in"
    for session in sessions:
        session.send_raw(data)


async def metric(client: TestClient, name: str, **labels: str) -> float:
    """One sample of /metrics (0 when absent), read as Prometheus would."""
    from prometheus_client.parser import text_string_to_metric_families

    text = await (await client.get("/metrics", headers=SCRAPER)).text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


async def test_hostile_ami_frames_are_counted_and_skipped_and_calls_go_on(client, sim) -> None:
    """The PBX link carries garbage: binary, a 1 MB value, an ambiguous message (two Events),
    an unknown event, a Hangup of a channel never announced and an event about a channel
    already gone (out of order), and a message cut by a dropped link. Each is counted in
    /metrics by reason and skipped; the link is never dropped for them, and the next
    citizen's call still reaches the journal whole, with its card."""
    app = client.server.app
    emitted = EmittedEvents(sim)
    sim.place_call(INSURER_LINE, "79130000015", "Ершова Ирина", "answered")
    await settle(sim, app)
    gone = next(e["Uniqueid"] for e in emitted.events if e.get("Event") == "Hangup")
    skipped = "hotline_tracker_events_skipped_total"
    before = {r: await metric(client, skipped, pbx="main", reason=r)
              for r in ("unknown", "orphan", "late")}
    inject(sim, b"".join([
        b"\xff\xfe\x00\x80\xc3binary\r\n\r\n",
        b"Event: UserEvent\r\nUserEvent: HotlineMessage\r\nFile: " + b"x" * (1 << 20) + b"\r\n\r\n",
        b"Event: UserEvent\r\nUniqueid: 1795000000.7\r\nEvent: Hangup\r\n\r\n",
        b"Event: Hangup\r\nChannel: PJSIP/trunk-0000ffff\r\nUniqueid: 1795000000.9\r\n"
        b"Linkedid: 1795000000.9\r\nCause: 16\r\n\r\n",
        f"Event: VarSet\r\nChannel: PJSIP/x\r\nUniqueid: {gone}\r\nVariable: X\r\nValue: \r\n\r\n".encode(),
        b"Event: FancyNewEvent2030\r\nPrivilege: call,all\r\n\r\n",
    ]))
    await until(lambda: app[PBX].tracker.stats.unknown > 0)
    assert app[PBX].link_state == "connected" and app[PBX].resyncs == 1
    ami = "hotline_ami_malformed_total"
    assert [await metric(client, ami, pbx="main", reason=r)
            for r in ("not_utf8", "oversized", "repeated_key")] == [1, 1, 1]
    after = {r: await metric(client, skipped, pbx="main", reason=r)
             for r in ("unknown", "orphan", "late")}
    assert {r: after[r] - before[r] for r in after} == {"unknown": 1, "orphan": 1, "late": 1}

    inject(sim, b"Event: Newchannel\r\nChannel: PJSIP/trunk-0000fffe\r\nUniqueid: 17")
    await until(lambda: app[PBX].health()["partial_frame_bytes"] > 0)
    sim.drop_connections()
    await app[PBX].wait_resynced(2)
    assert await metric(client, ami, pbx="main", reason="truncated") == 1

    sim.place_call(INSURER_LINE, "79130000016", "Ершова Ирина", "answered")
    await settle(sim, app)
    call = (await calls_by_caller(app))["79130000016"]
    assert call.outcome == "answered" and call.card_id is not None
    assert await timeline(app, call.id) == [
        "call_arrived", "call_queued", "operator_ringing", "operator_answered", "call_ended"]
    assert app[PBX].tracker.stats.internal_errors == 0




