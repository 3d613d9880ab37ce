"""The operator's workspace in a real Chromium: the agent bar, the screen-pop of a ringing call,
saving the card (yellow, in work), a draft surviving a reload, the transfer to level 2 with the
card following the call, the deferred answer and the operator's callbacks; without a PBX, the
card list, field errors next to their field, a clear conflict on a concurrent change, a pop
whose card comes late, and who may open the workspace at all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from hotline.web.keys import CARD_RULES, SESSIONS
from hotline.keys import HUB, PBX
from hotline.cards.schema import EARLIER_FIELDS, card_json, card_values
from journal import cards
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Call, CallbackTask, Card, User
from tests.support.browser import PASSWORD, shot as save_shot
from tests.support.service import FUND_LINE
from tests.support.workspace import CITIZEN, CITIZEN_SHOWN, LONG_TALK, _add_scripts, _card_of_call, _live, _written_card

YELLOW = "rgb(255, 244, 184)"


async def shot(page, name: str) -> None:
    """A full-page screenshot with the window as tall as the page, so that the sticky bars
    (agent state, the card's buttons) sit where they belong instead of where the 900 px
    window would have stuck them."""
    size = page.viewport_size
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    await page.evaluate("window.scrollTo(0, 0)")
    await save_shot(page, name)
    await page.set_viewport_size(size)




async def _talking(client, pbx_call_id: str, interface: str) -> None:
    """Wait until the tracker sees `interface` talking on the call (the phone was answered)."""
    tracker = client.server.app[PBX].tracker
    async with asyncio.timeout(10):
        while True:
            snap = tracker.snapshot(pbx_call_id)
            if snap is not None and snap.state == "talking" and snap.current_operator == interface:
                return
            await asyncio.sleep(0.02)






async def test_operator_takes_a_call_saves_its_card_and_transfers_it_to_level_2(
    pbx_service, sim, open_as
) -> None:
    """op101's workspace knows from the PBX that op101 is ready, and sees a pause made with
    the phone's own key; the phone rings and the card pops with the caller's number, the
    transfer waiting until op101 answers (then a talk timer runs); saving turns the card
    yellow (in work, also in the journal); a reload mid-typing restores the draft; the
    transfer moves the call and op201's workspace pops the same card with the notes; op201
    defers the answer, the call ends, and the callback appears in their list."""
    op101 = await open_as(pbx_service, "op101", "/operator")
    await _live(op101)
    assert await op101.title() == "Рабочее место оператора — Горячая линия ОМС"
    # Nobody pressed anything: the PBX's queue status says op101 takes calls.
    await op101.wait_for_selector("[data-testid=agent-state][data-state=ready]")
    assert await op101.inner_text("[data-testid=agent-state]") == "Готов принимать звонки"
    assert "телефон свободен" in await op101.inner_text("[data-testid=agent-phone]")
    assert await op101.is_hidden("[data-testid=agent-join]")
    assert await op101.inner_text("[data-testid=conn-pbx]") == "АТС: на связи"
    assert sim.pause_from_phone("PJSIP/op101", True, "совещание")
    await op101.wait_for_selector("[data-testid=agent-state][data-state=paused]")
    assert await op101.inner_text("[data-testid=agent-state]") == "Перерыв: совещание"
    await op101.click("[data-testid=agent-unpause]")
    await op101.wait_for_selector("[data-testid=agent-state][data-state=ready]")
    await op101.select_option("[data-testid=pause-reason]", "обед")
    await op101.click("[data-testid=agent-pause]")
    await op101.wait_for_selector("[data-testid=agent-state][data-state=paused]")
    assert await op101.inner_text("[data-testid=agent-state]") == "Перерыв: обед"
    await op101.click("[data-testid=agent-unpause]")
    await op101.wait_for_selector("[data-testid=agent-state][data-state=ready]")
    # The phone loses its registration (unplugged): the workspace says so, then recovers.
    assert sim.set_reachable("PJSIP/op101", False)
    await op101.wait_for_selector("[data-testid=agent-state][data-state=unavailable]")
    assert await op101.inner_text("[data-testid=agent-state]") == "Телефон недоступен"
    assert "телефон недоступен" in await op101.inner_text("[data-testid=agent-phone]")
    await shot(op101, "operator-phone-unavailable")
    assert sim.set_reachable("PJSIP/op101", True)
    await op101.wait_for_selector("[data-testid=agent-state][data-state=ready]")

    op201 = await open_as(pbx_service, "op201", "/operator")
    await _live(op201)
    await _add_scripts(pbx_service)

    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    number = op101.locator("[data-testid=caller-number]")
    await number.wait_for(state="visible")
    assert await number.inner_text() == CITIZEN_SHOWN
    assert (await op101.title()).startswith(f"☎ {CITIZEN_SHOWN}")
    card_number = op101.locator("[data-testid=card-number]")
    await card_number.wait_for(state="visible")
    card = await _card_of_call(pbx_service, CITIZEN)
    assert await card_number.inner_text() == f"РКК {card.number}"
    # The caller's number as people write it; the card keeps the PBX's digits (below).
    assert await op101.input_value("[data-testid=f-applicant_phone]") == CITIZEN_SHOWN
    assert await op101.inner_text("#call-org") == "ТФОМС Алтайского края"
    assert await op101.inner_text("#call-line") == "8-800-775-85-65"  # as the board prints it
    scripts = op101.locator("#script-list details")
    await scripts.first.wait_for()
    assert await scripts.count() == 2
    await op101.fill("[data-testid=script-search]", "переезд")
    assert await scripts.count() == 1
    assert "один раз в год" in await scripts.first.inner_text()
    await op101.fill("[data-testid=script-search]", "капитальный ремонт")
    assert await scripts.count() == 0
    assert "ничего не найдено" in await op101.inner_text("[data-testid=scripts-empty]")
    await op101.fill("[data-testid=script-search]", "смена СМО")
    # Still ringing: the PBX would refuse a transfer, so the button waits.
    transfer = op101.locator("[data-testid=card-transfer]")
    assert await op101.inner_text("[data-testid=call-progress]") == "Звонит…"
    assert await transfer.is_visible() and await transfer.is_disabled()
    assert await transfer.get_attribute("title") == "Перевести можно во время разговора"
    await shot(op101, "operator-screen-pop")

    assert sim.answer("PJSIP/op101")
    await _talking(pbx_service, await _pbx_call_id(pbx_service, card.id), "PJSIP/op101")
    await op101.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    assert (await op101.inner_text("[data-testid=call-progress]")).startswith("Разговор 0:")
    assert await transfer.is_enabled()
    assert "разговаривает" in await op101.inner_text("[data-testid=agent-phone]")

    await op101.select_option("[data-testid=f-appeal_type]", "consultation")
    await op101.select_option("[data-testid=f-topic_code]", "4.4")
    await op101.fill("[data-testid=f-applicant_name]", "Петрова Анна Сергеевна")
    await op101.fill("[data-testid=f-content]", "Хочет сменить страховую компанию после переезда")
    await op101.click("[data-testid=card-save]")
    head = op101.locator("[data-testid=card-head][data-status=in_work]")
    await head.wait_for()
    assert await op101.inner_text("[data-testid=card-status]") == "в работе"
    assert await head.evaluate("el => getComputedStyle(el).backgroundColor") == YELLOW
    async with pbx_service.server.app[SESSIONS]() as session:
        stored = await session.get(Card, card.id)
        assert stored.status == "in_work" and stored.topic_code == "4.4"
        assert stored.applicant_phone == CITIZEN  # shown formatted, saved as it was
    await op101.locator(f"[data-testid=cards-body] tr[data-id='{card.id}'].status-in_work").wait_for()

    # Typing, then a reload before saving: the draft comes back with a notice.
    await op101.fill("[data-testid=f-applicant_address]", "г. Барнаул, ул. Ленина, 1")
    await op101.reload()
    await _live(op101)
    await op101.locator("[data-testid=draft-notice]").wait_for(state="visible")
    assert "Восстановлен несохранённый черновик" in await op101.inner_text("[data-testid=draft-notice]")
    assert await op101.input_value("[data-testid=f-applicant_address]") == "г. Барнаул, ул. Ленина, 1"
    assert await op101.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    draft_keys = await op101.evaluate("Object.keys(localStorage).filter(k => k.startsWith('hotline.draft.'))")
    op101_id = await _user_id(pbx_service, "op101")
    assert draft_keys == [f"hotline.draft.{op101_id}.{card.id}.{stored.version}"]
    await op101.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    assert await transfer.is_enabled()  # still talking after the reload
    await shot(op101, "operator-workspace")

    # Transfer: the notes are saved first, then the call goes to level 2 and op201 pops it.
    await op101.click("[data-testid=card-transfer]")
    await op101.locator("[data-testid=toast-ok]", has_text="переведён на 2 уровень").wait_for()
    assert await op101.evaluate("Object.keys(localStorage).filter(k => k.startsWith('hotline.draft.'))") == []
    await op101.wait_for_selector("[data-testid=call-progress][data-state=transferred]")
    assert await op101.inner_text("[data-testid=call-progress]") == "Переведён на 2 уровень"
    assert await transfer.is_disabled()
    level2_number = op201.locator("[data-testid=card-number]")
    await level2_number.wait_for(state="visible")
    assert await level2_number.inner_text() == f"РКК {card.number}"
    assert await op201.inner_text("[data-testid=call-progress]") == "Звонит…"
    assert sim.answer("PJSIP/op201")
    assert await op201.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    await op201.wait_for_function(
        "() => document.querySelector('[data-testid=f-applicant_address]').value !== ''")
    assert await op201.input_value("[data-testid=f-applicant_address]") == "г. Барнаул, ул. Ленина, 1"
    assert await op201.input_value("[data-testid=f-content]") == "Хочет сменить страховую компанию после переезда"
    assert "2 уровень" in await op201.inner_text("#card-meta")

    # Level 2 defers the answer: a callback task appears in "Мои обратные звонки".
    await op201.click("[data-testid=card-defer]")
    await op201.locator("[data-testid=defer-form]").wait_for(state="visible")
    assert await op201.input_value("[data-testid=d-contact_phone]") == CITIZEN
    await op201.fill("[data-testid=d-note]", "Уточнить в СМО сроки переоформления полиса")
    await op201.click("[data-testid=defer-submit]")
    callback = op201.locator("[data-testid=callbacks-list] li", has_text="Петрова Анна Сергеевна")
    await callback.wait_for()
    assert CITIZEN_SHOWN in await callback.inner_text()
    assert await callback.locator("[data-testid=callback-status]").inner_text() == "ожидает"
    assert f"РКК {card.number}" in await callback.inner_text()
    op201_id = await _user_id(pbx_service, "op201")
    async with pbx_service.server.app[SESSIONS]() as session:
        task = await session.scalar(select(CallbackTask).where(CallbackTask.card_id == card.id))
        assert task.status == "pending" and task.assigned_user_id == op201_id
        assert (await session.get(Card, card.id)).responsible_user_id == op201_id
    mine = op201.locator(f"[data-testid=cards-body] tr[data-id='{card.id}']")
    await mine.wait_for()
    await op201.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    await shot(op201, "operator-level2")
    # The citizen hangs up: level 2's workspace says the call is over and how long it took.
    assert sim.hangup("PJSIP/op201")
    await op201.wait_for_selector("[data-testid=call-progress][data-state=ended]")
    assert (await op201.inner_text("[data-testid=call-progress]")).startswith("Звонок завершён · разговор ")
    await shot(op201, "operator-call-ended")

    # "Позвонить": the PBX rings op201's phone first, then dials the citizen.
    await callback.get_by_role("button", name="Позвонить").click()
    await op201.locator("[data-testid=toast-ok]", has_text="зазвонит ваш телефон").wait_for()


async def _pbx_call_id(client, card_id: int) -> str:
    async with client.server.app[SESSIONS]() as session:
        return await session.scalar(select(Call.pbx_call_id).where(Call.card_id == card_id))


async def _user_id(client, login: str) -> int:
    async with client.server.app[SESSIONS]() as session:
        return await session.scalar(select(User.id).where(User.login == login))




async def test_a_card_from_my_list_shows_field_errors_and_a_conflict_clearly(
    web_service, open_as
) -> None:
    """Without a PBX: the card opens from "Мои карточки"; a bad ЕНП is refused next to its
    field; a change made meanwhile by someone else is a clear conflict, and the operator's
    typing survives loading the newer version."""
    card = await _written_card(web_service, "op101", applicant_name="Кузнецов Пётр Иванович",
                               applicant_phone="+79130000001")
    await _add_scripts(web_service)
    page = await open_as(web_service, "op101", "/operator")
    await page.wait_for_selector("body[data-ready=true]")
    await page.wait_for_selector("[data-testid=conn-pbx][data-state=off]")
    assert await page.inner_text("[data-testid=conn-pbx]") == "АТС: не подключена к службе"
    assert await page.is_hidden("[data-testid=agent-join]")
    row = page.locator(f"[data-testid=cards-body] tr[data-id='{card.id}']")
    await row.click()
    await page.locator("[data-testid=card-number]").wait_for(state="visible")
    assert await page.input_value("[data-testid=f-applicant_name]") == "Кузнецов Пётр Иванович"
    assert await page.get_attribute("[data-testid=card-full]", "href") == f"/admin/cards/{card.id}"
    assert await page.is_hidden("[data-testid=card-transfer]")
    # The scripts are there without a call; those of the card's topic come first.
    summaries = page.locator("#script-list summary")
    await summaries.first.wait_for()
    assert (await summaries.first.inner_text()).startswith("Замена страховой")
    await page.select_option("[data-testid=f-appeal_type]", "consultation")
    await page.select_option("[data-testid=f-topic_code]", "4.1.1")
    assert (await summaries.first.inner_text()).startswith("Полис для иностранного гражданина")

    await page.fill("[data-testid=f-applicant_policy]", "12345")
    await page.click("[data-testid=card-save]")
    error = page.locator(".field-error[data-error-for=applicant_policy]")
    await error.wait_for(state="visible")
    assert await error.inner_text() == "ЕНП: должен состоять из 16 цифр"
    assert await page.get_attribute("[data-testid=f-applicant_policy]", "aria-invalid") == "true"

    await page.fill("[data-testid=f-applicant_policy]", "2200 0000 0000 0004")
    await page.fill("[data-testid=f-applicant_birth_date]", "31.02.1980")
    await page.click("[data-testid=card-save]")
    birth_error = page.locator(".field-error[data-error-for=applicant_birth_date]")
    await birth_error.wait_for(state="visible")
    assert await birth_error.inner_text() == "Дата рождения: введите в виде ДД.ММ.ГГГГ"
    await page.fill("[data-testid=f-applicant_birth_date]", "15.03.1980")
    async with unit_of_work(web_service.server.app[SESSIONS]) as session:
        admin = await session.scalar(select(User).where(User.login == "admin"))
        await cards.save(session, Actor.of(admin), card.id, {"content": "Изменено администратором"},
                         card.version, rules=web_service.server.app[CARD_RULES])
    await page.click("[data-testid=card-save]")
    conflict = page.locator("[data-testid=conflict-notice]")
    await conflict.wait_for(state="visible")
    assert "уже изменил другой пользователь" in await conflict.inner_text()
    await page.click("#conflict-reload")
    await page.locator("[data-testid=draft-notice]").wait_for(state="visible")
    assert await page.input_value("[data-testid=f-content]") == "Изменено администратором"
    assert await page.input_value("[data-testid=f-applicant_policy]") == "2200 0000 0000 0004"
    await page.click("[data-testid=card-save]")
    await page.locator("[data-testid=save-state]", has_text="Все изменения сохранены").wait_for()
    assert await page.inner_text("[data-testid=card-status]") == "в работе"

    await page.fill("[data-testid=f-measures_taken]", "Разъяснён порядок замены полиса")
    await page.click("[data-testid=card-complete]")
    await page.locator("[data-testid=card-head][data-status=done]").wait_for()
    background = await page.eval_on_selector("[data-testid=card-head]", "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    async with web_service.server.app[SESSIONS]() as session:
        stored = await session.get(Card, card.id)
        assert stored.status == "done" and stored.applicant_policy == "2200000000000004"
        assert stored.applicant_birth_date.isoformat() == "1980-03-15"


async def test_a_pop_without_its_card_says_so_and_the_second_pop_brings_it(
    web_service, open_as
) -> None:
    """The journal was slow (`card_pending`): the call shows at once with a notice, the card
    follows in the second pop, the caller's earlier cards show their status colours; a
    complaint takes its reasons from the dictionary."""
    earlier = await _written_card(web_service, "op101", applicant_name="Петрова Анна",
                                  applicant_phone=CITIZEN)
    card = await _written_card(web_service, "op101", applicant_phone=CITIZEN)
    page = await open_as(web_service, "op101", "/operator")
    await _live(page)
    app = web_service.server.app
    op101_id = await _user_id(web_service, "op101")
    call = {"id": None, "pbx_call_id": "1700000000.42", "interface": "PJSIP/op101",
            "queue": "l1-tfoms", "consultation": False, "line": FUND_LINE,
            "organization": "tfoms", "caller_number": CITIZEN, "caller_name": "Петрова Анна",
            "ringing_at": datetime.now(UTC).isoformat(), "transfers": 0}
    assert app[HUB].to_user(op101_id, {"type": "screen_pop", "call": call, "card": None,
                                       "card_pending": True, "earlier_cards": [], "scripts": []})
    await page.locator("[data-testid=card-pending]").wait_for(state="visible")
    assert await page.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    assert await page.is_hidden("#card-form")
    async with unit_of_work(app[SESSIONS]) as session:
        admin = await session.scalar(select(User).where(User.login == "admin"))
        await cards.save(session, Actor.of(admin), earlier.id, {"content": "Вопрос о полисе"},
                         earlier.version, rules=app[CARD_RULES])
        fresh = await session.get(Card, card.id)
        shown_earlier = await session.get(Card, earlier.id)
        pop = {"type": "screen_pop", "call": call, "card": card_json(card_values(fresh)),
               "card_pending": False, "scripts": [],
               "earlier_cards": [card_json(card_values(shown_earlier), EARLIER_FIELDS)]}
    assert app[HUB].to_user(op101_id, pop)
    await page.locator("[data-testid=card-number]", has_text=card.number).wait_for()
    assert await page.is_hidden("[data-testid=card-pending]")
    item = page.locator("#earlier-list li.status-in_work")
    await item.wait_for()
    assert earlier.number in await item.inner_text()
    assert await item.evaluate("el => getComputedStyle(el).backgroundColor") == YELLOW
    assert await page.is_hidden("[data-testid=card-transfer]")  # no call row: nothing to transfer
    await item.get_by_role("button", name=earlier.number).click()
    await page.locator("[data-testid=card-number]", has_text=earlier.number).wait_for()
    assert await page.input_value("[data-testid=f-content]") == "Вопрос о полисе"
    await page.click("[data-testid=back-to-call]")
    await page.locator("[data-testid=card-number]", has_text=card.number).wait_for()
    assert await page.is_hidden("[data-testid=back-to-call]")

    await page.select_option("[data-testid=f-appeal_type]", "complaint")
    topics = await page.eval_on_selector_all("[data-testid=f-topic_code] option", "els => els.map(e => e.value)")
    assert topics == ["", "2"]
    await page.check("#f-complaint_reasons input[value='11']")
    await page.check("#f-complaint_reasons input[value='15.1']")
    await page.fill("[data-testid=f-content]", "Взяли деньги за анализы по полису ОМС")
    await page.click("[data-testid=card-save]")
    await page.locator("[data-testid=card-head][data-status=in_work]").wait_for()
    await page.fill("[data-testid=f-measures_taken]", "Направлен запрос в медицинскую организацию")
    await page.click("[data-testid=card-complete]")
    justified = page.locator(".field-error[data-error-for=justified]")
    await justified.wait_for(state="visible")
    assert await justified.inner_text() == "Для жалобы укажите, обоснована ли она"
    async with app[SESSIONS]() as session:
        stored = await session.get(Card, card.id)
        await session.refresh(stored, ["complaint_reasons"])
        assert sorted(r.code for r in stored.complaint_reasons) == ["11", "15.1"]
        assert stored.status == "in_work"


async def test_the_workspace_is_for_operators_only(web_service) -> None:
    """Anonymous visitors go to the sign-in page and come back; the administrator is refused
    in Russian (the administrator's console is elsewhere)."""
    resp = await web_service.get("/operator", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/login?next=/operator"
    login = await web_service.post("/api/v1/login", json={"login": "admin", "password": PASSWORD})
    assert login.status == 200
    refused = await web_service.get("/operator", allow_redirects=False)
    assert refused.status == 403
    assert "Эта страница недоступна для вашей роли." in await refused.text()


async def test_a_call_that_ended_while_the_page_was_away_shows_as_ended(
    pbx_service, sim, open_as
) -> None:
    """op101 talks, leaves the workspace, the citizen hangs up; back on the workspace the
    remembered call says «Звонок завершён» and offers no transfer (no stale talk timer)."""
    page = await open_as(pbx_service, "op101", "/operator")
    await _live(page)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    await page.locator("[data-testid=card-number]").wait_for(state="visible")
    assert sim.answer("PJSIP/op101")
    await page.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    await page.goto("/api/v1/me")
    card = await _card_of_call(pbx_service, CITIZEN)
    assert sim.hangup("PJSIP/op101")
    tracker = pbx_service.server.app[PBX].tracker
    pbx_call_id = await _pbx_call_id(pbx_service, card.id)
    async with asyncio.timeout(10):
        while tracker.snapshot(pbx_call_id) is not None and tracker.snapshot(pbx_call_id).state != "ended":
            await asyncio.sleep(0.02)
    await page.goto("/operator")
    await _live(page)
    await page.wait_for_selector("[data-testid=call-progress][data-state=ended]")
    assert await page.inner_text("[data-testid=call-progress]") == "Звонок завершён"
    assert await page.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    assert await page.locator("[data-testid=card-transfer]").is_disabled()
