"""`GET /api/v1/reports/digest`: the morning digest, each organization's staff seeing their own."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import update

from hotline.web.keys import SESSIONS
from hotline.keys import DIGEST
from journal.db import unit_of_work
from journal.models import Card
from tests.support.api import Api


async def _due(api: Api, card_id: int, days: int) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul")).date()
    async with unit_of_work(api.app[SESSIONS]) as s:
        await s.execute(update(Card).where(Card.id == card_id)
                        .values(due_date=today + timedelta(days=days)))


async def test_digest_per_organization_and_access(api: Api) -> None:
    """An overdue fund card and a sogaz card due in two days; the digest is built on demand
    the first time (the service started after this morning's run) and kept."""
    fund = await api.written_card("fund-op")
    sogaz = await api.written_card("sogaz-op")
    await _due(api, fund.id, -1)
    await _due(api, sogaz.id, 2)
    await api.add_user("root", "tfoms", role="sysadmin")

    await api.login("admin")
    body = await api.call("GET", "/api/v1/reports/digest")
    assert body["within_days"] == 3
    orgs = {o["organization"]: o for o in body["organizations"]}
    assert sorted(orgs) == ["sogaz", "tfoms"]
    assert [(c["number"], c["overdue"]) for c in orgs["tfoms"]["cards"]] == [(fund.number, True)]
    assert orgs["tfoms"]["cards_overdue"] == 1 and orgs["sogaz"]["cards_overdue"] == 0
    assert api.app[DIGEST].latest is not None

    await api.login("sogaz-op")
    mine = await api.call("GET", "/api/v1/reports/digest")
    assert [o["organization"] for o in mine["organizations"]] == ["sogaz"]
    assert mine["built_at"] == body["built_at"]  # the kept digest, not a new one

    await api.login("root")
    denied = await api.call("GET", "/api/v1/reports/digest", expect=403)
    assert denied["error"]["code"] == "forbidden"


async def test_reports_as_json_xlsx_and_csv(api: Api) -> None:
    """A complaint received by the fund this quarter: the administrator's ПГ form counts it in
    every format; sogaz's staff get their own (empty) column and are refused the fund's."""
    card = await api.written_card("fund-op")
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul"))
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    async with unit_of_work(api.app[SESSIONS]) as s:
        await s.execute(update(Card).where(Card.id == card.id).values(
            status="in_work", appeal_type="complaint", justified=True))

    await api.login("admin")
    body = await api.call("GET", f"/api/v1/reports/pg?period={quarter}")
    assert body["period"]["label"] == quarter
    total = next(r for r in body["table_1_1"] if r["code"] == "2")
    assert total["all"] == {"total": 1, "oral": 0, "written": 1, "justified": 1}
    assert total["organizations"]["tfoms"]["total"] == 1

    resp = await api.client.get(f"/api/v1/reports/pg?period={quarter}&format=xlsx")
    assert resp.status == 200 and resp.content_type.startswith("application/vnd.openxmlformats")
    assert f'filename="pg-{quarter}.xlsx"' in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(await resp.read()))["1.1"]
    assert ws.cell(7, 1).value == "2" and ws.cell(7, 3).value == 1

    resp = await api.client.get(f"/api/v1/reports/pg?period={quarter}&format=csv")
    text = (await resp.read()).decode("utf-8-sig")
    assert "1.1,2,Жалобы,tfoms,1,0,1,1" in text.splitlines()

    calls = await api.call("GET", f"/api/v1/reports/calls?period={quarter}")
    assert list(calls["sections"]) == ["итого", "линии", "организации", "операторы", "часы", "дни недели"]
    quality = await api.call("GET", f"/api/v1/reports/quality?period={quarter}&by=week")
    assert quality["by"] == "week" and quality["scores"] == []
    due = await api.call("GET", "/api/v1/reports/deadlines?within=60")
    assert [o["organization"] for o in due["organizations"]] == ["tfoms"]

    await api.login("sogaz-op")
    mine = await api.call("GET", f"/api/v1/reports/pg?period={quarter}")
    assert [o["code"] for o in mine["organizations"]] == ["sogaz"]
    assert next(r for r in mine["table_1_1"] if r["code"] == "2")["all"]["total"] == 0
    await api.call("GET", f"/api/v1/reports/pg?period={quarter}&org=tfoms", expect=403)
    bad = await api.call("GET", "/api/v1/reports/pg?period=2026Q5", expect=422)
    assert bad["error"]["code"] == "invalid_input"
