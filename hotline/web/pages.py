"""The browser pages: server-rendered Jinja2 shells whose scripts talk to the JSON API.

Every page is a thin HTML shell; the data comes from `/api/v1` (same access layer, same
errors), so a page can never show what the API would refuse. This module holds what every
page shares: the template environment, the guard that turns a missing or expired session into
a redirect to the sign-in page, the role check, the navigation and the security headers.
Feature pages live in their own modules (`pages_operator`, `pages_admin`, ...) and register
their routes through `add_page`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

import structlog

from hotline.web.auth import COOKIE
from hotline.web.keys import SESSIONS, SETTINGS, WEB_SESSIONS
from journal import audit
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Organization, Role, User

log = structlog.get_logger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
PageHandler = Callable[[web.Request, "PageUser"], Awaitable[web.StreamResponse]]
OPERATOR = frozenset({Role.OPERATOR.value})
ADMIN = frozenset({Role.ADMIN.value})
# The journal's console: the contact center's administrator and each organization's head of
# operators (the journal's access layer shows the latter their own organization only).
SUPERVISING = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value})
# Who runs accounts (`journal.users`: each within what it may give).
ACCOUNT_RUNNERS = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.SYSADMIN.value})
EVERYONE = frozenset(r.value for r in Role)

# Personal data on every page: never cached, never framed, scripts only from our origin.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the page header, shown to the roles named."""

    path: str
    title: str
    roles: frozenset[str]


# The header's links in order; feature modules append theirs through `add_nav`.
NAV_KEY = web.AppKey("page_nav", list[NavItem])


@dataclass(frozen=True, slots=True)
class PageUser:
    """Who is looking at a page: what the header shows and what scripts need."""

    id: int
    login: str
    full_name: str
    role: str
    level: int | None
    interface: str | None
    organization_code: str
    organization_name: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def setup_pages(app: web.Application) -> None:
    """Templates, static files, the sign-in page, the start page and the error pages (each
    feature's pages are added by the composition root)."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["static"] = _static_url
    app[NAV_KEY] = []
    app.middlewares.append(page_errors_middleware)
    app.on_response_prepare.append(_security_headers)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    app.router.add_get("/login", login_page)
    app.router.add_get("/", start_page)


def add_nav(app: web.Application, path: str, title: str, roles: Iterable[str]) -> None:
    app[NAV_KEY].append(NavItem(path, title, frozenset(roles)))


def add_page(app: web.Application, path: str, handler: PageHandler, roles: Iterable[str]) -> None:
    """Serve `handler` at `path` for signed-in users of `roles` (others get 403, anonymous
    users are sent to the sign-in page and brought back afterwards)."""
    allowed = frozenset(roles)

    async def view(request: web.Request) -> web.StreamResponse:
        user = await current_user(request)
        if user is None:
            raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
        if user.role not in allowed:
            await audit_refused_page(request, user, 403, "forbidden")
            return render_error(request, 403, "Доступ запрещён",
                                "Эта страница недоступна для вашей роли.", user)
        return await handler(request, user)

    app.router.add_get(path, view)


async def audit_refused_page(request: web.Request, user: PageUser, status: int, code: str,
                             object_type: str = "page", object_id: object | None = None) -> None:
    """A page refused to a signed-in user is on the access log as `denied`, as the same
    refusal through the API is (152-ФЗ: who tried, not only who did)."""
    actor = Actor(user.id, user.login, user.role, None, user.level, request.remote)
    try:
        async with unit_of_work(request.app[SESSIONS]) as db:
            await audit.record(db, actor, audit.AuditAction.DENIED, object_type, object_id, {
                "method": request.method, "path": request.path[:200], "code": code,
                "status": status})
    except Exception as error:  # the refusal is shown even when the log cannot be written
        log.error("refused page not audited", path=request.path, error=repr(error)[:300])


def render(
    request: web.Request, template: str, user: PageUser | None, **context: Any
) -> web.Response:
    """A page from `template` with the header for `user` and the page's own context."""
    nav = [item for item in request.app[NAV_KEY] if user and user.role in item.roles]
    base = {"user": user, "nav": nav, "path": request.path,
            "tz": request.app[SETTINGS].service.timezone}
    return aiohttp_jinja2.render_template(template, request, {**base, **context})


def render_error(
    request: web.Request, status: int, title: str, message: str, user: PageUser | None = None
) -> web.Response:
    response = render(request, "error.html", user, title=title, message=message, status=status)
    response.set_status(status)
    return response


async def current_user(request: web.Request) -> PageUser | None:
    """The signed-in user of the request's session cookie, or None (no, expired or ended
    session, or a deactivated user)."""
    session = await request.app[WEB_SESSIONS].get(request.cookies.get(COOKIE))
    if session is None:
        return None
    async with request.app[SESSIONS]() as db:
        user = await db.get(User, session.user_id)
        if user is None or not user.active:
            return None
        org = await db.get(Organization, user.organization_id)
    return PageUser(
        id=user.id, login=user.login, full_name=user.full_name or user.login, role=user.role,
        level=user.level, interface=user.interface,
        organization_code=org.code if org else "", organization_name=org.name if org else "",
        csrf=session.csrf,
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    user = await current_user(request)
    if user is not None:
        raise web.HTTPFound(_safe_next(request.query.get("next")) or home_of(user))
    return render(request, "login.html", None, next=_safe_next(request.query.get("next")) or "")


async def start_page(request: web.Request) -> web.StreamResponse:
    user = await current_user(request)
    raise web.HTTPFound("/login" if user is None else home_of(user))


def home_of(user: PageUser) -> str:
    """Where a user lands after sign-in: the operators' workspace, the journal (administrator
    and supervisors) or the accounts (the system administrator reads no cards)."""
    if user.role == Role.OPERATOR.value:
        return "/operator"
    if user.role == Role.WALLBOARD.value:  # the operators' room screen sees nothing else
        return "/board/wall"
    return "/admin/staff" if user.role == Role.SYSADMIN.value else "/admin/cards"


def _safe_next(value: str | None) -> str | None:
    """Only a path on this site: never `//evil.example` or `https://...` (open redirect).

    Browsers drop tabs, CR and LF from a URL and read a backslash as a slash, so `/\t/evil`
    and `/\\evil` are `//evil` to them: any control character or backslash is refused, and
    what is left must parse as a bare path (no scheme, no host)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return value


def _static_url(name: str) -> str:
    return f"/static/{name}"


@web.middleware
async def page_errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Pages (not the API, not static files) answer a missing page or method with a Russian
    HTML page instead of aiohttp's plain English text."""
    if request.path.startswith(("/api/", "/static/", "/healthz", "/metrics")):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render_error(request, 404, "Страница не найдена",
                            "Такой страницы нет. Проверьте адрес или вернитесь на главную.",
                            await current_user(request))
    except web.HTTPMethodNotAllowed:
        return render_error(request, 405, "Метод не поддерживается",
                            "Этот адрес так не открывается.", await current_user(request))


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/api/") or request.path.startswith("/static/"):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith("/api/"):
            # Cards, calls, recordings, reports: personal data in no browser or proxy cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
