"""An operator's shift beyond one call (issue 16): signing in while the phone already rings
or talks gets that call's pop; what a card needs before it moves on is shown beside its
fields before the click; the morning's callbacks are a live queue."""

from __future__ import annotations

import asyncio

from hotline.web.keys import TELEPHONY
from tests.browser.screens import shots
from tests.browser.test_operator import (
    CITIZEN, CITIZEN_SHOWN, LONG_TALK, _add_scripts, _card_of_call, _live, _written_card,
)
from tests.test_service_with_pbx import FUND_LINE


async def _call_at(client, interface: str, state: str) -> str:  # noqa: ANN001
    """The PBX call id of the call whose state at `interface` is `state` (waited for)."""
    tracker = client.server.app[TELEPHONY].tracker
    async with asyncio.timeout(10):
        while True:
            for snap in tracker.calls():
                if snap.state == state and (
                    state != "talking" or snap.current_operator == interface
                ):
                    return snap.call_id
            await asyncio.sleep(0.02)


async def test_signing_in_while_the_phone_rings_or_talks_pops_the_call(
    pbx_service, sim, open_as
) -> None:
    """op101's phone rings before op101 has signed in: the workspace opens with the call's
    card, the caller's earlier card and the scripts, «Звонит…»; op101 answers and opens a
    second browser mid-talk: that one shows the same card, talking, without a ringing flash."""
    earlier = await _written_card(pbx_service, "op101", applicant_name="Петрова Анна",
                                  applicant_phone=CITIZEN, content="Вопрос о полисе")
    await _add_scripts(pbx_service)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    await _call_at(pbx_service, "PJSIP/op101", "ringing")

    page = await open_as(pbx_service, "op101", "/operator")
    await _live(page)
    number = page.locator("[data-testid=card-number]")
    await number.wait_for(state="visible")
    card = await _card_of_call(pbx_service, CITIZEN)
    assert await number.inner_text() == f"РКК {card.number}"
    assert await page.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    assert await page.inner_text("[data-testid=call-progress]") == "Звонит…"
    await page.locator("#earlier-list li", has_text=earlier.number).wait_for()
    assert await page.locator("#script-list details").count() == 2
    await shots(page, "operator-signed-in-while-ringing")

    assert sim.answer("PJSIP/op101")
    await page.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    second = await open_as(pbx_service, "op101", "/operator")
    await _live(second)
    await second.locator("[data-testid=card-number]", has_text=card.number).wait_for()
    await second.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    assert (await second.inner_text("[data-testid=call-progress]")).startswith("Разговор 0:")
    assert await second.inner_text("#call-org") == "ТФОМС Алтайского края"
    assert await second.inner_text("#call-queue") != "—"
    assert not await second.evaluate("document.getElementById('call-panel').classList.contains('ringing')")
    assert await second.locator("[data-testid=card-transfer]").is_enabled()
    await second.locator("#earlier-list li", has_text=earlier.number).wait_for()
    await shots(second, "operator-signed-in-while-talking")


async def test_what_done_and_a_registration_need_is_shown_before_the_click(
    web_service, open_as
) -> None:
    """An untouched card says beside each empty field what «Исполнено» needs; clicking
    anyway marks them and leaves the card in work; filled, the notes go and it is done. The
    written-appeal form does the same for «Зарегистрировать»: nothing is registered empty."""
    card = await _written_card(web_service, "op101", applicant_phone="+79130000001")
    page = await open_as(web_service, "op101", "/operator")
    await page.wait_for_selector("body[data-ready=true]")
    await page.locator(f"[data-testid=cards-body] tr[data-id='{card.id}']").click()
    await page.locator("[data-testid=card-number]").wait_for(state="visible")
    need = page.locator(".field-need[data-need-for=appeal_type]")
    await need.wait_for(state="visible")
    assert await need.inner_text() == "Выберите вид обращения"
    assert await page.inner_text(".field-need[data-need-for=measures_taken]") == "Заполните «Принятые меры»"
    summary = page.locator("[data-testid=complete-needs]")
    assert await summary.inner_text() == (
        "Для «Исполнено» заполните: «Вид обращения», «Тематика», «Содержание обращения», "
        "«ФИО заявителя», «Принятые меры»")
    await shots(page, "operator-done-needs")
    await page.click("[data-testid=card-complete]")
    error = page.locator(".field-error[data-error-for=topic_code]")
    await error.wait_for(state="visible")
    assert await error.inner_text() == "Выберите тематику по форме ПГ"
    assert await page.get_attribute("[data-testid=f-appeal_type]", "aria-invalid") == "true"
    assert (await page.inner_text("[data-testid=form-error]")).startswith(
        "Чтобы отметить карточку исполненной, заполните: «Вид обращения»")
    await page.select_option("[data-testid=f-appeal_type]", "consultation")
    await page.select_option("[data-testid=f-topic_code]", "4.1")
    await page.fill("[data-testid=f-content]", "Как получить полис")
    await page.check("[data-testid=f-anonymous]")
    assert await summary.inner_text() == "Для «Исполнено» заполните: «Принятые меры»"
    assert await page.is_hidden(".field-need[data-need-for=applicant_name]")
    await page.fill("[data-testid=f-measures_taken]", "Разъяснён порядок получения полиса")
    assert await summary.is_hidden()
    await page.click("[data-testid=card-complete]")
    await page.locator("[data-testid=card-head][data-status=done]").wait_for()

    admin = await open_as(web_service, "admin", "/admin/written")
    needs = admin.locator("[data-testid=register-needs]")
    await needs.wait_for(state="visible")
    assert await needs.inner_text() == (
        "Для регистрации заполните: «Вид обращения», «Тематика», «Содержание обращения», "
        "«ФИО заявителя»")
    assert await admin.inner_text(".field-need[data-need-for=content]") == "Заполните содержание обращения"
    await admin.click("[data-testid=register]")
    await admin.locator("[data-testid=form-error]").wait_for(state="visible")
    assert (await admin.inner_text("[data-testid=form-error]")).startswith(
        "Чтобы зарегистрировать обращение, заполните:")
    assert await admin.is_hidden("[data-testid=written-result]")
    await shots(admin, "admin-written-needs")
    await admin.select_option("select[name=appeal_type]", "consultation")
    await admin.select_option("select[name=topic_code]", "4.1")
    await admin.fill("textarea[name=content]", "Прошу разъяснить порядок замены полиса")
    await admin.fill("input[name=applicant_name]", "Соколова Вера Андреевна")
    assert await needs.is_hidden()
    await admin.click("[data-testid=register]")
    await admin.locator("[data-testid=written-number]").wait_for()
