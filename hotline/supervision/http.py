"""Supervision's JSON API (контроль разговоров), for the board's buttons and the card page.

- `POST /api/v1/calls/{id}/supervision` `{"mode": "listen|whisper|barge"}`: ring the signed-in
  supervisor's own phone and listen to the call («Прослушать»), whisper to the operator
  («Подсказать») or barge in («Вмешаться»); when their phone already listens to this call,
  switch to that mode. 202.
- `DELETE /api/v1/calls/{id}/supervision`: hang up their listening leg. 202.
- `GET /api/v1/calls/{id}/supervision`: who listens now and every start, switch and end
  of listening to this call (from the access log).

The administrator: any call; an organization's supervisor: its own organization's calls
(another's is 404, as everywhere); anyone else 403. The page sends only the call's id: the
operator's channel is the service's own finding.
"""

from __future__ import annotations


from aiohttp import web
from sqlalchemy import select

from hotline.pbx.actions import PbxActionFailed
from hotline.supervision.service import (
    MODE_TITLES, Supervisor, SupervisionRefused, SupervisionService,
)
from hotline.web.common import actor_of, iso, json_body, path_id
from hotline.web.errors import ApiError
from hotline.keys import SUPERVISION
from hotline.web.keys import SESSIONS, SETTINGS
from journal.access import may_supervise
from journal.actors import Actor
from journal.audit import AuditAction
from journal.calls import get_call_for
from journal.db import unit_of_work
from journal.errors import Forbidden
from journal.models import AuditEntry, User

ACTIONS = (AuditAction.SUPERVISE_START, AuditAction.SUPERVISE_SWITCH, AuditAction.SUPERVISE_END)


def _service(request: web.Request) -> SupervisionService:
    service = request.app.get(SUPERVISION)
    if service is None:
        raise ApiError(503, "pbx_disabled", "Служба запущена без АТС")
    return service


def _allowed(actor: Actor) -> None:
    if not may_supervise(actor):
        raise Forbidden("Слушать разговоры могут администратор и руководитель организации")


async def _call_and_supervisor(request: web.Request) -> tuple[int, str, Supervisor]:
    """The call (visible to the actor, else 404 — another organization's call is not
    confirmed to exist, whoever asks), then the role (403), then the actor's own phone."""
    actor = actor_of(request)
    call_row_id = path_id(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        view = await get_call_for(db, actor, call_row_id)
    _allowed(actor)
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await db.get(User, actor.user_id)
    interface = user.interface if user is not None else None
    if user is None or not interface or request.app[SETTINGS].organization_of_phone(interface) is None:
        raise ApiError(409, "no_phone",
                       "У вашей учётной записи не указан телефон: звонить для прослушивания некуда")
    return call_row_id, view.call.pbx_call_id, Supervisor(actor, user.full_name, interface)


def _refused(exc: SupervisionRefused) -> ApiError:
    return ApiError(409, exc.code, exc.message)


async def supervise(request: web.Request) -> web.Response:
    call_row_id, pbx_call_id, who = await _call_and_supervisor(request)
    body = await json_body(request)
    mode = body.get("mode")
    if mode not in MODE_TITLES:
        raise ApiError(422, "invalid_input", "«mode»: listen, whisper или barge", field="mode")
    service = _service(request)
    try:
        session = await service.request(who, call_row_id, pbx_call_id, mode)
    except SupervisionRefused as exc:
        raise _refused(exc) from None
    except PbxActionFailed as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return web.json_response(session.as_json(), status=202)


async def stop(request: web.Request) -> web.Response:
    _, pbx_call_id, who = await _call_and_supervisor(request)
    try:
        session = await _service(request).stop(who, pbx_call_id)
    except SupervisionRefused as exc:
        raise _refused(exc) from None
    return web.json_response({"ok": True, "call_id": session.call_row_id}, status=202)


async def history(request: web.Request) -> web.Response:
    """Who listens now, and the call's supervision as the access log keeps it."""
    actor = actor_of(request)
    call_row_id = path_id(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        view = await get_call_for(db, actor, call_row_id)  # another organization's: 404
        _allowed(actor)
        rows = (await db.execute(
            select(AuditEntry, User.full_name)
            .outerjoin(User, User.id == AuditEntry.user_id)
            .where(AuditEntry.object_type == "call", AuditEntry.object_id == str(call_row_id),
                   AuditEntry.action.in_([str(a) for a in ACTIONS]))
            .order_by(AuditEntry.at, AuditEntry.id)
        )).all()
    events = [{
        "at": iso(entry.at), "action": entry.action, "login": entry.login, "name": name,
        "mode": entry.details.get("mode"), "previous": entry.details.get("previous"),
        "seconds": entry.details.get("seconds"), "ended_by": entry.details.get("ended_by"),
        "joined": entry.details.get("joined"), "operator": entry.details.get("operator"),
    } for entry, name in rows]
    service = request.app.get(SUPERVISION)
    live = [s.as_json() for s in service.of_call(view.call.pbx_call_id)] if service else []
    return web.json_response({"call_id": call_row_id, "live": live, "events": events})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/calls/{id}/supervision", history)
    app.router.add_post("/api/v1/calls/{id}/supervision", supervise)
    app.router.add_delete("/api/v1/calls/{id}/supervision", stop)
