"""The composition root: builds every part of the service and wires them together.

Each long-running resource is one `cleanup_ctx` (start, yield, stop), so shutdown always
cancels and awaits what start-up began.
"""

from __future__ import annotations

import gc

from collections.abc import AsyncIterator
from datetime import UTC

import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry, Counter

from hotline.bootstrap import card_rules, sync_region
from hotline.config import Settings
from hotline.ivr.loader import IvrScripts, load_scripts
from hotline.ivr.service import IvrService
from hotline.recordings.service import Recordings
from hotline.reports.digest import DigestJob
from hotline.reports.rollup import RollupJob
from hotline.surveys.service import SurveyDialer
from hotline.web import health
from hotline.web.pages import setup_pages
from hotline.web.routes import setup_api
from hotline.pbx.telephony import Telephony
from hotline.web.keys import (
    CALENDAR, DIGEST, ENGINE, HEALTH_PROBES, METRICS, RECORDINGS, SCHEDULER, SESSIONS, SETTINGS, TELEPHONY,
)
from journal.calendar import load_calendar_dir
from journal.db import make_engine, make_sessionmaker, upgrade_async

log = structlog.get_logger(__name__)


def create_app(
    settings: Settings, *, migrate: bool = True, telephony: bool = True
) -> web.Application:
    """The aiohttp application of the service on the given settings.

    `telephony=False` runs the journal and the web without a PBX (written appeals only).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = CollectorRegistry()
    app[HEALTH_PROBES] = {}
    app.cleanup_ctx.append(_database(settings, migrate=migrate))
    app.cleanup_ctx.append(_scheduler)
    app.cleanup_ctx.append(_digest)
    app.cleanup_ctx.append(_rollup)
    if telephony:
        app.cleanup_ctx.append(_telephony)
        app.cleanup_ctx.append(_recordings)
        app.cleanup_ctx.append(_surveys)
        if settings.asterisk.agi_serve:
            # Loaded here so that a bad script stops start-up before anything runs.
            scripts = load_scripts(settings.asterisk.ivr_scripts_dir, settings)
            app.cleanup_ctx.append(_ivr(scripts))
    health.add_routes(app)
    setup_api(app)
    setup_pages(app)
    app.on_startup.append(_freeze_startup_objects)
    return app


async def _freeze_startup_objects(_app: web.Application) -> None:
    """What start-up built (modules, mappers, compiled statements, the calendar) lives as long
    as the process: keep it out of the collector's full passes, which otherwise walk all of
    it and hold the event loop (and every ringing phone's pop) for hundreds of ms."""
    gc.freeze()


def _database(settings: Settings, *, migrate: bool):  # noqa: ANN202 - aiohttp cleanup ctx
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        url = settings.service.database_url
        if migrate:
            await upgrade_async(url)
        engine = make_engine(url)
        app[ENGINE] = engine
        app[SESSIONS] = make_sessionmaker(engine)
        # The production calendar is read once here; every part of the service shares it.
        app[CALENDAR] = load_calendar_dir(settings.service.calendar_dir)
        await sync_region(app[SESSIONS], settings, app[CALENDAR])
        log.info("database ready", backend=engine.dialect.name)
        yield
        await engine.dispose()

    return ctx


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    """One APScheduler for the service's periodic journal jobs (digest, roll-up)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    app[SCHEDULER] = scheduler
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)


async def _digest(app: web.Application) -> AsyncIterator[None]:
    """The morning deadline digest: a job at the start of each working day (no PBX needed)."""
    job = DigestJob(app[SETTINGS], app[SESSIONS], app[CALENDAR], scheduler=app[SCHEDULER])
    app[DIGEST] = job
    await job.start()
    yield
    await job.stop()


async def _rollup(app: web.Application) -> AsyncIterator[None]:
    """The nightly roll-up of the call statistics' past days (no PBX needed)."""
    job = RollupJob(app[SETTINGS], app[SESSIONS], app[CALENDAR], scheduler=app[SCHEDULER])
    await job.start()
    yield
    await job.stop()


async def _telephony(app: web.Application) -> AsyncIterator[None]:
    telephony = Telephony(app[SETTINGS], app[SESSIONS], app[CALENDAR], registry=app[METRICS])
    app[TELEPHONY] = telephony
    app[HEALTH_PROBES]["pbx"] = telephony.health
    await telephony.start()
    yield
    await telephony.stop()


async def _recordings(app: web.Application) -> AsyncIterator[None]:
    """The recording worker (woken by every ended call) and its scheduled checks."""
    telephony = app[TELEPHONY]

    async def writer_flushed() -> None:
        await telephony.writer.flushed(timeout=5.0)

    recordings = Recordings(app[SETTINGS], app[SESSIONS], before_sweep=writer_flushed)
    app[RECORDINGS] = recordings
    app[HEALTH_PROBES]["recordings"] = recordings.health
    telephony.listeners.append(recordings.worker.on_events)
    await recordings.start()
    yield
    telephony.listeners.remove(recordings.worker.on_events)
    await recordings.stop()


async def _surveys(app: web.Application) -> AsyncIterator[None]:
    """The survey dialer (organizations with `survey = "ivr"` or "operator")."""
    settings = app[SETTINGS]
    telephony = app[TELEPHONY]

    def overrides() -> tuple[object, ...]:
        return telephony.modes.overrides if telephony.modes is not None else ()

    dialer = SurveyDialer(
        settings, app[SESSIONS], app[CALENDAR], telephony.actions, overrides=overrides,  # type: ignore[arg-type]
    )
    await dialer.start()
    yield
    await dialer.stop()


def _ivr(scripts: IvrScripts):  # noqa: ANN202 - aiohttp cleanup ctx
    """The electronic secretary's FastAGI server (`[asterisk] agi_serve`)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings, calendar = app[SETTINGS], app[CALENDAR]
        service = IvrService(
            settings, scripts, calendar, app[SESSIONS], card_rules(settings, calendar)
        )
        server = service.server()
        refused = Counter("hotline_agi_refused", "FastAGI peers refused: no or a wrong "
                          "shared secret, or not loopback without one", registry=app[METRICS])
        server.on_refused = refused.inc
        await server.start()
        yield
        await server.stop()

    return ctx
