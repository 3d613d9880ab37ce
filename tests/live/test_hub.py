"""The in-process hub: addressing subscribers, and cutting off a browser too slow to read."""

from __future__ import annotations

from hotline.live.hub import CLOSE_GOING_AWAY, CLOSE_TOO_SLOW, OUTBOX_SIZE, Hub, Subscriber


def _sub(user_id: int, role: str = "operator", interface: str | None = None) -> Subscriber:
    return Subscriber(user_id=user_id, login=f"u{user_id}", role=role, organization_id=1,
                      interface=interface, session_token=f"t{user_id}")


def _drain(sub: Subscriber) -> list[object]:
    out = []
    while not sub.outbox.empty():
        out.append(sub.outbox.get_nowait())
    return out


def test_messages_reach_the_phone_the_user_and_the_admins() -> None:
    hub = Hub()
    op, admin, other = _sub(1, interface="PJSIP/op101"), _sub(2, "admin"), _sub(3)
    for sub in (op, admin, other):
        hub.subscribe(sub)
    assert hub.at_interface("pjsip/OP101") == [op]
    assert hub.to_admins({"type": "board"}) == 1
    assert hub.to_user(3, {"type": "agent_state"}) == 1
    assert _drain(admin) == [{"type": "board"}] and _drain(other) == [{"type": "agent_state"}]
    assert _drain(op) == []
    hub.unsubscribe(op)
    assert hub.at_interface("PJSIP/op101") == []


def test_two_tabs_at_one_phone_both_pop_until_each_closes() -> None:
    """An operator with the workspace open in two tabs gets the pop in both; closing one
    leaves the other, closing both leaves nobody at the phone."""
    hub = Hub()
    first, second = _sub(1, interface="PJSIP/op101"), _sub(1, interface="PJSIP/op101")
    hub.subscribe(first)
    hub.subscribe(second)
    assert hub.at_interface("PJSIP/op101") == [first, second]
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # a second close of the same socket changes nothing
    assert hub.at_interface("PJSIP/op101") == [second]
    hub.unsubscribe(second)
    assert hub.at_interface("PJSIP/op101") == [] and len(hub) == 0


def test_a_browser_too_slow_to_read_is_closed_not_waited_for() -> None:
    sub = _sub(1)
    for n in range(OUTBOX_SIZE + 5):
        sub.put({"n": n})
    assert _drain(sub) == [None] and sub.close_code == CLOSE_TOO_SLOW


def test_shutdown_closes_every_socket() -> None:
    hub = Hub()
    subs = [_sub(n) for n in range(3)]
    for sub in subs:
        hub.subscribe(sub)
        sub.put({"type": "x"})
    hub.close_all()
    assert all(_drain(s) == [None] and s.close_code == CLOSE_GOING_AWAY for s in subs)
