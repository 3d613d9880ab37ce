"""The composition root: builds every part of the service and wires them together.

Each long-running resource is one `cleanup_ctx` (start, yield, stop), so shutdown always
cancels and awaits what start-up began.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import uuid

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias
from datetime import UTC

import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry, Counter

from hotline.agents import http as agents_http
from hotline.alerts import pages as alerts_pages
from hotline.alerts.service import AlertService
from hotline.register import http as register_http
from hotline.audit import http as audit_http
from hotline.bootstrap import card_rules, sync_region
from hotline.callbacks import http as callbacks_http
from hotline.calls import http as calls_http
from hotline.cards import http as cards_http
from hotline.calls.writer import CallJournalWriter
from hotline.config import PbxSettings, Settings
from hotline.evaluations import http as evaluations_http
from hotline.figures.service import FiguresService
from hotline.ivr.loader import IvrScripts, load_scripts
from hotline.ivr.service import IvrService
from hotline.callbacks.live import announce as announce_callbacks
from hotline.cluster.bus import SHARED, Bus, own_channel
from hotline.cluster.commands import Commands
from hotline.cluster.lock import Leadership, LockMetrics
from hotline.keys import (
    ALERTS, BUS, BUS_LISTENERS, CALL_WRITER, COMMANDS, DIGEST, FIGURES, HUB, LABELS, LEADERSHIP, LEDGER, LIVE, MODES, PBX,
    PBX_ACTIONS, PBX_LEDGERS, PBXS, RECORDINGS, SOCKETS, SUPERVISION,
)
from hotline.live import ws
from hotline.live.feed import LiveFeed
from hotline.live.hub import CLOSE_GOING_AWAY, Hub
from hotline.live.relay import LocalSockets, Relay
from hotline.modes import http as modes_http
from hotline.calls.store import journal_writer
from hotline.modes.schedule import MODE_TITLES
from hotline.modes.sync import ModeSync
from hotline.pbx.actions import NotOnCall, PbxActionFailed, PbxActions, PbxSwitching
from hotline.pbx.ami.client import AmiConnection, AmiMetrics
from hotline.pbx.callkeys import MAIN as MAIN_PBX
from hotline.pbx.feed import PbxFeed, TrackerMetrics
from hotline.pbx.sites import Pbx, PbxSet
from hotline.pbx.labels import LABELS as PBX_LABELS
from hotline.pbx.ledger import LedgerSweep, Organizations
from hotline.recordings.playback import RecordingTampered, RecordingUnavailable
from hotline.recordings.service import Recordings
from hotline.recordings.wakes import EndedCalls
from hotline.reports import http as reports_http
from hotline.reports import pages as reports_pages
from hotline.reports.digest import DigestJob
from hotline.reports.rollup import RollupJob
from hotline.scripts import http as scripts_http
from hotline.staff import http as staff_http
from hotline.supervision import http as supervision_http
from hotline.supervision.labels import LABELS as SUPERVISION_LABELS
from hotline.supervision.service import SupervisionService
from hotline.surveys.service import SurveyDialer
from hotline.wallboard import pages as wallboard_pages
from hotline.web import health, pages_admin, pages_operator
from hotline.web.errors import ERROR_TRANSLATIONS, EdgeError
from hotline.web.keys import (
    CALENDAR, ENGINE, HEALTH_PROBES, METRICS, SCHEDULER, SESSION_ENDED, SESSIONS, SETTINGS, WEB_SESSIONS,
)
from hotline.web.pages import setup_pages
from hotline.web.routes import setup_api
from journal.calendar import load_calendar_dir
from journal.db import make_engine, make_sessionmaker, upgrade_async

log = structlog.get_logger(__name__)

CleanupContext: TypeAlias = Callable[[web.Application], AsyncIterator[None]]
"""What `app.cleanup_ctx` takes: start, `yield`, then clean up."""


@dataclass(frozen=True)
class PbxMetrics:
    """The per-PBX metric families of the service's registry, made once (prometheus_client
    refuses a name twice in a registry): each PBX's AMI link, call tracker and lock count in
    them under `pbx="<its name>"`, so that one `/metrics` shows every PBX."""

    links: AmiMetrics
    trackers: TrackerMetrics
    locks: LockMetrics

    @classmethod
    def on(cls, registry: CollectorRegistry) -> PbxMetrics:
        return cls(AmiMetrics(registry), TrackerMetrics(registry), LockMetrics(registry))


# Each feature's JSON routes and pages, in the order they are added.
API_FEATURES = (cards_http, calls_http, audit_http, modes_http, callbacks_http, agents_http,
                reports_http, scripts_http, evaluations_http, staff_http, supervision_http,
                register_http)
PAGE_FEATURES = (pages_admin, pages_operator, reports_pages, alerts_pages, wallboard_pages)
# The features' titles of their codes, served with the journal's (GET /api/v1/dictionaries).
FEATURE_LABELS = {**PBX_LABELS, **SUPERVISION_LABELS, "line_modes": MODE_TITLES}
# The garbage collector's youngest generation, in allocations (`_freeze_startup_objects`).
GC_YOUNG = 10_000
# The features' own errors as the API answers them (the web shell knows no feature).
EDGE_ERRORS: dict[type[Exception], EdgeError] = {
    # A standby's command the holder did not answer in time (a takeover under way).
    PbxSwitching: EdgeError(503, "pbx_switching", log_as="pbx command not answered"),
    NotOnCall: EdgeError(409, "not_on_call"),
    PbxActionFailed: EdgeError(502, "pbx_refused", log_as="pbx action failed"),
    RecordingUnavailable: EdgeError(404, "recording_unavailable", "Звук этой записи недоступен"),
    RecordingTampered: EdgeError(
        409, "recording_tampered", "Файл записи повреждён или подменён: воспроизведение запрещено",
        log_as="recording checksum mismatch", level="error"),
}


def create_app(
    settings: Settings, *, migrate: bool = True, telephony: bool = True
) -> web.Application:
    """The aiohttp application of the service on the given settings.

    `telephony=False` runs the journal and the web without a PBX (written appeals only).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = CollectorRegistry()
    pbx_metrics = PbxMetrics.on(app[METRICS])
    app[HEALTH_PROBES] = {}
    # The PBXs' titles by name (a call's, a card's `pbx`): people never see the code.
    app[LABELS] = {**FEATURE_LABELS, "pbxs": {p.name: p.title for p in settings.pbxs}}
    # Several instances on one PostgreSQL: one holds the PBX link and the once-only work.
    # Its lock ("pbx:main") guards the first PBX's link: its metrics bear that PBX's name.
    app[LEADERSHIP] = Leadership(settings.service.database_url, metrics=pbx_metrics.locks,
                                 pbx=settings.pbxs[0].name)
    app[HEALTH_PROBES]["instance"] = app[LEADERSHIP].health
    app.cleanup_ctx.append(_database(settings, migrate=migrate))
    app.cleanup_ctx.append(_scheduler)
    app.cleanup_ctx.append(_digest)
    app.cleanup_ctx.append(_rollup)
    if telephony:
        app.cleanup_ctx.append(functools.partial(_telephony, metrics=pbx_metrics))
        app.cleanup_ctx.append(functools.partial(_recordings, metrics=pbx_metrics))
        app.cleanup_ctx.append(_surveys)
        app.cleanup_ctx.append(_supervision)
        if settings.asterisk.agi_serve:
            # Loaded here so that a bad script stops start-up before anything runs.
            scripts = load_scripts(settings.asterisk.ivr_scripts_dir, settings)
            app.cleanup_ctx.append(_ivr(scripts))
    health.add_routes(app)
    app[ERROR_TRANSLATIONS] = EDGE_ERRORS
    setup_api(app)
    _add_live(app)
    for feature in API_FEATURES:
        feature.add_routes(app)
    app.router.add_get("/api/v1/ws", ws.websocket)
    setup_pages(app)
    for pages in PAGE_FEATURES:
        pages.add_routes(app)
    app.on_startup.append(_freeze_startup_objects)
    # Last: the lock is tried once every part has registered what the holder runs.
    app.cleanup_ctx.append(_cluster)
    return app


async def _freeze_startup_objects(_app: web.Application) -> None:
    """What start-up built (modules, mappers, compiled statements, the calendar) lives as long
    as the process: keep it out of the collector's full passes, which otherwise walk all of
    it and hold the event loop (and every ringing phone's pop) for hundreds of ms.

    The youngest generation is collected every `GC_YOUNG` allocations instead of 700: what a
    PBX event or a journal batch allocates dies by reference counting long before, and the
    full passes (115-218 ms each with 500 calls followed) come far less often: 13 in a busy
    76 s run of `bench/ami_load.py --run pop` before, none in each of three runs after."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, middle, old)


def _database(settings: Settings, *, migrate: bool) -> CleanupContext:
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
    job.only_if = app[LEADERSHIP].holds  # type: ignore[method-assign]
    app[DIGEST] = job
    await job.start()
    yield
    await job.stop()


async def _rollup(app: web.Application) -> AsyncIterator[None]:
    """The nightly roll-up of the call statistics' past days (no PBX needed)."""
    job = RollupJob(app[SETTINGS], app[SESSIONS], app[CALENDAR], scheduler=app[SCHEDULER])
    job.only_if = app[LEADERSHIP].holds  # type: ignore[method-assign]
    await job.start()
    yield
    await job.stop()


async def _telephony(app: web.Application, metrics: PbxMetrics) -> AsyncIterator[None]:
    """The PBX side: each PBX's AMI link, its events through its tracker to the journal writer
    and the other subscribers, its commands; the lines' modes, each in its own PBX's AstDB;
    the sweep of each PBX's ledger (calls taken while this service did not see them). Each
    PBX's link, tracker and lock count in `metrics` under its name."""
    settings, sessions = app[SETTINGS], app[SESSIONS]
    # On a standby its commands go to the holder (app[COMMANDS]); the holder serves them.
    commands = app.get(COMMANDS)
    writer = journal_writer(settings, sessions, app[CALENDAR], registry=app[METRICS])
    parts = [_pbx_parts(app, pbx, writer, metrics, first=i == 0)
             for i, pbx in enumerate(settings.pbxs)]
    pbxs = PbxSet([pbx for pbx, _, _ in parts], phone_pbx=settings.pbx_of_phone,
                  line_pbx=settings.pbx_of_line)
    actions = pbxs.actions
    if commands is not None:
        for pbx, _, _ in parts:
            commands.expose(pbx.actions.target, pbx.actions.serve)
    # One schedule for every line; each line's mode goes to its own PBX's AstDB.
    modes = ModeSync(settings.lines, app[CALENDAR], sessions, actions.write_mode)
    for pbx, _, ledger in parts:
        pbx.feed.after_resync(modes.rewrite_all)
        pbx.feed.after_resync(ledger.poke)
    first, first_connection, first_ledger = parts[0]
    app[PBXS], app[PBX], app[PBX_ACTIONS], app[MODES], app[CALL_WRITER] = (
        pbxs, first.feed, actions, modes, writer)
    app[LEDGER], app[PBX_LEDGERS] = first_ledger, {pbx.name: ledger for pbx, _, ledger in parts}
    leadership = app[LEADERSHIP]
    followers: dict[str, Leadership] = {}

    def pbx_health() -> dict[str, object]:
        report = pbxs.health() | {"journal_writer": writer.health()}
        for name, follower in followers.items():
            pbx_report = report["pbxs"][name]  # type: ignore[index]
            pbx_report["lock"] = follower.name
            pbx_report["role"] = "holder" if follower.holds() else "standby"
        if not leadership.holds():  # another instance holds the link: nothing is wrong here
            report |= {"state": "standby", "link": report["state"],
                       "note": "Связь с АТС держит другой экземпляр сервиса"}
        return report

    app[HEALTH_PROBES]["pbx"] = pbx_health
    tasks = [asyncio.create_task(writer.run(), name="call-journal-writer")]
    # Only the lock's holder speaks to the PBXs: the lines' modes, then the first PBX's AMI
    # link (dropped first when the lock is lost), then each other PBX's under its own lock.
    leadership.while_holding("modes", modes.start, modes.stop)
    leadership.while_holding("ami", first_connection.start, first_connection.stop)
    stop_ledgers = []
    for i, (pbx, connection, ledger) in enumerate(parts):
        holder = leadership
        if i > 0:
            holder = Leadership(settings.service.database_url, f"pbx:{pbx.name}",
                                instance=leadership.instance, follower=True,
                                metrics=metrics.locks, pbx=pbx.name)
            followers[pbx.name] = holder
            holder.while_holding("ami", connection.start, connection.stop)
        stop_ledgers.append(_while_holding_ledger(holder, ledger, pbx.name))
        if i > 0:
            leadership.while_holding(f"pbx {pbx.name}", holder.start, holder.stop)
    yield
    for stop_ledger in stop_ledgers:
        await stop_ledger()
    with contextlib.suppress(TimeoutError):
        await writer.flushed(timeout=5.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _pbx_parts(app: web.Application, settings: PbxSettings, writer: CallJournalWriter,
               metrics: PbxMetrics, *, first: bool) -> tuple[Pbx, AmiConnection, LedgerSweep]:
    """One PBX's link, feed (its tracker and roster), commands and ledger sweep; its link
    and tracker count in the service's metrics under its name."""
    service = app[SETTINGS]
    connection = AmiConnection(settings, metrics=metrics.links.link(settings.name))
    feed = PbxFeed(connection, metrics=metrics.trackers, pbx=settings.name)
    target = "pbx" if first else f"pbx:{settings.name}"
    actions = PbxActions(connection, snapshot=feed.snapshot, router=app.get(COMMANDS),
                         action_timeout=settings.action_timeout, target=target)
    feed.subscribe_calls(writer.submit)
    lines = [ln for ln in service.lines if service.pbx_of_line(ln.number) == settings.name]
    ledger = LedgerSweep(
        connection,
        app[SESSIONS],
        Organizations(
            by_line={ln.number: ln.organization for ln in lines},
            level1_queue={org.code: org.level1_queue for org in service.organizations},
        ),
        # Like the tracker's events: the journal, and the subscribers (the recordings
        # worker processes a call's files once it ends).
        feed.publish,
        live_call_ids=feed.live_call_ids,
        writer_idle=lambda: writer.pending == 0 and writer.state == "direct",
        writer_flushed=lambda: writer.flushed(timeout=30.0),
        pbx=settings.name,
    )
    return Pbx(settings.name, settings.title, feed, actions), connection, ledger


def _while_holding_ledger(holder: Leadership, ledger: LedgerSweep,
                          name: str) -> Callable[[], Awaitable[None]]:
    """The sweep of a PBX's ledger: while its link's lock is held, stopped (first) when it
    is let go. Returns the stop."""
    sweeping: list[asyncio.Task[None]] = []

    def start_ledger() -> None:
        sweeping.append(asyncio.create_task(
            ledger.run(), name="pbx-ledger" if name == MAIN_PBX else f"pbx-ledger-{name}"))

    async def stop_ledger() -> None:
        running = list(sweeping)
        sweeping.clear()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    holder.while_holding("ledger", start_ledger, stop_ledger)
    return stop_ledger


async def _recordings(app: web.Application, *, metrics: PbxMetrics) -> AsyncIterator[None]:
    """The recording worker (woken by every ended call) and its scheduled checks, on one
    instance: the holder of the recordings' lock, a standby's when there is one, so that the
    audio work never competes with the AMI link and the screen-pops for the holder's CPU."""
    feed, writer, leadership = app[PBXS], app[CALL_WRITER], app[LEADERSHIP]

    async def writer_flushed() -> None:
        await writer.flushed(timeout=5.0)

    recordings = Recordings(app[SETTINGS], app[SESSIONS], before_sweep=writer_flushed)
    work = Leadership(app[SETTINGS].service.database_url, "work:recordings",
                      instance=leadership.instance, follower=True, pbx="",
                      metrics=metrics.locks,
                      give_way=lambda: leadership.holds() and leadership.peers > 0)
    recordings.only_if = work.holds  # type: ignore[method-assign]
    work.while_holding("recording worker", recordings.worker.start, recordings.worker.stop)
    bus = app.get(BUS)
    ended = EndedCalls(
        work.holds, recordings.worker.calls_ended,
        send=None if bus is None else functools.partial(bus.send, SHARED),
        written=writer_flushed,
    )
    if bus is not None:
        app[BUS_LISTENERS].append(ended.received)
    app[RECORDINGS] = recordings
    app[HEALTH_PROBES]["recordings"] = lambda: recordings.health() | {
        "worker": "here" if work.holds() else "elsewhere", "forwarded": ended.forwarded}
    feed.subscribe_calls(ended.on_events)
    await recordings.start()
    await work.start()
    yield
    feed.unsubscribe_calls(ended.on_events)
    await ended.stop()
    await work.stop()
    await recordings.stop()


async def _surveys(app: web.Application) -> AsyncIterator[None]:
    """The survey dialer (organizations with `survey = "ivr"` or "operator")."""
    settings, modes = app[SETTINGS], app[MODES]

    def overrides() -> tuple[object, ...]:
        return modes.overrides or ()

    dialer = SurveyDialer(
        settings, app[SESSIONS], app[CALENDAR], app[PBX_ACTIONS], overrides=overrides,  # type: ignore[arg-type]
    )
    app[LEADERSHIP].while_holding("surveys", dialer.start, dialer.stop)
    yield
    await dialer.stop()


async def _supervision(app: web.Application) -> AsyncIterator[None]:
    """Supervisors' listening legs: started through the PBX's actions, followed on its events."""
    feed = app[PBXS]
    commands = app.get(COMMANDS)
    service = SupervisionService(app[PBX_ACTIONS], feed.snapshot, app[SESSIONS], router=commands,
                                 action_timeout=app[PBX_ACTIONS].action_timeout)
    if commands is not None:  # a standby's requests: this instance's sessions when it holds
        commands.expose("supervision", service.serve)
    feed.subscribe_calls(service.on_events)
    app[SUPERVISION] = service
    yield
    feed.unsubscribe_calls(service.on_events)
    await service.stop_all()


def _add_live(app: web.Application) -> None:
    """Live messages to browsers: the hub (a signed-out session's sockets close with it)."""
    hub = Hub()
    app[HUB] = hub
    leadership = app[LEADERSHIP]
    if leadership.clustered:
        bus_key = uuid.uuid4().hex[:16]
        relay = Relay(hub, bus_key, lambda channel, body: bus.send(channel, body),
                      leadership.holds, own_channel)
        commands = Commands(bus_key, lambda channel, body: bus.send(channel, body),
                            leadership.holds, own_channel)

        # Everything that hears the bus, in order; other features add theirs (recordings).
        listeners: list[Callable[[str, dict[str, Any]], None]] = [relay.received,
                                                                  commands.received]
        app[BUS_LISTENERS] = listeners

        def received(channel: str, body: dict[str, Any]) -> None:
            for listener in listeners:
                listener(channel, body)

        bus = Bus(leadership.dsn or "", bus_key, received, on_reconnect=lambda: (
            relay.became_holder() if leadership.holds() else relay.announce()))
        app[SOCKETS] = relay
        app[BUS] = bus
        app[COMMANDS] = commands
        leadership.while_holding("live relay", relay.became_holder, relay.lost_holder)
    else:
        app[SOCKETS] = LocalSockets(hub)
    session_ended: list[Callable[[str], object]] = [app[SOCKETS].close_session]
    app[SESSION_ENDED] = session_ended
    app.cleanup_ctx.append(_live)
    app.cleanup_ctx.append(_figures)
    app.on_shutdown.append(_sockets_going_away)


async def _sockets_going_away(app: web.Application) -> None:
    """On SIGTERM, before aiohttp waits for the open requests: the browsers' sockets close
    (1001, going away) and reconnect to another instance. Left open, they would hold this
    process up to aiohttp's shutdown timeout (a minute) before the cleanup closes them."""
    for subscriber in app[SOCKETS]:  # this instance's own, holder or standby
        subscriber.close(CLOSE_GOING_AWAY)
    app[HUB].close_all()


async def _live(app: web.Application) -> AsyncIterator[None]:
    """Screen-pops, the live board and agent states over the hub (after the telephony starts:
    cleanup contexts run in order, so the PBX side is up when this one subscribes to it)."""
    live = LiveFeed(app[HUB], app[SESSIONS], app.get(PBXS), writer=app.get(CALL_WRITER),
                    modes=app.get(MODES), lines=app[SETTINGS].lines,
                    phone_org=app[SETTINGS].organization_of_phone)
    app[LIVE] = live
    sockets = app[SOCKETS]
    live.on_card_changed.append(sockets.card_changed)
    if isinstance(sockets, Relay):
        sockets.on_card_changed.append(live.card_changed_elsewhere)
    live.start()
    sweep = asyncio.create_task(ws.sweep_sessions(sockets, app[WEB_SESSIONS]),
                                name="ws-session-sweep")
    yield
    sweep.cancel()
    await asyncio.gather(sweep, return_exceptions=True)
    await live.stop()


async def _figures(app: web.Application) -> AsyncIterator[None]:
    """The live figures: fed by the PBX's feed, seeded from the journal, sent over the hub."""
    figures = FiguresService(app[SETTINGS], app[SESSIONS], app[HUB], app.get(PBXS))
    app[FIGURES] = figures
    modes = app.get(MODES)

    def mode_of(line: str) -> str | None:
        state = modes.current(line) if modes is not None else None
        return state.mode if state is not None else None

    alerts = AlertService(app[SETTINGS], app[SESSIONS], app[HUB], figures, mode_of)
    alerts.only_if = app[LEADERSHIP].holds  # type: ignore[method-assign]
    app[LEADERSHIP].while_holding("alerts", alerts.took_over, lambda: None)
    # Taking the link over: today's figures again from the journal, before the link starts.
    app[LEADERSHIP].while_holding("figures", figures.took_over, lambda: None, before="ami")
    app[ALERTS] = alerts
    await figures.start()
    await alerts.start()
    yield
    await alerts.stop()
    await figures.stop()


async def _cluster(app: web.Application) -> AsyncIterator[None]:
    """The instances' bus and the lock: on SQLite (one instance) this one holds at once; on
    PostgreSQL it holds when it gets the lock, else stands by (serving the web) and tries
    every second. Cleaned up first: the holder lets go of the PBX link before the rest stops."""
    leadership, bus = app[LEADERSHIP], app.get(BUS)
    relay = app[SOCKETS]
    if bus is not None and isinstance(relay, Relay):
        await bus.start()
        relay.start()
        commands = app[COMMANDS]
        app[HEALTH_PROBES]["live_bus"] = lambda: {"state": "ok" if bus.connected else "error",
                                                  **bus.health(), **relay.health(),
                                                  **commands.health()}
    await leadership.start()
    yield
    await leadership.stop()
    if bus is not None and isinstance(relay, Relay):
        await app[COMMANDS].stop()
        await relay.stop()
        await bus.stop()


def _ivr(scripts: IvrScripts):  # noqa: ANN202 - aiohttp cleanup ctx
    """The electronic secretary's FastAGI server (`[asterisk] agi_serve`)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings, calendar = app[SETTINGS], app[CALENDAR]
        service = IvrService(
            settings, scripts, calendar, app[SESSIONS], card_rules(settings, calendar)
        )
        service.on_callback = lambda org_id: announce_callbacks(app, [org_id])
        server = service.server()
        refused = Counter("hotline_agi_refused", "FastAGI peers refused: no or a wrong "
                          "shared secret, or not loopback without one", registry=app[METRICS])
        server.on_refused = refused.inc
        await server.start()
        yield
        await server.stop()

    return ctx
