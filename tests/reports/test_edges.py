"""The edges of issue #7, hand-counted: a call across midnight, a shortened day, a forwarded card.

November 2026 in Barnaul (UTC+7). The fund's line works Mon-Thu 8:30-17:30, Fri 8:30-16:15;
Tuesday 3 November is a shortened pre-holiday day (until 16:30), 4 November a holiday. The
insurers' lines work around the clock.
"""

from __future__ import annotations

from datetime import date

import pytest

from hotline.reports.hours import operator_hours
from journal.calendar import load_calendar_dir
from journal.reports.calls import Dimension, call_sections
from journal.reports.deadlines import deadlines
from journal.reports.period import parse_period
from journal.reports.pg import pg_report
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local

NOV = parse_period("2026-11", ZONE)
FUND, SOGAZ = "88007758565", "88002009204"


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def sections(sessions, actor, settings, calendar, *dims):
    hours = operator_hours(settings, calendar, NOV)
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, actor, NOV, hours, list(dims))
    return {dim: {(r.key, r.in_hours): r for r in rows} for dim, rows in got.items()}


async def test_a_call_across_midnight_counts_once_on_its_first_day(
    sessions, people, settings, calendar
) -> None:
    """Tuesday 10 November 23:55, 30 s in the queue, 15 minutes of talk: it ends on Wednesday
    at 00:10:30 and still counts once, on Tuesday, in the 23rd hour, with all its talk."""
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 11, 10, 23, 55), "answered",
                       queue_wait_seconds=30, talk_seconds=900)
        await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 11, 11, 0, 5), "answered",
                       queue_wait_seconds=10, talk_seconds=100)
    got = await sections(sessions, people.admin, settings, calendar,
                         Dimension.TOTAL, Dimension.HOUR, Dimension.WEEKDAY)
    assert {k: r.offered for k, r in got[Dimension.WEEKDAY].items()} == {(2, True): 1, (3, True): 1}
    assert {k: r.talk_avg for k, r in got[Dimension.HOUR].items()} == {
        (0, True): 100.0, (23, True): 900.0}
    total = got[Dimension.TOTAL]["all", True]
    assert (total.offered, total.talk_avg, total.wait_avg) == (2, 500.0, 20.0)


async def test_the_shortened_day_ends_an_hour_early(sessions, people, settings, calendar) -> None:
    """On Tuesday 3 November 16:29 is a working minute and 16:30 is not; on Tuesday 10
    November 17:15 still is. A message left on the 3rd at 16:00 and called back on Thursday
    the 5th at 9:00 waited 30 working minutes on the 3rd and 30 on the 5th (the 4th is a
    holiday): 3600 working seconds."""
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        for hh, mm in ((16, 29), (16, 30), (17, 15)):
            await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, hh, mm), "abandoned",
                           queue_wait_seconds=40)
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 10, 17, 15), "abandoned",
                       queue_wait_seconds=20)
        card = await add_card(s, orgs, "tfoms", received=local(2026, 11, 3, 16, 0),
                              appeal_type="consultation", topic="4.2", status="in_work")
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, 16, 0), "secretary",
                       card_id=card.id)
        await add_callback(s, card, due=local(2026, 11, 5, 17, 0), status="done",
                           done=local(2026, 11, 5, 9, 0))
    got = await sections(sessions, people.admin, settings, calendar, Dimension.TOTAL, Dimension.WEEKDAY)
    day = got[Dimension.WEEKDAY]
    assert (day[2, True].offered, day[2, False].offered) == (3, 2)  # 16:00, 16:29, 10th 17:15
    assert (day[2, True].abandoned_wait_avg, day[2, False].abandoned_wait_avg) == (30.0, 40.0)
    total = got[Dimension.TOTAL]["all", True]
    assert (total.secretary, total.called_back, total.callback_delay_avg) == (1, 1, 3600.0)


async def test_a_forwarded_card_counts_for_its_receiver_and_is_due_at_its_holder(
    sessions, people
) -> None:
    """Received by the fund, forwarded to sogaz: the fund's ПГ form counts it, sogaz's does
    not; its deadline is sogaz's to keep and the fund's staff no longer see it there."""
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        await add_card(s, orgs, "tfoms", received=local(2026, 11, 2, 10), appeal_type="complaint",
                       reasons=("11",), justified=None, status="in_work", holder="sogaz",
                       due=date(2026, 12, 2))
    q4 = parse_period("2026Q4", ZONE)
    async with unit_of_work(sessions) as s:
        fund_pg = await pg_report(s, people.tfoms_op, q4)
        sogaz_pg = await pg_report(s, people.sogaz_op, q4)
        admin_pg = await pg_report(s, people.admin, q4)
        today, now = date(2026, 12, 1), local(2026, 12, 1, 8, 0)
        fund_due = await deadlines(s, people.tfoms_op, today, now, within_days=3)
        sogaz_due = await deadlines(s, people.sogaz_op, today, now, within_days=3)
    assert fund_pg.row("1.1", "2").all.total == 1 and fund_pg.row("1.2", "11").all.total == 1
    assert sogaz_pg.row("1.1", "2").all.total == 0
    assert admin_pg.row("1.1", "1").all.total == 1  # once, not once per organization
    assert admin_pg.row("1.1", "1").cell(orgs["sogaz"]).total == 0
    assert fund_due == []
    assert [(o.organization_code, [c.due_date for c in o.cards]) for o in sogaz_due] == [
        ("sogaz", [date(2026, 12, 2)])]
