"""A mistyped command line is one Russian line and exit code 1, like every other error of
`hotline` (issue 16), not Click's four English lines and exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hotline.cli.main import main


@pytest.mark.parametrize(("args", "line"), [
    (["calendar", "show", "--line", "88007758565", "--from", "28.12.2026", "--to", "2026-12-30"],
     "hotline: ошибка: неверное значение --from «28.12.2026»: ожидается дата ГГГГ-ММ-ДД"),
    (["user", "add", "--login", "x", "--org", "tfoms", "--role", "boss"],
     "hotline: ошибка: неверное значение --role «boss»: допустимые значения: operator, supervisor, admin, sysadmin, wallboard"),
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


def test_a_report_into_a_wrong_file_is_refused_before_anything_is_read(tmp_path) -> None:
    """`--out x.pdf` is no XLSX in disguise; a missing folder is a file error, not «база
    данных недоступна»; a mistyped SQLite address creates nothing."""
    runner = CliRunner()
    pdf = runner.invoke(main, ["report", "pg", "--quarter", "2026Q3", "--out", "x.pdf"],
                        prog_name="hotline")
    assert pdf.exit_code == 1
    assert pdf.stderr.strip() == "hotline: ошибка: --out x.pdf: отчёт записывается в файл .xlsx или .csv"
    missing = tmp_path / "нет" / "q.xlsx"
    folder = runner.invoke(main, ["report", "pg", "--quarter", "2026Q3", "--out", str(missing)],
                           prog_name="hotline")
    assert folder.exit_code == 1
    assert folder.stderr.strip() == f"hotline: ошибка: --out {missing}: папки {missing.parent} нет"
    nowhere = tmp_path / "опечатка" / "hotline.sqlite3"
    typo = runner.invoke(main, ["calls", "list"], prog_name="hotline",
                         env={"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{nowhere}"})
    assert typo.exit_code == 1 and "базы данных" in typo.stderr and "проверьте адрес" in typo.stderr
    assert not nowhere.parent.exists()


def test_a_file_error_is_named_as_one(tmp_path) -> None:
    """An OSError about a file is reported with the file and a Russian reason."""
    from hotline.cli.support import CliError, fail_cleanly

    @fail_cleanly
    def write() -> None:
        (tmp_path / "нет" / "x.csv").open("w")

    try:
        write()
    except CliError as exc:
        assert exc.message == f"файл {tmp_path / 'нет' / 'x.csv'}: нет такого файла или папки"
    else:
        raise AssertionError("no error")


def test_serve_says_in_russian_what_to_install_without_ffmpeg(capsys) -> None:
    from hotline.cli.main import check_ffmpeg

    assert check_ffmpeg("ffmpeg-that-is-not-there") is False
    err = capsys.readouterr().err
    assert "программа ffmpeg-that-is-not-there не найдена" in err and "apt-get install ffmpeg" in err


def test_calls_list_prints_the_regions_time() -> None:
    """`hotline calls list` shows times as the region reads them, its offset named."""
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from hotline.calls.cli import as_text

    call = SimpleNamespace(direction="in", started_at=datetime(2026, 12, 2, 5, 0, 1, tzinfo=UTC),
                           ended_at=datetime(2026, 12, 2, 5, 3, 0, tzinfo=UTC),
                           caller_number="79131234567", caller_name=None,
                           line_number="88007758565", outcome="answered")
    view = SimpleNamespace(call=call, operators=(), transfers=(), card_number=None, recordings=())
    line = as_text(view, ZoneInfo("Asia/Barnaul"))  # type: ignore[arg-type]
    assert line.startswith("02.12 12:00:01–12:03:00 UTC+7  ← 88007758565  79131234567")
