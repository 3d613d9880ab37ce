"""Signing in and out of the API: passwords, lock-out, session expiry, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hotline.app import create_app
from hotline.web.auth import COOKIE
from hotline.web.keys import SESSIONS, WEB_SESSIONS
from journal.actors import Actor
from journal.db import unit_of_work
from journal.errors import InvalidInput, NotFound
from journal.models import AuditEntry, Card, User, WebSessionRow
from journal.users import account, set_active, set_password
from tests.support.api import PASSWORD, Api, web_settings

CLI = Actor.system("cli")


async def test_login_opens_a_session_with_a_hardened_cookie(api: Api) -> None:
    """The cookie is HttpOnly and SameSite=Strict; /me answers with the same CSRF token."""
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    cookie = resp.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert body["user"]["login"] == "sogaz-op" and body["user"]["organization"]["code"] == "sogaz"
    me = await api.call("GET", "/api/v1/me")
    assert me["csrf_token"] == body["csrf_token"] and me["user"]["role"] == "operator"


async def test_a_wrong_password_or_unknown_login_is_refused_alike(api: Api) -> None:
    for login in ("sogaz-op", "nobody"):
        resp = await api.client.post("/api/v1/login", json={"login": login, "password": "wrong-one"})
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "bad_credentials"
    await api.call("GET", "/api/v1/me", expect=401)


async def test_five_wrong_passwords_lock_the_account_for_15_minutes(api: Api) -> None:
    """Even the right password is refused while locked; the lock ends by itself."""
    for attempt in range(5):
        resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": "bad"})
        assert resp.status == (429 if attempt == 4 else 401)
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": PASSWORD})
    assert resp.status == 429 and (await resp.json())["error"]["code"] == "locked"
    async with api.app[SESSIONS].begin() as session:
        user = await session.scalar(select(User).where(User.login == "sogaz-op"))
        remaining = user.locked_until - datetime.now(UTC)
        assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # 15 minutes later
    await api.login("sogaz-op")
    async with api.app[SESSIONS]() as session:
        user = await session.scalar(select(User).where(User.login == "sogaz-op"))
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert user.failed_logins == 0 and user.locked_until is None
    assert actions.count("login_failed") == 5 and actions[-1] == "login"


async def test_a_session_expires_after_30_idle_minutes_and_after_12_hours(api: Api) -> None:
    store = api.app[WEB_SESSIONS]
    now = datetime.now(UTC)
    store.clock = lambda: now
    await api.login("sogaz-op")
    now += timedelta(minutes=29)
    await api.call("GET", "/api/v1/me")
    now += timedelta(minutes=30)
    await api.call("GET", "/api/v1/me", expect=401)
    await api.login("sogaz-op")
    for _ in range(25):  # active all day: idle never reached, the absolute limit is
        now += timedelta(minutes=29)
        await api.call("GET", "/api/v1/me", expect=200 if _ < 24 else 401)


async def test_login_rotates_the_session_id_and_logout_ends_it(api: Api) -> None:
    """A session id known before sign-in (fixation) is never the signed-in one."""
    await api.login("sogaz-op")
    first = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))[COOKIE].value
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": PASSWORD})
    second = resp.cookies[COOKIE].value
    assert first != second and await api.app[WEB_SESSIONS].get(first) is None
    api.csrf = (await resp.json())["csrf_token"]
    await api.call("POST", "/api/v1/logout")
    assert await api.app[WEB_SESSIONS].get(second) is None
    await api.call("GET", "/api/v1/me", expect=401)


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(api: Api) -> None:
    card = await api.written_card("sogaz-op")
    await api.login("sogaz-op")
    path = f"/api/v1/cards/{card.id}"
    for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "forged"}):
        body = await api.call("PATCH", path, expect=403, headers=headers,
                              json={"version": card.version, "changes": {"content": "изменено"}})
        assert body["error"]["code"] == "csrf" and body["error"]["message"]
    created = await api.call("POST", "/api/v1/cards", expect=403, headers={"X-CSRF-Token": ""},
                             json={"channel": "post", "received_at": datetime.now(UTC).isoformat()})
    assert created["error"]["code"] == "csrf"
    async with api.app[SESSIONS]() as session:
        stored = await session.get(Card, card.id)
        count = len(list(await session.scalars(select(Card.id))))
    assert stored.content is None and stored.version == card.version and count == 1


async def test_an_unauthenticated_request_gets_401_json(api: Api) -> None:
    body = await api.call("GET", "/api/v1/cards", expect=401)
    assert body["error"]["code"] == "unauthenticated"
    await api.call("POST", "/api/v1/logout", expect=401)


async def test_a_session_is_known_to_another_instance_and_survives_a_restart(
    api: Api, settings, pg_url, tmp_path
) -> None:
    """Two service instances on one database (or the service after a restart) share the
    sign-in: the same cookie works on both, the token itself is not stored, and sign-out on
    one ends it on the other."""
    await api.login("sogaz-op")
    token = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))[COOKIE].value
    async with api.app[SESSIONS]() as session:
        stored = list(await session.scalars(select(WebSessionRow.token_hash)))
    assert stored and token not in stored
    other = create_app(web_settings(settings, pg_url, tmp_path), migrate=False, telephony=False)
    async with TestClient(TestServer(other)) as second:
        resp = await second.get("/api/v1/me", cookies={COOKIE: token})
        assert resp.status == 200 and (await resp.json())["user"]["login"] == "sogaz-op"
        await api.call("POST", "/api/v1/logout")
        resp = await second.get("/api/v1/me", cookies={COOKIE: token})
        assert resp.status == 401


async def test_disabling_an_account_ends_its_sessions_at_once_and_is_audited(api: Api) -> None:
    """An operator who leaves: `hotline user disable` (journal.users.set_active) ends every
    session of the account at once (the next request is 401), refuses a new sign-in, and
    writes who did it to the access log; enabling lets the operator sign in again."""
    await api.login("sogaz-op")
    await api.call("GET", "/api/v1/me")
    async with unit_of_work(api.app[SESSIONS]) as session:
        ended = await set_active(session, await account(session, CLI, login="sogaz-op"), False, CLI)
    assert ended == 1
    body = await api.call("GET", "/api/v1/cards", expect=401)
    assert body["error"]["code"] == "unauthenticated"
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": PASSWORD})
    assert resp.status == 401
    async with unit_of_work(api.app[SESSIONS]) as session:
        assert await set_active(session, await account(session, CLI, login="sogaz-op"), True, CLI) == 0
        with pytest.raises(NotFound, match="«nobody» не найден"):
            await account(session, CLI, login="nobody")
    await api.login("sogaz-op")
    async with api.app[SESSIONS]() as session:
        entries = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("user_disable", "user_enable")))
            .order_by(AuditEntry.id)))
    assert [(e.action, e.login, e.details["sessions_ended"]) for e in entries] == [
        ("user_disable", "system:cli", 1), ("user_enable", "system:cli", 0)]


async def test_a_password_set_by_the_administrator_ends_sessions_and_unlocks(api: Api) -> None:
    """A forgotten or leaked password: `hotline user password` (journal.users.set_password)
    makes the old one and every session stop working at once, lifts the lock-out, and logs
    who did it (never the password)."""
    await api.login("sogaz-op")
    for _ in range(5):
        await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": "bad"})
    async with unit_of_work(api.app[SESSIONS]) as session:
        with pytest.raises(InvalidInput, match="не короче"):
            await set_password(session, await account(session, CLI, login="sogaz-op"), "short", CLI)
    async with unit_of_work(api.app[SESSIONS]) as session:
        operator = await account(session, CLI, login="sogaz-op")
        assert await set_password(session, operator, "brand-new-secret", CLI) == 1
    await api.call("GET", "/api/v1/me", expect=401)
    resp = await api.client.post("/api/v1/login", json={"login": "sogaz-op", "password": PASSWORD})
    assert resp.status == 401
    resp = await api.client.post("/api/v1/login",
                                 json={"login": "sogaz-op", "password": "brand-new-secret"})
    assert resp.status == 200
    async with api.app[SESSIONS]() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user_password"))
    assert entry.login == "system:cli" and entry.details == {"login": "sogaz-op", "sessions_ended": 1}
