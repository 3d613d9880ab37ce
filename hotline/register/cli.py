"""`hotline register load FILE`: the region's register of insured persons (РС ЕРЗЛ extract)."""

from __future__ import annotations

from pathlib import Path

import click

from hotline.cli.support import CliError, Context, fail_cleanly, open_journal, pass_context, run_async
from journal.actors import Actor
from journal.db import unit_of_work
from journal.register import LoadSummary, replace
from journal.register_files import RegisterFileError, read_register

SHOWN_ERRORS = 50


@click.group("register")
def register() -> None:
    """Регистр застрахованных лиц (выгрузка РС ЕРЗЛ) для поиска по ЕНП."""


@register.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True,
              help="Загрузить исправные строки, пропустив ошибочные (без него файл с "
                   "ошибками не загружается).")
@pass_context
@fail_cleanly
def register_load(ctx: Context, file: Path, skip_bad: bool) -> None:
    """Заменить регистр содержимым FILE (CSV или XML) целиком, одной транзакцией."""
    try:
        parsed = read_register(file)
    except RegisterFileError as exc:
        raise CliError(f"{file}: {exc}") from None
    for warning in parsed.warnings[:SHOWN_ERRORS]:
        click.echo(f"предупреждение: {warning}", err=True)
    for error in parsed.errors[:SHOWN_ERRORS]:
        click.echo(f"ошибка: {error}", err=True)
    if len(parsed.errors) > SHOWN_ERRORS:
        click.echo(f"... и ещё {len(parsed.errors) - SHOWN_ERRORS} ошибок", err=True)
    if parsed.errors and not skip_bad:
        raise CliError(f"{file}: ошибок в строках: {len(parsed.errors)}; регистр не изменён "
                       "(исправьте файл или загрузите с --skip-bad)")
    if not parsed.persons:
        raise CliError(f"{file}: нет ни одной исправной строки; регистр не изменён")

    async def go() -> LoadSummary:
        async with open_journal(ctx.settings) as sessions, unit_of_work(sessions) as session:
            return await replace(session, parsed.persons, source=str(file), loaded_by="cli",
                                 skipped=len(parsed.errors), actor=Actor.system("cli"))

    summary = run_async(go())
    click.echo(f"Регистр заменён: загружено {summary.persons}, пропущено {summary.skipped}, "
               f"предупреждений {len(parsed.warnings)}; в прежней выгрузке было "
               f"{summary.replaced}.")
