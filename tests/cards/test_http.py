"""The cards API: the journal's access rules hold on every path, errors are JSON with codes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import Api


async def test_an_insurers_operator_cannot_reach_the_funds_card_by_any_path(api: Api) -> None:
    """Another organization's card is "not found" (404), never "forbidden": no leak."""
    card = await api.written_card("fund-op")
    await api.login("sogaz-op")
    base = f"/api/v1/cards/{card.id}"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"version": card.version, "changes": {"content": "чужое"}}),
        ("POST", f"{base}/close", {}),
        ("POST", f"{base}/cancel", {"reason": "чужое"}),
        ("GET", f"{base}/history", None),
    ]:
        answer = await api.call(method, path, expect=404, json=body)
        assert answer["error"]["code"] == "not_found"
    listed = await api.call("GET", "/api/v1/cards")
    assert listed["total"] == 0 and listed["items"] == []
    await api.login("fund-op")
    assert [c["id"] for c in (await api.call("GET", "/api/v1/cards"))["items"]] == [card.id]


async def test_the_admin_sees_every_card_and_closes_a_done_one(api: Api) -> None:
    fund = await api.written_card("fund-op")
    insurer = await api.written_card("sogaz-op")
    await api.login("admin")
    listed = await api.call("GET", "/api/v1/cards")
    assert {c["id"] for c in listed["items"]} == {fund.id, insurer.id} and listed["total"] == 2
    done = await api.call("POST", f"/api/v1/cards/{insurer.id}/complete", json={
        "version": insurer.version, "changes": {
            "measures_taken": "Дан ответ по телефону", "appeal_type": "consultation",
            "topic_code": "4.1", "content": "Вопрос о полисе"},
    })
    assert done["status"] == "done"
    closed = await api.call("POST", f"/api/v1/cards/{insurer.id}/close", json={"version": done["version"]})
    assert closed["status"] == "closed"
    refused = await api.call("PATCH", f"/api/v1/cards/{insurer.id}", expect=409,
                             json={"version": closed["version"], "changes": {"content": "поздно"}})
    assert refused["error"]["code"] == "invalid_transition"
    history = await api.call("GET", f"/api/v1/cards/{insurer.id}/history")
    assert [h["action"] for h in history["items"]] == ["create", "complete", "close"]


async def test_an_operator_registers_saves_and_cannot_close(api: Api) -> None:
    await api.login("sogaz-op")
    card = await api.call("POST", "/api/v1/cards", expect=201, json={
        "channel": "email", "received_at": datetime.now(UTC).isoformat(),
        "fields": {"applicant_name": "Петров Пётр", "content": "Вопрос о полисе",
                   "appeal_type": "consultation", "topic_code": "4.1"},
    })
    assert card["number"].startswith("SOGAZ-") and card["status"] == "in_work"
    saved = await api.call("PATCH", f"/api/v1/cards/{card['id']}",
                           json={"version": card["version"], "changes": {"content": "Уточнено"}})
    assert saved["status"] == "in_work" and saved["content"] == "Уточнено"
    stale = await api.call("PATCH", f"/api/v1/cards/{card['id']}", expect=409,
                           json={"version": card["version"], "changes": {"content": "старое"}})
    assert stale["error"]["code"] == "conflict"
    refused = await api.call("POST", f"/api/v1/cards/{card['id']}/close", expect=403, json={})
    assert refused["error"]["code"] == "forbidden"
    bad = await api.call("POST", "/api/v1/cards", expect=422, json={"channel": "hotline",
                         "received_at": datetime.now(UTC).isoformat()})
    assert bad["error"]["code"] == "invalid_input" and bad["error"]["message"]


@pytest.mark.parametrize("path", [
    "/api/v1/cards/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/cards/../../etc/passwd",
    "/api/v1/cards/1%00",
    "/api/v1/cards/-1",
    "/api/v1/cards/99999999999999999999999",
    "/api/v1/cards/١",
    "/api/v1/calls/..%2F1",
    "/api/v1/recordings/..%2F..%2Fhotline.toml/audio",
])
async def test_anything_but_a_plain_id_in_the_path_is_not_found(api: Api, path: str) -> None:
    await api.written_card("sogaz-op")
    await api.login("admin")
    resp = await api.client.get(path)
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", [
    {"q": "' OR 1=1 --"},
    {"phone": "'; DROP TABLE cards; --"},
    {"status": "draft') OR ('1'='1"},
    {"topic": "%"},
    {"channel": "post\" OR \"\"=\""},
])
async def test_injection_strings_in_filters_find_nothing(api: Api, query: dict[str, str]) -> None:
    await api.written_card("sogaz-op")
    await api.login("admin")
    body = await api.call("GET", "/api/v1/cards", params=query)
    assert body["total"] == 0
    assert (await api.call("GET", "/api/v1/cards"))["total"] == 1


@pytest.mark.parametrize("query", [
    {"page": "1 OR 1=1"}, {"per_page": "0"}, {"level": "1;--"},
    {"received_from": "yesterday"}, {"received_from": "2026-01-01T00:00"},
])
async def test_malformed_filters_are_invalid_input(api: Api, query: dict[str, str]) -> None:
    await api.login("admin")
    body = await api.call("GET", "/api/v1/cards", params=query, expect=422)
    assert body["error"]["code"] == "invalid_input"


async def test_malformed_and_oversized_bodies(api: Api) -> None:
    await api.login("sogaz-op")
    headers = {"Content-Type": "application/json"}
    bad = await api.call("POST", "/api/v1/cards", expect=400, data="{not json", headers=headers)
    assert bad["error"]["code"] == "bad_json"
    listed = await api.call("POST", "/api/v1/cards", expect=400, data="[1, 2]", headers=headers)
    assert listed["error"]["code"] == "bad_json"
    huge = await api.call("POST", "/api/v1/cards", expect=413, data=io.BytesIO(b"x" * (1024 * 1024 + 10)),
                          headers=headers)
    assert huge["error"]["code"] == "too_large"
    unknown = await api.call("GET", "/api/v1/nowhere", expect=404)
    assert unknown["error"]["code"] == "not_found"


async def test_extend_forward_and_cancel_through_the_api(api: Api) -> None:
    """Forwarding moves the card out of the operator's sight; the receiver can cancel it."""
    card = await api.written_card("sogaz-op")
    await api.add_user("kapital-op", "kapital")
    await api.login("sogaz-op")
    base = f"/api/v1/cards/{card.id}"
    missing = await api.call("POST", f"{base}/extend", expect=422, json={"reason": "проверка"})
    assert missing["error"]["code"] == "invalid_input"
    extended = await api.call("POST", f"{base}/extend", json={
        "new_due": (card.due_date + timedelta(days=20)).isoformat(), "reason": "запрос в МО",
    })
    assert extended["extension_reason"] == "запрос в МО"
    forwarded = await api.call("POST", f"{base}/forward",
                               json={"to_organization": "kapital", "reason": "не наш застрахованный"})
    assert forwarded["organization_id"] != card.organization_id
    await api.call("GET", base, expect=404)
    await api.login("kapital-op")
    cancelled = await api.call("POST", f"{base}/cancel", json={"reason": "дубликат"})
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "дубликат"


async def test_dictionaries_offer_the_form_pg_topics_and_russian_titles(api: Api) -> None:
    """A card form gets the topic codes valid today and every choice named in Russian."""
    await api.login("fund-op")
    body = await api.call("GET", "/api/v1/dictionaries")
    topics = {t["code"]: t for t in body["topics"]}
    assert topics["3.2.2"]["title"] == "О замене СМО"
    assert topics["3.2.2"]["parent_code"] == "3.2"
    assert {r["code"] for r in body["complaint_reasons"]} >= {"11", "17.1"}
    assert {"value": "complaint", "title": "жалоба"} in body["appeal_types"]
    assert {"value": "in_work", "title": "в работе"} in body["statuses"]
    assert {o["code"] for o in body["organizations"]} >= {"tfoms", "sogaz"}
    assert body["fields"]["applicant_policy"] == "ЕНП"
