"""The administrator's day (issue 16): a registered written appeal is under consideration,
and a card that is not closed can be corrected, with the reason in its history."""

from __future__ import annotations

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.models import Card
from tests.browser.screens import shots
from tests.browser.test_admin import signed_in


async def test_a_written_appeal_is_registered_in_work_and_corrected_with_history(
    web_service, open_as
) -> None:
    page = await signed_in(open_as, web_service, "admin", "/admin/written")
    await page.locator("select[name=topic_code] option[value='4.1']").wait_for(state="attached")
    await page.select_option("select[name=appeal_type]", "consultation")
    await page.select_option("select[name=topic_code]", "4.1")
    await page.fill("input[name=applicant_name]", "Соколова Вера Андреевна")
    await page.fill("textarea[name=content]", "Прошу разъяснить порядок замены полиса")
    await page.click("[data-testid=register]")
    status = page.locator("[data-testid=written-status]")
    await status.wait_for()
    assert await status.inner_text() == "в работе (на рассмотрении)"
    number = await page.inner_text("[data-testid=written-number]")
    async with web_service.server.app[SESSIONS]() as session:
        card = await session.scalar(select(Card).where(Card.number == number))
    assert card.status == "in_work"

    await page.click("[data-testid=open-written]")
    await page.locator("[data-testid=action-correct]").click()
    await page.select_option("[data-testid=correct-field]", "topic_code")
    await page.select_option("[data-testid=correct-value]", "4.2")
    await page.fill("[data-testid=correct-reason]", "Ошибка при регистрации")
    await shots(page, "admin-card-correct")
    await page.click("[data-testid=confirm]")
    await page.locator("[data-field=topic_code] dd", has_text="4.2").wait_for()
    row = page.locator("[data-testid=history-row]").first
    await row.locator("td", has_text="Исправление").wait_for()
    text = await row.inner_text()
    assert "Тематика: 4.1" in text and "→ 4.2" in text and "Ошибка при регистрации" in text
    async with web_service.server.app[SESSIONS]() as session:
        assert (await session.get(Card, card.id)).topic_code == "4.2"
    await shots(page, "admin-card-corrected")
