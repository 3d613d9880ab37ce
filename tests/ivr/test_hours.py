"""The working-hours phrase: Russian genitive times, and the schedule behind it."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.config import Settings
from hotline.ivr.hours import hours_segments, hours_text
from hotline.ivr.numerals import genitive_number, ordinal_genitive, time_genitive, time_segments
from journal.calendar import ProductionCalendar, load_calendar_dir
from tests.support.paths import REPO

BARNAUL = ZoneInfo("Asia/Barnaul")


@pytest.fixture(scope="module")
def calendar() -> ProductionCalendar:
    return load_calendar_dir(REPO / "config" / "calendar")


@pytest.mark.parametrize(("clock", "words"), [
    (time(8, 30), "восьми тридцати"),
    (time(17, 30), "семнадцати тридцати"),
    (time(16, 15), "шестнадцати пятнадцати"),
    (time(9, 0), "девяти"),
    (time(18, 0), "восемнадцати"),
    (time(8, 5), "восьми ноль пяти"),
    (time(20, 45), "двадцати сорока пяти"),
    (time(21, 21), "двадцати одного двадцати одной"),
    (time(0, 0), "ноля"),
])
def test_times_in_the_genitive(clock: time, words: str) -> None:
    """After «с»/«до» a time of day is in the genitive; minutes are feminine."""
    assert time_genitive(clock) == words
    assert " ".join(s.text for s in time_segments(clock)) == words


def test_time_prompts_are_one_per_word_group() -> None:
    """Each hour and each minute value is one pre-recorded prompt."""
    assert [s.prompt for s in time_segments(time(8, 30))] == ["time/h08", "time/m30"]
    assert [s.prompt for s in time_segments(time(9, 0))] == ["time/h09"]


def test_number_and_ordinal_edges() -> None:
    """The tables cover 0..59 and days 1..31; outside them is an error."""
    assert genitive_number(59) == "пятидесяти девяти"
    assert ordinal_genitive(12) == "двенадцатого"
    assert ordinal_genitive(31) == "тридцать первого"
    with pytest.raises(ValueError):
        genitive_number(60)
    with pytest.raises(ValueError):
        ordinal_genitive(0)


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BARNAUL)


def test_friday_evening_names_monday(settings: Settings, calendar: ProductionCalendar) -> None:
    """Friday 27.11.2026 after 16:15: the operators are back on Monday at 8:30."""
    line = settings.line("88007758565")
    text = hours_text(line, calendar, _at(2026, 11, 27, 18, 0))
    assert text == ("Операторы работают в понедельник с восьми тридцати "
                    "до семнадцати тридцати")


def test_friday_morning_says_today_with_fridays_hours(
    settings: Settings, calendar: ProductionCalendar
) -> None:
    """Before opening on a Friday: today, until 16:15."""
    line = settings.line("88007758565")
    text = hours_text(line, calendar, _at(2026, 11, 27, 7, 0))
    assert text == "Операторы работают сегодня с восьми тридцати до шестнадцати пятнадцати"


def test_shortened_day_ends_an_hour_early(settings: Settings, calendar: ProductionCalendar) -> None:
    """03.11.2026 is the shortened day before 4 November: 8:30-16:30."""
    line = settings.line("88007758565")
    text = hours_text(line, calendar, _at(2026, 11, 2, 20, 0))
    assert text == "Операторы работают завтра с восьми тридцати до шестнадцати тридцати"


def test_holiday_is_skipped(settings: Settings, calendar: ProductionCalendar) -> None:
    """On the evening of the shortened 03.11 the next hours are on Thursday 05.11."""
    line = settings.line("88007758565")
    text = hours_text(line, calendar, _at(2026, 11, 3, 17, 0))
    assert text == "Операторы работают в четверг с восьми тридцати до семнадцати тридцати"


def test_long_break_names_the_date(settings: Settings, calendar: ProductionCalendar) -> None:
    """From 30.12.2026 evening the New Year break lasts to Monday 11.01.2027 if the 2027
    calendar is known, else the weekly hours resume; either way a far day carries its date."""
    line = settings.line("88007758565")
    segments = hours_segments(line, calendar, _at(2026, 12, 30, 18, 0))
    prompts = [s.prompt for s in segments]
    assert prompts[0] == "hours/intro"
    assert "hours/from" in prompts


def test_during_hours_and_around_the_clock(
    settings: Settings, calendar: ProductionCalendar
) -> None:
    """Inside the hours: until when; a 24/7 line: around the clock."""
    line = settings.line("88007758565")
    assert hours_text(line, calendar, _at(2026, 11, 26, 12, 0)) == (
        "Сегодня операторы работают до семнадцати тридцати")
    assert hours_text(settings.line("88002009204"), calendar, _at(2026, 11, 27, 3, 0)) == (
        "Операторы работают круглосуточно")
