"""Form ПГ tables 1.1 and 1.2 on a hand-counted journal of the third quarter of 2026."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.errors import Forbidden
from journal.reports.export import FIRST_DATA_ROW, HEADER_ROW, pg_workbook, write_pg_csv
from journal.reports.period import parse_period
from journal.reports.pg import Cell, PgReport, pg_report
from journal.db import unit_of_work
from tests.support.journal import People
from tests.support.report_data import ZONE, add_card, local

Q3 = parse_period("2026Q3", ZONE)


async def seed(sessions: async_sessionmaker[AsyncSession], orgs: dict[str, int]) -> None:
    """Eight appeals in the quarter (hand-counted below) and five cards that must not count."""
    async with unit_of_work(sessions) as s:
        # tfoms: 3 appeals; the complaint was forwarded to sogaz and still counts for tfoms only
        await add_card(s, orgs, "tfoms", received=local(2026, 7, 10, 9), appeal_type="consultation",
                       topic="4.1.1", status="in_work")
        await add_card(s, orgs, "tfoms", received=local(2026, 8, 3, 12), appeal_type="statement",
                       topic="3.2.1", form="written")
        await add_card(s, orgs, "tfoms", received=local(2026, 9, 15, 10), appeal_type="complaint",
                       reasons=("11", "13.1"), justified=True, holder="sogaz")
        # sogaz: 4 appeals; one received 00:30 local on 1 July (still 30 June in UTC)
        await add_card(s, orgs, "sogaz", received=local(2026, 7, 2, 9), appeal_type="complaint",
                       reasons=("4.1", "4.2"), justified=False)
        await add_card(s, orgs, "sogaz", received=local(2026, 7, 20, 9), appeal_type="complaint",
                       form="written", reasons=("11",), justified=True)
        await add_card(s, orgs, "sogaz", received=local(2026, 8, 20, 9), appeal_type="consultation",
                       topic="4.12.1")
        await add_card(s, orgs, "sogaz", received=local(2026, 7, 1, 0, 30), appeal_type="consultation",
                       topic="4.2")
        # kapital: 1 proposal
        await add_card(s, orgs, "kapital", received=local(2026, 9, 1, 9), appeal_type="proposal",
                       topic="5")
        # Not counted: a draft, a cancelled card, before and after the quarter in local time
        await add_card(s, orgs, "tfoms", received=local(2026, 8, 1, 9), appeal_type="consultation",
                       topic="4.2", status="draft")
        await add_card(s, orgs, "tfoms", received=local(2026, 8, 1, 9), appeal_type="consultation",
                       topic="4.2", status="cancelled")
        await add_card(s, orgs, "tfoms", received=local(2026, 6, 30, 23, 30),
                       appeal_type="consultation", topic="4.2")
        await add_card(s, orgs, "tfoms", received=local(2026, 10, 1, 0, 10),
                       appeal_type="consultation", topic="4.2")  # 30 Sept in UTC
        await add_card(s, orgs, "alfa", received=local(2026, 10, 5, 9), appeal_type="complaint",
                       reasons=("11",), justified=True)


async def build(sessions, actor, org_id=None) -> PgReport:
    async with unit_of_work(sessions) as s:
        return await pg_report(s, actor, Q3, org_id)


async def test_table_1_1_counts_by_type_topic_org_and_form(sessions, people: People) -> None:
    """Rows include their sub-codes; a forwarded card counts once, for its receiver."""
    await seed(sessions, people.orgs)
    report = await build(sessions, people.admin)
    tf, sg, kp, al = (people.orgs[c] for c in ("tfoms", "sogaz", "kapital", "alfa"))
    assert [o.code for o in report.organizations] == ["tfoms", "alfa", "kapital", "sogaz"]
    total = report.row("1.1", "1")
    assert total.all == Cell(total=8, oral=6, written=2, justified=2)
    assert total.cell(tf) == Cell(total=3, oral=2, written=1, justified=1)
    assert total.cell(sg) == Cell(total=4, oral=3, written=1, justified=1)
    assert total.cell(kp) == Cell(total=1, oral=1, written=0, justified=0)
    assert total.cell(al) == Cell()
    complaints = report.row("1.1", "2")
    assert complaints.all == Cell(total=3, oral=2, written=1, justified=2)
    assert complaints.cell(tf) == Cell(total=1, oral=1, written=0, justified=1)
    assert complaints.cell(sg) == Cell(total=2, oral=1, written=1, justified=1)
    expected_all = {"3": 1, "3.2": 1, "3.2.1": 1, "3.2.2": 0, "4": 3, "4.1": 1, "4.1.1": 1,
                    "4.2": 1, "4.12": 1, "4.12.1": 1, "4.14": 0, "5": 1}
    assert {code: report.row("1.1", code).all.total for code in expected_all} == expected_all
    assert report.row("1.1", "3").cell(tf) == Cell(total=1, oral=0, written=1, justified=0)
    assert report.row("1.1", "4").cell(sg).total == 2
    assert report.row("1.1", "5").cell(kp).total == 1


async def test_table_1_2_counts_each_reason_once_per_complaint(sessions, people: People) -> None:
    await seed(sessions, people.orgs)
    report = await build(sessions, people.admin)
    tf, sg = people.orgs["tfoms"], people.orgs["sogaz"]
    got = {r.code: (r.all.total, r.all.justified) for r in report.table_1_2 if r.all.total}
    assert got == {"4": (1, 0), "4.1": (1, 0), "4.2": (1, 0), "11": (2, 2), "13": (1, 1),
                   "13.1": (1, 1)}
    assert report.row("1.2", "11").cell(tf) == Cell(total=1, oral=1, written=0, justified=1)
    assert report.row("1.2", "11").cell(sg) == Cell(total=1, oral=0, written=1, justified=1)


async def test_staff_see_their_own_organization_only(sessions, people: People) -> None:
    """The insurer holding the forwarded complaint does not get it in its figures."""
    await seed(sessions, people.orgs)
    sg = people.orgs["sogaz"]
    report = await build(sessions, people.sogaz_op)
    assert [o.code for o in report.organizations] == ["sogaz"]
    assert report.row("1.1", "1").all == Cell(total=4, oral=3, written=1, justified=1)
    assert report.row("1.2", "13").all.total == 0
    assert (await build(sessions, people.sogaz_op, sg)).row("1.1", "1").all.total == 4
    with pytest.raises(Forbidden):
        await build(sessions, people.sogaz_op, people.orgs["tfoms"])
    with pytest.raises(Forbidden):
        await build(sessions, people.sysadmin)


async def test_admin_may_ask_for_one_organization(sessions, people: People) -> None:
    await seed(sessions, people.orgs)
    report = await build(sessions, people.admin, people.orgs["tfoms"])
    assert [o.code for o in report.organizations] == ["tfoms"]
    assert report.row("1.1", "1").all.total == 3


async def test_xlsx_has_the_form_layout_and_numbers(sessions, people: People, tmp_path) -> None:
    await seed(sessions, people.orgs)
    report = await build(sessions, people.admin)
    path = tmp_path / "pg.xlsx"
    pg_workbook(report).save(path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["1.1", "1.2"]
    ws = wb["1.1"]
    assert "Таблица 1.1" in ws["A1"].value and "III квартал 2026" in ws["A2"].value
    assert ws.cell(HEADER_ROW, 1).value == "Код"
    groups = [ws.cell(HEADER_ROW, c).value for c in range(3, 3 + 4 * 5, 4)]
    assert groups[0] == "Всего" and groups[1] == "ТФОМС Алтайского края"
    assert [ws.cell(HEADER_ROW + 1, c).value for c in range(3, 7)] == [
        "всего", "устно", "письменно", "обоснованных"]
    codes = [ws.cell(r, 1).value for r in range(FIRST_DATA_ROW, ws.max_row + 1)]
    assert codes[:3] == ["1", "2", "3"] and "4.12.1" in codes
    row2 = FIRST_DATA_ROW + codes.index("2")
    assert [ws.cell(row2, c).value for c in range(3, 11)] == [3, 2, 1, 2, 1, 1, 0, 1]
    ws12 = wb["1.2"]
    codes12 = [ws12.cell(r, 1).value for r in range(FIRST_DATA_ROW, ws12.max_row + 1)]
    row11 = FIRST_DATA_ROW + codes12.index("11")
    assert [ws12.cell(row11, c).value for c in range(3, 7)] == [2, 2, 1, 1]


async def test_csv_long_format(sessions, people: People) -> None:
    await seed(sessions, people.orgs)
    out = io.StringIO()
    write_pg_csv(await build(sessions, people.admin), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "table,code,title,organization,total,oral,written,justified"
    assert "1.1,1,Всего обращений,all,8,6,2,2" in lines
    assert "1.1,2,Жалобы,sogaz,2,1,1,1" in lines
