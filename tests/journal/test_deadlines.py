"""59-ФЗ due dates: calendar days, one extension of up to 30 days, optional working-day roll."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from journal.deadlines import DeadlinePolicy, local_date, roll_to_working_day
from journal.errors import InvalidInput

# 2026 days off of DOMAIN.md that matter here, plus weekends.
DAYS_OFF_2026 = {date(2026, 3, 9), date(2026, 5, 1), date(2026, 5, 11), date(2026, 6, 12)}


def is_working_day(day: date) -> bool:
    """A stand-in for ProductionCalendar.is_working_day."""
    return day.weekday() < 5 and day not in DAYS_OFF_2026


plain = DeadlinePolicy()
rolling = DeadlinePolicy(roll_to_working_day=True, is_working_day=is_working_day)


def test_answer_is_due_thirty_calendar_days_after_registration() -> None:
    """Calendar days, counted from the day after registration; weekends do not stop it."""
    assert plain.answer_due(date(2026, 1, 15)) == date(2026, 2, 14)  # a Saturday, kept
    assert plain.answer_due(date(2026, 2, 1)) == date(2026, 3, 3)  # across a short February


def test_registration_within_three_days_and_forwarding_within_seven() -> None:
    assert plain.registration_due(date(2026, 4, 28)) == date(2026, 5, 1)
    assert plain.forwarding_due(date(2026, 4, 28)) == date(2026, 5, 5)


def test_due_dates_roll_to_the_next_working_day_when_the_setting_is_on() -> None:
    """Saturday 14.02 → Monday 16.02; Friday 01.05 (holiday) → Monday 04.05."""
    assert rolling.answer_due(date(2026, 1, 15)) == date(2026, 2, 16)
    assert rolling.registration_due(date(2026, 4, 28)) == date(2026, 5, 4)
    # 09.05 Saturday, 10.05 Sunday, 11.05 a day off moved by decree → Tuesday 12.05.
    assert rolling.answer_due(date(2026, 4, 9)) == date(2026, 5, 12)
    # A working day stays put.
    assert rolling.answer_due(date(2026, 1, 14)) == plain.answer_due(date(2026, 1, 14))


def test_the_roll_needs_both_the_setting_and_a_calendar() -> None:
    assert DeadlinePolicy(roll_to_working_day=True).answer_due(date(2026, 1, 15)) == date(2026, 2, 14)
    off = DeadlinePolicy(roll_to_working_day=False, is_working_day=is_working_day)
    assert off.answer_due(date(2026, 1, 15)) == date(2026, 2, 14)


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    with pytest.raises(ValueError, match="no working day"):
        roll_to_working_day(date(2026, 1, 1), lambda _day: False)


def test_registration_date_is_taken_in_the_region_s_time_zone() -> None:
    """23:30 UTC on 31.12 is already 1 January in Barnaul (UTC+7)."""
    moment = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert local_date(moment, ZoneInfo("Asia/Barnaul")) == date(2026, 1, 1)
    policy = DeadlinePolicy(zone=ZoneInfo("Asia/Barnaul"))
    assert policy.answer_due_at(moment) == date(2026, 1, 31)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 1, 1), ZoneInfo("UTC"))


def test_extension_is_later_than_the_current_due_and_at_most_thirty_days() -> None:
    due = date(2026, 2, 14)
    assert plain.extension_limit(due) == date(2026, 3, 16)
    plain.check_extension(due, date(2026, 3, 16))
    plain.check_extension(due, date(2026, 2, 15))
    for bad in (date(2026, 3, 17), due, date(2026, 2, 1)):
        with pytest.raises(InvalidInput) as info:
            plain.check_extension(due, bad)
        assert info.value.details["field"] == "new_due"
        assert "срок" in info.value.message.lower()


def test_extension_limit_rolls_with_the_setting() -> None:
    """14.02 + 30 = Monday 16.03 (working): unchanged; 06.02 + 30 = Sunday 08.03 → Tue 10.03."""
    assert rolling.extension_limit(date(2026, 2, 14)) == date(2026, 3, 16)
    assert rolling.extension_limit(date(2026, 2, 6)) == date(2026, 3, 10)
