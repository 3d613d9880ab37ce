"""Issue 16, item 7: a call answered at a phone with no operator's account credited (nobody's
account bound to op102, or one of another organization's, which the journal writer refuses
to credit) is counted as answered in a row of that phone, «телефон op102», not with the calls
nobody answered («никем не принят»); the operators' section still adds up to «поступило».
Monday 2 November 2026, the fund's line in working hours (8:30-17:30, Barnaul)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.reports.hours import level2_queues, operator_hours
from hotline.web.keys import SESSIONS
from journal.calendar import load_calendar_dir
from journal.db import unit_of_work
from journal.models import Organization
from journal.reports.calls import Dimension, call_sections
from journal.reports.export import call_values, calls_workbook, write_calls_csv
from journal.reports.period import parse_period
from tests.support.api import Api
from tests.support.paths import REPO
from tests.support.report_data import ZONE, add_call, local
from tests.support.report_pages import page

NOV = parse_period("2026-11", ZONE)
FUND, SOGAZ = "88007758565", "88002009204"
DEC_1 = local(2026, 12, 1, 9, 0)


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def seed_day(s, orgs: dict[str, int], tf_op: int, day: tuple[int, int, int]) -> None:
    """The fund's operator answers one call at op101; op102 answers two with no account
    credited; sogaz's op1101 one; one call abandoned, one still queued."""
    at = lambda h, m: local(*day, h, m)  # noqa: E731
    await add_call(s, orgs, "tfoms", FUND, at(10, 0), "answered", queue_wait_seconds=10,
                   talk_seconds=100, answered_by_id=tf_op, answered_interface="PJSIP/op101")
    await add_call(s, orgs, "tfoms", FUND, at(10, 10), "answered", queue_wait_seconds=20,
                   talk_seconds=60, answered_interface="PJSIP/op102")
    await add_call(s, orgs, "tfoms", FUND, at(11, 0), "answered", queue_wait_seconds=40,
                   talk_seconds=120, answered_interface="PJSIP/op102")
    await add_call(s, orgs, "sogaz", SOGAZ, at(11, 30), "answered", queue_wait_seconds=5,
                   talk_seconds=30, answered_interface="PJSIP/op1101")
    await add_call(s, orgs, "tfoms", FUND, at(12, 0), "abandoned", queue_wait_seconds=30)


async def sections(sessions, actor, settings, calendar, *, rollup: bool) -> dict:
    hours = operator_hours(settings, calendar, NOV)
    async with unit_of_work(sessions) as s:
        return await call_sections(s, actor, NOV, hours, list(Dimension), rollup=rollup,
                                   level2_queues=level2_queues(settings), now=DEC_1)


async def test_a_phone_with_no_account_has_its_own_answered_row(
    sessions, people, settings, calendar
) -> None:
    tf_op = people.tfoms_op.user_id
    async with unit_of_work(sessions) as s:
        await seed_day(s, people.orgs, tf_op, (2026, 11, 2))
        await add_call(s, people.orgs, "tfoms", FUND, local(2026, 11, 30, 10, 0), "in_progress")
    rolled = await sections(sessions, people.admin, settings, calendar, rollup=True)
    raw = await sections(sessions, people.admin, settings, calendar, rollup=False)
    assert rolled == raw
    ops = {(r.key, r.phone, r.in_hours): r for r in rolled[Dimension.OPERATOR]}
    assert set(ops) == {(tf_op, None, True), (None, "PJSIP/op102", True),
                        (None, "PJSIP/op1101", True), (None, None, True)}
    op102 = ops[None, "PJSIP/op102", True]
    assert (op102.offered, op102.answered, op102.abandoned, op102.other) == (2, 2, 0, 0)
    assert (op102.talk_avg, op102.wait_avg, op102.wait_p90) == (90.0, 30.0, 38.0)
    assert op102.answered_20s == 1
    nobody = ops[None, None, True]
    assert (nobody.offered, nobody.answered, nobody.abandoned, nobody.in_progress) == (2, 0, 1, 1)
    assert nobody.talk_avg is None and nobody.wait_p90 is None
    total = rolled[Dimension.TOTAL][0]
    assert (total.offered, total.answered) == (6, 4)
    assert sum(r.offered for r in ops.values()) == total.offered
    assert sum(r.answered for r in ops.values()) == total.answered
    # The other sections add every phone up, one row per key as before.
    assert [(r.key, r.phone, r.offered) for r in rolled[Dimension.LINE]] == [
        (SOGAZ, None, 1), (FUND, None, 5)]

    names = {"операторы": {tf_op: "Иванова Мария"}}
    labels = {(r.key, r.phone): call_values("операторы", r, names)[:4] for r in ops.values()}
    assert labels[None, "PJSIP/op102"] == ["телефон op102", "да", 2, 2]
    assert labels[None, "PJSIP/op1101"] == ["телефон op1101", "да", 1, 1]
    assert labels[None, None] == ["никем не принят", "да", 2, 0]
    assert labels[tf_op, None] == ["Иванова Мария", "да", 1, 1]
    out = io.StringIO()
    named = {"операторы": rolled[Dimension.OPERATOR]}
    write_calls_csv(named, out, names)
    assert any(line.startswith("операторы,телефон op102,да,2,2,0,") for line in out.getvalue().splitlines())
    sheet = calls_workbook("Статистика звонков за ноябрь 2026 г.", named, names)["операторы"]
    assert "телефон op102" in [c.value for c in sheet["A"]]


async def test_the_page_and_the_json_name_the_phone(api: Api) -> None:
    """Today's calls (read raw): the report page has a row «телефон op102» with its answered
    calls and a «никем не принят» row; the JSON gives the phone of the row."""
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul"))
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    async with unit_of_work(api.app[SESSIONS]) as s:
        orgs = dict((await s.execute(select(Organization.code, Organization.id))).all())
        for _ in range(2):
            await add_call(s, orgs, "tfoms", FUND, now.replace(hour=0, minute=1), "answered",
                           queue_wait_seconds=3, talk_seconds=40, answered_interface="PJSIP/op102")
        await add_call(s, orgs, "tfoms", FUND, now.replace(hour=0, minute=2), "abandoned",
                       queue_wait_seconds=9)
    await api.login("admin")
    html = await page(api, f"/admin/reports?report=calls&period={quarter}")
    assert "телефон op102</td>" in html and "никем не принят</td>" in html
    assert "без учётной записи оператора (не принят" not in html
    got = await api.call("GET", f"/api/v1/reports/calls?period={quarter}&format=json")
    phones = {r["phone"]: r for r in got["sections"]["операторы"]}
    assert (phones["PJSIP/op102"]["answered"], phones["PJSIP/op102"]["key"]) == (2, None)
    assert (phones[None]["offered"], phones[None]["answered"]) == (1, 0)
