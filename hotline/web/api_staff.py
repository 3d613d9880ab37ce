"""`GET /api/v1/staff`: the people behind user ids and phones (names in histories, the
operator filter of the journal, the operators on the live board), within the journal's
access rule (`journal.access.visible_staff`).

The administrators manage the accounts: `POST /api/v1/staff/{id}/disable` and `/enable`, and
`/password` with `{"password": ...}`. Disabling or a new password ends every session of the
account at once (each instance refuses its next request) and closes its live sockets here at
once (other instances at their next sweep); each change is audited."""

from __future__ import annotations

from aiohttp import web

from hotline.web.common import actor_of, json_body, path_id
from hotline.web.keys import HUB, SESSIONS
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.users import account, list_staff, set_active, set_password

STAFF_FIELDS = ("id", "login", "full_name", "role", "level", "organization_id", "interface",
                "active")


async def staff(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        users = await list_staff(db, actor_of(request))
        items = [{name: getattr(u, name) for name in STAFF_FIELDS} for u in users]
    return web.json_response({"items": items})


async def disable(request: web.Request) -> web.Response:
    return await _set_active(request, False)


async def enable(request: web.Request) -> web.Response:
    return await _set_active(request, True)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await account(db, actor, user_id=path_id(request))
        ended = await set_active(db, user, active, actor)
        out = {"id": user.id, "login": user.login, "active": active, "sessions_ended": ended}
    if not active:
        request.app[HUB].close_user(out["id"])
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
        out = {"id": user.id, "login": user.login, "sessions_ended": ended}
    request.app[HUB].close_user(out["id"])
    return web.json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/staff", staff)
    app.router.add_post("/api/v1/staff/{id}/disable", disable)
    app.router.add_post("/api/v1/staff/{id}/enable", enable)
    app.router.add_post("/api/v1/staff/{id}/password", password)
