"""`/admin/reports`: the administrator's report pages, server-rendered with inline SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Card
from tests.support.api import Api
from tests.support.report_pages import page

SVG = "http://www.w3.org/2000/svg"


def charts(html: str) -> list[ET.Element]:
    """Every inline <svg> of the page, parsed on its own."""
    out, rest = [], html
    while "<svg " in rest:
        start = rest.index("<svg ")
        end = rest.index("</svg>", start) + len("</svg>")
        out.append(ET.fromstring(rest[start:end]))
        rest = rest[end:]
    return out




async def test_pg_page_has_the_tables_a_chart_and_downloads(api: Api) -> None:
    card = await api.written_card("fund-op")
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul"))
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    async with unit_of_work(api.app[SESSIONS]) as s:
        await s.execute(update(Card).where(Card.id == card.id).values(
            status="in_work", appeal_type="complaint", justified=True,
            due_date=now.date() - timedelta(days=1)))
    await api.login("admin")
    html = await page(api, f"/admin/reports?report=pg&period={quarter}")
    assert "Таблица 1.1. Обращения граждан по видам и кодам тематики" in html
    assert 'data-testid="pg-1"' in html and 'data-testid="pg-2"' in html
    assert f'href="/api/v1/reports/pg?period={quarter}&amp;format=xlsx"' in html
    svgs = charts(html)
    assert len(svgs) == 2
    labels = [t.text for t in svgs[0].iter(f"{{{SVG}}}text")]
    assert "2. Жалобы" in labels and "1" in labels  # the complaint, its count on the bar

    html = await page(api, f"/admin/reports?report=calls&period={quarter}&org=tfoms")
    assert "Звонков за период нет." in html and charts(html) == []  # no call in this journal

    html = await page(api, "/admin/reports?report=deadlines")
    assert card.number in html and "(просрочено)" in html and len(charts(html)) == 1

    html = await page(api, f"/admin/reports?report=quality&period={quarter}&by=week")
    assert "За период оценок нет." in html
    assert 'href="/api/v1/reports/quality?period=' in html

    bad = await page(api, "/admin/reports?period=2026Q9", expect=422)
    assert "Период «2026Q9» не распознан" in bad


async def test_operators_do_not_get_the_report_pages(api: Api) -> None:
    await api.login("fund-op")
    html = await page(api, "/admin/reports", expect=403)
    assert "Доступ запрещён" in html
    api.client.session.cookie_jar.clear()
    resp = await api.client.get("/admin/reports", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login?next=")
