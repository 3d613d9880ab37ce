"""The PBX simulator against the real Asterisk 22 AMI sessions in ../shared/ami-transcripts.

Every test talks to the simulator over real TCP with a raw asyncio client and the project's
byte framer, so what is checked is the wire: banner, login, responses, event names, their
order and the order of their header keys, compared with what a real Asterisk sent.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.config import Settings
from hotline.pbx.config.render import render
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.wire import AmiFramer
from hotline.sim.simulator import PbxSimulator, Timing
from tests.support.ami_client import FAST, SCALE, AmiClient
from tests.support.paths import REPO
from tests.support.transcripts import TRANSCRIPTS, load

LINE = "88007758565"
CITIZEN = "79161234567"
CITIZEN_NAME = "Иванов Иван Петрович"
# Events every production PBX sends that say nothing about the call's story.
NOISE = {"VarSet", "Newexten", "DeviceStateChange", "RTCPSent", "RTCPReceived"}
SESSION = {"FullyBooted", "SuccessfulAuth"}
# Which operator took each recorded call (the phones differ: op101 has its own caller id).
AGENT = {
    "operator_answered": "PJSIP/op102",
    "abandoned_in_queue": "PJSIP/op101",
    "blind_transfer_to_level2": "PJSIP/op102",
    "attended_transfer_to_level2": "PJSIP/op101",
    "secretary_message": None,
}






@pytest.fixture
async def client(sim: PbxSimulator) -> AsyncIterator[AmiClient]:
    ami = await AmiClient.connect(sim)
    response = await ami.login()
    assert response.get("Response") == "Success"
    await ami.event("SuccessfulAuth")
    yield ami
    await ami.close()


# -- helpers over transcripts ---------------------------------------------------------------


def _records(name: str) -> list[dict[str, Any]]:
    with (TRANSCRIPTS / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _wire_messages(data: bytes) -> list[tuple[AmiMessage, str]]:
    """Messages with their exact text (the framer keeps values, we want the key order too)."""
    out = []
    body = bytes(data)
    if body.startswith(b"Asterisk Call Manager/"):
        body = body.split(b"\r\n", 1)[1]
    for raw in body.split(b"\r\n\r\n"):
        if not raw.strip():
            continue
        text = raw.decode("utf-8")
        message = list(AmiFramer(banner="").feed(raw + b"\r\n\r\n"))[0]
        out.append((message, text))
    return out


def _transcript_messages(name: str) -> list[tuple[AmiMessage, str]]:
    data = "".join(r["data"] for r in _records(name) if r["dir"] == "in").encode("utf-8")
    return _wire_messages(data)


def _story(pairs: list[tuple[AmiMessage, str]]) -> list[str]:
    return [m["Event"] for m, _ in pairs if "Event" in m and m["Event"] not in NOISE | SESSION]


def _shapes(pairs: list[tuple[AmiMessage, str]]) -> dict[str, set[tuple[str, ...]]]:
    shapes: dict[str, set[tuple[str, ...]]] = {}
    for message, text in pairs:
        if "Event" not in message:
            continue
        keys = tuple(
            k for k in (line.partition(":")[0] for line in text.split("\r\n") if line)
            if not k.endswith("ChanVariable")
        )
        shapes.setdefault(message["Event"], set()).add(keys)
    return shapes


def _assert_like_transcript(name: str, data: bytes) -> None:
    """Same story (event names, noise aside) and every event shape seen in the recording."""
    real = _transcript_messages(name)
    ours = _wire_messages(data)
    assert _story(ours) == _story(real)
    real_shapes, our_shapes = _shapes(real), _shapes(ours)
    for event, shapes in our_shapes.items():
        if event in real_shapes:
            assert shapes <= real_shapes[event], event


async def _play(sim: PbxSimulator, client: AmiClient, scenario: str) -> bytes:
    start = len(client.raw)
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, scenario, agent=AGENT[scenario])
    await asyncio.wait_for(call.finished(), 10)
    await _settle()
    return bytes(client.raw[start:])


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


# -- session ------------------------------------------------------------------------------


async def test_banner_and_login_are_byte_exact(sim: PbxSimulator) -> None:
    """Banner, login reply and FullyBooted read exactly as Asterisk 22 writes them."""
    reader, writer = await asyncio.open_connection(*sim.address)
    try:
        banner = await asyncio.wait_for(reader.readline(), 5)
        real = _records("operator_answered")
        assert banner.decode() == real[0]["data"]
        writer.write(real[1]["data"].encode())
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert reply.decode() == real[2]["data"]
        booted = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        assert _keys_of(booted) == _keys_of(real[3]["data"])
        assert booted.startswith("Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: ")
        assert int(booted.split("Uptime: ")[1].split("\r\n")[0]) >= 90  # simulated seconds
        auth = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        keys = [line.partition(":")[0] for line in auth.split("\r\n") if line]
        assert keys == [line.partition(":")[0] for line in real[4]["data"].split("\r\n") if line]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_wrong_secret_is_refused_and_disconnected(sim: PbxSimulator) -> None:
    """Asterisk answers `Authentication failed` and closes the session."""
    ami = await AmiClient.connect(sim)
    try:
        reply = await ami.login(secret="wrong")
        assert (reply["Response"], reply["Message"]) == ("Error", "Authentication failed")
        async with asyncio.timeout(5):
            await ami._task  # noqa: SLF001 - the server closed the connection
        assert not any(m.get("Event") for m in ami.messages)
    finally:
        await ami.close()


async def test_actions_before_login_and_unknown_actions(sim: PbxSimulator) -> None:
    """No events and no actions before Login; unknown actions get Asterisk's wording."""
    ami = await AmiClient.connect(sim)
    try:
        denied = await ami.reply(ami.send("Ping"))
        assert (denied["Response"], denied["Message"]) == ("Error", "Permission denied")
        sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "abandoned")
        await ami.login()
        unknown = await ami.reply(ami.send("NoSuchThing"))
        assert unknown["Message"] == (
            "Invalid/unknown command: NoSuchThing. Use Action: ListCommands to show available commands."
        )
        await sim.wait_idle()
    finally:
        await ami.close()


async def test_ping_getvar_and_originate_errors_as_in_resync(client: AmiClient) -> None:
    """Ping, a Getvar of an unset global and an Originate to nowhere, shaped as recorded."""
    real = {m.get("ActionID"): (m, t) for m, t in _transcript_messages("resync_snapshot") if "Response" in m}
    pong = await client.reply(client.send("Ping"))
    assert list(pong.keys()) == list(real["cap-6"][0].keys())
    getvar = await client.reply(client.send("Getvar", Variable="HOTLINE_NOPE"))
    assert dict(getvar) | {"ActionID": "cap-7"} == dict(real["cap-7"][0])
    originate = await client.reply(client.send("Originate", Channel="PJSIP/nosuch", Exten="1", Context="x", Priority="1"))
    assert (originate["Response"], originate["Message"]) == ("Error", "Extension does not exist.")


# -- scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(AGENT))
async def test_scenario_matches_its_transcript(sim: PbxSimulator, client: AmiClient, scenario: str) -> None:
    """The scripted scenario tells the same story as the real session, in the same shapes."""
    data = await _play(sim, client, scenario)
    _assert_like_transcript(scenario, data)


async def test_snapshot_carries_hotline_id(sim: PbxSimulator, client: AmiClient) -> None:
    """With channelvars=HOTLINE_ID every snapshot ends with `ChanVariable: HOTLINE_ID=...`."""
    data = await _play(sim, client, "operator_answered")
    pairs = _wire_messages(data)
    joined = next(t for m, t in pairs if m.get("Event") == "QueueCallerJoin")
    keys = [line.partition(":")[0] for line in joined.split("\r\n")]
    assert keys[keys.index("Linkedid") + 1] == "ChanVariable"
    message = next(m for m, _ in pairs if m.get("Event") == "QueueCallerJoin")
    assert message["ChanVariable"] == f"HOTLINE_ID={message['Uniqueid']}"
    varset = next(m for m, _ in pairs if m.get("Event") == "VarSet" and m["Variable"] == "__HOTLINE_ID")
    assert varset["Value"] == message["Uniqueid"]
    agent = next(m for m, _ in pairs if m.get("Event") == "AgentConnect")
    assert agent["DestChanVariable"] == f"HOTLINE_ID={message['Uniqueid']}"


async def test_channelvars_off_gives_the_transcript_shape(settings: Settings) -> None:
    """Without channelvars the snapshots are exactly the recorded ones."""
    async with PbxSimulator(settings, time_scale=SCALE, timing=FAST, channelvars=(), auth_failure_delay=0) as sim:
        ami = await AmiClient.connect(sim)
        try:
            await ami.login()
            data = await _play(sim, ami, "operator_answered")
            assert b"ChanVariable" not in data
        finally:
            await ami.close()


async def test_ami_blind_transfer_drives_the_level2_continuation(sim: PbxSimulator, client: AmiClient) -> None:
    """BlindTransfer of the operator's channel, as the service sends it, replays the recording."""
    start = len(client.raw)
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", agent="PJSIP/op102",
                          timing=Timing(talk=10_000, level2_talk=13.0))
    enter = await client.event("BridgeEnter", BridgeNumChannels="2")
    agent = next(c for c in call.channels if c.name.startswith("PJSIP/op102"))
    reply = await client.reply(client.send("BlindTransfer", Channel=agent.name, Context="hotline-l2", Exten="tfoms"))
    assert [(k, reply[k]) for k in reply.keys() if k != "content"] == [
        ("Response", "Success"), ("ActionID", "cap-2"), ("Message", "Transfer succeeded"),
    ]
    await asyncio.wait_for(call.finished(), 10)
    await _settle()
    data = bytes(client.raw[start:])
    # The ring order of the first operator differs by a thread race; compare from the transfer.
    ours = _story(_wire_messages(data))
    real = _story(_transcript_messages("blind_transfer_to_level2"))
    assert ours[ours.index("Unhold"):] == real[real.index("Unhold"):]
    blind = next(m for m, _ in _wire_messages(data) if m.get("Event") == "BlindTransfer")
    assert (blind["IsExternal"], blind["Context"], blind["Extension"]) == ("Yes", "hotline-l2", "tfoms")
    assert enter["BridgeUniqueid"] == blind["BridgeUniqueid"]
    assert call.outcome == "transferred"


async def test_ami_atxfer_and_hangup_complete_an_attended_transfer(sim: PbxSimulator, client: AmiClient) -> None:
    """Atxfer to 2000, the level-2 phone answers, the transferer is hung up: AttendedTransfer."""
    start = len(client.raw)
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", agent="PJSIP/op101",
                          timing=Timing(talk=10_000, consult=10_000, level2_talk=13.0))
    await client.event("BridgeEnter", BridgeNumChannels="2")
    agent = next(c for c in call.channels if c.name.startswith("PJSIP/op101"))
    queued = await client.reply(client.send("Atxfer", Channel=agent.name, Context="hotline-l2", Exten="2000"))
    assert queued["Message"] == "Atxfer successfully queued"
    await client.event("AgentConnect", Queue="l2-tfoms")
    await client.event("BridgeEnter", timeout=5)
    hung = await client.reply(client.send("Hangup", Channel=agent.uniqueid))
    assert hung["Message"] == "Channel Hungup"
    await asyncio.wait_for(call.finished(), 10)
    await _settle()
    ours = _story(_wire_messages(bytes(client.raw[start:])))
    real = _story(_transcript_messages("attended_transfer_to_level2"))
    assert ours[ours.index("DTMFEnd"):] == real[real.index("DTMFEnd"):]


async def test_originate_callback(sim: PbxSimulator, client: AmiClient) -> None:
    """Originate into `callback` as the recording: queued reply, the story, OriginateResponse."""
    start = len(client.raw)
    action_id = client.send(
        "Originate", Channel="PJSIP/op201", Context="callback", Exten=CITIZEN, Priority="1",
        CallerID='"Горячая линия ТФОМС" <88007758565>', Async="true", Timeout="30000",
        Variable="HOTLINE_CARD=22-2026-000042",
    )
    reply = await client.reply(action_id)
    assert reply["Message"] == "Originate successfully queued"
    response = await client.event("OriginateResponse")
    assert (response["ActionID"], response["Response"], response["Reason"]) == (action_id, "Success", "4")
    assert response["CallerIDName"] == "Горячая линия ТФОМС"
    await client.event("QueueMemberStatus", Status="1", Interface="PJSIP/op201")
    await _settle()
    data = bytes(client.raw[start:])
    _assert_like_transcript("callback_originate", data)
    pairs = _wire_messages(data)
    card = next(m for m, _ in pairs if m.get("Event") == "VarSet" and m["Variable"] == "HOTLINE_CARD")
    assert card["Value"] == "22-2026-000042"


async def test_synchronous_originate_waits_for_the_phone(sim: PbxSimulator, client: AmiClient) -> None:
    """Without Async the reply comes only once the operator's phone answered."""
    action_id = client.send("Originate", Channel="PJSIP/op201", Context="callback", Exten=CITIZEN, Priority="1")
    reply = await client.reply(action_id)
    assert reply["Message"] == "Originate successfully queued"
    assert any(m.get("Event") == "DialEnd" and m.get("DialStatus") == "ANSWER" for m in client.messages)
    await sim.wait_idle()


# -- actions ------------------------------------------------------------------------------


async def test_dbput_dbget_dbdel_round_trip(client: AmiClient) -> None:
    """DBPut, then DBGet answers a list shaped like the recorded one; DBDel removes it."""
    put = await client.reply(client.send("DBPut", Family="hotline", Key=f"mode/{LINE}", Val="secretary"))
    assert put["Message"] == "Updated database successfully"
    start = len(client.raw)
    got_id = client.send("DBGet", Family="hotline", Key=f"mode/{LINE}")
    await client.event("DBGetComplete")
    ours = _wire_messages(bytes(client.raw[start:]))
    real = [p for p in _transcript_messages("resync_snapshot") if p[0].get("ActionID") == "cap-5"]
    assert [_keys_of(t) for _, t in ours] == [_keys_of(t) for _, t in real]
    assert ours[1][0]["Val"] == "secretary" and ours[1][0]["ActionID"] == got_id
    deleted = await client.reply(client.send("DBDel", Family="hotline", Key=f"mode/{LINE}"))
    assert deleted["Message"] == "Key deleted successfully"
    missing = await client.reply(client.send("DBGet", Family="hotline", Key=f"mode/{LINE}"))
    assert (missing["Response"], missing["Message"]) == ("Error", "Database entry not found")


def _keys_of(text: str) -> list[str]:
    return [line.partition(":")[0] for line in text.split("\r\n") if line]


async def test_astdb_mode_routes_the_call(sim: PbxSimulator, client: AmiClient) -> None:
    """The dialplan reads `hotline/mode/<line>`: secretary mode takes a message."""
    await client.reply(client.send("DBPut", Family="hotline", Key=f"mode/{LINE}", Val="secretary"))
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered")
    assert await asyncio.wait_for(call.finished(), 10) == "message"
    event = await client.event("UserEvent")
    assert (event["UserEvent"], event["Line"], event["Caller"]) == ("HotlineMessage", LINE, CITIZEN)


async def test_queue_add_pause_remove_events(sim: PbxSimulator, client: AmiClient) -> None:
    """QueueAdd/QueuePause/QueueRemove answer like Asterisk and emit the member events."""
    added = await client.reply(client.send("QueueAdd", Queue="l1-tfoms", Interface="PJSIP/op105",
                                           MemberName="Орлова Д.Д.", Penalty="0", Paused="false"))
    assert added["Message"] == "Added interface to queue"
    event = await client.event("QueueMemberAdded")
    status = next(m for m, _ in _transcript_messages("operator_answered") if m.get("Event") == "QueueMemberStatus")
    assert list(event.keys()) == list(status.keys())
    assert (event["Interface"], event["MemberName"], event["Membership"]) == ("PJSIP/op105", "Орлова Д.Д.", "dynamic")
    again = await client.reply(client.send("QueueAdd", Queue="l1-tfoms", Interface="PJSIP/op105"))
    assert again["Message"] == "Unable to add interface: Already there"
    paused = await client.reply(client.send("QueuePause", Queue="l1-tfoms", Interface="PJSIP/op105",
                                            Paused="true", Reason="обед"))
    assert paused["Message"] == "Interface paused successfully"
    pause = await client.event("QueueMemberPause")
    assert (pause["Paused"], pause["PausedReason"]) == ("1", "обед")
    unpaused = await client.reply(client.send("QueuePause", Interface="PJSIP/op105", Paused="false"))
    assert unpaused["Message"] == "Interface unpaused successfully"
    removed = await client.reply(client.send("QueueRemove", Queue="l1-tfoms", Interface="PJSIP/op105"))
    assert removed["Message"] == "Removed interface from queue"
    await client.event("QueueMemberRemoved")
    static = await client.reply(client.send("QueueRemove", Queue="l1-tfoms", Interface="PJSIP/op101"))
    assert static["Message"] == "Member not dynamic"
    nobody = await client.reply(client.send("QueuePause", Interface="PJSIP/op999", Paused="true"))
    assert nobody["Message"] == "Interface not found"


async def test_paused_member_is_not_rung(sim: PbxSimulator, client: AmiClient) -> None:
    """A paused operator's phone stays silent; the other one rings."""
    await client.reply(client.send("QueuePause", Queue="l1-tfoms", Interface="PJSIP/op101", Paused="true"))
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered")
    called = await client.event("AgentCalled")
    assert called["Interface"] == "PJSIP/op102"
    await asyncio.wait_for(call.finished(), 10)


async def test_resync_lists_are_shaped_like_asterisk(sim: PbxSimulator, client: AmiClient) -> None:
    """CoreShowChannels, QueueStatus and Status during a call, key for key as recorded."""
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", agent="PJSIP/op102",
                          timing=Timing(talk=10_000))
    await client.event("BridgeEnter", BridgeNumChannels="2")
    real = _transcript_messages("resync_snapshot")
    for action, done, headers in (
        ("CoreShowChannels", "CoreShowChannelsComplete", {}),
        ("QueueStatus", "QueueStatusComplete", {"Queue": "l1-tfoms"}),
        ("Status", "StatusComplete", {}),
    ):
        start = len(client.raw)
        client.send(action, **headers)
        await client.event(done)
        ours = _wire_messages(bytes(client.raw[start:]))
        for event, shapes in _shapes(ours).items():
            assert shapes <= _shapes(real)[event], (action, event)
    status_id = client.send("Status", Channel=call.caller.name if call.caller else "", Variables="HOTLINE_ID,HOTLINE_LINE")
    status = await client.event("Status", ActionID=status_id)
    assert status["Variable"] == [f"HOTLINE_ID={call.uniqueid}", f"HOTLINE_LINE={LINE}"]
    assert sim.hangup(call.caller.name if call.caller else "")
    assert await asyncio.wait_for(call.finished(), 10) == "completed"


async def test_every_inbound_caller_hears_the_recording_notice_before_the_queue(
    settings: Settings, sim: PbxSimulator, client: AmiClient
) -> None:
    """As the shipped dialplan plays it (152-ФЗ): recording on, then the notice, as long as
    the shipped prompt, and only then the queue: no phone rings during the notice."""
    dialplan = render(settings)["extensions.conf"]
    org_context = dialplan[dialplan.index("MixMonitor(${REC},b)"):]
    assert org_context.index("Playback(hotline/call-recorded)") < org_context.index("Queue(")
    with wave.open(str(REPO / "ivr_scripts" / "prompts" / "ru" / "call-recorded.wav")) as prompt:
        seconds = prompt.getnframes() / prompt.getframerate()
    assert Timing().recorded_notice == pytest.approx(seconds, abs=0.2)

    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", timing=Timing(talk=10_000))
    await client.event("MixMonitorStart")
    await client.event("Newexten", Application="Playback", AppData="hotline/call-recorded")
    started = time.monotonic()
    await client.event("QueueCallerJoin")
    assert time.monotonic() - started >= Timing().recorded_notice * SCALE
    await client.event("AgentCalled")
    assert sim.hangup(call.caller.name if call.caller else "")
    await asyncio.wait_for(call.finished(), 10)


async def test_interactive_answer_and_operator_hangup(sim: PbxSimulator, client: AmiClient) -> None:
    """With auto_answer off the phone rings until `answer()`; the operator may hang up first."""
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", auto_answer=False,
                          timing=Timing(talk=10_000))
    called = await client.event("AgentCalled")
    assert not sim.answer("PJSIP/op999")
    assert sim.answer(called["Interface"])
    await client.event("AgentConnect")
    assert sim.hangup(called["Interface"])
    complete = await client.event("AgentComplete")
    assert complete["Reason"] == "agent"
    assert await asyncio.wait_for(call.finished(), 10) == "completed"


async def test_every_client_gets_the_same_events(sim: PbxSimulator, client: AmiClient) -> None:
    """Two logged-in clients receive the same event stream."""
    other = await AmiClient.connect(sim)
    try:
        await other.login()
        await other.event("SuccessfulAuth")
        before_a, before_b = len(client.messages), len(other.messages)
        await asyncio.wait_for(sim.place_call(LINE, scenario="abandoned").finished(), 10)
        await _settle()
        events_a = [m["Event"] for m in client.messages[before_a:] if "Event" in m]
        events_b = [m["Event"] for m in other.messages[before_b:] if "Event" in m]
        assert events_a == events_b and "QueueCallerAbandon" in events_a
    finally:
        await other.close()


async def test_fifty_concurrent_calls_complete(settings: Settings) -> None:
    """N=50 calls at once over all lines, a mix of scenarios, all finish cleanly."""
    async with PbxSimulator(settings, time_scale=0.001, agents_per_queue=15, auth_failure_delay=0, seed=3) as sim:
        ami = await AmiClient.connect(sim)
        try:
            await ami.login()
            mix = {"answered": 5, "abandoned": 1, "blind": 2, "attended": 1, "secretary": 1, "callback": 1}
            report = await sim.run_load(50, concurrency=50, mix=mix)
            assert report.failed == 0
            assert sum(report.outcomes.values()) == 50
            assert set(report.outcomes) <= {
                "completed", "abandoned", "transferred", "message", "callback_completed",
            }
            await _settle()
            assert sim.active_calls == 0 and sim.pbx.state.channels == {}
            hangups = sum(1 for m in ami.messages if m.get("Event") == "Hangup")
            assert hangups >= 50
        finally:
            await ami.close()


async def test_callers_waiting_in_a_queue_get_its_phone_in_the_order_they_came(
    settings: Settings,
) -> None:
    """One phone in the queue and three callers: the second and the third wait in the line
    while the first talks, and the phone rings for them in the order they joined, each once
    (Asterisk's queue offers a freed member to the caller at its head)."""
    timing = Timing(ring=0.5, talk=3.0, queue_timeout=60.0)
    async with PbxSimulator(settings, time_scale=0.01, timing=timing, agents_per_queue=1,
                            auth_failure_delay=0, seed=11) as sim:
        rung: list[str] = []
        sim.add_listener(lambda headers: rung.append(dict(headers)["Uniqueid"])
                         if headers[0][1] == "AgentCalled" else None)
        line = settings.lines[0].number
        calls = [sim.place_call(line, f"7916000000{n}", scenario="operator_answered")
                 for n in range(3)]
        await asyncio.wait_for(asyncio.gather(*(call.finished() for call in calls)), 20)
    assert rung == [call.caller.uniqueid for call in calls]
    assert [call.outcome for call in calls] == ["completed"] * 3


async def test_a_load_ramps_up_and_its_calls_differ_in_length(settings: Settings) -> None:
    """Calls start at the ramp's pace, those past the first `concurrency` too (they must not
    take the freed places all at once); and with a spread the calls last differently (no
    lockstep of hundreds of phones)."""
    async with PbxSimulator(settings, time_scale=0.01, agents_per_queue=15, auth_failure_delay=0,
                            seed=5) as sim:
        started = time.monotonic()
        seen: dict[str, list[float]] = {}  # trunk channel -> [Newchannel, Hangup] times

        def listen(headers: list[tuple[str, str]]) -> None:
            fields = dict(headers)
            if "trunk" in fields.get("Channel", "") and fields["Event"] in ("Newchannel", "Hangup"):
                seen.setdefault(fields["Channel"], []).append(time.monotonic() - started)

        sim.add_listener(listen)
        report = await sim.run_load(12, concurrency=4, ramp=0.4, spread=0.5)
        assert report.failed == 0 and len(seen) == 12
        arrivals = [times[0] for times in seen.values()]
        # One call every 0.1 s (4 places over a 0.4 s ramp), the later ones too: not 4 (or
        # 12) at once, nor the 8 later ones together whenever places free up.
        for position, at in enumerate(sorted(arrivals)):
            assert at >= 0.1 * position - 0.03, sorted(arrivals)
        durations = [times[-1] - times[0] for times in seen.values()]
    # The PBX's own parts (the recording notice) are alike; alike calls would differ by the
    # scheduler's few milliseconds only.
    assert max(durations) > 1.2 * min(durations)


# -- faults -------------------------------------------------------------------------------


async def test_restart_forgets_channels_and_reports_a_short_uptime(sim: PbxSimulator, client: AmiClient) -> None:
    """After a restart the client is cut; a new login sees a short Uptime and no channels."""
    sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered", timing=Timing(talk=10_000))
    await client.event("BridgeEnter")
    await client.reply(client.send("DBPut", Family="hotline", Key=f"mode/{LINE}", Val="operator"))
    await sim.restart(uptime=1.0)
    async with asyncio.timeout(5):
        await client._task  # noqa: SLF001
    again = await AmiClient.connect(sim)
    try:
        await again.login()
        booted = await again.event("FullyBooted")
        assert int(booted["Uptime"]) < 60  # simulated seconds since the restart, not 90+
        again.send("CoreShowChannels")
        complete = await again.event("CoreShowChannelsComplete")
        assert complete["ListItems"] == "0"
        again.send("DBGet", Family="hotline", Key=f"mode/{LINE}")
        kept = await again.event("DBGetResponse")
        assert kept["Val"] == "operator"  # AstDB lives on disk: a restart keeps it
    finally:
        await again.close()


async def test_drop_connections_and_silent_ping(sim: PbxSimulator, client: AmiClient) -> None:
    """Dropped clients can log in again; a silent PBX never answers Ping."""
    sim.drop_connections()
    async with asyncio.timeout(5):
        await client._task  # noqa: SLF001
    again = await AmiClient.connect(sim)
    try:
        await again.login()
        sim.ping_silent = True
        with pytest.raises(TimeoutError):
            await again.reply(again.send("Ping"), timeout=0.2)
        sim.ping_silent = False
        pong = await again.reply(again.send("Ping"))
        assert pong["Ping"] == "Pong"
    finally:
        await again.close()


# -- through the tracker ----------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(AGENT))
async def test_tracker_sees_the_same_story(sim: PbxSimulator, client: AmiClient, scenario: str) -> None:
    """The pure tracker turns simulator output into the same kinds of domain events as it does
    for the real recording of the scenario."""
    tracker_module = pytest.importorskip("hotline.pbx.tracking.calls")
    data = await _play(sim, client, scenario)
    ours = _tracked(tracker_module.CallTracker(), [m for m, _ in _wire_messages(data)])
    real_messages, _ = load(scenario)
    real = _tracked(tracker_module.CallTracker(), real_messages)
    assert ours == real


async def test_tracker_follows_a_callback(sim: PbxSimulator, client: AmiClient) -> None:
    """The callback Originate reads through the tracker like the recorded one."""
    tracker_module = pytest.importorskip("hotline.pbx.tracking.calls")
    start = len(client.raw)
    client.send("Originate", Channel="PJSIP/op201", Context="callback", Exten=CITIZEN, Priority="1",
                CallerID='"Горячая линия ТФОМС" <88007758565>', Async="true",
                Variable="HOTLINE_CARD=22-2026-000042")
    await client.event("QueueMemberStatus", Status="1", Interface="PJSIP/op201")
    await _settle()
    ours = _tracked(tracker_module.CallTracker(), [m for m, _ in _wire_messages(bytes(client.raw[start:]))])
    real_messages, _ = load("callback_originate")
    assert ours == _tracked(tracker_module.CallTracker(), real_messages)


def _tracked(tracker: Any, messages: list[AmiMessage]) -> list[str]:
    at = datetime(2026, 11, 23, 14, 35, tzinfo=UTC)
    kinds: list[str] = []
    for message in messages:
        kinds += [type(event).__name__ for event in tracker.feed(message, at)]
    return kinds




# -- queue members, value for value ----------------------------------------------------------

# Values that depend on the PBX's history and clock, not on what happened in the call.
MEMBER_HISTORY = ("CallsTaken", "LastCall", "LastPause", "LoginTime")


def _member_story(pairs: list[tuple[AmiMessage, str]]) -> list[tuple[str, ...]]:
    """Each QueueMemberStatus as what it says: its text up to the history fields, the device
    state, pause, whether a call was counted since the previous one of the same phone."""
    out, taken = [], {}
    for message, text in pairs:
        if message.get("Event") != "QueueMemberStatus":
            continue
        head = text.split("\r\nMembership:")[0]
        counted = int(message["CallsTaken"]) - taken.get(message["Interface"], int(message["CallsTaken"]))
        taken[message["Interface"]] = int(message["CallsTaken"])
        out.append((head, message["Membership"], message["Penalty"], message["Status"],
                    message["Paused"], message["PausedReason"], message["Wrapuptime"], str(counted)))
    return out


@pytest.mark.parametrize("scenario", sorted(a for a in AGENT if a != "secretary_message"))
async def test_member_status_values_match_the_recording(sim: PbxSimulator, client: AmiClient, scenario: str) -> None:
    """QueueMemberStatus of the operators' phones: same Privilege, queue, names, device states,
    pause and counted calls, in the same order as Asterisk sent them (Ringinuse aside: the
    recording's PBX rang members in use, ours has `ringinuse=no` in queues.conf)."""
    data = await _play(sim, client, scenario)
    assert _member_story(_wire_messages(data)) == _member_story(_transcript_messages(scenario))
    for message, _ in _wire_messages(data):
        if message.get("Event") == "QueueMemberStatus":
            assert message["Ringinuse"] == "0"
            assert all(message[k].isdigit() for k in MEMBER_HISTORY)


async def test_member_status_at_answer_counts_when_the_call_ends(sim: PbxSimulator, client: AmiClient) -> None:
    """Ringing (6, not in call), in use (2, InCall 1), free (1) with one more call taken."""
    data = await _play(sim, client, "operator_answered")
    states = [(m["Status"], m["InCall"], m["CallsTaken"]) for m, _ in _wire_messages(data)
              if m.get("Event") == "QueueMemberStatus"]
    real = [(m["Status"], m["InCall"], m["CallsTaken"]) for m, _ in _transcript_messages("operator_answered")
            if m.get("Event") == "QueueMemberStatus"]
    first = int(states[0][2])
    assert [(s, c, int(n) - first) for s, c, n in states] == [(s, c, int(n) - int(real[0][2])) for s, c, n in real]


async def test_pause_from_the_phone_and_unpause_with_a_reason(sim: PbxSimulator, client: AmiClient) -> None:
    """The phone's pause key: QueueMemberPause shaped like every member event, Privilege
    `agent,all`, LastPause set; an unpause with a reason shows it once (as app_queue does)."""
    real = next(t for m, t in _transcript_messages("operator_answered") if m.get("Event") == "QueueMemberStatus")
    start = len(client.raw)
    assert sim.pause_from_phone("PJSIP/op101", True, "обед")
    pause = await client.event("QueueMemberPause")
    device = await client.event("DeviceStateChange", Device="Queue:l1-tfoms_pause_PJSIP/op101")
    assert device["State"] == "INUSE"
    text = next(t for m, t in _wire_messages(bytes(client.raw[start:])) if m.get("Event") == "QueueMemberPause")
    assert _keys_of(text)[1:] == _keys_of(real)[1:]
    assert text.split("\r\n")[1] == "Privilege: agent,all"
    assert (pause["Interface"], pause["Paused"], pause["PausedReason"]) == ("PJSIP/op101", "1", "обед")
    assert int(pause["LastPause"]) > 0 and pause["Status"] == "1"
    assert sim.pbx.state.queues["l1-tfoms"].member("PJSIP/op101").paused  # type: ignore[union-attr]
    sent = client.send("QueuePause", Interface="PJSIP/op101", Paused="false", Reason="вернулась")
    await client.reply(sent)
    back = await client.event("QueueMemberPause", Paused="0")
    assert back["PausedReason"] == "вернулась"
    status_id = client.send("QueueStatus", Queue="l1-tfoms", Member="PJSIP/op101")
    member = await client.event("QueueMember", ActionID=status_id)
    assert (member["Paused"], member["PausedReason"]) == ("0", "")
    assert not sim.pause_from_phone("PJSIP/op999", True)


async def test_unreachable_phone_is_reported_and_skipped(sim: PbxSimulator, client: AmiClient) -> None:
    """A phone that lost its registration: QueueMemberStatus 5 and DeviceStateChange
    UNAVAILABLE, QueueStatus says 5, the queue rings the other phone; back again: 1."""
    assert sim.set_reachable("PJSIP/op101", False)
    lost = await client.event("QueueMemberStatus", Interface="PJSIP/op101")
    assert (lost["Status"], lost["Paused"]) == ("5", "0")
    assert (await client.event("DeviceStateChange", Device="PJSIP/op101"))["State"] == "UNAVAILABLE"
    status_id = client.send("QueueStatus", Queue="l1-tfoms", Member="PJSIP/op101")
    assert (await client.event("QueueMember", ActionID=status_id))["Status"] == "5"
    call = sim.place_call(LINE, CITIZEN, CITIZEN_NAME, "answered")
    assert (await client.event("AgentCalled"))["Interface"] == "PJSIP/op102"
    await asyncio.wait_for(call.finished(), 10)
    assert sim.set_reachable("PJSIP/op101", True)
    back = await client.event("QueueMemberStatus", Interface="PJSIP/op101", Status="1")
    assert back["InCall"] == "0"


async def test_a_long_running_simulator_keeps_only_the_last_ended_calls(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo runs for weeks: the ended calls kept for checks are bounded, newest kept."""
    import hotline.sim.calls as sim_calls

    monkeypatch.setattr(sim_calls, "MAX_COMPLETED", 3)
    async with PbxSimulator(settings, time_scale=SCALE, timing=FAST, auth_failure_delay=0) as sim:
        line = settings.lines[0].number
        placed = []
        for _ in range(5):
            placed.append(sim.place_call(line, scenario="abandoned"))
            await sim.wait_idle(timeout=20)
        assert list(sim.engine.completed) == placed[-3:]


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    simulator = PbxSimulator(settings, time_scale=SCALE, timing=FAST, auth_failure_delay=0.0, seed=7)
    async with simulator:
        yield simulator
