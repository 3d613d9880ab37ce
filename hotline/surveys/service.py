"""The survey dialer (issue #6): done cards → survey tasks → calls in the line's operator hours.

Every `interval_seconds` (a minute by default: it is a dialing queue, not a mode switch) one
pass: (1) schedule a task for every newly done card of an organization whose `survey` is not
"off"; (2) fail the IVR tasks whose last attempt went unanswered; (3) for each due IVR task
whose organization's line is in operator mode now (its working hours, the production calendar,
an administrator's override), count the attempt and Originate the citizen into the
`hotline-survey` context, which runs `AGI(agi://…/survey)`. The next attempt is due
`retry_minutes` later unless a rating (or a refusal) came in; after `max_attempts` the task is
failed. Operator-mode tasks are only listed (`journal.surveys.operator_tasks`), never dialled.

The attempt is committed before the Originate, so a crash in between can lose an attempt but
never call a citizen twice within one retry pause.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Line, Settings
from hotline.pbx.sites import PbxSetActions
from hotline.pbx.actions import PbxActionFailed, PbxActions, citizen_number
from hotline.modes.schedule import OPERATOR, Override, mode_at
from journal import surveys
from journal.calendar import ProductionCalendar
from journal.db import unit_of_work
from journal.models import Organization, SurveyTask
from journal.clock import utc_now

log = structlog.get_logger(__name__)



class SurveyDialer:
    """One pass at a time over the survey queue; `start()` runs it every interval."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        calendar: ProductionCalendar,
        actions: PbxActions | PbxSetActions,
        *,
        overrides: Callable[[], Iterable[Override]] = tuple,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.calendar = calendar
        self.actions = actions
        self.overrides = overrides
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._told_no_agi = False

    @property
    def modes(self) -> dict[str, str]:
        return {org.code: org.survey for org in self.settings.organizations}

    def enabled(self) -> bool:
        return any(mode != "off" for mode in self.modes.values())

    def line_of(self, organization_code: str) -> Line | None:
        """The line the survey calls from: the organization's first line in the config."""
        return next((ln for ln in self.settings.lines if ln.organization == organization_code),
                    None)

    async def start(self) -> None:
        if self.enabled():
            self._task = asyncio.create_task(self._loop(), name="survey-dialer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("survey pass failed")
            await asyncio.sleep(self.settings.surveys.interval_seconds)

    async def run_once(self) -> list[int]:
        """One pass; the ids of the surveys dialled."""
        cfg = self.settings.surveys
        now = self.clock()
        retry = timedelta(minutes=cfg.retry_minutes)
        async with unit_of_work(self.sessions) as session:
            scheduled = await surveys.schedule_for_done_cards(session, self.modes, now)
            failed = await surveys.expire_exhausted(session, now, cfg.max_attempts)
            codes = dict(
                (await session.execute(select(Organization.id, Organization.code))).all()
            )
            calls: list[tuple[SurveyTask, Line]] = []
            # The automatic survey is the FastAGI script: without it a call would only ring
            # the citizen for nothing, so tasks wait until [asterisk] agi_serve is on.
            due = await surveys.due_tasks(session, now, cfg.max_attempts) if self.can_dial else []
            for task in due:
                line = self.line_of(codes.get(task.organization_id, ""))
                if line is None or not self.in_hours(line, now):
                    continue
                try:
                    citizen_number(task.phone)
                except PbxActionFailed:
                    log.warning("survey number unusable", survey_id=task.id)
                    surveys.record_failure(task)
                    continue
                surveys.record_attempt(task, now, retry)
                calls.append((task, line))
            planned = [(t.id, t.card_id, t.phone, line.number) for t, line in calls]
        if scheduled or failed:
            log.info("surveys", scheduled=scheduled, failed=failed)
        dialled = []
        for survey_id, card_id, phone, line_number in planned:
            try:
                await self.actions.place_survey(
                    survey_id=survey_id, card_id=card_id, number=phone, line=line_number
                )
                dialled.append(survey_id)
            except PbxActionFailed as exc:
                # The attempt stays counted: the next one is due after the retry pause.
                log.warning("survey call not placed", survey_id=survey_id, reason=exc.detail)
        return dialled

    @property
    def can_dial(self) -> bool:
        if not self.settings.asterisk.agi_serve and not self._told_no_agi:
            log.warning("automatic surveys wait: [asterisk] agi_serve is off")
            self._told_no_agi = True
        return self.settings.asterisk.agi_serve

    def in_hours(self, line: Line, at: datetime) -> bool:
        return mode_at(line, self.calendar, at, self.overrides()).mode == OPERATOR
