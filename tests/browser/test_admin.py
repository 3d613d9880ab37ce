"""The administrator console in a real headless Chromium: the journal with its filters in the
URL, a card of a simulated answered call with its recording played (and the playback in the
access log), the evaluation sheet, closing a card (read-only afterwards), another
organization's card hidden from an insurer's operator, the CSRF fence, written appeals, the
live board and answer scripts. Screenshots of every page go to test-output/screenshots/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hotline.config import Settings
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import CARD_RULES, SESSIONS

from journal import cards
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Call, Card, Recording, User
from tests.support.browser import PASSWORD, base_url, shot
from tests.support.screens import SIZES, shots
from tests.support.service import FUND_LINE, settle
from tests.support.admin_pages import signed_in

CITIZEN = "79131234567"
LONG_TALK = Timing(talk=3000.0, level2_talk=3000.0)


@pytest.fixture
async def sim(settings: Settings, tmp_path: Path) -> AsyncIterator[PbxSimulator]:
    """The simulator writing real WAV files into the spool the service stores them from."""
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=5,
                            recordings_dir=tmp_path / "pbx-spool",
                            recording_max_seconds=3.0) as simulator:
        yield simulator


async def actor_of(client: TestClient, login: str) -> Actor:
    async with client.server.app[SESSIONS]() as session:
        user = await session.scalar(select(User).where(User.login == login))
    return Actor.of(user)


async def written(client: TestClient, login: str, *, channel: str = "post", **fields: object) -> Card:
    """A written appeal registered straight through the journal."""
    app = client.server.app
    actor = await actor_of(client, login)
    async with unit_of_work(app[SESSIONS]) as session:
        return await cards.create_written(
            session, actor, channel=channel, received_at=datetime.now(UTC) - timedelta(hours=1),
            fields=fields or {"applicant_name": "Иванова Анна Петровна"}, rules=app[CARD_RULES])


async def save(client: TestClient, login: str, card: Card, **changes: object) -> Card:
    app = client.server.app
    actor = await actor_of(client, login)
    async with unit_of_work(app[SESSIONS]) as session:
        return await cards.save(session, actor, card.id, changes, card.version, rules=app[CARD_RULES])


# What «Исполнено» needs (journal.card_fields.REQUIREMENTS), filled where the card lacks it.
DONE_DEFAULTS = {"appeal_type": "consultation", "topic_code": "4.1", "content": "Вопрос о полисе",
                 "applicant_name": "Иванова Анна Петровна"}


async def complete(client: TestClient, login: str, card_id: int, **changes: object) -> Card:
    app = client.server.app
    actor = await actor_of(client, login)
    async with unit_of_work(app[SESSIONS]) as session:
        card = await session.get(Card, card_id)
        changes = {k: v for k, v in DONE_DEFAULTS.items() if not getattr(card, k)} | changes
        return await cards.complete(session, actor, card_id, expected_version=card.version,
                                    changes=changes, rules=app[CARD_RULES])




async def rows_text(page, selector: str = "[data-testid=card-row]") -> list[str]:
    return await page.locator(selector).all_inner_texts()


async def test_the_journal_filters_by_status_keeps_the_filter_in_the_url_and_opens_a_card(
    web_service, open_as
) -> None:
    """In-work cards are yellow, done ones white; the status filter narrows the list, survives
    a reload (it is in the URL) and a click on a row opens that card."""
    draft = await written(web_service, "admin", applicant_name="Петров Пётр Петрович")
    in_work = await written(web_service, "admin", applicant_name="Смирнова Ольга Ивановна")
    await save(web_service, "admin", in_work, content="Не выдают полис", appeal_type="consultation",
               topic_code="4.1")
    done = await written(web_service, "admin", applicant_name="Кузнецов Иван Сергеевич")
    done = await save(web_service, "admin", done, content="Вопрос о выборе МО")
    await complete(web_service, "admin", done.id, measures_taken="Разъяснено по телефону")

    page = await signed_in(open_as, web_service, "admin", "/admin/cards")
    await page.locator("[data-testid=card-row]").nth(2).wait_for()
    assert await page.locator("[data-testid=total]").inner_text() == "Найдено карточек: 3"
    yellow = page.locator(f"[data-card-id='{in_work.id}']")
    assert await yellow.get_attribute("class") == "clickable status-in_work"
    assert await yellow.evaluate("r => getComputedStyle(r).backgroundColor") == "rgb(255, 244, 184)"
    white = page.locator(f"[data-card-id='{done.id}']")
    assert await white.evaluate("r => getComputedStyle(r).backgroundColor") == "rgb(255, 255, 255)"
    await shot(page, "admin-journal")

    await page.select_option("select[name=status]", "in_work")
    await page.click("[data-testid=apply-filters]")
    await page.wait_for_function("() => document.querySelectorAll('[data-testid=card-row]').length === 1")
    assert "status=in_work" in page.url
    texts = await rows_text(page)
    assert in_work.number in texts[0] and "Смирнова Ольга Ивановна" in texts[0]
    await page.reload()
    await page.wait_for_function("() => document.querySelectorAll('[data-testid=card-row]').length === 1")
    assert await page.locator("select[name=status]").input_value() == "in_work"

    await page.fill("input[name=q]", "Петров")
    await page.select_option("select[name=status]", "")
    await page.click("[data-testid=apply-filters]")
    await page.wait_for_function(
        f"() => [...document.querySelectorAll('[data-testid=card-row]')].map(r => r.dataset.cardId).join() === '{draft.id}'")
    await page.click(f"[data-card-id='{draft.id}'] td:nth-child(3)")
    await page.wait_for_url(f"**/admin/cards/{draft.id}")
    await page.locator("[data-field=applicant_name] dd").wait_for()
    assert await page.locator("[data-field=applicant_name] dd").inner_text() == "Петров Пётр Петрович"


async def _stored_recording(client: TestClient, caller: str) -> tuple[Call, Recording]:
    """The caller's call once its recording is stored (the worker runs after the hangup)."""
    app = client.server.app
    async with asyncio.timeout(30):
        while True:
            async with app[SESSIONS]() as session:
                call = await session.scalar(select(Call).where(Call.caller_number == caller))
                recording = call and await session.scalar(
                    select(Recording).where(Recording.call_id == call.id))
            if recording is not None and recording.status != "pending":
                assert recording.status == "stored", recording.problem
                return call, recording
            await asyncio.sleep(0.1)


async def test_the_administrator_plays_a_recording_evaluates_the_operator_and_closes_the_card(
    pbx_service, sim, open_as
) -> None:
    """A simulated answered call: its card shows the call, op101 and the recording; playing it
    lands in the access log; the evaluation sheet saves its scores; once done, closing the card
    makes it read-only."""
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    await settle(sim, pbx_service.server.app)
    call, recording = await _stored_recording(pbx_service, CITIZEN)

    page = await signed_in(open_as, pbx_service, "admin", "/admin/cards")
    row = page.locator(f"[data-card-id='{call.card_id}']")
    await row.wait_for()
    await row.click()
    await page.wait_for_url(f"**/admin/cards/{call.card_id}")
    call_box = page.locator(f"#call-{call.id}")
    await call_box.wait_for()
    assert "Иванова Мария" in await call_box.locator("[data-testid=call-operators]").inner_text()
    assert "+7 913 123-45-67, Петрова Анна" in await call_box.inner_text()
    assert await page.locator("[data-testid=card-status]").inner_text() == "черновик"
    download = call_box.locator("[data-testid=download]")
    assert await download.get_attribute("href") == f"/api/v1/recordings/{recording.id}/audio?download=1"

    audio = call_box.locator("audio")
    assert await audio.get_attribute("src") == f"/api/v1/recordings/{recording.id}/audio"
    await audio.click()  # a user gesture: the page may play sound
    await audio.evaluate("a => { a.muted = true; return a.play(); }")
    await page.wait_for_function(
        "a => a.readyState >= 2 && a.duration > 0 && a.error === null", arg=await audio.element_handle())
    await page.evaluate("() => window.scrollTo(0, 0)")
    await shot(page, "admin-card")

    sheet = call_box.locator("[data-testid=evaluation]")
    await sheet.locator("select[data-criterion]").first.wait_for()
    criteria = await sheet.locator("select[data-criterion]").count()
    for i in range(criteria):
        await sheet.locator("select[data-criterion]").nth(i).select_option("2" if i else "1")
    await sheet.locator("textarea[name=comment]").fill("Не представилась в начале разговора")
    await sheet.locator("[data-testid=save-evaluation]").click()
    total = sheet.locator("[data-testid=evaluation-total]")
    await total.wait_for()
    expected = round(100 * (2 * criteria - 1) / (2 * criteria), 1)
    assert await total.inner_text() == f"{expected}%"
    assert "Иванова Мария" in await sheet.locator("[data-testid=evaluation-item]").inner_text()
    await sheet.locator("[data-testid=evaluation-item] summary").click()
    await page.evaluate("() => window.scrollTo(0, 0)")
    await shot(page, "admin-evaluation")

    await page.goto(f"/admin/calls/{call.id}")  # a call opens its card, at that call
    await page.wait_for_url(f"**/admin/cards/{call.card_id}#call-{call.id}")
    await page.locator(f"#call-{call.id} [data-testid=evaluation-total]").wait_for()

    audit = await page.context.new_page()
    await audit.goto(f"/admin/audit?action=play&object_id={recording.id}")
    entry = audit.locator("[data-testid=audit-row][data-action=play]").first
    await entry.wait_for()
    text = await entry.inner_text()
    assert "Прослушивание записи" in text and "admin" in text and f"запись №{recording.id}" in text
    await audit.goto("/admin/audit")
    await audit.locator("[data-testid=audit-row]").first.wait_for()
    await shot(audit, "admin-audit")

    await complete(pbx_service, "op101", call.card_id, content="Вопрос о полисе",
                   appeal_type="consultation", topic_code="4.1", measures_taken="Разъяснено")
    await page.reload()
    await page.locator("[data-testid=action-close]").click()
    await page.locator("[data-testid=confirm]").click()
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=card-status]').textContent === 'закрыта'")
    notice = page.locator("[data-testid=read-only]")
    await notice.wait_for()
    assert "только просмотр" in await notice.inner_text()
    assert await page.locator("[data-testid=card-actions] button").count() == 0
    await page.wait_for_function("() => document.querySelector('#history').textContent.includes('Закрытие')")


async def test_extend_forward_and_the_apis_refusal_in_the_confirmation_dialog(
    web_service, open_as
) -> None:
    """Extending once hides the step; a card changed meanwhile by someone else is refused with
    the API's Russian message inside the dialog; forwarding moves the card to the insurer."""
    card = await written(web_service, "admin", applicant_name="Орлова Нина")
    page = await signed_in(open_as, web_service, "admin", f"/admin/cards/{card.id}")
    await page.locator("[data-testid=action-extend]").click()
    new_due = card.due_date + timedelta(days=10)
    await page.fill("dialog input[name=new_due]", new_due.isoformat())
    await page.fill("dialog textarea[name=reason]", "Запрошены документы в медицинской организации")
    await page.locator("[data-testid=confirm]").click()
    due = page.locator("[data-field=due_date] dd")
    await page.wait_for_function(
        f"() => document.querySelector('[data-field=due_date] dd')?.textContent === '{new_due:%d.%m.%Y}'")
    assert await page.locator("[data-testid=action-extend]").count() == 0
    assert "Запрошены документы" in await page.locator("[data-field=extension_reason] dd").inner_text()
    assert await due.inner_text() == f"{new_due:%d.%m.%Y}"

    async with web_service.server.app[SESSIONS]() as session:
        stored = await session.get(Card, card.id)
    await save(web_service, "admin", stored, content="Изменено в другой вкладке")
    await page.locator("[data-testid=action-cancel]").click()
    await page.fill("dialog textarea[name=reason]", "Создана по ошибке")
    await page.locator("[data-testid=confirm]").click()
    refusal = page.locator("dialog .form-error")
    await refusal.wait_for()
    assert await refusal.inner_text() == cards.CONFLICT_MESSAGE
    await page.locator("[data-testid=cancel-dialog]").click()

    await page.reload()
    await page.locator("[data-testid=action-forward]").click()
    await page.select_option("dialog select[name=to]", label="АО «Страховая компания «СОГАЗ-Мед», Алтайский филиал")
    await page.fill("dialog textarea[name=reason]", "Вопрос в компетенции СМО")
    await page.locator("[data-testid=confirm]").click()
    await page.wait_for_function(
        "() => document.querySelector('[data-field=organization_id] dd')?.textContent.includes('СОГАЗ')")
    await page.wait_for_function("() => document.querySelector('#history').textContent.includes('Пересылка')")
    assert "Вопрос в компетенции СМО" in await page.locator("#history").inner_text()
    async with web_service.server.app[SESSIONS]() as session:
        assert (await session.get(Card, card.id)).status == "in_work"


async def test_an_insurers_operator_cannot_open_a_fund_card_in_the_page_or_the_api(
    web_service, open_as
) -> None:
    """The fund's card is "not found" for the insurer's operator, both as a page and in the API;
    the fund's own operator can read it."""
    card = await written(web_service, "admin", applicant_name="Фондова Анна")
    page = await signed_in(open_as, web_service, "sogaz-op", "/")
    response = await page.goto(f"/admin/cards/{card.id}")
    assert response.status == 404
    assert "не найдена" in await page.locator("main").inner_text()
    assert "Фондова" not in await page.content()
    api = await page.evaluate(f"""async () => {{
        const r = await fetch('/api/v1/cards/{card.id}');
        return [r.status, (await r.json()).error.code];
    }}""")
    assert api == [404, "not_found"]

    fund = await signed_in(open_as, web_service, "op101", "/")
    await fund.goto(f"/admin/cards/{card.id}")
    await fund.locator("[data-field=applicant_name] dd").wait_for()
    assert await fund.locator("[data-field=applicant_name] dd").inner_text() == "Фондова Анна"
    assert await fund.locator("[data-testid=card-actions] button").count() == 0


async def test_a_post_without_the_csrf_token_is_refused(web_service, open_as) -> None:
    """The session cookie alone cannot change anything: 403 `csrf`, and no card is closed."""
    card = await written(web_service, "admin")
    page = await signed_in(open_as, web_service, "admin", "/admin/cards")
    refused = await page.evaluate(f"""async () => {{
        const r = await fetch('/api/v1/cards/{card.id}/cancel', {{method: 'POST',
            headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{reason: 'x'}})}});
        return [r.status, (await r.json()).error.code];
    }}""")
    assert refused == [403, "csrf"]
    async with web_service.server.app[SESSIONS]() as session:
        assert (await session.get(Card, card.id)).status == "draft"


async def test_registering_a_written_appeal_shows_its_number_and_due_dates(web_service, open_as) -> None:
    """A forwarded letter needs the sending body, its number and date; then the number and the
    59-ФЗ dates are shown and the card opens."""
    page = await signed_in(open_as, web_service, "admin", "/admin/written")
    await page.locator("select[name=channel] option[value=forwarded]").wait_for(state="attached")
    await page.select_option("select[name=channel]", "forwarded")
    await page.fill("input[name=applicant_name]", "Соколова Вера Андреевна")
    await page.fill("input[name=applicant_address]", "г. Барнаул, ул. Ленина, 1")
    await page.select_option("select[name=appeal_type]", "complaint")
    await page.select_option("select[name=topic_code]", "2")
    await page.fill("textarea[name=content]", "Взяли деньги за приём по полису ОМС")
    await page.click("[data-testid=register]")
    error = page.locator("#form-error")
    await error.wait_for()
    assert "Орган, направивший обращение" in await error.inner_text()
    await page.fill("input[name=forwarded_from_body]", "Министерство здравоохранения края")
    await page.fill("input[name=forwarded_letter_number]", "01-12/345")
    await page.fill("input[name=forwarded_letter_date]", (datetime.now(UTC) - timedelta(days=3)).date().isoformat())
    await shot(page, "admin-written-form")
    await page.click("[data-testid=register]")
    number = page.locator("[data-testid=written-number]")
    await number.wait_for()
    assert (await number.inner_text()).startswith(f"TFOMS-{datetime.now(UTC).year}-")
    async with web_service.server.app[SESSIONS]() as session:
        card = await session.scalar(select(Card).where(Card.number == await number.inner_text()))
    assert card.channel == "forwarded" and card.forwarded_letter_number == "01-12/345"
    assert await page.locator("[data-testid=written-due]").inner_text() == card.due_date.strftime("%d.%m.%Y")
    await shot(page, "admin-written")
    await page.click("[data-testid=open-written]")
    await page.locator("[data-field=forwarded_from_body] dd").wait_for()
    assert "Министерство" in await page.locator("[data-field=forwarded_from_body] dd").inner_text()


async def test_the_live_board_shows_a_waiting_call_the_lines_and_the_operators(
    pbx_service, sim, open_as
) -> None:
    """A ringing call appears on the board at once; each line shows its mode; every
    operator's queue state and phone come from the PBX without anyone pressing a button,
    including a pause made with the phone's own key."""
    page = await signed_in(open_as, pbx_service, "admin", "/admin/board")
    await page.locator("[data-testid=board-line]").first.wait_for()
    assert await page.locator("[data-testid=board-operator]").count() == 3
    op101 = page.locator("[data-testid=board-operator][data-interface='PJSIP/op101']")
    await page.locator("[data-testid=board-operator][data-interface='PJSIP/op101'][data-state=ready]").wait_for()
    cells = await op101.locator("td").all_inner_texts()
    assert cells[2:] == ["готов", cells[3], "свободен", "0"] and cells[3] != "—"
    assert sim.pause_from_phone("PJSIP/op201", True, "обучение")
    op201 = page.locator("[data-testid=board-operator][data-interface='PJSIP/op201'][data-state=paused]")
    await op201.wait_for()
    assert "перерыв: обучение" in await op201.inner_text()
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    call = page.locator("[data-testid=board-call][data-state=ringing]")
    await call.first.wait_for()
    assert "+7 913 123-45-67" in await call.first.inner_text()  # as people write numbers
    # The line as the figures print it, in the calls and in the lines alike.
    assert "8-800-775-85-65" in await call.first.inner_text()
    assert FUND_LINE not in await call.first.inner_text()
    assert await page.locator("[data-testid=count-waiting]").inner_text() == "1"
    fund_line = page.locator(f"[data-testid=board-line][data-line='{FUND_LINE}'] td")
    assert (await fund_line.nth(0).inner_text()).startswith("8-800-775-85-65")
    assert await fund_line.nth(1).locator(".badge").inner_text() in ("операторы", "электронный секретарь")
    assert "→" in await fund_line.nth(2).inner_text()  # the next switch: when, to what, why
    await shot(page, "admin-board")
    sim.answer("PJSIP/op101")
    await page.locator("[data-testid=board-operator][data-interface='PJSIP/op101'][data-device=in_use]").wait_for()
    assert "разговаривает" in await op101.inner_text()
    await shot(page, "admin-board-talking")


async def test_answer_scripts_are_added_edited_and_found_by_keyword(web_service, open_as) -> None:
    """The administrator adds a script, finds it by a keyword, withdraws it."""
    page = await signed_in(open_as, web_service, "admin", "/admin/scripts")
    await page.locator("select[name=topic_code] option[value='4.1']").wait_for(state="attached")
    await page.fill("input[name=title]", "Как получить полис ОМС")
    await page.fill("input[name=keywords]", "полис выдача ЕНП")
    await page.select_option("select[name=topic_code]", "4.1")
    await page.fill("textarea[name=body]", "Полис выдаёт страховая медицинская организация по заявлению.")
    await page.click("[data-testid=save-script]")
    await page.locator("[data-testid=script-row]").first.wait_for()
    await page.click("[data-testid=new-script]")
    await page.fill("input[name=title]", "Смена страховой компании")
    await page.fill("input[name=keywords]", "СМО замена")
    await page.fill("textarea[name=body]", "Сменить СМО можно раз в год до 1 ноября.")
    await page.click("[data-testid=save-script]")
    await page.wait_for_function("() => document.querySelectorAll('[data-testid=script-row]').length === 2")
    await page.fill("#search input[name=q]", "ЕНП")
    await page.press("#search input[name=q]", "Enter")
    await page.wait_for_function("() => document.querySelectorAll('[data-testid=script-row]').length === 1")
    assert "Как получить полис ОМС" in await page.locator("[data-testid=script-row]").inner_text()
    await page.locator("[data-testid=script-row]").click()
    await page.uncheck("input[name=active]")
    await page.click("[data-testid=save-script]")
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=script-row] td:last-child').textContent === 'нет'")
    await page.fill("#search input[name=q]", "")
    await page.press("#search input[name=q]", "Enter")
    await page.wait_for_function("() => document.querySelectorAll('[data-testid=script-row]').length === 2")
    await shot(page, "admin-scripts")

    op = await signed_in(open_as, web_service, "op101", "/")
    found = await op.evaluate("""async () => {
        const r = await fetch('/api/v1/scripts?q=' + encodeURIComponent('СМО'));
        return (await r.json()).items.map(s => s.title);
    }""")
    assert found == ["Смена страховой компании"]


async def test_operators_do_not_get_the_console(web_service, open_as) -> None:
    """The console's pages are the administrator's: an operator gets the Russian refusal."""
    page = await signed_in(open_as, web_service, "op101", "/")
    response = await page.goto("/admin/audit")
    assert response.status == 403
    assert "Доступ запрещён" in await page.locator("main").inner_text()
    assert base_url(web_service) in page.url and PASSWORD


async def test_the_administrator_disables_an_operator_and_sets_a_new_password(
    web_service, open_as
) -> None:
    """An operator leaves: on «Сотрудники» the administrator disables the account, and the
    operator's open page loses its session at once; a new password for another operator
    (typed twice, a mismatch refused in the dialog) replaces the old one."""
    op = await signed_in(open_as, web_service, "op101", "/")
    page = await signed_in(open_as, web_service, "admin", "/admin/staff")
    row = page.locator("[data-testid=staff-row][data-login=op101]")
    await row.locator("[data-testid=disable]").click()
    await page.locator("[data-testid=dialog]").wait_for()
    await page.click("[data-testid=confirm]")
    await row.locator("[data-testid=enable]").wait_for()
    assert await row.locator("[data-testid=state]").inner_text() == "отключена"
    status = await op.evaluate("async () => (await fetch('/api/v1/me')).status")
    assert status == 401
    own = page.locator("[data-testid=staff-row][data-login=admin]")
    assert await own.locator("[data-testid=disable]").count() == 0
    await shot(page, "admin-staff")

    other = page.locator("[data-testid=staff-row][data-login=op201]")
    await other.locator("[data-testid=password]").click()
    dialog = page.locator("[data-testid=dialog]")
    await dialog.locator("input[name=password]").fill("fresh-password-1")
    await dialog.locator("input[name=again]").fill("fresh-password-2")
    await page.click("[data-testid=confirm]")
    await dialog.locator("[role=alert]", has_text="Пароли не совпадают").wait_for()
    await dialog.locator("input[name=again]").fill("fresh-password-1")
    await page.click("[data-testid=confirm]")
    await dialog.wait_for(state="detached")
    resp = await web_service.post("/api/v1/login", json={"login": "op201", "password": PASSWORD})
    assert resp.status == 401
    resp = await web_service.post("/api/v1/login", json={"login": "op201", "password": "fresh-password-1"})
    assert resp.status == 200


async def test_the_administrator_creates_an_account_and_changes_its_level(
    web_service, open_as
) -> None:
    """«Новая учётная запись» on «Сотрудники»: an insurer's operator at one of the insurer's
    phones, then «Изменить» makes them level 2; a phone of another organization is refused
    in the dialog with the reason."""
    page = await signed_in(open_as, web_service, "admin", "/admin/staff")
    await page.click("[data-testid=add-user]")
    dialog = page.locator("[data-testid=dialog]")
    await dialog.locator("input[name=login]").fill("sogaz-new")
    await dialog.locator("input[name=full_name]").fill("Новикова Нина")
    await dialog.locator("select[name=organization]").select_option("sogaz")
    await dialog.locator("select[name=role]").select_option("operator")
    await dialog.locator("select[name=level]").select_option("1")
    await dialog.locator("input[name=interface]").fill("PJSIP/op102")
    await dialog.locator("input[name=password]").fill("fresh-password-1")
    await page.click("[data-testid=confirm]")
    await dialog.locator("[role=alert]", has_text="не принадлежит организации").wait_for()
    await dialog.locator("input[name=interface]").fill("PJSIP/op1101")
    await page.click("[data-testid=confirm]")
    await dialog.wait_for(state="detached")
    row = page.locator("[data-testid=staff-row][data-login=sogaz-new]")
    await row.wait_for()
    assert "оператор 1-го уровня" in await row.inner_text()
    await row.locator("[data-testid=change]").click()
    await dialog.locator("select[name=level]").select_option("2")
    await page.click("[data-testid=confirm]")
    await dialog.wait_for(state="detached")
    await row.locator("text=оператор 2-го уровня").wait_for()
    resp = await web_service.post("/api/v1/login",
                                  json={"login": "sogaz-new", "password": "fresh-password-1"})
    assert resp.status == 200 and (await resp.json())["user"]["interface"] == "PJSIP/op1101"


async def test_the_administrators_navigation_is_one_row_at_1366_and_1920(web_service, open_as) -> None:
    """Every section of the console in one row of the top bar on a 1366×768 laptop and a
    1920×1080 monitor, the user's name and «Выйти» beside them (screenshots: admin-nav-*)."""
    page = await signed_in(open_as, web_service, "admin", "/admin/cards")
    links = page.locator("nav.nav a")
    assert await links.count() >= 7
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(100)
        tops = {round((await links.nth(i).bounding_box())["y"]) for i in range(await links.count())}
        assert len(tops) == 1, (width, tops)
        bar = await page.locator("header.topbar").bounding_box()
        logout = await page.get_by_test_id("logout").bounding_box()
        assert bar["height"] < 60 and logout["x"] + logout["width"] <= width, (width, bar, logout)
        for i in range(await links.count()):
            box = await links.nth(i).bounding_box()
            assert box["height"] < 40, (width, await links.nth(i).inner_text())  # no wrapped title
    await shots(page, "admin-nav")
