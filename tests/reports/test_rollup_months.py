"""The monthly layer of the roll-up and the per-day working seconds of the callback delays
give the numbers computed directly from the rows, in Python, on a small random journal of
the fourth quarter of 2026 (Barnaul, UTC+7): October, November and 1-14 December from the
monthly layer, the rest from the calls. A month stays right when one of its
days changes after it was built, and is not used with other working hours.
"""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import func, select

from hotline.reports.hours import level2_queues, operator_hours
from journal.calendar import load_calendar_dir
from journal.models import CallRollupMonth, CallRollupMonthSum
from journal.reports.calls import Dimension, HoursInterval, call_sections
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local
from tests.support.rollup_data import LINES, NOW, Q4, seed, worked

FIELDS = ("offered", "answered", "abandoned", "answered_20s", "secretary", "called_back")
AVERAGES = ("wait_avg", "wait_p90", "talk_avg", "callback_delay_avg")


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")






def p90(waits: list[int]) -> float | None:
    """percentile_cont(0.9)."""
    if not waits:
        return None
    waits = sorted(waits)
    pos = 0.9 * (len(waits) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(waits) - 1)
    return waits[lo] + (pos - lo) * (waits[hi] - waits[lo])


def direct(calls: list[dict], hours: list[HoursInterval], by: str = "line") -> dict:
    """The LINE section computed from the rows: {(line, in_hours): {field: value}}; with
    `by="operator"` the OPERATOR section: {((operator, phone), in_hours): ...}, a call
    answered with no account under its phone, one nobody answered under (None, None)."""
    groups: dict[tuple, list[dict]] = {}
    for c in calls:
        if not (Q4.start <= c["start"] < Q4.end):
            continue
        in_hours = any(h.line == c["line"] and h.start <= c["start"] < h.end for h in hours)
        key = c["line"] if by == "line" else (c.get("operator"), c.get("phone"))
        groups.setdefault((key, in_hours), []).append(c)
    out = {}
    for key, rows in groups.items():
        answered = [c for c in rows if c["outcome"] == "answered"]
        called = [c for c in rows if c["outcome"] == "secretary" and c["done"]]
        delays = [worked(hours, c["line"], min(c["done"])) - worked(hours, c["line"], c["start"])
                  for c in called]
        waits = [c["wait"] for c in answered]
        out[key] = {
            "offered": len(rows), "answered": len(answered),
            "abandoned": sum(c["outcome"] == "abandoned" for c in rows),
            "answered_20s": sum(w <= 20 for w in waits),
            "secretary": sum(c["outcome"] == "secretary" for c in rows), "called_back": len(called),
            "wait_avg": sum(waits) / len(waits) if waits else None, "wait_p90": p90(waits),
            "talk_avg": sum(c["talk"] for c in answered) / len(answered) if answered else None,
            "callback_delay_avg": sum(delays) / len(delays) if delays else None,
        }
    return out


async def by_line(sessions, actor, settings, hours, *, rollup=True) -> dict:
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, actor, Q4, hours, list(Dimension), rollup=rollup,
                                  level2_queues=level2_queues(settings), now=NOW)
    total = {r.in_hours: r for r in got[Dimension.TOTAL]}
    lines = got[Dimension.LINE]
    for flag, row in total.items():  # the total is the lines added up
        assert row.offered == sum(r.offered for r in lines if r.in_hours == flag)
    return {(r.key, r.in_hours): {f: getattr(r, f) for f in (*FIELDS, *AVERAGES)} for r in lines}


async def by_operator(sessions, actor, settings, hours, *, rollup=True) -> dict:
    """The OPERATOR section: {((operator, phone), in_hours): {field: value}}, checked to add
    up to the total."""
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, actor, Q4, hours, [Dimension.TOTAL, Dimension.OPERATOR],
                                  rollup=rollup, level2_queues=level2_queues(settings), now=NOW)
    rows = got[Dimension.OPERATOR]
    for total in got[Dimension.TOTAL]:
        mine = [r for r in rows if r.in_hours == total.in_hours]
        for field in ("offered", "answered", "abandoned", "secretary"):
            assert getattr(total, field) == sum(getattr(r, field) for r in mine), field
    out = {((r.key, r.phone), r.in_hours): {f: getattr(r, f) for f in (*FIELDS, *AVERAGES)}
           for r in rows}
    assert len(out) == len(rows)
    return out


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, want in expected.items():
        for field in FIELDS:
            assert got[key][field] == want[field], (key, field)
        for field in AVERAGES:
            if want[field] is None:
                assert got[key][field] is None, (key, field)
            else:
                assert got[key][field] == pytest.approx(want[field], abs=0.006), (key, field)


async def months_built(sessions) -> dict:
    async with unit_of_work(sessions) as s:
        return dict((await s.execute(select(CallRollupMonth.month, CallRollupMonth.built_at))).all())


async def test_the_months_and_working_days_give_the_direct_numbers(
    sessions, people, settings, calendar
) -> None:
    calls = await seed(sessions, people, random.Random(2026))
    hours = operator_hours(settings, calendar, Q4)
    expected = direct(calls, hours)
    assert sum(v["called_back"] for v in expected.values()) > 10
    assert_same(await by_line(sessions, people.admin, settings, hours), expected)
    built = await months_built(sessions)
    assert [m.isoformat() for m in sorted(built)] == ["2026-10-01", "2026-11-01", "2026-12-01"]
    async with unit_of_work(sessions) as s:
        assert await s.scalar(select(func.sum(CallRollupMonthSum.offered))) == sum(
            local(2026, 10, 1) <= c["start"] < local(2026, 12, 15) for c in calls)
    assert_same(await by_line(sessions, people.admin, settings, hours, rollup=False), expected)
    assert_same(await by_line(sessions, people.admin, settings, hours), expected)
    assert await months_built(sessions) == built  # used again, not built again
    # The operators' section: a row per phone answered with no account, from the months too.
    operators = direct(calls, hours, by="operator")
    assert sum(phone is not None for (_, phone), _ in operators) >= 3
    assert_same(await by_operator(sessions, people.admin, settings, hours), operators)
    assert_same(await by_operator(sessions, people.admin, settings, hours, rollup=False), operators)


async def test_a_day_changed_after_its_month_was_built(sessions, people, settings, calendar) -> None:
    """The writer replays its spool: 14 October gains an answered call and a message called
    back after its month was built. The month is built again from its days."""
    calls = await seed(sessions, people, random.Random(7))
    hours = operator_hours(settings, calendar, Q4)
    await by_line(sessions, people.admin, settings, hours)
    before = await months_built(sessions)
    orgs, fund = people.orgs, "88007758565"
    async with unit_of_work(sessions) as s:
        start = local(2026, 10, 14, 11, 0)
        await add_call(s, orgs, "tfoms", fund, start, "answered", queue_wait_seconds=7,
                       talk_seconds=70, answered_by_id=people.tfoms_op.user_id)
        card = await add_card(s, orgs, "tfoms", received=start, appeal_type="consultation",
                              topic="4.2", status="in_work")
        await add_call(s, orgs, "tfoms", fund, start, "secretary", card_id=card.id)
        done = local(2026, 10, 16, 9, 0)
        await add_callback(s, card, due=done, status="done", done=done)
    calls += [{"line": fund, "start": start, "outcome": "answered", "wait": 7, "talk": 70, "done": []},
              {"line": fund, "start": start, "outcome": "secretary", "wait": None, "talk": None,
               "done": [done], "card": card.id}]
    assert_same(await by_line(sessions, people.admin, settings, hours), direct(calls, hours))
    after = await months_built(sessions)
    october, november, december = sorted(after)
    assert after[october] > before[october] and after[november] == before[november]
    assert after[december] == before[december]


async def test_other_working_hours_do_not_use_the_months(sessions, people, settings, calendar) -> None:
    """A report given other working hours (the fund's line closed on Mondays) builds the
    days and months again and counts with its own hours, callback delays included."""
    calls = await seed(sessions, people, random.Random(11))
    hours = operator_hours(settings, calendar, Q4)
    await by_line(sessions, people.admin, settings, hours)
    other = [h for h in hours if not (LINES.get(h.line) == "tfoms"
                                      and h.start.astimezone(ZONE).isoweekday() == 1)]
    assert len(other) < len(hours)
    assert_same(await by_line(sessions, people.admin, settings, other), direct(calls, other))
    assert_same(await by_line(sessions, people.admin, settings, hours), direct(calls, hours))


async def test_the_month_so_far_grows_with_the_days(sessions, people, settings, calendar) -> None:
    """December so far is added up to the 15th, then again to the 20th when the report is
    made five days later; a report as of the 15th again builds it back to the 15th."""
    calls = await seed(sessions, people, random.Random(5))
    hours = operator_hours(settings, calendar, Q4)
    assert_same(await by_line(sessions, people.admin, settings, hours), direct(calls, hours))
    first = (await months_built(sessions))[local(2026, 12, 1).date()]
    later = local(2026, 12, 20, 10, 0)
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, people.admin, Q4, hours, [Dimension.TOTAL],
                                  level2_queues=level2_queues(settings), now=later)
    assert sum(r.offered for r in got[Dimension.TOTAL]) == sum(
        Q4.start <= c["start"] < Q4.end for c in calls)
    second = (await months_built(sessions))[local(2026, 12, 1).date()]
    assert second > first
    async with unit_of_work(sessions) as s:
        assert await s.scalar(select(func.sum(CallRollupMonthSum.offered))) == sum(
            local(2026, 10, 1) <= c["start"] < local(2026, 12, 20) for c in calls)
    assert_same(await by_line(sessions, people.admin, settings, hours), direct(calls, hours))
