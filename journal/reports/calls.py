"""Call statistics of the lines against their working hours, one SQL aggregation.

Which moments are working hours is not the journal's knowledge: the caller passes the
operator intervals of each line for the period (`HoursInterval`, from the line's schedule and
the production calendar). They are loaded into a temporary table and joined, so the whole
report stays in SQL.

A quarter has some 750,000 calls, and reading each of them took about 5 s, so the days that
have fully passed come from a daily roll-up (`call_rollup`: the sums of each report key per
local day; `call_rollup_waits`: the answered waits counted per second, per section's key and
organization, what the exact 90th percentile needs). `roll_up_calls` builds a day from the
same per-call facts the report gathers for the rest of the period (today), so both give the
same numbers; the service rolls up each night (hotline.reports.rollup) and a report builds any
passed day of its period still missing first. A day's roll-up is used only while it is valid:
its `fingerprint` matches the report's working hours, level-2 queues and zone, and no call of
the day (or transfer of one) changed since it was built. Database triggers (migration 0007)
write a mark with the `started_at` of every such change, whoever made it (the writer replaying
its spool, a call across midnight ended the next day, a script); building a day deletes its
marks before reading its calls.

The callbacks are rolled up too (`call_rollup_callbacks`, migration 0013), although they are
made after their message's day and their delay counts the working hours of the report's own
period: a message's delay is W(callback) - W(message), W(t) being its line's working time of
the period up to t, i.e. the whole days of the period before t's day plus the working time
of t's own day before t. The second part depends on t's day alone, so each day keeps it
summed per report key for the moments that fall on it: its called-back messages (with how
many were called back after the day) and the first done callbacks of their cards (with their
messages' day and keys). The report adds the first part from its own hours, per line and day
(_callback_sums_query). A done callback changed, added or removed marks the moments of its
card's messages and done callbacks (migration 0013's triggers); a day built with changed
messages marks the days of their cards' first done callbacks (_build_day).

A year's report would still read 365 days of roll-up rows, so the calendar months of the
rolled-up part of a period (the current one so far) are added up once more
(`call_rollup_month_sums`, `call_rollup_month_waits`, migration 0010). A month is used while
it spans the days the report needs and they are the ones it was built from (its `signature`:
the span's end, each day's fingerprint and built_at); a day built again (changed calls, other
working hours) or a longer span makes the report build the month again from its days.
The callbacks rows are read per day (a year has some 80,000).

Every section (total, line, organization, operator, hour, weekday) is one GROUP BY over the
roll-up's sums (read in place) and the report's own (a temporary table: today's calls, the
callbacks).

Definitions (incoming calls whose `started_at` falls in the period; a call that spans
midnight or the end of the period counts once, on the day and hour it started):
- offered: every incoming call; in_hours: it started inside an operator interval of its line;
  calls outside working hours are reported in their own rows (`in_hours` false).
- answered / abandoned / secretary: by `outcome`; abandoned_wait_avg is the queue wait before
  hanging up. in_progress: not ended yet (always from the calls); the rest of the offered
  calls (`CallStats.other`) ended before any queue or were lost by the tracker, so the parts
  always add up to the offered calls.
- operators: a call is keyed by the operator whose account the journal credited with it
  (`answered_by_id`); one answered at a phone with no account credited (none bound to the
  phone, or one of another organization's: hotline.calls.store) by that phone
  (`CallStats.phone`, the report key `phone`, migration 0016), so that the row with neither
  holds only the calls nobody answered. The other sections add the phones up.
- answered_20s / answered_60s: answered with a queue wait of at most 20 / 60 seconds.
- wait_avg, talk_avg: answered calls. wait_p90: the 90th percentile of the answered calls'
  waits as PostgreSQL's `percentile_cont(0.9)` defines it: with the n waits sorted, the value
  at position p = 0.9 * (n - 1) (counting from 0), interpolated linearly between the waits at
  floor(p) and floor(p) + 1. Both backends compute it the same portable way, from a histogram
  of the waits (whole seconds) with window sums (`_p90_query`): the same number as
  percentile_cont (a test checks it on PostgreSQL), without sorting every call of the period.
- transferred_l2: calls with a transfer to one of the level-2 queues given.
- called_back: secretary messages whose card got a done callback; callback_delay_avg: the
  working-hours seconds (of the line's operator intervals in the period) from the message to
  its card's first done callback (computed in whole microseconds, so the roll-up and the raw
  calls add up to the same number).
Hours and weekdays are local to `zone`; on SQLite the zone's offset at the period start is
used (Russian zones keep no daylight saving time).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    FromClause,
    Index,
    Integer,
    MetaData,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    Subquery,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import QueryableAttribute

from journal import audit
from journal.access import report_scope
from journal.actors import Actor
from journal.models import (
    Call,
    CallbackStatus,
    CallbackTask,
    CallRollup,
    CallRollupCallback,
    CallRollupDay,
    CallRollupMark,
    CallRollupMessage,
    CallRollupMonth,
    CallRollupMonthSum,
    CallRollupMonthWait,
    CallRollupWait,
    CallTransfer,
)
from journal.reports.period import Period
from journal.reports.sql import tune_for_report
from journal.types import UTCDateTime
from journal.clock import utc_now


# pg_advisory_xact_lock(ROLLUP_LOCK, day) keeps two builders of one day's roll-up apart.
ROLLUP_LOCK = 7007
# How many times a report (or the job) looks again for stale days after building some.
ROLLUP_ROUNDS = 3


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
    # Calls not ended yet (outcome `in_progress`: in the IVR, queued, ringing or talking).
    in_progress: int = 0
    # The operators' section only: a row of the calls answered at this phone ("PJSIP/op102")
    # with no operator's account credited (`key` None). A row with neither key nor phone is
    # of the calls nobody answered.
    phone: str | None = None

    @property
    def other(self) -> int:
        """Ended otherwise: hung up before any queue (`unanswered`) or lost by the tracker
        (`interrupted`), so that offered = answered + abandoned + secretary + in_progress +
        other."""
        return self.offered - self.answered - self.abandoned - self.secretary - self.in_progress


def _hours_table() -> Table:
    """A temporary table of a unique name (one per report, dropped afterwards).

    A line's intervals never overlap (hotline.modes.schedule merges them), so the interval a moment
    falls in, if any, is the line's last one starting at or before it: one probe of the index,
    however many intervals a year has (a range join compared every call with every interval
    of its line). The callback delays use _day_hours_table.
    """
    name = f"tmp_report_hours_{uuid.uuid4().hex[:10]}"
    return Table(
        name,
        MetaData(),
        Column("line_number", String(20)),
        Column("start_at", UTCDateTime()),
        Column("end_at", UTCDateTime()),
        Index(f"{name}_line_start", "line_number", "start_at"),
        prefixes=["TEMPORARY"],
    )


def _last_interval(hours: Table, line: SQLColumnExpression[Any], at: SQLColumnExpression[Any],
                   *columns: ColumnElement[Any]) -> ScalarSelect[Any]:
    """A scalar subquery over the line's last operator interval starting at or before `at`."""
    return (
        select(*columns)
        .where(hours.c.line_number == line, hours.c.start_at <= at)
        .order_by(hours.c.start_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _in_hours(hours: Table, line: SQLColumnExpression[Any], at: SQLColumnExpression[Any]
              ) -> ColumnElement[Any]:
    """Whether `at` falls inside one of the line's operator intervals."""
    return func.coalesce(_last_interval(hours, line, at, hours.c.end_at > at), False)


MICROSECOND = timedelta(microseconds=1)


def _day_hours_table() -> Table:
    """A temporary table of the lines' operator intervals cut at the zone's midnights, for the
    callback delays: each piece with the working microseconds of its local day before it
    (`before`) and the end of that day. The working time of a day up to a moment is
    before + (moment - start) of the line's last piece starting at or before it, if that
    piece is of the moment's day (the moment before `day_end`), none otherwise: one probe of
    the index per moment (_worked_in_day), as for _hours_table."""
    name = f"tmp_report_dayhours_{uuid.uuid4().hex[:10]}"
    return Table(
        name, MetaData(),
        Column("line_number", String(20)), Column("start_at", UTCDateTime()),
        Column("end_at", UTCDateTime()), Column("day_end", UTCDateTime()),
        Column("before", BigInteger),
        Index(f"{name}_line_start", "line_number", "start_at"),
        prefixes=["TEMPORARY"],
    )


def _cum_table() -> Table:
    """The working microseconds of each line from the report's start to each of its local
    days (and to its end: the row of `after`), for the callback delays."""
    return Table(
        f"tmp_report_cum_{uuid.uuid4().hex[:10]}", MetaData(),
        Column("line_number", String(20)), Column("day", Date), Column("cum", BigInteger),
        prefixes=["TEMPORARY"],
    )


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """The local days overlapping [start, end), with their bounds (UTC)."""
    day, days = start.astimezone(zone).date(), []
    while (bounds := day_span(day, zone))[0] < end:
        days.append((day, *bounds))
        day += timedelta(days=1)
    return days


@dataclass(frozen=True, slots=True)
class _DayHours:
    """The rows of _day_hours_table and each line's working microseconds per local day."""

    rows: list[dict[str, Any]]
    per_day: dict[tuple[str, date], int]


def _day_hours(hours: Sequence[HoursInterval], zone: ZoneInfo) -> _DayHours:
    rows: list[dict[str, Any]] = []
    per_day: defaultdict[tuple[str, date], int] = defaultdict(int)
    for h in sorted(hours, key=lambda h: (h.line, h.start)):
        for day, day_start, day_end in _local_days(h.start, h.end, zone):
            start, end = max(h.start, day_start), min(h.end, day_end)
            if start < end:
                rows.append({"line_number": h.line, "start_at": start, "end_at": end,
                             "day_end": day_end, "before": per_day[h.line, day]})
                per_day[h.line, day] += (end - start) // MICROSECOND
    return _DayHours(rows, dict(per_day))


def _cum_rows(day_hours: _DayHours, period: Period) -> list[dict[str, Any]]:
    rows = []
    for line in sorted({line for line, _ in day_hours.per_day}):
        cum = 0
        for day in _days(period.first, period.after + timedelta(days=1)):
            rows.append({"line_number": line, "day": day, "cum": cum})
            cum += day_hours.per_day.get((line, day), 0)
    return rows


def _least(a: ColumnElement[Any], b: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    return func.least(a, b) if dialect == "postgresql" else func.min(a, b)


def _micros(later: ColumnElement[Any], earlier: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Whole microseconds from `earlier` to `later` (exact on PostgreSQL)."""
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier) * 1000000, BigInteger)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400000000.0),
                BigInteger)


def _worked_in_day(day_hours: Table, line: ColumnElement[Any], at: ColumnElement[Any],
                   dialect: str) -> ColumnElement[Any]:
    """The line's working microseconds of the local day of `at` before `at`."""
    h = day_hours.c
    value = case((at < h.day_end, h.before + _micros(_least(at, h.end_at, dialect), h.start_at,
                                                     dialect)), else_=0)
    return func.coalesce(
        select(value).where(h.line_number == line, h.start_at <= at)
        .order_by(h.start_at.desc()).limit(1).scalar_subquery(), 0)


def _local_date(at: SQLColumnExpression[Any], span: _Span, dialect: str) -> ColumnElement[Any]:
    """The local day of a moment (on SQLite with the zone's offset at the span's start)."""
    if dialect == "postgresql":
        return cast(func.timezone(span.zone.key, at), Date)
    return func.date(at, f"{span.offset_hours:+g} hours")


def _local_part(part: str, zone_name: str, offset_hours: float, dialect: str) -> ColumnElement[Any]:
    """The local hour (0-23) or ISO weekday (1-7) of the call's start."""
    if dialect == "postgresql":
        local = func.timezone(zone_name, Call.started_at)
        return cast(extract("hour" if part == "hour" else "isodow", local), Integer)
    shifted = func.datetime(Call.started_at, f"{offset_hours:+g} hours")
    if part == "hour":
        return cast(func.strftime("%H", shifted), Integer)
    return (cast(func.strftime("%w", shifted), Integer) + 6) % 7 + 1


@dataclass(frozen=True, slots=True)
class _Span:
    """A stretch of calls gathered from the raw table: UTC bounds and the local clock's offset
    there (what SQLite uses for the local hour and weekday)."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def offset_hours(self) -> float:
        offset = self.start.astimezone(self.zone).utcoffset()
        return offset.total_seconds() / 3600 if offset is not None else 0.0


def _in_span(span: _Span, org_id: int | None) -> list[ColumnElement[Any]]:
    """The incoming calls that started in the span (of one organization when `org_id` is given)."""
    conditions = [Call.direction == "in", Call.started_at >= span.start, Call.started_at < span.end]
    if org_id is not None:
        conditions.append(Call.organization_id == org_id)
    return conditions


def _facts_table() -> Table:
    """One row per call of the raw part of a report (or of a day being rolled up) with every
    key and figure the sections group by.

    The expensive parts of a call's facts (is it in working hours, was it transferred to
    level 2) are computed once, not once per section.
    """
    return Table(
        f"tmp_report_calls_{uuid.uuid4().hex[:10]}",
        MetaData(),
        *[Column(name, type_) for name, type_ in _KEY_COLUMNS],
        Column("outcome", String(16)),
        Column("wait", Integer),
        Column("talk", Integer),
        Column("to_level2", Integer),
        prefixes=["TEMPORARY"],
    )


_KEY_COLUMNS = (
    ("line_number", String(20)), ("organization_id", BigInteger), ("operator_id", BigInteger),
    ("hour", Integer), ("weekday", Integer), ("in_hours", Boolean), ("phone", String(80)),
)
KEYS = tuple(name for name, _ in _KEY_COLUMNS)
# The sums of the roll-up (journal.models.CallRollup), in order.
SUMS = (
    "offered", "answered", "abandoned", "abandoned_wait_sum", "abandoned_wait_n", "answered_20s",
    "answered_60s", "wait_sum", "wait_n", "talk_sum", "talk_n", "transferred_l2", "secretary",
)


def _sums_table() -> Table:
    """The report's sums per key: from the roll-up for rolled-up days, from the raw calls for
    the rest, and the callbacks of the whole period in rows of their own."""
    return Table(
        f"tmp_report_sums_{uuid.uuid4().hex[:10]}",
        MetaData(),
        *[Column(name, type_) for name, type_ in _KEY_COLUMNS],
        *[Column(name, BigInteger) for name in SUMS],
        Column("called_back", Integer),
        Column("callback_delay_sum", BigInteger),  # microseconds
        Column("in_progress", Integer),
        prefixes=["TEMPORARY"],
    )


def _waits_table() -> Table:
    """The answered waits counted per second, per section's key (like CallRollupWait)."""
    return Table(
        f"tmp_report_waits_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("dimension", String(16)),
        Column("organization_id", BigInteger),
        Column("line_number", String(20)),
        Column("key", BigInteger),
        Column("in_hours", Boolean),
        Column("phone", String(80)),
        Column("wait", Integer),
        Column("n", BigInteger),
        prefixes=["TEMPORARY"],
    )


def _call_keys(hours: Table, span: _Span, dialect: str
               ) -> list[ColumnElement[Any] | QueryableAttribute[Any]]:
    """A call's report keys, in the order of KEYS."""
    offset = span.offset_hours
    return [
        Call.line_number, Call.organization_id, Call.answered_by_id,
        _local_part("hour", span.zone.key, offset, dialect),
        _local_part("weekday", span.zone.key, offset, dialect),
        _in_hours(hours, Call.line_number, Call.started_at),
        answering_phone(),
    ]


def answering_phone() -> ColumnElement[Any]:
    """The phone that answered the call when no operator's account is credited with it (none
    bound to the phone, or one of another organization's: hotline.calls.store), else NULL:
    the operators' section counts such a call in a row of that phone."""
    return case((Call.answered_by_id.is_(None), Call.answered_interface), else_=None)


def _facts_query(hours: Table, span: _Span, org_id: int | None,
                 level2_queues: Sequence[str], dialect: str) -> Select[*tuple[Any, ...]]:
    # A transfer happens after its call started: only the span's transfers (and a day after,
    # for a call still going at its end) can be one of the span's calls'.
    to_level2 = exists().where(CallTransfer.call_id == Call.id,
                               CallTransfer.to_queue.in_(list(level2_queues)),
                               CallTransfer.at >= span.start,
                               CallTransfer.at < span.end + timedelta(days=1))
    return (
        select(*_call_keys(hours, span, dialect), Call.outcome, Call.queue_wait_seconds,
               Call.talk_seconds, case((to_level2, 1), else_=0))
        .where(*_in_span(span, org_id))
    )


MESSAGE_COLUMNS = ("call_id", "card_id", *KEYS, "started_at")


def _messages_table() -> Table:
    """The secretary messages of a report's raw part, like CallRollupMessage."""
    name = f"tmp_report_messages_{uuid.uuid4().hex[:10]}"
    return Table(
        name, MetaData(),
        Column("day", Date), Column("call_id", BigInteger), Column("card_id", BigInteger),
        *[Column(name_, type_) for name_, type_ in _KEY_COLUMNS],
        Column("started_at", UTCDateTime()),
        Index(f"{name}_card", "card_id"),
        prefixes=["TEMPORARY"],
    )


def _messages_query(hours: Table, span: _Span, org_id: int | None, dialect: str) -> Select[*tuple[Any, ...]]:
    """The secretary messages of the span with their local day and report keys
    ("day", *MESSAGE_COLUMNS)."""
    keys = [k.label(name) for k, name in zip(_call_keys(hours, span, dialect), KEYS, strict=True)]
    return select(_local_date(Call.started_at, span, dialect).label("day"),
                  Call.id.label("call_id"), Call.card_id.label("card_id"), *keys,
                  Call.started_at.label("started_at")).where(Call.outcome == "secretary",
                                                             *_in_span(span, org_id))


# The columns of CallRollupCallback (and of a report's own callbacks rows), in order.
CALLBACK_COLUMNS = ("day", "kind", "message_day", *KEYS, "n", "n_after", "worked")


def _first_done(card_ids: Any) -> Subquery:
    """Each card's first done callback (card_id, done_at), of the cards selected."""
    return (
        select(CallbackTask.card_id, func.min(CallbackTask.done_at).label("done_at"))
        .where(CallbackTask.status == CallbackStatus.DONE, CallbackTask.done_at.is_not(None),
               CallbackTask.card_id.in_(card_ids))
        .group_by(CallbackTask.card_id)
        .subquery("first_done")
    )


def _message_rows(messages: Any, day_hours: Table, span: _Span, dialect: str) -> Select[*tuple[Any, ...]]:
    """The callbacks rows (CALLBACK_COLUMNS) of kind "message" of the messages given (one
    day's or a report's raw part): per day and key the messages whose card has a done
    callback, those called back after their day, and the working microseconds of their day
    before each of them."""
    m = messages.c
    first = _first_done(select(m.card_id).where(m.card_id.is_not(None)))
    keys = [m[name] for name in KEYS]
    after = case((_local_date(first.c.done_at, span, dialect) > m.day, 1), else_=0)
    return (
        select(m.day, literal("message", String(8)), m.day, *keys, func.count(), func.sum(after),
               func.sum(_worked_in_day(day_hours, m.line_number, m.started_at, dialect)))
        .join_from(messages, first, first.c.card_id == m.card_id)
        .group_by(m.day, *keys)
    )


def _callback_rows(messages: Any, day_hours: Table, span: _Span, dialect: str) -> Select[*tuple[Any, ...]]:
    """The callbacks rows (CALLBACK_COLUMNS) of kind "callback" of the span's days: the cards
    of the messages given whose first done callback falls in the span, and per its day, their
    messages' day and key: how many messages and the working microseconds of that day before
    the callback."""
    done, earlier = CallbackTask.__table__.alias("done"), CallbackTask.__table__.alias("earlier")
    m = messages.c
    firsts = (
        select(done.c.card_id, func.min(done.c.done_at).label("done_at"))
        .where(done.c.status == CallbackStatus.DONE, done.c.done_at >= span.start,
               done.c.done_at < span.end,
               done.c.card_id.in_(select(m.card_id)),
               ~exists().where(earlier.c.card_id == done.c.card_id,
                               earlier.c.status == CallbackStatus.DONE,
                               earlier.c.done_at < span.start))
        .group_by(done.c.card_id)
        .subquery("firsts")
    )
    day = _local_date(firsts.c.done_at, span, dialect)
    keys = [m[name] for name in KEYS]
    return (
        select(day, literal("callback", String(8)), m.day, *keys, func.count(), literal(0),
               func.sum(_worked_in_day(day_hours, m.line_number, firsts.c.done_at, dialect)))
        .join_from(firsts, messages, m.card_id == firsts.c.card_id)
        .group_by(day, m.day, *keys)
    )


def _callback_sums_query(callbacks: Any, cum: Table, period: Period) -> Select[*tuple[Any, ...]]:
    """The period's called-back messages per key and the sum of their delays (microseconds).

    A message's delay is W(callback) - W(message), W(t) being its line's working time of the
    period up to t: the whole days of the period before t's day (`cum`, the report's own
    hours) plus the working time of t's day before t (`worked` of the rows, from that day's
    hours). A callback before the period adds nothing to W; one after it (a message called
    back after its day, whose callback is not in the rows of the period's days) adds the
    whole period (`cum` of `after`).
    """
    c = callbacks.c
    at_day, total = cum.alias("at_day"), cum.alias("total")
    message = c.kind == "message"
    moment = case((message, -1), else_=1) * (c.n * func.coalesce(at_day.c.cum, 0) + c.worked)
    after = (func.sum(case((message, c.n_after), else_=0))
             - func.sum(case((and_(c.kind == "callback", c.day > c.message_day), c.n), else_=0)))
    keys = [c[name] for name in KEYS]
    return (
        select(*keys, func.sum(case((message, c.n), else_=0)),
               func.sum(moment) + after * func.coalesce(func.max(total.c.cum), 0))
        .select_from(
            callbacks
            .outerjoin(at_day, and_(at_day.c.line_number == c.line_number, at_day.c.day == c.day))
            .outerjoin(total, and_(total.c.line_number == c.line_number,
                                   total.c.day == period.after)))
        .group_by(*keys)
    )


def _sums_query(facts: Table) -> Select[*tuple[Any, ...]]:
    """The sums of SUMS per key over per-call facts (a rolled-up day, or a report's raw part)."""
    f = facts.c
    answered, abandoned = f.outcome == "answered", f.outcome == "abandoned"

    def n(cond: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    def total(cond: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((cond, value))), 0)

    def counted(cond: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.count(case((cond, value)))

    keys = [f[name] for name in KEYS]
    return select(
        *keys, func.count(), n(answered), n(abandoned), total(abandoned, f.wait),
        counted(abandoned, f.wait), n(and_(answered, f.wait <= 20)), n(and_(answered, f.wait <= 60)),
        total(answered, f.wait), counted(answered, f.wait), total(answered, f.talk),
        counted(answered, f.talk), func.coalesce(func.sum(f.to_level2), 0),
        n(f.outcome == "secretary"),
    ).group_by(*keys)


def _in_progress_query(hours: Table, span: _Span, org_id: int | None, dialect: str) -> Select[*tuple[Any, ...]]:
    """The period's calls not ended yet, per key, from the calls themselves whether their day
    is rolled up or not (a call going on past midnight; its day is built again when it ends):
    the partial index ix_calls_in_progress holds only them, so no other call is read."""
    keys = _call_keys(hours, span, dialect)
    return (select(*keys, func.count())
            .where(Call.outcome == "in_progress", *_in_span(span, org_id))
            .group_by(*keys))


# Which columns of a wait histogram row carry each section's key.
_WAIT_KEY = {
    Dimension.TOTAL: None, Dimension.LINE: None, Dimension.ORGANIZATION: None,
    Dimension.OPERATOR: "operator_id", Dimension.HOUR: "hour", Dimension.WEEKDAY: "weekday",
}


def _waits_query(facts: Table, dim: Dimension) -> Select[*tuple[Any, ...]]:
    """The answered waits per second for one section, per organization (for the staff's reach)."""
    f = facts.c
    line = f.line_number if dim == Dimension.LINE else None
    key_name = _WAIT_KEY[dim]
    key = f[key_name] if key_name else None
    phone = f.phone if dim == Dimension.OPERATOR else None
    grouped = [c for c in (f.organization_id, line, key, f.in_hours, phone, f.wait)
               if c is not None]
    return (
        select(literal(str(dim), String(16)), f.organization_id,
               literal(None, String(20)) if line is None else line,
               literal(None, BigInteger) if key is None else key, f.in_hours,
               literal(None, String(80)) if phone is None else phone, f.wait, func.count())
        .where(f.outcome == "answered", f.wait.is_not(None))
        .group_by(*grouped)
    )


def _section_key(table: FromClause, dim: Dimension) -> ColumnElement[Any]:
    """The key of a section in the sums table (by KEYS) or the waits table (by _WAIT_KEY)."""
    if dim == Dimension.TOTAL:
        return literal("all")
    if dim in (Dimension.LINE, Dimension.ORGANIZATION):
        return table.c[FACT_KEYS[dim]]
    return table.c[FACT_KEYS[dim]] if "key" not in table.c else table.c.key


def _section_phone(table: Any, dim: Dimension) -> ColumnElement[Any]:
    """The answering phone of a row without an operator (the operators' section only: the
    others add every phone up)."""
    return table.c.phone if dim == Dimension.OPERATOR else literal(None, String(80))


FACT_KEYS = {
    Dimension.LINE: "line_number", Dimension.ORGANIZATION: "organization_id",
    Dimension.OPERATOR: "operator_id", Dimension.HOUR: "hour", Dimension.WEEKDAY: "weekday",
}


def _p90_query(waits: Any, dim: Dimension) -> Select[*tuple[Any, ...]]:
    """percentile_cont(0.9) of the answered calls' waits per group, in portable SQL.

    Waits are whole seconds, so each group's waits are counted per value (a histogram of a
    few hundred rows, however many calls: the roll-up keeps it per day) and running totals
    taken over it in order. With n waits, position p = 0.9 * (n - 1) from 0, i.e.
    9 * (n - 1) / 10: in integers, floor(p) is lo = 9 * (n - 1) // 10 and its fraction
    (9 * (n - 1) % 10) / 10, so nothing is lost to floats. The wait at index i is the smallest
    whose running total exceeds i; the p90 is the wait at lo plus the fraction of the step to
    the wait at lo + 1 (none past the last wait: then the wait at lo itself).
    """
    key = _section_key(waits, dim).label("key")
    phone = _section_phone(waits, dim).label("phone")
    histogram = (
        select(key, phone, waits.c.in_hours, waits.c.wait, func.sum(waits.c.n).label("n"))
        .where(waits.c.dimension == str(dim))
        .group_by(key, phone, waits.c.in_hours, waits.c.wait)
        .subquery("histogram")
    )
    group = (histogram.c.key, histogram.c.phone, histogram.c.in_hours)
    running = select(
        histogram.c.key, histogram.c.phone, histogram.c.in_hours, histogram.c.wait,
        func.sum(histogram.c.n).over(partition_by=group, order_by=histogram.c.wait).label("upto"),
        func.sum(histogram.c.n).over(partition_by=group).label("total"),
    ).subquery("running")
    total = cast(running.c.total, Integer)
    lo = (total - 1) * 9 // 10
    frac = ((total - 1) * 9 % 10) / literal(10.0)
    low = func.min(case((running.c.upto >= lo + 1, running.c.wait)))
    high = func.coalesce(func.min(case((running.c.upto >= lo + 2, running.c.wait))), low)
    return (
        select(running.c.key, running.c.phone, running.c.in_hours,
               low + func.max(frac) * (high - low))
        .group_by(running.c.key, running.c.phone, running.c.in_hours)
    )


def _native_p90_query(facts: Table, dim: Dimension) -> Select[*tuple[Any, ...]]:
    """PostgreSQL's own percentile_cont over the per-call facts (to check the portable form)."""
    f = facts.c
    key = literal("all") if dim == Dimension.TOTAL else f[FACT_KEYS[dim]]
    phone = _section_phone(facts, dim)
    return (
        select(key, phone, f.in_hours, func.percentile_cont(0.9).within_group(f.wait))
        .where(f.outcome == "answered", f.wait.is_not(None))
        .group_by(key, phone, f.in_hours)
    )


def _stats_query(sums: Any, dim: Dimension) -> Select[*tuple[Any, ...]]:
    s = sums.c

    def n(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(column), 0)

    def avg(total: ColumnElement[Any], count: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.sum(total) * literal(1.0) / func.nullif(func.sum(count), 0)

    key = _section_key(sums, dim).label("key")
    phone = _section_phone(sums, dim).label("phone")
    return (
        select(
            key, s.in_hours, n(s.offered), n(s.answered), n(s.abandoned),
            avg(s.abandoned_wait_sum, s.abandoned_wait_n), n(s.answered_20s),
            n(s.answered_60s), avg(s.wait_sum, s.wait_n), literal(None),
            avg(s.talk_sum, s.talk_n), n(s.transferred_l2), n(s.secretary), n(s.called_back),
            func.sum(s.callback_delay_sum) * literal(1.0)
            / func.nullif(func.sum(s.called_back), 0) / literal(1000000.0),
            n(s.in_progress), phone,
        )
        .group_by(key, phone, s.in_hours)
        .order_by(key, phone, s.in_hours.desc())
    )


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def day_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day's bounds, UTC."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def fingerprint(day: date, zone: ZoneInfo, hours: Sequence[HoursInterval],
                level2_queues: Sequence[str]) -> str:
    """What a day's roll-up depends on besides its calls: the lines' operator intervals within
    the day, the level-2 queues and the zone. A report given other working hours (a changed
    schedule or calendar) does not use a roll-up built with the old ones."""
    start, end = day_span(day, zone)
    within = sorted(
        (h.line, max(h.start, start).isoformat(), min(h.end, end).isoformat())
        for h in hours if h.start < end and h.end > start
    )
    text_ = repr((zone.key, within, sorted(level2_queues)))
    return hashlib.sha256(text_.encode()).hexdigest()


def _days(first: date, after: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((after - first).days)]


async def _stale_days(conn: AsyncConnection, days: Sequence[date], prints: dict[date, str]) -> list[date]:
    """The days with no roll-up, one built with other inputs, or a change since (a mark)."""
    if not days:
        return []
    marked = exists().where(CallRollupMark.started_at >= CallRollupDay.start_at,
                            CallRollupMark.started_at < CallRollupDay.end_at)
    rows = await conn.execute(
        select(CallRollupDay.day, CallRollupDay.fingerprint)
        .where(CallRollupDay.day >= days[0], CallRollupDay.day <= days[-1], ~marked))
    good = {day for day, print_ in rows.all() if prints.get(day) == print_}
    return [day for day in days if day not in good]


async def _build_day(conn: AsyncConnection, day: date, zone: ZoneInfo, print_: str,
                     hours: Table, day_hours: Table, facts: Table,
                     level2_queues: Sequence[str]) -> bool:
    """Roll up one day (all organizations) unless another report or the job just did.

    The day's marks are deleted before its calls are read (a later statement, so a later
    snapshot): a change committed after the delete keeps its mark and the day stays stale
    until built again; one committed before it is read. On PostgreSQL an advisory lock per day
    keeps two builders of the same day apart; SQLite writes one transaction at a time anyway.

    The day's callbacks rows are its called-back messages and the first done callbacks that
    fall on it, of the messages of any rolled-up day (CallRollupMessage). Those of another
    day hold this day's messages' keys, so when they change (a message added, moved, linked
    to another card or given other working hours) the day of their card's first done callback
    is marked, to be built again (_roll_up does it at once).
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK, day.toordinal())))
    if not await _stale_days(conn, [day], {day: print_}):
        return False
    start, end = day_span(day, zone)
    await conn.execute(delete(CallRollupMark).where(CallRollupMark.started_at >= start,
                                                    CallRollupMark.started_at < end))
    before = await _message_keys(conn, day)
    for model in (CallRollup, CallRollupWait, CallRollupMessage, CallRollupCallback, CallRollupDay):
        await conn.execute(delete(model).where(model.day == day))
    await _clear(conn, facts)
    await conn.execute(facts.insert().from_select(
        [c.name for c in facts.columns],
        _facts_query(hours, _Span(start, end, zone), None, level2_queues, dialect)))
    sums = _sums_query(facts).subquery()
    await conn.execute(insert(CallRollup).from_select(
        ["day", *KEYS, *SUMS], select(literal(day, Date), *sums.c)))
    for dim in Dimension:
        waits = _waits_query(facts, dim).subquery()
        await conn.execute(insert(CallRollupWait).from_select(
            ["day", *_WAIT_COLUMNS, "n"],
            select(literal(day, Date), *waits.c)))
    span = _Span(start, end, zone)
    await conn.execute(insert(CallRollupMessage).from_select(
        ["day", *MESSAGE_COLUMNS], _messages_query(hours, span, None, dialect)))
    changed = {r[1] for r in set(before) ^ set(await _message_keys(conn, day)) if r[1] is not None}
    if changed:
        await _mark_first_callbacks(conn, changed, start, end)
    mine = select(CallRollupMessage).where(CallRollupMessage.day == day).subquery("mine")
    await conn.execute(insert(CallRollupCallback).from_select(
        list(CALLBACK_COLUMNS), _message_rows(mine, day_hours, span, dialect)))
    await conn.execute(insert(CallRollupCallback).from_select(
        list(CALLBACK_COLUMNS),
        _callback_rows(CallRollupMessage.__table__, day_hours, span, dialect)))
    await conn.execute(insert(CallRollupDay).values(
        day=day, start_at=start, end_at=end, fingerprint=print_, built_at=utc_now()))
    return True


async def _message_keys(conn: AsyncConnection, day: date) -> list[tuple[Any, ...]]:
    """A rolled-up day's messages as they are stored: (call, card, keys..., started_at)."""
    m = CallRollupMessage.__table__.c
    return [tuple(r) for r in (await conn.execute(
        select(*[m[name] for name in MESSAGE_COLUMNS]).where(m.day == day))).all()]


async def _mark_first_callbacks(conn: AsyncConnection, cards: set[int], start: datetime,
                                end: datetime) -> None:
    """Mark the first done callback of each card given, unless it is in [start, end)."""
    first = func.min(CallbackTask.done_at)
    for chunk in _chunks(sorted(cards), 5000):
        await conn.execute(insert(CallRollupMark).from_select(
            ["started_at"],
            select(first)
            .where(CallbackTask.card_id.in_(chunk), CallbackTask.status == CallbackStatus.DONE,
                   CallbackTask.done_at.is_not(None))
            .group_by(CallbackTask.card_id)
            .having(or_(first < start, first >= end))))


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def _clear(conn: AsyncConnection, table: Table) -> None:
    """Empty a temporary table for its next use: TRUNCATE on PostgreSQL, where a DELETE
    would leave every row dead in it for the next day's scans (a year of days grew quadratic)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"TRUNCATE {table.name}"))
    else:
        await conn.execute(delete(table))


async def _insert_hours(conn: AsyncConnection, table: Table, hours: Sequence[HoursInterval]) -> None:
    """The lines' operator intervals (see _hours_table)."""
    rows = [{"line_number": h.line, "start_at": h.start, "end_at": h.end} for h in hours]
    if rows:
        await conn.execute(table.insert(), rows)
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"ANALYZE {table.name}"))


def _past_days(period: Period, now: datetime | None) -> date:
    """The first day of the period that has not fully passed at `now` (the roll-up's end)."""
    today = (now or utc_now()).astimezone(period.zone).date()
    return max(period.first, min(period.after, today))


async def roll_up_calls(
    session: AsyncSession,
    period: Period,
    hours: Sequence[HoursInterval],
    *,
    level2_queues: Sequence[str] = (),
    now: datetime | None = None,
) -> int:
    """Roll up every day of the period that has fully passed at `now` and has no valid roll-up
    (missing, built with other working hours, or changed since); return how many were built.

    Idempotent: the service's nightly job calls it for the last days, a report for its period.
    `hours` must cover the period (the lines' operator intervals, as for `call_sections`).
    """
    conn = await session.connection()
    hours_table, day_hours, facts = _hours_table(), _day_hours_table(), _facts_table()
    await tune_for_report(conn)
    for table in (hours_table, day_hours, facts):
        await conn.run_sync(table.create)
    try:
        await _insert_hours(conn, hours_table, hours)
        await _insert_rows(conn, day_hours, _day_hours(hours, period.zone).rows)
        built, _ = await _roll_up(conn, period, _past_days(period, now), hours, hours_table,
                                  day_hours, facts, level2_queues)
        return built
    finally:
        for table in (facts, day_hours, hours_table):
            await conn.run_sync(table.drop)


async def stale_call_days(
    session: AsyncSession,
    period: Period,
    hours: Sequence[HoursInterval],
    *,
    level2_queues: Sequence[str] = (),
    now: datetime | None = None,
) -> list[date]:
    """The days of the period that have passed at `now` and need rolling up (one query)."""
    days = _days(period.first, _past_days(period, now))
    prints = {day: fingerprint(day, period.zone, hours, level2_queues) for day in days}
    return await _stale_days(await session.connection(), days, prints)


async def _roll_up(conn: AsyncConnection, period: Period, cut: date,
                   hours: Sequence[HoursInterval], hours_table: Table, day_hours: Table,
                   facts: Table, level2_queues: Sequence[str]) -> tuple[int, list[tuple[date, date]]]:
    """Build the stale days of [first, cut), then the months of it whose days changed since;
    return how many days were built (once or more) and the months' spans that are valid now."""
    days = _days(period.first, cut)
    prints = {day: fingerprint(day, period.zone, hours, level2_queues) for day in days}
    built: set[date] = set()
    # A day built may mark others (its messages' callbacks, see _build_day): those are
    # built in the next round; building them marks nothing more unless the calls changed.
    for _ in range(ROLLUP_ROUNDS):
        stale = await _stale_days(conn, days, prints)
        if not stale:
            break
        for day in stale:
            if await _build_day(conn, day, period.zone, prints[day], hours_table, day_hours,
                                facts, level2_queues):
                built.add(day)
    valid, _ = await _roll_up_months(conn, _month_spans(period.first, cut))
    return len(built), valid


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_spans(first: date, cut: date) -> list[tuple[date, date]]:
    """The calendar months starting in [first, cut), each as [its first day, its end or
    `cut`): the whole months, and the month so far when it has a few days already."""
    month, spans = first if first.day == 1 else _next_month(first), []
    while month < cut:
        until = min(_next_month(month), cut)
        if (until - month).days >= 2:
            spans.append((month, until))
        month = _next_month(month)
    return spans


async def _month_signatures(conn: AsyncConnection,
                            spans: Sequence[tuple[date, date]]) -> dict[date, str]:
    """Each month's signature from its span's days as they are now: the hash of the span's
    end and every day's fingerprint and built_at. A month with a day not rolled up has none."""
    if not spans:
        return {}
    rows = await conn.execute(
        select(CallRollupDay.day, CallRollupDay.fingerprint, CallRollupDay.built_at)
        .where(CallRollupDay.day >= spans[0][0], CallRollupDay.day < spans[-1][1])
        .order_by(CallRollupDay.day))
    parts: dict[date, list[str]] = defaultdict(list)
    for day, print_, built_at in rows.all():
        parts[day.replace(day=1)].append(f"{day.isoformat()} {print_} {built_at.isoformat()}")
    signatures = {}
    for month, until in spans:
        days = [part for part in parts[month] if part < until.isoformat()]
        if len(days) == (until - month).days:
            text_ = "\n".join([f"until {until.isoformat()}", *days])
            signatures[month] = hashlib.sha256(text_.encode()).hexdigest()
    return signatures


async def _roll_up_months(conn: AsyncConnection, spans: Sequence[tuple[date, date]]
                          ) -> tuple[list[tuple[date, date]], int]:
    """Build the months whose span or days changed since they were built (or never built);
    return the spans valid now and how many were built. A month whose days are being built
    by another transaction is left to the next report (its days are read instead), as is a
    month with a day not rolled up."""
    if not spans:
        return [], 0
    current = await _month_signatures(conn, spans)
    stored = dict((await conn.execute(
        select(CallRollupMonth.month, CallRollupMonth.signature)
        .where(CallRollupMonth.month.in_(list(current))))).all()) if current else {}
    valid, built = [], 0
    for month, until in spans:
        if month not in current:
            continue
        if stored.get(month) == current[month]:
            valid.append((month, until))
        elif await _build_month(conn, month, until):
            valid.append((month, until))
            built += 1
    return valid, built


async def roll_up_call_months(session: AsyncSession, period: Period, *,
                              now: datetime | None = None) -> int:
    """Build the monthly layer of the months in the period's passed days (the current one
    so far) whose days have all been rolled up and changed since (or were never added up);
    return how many were built. Idempotent, like roll_up_calls (which does it too)."""
    conn = await session.connection()
    await tune_for_report(conn)
    _, built = await _roll_up_months(conn, _month_spans(period.first, _past_days(period, now)))
    return built


async def _build_month(conn: AsyncConnection, month: date, until: date) -> bool:
    """Add up a month's rolled-up days [month, until) into its own rows (replacing those of
    an earlier span); False if it cannot be now.

    On PostgreSQL the month holds the advisory lock of each of its days (as a day's builder
    does), so no day of it changes while it is read and until this transaction ends; taken
    without waiting (a day's builder holding one of them, the month is not built now), so two
    transactions never wait for each other's days. SQLite writes one transaction at a time.
    """
    if conn.dialect.name == "postgresql":
        locked = await conn.scalar(
            text("SELECT bool_and(pg_try_advisory_xact_lock(CAST(:lock AS integer), d))"
                 " FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS d"),
            {"lock": ROLLUP_LOCK, "first": month.toordinal(), "last": until.toordinal() - 1})
        if not locked:
            return False
    signature = (await _month_signatures(conn, [(month, until)])).get(month)
    if signature is None:
        return False
    for model in (CallRollupMonthSum, CallRollupMonthWait, CallRollupMonth):
        await conn.execute(delete(model).where(model.month == month))
    rolled = CallRollup.__table__.c
    keys = [rolled[name] for name in KEYS]
    await conn.execute(insert(CallRollupMonthSum).from_select(
        ["month", *KEYS, *SUMS],
        select(literal(month, Date), *keys, *[func.sum(rolled[name]) for name in SUMS])
        .where(rolled.day >= month, rolled.day < until).group_by(*keys)))
    waits = CallRollupWait.__table__.c
    wait_keys = [waits[name] for name in _WAIT_COLUMNS]
    await conn.execute(insert(CallRollupMonthWait).from_select(
        ["month", *_WAIT_COLUMNS, "n"],
        select(literal(month, Date), *wait_keys, func.sum(waits.n))
        .where(waits.day >= month, waits.day < until).group_by(*wait_keys)))
    await conn.execute(insert(CallRollupMonth).values(
        month=month, signature=signature, built_at=utc_now()))
    return True


_WAIT_COLUMNS = ("dimension", "organization_id", "line_number", "key", "in_hours", "phone",
                 "wait")


def _outside_months(first: date, cut: date,
                    spans: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """The days of [first, cut) not in the months' spans given, as ranges [start, end)."""
    ranges, start = [], first
    for month, until in sorted(spans):
        if start < month:
            ranges.append((start, month))
        start = until
    if start < cut:
        ranges.append((start, cut))
    return ranges


def _rolled_parts(daily: FromClause, monthly: FromClause, first: date, cut: date,
                  spans: Sequence[tuple[date, date]]) -> list[tuple[Any, ColumnElement[Any]]]:
    """Which rows of a daily table (by `day`) and of its monthly one (by `month`) hold the
    days [first, cut): the months' spans given from the monthly one, the other days from
    the daily."""
    day, month = daily.c.day, monthly.c.month
    parts: list[tuple[Any, ColumnElement[Any]]] = []
    ranges = _outside_months(first, cut, spans)
    if ranges:
        parts.append((daily.c, or_(*[and_(day >= a, day < b) for a, b in ranges])))
    if spans:
        parts.append((monthly.c, month.in_([m for m, _ in spans])))
    return parts


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
    rollup: bool = True,
    now: datetime | None = None,
) -> dict[Dimension, list[CallStats]]:
    """The call figures of the period by each of `dimensions`, split by in/out of working hours.

    Days of the period that have fully passed at `now` come from the daily roll-up (built
    first for any day missing or stale); the rest (today) from the raw calls, gathered once
    into a temporary table. Every section is one GROUP BY over the sums of both.
    `rollup=False` reads every day raw; `portable_p90=False` computes the 90th-percentile wait
    with PostgreSQL's own percentile_cont over the raw calls (to check one against the other;
    it implies `rollup=False`).
    """
    scope = report_scope(actor, organization_id)
    dialect = session.get_bind().dialect.name
    native_p90 = portable_p90 is False
    cut = _past_days(period, now) if rollup and not native_p90 else period.first
    hours_table, facts, sums, waits = _hours_table(), _facts_table(), _sums_table(), _waits_table()
    day_hours, cum, callbacks, messages = (_day_hours_table(), _cum_table(), _callbacks_table(),
                                           _messages_table())
    temporary = (hours_table, facts, sums, waits, day_hours, cum, callbacks, messages)
    worked = _day_hours(hours, period.zone)
    conn = await session.connection()
    await tune_for_report(conn)
    for table in temporary:
        await conn.run_sync(table.create)
    sections: dict[Dimension, list[CallStats]] = {}
    try:
        await _insert_hours(conn, hours_table, hours)
        await _insert_rows(conn, day_hours, worked.rows)
        await _insert_rows(conn, cum, _cum_rows(worked, period))
        _, months = await _roll_up(conn, period, cut, hours, hours_table, day_hours, facts,
                                   level2_queues)
        if cut < period.after:
            await _clear(conn, facts)
            raw = _Span(day_span(cut, period.zone)[0], period.end, period.zone)
            await conn.execute(facts.insert().from_select(
                [c.name for c in facts.columns],
                _facts_query(hours_table, raw, scope, level2_queues, dialect)))
            if dialect == "postgresql":
                await conn.execute(text(f"ANALYZE {facts.name}"))  # no autovacuum for temporary tables
            await conn.execute(sums.insert().from_select([*KEYS, *SUMS], _sums_query(facts)))
            for dim in map(Dimension, dimensions):
                await conn.execute(waits.insert().from_select(
                    [c.name for c in waits.columns], _waits_query(facts, dim)))
        called = await _gather_callbacks(conn, callbacks, messages, day_hours, hours_table,
                                         period, cut, scope)
        await conn.execute(sums.insert().from_select(
            [*KEYS, "in_progress"],
            _in_progress_query(hours_table, _Span(period.start, period.end, period.zone), scope,
                               dialect)))
        await conn.execute(sums.insert().from_select(
            [*KEYS, "called_back", "callback_delay_sum"],
            _callback_sums_query(called, cum, period)))
        if cut > period.first:
            await conn.execute(sums.insert().from_select(
                [*KEYS, *SUMS], _rollup_sums(period.first, cut, months, scope)))
        # No ANALYZE of the sums and the waits: each section only groups them (a few thousand
        # rows; with the roll-up's histograms a hash aggregate whatever the estimate), and
        # sampling them cost more than it saved (bench/reports.py).
        for dim in map(Dimension, dimensions):
            rows = (await conn.execute(_stats_query(sums, dim))).all()
            query = (_native_p90_query(facts, dim) if native_p90 else
                     _p90_query(_with_rollup_waits(waits, dim, period.first, cut, months, scope), dim))
            p90s = {(key, phone, bool(flag)): value
                    for key, phone, flag, value in (await conn.execute(query)).all()}
            sections[dim] = [_stats(r, p90s.get((r[0], r[16], bool(r[1])))) for r in rows]
    finally:
        for table in reversed(temporary):
            await conn.run_sync(table.drop)
    await audit.record(session, actor, audit.AuditAction.EXPORT, "report", "calls", {
        "period": period.label, "organization_id": scope, "by": [str(d) for d in sections]})
    return sections


def _callbacks_table() -> Table:
    """A report's own callbacks rows (CALLBACK_COLUMNS), of its days not rolled up (the
    roll-up's are read in place)."""
    return Table(
        f"tmp_report_callbacks_{uuid.uuid4().hex[:10]}", MetaData(),
        Column("day", Date), Column("kind", String(8)), Column("message_day", Date),
        *[Column(name, type_) for name, type_ in _KEY_COLUMNS],
        Column("n", BigInteger), Column("n_after", BigInteger), Column("worked", BigInteger),
        prefixes=["TEMPORARY"],
    )


async def _gather_callbacks(conn: AsyncConnection, callbacks: Table, messages: Table,
                            day_hours: Table, hours: Table, period: Period, cut: date,
                            org_id: int | None) -> Any:
    """The callbacks rows of the period (a subquery): the messages of its days and the
    callbacks that fall on its days (of its messages). The rolled-up days [first, cut) from
    the roll-up, the rest as a day's builder makes them (into `callbacks`), from the calls
    and the report's hours."""
    dialect = conn.dialect.name
    own = select(*[callbacks.c[c] for c in CALLBACK_COLUMNS])
    rolled = CallRollupCallback.__table__.c
    if cut > period.first:
        conditions = [rolled.day >= period.first, rolled.day < cut,
                      or_(rolled.kind == "message",
                          and_(rolled.message_day >= period.first, rolled.message_day < cut))]
        if org_id is not None:
            conditions.append(rolled.organization_id == org_id)
        # Read in place, as the roll-up's sums are (a year has some 80,000 rows).
        source = union_all(select(*[rolled[c] for c in CALLBACK_COLUMNS]).where(*conditions),
                           own).subquery("callbacks")
    else:
        source = own.subquery("callbacks")
    if cut >= period.after:
        return source
    raw = _Span(day_span(cut, period.zone)[0], period.end, period.zone)
    await conn.execute(messages.insert().from_select(
        ["day", *MESSAGE_COLUMNS], _messages_query(hours, raw, org_id, dialect)))
    await conn.execute(callbacks.insert().from_select(
        list(CALLBACK_COLUMNS), _message_rows(messages, day_hours, raw, dialect)))
    # The callbacks of the raw days' messages, on any day of the period (a card's first done
    # callback may come before a message), and those of the rolled-up days' messages on
    # the raw days.
    await conn.execute(callbacks.insert().from_select(
        list(CALLBACK_COLUMNS),
        _callback_rows(messages, day_hours, _Span(period.start, period.end, period.zone), dialect)))
    if cut > period.first:
        stored = CallRollupMessage.__table__
        conditions = [stored.c.day >= period.first, stored.c.day < cut]
        if org_id is not None:
            conditions.append(stored.c.organization_id == org_id)
        await conn.execute(callbacks.insert().from_select(
            list(CALLBACK_COLUMNS),
            _callback_rows(select(stored).where(*conditions).subquery("stored"), day_hours, raw,
                           dialect)))
    return source


async def _insert_rows(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(table.insert(), rows)
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"ANALYZE {table.name}"))


def _rollup_sums(first: date, cut: date, months: Sequence[tuple[date, date]],
                 org_id: int | None) -> Select[*tuple[Any, ...]]:
    """The roll-up's sums of the days [first, cut) added up per key: the months given from
    their own rows, the other days from theirs (an index range on the day or month). Every
    section then groups a few thousand rows instead of reading the roll-up again."""
    days, monthly = CallRollup.__table__, CallRollupMonthSum.__table__
    parts = []
    for table, condition in _rolled_parts(days, monthly, first, cut, months):
        conditions = [condition]
        if org_id is not None:
            conditions.append(table.organization_id == org_id)
        parts.append(select(*[table[name] for name in (*KEYS, *SUMS)]).where(*conditions))
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("rolled")
    keys = [rows.c[name] for name in KEYS]
    return select(*keys, *[func.sum(rows.c[name]) for name in SUMS]).group_by(*keys)


def _with_rollup_waits(waits: Table, dim: Dimension, first: date, cut: date,
                       months: Sequence[tuple[date, date]], org_id: int | None) -> Subquery:
    """The report's own wait histogram rows of one section and the roll-up's of [first, cut):
    the months given from their own rows, the other days from theirs."""
    days, monthly = CallRollupWait.__table__, CallRollupMonthWait.__table__
    cols = (*_WAIT_COLUMNS, "n")
    parts = [select(*[waits.c[c] for c in cols]).where(waits.c.dimension == str(dim))]
    for table, condition in _rolled_parts(days, monthly, first, cut, months):
        conditions = [condition, table.dimension == str(dim)]
        if org_id is not None:
            conditions.append(table.organization_id == org_id)
        parts.append(select(*[table[c] for c in cols]).where(*conditions))
    return union_all(*parts).subquery("waits")


def _stats(r: Any, p90: Any) -> CallStats:
    return CallStats(
        key=r[0], in_hours=bool(r[1]), offered=int(r[2]), answered=int(r[3]),
        abandoned=int(r[4]), abandoned_wait_avg=_float(r[5]), answered_20s=int(r[6]),
        answered_60s=int(r[7]), wait_avg=_float(r[8]), wait_p90=_float(p90),
        talk_avg=_float(r[10]), transferred_l2=int(r[11] or 0), secretary=int(r[12]),
        called_back=int(r[13]), callback_delay_avg=_float(r[14]), in_progress=int(r[15]),
        phone=r[16],
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
    rollup: bool = True,
    now: datetime | None = None,
) -> list[CallStats]:
    """The call figures of the period by one `dimension` (see `call_sections`)."""
    sections = await call_sections(
        session, actor, period, hours, [dimension], organization_id=organization_id,
        level2_queues=level2_queues, portable_p90=portable_p90, rollup=rollup, now=now)
    return sections[Dimension(dimension)]
