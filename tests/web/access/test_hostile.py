"""Hostile use of the JSON API, endpoint by endpoint, with the routes read from the router.

A new /api/v1 endpoint is tried here automatically: one whose path names an object (`{id}`)
must say which kind of object in `OBJECT_OF`, and a GET must declare its filters in
`FILTERS` (or be in `PLAIN_GETS`), or these tests fail and say so.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from yarl import URL

from hotline.web.auth import COOKIE
from hotline.web.keys import SESSIONS, WEB_SESSIONS
from hotline.web.openapi import api_routes
from journal.models import AuditEntry, Call, CallbackTask, Card, CardHistory, Recording
from tests.support.api import PASSWORD, Api
from tests.support.hostile import FUND_NAME, FUND_PHONE, FUND_SCRIPT, Fund, UNSAFE, concrete, everything_body, kind_of

# The WebSocket has its own tests (tests/live/test_ws.py): a plain GET is no upgrade.
NOT_HERE = {("GET", "/api/v1/ws")}
# Changes only the administrator may make: an operator is refused for the role (403) before
# any object is looked up, so the answer never tells whether the id exists.
ROLE_REFUSED = {("PATCH", "/api/v1/scripts/{id}"), ("POST", "/api/v1/calls/{id}/evaluations"),
                ("POST", "/api/v1/staff/{id}/disable"), ("POST", "/api/v1/staff/{id}/enable"),
                ("POST", "/api/v1/staff/{id}/password"), ("PATCH", "/api/v1/staff/{id}")}
# The query parameters of every list; a list missing here fails test_every_list_is_declared.
FILTERS: dict[str, tuple[str, ...]] = {
    "/api/v1/cards": ("organization_id", "status", "received_from", "received_to", "operator_id",
                      "level", "appeal_type", "topic", "channel", "form", "phone", "q", "page",
                      "per_page"),
    "/api/v1/calls": ("since", "until", "phone", "limit", "offset", "card_id"),
    "/api/v1/callbacks": ("status", "limit", "assigned"),
    "/api/v1/scripts": ("q", "organization_id", "active", "limit"),
    "/api/v1/evaluations": ("operator_id", "call_id", "limit"),
    "/api/v1/audit": ("user_id", "login", "action", "object_type", "object_id", "since", "until",
                      "offset", "limit"),
}
# The reports (admin and organization staff): their parameters, and what each needs to run.
REPORTS: dict[str, tuple[str, ...]] = {
    "/api/v1/reports/pg": ("period", "org", "format"),
    "/api/v1/reports/calls": ("period", "org", "format"),
    "/api/v1/reports/quality": ("period", "org", "by", "format"),
    "/api/v1/reports/deadlines": ("within", "org", "format"),
    "/api/v1/reports/digest": (),
}
REPORT_BASE = {"/api/v1/reports/pg": {"period": "2026"}, "/api/v1/reports/calls": {"period": "2026"},
               "/api/v1/reports/quality": {"period": "2026"}}
# GET routes without an id that take no filters.
PLAIN_GETS = {"/api/v1/me", "/api/v1/agent", "/api/v1/modes", "/api/v1/openapi.json",
              "/api/v1/dictionaries", "/api/v1/staff"}
INJECTIONS = [
    "%",  # a LIKE wildcard: must match a literal percent sign, not everything
    "_%",
    "' OR '1'='1",
    "1' OR 1=1 --",
    "1; DROP TABLE cards; --",
    "\" OR \"\"=\"",
    "%' UNION SELECT password_hash, login FROM users --",
    "') OR ('1'='1",
    "1 AND SLEEP(5)",
    "draft,closed' OR 'x'='x",
    "\x00' OR 1=1",
    "ʼ OR ʼ1ʼ=ʼ1",
    "9" * 40,
]
TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "....//....//etc/passwd",
    "%2Fetc%2Fpasswd",
    "..%5C..%5Cwindows%5Cwin.ini",
    "%EF%BC%8E%EF%BC%8E%EF%BC%8F",
    "1%00.ogg",
    "1;cat%20%2Fetc%2Fpasswd",
    "0x1",
    "1e3",
]








def routes(api: Api) -> list[tuple[str, str]]:
    return [r for r in api_routes(api.app) if r not in NOT_HERE]








async def fund_state(api: Api, fund: Fund) -> tuple[Any, ...]:
    async with api.app[SESSIONS]() as session:
        card = await session.get(Card, fund.card.id)
        history = await session.scalar(
            select(func.count(CardHistory.id)).where(CardHistory.card_id == fund.card.id))
        task = await session.get(CallbackTask, fund.callback)
        tasks = await session.scalar(select(func.count(CallbackTask.id)))
    return (card.version, card.status, card.organization_id, card.content, card.due_date,
            history, task.status, tasks)


async def audit_of(api: Api, login: str) -> list[AuditEntry]:
    async with api.app[SESSIONS]() as session:
        return list(await session.scalars(
            select(AuditEntry).where(AuditEntry.login == login).order_by(AuditEntry.id)))


# ------------------------------------------------------------------ IDOR


async def test_every_object_endpoint_hides_another_organizations_objects(api: Api, fund: Fund) -> None:
    """An insurer's operator asks for the fund's card, call, recording and callback by every
    path that names an object (read, history, audio, save, close, complete, cancel, forward,
    extend, transfer, dial): always 404 `not_found`, nothing changes, and each attempt is
    written to the audit log as `denied` with the object asked for."""
    await api.add_user("sogaz-op2", "sogaz")
    before = await fund_state(api, fund)
    await api.login("sogaz-op")
    tried = []
    for method, path in routes(api):
        if "{id}" not in path:
            continue
        kind = kind_of(path)
        url = concrete(path, fund.id_of(kind))
        body = everything_body(fund) if method in UNSAFE else None
        by_role = (method, path) in ROLE_REFUSED
        answer = await api.call(method, url, expect=403 if by_role else 404, json=body)
        assert answer["error"]["code"] == ("forbidden" if by_role else "not_found"), (method, url, answer)
        assert FUND_NAME not in str(answer) and FUND_PHONE not in str(answer)
        tried.append((method, "api", None) if by_role else (method, kind, str(fund.id_of(kind))))
    assert len(tried) >= 11, tried
    assert await fund_state(api, fund) == before
    denied = [(a.details.get("method"), a.object_type, a.object_id)
              for a in await audit_of(api, "sogaz-op") if a.action == "denied"]
    assert sorted(denied) == sorted(tried)


async def test_another_organizations_ids_in_bodies_and_filters_reach_nothing(api: Api, fund: Fund) -> None:
    """The fund's ids where a body or a filter takes one: deferring the fund's card is 404
    (audited as denied, naming the card), registering a card in the fund is 403 (audited),
    filtering the journal by the fund finds nothing."""
    before = await fund_state(api, fund)
    await api.login("sogaz-op")
    deferred = await api.call("POST", "/api/v1/callbacks", expect=404, json={
        "card_id": fund.card.id, "contact_phone": "79130000000",
        "callback_due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert deferred["error"]["code"] == "not_found"
    created = await api.call("POST", "/api/v1/cards", expect=403, json={
        "channel": "post", "organization_id": fund.card.organization_id,
        "received_at": datetime.now(UTC).isoformat(), "fields": {"applicant_name": "Иванов И."}})
    assert created["error"]["code"] == "forbidden"
    listed = await api.call("GET", "/api/v1/cards", params={"organization_id": fund.card.organization_id})
    assert (listed["total"], listed["items"]) == (0, [])
    assert await fund_state(api, fund) == before
    denied = [(a.object_type, a.object_id, a.details["method"], a.details["path"])
              for a in await audit_of(api, "sogaz-op") if a.action == "denied"]
    assert denied == [("card", str(fund.card.id), "POST", "/api/v1/callbacks"),
                      ("api", None, "POST", "/api/v1/cards")]


async def test_lists_never_show_another_organizations_objects(api: Api, fund: Fund) -> None:
    """Every list and page an insurer's operator can open shows nothing of the fund's:
    not its card, its caller's number and name, nor its callback; the audit log is the
    administrator's alone."""
    await api.login("sogaz-op")
    for method, path in routes(api):
        if method != "GET" or "{id}" in path:
            continue
        resp = await api.client.get(path, params=REPORT_BASE.get(path, {}))
        text = await resp.text()
        assert resp.status in (200, 403), (path, resp.status, text)
        for secret in (FUND_NAME, FUND_PHONE, fund.card.number, FUND_SCRIPT):
            assert secret not in text, (path, secret)
    refused = await api.call("GET", "/api/v1/audit", expect=403)
    assert refused["error"]["code"] == "forbidden"


async def test_every_get_route_is_covered(api: Api) -> None:
    """A new GET endpoint must declare its filters (FILTERS) or that it has none."""
    gets = {path for method, path in routes(api) if method == "GET" and "{id}" not in path}
    assert gets == set(FILTERS) | PLAIN_GETS | set(REPORTS)


# ------------------------------------------------------------------ path traversal


async def test_path_traversal_in_ids_is_never_a_file(api: Api, fund: Fund) -> None:
    """Whatever stands where an id belongs (`../../etc/passwd` plain, encoded, double
    encoded, with backslashes, full-width dots, a NUL), in every path that names an object:
    a JSON 404 or 422, never a file, never a server error."""
    await api.login("admin")
    base = str(api.client.make_url("/")).rstrip("/")
    tried = [(method, path, raw) for method, path in routes(api) if "{id}" in path
             for raw in TRAVERSALS]
    for method, path, raw in tried:
        url = URL(base + concrete(path, raw), encoded=True)
        headers = {"X-CSRF-Token": api.csrf} if method in UNSAFE else {}
        async with api.client.session.request(method, url, headers=headers, json={}) as resp:
            body = await resp.read()
            assert resp.status in (404, 422), (method, url, resp.status, body[:200])
            assert resp.content_type == "application/json", (method, url, resp.content_type)
            assert b"root:" not in body and b"[extensions]" not in body
            assert (await resp.json())["error"]["code"] in ("not_found", "invalid_input")


# ------------------------------------------------------------------ bodies and CSRF


async def test_oversized_bodies_are_refused_everywhere(api: Api, fund: Fund) -> None:
    """More than 1 MiB to any endpoint that takes a body: 413 `too_large`, before anything
    is done (the session is not even ended by an oversized sign-out)."""
    before = await fund_state(api, fund)
    await api.login("fund-op")
    huge = b"{\"x\": \"" + b"x" * (1024 * 1024) + b"\"}"
    for method, path in routes(api):
        if method not in UNSAFE:
            continue
        url = concrete(path, fund.id_of(kind_of(path))) if "{id}" in path else path
        answer = await api.call(method, url, expect=413, data=io.BytesIO(huge),
                                headers={"Content-Type": "application/json"})
        assert answer["error"]["code"] == "too_large", (method, url)
    assert await fund_state(api, fund) == before
    await api.call("GET", "/api/v1/me")  # still signed in


@pytest.mark.parametrize("token", [None, "", "forged", "x" * 2000])
async def test_changes_without_the_csrf_token_are_refused_everywhere(
    api: Api, fund: Fund, token: str | None
) -> None:
    """Every state-changing endpoint but sign-in refuses a request without the session's
    CSRF token (missing, empty, forged, absurd): 403 `csrf`, and nothing changes — even
    for the card's own organization."""
    before = await fund_state(api, fund)
    await api.login("fund-op")
    headers = {} if token is None else {"X-CSRF-Token": token}
    for method, path in routes(api):
        if method not in UNSAFE or path == "/api/v1/login":
            continue
        url = concrete(path, fund.id_of(kind_of(path))) if "{id}" in path else path
        resp = await api.client.request(method, url, json=everything_body(fund), headers=headers)
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (403, "csrf"), (method, url, body)
    assert await fund_state(api, fund) == before
    await api.call("GET", "/api/v1/me")  # the refused logout did not end the session


async def test_nul_characters_in_bodies_are_invalid_input_not_server_errors(api: Api, fund: Fund) -> None:
    """A NUL character in any text of a body (PostgreSQL stores no NUL in text) is a clear
    422 from every endpoint that reads a body, never a 500, and changes nothing."""
    before = await fund_state(api, fund)
    await api.login("fund-op")
    body = {key: value.replace("ф", "\x00ф") + "\x00" if isinstance(value, str) else value
            for key, value in everything_body(fund).items()}
    body["changes"] = {"content": "чу\x00жое", "measures_taken": "\x00"}
    for method, path in routes(api):
        if method not in UNSAFE or path == "/api/v1/logout":
            continue
        url = concrete(path, fund.id_of(kind_of(path))) if "{id}" in path else path
        resp = await api.client.request(method, url, json=body, headers={"X-CSRF-Token": api.csrf})
        answer = await resp.json()
        assert resp.status != 500 and answer.get("error", {}).get("code") != "internal", (url, answer)
        if path.startswith("/api/v1/cards") or path == "/api/v1/callbacks":
            assert (resp.status, answer["error"]["code"]) == (422, "invalid_input"), (url, answer)
    assert await fund_state(api, fund) == before


async def test_odd_json_bodies_are_refused_clearly_everywhere(api: Api, fund: Fund) -> None:
    """Bodies nested thousands deep, or with lists and objects where text or numbers belong,
    to every endpoint that takes a body: a 4xx with a code (deep nesting is `bad_json`),
    never a server error, and nothing changes."""
    before = await fund_state(api, fund)
    await api.login("fund-op")
    deep = "{\"a\":" * 5000 + "1" + "}" * 5000
    keys = list(everything_body(fund))
    for method, path in routes(api):
        if method not in UNSAFE or path == "/api/v1/logout":
            continue
        url = concrete(path, fund.id_of(kind_of(path))) if "{id}" in path else path
        headers = {"X-CSRF-Token": api.csrf, "Content-Type": "application/json"}
        resp = await api.client.request(method, url, data=deep, headers=headers)
        answer = await resp.json()
        assert resp.status != 500 and answer["error"]["code"] != "internal", (url, answer)
        for odd in ([], [1], {}, {"a": 1}, 10**30):
            body = {**dict.fromkeys(keys, odd), "version": fund.card.version}
            resp = await api.client.request(method, url, json=body, headers={"X-CSRF-Token": api.csrf})
            answer = await resp.json()
            assert resp.status != 500 and answer.get("error", {}).get("code") != "internal", (url, odd, answer)
    assert await fund_state(api, fund) == before


async def test_malformed_values_in_every_filter_are_invalid_input(api: Api, fund: Fund) -> None:
    """Numbers and moments no database can hold (`--1`, 10^18 pages or levels, year 0 or
    10000 once in UTC, non-ASCII digits) in every filter: 422 or an answer, never a 500."""
    await api.login("admin")
    odd = ["--1", "1" + "0" * 18, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
           "𝟙", "0x10", "1.5"]
    for path, params in FILTERS.items():
        for param in params:
            for value in odd:
                resp = await api.client.get(path, params={param: value})
                body = await resp.json()
                assert resp.status in (200, 422), (path, param, value, resp.status, body)


# ------------------------------------------------------------------ session fixation


async def test_a_planted_session_cookie_is_never_promoted_at_login(api: Api) -> None:
    """An attacker plants a cookie in the victim's browser — a value of their own choosing,
    or their own signed-in session — and the victim signs in: the victim's session has a
    fresh id the attacker does not know, and the planted id never becomes the victim's."""
    await api.add_user("mallory", "sogaz")
    url = api.client.make_url("/")
    for planted in ("attacker-chosen-session-id", None):
        if planted is None:
            await api.login("mallory")
            planted = api.client.session.cookie_jar.filter_cookies(url)[COOKIE].value
        api.client.session.cookie_jar.clear()
        api.client.session.cookie_jar.update_cookies({COOKIE: planted}, url)
        resp = await api.client.post("/api/v1/login", json={"login": "fund-op", "password": PASSWORD})
        assert resp.status == 200
        issued = resp.cookies[COOKIE].value
        assert issued != planted
        store = api.app[WEB_SESSIONS]
        victim = await store.get(issued)
        assert victim is not None and await store.get(planted) is None
        # The planted id opens nothing: not the victim's session, not any session.
        api.client.session.cookie_jar.clear()
        api.client.session.cookie_jar.update_cookies({COOKIE: planted}, url)
        await api.call("GET", "/api/v1/me", expect=401)


# ------------------------------------------------------------------ SQL injection


async def test_injection_strings_in_every_filter_find_nothing_and_break_nothing(
    api: Api, fund: Fund
) -> None:
    """Every filter of every list, given SQL-injection strings (LIKE wildcards, quotes,
    comments, UNION, stacked statements, a NUL byte, a 40-digit number): 422 `invalid_input` or an empty
    result, never a server error, and every table is intact afterwards."""
    await api.login("admin")
    async with api.app[SESSIONS]() as session:
        counts = [await session.scalar(select(func.count()).select_from(model))
                  for model in (Card, Call, Recording, CallbackTask)]
    for path, params in FILTERS.items():
        for param in params:
            for value in INJECTIONS:
                resp = await api.client.get(path, params={param: value})
                body = await resp.json()
                assert resp.status in (200, 422), (path, param, value, resp.status, body)
                if resp.status == 422:
                    assert body["error"]["code"] == "invalid_input", (path, param, value)
                    continue
                assert body["items"] == [], (path, param, value, body["items"])
    async with api.app[SESSIONS]() as session:
        after = [await session.scalar(select(func.count()).select_from(model))
                 for model in (Card, Call, Recording, CallbackTask)]
    assert after == counts
    listed = await api.call("GET", "/api/v1/cards")
    assert [c["id"] for c in listed["items"]] == [fund.card.id]
    assert date.fromisoformat(listed["items"][0]["due_date"]) == fund.card.due_date


async def test_report_parameters_refuse_injections_clearly(api: Api, fund: Fund) -> None:
    """Every report parameter given SQL-injection strings answers 422 `invalid_input` (or
    404 for an organization that does not exist), never a server error or a report."""
    await api.login("admin")
    for path, params in REPORTS.items():
        for param in params:
            for value in INJECTIONS:
                query = {**REPORT_BASE.get(path, {}), param: value}
                resp = await api.client.get(path, params=query)
                body = await resp.json()
                assert resp.status in (404, 422), (path, param, value, resp.status)
                assert body["error"]["code"] in ("invalid_input", "not_found"), (path, param, value)
