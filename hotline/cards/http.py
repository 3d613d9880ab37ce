"""`/api/v1/cards`: the journal of appeals (РКК) over JSON.

Views only translate HTTP to the journal's service API (`journal.cards`, `journal.access`):
who may see or change a card is decided there, never here. Every change runs in one unit of
work, so the card, its history row and its audit entry commit together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.config import Settings
from hotline.callbacks.live import announce
from hotline.web.common import actor_of, datetime_param, int_param, json_body, path_id, row_json
from hotline.web.keys import CARD_RULES, SESSIONS, SETTINGS
from hotline.keys import LABELS, LIVE
from hotline.pbx.labels import line_title
from hotline.cards.schema import card_json, card_values
from journal import cards as lifecycle
from journal.access import CardFilter, list_cards
from journal.actors import Actor
from journal.cards import CardRules
from journal.dictionaries import dictionaries as journal_dictionaries
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.models import Card, CardHistory

TEXT_FILTERS = {
    "appeal_type": "appeal_type", "topic": "topic_code", "channel": "channel", "form": "form",
    "phone": "phone", "q": "text",
}
MAX_FILTER_TEXT = 200
# Operators work at levels 1-3; no journal has a million pages (and page * per_page must fit
# the database's OFFSET).
MAX_LEVEL = 3
MAX_PAGE = 1_000_000


def history_json(row: CardHistory) -> dict[str, Any]:
    return row_json(row)


def card_filter(query: MultiMapping[str]) -> CardFilter:
    """The journal's filters from the query string (unknown parameters are ignored)."""
    statuses = [s for value in query.getall("status", []) for s in value.split(",") if s]
    texts: dict[str, str] = {}
    for param, name in TEXT_FILTERS.items():
        value = query.get(param)
        if value:
            if len(value) > MAX_FILTER_TEXT:
                raise InvalidInput(f"«{param}»: слишком длинное значение", field=param)
            texts[name] = value
    return CardFilter(
        organization_id=int_param(query.get("organization_id"), "organization_id"),
        statuses=statuses or None,
        received_from=datetime_param(query.get("received_from"), "received_from"),
        received_to=datetime_param(query.get("received_to"), "received_to"),
        operator_id=int_param(query.get("operator_id"), "operator_id"),
        level=int_param(query.get("level"), "level", minimum=1, maximum=MAX_LEVEL),
        **texts,
    )


async def list_(request: web.Request) -> web.Response:
    """A page of the journal: visible cards matching the filters, newest first."""
    flt = card_filter(request.query)
    page = int_param(request.query.get("page"), "page", default=1, minimum=1, maximum=MAX_PAGE)
    per_page = int_param(request.query.get("per_page"), "per_page", default=50)
    async with unit_of_work(request.app[SESSIONS]) as db:
        result = await list_cards(db, actor_of(request), flt, page=page, per_page=per_page)
        items = [card_json(card_values(c)) for c in result.cards]
    return web.json_response({
        "items": items, "total": result.total, "page": result.page,
        "per_page": result.per_page, "pages": result.pages,
    })


async def create(request: web.Request) -> web.Response:
    """Register a written appeal (post, e-mail, reception...): refused with 422 naming the
    fields a registration needs (`details.fields`) unless they are filled."""
    body = await json_body(request)
    received_at = datetime_param(body.get("received_at"), "received_at")
    if received_at is None:
        raise InvalidInput("Укажите дату и время поступления", field="received_at")
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise InvalidInput("«fields» должно быть объектом", field="fields")
    async with unit_of_work(request.app[SESSIONS]) as db:
        card = await lifecycle.register_written(
            db, actor_of(request), channel=str(body.get("channel") or ""),
            received_at=received_at,
            organization_id=int_param(body.get("organization_id"), "organization_id"),
            fields=fields, rules=request.app[CARD_RULES],
        )
        out = card_json(card_values(card))
    out["deadlines"] = deadlines_json(card, request.app[CARD_RULES])
    return web.json_response(out, status=201)


def deadlines_json(card: Card, rules: CardRules) -> dict[str, str]:
    """The 59-ФЗ dates of a new appeal: register by, forward by (if another body is
    competent), answer by (stored on the card)."""
    zone = rules.deadlines.zone
    registered_on = card.registered_at.astimezone(zone).date()
    return {
        "registration_due": rules.deadlines.registration_due(
            card.received_at.astimezone(zone).date()).isoformat(),
        "forwarding_due": rules.deadlines.forwarding_due(registered_on).isoformat(),
        "answer_due": (card.due_date or rules.deadlines.answer_due(registered_on)).isoformat(),
    }


async def read(request: web.Request) -> web.Response:
    """One card (the view is audited)."""
    async with unit_of_work(request.app[SESSIONS]) as db:
        card = await lifecycle.read_card(db, actor_of(request), path_id(request))
        out = card_json(card_values(card))
    return web.json_response(out)


async def history(request: web.Request) -> web.Response:
    async with unit_of_work(request.app[SESSIONS]) as db:
        rows = await lifecycle.card_history(db, actor_of(request), path_id(request))
        out = [history_json(r) for r in rows]
    return web.json_response({"items": out})


def _version(body: dict[str, Any]) -> int | None:
    return int_param(body.get("version"), "version")


def _required_version(body: dict[str, Any]) -> int:
    """The version the client last saw: a save or completion over a newer one is a conflict."""
    return int_param(body.get("version"), "version", required=True)


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes = body.get("changes") or {}
    if not isinstance(changes, dict):
        raise InvalidInput("«changes» должно быть объектом", field="changes")
    return changes


def _text(body: dict[str, Any], name: str) -> str:
    """A free-text argument; the journal itself refuses it when empty."""
    value = body.get(name)
    return value if isinstance(value, str) else ""


def _target(body: dict[str, Any]) -> int | str:
    target = body.get("to_organization")
    if isinstance(target, bool) or not isinstance(target, int | str) or target == "":
        raise InvalidInput("Укажите организацию (код или id)", field="to_organization")
    return target


Step = Callable[[AsyncSession, Actor, int, dict[str, Any], CardRules], Awaitable[Card]]

# Each lifecycle step of `journal.cards` with its arguments taken from the JSON body.
STEPS: dict[str, Step] = {
    "save": lambda db, actor, card_id, body, rules: lifecycle.save(
        db, actor, card_id, _changes(body), _required_version(body), rules=rules),
    "complete": lambda db, actor, card_id, body, rules: lifecycle.complete(
        db, actor, card_id, expected_version=_required_version(body), changes=_changes(body),
        rules=rules),
    "correct": lambda db, actor, card_id, body, rules: lifecycle.correct(
        db, actor, card_id, _changes(body), _required_version(body),
        reason=_text(body, "reason"), rules=rules),
    "close": lambda db, actor, card_id, body, rules: lifecycle.close(
        db, actor, card_id, expected_version=_version(body), rules=rules),
    "cancel": lambda db, actor, card_id, body, rules: lifecycle.cancel(
        db, actor, card_id, reason=_text(body, "reason"), expected_version=_version(body),
        rules=rules),
    "forward": lambda db, actor, card_id, body, rules: lifecycle.forward(
        db, actor, card_id, to_organization=_target(body), reason=_text(body, "reason"),
        expected_version=_version(body), rules=rules),
    "extend": lambda db, actor, card_id, body, rules: lifecycle.extend(
        db, actor, card_id, new_due=_text(body, "new_due"), reason=_text(body, "reason"),
        expected_version=_version(body), rules=rules),
}


# Steps after which the card needs no callback: its waiting ones are cancelled.
SETTLING = frozenset({"complete", "close"})


def _operation(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The view of one lifecycle step: the body in, the card as it is now out."""
    step = STEPS[name]

    async def view(request: web.Request) -> web.Response:
        body = await json_body(request)
        card_id = path_id(request)
        async with unit_of_work(request.app[SESSIONS]) as db:
            waiting = await lifecycle.open_callbacks(db, card_id) if name in SETTLING else 0
            card = await step(db, actor_of(request), card_id, body, request.app[CARD_RULES])
            values = card_values(card)
            out = card_json(values)
        if name in SETTLING:  # the person is told what became of the card's callbacks
            out["callbacks_cancelled"] = waiting
        if waiting or name in ("cancel", "forward"):
            announce(request.app, {card.organization_id, card.receiving_organization_id})
        live = request.app.get(LIVE)
        if live is not None:  # a later pop of the call (level 2, say) shows the card as now
            live.card_changed(values)
        return web.json_response(out)

    view.__name__ = name
    return view


save = _operation("save")
close = _operation("close")
complete = _operation("complete")
cancel = _operation("cancel")
correct = _operation("correct")
forward = _operation("forward")
extend = _operation("extend")


async def dictionaries(request: web.Request) -> web.Response:
    """What a card form offers: types, channels, topics valid today, organizations, titles;
    `queues` and `lines`: the PBX's queues and 8-800 lines as people name them; `labels`: the
    Russian title of every code a page shows, the journal's and the features'."""
    async with request.app[SESSIONS]() as db:
        out = await journal_dictionaries(db, request.app[CARD_RULES].today())
    out["queues"] = queue_titles(request.app[SETTINGS])
    out["lines"] = {line.number: line_title(line.number) for line in request.app[SETTINGS].lines}
    out["labels"].update({group: dict(titles) for group, titles in request.app.get(LABELS, {}).items()})
    return web.json_response(out)


def queue_titles(settings: Settings) -> dict[str, str]:
    """Each PBX queue's name as people say it: «1 уровень — ТФОМС Алтайского края»."""
    titles: dict[str, str] = {}
    for org in settings.organizations:
        titles[org.level1_queue] = f"1 уровень — {org.name}"
        titles[org.level2_queue] = f"2 уровень — {org.name}"
    return titles


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/dictionaries", dictionaries)
    app.router.add_get("/api/v1/cards", list_)
    app.router.add_post("/api/v1/cards", create)
    app.router.add_get("/api/v1/cards/{id}", read)
    app.router.add_patch("/api/v1/cards/{id}", save)
    app.router.add_get("/api/v1/cards/{id}/history", history)
    for name, view in (("close", close), ("complete", complete), ("cancel", cancel),
                       ("forward", forward), ("extend", extend), ("correct", correct)):
        app.router.add_post(f"/api/v1/cards/{{id}}/{name}", view)
