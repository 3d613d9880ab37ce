"""Cards with 59-ФЗ deadlines spread around a working day."""

from __future__ import annotations

from datetime import date

from journal.db import unit_of_work
from tests.support.report_data import add_callback, add_card, local


async def seed(sessions, orgs) -> None:
    async with unit_of_work(sessions) as s:
        def card(org: str, due: date, status: str = "in_work", holder: str | None = None):
            return add_card(s, orgs, org, received=local(2026, 10, 20, 9), appeal_type="statement",
                            form="written", topic="3.6", status=status, due=due, holder=holder)

        await card("tfoms", date(2026, 11, 20))  # overdue
        soon = await card("sogaz", date(2026, 11, 26))  # due in 3 days: listed
        await card("sogaz", date(2026, 11, 27))  # in 4 days: not yet
        await card("tfoms", date(2026, 11, 1), status="done")  # answered
        await card("tfoms", date(2026, 11, 23), holder="kapital")  # forwarded: kapital's now
        await add_callback(s, soon, due=local(2026, 11, 22, 17, 0), status="pending")
        await add_callback(s, soon, due=local(2026, 11, 24, 17, 0), status="failed")
        await add_callback(s, soon, due=local(2026, 11, 20, 17, 0), status="done",
                           done=local(2026, 11, 20, 10, 0))

