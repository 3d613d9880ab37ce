"""Call statistics of November 2026 against the lines' working calendar, hand-counted.

The fund's line works Mon-Thu 8:30-17:30, Fri 8:30-16:15 (UTC+7); Tuesday 3 November is a
shortened day (until 16:30) and 4 November a holiday. The sogaz line works around the clock.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.reports import figures
from hotline.reports.hours import level2_queues, operator_hours
from hotline.reports.runs import call_key_names
from journal.calendar import load_calendar_dir
from journal.errors import Forbidden
from journal.models import CallTransfer, User
from journal.reports.calls import CallStats, Dimension, call_sections, call_stats
from journal.reports.export import calls_workbook, write_calls_csv
from journal.reports.period import parse_period
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.journal import People
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local

NOV = parse_period("2026-11", ZONE)
FUND, SOGAZ = "88007758565", "88002009204"


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def seed(sessions: async_sessionmaker[AsyncSession], people: People) -> None:
    orgs = people.orgs
    tf_op, sg_op = people.tfoms_op.user_id, people.sogaz_op.user_id
    async with unit_of_work(sessions) as s:
        # Monday 2 November, fund line, in working hours
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 10, 0), "answered",
                       queue_wait_seconds=15, talk_seconds=100, answered_by_id=tf_op)
        b = await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 10, 5), "answered",
                           queue_wait_seconds=45, talk_seconds=200, answered_by_id=tf_op)
        s.add(CallTransfer(call_id=b.id, at=local(2026, 11, 2, 10, 7), kind="attended",
                           from_interface="PJSIP/op101", to_queue="l2-tfoms"))
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 11, 0), "answered",
                       queue_wait_seconds=90, talk_seconds=60, answered_by_id=tf_op)
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 12, 0), "abandoned",
                       queue_wait_seconds=30)
        # Shortened Tuesday: 17:00 is after hours; called back Thu 5 Nov 9:00 (the 4th is a
        # holiday), i.e. 30 working minutes later
        card = await add_card(s, orgs, "tfoms", received=local(2026, 11, 3, 17, 0),
                              appeal_type="consultation", topic="4.2", status="in_work")
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, 17, 0), "secretary",
                       card_id=card.id)
        await add_callback(s, card, due=local(2026, 11, 5, 17, 30), status="done",
                           done=local(2026, 11, 5, 9, 0))
        # Monday 23:58 → Tuesday 00:05: one call, of Monday's 23rd hour, after hours
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 23, 58), "secretary")
        # Saturday night on the 24/7 line
        await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 11, 7, 3, 0), "answered",
                       queue_wait_seconds=5, talk_seconds=50, answered_by_id=sg_op)
        # Started on 31 October (local) and ended in November: October's
        await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 10, 31, 23, 59), "answered",
                       queue_wait_seconds=5, talk_seconds=600, answered_by_id=sg_op)


async def stats(sessions, actor, settings, calendar, dim=Dimension.TOTAL, org=None):
    hours = operator_hours(settings, calendar, NOV)
    async with unit_of_work(sessions) as s:
        rows = await call_stats(s, actor, NOV, hours, dimension=dim, organization_id=org,
                                level2_queues=level2_queues(settings))
    return {(r.key, r.in_hours): r for r in rows}


async def test_totals_in_and_out_of_working_hours(sessions, people, settings, calendar) -> None:
    await seed(sessions, people)
    got = await stats(sessions, people.admin, settings, calendar)
    assert set(got) == {("all", True), ("all", False)}
    assert got["all", True] == CallStats(
        key="all", in_hours=True, offered=5, answered=4, abandoned=1, abandoned_wait_avg=30.0,
        answered_20s=2, answered_60s=3, wait_avg=38.75,
        wait_p90=76.5,  # p = 0.9 * 3 = 2.7: 45 + 0.7 * (90 - 45) over [5, 15, 45, 90]
        talk_avg=102.5, transferred_l2=1, secretary=0, called_back=0, callback_delay_avg=None,
    )
    out = got["all", False]
    assert (out.offered, out.answered, out.secretary, out.called_back) == (2, 0, 2, 1)
    assert out.callback_delay_avg == pytest.approx(1800.0)  # 8:30-9:00 on 5 November


async def test_by_line_hour_weekday_operator(sessions, people, settings, calendar) -> None:
    await seed(sessions, people)
    by_line = await stats(sessions, people.admin, settings, calendar, Dimension.LINE)
    assert {k: r.offered for k, r in by_line.items()} == {
        (FUND, True): 4, (FUND, False): 2, (SOGAZ, True): 1}
    by_hour = await stats(sessions, people.admin, settings, calendar, Dimension.HOUR)
    assert {k: r.offered for k, r in by_hour.items()} == {
        (3, True): 1, (10, True): 2, (11, True): 1, (12, True): 1, (17, False): 1, (23, False): 1}
    by_day = await stats(sessions, people.admin, settings, calendar, Dimension.WEEKDAY)
    assert {k: r.offered for k, r in by_day.items()} == {
        (1, True): 4, (1, False): 1, (2, False): 1, (6, True): 1}
    by_op = await stats(sessions, people.admin, settings, calendar, Dimension.OPERATOR)
    assert by_op[people.tfoms_op.user_id, True].answered == 3
    assert by_op[people.sogaz_op.user_id, True].talk_avg == 50.0
    by_org = await stats(sessions, people.admin, settings, calendar, Dimension.ORGANIZATION)
    assert by_org[people.orgs["sogaz"], True].offered == 1


async def test_the_parts_add_up_to_the_offered_calls_calls_in_progress_included(
        sessions, people, settings, calendar) -> None:
    """«поступило» is the sum of its parts: besides the answered, abandoned and secretary
    calls, the calls still going (a caller queued, an operator talking) and those that ended
    otherwise (hung up before any queue, lost while the PBX link was down) are their own
    figures, in the tables and the charts alike."""
    await seed(sessions, people)
    orgs, tf_op = people.orgs, people.tfoms_op.user_id
    async with unit_of_work(sessions) as s:
        for minute in (1, 2):  # still going (today, for the report's raw part)
            await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 10, minute), "in_progress",
                           answered_by_id=tf_op if minute == 1 else None)
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 10, 3), "interrupted")
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 10, 4), "unanswered")
    hours = operator_hours(settings, calendar, NOV)
    async with unit_of_work(sessions) as s:
        sections = await call_sections(s, people.admin, NOV, hours, list(Dimension),
                                       level2_queues=level2_queues(settings),
                                       now=local(2026, 11, 2, 10, 30))
    got = {(r.key, r.in_hours): r for r in sections[Dimension.TOTAL]}
    day = got["all", True]
    assert (day.offered, day.answered, day.abandoned, day.secretary, day.in_progress,
            day.other) == (9, 4, 1, 0, 2, 2)
    for rows in sections.values():
        for r in rows:
            assert r.answered + r.abandoned + r.secretary + r.in_progress + r.other == r.offered
    ten = {r.key: r for r in sections[Dimension.HOUR] if r.in_hours}[10]
    assert (ten.offered, ten.in_progress, ten.other) == (6, 2, 2)
    svg = figures.calls_by_hour(sections[Dimension.HOUR], NOV.title)
    assert "ещё идут" in svg and "прочие" in svg


async def test_staff_get_their_organization_only(sessions, people, settings, calendar) -> None:
    await seed(sessions, people)
    got = await stats(sessions, people.sogaz_op, settings, calendar)
    assert set(got) == {("all", True)} and got["all", True].offered == 1
    with pytest.raises(Forbidden):
        await stats(sessions, people.sogaz_op, settings, calendar, org=people.orgs["tfoms"])


async def test_writers(sessions, people, settings, calendar) -> None:
    """XLSX and CSV say the same, in Russian: lines and operators by name, «да»/«нет»,
    never True, «all» or a database id."""
    await seed(sessions, people)
    rows = list((await stats(sessions, people.admin, settings, calendar, Dimension.LINE)).values())
    ops = list((await stats(sessions, people.admin, settings, calendar, Dimension.OPERATOR)).values())
    sections = {"линии": rows, "операторы": ops}
    async with sessions() as s:
        names = await call_key_names(s, sections)
    fund = f"{FUND} (ТФОМС Алтайского края)"
    wb = calls_workbook("Статистика звонков за ноябрь 2026 г.", sections, names)
    assert wb["линии"].cell(3, 3).value == "поступило"
    assert [wb["линии"].cell(r, 1).value for r in (5, 6)] == [fund, fund]
    out = io.StringIO()
    write_calls_csv(sections, out, names)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("раздел,группа,в рабочее время,поступило,принято,потеряно,"
                               'сообщений автосекретарю,ещё идут,"прочие')
    row = f"линии,{fund},да,4,3,1,0,0,0,30.0"
    assert row in [line[: len(row)] for line in lines]
    operator = await _full_name(sessions, people.tfoms_op.user_id)
    assert any(line.startswith(f"операторы,{operator},да,3,3,0,0,0,0,") for line in lines)
    text = out.getvalue()
    assert "True" not in text and "False" not in text and ",all," not in text


async def _full_name(sessions: async_sessionmaker[AsyncSession], user_id: int) -> str:
    async with sessions() as s:
        user = await s.get(User, user_id)
    assert user is not None and user.full_name
    return user.full_name
