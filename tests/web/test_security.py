"""Issue 15's access boundaries and hostile input, each as the attacker tried it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.web.keys import SESSIONS
from hotline.web.pages import _safe_next
from journal.models import AuditEntry
from tests.support.api import PASSWORD, Api


@pytest.mark.parametrize("value", [
    "//evil.example", "/%09/evil.example".replace("%09", "\t"), "/\t/evil.example",
    "/\r\n/evil.example", "/\n/evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "https://evil.example/", "javascript:alert(1)", "/\x7f/evil.example",
    "evil.example", "",
])
def test_next_after_sign_in_is_never_another_site(value: str) -> None:
    """Browsers drop tab, CR and LF and read `\\` as `/`: none of these may leave the site."""
    assert _safe_next(value) is None


@pytest.mark.parametrize("value", ["/admin/cards?status=in_work&page=2", "/operator", "/a//b"])
def test_next_after_sign_in_keeps_own_paths(value: str) -> None:
    assert _safe_next(value) == value


async def test_open_redirect_with_a_tab_is_refused_after_sign_in(api: Api) -> None:
    """`/login?next=/%09/evil.example` signed in: back to one's own start page, not away."""
    await api.login("admin")
    resp = await api.client.get("/login?next=/%09/evil.example", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/admin/cards"
    api.client.session.cookie_jar.clear()
    page = await api.client.get("/login?next=/%0D%0A/evil.example")
    assert 'data-next=""' in await page.text()


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
])
async def test_login_with_a_form_of_another_site_is_refused(api: Api, content_type: str | None) -> None:
    """A foreign page's `enctype="text/plain"` form cannot sign a browser in: 415, no cookie."""
    body = f'{{"login": "admin", "password": "{PASSWORD}", "x": "="}}'
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await api.client.post("/api/v1/login", data=body.encode(), headers=headers,
                                 skip_auto_headers=["Content-Type"])
    answer = await resp.json()
    assert resp.status == 415, answer
    assert answer["error"]["code"] == "unsupported_media_type"
    assert "hotline_session" not in {c.key for c in api.client.session.cookie_jar}


async def test_json_routes_take_json_only(api: Api) -> None:
    """Every body-reading route refuses what is not application/json with 415."""
    await api.login("fund-op")
    answer = await api.call("POST", "/api/v1/cards", expect=415, data=b'{"channel": "post"}',
                            headers={"Content-Type": "text/plain"})
    assert answer["error"]["code"] == "unsupported_media_type"
    ok = await api.call("POST", "/api/v1/login", expect=200,
                        data=f'{{"login": "admin", "password": "{PASSWORD}"}}'.encode(),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok["user"]["login"] == "admin"


# ------------------------------------------------------------------ 500s that must be 4xx


async def test_refusals_whose_details_are_named_like_the_error_are_json(api: Api) -> None:
    """A refusal's details named `status` or `code` (a card's status, an organization's code)
    used to collide with `error_response`'s own arguments: a plain-text 500."""
    card = await api.written_card("fund-op")
    await api.login("admin")
    closed = await api.call("POST", f"/api/v1/cards/{card.id}/close", expect=409,
                            json={"version": card.version})
    assert closed["error"]["code"] == "invalid_transition"
    forward = await api.call("POST", f"/api/v1/cards/{card.id}/forward", expect=404,
                             json={"version": card.version, "to_organization": "nope",
                                   "reason": "не наш вопрос"})
    assert forward["error"]["code"] == "not_found"
    assert forward["error"]["details"]["code"] == "nope"


async def test_a_lone_surrogate_in_a_json_string_is_invalid_input(api: Api) -> None:
    """`"\\ud800"` is valid JSON but no character: 422 before it reaches the database."""
    await api.login("fund-op")
    for body in ('{"channel": "post", "fields": {"applicant_name": "\\ud800"}}',
                 '{"\\udfff": 1}', '{"login": "x\\ud83d", "password": "y"}'):
        path = "/api/v1/login" if "login" in body else "/api/v1/cards"
        answer = await api.call("POST", path, expect=422, data=body.encode(),
                                headers={"Content-Type": "application/json"})
        assert answer["error"]["code"] == "invalid_input"


async def _raw(api: Api, request: bytes) -> bytes:
    """One HTTP/1.1 request sent byte for byte (a client library would not send these)."""
    import asyncio

    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def test_headers_that_are_not_utf8_answer_before_authentication(api: Api) -> None:
    """Bytes that are not UTF-8 in the Cookie or X-CSRF-Token header: 401/403 JSON, not 500."""
    await api.login("admin")
    cookie = next(c for c in api.client.session.cookie_jar if c.key == "hotline_session").value
    answers = [
        await _raw(api, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Cookie: hotline_session=\xff\xfe\x80abc\r\n\r\n"),
        await _raw(api, b"GET /admin/cards HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Cookie: hotline_session=\xc3\x28\r\n\r\n"),
        await _raw(api, b"POST /api/v1/logout HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Cookie: hotline_session=" + cookie.encode() + b"\r\n"
                        b"X-CSRF-Token: \xff\xfe\xfd\r\nContent-Length: 0\r\n\r\n"),
    ]
    statuses = [int(a.split(b" ", 2)[1]) for a in answers]
    assert statuses == [401, 302, 403], answers
    assert b'"unauthenticated"' in answers[0] and b'"csrf"' in answers[2]


@pytest.mark.parametrize("period", ["0000", "9999", "0000-01", "9999-12", "9999Q4", "0001Q1",
                                    "٢٠٢٦"])
async def test_report_periods_out_of_range_are_invalid_input(api: Api, period: str) -> None:
    await api.login("admin")
    for report in ("pg", "calls", "quality"):
        answer = await api.call("GET", f"/api/v1/reports/{report}", expect=422,
                                params={"period": period})
        assert answer["error"]["code"] == "invalid_input"


# ------------------------------------------------------------------ lesser items


async def test_a_refused_page_is_audited_like_the_api(api: Api) -> None:
    """Another organization's card page is a 404 page and a `denied` entry; a page refused
    for the role a 403 page and one too."""
    card = await api.written_card("fund-op")
    await api.login("sogaz-op")
    page = await api.client.get(f"/admin/cards/{card.id}")
    assert page.status == 404
    role = await api.client.get("/admin/audit")
    assert role.status == 403
    async with api.app[SESSIONS]() as session:
        denied = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.login == "sogaz-op", AuditEntry.action == "denied").order_by(AuditEntry.id)))
    assert [(d.object_type, d.object_id, d.details["path"]) for d in denied] == [
        ("card", str(card.id), f"/admin/cards/{card.id}"), ("page", None, "/admin/audit")]


async def test_health_details_and_metrics_are_for_administrators_or_the_scraper(
    api: Api, client
) -> None:
    """Anyone: `{"status"}` alone and no metrics; the administrator signed in, or the
    scrape token: the details (the PBX's address and banner among them) and the metrics."""
    anonymous = await client.get("/healthz")
    assert anonymous.status == 200 and await anonymous.json() == {"status": "ok"}
    assert anonymous.headers["Cache-Control"] == "no-store"
    assert (await client.get("/metrics")).status == 401
    await api.login("sogaz-op")
    assert await (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/metrics")).status == 401
    await api.login("admin")
    detailed = await (await client.get("/healthz")).json()
    assert detailed["database"] == {"state": "ok"}  # (the PBX probe: tests/test_service_with_pbx.py)
    assert (await client.get("/metrics")).status == 200


async def test_json_with_personal_data_is_never_cached(api: Api) -> None:
    await api.written_card("fund-op")
    await api.login("fund-op")
    resp = await api.client.get("/api/v1/cards")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"


async def test_unknown_logins_lock_alike_and_one_address_is_throttled(api: Api) -> None:
    """Five wrong sign-ins lock an unknown login exactly as a real one (same status, code
    and message); past 20 wrong sign-ins one address is refused whatever the login, the
    right password included."""
    answers = {}
    for login in ("sogaz-op", "nobody-here"):
        seen = []
        for _ in range(6):
            resp = await api.client.post("/api/v1/login", json={"login": login, "password": "bad"})
            body = await resp.json()
            seen.append((resp.status, body["error"]["code"], body["error"]["message"]))
        answers[login] = seen
    assert answers["sogaz-op"] == answers["nobody-here"]
    assert [s for s, _, _ in answers["nobody-here"]] == [401, 401, 401, 401, 429, 429]
    for n in range(10):  # 12 failures so far (the locked answers do not count): 20 in all
        await api.client.post("/api/v1/login", json={"login": f"guess-{n}", "password": "x"})
    resp = await api.client.post("/api/v1/login", json={"login": "admin", "password": PASSWORD})
    assert resp.status == 429 and (await resp.json())["error"]["code"] == "locked"


async def test_head_on_a_recording_is_not_a_play(api: Api, tmp_path) -> None:
    """A player asking the size (HEAD) heard nothing: only the GET is audited as a play."""
    from tests.support.playback import playback_audits
    from tests.support.calls import add_call_with_recording

    _, recording = await add_call_with_recording(api, "tfoms", "88007758565", "79990000077",
                                                 tmp_path)
    await api.login("admin")
    head = await api.client.head(f"/api/v1/recordings/{recording}/audio")
    assert head.status == 200
    assert await playback_audits(api) == []
    await api.client.get(f"/api/v1/recordings/{recording}/audio")
    assert [a.action for a in await playback_audits(api)] == ["play"]


def test_ami_events_about_a_channel_without_uniqueid_are_counted() -> None:
    from datetime import UTC, datetime

    from hotline.pbx.tracking.calls import CallTracker

    tracker = CallTracker()
    for event in ({"Event": "Hangup", "Channel": "PJSIP/trunk-1"},
                  {"Event": "Newexten", "Context": "hotline-in", "Uniqueid": ""},
                  {"Event": "VarSet", "Variable": "HOTLINE_ID", "Value": "x"}):
        assert tracker.feed(event, datetime.now(UTC)) == []
    assert tracker.stats.malformed == 3
    assert any("without Uniqueid" in p for p in tracker.problems)


async def test_the_openapi_document_says_what_each_route_takes_and_answers(api: Api) -> None:
    """Query parameters, bodies and success codes come from the validating models."""
    doc = await api.call("GET", "/api/v1/openapi.json")
    calls = doc["paths"]["/api/v1/calls"]["get"]
    assert {p["name"] for p in calls["parameters"]} >= {"since", "until", "phone", "limit", "card_id"}
    create = doc["paths"]["/api/v1/cards"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"channel", "received_at", "fields"} <= set(body["properties"])
    assert "201" in create["responses"] and "422" in create["responses"]
    audio = doc["paths"]["/api/v1/recordings/{id}/audio"]["get"]["responses"]
    assert "206" in audio and "audio/ogg" in audio["200"]["content"]
    assert "202" in doc["paths"]["/api/v1/calls/{id}/transfer"]["post"]["responses"]
    await api.login("fund-op")
    wrong = await api.call("POST", "/api/v1/callbacks", expect=422, json={"card_id": {"a": 1}})
    assert wrong["error"]["code"] == "invalid_input" and wrong["error"]["details"]["field"] == "card_id"
