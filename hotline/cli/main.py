"""The `hotline` command: database, users, the service, calendar and modes, calls.

Wrong input or an unreachable database gives one clear line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from hotline.cli.support import CliError, Context, fail_cleanly, open_journal, pass_context, run_async
from hotline.cli.usage import RussianGroup
from hotline.logs import configure_logging

@click.group(cls=RussianGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="HOTLINE_CONFIG",
    type=click.Path(dir_okay=False),
    help="Файл конфигурации (по умолчанию config/hotline.toml, или $HOTLINE_CONFIG).",
)
@click.option("--log-level", default="INFO", show_default=True, help="Уровень журнала событий.")
@click.option("--json-logs/--text-logs", default=None, help="Формат журнала событий.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str, json_logs: bool | None) -> None:
    """Горячая линия ОМС: АТС, журнал обращений (РКК), рабочие места операторов.

    \b
    Первый запуск:
      hotline db upgrade
      hotline user add --login admin --org tfoms --role admin
      hotline serve
    """
    configure_logging(json=json_logs, level=log_level.upper())
    ctx.obj = Context(config_path)


# ---------------------------------------------------------------- database


@main.group()
def db() -> None:
    """База данных журнала."""


@db.command("upgrade")
@pass_context
@fail_cleanly
def db_upgrade(ctx: Context) -> None:
    """Создать или обновить схему базы данных до последней версии."""
    from hotline.bootstrap import sync_region
    from hotline.modes.cli import load_calendar
    from journal.db import upgrade_async

    async def go() -> None:
        await upgrade_async(ctx.settings.service.database_url)
        async with open_journal(ctx.settings) as sessions:
            await sync_region(sessions, ctx.settings, load_calendar(ctx.settings))

    run_async(go())
    click.echo("База данных обновлена; организации, линии и производственный календарь синхронизированы.")


# ---------------------------------------------------------------- users


@main.group()
def user() -> None:
    """Пользователи: операторы и администраторы."""


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Пароль", hide_input=True, confirmation_prompt="Ещё раз")
    line = sys.stdin.readline()
    if not line:
        raise CliError("пароль не передан: ожидалась строка на стандартном входе")
    return line.rstrip("\r\n")


@user.command("add")
@click.option("--login", required=True, help="Логин (латиница, цифры).")
@click.option("--org", "org_code", required=True, help="Код организации из конфигурации.")
@click.option(
    "--role",
    type=click.Choice(["operator", "supervisor", "admin", "sysadmin", "wallboard"]),
    required=True,
    help="Роль: оператор, руководитель операторов организации, администратор "
         "контакт-центра (только фонд), системный администратор.",
)
@click.option("--level", type=click.IntRange(1, 3), help="Уровень оператора: 1, 2 или 3.")
@click.option("--interface", help="Телефон оператора в АТС, например PJSIP/op101.")
@click.option("--full-name", help="ФИО (по умолчанию — логин).")
@pass_context
@fail_cleanly
def user_add(
    ctx: Context,
    login: str,
    org_code: str,
    role: str,
    level: int | None,
    interface: str | None,
    full_name: str | None,
) -> None:
    """Добавить пользователя. Пароль — из запроса или со стандартного входа."""
    from journal.actors import Actor
    from journal.db import unit_of_work
    from journal.users import add_user

    settings = ctx.settings
    password = _read_password()

    async def go() -> int:
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            created = await add_user(
                session,
                login=login,
                password=password,
                full_name=full_name or login,
                role=role,
                organization_code=org_code,
                level=level,
                interface=interface,
                phones=_org_phones(settings, org_code),
                actor=Actor.system("cli"),
            )
            return created.id

    user_id = run_async(go())
    click.echo(f"Пользователь {login} создан (id {user_id}).")


def _org_phones(settings: Any, code: str) -> frozenset[str]:
    """The organization's phones from the configuration (none for an unknown code: the
    journal then refuses the organization itself)."""
    try:
        return settings.organization(code).interfaces
    except KeyError:
        return frozenset()


def _change_account(settings: Any, login: str, change: Any) -> int:
    """`change(session, user, actor)` on the account `login`, in one unit of work as the CLI."""
    from journal.actors import Actor
    from journal.db import unit_of_work
    from journal.users import account

    async def go() -> int:
        actor = Actor.system("cli")
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            return await change(session, await account(session, actor, login=login), actor)

    return run_async(go())


def _set_active(settings: Any, login: str, active: bool) -> int:
    from journal.users import set_active

    return _change_account(settings, login,
                           lambda session, user, actor: set_active(session, user, active, actor))


@user.command("password")
@click.option("--login", required=True, help="Логин.")
@pass_context
@fail_cleanly
def user_password(ctx: Context, login: str) -> None:
    """Задать новый пароль (из запроса или со стандартного входа): прежний пароль и все
    сеансы перестают действовать сразу, блокировка после неверных паролей снимается."""
    from journal.users import set_password

    password = _read_password()
    ended = _change_account(ctx.settings, login, lambda session, user, actor: set_password(
        session, user, password, actor))
    click.echo(f"Пароль пользователя {login} изменён; завершено сеансов: {ended}.")


@user.command("disable")
@click.option("--login", required=True, help="Логин.")
@pass_context
@fail_cleanly
def user_disable(ctx: Context, login: str) -> None:
    """Отключить учётную запись: вход запрещён, все её сеансы завершаются сразу."""
    from hotline.live.ws import SESSION_CHECK

    ended = _set_active(ctx.settings, login, False)
    click.echo(f"Учётная запись {login} отключена; завершено сеансов: {ended}. "
               f"Открытые страницы перестанут работать сразу, живые уведомления — "
               f"в течение {SESSION_CHECK:g} с.")


@user.command("enable")
@click.option("--login", required=True, help="Логин.")
@pass_context
@fail_cleanly
def user_enable(ctx: Context, login: str) -> None:
    """Снова разрешить вход отключённой учётной записи."""
    _set_active(ctx.settings, login, True)
    click.echo(f"Учётная запись {login} включена.")


# ---------------------------------------------------------------- service


@main.command()
@click.option("--host", help="Адрес HTTP (по умолчанию из конфигурации).")
@click.option("--port", type=int, help="Порт HTTP (по умолчанию из конфигурации).")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Обновить схему базы данных при запуске.")
@pass_context
@fail_cleanly
def serve(ctx: Context, host: str | None, port: int | None, migrate: bool) -> None:
    """Запустить службу: АТС (AMI), расписание режимов, веб-интерфейс."""
    settings = ctx.settings
    check_ffmpeg(settings.recordings.ffmpeg)

    from aiohttp import web

    from hotline.app import create_app

    app = create_app(settings, migrate=migrate)
    web.run_app(
        app,
        host=host or settings.service.http_host,
        port=port or settings.service.http_port,
        print=lambda text: click.echo(text, err=True),
        access_log=None,
    )


def check_ffmpeg(ffmpeg: str) -> bool:
    """Say in Russian, at start, that recordings cannot be processed without ffmpeg and what
    to install (pydub would otherwise print its own English warning on import); the service
    runs all the same (calls are answered and recorded by the PBX, files wait). Whether found."""
    import shutil
    import warnings

    if shutil.which(ffmpeg):
        return True
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    click.echo(f"hotline: внимание: программа {ffmpeg} не найдена ([recordings] ffmpeg): записи "
               "разговоров не будут обработаны и сохранены, пока её нет; установите пакет "
               "ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)", err=True)
    return False


def _register_subcommands() -> None:
    from hotline.pbx.config.cli import asterisk
    from hotline.calls.cli import calls
    from hotline.cli.demo import demo
    from hotline.modes.cli import calendar, mode
    from hotline.ivr.cli import prompts
    from hotline.recordings.cli import recordings
    from hotline.register.cli import register
    from hotline.reports.cli import report
    from hotline.sim.cli import simulate

    for command in (calendar, mode, calls, prompts, simulate, asterisk, recordings, report, demo,
                    register):
        main.add_command(command)


_register_subcommands()
