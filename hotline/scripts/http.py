"""`/api/v1/scripts`: answer scripts (скрипты ответов) for typical questions.

Operators read the active scripts of their organization and the common ones, with `?q=`
keyword search; the administrator reads every script and adds or edits them. Who may do what
is decided in the journal (`journal.scripts`, `journal.access`), never here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.web.common import actor_of, int_param, json_body, path_id, row_json
from hotline.web.keys import SESSIONS
from hotline.keys import LIVE
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.models import AnswerScript
from journal.scripts import create_script, list_scripts, update_script


def script_json(script: AnswerScript) -> dict[str, Any]:
    return row_json(script)


def _active(value: str | None) -> bool | None:
    if value in (None, "", "all"):
        return None
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise InvalidInput("«active»: 1, 0 или all", field="active")


async def list_(request: web.Request) -> web.Response:
    """Visible scripts by title; `q` keywords, `organization_id`, `active` (1/0/all)."""
    query = request.query
    async with request.app[SESSIONS]() as db:
        rows = await list_scripts(
            db, actor_of(request), q=query.get("q") or None,
            organization_id=int_param(query.get("organization_id"), "organization_id"),
            active=_active(query.get("active")),
            limit=int_param(query.get("limit"), "limit", default=200),
        )
        items = [script_json(s) for s in rows]
    return web.json_response({"items": items})


async def create(request: web.Request) -> web.Response:
    body = await json_body(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        script = await create_script(db, actor_of(request), body)
        out = script_json(script)
    _scripts_changed(request)
    return web.json_response(out, status=201)


async def update(request: web.Request) -> web.Response:
    body = await json_body(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        script = await update_script(db, actor_of(request), path_id(request), body)
        out = script_json(script)
    _scripts_changed(request)
    return web.json_response(out)


def _scripts_changed(request: web.Request) -> None:
    """The next screen-pop shows the edit (other instances within the cache's lifetime)."""
    live = request.app.get(LIVE)
    if live is not None:
        live.scripts.invalidate()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/scripts", list_)
    app.router.add_post("/api/v1/scripts", create)
    app.router.add_patch("/api/v1/scripts/{id}", update)
