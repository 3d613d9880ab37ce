"""Typed keys of the web shell: the composition root fills them, views read them. Each
feature's own keys are in `hotline.keys`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.web.sessions import SessionStore
from hotline.web.throttle import LoginThrottle
from journal.calendar import ProductionCalendar
from journal.cards import CardRules

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
METRICS = web.AppKey("metrics", CollectorRegistry)
# Parts that report their state in /healthz: name -> zero-argument callable returning a dict.
HEALTH_PROBES = web.AppKey("health_probes", dict[str, Any])
# The web: signed-in sessions (in the journal's database), the production calendar
# and the card rules (deadlines) the API applies.
WEB_SESSIONS = web.AppKey("web_sessions", SessionStore)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
# Called with a session's token when it ends (signing out): its live sockets close with it.
SESSION_ENDED = web.AppKey("session_ended", list[Callable[[str], object]])
CALENDAR = web.AppKey("calendar", ProductionCalendar)
# The periodic journal jobs' shared scheduler (the digest, the call statistics' roll-up).
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
CARD_RULES = web.AppKey("card_rules", CardRules)
