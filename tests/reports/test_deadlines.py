"""Deadlines on 23 November 2026: overdue and soon-due cards, callbacks not yet made."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from structlog.testing import capture_logs

from hotline.reports.digest import morning_digest
from journal.errors import Forbidden
from journal.reports.deadlines import deadlines
from journal.db import unit_of_work
from tests.support.report_data import local
from tests.support.deadlines import seed

TODAY = date(2026, 11, 23)
NOW = local(2026, 11, 23, 8, 0).astimezone(UTC)




async def test_deadlines_per_current_organization(sessions, people) -> None:
    await seed(sessions, people.orgs)
    async with unit_of_work(sessions) as s:
        orgs = await deadlines(s, people.admin, TODAY, NOW, within_days=3)
    got = {o.organization_code: o for o in orgs}
    assert sorted(got) == ["kapital", "sogaz", "tfoms"]
    assert [(c.due_date, c.overdue) for c in got["tfoms"].cards] == [(date(2026, 11, 20), True)]
    assert [(c.due_date, c.overdue) for c in got["kapital"].cards] == [(date(2026, 11, 23), False)]
    assert [c.due_date for c in got["sogaz"].cards] == [date(2026, 11, 26)]
    assert [(cb.status, cb.overdue) for cb in got["sogaz"].callbacks] == [
        ("pending", True), ("failed", False)]
    assert got["sogaz"].overdue_callbacks == 1 and got["tfoms"].overdue_cards == 1


async def test_staff_see_their_own_deadlines(sessions, people) -> None:
    await seed(sessions, people.orgs)
    async with unit_of_work(sessions) as s:
        orgs = await deadlines(s, people.kapital_op, TODAY, NOW, within_days=0)
        assert [o.organization_code for o in orgs] == ["kapital"]
        with pytest.raises(Forbidden):
            await deadlines(s, people.kapital_op, TODAY, NOW, organization_id=people.orgs["tfoms"])


async def test_morning_digest_logs_one_event_per_organization(sessions, people, settings) -> None:
    await seed(sessions, people.orgs)
    with capture_logs() as logs:
        orgs = await morning_digest(sessions, settings, now=NOW)
    assert len(orgs) == 3
    events = {e["organization"]: e for e in logs if e["event"] == "deadline_digest"}
    assert events["sogaz"]["cards_due"] == 1 and events["sogaz"]["callbacks_overdue"] == 1
    assert events["tfoms"]["cards_overdue"] == 1
