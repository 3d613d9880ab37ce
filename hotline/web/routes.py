"""The JSON API's wiring: middlewares, the web's own state and every /api/v1 route."""

from __future__ import annotations

import asyncio

from collections.abc import AsyncIterator

from aiohttp import web

from hotline.bootstrap import card_rules
from hotline.web import api_misc, auth, openapi
from hotline.agents import http as api_agent
from hotline.calls import http as api_calls
from hotline.cards import http as api_cards
from hotline.reports import http as api_reports
from hotline.live import ws
from hotline.evaluations import http as api_evaluations
from hotline.scripts import http as api_scripts
from hotline.staff import http as api_staff
from hotline.supervision import http as api_supervision
from hotline.web.errors import error_middleware
from hotline.web.guard import denied_audit_middleware, input_middleware
from hotline.live.hub import Hub
from hotline.web.schemas import schema_middleware
from hotline.web.keys import (
    CALENDAR, CARD_RULES, HUB, LIVE, LOGIN_THROTTLE, SESSIONS, SETTINGS, TELEPHONY, WEB_SESSIONS,
)
from hotline.web.throttle import LoginThrottle
from hotline.live.feed import LiveFeed
from hotline.web.sessions import SessionStore


def setup_api(app: web.Application) -> None:
    """Add the API to the app: errors outermost, then the input limits, authentication and
    CSRF, the audit of refused access, then the routes."""
    app.middlewares.append(error_middleware)
    app.middlewares.append(input_middleware)
    app.middlewares.append(auth.auth_middleware)
    app.middlewares.append(denied_audit_middleware)
    app.middlewares.append(schema_middleware)
    app[HUB] = Hub()
    app[LOGIN_THROTTLE] = LoginThrottle()
    app.cleanup_ctx.append(_web_state)
    app.cleanup_ctx.append(_live)
    app.router.add_post("/api/v1/login", auth.login)
    app.router.add_post("/api/v1/logout", auth.logout)
    app.router.add_get("/api/v1/me", auth.me)
    api_cards.add_routes(app)
    api_calls.add_routes(app)
    api_misc.add_routes(app)
    api_agent.add_routes(app)
    api_reports.add_routes(app)
    api_scripts.add_routes(app)
    api_evaluations.add_routes(app)
    api_staff.add_routes(app)
    api_supervision.add_routes(app)
    app.router.add_get("/api/v1/ws", ws.websocket)
    openapi.add_routes(app)


async def _web_state(app: web.Application) -> AsyncIterator[None]:
    """The sign-in sessions (in the journal's database) and the card rules the API applies
    (on the production calendar the composition root read once)."""
    app[WEB_SESSIONS] = SessionStore(app[SESSIONS])
    app[CARD_RULES] = card_rules(app[SETTINGS], app[CALENDAR])
    yield


async def _live(app: web.Application) -> AsyncIterator[None]:
    """Screen-pops, the live board and agent states over the hub (after the telephony starts:
    cleanup contexts run in order, so the PBX side is up when this one subscribes to it)."""
    live = LiveFeed(app[HUB], app[SESSIONS], app.get(TELEPHONY))
    app[LIVE] = live
    live.start()
    sweep = asyncio.create_task(ws.sweep_sessions(app[HUB], app[WEB_SESSIONS]),
                                name="ws-session-sweep")
    yield
    sweep.cancel()
    await asyncio.gather(sweep, return_exceptions=True)
    await live.stop()
