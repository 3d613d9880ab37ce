"""The `hotline` command as a newcomer uses it: upgrade, add users, clear one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.cli import REPO, hotline





@pytest.fixture(params=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    return request.getfixturevalue("pg_url")


def _config_with_phone(tmp_path: Path, org_phones: str, phone: str) -> Path:
    """config/hotline.toml with one more phone in an organization's `level1_phones`."""
    text = (REPO / "config" / "hotline.toml").read_text(encoding="utf-8")
    assert org_phones in text
    path = tmp_path / "hotline.toml"
    path.write_text(text.replace(org_phones, org_phones[:-1] + f', "{phone}"]'), encoding="utf-8")
    return path


def test_upgrade_then_add_users(database_url: str, tmp_path: Path) -> None:
    login = f"op{os.getpid()}{len(database_url)}"
    config = _config_with_phone(tmp_path, 'level1_phones = ["op1100", "op1101"]', login)
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_CONFIG": str(config)}
    done = hotline("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    assert "База данных обновлена" in done.stdout
    added = hotline("user", "add", "--login", login, "--org", "sogaz", "--role", "operator",
                    "--level", "1", "--interface", f"PJSIP/{login}", stdin="very-secret\n", env=env)
    assert added.returncode == 0, added.stderr
    assert f"Пользователь {login} создан" in added.stdout
    again = hotline("user", "add", "--login", login, "--org", "sogaz", "--role", "operator",
                    "--level", "1", stdin="very-secret\n", env=env)
    assert again.returncode == 1
    assert again.stderr.strip() == f"hotline: ошибка: Пользователь «{login}» уже есть"
    disabled = hotline("user", "disable", "--login", login, env=env)
    assert disabled.returncode == 0, disabled.stderr
    assert f"Учётная запись {login} отключена; завершено сеансов: 0." in disabled.stdout
    enabled = hotline("user", "enable", "--login", login, env=env)
    assert enabled.returncode == 0 and f"Учётная запись {login} включена." in enabled.stdout
    changed = hotline("user", "password", "--login", login, stdin="another-secret\n", env=env)
    assert changed.returncode == 0, changed.stderr
    assert f"Пароль пользователя {login} изменён; завершено сеансов: 0." in changed.stdout
    short = hotline("user", "password", "--login", login, stdin="short\n", env=env)
    assert short.returncode == 1
    assert short.stderr.strip() == "hotline: ошибка: Пароль должен быть не короче 8 символов"
    unknown = hotline("user", "disable", "--login", "nobody", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "hotline: ошибка: Пользователь «nobody» не найден"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "--login", "x1", "--org", "nope", "--role", "admin"), "long-password\n",
         "Организация «nope» не найдена"),
        (("user", "add", "--login", "x2", "--org", "tfoms", "--role", "operator"), "long-password\n",
         "Оператору нужен уровень 1, 2 или 3"),
        (("user", "add", "--login", "x3", "--org", "tfoms", "--role", "admin"), "",
         "пароль не передан"),
        # op102 is a fund phone (level1_phones of tfoms): an insurer's user may not sit at it.
        (("user", "add", "--login", "x4", "--org", "sogaz", "--role", "operator", "--level", "1",
          "--interface", "PJSIP/op102"), "long-password\n",
         "Телефон PJSIP/op102 не принадлежит организации «sogaz»"),
        (("user", "add", "--login", "x5", "--org", "tfoms", "--role", "operator", "--level", "1",
          "--interface", "PJSIP/op999"), "long-password\n",
         "Телефон PJSIP/op999 не принадлежит организации «tfoms»"),
    ],
)
def test_wrong_input_is_one_line_and_nonzero(tmp_path: Path, args, stdin, message) -> None:
    env = {"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"}
    assert hotline("db", "upgrade", env=env).returncode == 0
    done = hotline(*args, stdin=stdin, env=env)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_database_and_bad_config_are_one_line(tmp_path: Path) -> None:
    down = hotline("db", "upgrade",
                   env={"HOTLINE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"})
    assert down.returncode == 1
    assert down.stderr.startswith("hotline: ошибка: база данных недоступна")
    assert "Traceback" not in down.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[ami]\nport = 'x'\n", encoding="utf-8")
    wrong = hotline("--config", str(bad), "db", "upgrade")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (f"hotline: ошибка: конфигурация {bad}: ami.port: "
                                    "нужно целое число (указано 'x')")


def test_help_reads_without_a_config_file(tmp_path: Path) -> None:
    done = hotline("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "user" in done.stdout and "serve" in done.stdout


def test_calendar_show_prints_the_may_holidays_and_shortened_days(tmp_path: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cal.sqlite3'}"}
    assert hotline("db", "upgrade", env=env).returncode == 0
    done = hotline("calendar", "show", "--line", "88007758565", "--from", "2026-04-27",
                   "--to", "2026-05-12", env=env)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert "чт 30.04.2026 08:30 – чт 30.04.2026 16:30  оператор       сокращённый" in done.stdout
    assert any(r.startswith("пт 01.05.2026 00:00 – сб 02.05.2026 00:00  автосекретарь  праздничный")
               for r in rows)
    assert "пт 08.05.2026 08:30 – пт 08.05.2026 15:15  оператор" in done.stdout
    assert any("11.05.2026" in r and "перенесённый выходной" in r for r in rows)
    assert "вт 12.05.2026 08:30 – вт 12.05.2026 17:30  оператор" in done.stdout
    june = hotline("calendar", "show", "--line", "88007758565", "--from", "2026-06-11",
                   "--to", "2026-06-12", "--schedule-only", env=env)
    assert "чт 11.06.2026 08:30 – чт 11.06.2026 16:30  оператор" in june.stdout
    assert "праздничный день: День России" in june.stdout


def test_mode_set_is_stored_and_shown_as_an_override(tmp_path: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'mode.sqlite3'}"}
    assert hotline("db", "upgrade", env=env).returncode == 0
    done = hotline("mode", "set", "--line", "88002009204", "--mode", "secretary",
                   "--until", "2099-01-01T09:00", "--reason", "учения", env=env)
    assert done.returncode == 0, done.stderr
    assert "автосекретарь" in done.stdout and "01.01.2099 09:00" in done.stdout
    shown = hotline("mode", "show", env=env)
    line = next(r for r in shown.stdout.splitlines() if r.startswith("88002009204"))
    assert "автосекретарь" in line and "ручной режим до 01.01.2099 09:00" in line
    past = hotline("mode", "set", "--line", "88002009204", "--mode", "operator",
                   "--until", "2001-01-01T00:00", env=env)
    assert past.returncode == 1 and "в будущем" in past.stderr
    unknown = hotline("mode", "set", "--line", "88000000000", "--mode", "operator",
                      "--until", "2099-01-01T00:00", env=env)
    assert unknown.returncode == 1 and "не найдена" in unknown.stderr


def test_simulate_serves_ami_with_the_asterisk_banner() -> None:
    """`hotline simulate` listens for AMI clients and greets them as Asterisk 22 does."""
    import re
    import socket

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", "--log-level", "WARNING", "simulate", "--port", "0",
         "--calls-per-minute", "0"],
        stderr=subprocess.PIPE, text=True, env=environ, cwd=REPO,
    )
    try:
        line = proc.stderr.readline()
        port = int(re.search(r":(\d+) ", line).group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            assert conn.recv(100) == b"Asterisk Call Manager/11.0.0\r\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()


def test_simulate_refuses_an_unknown_scenario() -> None:
    done = hotline("simulate", "--mix", "answered=1,dance=2", "--port", "0")
    assert done.returncode == 1
    assert "--mix" in done.stderr and "dance" in done.stderr
