"""Alerts in the running service: the rules run on every snapshot of the live figures; each
raise and clear is logged, written to the journal (in order, off the figures' path) and
pushed as an `alerts` message:

    {"type": "alerts", "active": [alert, ...], "raised": [alert, ...], "cleared": [alert, ...]}

to administrators (every alert), organizations' supervisors (their organization's and the
center-wide ones), wallboard accounts (likewise; the fund's wallboard every alert). A socket
that connects gets the active ones at once (`raised` and `cleared` empty: no sound).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.alerts.rules import Alert, AlertRules
from hotline.config import Settings
from hotline.figures.service import FiguresService
from hotline.live.hub import Hub, Message, Subscriber
from journal.alerts import close_left_open, record_cleared, record_raised
from journal.clock import utc_now
from journal.db import unit_of_work

log = structlog.get_logger(__name__)

ModeOf = Callable[[str], str | None]


class AlertService:
    """Runs the rules after each figures snapshot; owns the journal writer task."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], hub: Hub,
                 figures: FiguresService, mode_of: ModeOf) -> None:
        self.rules = AlertRules(settings.alerts)
        self.sessions = sessions
        self.hub = hub
        self.figures = figures
        self.mode_of = mode_of
        self.lines = [line.number for line in settings.lines]
        self._rows: dict[tuple[str, str, str], int] = {}
        self._org_ids: dict[str, int] = {}
        self._journal: asyncio.Queue[Alert] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        figures.listeners.append(self.on_figures)
        hub.on_subscribe.append(self._greet)

    def only_if(self) -> bool:
        """Whether this instance raises and writes alerts (the PBX link's holder)."""
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._write_loop(), name="alerts-journal")

    async def took_over(self) -> None:
        """This instance became the one that writes alerts: close those left open."""
        try:
            async with unit_of_work(self.sessions) as db:
                closed = await close_left_open(db, utc_now())
            if closed:
                log.info("alerts left open by the previous run closed", count=closed)
        except Exception as exc:
            log.warning("alerts left open not closed", error=repr(exc)[:300])

    async def stop(self) -> None:
        if self.on_figures in self.figures.listeners:
            self.figures.listeners.remove(self.on_figures)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # ------------------------------------------------------------ rules

    def on_figures(self, snapshot: dict[str, Any], now: datetime) -> None:
        if not self.only_if():
            return  # a standby's figures see no calls: the holder's alerts count
        modes = {number: self.mode_of(number) for number in self.lines}
        changes = self.rules.evaluate(snapshot, now, modes)
        if not changes:
            return
        for alert in changes:
            if alert.cleared_at is None:
                log.warning("alert raised", kind=alert.kind, scope=alert.scope_code,
                            text=alert.text, value=alert.value)
            else:
                log.info("alert cleared", kind=alert.kind, scope=alert.scope_code,
                         worst=alert.worst, seconds=int((alert.cleared_at - alert.raised_at)
                                                         .total_seconds()))
            self._journal.put_nowait(alert)
        self._push(changes)

    # ------------------------------------------------------------ sockets

    def _visible(self, subscriber: Subscriber, alert: Alert) -> bool | None:
        """Whether the socket sees the alert; None: it gets no alerts at all."""
        audience = self.figures.audience(subscriber)
        if audience is None:
            return None
        org = audience[1]
        return org is None or alert.organization in (None, org)

    def message_for(self, subscriber: Subscriber, changes: list[Alert]) -> Message | None:
        if self._visible(subscriber, Alert("", "", "", None, "", "", None, None, utc_now())) is None:
            return None
        seen = [a for a in changes if self._visible(subscriber, a)]
        return {
            "type": "alerts",
            "active": [a.as_json() for a in self.rules.active if self._visible(subscriber, a)],
            "raised": [a.as_json() for a in seen if a.cleared_at is None],
            "cleared": [a.as_json() for a in seen if a.cleared_at is not None],
        }

    def _push(self, changes: list[Alert]) -> None:
        for subscriber in self.hub:
            message = self.message_for(subscriber, changes)
            if message is not None and (message["raised"] or message["cleared"]):
                subscriber.put(message)

    def _greet(self, subscriber: Subscriber) -> None:
        message = self.message_for(subscriber, [])
        if message is not None:
            subscriber.put(message)

    # ------------------------------------------------------------ journal

    async def _write_loop(self) -> None:
        """Each raise and clear in order, one short transaction each; a failed write is logged
        and the next goes on (the alert is on the board and in the log either way)."""
        while True:
            alert = await self._journal.get()
            try:
                await self._write(alert)
            except Exception as exc:
                log.error("alert not written to the journal", kind=alert.kind,
                          error=repr(exc)[:300])

    async def _write(self, alert: Alert) -> None:
        async with unit_of_work(self.sessions) as db:
            if alert.cleared_at is None:
                if not self._org_ids:
                    self._org_ids = {c: i for i, c in self.figures.org_codes.items()}
                org_id = self._org_ids.get(alert.organization or "")
                self._rows[alert.key] = await record_raised(db, alert.as_json(), org_id)
            elif alert.key in self._rows:
                await record_cleared(db, self._rows.pop(alert.key), alert.as_json())

    async def drained(self) -> None:
        """Wait until every raise and clear so far is in the journal (tests)."""
        while not self._journal.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
