"""The administrator's report pages in the browser: filters, tabs, inline charts, downloads."""

from __future__ import annotations

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Organization
from tests.browser.conftest import shot
from tests.reports.conftest import add_call, local

SOGAZ = "88002009204"


async def seed_calls(app) -> None:  # noqa: ANN001
    """A few of sogaz's calls in January 2026: answered and abandoned at several hours."""
    async with unit_of_work(app[SESSIONS]) as s:
        orgs = dict((await s.execute(select(Organization.code, Organization.id))).all())
        for i, (day, hour, outcome, wait) in enumerate([
            (12, 9, "answered", 10), (12, 9, "answered", 25), (12, 9, "abandoned", 70),
            (13, 14, "answered", 5), (14, 14, "answered", 40), (14, 23, "abandoned", 15),
        ]):
            await add_call(s, orgs, "sogaz", SOGAZ, local(2026, 1, day, hour, i), outcome,
                           queue_wait_seconds=wait,
                           talk_seconds=120 if outcome == "answered" else None)


async def test_the_administrator_picks_a_period_and_an_organization(open_as, web_service) -> None:
    await seed_calls(web_service.server.app)
    page = await open_as(web_service, "admin", "/admin/reports")
    await page.locator("[data-testid=report-pg]").wait_for()
    assert await page.locator("[data-testid=report-pg] table").count() == 2
    assert await page.locator("[data-testid=report-pg] svg").count() == 2
    await page.select_option("[data-testid=period]", label="I квартал 2026")
    await page.select_option("[data-testid=org]", value="sogaz")
    await page.click("button[type=submit]")
    await page.wait_for_url("**period=2026Q1**")
    assert "org=sogaz" in page.url
    assert "I квартал 2026" in await page.locator("h2").first.inner_text()
    await page.click("[data-testid=tab-calls]")
    await page.wait_for_url("**report=calls**")
    await page.locator("[data-testid=report-calls]").wait_for()
    assert "period=2026Q1" in page.url and "org=sogaz" in page.url
    charts = page.locator("[data-testid=report-calls] svg")
    assert await charts.count() == 3
    hours = await charts.nth(1).inner_html()
    assert "Звонки по часам суток" in hours and ">3<" in hours  # two answered, one lost at 9-10
    assert "поступило" in await page.locator("[data-testid=calls-table]").inner_text()
    href = await page.locator("[data-testid=download-xlsx]").get_attribute("href")
    assert href == "/api/v1/reports/calls?period=2026Q1&org=sogaz&format=xlsx"
    async with page.expect_download() as info:
        await page.click("[data-testid=download-xlsx]")
    download = await info.value
    assert download.suggested_filename == "calls-2026Q1.xlsx"
    await shot(page, "reports-calls")
