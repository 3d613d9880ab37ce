"""The real-PBX tier: config/asterisk/ on a real Asterisk 22 with real SIP calls.

Two Asterisk processes (tests/asterisk/pbx.py): the hotline PBX with the project's rendered
config, and a "world" that is the provider, the citizens and the operator phones (which
register with the passwords of pjsip_auth.conf). The service runs in-process on PostgreSQL
with FastAGI on, exactly as `hotline serve` would. Each scenario says what it proves.

Skipped, with one line, where no `asterisk` binary is on PATH (CI on a fresh machine).
HOTLINE_RECORD_TRANSCRIPTS=1 also writes the hotline PBX's AMI session of each scenario to
tests/fixtures/ami/<scenario>.jsonl (replayed by tests/pbx/test_own_transcripts.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.asterisk import pbx

VERSION = pbx.version()
if VERSION is None or " 22." not in f" {VERSION.split('Asterisk', 1)[-1]}":
    pytest.skip("the real-PBX tier needs an Asterisk 22 binary on PATH (none here): skipped",
                allow_module_level=True)

from sqlalchemy import func, select  # noqa: E402

from hotline.keys import CALL_WRITER, LEDGER, MODES, PBX, PBX_ACTIONS  # noqa: E402
from hotline.web.keys import SESSIONS  # noqa: E402
from journal.db import unit_of_work  # noqa: E402
from journal.models import (  # noqa: E402
    Call,
    CallbackTask,
    CallEvent,
    CallTransfer,
    Card,
    SurveyTask,
)
from journal.users import add_user  # noqa: E402
from tests.support.real_pbx import LINE, PASSWORD, PHONES, PROMPTS, Stage, _registered, stage

















# --------------------------------------------------------------------------- the config


def test_every_file_loads_and_manager_exports_the_channel_variables(pbxs) -> None:
    """What Asterisk itself read: the AMI user's channel variables (the issue's root cause:
    in a user section they were skipped), the queues' paused rule, the dialplan contexts."""
    hotline = pbxs.hotline
    settings_shown = hotline.cli("manager show settings")
    assert "HOTLINE_ID" in settings_shown and "REC" in settings_shown, settings_shown
    assert "HOTLINE_SURVEY_CARD" in settings_shown
    assert "hotline-ledger" in hotline.cli("dialplan show hotline-ledger")
    queue = hotline.cli("queue show l1-tfoms")
    assert "op101" in queue and "op102" in queue
    assert hotline.warnings() == []


# --------------------------------------------------------------------------- scenarios


async def test_an_answered_call_has_its_card_operator_and_stored_recording(make_stage) -> None:
    """Mode in AstDB, the Cyrillic caller name, the operator who answered and the
    conversation recording stored (REC reached the service through channelvars)."""
    async with make_stage("answered") as s:
        assert "operator" in s.pbxs.hotline.cli(f"database get hotline/mode {LINE}")
        await s.phone("op101", "answer", talk=6)
        await s.phone("op102", "answer", talk=6)
        await s.citizen_calls("79131112233", "Иванова Мария Петровна", talk=30)
        call = await s.ended("79131112233")
        assert call.outcome == "answered"
        assert call.caller_name == "Иванова Мария Петровна"
        assert call.answered_interface in ("PJSIP/op101", "PJSIP/op102")
        assert call.card_id is not None
        (recording,) = await s.recordings(call)
        assert recording.kind == "call" and recording.status == "stored", recording.problem
        assert recording.duration_seconds and recording.duration_seconds > 3
        # 152-ФЗ: the caller hears the recording notice (4.5 s) before any phone rings.
        async with s.app[SESSIONS]() as session:
            steps = dict((await session.execute(
                select(CallEvent.kind, func.min(CallEvent.at))
                .where(CallEvent.call_id == call.id).group_by(CallEvent.kind)
            )).all())
        assert (steps["operator_ringing"] - steps["call_arrived"]).total_seconds() >= 4.0, steps


async def test_an_abandoned_call_has_its_card_and_no_conversation_recording(make_stage) -> None:
    async with make_stage("abandoned") as s:
        for phone in PHONES:
            await s.phone(phone, "ignore")
        await s.citizen_calls("79131112244", "Петров Пётр", talk=8)
        call = await s.ended("79131112244")
        assert call.outcome == "abandoned" and call.card_id is not None
        (recording,) = await s.recordings(call)
        # MixMonitor(b) left a header-only WAV: removed, not a fault.
        assert recording.status == "no_conversation"
        assert not (s.pbxs.hotline.monitor / recording.pbx_file).exists()


async def test_a_transfer_from_the_workspace_names_the_level2_operator(make_stage) -> None:
    async with make_stage("blind_transfer_api") as s:
        await s.phone("op101", "answer", talk=90)
        await s.phone("op102", "ignore")
        await s.phone("op201", "answer", talk=6)
        async with unit_of_work(s.app[SESSIONS]) as db:
            await add_user(db, login="op101", password=PASSWORD, full_name="Оператор 101",
                           role="operator", organization_code="tfoms", level=1,
                           interface="PJSIP/op101")
        login = await s.client.post("/api/v1/login",
                                    json={"login": "op101", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        await s.citizen_calls("79131112255", "Сидорова Анна", talk=90)

        async def talking() -> bool:
            return any(c.state == "talking" for c in s.app[PBX].tracker.calls())

        await s.until(talking, 30)
        await asyncio.sleep(1.0)
        call = (await s.calls())["79131112255"]
        resp = await s.client.post(f"/api/v1/calls/{call.id}/transfer", json={"to": "level2"},
                                   headers={"X-CSRF-Token": csrf})
        assert resp.status == 202, await resp.text()
        call = await s.ended("79131112255")
        async with s.app[SESSIONS]() as session:
            transfers = (await session.scalars(select(CallTransfer))).all()
            calls = await session.scalar(select(func.count(Call.id)))
        assert calls == 1 and call.outcome == "answered"
        assert [(t.kind, t.from_interface, t.to_queue, t.to_interface) for t in transfers] == [
            ("blind", "PJSIP/op101", "l2-tfoms", "PJSIP/op201")]


async def test_an_attended_transfer_with_the_phones_keys_is_one_call(make_stage) -> None:
    async with make_stage("attended_transfer_keys") as s:
        # Whichever level-1 phone rings first answers and transfers with *2 2000.
        await s.phone("op101", "atxfer:2000")
        await s.phone("op102", "atxfer:2000")
        await s.phone("op201", "answer", talk=8)
        await s.citizen_calls("79131112266", "Кузнецов Иван", talk=90)
        call = await s.ended("79131112266", timeout=120)
        async with s.app[SESSIONS]() as session:
            transfers = (await session.scalars(select(CallTransfer))).all()
            calls = await session.scalar(select(func.count(Call.id)))
        assert calls == 1 and call.card_id is not None
        assert [(t.kind, t.to_interface) for t in transfers] == [("attended", "PJSIP/op201")]


async def test_every_operator_paused_sends_the_caller_to_the_secretary_at_once(
    make_stage
) -> None:
    """queues.conf joinempty/leavewhenempty include `paused`: no 300 s on hold."""
    async with make_stage("all_paused") as s:
        for phone in ("op101", "op102"):
            await s.app[PBX_ACTIONS].queue_pause(f"PJSIP/{phone}", True, "обед")
        try:
            started = asyncio.get_running_loop().time()
            await s.citizen_calls("79131112277", "Орлова Ольга", talk=12)
            call = await s.ended("79131112277")
            assert asyncio.get_running_loop().time() - started < 40
            assert call.outcome in ("secretary", "unanswered") and call.card_id is not None
            assert call.answered_at is None
        finally:
            for phone in ("op101", "op102"):
                await s.app[PBX_ACTIONS].queue_pause(f"PJSIP/{phone}", False)


async def test_the_secretary_takes_a_message_and_the_callback_reaches_its_card(
    make_stage
) -> None:
    """FastAGI secretary: menu 2, a spoken message, #, the number confirmed with 1; then the
    operator's callback to that card: recorded, on the card, its task done."""
    async with make_stage("secretary_and_callback") as s:
        await s.app[MODES].scheduler.set_override(
            LINE, "secretary", datetime.now(UTC) + timedelta(hours=1), by="test")
        channel = await s.citizen_calls("79131112288", "Ночная Нина", talk=70)
        # call-recorded (dialplan) and the recording notice are not interruptible.
        notices = sum(pbx.wav_seconds(PROMPTS / f"{p}.wav")
                      for p in ("call-recorded", "secretary/recording-notice"))
        await asyncio.sleep(notices + 3.0)
        await s.press(channel, "2")
        await asyncio.sleep(pbx.wav_seconds(PROMPTS / "secretary/message-before.wav") + 4.0)
        await s.press(channel, "#")
        await asyncio.sleep(pbx.wav_seconds(PROMPTS / "secretary/number-is.wav") + 8.0)
        await s.press(channel, "1")
        call = await s.ended("79131112288", timeout=120)
        assert call.outcome == "secretary" and call.card_id is not None
        async with s.app[SESSIONS]() as session:
            task = await session.scalar(select(CallbackTask).where(
                CallbackTask.card_id == call.card_id))
            card = await session.get(Card, call.card_id)
        assert task is not None and task.status == "pending"
        kinds = {r.kind: r.status for r in await s.recordings(call)}
        assert kinds.get("message") == "stored"

        await s.phone("op101", "answer", talk=20)
        await s.app[PBX_ACTIONS].place_callback(
            card_id=card.id, interface="PJSIP/op101", number="79131112288", line=LINE)

        async def callback_done() -> bool:
            async with s.app[SESSIONS]() as session:
                back = await session.get(CallbackTask, task.id, populate_existing=True)
                return back.status == "done"

        await s.until(callback_done, 90)
        async with s.app[SESSIONS]() as session:
            back = (await session.scalars(select(Call).where(Call.direction == "out"))).one()
        assert back.card_id == card.id and back.outcome == "callback"
        (recording,) = await s.recordings(back)
        assert recording.kind == "callback" and recording.status == "stored"


async def test_a_survey_call_is_recorded_journaled_and_rated(make_stage) -> None:
    async with make_stage("survey") as s:
        await s.phone("op101", "answer", talk=5)
        await s.phone("op102", "answer", talk=5)
        await s.citizen_calls("79131112299", "Белова Нина", talk=20)
        call = await s.ended("79131112299")
        now = datetime.now(UTC)
        async with unit_of_work(s.app[SESSIONS]) as session:
            card = await session.get(Card, call.card_id)
            task = SurveyTask(card_id=card.id, organization_id=card.organization_id, mode="auto",
                              phone="79131112299", status="pending", attempts=1,
                              next_attempt_at=now, created_at=now)
            session.add(task)
        await s.world.action({"Action": "DBPut", "Family": "citizen", "Key": "rating",
                              "Val": "5"})
        await s.app[PBX_ACTIONS].place_survey(
            survey_id=task.id, card_id=card.id, number="79131112299", line=LINE)

        async def rated() -> bool:
            async with s.app[SESSIONS]() as session:
                back = await session.get(SurveyTask, task.id, populate_existing=True)
                return back.rating is not None

        await s.until(rated, 60)
        async with s.app[SESSIONS]() as session:
            survey_call = (await session.scalars(select(Call).where(Call.direction == "out"))).one()
        await s.until(lambda: _ended(s, survey_call.id), 60)
        await s.app[CALL_WRITER].flushed(timeout=20)
        async with s.app[SESSIONS]() as session:
            survey_call = await session.get(Call, survey_call.id, populate_existing=True)
            back = await session.get(SurveyTask, task.id)
        assert back.rating == 5
        assert survey_call.outcome == "survey" and survey_call.caller_number == "79131112299"
        (recording,) = await s.recordings(survey_call)
        assert recording.status == "stored"


async def _ended(s: Stage, call_id: int) -> bool:
    async with s.app[SESSIONS]() as session:
        call = await session.get(Call, call_id, populate_existing=True)
        return call is not None and call.ended_at is not None


async def test_calls_while_the_service_is_down_reach_the_journal_when_it_is_back(
    pbxs, settings, pg_only_engine, pg_url, tmp_path
) -> None:
    """With `hotline serve` stopped: a call answered and recorded, and a message left with
    the plain-dialplan secretary. When the service is back they are in the journal with
    their cards, the recording and the callback task; the PBX's ledger is emptied."""
    world = pbx.AmiClient(pbxs.world_ami, "world", "world")
    await world.connect()
    try:
        for phone in PHONES:
            await world.action({"Action": "DBPut", "Family": "phone", "Key": phone,
                                "Val": "answer"})
            await world.action({"Action": "DBPut", "Family": "phone", "Key": f"{phone}-talk",
                                "Val": "6"})
        hotline = pbxs.hotline
        hotline.cli("database deltree hotline/ledger")  # what earlier scenarios left
        hotline.cli(f"database put hotline/mode {LINE} operator")
        await world.action({"Action": "Originate", "Channel": f"PJSIP/{LINE}@hotline",
                            "Context": "citizen", "Exten": "talk", "Priority": "1",
                            "CallerID": '"Дневной Денис" <79131113301>', "Variable": "TALK=30",
                            "Async": "true"})
        await asyncio.sleep(25)
        hotline.cli(f"database put hotline/mode {LINE} secretary")
        await world.action({"Action": "Originate", "Channel": f"PJSIP/{LINE}@hotline",
                            "Context": "citizen", "Exten": "talk", "Priority": "1",
                            "CallerID": '"Ночная Нина" <79131113302>', "Variable": "TALK=25",
                            "Async": "true"})
        await asyncio.sleep(32)
    finally:
        await world.close()
    ledger = hotline.cli("database show hotline/ledger")
    assert ledger.count("/hotline/ledger/") == 2, ledger

    async with stage(pbxs, settings, pg_url, tmp_path, "service_down_ledger",
                     fresh_ledger=False) as s:
        s.app[LEDGER].settle_seconds = 0.0
        await s.app[LEDGER].sweep()
        await s.app[CALL_WRITER].flushed(timeout=20)
        calls = await s.calls()
        day, night = calls["79131113301"], calls["79131113302"]
        assert day.outcome == "answered" and day.answered_interface in (
            "PJSIP/op101", "PJSIP/op102")
        assert night.outcome == "secretary"
        assert day.caller_name == "Дневной Денис" and night.card_id and day.card_id
        async with s.app[SESSIONS]() as session:
            task = await session.scalar(select(CallbackTask).where(
                CallbackTask.card_id == night.card_id))
        assert task is not None and task.status == "pending"
        assert {r.status for r in await s.recordings(day)} == {"stored"}
        kinds = {r.kind: r.status for r in await s.recordings(night)}
        assert kinds["message"] == "stored"
        await s.app[LEDGER].sweep()
        assert "/hotline/ledger/" not in hotline.cli("database show hotline/ledger")
        assert len(await s.calls()) == 2


async def test_an_asterisk_restart_is_detected_and_the_modes_written_again(make_stage) -> None:
    async with make_stage("core_restart") as s:
        resyncs = s.app[PBX].resyncs
        s.pbxs.hotline.cli("database del hotline/mode " + LINE)
        await asyncio.to_thread(s.pbxs.hotline.restart)
        await s.app[PBX].wait_resynced(resyncs + 1, timeout=60)
        assert s.app[PBX].last_resync.restarted
        shown = s.pbxs.hotline.cli(f"database get hotline/mode {LINE}")
        assert "operator" in shown
        await _registered(s.pbxs.hotline, 60)
