"""The wallboard (табло в зале операторов), `/board/wall`: the big figures and the active
alerts on a screen in the operators' room, readable from three metres.

Served to the read-only `wallboard` account role (and, to look at it, to the administrator
and supervisors). A wallboard account signs in like anyone, lands here, and reaches nothing
else: every other page is refused by the pages' own role check, every API route but its
own session's (`/api/v1/me`, `/api/v1/logout`) and the socket by `wallboard_fence` (403,
audited as `denied` like any refusal). Its socket gets only `figures` (without any
operator's line) and `alerts`.

No personal data: no caller numbers, no citizens' names, and no operators' names either. A
wall screen is seen by everyone in the room and by visitors; per-operator counts there would
turn a service figure into a public ranking of named employees (their personal data too,
152-ФЗ), which the room needs not: counts by state serve it. The names stay on the board of
the administrator and the supervisors.
"""

from __future__ import annotations

from aiohttp import web

from hotline.web.common import ACTOR
from hotline.web.errors import ApiError, Handler
from hotline.web.pages import PageUser, add_page, render
from journal.models import Role

WALLBOARD_VIEWERS = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.WALLBOARD.value})
# What a wallboard account may call besides the page: its own session and the socket.
WALLBOARD_API = frozenset({("GET", "/api/v1/me"), ("POST", "/api/v1/logout"), ("GET", "/api/v1/ws")})


def add_routes(app: web.Application) -> None:
    add_page(app, "/board/wall", wall_page, WALLBOARD_VIEWERS)
    app.middlewares.append(wallboard_fence)


async def wall_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return render(request, "wallboard.html", user, title="Табло зала операторов",
                  page_data={"user_id": user.id})


@web.middleware
async def wallboard_fence(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A wallboard account reaches no API route but its session's and the socket."""
    actor = request.get(ACTOR)
    if (actor is not None and actor.role == Role.WALLBOARD and request.path.startswith("/api/")
            and (request.method, request.path) not in WALLBOARD_API):
        raise ApiError(403, "forbidden", "Учётной записи табло доступно только табло")
    return await handler(request)
