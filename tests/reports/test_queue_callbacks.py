"""Callbacks asked from the queue (issue #19) in the calls report: how many, how many made, and
how soon (median and 90th percentile from the moment the caller left the queue to the start
of the operator's callback), per organization, in Russian on the page's table and the XLSX."""

from __future__ import annotations

from datetime import timedelta

from openpyxl import Workbook

from journal.reports.export import add_queue_callbacks_sheet
from journal.reports.period import parse_period
from journal.reports.queue_callbacks import percentile, queue_callback_stats
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local
from journal.db import unit_of_work

NOV = parse_period("2026-11", ZONE)
FUND = "88007758565"


def test_percentiles_interpolate_like_postgresql() -> None:
    assert percentile([], 0.5) is None
    assert percentile([60.0], 0.9) == 60.0
    assert percentile([60.0, 120.0, 600.0], 0.5) == 120.0
    assert percentile([0.0, 100.0], 0.9) == 90.0


async def test_asked_made_and_how_soon(sessions, people) -> None:
    orgs = people.orgs
    async with unit_of_work(sessions) as s:
        for minutes in (5, 10, 30, None, None):  # three made, two still waiting
            asked = local(2026, 11, 2, 10, 0)
            card = await add_card(s, orgs, "tfoms", received=asked,
                                  appeal_type="consultation", topic="4.2", status="in_work")
            await add_call(s, orgs, "tfoms", FUND, asked - timedelta(minutes=1), "queue_callback",
                           card_id=card.id)
            task = await add_callback(s, card, due=asked + timedelta(hours=1),
                                      status="pending" if minutes is None else "done",
                                      done=None if minutes is None else asked + timedelta(
                                          minutes=minutes, seconds=90))
            task.origin, task.asked_at = "queue", asked
            if minutes is not None:
                back = await add_call(s, orgs, "tfoms", FUND, asked + timedelta(minutes=minutes),
                                      "callback", card_id=card.id)
                back.direction = "out"
                task.result_call_id = back.id
        # A secretary message's callback is not one asked from the queue; nor is October's.
        other = await add_card(s, orgs, "tfoms", received=local(2026, 11, 3, 20, 0),
                               appeal_type="consultation", topic="4.2", status="in_work")
        await add_callback(s, other, due=local(2026, 11, 5, 9, 0), status="pending")
        before = await add_card(s, orgs, "tfoms", received=local(2026, 10, 31, 23, 0),
                                appeal_type="consultation", topic="4.2", status="in_work")
        october = await add_callback(s, before, due=local(2026, 11, 1, 9, 0), status="pending")
        october.origin, october.asked_at = "queue", local(2026, 10, 31, 23, 0)
    async with unit_of_work(sessions) as s:
        [row] = await queue_callback_stats(s, NOV)
        assert await queue_callback_stats(s, NOV, orgs["sogaz"]) == []
    assert (row.organization_id, row.asked, row.made, row.pending) == (orgs["tfoms"], 5, 3, 2)
    assert (row.median_seconds, row.p90_seconds) == (600.0, 1560.0)
    assert row.values("ТФОМС") == ["ТФОМС", 5, 3, 2, 10.0, 26.0]
    wb = Workbook()
    add_queue_callbacks_sheet(wb, "Обратные звонки, заказанные из очереди, за ноябрь 2026",
                              [row], {orgs["tfoms"]: "ТФОМС Алтайского края"})
    sheet = wb["из очереди"]
    assert [c.value for c in sheet[3]] == [
        "организация", "заказано из очереди", "перезвонили", "ждут звонка",
        "перезвон через, медиана, мин", "перезвон через, 90-й процентиль, мин"]
    assert [c.value for c in sheet[4]] == ["ТФОМС Алтайского края", 5, 3, 2, 10.0, 26.0]
