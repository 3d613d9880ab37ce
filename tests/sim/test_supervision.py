"""The simulator's ChanSpy legs against the real Asterisk 22 (tests/fixtures/ami/supervision.jsonl).

The recorded scenario is played again on the simulator (as configured: the project's
channelvars and exclude filters), with the service's own `PbxActions` over real AMI: a
citizen's call answered by op101 (op102 paused), the supervisor's phone sup100 Originated into
`hotline-spy,listen`, Redirected to whisper, then to barge, hung up from the page, then the
citizen hangs up. Every message about the listening leg must be the recorded one: the same
events in the same order, the same header names in the same order, the same values once
identifiers, channel counters and dates are normalised. Then the simulator's whole stream
goes through the tracker: one call, one operator, no transfer, a listener that comes and goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.config import Settings
from hotline.pbx.actions import PbxActions
from hotline.pbx.ami.wire import AmiFramer
from hotline.pbx.events import (
    CallArrived, CallEnded, CallTransferred, OperatorAnswered, SupervisionEnded,
    SupervisionStarted, SupervisionSwitched,
)
from hotline.pbx.tracking.calls import CallTracker
from hotline.sim.simulator import PbxSimulator, Timing
from tests.support.ami_client import AmiClient
from tests.support.ami_stream import FUND_ROSTER, Normaliser, messages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
LINE = "88007758565"
SPY_LEG = "spy-9e321aa7f07511f9"  # the recorded leg's ChannelId, used again
ROSTER = FUND_ROSTER


class WireConnection:
    """What `PbxActions` needs of an AMI connection, over the bare test client."""

    state = "connected"

    def __init__(self, client: AmiClient) -> None:
        self.client = client

    async def send_action(self, action: dict[str, Any]) -> Any:
        headers = {k: v for k, v in action.items() if k != "Action"}
        return await self.client.reply(self.client.send(action["Action"], **headers))


def recorded() -> bytes:
    import json

    with (FIXTURES / "supervision.jsonl").open(encoding="utf-8") as lines:
        return "".join(r["data"] for r in map(json.loads, lines) if r["dir"] == "in").encode()


def about_leg(stream: list[list[tuple[str, str]]], leg: str) -> list[list[tuple[str, str]]]:
    """The events that are about the listening leg (its Uniqueid anywhere in them)."""
    return [m for m in stream if m[0][0] == "Event" and any(v == leg for _, v in m)]


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    timing = Timing(ring=1.0, talk=10_000, level2_talk=10_000)
    simulator = PbxSimulator(settings, time_scale=0.01, timing=timing, as_configured=True,
                             roster=ROSTER, auth_failure_delay=0.0, seed=11)
    async with simulator:
        yield simulator


async def play_the_recorded_scenario(sim: PbxSimulator) -> bytes:
    """What the real test did, on the simulator: everything AMI sent, from the login on."""
    client = await AmiClient.connect(sim)
    try:
        await client.login()
        await client.reply(client.send("QueuePause", Interface="PJSIP/op102", Paused="true",
                                       Reason="обучение"))
        call = sim.place_call(LINE, "79131112300", "Смирнова Елена", agent="PJSIP/op101")
        await client.event("BridgeEnter", BridgeNumChannels="2")
        operator = next(c for c in call.channels if c.name.startswith("PJSIP/op101-"))
        actions = PbxActions(WireConnection(client))  # type: ignore[arg-type]
        await actions.spy_originate(
            interface="PJSIP/sup100", mode="listen", target=operator.name,
            call_key=call.uniqueid or "", channel_id=SPY_LEG,
            caller_name="Контроль: op101", caller_number="op101")
        await client.event("ChanSpyStart", SpyerExten="listen")
        for mode in ("whisper", "barge"):
            await actions.spy_switch(SPY_LEG, mode)  # type: ignore[arg-type]
            await client.event("ChanSpyStart", SpyerExten=mode)
        await actions.hangup(SPY_LEG)
        await client.event("Hangup", Uniqueid=SPY_LEG)
        assert sim.hangup(call.uniqueid or "")
        await asyncio.wait_for(call.finished(), 10)
        await client.event("QueueMemberStatus", Interface="PJSIP/op101")
        await asyncio.sleep(0.05)
        return bytes(client.raw)
    finally:
        await client.close()


async def test_the_listening_leg_is_what_asterisk_22_sent(sim: PbxSimulator) -> None:
    ours, real = about_leg(messages(await play_the_recorded_scenario(sim)), SPY_LEG), \
        about_leg(messages(recorded()), SPY_LEG)
    names = [m[0][1] for m in real]
    assert names == [
        "Newchannel", "NewCallerid", "NewConnectedLine", "DialBegin", "Newstate",
        "OriginateResponse", "DialEnd", "ChanSpyStart", "ChanSpyStop", "ChanSpyStart",
        "ChanSpyStop", "ChanSpyStart", "ChanSpyStop", "SoftHangupRequest", "Hangup"]
    assert [m[0][1] for m in ours] == names
    ours_n, real_n = Normaliser(), Normaliser()
    for mine, theirs in zip(ours, real, strict=True):
        assert [k for k, _ in ours_n.message(mine)] == [k for k, _ in real_n.message(theirs)], \
            mine[0][1]
    # Values: everything the leg says of itself, and of the operator's channel it spies on,
    # once normalised. The one known difference is the operator's Exten: the simulator's
    # inbound call still runs the older dialplan of ../shared/ami-transcripts (the line's
    # number), the project's sends the caller to `hotline-inbound,<org>`.
    ours_n, real_n = Normaliser(), Normaliser()
    for mine, theirs in zip(ours, real, strict=True):
        a = [(k, v) for k, v in ours_n.message(mine) if k != "SpyeeExten"]
        b = [(k, v) for k, v in real_n.message(theirs) if k != "SpyeeExten"]
        assert a == b, mine[0][1]


async def test_the_simulated_legs_replay_through_the_tracker(sim: PbxSimulator) -> None:
    stream = messages(await play_the_recorded_scenario(sim))
    framer = AmiFramer(banner="")
    tracker = CallTracker()
    events: list[Any] = []
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    for message in stream:
        raw = "".join(f"{k}: {v}\r\n" for k, v in message) + "\r\n"
        for parsed in framer.feed(raw.encode("utf-8")):
            events.extend(tracker.feed(parsed, at))
    (arrived,) = [e for e in events if isinstance(e, CallArrived)]
    assert [e.interface for e in events if isinstance(e, OperatorAnswered)] == ["PJSIP/op101"]
    assert [e for e in events if isinstance(e, CallTransferred)] == []
    (started,) = [e for e in events if isinstance(e, SupervisionStarted)]
    assert (started.call_id, started.interface, started.mode, started.operator) == (
        arrived.call_id, "PJSIP/sup100", "listen", "PJSIP/op101")
    assert [(e.previous, e.mode) for e in events if isinstance(e, SupervisionSwitched)] == [
        ("listen", "whisper"), ("whisper", "barge")]
    (ended,) = [e for e in events if isinstance(e, SupervisionEnded)]
    assert ended.joined and ended.mode == "barge"
    assert [e.outcome for e in events if isinstance(e, CallEnded)] == ["answered"]
    stats = tracker.stats
    assert (stats.orphans, stats.unknown, stats.malformed, stats.internal_errors) == (0, 0, 0, 0)
    assert list(tracker.problems) == [] and tracker.calls() == []


async def test_a_listener_ends_with_the_call(sim: PbxSimulator) -> None:
    """ChanSpy's `E`: the operator's channel hangs up, the listening leg stops spying and its
    dialplan hangs it up; the tracker ends the listener before the call."""
    client = await AmiClient.connect(sim)
    try:
        await client.login()
        call = sim.place_call(LINE, "79131112300", "Смирнова Елена", agent="PJSIP/op101")
        await client.event("BridgeEnter", BridgeNumChannels="2")
        operator = next(c for c in call.channels if c.name.startswith("PJSIP/op101-"))
        await PbxActions(WireConnection(client)).spy_originate(  # type: ignore[arg-type]
            interface="PJSIP/sup100", mode="barge", target=operator.name,
            call_key=call.uniqueid or "", channel_id="spy-0123456789abcdef",
            caller_name="Контроль: op101", caller_number="op101")
        await client.event("ChanSpyStart", SpyerExten="barge")
        assert sim.hangup(operator.name)  # the operator hangs up
        await client.event("Hangup", Uniqueid="spy-0123456789abcdef")
        await asyncio.wait_for(call.finished(), 10)
        await asyncio.sleep(0.05)
        stream = messages(bytes(client.raw))
    finally:
        await client.close()
    leg = [m[0][1] for m in about_leg(stream, "spy-0123456789abcdef")]
    assert leg[-3:] == ["ChanSpyStop", "SoftHangupRequest", "Hangup"]
    assert "BridgeEnter" not in leg
    tracker, events = CallTracker(), []
    framer = AmiFramer(banner="")
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    for message in stream:
        raw = "".join(f"{k}: {v}\r\n" for k, v in message) + "\r\n"
        for parsed in framer.feed(raw.encode("utf-8")):
            events.extend(tracker.feed(parsed, at))
    kinds = [type(e).__name__ for e in events
             if isinstance(e, SupervisionStarted | SupervisionEnded | CallEnded)]
    assert kinds == ["SupervisionStarted", "SupervisionEnded", "CallEnded"]
    assert tracker.stats.orphans == 0 and list(tracker.problems) == []


async def test_an_unknown_phone_or_mode_is_refused(sim: PbxSimulator) -> None:
    client = await AmiClient.connect(sim)
    try:
        await client.login()
        bad_mode = await client.reply(client.send(
            "Originate", Channel="PJSIP/sup100", Context="hotline-spy", Exten="record",
            Priority="1", Async="true"))
        assert bad_mode["Message"] == "Extension does not exist."
        queued = await client.reply(client.send(
            "Originate", Channel="PJSIP/nobody", Context="hotline-spy", Exten="listen",
            Priority="1", Async="true"))
        assert queued["Message"] == "Originate successfully queued"
        failed = await client.event("OriginateResponse")
        assert failed["Response"] == "Failure"
    finally:
        await client.close()
