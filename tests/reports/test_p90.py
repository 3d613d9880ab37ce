"""The 90th-percentile wait: percentile_cont's number on both backends (a histogram and windows),
checked against PostgreSQL's own percentile_cont and Python's inclusive quantile."""

from __future__ import annotations

import random
import statistics

import pytest

from hotline.reports.hours import operator_hours
from journal.calendar import load_calendar_dir
from journal.reports.calls import Dimension, call_stats
from journal.reports.period import parse_period
from tests.support.paths import REPO
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, local

NOV = parse_period("2026-11", ZONE)
SOGAZ, KAPITAL, ALFA = "88002009204", "88001008102", "88007700799"


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def p90_by_line(sessions, people, settings, calendar, portable=True) -> dict:
    hours = operator_hours(settings, calendar, NOV)
    async with unit_of_work(sessions) as s:
        rows = await call_stats(s, people.admin, NOV, hours, dimension=Dimension.LINE,
                                portable_p90=portable)
    return {r.key: r.wait_p90 for r in rows}


async def test_hand_counted_percentiles_on_both_backends(sessions, people, settings, calendar) -> None:
    """p = 0.9 * (n - 1): one wait is itself; 11 waits give the 10th; 2 waits interpolate."""
    orgs = people.orgs
    groups = {
        "sogaz": (SOGAZ, [40]),  # n=1, p=0 → 40
        "kapital": (KAPITAL, [100, 0, 30, 10, 20, 50, 40, 60, 90, 80, 70]),  # n=11, p=9 → 90
        "alfa": (ALFA, [0, 100]),  # n=2, p=0.9 → 0 + 0.9 * 100 = 90
    }
    async with unit_of_work(sessions) as s:
        for org, (line, waits) in groups.items():
            for i, wait in enumerate(waits):
                await add_call(s, orgs, org, line, local(2026, 11, 10, 10, i), "answered",
                               queue_wait_seconds=wait, talk_seconds=60)
            # neither an abandoned call's wait nor an answered call without a wait counts
            await add_call(s, orgs, org, line, local(2026, 11, 10, 11), "abandoned",
                           queue_wait_seconds=1000)
            await add_call(s, orgs, org, line, local(2026, 11, 10, 12), "answered", talk_seconds=5)
    got = await p90_by_line(sessions, people, settings, calendar)
    assert got == {SOGAZ: 40.0, KAPITAL: 90.0, ALFA: 90.0}
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert await p90_by_line(sessions, people, settings, calendar, portable=False) == got


async def test_windows_agree_with_percentile_cont(sessions, people, settings, calendar) -> None:
    """Random waits: the window form equals Python's inclusive quantile (percentile_cont's
    definition) and, on PostgreSQL, percentile_cont itself."""
    rng = random.Random(7)
    orgs = people.orgs
    expected = {}
    async with unit_of_work(sessions) as s:
        for org, line, n in (("sogaz", SOGAZ, 37), ("kapital", KAPITAL, 58), ("alfa", ALFA, 3)):
            waits = [rng.randint(0, 300) for _ in range(n)]
            expected[line] = round(statistics.quantiles(waits, n=10, method="inclusive")[8], 2)
            for i, wait in enumerate(waits):
                await add_call(s, orgs, org, line, local(2026, 11, 12, 9 + i // 60, i % 60),
                               "answered", queue_wait_seconds=wait, talk_seconds=30)
    portable = await p90_by_line(sessions, people, settings, calendar, portable=True)
    assert portable == pytest.approx(expected, abs=0.01)
    if sessions.kw["bind"].dialect.name == "postgresql":
        native = await p90_by_line(sessions, people, settings, calendar, portable=False)
        assert native == pytest.approx(portable, abs=0.01)
