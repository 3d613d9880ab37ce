"""The whole AMI connection stack against a fake PBX on a real TCP socket."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from hotline.config import AmiSettings
from hotline.pbx.ami.client import (
    AmiActionTimeout,
    AmiConnection,
    AmiDisconnected,
    AmiNotConnected,
    backoff_delay,
    encode_action,
)
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.wire import REJECT_REASONS, frame_stream
from hotline.pbx.ami.resync import ResyncResult
from tests.support.ami_peer import BANNER, AmiPeer, load_transcript, transcript_names

NAME = "Иванов Иван Петрович"
Factory = Callable[..., Awaitable[Any]]


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Every test stops what it started: no task outlives it."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    leftover.discard(asyncio.current_task())  # type: ignore[arg-type]
    assert not leftover, leftover


@pytest.fixture
async def make_peer() -> AsyncIterator[Factory]:
    peers: list[AmiPeer] = []

    async def make(**options: Any) -> AmiPeer:
        peer = await AmiPeer(**options).start()
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.stop()


@pytest.fixture
async def make_connection() -> AsyncIterator[Factory]:
    """AmiConnection to a peer with fast test timings; stopped after the test."""
    connections: list[AmiConnection] = []

    async def make(peer: AmiPeer, start: bool = True, **options: Any) -> AmiConnection:
        timings = {
            "ping_interval": 30.0,
            "action_timeout": 1.0,
            "reconnect_min_delay": 0.01,
            "reconnect_max_delay": 0.05,
        }
        extra = {k: options.pop(k) for k in list(options) if k in timings}
        settings = AmiSettings(host=peer.host, port=peer.port, **{**timings, **extra})
        conn = AmiConnection(settings, **options)
        connections.append(conn)
        if start:
            await conn.start()
        return conn

    yield make
    for conn in connections:
        await conn.stop()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def sample(conn: AmiConnection, name: str, **labels: str) -> float:
    """One of the connection's metrics, labelled with its PBX (0 when absent)."""
    metrics = conn.metrics
    return metrics.registry.get_sample_value(name, {"pbx": metrics.pbx, **labels}) or 0.0


def rejected(conn: AmiConnection) -> float:
    """AMI messages skipped so far, whatever the reason."""
    return sum(sample(conn, "hotline_ami_malformed_total", reason=r) for r in REJECT_REASONS)


def as_dicts(messages: list[AmiMessage]) -> list[dict[str, Any]]:
    return [dict(m.items()) for m in messages]


class Recorder:
    """Collects events delivered after the first resync hook ran (not the login's own)."""

    def __init__(self, conn: AmiConnection) -> None:
        self.events: list[AmiMessage] = []
        self.times: list[datetime] = []
        self.results: list[ResyncResult] = []
        conn.on_connected(self.connected)
        conn.on_event(self.event)

    def connected(self, result: ResyncResult) -> None:
        self.results.append(result)

    def event(self, message: AmiMessage, received_at: datetime) -> None:
        if self.results:
            self.events.append(message)
            self.times.append(received_at)


@pytest.mark.parametrize("name", transcript_names())
@pytest.mark.parametrize(("seed", "max_cut"), [(1, 7), (2, 7), (3, 2), (4, 64), (5, 1500)])
async def test_transcript_replayed_over_tcp_in_random_cuts(
    make_peer: Factory, make_connection: Factory, name: str, seed: int, max_cut: int
) -> None:
    """A real Asterisk session, cut into random writes, reaches the handlers exactly as
    framing the whole stream at once gives it, Cyrillic names included."""
    peer = await make_peer()
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    data = "".join(load_transcript(name)[1:]).encode("utf-8")  # the peer sent its banner
    expected = [m for m in frame_stream(BANNER + data) if "Event" in m]

    writes = await peer.replay(data, seed=seed, max_cut=max_cut)

    await until(lambda: len(recorder.events) >= len(expected))
    assert writes >= len(data) // max_cut  # many reads, not one
    assert as_dicts(recorder.events) == as_dicts(expected)
    assert rejected(conn) == 0
    if NAME.encode() in data:
        names = {m.get("CallerIDName") for m in recorder.events}
        names |= {m.get("ConnectedLineName") for m in recorder.events}
        assert NAME in names
    assert recorder.times == sorted(recorder.times)
    assert conn.state == "connected" and len(peer.connections) == 1


async def test_empty_last_header_survives_the_stack(make_peer: Factory, make_connection: Factory) -> None:
    """VarSet's empty `Value:` closing the message reaches the handler as ''."""
    peer = await make_peer()
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    raw = b"Event: VarSet\r\nChannel: PJSIP/trunk-00000013\r\nVariable: HOTLINE_NOPE\r\nValue: \r\n\r\n"
    await peer.replay(raw, seed=0, max_cut=3)
    await until(lambda: len(recorder.events) == 1)
    assert recorder.events[0]["Value"] == ""


async def test_handler_exception_is_logged_and_the_connection_lives(
    make_peer: Factory, make_connection: Factory
) -> None:
    """One handler raising logs the call's context; it and the others keep getting events."""
    peer = await make_peer()
    with capture_logs() as logs:
        conn = await make_connection(peer)
        calls: list[str] = []

        def broken(message: AmiMessage, _: datetime) -> None:
            calls.append(message["Uniqueid"])
            raise RuntimeError("bug in a handler")

        conn.on_event(broken, "Newchannel")
        recorder = Recorder(conn)
        await conn.wait_connected(5)
        for uniqueid in ("1795444727.21", "1795444727.23"):
            await peer.send_raw(
                f"Event: Newchannel\r\nChannel: PJSIP/trunk-1\r\nUniqueid: {uniqueid}\r\n"
                f"Linkedid: {uniqueid}\r\nCallerIDName: {NAME}\r\n\r\n".encode()
            )
        await until(lambda: len(recorder.events) == 2)
        reply = await conn.send_action({"Action": "Ping"})
    assert calls == ["1795444727.21", "1795444727.23"]
    assert reply["Ping"] == "Pong"
    failures = [e for e in logs if e["event"] == "ami event handler failed"]
    assert len(failures) == 2
    assert failures[0]["uniqueid"] == "1795444727.21"
    assert failures[0]["linkedid"] == "1795444727.21"
    assert failures[0]["ami_event"] == "Newchannel"
    assert "broken" in failures[0]["handler"]
    assert sample(conn, "hotline_ami_handler_errors_total") == 2
    assert conn.state == "connected" and len(peer.connections) == 1


async def test_slow_handler_never_blocks_reading(make_peer: Factory, make_connection: Factory) -> None:
    """While a handler hangs, replies are still read; it is timed out and events go on."""
    peer = await make_peer()
    conn = await make_connection(peer, handler_timeout=0.3)
    stuck = asyncio.Event()
    recorder = Recorder(conn)

    async def hangs(message: AmiMessage, _: datetime) -> None:
        stuck.set()
        await asyncio.Event().wait()

    conn.on_event(hangs, "Hangup")
    await conn.wait_connected(5)
    await peer.send_raw(b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\nEvent: Newchannel\r\nUniqueid: 1.2\r\n\r\n")
    await until(stuck.is_set)
    started = time.monotonic()
    reply = await conn.send_action({"Action": "Ping"}, timeout=0.2)
    assert reply.success and time.monotonic() - started < 0.2
    await until(lambda: len(recorder.events) == 2)
    assert [m["Event"] for m in recorder.events] == ["Hangup", "Newchannel"]
    assert sample(conn, "hotline_ami_handler_errors_total") == 1


async def test_a_backlog_waits_as_bytes_and_is_delivered_in_order(
    make_peer: Factory, make_connection: Factory
) -> None:
    """A burst the handlers cannot keep up with waits in the queue as its bytes (well under
    a parsed message's ~5 KB each); replies are answered meanwhile; when the handler frees,
    every event arrives in wire order, a malformed one among them counted and skipped."""
    peer = await make_peer()
    conn = await make_connection(peer, handler_timeout=60)
    gate = asyncio.Event()
    delivered: list[str] = []

    async def slow(message: AmiMessage, _: datetime) -> None:
        await gate.wait()
        delivered.append(message["Uniqueid"])

    conn.on_event(slow, "Newchannel")
    await conn.wait_connected(5)
    burst = 10_000
    events = [
        f"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-{i:08x}\r\n"
        f"ChannelState: 4\r\nChannelStateDesc: Ring\r\nCallerIDNum: 79161234567\r\n"
        f"CallerIDName: {NAME}\r\nConnectedLineNum: <unknown>\r\n"
        f"ConnectedLineName: <unknown>\r\nLanguage: ru\r\nAccountCode: \r\n"
        f"Context: from-trunk\r\nExten: 88007758565\r\nPriority: 1\r\n"
        f"Uniqueid: 1795444523.{i}\r\nLinkedid: 1795444523.{i}\r\n\r\n".encode()
        for i in range(burst)
    ]
    events.insert(burst // 2, b"Event: Newchannel\r\nUniqueid: \xff\xfe\r\n\r\n")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await peer.send_raw(b"".join(events))
        await until(lambda: sample(conn, "hotline_ami_event_queue_depth") >= burst - 1, timeout=20)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held / burst < 1500, f"{held / burst:.0f} bytes per waiting event"
    started = time.monotonic()
    assert (await conn.send_action({"Action": "Ping"}, timeout=1.0)).success
    assert time.monotonic() - started < 1.0
    gate.set()
    await until(lambda: len(delivered) == burst, timeout=30)
    assert delivered == [f"1795444523.{i}" for i in range(burst)]
    assert sample(conn, "hotline_ami_malformed_total", reason="not_utf8") == 1
    assert conn.state == "connected"


async def test_action_without_reply_times_out_clearly(make_peer: Factory, make_connection: Factory) -> None:
    """An unanswered action fails after its own timeout, naming itself; the link lives."""
    peer = await make_peer(silent={"getvar"})
    conn = await make_connection(peer)
    await conn.wait_connected(5)
    started = time.monotonic()
    with pytest.raises(AmiActionTimeout, match=r"Getvar \(ActionID .*\) got no reply within 0.2 s"):
        await conn.send_action({"Action": "Getvar", "Variable": "HOTLINE_NOPE"}, timeout=0.2)
    assert 0.19 <= time.monotonic() - started < 1.0
    assert conn.protocol is not None and not conn.protocol.pending
    assert sample(conn, "hotline_ami_action_timeouts_total") == 1
    assert conn.state == "connected"


async def test_silent_peer_is_declared_dead_and_reconnected(
    make_peer: Factory, make_connection: Factory
) -> None:
    """No Pong within the action timeout: the socket is aborted and a new session begins."""
    peer = await make_peer(answer_ping=False)
    with capture_logs() as logs:
        conn = await make_connection(peer, ping_interval=0.1, action_timeout=0.2)
        recorder = Recorder(conn)
        await until(lambda: len(recorder.results) >= 2)
    assert len(peer.connections) >= 2
    assert any(e["event"] == "ami ping unanswered: connection declared dead" for e in logs)
    states = [e.get("state") for e in logs if e["event"] == "ami state changed"]
    assert states[:4] == ["connecting", "connected", "disconnected", "connecting"]
    assert sample(conn, "hotline_ami_reconnects_total") >= 1


@pytest.mark.parametrize(("uptimes", "restarted"), [([294, 2], True), ([294, 300], False)])
async def test_reconnect_after_drop_resyncs_and_detects_restart(
    make_peer: Factory, make_connection: Factory, uptimes: list[int], restarted: bool
) -> None:
    """The PBX drops us; we reconnect, read the snapshot again, and tell a restarted
    Asterisk (small uptime) from one that merely dropped the connection."""
    peer = await make_peer(uptimes=uptimes)
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await until(lambda: len(recorder.results) == 1)  # the hook ran
    first = recorder.results[0]
    assert first.first and not first.restarted and first.uptime == 294
    assert len(first.channels) == 2 and len(first.queue_members) == 3 and len(first.statuses) == 2
    assert first.channels[0]["CallerIDName"] == NAME
    assert first.channels[0]["BridgeId"] == "6547385a-284a-48ad-abe4-b21a83af2dd2"
    assert first.channel_tags()["1795444727.21"]["HOTLINE_ID"] == "hl-1795444727.21"
    assert first.live_uniqueids() == {"1795444727.21", "1795444727.22"}
    assert first.complete

    peer.drop()
    await until(lambda: len(recorder.results) == 2)
    await conn.wait_connected(5)
    second = recorder.results[1]
    assert not second.first and second.restarted is restarted
    assert second.outage is not None and second.outage < 5
    for action in ("CoreShowChannels", "QueueStatus", "Status"):
        assert [n for n, _ in peer.received(action)] == [0, 1]
    (_, status), _ = peer.received("Status")
    assert status["Variables"] == "HOTLINE_ID,HOTLINE_LINE,HOTLINE_ORG"
    assert sample(conn, "hotline_ami_reconnects_total") == 1
    assert sample(conn, "hotline_ami_connected") == 1


async def test_restart_detected_through_corestatus_without_fully_booted(
    make_peer: Factory, make_connection: Factory
) -> None:
    """Without the `system` read class there is no FullyBooted: CoreStatus's startup time
    changing between sessions is the restart."""
    startups = iter(["10:00:00", "10:05:00"])

    def corestatus(action: dict[str, str]) -> str:
        return (
            f"Response: Success\r\nActionID: {action['ActionID']}\r\nCoreStartupDate: 2026-11-23\r\n"
            f"CoreStartupTime: {next(startups)}\r\nCoreReloadDate: 2026-11-23\r\n"
            "CoreReloadTime: 10:00:00\r\nCoreCurrentCalls: 1\r\n\r\n"
        )

    peer = await make_peer(send_fully_booted=False, extra_answers={"corestatus": corestatus})
    conn = await make_connection(peer, action_timeout=0.3)  # FullyBooted is awaited that long
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    peer.drop()
    await until(lambda: len(recorder.results) == 2)
    assert [r.uptime for r in recorder.results] == [None, None]
    assert [r.restarted for r in recorder.results] == [False, True]


async def test_malformed_binary_and_huge_frames_are_counted_and_skipped(
    make_peer: Factory, make_connection: Factory
) -> None:
    """Binary, header-less, ambiguous (two different Events) and 1 MB messages are each
    counted by reason and skipped; the link stays up and the next event arrives intact."""
    peer = await make_peer()
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    junk = (
        b"\x00\xff\xfe\x89PNG binary\r\n\r\n"
        b"Nonsense without a colon\r\n\r\n"
        b"Event: UserEvent\r\nUniqueid: 9.1\r\nEvent: Hangup\r\n\r\n"
        b"Event: UserEvent\r\nBody: " + b"x" * (1 << 20) + b"\r\n\r\n"
    )
    tail = f"Event: Newchannel\r\nUniqueid: 9.9\r\nCallerIDName: {NAME}\r\n\r\n".encode()
    await peer.send_raw(junk + tail)
    await until(lambda: len(recorder.events) == 1)
    assert recorder.events[0]["CallerIDName"] == NAME
    assert sample(conn, "hotline_ami_malformed_total", reason="not_utf8") == 1
    assert sample(conn, "hotline_ami_malformed_total", reason="no_event") == 1
    assert sample(conn, "hotline_ami_malformed_total", reason="repeated_key") == 1
    assert sample(conn, "hotline_ami_malformed_total", reason="oversized") == 1
    assert (await conn.send_action({"Action": "Ping"})).success
    assert conn.state == "connected" and len(peer.connections) == 1


async def test_a_message_cut_by_a_disconnect_is_counted_as_truncated(
    make_peer: Factory, make_connection: Factory
) -> None:
    """The PBX dies in the middle of a message: the half is never delivered as an event, it
    is counted (`truncated`), and the next session starts with a clean framer."""
    peer = await make_peer()
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    await peer.send_raw(f"Event: Newchannel\r\nUniqueid: 9.9\r\nCallerIDName: {NAME[:5]}".encode())
    await until(lambda: conn.protocol is not None and conn.protocol.framer.buffered > 0)
    peer.drop()
    await until(lambda: len(recorder.results) == 2)
    assert sample(conn, "hotline_ami_malformed_total", reason="truncated") == 1
    await peer.send_raw(b"Event: Hangup\r\nUniqueid: 9.9\r\n\r\n")
    await until(lambda: any(m["Event"] == "Hangup" for m in recorder.events))
    assert [m["Event"] for m in recorder.events] == ["FullyBooted", "Hangup"]
    assert rejected(conn) == 1


async def test_pending_list_action_fails_cleanly_on_disconnect(
    make_peer: Factory, make_connection: Factory
) -> None:
    """A list cut by a disconnect fails at once with AmiDisconnected, not after a timeout."""

    def half_list(action: dict[str, str]) -> str:
        return (
            f"Response: Success\r\nActionID: {action['ActionID']}\r\nEventList: start\r\n"
            "Message: A listing of Endpoints follows, presented as EndpointList events\r\n\r\n"
            f"Event: EndpointList\r\nActionID: {action['ActionID']}\r\nObjectName: op101\r\n\r\n"
        )

    peer = await make_peer(extra_answers={"pjsipshowendpoints": half_list})
    conn = await make_connection(peer, action_timeout=5.0)
    await conn.wait_connected(5)
    waiting = asyncio.create_task(conn.send_action({"Action": "PJSIPShowEndpoints"}))
    await peer.wait_for(lambda: bool(peer.received("PJSIPShowEndpoints")))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    peer.drop()
    with pytest.raises(AmiDisconnected, match="PJSIPShowEndpoints .* after 2 list messages"):
        await waiting
    assert time.monotonic() - started < 1.0


async def test_list_action_returns_reply_events_and_complete(
    make_peer: Factory, make_connection: Factory
) -> None:
    """`EventList: start ... Complete` comes back as one list, Cyrillic member names intact."""
    peer = await make_peer()
    conn = await make_connection(peer)
    await conn.wait_connected(5)
    reply = await conn.send_action({"Action": "QueueStatus"})
    assert isinstance(reply, list)
    assert reply[0]["EventList"] == "start"
    assert reply[-1]["Event"] == "QueueStatusComplete"
    assert {m["Name"] for m in reply if m.get("Event") == "QueueMember"} == {
        "Сидорова В.В.", "Иванова А.А.", "Петров Б.Б."
    }


async def test_side_effecting_action_is_never_resent_after_reconnect(
    make_peer: Factory, make_connection: Factory
) -> None:
    """panoramisk re-sends pending actions after FullyBooted (P6): a lost Originate reply
    would mean a second call to the citizen. Here the caller gets AmiDisconnected."""
    peer = await make_peer(silent={"originate"})
    conn = await make_connection(peer)
    recorder = Recorder(conn)
    await conn.wait_connected(5)
    originate = asyncio.create_task(
        conn.send_action(
            {"Action": "Originate", "Channel": "PJSIP/op201", "Context": "callback",
             "Exten": "79161234567", "Priority": 1}
        )
    )
    await peer.wait_for(lambda: bool(peer.received("Originate")))
    peer.drop()
    with pytest.raises(AmiDisconnected):
        await originate
    await until(lambda: len(recorder.results) == 2)
    await asyncio.sleep(0.1)
    assert len(peer.received("Originate")) == 1
    (_, sent), = peer.received("Originate")
    assert sent["Async"] == "true"  # a synchronous Originate would block the session (P9)


async def test_replies_that_broke_panoramisk(make_peer: Factory, make_connection: Factory) -> None:
    """`Atxfer successfully queued` crashed panoramisk's socket handler (P9) and QueueAdd's
    `Added interface to queue` left its await hanging (P8): here both are plain replies."""

    def queue_add(action: dict[str, str]) -> str:
        return (
            f"Response: Success\r\nActionID: {action['ActionID']}\r\n"
            "Message: Added interface to queue\r\n\r\n"
        )

    peer = await make_peer(extra_answers={"queueadd": queue_add})
    conn = await make_connection(peer)
    await conn.wait_connected(5)
    reply = await conn.send_action(
        {"Action": "Atxfer", "Channel": "PJSIP/op101-0000000e", "Context": "hotline-l2", "Exten": "2000"}
    )
    assert isinstance(reply, AmiMessage) and reply.success
    assert reply["Message"] == "Atxfer successfully queued"
    added = await conn.send_action(
        {"Action": "QueueAdd", "Queue": "l1-tfoms", "Interface": "PJSIP/op101"}, timeout=0.5
    )
    assert isinstance(added, AmiMessage) and added["Message"] == "Added interface to queue"
    assert len(peer.connections) == 1


async def test_panoramisk_register_event_is_case_insensitive(
    make_peer: Factory, make_connection: Factory
) -> None:
    """register_event(pattern, callback(manager, event)) still works; `NewExten` as the docs
    spell it matches the wire's `Newexten` (P13)."""
    peer = await make_peer()
    conn = await make_connection(peer)
    seen: list[tuple[Any, str]] = []

    @conn.register_event("NewExten")
    def on_newexten(manager: Any, event: AmiMessage) -> None:
        seen.append((manager, event["Application"]))

    await conn.wait_connected(5)
    await peer.send_raw(b"Event: Newexten\r\nApplication: Queue\r\n\r\nEvent: Hangup\r\n\r\n")
    await until(lambda: len(seen) == 1)
    assert seen == [(conn, "Queue")]


async def test_state_health_and_metrics(make_peer: Factory, make_connection: Factory) -> None:
    """State, /healthz probe and gauge follow the link; stop() logs off and disconnects."""
    peer = await make_peer()
    conn = await make_connection(peer, start=False)
    assert conn.state == "disconnected" and conn.health()["state"] == "disconnected"
    with pytest.raises(AmiNotConnected):
        await conn.send_action({"Action": "Ping"})
    await conn.start()
    await conn.wait_connected(5)
    health = conn.health()
    assert health["state"] == "connected" and health["asterisk_uptime"] == 294
    assert health["banner"] == "Asterisk Call Manager/11.0.0"
    assert sample(conn, "hotline_ami_connected") == 1
    assert sample(conn, "hotline_ami_events_total") >= 1  # FullyBooted
    await conn.stop()
    assert conn.state == "disconnected"
    assert sample(conn, "hotline_ami_connected") == 0
    assert [a["Action"] for _, a in peer.actions][-1] == "Logoff"


async def test_login_refused_is_retried_with_backoff(
    make_peer: Factory, make_connection: Factory
) -> None:
    """Wrong credentials: never 'connected', retried, the reason visible in health()."""
    peer = await make_peer(login_ok=False)
    conn = await make_connection(peer)
    await until(lambda: len(peer.connections) >= 3)
    assert conn.state != "connected"
    assert "login refused: Authentication failed" in (conn.health()["last_error"] or "")


async def test_unreachable_pbx_is_retried(make_peer: Factory, make_connection: Factory) -> None:
    """Connection refused is retried (counted as reconnects) until stop()."""
    peer = await make_peer()
    await peer.stop()  # nothing listens on the port any more
    conn = await make_connection(peer)
    await until(lambda: sample(conn, "hotline_ami_reconnects_total") >= 2)
    assert conn.state in ("connecting", "disconnected")


def test_values_cannot_inject_headers() -> None:
    """CR/LF in a caller-controlled value cannot start a second header or action."""
    wire = encode_action({"ActionID": "1", "Action": "Setvar", "Value": "x\r\n\r\nAction: Originate"})
    assert wire == b"Action: Setvar\r\nActionID: 1\r\nValue: xAction: Originate\r\n\r\n"
    with pytest.raises(ValueError, match="longer than 1024"):
        encode_action({"Action": "Setvar", "Value": "я" * 600})


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    """Delays double from the minimum, stay in the upper half of each step, stop at the max."""
    import random

    rng = random.Random(1)
    delays = [backoff_delay(n, 0.5, 30.0, rng) for n in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(15.0 <= d <= 30.0 for d in delays[7:])
    assert delays[3] > delays[0]


async def test_resync_hook_runs_between_old_and_new_events(
    make_peer: Factory, make_connection: Factory
) -> None:
    """Events read before a drop are still delivered, then the new session's snapshot, then
    its events: a tracker never sees a stale event after the snapshot that superseded it."""
    peer = await make_peer()
    conn = await make_connection(peer)
    order: list[str] = []
    release = asyncio.Event()

    async def slow(message: AmiMessage, _: datetime) -> None:
        if message["Uniqueid"] == "old.1":
            await release.wait()
        order.append(message["Uniqueid"])

    conn.on_event(slow, "Newchannel")
    conn.on_connected(lambda result: order.append(f"resync {result.session}"))
    await conn.wait_connected(5)
    await peer.send_raw(
        b"Event: Newchannel\r\nUniqueid: old.1\r\n\r\nEvent: Newchannel\r\nUniqueid: old.2\r\n\r\n"
    )
    await until(lambda: sample(conn, "hotline_ami_event_queue_depth") == 1)  # old.2 waits
    peer.drop()
    # The second snapshot is read (its hook is queued behind old.2), then the PBX goes on.
    await until(lambda: conn.last_resync is not None and conn.last_resync.session == 2)
    await peer.send_raw(b"Event: Newchannel\r\nUniqueid: new.1\r\n\r\n")
    release.set()
    await until(lambda: "new.1" in order)
    assert order == ["resync 1", "old.1", "old.2", "resync 2", "new.1"]


def test_boot_watch_tells_a_restart_from_a_dropped_link() -> None:
    """Boot moment = now - uptime: it moves forward only when Asterisk restarted; an uptime
    shorter than our outage is a restart even without an earlier estimate."""
    from hotline.pbx.ami.resync import BootWatch

    watch = BootWatch()
    assert watch.observe(now=1000.0, uptime=294) is False  # first session: nothing to compare
    assert watch.observe(now=1060.0, uptime=353, outage=2.0) is False  # same boot, 1 s skew
    assert watch.observe(now=1200.0, uptime=3, outage=1.0) is True
    assert watch.observe(now=1300.0, uptime=103, outage=0.5) is False
    markers = BootWatch()
    assert markers.observe(now=0.0, startup_marker="2026-11-23 10:00:00") is False
    assert markers.observe(now=9.0, startup_marker="2026-11-23 10:00:00") is False
    assert markers.observe(now=99.0, startup_marker="2026-11-23 10:05:00") is True
    assert BootWatch(sessions=1).observe(now=50.0, uptime=10, outage=40.0) is True
