"""Supervision on the real Asterisk 22: the supervisor's phone listens, whispers, barges in.

A citizen's call answered by op101; the administrator, whose phone is sup100 (a supervisor
phone of hotline.toml: registered, in no queue), presses «Прослушать», then «Подсказать»,
then «Вмешаться», then ends it from the page — all through the JSON API, as the board does.
The PBX really spies (ChanSpyStart in each mode, the audiohooks attached to the operator's
channel and, in barge mode, to the citizen's), and the journal keeps one call with one card,
one operator, no transfer, and the access log the whole session.
HOTLINE_RECORD_TRANSCRIPTS=1 writes tests/fixtures/ami/supervision.jsonl.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from hotline.keys import PBX, PBX_ACTIONS
from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import AuditEntry, Call, CallEvent, CallTransfer, Card
from journal.users import add_user
from tests.support.real_pbx import PASSWORD


async def test_the_supervisor_listens_whispers_barges_and_hangs_up(make_stage) -> None:
    async with make_stage("supervision") as s:
        await s.app[PBX_ACTIONS].queue_pause("PJSIP/op102", True, "обучение")
        try:
            await s.phone("op101", "answer", talk=40)
            await s.phone("sup100", "answer", talk=60)
            async with unit_of_work(s.app[SESSIONS]) as db:
                await add_user(db, login="chief", password=PASSWORD, full_name="Главная Галина",
                               role="admin", organization_code="tfoms", interface="PJSIP/sup100")
            login = await s.client.post("/api/v1/login",
                                        json={"login": "chief", "password": PASSWORD})
            csrf = {"X-CSRF-Token": (await login.json())["csrf_token"]}
            await s.citizen_calls("79131112300", "Смирнова Елена", talk=45)

            async def talking() -> bool:
                return any(c.state == "talking" for c in s.app[PBX].tracker.calls())

            await s.until(talking, 40)
            (snapshot,) = s.app[PBX].tracker.calls()
            call = (await s.calls())["79131112300"]
            url = f"/api/v1/calls/{call.id}/supervision"

            async def listening(mode: str | None) -> None:
                async def seen() -> bool:
                    live = s.app[PBX].tracker.snapshot(snapshot.call_id)
                    modes = [x.mode for x in live.listeners] if live else []
                    return modes == ([mode] if mode else [])
                await s.until(seen, 30)

            resp = await s.client.post(url, json={"mode": "listen"}, headers=csrf)
            assert resp.status == 202, await resp.text()
            await listening("listen")
            (listener,) = s.app[PBX].tracker.snapshot(snapshot.call_id).listeners
            assert listener.interface == "PJSIP/sup100"
            await asyncio.sleep(2)
            for mode in ("whisper", "barge"):
                resp = await s.client.post(url, json={"mode": mode}, headers=csrf)
                assert resp.status == 202, await resp.text()
                await listening(mode)
                await asyncio.sleep(2)
            live = await (await s.client.get(url)).json()
            assert [(x["name"], x["mode"], x["state"]) for x in live["live"]] == [
                ("Главная Галина", "barge", "listening")]
            resp = await s.client.delete(url, headers=csrf)
            assert resp.status == 202, await resp.text()
            await listening(None)
            current = s.app[PBX].tracker.snapshot(snapshot.call_id)
            assert current.state == "talking" and current.operators == ("PJSIP/op101",)

            call = await s.ended("79131112300")
        finally:
            await s.app[PBX_ACTIONS].queue_pause("PJSIP/op102", False)
        async with s.app[SESSIONS]() as session:
            calls = await session.scalar(select(func.count(Call.id)))
            cards = await session.scalar(select(func.count(Card.id)))
            transfers = await session.scalar(select(func.count(CallTransfer.id)))
            timeline = [e.kind for e in (await session.scalars(
                select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.at)
            )).all()]
            audited = (await session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "call",
                                         AuditEntry.object_id == str(call.id),
                                         AuditEntry.action.like("supervise_%"))
                .order_by(AuditEntry.id))).all()
        assert (calls, cards, transfers) == (1, 1, 0)
        assert call.outcome == "answered" and call.answered_interface == "PJSIP/op101"
        assert [k for k in timeline if k.startswith("supervision")] == [
            "supervision_started", "supervision_switched", "supervision_switched",
            "supervision_ended"]
        assert [(a.action, a.details["mode"]) for a in audited] == [
            ("supervise_start", "listen"), ("supervise_switch", "whisper"),
            ("supervise_switch", "barge"), ("supervise_end", "barge")]
        end = audited[-1].details
        assert end["ended_by"] == "page" and end["joined"] and end["seconds"] >= 5
        assert end["modes"] == ["listen", "whisper", "barge"]
        assert {a.login for a in audited} == {"chief"}

        # What Asterisk did: ChanSpy ran three times on op101's channel, in each mode, and in
        # barge mode also attached to the citizen's channel (the operator's bridge peer).
        log = s.pbxs.hotline.log.read_text("utf-8", "replace")
        spying = [ln for ln in log.splitlines() if "Spying on channel PJSIP/op101-" in ln]
        assert len(spying) >= 3, log[-3000:]
        attached = [ln for ln in log.splitlines() if "Attaching spy channel PJSIP/sup100-" in ln]
        assert any(" to PJSIP/trunk-" in ln for ln in attached), attached
