"""`/api/v1/evaluations` and `POST /api/v1/calls/{id}/evaluations`: the administrator's
evaluation sheets of operators on calls.

The criteria come from the configuration (`[evaluation] criteria`); the rules (only the
administrator evaluates, the call must be visible, the operator must have taken it) are the
journal's (`journal.evaluations`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.config import Settings
from hotline.web.common import actor_of, int_param, json_body, path_id, row_json
from hotline.web.keys import SESSIONS, SETTINGS
from journal.db import unit_of_work
from journal.evaluations import Criterion, create_evaluation, list_evaluations
from journal.models import Evaluation


def criteria_of(settings: Settings) -> tuple[Criterion, ...]:
    return tuple(Criterion(c.code, c.title, c.max_score) for c in settings.evaluation.criteria)


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    body = row_json(evaluation)
    body["scores"] = {s.criterion: s.score for s in evaluation.scores}
    return body


async def create(request: web.Request) -> web.Response:
    """Store a sheet: `{"scores": {code: score}, "operator_id"?, "comment"?}`."""
    body = await json_body(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        evaluation = await create_evaluation(
            db, actor_of(request), path_id(request), scores=body.get("scores") or {},
            criteria=criteria_of(request.app[SETTINGS]),
            operator_id=int_param(body.get("operator_id"), "operator_id"),
            comment=body.get("comment"),
        )
        out = evaluation_json(evaluation)
    return web.json_response(out, status=201)


async def list_(request: web.Request) -> web.Response:
    """Visible sheets newest first (`operator_id`, `call_id`), with the sheet's criteria."""
    query = request.query
    async with request.app[SESSIONS]() as db:
        rows = await list_evaluations(
            db, actor_of(request),
            operator_id=int_param(query.get("operator_id"), "operator_id"),
            call_id=int_param(query.get("call_id"), "call_id"),
            limit=int_param(query.get("limit"), "limit", default=100),
        )
        items = [evaluation_json(e) for e in rows]
    criteria = [c.as_json() for c in criteria_of(request.app[SETTINGS])]
    return web.json_response({"items": items, "criteria": criteria})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/calls/{id}/evaluations", create)
    app.router.add_get("/api/v1/evaluations", list_)
