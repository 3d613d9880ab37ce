"""The morning deadline digest as a scheduled job: when it fires, what it logs and keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from structlog.testing import capture_logs

from hotline.reports.digest import DigestJob
from journal.calendar import load_calendar_dir
from tests.support.paths import REPO
from tests.support.report_data import local
from tests.support.deadlines import seed


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


@pytest.mark.parametrize(("now", "expected"), [
    # a working Monday before 8:00 → that morning
    (local(2026, 11, 16, 7, 59), local(2026, 11, 16, 8, 0)),
    # Friday after 8:00 → Monday (the weekend gets no digest)
    (local(2026, 11, 13, 9, 0), local(2026, 11, 16, 8, 0)),
    # the shortened Tuesday 3 November is a working day; 4 November is a holiday
    (local(2026, 11, 2, 12, 0), local(2026, 11, 3, 8, 0)),
    (local(2026, 11, 3, 8, 0), local(2026, 11, 5, 8, 0)),
    # the May holidays: 9 May falls on a Saturday and is moved to Monday 11 May
    (local(2026, 5, 8, 9, 0), local(2026, 5, 12, 8, 0)),
])
async def test_the_job_is_set_at_the_next_working_day_start(
    settings, calendar, now: datetime, expected: datetime
) -> None:
    job = DigestJob(settings, None, calendar, clock=Clock(now.astimezone(UTC)))  # type: ignore[arg-type]
    await job.start(paused=True)
    try:
        assert job.job is not None
        assert job.job.trigger.run_date == expected
    finally:
        await job.stop()
    assert job.job is None


async def test_a_run_logs_keeps_the_digest_and_sets_the_next_morning(
    sessions, people, settings, calendar
) -> None:
    """Monday 23 November 2026, 8:00 in Barnaul: the seeded deadlines of test_deadlines."""
    await seed(sessions, people.orgs)
    clock = Clock(local(2026, 11, 23, 8, 0).astimezone(UTC))
    job = DigestJob(settings, sessions, calendar, clock=clock)
    await job.start(paused=True)
    try:
        with capture_logs() as logs:
            await job.run()
        digest = job.latest
        assert digest is not None and digest.day == date(2026, 11, 23) and digest.within_days == 3
        got = {o.organization_code: o for o in digest.organizations}
        assert sorted(got) == ["kapital", "sogaz", "tfoms"]
        assert [c.due_date for c in got["sogaz"].cards] == [date(2026, 11, 26)]
        assert got["tfoms"].overdue_cards == 1 and got["sogaz"].overdue_callbacks == 1
        events = {e["organization"]: e for e in logs if e["event"] == "deadline_digest"}
        assert events["tfoms"]["cards_overdue"] == 1 and events["tfoms"]["day"] == "2026-11-23"
        assert events["sogaz"]["callbacks_pending"] == 2
        assert job.job.trigger.run_date == local(2026, 11, 24, 8, 0)
    finally:
        await job.stop()
