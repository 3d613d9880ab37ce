"""What every `hotline` subcommand shares: settings, one-line errors, the journal's engine."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import ConfigError, Settings, load_settings
from journal.calendar import CalendarError
from journal.db import make_engine, make_sessionmaker
from journal.errors import JournalError
from journal.os_errors import os_reason

T = TypeVar("T")
EXIT_USAGE = 2
EXIT_FAILURE = 1


class CliError(click.ClickException):
    """One line for the user, exit code 1."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(f"hotline: ошибка: {self.message}", err=True)


def fail_cleanly(func: Callable[..., T]) -> Callable[..., T]:
    """Turn expected failures into one line instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise CliError(f"{exc.subject} {exc}") from None
        except JournalError as exc:
            raise CliError(exc.message) from None
        except CalendarError as exc:
            # `hotline serve` reads the production calendar as the service starts.
            raise CliError(str(exc)) from None
        except BrokenPipeError:
            # `hotline calls list | head`: the reader left; nothing to say to anyone.
            raise CliError("вывод прерван: программа, читавшая его, закрылась") from None
        except (OperationalError, DBAPIError, ConnectionError, socket.gaierror, TimeoutError) as exc:
            raise CliError(f"база данных недоступна: {_short(exc)}") from None
        except OSError as exc:
            if exc.filename is None:
                raise CliError(f"база данных недоступна: {_short(exc)}") from None
            raise CliError(f"файл {exc.filename}: {os_reason(exc)}") from None

    return wrapper


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Context:
    """Settings are loaded lazily so `--help` works without a config file."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path, os.environ)
        return self._settings


pass_context = click.make_pass_decorator(Context)




@asynccontextmanager
async def open_journal(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database, the engine disposed afterwards.

    An SQLite file that is not there is refused rather than created (with its folders):
    a mistyped address would otherwise make an empty journal and report nothing is in it.
    `hotline db upgrade` and `hotline serve` create it.
    """
    url = make_url(settings.service.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).is_file():
            raise CliError(f"базы данных {url.database} нет: проверьте адрес "
                           "(новую создают hotline db upgrade или hotline serve)")
    engine = make_engine(settings.service.database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
