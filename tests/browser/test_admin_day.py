"""The administrator's day (issue 16): a registered written appeal is under consideration,
and a card that is not closed can be corrected, with the reason in its history."""

from __future__ import annotations

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.models import Card
from tests.support.screens import shots
from tests.support.admin_pages import signed_in


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


async def test_the_audit_log_and_the_workspace_speak_russian(web_service, open_as) -> None:
    """The access log names actions, fields, filters and reports in Russian (no
    `callback_take`, `applicant_phone` or JSON); the workspace names its queue, not
    `l1-tfoms`."""
    from datetime import UTC, datetime, timedelta

    from hotline.web.keys import CARD_RULES
    from journal import callbacks, cards
    from journal.actors import Actor
    from journal.db import unit_of_work
    from journal.models import CallbackTask, User
    from tests.support.workspace import _written_card

    app = web_service.server.app
    card = await _written_card(web_service, "op101", applicant_name="Орлов Иван")
    async with unit_of_work(app[SESSIONS]) as session:
        op101 = Actor.of(await session.scalar(select(User).where(User.login == "op101")))
        saved = await cards.save(session, op101, card.id, {"applicant_phone": "+79130000009"},
                                 card.version, rules=app[CARD_RULES])
        task = CallbackTask(card_id=card.id, organization_id=saved.organization_id,
                            status="pending", attempts=0, contact_phone="+79130000009",
                            due_at=datetime.now(UTC) + timedelta(hours=1),
                            created_at=datetime.now(UTC))
        session.add(task)
        await session.flush()
        await callbacks.take(session, op101, task.id)

    workspace = await open_as(web_service, "op101", "/operator")
    await workspace.wait_for_selector("body[data-ready=true]")
    queue = workspace.locator("#agent-queue")
    await workspace.wait_for_function("() => document.getElementById('agent-queue').textContent !== ''")
    assert (await queue.inner_text()).startswith("очередь: 1 уровень — ТФОМС Алтайского края")

    page = await signed_in(open_as, web_service, "admin", "/admin/cards")
    await page.evaluate("fetch('/api/v1/reports/pg?period=2026Q4')")
    await page.goto("/admin/audit")
    await page.locator("[data-testid=audit-row]").first.wait_for()
    await page.locator("[data-testid=audit-row][data-action=export]").wait_for()
    text = await page.inner_text("#audit")
    for russian in ("Обратный звонок взят", "поля: Телефон, Статус", "отчёт: форма ПГ", "период: 4 квартал 2026",
                    "исполнитель: Иванова Мария", "статус: ожидает",
                    "Список / поиск"):
        assert russian in text, russian
    for raw in ("callback_take", "applicant_phone", "{", "№pg", "organization_id", "фильтр: ;",
                "pending"):
        assert raw not in text, raw
    await shots(page, "admin-audit-russian")


async def test_the_widest_report_table_scrolls_instead_of_being_cut(web_service, open_as) -> None:
    """At 1366 px the calls table (16 columns) scrolls inside its frame: nothing of it is
    cut off by the page and the page itself does not scroll sideways."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from journal.db import unit_of_work
    from journal.models import Call
    from tests.support.service import FUND_LINE

    async with unit_of_work(web_service.server.app[SESSIONS]) as session:
        for n in range(30):  # a call an hour: the table is long as well as wide
            started = datetime.now(UTC) - timedelta(minutes=30 + 60 * n)
            session.add(Call(pbx_call_id=f"1700000000.{n + 2}", direction="in",
                             line_number=FUND_LINE, caller_number="79131234567",
                             started_at=started, answered_at=started + timedelta(seconds=20),
                             ended_at=started + timedelta(minutes=3), outcome="answered"))
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Barnaul"))
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    page = await signed_in(open_as, web_service, "admin", f"/admin/reports?report=calls&period={quarter}")
    await page.set_viewport_size({"width": 1366, "height": 768})
    table = page.locator("[data-testid=calls-table]")
    await table.wait_for()
    sizes = await page.evaluate("""() => {
        const wrap = document.querySelector('[data-testid=calls-table]').parentElement;
        const box = wrap.getBoundingClientRect();
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                wrapRight: box.right, wrapScroll: wrap.scrollWidth, wrapClient: wrap.clientWidth,
                overflow: getComputedStyle(wrap).overflowX, height: box.height,
                rows: wrap.querySelectorAll('tbody tr').length, viewHeight: window.innerHeight};
    }""")
    assert sizes["page"] <= sizes["view"], sizes
    assert sizes["wrapRight"] <= sizes["view"], sizes
    assert sizes["overflow"] == "auto" and sizes["wrapScroll"] > sizes["wrapClient"], sizes
    # Long as well as wide, yet its sideways scrollbar is within one window's height.
    assert sizes["rows"] >= 4 and sizes["height"] <= 0.8 * sizes["viewHeight"], sizes
    await shots(page, "admin-report-calls")
