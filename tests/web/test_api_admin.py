"""What the administrator console adds to the API: answer scripts, evaluation sheets, the staff
directory, a card's calls, the 59-ФЗ dates of a new written appeal, and the journal filters
exactly as the journal page sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hotline.web.keys import CARD_RULES, SESSIONS
from journal import cards
from journal.db import unit_of_work
from journal.models import AuditEntry, Call, Organization
from tests.support.api import Api

SCRIPT = {"title": "Как получить полис ОМС", "keywords": "полис ЕНП выдача",
          "body": "Полис выдаёт страховая медицинская организация.", "topic_code": "4.1"}


async def _org_id(api: Api, code: str) -> int:
    async with api.app[SESSIONS]() as session:
        return await session.scalar(select(Organization.id).where(Organization.code == code))


async def test_scripts_are_written_by_the_admin_and_read_by_operators_of_their_scope(api: Api) -> None:
    """Common scripts reach every operator, an organization's only its own; a withdrawn script
    disappears for operators; keyword search; operators cannot write."""
    await api.login("admin")
    common = await api.call("POST", "/api/v1/scripts", expect=201, json=SCRIPT)
    assert common["active"] is True and common["organization_id"] is None
    sogaz = await api.call("POST", "/api/v1/scripts", expect=201, json={
        "title": "Смена СМО", "keywords": "замена страховой", "body": "Раз в год до 1 ноября.",
        "organization_id": await _org_id(api, "sogaz")})
    bad = await api.call("POST", "/api/v1/scripts", expect=422, json={**SCRIPT, "topic_code": "99.9"})
    assert bad["error"]["code"] == "invalid_input" and "99.9" in bad["error"]["message"]
    empty = await api.call("POST", "/api/v1/scripts", expect=422, json={"title": "Без текста"})
    assert empty["error"]["message"] == "Заполните «Текст ответа»"

    await api.login("fund-op")
    assert [s["id"] for s in (await api.call("GET", "/api/v1/scripts"))["items"]] == [common["id"]]
    await api.login("sogaz-op")
    titles = [s["title"] for s in (await api.call("GET", "/api/v1/scripts"))["items"]]
    assert titles == ["Как получить полис ОМС", "Смена СМО"]
    found = await api.call("GET", "/api/v1/scripts", params={"q": "страховой"})
    assert [s["id"] for s in found["items"]] == [sogaz["id"]]
    refused = await api.call("POST", "/api/v1/scripts", expect=403, json=SCRIPT)
    assert refused["error"]["code"] == "forbidden"
    await api.call("PATCH", f"/api/v1/scripts/{common['id']}", expect=403, json={"active": False})

    await api.login("admin")
    withdrawn = await api.call("PATCH", f"/api/v1/scripts/{common['id']}", json={"active": False})
    assert withdrawn["active"] is False and withdrawn["title"] == SCRIPT["title"]
    assert len((await api.call("GET", "/api/v1/scripts"))["items"]) == 2
    await api.login("sogaz-op")
    assert [s["id"] for s in (await api.call("GET", "/api/v1/scripts"))["items"]] == [sogaz["id"]]
    async with api.app[SESSIONS]() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "script").order_by(AuditEntry.id)))
    assert actions == ["script_create", "script_create", "script_update"]


async def _answered_call(api: Api, operator_login: str, card_id: int | None = None) -> int:
    """A call the fund's operator answered, as the journal writer stores it."""
    operator = await api.user_actor(operator_login)
    async with unit_of_work(api.app[SESSIONS]) as session:
        call = Call(pbx_call_id=f"test-{datetime.now(UTC).timestamp()}", direction="in",
                    line_number="88007758565", organization_id=operator.organization_id,
                    caller_number="79131234567", started_at=datetime.now(UTC) - timedelta(minutes=5),
                    answered_at=datetime.now(UTC) - timedelta(minutes=4), outcome="answered",
                    answered_by_id=operator.user_id, card_id=card_id)
        session.add(call)
        await session.flush()
        return call.id


def _scores(criteria: list[dict[str, Any]], value: int = 2) -> dict[str, int]:
    return {c["code"]: value for c in criteria}


async def test_the_admin_evaluates_the_operator_who_took_the_call(api: Api) -> None:
    """Every criterion scored within its range; the total is the share of the maximum; the
    operator reads their own sheets only; the sheet is audited."""
    call_id = await _answered_call(api, "fund-op")
    await api.login("admin")
    criteria = (await api.call("GET", "/api/v1/evaluations"))["criteria"]
    assert criteria[0] == {"code": "greeting", "title": "Приветствие и представление по стандарту",
                           "max_score": 2}
    scores = _scores(criteria) | {"greeting": 1}
    missing = await api.call("POST", f"/api/v1/calls/{call_id}/evaluations", expect=422,
                             json={"scores": {"greeting": 2}})
    assert missing["error"]["message"].startswith("Оцените: «")
    too_high = await api.call("POST", f"/api/v1/calls/{call_id}/evaluations", expect=422,
                              json={"scores": scores | {"ethics": 3}})
    assert too_high["error"]["message"] == "«Вежливость, этика и деонтология»: балл от 0 до 2"
    sogaz_op = await api.user_actor("sogaz-op")
    stranger = await api.call("POST", f"/api/v1/calls/{call_id}/evaluations", expect=422,
                              json={"scores": scores, "operator_id": sogaz_op.user_id})
    assert stranger["error"]["message"] == "Этот оператор не принимал звонок"
    sheet = await api.call("POST", f"/api/v1/calls/{call_id}/evaluations", expect=201,
                           json={"scores": scores, "comment": "  Не представилась  "})
    fund_op = await api.user_actor("fund-op")
    assert sheet["operator_id"] == fund_op.user_id and sheet["call_id"] == call_id
    assert sheet["total"] == round(100 * (2 * len(criteria) - 1) / (2 * len(criteria)), 1)
    assert sheet["scores"] == scores and sheet["comment"] == "Не представилась"
    listed = await api.call("GET", "/api/v1/evaluations", params={"operator_id": fund_op.user_id})
    assert [e["id"] for e in listed["items"]] == [sheet["id"]]
    assert (await api.call("GET", "/api/v1/evaluations", params={"call_id": call_id + 1}))["items"] == []
    unknown = await api.call("POST", f"/api/v1/calls/{call_id + 100}/evaluations", expect=404,
                             json={"scores": scores})
    assert unknown["error"]["code"] == "not_found"

    await api.login("fund-op")
    assert [e["id"] for e in (await api.call("GET", "/api/v1/evaluations"))["items"]] == [sheet["id"]]
    refused = await api.call("POST", f"/api/v1/calls/{call_id}/evaluations", expect=403,
                             json={"scores": scores})
    assert refused["error"]["code"] == "forbidden"
    await api.login("sogaz-op")
    assert (await api.call("GET", "/api/v1/evaluations"))["items"] == []
    async with api.app[SESSIONS]() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "evaluate"))
    assert entry.login == "admin" and entry.object_id == str(sheet["id"])


async def test_staff_directory_is_scoped_and_carries_no_password_data(api: Api) -> None:
    await api.login("admin")
    everyone = (await api.call("GET", "/api/v1/staff"))["items"]
    assert {u["login"] for u in everyone} == {"admin", "fund-op", "sogaz-op"}
    assert all("password_hash" not in u for u in everyone)
    await api.login("sogaz-op")
    assert [u["login"] for u in (await api.call("GET", "/api/v1/staff"))["items"]] == ["sogaz-op"]


async def test_a_cards_calls_and_a_new_appeals_deadlines(api: Api) -> None:
    """`GET /api/v1/calls?card_id=` gives the card's calls; a registered written appeal comes
    back with its 59-ФЗ dates."""
    await api.login("admin")
    received = datetime.now(UTC) - timedelta(days=2)
    card = await api.call("POST", "/api/v1/cards", expect=201, json={
        "channel": "post", "received_at": received.isoformat(),
        "fields": {"applicant_name": "Соколова Вера", "appeal_type": "consultation",
                   "topic_code": "4.1", "content": "Вопрос о полисе"}})
    rules = api.app[CARD_RULES]
    zone = rules.deadlines.zone
    today = datetime.now(zone).date()
    assert card["deadlines"] == {
        "registration_due": (received.astimezone(zone).date() + timedelta(days=3)).isoformat(),
        "forwarding_due": (today + timedelta(days=7)).isoformat(),
        "answer_due": card["due_date"],
    }
    assert card["due_date"] == (today + timedelta(days=30)).isoformat()
    call_id = await _answered_call(api, "fund-op", card_id=card["id"])
    await _answered_call(api, "fund-op")
    calls = await api.call("GET", "/api/v1/calls", params={"card_id": card["id"]})
    assert [c["id"] for c in calls["items"]] == [call_id]


async def test_the_journal_pages_query_combines_every_filter(api: Api) -> None:
    """The journal page sends organization, status, received dates (region midnights), type,
    topic, level, channel and text together: only the card matching all of them comes back."""
    admin = await api.user_actor("admin")
    async with unit_of_work(api.app[SESSIONS]) as session:
        made = []
        for name, channel in (("Иванова Анна", "post"), ("Петрова Анна", "email")):
            card = await cards.create_written(
                session, admin, channel=channel, received_at=datetime.now(UTC) - timedelta(hours=2),
                fields={"applicant_name": name, "appeal_type": "consultation", "topic_code": "4.1",
                        "content": "Вопрос о полисе"}, rules=api.app[CARD_RULES])
            made.append(card)
        await cards.save(session, admin, made[0].id, {"responsible_level": 2}, made[0].version,
                         rules=api.app[CARD_RULES])
    zone = api.app[CARD_RULES].deadlines.zone
    today = datetime.now(zone).date()
    midnight = datetime.combine(today, datetime.min.time(), zone)
    await api.login("admin")
    query = {
        "organization_id": str(await _org_id(api, "tfoms")), "status": "in_work",
        "received_from": (midnight - timedelta(days=1)).isoformat(),
        "received_to": (midnight + timedelta(days=1)).isoformat(), "appeal_type": "consultation",
        "topic": "4", "level": "2", "channel": "post", "q": "иванова", "per_page": "50",
    }
    found = await api.call("GET", "/api/v1/cards", params=query)
    assert [c["id"] for c in found["items"]] == [made[0].id] and found["total"] == 1
    assert (await api.call("GET", "/api/v1/cards", params=query | {"channel": "email"}))["total"] == 0


async def test_the_administrator_disables_enables_and_resets_an_operators_account(api: Api) -> None:
    """An operator leaves, another forgets a password: the administrator disables the first
    (its session ends at once, sign-in refused, the directory shows it), enables it again,
    sets a new password for the second (the old one stops working); not their own account;
    each change is audited; an unknown id is 404 and audited as denied."""
    await api.login("sogaz-op")
    operator_csrf, operator_cookies = api.csrf, api.client.session.cookie_jar.filter_cookies(
        api.client.make_url("/"))
    operator = (await api.call("GET", "/api/v1/me"))["user"]["id"]
    await api.login("admin")
    admin = (await api.call("GET", "/api/v1/me"))["user"]["id"]
    done = await api.call("POST", f"/api/v1/staff/{operator}/disable")
    assert done == {"id": operator, "login": "sogaz-op", "active": False, "sessions_ended": 1}
    resp = await api.client.get("/api/v1/me", cookies={k: v.value for k, v in operator_cookies.items()},
                                headers={"X-CSRF-Token": operator_csrf})
    assert resp.status == 401
    listed = {u["id"]: u["active"] for u in (await api.call("GET", "/api/v1/staff"))["items"]}
    assert listed[operator] is False
    own = await api.call("POST", f"/api/v1/staff/{admin}/disable", expect=409)
    assert own["error"]["message"] == "Свою учётную запись отключить нельзя"
    missing = await api.call("POST", "/api/v1/staff/999999/enable", expect=404)
    assert missing["error"]["code"] == "not_found"
    await api.call("POST", f"/api/v1/staff/{operator}/enable")
    short = await api.call("POST", f"/api/v1/staff/{operator}/password", expect=422,
                           json={"password": "short"})
    assert short["error"]["message"] == "Пароль должен быть не короче 8 символов"
    await api.call("POST", f"/api/v1/staff/{operator}/password", expect=422, json={})
    await api.call("POST", f"/api/v1/staff/{operator}/password", json={"password": "new-secret-1"})
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": "new-secret-1"})
    assert resp.status == 200
    async with api.app[SESSIONS]() as session:
        entries = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "user",
                                     AuditEntry.action != "login").order_by(AuditEntry.id)))
    assert [(e.action, e.login, e.object_id) for e in entries] == [
        ("user_disable", "admin", str(operator)), ("denied", "admin", "999999"),
        ("user_enable", "admin", str(operator)), ("user_password", "admin", str(operator))]
