"""The live figures and alerts on the board, and the wallboard, in a real headless Chromium
against the whole service and the PBX simulator. Screenshots at 1366×768 and 1920×1080 go to
test-output/screenshots/ (board-figures-*, wallboard-*, alerts-page-*)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hotline.keys import ALERTS, FIGURES
from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import CallbackTask, Card, CallbackStatus
from journal.users import add_user
from tests.support.admin_pages import signed_in
from tests.support.browser import PASSWORD
from tests.support.screens import shots
from tests.support.service import FUND_LINE, settle


async def overdue_callback(app) -> int:
    """A pending callback of a fund card, due an hour ago."""
    async with unit_of_work(app[SESSIONS]) as db:
        card = await db.scalar(select(Card).order_by(Card.id.desc()).limit(1))
        task = CallbackTask(card_id=card.id, organization_id=card.organization_id,
                            contact_phone="79130000000", due_at=datetime.now(UTC) - timedelta(hours=1),
                            status=CallbackStatus.PENDING, attempts=0, created_at=datetime.now(UTC))
        db.add(task)
        await db.flush()
        return task.id


async def test_the_board_shows_figures_and_an_alert_with_a_sound_then_its_clear(
    pbx_service, sim, open_as
) -> None:
    """Calls through the simulator reach the figures panel; an overdue callback raises the
    alert (banner, a tone), is kept in the journal, and clears when the callback is done."""
    app = pbx_service.server.app
    app[ALERTS].rules.settings = app[ALERTS].rules.settings.model_copy(
        update={"clear_after_seconds": 0})
    page = await signed_in(open_as, pbx_service, "admin", "/admin/board")
    for number, scenario in (("79130000011", "answered"), ("79130000012", "abandoned"),
                             ("79130000013", "answered")):
        sim.place_call(FUND_LINE, number, "Петрова Анна", scenario)
    await settle(sim, app)
    center = page.locator("[data-testid=figures-row][data-kind=center]")
    # The board's snapshot comes every second: one taken while the calls still waited shows
    # them arrived and none answered yet; wait for the one with the answers too.
    await page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=figures-row][data-kind=center]');"
        " return r && r.children[3].textContent === '3' && r.children[5].textContent !== '—'; }",
        timeout=15000)
    cells = await center.locator("td").all_inner_texts()
    assert cells[2] == "3" and cells[3] != "—" and cells[4] != "—"  # arrived, service level, ASA
    assert await page.locator(f"[data-testid=figures-row][data-code='{FUND_LINE}']").count() == 1
    await page.click("[data-testid=window-m15]")
    assert (await center.locator("td").all_inner_texts())[2] == "3"
    await page.click("summary")
    await page.locator("[data-testid=operator-day]").first.wait_for()
    task = await overdue_callback(app)
    await app[FIGURES].refresh_callbacks()
    app[FIGURES].tick()
    banner = page.locator("[data-testid=alert][data-kind=callback_overdue]")
    await banner.wait_for(timeout=10000)
    assert "просрочено: 1" in await banner.inner_text()
    await shots(page, "board-figures")
    await page.click("[data-testid=alert-sound]")  # mute: remembered, and the button says so
    assert "выключен" in await page.locator("[data-testid=alert-sound]").inner_text()
    async with unit_of_work(app[SESSIONS]) as db:
        await db.execute(update(CallbackTask).where(CallbackTask.id == task).values(
            status=CallbackStatus.DONE, done_at=datetime.now(UTC)))
    await app[FIGURES].refresh_callbacks()
    app[FIGURES].tick()
    await page.locator("[data-testid=alert-banner]").wait_for(state="hidden", timeout=10000)
    await app[ALERTS].drained()
    alerts_page = await signed_in(open_as, pbx_service, "admin", "/admin/alerts")
    row = alerts_page.locator("[data-testid=alert-row][data-kind=callback_overdue]")
    assert "снято" in await row.first.inner_text()
    await shots(alerts_page, "alerts-page")


async def test_the_wallboard_shows_big_figures_and_alerts_and_nothing_personal(
    pbx_service, sim, open_as
) -> None:
    """The wallboard account lands on /board/wall, sees the figures and the alert, no number
    and no name, and is refused the journal."""
    app = pbx_service.server.app
    async with unit_of_work(app[SESSIONS]) as db:
        await add_user(db, login="wall", password=PASSWORD, full_name="Табло зала",
                       role="wallboard", organization_code="tfoms")
    sim.place_call(FUND_LINE, "79130000021", "Петрова Анна", "answered")
    await settle(sim, app)
    page = await open_as(pbx_service, "wall", "/")
    await page.wait_for_url("**/board/wall")
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=w-arrived]').textContent === '1'", timeout=15000)
    await overdue_callback(app)
    await app[FIGURES].refresh_callbacks()
    app[FIGURES].tick()
    await page.locator("[data-testid=alert]").first.wait_for(timeout=10000)
    text = await page.inner_text("body")
    assert "79130000021" not in text and "Петрова" not in text and "PJSIP" not in text
    assert await page.locator("[data-testid=wall-line]").count() == 4
    await shots(page, "wallboard")
    refused = await page.goto("/admin/cards")
    assert refused.status == 403
    answer = await page.evaluate("fetch('/api/v1/cards').then(r => r.status)")
    assert answer == 403
