"""A mistyped command line is one Russian line and exit code 1, like every other error of
`hotline` (issue 16), not Click's four English lines and exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hotline.cli import main


@pytest.mark.parametrize(("args", "line"), [
    (["calendar", "show", "--line", "88007758565", "--from", "28.12.2026", "--to", "2026-12-30"],
     "hotline: ошибка: неверное значение --from «28.12.2026»: ожидается дата ГГГГ-ММ-ДД"),
    (["user", "add", "--login", "x", "--org", "tfoms", "--role", "boss"],
     "hotline: ошибка: неверное значение --role «boss»: допустимые значения: operator, admin, sysadmin"),
    (["calls", "list", "--limit", "0"],
     "hotline: ошибка: неверное значение --limit «0»: ожидается целое число от 1 до 10000"),
    (["calls", "list", "--bogus"],
     "hotline: ошибка: неизвестный параметр --bogus (справка: hotline calls list --help)"),
    (["mode", "set", "--line", "88007758565"],
     "hotline: ошибка: не указан --mode (справка: hotline mode set --help)"),
    (["nosuch"], "hotline: ошибка: нет команды «nosuch» (справка: hotline --help)"),
])
def test_usage_errors_are_one_russian_line_with_exit_1(args: list[str], line: str) -> None:
    result = CliRunner().invoke(main, args, prog_name="hotline")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""
