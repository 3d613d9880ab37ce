"""`hotline calendar show`: a line's operator / secretary intervals as a Russian text table.

The click command (wired by the CLI module) loads the settings and the calendar directory and
prints `format_calendar(...)`. Times are the line's local time; the dates are inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from hotline.config import Line
from hotline.modes.schedule import Mode, ModeInterval, Override, mode_intervals
from journal.calendar import ProductionCalendar

MODE_LABELS: dict[Mode, str] = {"operator": "оператор", "secretary": "автосекретарь"}
_WEEKDAY_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def format_calendar(
    line: Line,
    cal: ProductionCalendar,
    start_date: date,
    end_date: date,
    overrides: Iterable[Override] = (),
) -> str:
    """One row per mode interval of `line` from `start_date` to `end_date` inclusive.

    A row: local start – local end, mode (оператор / автосекретарь), reason. A year with no
    calendar data is named in a warning line above the table.
    """
    if end_date < start_date:
        raise ValueError(f"the end date {end_date} is before the start date {start_date}")
    zone = line.zone
    start = datetime.combine(start_date, time(0), tzinfo=zone)
    end = datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=zone)
    intervals = mode_intervals(line, cal, start, end, overrides)
    lines = [_header(line, start_date, end_date), *_warnings(line, cal, start_date, end_date)]
    lines += [_row(interval, line) for interval in intervals]
    return "\n".join(lines) + "\n"


def _header(line: Line, start_date: date, end_date: date) -> str:
    hours = "круглосуточно" if line.around_the_clock else "по графику"
    return (
        f"Линия {line.number} ({line.organization}, {line.timezone}, {hours}): "
        f"{start_date:%d.%m.%Y} – {end_date:%d.%m.%Y}"
    )


def _warnings(line: Line, cal: ProductionCalendar, start: date, end: date) -> list[str]:
    if line.around_the_clock:
        return []
    return [
        f"ВНИМАНИЕ: нет производственного календаря на {year} год — "
        "праздники и переносы не учтены, только дни недели"
        for year in cal.missing_years(start, end)
    ]


def _row(interval: ModeInterval, line: Line) -> str:
    since, until = _local(interval.start, line), _local(interval.end, line)
    mode = MODE_LABELS[interval.mode]
    return f"{since} – {until}  {mode:<13}  {interval.reason.text}"


def _local(moment: datetime, line: Line) -> str:
    local = moment.astimezone(line.zone)
    return f"{_WEEKDAY_SHORT[local.weekday()]} {local:%d.%m.%Y %H:%M}"
