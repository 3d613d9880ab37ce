"""Operator or electronic secretary: the mode of a line at any moment, as pure functions.

A line's mode comes from, in order of precedence:
1. an administrator's override (forces a mode until a given time);
2. `around_the_clock` (the СМО lines): always the operator;
3. the production calendar: a holiday or a moved day off is the secretary all day; a shortened
   day keeps the weekday's hours but ends one hour early; a working Saturday or Sunday gets the
   hours of the weekday whose day off it gave away (else its own, else the first configured);
4. the line's weekly hours (`[lines.hours]`), in the line's own time zone; outside them, and on
   a weekday with no hours, the secretary.

Every interval carries a reason: a stable machine code (`ReasonCode`) and a Russian text for the
UI. Times in and out are aware datetimes (UTC out); a day is the line's local calendar day.
No I/O, no clock reads: the scheduler (`hotline.modes.scheduler`) and the CLI feed the times in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

from hotline.config import WEEKDAYS, Line, WorkingHours
from journal.calendar import DayInfo, DayKind, ProductionCalendar

Mode = Literal["operator", "secretary"]
OPERATOR: Final = "operator"
SECRETARY: Final = "secretary"
MODES: Final = (OPERATOR, SECRETARY)
# A line's mode as the pages name it (GET /api/v1/dictionaries, `labels.line_modes`); the
# command line's calendar table keeps its short column words (`calendar_table.MODE_LABELS`).
MODE_TITLES: Final[dict[Mode, str]] = {"operator": "операторы", "secretary": "электронный секретарь"}
SHORTENED_BY: Final = timedelta(hours=1)
_SEARCH_WINDOW = timedelta(days=14)
_SEARCH_HORIZON = timedelta(days=400)
_MIDNIGHT = time(0, 0)


class ReasonCode(StrEnum):
    """Why a line is in its mode; stored with each switch and stable across releases."""

    WEEKDAY_HOURS = "weekday_hours"
    AFTER_HOURS = "after_hours"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MOVED_DAY_OFF = "moved_day_off"
    SHORTENED_DAY = "shortened_day"
    WORKING_WEEKEND = "working_weekend"
    AROUND_THE_CLOCK = "around_the_clock"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class Reason:
    """A machine code and the Russian text the UI shows."""

    code: ReasonCode
    text: str


@dataclass(frozen=True, slots=True)
class ModeInterval:
    """The line is in `mode` from `start` (inclusive) to `end` (exclusive), both UTC."""

    mode: Mode
    start: datetime
    end: datetime
    reason: Reason


class ModeState(NamedTuple):
    """The mode of a line at one moment and why."""

    mode: Mode
    reason: Reason


class Switch(NamedTuple):
    """The next change of mode: at `at` the line goes to `mode` because of `reason`."""

    at: datetime
    mode: Mode
    reason: Reason


@dataclass(frozen=True, slots=True)
class Override:
    """An administrator forces `mode` on line `line` (its number) until `until`.

    `since` is when it was set; None means it applies to any time before `until`.
    """

    line: str
    mode: Mode
    until: datetime
    set_by: str
    reason: str = ""
    since: datetime | None = None

    def __post_init__(self) -> None:
        # Invariants, in English: a person's override is checked first, in Russian, by
        # hotline.modes.store.add_override (and the CLI's --mode choice); nothing else makes one.
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; use one of {', '.join(MODES)}")
        _require_aware(self.until, *([self.since] if self.since else []))
        if self.since is not None and self.since >= self.until:
            raise ValueError("an override must end after it starts")

    def active_at(self, at: datetime) -> bool:
        return (self.since is None or self.since <= at) and at < self.until

    def describe(self, zone: ZoneInfo) -> Reason:
        """The reason shown for the forced interval, with `until` in the line's local time."""
        until = self.until.astimezone(zone)
        text = f"ручной режим до {until:%d.%m.%Y %H:%M}, установил {self.set_by}"
        if self.reason:
            text += f": {self.reason}"
        return Reason(ReasonCode.OVERRIDE, text)


# --- public functions ----------------------------------------------------------------------


def mode_intervals(
    line: Line,
    cal: ProductionCalendar,
    start: datetime,
    end: datetime,
    overrides: Iterable[Override] = (),
) -> list[ModeInterval]:
    """The modes of `line` from `start` to `end`, contiguous, clipped to the range.

    Neighbouring intervals with the same mode and the same reason are merged (a whole weekend
    is one interval); a change of reason with no change of mode starts a new interval.
    """
    _require_aware(start, end)
    if end <= start:
        return []
    zone = line.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    planned = [iv for day in _days(first, last) for iv in day_plan(line, cal, day)]
    pieces = _clip(planned, start, end)
    for override in overrides:
        if override.line == line.number:
            pieces = _paint(pieces, override, override.describe(zone))
    return _merge(pieces)


def mode_at(
    line: Line, cal: ProductionCalendar, at: datetime, overrides: Iterable[Override] = ()
) -> ModeState:
    """The mode of `line` at the instant `at` (an interval starting at `at` counts)."""
    interval = mode_intervals(line, cal, at, at + timedelta(microseconds=1), overrides)[0]
    return ModeState(interval.mode, interval.reason)


def next_switch(
    line: Line, cal: ProductionCalendar, after: datetime, overrides: Iterable[Override] = ()
) -> Switch | None:
    """The first change of mode strictly after `after`, or None within 400 days (24/7 lines)."""
    overrides = tuple(overrides)
    current = mode_at(line, cal, after, overrides).mode
    window_start, horizon = after, after + _SEARCH_HORIZON
    while window_start < horizon:
        window_end = min(window_start + _SEARCH_WINDOW, horizon)
        for interval in mode_intervals(line, cal, window_start, window_end, overrides):
            if interval.mode != current:
                return Switch(interval.start, interval.mode, interval.reason)
        window_start = window_end
    return None


def day_plan(line: Line, cal: ProductionCalendar, day: date) -> list[ModeInterval]:
    """The modes of one local day of `line`, without overrides, from midnight to midnight."""
    zone = line.zone
    day_start, day_end = _at(day, _MIDNIGHT, zone), _at(day + timedelta(days=1), _MIDNIGHT, zone)
    if line.around_the_clock:
        reason = Reason(ReasonCode.AROUND_THE_CLOCK, "круглосуточная линия")
        return [ModeInterval(OPERATOR, day_start, day_end, reason)]
    info = cal.day_info(day)
    hours, reason = _operator_hours(line, info)
    if hours is None:
        return [ModeInterval(SECRETARY, day_start, day_end, reason)]
    on, off = _at(day, hours.start, zone), _at(day, hours.end, zone)
    after_hours = Reason(ReasonCode.AFTER_HOURS, "нерабочее время")
    plan = [
        ModeInterval(SECRETARY, day_start, on, after_hours),
        ModeInterval(OPERATOR, on, off, reason),
        ModeInterval(SECRETARY, off, day_end, after_hours),
    ]
    return [iv for iv in plan if iv.start < iv.end]


# --- one day -------------------------------------------------------------------------------


def _operator_hours(line: Line, info: DayInfo) -> tuple[WorkingHours | None, Reason]:
    """Operator hours of the day (None: secretary all day) and the reason for that."""
    if info.kind is DayKind.HOLIDAY:
        code = ReasonCode.MOVED_DAY_OFF if info.is_moved_day_off else ReasonCode.HOLIDAY
        return None, Reason(code, info.reason)
    weekend = info.day.weekday() >= 5
    if info.kind is DayKind.WEEKEND or (info.kind is DayKind.WORKING and not weekend):
        return _weekly_hours(line, info)
    hours = _weekend_template(line, info) if weekend else _hours_of(line, info.day)
    if hours is None:
        return None, Reason(ReasonCode.WEEKEND, "выходной день по графику линии")
    if info.kind is DayKind.SHORTENED:
        return _shortened(hours, info)
    return hours, Reason(ReasonCode.WORKING_WEEKEND, f"{info.reason}: {_span(hours)}")


def _weekly_hours(line: Line, info: DayInfo) -> tuple[WorkingHours | None, Reason]:
    hours = _hours_of(line, info.day)
    if hours is not None:
        return hours, Reason(ReasonCode.WEEKDAY_HOURS, f"рабочее время {_span(hours)}")
    if info.kind is DayKind.WEEKEND:
        return None, Reason(ReasonCode.WEEKEND, info.reason)
    return None, Reason(ReasonCode.WEEKEND, "выходной день по графику линии")


def _shortened(hours: WorkingHours, info: DayInfo) -> tuple[WorkingHours | None, Reason]:
    """The day's hours ending one hour early (DOMAIN.md: the day before a holiday)."""
    end = (datetime.combine(info.day, hours.end) - SHORTENED_BY).time()
    if end <= hours.start:
        return None, Reason(ReasonCode.SHORTENED_DAY, f"{info.reason}: операторы не работают")
    short = WorkingHours(start=hours.start, end=end)
    return short, Reason(ReasonCode.SHORTENED_DAY, f"{info.reason}: {_span(short)}")


def _weekend_template(line: Line, info: DayInfo) -> WorkingHours | None:
    """Hours of a working Saturday/Sunday: those of the weekday that got its day off."""
    candidates = [info.moved_to] if info.moved_to else []
    candidates.append(info.day)
    for day in candidates:
        hours = _hours_of(line, day)
        if hours is not None:
            return hours
    return next((line.hours[name] for name in WEEKDAYS if name in line.hours), None)


def _hours_of(line: Line, day: date) -> WorkingHours | None:
    return line.hours.get(WEEKDAYS[day.weekday()])


def _span(hours: WorkingHours) -> str:
    return f"{hours.start:%H:%M}–{hours.end:%H:%M}"


# --- interval arithmetic -------------------------------------------------------------------


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time of the line as a UTC instant."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _clip(pieces: Sequence[ModeInterval], start: datetime, end: datetime) -> list[ModeInterval]:
    clipped = []
    for iv in pieces:
        lo, hi = max(iv.start, start), min(iv.end, end)
        if lo < hi:
            clipped.append(ModeInterval(iv.mode, lo, hi, iv.reason))
    return clipped


def _paint(
    pieces: Sequence[ModeInterval], override: Override, reason: Reason
) -> list[ModeInterval]:
    """Force the override's mode over the part of `pieces` it covers."""
    lo = override.since or datetime.min.replace(tzinfo=UTC)
    hi = override.until
    painted: list[ModeInterval] = []
    for iv in pieces:
        if iv.end <= lo or iv.start >= hi:
            painted.append(iv)
            continue
        if iv.start < lo:
            painted.append(ModeInterval(iv.mode, iv.start, lo, iv.reason))
        painted.append(ModeInterval(override.mode, max(iv.start, lo), min(iv.end, hi), reason))
        if iv.end > hi:
            painted.append(ModeInterval(iv.mode, hi, iv.end, iv.reason))
    return painted


def _merge(pieces: Sequence[ModeInterval]) -> list[ModeInterval]:
    merged: list[ModeInterval] = []
    for iv in pieces:
        prev = merged[-1] if merged else None
        if prev and prev.end == iv.start and (prev.mode, prev.reason) == (iv.mode, iv.reason):
            merged[-1] = ModeInterval(prev.mode, prev.start, iv.end, prev.reason)
        else:
            merged.append(iv)
    return merged


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"an aware datetime is needed, got naive {moment.isoformat()}")


# How far ahead to look for a line's next operator hours (holidays included).
OPERATOR_LOOKAHEAD = timedelta(days=40)


def next_operator_interval(
    line: Line, cal: ProductionCalendar, now: datetime
) -> ModeInterval | None:
    """The operator interval in progress at `now`, else the next one (None: none in 40 days)."""
    for interval in mode_intervals(line, cal, now, now + OPERATOR_LOOKAHEAD):
        if interval.mode == OPERATOR:
            return interval
    return None
