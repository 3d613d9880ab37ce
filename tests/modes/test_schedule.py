"""Line modes from weekly hours, the production calendar, time zones and overrides."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.modes.calendar_table import format_calendar
from hotline.config import Line, load_settings
from hotline.modes.schedule import (
    ModeInterval,
    Override,
    ReasonCode,
    day_plan,
    mode_at,
    mode_intervals,
    next_switch,
)
from journal.calendar import ProductionCalendar, load_calendar_dir
from tests.support.paths import REPO

CAL = load_calendar_dir(REPO / "config" / "calendar")
BARNAUL = ZoneInfo("Asia/Barnaul")
FUND_HOURS = {day: "08:30-17:30" for day in ("mon", "tue", "wed", "thu")} | {"fri": "08:30-16:15"}
FUND = Line.model_validate({"number": "88007758565", "organization": "tfoms", "hours": FUND_HOURS})
SOGAZ = Line(number="88002009204", organization="sogaz", around_the_clock=True)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A wall-clock time in Barnaul (the lines' zone) as an aware datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BARNAUL)


def operator_spans(line: Line, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """Operator intervals as local 'DD.MM HH:MM' pairs, easy to compare with a timetable."""
    return [
        (f"{iv.start.astimezone(line.zone):%d.%m %H:%M}", f"{iv.end.astimezone(line.zone):%H:%M}")
        for iv in mode_intervals(line, CAL, start, end)
        if iv.mode == "operator"
    ]


def test_the_example_config_lines_are_the_ones_tested() -> None:
    """The fund line here is the fund line of config/hotline.toml."""
    config = load_settings(REPO / "config" / "hotline.toml", {})
    assert config.line(FUND.number) == FUND
    assert config.line(SOGAZ.number).around_the_clock


def test_may_2026_holidays_for_the_fund_line() -> None:
    """30 Apr shortened to 16:30, 1-3 May off, 4-7 full days, 8 May to 15:15, 9-11 May off."""
    spans = operator_spans(FUND, local(2026, 4, 29), local(2026, 5, 13))
    assert spans == [
        ("29.04 08:30", "17:30"),
        ("30.04 08:30", "16:30"),
        ("04.05 08:30", "17:30"),
        ("05.05 08:30", "17:30"),
        ("06.05 08:30", "17:30"),
        ("07.05 08:30", "17:30"),
        ("08.05 08:30", "15:15"),
        ("12.05 08:30", "17:30"),
    ]


@pytest.mark.parametrize(
    ("at", "mode", "code"),
    [
        (local(2026, 4, 30, 8, 29), "secretary", ReasonCode.AFTER_HOURS),
        (local(2026, 4, 30, 8, 30), "operator", ReasonCode.SHORTENED_DAY),
        (local(2026, 4, 30, 16, 29, 59), "operator", ReasonCode.SHORTENED_DAY),
        (local(2026, 4, 30, 16, 30), "secretary", ReasonCode.AFTER_HOURS),
        (local(2026, 5, 1, 12), "secretary", ReasonCode.HOLIDAY),
        (local(2026, 5, 2, 12), "secretary", ReasonCode.WEEKEND),
        (local(2026, 5, 4, 12), "operator", ReasonCode.WEEKDAY_HOURS),
        (local(2026, 5, 8, 15, 15), "secretary", ReasonCode.AFTER_HOURS),
        (local(2026, 5, 9, 12), "secretary", ReasonCode.HOLIDAY),
        (local(2026, 5, 11, 12), "secretary", ReasonCode.MOVED_DAY_OFF),
        (local(2026, 6, 11, 16, 0), "operator", ReasonCode.SHORTENED_DAY),
        (local(2026, 6, 11, 16, 30), "secretary", ReasonCode.AFTER_HOURS),
        (local(2026, 6, 12, 10), "secretary", ReasonCode.HOLIDAY),
        (local(2026, 1, 9, 10), "secretary", ReasonCode.MOVED_DAY_OFF),
        (local(2026, 3, 9, 10), "secretary", ReasonCode.MOVED_DAY_OFF),
        (local(2026, 1, 12, 10), "operator", ReasonCode.WEEKDAY_HOURS),
        (local(2025, 11, 1, 10), "operator", ReasonCode.SHORTENED_DAY),
        (local(2025, 11, 1, 16, 30), "secretary", ReasonCode.AFTER_HOURS),
        (local(2025, 11, 3, 10), "secretary", ReasonCode.MOVED_DAY_OFF),
    ],
)
def test_mode_at(at: datetime, mode: str, code: ReasonCode) -> None:
    """The fund line's mode and reason code at chosen instants (boundaries are exact)."""
    state = mode_at(FUND, CAL, at)
    assert (state.mode, state.reason.code) == (mode, code)


def test_reasons_are_russian_and_name_the_day() -> None:
    """The UI shows the holiday title, the moved day's origin and the shortened hours."""
    assert mode_at(FUND, CAL, local(2026, 6, 12, 10)).reason.text == "праздничный день: День России"
    assert "с 09.05.2026" in mode_at(FUND, CAL, local(2026, 5, 11, 10)).reason.text
    shortened = mode_at(FUND, CAL, local(2026, 6, 11, 10)).reason.text
    assert shortened == "сокращённый предпраздничный день: 08:30–16:30"
    assert mode_at(FUND, CAL, local(2026, 5, 4, 10)).reason.text == "рабочее время 08:30–17:30"


def test_saturday_1_november_2025_works_monday_hours_one_hour_short() -> None:
    """The working Saturday replaces Monday 3 November: Monday's 8:30-17:30 less an hour."""
    assert operator_spans(FUND, local(2025, 10, 31), local(2025, 11, 6)) == [
        ("31.10 08:30", "16:15"),
        ("01.11 08:30", "16:30"),
        ("05.11 08:30", "17:30"),
    ]


def test_january_2026_holidays_span_from_the_moved_31_december() -> None:
    """After 30.12.2025 the fund's operators are next on duty on 12 January 2026."""
    switch = next_switch(FUND, CAL, local(2025, 12, 30, 17, 30))
    assert switch is not None and switch.mode == "operator"
    assert switch.at == local(2026, 1, 12, 8, 30)
    assert switch.reason.code is ReasonCode.WEEKDAY_HOURS


def test_boundaries_are_in_the_line_time_zone() -> None:
    """Barnaul is UTC+7 all year; a Moscow line opens four hours later in UTC."""
    assert mode_at(FUND, CAL, datetime(2026, 5, 4, 1, 29, tzinfo=UTC)).mode == "secretary"
    assert mode_at(FUND, CAL, datetime(2026, 5, 4, 1, 30, tzinfo=UTC)).mode == "operator"
    moscow = FUND.model_copy(update={"timezone": "Europe/Moscow"})
    switch = next_switch(moscow, CAL, datetime(2026, 5, 4, 1, 30, tzinfo=UTC))
    assert switch is not None and switch.at == datetime(2026, 5, 4, 5, 30, tzinfo=UTC)
    assert all(iv.start.tzinfo is UTC for iv in mode_intervals(FUND, CAL, local(2026, 5, 4),
                                                                local(2026, 5, 5)))


def test_around_the_clock_lines_are_always_operator() -> None:
    """An СМО line is staffed on holidays too and never switches by itself."""
    intervals = mode_intervals(SOGAZ, CAL, local(2025, 12, 25), local(2026, 1, 15))
    assert [(iv.mode, iv.reason.code) for iv in intervals] == [
        ("operator", ReasonCode.AROUND_THE_CLOCK)
    ]
    assert next_switch(SOGAZ, CAL, local(2026, 5, 1)) is None


def test_override_applies_and_expires() -> None:
    """Secretary forced from 10:00 until 12:00 on a working day, then the schedule again."""
    override = Override(FUND.number, "secretary", until=local(2026, 5, 5, 12), set_by="admin",
                        reason="учения", since=local(2026, 5, 5, 10))
    assert mode_at(FUND, CAL, local(2026, 5, 5, 9, 59), [override]).mode == "operator"
    forced = mode_at(FUND, CAL, local(2026, 5, 5, 11), [override])
    assert forced.mode == "secretary" and forced.reason.code is ReasonCode.OVERRIDE
    assert forced.reason.text == "ручной режим до 05.05.2026 12:00, установил admin: учения"
    after = mode_at(FUND, CAL, local(2026, 5, 5, 12), [override])
    assert (after.mode, after.reason.code) == ("operator", ReasonCode.WEEKDAY_HOURS)
    switch = next_switch(FUND, CAL, local(2026, 5, 5, 10), [override])
    assert switch is not None and (switch.at, switch.mode) == (local(2026, 5, 5, 12), "operator")


def test_override_on_a_holiday_and_on_another_line() -> None:
    """Operators forced on 1 May only on their own line; a 24/7 line switches at the end."""
    override = Override(FUND.number, "operator", until=local(2026, 5, 1, 15), set_by="admin")
    assert mode_at(FUND, CAL, local(2026, 5, 1, 14), [override]).mode == "operator"
    assert mode_at(FUND, CAL, local(2026, 5, 1, 15), [override]).reason.code is ReasonCode.HOLIDAY
    other = Override(SOGAZ.number, "secretary", until=local(2026, 5, 1, 15), set_by="admin")
    assert mode_at(FUND, CAL, local(2026, 5, 1, 14), [other]).mode == "secretary"
    switch = next_switch(SOGAZ, CAL, local(2026, 5, 1, 14), [other])
    assert switch is not None and (switch.at, switch.mode) == (local(2026, 5, 1, 15), "operator")


def test_a_weekday_without_hours_and_a_staffed_saturday() -> None:
    """A line's own day off is the secretary; Saturday hours of a line are honoured."""
    line = Line.model_validate(
        {"number": "88001112233", "organization": "x",
         "hours": {"mon": "09:00-18:00", "sat": "10:00-14:00"}}
    )
    tuesday = mode_at(line, CAL, local(2026, 5, 5, 12))
    assert (tuesday.mode, tuesday.reason.code) == ("secretary", ReasonCode.WEEKEND)
    saturday = mode_at(line, CAL, local(2026, 5, 16, 12))
    assert (saturday.mode, saturday.reason.code) == ("operator", ReasonCode.WEEKDAY_HOURS)
    assert mode_at(line, CAL, local(2026, 5, 9, 12)).reason.code is ReasonCode.HOLIDAY


def test_naive_times_and_unknown_modes_are_refused() -> None:
    """Only aware datetimes; a mode is operator or secretary."""
    with pytest.raises(ValueError, match="aware"):
        mode_at(FUND, CAL, datetime(2026, 5, 4, 10))
    with pytest.raises(ValueError, match="unknown mode"):
        Override(
            FUND.number, "closed", until=local(2026, 5, 4), set_by="a"  # type: ignore[arg-type]
        )


def test_a_year_without_calendar_uses_the_week_and_the_cli_warns() -> None:
    """3 January 2028 has no data: a Monday with hours, and the table says so; 1 January
    2027, a Friday, is a holiday from its file."""
    assert mode_at(FUND, CAL, local(2028, 1, 3, 10)).mode == "operator"
    text = format_calendar(FUND, CAL, local(2027, 12, 31).date(), local(2028, 1, 3).date())
    assert "нет производственного календаря на 2028 год" in text
    assert mode_at(FUND, CAL, local(2027, 1, 1, 10)).mode == "secretary"


def test_the_cli_table_for_the_may_holidays() -> None:
    """`hotline calendar show --from 2026-04-27 --to 2026-05-12`: rows with mode and reason."""
    text = format_calendar(FUND, CAL, local(2026, 4, 27).date(), local(2026, 5, 12).date())
    rows = text.splitlines()
    assert rows[0] == ("Линия 88007758565 (tfoms, Asia/Barnaul, по графику): "
                       "27.04.2026 – 12.05.2026")
    assert "чт 30.04.2026 08:30 – чт 30.04.2026 16:30  оператор       " \
           "сокращённый предпраздничный день: 08:30–16:30" in rows
    assert "пт 01.05.2026 00:00 – сб 02.05.2026 00:00  автосекретарь  " \
           "праздничный день: Праздник Весны и Труда" in rows
    assert "сб 02.05.2026 00:00 – пн 04.05.2026 00:00  автосекретарь  выходной день" in rows
    assert "пт 08.05.2026 08:30 – пт 08.05.2026 15:15  оператор       " \
           "сокращённый предпраздничный день: 08:30–15:15" in rows
    assert "пн 11.05.2026 00:00 – вт 12.05.2026 00:00  автосекретарь  " \
           "перенесённый выходной (с 09.05.2026)" in rows
    assert rows[1].startswith("пн 27.04.2026 00:00") and rows[-1].endswith("нерабочее время")
    assert rows[-1].startswith("вт 12.05.2026 17:30 – ср 13.05.2026 00:00")
    assert sum(" оператор " in row for row in rows) == 10  # 27-30.04, 4-8.05, 12.05


def test_the_cli_table_shows_an_override() -> None:
    """An override is a row of its own with who set it."""
    override = Override(FUND.number, "operator", until=local(2026, 5, 2, 14), set_by="petrova",
                        since=local(2026, 5, 2, 10))
    text = format_calendar(FUND, CAL, local(2026, 5, 2).date(), local(2026, 5, 2).date(),
                           [override])
    assert text.splitlines()[1:] == [
        "сб 02.05.2026 00:00 – сб 02.05.2026 10:00  автосекретарь  выходной день",
        "сб 02.05.2026 10:00 – сб 02.05.2026 14:00  оператор       "
        "ручной режим до 02.05.2026 14:00, установил petrova",
        "сб 02.05.2026 14:00 – вс 03.05.2026 00:00  автосекретарь  выходной день",
    ]


def test_day_plan_covers_the_local_day() -> None:
    """One local day, midnight to midnight, three pieces on a working day."""
    plan = day_plan(FUND, CAL, local(2026, 5, 4).date())
    assert [iv.mode for iv in plan] == ["secretary", "operator", "secretary"]
    assert plan[0].start == local(2026, 5, 4) and plan[-1].end == local(2026, 5, 5)


def _well_formed(intervals: list[ModeInterval], start: datetime, end: datetime) -> None:
    assert intervals[0].start == start and intervals[-1].end == end
    for prev, cur in itertools.pairwise(intervals):
        assert prev.end == cur.start
        assert (prev.mode, prev.reason) != (cur.mode, cur.reason)
    assert all(iv.start < iv.end for iv in intervals)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2027, 1, 31),
                       timezones=st.just(UTC)),
    length=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=20)),
    zone=st.sampled_from(["Asia/Barnaul", "Europe/Moscow", "Europe/Berlin", "America/New_York"]),
)
def test_intervals_tile_any_range_in_any_zone(
    start: datetime, length: timedelta, zone: str
) -> None:
    """Contiguous, non-empty, merged, exactly covering the range — DST zones included."""
    line = FUND.model_copy(update={"timezone": zone})
    intervals = mode_intervals(line, CAL, start, start + length)
    _well_formed(intervals, start, start + length)
    switch = next_switch(line, CAL, start)
    assert switch is not None and switch.at > start
    assert mode_at(line, CAL, switch.at).mode != mode_at(line, CAL, start).mode


def test_an_empty_calendar_still_gives_weekly_hours() -> None:
    """No calendar files: holidays are unknown, weekly hours still apply."""
    state = mode_at(FUND, ProductionCalendar(), local(2026, 5, 1, 10))
    assert (state.mode, state.reason.code) == ("operator", ReasonCode.WEEKDAY_HOURS)
