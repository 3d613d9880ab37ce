"""Russian words for the secretary's dynamic phrases: times of day and dates, in the genitive.

"Операторы работают с восьми тридцати до семнадцати тридцати": after «с» and «до» a time is in
the genitive case, which Asterisk's own `SAY NUMBER` (nominative only) cannot say. So each
phrase is built as `Segment`s: the Russian text (for logs, tests and the prompt builder) and the
id of a pre-recorded prompt that says exactly that word (`time/h08`, `time/m30`, `date/d12`,
...), played one after another. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

_UNITS_GEN = (
    "ноля", "одного", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми", "девяти",
    "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати", "пятнадцати",
    "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати",
)
_TENS_GEN = {2: "двадцати", 3: "тридцати", 4: "сорока", 5: "пятидесяти"}
# Minutes are feminine (минута): «ноль одной», «двадцати одной», «тридцати двух».
_MINUTE_UNITS_GEN = {1: "одной"}

_ORDINAL_GEN = (
    "", "первого", "второго", "третьего", "четвёртого", "пятого", "шестого", "седьмого",
    "восьмого", "девятого", "десятого", "одиннадцатого", "двенадцатого", "тринадцатого",
    "четырнадцатого", "пятнадцатого", "шестнадцатого", "семнадцатого", "восемнадцатого",
    "девятнадцатого", "двадцатого",
)
_TENS_ORDINAL_GEN = {2: "двадцатого", 3: "тридцатого"}
_TENS_CARDINAL = {2: "двадцать", 3: "тридцать"}

MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)
# «в понедельник», «во вторник», ... (accusative after в/во).
WEEKDAYS_ACC = (
    "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
    "в воскресенье",
)
WEEKDAY_IDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Segment:
    """One pre-recorded word or phrase: `prompt` is its id, `text` what it says."""

    prompt: str
    text: str


def genitive_number(value: int, *, feminine: bool = False) -> str:
    """0..59 in the genitive: 8 → «восьми», 30 → «тридцати», 45 → «сорока пяти»."""
    if not 0 <= value <= 59:
        raise ValueError(f"expected 0..59, got {value}")
    if value < 20:
        if feminine and value in _MINUTE_UNITS_GEN:
            return _MINUTE_UNITS_GEN[value]
        return _UNITS_GEN[value]
    tens, units = divmod(value, 10)
    if units == 0:
        return _TENS_GEN[tens]
    return f"{_TENS_GEN[tens]} {genitive_number(units, feminine=feminine)}"


def time_genitive(moment: time) -> str:
    """A time of day as said after «с»/«до»: 08:30 → «восьми тридцати», 09:00 → «девяти»,
    08:05 → «восьми ноль пяти»."""
    hours = genitive_number(moment.hour)
    if moment.minute == 0:
        return hours
    minutes = genitive_number(moment.minute, feminine=True)
    if moment.minute < 10:
        minutes = f"ноль {minutes}"
    return f"{hours} {minutes}"


def time_segments(moment: time) -> list[Segment]:
    """`time_genitive` as prompts: the hour (`time/h08`) and, unless whole, the minutes
    (`time/m30`; `time/m05` says «ноль пяти»)."""
    segments = [Segment(f"time/h{moment.hour:02d}", genitive_number(moment.hour))]
    if moment.minute:
        minutes = genitive_number(moment.minute, feminine=True)
        if moment.minute < 10:
            minutes = f"ноль {minutes}"
        segments.append(Segment(f"time/m{moment.minute:02d}", minutes))
    return segments


def ordinal_genitive(day: int) -> str:
    """A day of the month as in «двенадцатого января»: 1..31."""
    if not 1 <= day <= 31:
        raise ValueError(f"expected 1..31, got {day}")
    if day <= 20:
        return _ORDINAL_GEN[day]
    tens, units = divmod(day, 10)
    if units == 0:
        return _TENS_ORDINAL_GEN[tens]
    return f"{_TENS_CARDINAL[tens]} {_ORDINAL_GEN[units]}"
