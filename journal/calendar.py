"""The Russian production calendar (производственный календарь) as data.

One file per year in the common xmlcalendar format (DOMAIN.md, "Production calendar"):

    <calendar year="2026">
      <holidays><holiday id="1" title="Новогодние каникулы"/>…</holidays>
      <days>
        <day d="01.01" t="1" h="1"/><day d="01.09" t="1" f="01.03"/><day d="04.30" t="2"/>
      </days>
    </calendar>

`d` and `f` are MM.DD; `t` = 1 day off, 2 shortened working day, 3 working weekend day; `h`
points at a holiday title; `f` is the date a moved day off came from. A day that is not listed
follows the week: Monday to Friday working, Saturday and Sunday off. A year with no file
falls back to that same week-only logic, and every answer says so (`DayInfo.from_data`).

Pure data and functions: the journal rolls 59-ФЗ due dates with it, the service derives the
operator / secretary modes of its lines from it. Nothing here touches a database or a clock.
A file that cannot be used is refused with a Russian reason (`CalendarError`): the people who
edit the files read Russian.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from xml.parsers import expat

from journal.os_errors import os_reason

_MONTH_DAY_RE = re.compile(r"^(\d{2})\.(\d{2})$")
_FORBIDDEN_XML = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_SEARCH_LIMIT_DAYS = 400
SATURDAY = 5


class CalendarError(ValueError):
    """A calendar file cannot be used; the message names the file, the day (or holiday) when
    the mistake is in one, and the reason, in Russian:
    «календарь 2027.xml, день 01.08 (8 января): перенос (f) допустим только для выходного дня (t=1)».
    `day` is "" for a mistake of the whole file."""

    def __init__(self, source: str, day: str, reason: str) -> None:
        where = f", {day}" if day else ""
        super().__init__(f"календарь {source}{where}: {reason}")
        self.source = source
        self.day = day
        self.reason = reason


_MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                    "сентября", "октября", "ноября", "декабря")


def _day_named(text: str | None, year: int) -> str:
    """A `<day d=...>` as an error names it: as the file writes it (MM.DD, to be found there)
    and, since a Russian reader takes 01.08 for the 1st of August, in words."""
    if text is None:
        return "день без даты (нет атрибута d)"
    match = _MONTH_DAY_RE.match(text)
    if match:
        month, day = (int(g) for g in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"день {text} ({day} {_MONTHS_GENITIVE[month - 1]})"
    return f"день {text!r}"


class DayKind(StrEnum):
    """What kind of day a date is for a five-day working week."""

    WORKING = "working"
    SHORTENED = "shortened"  # a working day one hour shorter (предпраздничный)
    HOLIDAY = "holiday"  # a non-working day: public holiday or a day off moved by decree
    WEEKEND = "weekend"
    WORKING_WEEKEND = "working_weekend"  # a Saturday or Sunday made a working day by decree


WORKING_KINDS = frozenset({DayKind.WORKING, DayKind.SHORTENED, DayKind.WORKING_WEEKEND})


@dataclass(frozen=True, slots=True)
class DayInfo:
    """One date as the calendar sees it.

    `title` is the holiday's name for a holiday; `moved_from` the date a moved day off came
    from; `moved_to` (for a working weekend day) the date whose day off it gave away;
    `from_data` is False when the year has no calendar file and only the week was used.
    """

    day: date
    kind: DayKind
    title: str | None = None
    moved_from: date | None = None
    moved_to: date | None = None
    from_data: bool = True

    @property
    def is_working(self) -> bool:
        return self.kind in WORKING_KINDS

    @property
    def is_moved_day_off(self) -> bool:
        """A day off that is only moved here (no holiday of its own)."""
        return self.kind is DayKind.HOLIDAY and self.title is None and self.moved_from is not None

    @property
    def reason(self) -> str:
        """Why the day is what it is, in Russian, for the UI."""
        if self.kind is DayKind.HOLIDAY:
            if self.title:
                return f"праздничный день: {self.title}"
            if self.moved_from:
                return f"перенесённый выходной (с {self.moved_from:%d.%m.%Y})"
            return "нерабочий день"
        if self.kind is DayKind.WORKING_WEEKEND or (
            self.kind is DayKind.SHORTENED and self.day.weekday() >= SATURDAY
        ):
            return _working_weekend_reason(self)
        return _PLAIN_REASONS[self.kind]


_PLAIN_REASONS = {
    DayKind.WORKING: "рабочий день",
    DayKind.SHORTENED: "сокращённый предпраздничный день",
    DayKind.WEEKEND: "выходной день",
}


def _working_weekend_reason(info: DayInfo) -> str:
    text = "рабочая суббота" if info.day.weekday() == SATURDAY else "рабочее воскресенье"
    if info.kind is DayKind.SHORTENED:
        text += ", сокращённый день"
    if info.moved_to:
        text += f" (выходной перенесён на {info.moved_to:%d.%m.%Y})"
    return text


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """The parsed file of one year: the listed days only (others follow the week)."""

    year: int
    source: str
    holidays: Mapping[int, str]
    days: Mapping[date, DayInfo] = field(default_factory=dict)


class ProductionCalendar:
    """Day kinds of any date: from the loaded years, or from the week for other years."""

    def __init__(self, years: Iterable[CalendarYear] = ()) -> None:
        self._years: dict[int, CalendarYear] = {}
        for year in years:
            if year.year in self._years:
                other = self._years[year.year].source
                raise CalendarError(year.source, "", f"{year.year} год уже задан в файле {other}")
            self._years[year.year] = year

    def listed_days(self) -> list[DayInfo]:
        """Every day the loaded files name (holidays, moved days, shortened, working weekends)."""
        return [info for year in sorted(self._years) for info in self._years[year].days.values()]

    @property
    def years(self) -> tuple[int, ...]:
        """The years that have data, ascending."""
        return tuple(sorted(self._years))

    def covers(self, day: date) -> bool:
        """True when the year of `day` has calendar data (else only the week is known)."""
        return day.year in self._years

    def missing_years(self, start: date, end: date) -> tuple[int, ...]:
        """Years between `start` and `end` (inclusive) that have no calendar data."""
        return tuple(y for y in range(start.year, end.year + 1) if y not in self._years)

    def day_info(self, day: date) -> DayInfo:
        """Everything known about `day`."""
        year = self._years.get(day.year)
        if year is None:
            return DayInfo(day, _week_kind(day), from_data=False)
        return year.days.get(day) or DayInfo(day, _week_kind(day))

    def day_kind(self, day: date) -> DayKind:
        return self.day_info(day).kind

    def reason(self, day: date) -> str:
        """The Russian reason for the day's kind (holiday title, "перенесённый выходной"…)."""
        return self.day_info(day).reason

    def is_working_day(self, day: date) -> bool:
        return self.day_info(day).is_working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day
        for _ in range(_SEARCH_LIMIT_DAYS):
            candidate += timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        # No file can make 400 days off in a row: an invariant, not a person's mistake.
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {day}")

    def roll_to_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the next working day (59-ФЗ due dates)."""
        return day if self.is_working_day(day) else self.next_working_day(day)


def _week_kind(day: date) -> DayKind:
    return DayKind.WEEKEND if day.weekday() >= SATURDAY else DayKind.WORKING


# --- parsing -------------------------------------------------------------------------------


def parse_calendar(data: bytes | str, source: str = "<memory>") -> CalendarYear:
    """Parse one xmlcalendar document. Raises CalendarError naming `source`, day and reason.

    Safe parsing: a DTD or entity declaration is refused before the parser sees the text, so
    neither entity expansion nor external entities are possible.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if _FORBIDDEN_XML.search(raw):
        raise CalendarError(source, "", "объявления <!DOCTYPE> и <!ENTITY> в файле не допускаются")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise CalendarError(source, "", _xml_reason(exc)) from None
    if root.tag != "calendar":
        raise CalendarError(source, "", f"корневой элемент должен быть <calendar>, а не <{root.tag}>")
    year = _parse_year(root.get("year"), source)
    holidays = _parse_holidays(root, source)
    days = _parse_days(root, year, holidays, source)
    return CalendarYear(year=year, source=source, holidays=holidays, days=days)


def _parse_year(text: str | None, source: str) -> int:
    if text is None:
        raise CalendarError(source, "", "у элемента <calendar> не указан год (атрибут year)")
    if not text.isdigit() or not 1990 <= int(text) <= 2200:
        raise CalendarError(source, "", f"year в <calendar> должен быть годом от 1990 до 2200 "
                            f"(указано {text!r})")
    return int(text)


def _parse_holidays(root: ET.Element, source: str) -> dict[int, str]:
    holidays: dict[int, str] = {}
    for element in root.iterfind("holidays/holiday"):
        ident, title = element.get("id", ""), (element.get("title") or "").strip()
        where = f"праздник id={ident!r}"
        if not ident.isdigit():
            raise CalendarError(source, where, "id должен быть числом")
        if not title:
            raise CalendarError(source, where, "не задано название праздника (title)")
        if int(ident) in holidays:
            raise CalendarError(source, where, "этот id уже есть у другого праздника")
        holidays[int(ident)] = title
    return holidays


def _parse_days(
    root: ET.Element, year: int, holidays: Mapping[int, str], source: str
) -> dict[date, DayInfo]:
    days: dict[date, DayInfo] = {}
    for element in root.iterfind("days/day"):
        info = _parse_day(element, year, holidays, source)
        if info.day in days:
            raise CalendarError(source, _day_named(element.get("d"), year), "день указан дважды")
        days[info.day] = info
    return _link_working_weekends(days)


def _parse_day(
    element: ET.Element, year: int, holidays: Mapping[int, str], source: str
) -> DayInfo:
    where = _day_named(element.get("d"), year)
    try:
        day = _month_day(element.get("d"), year, "d")
        kind_code = element.get("t")
        if kind_code is None:
            raise ValueError("не указан тип дня t: 1 — выходной, 2 — сокращённый, 3 — рабочий выходной")
        if kind_code not in ("1", "2", "3"):
            raise ValueError(f"тип дня t должен быть 1, 2 или 3 (указано {kind_code!r})")
        title = _holiday_title(element.get("h"), holidays)
        moved_from = _month_day(element.get("f"), year, "f") if element.get("f") else None
        if moved_from is not None and kind_code != "1":
            raise ValueError("перенос (f) допустим только для выходного дня (t=1)")
        return DayInfo(day, _day_kind(kind_code, day), title=title, moved_from=moved_from)
    except ValueError as exc:
        raise CalendarError(source, where, str(exc)) from None


def _month_day(text: str | None, year: int, attribute: str) -> date:
    """The `d` or `f` of a day (MM.DD) as a date of `year`; the ValueError's words are Russian."""
    match = _MONTH_DAY_RE.match(text or "")
    if not match:
        shown = f"указано {text!r}" if text is not None else "не указано"
        raise ValueError(f"{attribute}: нужна дата вида ММ.ДД, сначала месяц ({shown})")
    month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{attribute}: такой даты в {year} году нет (указано {text!r}, "
                         "сначала месяц, потом день)") from None


# Expat's errors (xml.parsers.expat.errors) by their English text, which ParseError's `code`
# leads to; the commonest mistakes of a hand-edited file.
_XML_ERRORS = {
    expat.errors.XML_ERROR_SYNTAX: "синтаксическая ошибка",
    expat.errors.XML_ERROR_NO_ELEMENTS: "файл пуст или оборван: элемент не закрыт",
    expat.errors.XML_ERROR_INVALID_TOKEN: "недопустимый символ или неверно записанный тег",
    expat.errors.XML_ERROR_UNCLOSED_TOKEN: "тег не закрыт: нет «>»",
    expat.errors.XML_ERROR_PARTIAL_CHAR: "оборванный символ",
    expat.errors.XML_ERROR_TAG_MISMATCH: "закрывающий тег не соответствует открывающему",
    expat.errors.XML_ERROR_DUPLICATE_ATTRIBUTE: "атрибут повторяется в одном теге",
    expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "лишний текст после конца <calendar>",
    expat.errors.XML_ERROR_UNDEFINED_ENTITY: "неизвестная ссылка «&…;» (сам знак пишут «&amp;»)",
    expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION: "раздел <![CDATA[ не закрыт",
    expat.errors.XML_ERROR_BAD_CHAR_REF: "ссылка на недопустимый символ",
    expat.errors.XML_ERROR_INCORRECT_ENCODING: "кодировка в заголовке не совпадает с кодировкой файла",
    expat.errors.XML_ERROR_UNKNOWN_ENCODING: "неизвестная кодировка в заголовке",
    expat.errors.XML_ERROR_MISPLACED_XML_PI: "заголовок <?xml ...?> должен быть в самом начале файла",
}


def _xml_reason(exc: ET.ParseError) -> str:
    """Where the file stops being XML and why, in Russian (ParseError's text is English)."""
    line, column = getattr(exc, "position", (0, 0))
    what = _XML_ERRORS.get(expat.errors.messages.get(getattr(exc, "code", 0), ""), "неверная запись")
    return f"ошибка разметки в строке {line}, столбце {column + 1}: {what}"


def _holiday_title(ref: str | None, holidays: Mapping[int, str]) -> str | None:
    if ref is None:
        return None
    if not ref.isdigit() or int(ref) not in holidays:
        raise ValueError(f"h={ref!r}: праздника с таким id нет в <holidays>")
    return holidays[int(ref)]


def _day_kind(code: str, day: date) -> DayKind:
    weekend = day.weekday() >= SATURDAY
    if code == "1":
        return DayKind.HOLIDAY
    if code == "2":
        return DayKind.SHORTENED  # a shortened Saturday is a (shorter) working day
    if not weekend:
        raise ValueError("t=3 (рабочий выходной) указан для будничного дня")
    return DayKind.WORKING_WEEKEND


def _link_working_weekends(days: dict[date, DayInfo]) -> dict[date, DayInfo]:
    """Mark each working Saturday/Sunday with the date its day off moved to (`f=` of it)."""
    moved_to = {info.moved_from: day for day, info in days.items() if info.moved_from}
    linked = dict(days)
    for day, info in days.items():
        if info.is_working and day.weekday() >= SATURDAY and day in moved_to:
            linked[day] = DayInfo(day, info.kind, info.title, info.moved_from, moved_to[day])
    return linked


# --- loading -------------------------------------------------------------------------------


def load_calendar_file(path: Path | str) -> CalendarYear:
    """Read and parse one file. Raises CalendarError naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalendarError(str(path), "", f"не удаётся прочитать файл: {os_reason(exc)}") from None
    year = parse_calendar(data, source=str(path))
    if path.stem.isdigit() and int(path.stem) != year.year:
        raise CalendarError(str(path), "", f"год в имени файла ({path.stem}) не совпадает с годом "
                            f"в данных ({year.year})")
    return year


def load_calendar_dir(directory: Path | str) -> ProductionCalendar:
    """Load every `*.xml` of `directory` (one year each). A missing directory is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        reason = "это не папка" if directory.exists() else "такой папки нет"
        raise CalendarError(str(directory), "", reason)
    files = sorted(directory.glob("*.xml"))
    return ProductionCalendar(load_calendar_file(path) for path in files)
