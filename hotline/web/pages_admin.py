"""The administrator console (пульт администратора контакт-центра), in Russian.

Thin page shells over the JSON API, like every page (see `hotline.web.pages`):
- `/admin/cards`: the journal of appeals with filters kept in the URL;
- `/admin/cards/{id}`: one card with its history, calls, recordings, evaluation sheets and the
  administrator's steps (close, forward, extend, cancel); an operator may open a card of their
  own organization here read-only, another organization's card is "not found";
- `/admin/calls/{id}`: a call opens its card (the sheet lives beside the call there);
- `/admin/audit`: the access log; `/admin/written`: registering written appeals;
- `/admin/board`: the live board (a supervisor's: their organization's calls and operators);
  `/admin/scripts`: answer scripts;
- `/admin/staff`: the accounts (create, change role, level or phone, disable, new password).

Who opens which page is `PAGES` (README, "Security"): the administrator every page, an
organization's supervisor its journal, calls, written appeals, staff and live board, the system
administrator the staff only. A refused page is audited `denied` like a refused API call.

The card page asks the journal's access layer whether the card is visible before rendering,
so a card of another organization is a plain 404 page; its data then comes from the API.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.web.common import path_id
from hotline.web.keys import SESSIONS, SETTINGS
from hotline.web.pages import (
    ACCOUNT_RUNNERS, ADMIN, SUPERVISING, PageUser, add_nav, add_page, audit_refused_page, render,
    render_error,
)
from journal.access import Purpose, get_card_for, may_correct_cards
from journal.actors import Actor
from journal.calls import get_call_for
from journal.errors import Forbidden, NotFound
from journal.models import Role, User
from journal.clock import utc_now

CARD_READERS = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.OPERATOR.value})
# Each page: its path, header title (None: not in the header), view and the roles it opens to.
PAGES = (
    ("/admin/cards", "Журнал", "journal_page", SUPERVISING),
    ("/admin/cards/{id}", None, "card_page", CARD_READERS),
    ("/admin/calls/{id}", None, "call_page", SUPERVISING),
    ("/admin/written", "Письменное обращение", "written_page", SUPERVISING),
    ("/admin/board", "Табло", "board_page", SUPERVISING),
    ("/admin/audit", "Журнал доступа", "audit_page", ADMIN),
    ("/admin/scripts", "Скрипты", "scripts_page", ADMIN),
    ("/admin/staff", "Сотрудники", "staff_page", ACCOUNT_RUNNERS),
)


def add_routes(app: web.Application) -> None:
    """The console's pages and their places in the header."""
    for path, title, view, roles in PAGES:
        add_page(app, path, globals()[view], roles)
        if title is not None:
            add_nav(app, path, title, roles)


def _zone_offset(request: web.Request) -> str:
    """The region's UTC offset now, "+07:00": dates typed in forms are the region's days
    (Russian zones keep no daylight saving time)."""
    zone = ZoneInfo(request.app[SETTINGS].service.timezone)
    offset = utc_now().astimezone(zone).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def _page(request: web.Request, template: str, user: PageUser, title: str,
          **data: object) -> web.Response:
    page_data = {"tz_offset": _zone_offset(request), "user_id": user.id,
                 "is_admin": user.is_admin,
                 "is_supervisor": user.role == Role.SUPERVISOR.value, **data}
    return render(request, template, user, title=title, page_data=page_data)


async def _actor(request: web.Request, user: PageUser) -> Actor:
    async with request.app[SESSIONS]() as db:
        row = await db.get(User, user.id)
    if row is None:  # deleted between the guard and here: nothing to show
        raise web.HTTPFound("/login")
    return Actor.of(row, request.remote)


async def journal_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_journal.html", user, "Журнал обращений")


async def card_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    """The card if the access layer shows it to this user; a 404 page otherwise."""
    actor = await _actor(request, user)
    try:
        card_id = path_id(request)
        async with request.app[SESSIONS]() as db:
            card = await get_card_for(db, actor, card_id, Purpose.VIEW)
            number = card.number
    except NotFound:
        await audit_refused_page(request, user, 404, "not_found", "card",
                                 request.match_info.get("id", "")[:64])
        return render_error(request, 404, "Не найдено",
                            "Карточка обращения не найдена: проверьте номер или ссылку.", user)
    except Forbidden as exc:
        await audit_refused_page(request, user, 403, "forbidden", "card",
                                 request.match_info.get("id", "")[:64])
        return render_error(request, 403, "Доступ запрещён", exc.message, user)
    return _page(request, "admin_card.html", user, f"Карточка {number}", card_id=card_id,
                 may_correct=may_correct_cards(actor))


async def call_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    """A call has no page of its own: it opens its card, scrolled to that call."""
    actor = await _actor(request, user)
    try:
        call_id = path_id(request)
        async with request.app[SESSIONS]() as db:
            view = await get_call_for(db, actor, call_id)
    except NotFound:
        await audit_refused_page(request, user, 404, "not_found", "call",
                                 request.match_info.get("id", "")[:64])
        return render_error(request, 404, "Не найдено", "Звонок не найден.", user)
    if view.call.card_id is None:
        return render_error(request, 404, "Не найдено", "У этого звонка нет карточки.", user)
    raise web.HTTPFound(f"/admin/cards/{view.call.card_id}#call-{call_id}")


async def audit_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_audit.html", user, "Журнал доступа")


async def written_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_written.html", user, "Регистрация письменного обращения")


async def board_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_board.html", user, "Табло")


async def scripts_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_scripts.html", user, "Скрипты ответов")


async def staff_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    return _page(request, "admin_staff.html", user, "Сотрудники")
