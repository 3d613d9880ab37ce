"""Click's usage errors in Russian, as one line with exit code 1 like every other error.

Click reports a mistyped command line in English over several lines with exit code 2
(`Usage: ...`, `Try 'hotline --help'...`, `Error: Invalid value for '--from': ...`). Every
other error of `hotline` is one Russian line, `hotline: ошибка: ...`, exit code 1; so is this
one: `RussianGroup` (the top command's class) catches the usage errors of every subcommand
and says what was wrong and where the help is.
"""

from __future__ import annotations

import re
from typing import Any

import click

from hotline.cli.support import CliError

_QUOTED = re.compile(r"'([^']*)'")
_OUT_OF_RANGE = re.compile(r"^(\S+) is not in the range")
_DATE_PARTS = {"%Y": "ГГГГ", "%m": "ММ", "%d": "ДД", "%H": "чч", "%M": "мм", "%S": "сс"}


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "параметра"
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "").upper()


def _date_format(fmt: str) -> str:
    for code, text in _DATE_PARTS.items():
        fmt = fmt.replace(code, text)
    return fmt


def _expected(param: click.Parameter | None) -> str | None:
    """What a parameter's type accepts, in Russian."""
    kind = param.type if param is not None else None
    if isinstance(kind, click.DateTime):
        return "ожидается дата " + " или ".join(_date_format(f) for f in kind.formats)
    if isinstance(kind, click.Choice):
        return "допустимые значения: " + ", ".join(str(c) for c in kind.choices)
    if isinstance(kind, click.IntRange | click.FloatRange):
        whole = "целое число" if isinstance(kind, click.IntRange) else "число"
        if kind.min is not None and kind.max is not None:
            return f"ожидается {whole} от {kind.min} до {kind.max}"
        low = "" if kind.min is None else f" не меньше {kind.min}"
        high = "" if kind.max is None else f" не больше {kind.max}"
        return f"ожидается {whole}{low}{high}"
    if kind is click.INT:
        return "ожидается целое число"
    if kind is click.FLOAT:
        return "ожидается число"
    if isinstance(kind, click.Path):
        return "нет такого файла или папки, либо он недоступен"
    return None


def russian(exc: click.UsageError) -> str:
    """The usage error as one Russian line (without the `hotline: ошибка:` prefix)."""
    path = exc.ctx.command_path if exc.ctx is not None else "hotline"
    help_hint = f" (справка: {path} --help)"
    message = exc.format_message() if not isinstance(exc, click.BadParameter) else exc.message
    if re.search("[А-Яа-яЁё]", message or ""):  # our own code's refusal: already Russian
        return message
    if isinstance(exc, click.NoSuchOption):
        maybe = f"; может быть, {', '.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"неизвестный параметр {exc.option_name}{maybe}{help_hint}"
    if isinstance(exc, click.MissingParameter):
        return f"не указан {_name(exc.param)}{help_hint}"
    if isinstance(exc, click.BadOptionUsage):
        return f"параметру {exc.option_name} нужно значение{help_hint}"
    if isinstance(exc, click.NoSuchCommand) or message.startswith("No such command"):
        found = _QUOTED.search(message)
        return f"нет команды «{found.group(1) if found else message}»{help_hint}"
    if isinstance(exc, click.BadParameter):
        found = _QUOTED.search(message or "") or _OUT_OF_RANGE.match(message or "")
        value = f" «{found.group(1)}»" if found else ""
        expected = _expected(exc.param)
        return f"неверное значение {_name(exc.param)}{value}" + (f": {expected}" if expected else "")
    if "extra argument" in message:
        found = _QUOTED.search(message)
        return f"лишний аргумент «{found.group(1) if found else ''}»{help_hint}"
    return f"неверный вызов команды{help_hint}"


class RussianGroup(click.Group):
    """A group whose usage errors (its own and every subcommand's) are one Russian line."""

    group_class = type  # subgroups are RussianGroups too

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise CliError(russian(exc)) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise CliError(russian(exc)) from None
