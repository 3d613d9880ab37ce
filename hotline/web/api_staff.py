"""`GET /api/v1/staff`: the people behind user ids and phones (names in histories, the
operator filter of the journal, the operators on the live board), within the journal's
access rule (`journal.access.visible_staff`)."""

from __future__ import annotations

from aiohttp import web

from hotline.web.common import actor_of
from hotline.web.keys import SESSIONS
from journal.users import list_staff

STAFF_FIELDS = ("id", "login", "full_name", "role", "level", "organization_id", "interface",
                "active")


async def staff(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        users = await list_staff(db, actor_of(request))
        items = [{name: getattr(u, name) for name in STAFF_FIELDS} for u in users]
    return web.json_response({"items": items})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/staff", staff)
