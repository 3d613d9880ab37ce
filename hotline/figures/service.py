"""The live figures in the running service: the pure core fed from the PBX's feed, seeded from
the journal at start-up and again whenever this instance takes the PBX link over from
another (several instances: what the previous holder counted is in the journal, not here),
sent to the browsers as `figures` messages.

- A call and an agent subscriber of `PbxFeed` hand events to the core (nothing else on the PBX
  event path: no I/O, no JSON); until today's figures so far are read from the journal
  (once, at start-up) the events wait in a list and follow the seed, so a restart neither
  zeroes the day nor counts a call twice (the core counts a call once by its id).
- Every `CALLBACKS_EVERY` seconds one grouped count of the pending callbacks (due later today,
  overdue) per organization.
- At most every `SEND_INTERVAL` seconds while something changed, and every `SEND_REFRESH`
  seconds anyway (the windows slide and the waits grow on the clock): one snapshot, then one
  message per audience: administrators every scope and every operator's day; an
  organization's supervisor its own lines and organization and its operators' days; a
  wallboard account (`wallboard` role) the scopes of its organization (the fund's: the
  whole center) and no person at all (see `hotline.wallboard`).
- After each snapshot the listeners run (the alert rules), with the snapshot and the moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.figures.core import FiguresCore, JournalCall, LineInfo
from hotline.live.hub import Hub, Message, Subscriber
from hotline.pbx.events import AgentChanged, DomainEvent
from hotline.pbx.feed import PbxFeed
from hotline.pbx.labels import line_title
from hotline.pbx.sites import PbxSet
from journal.clock import utc_now
from journal.figures import callbacks_due, calls_since, organization_codes

log = structlog.get_logger(__name__)

SEND_INTERVAL = 1.0
SEND_REFRESH = 5.0
WALLBOARD_ROLE = "wallboard"
SUPERVISOR_ROLE = "supervisor"
# An operator's state as people read it (the figures' own codes: `hotline.figures.core`).
STATE_TITLES = {"ready": "готов", "talking": "разговаривает", "paused": "перерыв",
                "unavailable": "телефон недоступен", "out": "не в очереди", "unknown": "нет данных"}
Listener = Callable[[dict[str, Any], datetime], None]


class FiguresService:
    """Owns the core, its subscriptions and its sending task."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], hub: Hub,
                 pbx: PbxFeed | PbxSet | None, *, now: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.sessions = sessions
        self.hub = hub
        self.pbx = pbx
        self.now = now
        self.zone = ZoneInfo(settings.service.timezone)
        phones = {f"PJSIP/{p}": org.code for org in settings.organizations
                  for p in (*org.level1_phones, *org.level2_phones)}
        self._phones = phones
        self.core = self._new_core()
        self.seeds = 0
        self.canonical = {i.lower(): i for i in phones}
        self.titles = {("organization", org.code): org.name for org in settings.organizations}
        self.titles |= {("line", ln.number): line_title(ln.number) for ln in settings.lines}
        self.titles[("center", "")] = "Контакт-центр"
        self.org_codes: dict[int, str] = {}
        self.fund = next((o.code for o in settings.organizations if o.kind == "fund"), None)
        self.listeners: list[Listener] = []
        self.latest: dict[str, Any] | None = None
        self._held: list[tuple[str, Sequence[Any]]] | None = []  # events before the seed
        self._sent_version = -1
        self._tasks: list[asyncio.Task[None]] = []
        # The journal reads of takings over still running (each leaves the set when done).
        self._reseeds: set[asyncio.Task[None]] = set()
        hub.on_subscribe.append(self._greet)

    def _new_core(self) -> FiguresCore:
        return FiguresCore(
            [LineInfo(ln.number, ln.organization, ln.service_level_seconds)
             for ln in self.settings.lines],
            self._phones, self.zone, self.now())

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.pbx is not None:
            self.pbx.subscribe_calls(self.on_events)
            self.pbx.subscribe_agents(self.on_agents)
        try:
            await self.seed()
        except Exception as exc:  # the journal is away: the day starts from what the PBX says
            log.warning("today's figures not read from the journal", error=repr(exc)[:300])
        self._release()
        self._tasks = [asyncio.create_task(self._send_loop(), name="figures-send"),
                       asyncio.create_task(self._callbacks_loop(), name="figures-callbacks")]

    def took_over(self) -> None:
        """This instance now holds the PBX link: a fresh core, seeded again from the journal
        (the previous holder's calls of the day), the PBX's events held until then. Called
        before the link starts, so its resynchronisation's events follow the seed."""
        self._held = []
        self.core = self._new_core()
        self._sent_version = -1
        task = asyncio.create_task(self._reseed(), name="figures-reseed")
        self._reseeds.add(task)
        task.add_done_callback(self._reseeds.discard)

    async def reseeded(self) -> None:
        """Wait until the journal reads that taking the link over started are done."""
        await asyncio.gather(*self._reseeds, return_exceptions=True)

    async def _reseed(self) -> None:
        try:
            await self.seed()
            await self.refresh_callbacks()
        except Exception as exc:  # the journal is away: the day goes on from the PBX's events
            log.warning("today's figures not read again from the journal", error=repr(exc)[:300])
        finally:
            self._release()

    async def stop(self) -> None:
        if self.pbx is not None:
            self.pbx.unsubscribe_calls(self.on_events)
            self.pbx.unsubscribe_agents(self.on_agents)
        tasks = [*self._tasks, *self._reseeds]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def seed(self) -> None:
        """Today's calls so far (from local midnight) and the organizations' ids."""
        midnight = datetime.combine(self.now().astimezone(self.zone).date(),
                                    datetime.min.time(), self.zone)
        async with self.sessions() as db:
            rows = await calls_since(db, midnight)
            self.org_codes = await organization_codes(db)
        self.core.seed(JournalCall(
            pbx_call_id=r["pbx_call_id"], line=r["line_number"], organization=r["code"],
            inbound=r["direction"] == "in", started_at=r["started_at"],
            answered_at=r["answered_at"], ended_at=r["ended_at"], outcome=r["outcome"],
            queue_wait_seconds=r["queue_wait_seconds"], talk_seconds=r["talk_seconds"],
            answered_interface=r["answered_interface"]) for r in rows)
        self.seeds += 1
        log.info("today's figures read from the journal", calls=len(rows))

    def _release(self) -> None:
        held, self._held = self._held or [], None
        for kind, events in held:
            (self.core.feed if kind == "calls" else self.core.feed_agents)(events)

    # ------------------------------------------------------------ PBX subscribers

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        if self._held is not None:
            self._held.append(("calls", list(events)))
        else:
            self.core.feed(events)

    def on_agents(self, events: Sequence[AgentChanged]) -> None:
        if self._held is not None:
            self._held.append(("agents", list(events)))
        else:
            self.core.feed_agents(events)

    # ------------------------------------------------------------ journal

    async def refresh_callbacks(self) -> None:
        now = self.now()
        day_end = datetime.combine(now.astimezone(self.zone).date() + timedelta(days=1),
                                   datetime.min.time(), self.zone)
        async with self.sessions() as db:
            self.core.set_callbacks(await callbacks_due(db, now, day_end))

    async def _callbacks_loop(self) -> None:
        while True:
            try:
                await self.refresh_callbacks()
            except Exception as exc:
                log.warning("callbacks due not counted", error=repr(exc)[:300])
            await asyncio.sleep(self.settings.alerts.callbacks_interval_seconds)

    # ------------------------------------------------------------ sending

    def tick(self) -> dict[str, Any]:
        """A snapshot now, with titles; the listeners see it; the audiences get theirs."""
        now = self.now()
        snapshot = self.core.snapshot(now)
        for scope in snapshot["scopes"]:
            scope["title"] = self.titles.get((scope["kind"], scope["code"]), scope["code"])
        for operator in snapshot["operators"]:
            operator["interface"] = self.canonical.get(operator["interface"], operator["interface"])
        snapshot["pbx"] = self.pbx.link_state if self.pbx is not None else "disabled"
        if isinstance(self.pbx, PbxSet) and len(self.pbx) > 1:
            # Several PBXs: each one's link, with its title (an alert per PBX down).
            snapshot["pbxs"] = self.pbx.links()
        self.latest = snapshot
        self._sent_version = self.core.version
        for listener in self.listeners:
            try:
                listener(snapshot, now)
            except Exception:
                log.exception("figures listener failed", listener=repr(listener))
        self._send(snapshot)
        return snapshot

    def _send(self, snapshot: dict[str, Any]) -> None:
        cache: dict[tuple[str, str | None], Message] = {}
        for subscriber in self.hub:
            audience = self.audience(subscriber)
            if audience is None:
                continue
            if audience not in cache:
                cache[audience] = self.message_for(snapshot, *audience)
            subscriber.put(cache[audience])

    def audience(self, subscriber: Subscriber) -> tuple[str, str | None] | None:
        """Who sees which figures: ("all", None), ("org", code), ("wall", code or None)."""
        if subscriber.is_admin:
            return ("all", None)
        org = self.org_codes.get(subscriber.organization_id or -1)
        if subscriber.role == SUPERVISOR_ROLE and org is not None:
            return ("org", org)
        if subscriber.role == WALLBOARD_ROLE and org is not None:
            return ("wall", None if org == self.fund else org)
        return None

    @staticmethod
    def message_for(snapshot: dict[str, Any], kind: str, org: str | None) -> Message:
        scopes = [s for s in snapshot["scopes"] if org is None or s["organization"] == org]
        message: Message = {"type": "figures", "at": snapshot["at"], "day": snapshot["day"],
                            "pbx": snapshot["pbx"], "scopes": scopes}
        if kind != "wall":  # the wallboard shows no person (see hotline.wallboard)
            message["operators"] = [o for o in snapshot["operators"]
                                    if org is None or o["organization"] == org]
            message["state_titles"] = STATE_TITLES
        return message

    def _greet(self, subscriber: Subscriber) -> None:
        audience = self.audience(subscriber)
        if audience is not None and self.latest is not None:
            subscriber.put(self.message_for(self.latest, *audience))

    async def _send_loop(self) -> None:
        last = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SEND_INTERVAL)
            if self._held is not None:  # seeding (again): no half-read day on the board
                continue
            if self.core.version == self._sent_version and loop.time() - last < SEND_REFRESH:
                continue
            last = loop.time()
            try:
                self.tick()
            except Exception:
                log.exception("live figures failed")
