"""The report pages name lines by their organization, not its code (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Call
from tests.support.service import FUND_LINE
from tests.support.api import Api
from tests.support.report_pages import page


async def test_the_calls_page_names_each_lines_organization(api: Api) -> None:
    started = datetime.now(UTC) - timedelta(minutes=30)
    async with unit_of_work(api.app[SESSIONS]) as session:
        session.add(Call(pbx_call_id="1700000000.1", direction="in", line_number=FUND_LINE,
                         caller_number="79131234567", started_at=started,
                         answered_at=started + timedelta(seconds=20),
                         ended_at=started + timedelta(minutes=3), outcome="answered"))
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul"))
    await api.login("admin")
    html = await page(api, f"/admin/reports?report=calls&period={now.year}Q{(now.month - 1) // 3 + 1}")
    assert f"{FUND_LINE} (ТФОМС Алтайского края)" in html
    assert f"{FUND_LINE} (tfoms)" not in html
