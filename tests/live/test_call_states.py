"""Operators' legs of calls (hotline/live/call_states.py) from the real Asterisk 22 sessions.

Each recorded session goes through the call tracker, and its domain events through
`CallStates`: what each operator's workspace is told, in order (ringing, talking,
transferred away, ended), is asserted whole.
"""

from __future__ import annotations

from hotline.pbx.tracking.calls import CallTracker
from hotline.live.call_states import CallLeg, CallStates
from tests.support.transcripts import load


def _legs(name: str) -> tuple[CallStates, list[CallLeg]]:
    tracker, states = CallTracker(), CallStates()
    messages, times = load(name)
    out: list[CallLeg] = []
    for message, at in zip(messages, times, strict=True):
        out.extend(states.feed(tracker.feed(message, at)))
    return states, out


def _story(legs: list[CallLeg]) -> list[tuple[str, str, bool]]:
    return [(leg.interface, leg.state, leg.consultation) for leg in legs]


def test_answered_call_rings_talks_and_ends() -> None:
    """The operator's workspace hears: ringing, talking (with its time), ended."""
    states, legs = _legs("operator_answered")
    assert _story(legs) == [
        ("PJSIP/op102", "ringing", False),
        ("PJSIP/op102", "talking", False),
        ("PJSIP/op102", "ended", False),
    ]
    ringing, talking, ended = legs
    assert talking.answered_at is not None and talking.answered_at > ringing.ringing_at  # type: ignore[operator]
    assert ended.ended_at is not None and ended.answered_at == talking.answered_at
    message = ended.as_message(42)
    assert message["type"] == "call_state" and message["id"] == 42
    assert message["pbx_call_id"] == ended.pbx_call_id and message["state"] == "ended"
    assert not states.knows(ended.pbx_call_id)  # nothing kept after the end


def test_abandoned_call_stops_ringing() -> None:
    """The citizen hangs up while the phone rings: the pop learns the call is over."""
    _, legs = _legs("abandoned_in_queue")
    assert _story(legs) == [("PJSIP/op101", "ringing", False), ("PJSIP/op101", "ended", False)]
    assert legs[-1].answered_at is None


def test_blind_transfer_frees_level1_and_rings_level2() -> None:
    """Level 1 is told `transferred`; level 2 rings, talks and ends with the citizen."""
    _, legs = _legs("blind_transfer_to_level2")
    assert _story(legs) == [
        ("PJSIP/op102", "ringing", False),
        ("PJSIP/op102", "talking", False),
        ("PJSIP/op102", "transferred", False),
        ("PJSIP/op201", "ringing", False),
        ("PJSIP/op201", "talking", False),
        ("PJSIP/op201", "ended", False),
    ]


def test_attended_transfer_turns_the_consultation_into_the_call() -> None:
    """Level 2 answers a consultation; when level 1 completes the transfer, level 2 has the
    citizen (no longer a consultation) and level 1 is told `transferred`."""
    states, legs = _legs("attended_transfer_to_level2")
    assert _story(legs) == [
        ("PJSIP/op101", "ringing", False),
        ("PJSIP/op101", "talking", False),
        ("PJSIP/op201", "ringing", True),
        ("PJSIP/op201", "talking", True),
        ("PJSIP/op101", "transferred", False),
        ("PJSIP/op201", "talking", False),
        ("PJSIP/op201", "ended", False),
    ]
    assert states.live_at("PJSIP/op201") == []


def test_a_socket_that_connects_mid_call_gets_the_live_leg() -> None:
    """`live_at` gives the leg still ringing or talking at a phone (a reloaded workspace)."""
    tracker, states = CallTracker(), CallStates()
    messages, times = load("operator_answered")
    for message, at in zip(messages, times, strict=True):
        states.feed(tracker.feed(message, at))
        if message.get("Event") == "AgentConnect":
            break
    [leg] = states.live_at("pjsip/OP102")
    assert leg.state == "talking" and states.knows(leg.pbx_call_id)
