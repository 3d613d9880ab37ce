"""Sign-in, sign-out and the guard in front of every API request.

- `POST /api/v1/login` checks the password (argon2, in a thread) and opens a server-side
  session (`hotline.web.sessions`); any session the browser already had is dropped, so a
  planted session id is never promoted (no fixation). The cookie is HttpOnly, SameSite=Strict
  and Secure when `[service] secure_cookies` says the service is reached over HTTPS.
- Five wrong passwords in a row lock the account for 15 minutes (`User.failed_logins`,
  `User.locked_until`); a correct password during the lock is refused too. An unknown login
  is answered alike, lock included, and more than 20 wrong sign-ins from one address in 15
  minutes refuse that address (`hotline.web.throttle`).
- Every state-changing request must carry `X-CSRF-Token` equal to the session's token (given
  by the login answer and by `GET /api/v1/me`); SameSite=Strict is the second fence.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import select

from hotline.web.common import ACTOR, actor_of, json_body
from hotline.web.errors import ApiError, Handler, error_response
from hotline.web.keys import LOGIN_THROTTLE, SESSION_ENDED, SESSIONS, SETTINGS, WEB_SESSIONS
from hotline.web.sessions import WebSession
from journal import audit
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Organization, User
from journal.users import hash_password, verify_password
from journal.clock import utc_now

log = structlog.get_logger(__name__)

COOKIE = "hotline_session"
CSRF_HEADER = "X-CSRF-Token"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths under /api/v1 that need no session: signing in and the API's own description.
PUBLIC_PATHS = frozenset({"/api/v1/login", "/api/v1/openapi.json"})
API_V1 = "/api/v1/"
WEB_SESSION = web.RequestKey("web_session", WebSession)
BAD_CREDENTIALS = "Неверный логин или пароль"
# Verified against for unknown logins, so they take as long as known ones.
_DUMMY_HASH = hash_password("not-a-real-password")



def unauthenticated() -> ApiError:
    return ApiError(401, "unauthenticated", "Войдите в систему: сеанс не начат или истёк")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the session into an Actor for /api/v1; refuse a missing session or CSRF token."""
    if not request.path.startswith(API_V1) or request.path in PUBLIC_PATHS:
        return await handler(request)
    store = request.app[WEB_SESSIONS]
    session = await store.get(request.cookies.get(COOKIE))
    if session is None:
        raise unauthenticated()
    if request.method in UNSAFE_METHODS and not _csrf_ok(request, session):
        return error_response(
            403, "csrf", "Запрос отклонён: нет или неверен токен защиты от подделки (CSRF)"
        )
    async with request.app[SESSIONS]() as db:
        user = await db.get(User, session.user_id)
    if user is None or not user.active:
        await store.drop(session.token)
        raise unauthenticated()
    request[WEB_SESSION] = session
    request[ACTOR] = Actor.of(user, request.remote)
    return await handler(request)


def _csrf_ok(request: web.Request, session: WebSession) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    # Header bytes that are not UTF-8 arrive as surrogate escapes: never our token.
    if not sent or not sent.isascii():
        return False
    return hmac.compare_digest(sent.encode(), session.csrf.encode())


async def login(request: web.Request) -> web.Response:
    """Check the login and password; on success a new session and its CSRF token."""
    body = await json_body(request)
    login_name, password = body.get("login"), body.get("password")
    if not isinstance(login_name, str) or not isinstance(password, str) or not login_name:
        raise ApiError(422, "invalid_input", "Укажите логин и пароль")
    now = utc_now()
    throttle = request.app[LOGIN_THROTTLE]
    wait = throttle.address_retry_after(request.remote)
    if wait is not None:
        log.warning("login refused", login=login_name[:64], reason="address throttled",
                    remote=request.remote)
        raise _locked(now + timedelta(seconds=wait))
    async with unit_of_work(request.app[SESSIONS]) as db:
        user = await db.scalar(
            select(User).where(User.login == login_name.strip().lower()).with_for_update()
        )
        if user is None or not user.active:
            # Answered exactly as a real account would be, lock-out included: the answers
            # must not tell which logins exist.
            ghost = login_name.strip().lower()[:64]
            wait = throttle.unknown_retry_after(ghost)
            if wait is not None:
                raise _locked(now + timedelta(seconds=wait))
            await asyncio.to_thread(verify_password, _DUMMY_HASH, password)
            log.info("login refused", login=login_name[:64], reason="unknown")
            locked_for = throttle.failed(request.remote, ghost)
            if locked_for is not None:
                raise _locked(now + timedelta(seconds=locked_for))
            raise ApiError(401, "bad_credentials", BAD_CREDENTIALS)
        actor = Actor.of(user, request.remote)
        if user.locked_until is not None and user.locked_until > now:
            raise _locked(user.locked_until)
        password_ok = await asyncio.to_thread(verify_password, user.password_hash, password)
        if password_ok:
            user.failed_logins = 0
            user.locked_until = None
            await audit.record(db, actor, "login", "user", user.id)
            me = await _me(db, user)
        else:  # the count is committed with this unit of work, the refusal comes after it
            locked = _count_failure(user, now)
            throttle.failed(request.remote)
            await audit.record(db, actor, "login_failed", "user", user.id,
                               {"failed_logins": user.failed_logins, "locked": locked})
            log.info("login refused", login=user.login, reason="password", locked=locked)
    if not password_ok:
        raise _locked(now + LOCKOUT) if locked else ApiError(401, "bad_credentials", BAD_CREDENTIALS)
    store = request.app[WEB_SESSIONS]
    await store.drop(request.cookies.get(COOKIE))
    session = await store.create(user.id)
    log.info("login", login=user.login, user_id=user.id)
    response = web.json_response({"user": me, "csrf_token": session.csrf})
    response.set_cookie(
        COOKIE, session.token, httponly=True, samesite="Strict", path="/",
        secure=request.app[SETTINGS].service.secure_cookies,
    )
    return response


def _count_failure(user: User, now: datetime) -> bool:
    """Count a wrong password; the fifth in a row locks the account. True when it locked."""
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
        return True
    return False


def _locked(until: datetime) -> ApiError:
    minutes = max(1, int((until - utc_now()).total_seconds() // 60) + 1)
    return ApiError(
        429, "locked",
        f"Слишком много неудачных попыток входа. Учётная запись заблокирована, "
        f"повторите через {minutes} мин.",
        retry_after_minutes=minutes,
    )


async def logout(request: web.Request) -> web.Response:
    session = request[WEB_SESSION]
    await request.app[WEB_SESSIONS].drop(session.token)
    for ended in request.app.get(SESSION_ENDED, ()):
        ended(session.token)  # its live sockets end with it
    async with unit_of_work(request.app[SESSIONS]) as db:
        await audit.record(db, actor_of(request), "logout", "user", session.user_id)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    """Who is signed in, and the CSRF token the browser must send with changes."""
    async with request.app[SESSIONS]() as db:
        user = await db.get(User, request[WEB_SESSION].user_id)
        if user is None:
            raise unauthenticated()
        body = await _me(db, user)
    return web.json_response({"user": body, "csrf_token": request[WEB_SESSION].csrf})


async def _me(db: Any, user: User) -> dict[str, Any]:
    org = await db.get(Organization, user.organization_id)
    return {
        "id": user.id, "login": user.login, "full_name": user.full_name, "role": user.role,
        "level": user.level, "interface": user.interface,
        "organization": {"id": org.id, "code": org.code, "name": org.name} if org else None,
    }
