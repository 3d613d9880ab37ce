"""Typed keys of the aiohttp application: the composition root fills them, views read them."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.recordings.service import Recordings
from hotline.reports.digest import DigestJob
from hotline.pbx.telephony import Telephony
from hotline.live.hub import Hub
from hotline.live.feed import LiveFeed
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
TELEPHONY = web.AppKey("telephony", Telephony)
RECORDINGS = web.AppKey("recordings", Recordings)
# The morning deadline digest: the scheduled job and the latest digest it built.
DIGEST = web.AppKey("digest", DigestJob)
# The web: signed-in sessions (in memory, see hotline.web.sessions), the production calendar
# and the card rules (deadlines) the API applies.
WEB_SESSIONS = web.AppKey("web_sessions", SessionStore)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
CALENDAR = web.AppKey("calendar", ProductionCalendar)
# The periodic journal jobs' shared scheduler (the digest, the call statistics' roll-up).
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
CARD_RULES = web.AppKey("card_rules", CardRules)
# Live messages to browsers (WebSocket): the in-process hub and the feed filling it.
HUB = web.AppKey("hub", Hub)
LIVE = web.AppKey("live", LiveFeed)
