"""Operators' queue states (hotline/pbx/tracking/agents.py) from the real Asterisk 22 sessions.

The recorded sessions in ../shared/ami-transcripts/ are replayed through `AgentRoster` and
the whole sequence of what an operator would see is asserted: the phone rings, is in use, is
free again with one more call counted. The resync snapshot's QueueStatus answer gives every
operator's state at a login. Pauses, removals and unreachable phones, which the recordings do
not show, are fed as messages shaped exactly like the recorded ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.tracking.agents import AgentRoster, is_member_message, parse_member
from hotline.pbx.events import AgentChanged
from tests.support.transcripts import EPOCH, load


def _replay(name: str, roster: AgentRoster | None = None) -> tuple[AgentRoster, list[AgentChanged]]:
    roster = roster or AgentRoster()
    messages, times = load(name)
    out: list[AgentChanged] = []
    for message, at in zip(messages, times, strict=True):
        out.extend(roster.feed(message, at))
    return roster, out


def _story(events: list[AgentChanged]) -> list[tuple[str, str, str, int]]:
    return [(e.agent.interface, e.agent.state, e.agent.device, e.agent.calls_taken) for e in events]


def _member_status(name: str) -> AmiMessage:
    """The first recorded QueueMemberStatus of a session (a template for synthetic ones)."""
    messages, _ = load(name)
    return next(m for m in messages if m.get("Event") == "QueueMemberStatus")


def _like(template: AmiMessage, event: str, **changes: str) -> AmiMessage:
    return AmiMessage({**dict(template.header_items()), "Event": event, **changes})


def test_operator_answered_rings_talks_and_counts_the_call() -> None:
    """Петров's phone rings, he talks, hangs up: free again with his first call counted."""
    _, events = _replay("operator_answered")
    assert _story(events) == [
        ("PJSIP/op102", "ready", "ringing", 0),
        ("PJSIP/op102", "ready", "in_use", 0),
        ("PJSIP/op102", "ready", "free", 1),
    ]
    first, talking, free = events
    assert first.previous is None and first.agent.member_name == "Петров Б.Б."
    assert first.agent.queues == ("l1-tfoms",)
    assert talking.agent.in_call and not free.agent.in_call
    assert free.agent.last_call == datetime.fromtimestamp(1795444531, UTC)
    # The state (ready) never changed: its time is the first sighting's; the device's moves.
    assert free.agent.since == first.at
    assert free.agent.device_since == free.at > talking.at


def test_abandoned_call_rings_and_frees_without_counting() -> None:
    """The citizen hangs up while Иванова's phone rings: free again, nothing counted."""
    _, events = _replay("abandoned_in_queue")
    assert _story(events) == [
        ("PJSIP/op101", "ready", "ringing", 1),
        ("PJSIP/op101", "ready", "free", 1),
    ]


def test_transfers_follow_both_operators() -> None:
    """A blind and an attended transfer: level 1 and level 2 phones, each counted once."""
    _, blind = _replay("blind_transfer_to_level2")
    assert _story(blind) == [
        ("PJSIP/op102", "ready", "ringing", 1),
        ("PJSIP/op102", "ready", "in_use", 1),
        ("PJSIP/op102", "ready", "free", 2),
        ("PJSIP/op201", "ready", "ringing", 0),
        ("PJSIP/op201", "ready", "in_use", 0),
        ("PJSIP/op201", "ready", "free", 1),
    ]
    _, attended = _replay("attended_transfer_to_level2")
    assert [s[:3] for s in _story(attended)] == [
        ("PJSIP/op101", "ready", "ringing"),
        ("PJSIP/op101", "ready", "in_use"),
        ("PJSIP/op201", "ready", "ringing"),
        ("PJSIP/op201", "ready", "in_use"),
        ("PJSIP/op101", "ready", "free"),
        ("PJSIP/op201", "ready", "free"),
    ]


def test_callback_rings_the_operator_outside_any_queue_call() -> None:
    """A callback rings op201 by Originate: the device states come all the same."""
    _, events = _replay("callback_originate")
    assert [e.agent.device for e in events] == ["ringing", "in_use", "free"]
    assert {e.agent.calls_taken for e in events} == {2}


def test_resync_snapshot_gives_everyone_at_login() -> None:
    """The QueueStatus answer of a login: three operators, Петров on a call right now."""
    messages, times = load("resync_snapshot")
    entries = [m for m in messages if m.get("Event") == "QueueMember"]
    roster = AgentRoster()
    at = times[messages.index(entries[0])]
    events = roster.resync(entries, at)
    assert [(e.agent.interface, e.agent.member_name, e.agent.state, e.agent.device,
             e.agent.calls_taken) for e in events] == [
        ("PJSIP/op101", "Иванова А.А.", "ready", "free", 3),
        ("PJSIP/op102", "Петров Б.Б.", "ready", "in_use", 3),
        ("PJSIP/op201", "Сидорова В.В.", "ready", "free", 2),
    ]
    assert roster.snapshot("pjsip/OP102").in_call  # type: ignore[union-attr]
    # The same snapshot again changes nothing; the live events after it continue the story.
    assert roster.resync(entries, at + timedelta(seconds=1)) == []
    later = [roster.feed(m, t) for m, t in zip(messages, times, strict=True) if t > at]
    assert [e.agent.device for batch in later for e in batch] == ["free"]


def test_resync_forgets_memberships_that_are_gone() -> None:
    """A dynamic member removed while the service was away is `out` after the next login."""
    roster, _ = _replay("operator_answered")
    messages, times = load("resync_snapshot")
    entries = [m for m in messages if m.get("Event") == "QueueMember" and m["Location"] != "PJSIP/op102"]
    events = roster.resync(entries, times[-1])
    gone = next(e for e in events if e.agent.interface == "PJSIP/op102")
    assert (gone.agent.state, gone.agent.queues, gone.previous.state) == ("out", (), "ready")  # type: ignore[union-attr]


def test_pause_from_the_phone_and_back() -> None:
    """QueueMemberPause with a reason: paused since that moment; unpaused: ready again."""
    template = _member_status("operator_answered")
    roster = AgentRoster()
    roster.feed(_like(template, "QueueMemberStatus", Status="1"), EPOCH)
    pause_at = EPOCH + timedelta(minutes=5)
    [paused] = roster.feed(_like(template, "QueueMemberPause", Status="1", Paused="1",
                                 PausedReason="обед", LastPause="1795444800"), pause_at)
    assert (paused.agent.state, paused.agent.paused_reason, paused.agent.since) == ("paused", "обед", pause_at)
    # The same pause reported twice (e.g. our own action's event and a replay) is no change.
    assert roster.feed(_like(template, "QueueMemberPause", Status="1", Paused="1",
                             PausedReason="обед", LastPause="1795444800"), pause_at) == []
    [ready] = roster.feed(_like(template, "QueueMemberPause", Paused="0", PausedReason="", Status="1"),
                          pause_at + timedelta(minutes=30))
    assert (ready.agent.state, ready.agent.paused_reason) == ("ready", "")


def test_first_sighting_of_a_pause_takes_the_pbx_time() -> None:
    """After a restart of the service a paused operator is paused since the PBX's LastPause."""
    template = _member_status("operator_answered")
    [event] = AgentRoster().resync(
        [_like(template, "QueueMember", Paused="1", PausedReason="обучение", LastPause="1795444000")],
        EPOCH,
    )
    assert event.agent.state == "paused"
    assert event.agent.since == datetime.fromtimestamp(1795444000, UTC)


def test_unreachable_phone_added_and_removed() -> None:
    """A phone that lost its registration is `unavailable`; QueueAdd/QueueRemove in and out."""
    template = _member_status("operator_answered")
    roster = AgentRoster()
    [added] = roster.feed(_like(template, "QueueMemberAdded", Interface="PJSIP/op105",
                                StateInterface="PJSIP/op105", MemberName="Орлова Д.Д.",
                                Membership="dynamic", Status="1"), EPOCH)
    assert (added.agent.state, added.agent.member_name) == ("ready", "Орлова Д.Д.")
    [lost] = roster.feed(_like(template, "QueueMemberStatus", Interface="PJSIP/op105", Status="5"),
                         EPOCH + timedelta(seconds=1))
    assert (lost.agent.state, lost.agent.device) == ("unavailable", "unavailable")
    [removed] = roster.feed(_like(template, "QueueMemberRemoved", Interface="PJSIP/op105", Status="5"),
                            EPOCH + timedelta(seconds=2))
    assert removed.agent.state == "out" and removed.agent.member_name == "Петров Б.Б."
    assert [a.interface for a in roster.snapshots()] == ["PJSIP/op105"]


def test_paused_in_one_of_two_queues_is_still_ready() -> None:
    """A phone in two queues is paused only when paused in both."""
    template = _member_status("operator_answered")
    roster = AgentRoster()
    roster.feed(_like(template, "QueueMemberStatus", Queue="l1-tfoms"), EPOCH)
    roster.feed(_like(template, "QueueMemberStatus", Queue="l1-sogaz"), EPOCH)
    assert roster.feed(_like(template, "QueueMemberPause", Queue="l1-tfoms", Paused="1"), EPOCH) == []
    agent = roster.snapshot("PJSIP/op102")
    assert agent is not None and agent.state == "ready" and agent.queues == ("l1-sogaz", "l1-tfoms")
    [both] = roster.feed(_like(template, "QueueMemberPause", Queue="l1-sogaz", Paused="1"), EPOCH)
    assert both.agent.state == "paused"
    # One device change comes queue by queue: the phone is as the latest report says.
    [talking] = roster.feed(_like(template, "QueueMemberStatus", Queue="l1-tfoms", Paused="1", Status="2"), EPOCH)
    assert talking.agent.device == "in_use"


def test_other_messages_and_broken_members_are_ignored() -> None:
    """Call events, and member messages without a queue or an interface, change nothing."""
    messages, times = load("secretary_message")
    roster = AgentRoster()
    assert [e for m, t in zip(messages, times, strict=True) for e in roster.feed(m, t)] == []
    template = _member_status("operator_answered")
    assert roster.feed(_like(template, "QueueMemberStatus", Interface="", StateInterface=""), EPOCH) == []
    assert parse_member({"Event": "QueueMember", "Queue": "q"}) is None
    assert not is_member_message({"Event": "AgentCalled"})
    garbage = _like(template, "QueueMemberStatus", Status="much", CallsTaken="-", LastCall="x")
    [event] = roster.feed(garbage, EPOCH)
    assert (event.agent.device, event.agent.calls_taken, event.agent.last_call) == ("unknown", 0, None)
