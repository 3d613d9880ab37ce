"""The rest of the API: its OpenAPI description, line modes, callbacks, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.web.keys import SESSIONS
from hotline.web.openapi import SUMMARIES, api_routes
from journal.db import unit_of_work
from journal.users import add_user
from tests.support.api import PASSWORD, Api


async def test_openapi_lists_every_route_with_a_summary(api: Api) -> None:
    doc = await api.call("GET", "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    routes = api_routes(api.app)
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert listed == set(routes) and len(routes) >= 22
    assert set(SUMMARIES) == set(routes)
    assert doc["paths"]["/api/v1/login"]["post"]["security"] == []


async def test_modes_without_a_pbx_come_from_the_schedule(api: Api) -> None:
    await api.login("fund-op")
    body = await api.call("GET", "/api/v1/modes")
    lines = {item["line"]: item for item in body["items"]}
    assert set(lines) == {"88007758565", "88002009204", "88001008102", "88007700799"}
    fund = lines["88007758565"]
    assert fund["mode"] in ("operator", "secretary") and fund["reason"]["text"]
    assert fund["next_switch"]["mode"] != fund["mode"]
    assert lines["88002009204"]["mode"] == "operator" and lines["88002009204"]["next_switch"] is None


async def test_a_deferred_answer_becomes_a_callback_visible_to_its_organization(api: Api) -> None:
    card = await api.written_card("sogaz-op")
    await api.login("sogaz-op")
    due = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    task = await api.call("POST", "/api/v1/callbacks", expect=201, json={
        "card_id": card.id, "contact_phone": "+7 913 123-45-67", "callback_due_at": due,
        "contact_name": "Иванова", "version": card.version,
    })
    assert task["status"] == "pending" and task["card_id"] == card.id
    assert [t["id"] for t in (await api.call("GET", "/api/v1/callbacks"))["items"]] == [task["id"]]
    no_pbx = await api.call("POST", f"/api/v1/callbacks/{task['id']}/dial", expect=503)
    assert no_pbx["error"]["code"] == "pbx_unavailable"
    await api.login("fund-op")
    assert (await api.call("GET", "/api/v1/callbacks"))["items"] == []
    hidden = await api.call("POST", "/api/v1/callbacks", expect=404, json={
        "card_id": card.id, "contact_phone": "+79131234567", "callback_due_at": due,
    })
    assert hidden["error"]["code"] == "not_found"


async def test_only_the_admin_reads_the_audit_log(api: Api) -> None:
    card = await api.written_card("sogaz-op")
    await api.login("sogaz-op")
    await api.call("GET", f"/api/v1/cards/{card.id}")
    refused = await api.call("GET", "/api/v1/audit", expect=403)
    assert refused["error"]["code"] == "forbidden"
    await api.login("admin")
    log = await api.call("GET", "/api/v1/audit", params={"object_type": "card", "action": "view"})
    assert [(e["login"], e["object_id"]) for e in log["items"]] == [("sogaz-op", str(card.id))]
    assert log["items"][0]["remote_addr"] == "127.0.0.1"


async def test_my_callbacks_are_the_ones_i_deferred_and_name_their_card(api: Api) -> None:
    """`assigned=me` narrows the organization's callbacks to the operator's own; each item
    carries its card's number for the list."""
    await api.add_user("fund-op2", "tfoms")
    mine = await api.written_card("fund-op")
    theirs = await api.written_card("fund-op2")
    due = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    await api.login("fund-op2")
    other = await api.call("POST", "/api/v1/callbacks", expect=201, json={
        "card_id": theirs.id, "contact_phone": "+79131234567", "callback_due_at": due,
    })
    await api.login("fund-op")
    task = await api.call("POST", "/api/v1/callbacks", expect=201, json={
        "card_id": mine.id, "contact_phone": "+79131234568", "callback_due_at": due,
    })
    everyone = (await api.call("GET", "/api/v1/callbacks"))["items"]
    assert {t["id"] for t in everyone} == {task["id"], other["id"]}
    own = (await api.call("GET", "/api/v1/callbacks?assigned=me&status=all"))["items"]
    assert [(t["id"], t["card_number"]) for t in own] == [(task["id"], mine.number)]
    refused = await api.call("GET", "/api/v1/callbacks?assigned=someone", expect=422)
    assert refused["error"]["code"] == "invalid_input"


async def test_the_agent_state_tells_the_pbx_link_state(api: Api) -> None:
    """Without a PBX the workspace learns it from `GET /api/v1/agent` (`pbx: disabled`)."""
    async with unit_of_work(api.app[SESSIONS]) as session:
        await add_user(session, login="phone-op", password=PASSWORD, full_name="Phone Op",
                       role="operator", organization_code="tfoms", level=1,
                       interface="PJSIP/op102")
    await api.login("phone-op")
    body = await api.call("GET", "/api/v1/agent")
    assert body["pbx"] == "disabled" and body["agent"]["queue"] == "l1-tfoms"
