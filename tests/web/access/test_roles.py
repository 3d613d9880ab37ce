"""Who may do what (README, "Security"): one table of every route and page, walked as each role.

A = the contact center's administrator (the fund's), S = an organization's supervisor (head of
its operators), O = an operator, Y = the system administrator. Every account of the walk is
the fund's and every object named in a path is the fund's, so a letter means "let through"
(anything but 401, 403 and a hidden 404) and a missing letter means refused (403, or 404 for
an object the role may not see). Another organization's supervisor is refused every object.
W = the operators' room wallboard (read-only): its session, the wallboard page and its socket.
A new route or page fails `test_the_table_names_every_route_and_page` until it is added here
and to the README's table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.models import AuditEntry, User
from tests.support.api import PASSWORD, Api
from tests.support.hostile import FUND_PHONE, Fund, UNSAFE, concrete, everything_body, kind_of

# The service with its telephony on but no PBX answering, and the fund's objects.

ROLE_LOGINS = {"Y": "root", "O": "fund-op", "S": "fund-sup", "A": "admin", "W": "wall"}
EVERYONE = "AOSYW"
TABLE: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/me"): EVERYONE,
    ("POST", "/api/v1/logout"): EVERYONE,
    ("GET", "/api/v1/dictionaries"): "AOSY",
    ("GET", "/api/v1/modes"): "AOSY",
    ("GET", "/api/v1/cards"): "AOS",
    ("POST", "/api/v1/cards"): "AOS",
    ("GET", "/api/v1/cards/{id}"): "AOS",
    ("PATCH", "/api/v1/cards/{id}"): "AOS",
    ("GET", "/api/v1/cards/{id}/history"): "AOS",
    ("POST", "/api/v1/cards/{id}/complete"): "AOS",
    ("POST", "/api/v1/cards/{id}/cancel"): "AOS",
    ("POST", "/api/v1/cards/{id}/forward"): "AOS",
    ("POST", "/api/v1/cards/{id}/extend"): "AOS",
    ("POST", "/api/v1/cards/{id}/close"): "A",
    ("POST", "/api/v1/cards/{id}/correct"): "AS",
    ("GET", "/api/v1/calls"): "AOS",
    ("GET", "/api/v1/calls/{id}"): "AOS",
    ("GET", "/api/v1/recordings/{id}/audio"): "AOS",
    ("GET", "/api/v1/callbacks"): "AOS",
    ("POST", "/api/v1/callbacks"): "AOS",
    ("POST", "/api/v1/callbacks/{id}/dial"): "AOS",
    ("POST", "/api/v1/callbacks/{id}/take"): "AOS",
    ("GET", "/api/v1/agent"): "O",
    ("POST", "/api/v1/agent/join"): "O",
    ("POST", "/api/v1/agent/pause"): "O",
    ("POST", "/api/v1/agent/unpause"): "O",
    ("POST", "/api/v1/agent/leave"): "O",
    ("POST", "/api/v1/calls/{id}/transfer"): "O",
    # The register of insured persons: whoever reads cards; the transfer to the citizen's
    # insurer is the fund operator's own call.
    ("POST", "/api/v1/register/lookup"): "AOS",
    ("POST", "/api/v1/calls/{id}/transfer-insurer"): "O",
    # Supervision: listen, whisper, barge (S: its organization's calls only).
    ("GET", "/api/v1/calls/{id}/supervision"): "AS",
    ("POST", "/api/v1/calls/{id}/supervision"): "AS",
    ("DELETE", "/api/v1/calls/{id}/supervision"): "AS",
    ("GET", "/api/v1/reports/pg"): "AOS",
    ("GET", "/api/v1/reports/calls"): "AOS",
    ("GET", "/api/v1/reports/quality"): "AOS",
    ("GET", "/api/v1/reports/deadlines"): "AOS",
    ("GET", "/api/v1/reports/digest"): "AOS",
    ("GET", "/api/v1/scripts"): "AOSY",
    ("POST", "/api/v1/scripts"): "A",
    ("PATCH", "/api/v1/scripts/{id}"): "A",
    ("POST", "/api/v1/calls/{id}/evaluations"): "AS",
    ("GET", "/api/v1/evaluations"): "AOSY",
    ("GET", "/api/v1/audit"): "A",
    ("GET", "/api/v1/staff"): "AOSY",
    ("POST", "/api/v1/staff"): "ASY",
    ("PATCH", "/api/v1/staff/{id}"): "ASY",
    ("POST", "/api/v1/staff/{id}/disable"): "ASY",
    ("POST", "/api/v1/staff/{id}/enable"): "ASY",
    ("POST", "/api/v1/staff/{id}/password"): "AS",
    # Pages.
    ("GET", "/"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("GET", "/operator"): "O",
    ("GET", "/admin/cards"): "AS",
    ("GET", "/admin/cards/{id}"): "AOS",
    ("GET", "/admin/calls/{id}"): "AS",
    ("GET", "/admin/written"): "AS",
    ("GET", "/admin/reports"): "AS",
    ("GET", "/admin/staff"): "ASY",
    ("GET", "/admin/board"): "AS",
    ("GET", "/admin/audit"): "A",
    ("GET", "/admin/scripts"): "A",
    ("GET", "/admin/alerts"): "AS",
    ("GET", "/board/wall"): "ASW",
}
# Without a session: signing in, the API's description, liveness and metrics.
PUBLIC = {("POST", "/api/v1/login"), ("GET", "/api/v1/openapi.json"), ("GET", "/healthz"),
          ("GET", "/metrics")}
# The socket has its own tests (and the board's roles on it: see below).
NOT_WALKED = {("GET", "/api/v1/ws"), ("GET", "/static")}
# Ending the walker's own session would end the walk: sign-out is tried last.
LAST = {("POST", "/api/v1/logout")}
PAGE_KIND = {"cards": "card", "calls": "call"}
REPORT_QUERY = {"/api/v1/reports/pg": "?period=2026", "/api/v1/reports/calls": "?period=2026",
                "/api/v1/reports/quality": "?period=2026"}


def _routes(api: Api) -> set[tuple[str, str]]:
    found = set()
    for route in api.app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        found.add((route.method, route.resource.canonical))
    return found


async def test_the_table_names_every_route_and_page(api: Api) -> None:
    """Every route and page of the app is in the table (or public, or tested elsewhere)."""
    assert _routes(api) == set(TABLE) | PUBLIC | NOT_WALKED


@pytest.fixture
async def people(api: Api) -> dict[str, int]:
    """The fund's supervisor and system administrator, an insurer's supervisor, and the
    operator whose account the staff routes work on."""
    ids = {}
    for login, org, role in (("fund-sup", "tfoms", "supervisor"), ("root", "tfoms", "sysadmin"),
                             ("sogaz-sup", "sogaz", "supervisor"), ("victim", "tfoms", "operator"),
                             ("wall", "tfoms", "wallboard")):
        ids[login] = await api.add_user(login, org, role=role)
    return ids


def _url(path: str, fund: Fund, people: dict[str, int]) -> str:
    if "{id}" not in path:
        return path + REPORT_QUERY.get(path, "")
    if path.startswith("/admin/"):
        kind = PAGE_KIND[path.split("/")[2]]
        return concrete(path, fund.id_of(kind))
    kind = kind_of(path)
    return concrete(path, people["victim"] if kind == "user" else fund.id_of(kind))


def _body(letter: str, fund: Fund) -> dict[str, Any]:
    """One body every change takes: a valid written card, a callback, a new account of a role
    the walker may give, a level for the victim's account, a new password."""
    return {
        **everything_body(fund), "to_organization": "tfoms", "channel": "post",
        "received_at": datetime.now(UTC).isoformat(),
        "fields": {"applicant_name": "Проверкина Роль Ивановна"},
        "login": f"new-{letter.lower()}", "password": "new-password-123", "full_name": "Новый",
        "organization": "tfoms", "role": "sysadmin" if letter == "Y" else "operator",
        "level": 1, "scores": {}, "title": "Скрипт", "body": "Текст",
    }


async def _try(api: Api, method: str, url: str, body: dict[str, Any] | None) -> tuple[int, str]:
    headers = {"X-CSRF-Token": api.csrf} if method in UNSAFE else {}
    resp = await api.client.request(method, url, json=body, headers=headers, allow_redirects=False)
    text = (await resp.read()).decode("utf-8", "replace")
    code = ""
    if resp.content_type == "application/json":
        answer = await resp.json()
        code = answer.get("error", {}).get("code", "") if isinstance(answer, dict) else ""
    assert resp.status < 500 or code in ("pbx_refused", "pbx_failed", "pbx_disabled",
                                         "pbx_unavailable"), (method, url, resp.status, text[:300])
    return resp.status, code


def _refused(status: int, code: str) -> bool:
    return status in (401, 403) or (status == 404 and code in ("not_found", ""))


@pytest.mark.parametrize("letter", list(ROLE_LOGINS))
async def test_each_role_reaches_exactly_its_row_of_the_table(
    api: Api, fund: Fund, people: dict[str, int], letter: str
) -> None:
    """Walk every route and page as one role of the fund: let through where the table has
    its letter, refused everywhere else; a refusal is on the audit log as `denied`."""
    login = ROLE_LOGINS[letter]
    await api.login(login)
    wrong = []
    refusals = 0
    for (method, path), letters in sorted(TABLE.items(), key=lambda kv: kv[0] in LAST):
        url = _url(path, fund, people)
        body = _body(letter, fund) if method in UNSAFE else None
        if path == "/api/v1/staff/{id}":
            body = {"level": 2}  # a change that gives no one anything
        status, code = await _try(api, method, url, body)
        if _refused(status, code) == (letter in letters):
            wrong.append((method, path, status, code))
        refusals += _refused(status, code)
    assert wrong == [], f"{login}: {wrong}"
    async with api.app[SESSIONS]() as session:
        denied = (await session.scalars(select(AuditEntry).where(
            AuditEntry.login == login, AuditEntry.action == "denied"))).all()
    assert len(denied) == refusals, [(d.object_type, d.details) for d in denied]


async def test_another_organizations_supervisor_reaches_no_fund_object(
    api: Api, fund: Fund, people: dict[str, int]
) -> None:
    """The insurer's supervisor asks for the fund's card, call, recording, callback and the
    fund operator's account by every path and page that names one: refused, each audited."""
    await api.login("sogaz-sup")
    tried = 0
    for (method, path), letters in TABLE.items():
        if "{id}" not in path or "S" not in letters:
            continue
        status, code = await _try(api, method, _url(path, fund, people),
                                  _body("S", fund) if method in UNSAFE else None)
        assert _refused(status, code), (method, path, status, code)
        tried += 1
    assert tried >= 15
    async with api.app[SESSIONS]() as session:
        denied = (await session.scalars(select(AuditEntry).where(
            AuditEntry.login == "sogaz-sup", AuditEntry.action == "denied"))).all()
    assert len(denied) == tried


async def test_the_system_administrator_gives_no_one_more_than_it_has(
    api: Api, people: dict[str, int]
) -> None:
    """The system administrator cannot create an administrator, a supervisor or an operator,
    set any of their passwords, or make anyone (itself included) one; it may run sysadmins."""
    await api.login("root")
    for role in ("admin", "supervisor", "operator"):
        refused = await api.call("POST", "/api/v1/staff", expect=403, json={
            "login": f"x-{role}", "password": PASSWORD, "full_name": "X", "role": role,
            "organization": "tfoms", "level": 1})
        assert refused["error"]["code"] == "forbidden"
    for login in ("admin", "fund-sup", "fund-op"):
        user_id = (await api.user_actor(login)).user_id
        await api.call("POST", f"/api/v1/staff/{user_id}/password", expect=403,
                       json={"password": "taken-over-123"})
    await api.login("admin")  # the administrator's password still works
    await api.login("root")
    await api.call("PATCH", f"/api/v1/staff/{people['root']}", expect=409, json={"role": "admin"})
    await api.call("PATCH", f"/api/v1/staff/{people['victim']}", expect=403,
                   json={"role": "supervisor"})
    made = await api.call("POST", "/api/v1/staff", expect=201, json={
        "login": "root2", "password": PASSWORD, "full_name": "Второй", "role": "sysadmin",
        "organization": "tfoms"})
    await api.call("PATCH", f"/api/v1/staff/{made['id']}", expect=403, json={"role": "operator"})
    await api.call("POST", f"/api/v1/staff/{people['root']}/password",
                   json={"password": "my-own-new-123"})


async def test_a_supervisor_runs_only_their_organizations_staff(api: Api, people: dict[str, int]) -> None:
    """The insurer's supervisor creates an operator of the insurer at one of its phones, not
    at the fund's, not in the fund, not an administrator; the fund's accounts are not found."""
    await api.login("sogaz-sup")
    made = await api.call("POST", "/api/v1/staff", expect=201, json={
        "login": "sogaz-new", "password": PASSWORD, "full_name": "Новая", "role": "operator",
        "organization": "sogaz", "level": 1, "interface": "PJSIP/op1101"})
    assert made["interface"] == "PJSIP/op1101"
    foreign = await api.call("PATCH", f"/api/v1/staff/{made['id']}", expect=422,
                             json={"interface": "PJSIP/op102"})
    assert "не принадлежит организации «sogaz»" in foreign["error"]["message"]
    await api.call("PATCH", f"/api/v1/staff/{made['id']}", json={"level": 2})
    await api.call("POST", "/api/v1/staff", expect=403, json={
        "login": "in-fund", "password": PASSWORD, "full_name": "X", "role": "operator",
        "organization": "tfoms", "level": 1})
    await api.call("POST", "/api/v1/staff", expect=422, json={
        "login": "boss", "password": PASSWORD, "full_name": "X", "role": "admin",
        "organization": "sogaz"})
    await api.call("POST", "/api/v1/staff", expect=403, json={
        "login": "boss", "password": PASSWORD, "full_name": "X", "role": "sysadmin",
        "organization": "sogaz"})
    await api.call("POST", f"/api/v1/staff/{people['victim']}/disable", expect=404)
    listed = await api.call("GET", "/api/v1/staff")
    assert {u["login"] for u in listed["items"]} == {"sogaz-op", "sogaz-sup", "sogaz-new"}
    async with api.app[SESSIONS]() as session:
        user = await session.get(User, made["id"])
        assert (user.level, user.organization_id) == (2, (await api.user_actor("sogaz-op")).organization_id)
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.login == "sogaz-sup").order_by(AuditEntry.id)))
    assert actions[:3] == ["login", "user_create", "user_change"]


async def test_an_insurer_has_no_contact_center_administrator(api: Api) -> None:
    """`role admin` is the fund's only, whoever asks (the administrator included)."""
    await api.login("admin")
    refused = await api.call("POST", "/api/v1/staff", expect=422, json={
        "login": "sogaz-admin", "password": PASSWORD, "full_name": "X", "role": "admin",
        "organization": "sogaz"})
    assert "только у фонда" in refused["error"]["message"]


async def test_the_sysadmin_reads_no_calls(api: Api, fund: Fund, people: dict[str, int]) -> None:
    """Calls carry caller numbers and names: refused to the system administrator, audited."""
    await api.login("root")
    answer = await api.call("GET", "/api/v1/calls", expect=403)
    assert answer["error"]["code"] == "forbidden"
    assert FUND_PHONE not in str(answer)
    await api.call("GET", f"/api/v1/calls/{fund.call}", expect=403)
    await api.call("GET", f"/api/v1/recordings/{fund.recording}/audio", expect=404)
    async with api.app[SESSIONS]() as session:
        denied = list(await session.scalars(select(AuditEntry.details).where(
            AuditEntry.login == "root", AuditEntry.action == "denied")))
    assert [d["path"] for d in denied] == ["/api/v1/calls", f"/api/v1/calls/{fund.call}",
                                          f"/api/v1/recordings/{fund.recording}/audio"]


@pytest.mark.parametrize("letter", list(ROLE_LOGINS))
async def test_the_live_board_on_the_socket_goes_to_the_board_pages_roles(
    api: Api, people: dict[str, int], letter: str
) -> None:
    """Whoever opens `/admin/board` gets the board on the live socket at once (a supervisor
    their own organization's part of it); the other roles never get one. An insurer's
    supervisor gets the insurer's lines only."""
    logins = [ROLE_LOGINS[letter]] + (["sogaz-sup"] if letter == "S" else [])
    for login in logins:
        await api.login(login)
        ws = await api.client.ws_connect("/api/v1/ws")
        boards = []
        try:
            while True:
                try:
                    message = await ws.receive_json(timeout=0.7)
                except TimeoutError:
                    break
                if message.get("type") == "board":
                    boards.append(message)
        finally:
            await ws.close()
        assert bool(boards) == (letter in TABLE[("GET", "/admin/board")]), login
        if boards and letter == "S":
            own = "tfoms" if login == "fund-sup" else "sogaz"
            assert {x["organization"] for x in boards[0]["lines"]} == {own}
            assert boards[0]["calls"] == []
