"""Report periods: a month ("2026-10"), a quarter ("2026Q3") or a year ("2026").

A period is a range of local calendar days of the region; its bounds as UTC instants are what
the SQL compares `received_at` / `started_at` with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from journal.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$", re.ASCII)
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
# The journal's years: a period outside them has no appeals, and years 1 or 9999 would
# overflow the bounds' UTC conversion or the next year's first day.
MIN_YEAR, MAX_YEAR = 1990, 2200
MONTH_NAMES = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days `first` (inclusive) to `after` (exclusive) in the region's time zone."""

    label: str
    first: date
    after: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first instant of the period, UTC."""
        return datetime.combine(self.first, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, UTC."""
        return datetime.combine(self.after, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def title(self) -> str:
        """The period as the form's header says it, e.g. "III квартал 2026 г."."""
        if (m := _QUARTER.match(self.label)) is not None:
            return f"{('I', 'II', 'III', 'IV')[int(m[2]) - 1]} квартал {m[1]} г."
        if (m := _MONTH.match(self.label)) is not None:
            return f"{MONTH_NAMES[int(m[2]) - 1]} {m[1]} г."
        return f"{self.label} г."


def _next_month(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def parse_period(text: str, zone: ZoneInfo) -> Period:
    """"2026-10" (month), "2026Q3" (quarter) or "2026" (year), in the region's zone."""
    text = text.strip()
    found = _MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text)
    if found is not None and not MIN_YEAR <= int(found[1]) <= MAX_YEAR:
        raise InvalidInput(f"Год периода «{text}» вне допустимых пределов ({MIN_YEAR}…{MAX_YEAR})",
                           field="period")
    if (m := _MONTH.match(text)) is not None:
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"Неверный месяц в периоде «{text}»", field="period")
        return Period(text, date(year, month, 1), _next_month(year, month), zone)
    if (m := _QUARTER.match(text)) is not None:
        year, quarter = int(m[1]), int(m[2])
        first = date(year, 3 * quarter - 2, 1)
        return Period(f"{year}Q{quarter}", first, _next_month(year, 3 * quarter), zone)
    if (m := _YEAR.match(text)) is not None:
        year = int(m[1])
        return Period(text, date(year, 1, 1), date(year + 1, 1, 1), zone)
    raise InvalidInput(
        f"Период «{text}» не распознан: нужен месяц (2026-10), квартал (2026Q3) или год (2026)",
        field="period",
    )
