"""Supervision's refusals and its audit, through the JSON API, with a fake PBX.

The service runs as in production (hotline.app wires it on the PBX feed), but its PBX actions
are a fake that records what would have been sent, and the tracker's view of the calls is a
stub the test sets: every refusal is checked before anything reaches the PBX, and every start,
switch and end is on the access log with who, which call, which mode and how long.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.keys import SUPERVISION
from hotline.pbx.actions import PbxActionFailed
from hotline.pbx.events import (
    CallEnded, CallSnapshot, SupervisionEnded, SupervisionStarted, SupervisionSwitched,
)
from hotline.supervision.service import SupervisionService
from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import AuditEntry, Call, Organization
from journal.users import add_user
from tests.support.api import PASSWORD, Api
from tests.support import hostile

client = hostile.client

OPERATOR_CHANNEL = "PJSIP/op101-0000000e"


@dataclass
class FakeActions:
    """What the service would have sent the PBX; `refuse` makes the next Originate fail."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: bool = False

    async def spy_originate(self, **kwargs: Any) -> None:
        if self.refuse:
            raise PbxActionFailed("АТС отказала: операция «прослушивание разговора» не выполнена",
                                  "Originate failed")
        self.sent.append(("originate", kwargs))

    async def spy_switch(self, channel_id: str, mode: str) -> None:
        self.sent.append(("switch", {"leg": channel_id, "mode": mode}))

    async def hangup(self, channel: str) -> None:
        self.sent.append(("hangup", {"leg": channel}))


def snapshot(call_id: str, state: str = "talking", operator: str | None = "PJSIP/op101",
             organization: str = "tfoms") -> CallSnapshot:
    now = datetime.now(UTC)
    return CallSnapshot(
        call_id=call_id, direction="in", line="88007758565", organization=organization,
        caller_number="79131112300", caller_name="Смирнова Елена", state=state,  # type: ignore[arg-type]
        queue="l1-tfoms", operators=(operator,) if operator else (), current_operator=operator,
        transfers=(), recording_file=None, message_file=None, card_id=None,
        channels=("PJSIP/trunk-0000000d", f"{operator}-0000000e") if operator
        else ("PJSIP/trunk-0000000d",),
        started_at=now - timedelta(minutes=2), answered_at=now - timedelta(minutes=1),
        ended_at=None, outcome=None, resumed=False,
    )


@dataclass
class Stage:
    api: Api
    service: SupervisionService
    actions: FakeActions
    calls: dict[str, CallSnapshot]
    ids: dict[str, int]  # call row ids by name

    async def ask(self, login: str, call: str, mode: str | None, expect: int) -> dict[str, Any]:
        await self.api.login(login)
        method = "POST" if mode else "DELETE"
        return await self.api.call(method, f"/api/v1/calls/{self.ids[call]}/supervision",
                                   expect=expect, json={"mode": mode} if mode else None)

    async def audit(self, call: str) -> list[AuditEntry]:
        async with self.api.app[SESSIONS]() as session:
            return list(await session.scalars(select(AuditEntry).where(
                AuditEntry.object_type == "call", AuditEntry.object_id == str(self.ids[call]),
                AuditEntry.action.like("supervise_%")).order_by(AuditEntry.id)))


@pytest.fixture
async def stage(api: Api) -> Stage:
    """Two fund calls and an insurer's, all in conversation; the administrator at the fund's
    supervisor phone (sup100), an administrator without a phone, one at the operator's own
    phone (op101), and an insurer's supervisor at theirs (sup1100)."""
    ids = {}
    async with unit_of_work(api.app[SESSIONS]) as session:
        orgs = {o.code: o.id for o in await session.scalars(select(Organization))}
        for name, org, line in (("fund", "tfoms", "88007758565"),
                                ("fund2", "tfoms", "88007758565"),
                                ("insurer", "sogaz", "88002009204")):
            call = Call(pbx_call_id=f"pbx-{name}", direction="in", line_number=line,
                        organization_id=orgs[org], caller_number="79131112300",
                        started_at=datetime.now(UTC) - timedelta(minutes=2),
                        outcome="in_progress")
            session.add(call)
            await session.flush()
            ids[name] = call.id
        for login, role, org, interface in (
            ("chief", "admin", "tfoms", "PJSIP/sup100"),
            ("phoneless", "admin", "tfoms", None),
            ("at-op101", "admin", "tfoms", "PJSIP/op101"),
            ("sogaz-sup", "supervisor", "sogaz", "PJSIP/sup1100"),
        ):
            await add_user(session, login=login, password=PASSWORD, full_name=f"Руководитель {login}",
                           role=role, organization_code=org, interface=interface)
    service = api.app[SUPERVISION]
    actions = FakeActions()
    calls = {"pbx-fund": snapshot("pbx-fund"), "pbx-fund2": snapshot("pbx-fund2"),
             "pbx-insurer": snapshot("pbx-insurer", operator="PJSIP/op1100",
                                     organization="sogaz")}
    service.actions = actions
    service.snapshot = calls.get
    return Stage(api, service, actions, calls, ids)


def error(answer: dict[str, Any]) -> tuple[str, str]:
    return answer["error"]["code"], answer["error"]["message"]


async def test_an_account_without_a_phone_is_told_so(stage: Stage) -> None:
    code, message = error(await stage.ask("phoneless", "fund", "listen", 409))
    assert code == "no_phone" and "не указан телефон" in message
    assert stage.actions.sent == [] and await stage.audit("fund") == []


async def test_another_organizations_call_does_not_exist_for_a_supervisor(stage: Stage) -> None:
    code, _ = error(await stage.ask("sogaz-sup", "fund", "listen", 404))
    assert code == "not_found"
    await stage.api.login("sogaz-sup")
    await stage.api.call("GET", f"/api/v1/calls/{stage.ids['fund']}/supervision", expect=404)
    assert stage.actions.sent == [] and await stage.audit("fund") == []
    # Their own organization's call is theirs to listen to.
    await stage.ask("sogaz-sup", "insurer", "listen", 202)
    assert stage.actions.sent[0][1]["target"] == "PJSIP/op1100-0000000e"


async def test_a_call_not_in_conversation_yet_is_refused(stage: Stage) -> None:
    stage.calls["pbx-fund"] = snapshot("pbx-fund", state="queued", operator=None)
    code, message = error(await stage.ask("chief", "fund", "listen", 409))
    assert code == "not_talking" and message == "Разговор сейчас не идёт: слушать нечего"
    del stage.calls["pbx-fund"]  # over, or the PBX does not know it
    assert error(await stage.ask("chief", "fund", "barge", 409))[0] == "not_talking"
    assert stage.actions.sent == [] and await stage.audit("fund") == []


async def test_the_supervisors_own_call_is_refused(stage: Stage) -> None:
    code, message = error(await stage.ask("at-op101", "fund", "whisper", 409))
    assert code == "own_call" and message == "Это разговор с вашего же телефона"
    assert stage.actions.sent == []


async def test_a_phone_already_listening_is_busy_for_another_call(stage: Stage) -> None:
    await stage.ask("chief", "fund", "listen", 202)
    code, message = error(await stage.ask("chief", "fund2", "listen", 409))
    assert code == "busy" and "уже подключён к другому разговору" in message
    assert [kind for kind, _ in stage.actions.sent] == ["originate"]
    # Before the phone answered, the mode cannot change yet.
    code, message = error(await stage.ask("chief", "fund", "barge", 409))
    assert code == "not_joined" and "ещё не ответил" in message


async def test_a_refusing_pbx_leaves_no_session_and_no_audit(stage: Stage) -> None:
    stage.actions.refuse = True
    code, _ = error(await stage.ask("chief", "fund", "listen", 502))
    assert code == "pbx_refused"
    assert stage.service.live == {} and await stage.audit("fund") == []


async def test_start_switch_and_end_are_audited_with_who_which_call_mode_and_how_long(
    stage: Stage,
) -> None:
    started = await stage.ask("chief", "fund", "listen", 202)
    assert (started["state"], started["mode"], started["mode_title"]) == (
        "ringing", "listen", "прослушивание")
    (kind, sent), = stage.actions.sent
    assert (sent["interface"], sent["mode"], sent["target"], sent["call_key"]) == (
        "PJSIP/sup100", "listen", OPERATOR_CHANNEL, "pbx-fund")
    leg = sent["channel_id"]
    # The PBX: the phone answered 42 seconds ago and ChanSpy attached.
    joined = datetime.now(UTC) - timedelta(seconds=42)
    stage.service.on_events([SupervisionStarted(
        call_id="pbx-fund", at=joined, interface="PJSIP/sup100", channel="PJSIP/sup100-00000010",
        mode="listen", operator="PJSIP/op101")])
    switched = await stage.ask("chief", "fund", "whisper", 202)
    assert (switched["state"], switched["mode"]) == ("listening", "whisper")
    assert stage.actions.sent[-1] == ("switch", {"leg": leg, "mode": "whisper"})
    await stage.ask("chief", "fund", None, 202)
    assert stage.actions.sent[-1] == ("hangup", {"leg": leg})
    # The PBX's own report of the hangup comes after: nothing more is written.
    stage.service.on_events([SupervisionEnded(
        call_id="pbx-fund", at=datetime.now(UTC), interface="PJSIP/sup100",
        channel="PJSIP/sup100-00000010", mode="whisper", joined=True, seconds=44)])
    await stage.service.stop_all()
    entries = await stage.audit("fund")
    assert [(e.action, e.login, e.details["mode"]) for e in entries] == [
        ("supervise_start", "chief", "listen"), ("supervise_switch", "chief", "whisper"),
        ("supervise_end", "chief", "whisper")]
    start, switch, end = (e.details for e in entries)
    assert (start["operator"], start["interface"], start["pbx_call_id"]) == (
        "PJSIP/op101", "PJSIP/sup100", "pbx-fund")
    assert switch["previous"] == "listen"
    assert end["ended_by"] == "page" and end["joined"] is True
    assert end["modes"] == ["listen", "whisper"] and 42 <= end["seconds"] <= 60
    history = await stage.api.call("GET", f"/api/v1/calls/{stage.ids['fund']}/supervision")
    assert history["live"] == []
    assert [(e["action"], e["name"], e["mode"]) for e in history["events"]] == [
        ("supervise_start", "Руководитель chief", "listen"),
        ("supervise_switch", "Руководитель chief", "whisper"),
        ("supervise_end", "Руководитель chief", "whisper")]


async def test_a_call_that_ends_ends_its_listening_and_a_phone_switch_is_followed(
    stage: Stage,
) -> None:
    await stage.ask("sogaz-sup", "insurer", "barge", 202)
    at = datetime.now(UTC) - timedelta(seconds=5)
    stage.service.on_events([
        SupervisionStarted(call_id="pbx-insurer", at=at, interface="PJSIP/sup1100",
                           channel="PJSIP/sup1100-00000011", mode="barge",
                           operator="PJSIP/op1100"),
        SupervisionSwitched(call_id="pbx-insurer", at=at, interface="PJSIP/sup1100",
                            channel="PJSIP/sup1100-00000011", mode="listen", previous="barge"),
        CallEnded(call_id="pbx-insurer", at=datetime.now(UTC), cause=16,
                  cause_text="Normal Clearing", outcome="answered"),
    ])
    for _ in range(50):
        if len(await stage.audit("insurer")) == 2:
            break
        await asyncio.sleep(0.05)
    start, end = await stage.audit("insurer")
    assert (start.login, start.details["mode"]) == ("sogaz-sup", "barge")
    assert (end.details["ended_by"], end.details["mode"], end.details["joined"]) == (
        "call_ended", "listen", True)
    assert stage.service.live == {}
