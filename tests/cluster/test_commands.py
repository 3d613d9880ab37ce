"""A standby's PBX commands (issue 20): checked where they are asked, sent by name and
arguments, run and checked again by the holder's `PbxActions.serve`; no answer is 503."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cluster.commands import Commands
from hotline.pbx.actions import NotOnCall, PbxActionFailed, PbxActions, PbxSwitching


class FakeConnection:
    state = "connected"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_action(self, action: dict[str, Any]) -> Any:
        self.sent.append(action)

        class Reply(dict):
            success = True
        return Reply()


class Wire:
    """Two instances' `Commands` joined directly (the bus's role)."""

    def __init__(self) -> None:
        self.holder_holds = True
        self.holder = Commands("h", self.send, lambda: self.holder_holds, lambda i: i)
        self.standby = Commands("s", self.send, lambda: False, lambda i: i)

    def send(self, channel: str, body: dict[str, Any]) -> None:
        for side in (self.holder, self.standby):
            side.received(channel, body)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def pair(wire: Wire) -> tuple[PbxActions, FakeConnection, PbxActions, FakeConnection]:
    on_holder, on_standby = FakeConnection(), FakeConnection()
    holder = PbxActions(on_holder, snapshot=lambda _id: None, router=wire.holder, action_timeout=0.2)  # type: ignore[arg-type]
    standby = PbxActions(on_standby, router=wire.standby, action_timeout=0.2)  # type: ignore[arg-type]
    wire.holder.expose("pbx", holder.serve)
    return holder, on_holder, standby, on_standby


async def test_a_standbys_command_runs_on_the_holder_only(wire: Wire) -> None:
    _holder, on_holder, standby, on_standby = pair(wire)
    await standby.queue_pause("PJSIP/op101", True, "обед")
    assert on_standby.sent == [] and [a["Action"] for a in on_holder.sent] == ["QueuePause"]
    assert on_holder.sent[0]["Reason"] == "обед"
    assert await standby.link_state() == "connected"


async def test_refused_on_the_standby_before_anything_is_sent(wire: Wire) -> None:
    _holder, on_holder, standby, _ = pair(wire)
    with pytest.raises(PbxActionFailed, match="телефон оператора"):
        await standby.queue_pause("PJSIP/op101\r\nAction: Originate", True)
    assert wire.standby.forwarded == 0 and on_holder.sent == []


async def test_the_holder_checks_again_and_its_refusal_comes_back(wire: Wire) -> None:
    holder, on_holder, standby, _ = pair(wire)
    reply = await holder.serve("queue_add", {"queue": "q; x", "interface": "PJSIP/op101",
                                             "member_name": "x"})
    assert reply["error"]["kind"] == "PbxActionFailed" and on_holder.sent == []
    assert (await holder.serve("connection", {}))["error"]  # not a command: never run
    # Its tracker does not know the call: 409 not_on_call on the standby, nothing sent.
    with pytest.raises(NotOnCall):
        await standby.transfer_call(call_id="1700000000.1", interface="PJSIP/op101",
                                    context="hotline-l2", extension="2000")
    assert on_holder.sent == []


async def test_no_holder_answers_503_switching(wire: Wire) -> None:
    _holder, on_holder, standby, _ = pair(wire)
    wire.holder_holds = False
    with pytest.raises(PbxSwitching) as caught:
        await standby.queue_pause("PJSIP/op101", False)
    assert caught.value.status == 503
    assert "переключается на другой экземпляр" in caught.value.message
    assert on_holder.sent == [] and wire.standby.unanswered == 1
