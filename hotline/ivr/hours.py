"""The secretary's "when are the operators there" phrase, generated from the line's schedule.

Built from `hotline.modes.schedule.mode_intervals`, so it follows the production calendar: after a
shortened pre-holiday day's early close, over a holiday or a long New Year break it names the
next real operator hours («Операторы работают в понедельник с восьми тридцати до семнадцати
тридцати»). Pure: the moment comes in. Overrides set by an administrator are not consulted
(the secretary runs precisely when there is none forcing the operator).
"""

from __future__ import annotations

from datetime import datetime

from hotline.config import Line
from hotline.ivr.numerals import (
    MONTHS_GEN,
    WEEKDAY_IDS,
    WEEKDAYS_ACC,
    Segment,
    ordinal_genitive,
    time_segments,
)
from hotline.modes.schedule import next_operator_interval
from journal.calendar import ProductionCalendar

def hours_segments(line: Line, cal: ProductionCalendar, now: datetime) -> list[Segment]:
    """The phrase as pre-recorded segments (see `hotline.ivr.numerals`)."""
    if line.around_the_clock:
        return [Segment("hours/around-the-clock", "Операторы работают круглосуточно")]
    interval = next_operator_interval(line, cal, now)
    if interval is None:
        return [Segment("hours/unknown", "Операторы сейчас не работают")]
    zone = line.zone
    start, end = interval.start.astimezone(zone), interval.end.astimezone(zone)
    if interval.start <= now:
        return [Segment("hours/today-until", "Сегодня операторы работают до"),
                *time_segments(end.time())]
    return [
        Segment("hours/intro", "Операторы работают"),
        *_day_label(start, now.astimezone(zone)),
        Segment("hours/from", "с"),
        *time_segments(start.time()),
        Segment("hours/to", "до"),
        *time_segments(end.time()),
    ]


def hours_text(line: Line, cal: ProductionCalendar, now: datetime) -> str:
    """The phrase as Russian text, e.g. for the log and the prompt builder."""
    return " ".join(segment.text for segment in hours_segments(line, cal, now))


def _day_label(start: datetime, now: datetime) -> list[Segment]:
    days = (start.date() - now.date()).days
    if days == 0:
        return [Segment("day/today", "сегодня")]
    if days == 1:
        return [Segment("day/tomorrow", "завтра")]
    weekday = start.weekday()
    label = [Segment(f"day/{WEEKDAY_IDS[weekday]}", WEEKDAYS_ACC[weekday])]
    if days >= 7:
        label += [
            Segment(f"date/d{start.day:02d}", ordinal_genitive(start.day)),
            Segment(f"date/m{start.month:02d}", MONTHS_GEN[start.month - 1]),
        ]
    return label
