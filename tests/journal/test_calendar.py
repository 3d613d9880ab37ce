"""The production calendar: the real 2025 and 2026 files, the fallback, and bad files."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.config_text import foreign_words
from tests.support.paths import REPO

from journal.calendar import (
    CalendarError,
    DayKind,
    ProductionCalendar,
    load_calendar_dir,
    load_calendar_file,
    parse_calendar,
)

CALENDAR_DIR = REPO / "config" / "calendar"
CAL = load_calendar_dir(CALENDAR_DIR)

H, S, W, E, WW = (
    DayKind.HOLIDAY,
    DayKind.SHORTENED,
    DayKind.WORKING,
    DayKind.WEEKEND,
    DayKind.WORKING_WEEKEND,
)


def test_the_directory_holds_2025_to_2027() -> None:
    """The real years load from config/calendar/."""
    assert CAL.years == (2025, 2026, 2027)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 4, 29), W),
        (date(2026, 4, 30), S),
        (date(2026, 5, 1), H),
        (date(2026, 5, 2), E),
        (date(2026, 5, 3), E),
        (date(2026, 5, 4), W),
        (date(2026, 5, 7), W),
        (date(2026, 5, 8), S),
        (date(2026, 5, 9), H),
        (date(2026, 5, 10), E),
        (date(2026, 5, 11), H),
        (date(2026, 5, 12), W),
    ],
)
def test_may_2026(day: date, kind: DayKind) -> None:
    """1-3 May off, 4-8 May working with 8 May shortened, 9-11 May off (11 May moved)."""
    assert CAL.day_kind(day) is kind


def test_january_2026_holidays_and_the_moved_ninth() -> None:
    """1-8 January are holidays, 7 January is Christmas, 9 January is moved from Saturday 3."""
    for day in range(1, 9):
        assert CAL.day_kind(date(2026, 1, day)) is H
    assert CAL.day_info(date(2026, 1, 7)).title == "Рождество Христово"
    assert CAL.day_info(date(2026, 1, 1)).title == "Новогодние каникулы"
    ninth = CAL.day_info(date(2026, 1, 9))
    assert ninth.is_moved_day_off and ninth.moved_from == date(2026, 1, 3)
    assert ninth.reason == "перенесённый выходной (с 03.01.2026)"
    assert CAL.next_working_day(date(2025, 12, 30)) == date(2026, 1, 12)


@pytest.mark.parametrize(
    ("moved_to", "moved_from"),
    [
        (date(2026, 1, 9), date(2026, 1, 3)),
        (date(2026, 3, 9), date(2026, 3, 8)),
        (date(2026, 5, 11), date(2026, 5, 9)),
        (date(2026, 12, 31), date(2026, 1, 4)),
        (date(2025, 5, 2), date(2025, 1, 4)),
        (date(2025, 5, 8), date(2025, 2, 23)),
        (date(2025, 6, 13), date(2025, 3, 8)),
        (date(2025, 11, 3), date(2025, 11, 1)),
        (date(2025, 12, 31), date(2025, 1, 5)),
    ],
)
def test_moved_days_off(moved_to: date, moved_from: date) -> None:
    """Every transfer of DOMAIN.md is a non-working day that names where it came from."""
    info = CAL.day_info(moved_to)
    assert info.kind is H and info.is_moved_day_off
    assert info.moved_from == moved_from
    assert not CAL.is_working_day(moved_to)


@pytest.mark.parametrize(
    "day",
    [date(2025, 3, 7), date(2025, 4, 30), date(2025, 6, 11), date(2025, 11, 1),
     date(2026, 4, 30), date(2026, 5, 8), date(2026, 6, 11), date(2026, 11, 3)],
)
def test_shortened_days(day: date) -> None:
    """The shortened days of DOMAIN.md are working days."""
    assert CAL.day_kind(day) is S
    assert CAL.is_working_day(day)


def test_saturday_1_november_2025_is_a_shortened_working_day() -> None:
    """t=2 on a Saturday: a working day, which gave its day off to Monday 3 November."""
    info = CAL.day_info(date(2025, 11, 1))
    assert info.day.weekday() == 5
    assert info.kind is S and info.is_working
    assert info.moved_to == date(2025, 11, 3)
    assert info.reason.startswith("рабочая суббота, сокращённый день")


def test_june_12_and_november_4_are_holidays() -> None:
    """Russia Day and Unity Day carry their titles."""
    assert CAL.day_info(date(2026, 6, 12)).reason == "праздничный день: День России"
    assert CAL.day_info(date(2025, 11, 4)).title == "День народного единства"


def test_2026_has_no_working_weekend_days() -> None:
    """DOMAIN.md: no working Saturday or Sunday in 2026."""
    day = date(2026, 1, 1)
    while day.year == 2026:
        if day.weekday() >= 5:
            assert not CAL.is_working_day(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_yearly_totals_match_the_official_norms(year: int) -> None:
    """247 working days, 118 days off and 1972 hours (40-hour week) in each year."""
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(365)]
    working = [d for d in days if CAL.is_working_day(d)]
    shortened = [d for d in days if CAL.day_kind(d) is S]
    assert (len(working), 365 - len(working), 8 * len(working) - len(shortened)) == (
        247, 118, 1972,
    )


def test_a_year_without_data_falls_back_to_the_week_and_says_so() -> None:
    """2028 has no file: Monday-Friday working, weekends off, flagged as not from data."""
    info = CAL.day_info(date(2028, 1, 3))
    assert info.kind is W and not info.from_data
    assert CAL.day_kind(date(2028, 1, 1)) is E
    assert not CAL.covers(date(2028, 1, 1)) and CAL.covers(date(2027, 12, 31))
    assert CAL.missing_years(date(2027, 12, 1), date(2029, 1, 1)) == (2028, 2029)
    assert CAL.day_info(date(2027, 1, 1)).from_data


def test_2027_new_year_break_and_its_moved_days() -> None:
    """2027: 1-8 January off, 2 and 3 January moved to 5 November and 31 December, Saturday
    20 February a shortened working day for Monday 22 February off."""
    assert CAL.day_info(date(2027, 1, 1)).reason == "праздничный день: Новогодние каникулы"
    assert CAL.next_working_day(date(2026, 12, 30)) == date(2027, 1, 11)
    assert not CAL.is_working_day(date(2027, 11, 5)) and CAL.day_info(date(2027, 11, 5)).is_moved_day_off
    assert not CAL.is_working_day(date(2027, 12, 31))
    assert CAL.day_kind(date(2027, 2, 20)) is S and not CAL.is_working_day(date(2027, 2, 22))
    assert [d for d in (date(2027, 5, 3), date(2027, 5, 10), date(2027, 6, 14))
            if CAL.is_working_day(d)] == []


def test_next_working_day_and_rolling_due_dates() -> None:
    """Due dates on a day off roll forward; a working day stays."""
    assert CAL.next_working_day(date(2026, 4, 30)) == date(2026, 5, 4)
    assert CAL.roll_to_working_day(date(2026, 5, 9)) == date(2026, 5, 12)
    assert CAL.roll_to_working_day(date(2026, 5, 8)) == date(2026, 5, 8)
    assert CAL.next_working_day(date(2025, 10, 31)) == date(2025, 11, 1)
    assert CAL.next_working_day(date(2027, 12, 30)) == date(2028, 1, 3)


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)))
def test_next_working_day_skips_only_days_off(day: date) -> None:
    """Every day between `day` and its next working day is a day off."""
    following = CAL.next_working_day(day)
    assert following > day and CAL.is_working_day(following)
    gap = (following - day).days
    assert all(not CAL.is_working_day(day + timedelta(days=n)) for n in range(1, gap))
    assert CAL.roll_to_working_day(day) in (day, following)


def test_an_empty_calendar_is_the_plain_week() -> None:
    """No files at all: the week alone decides."""
    cal = ProductionCalendar()
    assert cal.day_kind(date(2026, 5, 1)) is W and cal.day_kind(date(2026, 5, 2)) is E


# What a calendar's reason may show in Latin letters besides a <tag>: the file's attributes.
XML_NAMES = {"id", "title", "year", "d", "t", "h", "f"}


def _xml(days: str, year: str = "2026") -> str:
    return (
        f'<calendar year="{year}"><holidays><holiday id="1" title="Новый год"/></holidays>'
        f"<days>{days}</days></calendar>"
    )


@pytest.mark.parametrize(
    ("text", "day", "reason"),
    [
        (_xml('<day d="02.30" t="1"/>'), "день 02.30 (30 февраля)",
         "d: такой даты в 2026 году нет (указано '02.30', сначала месяц, потом день)"),
        (_xml('<day d="2026-01-01" t="1"/>'), "день '2026-01-01'",
         "d: нужна дата вида ММ.ДД, сначала месяц (указано '2026-01-01')"),
        (_xml('<day t="1"/>'), "день без даты (нет атрибута d)",
         "d: нужна дата вида ММ.ДД, сначала месяц (не указано)"),
        (_xml('<day d="01.01" t="5"/>'), "день 01.01 (1 января)", "тип дня t должен быть 1, 2 или 3 (указано '5')"),
        (_xml('<day d="01.01"/>'), "день 01.01 (1 января)",
         "не указан тип дня t: 1 — выходной, 2 — сокращённый, 3 — рабочий выходной"),
        (_xml('<day d="01.01" t="1" h="9"/>'), "день 01.01 (1 января)", "h='9': праздника с таким id нет в <holidays>"),
        (_xml('<day d="01.01" t="1"/><day d="01.01" t="1"/>'), "день 01.01 (1 января)", "день указан дважды"),
        (_xml('<day d="01.12" t="3"/>'), "день 01.12 (12 января)", "t=3 (рабочий выходной) указан для будничного дня"),
        (_xml('<day d="01.08" t="2" f="01.03"/>'), "день 01.08 (8 января)",
         "перенос (f) допустим только для выходного дня (t=1)"),
        (_xml('<day d="01.09" t="1" f="1.3"/>'), "день 01.09 (9 января)",
         "f: нужна дата вида ММ.ДД, сначала месяц (указано '1.3')"),
        ('<calendar year="2026"><holidays><holiday id="x" title="Новый год"/></holidays></calendar>',
         "праздник id='x'", "id должен быть числом"),
        ('<calendar year="2026"><holidays><holiday id="1"/></holidays></calendar>',
         "праздник id='1'", "не задано название праздника (title)"),
        (_xml("", year="twenty"), "", "year в <calendar> должен быть годом от 1990 до 2200 (указано 'twenty')"),
        ("<calendar><days/></calendar>", "", "у элемента <calendar> не указан год (атрибут year)"),
        ("<calendar year='2026'><days>", "",
         "ошибка разметки в строке 1, столбце 29: файл пуст или оборван: элемент не закрыт"),
        ("<calendar year='2026'><days></day></calendar>", "",
         "ошибка разметки в строке 1, столбце 31: закрывающий тег не соответствует открывающему"),
        ("<kalender year='2026'/>", "", "корневой элемент должен быть <calendar>, а не <kalender>"),
        (
            '<!DOCTYPE c [<!ENTITY a "aaaa">]><calendar year="2026"/>',
            "",
            "объявления <!DOCTYPE> и <!ENTITY> в файле не допускаются",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_file_day_and_reason(
    tmp_path: Path, text: str, day: str, reason: str
) -> None:
    """The error says which file, which day and what is wrong, in Russian: Latin letters only
    in the file's own element and attribute names and in values quoted from it."""
    path = tmp_path / "2026.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_calendar_file(path)
    assert caught.value.source == str(path)
    assert caught.value.day == day
    assert caught.value.reason == reason
    assert str(caught.value) == f"календарь {path}{', ' + day if day else ''}: {reason}"
    assert foreign_words(re.sub(r"<[^>]*>", "", reason), XML_NAMES) == []  # <tag> is the file's own


def test_a_file_named_for_another_year_is_refused(tmp_path: Path) -> None:
    """2025.xml holding year 2026 is a mistake, not a silent override."""
    (tmp_path / "2025.xml").write_text(_xml(""), encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_calendar_dir(tmp_path)
    assert str(caught.value) == (f"календарь {tmp_path / '2025.xml'}: год в имени файла (2025) "
                                 "не совпадает с годом в данных (2026)")


def test_the_same_year_twice_is_refused(tmp_path: Path) -> None:
    """Two files for one year: the error names both."""
    (tmp_path / "a.xml").write_text(_xml(""), encoding="utf-8")
    (tmp_path / "b.xml").write_text(_xml(""), encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_calendar_dir(tmp_path)
    assert str(caught.value) == (f"календарь {tmp_path / 'b.xml'}: 2026 год уже задан в файле "
                                 f"{tmp_path / 'a.xml'}")


def test_a_missing_directory_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    """A wrong calendar_dir setting stops start-up naming the directory; a file that cannot be
    read is named with the system's reason in Russian."""
    with pytest.raises(CalendarError) as caught:
        load_calendar_dir(tmp_path / "nope")
    assert str(caught.value) == f"календарь {tmp_path / 'nope'}: такой папки нет"
    (tmp_path / "2026.xml").mkdir()
    with pytest.raises(CalendarError) as caught:
        load_calendar_file(tmp_path / "2026.xml")
    assert caught.value.reason == "не удаётся прочитать файл: это папка, а не файл"


def test_parse_from_text_keeps_titles() -> None:
    """parse_calendar works on text too and keeps the holiday titles."""
    year = parse_calendar(_xml('<day d="01.01" t="1" h="1"/>'), source="inline")
    assert year.year == 2026 and year.holidays == {1: "Новый год"}
    assert year.days[date(2026, 1, 1)].title == "Новый год"
