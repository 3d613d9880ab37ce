"""The PBX's events, as the rest of the service takes them: AMI in, typed events out.

Every AMI event goes through the pure call tracker; the domain events it returns go to the
call subscribers (the journal writer first, then the live feed, the recordings worker...).
Queue-member events go to the pure agent roster instead (operators' queue states: ready,
paused, out, phone unavailable), whose `AgentChanged` events go to the agent subscribers only:
the journal never sees them. After every (re)connect the PBX's snapshot is fed to both, calls
that are gone are closed, and the hooks run (the modes are written again, the PBX's ledger is
read). Nothing outside `hotline/pbx/` sees an AMI message: this is where they stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.pbx.ami.client import AmiConnection
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.resync import ResyncResult
from hotline.pbx.callkeys import MAIN as MAIN_PBX
from hotline.pbx.events import AgentChanged, CallSnapshot, DomainEvent
from hotline.pbx.tracking.agents import AgentRoster, is_member_message
from hotline.pbx.tracking.calls import CallTracker

log = structlog.get_logger(__name__)

CallSubscriber = Callable[[Sequence[DomainEvent]], None]
AgentSubscriber = Callable[[Sequence[AgentChanged]], None]
ResyncHook = Callable[[], Awaitable[None] | None]


class TrackerMetrics(Collector):
    """The call trackers' figures as Prometheus metrics, read when scraped (a tracker is pure:
    it only counts); made once per registry, each PBX's tracker added under its `pbx` label
    (`track`). `hotline_calls_live{pbx}`: the calls it follows now;
    `hotline_tracker_events_skipped_total{pbx,reason}`: AMI events it could not use — unknown
    event names, events about channels never seen (orphan) or already gone (late, e.g. out
    of order), malformed ones, and its own bugs caught (internal_error)."""

    REASONS = {"unknown": "unknown", "orphan": "orphans", "late": "late",
               "malformed": "malformed", "internal_error": "internal_errors"}

    def __init__(self, registry: CollectorRegistry) -> None:
        self._trackers: dict[str, CallTracker] = {}
        registry.register(self)

    def track(self, pbx: str, tracker: CallTracker) -> None:
        """Count `tracker`'s figures under `pbx="<pbx>"` (a PBX's later tracker replaces it)."""
        self._trackers[pbx] = tracker

    def describe(self) -> Iterator[Metric]:
        """The families without samples: the registry reserves their names."""
        return self._families({})

    def collect(self) -> Iterator[Metric]:
        return self._families(self._trackers)

    def _families(self, trackers: dict[str, CallTracker]) -> Iterator[Metric]:
        live = GaugeMetricFamily("hotline_calls_live", "Calls the tracker follows now",
                                 labels=["pbx"])
        skipped = CounterMetricFamily(
            "hotline_tracker_events_skipped", "AMI events the call tracker could not use",
            labels=["pbx", "reason"])
        emitted = CounterMetricFamily(
            "hotline_tracker_domain_events", "Domain events the call tracker reported",
            labels=["pbx"])
        for pbx, tracker in trackers.items():
            stats = tracker.stats
            live.add_metric([pbx], len(tracker.live_call_ids()))  # no snapshot built
            for reason, attribute in self.REASONS.items():
                skipped.add_metric([pbx, reason], getattr(stats, attribute))
            emitted.add_metric([pbx], stats.emitted)
        yield live
        yield skipped
        yield emitted


class PbxFeed:
    """One PBX's AMI link → the tracker and the roster → call and agent subscribers."""

    def __init__(self, connection: AmiConnection, *, metrics: TrackerMetrics | None = None,
                 pbx: str = MAIN_PBX) -> None:
        self._connection = connection
        # Which PBX (`[[pbx]] name`): its call keys name it (hotline.pbx.callkeys).
        self.pbx = pbx
        self.tracker = CallTracker(pbx=pbx)
        self.agents = AgentRoster()
        # True once a complete QueueStatus was read: a phone missing from it is in no queue.
        self.roster_complete = False
        self._calls: list[CallSubscriber] = []
        self._agents: list[AgentSubscriber] = []
        self._after_resync: list[ResyncHook] = []
        # How many (re)connects have been fully handled: snapshot applied, hooks run.
        self.resyncs = 0
        self._resynced = asyncio.Condition()
        connection.on_event(self._on_event)
        connection.on_connected(self._on_connected)
        # Its tracker's figures, labelled with its PBX; alone: on a registry of its own.
        metrics = metrics or TrackerMetrics(CollectorRegistry())
        metrics.track(pbx, self.tracker)

    # ------------------------------------------------------------ subscribers

    def subscribe_calls(self, subscriber: CallSubscriber) -> None:
        self._calls.append(subscriber)

    def unsubscribe_calls(self, subscriber: CallSubscriber) -> None:
        if subscriber in self._calls:
            self._calls.remove(subscriber)

    def subscribe_agents(self, subscriber: AgentSubscriber) -> None:
        self._agents.append(subscriber)

    def unsubscribe_agents(self, subscriber: AgentSubscriber) -> None:
        if subscriber in self._agents:
            self._agents.remove(subscriber)

    def after_resync(self, hook: ResyncHook) -> None:
        """Run `hook` after every (re)connect's snapshot has been applied, in the order added."""
        self._after_resync.append(hook)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Hand domain events to every call subscriber (also the PBX ledger's imported calls)."""
        if not events:
            return
        for subscriber in self._calls:
            try:
                subscriber(events)
            except Exception:
                log.exception("call event subscriber failed", subscriber=repr(subscriber))

    def publish_agents(self, events: Sequence[AgentChanged]) -> None:
        if not events:
            return
        for subscriber in self._agents:
            try:
                subscriber(events)
            except Exception:
                log.exception("agent event subscriber failed", subscriber=repr(subscriber))

    # ------------------------------------------------------------ views

    @property
    def link_state(self) -> str:
        """The AMI link: connecting, connected, disconnected..."""
        return self._connection.state

    @property
    def last_resync(self) -> ResyncResult | None:
        """What the latest (re)connect read from the PBX (whether Asterisk had restarted...)."""
        return self._connection.last_resync

    def calls(self) -> list[CallSnapshot]:
        """The calls followed now (ended ones until they are forgotten)."""
        return self.tracker.calls()

    def snapshot(self, call_id: str) -> CallSnapshot | None:
        return self.tracker.snapshot(call_id)

    def live_call_ids(self) -> set[str]:
        return self.tracker.live_call_ids()

    def health(self) -> dict[str, object]:
        report = self._connection.health()
        report["calls_live"] = len(self.tracker.calls())
        return report

    async def wait_resynced(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` (re)connects have been fully handled (tests, `hotline demo`)."""
        async with asyncio.timeout(timeout), self._resynced:
            await self._resynced.wait_for(lambda: self.resyncs >= count)

    # ------------------------------------------------------------ AMI in

    def _on_event(self, message: AmiMessage, received_at: datetime) -> None:
        self.publish(self.tracker.feed(message, received_at))
        self._log_problems()
        if is_member_message(message):
            self.publish_agents(self.agents.feed(message, received_at))

    async def _on_connected(self, result: ResyncResult) -> None:
        """Rebuild the picture after a login: snapshot in, vanished calls out, then the hooks."""
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
        for hook in self._after_resync:
            try:
                done = hook()
                if done is not None:
                    await done
            except Exception:
                log.exception("after-resync step failed", hook=repr(hook))
        async with self._resynced:
            self.resyncs += 1
            self._resynced.notify_all()

    def _log_problems(self) -> None:
        for problem in self.tracker.drain_problems():
            log.warning("ami event not understood", problem=problem)
