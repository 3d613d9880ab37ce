"""Call statistics of the lines against their working hours, one SQL aggregation.

Which moments are working hours is not the journal's knowledge: the caller passes the
operator intervals of each line for the period (`HoursInterval`, from the line's schedule and
the production calendar). They are loaded into a temporary table and joined, so the whole
report stays in SQL. Each call's facts (its keys, in or out of working hours, transferred to
level 2, how soon it was called back) are gathered once per report into a second temporary
table; every section (total, line, organization, operator, hour, weekday) is one GROUP BY
over it.

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
  floor(p) and floor(p) + 1. Both backends compute it the same portable way, from a histogram
  of the waits (whole seconds) with window sums (`_p90_query`): the same number as
  percentile_cont (a test checks it on PostgreSQL), without sorting every call of the period.
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
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
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
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import Call, CallbackStatus, CallbackTask, CallTransfer
from journal.reports.period import Period
from journal.reports.sql import tune_for_report
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


def _in_report(period: Period, org_id: int | None) -> list[ColumnElement]:
    """The incoming calls of the period (of one organization when `org_id` is given)."""
    conditions = [Call.direction == "in", Call.started_at >= period.start,
                  Call.started_at < period.end]
    if org_id is not None:
        conditions.append(Call.organization_id == org_id)
    return conditions


def _facts_table() -> Table:
    """One row per call of the report with every key and figure the sections group by.

    The expensive parts of a call's facts (is it in working hours, was it transferred to
    level 2, how soon was it called back) are computed once per report, not once per section.
    """
    return Table(
        f"tmp_report_calls_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("line_number", String(20)),
        Column("organization_id", BigInteger),
        Column("operator_id", BigInteger),
        Column("hour", Integer),
        Column("weekday", Integer),
        Column("in_hours", Boolean),
        Column("outcome", String(16)),
        Column("wait", Integer),
        Column("talk", Integer),
        Column("to_level2", Integer),
        Column("callback_delay", Float),
        prefixes=["TEMPORARY"],
    )


def _facts_query(hours: Table, period: Period, org_id: int | None,
                 level2_queues: Sequence[str], dialect: str):  # noqa: ANN202
    # A transfer happens after its call started: only the period's transfers (and a day
    # after, for a call still going at the end) can be one of the period's calls'.
    to_level2 = exists().where(CallTransfer.call_id == Call.id,
                               CallTransfer.to_queue.in_(list(level2_queues)),
                               CallTransfer.at >= period.start,
                               CallTransfer.at < period.end + timedelta(days=1))
    delays = _callback_delays(hours, period, dialect)
    # The operator interval the call started in, if any: a line's intervals never overlap
    # (hotline.schedule merges them), so a call joins at most one.
    interval = hours.alias("interval")
    return (
        select(
            Call.line_number, Call.organization_id, Call.answered_by_id,
            _dimension(Dimension.HOUR, period, dialect), _dimension(Dimension.WEEKDAY, period, dialect),
            interval.c.line_number.is_not(None), Call.outcome, Call.queue_wait_seconds,
            Call.talk_seconds, case((to_level2, 1), else_=0), delays.c.seconds,
        )
        .outerjoin(interval, and_(interval.c.line_number == Call.line_number,
                                  interval.c.start_at <= Call.started_at,
                                  interval.c.end_at > Call.started_at))
        .outerjoin(delays, delays.c.call_id == Call.id)
        .where(*_in_report(period, org_id))
    )


FACT_KEYS = {
    Dimension.LINE: "line_number", Dimension.ORGANIZATION: "organization_id",
    Dimension.OPERATOR: "operator_id", Dimension.HOUR: "hour", Dimension.WEEKDAY: "weekday",
}


def _key(facts: Table, dim: Dimension) -> ColumnElement:
    return literal("all") if dim == Dimension.TOTAL else facts.c[FACT_KEYS[dim]]


def _p90_query(facts: Table, dim: Dimension):  # noqa: ANN202
    """percentile_cont(0.9) of the answered calls' waits per group, in portable SQL.

    Waits are whole seconds, so each group's waits are first counted per value (a histogram
    of a few hundred rows, however many calls) and running totals taken over it in order.
    With n waits, position p = 0.9 * (n - 1) from 0, i.e. 9 * (n - 1) / 10: in integers,
    floor(p) is lo = 9 * (n - 1) // 10 and its fraction (9 * (n - 1) % 10) / 10, so nothing is
    lost to floats. The wait at index i is the smallest whose running total exceeds i; the
    p90 is the wait at lo plus the fraction of the step to the wait at lo + 1 (none past the
    last wait: then the wait at lo itself).
    """
    key = _key(facts, dim).label("key")
    histogram = (
        select(key, facts.c.in_hours, facts.c.wait, func.count().label("n"))
        .where(facts.c.outcome == "answered", facts.c.wait.is_not(None))
        .group_by(key, facts.c.in_hours, facts.c.wait)
        .subquery("histogram")
    )
    group = (histogram.c.key, histogram.c.in_hours)
    running = select(
        histogram.c.key, histogram.c.in_hours, histogram.c.wait,
        func.sum(histogram.c.n).over(partition_by=group, order_by=histogram.c.wait).label("upto"),
        func.sum(histogram.c.n).over(partition_by=group).label("total"),
    ).subquery("running")
    total = cast(running.c.total, Integer)
    lo = (total - 1) * 9 // 10
    frac = ((total - 1) * 9 % 10) / literal(10.0)
    low = func.min(case((running.c.upto >= lo + 1, running.c.wait)))
    high = func.coalesce(func.min(case((running.c.upto >= lo + 2, running.c.wait))), low)
    return (
        select(running.c.key, running.c.in_hours, low + func.max(frac) * (high - low))
        .group_by(running.c.key, running.c.in_hours)
    )


def _stats_query(facts: Table, dim: Dimension, native_p90: bool):  # noqa: ANN202
    f = facts.c
    answered = f.outcome == "answered"
    abandoned = f.outcome == "abandoned"

    def n(cond: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    def avg_if(cond: ColumnElement, value: ColumnElement) -> ColumnElement:
        return func.avg(case((cond, value)))

    if native_p90:
        p90 = func.percentile_cont(0.9).within_group(case((answered, f.wait)))
    else:
        p90 = literal(None)  # filled from _p90_query
    key = _key(facts, dim).label("key")
    return (
        select(
            key, f.in_hours, func.count(), n(answered), n(abandoned), avg_if(abandoned, f.wait),
            n(and_(answered, f.wait <= 20)), n(and_(answered, f.wait <= 60)),
            avg_if(answered, f.wait), p90, avg_if(answered, f.talk), func.sum(f.to_level2),
            n(f.outcome == "secretary"), func.count(f.callback_delay), func.avg(f.callback_delay),
        )
        .group_by(key, f.in_hours)
        .order_by(key, f.in_hours.desc())
    )


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


async def call_sections(
    session: AsyncSession,
    actor: Actor,
    period: Period,
    hours: Sequence[HoursInterval],
    dimensions: Sequence[Dimension],
    *,
    organization_id: int | None = None,
    level2_queues: Sequence[str] = (),
    portable_p90: bool = True,
) -> dict[Dimension, list[CallStats]]:
    """The call figures of the period by each of `dimensions`, split by in/out of working hours.

    The calls' facts are gathered once into a temporary table; each section is one GROUP BY
    over it. `portable_p90=False` computes the 90th-percentile wait with PostgreSQL's own
    percentile_cont instead of the portable histogram (to check one against the other).
    """
    scope = report_scope(actor, organization_id)
    dialect = session.bind.dialect.name
    native_p90 = portable_p90 is False
    hours_table, facts = _hours_table(), _facts_table()
    conn = await session.connection()
    await tune_for_report(conn)
    await conn.run_sync(hours_table.create)
    await conn.run_sync(facts.create)
    sections: dict[Dimension, list[CallStats]] = {}
    try:
        if hours:
            await conn.execute(hours_table.insert(), [
                {"line_number": h.line, "start_at": h.start, "end_at": h.end} for h in hours
            ])
        await conn.execute(facts.insert().from_select(
            [c.name for c in facts.columns],
            _facts_query(hours_table, period, scope, level2_queues, dialect)))
        if dialect == "postgresql":
            await conn.execute(text(f"ANALYZE {facts.name}"))  # temporary tables get no autovacuum
        for dim in map(Dimension, dimensions):
            rows = (await conn.execute(_stats_query(facts, dim, native_p90))).all()
            p90s: dict[tuple[Any, bool], Any] = {}
            if not native_p90:
                p90_rows = await conn.execute(_p90_query(facts, dim))
                p90s = {(key, bool(flag)): value for key, flag, value in p90_rows.all()}
            sections[dim] = [_stats(r, r[9] if native_p90 else p90s.get((r[0], bool(r[1]))))
                             for r in rows]
    finally:
        await conn.run_sync(facts.drop)
        await conn.run_sync(hours_table.drop)
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "calls", {
        "period": period.label, "organization_id": scope, "by": [str(d) for d in sections]})
    return sections


def _stats(r: Any, p90: Any) -> CallStats:
    return CallStats(
        key=r[0], in_hours=bool(r[1]), offered=int(r[2]), answered=int(r[3]),
        abandoned=int(r[4]), abandoned_wait_avg=_float(r[5]), answered_20s=int(r[6]),
        answered_60s=int(r[7]), wait_avg=_float(r[8]), wait_p90=_float(p90),
        talk_avg=_float(r[10]), transferred_l2=int(r[11] or 0), secretary=int(r[12]),
        called_back=int(r[13]), callback_delay_avg=_float(r[14]),
    )


async def call_stats(
    session: AsyncSession,
    actor: Actor,
    period: Period,
    hours: Sequence[HoursInterval],
    *,
    dimension: Dimension = Dimension.TOTAL,
    organization_id: int | None = None,
    level2_queues: Sequence[str] = (),
    portable_p90: bool = True,
) -> list[CallStats]:
    """The call figures of the period by one `dimension` (see `call_sections`)."""
    sections = await call_sections(
        session, actor, period, hours, [dimension], organization_id=organization_id,
        level2_queues=level2_queues, portable_p90=portable_p90)
    return sections[Dimension(dimension)]
