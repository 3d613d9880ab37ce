"""The figures core (`hotline.figures.core`): events in, figures out, no clock and no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from hotline.figures.core import FiguresCore, JournalCall, LineInfo
from hotline.pbx.events import (
    AgentChanged, AgentSnapshot, CallAbandoned, CallArrived, CallEnded, CallQueued,
    CallTransferred, OperatorAnswered, SecretaryMessage,
)

ZONE = ZoneInfo("Asia/Barnaul")  # UTC+7
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 local, a Monday
FUND, SOGAZ = "88007758565", "88002009204"
LINES = (LineInfo(FUND, "tfoms", 20), LineInfo(SOGAZ, "sogaz", 30))
PHONES = {"PJSIP/op101": "tfoms", "PJSIP/op102": "tfoms", "PJSIP/op1100": "sogaz"}


def core(now: datetime = T0) -> FiguresCore:
    return FiguresCore(LINES, PHONES, ZONE, now)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def arrive(cid: str, t: float, line: str = FUND, direction: str = "in") -> CallArrived:
    org = {FUND: "tfoms", SOGAZ: "sogaz"}[line]
    return CallArrived(call_id=cid, at=at(t), direction=direction, line=line, organization=org,
                       caller_number="79130000000", caller_name=None, channel="c", uniqueid=cid,
                       linkedid=cid)


def queue(cid: str, t: float) -> CallQueued:
    return CallQueued(call_id=cid, at=at(t), queue="l1-tfoms", position=1)


def answer(cid: str, t: float, wait: int | None, iface: str = "PJSIP/op101",
           consultation: bool = False) -> OperatorAnswered:
    return OperatorAnswered(call_id=cid, at=at(t), interface=iface, member_name=None,
                            queue="l1-tfoms", hold_time=wait, ring_time=1, channel=None,
                            consultation=consultation)


def abandon(cid: str, t: float, wait: int) -> CallAbandoned:
    return CallAbandoned(call_id=cid, at=at(t), queue="l1-tfoms", hold_time=wait, position=1,
                         original_position=1)


def end(cid: str, t: float, outcome: str = "answered") -> CallEnded:
    return CallEnded(call_id=cid, at=at(t), cause=16, cause_text=None, outcome=outcome)


def scope(snapshot: dict, kind: str, code: str = "") -> dict:
    return next(s for s in snapshot["scopes"] if s["kind"] == kind and s["code"] == code)


def agent(iface: str, state: str, *, reason: str = "", in_call: bool = False,
          device: str = "free") -> AgentChanged:
    snap = AgentSnapshot(interface=iface, member_name=None, queues=("l1-tfoms",), state=state,
                         paused_reason=reason, device=device, in_call=in_call, calls_taken=0,
                         last_call=None, since=T0, device_since=T0)
    return AgentChanged(at=T0, agent=snap, previous=None)


def test_a_call_answered_within_the_threshold_counts_everywhere() -> None:
    """Arrived, queued 12 s, answered: line, organization and center all see it, SL 100 %."""
    figures = core()
    figures.feed([arrive("a", 0), queue("a", 1), answer("a", 13, 12), end("a", 100)])
    snap = figures.snapshot(at(120))
    for kind, code in (("line", FUND), ("organization", "tfoms"), ("center", "")):
        s = scope(snap, kind, code)
        assert s["today"]["arrived"] == 1
        assert s["today"]["service_level"] == 100.0
        assert s["m15"]["asa"] == 12.0 and s["m60"]["answered"] == 1
    assert scope(snap, "line", SOGAZ)["today"]["arrived"] == 0
    assert snap["operators"][0] | {} == {"interface": "pjsip/op101", "organization": "tfoms",
                                         "state": "unknown", "paused_reason": "", "calls": 1,
                                         "talk_seconds": 87}


TABLE = [
    # (events, service level %, abandon rate %, asa, waiting now)
    ([arrive("a", 0), queue("a", 0), answer("a", 25, 25)], 0.0, 0.0, 25.0, 0),
    ([arrive("a", 0), queue("a", 0), abandon("a", 40, 40), end("a", 40, "abandoned")], 0.0, 100.0, None, 0),
    ([arrive("a", 0), queue("a", 0)], None, None, None, 1),
    ([arrive("a", 0), queue("a", 0), answer("a", 5, 5), arrive("b", 1), queue("b", 1),
      abandon("b", 9, 8)], 50.0, 50.0, 5.0, 0),
    # Left the queue for the secretary: offered, not answered, not abandoned.
    ([arrive("a", 0), queue("a", 0), SecretaryMessage(call_id="a", at=at(300), file="m",
      line=FUND, caller_number=None, duration=20)], 0.0, 0.0, None, 0),
    # A consultation answered is not a citizen's call answered.
    ([arrive("a", 0), queue("a", 0), answer("a", 5, 5, consultation=True)], None, None, None, 1),
    # A resynchronisation's answer (wait unknown) is not judged.
    ([arrive("a", 0), queue("a", 0), answer("a", 5, None)], None, None, None, 0),
    # A callback is no offered call.
    ([arrive("a", 0, direction="out"), answer("a", 5, 0)], None, None, None, 0),
]


def test_the_table_of_call_stories() -> None:
    for events, sl, abandon_rate, asa, waiting in TABLE:
        figures = core()
        figures.feed(events)
        s = scope(figures.snapshot(at(400)), "center")
        assert (s["today"]["service_level"], s["today"]["abandon_rate"], s["today"]["asa"],
                s["waiting"]) == (sl, abandon_rate, asa, waiting), events


def test_the_threshold_is_the_lines_own() -> None:
    """25 s is out of the fund's 20 s, within the insurer's 30 s."""
    figures = core()
    figures.feed([arrive("a", 0), queue("a", 0), answer("a", 25, 25),
                  arrive("b", 0, SOGAZ), queue("b", 0), answer("b", 25, 25)])
    snap = figures.snapshot(at(30))
    assert scope(snap, "line", FUND)["today"]["service_level"] == 0.0
    assert scope(snap, "line", SOGAZ)["today"]["service_level"] == 100.0
    assert scope(snap, "center")["today"]["service_level"] == 50.0


def test_the_longest_wait_is_the_oldest_call_in_the_queue() -> None:
    figures = core()
    figures.feed([arrive("a", 0), queue("a", 2), arrive("b", 5), queue("b", 6)])
    assert scope(figures.snapshot(at(62)), "line", FUND)["longest_wait"] == 60
    figures.feed([answer("a", 63, 61)])
    assert scope(figures.snapshot(at(66)), "line", FUND)["longest_wait"] == 60
    figures.feed([end("a", 70), abandon("b", 70, 64), end("b", 70, "abandoned")])
    s = scope(figures.snapshot(at(71)), "line", FUND)
    assert (s["waiting"], s["longest_wait"]) == (0, 0)


def test_windows_slide_and_today_stays() -> None:
    """A call answered at 10:00 leaves the 15-minute window at 10:15, the hour's at 11:00."""
    figures = core()
    figures.feed([arrive("a", 0), queue("a", 0), answer("a", 10, 10), end("a", 60)])
    assert scope(figures.snapshot(at(14 * 60)), "center")["m15"]["answered"] == 1
    snap = figures.snapshot(at(15 * 60 + 11))
    assert scope(snap, "center")["m15"]["answered"] == 0
    assert scope(snap, "center")["m60"]["answered"] == 1
    snap = figures.snapshot(at(3600 + 11))
    assert scope(snap, "center")["m60"]["answered"] == 0
    assert scope(snap, "center")["today"]["answered"] == 1


def test_local_midnight_starts_a_new_day() -> None:
    """Barnaul's midnight is 17:00 UTC: today's figures and operators' days start over."""
    late = datetime(2026, 3, 2, 16, 50, tzinfo=UTC)  # 23:50 local
    figures = FiguresCore(LINES, PHONES, ZONE, late)
    start = (late - T0).total_seconds()
    figures.feed([arrive("a", start), queue("a", start), answer("a", start + 5, 5)])
    snap = figures.snapshot(late + timedelta(minutes=15))  # 00:05 local, still talking
    assert snap["day"] == "2026-03-03"
    assert scope(snap, "center")["today"]["arrived"] == 0
    assert scope(snap, "center")["m60"]["answered"] == 1
    assert snap["operators"][0]["talk_seconds"] == 5 * 60  # from midnight only


def test_operators_by_state_and_pause_reason() -> None:
    figures = core()
    figures.feed_agents([agent("PJSIP/op101", "ready"), agent("PJSIP/op102", "paused", reason="Обед"),
                         agent("PJSIP/op1100", "ready", in_call=True)])
    snap = figures.snapshot(at(1))
    fund = scope(snap, "organization", "tfoms")["operators"]
    assert (fund["ready"], fund["paused"], fund["paused_by_reason"]) == (1, 1, {"Обед": 1})
    assert scope(snap, "line", SOGAZ)["operators"]["talking"] == 1
    figures.feed_agents([agent("PJSIP/op102", "unavailable")])
    center = scope(figures.snapshot(at(2)), "center")["operators"]
    assert (center["ready"], center["paused"], center["unavailable"], center["talking"]) == (1, 0, 1, 1)


def test_talk_time_follows_the_citizen_through_a_transfer() -> None:
    figures = core()
    figures.feed([arrive("a", 0), queue("a", 0), answer("a", 5, 5),
                  CallTransferred(call_id="a", at=at(65), kind="blind", from_interface="PJSIP/op101",
                                  to_queue="l2-tfoms", to_interface=None, to_context=None,
                                  to_extension=None),
                  queue("a", 65), answer("a", 75, 10, iface="PJSIP/op201"), end("a", 175)])
    days = {o["interface"]: o for o in figures.snapshot(at(200))["operators"]}
    assert (days["pjsip/op101"]["calls"], days["pjsip/op101"]["talk_seconds"]) == (1, 60)
    assert (days["pjsip/op201"]["calls"], days["pjsip/op201"]["talk_seconds"]) == (1, 100)
    center = scope(figures.snapshot(at(200)), "center")["today"]
    assert (center["answered"], center["asa"]) == (1, 5.0)  # the first wait only


def test_the_journal_seed_then_the_pbx_resync_count_a_call_once() -> None:
    """Start-up reads today's calls; the PBX then reports a call already counted."""
    figures = core(at(600))
    figures.seed([
        JournalCall(pbx_call_id="a", line=FUND, organization="tfoms", inbound=True,
                    started_at=at(0), answered_at=at(10), ended_at=at(100), outcome="answered",
                    queue_wait_seconds=10, talk_seconds=90, answered_interface="PJSIP/op101"),
        JournalCall(pbx_call_id="b", line=FUND, organization="tfoms", inbound=True,
                    started_at=at(0), answered_at=None, ended_at=at(50), outcome="abandoned",
                    queue_wait_seconds=50, talk_seconds=None, answered_interface=None),
    ])
    figures.feed([arrive("a", 620), queue("a", 620), answer("a", 630, None)])
    s = scope(figures.snapshot(at(700)), "center")
    assert (s["today"]["arrived"], s["today"]["answered"], s["today"]["abandoned"]) == (2, 1, 1)
    assert s["m15"]["offered"] == 2


@st.composite
def stories(draw):
    """Random calls: each arrives, maybe queues, then is answered, abandoned or ends."""
    events, t = [], 0.0
    for i in range(draw(st.integers(0, 25))):
        cid = f"c{i}"
        t += draw(st.floats(0, 120))
        line = draw(st.sampled_from([FUND, SOGAZ]))
        events.append(arrive(cid, t, line))
        if draw(st.booleans()):
            events.append(queue(cid, t))
            wait = draw(st.integers(0, 200))
            how = draw(st.sampled_from(["answer", "abandon", "end", "stay"]))
            if how == "answer":
                events += [answer(cid, t + wait, wait), end(cid, t + wait + 30)]
            elif how == "abandon":
                events += [abandon(cid, t + wait, wait), end(cid, t + wait, "abandoned")]
            elif how == "end":
                events.append(end(cid, t + wait, "secretary"))
    return sorted(events, key=lambda e: e.at)


@settings(max_examples=150, deadline=None)
@given(stories(), st.floats(0, 5000))
def test_figures_add_up_whatever_the_story(events, later) -> None:
    """Lines sum to organizations and to the center; rates stay in 0..100; a window never
    holds more than today; waiting never negative; fed twice in halves = fed at once."""
    figures = core()
    figures.feed(events)
    now = (events[-1].at if events else T0) + timedelta(seconds=later)
    snap = figures.snapshot(now)
    center = scope(snap, "center")
    lines = [scope(snap, "line", n) for n in (FUND, SOGAZ)]
    for key in ("arrived", "answered", "abandoned", "lost", "offered"):
        assert sum(s["today"][key] for s in lines) == center["today"][key]
        assert center["m15"][key] <= center["m60"][key] <= center["today"][key] or \
            snap["day"] != "2026-03-02"
    assert sum(s["waiting"] for s in lines) == center["waiting"] >= 0
    for s in snap["scopes"]:
        for window in ("today", "m15", "m60"):
            for rate in ("service_level", "abandon_rate"):
                assert s[window][rate] is None or 0 <= s[window][rate] <= 100
    halves = core()
    halves.feed(events[: len(events) // 2])
    halves.feed(events[len(events) // 2:])
    assert halves.snapshot(now) == snap
