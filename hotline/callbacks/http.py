"""`/api/v1/callbacks`: deferred answers and secretary messages to call back, the queue of
untaken ones, taking one and placing the call."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from hotline.callbacks.live import announce
from hotline.pbx.actions import PbxActionFailed
from hotline.web.common import actor_of, datetime_param, int_param, json_body, path_id, row_json
from hotline.web.errors import ApiError
from hotline.keys import PBX_ACTIONS
from hotline.web.keys import CARD_RULES, SESSIONS, SETTINGS
from journal import cards
from journal.callbacks import (
    callback_queue, dialling_now, get_callback_for, list_callbacks, note_attempt, take, zones_of,
)
from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput
from journal.models import Call, CallbackTask, Card, Organization, User


def callback_json(task: CallbackTask) -> dict[str, Any]:
    return row_json(task)


async def callbacks(request: web.Request) -> web.Response:
    """Visible callback tasks, soonest first; `status` (default pending, `all` for any);
    `assigned=me` for the signed-in operator's own, `assigned=none` for the queue (the
    organization's untaken callbacks of the operator's level, most overdue first). Each item
    names its card's number, its line's time zone (`zone`) and whether it is being dialled
    now (`dialling`, by `dialling_user_id`)."""
    status = request.query.get("status", "pending")
    limit = int_param(request.query.get("limit"), "limit", default=200)
    assigned = request.query.get("assigned")
    if assigned not in (None, "", "me", "none"):
        raise InvalidInput("«assigned»: поддерживается «me» или «none»", field="assigned")
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        if assigned == "none":
            rows = await callback_queue(db, actor, limit=limit)
        else:
            rows = await list_callbacks(db, actor, status=None if status == "all" else status,
                                        limit=limit,
                                        assigned_user_id=actor.user_id if assigned == "me" else None)
        numbers: dict[int, str] = {}
        if rows:
            found = await db.execute(
                select(Card.id, Card.number).where(Card.id.in_({r.card_id for r in rows})))
            numbers = {card_id: number for card_id, number in found}
        zones = await zones_of(db, rows)
        dialling = await dialling_now(db, [r.id for r in rows if r.status == "pending"])
        items = [callback_json(r) | {
            "card_number": numbers.get(r.card_id), "zone": zones.get(r.id) or None,
            "dialling": r.id in dialling, "dialling_user_id": dialling.get(r.id),
        } for r in rows]
    return web.json_response({"items": items})


async def take_callback(request: web.Request) -> web.Response:
    """Take a callback from the queue: it becomes the operator's own (409 if taken)."""
    await json_body(request)  # no arguments; a malformed body is still refused
    async with unit_of_work(request.app[SESSIONS]) as db:
        task = await take(db, actor_of(request), path_id(request))
        out = callback_json(task)
    announce(request.app, [task.organization_id])
    return web.json_response(out)


async def defer(request: web.Request) -> web.Response:
    """Defer a card's answer: the citizen's contact and when to call back (journal.cards.defer)."""
    body = await json_body(request)
    card_id = int_param(body.get("card_id"), "card_id", required=True)
    due = datetime_param(body.get("callback_due_at"), "callback_due_at")
    if due is None:
        raise InvalidInput("Укажите срок обратного звонка", field="callback_due_at")
    async with unit_of_work(request.app[SESSIONS]) as db:
        task = await cards.defer(
            db, actor_of(request), card_id,
            contact_phone=str(body.get("contact_phone") or ""), callback_due_at=due,
            contact_name=body.get("contact_name"), note=body.get("note"),
            expected_version=int_param(body.get("version"), "version"),
            rules=request.app[CARD_RULES],
        )
        out = callback_json(task)
    announce(request.app, [task.organization_id])
    return web.json_response(out, status=201)


async def dial(request: web.Request) -> web.Response:
    """Place the callback: the PBX rings the operator's phone, then dials the citizen."""
    actions = request.app.get(PBX_ACTIONS)
    if actions is None:
        raise ApiError(503, "pbx_unavailable", "АТС не подключена: обратный звонок невозможен")
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        task = await get_callback_for(db, actor, path_id(request), lock=True)
        interface = await _interface(db, request, actor.user_id)
        line = await _line_for(db, request, task)
        await note_attempt(db, actor, task)
    announce(request.app, [task.organization_id])  # the others' «Позвонить» goes at once
    try:
        await actions.place_callback(
            card_id=task.card_id, interface=interface, number=task.contact_phone, line=line
        )
    except PbxActionFailed as exc:
        raise ApiError(exc.status, "pbx_failed" if exc.status == 502 else exc.code,
                       exc.message) from None
    return web.json_response({"ok": True, "callback_id": task.id}, status=202)


async def _interface(db: Any, request: web.Request, user_id: int | None) -> str:
    user = await db.get(User, user_id) if user_id is not None else None
    if user is None or not user.interface:
        raise InvalidInput("За вами не закреплён телефон: обратный звонок невозможен", field="interface")
    org = await db.get(Organization, user.organization_id)
    if org is None or request.app[SETTINGS].organization_of_phone(user.interface) != org.code:
        # Another organization's phone would ring with this citizen's callback.
        raise Forbidden(f"Телефон {user.interface} не принадлежит вашей организации",
                        interface=user.interface)
    return user.interface


async def _line_for(db: Any, request: web.Request, task: CallbackTask) -> str:
    """The 8-800 line shown to the citizen: the card's call's line, else the organization's."""
    line = await db.scalar(
        select(Call.line_number).where(Call.card_id == task.card_id, Call.line_number.is_not(None)).limit(1)
    )
    if line:
        return line
    code = await db.scalar(
        select(Organization.code)
        .join(Card, Card.organization_id == Organization.id)
        .where(Card.id == task.card_id)
    )
    for configured in request.app[SETTINGS].lines:
        if configured.organization == code:
            return configured.number
    raise InvalidInput("У организации нет линии для обратного звонка", field="line")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/callbacks", callbacks)
    app.router.add_post("/api/v1/callbacks", defer)
    app.router.add_post("/api/v1/callbacks/{id}/dial", dial)
    app.router.add_post("/api/v1/callbacks/{id}/take", take_callback)
