"""The scaffolding every scheduled journal job shares (the deadline digest, the call
statistics' roll-up): an APScheduler of its own or the service's shared one, its jobs by id,
a failed run logged and never fatal. A job says only when it runs and what it does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from journal.calendar import ProductionCalendar
from journal.clock import Clock, utc_now

log = structlog.get_logger(__name__)


class ScheduledJob:
    """Subclasses name their APScheduler job ids, add them in `schedule()` and do their work
    in `work()`; `run()` is what the scheduler calls."""

    name = "job"
    job_ids: tuple[str, ...] = ()

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        calendar: ProductionCalendar,
        *,
        clock: Clock = utc_now,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        """`scheduler`: the service's shared one (started by its owner); else its own."""
        self.settings = settings
        self.sessions = sessions
        self.calendar = calendar
        self.clock = clock
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler or AsyncIOScheduler(timezone=UTC)

    def jobs(self) -> dict[str, Job | None]:
        """The scheduled APScheduler jobs by id (for inspection)."""
        return {job_id: self.scheduler.get_job(job_id) for job_id in self.job_ids}

    async def start(self, *, paused: bool = False) -> None:
        """Schedule the job (`paused`: an own scheduler that runs nothing, for tests)."""
        if self._owns_scheduler and not self.scheduler.running:
            self.scheduler.start(paused=paused)
        self.schedule(self.clock())

    async def stop(self) -> None:
        for job_id in self.job_ids:
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)
        if self._owns_scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def schedule(self, now: datetime) -> None:
        raise NotImplementedError

    async def work(self) -> Any:
        raise NotImplementedError

    def only_if(self) -> bool:
        """Whether this instance runs the job (several instances: the lock's holder only)."""
        return True

    async def run(self) -> Any:
        """The work, its failure logged (the next run still comes); None when it failed or
        another instance runs it."""
        if not self.only_if():
            log.info(f"{self.name}.skipped", reason="another instance holds the lock")
            self.after_run()
            return None
        try:
            return await self.work()
        except Exception:
            log.exception(f"{self.name}.failed")
            return None
        finally:
            self.after_run()

    def after_run(self) -> None:
        """What follows every run, failed or not (a job set one run at a time sets the next)."""
