"""`/admin/alerts` «Оповещения за период»: every alert raised or active in a period, how long it
lasted and how many of each kind (administrator: all; a supervisor: their organization's and
the center-wide ones). Rendered on the server from the journal (no personal data in it)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.web.keys import SESSIONS, SETTINGS
from hotline.web.pages import SUPERVISING, PageUser, add_page, render
from journal.actors import Actor
from journal.alerts import alerts_between
from journal.clock import utc_now
from journal.models import User

ENDINGS = {"cleared": "снято", "restart": "служба перезапущена", "": "активно"}


def add_routes(app: web.Application) -> None:
    # Not in the top bar (it is one row at 1366 px): the reports' tabs and the board link here.
    add_page(app, "/admin/alerts", alerts_page, SUPERVISING)


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _lasted(raised: datetime, cleared: datetime | None, now: datetime) -> str:
    seconds = int(((cleared or now) - raised).total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours} ч {rest // 60:02d} мин" if hours else f"{rest // 60} мин {rest % 60:02d} с"


async def alerts_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    zone = ZoneInfo(request.app[SETTINGS].service.timezone)
    now = utc_now()
    today = now.astimezone(zone).date()
    first = _day(request.query.get("from"), today - timedelta(days=6))
    last = max(first, _day(request.query.get("to"), today))
    since = datetime.combine(first, time.min, zone)
    until = datetime.combine(last + timedelta(days=1), time.min, zone)
    async with request.app[SESSIONS]() as db:
        row = await db.get(User, user.id)
        if row is None:
            raise web.HTTPFound("/login")
        actor = Actor.of(row, request.remote)
        found = await alerts_between(db, actor, since, until)
    items = [{**i, "raised": i["raised_at"].astimezone(zone).strftime("%d.%m.%Y %H:%M:%S"),
              "cleared": i["cleared_at"].astimezone(zone).strftime("%d.%m.%Y %H:%M:%S")
              if i["cleared_at"] else "—",
              "lasted": _lasted(i["raised_at"], i["cleared_at"], now),
              "ending": ENDINGS.get(i["cleared_by"], i["cleared_by"])} for i in found["items"]]
    return render(request, "alerts.html", user, title="Оповещения за период", items=items,
                  counts=sorted(found["counts"].items()), first=first.isoformat(),
                  last=last.isoformat())
