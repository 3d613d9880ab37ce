"""The recordings part of the service, assembled: storage, worker, scheduled checks.

`Recordings` is built by the composition root (hotline/app.py), started after the telephony
so that it can listen to its events, and stopped before it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.recordings.reconcile import Fault, Reconciler
from hotline.recordings.retention import Destroyed, destroy_expired
from hotline.recordings.spools import Spools
from hotline.recordings.storage import LocalStorage, RecordingStorage
from hotline.recordings.worker import RecordingWorker
from journal.clock import utc_now

log = structlog.get_logger(__name__)


def local_storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.service.recordings_dir)


class Recordings:
    """Worker + APScheduler jobs: reconciliation and retention."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        storage: RecordingStorage | None = None,
        sweep_interval: float = 60.0,
        retry_base: float | None = None,
        before_sweep: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage if storage is not None else local_storage(settings)
        self.spools = Spools.of(settings)
        self.worker = RecordingWorker(
            sessions, self.storage, settings.recordings,
            timezone=settings.service.timezone,
            work_dir=settings.service.spool_dir / "recordings-work",
            sweep_interval=sweep_interval,
            retry_base=settings.recordings.retry_seconds if retry_base is None else retry_base,
            before_sweep=before_sweep,
            spools=self.spools,
        )
        self.reconciler = Reconciler(sessions, self.storage, settings.recordings, spools=self.spools)
        self.last_faults: list[Fault] = []
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def only_if(self) -> bool:
        """Whether this instance runs the scheduled checks (several instances: the one whose
        worker runs)."""
        return True

    async def _scheduled(self, work: Any) -> Any:
        return await work() if self.only_if() else None

    async def start(self) -> None:
        """The scheduled checks; the worker is started by whoever decides where it runs
        (the recordings' lock, hotline/app.py)."""
        rec = self.settings.recordings
        first = utc_now() + timedelta(minutes=1)
        self._scheduler.add_job(
            self._scheduled, IntervalTrigger(minutes=rec.check_interval_minutes, start_date=first),
            args=[self.check], id="recordings-check", coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._scheduled, IntervalTrigger(minutes=rec.retention_interval_minutes, start_date=first),
            args=[self.expire], id="recordings-retention", coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        self._scheduler.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._scheduler.shutdown(wait=False)
        await self.worker.stop()

    async def check(self) -> list[Fault]:
        """The scheduled reconciliation; faults are flagged and logged, never raised."""
        try:
            self.last_faults = await self.reconciler.run()
        except Exception as exc:
            log.warning("recordings check failed", error=repr(exc)[:300])
        else:
            log.info("recordings checked", faults=len(self.last_faults))
        return self.last_faults

    async def expire(self) -> list[Destroyed]:
        try:
            return await destroy_expired(self.sessions, self.storage, self.settings.recordings,
                                         spools=self.spools)
        except Exception as exc:
            log.warning("recordings retention failed", error=repr(exc)[:300])
            return []

    def health(self) -> dict[str, object]:
        return {**self.worker.health(), "faults": len(self.last_faults)}
