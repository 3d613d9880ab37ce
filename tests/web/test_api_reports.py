"""`GET /api/v1/reports/digest`: the morning digest, each organization's staff seeing their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from hotline.web.keys import DIGEST, SESSIONS
from journal.db import unit_of_work
from journal.models import Card
from tests.web.conftest import Api


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
