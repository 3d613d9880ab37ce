"""Operator quality in the third quarter of 2026: evaluation sheets seeded, figures hand-counted.

The evaluation sheet itself is another feature; here evaluations are written straight into
the tables, as the sheet will store them.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.errors import Forbidden
from journal.models import Evaluation, EvaluationScore
from journal.reports.export import FIRST_DATA_ROW, HEADER_ROW, quality_workbook, write_quality_csv
from journal.reports.period import parse_period
from journal.reports.quality import Bucket, QualityReport, Score, quality_report
from journal.db import unit_of_work
from tests.support.journal import People
from tests.support.report_data import ZONE, add_call, local

Q3 = parse_period("2026Q3", ZONE)
FUND, SOGAZ = "88007758565", "88002009204"


async def evaluate(s: AsyncSession, people: People, operator, at: datetime, total: float,
                   **scores: int) -> None:
    org = "tfoms" if operator is people.tfoms_op else "sogaz"
    call = await add_call(s, people.orgs, org, FUND if org == "tfoms" else SOGAZ, at, "answered",
                          queue_wait_seconds=10, talk_seconds=100, answered_by_id=operator.user_id)
    s.add(Evaluation(call_id=call.id, operator_id=operator.user_id, evaluator_id=people.admin.user_id,
                     at=at, total=total,
                     scores=[EvaluationScore(criterion=k, score=v) for k, v in scores.items()]))
    await s.flush()


async def seed(sessions: async_sessionmaker[AsyncSession], people: People) -> None:
    tf, sg = people.tfoms_op, people.sogaz_op
    async with unit_of_work(sessions) as s:
        await evaluate(s, people, tf, local(2026, 7, 6, 10), 4.0, greeting=5, accuracy=3)
        await evaluate(s, people, tf, local(2026, 7, 20, 10), 3.0, greeting=4, accuracy=2)
        await evaluate(s, people, tf, local(2026, 8, 3, 10), 5.0, greeting=5, accuracy=5)
        # 00:30 local on 1 July is still 30 June in UTC: July's; 23:30 on 31 July too
        await evaluate(s, people, sg, local(2026, 7, 1, 0, 30), 4.0, greeting=4)
        await evaluate(s, people, sg, local(2026, 7, 31, 23, 30), 2.0, greeting=1, accuracy=3)
        # outside the quarter in local time
        await evaluate(s, people, sg, local(2026, 6, 30, 23, 0), 1.0, greeting=1)
        await evaluate(s, people, tf, local(2026, 10, 1, 0, 30), 1.0, greeting=1)


async def build(sessions, actor, org=None, bucket=Bucket.MONTH) -> QualityReport:
    async with unit_of_work(sessions) as s:
        return await quality_report(s, actor, Q3, org, bucket=bucket)


async def test_by_month_per_operator_and_criterion(sessions, people: People) -> None:
    await seed(sessions, people)
    report = await build(sessions, people.admin)
    tf, sg = people.tfoms_op.user_id, people.sogaz_op.user_id
    jul, aug = date(2026, 7, 1), date(2026, 8, 1)
    assert report.buckets == [jul, aug]
    assert report.criteria == ["accuracy", "greeting"]
    assert [o.id for o in report.operators] == [sg, tf]  # by organization code
    assert report.score(jul, tf) == Score(2, 3.5)
    assert report.score(jul, tf, "greeting") == Score(2, 4.5)
    assert report.score(jul, tf, "accuracy") == Score(2, 2.5)
    assert report.score(aug, tf) == Score(1, 5.0)
    assert report.score(None, tf) == Score(3, 4.0)
    assert report.score(None, tf, "greeting") == Score(3, 4.67)  # 14 / 3
    assert report.score(None, tf, "accuracy") == Score(3, 3.33)  # 10 / 3
    assert report.score(jul, sg) == Score(2, 3.0)
    assert report.score(jul, sg, "greeting") == Score(2, 2.5)
    assert report.score(jul, sg, "accuracy") == Score(1, 3.0)
    assert report.score(aug, sg) == Score(0, None)
    assert report.score(jul) == Score(4, 3.25)  # every operator: (4 + 3 + 4 + 2) / 4
    assert report.score() == Score(5, 3.6)
    assert report.score(None, None, "greeting") == Score(5, 3.8)  # (5 + 4 + 5 + 4 + 1) / 5


async def test_by_week(sessions, people: People) -> None:
    """Weeks are labelled by their Monday: 1 July (a Wednesday) is in the week of 29 June."""
    await seed(sessions, people)
    report = await build(sessions, people.admin, bucket=Bucket.WEEK)
    assert {b: report.score(b).count for b in report.buckets} == {
        date(2026, 6, 29): 1, date(2026, 7, 6): 1, date(2026, 7, 20): 1,
        date(2026, 7, 27): 1, date(2026, 8, 3): 1}
    assert report.score(date(2026, 7, 27), people.sogaz_op.user_id) == Score(1, 2.0)


async def test_staff_see_their_own_operators(sessions, people: People) -> None:
    await seed(sessions, people)
    report = await build(sessions, people.sogaz_op2)
    assert [o.id for o in report.operators] == [people.sogaz_op.user_id]
    assert report.score() == Score(2, 3.0)
    assert report.score(None, people.tfoms_op.user_id) == Score(0, None)
    with pytest.raises(Forbidden):
        await build(sessions, people.sogaz_op, people.orgs["tfoms"])


async def test_xlsx_and_csv(sessions, people: People) -> None:
    await seed(sessions, people)
    report = await build(sessions, people.admin)
    ws = quality_workbook(report, {"accuracy": "Правильность и полнота ответа"})["Качество"]
    assert [ws.cell(HEADER_ROW, c).value for c in (4, 6, 8)] == ["июль 2026", "август 2026",
                                                                  "За период"]
    first = FIRST_DATA_ROW  # sg1: total, accuracy, greeting; then tf1; then everyone
    assert [ws.cell(first, c).value for c in range(1, 10)] == [
        "sg1", "sogaz", "Итог листа оценки", 2, 3.0, 0, None, 2, 3.0]
    assert [ws.cell(first + 4, c).value for c in (1, 3, 4, 5, 8, 9)] == [
        "tf1", "Правильность и полнота ответа", 2, 2.5, 3, 3.33]
    assert [ws.cell(first + 6, c).value for c in (1, 3, 8, 9)] == [
        "Все операторы", "Итог листа оценки", 5, 3.6]
    out = io.StringIO()
    write_quality_csv(report, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "period,operator_id,operator,organization,criterion,evaluations,average"
    assert f"2026-07-01,{people.tfoms_op.user_id},tf1,tfoms,greeting,2,4.5" in lines
    assert "period,all,Все операторы,,total,5,3.6" in lines
    buf = io.BytesIO()
    quality_workbook(report).save(buf)
    assert load_workbook(buf)["Качество"].cell(first + 6, 9).value == 3.6
