"""Written appeals count, and cards can be corrected (issue 16): a registered written appeal
is under consideration (form ПГ counts it); the administrator corrects any field of a card
that is not closed, with a reason kept in its history; nobody else may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.web.keys import CARD_RULES
from journal.access import may_correct_cards
from journal.actors import Actor
from tests.support.api import Api

APPEAL = {"appeal_type": "consultation", "topic_code": "4.1", "content": "Как получить полис",
          "applicant_name": "Соколова Вера Андреевна"}


async def _register(api: Api, **fields: object) -> dict:
    received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return await api.call("POST", "/api/v1/cards", expect=201, json={
        "channel": "post", "received_at": received, "fields": APPEAL | fields})


async def test_a_registered_written_appeal_is_under_consideration_and_form_pg_counts_it(
    api: Api
) -> None:
    await api.login("admin")
    card = await _register(api)
    assert card["status"] == "in_work"
    history = await api.call("GET", f"/api/v1/cards/{card['id']}/history")
    assert history["items"][0]["changes"]["status"] == [None, "in_work"]
    today = datetime.now(api.app[CARD_RULES].deadlines.zone).date()
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    report = await api.call("GET", "/api/v1/reports/pg", params={"period": quarter})
    total = next(r for r in report["table_1_1"] if r["code"] == "1")
    assert total["all"]["total"] == 1 and total["all"]["written"] == 1


async def test_the_administrator_corrects_any_field_of_an_open_card_with_a_reason(
    api: Api
) -> None:
    """Topic and receipt moment corrected, old → new and the reason in the history; a done
    card stays complete; a closed one refuses; an operator may not correct."""
    await api.login("admin")
    card = await _register(api)
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    fixed = await api.call("POST", f"/api/v1/cards/{card['id']}/correct", json={
        "version": card["version"], "reason": "Ошибка при регистрации",
        "changes": {"topic_code": "4.2", "received_at": received.isoformat()}})
    assert fixed["topic_code"] == "4.2" and fixed["status"] == "in_work"
    assert datetime.fromisoformat(fixed["received_at"]) == received
    last = (await api.call("GET", f"/api/v1/cards/{card['id']}/history"))["items"][-1]
    assert last["action"] == "correct" and last["comment"] == "Ошибка при регистрации"
    assert last["changes"]["topic_code"] == ["4.1", "4.2"]
    assert set(last["changes"]) == {"topic_code", "received_at"}
    no_reason = await api.call("POST", f"/api/v1/cards/{card['id']}/correct", expect=422, json={
        "version": fixed["version"], "reason": " ", "changes": {"content": "x"}})
    assert no_reason["error"]["message"] == "Укажите причину исправления"

    await api.login("fund-op")
    refused = await api.call("POST", f"/api/v1/cards/{card['id']}/correct", expect=403, json={
        "version": fixed["version"], "reason": "хочу", "changes": {"content": "x"}})
    assert refused["error"]["message"] == "Исправлять карточки может только администратор контакт-центра"

    await api.login("admin")
    done = await api.call("POST", f"/api/v1/cards/{card['id']}/complete", json={
        "version": fixed["version"], "changes": {"measures_taken": "Разъяснено"}})
    emptied = await api.call("POST", f"/api/v1/cards/{card['id']}/correct", expect=422, json={
        "version": done["version"], "reason": "проверка", "changes": {"measures_taken": ""}})
    assert emptied["error"]["details"]["fields"] == ["measures_taken"]
    closed = await api.call("POST", f"/api/v1/cards/{card['id']}/close", json={"version": done["version"]})
    late = await api.call("POST", f"/api/v1/cards/{card['id']}/correct", expect=409, json={
        "version": closed["version"], "reason": "поздно", "changes": {"content": "x"}})
    assert late["error"]["code"] == "invalid_transition"


def test_who_may_correct_cards_is_one_rule() -> None:
    """The administrator may; an operator, the system administrator and the PBX may not."""
    assert may_correct_cards(Actor(1, "admin", "admin", 1))
    assert not may_correct_cards(Actor(2, "op", "operator", 1))
    assert not may_correct_cards(Actor(3, "root", "sysadmin", None))
    assert not may_correct_cards(Actor.system("pbx"))
