"""Call statistics of the lines against their working hours, one SQL aggregation.

Which moments are working hours is not the journal's knowledge: the caller passes the
operator intervals of each line for the period (`HoursInterval`, from the line's schedule and
the production calendar). They are loaded into a temporary table and joined, so the whole
report stays in SQL.

Definitions (incoming calls whose `started_at` falls in the period; a call that spans
midnight or the end of the period counts once, on the day and hour it started):
- offered: every incoming call; in_hours: it started inside an operator interval of its line;
  calls outside working hours are reported in their own rows (`in_hours` false).
- answered / abandoned / secretary: by `outcome`; abandoned_wait_avg is the queue wait before
  hanging up.
- answered_20s / answered_60s: answered with a queue wait of at most 20 / 60 seconds.
- wait_avg, talk_avg: answered calls. wait_p90: the 90th percentile of the answered calls'
  waits as PostgreSQL's `percentile_cont(0.9)` defines it: with the n waits sorted, the value
  at position p = 0.9 * (n - 1) (counting from 0), interpolated linearly between the waits at
  floor(p) and floor(p) + 1. PostgreSQL computes it with percentile_cont; SQLite, which has no
  percentile, with window functions (row_number and count per group) picking those two waits,
  so both backends give the same number.
- transferred_l2: calls with a transfer to one of the level-2 queues given.
- called_back: secretary messages whose card got a done callback; callback_delay_avg: the
  working-hours seconds (of the line's operator intervals) from the message to the callback.
Hours and weekdays are local to `zone`; on SQLite the zone's offset at the period start is
used (Russian zones keep no daylight saving time).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import Call, CallbackStatus, CallbackTask, CallTransfer
from journal.reports.period import Period
from journal.reports.sql import without_jit
from journal.types import UTCDateTime


class HoursInterval(NamedTuple):
    """Operators answer `line` from `start` (inclusive) to `end` (exclusive), UTC."""

    line: str
    start: datetime
    end: datetime


class Dimension(StrEnum):
    TOTAL = "total"
    LINE = "line"
    ORGANIZATION = "organization"
    OPERATOR = "operator"
    HOUR = "hour"
    WEEKDAY = "weekday"  # 1 Monday .. 7 Sunday


@dataclass(frozen=True, slots=True)
class CallStats:
    """One row: the dimension's key, inside or outside working hours, and the figures."""

    key: Any
    in_hours: bool
    offered: int
    answered: int
    abandoned: int
    abandoned_wait_avg: float | None
    answered_20s: int
    answered_60s: int
    wait_avg: float | None
    wait_p90: float | None
    talk_avg: float | None
    transferred_l2: int
    secretary: int
    called_back: int
    callback_delay_avg: float | None


def _hours_table() -> Table:
    """A temporary table of a unique name (one per report, dropped afterwards)."""
    return Table(
        f"tmp_report_hours_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("line_number", String(20)),
        Column("start_at", UTCDateTime()),
        Column("end_at", UTCDateTime()),
        prefixes=["TEMPORARY"],
    )


def _seconds(later: ColumnElement, earlier: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _least(a: ColumnElement, b: ColumnElement, dialect: str) -> ColumnElement:
    return func.least(a, b) if dialect == "postgresql" else func.min(a, b)


def _greatest(a: ColumnElement, b: ColumnElement, dialect: str) -> ColumnElement:
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)


def _local_part(part: str, zone_name: str, offset_hours: float, dialect: str) -> ColumnElement:
    """The local hour (0-23) or ISO weekday (1-7) of the call's start."""
    if dialect == "postgresql":
        local = func.timezone(zone_name, Call.started_at)
        return cast(extract("hour" if part == "hour" else "isodow", local), Integer)
    shifted = func.datetime(Call.started_at, f"{offset_hours:+g} hours")
    if part == "hour":
        return cast(func.strftime("%H", shifted), Integer)
    return (cast(func.strftime("%w", shifted), Integer) + 6) % 7 + 1


def _dimension(dim: Dimension, period: Period, dialect: str) -> ColumnElement:
    offset = period.start.astimezone(period.zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0.0
    match dim:
        case Dimension.TOTAL:
            return literal("all")
        case Dimension.LINE:
            return Call.line_number
        case Dimension.ORGANIZATION:
            return Call.organization_id
        case Dimension.OPERATOR:
            return Call.answered_by_id
        case Dimension.HOUR:
            return _local_part("hour", period.zone.key, hours, dialect)
        case Dimension.WEEKDAY:
            return _local_part("weekday", period.zone.key, hours, dialect)
    raise ValueError(f"unknown dimension {dim!r}")


def _callback_delays(hours: Table, period: Period, dialect: str):  # noqa: ANN202 - a subquery
    """Per secretary call of the period: working-hours seconds from the message to the first
    done callback of its card.

    The first done callback is looked up for the period's secretary calls only (through the
    callback tasks' card index), not for every callback ever made.
    """
    first_done = (
        select(Call.id.label("call_id"), Call.line_number.label("line_number"),
               Call.started_at.label("started_at"), func.min(CallbackTask.done_at).label("done_at"))
        .join(CallbackTask, CallbackTask.card_id == Call.card_id)
        .where(Call.outcome == "secretary", Call.started_at >= period.start,
               Call.started_at < period.end, CallbackTask.status == CallbackStatus.DONE,
               CallbackTask.done_at.is_not(None))
        .group_by(Call.id, Call.line_number, Call.started_at)
        .subquery("first_done")
    )
    overlap = _seconds(
        _least(hours.c.end_at, first_done.c.done_at, dialect),
        _greatest(hours.c.start_at, first_done.c.started_at, dialect),
        dialect,
    )
    return (
        select(first_done.c.call_id, func.coalesce(func.sum(overlap), 0).label("seconds"))
        .outerjoin(hours, and_(
            hours.c.line_number == first_done.c.line_number,
            hours.c.start_at < first_done.c.done_at,
            hours.c.end_at > first_done.c.started_at,
        ))
        .group_by(first_done.c.call_id)
        .subquery("delays")
    )


def _in_hours(hours: Table) -> ColumnElement:
    """The call started inside an operator interval of its line."""
    return exists().where(
        hours.c.line_number == Call.line_number,
        hours.c.start_at <= Call.started_at,
        hours.c.end_at > Call.started_at,
    )


def _in_report(period: Period, org_id: int | None) -> list[ColumnElement]:
    """The incoming calls of the period (of one organization when `org_id` is given)."""
    conditions = [Call.direction == "in", Call.started_at >= period.start,
                  Call.started_at < period.end]
    if org_id is not None:
        conditions.append(Call.organization_id == org_id)
    return conditions


def _p90_query(hours: Table, dim: Dimension, period: Period, org_id: int | None,
               dialect: str):  # noqa: ANN202
    """percentile_cont(0.9) of the answered calls' waits per group, in portable SQL.

    Position p = 0.9 * (n - 1) from 0, i.e. 9 * (n - 1) / 10: in integers, floor(p) is
    9 * (n - 1) // 10 and its fraction (9 * (n - 1) % 10) / 10, so nothing is lost to floats.
    The waits at floor(p) and floor(p) + 1 (row numbers from 1: lo + 1, lo + 2) are picked by
    row_number over the sorted group; the second is missing when p is the last row.
    """
    base = (
        select(_dimension(dim, period, dialect).label("key"),
               case((_in_hours(hours), True), else_=False).label("in_hours"),
               Call.queue_wait_seconds.label("wait"))
        .where(*_in_report(period, org_id), Call.outcome == "answered",
               Call.queue_wait_seconds.is_not(None))
        .subquery("answered")
    )
    group = (base.c.key, base.c.in_hours)
    ranked = select(
        base.c.key, base.c.in_hours, base.c.wait,
        func.row_number().over(partition_by=group, order_by=base.c.wait).label("rn"),
        func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")
    lo = (ranked.c.n - 1) * 9 // 10
    frac = ((ranked.c.n - 1) * 9 % 10) / literal(10.0)
    low = func.max(case((ranked.c.rn == lo + 1, ranked.c.wait)))
    high = func.coalesce(func.max(case((ranked.c.rn == lo + 2, ranked.c.wait))), low)
    return (
        select(ranked.c.key, ranked.c.in_hours, low + func.max(frac) * (high - low))
        .where(ranked.c.rn.in_([lo + 1, lo + 2]))
        .group_by(ranked.c.key, ranked.c.in_hours)
    )


def _stats_query(hours: Table, dim: Dimension, period: Period, org_id: int | None,
                 level2_queues: Sequence[str], dialect: str, native_p90: bool):  # noqa: ANN202
    answered = Call.outcome == "answered"
    abandoned = Call.outcome == "abandoned"
    wait = Call.queue_wait_seconds

    def n(cond: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    def avg_if(cond: ColumnElement, value: ColumnElement) -> ColumnElement:
        return func.avg(case((cond, value)))

    in_hours = _in_hours(hours)
    to_level2 = exists().where(CallTransfer.call_id == Call.id,
                               CallTransfer.to_queue.in_(list(level2_queues)))
    if native_p90:
        p90 = func.percentile_cont(0.9).within_group(case((answered, wait)))
    else:
        p90 = literal(None)  # filled from _p90_query
    delays = _callback_delays(hours, period, dialect)
    key = _dimension(dim, period, dialect).label("key")
    flag = case((in_hours, True), else_=False).label("in_hours")
    stmt = (
        select(
            key, flag, func.count(Call.id), n(answered), n(abandoned), avg_if(abandoned, wait),
            n(and_(answered, wait <= 20)), n(and_(answered, wait <= 60)),
            avg_if(answered, wait), p90, avg_if(answered, Call.talk_seconds), n(to_level2),
            n(Call.outcome == "secretary"), func.count(delays.c.call_id), func.avg(delays.c.seconds),
        )
        .outerjoin(delays, delays.c.call_id == Call.id)
        .where(*_in_report(period, org_id))
        .group_by(key, flag)
        .order_by(key, flag.desc())
    )
    return stmt


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


async def call_stats(
    session: AsyncSession,
    actor: Actor,
    period: Period,
    hours: Sequence[HoursInterval],
    *,
    dimension: Dimension = Dimension.TOTAL,
    organization_id: int | None = None,
    level2_queues: Sequence[str] = (),
    portable_p90: bool | None = None,
) -> list[CallStats]:
    """The call figures of the period by `dimension`, split by in/out of working hours.

    `portable_p90`: compute the 90th-percentile wait with window functions even where the
    database has percentile_cont (None: percentile_cont on PostgreSQL, windows elsewhere).
    """
    scope = report_scope(actor, organization_id)
    dialect = session.bind.dialect.name
    native_p90 = dialect == "postgresql" if portable_p90 is None else not portable_p90
    table = _hours_table()
    conn = await session.connection()
    await without_jit(conn)
    await conn.run_sync(table.create)
    try:
        if hours:
            await conn.execute(table.insert(), [
                {"line_number": h.line, "start_at": h.start, "end_at": h.end} for h in hours
            ])
        dim = Dimension(dimension)
        stmt = _stats_query(table, dim, period, scope, level2_queues, dialect, native_p90)
        rows = (await conn.execute(stmt)).all()
        p90s: dict[tuple[Any, bool], Any] = {}
        if not native_p90:
            p90_rows = await conn.execute(_p90_query(table, dim, period, scope, dialect))
            p90s = {(key, bool(flag)): value for key, flag, value in p90_rows.all()}
    finally:
        await conn.run_sync(table.drop)
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "calls",
                       {"period": period.label, "organization_id": scope, "by": str(dimension)})
    return [
        CallStats(
            key=r[0], in_hours=bool(r[1]), offered=int(r[2]), answered=int(r[3]),
            abandoned=int(r[4]), abandoned_wait_avg=_float(r[5]), answered_20s=int(r[6]),
            answered_60s=int(r[7]), wait_avg=_float(r[8]),
            wait_p90=_float(r[9] if native_p90 else p90s.get((r[0], bool(r[1])))),
            talk_avg=_float(r[10]), transferred_l2=int(r[11]), secretary=int(r[12]),
            called_back=int(r[13]), callback_delay_avg=_float(r[14]),
        )
        for r in rows
    ]
