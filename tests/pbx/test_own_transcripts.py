"""The project's own dialplan on a real Asterisk 22.10.1, replayed through the tracker.

tests/fixtures/ami/ holds the AMI sessions recorded by tests/asterisk/ (a tap logged in as the
service's AMI user, so with config/asterisk/manager.conf's channelvars and exclude filters):
what the service really receives. Each must give the same story the journal needs, with
nothing left over (no orphan, unknown or malformed message, no tracker error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.pbx.config.render import EXCLUDED_EVENTS
from hotline.pbx.events import (
    CallArrived,
    CallbackAnswered,
    CallbackPlaced,
    CallEnded,
    CallTransferred,
    OperatorAnswered,
    RecordingStarted,
    SecretaryMessage,
)
from hotline.pbx.tracking.calls import CallTracker
from tests.support.transcripts import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
LINE = "88007758565"


def replay(name: str) -> tuple[list, CallTracker]:
    messages, times = load(name, FIXTURES)
    tracker = CallTracker()
    events = []
    for message, at in zip(messages, times, strict=True):
        events.extend(tracker.feed(message, at))
    return events, tracker


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.jsonl")))
def test_every_session_is_understood_whole(name: str) -> None:
    """Nothing the real PBX sent is an orphan, unknown or malformed, and what manager.conf
    excludes never arrives (the filters work on the real program)."""
    messages, _ = load(name, FIXTURES)
    excluded = {e.lower() for e in EXCLUDED_EVENTS}
    assert not [m for m in messages if str(m.get("Event", "")).lower() in excluded]
    _, tracker = replay(name)
    stats = tracker.stats
    assert (stats.orphans, stats.unknown, stats.malformed, stats.internal_errors) == (0, 0, 0, 0)
    assert list(tracker.problems) == []
    assert tracker.calls() == []  # every call of the session ended


def test_an_answered_call_carries_its_tags_and_recording_through_channelvars() -> None:
    events, _ = replay("answered")
    (arrived,) = of(events, CallArrived)
    assert (arrived.direction, arrived.line, arrived.organization) == ("in", LINE, "tfoms")
    assert arrived.caller_name == "Иванова Мария Петровна"
    assert arrived.call_id == arrived.uniqueid  # HOTLINE_ID, read from ChanVariable
    (recording,) = of(events, RecordingStarted)
    assert recording.file == f"hotline/{recording.file.split('/')[1]}/{arrived.call_id}.wav"
    (answered,) = of(events, OperatorAnswered)
    assert answered.interface in ("PJSIP/op101", "PJSIP/op102")
    assert of(events, CallEnded)[-1].outcome == "answered"


def test_an_abandoned_call_is_abandoned() -> None:
    events, _ = replay("abandoned")
    assert of(events, CallEnded)[-1].outcome == "abandoned"
    assert of(events, OperatorAnswered) == []


def test_the_workspace_transfer_and_the_phones_keys_are_one_call_each() -> None:
    blind, _ = replay("blind_transfer_api")
    (transfer,) = of(blind, CallTransferred)
    assert (transfer.kind, transfer.from_interface, transfer.to_queue) == (
        "blind", "PJSIP/op101", "l2-tfoms")
    assert [a.interface for a in of(blind, OperatorAnswered)][-1] == "PJSIP/op201"
    assert len(of(blind, CallArrived)) == 1
    attended, _ = replay("attended_transfer_keys")
    (transfer,) = of(attended, CallTransferred)
    assert (transfer.kind, transfer.to_queue, transfer.to_interface) == (
        "attended", "l2-tfoms", "PJSIP/op201")
    assert len(of(attended, CallArrived)) == 1
    assert of(attended, CallEnded)[-1].outcome == "answered"


def test_with_every_operator_paused_nobody_is_queued() -> None:
    events, _ = replay("all_paused")
    assert [type(e).__name__ for e in events] == ["CallArrived", "RecordingStarted", "CallEnded"]


def test_a_message_and_the_callback_to_its_card() -> None:
    events, _ = replay("secretary_and_callback")
    inbound, callback = of(events, CallArrived)
    (message,) = of(events, SecretaryMessage)
    assert message.call_id == inbound.call_id and message.file.endswith(".wav")
    assert (callback.direction, callback.caller_number) == ("out", inbound.caller_number)
    (placed,) = of(events, CallbackPlaced)
    (picked,) = of(events, CallbackAnswered)
    assert placed.card_id == picked.card_id and placed.interface == "PJSIP/op101"
    files = [r.file for r in of(events, RecordingStarted) if r.call_id == callback.call_id]
    assert files == [f"hotline/{files[0].split('/')[1]}/cb-{callback.call_id}.wav"]
    assert [e.outcome for e in of(events, CallEnded)] == ["secretary", "callback"]


def test_a_survey_call_is_a_call_of_its_own_with_its_recording() -> None:
    events, _ = replay("survey")
    survey = of(events, CallArrived)[-1]
    assert (survey.direction, survey.caller_number) == ("out", "79131112299")
    (answered,) = of(events, CallbackAnswered)
    assert answered.card_id is not None and answered.interface is None
    assert [r.file.rsplit("/", 1)[-1] for r in of(events, RecordingStarted)
            if r.call_id == survey.call_id] == [f"survey-{survey.call_id}.wav"]
    assert of(events, CallEnded)[-1].outcome == "survey"


async def test_the_simulator_as_configured_sends_what_the_real_pbx_sends(settings) -> None:
    """An answered call from `hotline simulate`/`demo` (as_configured) and from the real PBX
    with the same config: the same kinds of events (the exclude filters applied, the
    ledger's hangup handler announced and run). Known and harmless: the real session starts
    with its login's FullyBooted; the simulator announces the ringing with a DialState."""
    from collections import Counter

    from hotline.sim.simulator import PbxSimulator

    real, _ = load("answered", FIXTURES)
    real_kinds = Counter(str(m.get("Event")) for m in real if m.get("Event"))
    sent: list = []
    async with PbxSimulator(settings, time_scale=0.01, as_configured=True, seed=3,
                            auth_failure_delay=0) as sim:
        sim.add_listener(sent.append)
        sim.place_call(LINE, "79131112233", "Иванова Мария Петровна", "answered")
        await sim.wait_idle()
    excluded = {e.lower() for e in EXCLUDED_EVENTS}
    sim_kinds = Counter(h[0][1] for h in sent if h[0][1].lower() not in excluded)
    assert set(real_kinds) - {"FullyBooted"} == set(sim_kinds) - {"DialState"}


def test_a_supervisor_listening_is_a_listener_not_a_call_an_operator_or_a_transfer() -> None:
    """The real ChanSpy legs (listen, Redirect to whisper, to barge, Hangup from the page):
    one call, one operator, no transfer; the supervisor's phone only a listener."""
    from hotline.pbx.events import SupervisionEnded, SupervisionStarted, SupervisionSwitched

    events, tracker = replay("supervision")
    (arrived,) = of(events, CallArrived)
    assert [a.interface for a in of(events, OperatorAnswered)] == ["PJSIP/op101"]
    assert of(events, CallTransferred) == []
    (started,) = of(events, SupervisionStarted)
    assert (started.call_id, started.interface, started.mode, started.operator) == (
        arrived.call_id, "PJSIP/sup100", "listen", "PJSIP/op101")
    assert [(s.previous, s.mode) for s in of(events, SupervisionSwitched)] == [
        ("listen", "whisper"), ("whisper", "barge")]
    (ended,) = of(events, SupervisionEnded)
    assert ended.joined and ended.mode == "barge" and ended.seconds >= 5
    assert ended.at < of(events, CallEnded)[-1].at
    final = tracker.snapshot(arrived.call_id)
    assert final.operators == ("PJSIP/op101",) and final.listeners == ()
    assert not any("sup100" in c for c in final.channels)
    assert of(events, CallEnded)[-1].outcome == "answered"


def test_key_1_in_the_queue_ends_as_a_queue_callback_not_abandoned() -> None:
    """The caller waited (op101 talking, op102 paused), pressed 1, confirmed the number: the
    queue reports a QueueCallerLeave (no abandon), the FastAGI script a HotlineQueueCallback
    user event; the call ends «queue_callback», never answered."""
    events, _ = replay("queue_callback")
    ended = {e.call_id: e.outcome for e in of(events, CallEnded)}
    assert sorted(ended.values()) == ["answered", "queue_callback"]
    asked = next(a for a in of(events, CallArrived) if ended[a.call_id] == "queue_callback")
    assert asked.caller_number.endswith("9131112312")
    assert not [e for e in of(events, OperatorAnswered) if e.call_id == asked.call_id]


def test_waiting_callers_in_the_announcements_session() -> None:
    """Two answered at once, two left waiting until hung up: abandoned, not queue callbacks."""
    events, _ = replay("queue_announcements")
    assert sorted(e.outcome for e in of(events, CallEnded)) == [
        "abandoned", "abandoned", "answered", "answered"]


def test_the_enp_typed_to_the_secretary_never_reaches_the_ami() -> None:
    """The secretary scenario where the caller typed a wrong then the right ЕНП: the session
    holds the call and its message, and no 16-digit run at all."""
    from journal.enp import control_digit

    good = "220000000000004" + str(control_digit("220000000000004"))  # as the scenario typed
    bad = good[:-1] + str((int(good[-1]) + 3) % 10)
    messages, _ = load("enp_secretary", FIXTURES)
    text = (FIXTURES / "enp_secretary.jsonl").read_text("utf-8")
    assert good not in text and bad not in text
    events, _ = replay("enp_secretary")
    assert [e.outcome for e in of(events, CallEnded)] == ["secretary"]
    assert len(of(events, SecretaryMessage)) == 1 and messages
