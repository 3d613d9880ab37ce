"""What is wrong with the configuration file, in Russian: the reasons `ConfigError` carries.

Pydantic, tomllib and the operating system explain themselves in English; the people who
edit `config/hotline.toml` read Russian. Pydantic's errors are rewritten from their `type` and
`ctx`, the system's from errno, tomllib's (which give nothing but a message) from the message's
known shapes. Whatever is not foreseen gets a generic Russian reason, never the English one.
"""

from __future__ import annotations

import ast
import errno
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import ErrorDetails

# --------------------------------------------------------------------- pydantic's errors

_SIMPLE = {
    "missing": "обязательный ключ не задан",
    "extra_forbidden": "неизвестный ключ",
    "int_parsing": "нужно целое число",
    "int_type": "нужно целое число",
    "int_from_float": "нужно целое число, без дробной части",
    "int_parsing_size": "слишком большое число",
    "float_parsing": "нужно число",
    "float_type": "нужно число",
    "finite_number": "нужно конечное число",
    # true and false are how the file itself spells them.
    "bool_parsing": "нужно логическое значение: true или false",
    "bool_type": "нужно логическое значение: true или false",
    "string_type": "нужна строка в кавычках",
    "string_unicode": "в строке недопустимые символы",
    "time_parsing": "нужно время суток вида ЧЧ:ММ, например '08:00'",
    "time_type": "нужно время суток вида ЧЧ:ММ, например '08:00'",
    "date_parsing": "нужна дата вида ГГГГ-ММ-ДД",
    "date_type": "нужна дата вида ГГГГ-ММ-ДД",
    "datetime_parsing": "нужны дата и время вида ГГГГ-ММ-ДД ЧЧ:ММ",
    "datetime_type": "нужны дата и время вида ГГГГ-ММ-ДД ЧЧ:ММ",
    "list_type": "нужен список в квадратных скобках",
    "tuple_type": "нужен список в квадратных скобках",
    "set_type": "нужен список в квадратных скобках",
    "dict_type": "нужна таблица",
    "model_type": "нужна таблица",
    "model_attributes_type": "нужна таблица",
    "path_type": "нужен путь к файлу или папке в кавычках",
    "url_parsing": "неверный адрес",
    "url_type": "неверный адрес",
    "url_scheme": "неверная схема адреса",
    "url_syntax_violation": "неверный адрес",
    "greater_than": "должно быть больше {gt}",
    "greater_than_equal": "должно быть не меньше {ge}",
    "less_than": "должно быть меньше {lt}",
    "less_than_equal": "должно быть не больше {le}",
    "multiple_of": "должно быть кратно {multiple_of}",
}

# What each `pattern=` of hotline.config asks for, by the pattern itself (a test checks that
# every pattern of the settings has its line here).
PATTERN_HINTS = {
    r"^[a-z0-9][a-z0-9_-]{0,31}$":
        "нужно до 32 символов: строчные латинские буквы, цифры, «_» и «-», первый символ — буква "
        "или цифра",
    r"^[a-z][a-z0-9_]{0,63}$":
        "нужно до 64 символов: строчные латинские буквы, цифры и «_», первый символ — буква",
    r"^[a-z][a-z0-9_-]{1,31}$":
        "нужно от 2 до 32 символов: строчные латинские буквы, цифры, «_» и «-», первый символ — буква",
    r"^[A-Za-z0-9_-]+$": "допустимы только латинские буквы, цифры, «_» и «-»",
    r"^[A-Za-z0-9_-]{1,32}$": "нужно до 32 символов: латинские буквы, цифры, «_» и «-»",
    r"^[A-Za-z0-9_.:-]+$": "нужен адрес или имя узла: латинские буквы, цифры, «.», «:», «_» и «-»",
    r"^[A-Za-z0-9_.-]+$": "нужен адрес или имя узла: латинские буквы, цифры, «.», «_» и «-»",
    r"^\d{2,8}$": "нужен внутренний номер из 2–8 цифр",
    r"^8800\d{7}$": "нужен номер 8-800 из 11 цифр подряд, например '88007758565'",
}

# Keys whose values must not reach a terminal or a log, even when mistyped.
_HIDDEN_KEYS = re.compile(r"secret|token|password|url", re.IGNORECASE)
_SHOWN_LENGTH = 40


def pydantic_reason(error: ErrorDetails) -> str:
    """Why pydantic refused the value at `error["loc"]`, in Russian."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", ""))  # the validators of hotline.config speak Russian
    if kind in ("missing", "extra_forbidden"):
        return _SIMPLE[kind]
    shown = _shown(error)
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(ctx, shown)
    if kind in _SIMPLE:
        numbers = {name: _number(value) for name, value in ctx.items()}
        return _SIMPLE[kind].format(**numbers) + (f" (указано {shown})" if shown else "")
    return f"недопустимое значение {shown}" if shown else "недопустимое значение"


def _choices(ctx: Mapping[str, Any], shown: str) -> str:
    # pydantic joins the last two choices with an English " or ": put a comma there.
    expected = ", ".join(str(ctx.get("expected", "")).rsplit(" or ", 1))
    return f"допустимые значения: {expected}" + (f" (указано {shown})" if shown else "")


def _pattern(ctx: Mapping[str, Any], shown: str) -> str:
    pattern = str(ctx.get("pattern", ""))
    hint = PATTERN_HINTS.get(pattern, f"значение не подходит под шаблон {pattern}")
    return hint + (f" (указано {shown})" if shown else "")


def _string_length(ctx: Mapping[str, Any], shown: str) -> str:
    # The value itself is not repeated: it may be long, or a secret.
    if "max_length" in ctx:
        return f"строка длиннее {_count(ctx['max_length'], 'символа', 'символов')}"
    if ctx.get("min_length") == 1:
        return "строка не должна быть пустой"
    return f"строка короче {_count(ctx.get('min_length', 0), 'символа', 'символов')}"


def _list_length(ctx: Mapping[str, Any], shown: str) -> str:
    if "max_length" in ctx:
        return f"в списке больше {_count(ctx['max_length'], 'элемента', 'элементов')}"
    if ctx.get("min_length") == 1:
        return "список не должен быть пустым"
    return f"в списке меньше {_count(ctx.get('min_length', 0), 'элемента', 'элементов')}"


_SPECIAL: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    "literal_error": _choices,
    "enum": _choices,
    "string_pattern_mismatch": _pattern,
    "string_too_short": _string_length,
    "string_too_long": _string_length,
    "too_short": _list_length,
    "too_long": _list_length,
}


def _shown(error: ErrorDetails) -> str:
    """The offending value as the reason quotes it: short, and empty for a secret's."""
    key = str(error["loc"][-1]) if error["loc"] else ""
    if _HIDDEN_KEYS.search(key):
        return ""
    text = repr(error["input"])
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH - 1] + "…"


def _number(value: object) -> object:
    """100.0 as 100: a bound of a float field reads as the file's author wrote it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _count(n: int, few: str, many: str) -> str:
    """«меньше 21 символа», «меньше 5 символов»: the genitive after a comparison."""
    return f"{n} {few if n % 10 == 1 and n % 100 != 11 else many}"


# --------------------------------------------------------------------- tomllib's errors

_TOML_AT = re.compile(r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$",
                      re.DOTALL)

# tomllib's messages (as of Python 3.11), with what some of them name: a key, a character.
_TOML_MESSAGES = [
    (r"Invalid statement", "ожидалась запись «ключ = значение» или заголовок таблицы"),
    (r"Expected newline or end of document after a statement", "после значения ожидался конец строки"),
    (r"Expected ']' at the end of a table declaration", "заголовок таблицы не закрыт: ожидалась «]»"),
    (r"Expected ']]' at the end of an array declaration",
     "заголовок списка таблиц не закрыт: ожидалось «]]»"),
    (r"Expected '=' after a key in a key/value pair", "после ключа ожидался знак «=»"),
    (r"Expected (?P<x>.+)", "ожидалось {x}"),
    (r"Found invalid character (?P<x>.+)", "недопустимый символ {x}"),
    (r"Illegal character '\\n'", "строка не закрыта кавычкой до конца строки"),
    (r"Illegal character (?P<x>.+)", "недопустимый символ {x} в строке"),
    (r"Cannot declare (?P<key>.+) twice", "таблица [{key}] объявлена дважды"),
    (r"Cannot overwrite a value", "ключ с этим именем уже задан выше"),
    (r"Cannot mutate immutable namespace (?P<key>.+)",
     "{key} уже задан целиком (встроенной таблицей или списком), дополнить его нельзя"),
    (r"Cannot redefine namespace (?P<key>.+)", "{key} уже задан"),
    (r"Invalid initial character for a key part", "недопустимый первый символ ключа"),
    (r"Unclosed array", "список не закрыт: ожидалась «]»"),
    (r"Unclosed inline table", "встроенная таблица не закрыта: ожидалась «}}»"),
    (r"Duplicate inline table key (?P<x>.+)", "ключ {x} повторяется во встроенной таблице"),
    (r"Unescaped '\\' in a string", "после «\\» в строке недопустимый символ (саму черту пишут «\\\\»)"),
    (r"Invalid hex value", "неверный шестнадцатеричный код символа"),
    (r"Escaped character is not a Unicode scalar value", "такого символа нет в Юникоде"),
    (r"Unterminated string", "строка не закрыта кавычкой"),
    (r"Invalid date or datetime", "неверная дата или время"),
    (r"Invalid value", "непонятное значение (строки пишут в кавычках)"),
]


def toml_reason(exc: ValueError) -> str:
    """Where the file stops being TOML and why, in Russian."""
    found = _TOML_AT.match(str(exc))
    if found is None:
        return f"ошибка синтаксиса: {_toml_what(str(exc))}"
    where = f"в строке {found['line']}, столбце {found['column']}" if found["line"] else "в конце файла"
    return f"ошибка синтаксиса {where}: {_toml_what(found['what'])}"


def _toml_what(message: str) -> str:
    for pattern, russian in _TOML_MESSAGES:
        matched = re.fullmatch(pattern, message, re.DOTALL)
        if matched:
            return russian.format(**{name: _toml_key(text) for name, text in matched.groupdict().items()})
    return "неверная запись"


def _toml_key(text: str) -> str:
    """tomllib names a key as a tuple, ('lines', 'hours'): the file spells it lines.hours."""
    if text.startswith("("):
        try:
            parts = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parts, tuple):
            return ".".join(str(part) for part in parts)
    return text


# ------------------------------------------------------------- the operating system's errors

# What a file error means, in Russian (the system's own text is English).
OS_REASONS = {
    errno.ENOENT: "нет такого файла или папки",
    errno.EACCES: "нет доступа",
    errno.EPERM: "нет доступа",
    errno.EISDIR: "это папка, а не файл",
    errno.ENOTDIR: "часть пути не папка",
    errno.ENOSPC: "нет места на диске",
    errno.EROFS: "файловая система только для чтения",
    errno.EEXIST: "уже существует",
    errno.EIO: "ошибка ввода-вывода",
    errno.ENAMETOOLONG: "слишком длинное имя",
    errno.ELOOP: "символические ссылки ведут по кругу",
    errno.EMFILE: "открыто слишком много файлов",
    errno.EBUSY: "файл занят",
}


def os_reason(exc: OSError) -> str:
    if exc.errno in OS_REASONS:
        return OS_REASONS[exc.errno]
    return f"системная ошибка № {exc.errno}" if exc.errno else "системная ошибка"
