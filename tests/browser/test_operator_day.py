"""An operator's shift beyond one call (issue 16): signing in while the phone already rings
or talks gets that call's pop; what a card needs before it moves on is shown beside its
fields before the click; the morning's callbacks are a live queue."""

from __future__ import annotations

import asyncio

from hotline.keys import PBX
from tests.support.screens import shots
from tests.support.workspace import CITIZEN, CITIZEN_SHOWN, LONG_TALK, _add_scripts, _card_of_call, _live, _written_card
from tests.support.service import FUND_LINE


async def _call_at(client, interface: str, state: str) -> str:
    """The PBX call id of the call whose state at `interface` is `state` (waited for)."""
    tracker = client.server.app[PBX].tracker
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
    # The agent bar is one row at a laptop's 1366 px and at 1440 px (its parts side by side).
    for width in (1366, 1440):
        await page.set_viewport_size({"width": width, "height": 768})
        centers = await page.evaluate("""() => [...document.getElementById('agent-bar').children]
            .filter((el) => el.offsetParent !== null)
            .map((el) => { const r = el.getBoundingClientRect(); return r.top + r.height / 2; })""")
        assert max(centers) - min(centers) < 4, (width, centers)
    # At 1366×768, with the pop on screen, «Принятые меры» is in sight above the sticky buttons.
    await page.set_viewport_size({"width": 1366, "height": 768})
    await page.evaluate("window.scrollTo(0, 0)")
    measures, buttons = await page.evaluate("""() => [
        document.getElementById('f-measures_taken').getBoundingClientRect().bottom,
        document.querySelector('.card-actions').getBoundingClientRect().top]""")
    assert measures <= buttons, (measures, buttons)
    await page.set_viewport_size({"width": 1400, "height": 900})

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


async def _queued_callback(client, name: str, hours: float) -> int:
    """An untaken pending callback (as a secretary message leaves one) on a new fund card."""
    from datetime import UTC, datetime, timedelta

    from hotline.web.keys import SESSIONS
    from journal.db import unit_of_work
    from journal.models import CallbackTask

    card = await _written_card(client, "op101", applicant_name=name, applicant_phone=CITIZEN)
    async with unit_of_work(client.server.app[SESSIONS]) as session:
        task = CallbackTask(card_id=card.id, organization_id=card.organization_id,
                            status="pending", attempts=0, contact_phone=CITIZEN, contact_name=name,
                            due_at=datetime.now(UTC) + timedelta(hours=hours),
                            created_at=datetime.now(UTC))
        session.add(task)
        await session.flush()
        return task.id


async def test_the_morning_callbacks_are_a_live_queue_and_a_dialled_one_is_locked(
    pbx_service, sim, open_as
) -> None:
    """Two untaken callbacks (one overdue) are in both fund operators' queue, overdue first;
    op101 presses «Позвонить»: op102's queue shows it «набирается» with no button at once,
    without a reload; op102 takes the other one, which leaves op101's queue live too."""
    from hotline.web.keys import SESSIONS
    from journal.db import unit_of_work
    from journal.users import add_user
    from tests.support.browser import PASSWORD

    async with unit_of_work(pbx_service.server.app[SESSIONS]) as session:
        await add_user(session, login="op102", password=PASSWORD, full_name="Петров Олег",
                       role="operator", organization_code="tfoms", level=1,
                       interface="PJSIP/op102")
    later = await _queued_callback(pbx_service, "Белова Нина", 3)
    overdue = await _queued_callback(pbx_service, "Орлов Иван", -2)
    op101 = await open_as(pbx_service, "op101", "/operator")
    op102 = await open_as(pbx_service, "op102", "/operator")
    for page in (op101, op102):
        await _live(page)
        await page.locator("[data-testid=queue-list] li").nth(1).wait_for()
    items = op102.locator("[data-testid=queue-list] li")
    assert [int(i) for i in await items.evaluate_all("els => els.map(e => e.dataset.id)")] == [overdue, later]
    due = await items.first.locator("[data-testid=callback-due]").inner_text()
    assert due.startswith("просрочен: ")
    assert await op102.inner_text("[data-testid=queue-count]") == "2, просрочено 1"
    await shots(op102, "operator-callback-queue")

    await op101.locator(f"[data-testid=queue-list] li[data-id='{overdue}']").get_by_role(
        "button", name="Позвонить").click()
    await op101.locator("[data-testid=toast-ok]", has_text="зазвонит ваш телефон").wait_for()
    # op101 has it now, being dialled; op102 sees it gone from the queue within a second.
    await op101.locator(f"[data-testid=callbacks-list] li[data-id='{overdue}'][data-status=dialing]").wait_for()
    await op102.locator(f"[data-testid=queue-list] li[data-id='{overdue}']").wait_for(state="detached", timeout=3000)
    assert await op102.locator("[data-testid=queue-list] li").count() == 1

    await op102.locator(f"[data-testid=queue-list] li[data-id='{later}'] [data-testid=callback-take]").click()
    await op102.locator(f"[data-testid=callbacks-list] li[data-id='{later}']").wait_for()
    await op101.locator("[data-testid=queue-empty]").wait_for(state="visible", timeout=3000)
    assert await op101.inner_text("[data-testid=queue-empty]") == "Очередь пуста."
    await shots(op101, "operator-callback-dialling")
