"""Контроль разговоров in a real headless Chromium, against the PBX simulator's ChanSpy legs.

The administrator (at the fund's supervisor phone sup100), then the fund's supervisor (at
sup101), each on the live board: «Прослушать» on a call in conversation, the board shows who
listens and how («… — слушает»), «Подсказать» / «Вмешаться» switch the mode, «Завершить» ends
it; the supervisor's board shows their own organization only. The call's card page lists the
whole supervision in Russian. Screenshots at 1366×768 and 1920×1080 (test-output/screenshots/).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from hotline.config import Settings
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Call, User
from journal.users import add_user
from tests.support.browser import PASSWORD, shot
from tests.support.service import FUND_LINE, INSURER_LINE

CITIZEN = "79131234567"
INSURED = "79137654321"
CITIZEN_SHOWN = "+7 913 123-45-67"  # as the board writes the numbers
INSURED_SHOWN = "+7 913 765-43-21"
LONG_TALK = Timing(talk=3000.0, level2_talk=3000.0)
SIZES = ((1366, 768), (1920, 1080))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fund gets a second supervisor phone (sup101): its supervisor's."""
    orgs = tuple(
        org.model_copy(update={"supervisor_phones": (*org.supervisor_phones, "sup101")})
        if org.code == "tfoms" else org
        for org in settings.organizations
    )
    return settings.model_copy(update={"organizations": orgs})


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=5,
                            timing=LONG_TALK) as simulator:
        yield simulator


async def board_as(open_as, client, login: str):
    page = await open_as(client, login, "/admin/board")
    await page.wait_for_function("() => !location.pathname.startsWith('/login')")
    await page.locator("[data-testid=board-line]").first.wait_for()
    return page


async def shots(page, name: str) -> None:
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(150)
        await shot(page, f"{name}-{width}", full_page=False)


async def listen_whisper_and_end(page, who: str, second: tuple[str, str]) -> None:
    """«Прослушать», the listener shown on the call and its operator, `second` mode, «Завершить»."""
    call = page.locator("[data-testid=board-call][data-state=talking]")
    await call.locator("[data-testid=spy-listen]").click()
    listener = call.locator("[data-testid=board-listener][data-mode=listen]")
    await listener.wait_for()
    assert await listener.inner_text() == f"{who} — слушает"
    operator = page.locator("[data-testid=board-operator][data-interface='PJSIP/op101'] "
                            "[data-testid=operator-listener]")
    assert await operator.inner_text() == f"{who} — слушает"
    assert await call.locator("[data-testid=spy-listen]").is_disabled()
    mode, words = second
    await call.locator(f"[data-testid=spy-{mode}]").click()
    switched = call.locator(f"[data-testid=board-listener][data-mode={mode}]")
    await switched.wait_for()
    assert await switched.inner_text() == f"{who} — {words}"
    await call.locator("[data-testid=spy-stop]").wait_for()


async def test_listening_whispering_and_ending_from_the_board_and_the_card(
    pbx_service, sim, open_as
) -> None:
    app = pbx_service.server.app
    async with unit_of_work(app[SESSIONS]) as db:
        await db.execute(update(User).where(User.login == "admin")
                         .values(interface="PJSIP/sup100"))
        await add_user(db, login="fund-sup", password=PASSWORD, full_name="Руководитель Фонда",
                       role="supervisor", organization_code="tfoms", interface="PJSIP/sup101")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    sim.place_call(INSURER_LINE, INSURED, "Соколов Пётр", "answered", agent="PJSIP/op1100")

    # The administrator: every call; listens, whispers, ends.
    admin = await board_as(open_as, pbx_service, "admin")
    await admin.locator("[data-testid=board-call][data-state=talking]").nth(1).wait_for()
    fund_call = admin.locator("[data-testid=board-call][data-state=talking]", has_text=CITIZEN_SHOWN)
    await fund_call.locator("[data-testid=spy-listen]").click()
    listener = fund_call.locator("[data-testid=board-listener][data-mode=listen]")
    await listener.wait_for()
    assert await listener.inner_text() == "Администратор Центра — слушает"
    await shots(admin, "supervision-admin-listening")
    await fund_call.locator("[data-testid=spy-whisper]").click()
    await fund_call.locator("[data-testid=board-listener][data-mode=whisper]").wait_for()
    assert await fund_call.locator("[data-testid=board-listener]").inner_text() == (
        "Администратор Центра — подсказывает")
    await shots(admin, "supervision-admin-whisper")
    # The operators' list carries the same controls on the listened operator's row.
    row = admin.locator("[data-testid=board-operator]",
                        has=admin.locator("[data-testid=operator-listener]"))
    assert await row.locator("[data-testid=operator-spy-whisper]").is_disabled()
    assert await row.locator("[data-testid=operator-spy-stop]").is_visible()
    await fund_call.locator("[data-testid=spy-stop]").click()
    await fund_call.locator("[data-testid=board-listener]").wait_for(state="detached")
    assert await fund_call.locator("[data-testid=spy-stop]").count() == 0

    # The fund's supervisor: their organization's call only; listens, barges in, ends.
    chief = await board_as(open_as, pbx_service, "fund-sup")
    await chief.locator("[data-testid=board-call][data-state=talking]").wait_for()
    assert await chief.locator("[data-testid=board-call]").count() == 1
    text = await chief.locator("main").inner_text()
    assert INSURED_SHOWN not in text and INSURER_LINE not in text and CITIZEN_SHOWN in text
    assert "8-800-200-92-04" not in text  # the insurer's line as the figures write it
    interfaces = await chief.locator("[data-testid=board-operator]").evaluate_all(
        "rows => rows.map(r => r.dataset.interface)")
    assert interfaces and all(i in ("PJSIP/op101", "PJSIP/op102", "PJSIP/op201")
                              for i in interfaces), interfaces
    await listen_whisper_and_end(chief, "Руководитель Фонда", ("barge", "вмешивается"))
    # The administrator's board shows the supervisor by name too.
    await fund_call.locator("[data-testid=board-listener][data-mode=barge]").wait_for()
    assert await fund_call.locator("[data-testid=board-listener]").inner_text() == (
        "Руководитель Фонда — вмешивается")
    await shots(chief, "supervision-supervisor-barge")
    await chief.locator("[data-testid=spy-stop]").click()
    await chief.locator("[data-testid=board-listener]").wait_for(state="detached")

    # The call's card page: the whole supervision, in words.
    async with app[SESSIONS]() as db:
        call = await db.scalar(select(Call).where(Call.caller_number == CITIZEN))
    await chief.goto(f"/admin/calls/{call.id}")
    history = chief.locator("[data-testid=call-supervision]")
    await history.locator("[data-testid=supervision-event]").nth(5).wait_for()
    items = await history.locator("[data-testid=supervision-event]").all_inner_texts()
    assert len(items) == 6, items
    assert "Администратор Центра: начало — прослушивание (оператор" in items[0]
    assert "Администратор Центра: режим «прослушивание» → «подсказка оператору»" in items[1]
    assert "Администратор Центра: окончание — длилось" in items[2]
    assert "завершено со страницы" in items[2]
    assert "Руководитель Фонда: режим «прослушивание» → «вмешательство в разговор»" in items[4]
    whole = " ".join(items)
    for raw in ("listen", "whisper", "barge", "supervise_", "page", "PJSIP/", "undefined"):
        assert raw not in whole, (raw, items)
    await history.scroll_into_view_if_needed()
    await shots(chief, "supervision-card")
