"""Operator intervals of the lines for a report period (the data `journal.reports.calls` joins)."""

from __future__ import annotations

from collections.abc import Iterable

from hotline.config import Settings
from hotline.modes.schedule import OPERATOR, Override, mode_intervals
from journal.calendar import ProductionCalendar
from journal.reports.calls import HoursInterval
from journal.reports.period import Period


def operator_hours(
    settings: Settings, cal: ProductionCalendar, period: Period, overrides: Iterable[Override] = ()
) -> list[HoursInterval]:
    """Every line's operator intervals within the period, from its schedule and the calendar.

    Overrides are not applied by default: the report compares calls with the planned working
    calendar of the line, not with the administrator's manual switches.
    """
    overrides = tuple(overrides)
    return [
        HoursInterval(line.number, iv.start, iv.end)
        for line in settings.lines
        for iv in mode_intervals(line, cal, period.start, period.end, overrides)
        if iv.mode == OPERATOR
    ]


def level2_queues(settings: Settings) -> list[str]:
    return [org.level2_queue for org in settings.organizations]
