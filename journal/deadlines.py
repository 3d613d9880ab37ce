"""Due dates of an appeal under 59-ФЗ (DOMAIN.md, "Deadlines").

Days are calendar days. A computed due date is stored on the card, so a later edit of the
production calendar never rewrites the history of a card. Rolling a due date that falls on a
non-working day to the next working day is a setting; the calendar is injected as any
`is_working_day(date) -> bool` callable, so this module knows no calendar implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from journal.errors import InvalidInput

WorkingDayCheck = Callable[[date], bool]

REGISTRATION_DAYS = 3  # register within 3 days of receipt
FORWARDING_DAYS = 7  # forward to the competent body within 7 days of registration
ANSWER_DAYS = 30  # answer within 30 days of registration
EXTENSION_MAX_DAYS = 30  # one extension of up to 30 days
# Longest run of non-working days we accept before deciding the calendar is broken
# (the New Year holidays with a moved day off are about 11 days).
MAX_ROLL_DAYS = 60


def roll_to_working_day(day: date, is_working_day: WorkingDayCheck) -> date:
    """The same day if it is a working day, else the next working day."""
    for offset in range(MAX_ROLL_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {MAX_ROLL_DAYS} days after {day.isoformat()}")


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of an aware moment in the organization's time zone."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
    return moment.astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How due dates are computed in this region.

    `is_working_day` is consulted only when `roll_to_working_day` is set (the
    `roll_due_dates_to_working_day` setting); pass `ProductionCalendar.is_working_day`.
    """

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    roll_to_working_day: bool = False
    is_working_day: WorkingDayCheck | None = None

    def _finish(self, day: date) -> date:
        if self.roll_to_working_day and self.is_working_day is not None:
            return roll_to_working_day(day, self.is_working_day)
        return day

    def registration_due(self, received_on: date) -> date:
        """The last day to register an appeal received on `received_on`."""
        return self._finish(received_on + timedelta(days=REGISTRATION_DAYS))

    def forwarding_due(self, registered_on: date) -> date:
        """The last day to forward an appeal to the competent body."""
        return self._finish(registered_on + timedelta(days=FORWARDING_DAYS))

    def answer_due(self, registered_on: date) -> date:
        """The due date of the answer: 30 calendar days after registration."""
        return self._finish(registered_on + timedelta(days=ANSWER_DAYS))

    def answer_due_at(self, registered_at: datetime) -> date:
        """`answer_due` for a registration moment, counted in the region's time zone."""
        return self.answer_due(local_date(registered_at, self.zone))

    def extension_limit(self, current_due: date) -> date:
        """The latest new due date one extension may set."""
        return self._finish(current_due + timedelta(days=EXTENSION_MAX_DAYS))

    def check_extension(self, current_due: date, new_due: date) -> None:
        """Refuse an extension that does not move the date later or goes past the limit."""
        if new_due <= current_due:
            raise InvalidInput(
                f"Новый срок должен быть позже текущего ({current_due:%d.%m.%Y})",
                field="new_due",
            )
        limit = self.extension_limit(current_due)
        if new_due > limit:
            raise InvalidInput(
                f"Срок можно продлить не более чем на {EXTENSION_MAX_DAYS} дней "
                f"(не позднее {limit:%d.%m.%Y})",
                field="new_due",
            )


DEFAULT_POLICY = DeadlinePolicy()
