"""The JSON API's shell: middlewares, the web's own state, signing in and the OpenAPI
document. Each feature's routes are added by the composition root (`hotline.app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from hotline.bootstrap import card_rules
from hotline.web import auth, openapi
from hotline.web.errors import error_middleware
from hotline.web.guard import denied_audit_middleware, input_middleware
from hotline.web.schemas import schema_middleware
from hotline.web.keys import CALENDAR, CARD_RULES, LOGIN_THROTTLE, SESSIONS, SETTINGS, WEB_SESSIONS
from hotline.web.throttle import LoginThrottle
from hotline.web.sessions import SessionStore


def setup_api(app: web.Application) -> None:
    """Add the API's shell to the app: errors outermost, then the input limits,
    authentication and CSRF, the audit of refused access; signing in and out."""
    app.middlewares.append(error_middleware)
    app.middlewares.append(input_middleware)
    app.middlewares.append(auth.auth_middleware)
    app.middlewares.append(denied_audit_middleware)
    app.middlewares.append(schema_middleware)
    app[LOGIN_THROTTLE] = LoginThrottle()
    app.cleanup_ctx.append(_web_state)
    app.router.add_post("/api/v1/login", auth.login)
    app.router.add_post("/api/v1/logout", auth.logout)
    app.router.add_get("/api/v1/me", auth.me)
    openapi.add_routes(app)


async def _web_state(app: web.Application) -> AsyncIterator[None]:
    """The sign-in sessions (in the journal's database) and the card rules the API applies
    (on the production calendar the composition root read once)."""
    app[WEB_SESSIONS] = SessionStore(app[SESSIONS])
    app[CARD_RULES] = card_rules(app[SETTINGS], app[CALENDAR])
    yield
