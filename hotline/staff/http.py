"""`GET /api/v1/staff`: the people behind user ids and phones (names in histories, the
operator filter of the journal, the operators on the live board), within the journal's
access rule (`journal.access.visible_staff`).

Accounts are run on the web by whoever may (`journal.users`: the administrator any, an
organization's supervisor its own operators and supervisors, the system administrator only
what gives no personal data): `POST /api/v1/staff` creates one `{"login", "password",
"full_name", "role", "organization", "level", "interface"}` (the phone one of the
organization's own), `PATCH /api/v1/staff/{id}` changes `role`, `level`, `interface` or
`full_name`, `POST /api/v1/staff/{id}/disable` and `/enable`, and
`/password` with `{"password": ...}`. The list says what the signed-in user may do with each
account (`may_run`, `may_password`) and which roles they may give (`roles`). Disabling or a new password ends every session of the
account at once (each instance refuses its next request) and closes its live sockets here at
once (other instances at their next sweep); each change is audited."""

from __future__ import annotations

from aiohttp import web

from typing import Any, Literal, overload

from hotline.web.common import actor_of, int_param, json_body, path_id
from hotline.web.keys import SESSIONS, SETTINGS
from hotline.keys import SOCKETS
from journal.db import unit_of_work
from journal.errors import InvalidInput, NotFound
from journal.models import Organization, User
from journal.users import (
    account, add_user, change_user, list_staff, may_give, may_run, roles_to_give,
    set_active, set_password,
)

STAFF_FIELDS = ("id", "login", "full_name", "role", "level", "organization_id", "interface",
                "active")


def _item(user: User, actor: Any) -> dict[str, Any]:
    item = {name: getattr(user, name) for name in STAFF_FIELDS}
    item["may_run"] = may_run(actor, user) and user.id != actor.user_id
    item["may_password"] = may_give(actor, user.role, user.organization_id)
    return item


async def staff(request: web.Request) -> web.Response:
    actor = actor_of(request)
    async with request.app[SESSIONS]() as db:
        users = await list_staff(db, actor)
        items = [_item(u, actor) for u in users]
    return web.json_response({"items": items, "roles": sorted(roles_to_give(actor))})


def _phones(request: web.Request, code: str) -> frozenset[str]:
    try:
        return request.app[SETTINGS].organization(code).interfaces
    except KeyError:
        return frozenset()


@overload
def _text(body: dict[str, Any], name: str, *, required: Literal[True]) -> str: ...
@overload
def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None: ...


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"Укажите «{name}»", field=name)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"«{name}»: нужна строка", field=name)
    return value.strip()


async def create(request: web.Request) -> web.Response:
    """A new account, within what the signed-in user may give; 201."""
    actor = actor_of(request)
    body = await json_body(request)
    login = _text(body, "login", required=True)
    org_code = _text(body, "organization", required=True)
    role = _text(body, "role", required=True)
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise InvalidInput("Укажите пароль", field="password")
    level = int_param(body.get("level"), "level", minimum=1, maximum=3)
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await add_user(
            db, login=(login or "").lower(), password=password,
            full_name=_text(body, "full_name") or login, role=role, organization_code=org_code,
            level=level, interface=_text(body, "interface"), phones=_phones(request, org_code),
            actor=actor,
        )
        out = _item(user, actor)
    return web.json_response(out, status=201)


async def change(request: web.Request) -> web.Response:
    """Change role, level, phone or name (only the fields sent); the account's live sockets
    close so that they reconnect with what it is now."""
    actor = actor_of(request)
    body = await json_body(request)
    kwargs: dict[str, Any] = {"role": _text(body, "role"), "full_name": _text(body, "full_name")}
    if "level" in body:
        kwargs["level"] = int_param(body.get("level"), "level", minimum=1, maximum=3)
    if "interface" in body:
        kwargs["interface"] = _text(body, "interface")
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await account(db, actor, user_id=path_id(request))
        org = await db.get(Organization, user.organization_id)
        if org is None:  # the account's organization is a foreign key: never gone
            raise NotFound("Организация пользователя не найдена")
        diff = await change_user(db, user, actor, phones=_phones(request, org.code), **kwargs)
        out: dict[str, Any] = {**_item(user, actor), "changed": sorted(diff)}
    if out["changed"]:
        request.app[SOCKETS].close_user(out["id"])
    return web.json_response(out)


async def disable(request: web.Request) -> web.Response:
    return await _set_active(request, False)


async def enable(request: web.Request) -> web.Response:
    return await _set_active(request, True)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await account(db, actor, user_id=path_id(request))
        ended = await set_active(db, user, active, actor)
        out: dict[str, Any] = {"id": user.id, "login": user.login, "active": active,
                               "sessions_ended": ended}
    if not active:
        request.app[SOCKETS].close_user(out["id"])
    return web.json_response(out)


async def password(request: web.Request) -> web.Response:
    actor = actor_of(request)
    body = await json_body(request)
    new = body.get("password")
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await account(db, actor, user_id=path_id(request))
        if not isinstance(new, str) or not new:
            raise InvalidInput("Укажите новый пароль", field="password")
        ended = await set_password(db, user, new, actor)
        out: dict[str, Any] = {"id": user.id, "login": user.login, "sessions_ended": ended}
    request.app[SOCKETS].close_user(out["id"])
    return web.json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/staff", staff)
    app.router.add_post("/api/v1/staff", create)
    app.router.add_patch("/api/v1/staff/{id}", change)
    app.router.add_post("/api/v1/staff/{id}/disable", disable)
    app.router.add_post("/api/v1/staff/{id}/enable", enable)
    app.router.add_post("/api/v1/staff/{id}/password", password)
