"""Two fences of the JSON API around the views: hostile input out, refused access on record.

- `input_middleware` (before authentication) refuses a body announced larger than the app's
  `client_max_size` with 413 whether or not the view would read it, and a query string
  carrying a NUL character (PostgreSQL cannot even compare text with one) with 422.
- `denied_audit_middleware` (after authentication) writes an audit entry `denied` when the
  journal refuses a signed-in user an object (another organization's card, call, recording
  or callback is "not found") or an action (forbidden for the role): 152-ФЗ asks who tried
  to reach personal data, not only who did. The refusal itself goes on to the error edge.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from hotline.web.common import ACTOR
from hotline.web.errors import ApiError, Handler
from hotline.web.keys import SESSIONS
from journal import audit
from journal.db import unit_of_work
from journal.errors import Forbidden, NotFound

log = structlog.get_logger(__name__)

API_PREFIX = "/api/"
# The detail a journal refusal names its object by -> the audit log's object type.
OBJECT_DETAILS = {"card_id": "card", "call_id": "call", "recording_id": "recording",
                  "callback_id": "callback", "user_id": "user"}


@web.middleware
async def input_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(API_PREFIX):
        length = request.content_length
        if length is not None and length > request.client_max_size:
            raise web.HTTPRequestEntityTooLarge(max_size=request.client_max_size, actual_size=length)
        if any("\x00" in text for pair in request.query.items() for text in pair):
            raise ApiError(422, "invalid_input", "Недопустимый символ NUL в параметрах запроса")
    return await handler(request)


@web.middleware
async def denied_audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (NotFound, Forbidden) as exc:
        actor = request.get(ACTOR)
        if actor is not None and (isinstance(exc, Forbidden) or _object_of(exc) is not None):
            await _record_denied(request, exc)
        raise
    except ApiError as exc:  # the web layer's own refusals for the role (e.g. not_an_operator)
        if exc.status == 403 and request.get(ACTOR) is not None:
            await _record_denied(request, exc)
        raise


def _object_of(exc: NotFound | Forbidden | ApiError) -> tuple[str, object] | None:
    for detail, object_type in OBJECT_DETAILS.items():
        if detail in exc.details:
            return object_type, exc.details[detail]
    return None


async def _record_denied(request: web.Request, exc: NotFound | Forbidden | ApiError) -> None:
    """In its own transaction: the view's was rolled back with the refusal."""
    object_type, object_id = _object_of(exc) or ("api", None)
    try:
        async with unit_of_work(request.app[SESSIONS]) as db:
            await audit.record(db, request[ACTOR], audit.AuditAction.DENIED, object_type, object_id, {
                "method": request.method, "path": request.path[:200], "code": exc.code,
            })
    except Exception as error:  # the refusal is answered even when the log cannot be written
        log.error("denied access not audited", path=request.path, error=repr(error)[:300])
