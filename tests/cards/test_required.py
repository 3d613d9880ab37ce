"""What a card needs before it moves on (issue 16): «Исполнено» and the registration of a
written appeal are refused with 422 naming, in Russian, every field still empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import Api


async def test_done_is_refused_naming_every_empty_field(api: Api) -> None:
    """An untouched card cannot be done: 422 naming type, topic, content, applicant and
    measures; a complaint also needs its verdict; an anonymous one needs no applicant."""
    card = await api.written_card("fund-op", applicant_phone="+79130000001")
    await api.login("fund-op")
    refused = await api.call("POST", f"/api/v1/cards/{card.id}/complete",
                             json={"version": card.version}, expect=422)
    error = refused["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["fields"] == [
        "appeal_type", "topic_code", "content", "applicant_name", "measures_taken"]
    assert error["details"]["field"] == "appeal_type"
    assert error["message"] == (
        "Чтобы отметить карточку исполненной, заполните: «Вид обращения», «Тематика», "
        "«Содержание обращения», «ФИО заявителя», «Принятые меры»")
    assert error["details"]["messages"]["applicant_name"] == (
        "Укажите ФИО заявителя или отметьте «Анонимное обращение»")

    complaint = {"appeal_type": "complaint", "topic_code": "2", "content": "Взяли деньги",
                 "anonymous": True, "measures_taken": "Направлен запрос в МО"}
    refused = await api.call("POST", f"/api/v1/cards/{card.id}/complete",
                             json={"version": card.version, "changes": complaint}, expect=422)
    assert refused["error"]["details"]["fields"] == ["justified"]
    assert refused["error"]["message"] == "Для жалобы укажите, обоснована ли она"
    done = await api.call("POST", f"/api/v1/cards/{card.id}/complete", json={
        "version": card.version, "changes": complaint | {"justified": True}})
    assert done["status"] == "done"


async def test_an_empty_written_appeal_is_not_registered(api: Api) -> None:
    """«Зарегистрировать» with nothing filled: 422 naming what a registration needs, no
    number taken; filled (anonymous, so without a name) it is registered."""
    await api.login("fund-op")
    received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    refused = await api.call("POST", "/api/v1/cards", json={
        "channel": "post", "received_at": received, "fields": {}}, expect=422)
    assert refused["error"]["details"]["fields"] == [
        "appeal_type", "topic_code", "content", "applicant_name"]
    assert refused["error"]["message"].startswith("Чтобы зарегистрировать обращение, заполните: ")
    listed = await api.call("GET", "/api/v1/cards")
    assert listed["total"] == 0
    made = await api.call("POST", "/api/v1/cards", json={
        "channel": "post", "received_at": received,
        "fields": {"appeal_type": "consultation", "topic_code": "4.1", "anonymous": True,
                   "content": "Как получить полис"}}, expect=201)
    assert made["number"].endswith("-000001")


async def test_the_dictionaries_carry_each_steps_requirements(api: Api) -> None:
    """The forms show the same list beside the fields: GET /api/v1/dictionaries."""
    await api.login("fund-op")
    body = await api.call("GET", "/api/v1/dictionaries")
    complete = {r["field"]: r for r in body["requirements"]["complete"]}
    assert complete["justified"]["for_type"] == "complaint"
    assert complete["applicant_name"]["unless"] == "anonymous"
    assert complete["measures_taken"]["title"] == "Принятые меры"
    assert [r["field"] for r in body["requirements"]["register"]] == [
        "appeal_type", "topic_code", "content", "applicant_name"]
