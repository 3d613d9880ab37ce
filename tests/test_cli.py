"""The `hotline` command as a newcomer uses it: upgrade, add users, clear one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def hotline(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hotline", "--text-logs", "--log-level", "WARNING", *args],
        input=stdin, capture_output=True, text=True, env=environ, cwd=cwd, timeout=60,
    )


@pytest.fixture(params=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    return request.getfixturevalue("pg_url")


def test_upgrade_then_add_users(database_url: str) -> None:
    env = {"HOTLINE_DATABASE_URL": database_url}
    done = hotline("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    assert "База данных обновлена" in done.stdout
    login = f"op{os.getpid()}{len(database_url)}"
    added = hotline("user", "add", "--login", login, "--org", "sogaz", "--role", "operator",
                    "--level", "1", "--interface", f"PJSIP/{login}", stdin="very-secret\n", env=env)
    assert added.returncode == 0, added.stderr
    assert f"Пользователь {login} создан" in added.stdout
    again = hotline("user", "add", "--login", login, "--org", "sogaz", "--role", "operator",
                    "--level", "1", stdin="very-secret\n", env=env)
    assert again.returncode == 1
    assert again.stderr.strip() == f"hotline: ошибка: Пользователь «{login}» уже есть"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "--login", "x1", "--org", "nope", "--role", "admin"), "long-password\n",
         "Организация «nope» не найдена"),
        (("user", "add", "--login", "x2", "--org", "tfoms", "--role", "operator"), "long-password\n",
         "Оператору нужен уровень 1, 2 или 3"),
        (("user", "add", "--login", "x3", "--org", "tfoms", "--role", "admin"), "",
         "пароль не передан"),
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
    assert str(bad) in wrong.stderr and "Traceback" not in wrong.stderr


def test_help_reads_without_a_config_file(tmp_path: Path) -> None:
    done = hotline("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "user" in done.stdout and "serve" in done.stdout
