"""PBX actions refuse what could reach AMI headers or the dialplan unchecked."""

from __future__ import annotations

import pytest

from hotline.pbx.actions import PbxActionFailed, PbxActions, citizen_number


@pytest.mark.parametrize(
    ("typed", "dialled"),
    [("+7 (914) 000-00-06", "79140000006"), ("89140000006", "79140000006"),
     ("9140000006", "79140000006")],
)
def test_citizen_numbers_are_normalised(typed: str, dialled: str) -> None:
    assert citizen_number(typed) == dialled


@pytest.mark.parametrize("typed", ["", "123", "+1 202 555 0100", "7914000000612"])
def test_foreign_or_broken_numbers_are_refused(typed: str) -> None:
    with pytest.raises(PbxActionFailed, match="не похож на российский"):
        citizen_number(typed)


class NeverCalled:
    async def send_action(self, action):  # pragma: no cover - must not be reached
        raise AssertionError(f"sent {action}")


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.place_callback(card_id=1, interface="PJSIP/op201\r\nAction: Hangup",
                                   number="79140000006", line="88007758565"),
        lambda a: a.queue_add("l1-tfoms\r\nX: y", "PJSIP/op101", "Иванова"),
        lambda a: a.queue_pause("Local/../../etc", True, "обед"),
        lambda a: a.blind_transfer("PJSIP/op101-0000000e", "hotline-l2,evil", "2000"),
    ],
)
async def test_injection_attempts_never_reach_the_pbx(call) -> None:
    with pytest.raises(PbxActionFailed, match="Недопустимое значение"):
        await call(PbxActions(NeverCalled()))
