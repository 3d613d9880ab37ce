"""The caller's side on the real Asterisk 22 (issue 19): what a citizen waiting in the queue
hears, the callback asked with key 1 instead of waiting, the ЕНП typed to the secretary.

The hotline PBX runs config/asterisk/ as rendered, except the fund's line waits less between
announcements ([lines.queue] every_seconds=20, callback_after=30) so that a scenario lasts
two minutes, not ten. What the caller hears is read from the PBX's own log: file.c's
"<channel> Playing 'file.slin' (language '…')" lines at verbose 3.
HOTLINE_RECORD_TRANSCRIPTS=1 writes tests/fixtures/ami/queue_announcements.jsonl,
queue_callback.jsonl and enp_secretary.jsonl (replayed by tests/pbx/test_own_transcripts.py).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.config import Settings
from hotline.keys import MODES, PBX, PBX_ACTIONS
from hotline.pbx.config.render import render, render_phone_auth
from hotline.web.keys import SESSIONS
from journal import enp
from journal.db import unit_of_work
from journal.models import Call, CallbackTask, Card, Organization
from journal.register import Insured, replace
from journal.users import add_user
from tests.asterisk import pbx
from tests.support.real_pbx import LINE, PASSWORD, PHONES, SOUNDS, Pbxs, pbx_settings

EVERY, OFFER_AFTER = 20, 30


def _quick_queue(settings: Settings) -> Settings:
    lines = [li.model_copy(update={"queue": li.queue.model_copy(update={
        "every_seconds": EVERY, "callback_after": OFFER_AFTER})}) if li.number == LINE else li
        for li in settings.lines]
    return settings.model_copy(update={"lines": lines})


@pytest.fixture(scope="module")
def pbxs(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Pbxs:
    root = tmp_path_factory.mktemp("asterisk-caller")
    ami_port, agi_port, world_ami = pbx.free_port(), pbx.free_port(), pbx.free_port()
    region = pbx_settings(_quick_queue(settings), ami_port, agi_port)
    phones = [p for org in region.organizations for p in org.phones]
    passwords = {p: secrets.token_urlsafe(12) for p in phones}
    files = render(region)
    files["hotline/pjsip_auth.conf"] = render_phone_auth(region, passwords)
    hotline = pbx.Asterisk("hotline", root / "under-test", files, SOUNDS)
    world = pbx.Asterisk("world", root / "world",
                         pbx.world_files(world_ami, {p: passwords[p] for p in PHONES}))
    hotline.start()
    world.start()
    yield Pbxs(hotline, world, ami_port, agi_port, world_ami)
    world.stop()
    hotline.stop()


# file.c: "<chan> Playing 'f.slin' (language 'ru')"; res_agi.c (STREAM FILE): "<chan> Playing
# 'f.slin' (escape_digits=…) (sample_offset 0) (language 'ru')".
_PLAYING = re.compile(r"<(?P<channel>[^>]+)> Playing '(?P<file>[^']+)\.\w+' "
                      r"(?:\(escape_digits=[^)]*\) \(sample_offset \d+\) )?\(language '(?P<lang>[^']*)'\)")


def heard(hotline: pbx.Asterisk, channel: str) -> list[str]:
    """The files Asterisk played to `channel`, in order (its log, verbose 3)."""
    if not hotline.log.exists():
        return []
    out = []
    for line in hotline.log.read_text("utf-8", "replace").splitlines():
        m = _PLAYING.search(line)
        if m and m["channel"] == channel:
            out.append(m["file"])
    return out


async def hears(hotline: pbx.Asterisk, channel: str, file: str, timeout: float = 60.0,
                times: int = 1) -> None:
    async with asyncio.timeout(timeout):
        while heard(hotline, channel).count(file) < times:
            await asyncio.sleep(0.2)


async def inbound_channel(tap: pbx.AmiClient, number: str, timeout: float = 30.0) -> str:
    """The hotline's channel of the citizen calling from `number`."""
    event = await tap.wait_event(
        lambda e: e.get("Event") == "Newchannel" and e.get("CallerIDNum", "").endswith(number[1:])
        and not e.get("Channel", "").startswith("Local/"), timeout)
    return event["Channel"]


async def _tap(s) -> pbx.AmiClient:
    tap = pbx.AmiClient(s.pbxs.ami_port, s.settings.ami.user, s.settings.ami.secret)
    await tap.connect()
    return tap


async def _talking(s, n: int) -> None:
    async def enough() -> bool:
        return sum(c.state == "talking" for c in s.app[PBX].tracker.calls()) >= n
    await s.until(enough, 40)


async def test_a_waiting_caller_hears_position_wait_and_the_offer_and_nobody_else_does(
    make_stage,  # noqa: F811
) -> None:
    """Both operators talk; the third caller is first in the queue («Вы первый в очереди»),
    the fourth hears «Ваш номер в очереди: два. Пожалуйста, оставайтесь на линии», after
    90 s the wait «Примерное время ожидания в минутах: один» (ru_hotline/digits/1n, not
    «одно»), and after 30 s the callback offer. The two answered at once hear none of it."""
    async with make_stage("queue_announcements") as s:
        tap = await _tap(s)
        try:
            await s.phone("op101", "answer", talk=140)
            await s.phone("op102", "answer", talk=140)
            await s.citizen_calls("79131112301", "Первый Павел", talk=160)
            await _talking(s, 1)
            await s.citizen_calls("79131112302", "Вторая Вера", talk=160)
            await _talking(s, 2)
            first = await inbound_channel(tap, "79131112301")
            second = await inbound_channel(tap, "79131112302")
            await s.citizen_calls("79131112303", "Третий Тимур", talk=170)
            third = await inbound_channel(tap, "79131112303")
            await hears(s.pbxs.hotline, third, "hotline/queue-first", 30)
            await s.citizen_calls("79131112304", "Четвёртая Дарья", talk=170)
            fourth = await inbound_channel(tap, "79131112304")
            await hears(s.pbxs.hotline, fourth, "hotline/queue-position", 30)
            await hears(s.pbxs.hotline, third, "hotline/queue-callback-offer", OFFER_AFTER + 30)
            # The fourth caller's wait is said once it passes app_queue's estimate (90 s
            # with an average hold near zero): one minute, in counting form.
            await hears(s.pbxs.hotline, fourth, "hotline/queue-holdtime", 120)
            await asyncio.sleep(4)
            hotline = s.pbxs.hotline
            for quick in (first, second):
                assert not [f for f in heard(hotline, quick) if "queue-" in f], heard(hotline, quick)
            h3, h4 = heard(hotline, third), heard(hotline, fourth)
            assert "hotline/queue-position" not in h3  # the first hears only that they are next
            at = h4.index("hotline/queue-position")
            assert h4[at:at + 3] == ["hotline/queue-position", "digits/2n", "hotline/queue-stay"]
            at = h4.index("hotline/queue-holdtime")
            assert h4[at:at + 2] == ["hotline/queue-holdtime", "digits/1n"], h4
            log = hotline.log.read_text("utf-8", "replace")
            assert f"<{fourth}> Playing 'digits/1n.slin' (language 'ru_hotline')" in log \
                or f"<{fourth}> Playing 'digits/1n.wav' (language 'ru_hotline')" in log
            assert "hotline/queue-callback-offer" in h4
            joins = [e for e in tap.events if e.get("Event") == "QueueCallerJoin"]
            assert [(e["CallerIDNum"][-4:], e["Position"]) for e in joins] == [
                ("2301", "1"), ("2302", "1"), ("2303", "1"), ("2304", "2")]
        finally:
            s.pbxs.hotline.cli("channel request hangup all")
            await tap.close()
        calls = {n: await s.ended(n) for n in ("79131112301", "79131112302", "79131112303",
                                               "79131112304")}
        assert calls["79131112301"].outcome == calls["79131112302"].outcome == "answered"
        assert calls["79131112303"].outcome == calls["79131112304"].outcome == "abandoned"


async def test_key_1_in_the_queue_is_a_callback_not_a_lost_call(make_stage) -> None:  # noqa: F811
    """op102 on a break, op101 talking: the caller waits, hears the offer, presses 1,
    confirms their number with 1, hears «оператор перезвонит вам …» and is hung up on. One
    call («queue_callback», not «abandoned»), its card, a level-1 callback task from the
    queue with the moment the caller left, in the operators' unassigned callbacks."""
    async with make_stage("queue_callback") as s:
        tap = await _tap(s)
        await s.app[PBX_ACTIONS].queue_pause("PJSIP/op102", True, "обед")
        try:
            await s.phone("op101", "answer", talk=90)
            await s.citizen_calls("79131112311", "Занятой Захар", talk=100)
            await _talking(s, 1)
            waiting = await s.citizen_calls("79131112312", "Спешащая Светлана", talk=100)
            channel = await inbound_channel(tap, "79131112312")
            await hears(s.pbxs.hotline, channel, "hotline/queue-callback-offer", OFFER_AFTER + 30)
            await s.press(waiting, "1")
            pressed = datetime.now(UTC)
            await hears(s.pbxs.hotline, channel, "hotline/secretary/number-confirm", 30)
            await s.press(waiting, "1")
            call = await s.ended("79131112312", timeout=60)
            played = heard(s.pbxs.hotline, channel)
            leave = [e for e in tap.events if e.get("Event") in (
                "QueueCallerLeave", "QueueCallerAbandon") and e.get("Channel") == channel]
            user = [e for e in tap.events if e.get("Event") == "UserEvent"
                    and e.get("Channel") == channel]
        finally:
            await s.app[PBX_ACTIONS].queue_pause("PJSIP/op102", False)
            s.pbxs.hotline.cli("channel request hangup all")
            await tap.close()
        assert [e["Event"] for e in leave] == ["QueueCallerLeave"]  # no abandon: a key, not a hang-up
        assert [e["UserEvent"] for e in user] == ["HotlineQueueCallback"]
        at = played.index("hotline/queue-callback-offer")
        assert played[at + 1:at + 3] == ["hotline/secretary/number-is", "digits/8"]
        tail = played[played.index("hotline/queue-callback-ok"):]
        assert tail[1] in ("hotline/queue-callback-hour", "hotline/queue-callback-workday")
        assert tail[-1] == "hotline/secretary/goodbye"
        assert call.outcome == "queue_callback" and call.card_id is not None
        assert call.answered_at is None
        async with s.app[SESSIONS]() as session:
            tasks = (await session.scalars(select(CallbackTask))).all()
            card = await session.get(Card, call.card_id)
            org = await session.get(Organization, tasks[0].organization_id)
            n_calls = await session.scalar(select(func.count(Call.id)).where(
                Call.caller_number.like("%2312")))
        [task] = tasks
        assert n_calls == 1
        assert (task.origin, task.status, task.card_id, org.code) == (
            "queue", "pending", card.id, "tfoms")
        assert task.contact_phone == "89131112312"
        assert abs((task.asked_at - pressed).total_seconds()) < 3
        async with unit_of_work(s.app[SESSIONS]) as db:
            await add_user(db, login="op102", password=PASSWORD, full_name="Оператор 102",
                           role="operator", organization_code="tfoms", level=1,
                           interface="PJSIP/op102")
        await s.client.post("/api/v1/login", json={"login": "op102", "password": PASSWORD})
        resp = await s.client.get("/api/v1/callbacks", params={"assigned": "none"})
        assert resp.status == 200, await resp.text()
        [item] = (await resp.json())["items"]
        assert (item["id"], item["origin"], item["card_number"]) == (task.id, "queue", card.number)


GOOD = "220000000000004"
GOOD = GOOD + str(enp.control_digit(GOOD))
BAD = GOOD[:-1] + str((int(GOOD[-1]) + 3) % 10)


async def test_the_secretary_takes_the_enp_and_the_card_knows_the_citizen(
    make_stage,  # noqa: F811
) -> None:
    """Secretary: menu 2, a message, #, the number confirmed; then the ЕНП: a wrong one (the
    control digit) is said to be wrong, the right one with # fills the card's applicant from
    the register (ФИО, дата рождения, ЕНП, СМО). The 16 digits never cross the AMI."""
    async with make_stage("enp_secretary") as s:
        async with unit_of_work(s.app[SESSIONS]) as db:
            await replace(db, [Insured(GOOD, "Ёлкина Алёна Викторовна", date(1979, 12, 31),
                                       "22010")], source="test.csv", loaded_by="test")
        await s.app[MODES].scheduler.set_override(
            LINE, "secretary", datetime.now(UTC) + timedelta(hours=1), by="test")
        tap = await _tap(s)
        hotline = s.pbxs.hotline
        try:
            world = await s.citizen_calls("79131112321", "Ночной Никита", talk=120)
            channel = await inbound_channel(tap, "79131112321")
            await hears(hotline, channel, "hotline/secretary/menu", 60)
            await s.press(world, "2")
            await hears(hotline, channel, "beep", 40)
            await asyncio.sleep(2)
            await s.press(world, "#")
            await hears(hotline, channel, "hotline/secretary/number-confirm", 30)
            await s.press(world, "1")
            await hears(hotline, channel, "hotline/secretary/enp-ask", 30)
            await s.press(world, BAD + "#")
            await hears(hotline, channel, "hotline/secretary/enp-invalid", 30)
            await hears(hotline, channel, "hotline/secretary/enp-ask", 30, times=2)
            await s.press(world, GOOD + "#")
            await hears(hotline, channel, "hotline/secretary/message-thanks", 30)
            s.pbxs.world.cli("channel request hangup all")
            call = await s.ended("79131112321", timeout=60)
            settings_shown = hotline.cli("manager show settings")
        finally:
            await tap.close()
        assert call.outcome == "secretary" and call.card_id is not None
        async with s.app[SESSIONS]() as session:
            card = await session.get(Card, call.card_id)
            insurer = await session.get(Organization, card.insurer_concerned_id)
        assert (card.applicant_policy, card.applicant_name, card.applicant_birth_date) == (
            GOOD, "Ёлкина Алёна Викторовна", date(1979, 12, 31))
        assert insurer.code == "kapital"
        # Nothing of the ЕНП on the AMI stream: no event value, no exported variable.
        assert tap.events and not [e for e in tap.events if any(
            GOOD in v or BAD in v for v in e.values())]
        exported = [ln for ln in settings_shown.splitlines() if "HOTLINE_ID" in ln]
        assert exported and not any("ENP" in ln.upper() for ln in exported), exported
