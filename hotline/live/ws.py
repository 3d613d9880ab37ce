"""`GET /api/v1/ws`: the signed-in browser's live channel (screen-pops, board, agent state).

The session cookie authenticates (the auth middleware refuses a missing session with 401
before the upgrade). Browsers send cookies on cross-site WebSocket handshakes too, and
SameSite does not cover every case, so the `Origin` must name this very service
(cross-site WebSocket hijacking); clients that send no Origin (not browsers) are let in.

Messages go server → browser only; the browser may send `{"type": "ping"}` and gets
`{"type": "pong"}`. When the session ends the socket is closed with code 4401: at once for a
sign-out here, at the next sweep for an expiry, a disabled account or a sign-out on another
instance. A browser too slow to read is closed with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

import structlog
from aiohttp import WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.web.auth import WEB_SESSION
from hotline.web.common import actor_of
from hotline.web.errors import ApiError
from hotline.live.hub import CLOSE_SESSION_ENDED, CLOSE_TOO_SLOW, Subscriber
from hotline.web.keys import SESSIONS, SETTINGS
from hotline.keys import SOCKETS
from hotline.web.sessions import SessionStore
from journal import audit
from journal.db import unit_of_work
from journal.models import Organization, User

log = structlog.get_logger(__name__)

SESSION_CHECK = 15.0
HEARTBEAT = 25.0


def same_origin(request: web.Request) -> bool:
    """True when the handshake's Origin (if any) is this service's own scheme-less host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == (request.host or "").lower()


async def websocket(request: web.Request) -> web.StreamResponse:
    """Open the live channel for the signed-in user."""
    if not same_origin(request):
        log.warning("websocket from another origin refused", origin=request.headers.get("Origin"))
        raise ApiError(403, "bad_origin", "Подключение с чужого сайта запрещено")
    actor = actor_of(request)
    async with request.app[SESSIONS]() as db:
        user = await db.get(User, actor.user_id)
        if user is None:
            raise ApiError(401, "unauthenticated", "Войдите в систему")
        interface = await own_phone(request, db, user)
        org = await db.get(Organization, user.organization_id) if user.organization_id else None
    session = request[WEB_SESSION]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=64 * 1024)
    await ws.prepare(request)
    subscriber = Subscriber(
        user_id=user.id, login=user.login, role=user.role,
        organization_id=user.organization_id, interface=interface,
        session_token=session.token, organization_code=org.code if org is not None else None,
    )
    hub = request.app[SOCKETS]
    hub.subscribe(subscriber)
    sender = asyncio.create_task(_send(ws, subscriber), name=f"ws-send-{user.login}")
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and _is_ping(msg.data):
                subscriber.put({"type": "pong"})
    finally:
        hub.unsubscribe(subscriber)
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        if not ws.closed:
            await ws.close()
        log.info("live subscriber left", user_id=user.id)
    return ws


async def own_phone(request: web.Request, db: AsyncSession, user: User) -> str | None:
    """The user's phone if it is one of their organization's own (config `level1_phones`/
    `level2_phones`), else None: pops, call states and agent states of a phone go only to
    its organization's staff. A foreign phone is refused on the audit log as `denied`."""
    if not user.interface:
        return None
    org = await db.get(Organization, user.organization_id)
    owner = request.app[SETTINGS].organization_of_phone(user.interface)
    if org is not None and owner == org.code:
        return user.interface
    log.warning("phone of another organization refused", user_id=user.id,
                interface=user.interface, owner=owner)
    async with unit_of_work(request.app[SESSIONS]) as audit_db:
        await audit.record(audit_db, actor_of(request), audit.AuditAction.DENIED, "phone", None, {
            "interface": user.interface, "owner": owner, "path": request.path[:200],
            "code": "foreign_phone",
        })
    return None


def _is_ping(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") == "ping"


async def _send(ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
    """Drain the subscriber's outbox into the socket; None in the outbox closes it."""
    while True:
        message = await subscriber.outbox.get()
        if message is None:
            with contextlib.suppress(Exception):
                await ws.close(code=subscriber.close_code)
            return
        try:
            # A cancel scope, not wait_for: that wraps every message in a task of its own.
            async with asyncio.timeout(10.0):
                await ws.send_json(message)
        except (ConnectionError, TimeoutError, RuntimeError):
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_TOO_SLOW)
            return


async def sweep_sessions(hub: Iterable[Subscriber], store: SessionStore) -> None:
    """Close the sockets whose session ended (sign-out, expiry, account disabled).

    One query every `SESSION_CHECK` seconds for every open socket of this process, not a
    task and a transaction per socket: hundreds of workspaces stay open all day.
    """
    while True:
        await asyncio.sleep(SESSION_CHECK)
        subscribers = list(hub)
        if not subscribers:
            continue
        try:
            alive = await store.alive({s.session_token for s in subscribers})
        except Exception as exc:  # the database is away: keep the sockets, ask again later
            log.warning("live sessions not checked", error=repr(exc)[:200])
            continue
        for subscriber in subscribers:
            if subscriber.session_token not in alive:
                log.info("live socket closed: session ended", user_id=subscriber.user_id)
                subscriber.close(CLOSE_SESSION_ENDED)
