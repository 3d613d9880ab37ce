"""What is wrong with a configuration file, in Russian: the reasons `ConfigError` carries.

Pydantic, tomllib and the operating system explain themselves in English; the people who
edit `config/hotline.toml` and `ivr_scripts/*.yaml` read Russian. Pydantic's errors are
rewritten from their `type` and `ctx` (with what each file's patterns ask for, `FileFormat`),
the system's from errno (`journal.os_errors`), tomllib's (which give nothing but a message) from the message's known
shapes, PyYAML's from its `problem` and place. Whatever is not foreseen gets a generic Russian reason, never the English one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    # Not pydantic's types: a mapping given with too few keys.
    "empty_mapping": "таблица не должна быть пустой",
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


# YAML (ivr_scripts/*.yaml) calls a nested mapping a section, not a table; the rest of the
# wording (quotes for a string, square brackets for a list) holds for YAML as well.
YAML_WORDS = {
    "dict_type": "нужен раздел с вложенными ключами",
    "model_type": "нужен раздел с вложенными ключами",
    "model_attributes_type": "нужен раздел с вложенными ключами",
    "empty_mapping": "раздел не должен быть пустым",
}


@dataclass(frozen=True, slots=True)
class FileFormat:
    """What differs between the files pydantic checks: what each `pattern=` of the file's
    models asks for, in words, and the wordings that replace the default (TOML's) ones."""

    patterns: Mapping[str, str]
    words: Mapping[str, str] = field(default_factory=dict)

    def word(self, kind: str) -> str:
        return self.words.get(kind) or _SIMPLE[kind]


TOML = FileFormat(PATTERN_HINTS)

# Keys whose values must not reach a terminal or a log, even when mistyped.
_HIDDEN_KEYS = re.compile(r"secret|token|password|url", re.IGNORECASE)
_SHOWN_LENGTH = 40
# Where pydantic's `loc` names a mapping's key itself rather than its value.
_KEY_ITSELF = "[key]"


def error_key(error: ErrorDetails) -> str:
    """The key the error is about, as the file spells it: `menu.options.5`, `lines.0.hours`."""
    return ".".join(str(part) for part in error["loc"] if part != _KEY_ITSELF) or "-"


def pydantic_reason(error: ErrorDetails, fmt: FileFormat = TOML) -> str:
    """Why pydantic refused the value at `error["loc"]`, in Russian. The model validators'
    messages pass as they are: every validator of the file's models speaks Russian."""
    reason = _reason(error, fmt)
    if error["loc"] and error["loc"][-1] == _KEY_ITSELF:
        return f"недопустимое имя ключа: {reason}"
    return reason


def _reason(error: ErrorDetails, fmt: FileFormat) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", ""))
    if kind in ("missing", "extra_forbidden"):
        return fmt.word(kind)
    shown = _shown(error)
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(ctx, shown, fmt)
    if kind in _SIMPLE:
        numbers = {name: _number(value) for name, value in ctx.items()}
        return fmt.word(kind).format(**numbers) + (f" (указано {shown})" if shown else "")
    return f"недопустимое значение {shown}" if shown else "недопустимое значение"


def _choices(ctx: Mapping[str, Any], shown: str, fmt: FileFormat) -> str:
    # pydantic joins the last two choices with an English " or ": put a comma there.
    expected = ", ".join(str(ctx.get("expected", "")).rsplit(" or ", 1))
    return f"допустимые значения: {expected}" + (f" (указано {shown})" if shown else "")


def _pattern(ctx: Mapping[str, Any], shown: str, fmt: FileFormat) -> str:
    pattern = str(ctx.get("pattern", ""))
    hint = fmt.patterns.get(pattern, f"значение не подходит под шаблон {pattern}")
    return hint + (f" (указано {shown})" if shown else "")


def _string_length(ctx: Mapping[str, Any], shown: str, fmt: FileFormat) -> str:
    # The value itself is not repeated: it may be long, or a secret.
    if "max_length" in ctx:
        return f"строка длиннее {_count(ctx['max_length'], 'символа', 'символов')}"
    if ctx.get("min_length") == 1:
        return "строка не должна быть пустой"
    return f"строка короче {_count(ctx.get('min_length', 0), 'символа', 'символов')}"


def _list_length(ctx: Mapping[str, Any], shown: str, fmt: FileFormat) -> str:
    if ctx.get("field_type") == "Dictionary":
        if "max_length" in ctx:
            return f"нужно не больше {_keys(ctx['max_length'])}"
        if ctx.get("min_length") == 1:
            return fmt.word("empty_mapping")
        return f"нужно не меньше {_keys(ctx.get('min_length', 0))}"
    if "max_length" in ctx:
        return f"в списке больше {_count(ctx['max_length'], 'элемента', 'элементов')}"
    if ctx.get("min_length") == 1:
        return "список не должен быть пустым"
    return f"в списке меньше {_count(ctx.get('min_length', 0), 'элемента', 'элементов')}"


def _keys(n: int) -> str:
    return _count(n, "ключа", "ключей")


_SPECIAL: dict[str, Callable[[Mapping[str, Any], str, FileFormat], str]] = {
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


# ------------------------------------------------------------------------ PyYAML's errors

# PyYAML's problems (as of PyYAML 6), the commonest mistakes of a hand-edited file first.
_YAML_PROBLEMS = [
    (r"mapping values are not allowed here",
     "лишнее двоеточие (значение с двоеточием пишут в кавычках)"),
    (r"found character '\\t' that cannot start any token", "табуляция: отступы делают пробелами"),
    (r"found unexpected end of stream", "файл кончился раньше, чем закрылись кавычки"),
    (r"expected ',' or '\]', but got .*",
     "список в квадратных скобках не закрыт «]» или его элементы не разделены запятыми"),
    (r"expected ',' or '\}', but got .*",
     "раздел в фигурных скобках не закрыт «}» или его ключи не разделены запятыми"),
    (r"could not find expected ':'", "после ключа ожидалось двоеточие"),
    (r"expected <block end>, but found .*", "неверный отступ или лишний текст после значения"),
    (r"did not find expected key", "неверный отступ или лишний текст после значения"),
    (r"found undefined alias .*", "ссылка «*» на метку «&», которой нет"),
    (r"found unknown escape character .*",
     "после «\\» в строке в двойных кавычках недопустимый символ (саму черту пишут «\\\\»)"),
]


def yaml_reason(exc: Exception) -> str:
    """Where the file stops being YAML and why, in Russian (a `yaml.YAMLError`: its `problem`
    and `problem_mark` say what and where)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" в строке {mark.line + 1}, столбце {mark.column + 1}" if mark is not None else ""
    problem = str(getattr(exc, "problem", None) or "")
    for pattern, russian in _YAML_PROBLEMS:
        if re.fullmatch(pattern, problem, re.DOTALL):
            return f"ошибка синтаксиса{where}: {russian}"
    return (f"ошибка синтаксиса{where}: проверьте отступы, двоеточие после ключа, закрывающие "
            "кавычки и скобки")
