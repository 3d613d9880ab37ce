"""The PBX's ledger line (hotline-ledger in extensions.conf) read back into domain events."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hotline.pbx.events import (
    CallAbandoned,
    CallArrived,
    CallEnded,
    OperatorAnswered,
    RecordingStarted,
    SecretaryMessage,
)
from hotline.pbx.ledger import events_for, parse_entry

START = 1_790_000_000


def line(**fields: str) -> str:
    """A ledger value as the dialplan writes it (every field present, most empty)."""
    order = ("v", "line", "start", "end", "num", "name", "qstart", "member", "hold", "rec",
             "msg", "msgstart", "cb", "cause")
    values = {"v": "1", "line": "88007758565", "start": str(START), "end": str(START + 95),
              "num": "79131234567", "cause": "16", **fields}
    return "|".join(f"{key}={values.get(key, '')}" for key in order)


def kinds(events: list) -> list[str]:
    return [type(e).__name__ for e in events]


def test_an_answered_call_reads_as_the_tracker_would_report_it() -> None:
    name = base64.b64encode("Иванова Мария".encode()).decode()
    entry = parse_entry("/hotline/ledger/1790000000.7", line(
        name=name, qstart=str(START + 10), member="PJSIP/op101", hold="12",
        rec="hotline/20260921/1790000000.7.wav"))
    assert entry is not None and entry.call_id == "1790000000.7"
    assert entry.caller_name == "Иванова Мария"
    assert entry.outcome == "answered"
    events = events_for(entry, "tfoms", "l1-tfoms")
    assert kinds(events) == ["CallArrived", "RecordingStarted", "OperatorAnswered", "CallEnded"]
    arrived, recording, answered, ended = events
    assert isinstance(arrived, CallArrived) and arrived.resumed and arrived.organization == "tfoms"
    assert isinstance(recording, RecordingStarted)
    assert recording.file == "hotline/20260921/1790000000.7.wav"
    assert isinstance(answered, OperatorAnswered) and answered.interface == "PJSIP/op101"
    assert answered.at == datetime.fromtimestamp(START + 22, UTC)  # queue start + wait
    assert isinstance(ended, CallEnded) and ended.outcome == "answered" and ended.cause == 16


def test_a_message_left_with_the_plain_dialplan_secretary_keeps_the_confirmed_number() -> None:
    entry = parse_entry("/hotline/ledger/x.1", line(
        msg="hotline/20260921/msg-x.1.wav", msgstart=str(START + 30), cb="79990001122",
        rec="hotline/20260921/x.1.wav"))
    assert entry is not None and entry.outcome == "secretary"
    events = events_for(entry, "tfoms", "l1-tfoms")
    message = next(e for e in events if isinstance(e, SecretaryMessage))
    assert message.caller_number == "79990001122"
    assert message.duration == 65 and message.file == "hotline/20260921/msg-x.1.wav"
    assert events[-1].outcome == "secretary"


def test_a_caller_who_gave_up_in_the_queue_is_abandoned_with_the_wait() -> None:
    entry = parse_entry("/hotline/ledger/x.2", line(qstart=str(START + 15)))
    assert entry is not None
    events = events_for(entry, "tfoms", "l1-tfoms")
    abandoned = next(e for e in events if isinstance(e, CallAbandoned))
    assert (abandoned.queue, abandoned.hold_time) == ("l1-tfoms", 80)
    assert events[-1].outcome == "abandoned"


def test_a_hostile_or_broken_line_is_refused_or_cleaned_never_raises() -> None:
    assert parse_entry("/hotline/ledger/x", "v=2|start=1|end=2") is None
    assert parse_entry("/hotline/ledger/x", "garbage") is None
    assert parse_entry("/hotline/ledger/", line()) is None
    entry = parse_entry("/hotline/ledger/x.3", line(
        num="7" * 80, name=base64.b64encode(b"\x00\x01bad\xff" + "Я".encode() * 300).decode()))
    assert entry is not None
    assert entry.caller_number == "7" * 32
    assert entry.caller_name is not None and "\x00" not in entry.caller_name
    assert len(entry.caller_name) <= 200
    assert parse_entry("/hotline/ledger/x.4", line(name="not base64!")).caller_name is None


def test_a_pbx_clock_running_ahead_moves_the_call_back_to_now_keeping_its_lengths() -> None:
    """A PBX whose clock is ahead of ours: the journal refuses calls that arrive in the
    future, so the ledger's times are moved back to end now; the wait and talk keep their
    lengths. A PBX clock behind ours changes nothing."""
    from hotline.pbx.ledger import _not_ahead_of

    entry = parse_entry("/hotline/ledger/1790000000.9", line(
        qstart=str(START + 10), member="PJSIP/op101", hold="12"))
    assert entry is not None
    now = datetime.fromtimestamp(START + 95 - 600, UTC)  # the PBX is ten minutes ahead
    moved = _not_ahead_of(entry, now)
    assert moved.ended_at == now
    assert (moved.ended_at - moved.started_at).total_seconds() == 95
    assert moved.queued_at is not None and (moved.queued_at - moved.started_at).total_seconds() == 10
    arrived = next(e for e in events_for(moved, "tfoms", "l1-tfoms") if isinstance(e, CallArrived))
    assert arrived.at <= now
    later = datetime.fromtimestamp(START + 95 + 5, UTC)
    assert _not_ahead_of(entry, later) is entry
