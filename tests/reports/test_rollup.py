"""The daily roll-up of the call statistics gives the raw calls' numbers, hand-counted, and
stays right when a rolled-up day changes: a late call (the writer replaying its spool), a call
that spans midnight finished after its day was rolled up, a transfer written late, other
working hours. November 2026 in Barnaul (UTC+7); the fund's line works Mon-Thu 8:30-17:30,
Fri 8:30-16:15, Tuesday 3 November is shortened (until 16:30), 4 November a holiday.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from hotline.reports.hours import level2_queues, operator_hours
from journal.calendar import load_calendar_dir
from journal.models import Call, CallRollup, CallRollupDay, CallTransfer
from journal.reports.calls import Dimension, call_sections, roll_up_calls
from journal.reports.period import parse_period
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local

NOV = parse_period("2026-11", ZONE)
FUND, SOGAZ = "88007758565", "88002009204"
DEC_1 = local(2026, 12, 1, 9, 0)  # every day of November has passed


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def report(sessions, actor, settings, calendar, *, rollup, now=DEC_1, hours=None, org=None):
    hours = operator_hours(settings, calendar, NOV) if hours is None else hours
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, actor, NOV, hours, list(Dimension), organization_id=org,
                                  level2_queues=level2_queues(settings), rollup=rollup, now=now)
    # A row of a phone answered with no operator's account is keyed by its phone.
    return {dim: {(r.phone or r.key, r.in_hours): r for r in rows} for dim, rows in got.items()}


async def roll_up(sessions, settings, calendar, now=DEC_1, hours=None) -> int:
    hours = operator_hours(settings, calendar, NOV) if hours is None else hours
    async with unit_of_work(sessions) as s:
        return await roll_up_calls(s, NOV, hours, level2_queues=level2_queues(settings), now=now)


async def both(sessions, actor, settings, calendar, **kwargs):
    """The report from the roll-up, after checking it equals the raw calls' report."""
    rolled = await report(sessions, actor, settings, calendar, rollup=True, **kwargs)
    raw = await report(sessions, actor, settings, calendar, rollup=False, **kwargs)
    assert rolled == raw
    return rolled


async def seed(sessions, people) -> None:
    orgs, tf_op = people.orgs, people.tfoms_op.user_id
    async with unit_of_work(sessions) as s:
        # Monday 2 November, in working hours: waits 15, 45, 90 answered, 30 abandoned
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
        # Shortened Tuesday: 16:29 is a working minute, 16:30 is not
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, 16, 29), "abandoned",
                       queue_wait_seconds=40)
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, 16, 30), "abandoned",
                       queue_wait_seconds=40)
        # A message on the 3rd at 17:00, called back Thursday 5th 9:00: 30 working minutes
        card = await add_card(s, orgs, "tfoms", received=local(2026, 11, 3, 17, 0),
                              appeal_type="consultation", topic="4.2", status="in_work")
        await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 3, 17, 0), "secretary",
                       card_id=card.id)
        await add_callback(s, card, due=local(2026, 11, 5, 17, 30), status="done",
                           done=local(2026, 11, 5, 9, 0))
        # Saturday night on the 24/7 line
        await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 11, 7, 3, 0), "answered",
                       queue_wait_seconds=5, talk_seconds=50, answered_by_id=people.sogaz_op.user_id)


async def test_the_roll_up_gives_the_hand_counted_numbers(sessions, people, settings, calendar) -> None:
    await seed(sessions, people)
    assert await roll_up(sessions, settings, calendar) == 30  # every day of November, once
    assert await roll_up(sessions, settings, calendar) == 0  # idempotent
    async with unit_of_work(sessions) as s:
        monday = (await s.execute(
            select(func.sum(CallRollup.offered), func.sum(CallRollup.wait_sum))
            .where(CallRollup.day == NOV.first.replace(day=2)))).one()
    assert tuple(map(int, monday)) == (4, 150)  # 4 calls; 15 + 45 + 90 answered waits
    got = await both(sessions, people.admin, settings, calendar)
    total = got[Dimension.TOTAL]
    assert (total["all", True].offered, total["all", True].answered) == (6, 4)
    assert total["all", True].wait_p90 == 76.5  # p = 2.7 over [5, 15, 45, 90]: 45 + 0.7 * 45
    assert total["all", True].transferred_l2 == 1
    assert total["all", True].abandoned_wait_avg == 35.0  # 30 and 40 (16:29)
    out = total["all", False]
    assert (out.offered, out.abandoned, out.secretary, out.called_back) == (2, 1, 1, 1)
    assert out.callback_delay_avg == 1800.0
    by_day = got[Dimension.WEEKDAY]
    assert {k: r.offered for k, r in by_day.items()} == {
        (1, True): 4, (2, True): 1, (2, False): 2, (6, True): 1}


async def test_a_late_call_makes_its_day_stale(sessions, people, settings, calendar) -> None:
    """The writer replays its spool after an outage: Monday 2 November gains a call after it
    was rolled up. The report counts it (the day is read raw, then built again)."""
    await seed(sessions, people)
    await roll_up(sessions, settings, calendar)
    async with unit_of_work(sessions) as s:
        await add_call(s, people.orgs, "tfoms", FUND, local(2026, 11, 2, 13, 0), "answered",
                       queue_wait_seconds=5, talk_seconds=40, answered_by_id=people.tfoms_op.user_id)
    got = await both(sessions, people.admin, settings, calendar)
    total = got[Dimension.TOTAL]["all", True]
    assert (total.offered, total.answered, total.wait_p90) == (7, 5, 72.0)  # p=3.6 over [5, 5, 15, 45, 90]
    assert got[Dimension.HOUR][13, True].offered == 1
    assert await roll_up(sessions, settings, calendar) == 0  # the report rebuilt it already


async def test_a_call_across_midnight_finished_after_its_day_was_rolled_up(
    sessions, people, settings, calendar
) -> None:
    """Tuesday 10 November 23:55 on the 24/7 line: still ringing when Tuesday is rolled up at
    midnight, answered after 30 s and talked 15 minutes into Wednesday, then transferred to
    level 2 at 00:05. It counts once, on Tuesday, in the 23rd hour, answered, transferred."""
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        call = await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 11, 10, 23, 55), "in_progress")
    just_after = local(2026, 11, 11, 0, 1)
    assert await roll_up(sessions, settings, calendar, now=just_after) == 10  # 1-10 November
    before = await both(sessions, people.admin, settings, calendar, now=just_after)
    assert before[Dimension.TOTAL]["all", True].answered == 0
    async with unit_of_work(sessions) as s:
        await s.execute(update(Call).where(Call.id == call.id).values(
            outcome="answered", queue_wait_seconds=30, talk_seconds=900,
            answered_by_id=people.sogaz_op.user_id, answered_at=local(2026, 11, 10, 23, 55, 30),
            ended_at=local(2026, 11, 11, 0, 10, 30)))
        s.add(CallTransfer(call_id=call.id, at=local(2026, 11, 11, 0, 5), kind="blind",
                           from_interface="PJSIP/op201", to_queue="l2-sogaz"))
    got = await both(sessions, people.admin, settings, calendar, now=local(2026, 11, 11, 1, 0))
    tuesday = got[Dimension.WEEKDAY][2, True]
    assert (tuesday.offered, tuesday.answered, tuesday.talk_avg, tuesday.transferred_l2) == (
        1, 1, 900.0, 1)
    assert got[Dimension.HOUR][23, True].wait_p90 == 30.0


async def test_other_working_hours_are_not_read_from_a_roll_up(
    sessions, people, settings, calendar
) -> None:
    """A roll-up built with the shortened day is not used by a report given other hours (here
    none at all: every call is outside working hours)."""
    await seed(sessions, people)
    await roll_up(sessions, settings, calendar)
    got = await both(sessions, people.admin, settings, calendar, hours=[])
    assert set(got[Dimension.TOTAL]) == {("all", False)}
    assert got[Dimension.TOTAL]["all", False].offered == 8


async def test_staff_see_their_organization_from_the_roll_up(
    sessions, people, settings, calendar
) -> None:
    await seed(sessions, people)
    await roll_up(sessions, settings, calendar)
    got = await both(sessions, people.sogaz_op, settings, calendar)
    assert set(got[Dimension.TOTAL]) == {("all", True)}
    assert got[Dimension.TOTAL]["all", True].wait_p90 == 5.0
    async with unit_of_work(sessions) as s:
        assert await s.scalar(select(func.count()).select_from(CallRollupDay)) == 30


async def test_today_is_read_raw(sessions, people, settings, calendar) -> None:
    """In the middle of Saturday 7 November only 1-6 November are rolled up; the call of the
    night of the 7th comes from the raw calls."""
    await seed(sessions, people)
    now = local(2026, 11, 7, 12, 0)
    got = await both(sessions, people.admin, settings, calendar, now=now)
    assert got[Dimension.LINE][SOGAZ, True].offered == 1
    async with unit_of_work(sessions) as s:
        assert await s.scalar(select(func.count()).select_from(CallRollupDay)) == 6


async def test_a_message_whose_card_comes_after_its_day_was_rolled_up(
    sessions, people, settings, calendar
) -> None:
    """A secretary message on Monday 2 November 18:00 (after hours) rolled up before the
    journal linked its card; the card and its callback on Tuesday 3rd 9:00 come later: the
    callback counts, 30 working minutes (8:30-9:00)."""
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        call = await add_call(s, orgs, "tfoms", FUND, local(2026, 11, 2, 18, 0), "secretary")
    await roll_up(sessions, settings, calendar)
    async with unit_of_work(sessions) as s:
        card = await add_card(s, orgs, "tfoms", received=local(2026, 11, 2, 18, 0),
                              appeal_type="consultation", topic="4.2", status="in_work")
        await s.execute(update(Call).where(Call.id == call.id).values(card_id=card.id))
        await add_callback(s, card, due=local(2026, 11, 3, 17, 0), status="done",
                           done=local(2026, 11, 3, 9, 0))
    got = await both(sessions, people.admin, settings, calendar)
    out = got[Dimension.TOTAL]["all", False]
    assert (out.secretary, out.called_back, out.callback_delay_avg) == (1, 1, 1800.0)
