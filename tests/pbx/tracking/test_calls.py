"""The call tracker against real Asterisk 22 AMI sessions, and against what they lack.

Each recorded session in ../shared/ami-transcripts/ is replayed through the tracker and the
whole ordered sequence of domain events is asserted. Synthetic messages cover what the
recordings do not show: linkedid changes, the HOTLINE_ID key, orphans after a restart,
resynchronisation, and arbitrary garbage (hypothesis).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.pbx.events import (
    CallAbandoned,
    CallArrived,
    CallbackAnswered,
    CallbackPlaced,
    CallEnded,
    CallEvent,
    CallQueued,
    CallTransferred,
    OperatorAnswered,
    OperatorRinging,
    RecordingStarted,
    SecretaryMessage,
)
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.tracking.calls import CallTracker
from tests.support.transcripts import EPOCH, load, transcript_names

LINE = "88007758565"
CITIZEN = "79161234567"
CITIZEN_NAME = "Иванов Иван Петрович"


def _arrived(trunk: str, uniqueid: str) -> tuple[str, dict[str, Any]]:
    return (
        "CallArrived",
        dict(
            direction="in", line=LINE, organization="tfoms", caller_number=CITIZEN,
            caller_name=CITIZEN_NAME, channel=trunk, uniqueid=uniqueid, linkedid=uniqueid,
            resumed=False,
        ),
    )


def _recording(trunk: str, file: str) -> tuple[str, dict[str, Any]]:
    return ("RecordingStarted", dict(file=file, channel=trunk))


def _queued(queue: str, consultation: bool = False) -> tuple[str, dict[str, Any]]:
    return ("CallQueued", dict(queue=queue, position=1, consultation=consultation))


def _ringing(op: str, name: str, queue: str, channel: str, consultation: bool = False):
    return (
        "OperatorRinging",
        dict(interface=op, member_name=name, queue=queue, channel=channel,
             consultation=consultation),
    )


def _answered(op: str, name: str, queue: str, channel: str, consultation: bool = False):
    return (
        "OperatorAnswered",
        dict(interface=op, member_name=name, queue=queue, hold_time=2, ring_time=2,
             channel=channel, consultation=consultation),
    )


def _ended(outcome: str) -> tuple[str, dict[str, Any]]:
    return ("CallEnded", dict(cause=16, cause_text="Normal Clearing", outcome=outcome))


PETROV = ("PJSIP/op102", "Петров Б.Б.")
IVANOVA = ("PJSIP/op101", "Иванова А.А.")
SIDOROVA = ("PJSIP/op201", "Сидорова В.В.")

# transcript -> (call_id, the whole ordered sequence of (event type, fields but call_id/at))
EXPECTED: dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]] = {
    "operator_answered": (
        "1795444523.2",
        [
            _arrived("PJSIP/trunk-00000002", "1795444523.2"),
            _recording("PJSIP/trunk-00000002", "hotline/20261123/1795444523.2.wav"),
            _queued("l1-tfoms"),
            _ringing(*PETROV, "l1-tfoms", "PJSIP/op102-00000003"),
            _answered(*PETROV, "l1-tfoms", "PJSIP/op102-00000003"),
            _ended("answered"),
        ],
    ),
    "abandoned_in_queue": (
        "1795444543.4",
        [
            _arrived("PJSIP/trunk-00000004", "1795444543.4"),
            _recording("PJSIP/trunk-00000004", "hotline/20261123/1795444543.4.wav"),
            _queued("l1-tfoms"),
            _ringing(*IVANOVA, "l1-tfoms", "PJSIP/op101-00000005"),
            ("CallAbandoned",
             dict(queue="l1-tfoms", hold_time=6, position=1, original_position=1)),
            _ended("abandoned"),
        ],
    ),
    "blind_transfer_to_level2": (
        "1795444555.6",
        [
            _arrived("PJSIP/trunk-00000006", "1795444555.6"),
            _recording("PJSIP/trunk-00000006", "hotline/20261123/1795444555.6.wav"),
            _queued("l1-tfoms"),
            _ringing(*PETROV, "l1-tfoms", "PJSIP/op102-00000007"),
            _answered(*PETROV, "l1-tfoms", "PJSIP/op102-00000007"),
            ("CallTransferred",
             dict(kind="blind", from_interface="PJSIP/op102", to_queue="l2-tfoms",
                  to_interface=None, to_context="hotline-l2", to_extension="tfoms")),
            _queued("l2-tfoms"),
            _ringing(*SIDOROVA, "l2-tfoms", "PJSIP/op201-00000008"),
            _answered(*SIDOROVA, "l2-tfoms", "PJSIP/op201-00000008"),
            _ended("answered"),
        ],
    ),
    "attended_transfer_to_level2": (
        "1795444662.13",
        [
            _arrived("PJSIP/trunk-0000000d", "1795444662.13"),
            _recording("PJSIP/trunk-0000000d", "hotline/20261123/1795444662.13.wav"),
            _queued("l1-tfoms"),
            _ringing(*IVANOVA, "l1-tfoms", "PJSIP/op101-0000000e"),
            _answered(*IVANOVA, "l1-tfoms", "PJSIP/op101-0000000e"),
            _queued("l2-tfoms", consultation=True),
            _ringing(*SIDOROVA, "l2-tfoms", "PJSIP/op201-0000000f", consultation=True),
            _answered(*SIDOROVA, "l2-tfoms", "PJSIP/op201-0000000f", consultation=True),
            ("CallTransferred",
             dict(kind="attended", from_interface="PJSIP/op101", to_queue="l2-tfoms",
                  to_interface="PJSIP/op201", to_context="hotline-l2", to_extension="2000")),
            _ended("answered"),
        ],
    ),
    "secretary_message": (
        "1795444764.23",
        [
            _arrived("PJSIP/trunk-00000015", "1795444764.23"),
            _recording("PJSIP/trunk-00000015", "hotline/20261123/1795444764.23.wav"),
            ("SecretaryMessage",
             dict(file="hotline/msg-1795444764.23.wav", line=LINE, caller_number=CITIZEN,
                  duration=None)),
            _ended("secretary"),
        ],
    ),
    "callback_originate": (
        "1795444712.19",
        [
            ("CallArrived",
             dict(direction="out", line=LINE, organization=None, caller_number=CITIZEN,
                  caller_name=None, channel="PJSIP/op201-00000011", uniqueid="1795444712.19",
                  linkedid="1795444712.19", resumed=False)),
            _recording("PJSIP/op201-00000011", "hotline/cb-1795444712.19.wav"),
            ("CallbackPlaced",
             dict(card_id="22-2026-000042", interface="PJSIP/op201", citizen_number=CITIZEN)),
            ("CallbackAnswered",
             dict(card_id="22-2026-000042", interface="PJSIP/op201", citizen_number=CITIZEN)),
            _ended("callback"),
        ],
    ),
    # Resync answers about channels the tracker already follows change nothing.
    "resync_snapshot": (
        "1795444727.21",
        [
            _arrived("PJSIP/trunk-00000013", "1795444727.21"),
            _recording("PJSIP/trunk-00000013", "hotline/20261123/1795444727.21.wav"),
            _queued("l1-tfoms"),
            _ringing(*PETROV, "l1-tfoms", "PJSIP/op102-00000014"),
            _answered(*PETROV, "l1-tfoms", "PJSIP/op102-00000014"),
            _ended("answered"),
        ],
    ),
}


def _describe(event: CallEvent) -> tuple[str, dict[str, Any]]:
    fields = dataclasses.asdict(event)
    del fields["call_id"], fields["at"]
    if fields.get("caller_id_sent", "") is None:  # only a hostile caller ID is kept as sent
        del fields["caller_id_sent"]
    return type(event).__name__, fields


def _replay(name: str) -> tuple[CallTracker, list[CallEvent]]:
    tracker = CallTracker()
    events: list[CallEvent] = []
    messages, times = load(name)
    for message, at in zip(messages, times, strict=True):
        events.extend(tracker.feed(message, at))
    return tracker, events


def test_every_transcript_has_an_expected_sequence() -> None:
    """A new recording must come with its expected events."""
    assert transcript_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_transcript_yields_the_whole_sequence(name: str) -> None:
    """Replaying a real session yields exactly the expected domain events, in order, all
    for one call, at non-decreasing times, with nothing odd counted and nothing left live."""
    call_id, expected = EXPECTED[name]
    tracker, events = _replay(name)
    assert [_describe(event) for event in events] == expected
    assert {event.call_id for event in events} == {call_id}
    assert [event.at for event in events] == sorted(event.at for event in events)
    assert tracker.calls() == []
    stats = tracker.stats
    assert (stats.unknown, stats.orphans, stats.malformed, stats.internal_errors) == (0, 0, 0, 0)
    assert tracker.drain_problems() == []


def test_a_blind_transfer_reported_after_the_next_queue_join_names_that_queue() -> None:
    """Asterisk publishes BlindTransfer from the operator's thread and QueueCallerJoin from the
    citizen's: on a busy PBX the join comes first. The transfer still names level 2's queue
    and the call is back in a queue, not in the dialplan."""
    messages, times = load("blind_transfer_to_level2")
    transfer = next(i for i, m in enumerate(messages) if m.get("Event") == "BlindTransfer")
    join = next(i for i, m in enumerate(messages)
                if i > transfer and m.get("Event") == "QueueCallerJoin")
    reordered = messages[:transfer] + messages[transfer + 1:join + 1] + [messages[transfer]]
    reordered += messages[join + 1:]
    tracker = CallTracker()
    events: list[CallEvent] = []
    for message, at in zip(reordered, times, strict=True):
        events.extend(tracker.feed(message, at))
        if message is messages[transfer]:
            (live,) = tracker.calls()
            assert live.state == "queued"
    (transferred,) = [e for e in events if isinstance(e, CallTransferred)]
    assert (transferred.kind, transferred.from_interface, transferred.to_queue) == (
        "blind", "PJSIP/op102", "l2-tfoms")
    answered = [e.interface for e in events if isinstance(e, OperatorAnswered)]
    assert answered == ["PJSIP/op102", "PJSIP/op201"]
    assert events.index(transferred) < events.index(
        next(e for e in events if isinstance(e, OperatorAnswered) and e.interface.endswith("op201")))


def test_ended_call_snapshot_keeps_the_story() -> None:
    """After the attended transfer the snapshot tells who took the call and what was kept."""
    tracker, _ = _replay("attended_transfer_to_level2")
    snapshot = tracker.snapshot("1795444662.13")
    assert snapshot is not None
    assert snapshot.state == "ended"
    assert snapshot.outcome == "answered"
    assert snapshot.caller_name == CITIZEN_NAME
    assert snapshot.operators == ("PJSIP/op101", "PJSIP/op201")
    assert snapshot.current_operator == "PJSIP/op201"
    assert [t.kind for t in snapshot.transfers] == ["attended"]
    assert snapshot.recording_file == "hotline/20261123/1795444662.13.wav"
    assert snapshot.ended_at is not None and snapshot.answered_at is not None


def test_live_snapshot_while_talking() -> None:
    """Mid-call, `calls()` shows one call talking to op102 with its recording."""
    tracker = CallTracker()
    messages, times = load("operator_answered")
    for message, at in zip(messages, times, strict=True):
        tracker.feed(message, at)
        if message.get("Event") == "AgentConnect":
            break
    (snapshot,) = tracker.calls()
    assert snapshot.state == "talking"
    assert snapshot.current_operator == "PJSIP/op102"
    assert snapshot.line == LINE and snapshot.organization == "tfoms"
    assert snapshot.recording_file == "hotline/20261123/1795444523.2.wav"
    assert tracker.snapshot(snapshot.call_id) == snapshot


# ------------------------------------------------------------------ synthetic AMI


def _snapshot_headers(channel: str, uniqueid: str, linkedid: str, **extra: str) -> dict[str, str]:
    headers = {
        "Channel": channel,
        "ChannelState": "6",
        "CallerIDNum": extra.pop("number", "<unknown>"),
        "CallerIDName": extra.pop("name", "<unknown>"),
        "Context": extra.pop("context", "from-operators"),
        "Exten": extra.pop("exten", "s"),
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
    }
    headers.update(extra)
    return headers


def _event(name: str, **headers: Any) -> AmiMessage:
    return AmiMessage({"Event": name, **headers})


class _Feeder:
    """Feeds messages one second apart and collects the events."""

    def __init__(self, tracker: CallTracker | None = None) -> None:
        self.tracker = tracker or CallTracker()
        self.events: list[CallEvent] = []
        self.tick = 0

    def __call__(self, message: AmiMessage) -> list[CallEvent]:
        self.tick += 1
        emitted = self.tracker.feed(message, EPOCH + timedelta(seconds=self.tick))
        self.events.extend(emitted)
        return emitted


def _inbound(feed: _Feeder, uniqueid: str, trunk: str, **variables: str) -> None:
    """A citizen's call entering the hotline dialplan (Newchannel, then the inbound Sets)."""
    snap = _snapshot_headers(trunk, uniqueid, uniqueid, number="79990001122",
                             name="Петрова Анна", context="from-trunk", exten=LINE)
    feed(_event("Newchannel", **snap))
    for variable, value in {"__HOTLINE_LINE": LINE, "__HOTLINE_ORG": "sogaz", **variables}.items():
        feed(_event("VarSet", **snap, Variable=variable, Value=value))


def test_linkedid_change_keeps_one_call() -> None:
    """Bridging makes the citizen's channel adopt an older linkedid: still the same call,
    and channels born under the new linkedid join it."""
    feed = _Feeder()
    _inbound(feed, "100.1", "PJSIP/trunk-1")
    feed(_event("Newchannel", **_snapshot_headers("PJSIP/op201-9", "50.9", "50.9")))
    feed(_event("BridgeEnter", **_snapshot_headers("PJSIP/trunk-1", "100.1", "50.9",
                                                   context="from-trunk", exten=LINE)))
    feed(_event("Newchannel", **_snapshot_headers("PJSIP/op202-a", "100.5", "50.9")))
    trunk = _snapshot_headers("PJSIP/trunk-1", "100.1", "50.9", context="from-trunk", exten=LINE)
    feed(_event("QueueCallerJoin", **trunk, Queue="l2-sogaz", Position="1", Count="1"))
    feed(_event("AgentCalled", **trunk, DestChannel="PJSIP/op202-a", DestUniqueid="100.5",
                DestLinkedid="50.9", Queue="l2-sogaz", Interface="PJSIP/op202",
                MemberName="Орлова Г.Г."))
    assert len(feed.tracker.calls()) == 1
    for name, uniqueid in (("PJSIP/op201-9", "50.9"), ("PJSIP/op202-a", "100.5")):
        feed(_event("Hangup", **_snapshot_headers(name, uniqueid, "50.9"), Cause="16"))
    assert len(feed.tracker.calls()) == 1
    feed(_event("Hangup", **trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}))
    assert [type(e).__name__ for e in feed.events] == [
        "CallArrived", "CallQueued", "OperatorRinging", "CallEnded",
    ]
    assert {e.call_id for e in feed.events} == {"100.1"}
    assert feed.tracker.calls() == []
    assert feed.tracker.stats.orphans == 0


def test_attended_transfer_from_the_phone_merges_the_consultation() -> None:
    """A consultation dialled from the operator's phone is a separate channel tree with its
    own linkedid; the AttendedTransfer folds it into the citizen's call."""
    feed = _Feeder()
    _inbound(feed, "200.1", "PJSIP/trunk-2")
    trunk = _snapshot_headers("PJSIP/trunk-2", "200.1", "200.1", context="from-trunk", exten=LINE)
    feed(_event("Newchannel", **_snapshot_headers("PJSIP/op101-b", "200.2", "200.1")))
    feed(_event("AgentConnect", **trunk, DestChannel="PJSIP/op101-b", DestUniqueid="200.2",
                Queue="l1-sogaz", Interface="PJSIP/op101", MemberName="Иванова А.А.",
                HoldTime="3", RingTime="1"))
    # The operator's phone dials 2000: a new tree, then a Local pair queueing at level 2.
    consult = _snapshot_headers("PJSIP/op101-c", "300.1", "300.1", exten="2000")
    feed(_event("Newchannel", **consult))
    local1 = _snapshot_headers("Local/2000@hotline-l2-0;1", "300.2", "300.1", exten="2000")
    local2 = _snapshot_headers("Local/2000@hotline-l2-0;2", "300.3", "300.1", exten="2000")
    feed(_event("Newchannel", **local1))
    feed(_event("Newchannel", **local2))
    feed(_event("QueueCallerJoin", **local2, Queue="l2-sogaz", Position="1", Count="1"))
    feed(_event("Newchannel", **_snapshot_headers("PJSIP/op201-d", "300.4", "300.1")))
    feed(_event("AgentConnect", **local2, DestChannel="PJSIP/op201-d", DestUniqueid="300.4",
                Queue="l2-sogaz", Interface="PJSIP/op201", MemberName="Сидорова В.В.",
                HoldTime="2", RingTime="2"))
    assert [type(e).__name__ for e in feed.events] == ["CallArrived", "OperatorAnswered"]
    feed(_event(
        "AttendedTransfer", Result="Success",
        OrigTransfererChannel="PJSIP/op101-b", OrigTransfererUniqueid="200.2",
        SecondTransfererChannel="PJSIP/op101-c", SecondTransfererUniqueid="300.1",
        TransfereeChannel="PJSIP/trunk-2", TransfereeUniqueid="200.1",
        TransferTargetChannel="Local/2000@hotline-l2-0;1", TransferTargetUniqueid="300.2",
        TransferTargetContext="hotline-l2", TransferTargetExten="2000", DestType="Bridge",
    ))
    transfer = feed.events[-1]
    assert transfer == CallTransferred(
        call_id="200.1", at=transfer.at, kind="attended", from_interface="PJSIP/op101",
        to_queue="l2-sogaz", to_interface="PJSIP/op201", to_context="hotline-l2",
        to_extension="2000",
    )
    for headers in (consult, local1, local2, _snapshot_headers("PJSIP/op201-d", "300.4", "300.1"),
                    _snapshot_headers("PJSIP/op101-b", "200.2", "200.1")):
        feed(_event("Hangup", **headers, Cause="16"))
    assert len(feed.tracker.calls()) == 1
    feed(_event("Hangup", **trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}))
    assert isinstance(feed.events[-1], CallEnded)
    assert feed.events[-1].outcome == "answered"
    assert {e.call_id for e in feed.events} == {"200.1"}


def test_hotline_id_is_the_call_key() -> None:
    """With `channelvars = HOTLINE_ID`, the dialplan's id names the call, and a channel that
    carries it joins the call whatever its linkedid."""
    feed = _Feeder()
    trunk = _snapshot_headers("PJSIP/trunk-3", "400.1", "400.1", context="from-trunk", exten=LINE)
    feed(_event("Newchannel", **trunk))
    feed(_event("Newstate", **trunk, ChanVariable=["HOTLINE_ID=call-7", "HOTLINE_ORG=tfoms"]))
    stray = _snapshot_headers("PJSIP/op101-x", "999.1", "999.1")
    feed(_event("Newchannel", **stray, ChanVariable="HOTLINE_ID=call-7"))
    feed(_event("Hangup", **trunk, Cause="16"))
    assert feed.tracker.calls()[0].call_id == "call-7"
    feed(_event("Hangup", **stray, Cause="16"))
    arrived, ended = feed.events
    assert isinstance(arrived, CallArrived) and arrived.call_id == "call-7"
    assert (arrived.organization, arrived.linkedid) == ("tfoms", "400.1")
    assert isinstance(ended, CallEnded) and ended.call_id == "call-7"


def test_calls_between_operators_are_not_reported() -> None:
    """An operator calling a colleague is no hotline call: nothing comes out."""
    feed = _Feeder()
    a = _snapshot_headers("PJSIP/op101-e", "500.1", "500.1", exten="102")
    b = _snapshot_headers("PJSIP/op102-f", "500.2", "500.1")
    for message in (_event("Newchannel", **a), _event("Newchannel", **b),
                    _event("DialBegin", **a, DestChannel=b["Channel"], DestUniqueid="500.2"),
                    _event("Hangup", **b, Cause="16"), _event("Hangup", **a, Cause="16")):
        feed(message)
    assert feed.events == []
    assert feed.tracker.calls() == []


def test_orphans_unknown_and_malformed_are_counted_not_fatal() -> None:
    """After this service restarts, events about channels it never saw are counted and
    described; so are unknown events and messages that make no sense."""
    feed = _Feeder()
    orphan = _snapshot_headers("PJSIP/trunk-9", "600.1", "600.1", context="from-trunk")
    feed(_event("Hangup", **orphan, Cause="16"))
    feed(_event("QueueCallerAbandon", **orphan, Queue="l1-tfoms", HoldTime="3"))
    feed(_event("FancyNewEvent2030", Foo="bar"))
    feed(_event("FancyNewEvent2030", Foo="baz"))
    feed(AmiMessage({"Foo": "no event, no response"}))
    feed(AmiMessage({"Response": "Success", "ActionID": "x"}))
    _inbound(feed, "700.1", "PJSIP/trunk-7")
    trunk = _snapshot_headers("PJSIP/trunk-7", "700.1", "700.1", context="from-trunk")
    feed(_event("QueueCallerJoin", **trunk, Position="1"))
    stats = feed.tracker.stats
    assert (stats.orphans, stats.unknown, stats.malformed, stats.responses) == (2, 2, 2, 1)
    assert stats.internal_errors == 0
    problems = feed.tracker.drain_problems()
    assert len(problems) == 5  # two orphans, the unknown event once, two malformed
    assert feed.tracker.drain_problems() == []
    assert [type(e).__name__ for e in feed.events] == ["CallArrived"]


def test_events_after_hangup_are_late_not_orphans() -> None:
    """A straggler about a channel that already hung up is counted apart from orphans."""
    feed = _Feeder()
    _inbound(feed, "800.1", "PJSIP/trunk-8")
    trunk = _snapshot_headers("PJSIP/trunk-8", "800.1", "800.1", context="from-trunk")
    feed(_event("Hangup", **trunk, Cause="16"))
    feed(_event("VarSet", **trunk, Variable="RTPAUDIOQOS", Value="x"))
    assert (feed.tracker.stats.late, feed.tracker.stats.orphans) == (1, 0)


# ------------------------------------------------------------------ resync & reconcile


def test_resync_answers_create_the_live_call() -> None:
    """A tracker that missed the call's start learns it from CoreShowChannels and Status:
    the call is reported as resumed, with the operator found bridged to the citizen."""
    messages, times = load("resync_snapshot")
    start = next(i for i, m in enumerate(messages) if m.get("Event") == "CoreShowChannel")
    feed = _Feeder()
    for message in messages[start:]:
        feed(message)
    assert [_describe(e) for e in feed.events] == [
        ("CallArrived",
         dict(direction="in", line=LINE, organization=None, caller_number=CITIZEN,
              caller_name=CITIZEN_NAME, channel="PJSIP/trunk-00000013",
              uniqueid="1795444727.21", linkedid="1795444727.21", resumed=True)),
        ("OperatorAnswered",
         dict(interface="PJSIP/op102", member_name=None, queue="l1-tfoms", hold_time=None,
              ring_time=None, channel="PJSIP/op102-00000014", consultation=False)),
        _ended("answered"),
    ]
    assert feed.tracker.stats.orphans == 0


def test_queue_entry_creates_a_waiting_call() -> None:
    """QueueStatus' QueueEntry for an unknown caller: a resumed call, waiting in its queue."""
    feed = _Feeder()
    feed(_event("QueueEntry", Queue="l1-tfoms", Position="2", Channel="PJSIP/trunk-42",
                Uniqueid="900.1", CallerIDNum=CITIZEN, CallerIDName=CITIZEN_NAME, Wait="17",
                ActionID="resync-3"))
    arrived, queued = feed.events
    assert isinstance(arrived, CallArrived) and arrived.resumed
    assert arrived.caller_name == CITIZEN_NAME
    assert queued == CallQueued(call_id="900.1", at=queued.at, queue="l1-tfoms", position=2)
    (snapshot,) = feed.tracker.calls()
    assert (snapshot.state, snapshot.queue) == ("queued", "l1-tfoms")


def test_reconcile_after_asterisk_restart_interrupts_calls() -> None:
    """Asterisk restarted mid-call: every tracked channel is gone, the call ends
    `interrupted` with no cause, and later events about it are stragglers."""
    tracker = CallTracker()
    messages, times = load("operator_answered")
    for message, at in zip(messages, times, strict=True):
        tracker.feed(message, at)
        if message.get("Event") == "AgentConnect":
            break
    live = {"1795444523.2", "1795444523.3"}
    at = EPOCH + timedelta(seconds=60)
    (ended,) = tracker.reconcile(live, at, restarted=True)
    assert ended == CallEnded(
        call_id="1795444523.2", at=at, cause=None, cause_text=None, outcome="interrupted"
    )
    assert tracker.calls() == []
    snapshot = tracker.snapshot("1795444523.2")
    assert snapshot is not None and snapshot.outcome == "interrupted"
    assert tracker.feed(messages[-3], at) == []  # a Hangup from the old world


def test_reconcile_keeps_calls_whose_channels_live() -> None:
    """No restart, the channels are still there: nothing ends; a vanished one does."""
    tracker = CallTracker()
    messages, times = load("operator_answered")
    for message, at in zip(messages, times, strict=True):
        tracker.feed(message, at)
        if message.get("Event") == "AgentConnect":
            break
    at = EPOCH + timedelta(seconds=60)
    assert tracker.reconcile({"1795444523.2", "1795444523.3"}, at, restarted=False) == []
    assert len(tracker.calls()) == 1
    assert tracker.reconcile({"1795444523.2"}, at, restarted=False) == []
    assert tracker.calls()[0].channels == ("PJSIP/trunk-00000002",)
    (ended,) = tracker.reconcile(set(), at, restarted=False)
    assert isinstance(ended, CallEnded) and ended.outcome == "interrupted"


def test_resync_finds_the_operator_who_answered_while_the_link_was_down() -> None:
    """The tracker followed the call up to op102's phone ringing; the AgentConnect was lost
    with the link. The snapshot after the reconnect shows the citizen bridged with op102:
    that is the answer, reported once (not again for the Status answers), and the call
    later ends as answered, not abandoned."""
    tracker = CallTracker()
    messages, times = load("operator_answered")
    ringing = next(i for i, m in enumerate(messages) if m.get("Event") == "AgentCalled")
    for message, at in zip(messages[: ringing + 1], times[: ringing + 1], strict=True):
        tracker.feed(message, at)
    assert [c.state for c in tracker.calls()] == ["ringing"]
    at = EPOCH + timedelta(seconds=30)
    trunk = _snapshot_headers("PJSIP/trunk-00000002", "1795444523.2", "1795444523.2",
                              Application="Queue", ApplicationData="l1-tfoms", BridgeId="b-1")
    agent = _snapshot_headers("PJSIP/op102-00000003", "1795444523.3", "1795444523.2",
                              Application="AppQueue", BridgeId="b-1")
    events = []
    for name in ("CoreShowChannel", "Status"):
        for headers in (trunk, agent):
            events += tracker.feed(_event(name, **headers), at)
    assert tracker.reconcile({"1795444523.2", "1795444523.3"}, at, restarted=False) == []
    assert [(type(e).__name__, e.interface) for e in events] == [("OperatorAnswered", "PJSIP/op102")]
    (snapshot,) = tracker.calls()
    assert (snapshot.state, snapshot.current_operator) == ("talking", "PJSIP/op102")
    for headers in (agent, trunk):
        events += tracker.feed(_event("Hangup", **headers, Cause="16"), at + timedelta(seconds=9))
    assert isinstance(events[-1], CallEnded) and events[-1].outcome == "answered"


def test_reconcile_after_restart_keeps_calls_found_by_resync() -> None:
    """Calls created from the resync answers after a restart are live, not interrupted."""
    messages, times = load("resync_snapshot")
    start = next(i for i, m in enumerate(messages) if m.get("Event") == "CoreShowChannel")
    tracker = CallTracker()
    for message, at in zip(messages[start:start + 2], times[start:start + 2], strict=True):
        tracker.feed(message, at)
    live = {"1795444727.21", "1795444727.22"}
    assert tracker.reconcile(live, times[start], restarted=True) == []
    assert len(tracker.calls()) == 1


# ------------------------------------------------------------------ totality

_KEYS = [
    "Event", "Response", "Channel", "Uniqueid", "Linkedid", "Context", "Exten", "CallerIDNum",
    "CallerIDName", "Queue", "Position", "HoldTime", "RingTime", "Interface", "MemberName",
    "DestChannel", "DestUniqueid", "DestExten", "DialStatus", "Variable", "Value",
    "ChanVariable", "Application", "AppData", "ApplicationData", "BridgeId", "Cause",
    "Cause-txt", "UserEvent", "File", "Duration", "Result", "TransfereeUniqueid",
    "TransfererUniqueid", "OrigTransfererUniqueid", "TransferTargetUniqueid", "Newname",
]
_EVENTS = [
    "Newchannel", "Newexten", "VarSet", "QueueCallerJoin", "QueueCallerLeave",
    "QueueCallerAbandon", "AgentCalled", "AgentRingNoAnswer", "AgentConnect", "DialBegin",
    "DialEnd", "BlindTransfer", "AttendedTransfer", "MixMonitorStart", "UserEvent", "Hangup",
    "Rename", "CoreShowChannel", "Status", "QueueEntry", "OriginateResponse", "Newstate",
]
_ids = st.sampled_from(["1.1", "1.2", "2.1", "<null>", "", "Local/x;1"])
_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["callback", "HotlineMessage", "Success", "ANSWER", "Queue", "²", "-7",
                     "__HOTLINE_LINE", "HOTLINE_ID=1.1", "HOTLINE_CARD=5", "REC=a.wav",
                     "Local/x;2", "PJSIP/op1-0a"]),
    _ids,
)
_value = st.one_of(_text, st.lists(_text, max_size=3))
_message = st.fixed_dictionaries(
    {"Event": st.one_of(st.sampled_from(_EVENTS), st.text(max_size=10))},
    optional={key: _value for key in _KEYS if key != "Event"},
) | st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=8)), _value, max_size=8)


@settings(max_examples=200, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(_message, max_size=25), restarted=st.booleans())
def test_feed_is_total(messages: list[dict[str, Any]], restarted: bool) -> None:
    """Any sequence of header dicts goes in, plain events come out, no exception escapes,
    and the last-resort guard inside `feed` is never needed."""
    tracker = CallTracker()
    at = EPOCH
    for headers in messages:
        for event in tracker.feed(AmiMessage(headers), at):
            assert isinstance(event, CallEvent)
        at += timedelta(milliseconds=10)
    tracker.calls()
    tracker.reconcile({"1.1"}, at, restarted=restarted)
    assert tracker.stats.internal_errors == 0, tracker.drain_problems()


@settings(max_examples=60, database=None, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(EXPECTED)))
def test_lossy_replay_is_total(data: st.DataObject, name: str) -> None:
    """Real sessions with messages dropped or shuffled (a lost TCP segment, a bug upstream)
    still never break the tracker, and every call it reported ends exactly once."""
    messages, times = load(name)
    kept = data.draw(st.lists(st.sampled_from(range(len(messages))), max_size=len(messages)))
    tracker = CallTracker()
    events: list[CallEvent] = []
    for index in kept:
        events.extend(tracker.feed(messages[index], times[index]))
    events.extend(tracker.reconcile(set(), times[-1], restarted=True))
    arrived = [e.call_id for e in events if isinstance(e, CallArrived)]
    ended = [e.call_id for e in events if isinstance(e, CallEnded)]
    assert sorted(arrived) == sorted(ended)
    assert len(set(arrived)) == len(arrived)
    assert tracker.stats.internal_errors == 0, tracker.drain_problems()


def test_event_types_are_plain_frozen_data() -> None:
    """Consumers get immutable, slotted values they can compare, hash and serialise."""
    for event_type in (CallArrived, CallQueued, OperatorRinging, OperatorAnswered,
                       CallTransferred, CallAbandoned, SecretaryMessage, CallbackPlaced,
                       CallbackAnswered, RecordingStarted, CallEnded):
        assert dataclasses.is_dataclass(event_type)
        assert "__slots__" in vars(event_type)
    event = CallEnded(call_id="1", at=EPOCH, cause=16, cause_text="Normal", outcome="answered")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.cause = 17  # type: ignore[misc]
    assert hash(event) == hash(dataclasses.replace(event))


def test_ring_no_answer_and_blind_transfer_out_of_the_queues() -> None:
    """An operator lets the phone ring out; the next one answers and blind-transfers the
    citizen to a place that is no queue (a survey, say): the transfer is still reported,
    before the end, with no queue."""
    feed = _Feeder()
    _inbound(feed, "910.1", "PJSIP/trunk-91")
    trunk = _snapshot_headers("PJSIP/trunk-91", "910.1", "910.1", context="from-trunk",
                              number="79990001122", exten=LINE)
    feed(_event("QueueCallerJoin", **trunk, Queue="l1-sogaz", Position="1", Count="1"))
    for uniqueid, op in (("910.2", "op101"), ("910.3", "op102")):
        feed(_event("Newchannel", **_snapshot_headers(f"PJSIP/{op}-1", uniqueid, "910.1")))
        feed(_event("AgentCalled", **trunk, DestChannel=f"PJSIP/{op}-1", DestUniqueid=uniqueid,
                    Queue="l1-sogaz", Interface=f"PJSIP/{op}", MemberName=op))
    feed(_event("AgentRingNoAnswer", **trunk, DestUniqueid="910.2", Queue="l1-sogaz",
                Interface="PJSIP/op101", MemberName="op101", RingTime="15000"))
    feed(_event("AgentConnect", **trunk, DestUniqueid="910.3", Queue="l1-sogaz",
                Interface="PJSIP/op102", MemberName="op102", HoldTime="20", RingTime="3"))
    feed(_event("BlindTransfer", Result="Success", TransfererUniqueid="910.3",
                TransfereeUniqueid="910.1", Context="survey", Extension="s", IsExternal="No"))
    for uniqueid, op in (("910.2", "op101"), ("910.3", "op102")):
        feed(_event("Hangup", **_snapshot_headers(f"PJSIP/{op}-1", uniqueid, "910.1"), Cause="16"))
    feed(_event("Hangup", **trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}))
    names = [type(e).__name__ for e in feed.events]
    assert names == [
        "CallArrived", "CallQueued", "OperatorRinging", "OperatorRinging", "RingNoAnswer",
        "OperatorAnswered", "CallTransferred", "CallEnded",
    ]
    no_answer, answered, transfer, ended = feed.events[4:]
    assert (no_answer.interface, no_answer.ring_time_ms) == ("PJSIP/op101", 15000)
    assert (answered.interface, answered.hold_time) == ("PJSIP/op102", 20)
    assert transfer == CallTransferred(
        call_id="910.1", at=transfer.at, kind="blind", from_interface="PJSIP/op102",
        to_queue=None, to_interface=None, to_context="survey", to_extension="s",
    )
    assert (ended.cause, ended.outcome) == (16, "answered")


def _perturbed(data: st.DataObject, message: AmiMessage, pool: list[str]) -> dict[str, Any]:
    """One real message, damaged the ways a broken link or PBX damages them: a header lost,
    a value swapped for another value of the same session (another channel's Uniqueid, a
    stale Linkedid), a key repeated with two values, or a value emptied."""
    headers: dict[str, Any] = {k: v for k, v in message.items() if k != "content"}
    keys = sorted(headers)
    for _ in range(data.draw(st.integers(min_value=0, max_value=2), label="damages")):
        key = data.draw(st.sampled_from(keys), label="key")
        how = data.draw(st.sampled_from(["drop", "swap", "repeat", "empty"]), label="how")
        if how == "drop":
            headers.pop(key, None)
        elif how == "swap":
            headers[key] = data.draw(st.sampled_from(pool), label="value")
        elif how == "repeat":
            headers[key] = [headers.get(key, ""), data.draw(st.sampled_from(pool), label="value")]
        else:
            headers[key] = ""
    return headers


@settings(max_examples=60, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), names=st.lists(st.sampled_from(sorted(EXPECTED)), min_size=1, max_size=3),
       restarted=st.booleans())
def test_perturbed_replays_keep_every_call_story_whole(
    data: st.DataObject, names: list[str], restarted: bool
) -> None:
    """Real sessions, one after the other, each message kept, dropped, repeated, moved or
    damaged: the tracker never raises, and each call's reported story stays well-formed —
    it starts with its one CallArrived, nothing follows its CallEnded, and after the final
    reconcile every call that arrived has ended exactly once."""
    sessions = [load(name) for name in names]
    messages = [m for session, _ in sessions for m in session]
    pool = sorted({v for m in messages for v in m.values() if isinstance(v, str) and v})
    tracker = CallTracker()
    at = EPOCH
    events: list[CallEvent] = []
    queue = list(range(len(messages)))
    while queue:
        index = queue.pop(0)
        fate = data.draw(st.sampled_from(["keep", "keep", "keep", "drop", "again", "later", "damage"]),
                         label="fate")
        if fate == "drop":
            continue
        if fate == "later" and queue:
            queue.insert(data.draw(st.integers(1, len(queue)), label="to"), index)
            continue
        message: Any = messages[index]
        if fate == "damage":
            message = _perturbed(data, message, pool)
        for _ in range(2 if fate == "again" else 1):
            events.extend(tracker.feed(message, at))
            at += timedelta(milliseconds=5)
    events.extend(tracker.reconcile(set(), at, restarted=restarted))
    assert tracker.stats.internal_errors == 0, tracker.drain_problems()
    stories: dict[str, list[CallEvent]] = {}
    for event in events:
        stories.setdefault(event.call_id, []).append(event)
    for call_id, story in stories.items():
        kinds = [type(e).__name__ for e in story]
        assert kinds[0] == "CallArrived" and kinds.count("CallArrived") == 1, (call_id, kinds)
        assert kinds.count("CallEnded") == 1 and kinds[-1] == "CallEnded", (call_id, kinds)
    assert tracker.calls() == []
