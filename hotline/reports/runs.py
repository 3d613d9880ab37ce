"""Each report as the service runs it for a person: the web pages, the API and the CLI.

The journal computes the figures; this module brings what the hotline knows: the lines'
working hours from the schedules and the production calendar, the level-2 queues, the
sections of the calls report, the region's time zone, an organization given by its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.config import Settings
from hotline.reports.hours import level2_queues, operator_hours
from journal.access import report_scope
from journal.actors import Actor
from journal.calendar import ProductionCalendar
from journal.errors import InvalidInput
from journal.models import Line, Organization, User
from journal.reports.calls import CallStats, Dimension, call_sections
from journal.reports.deadlines import OrgDeadlines, deadlines
from journal.reports.period import Period, parse_period
from journal.reports.pg import PgReport, pg_report
from journal.reports.quality import Bucket, QualityReport, quality_report
from journal.reports.queue_callbacks import QueueCallbackStats, queue_callback_stats
from journal.reports.sites import calls_by_pbx
from journal.clock import utc_now

# The sheets of the calls report, in order, by their Russian names.
CALL_SECTIONS = {
    "итого": Dimension.TOTAL, "линии": Dimension.LINE, "организации": Dimension.ORGANIZATION,
    "операторы": Dimension.OPERATOR, "часы": Dimension.HOUR, "дни недели": Dimension.WEEKDAY,
}


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What every run needs besides the session and the actor."""

    settings: Settings
    calendar: ProductionCalendar

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.service.timezone)

    def period(self, text: str) -> Period:
        return parse_period(text, self.zone)


async def organization_id(session: AsyncSession, code: str | None) -> int | None:
    """The id of the organization with this code (None for none given)."""
    if not code:
        return None
    found = await session.scalar(select(Organization.id).where(Organization.code == code))
    if found is None:
        raise InvalidInput(f"Организация «{code}» не найдена", field="org")
    return found


async def call_key_names(
    session: AsyncSession, sections: dict[str, list[CallStats]]
) -> dict[str, Mapping[Any, str]]:
    """The names behind the calls report's keys (organizations and operators are keyed by
    database id, lines by number: «88007758565 (ТФОМС ...)»), for every export people read."""
    orgs = dict((await session.execute(select(Organization.id, Organization.name))).all())
    lines = {number: f"{number} ({orgs.get(org_id, '')})" for number, org_id in (
        await session.execute(select(Line.number, Line.organization_id))).all()}
    operator_ids = {r.key for r in sections.get("операторы", []) if isinstance(r.key, int)}
    people = dict((await session.execute(
        select(User.id, User.full_name).where(User.id.in_(operator_ids))
    )).all()) if operator_ids else {}
    return {"линии": lines, "организации": orgs, "операторы": people}


async def run_pg(session: AsyncSession, actor: Actor, ctx: ReportContext, period: Period,
                 org_id: int | None) -> PgReport:
    return await pg_report(session, actor, period, org_id)


async def run_calls(session: AsyncSession, actor: Actor, ctx: ReportContext, period: Period,
                    org_id: int | None) -> dict[str, list[CallStats]]:
    """Every section of the calls report against the lines' planned working hours."""
    hours = operator_hours(ctx.settings, ctx.calendar, period)
    by_dim = await call_sections(session, actor, period, hours, list(CALL_SECTIONS.values()),
                                 organization_id=org_id, level2_queues=level2_queues(ctx.settings))
    return {name: by_dim[dim] for name, dim in CALL_SECTIONS.items()}


async def run_pbx_calls(session: AsyncSession, actor: Actor, ctx: ReportContext, period: Period,
                        org_id: int | None) -> list[dict[str, Any]]:
    """Incoming calls by PBX (site), each with its title: never the code on a page."""
    return [{**asdict(row), "title": ctx.settings.pbx_title(row.pbx)}
            for row in await calls_by_pbx(session, actor, period, org_id)]


async def run_queue_callbacks(session: AsyncSession, actor: Actor, ctx: ReportContext,
                              period: Period, org_id: int | None) -> list[QueueCallbackStats]:
    """Callbacks asked from the queue, per organization (the actor's own unless they see all)."""
    return await queue_callback_stats(session, period, report_scope(actor, org_id))


async def run_quality(session: AsyncSession, actor: Actor, ctx: ReportContext, period: Period,
                      org_id: int | None, bucket: Bucket = Bucket.MONTH) -> QualityReport:
    return await quality_report(session, actor, period, org_id, bucket=bucket)


async def run_deadlines(session: AsyncSession, actor: Actor, ctx: ReportContext,
                        org_id: int | None, within_days: int = 3,
                        now: datetime | None = None) -> list[OrgDeadlines]:
    now = now or utc_now()
    return await deadlines(session, actor, now.astimezone(ctx.zone).date(), now,
                           within_days=within_days, organization_id=org_id)

