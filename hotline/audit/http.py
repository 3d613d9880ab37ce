"""`/api/v1/audit`: the access log."""

from __future__ import annotations

from aiohttp import web

from hotline.web.common import actor_of, datetime_param, int_param, row_json
from hotline.web.keys import SESSIONS
from journal.audit import AuditFilter, query_audit


async def audit_log(request: web.Request) -> web.Response:
    """The access log, newest first (administrator only: the journal refuses anyone else)."""
    query = request.query
    actions = [a for value in query.getall("action", []) for a in value.split(",") if a]
    flt = AuditFilter(
        user_id=int_param(query.get("user_id"), "user_id"),
        login=query.get("login") or None,
        actions=actions or None,
        object_type=query.get("object_type") or None,
        object_id=query.get("object_id") or None,
        since=datetime_param(query.get("since"), "since"),
        until=datetime_param(query.get("until"), "until"),
    )
    offset = int_param(query.get("offset"), "offset", default=0)
    limit = int_param(query.get("limit"), "limit", default=100)
    async with request.app[SESSIONS]() as db:
        page = await query_audit(db, actor_of(request), flt, offset=offset, limit=limit)
    return web.json_response({
        "items": [row_json(e) for e in page.entries], "total": page.total,
        "offset": page.offset, "limit": page.limit,
    })


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/audit", audit_log)
