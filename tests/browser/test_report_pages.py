"""The administrator's report pages in the browser: filters, tabs, inline charts, downloads."""

from __future__ import annotations

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Evaluation, EvaluationScore, Organization, User
from tests.support.browser import shot
from tests.support.report_data import add_call, local

SOGAZ = "88002009204"


async def seed_calls(app) -> None:
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


async def seed_evaluations(app) -> None:
    """Two sheets on op101's calls, in January (70 %) and February (90 %) 2026."""
    async with unit_of_work(app[SESSIONS]) as s:
        orgs = dict((await s.execute(select(Organization.code, Organization.id))).all())
        users = dict((await s.execute(select(User.login, User.id))).all())
        for month, total, greeting in ((1, 70.0, 1), (2, 90.0, 2)):
            call = await add_call(s, orgs, "tfoms", "88007758565", local(2026, month, 20, 10), "answered",
                                  queue_wait_seconds=5, talk_seconds=60, answered_by_id=users["op101"])
            s.add(Evaluation(call_id=call.id, operator_id=users["op101"], evaluator_id=users["admin"],
                             at=local(2026, month, 21, 10), total=total,
                             scores=[EvaluationScore(criterion="greeting", score=greeting)]))


async def test_quality_over_time_is_a_line_per_operator(open_as, web_service) -> None:
    await seed_evaluations(web_service.server.app)
    page = await open_as(web_service, "admin", "/admin/reports")
    await page.goto("/admin/reports?report=quality&period=2026Q1")
    await page.locator("[data-testid=report-quality]").wait_for()
    table = await page.locator("[data-testid=quality-table]").inner_text()
    assert "Иванова Мария" in table and "Приветствие и представление по стандарту" in table
    chart = await page.locator("[data-testid=report-quality] svg").inner_html()
    assert "январь 2026" in chart and "февраль 2026" in chart and ">70<" in chart and ">90<" in chart
    await shot(page, "reports-quality")


async def test_the_administrator_picks_a_period_and_an_organization(open_as, web_service) -> None:
    await seed_calls(web_service.server.app)
    page = await open_as(web_service, "admin", "/admin/reports")
    await page.locator("[data-testid=report-pg]").wait_for()
    assert await page.locator("[data-testid=report-pg] table").count() == 2
    assert await page.locator("[data-testid=report-pg] svg").count() == 0  # no appeal yet
    await shot(page, "reports-pg")
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
