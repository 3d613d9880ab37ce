"""The PBX side of the service, wired: AMI connection → call tracker → journal, and modes.

AMI events go through the pure tracker; the domain events it returns are written to the
journal by the writer (which survives database outages) and handed to listeners (the web's
screen-pop). Queue-member events go to the pure agent roster instead (operators' queue
states: ready, paused, out, phone unavailable), whose `AgentChanged` events go to the agent
listeners only (they are not call events: the journal never sees them). After every (re)connect the PBX snapshot is fed to the tracker, calls that are
gone are closed, and every line's mode is written again. Overrides set by an administrator
live in the database and are picked up from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from panoramisk.message import Message
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.bootstrap import card_rules
from hotline.calls.store import MessagePolicy, apply_records
from hotline.calls.writer import CallJournalWriter
from hotline.config import Settings
from hotline.modes.store import active_overrides, overrides_version, store_switch
from hotline.modes.scheduler import ModeScheduler
from hotline.pbx.actions import PbxActions
from hotline.pbx.tracking.agents import AgentRoster, is_member_message
from hotline.pbx.ami.client import AmiConnection, AmiError
from hotline.pbx.events import AgentChanged, DomainEvent
from hotline.pbx.ledger import LedgerSweep, Organizations
from hotline.pbx.ami.resync import ResyncResult
from hotline.pbx.tracking.calls import CallTracker
from hotline.modes.schedule import Mode
from hotline.calls.spool import DurableSpool
from journal.calendar import ProductionCalendar

log = structlog.get_logger(__name__)

Listener = Callable[[Sequence[DomainEvent]], None]
AgentListener = Callable[[Sequence[AgentChanged]], None]
ASTDB_FAMILY = "hotline"
OVERRIDE_CHECK_INTERVAL = 5.0


def mode_key(line: str) -> str:
    """The AstDB key the dialplan reads for a line: hotline/mode/<line>."""
    return f"mode/{line}"


class TrackerMetrics(Collector):
    """The call tracker's counters as Prometheus counters, read when scraped (the tracker is
    pure: it only counts). `hotline_tracker_events_skipped_total{reason}`: AMI events it could
    not use — unknown event names, events about channels never seen (orphan) or already
    gone (late, e.g. out of order), malformed ones, and its own bugs caught (internal_error)."""

    REASONS = {"unknown": "unknown", "orphan": "orphans", "late": "late",
               "malformed": "malformed", "internal_error": "internal_errors"}

    def __init__(self, tracker: CallTracker) -> None:
        self.tracker = tracker

    def collect(self):  # noqa: ANN201 - prometheus_client's interface
        stats = self.tracker.stats
        skipped = CounterMetricFamily(
            "hotline_tracker_events_skipped", "AMI events the call tracker could not use",
            labels=["reason"])
        for reason, attribute in self.REASONS.items():
            skipped.add_metric([reason], getattr(stats, attribute))
        yield skipped
        yield CounterMetricFamily(
            "hotline_tracker_domain_events", "Domain events the call tracker reported",
            value=stats.emitted)


class Telephony:
    """Owns the AMI connection, the tracker, the journal writer and the mode scheduler."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        calendar: ProductionCalendar,
        *,
        registry: CollectorRegistry | None = None,
        override_check_interval: float = OVERRIDE_CHECK_INTERVAL,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.registry = registry if registry is not None else CollectorRegistry()
        self.connection = AmiConnection(settings.ami, registry=self.registry)
        self.actions = PbxActions(self.connection)
        self.tracker = CallTracker()
        self.agents = AgentRoster()
        # True once a complete QueueStatus was read: a phone missing from it is in no queue.
        self.roster_complete = False
        spool_dir = settings.service.spool_dir
        self.writer = CallJournalWriter(
            sessions,
            functools.partial(
                apply_records,
                rules=card_rules(settings, calendar),
                messages=MessagePolicy({ln.number: ln for ln in settings.lines}, calendar),
                phones={i.lower(): org.code for org in settings.organizations
                        for i in org.interfaces},
            ),
            DurableSpool(spool_dir, "call-events"),
            DurableSpool(spool_dir, "call-events-rejected"),
        )
        self.calendar = calendar
        # Calls the PBX handled while this service did not see them (down, cut off from AMI).
        self.ledger = LedgerSweep(
            self.connection,
            sessions,
            Organizations(
                by_line={ln.number: ln.organization for ln in settings.lines},
                level1_queue={org.code: org.level1_queue for org in settings.organizations},
            ),
            # Like the tracker's events: the journal, and the listeners (the recordings
            # worker processes a call's files once it ends).
            self.publish,
            live_call_ids=self.tracker.live_call_ids,
            writer_idle=lambda: self.writer.pending == 0 and self.writer.state == "direct",
            writer_flushed=lambda: self.writer.flushed(timeout=30.0),
        )
        # Built in start(): it needs the overrides stored in the database.
        self.modes: ModeScheduler | None = None
        self.listeners: list[Listener] = []
        self.agent_listeners: list[AgentListener] = []
        self._override_check_interval = override_check_interval
        self._overrides_seen: tuple[object, ...] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # How many (re)connects have been fully handled: snapshot applied, modes written.
        self.resyncs = 0
        self._resynced = asyncio.Condition()
        self.connection.on_event(self._on_event)
        self.connection.on_connected(self._on_connected)
        Gauge("hotline_calls_live", "Calls the tracker follows now", registry=self.registry
              ).set_function(lambda: len(self.tracker.calls()))
        self.registry.register(TrackerMetrics(self.tracker))
        Gauge("hotline_journal_pending_events", "Call events not yet in the database",
              registry=self.registry).set_function(lambda: self.writer.pending)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.writer.run(), name="call-journal-writer"))
        async with self.sessions() as session:
            self._overrides_seen = await overrides_version(session)
        self.modes = ModeScheduler(
            self.settings.lines,
            self.calendar,
            write_mode=self.write_mode,
            store_mode=self._store_mode,
            overrides=await active_overrides(self.sessions, datetime.now(UTC)),
        )
        await self.modes.start()
        await self.connection.start()
        self._tasks.append(asyncio.create_task(self._watch_overrides(), name="mode-overrides"))
        self._tasks.append(asyncio.create_task(self.ledger.run(), name="pbx-ledger"))

    async def stop(self) -> None:
        await self.connection.stop()
        if self.modes is not None:
            await self.modes.stop()
        with contextlib.suppress(TimeoutError):
            await self.writer.flushed(timeout=5.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def health(self) -> dict[str, object]:
        report = self.connection.health()
        report["calls_live"] = len(self.tracker.calls())
        report["journal_writer"] = self.writer.health()
        return report

    # ------------------------------------------------------------ events

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Send domain events to the journal and to every listener."""
        if not events:
            return
        self.writer.submit(events)
        for listener in self.listeners:
            try:
                listener(events)
            except Exception:
                log.exception("call event listener failed", listener=repr(listener))

    def publish_agents(self, events: Sequence[AgentChanged]) -> None:
        """Send operators' queue-state changes to every agent listener."""
        if not events:
            return
        for listener in self.agent_listeners:
            try:
                listener(events)
            except Exception:
                log.exception("agent event listener failed", listener=repr(listener))

    def _on_event(self, message: Message, received_at: datetime) -> None:
        self.publish(self.tracker.feed(message, received_at))
        self._log_problems()
        if is_member_message(message):
            self.publish_agents(self.agents.feed(message, received_at))

    async def _on_connected(self, result: ResyncResult) -> None:
        """Rebuild the picture after a login: snapshot in, vanished calls out, modes again."""
        events: list[DomainEvent] = []
        for message in result.messages:
            events.extend(self.tracker.feed(message, result.connected_at))
        if result.complete:
            events.extend(
                self.tracker.reconcile(result.live_uniqueids(), result.connected_at, result.restarted)
            )
        self.publish(events)
        self._log_problems()
        if not any(error.startswith("QueueStatus") for error in result.errors):
            # A complete member list: whoever is missing from it left the queues meanwhile.
            self.publish_agents(self.agents.resync(result.queue_members, result.connected_at))
            self.roster_complete = True
        log.info("pbx resynchronised", session=result.session, restarted=result.restarted,
                 live_calls=len(self.tracker.calls()), complete=result.complete)
        if self.modes is not None:
            await self.modes.rewrite_all()
        self.ledger.poke()
        async with self._resynced:
            self.resyncs += 1
            self._resynced.notify_all()

    async def wait_resynced(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` (re)connects have been fully handled (tests, `hotline demo`)."""
        async with asyncio.timeout(timeout), self._resynced:
            await self._resynced.wait_for(lambda: self.resyncs >= count)

    def _log_problems(self) -> None:
        for problem in self.tracker.drain_problems():
            log.warning("ami event not understood", problem=problem)

    # ------------------------------------------------------------ modes

    async def write_mode(self, line: str, mode: Mode) -> None:
        """AstDB hotline/mode/<line> = mode. When the PBX is away, the next connect rewrites it."""
        if self.connection.state != "connected":
            log.info("mode to be written when the pbx connects", line=line, mode=mode)
            return
        try:
            reply = await self.connection.send_action(
                {"Action": "DBPut", "Family": ASTDB_FAMILY, "Key": mode_key(line), "Val": mode}
            )
        except AmiError as exc:
            log.warning("mode not written", line=line, mode=mode, error=str(exc))
            return
        if isinstance(reply, list) or not reply.success:
            log.error("pbx refused the mode", line=line, mode=mode, reply=str(reply))

    async def _store_mode(self, line: str, mode: Mode, code: str, text: str, at: datetime) -> None:
        await store_switch(self.sessions, line, mode, code, text, at)

    async def _load_overrides(self) -> None:
        async with self.sessions() as session:
            version = await overrides_version(session)
        if version == self._overrides_seen or self.modes is None:
            return
        overrides = await active_overrides(self.sessions, datetime.now(UTC))
        self._overrides_seen = version
        await self.modes.replace_overrides(overrides)

    async def _watch_overrides(self) -> None:
        """Overrides are set from the CLI or another instance: notice them within seconds."""
        while True:
            await asyncio.sleep(self._override_check_interval)
            try:
                await self._load_overrides()
            except Exception as exc:  # the database may be away; try again next time
                log.warning("overrides not read", error=repr(exc)[:300])
